//! Distribution control messages: the first term of every packet after the
//! handshake (erts's "Protocol between connected nodes").
//!
//! A packet is `112` (pass-through, since we never advertise the atom cache), the
//! control term, and for some operations a second term: the message, or the exit
//! reason of the `PAYLOAD_*` forms. [`Control::parse`] reads the control tuple and
//! says whether a payload follows; [`Control::to_term`] writes it back. The trace
//! token forms (`*_TT`) are read and their token ignored: beamlet has no seq_trace.

use std::fmt;

use super::term::{Atom, ErlRef, Term};
use beamlet_runtime::Pid;

/// Where a monitor points: a pid, or a name registered on the other node.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Proc {
    Pid(Pid),
    Name(Atom),
}

impl Proc {
    fn to_term(&self) -> Term {
        match self {
            Proc::Pid(p) => Term::Pid(*p),
            Proc::Name(a) => Term::Atom(a.clone()),
        }
    }

    fn parse(t: &Term) -> Option<Proc> {
        match t {
            Term::Pid(p) => Some(Proc::Pid(*p)),
            Term::Atom(a) => Some(Proc::Name(a.clone())),
            _ => None,
        }
    }
}

/// One control message. `reason: None` means the reason is the packet's payload
/// (a `PAYLOAD_*` form).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Control {
    Link {
        from: Pid,
        to: Pid,
    },
    Send {
        to: Pid,
    },
    SendSender {
        from: Pid,
        to: Pid,
    },
    Exit {
        from: Pid,
        to: Pid,
        reason: Option<Term>,
    },
    Exit2 {
        from: Pid,
        to: Pid,
        reason: Option<Term>,
    },
    Unlink {
        from: Pid,
        to: Pid,
    },
    UnlinkId {
        id: u64,
        from: Pid,
        to: Pid,
    },
    UnlinkIdAck {
        id: u64,
        from: Pid,
        to: Pid,
    },
    RegSend {
        from: Pid,
        to: Atom,
    },
    GroupLeader {
        from: Pid,
        to: Pid,
    },
    MonitorP {
        from: Pid,
        to: Proc,
        monitor: ErlRef,
    },
    DemonitorP {
        from: Pid,
        to: Proc,
        monitor: ErlRef,
    },
    MonitorPExit {
        from: Proc,
        to: Pid,
        monitor: ErlRef,
        reason: Option<Term>,
    },
    AliasSend {
        from: Pid,
        alias: ErlRef,
    },
    /// `spawn_request(Node, M, F, Args, Opts)`; the argument list is the payload.
    SpawnRequest {
        id: ErlRef,
        from: Pid,
        group_leader: Pid,
        module: Atom,
        function: Atom,
        arity: i64,
        opts: Term,
    },
    SpawnReply {
        id: ErlRef,
        to: Pid,
        flags: i64,
        result: Term,
    },
}

/// A control term that is not one this node understands.
#[derive(Debug, Clone, PartialEq)]
pub struct BadControl(pub(crate) String);

impl fmt::Display for BadControl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "bad control message: {}", self.0)
    }
}

impl std::error::Error for BadControl {}

const LINK: i64 = 1;
const SEND: i64 = 2;
const EXIT: i64 = 3;
const UNLINK: i64 = 4;
const REG_SEND: i64 = 6;
const GROUP_LEADER: i64 = 7;
const EXIT2: i64 = 8;
const SEND_TT: i64 = 12;
const EXIT_TT: i64 = 13;
const REG_SEND_TT: i64 = 16;
const EXIT2_TT: i64 = 18;
const MONITOR_P: i64 = 19;
const DEMONITOR_P: i64 = 20;
const MONITOR_P_EXIT: i64 = 21;
const SEND_SENDER: i64 = 22;
const SEND_SENDER_TT: i64 = 23;
const PAYLOAD_EXIT: i64 = 24;
const PAYLOAD_EXIT_TT: i64 = 25;
const PAYLOAD_EXIT2: i64 = 26;
const PAYLOAD_EXIT2_TT: i64 = 27;
const PAYLOAD_MONITOR_P_EXIT: i64 = 28;
const SPAWN_REQUEST: i64 = 29;
const SPAWN_REQUEST_TT: i64 = 30;
const SPAWN_REPLY: i64 = 31;
const ALIAS_SEND: i64 = 33;
const ALIAS_SEND_TT: i64 = 34;
const UNLINK_ID: i64 = 35;
const UNLINK_ID_ACK: i64 = 36;

fn pid(t: &[Term], i: usize) -> Result<Pid, BadControl> {
    t.get(i)
        .and_then(Term::as_pid)
        .ok_or_else(|| BadControl(format!("element {} is not a pid", i + 1)))
}

fn reference(t: &[Term], i: usize) -> Result<ErlRef, BadControl> {
    match t.get(i) {
        Some(Term::Ref(r)) => Ok(r.clone()),
        _ => Err(BadControl(format!("element {} is not a reference", i + 1))),
    }
}

fn proc(t: &[Term], i: usize) -> Result<Proc, BadControl> {
    t.get(i)
        .and_then(Proc::parse)
        .ok_or_else(|| BadControl(format!("element {} is not a pid or name", i + 1)))
}

fn atom(t: &[Term], i: usize) -> Result<Atom, BadControl> {
    t.get(i)
        .and_then(Term::as_atom)
        .cloned()
        .ok_or_else(|| BadControl(format!("element {} is not an atom", i + 1)))
}

fn id(t: &[Term], i: usize) -> Result<u64, BadControl> {
    match t.get(i) {
        Some(Term::Int(n)) if *n >= 0 => Ok(*n as u64),
        Some(Term::BigInt(b)) => u64::try_from(b.to_i128().unwrap_or(-1))
            .map_err(|_| BadControl("unlink id out of range".into())),
        _ => Err(BadControl(format!("element {} is not an id", i + 1))),
    }
}

fn element(t: &[Term], i: usize) -> Result<Term, BadControl> {
    t.get(i)
        .cloned()
        .ok_or_else(|| BadControl(format!("no element {}", i + 1)))
}

impl Control {
    /// Reads a control tuple; the bool says whether a payload term follows it.
    pub(crate) fn parse(term: &Term) -> Result<(Control, bool), BadControl> {
        let t = term
            .as_tuple()
            .ok_or_else(|| BadControl(format!("not a tuple: {term}")))?;
        let op = t
            .first()
            .and_then(Term::as_int)
            .ok_or_else(|| BadControl(format!("no operation: {term}")))?;
        let c = match op {
            LINK => (
                Control::Link {
                    from: pid(t, 1)?,
                    to: pid(t, 2)?,
                },
                false,
            ),
            SEND | SEND_TT => (Control::Send { to: pid(t, 2)? }, true),
            SEND_SENDER | SEND_SENDER_TT => (
                Control::SendSender {
                    from: pid(t, 1)?,
                    to: pid(t, 2)?,
                },
                true,
            ),
            EXIT => (
                Control::Exit {
                    from: pid(t, 1)?,
                    to: pid(t, 2)?,
                    reason: Some(element(t, 3)?),
                },
                false,
            ),
            EXIT_TT => (
                Control::Exit {
                    from: pid(t, 1)?,
                    to: pid(t, 2)?,
                    reason: Some(element(t, 4)?),
                },
                false,
            ),
            PAYLOAD_EXIT | PAYLOAD_EXIT_TT => (
                Control::Exit {
                    from: pid(t, 1)?,
                    to: pid(t, 2)?,
                    reason: None,
                },
                true,
            ),
            EXIT2 => (
                Control::Exit2 {
                    from: pid(t, 1)?,
                    to: pid(t, 2)?,
                    reason: Some(element(t, 3)?),
                },
                false,
            ),
            EXIT2_TT => (
                Control::Exit2 {
                    from: pid(t, 1)?,
                    to: pid(t, 2)?,
                    reason: Some(element(t, 4)?),
                },
                false,
            ),
            PAYLOAD_EXIT2 | PAYLOAD_EXIT2_TT => (
                Control::Exit2 {
                    from: pid(t, 1)?,
                    to: pid(t, 2)?,
                    reason: None,
                },
                true,
            ),
            UNLINK => (
                Control::Unlink {
                    from: pid(t, 1)?,
                    to: pid(t, 2)?,
                },
                false,
            ),
            UNLINK_ID => (
                Control::UnlinkId {
                    id: id(t, 1)?,
                    from: pid(t, 2)?,
                    to: pid(t, 3)?,
                },
                false,
            ),
            UNLINK_ID_ACK => (
                Control::UnlinkIdAck {
                    id: id(t, 1)?,
                    from: pid(t, 2)?,
                    to: pid(t, 3)?,
                },
                false,
            ),
            REG_SEND => (
                Control::RegSend {
                    from: pid(t, 1)?,
                    to: atom(t, 3)?,
                },
                true,
            ),
            REG_SEND_TT => (
                Control::RegSend {
                    from: pid(t, 1)?,
                    to: atom(t, 3)?,
                },
                true,
            ),
            GROUP_LEADER => (
                Control::GroupLeader {
                    from: pid(t, 1)?,
                    to: pid(t, 2)?,
                },
                false,
            ),
            MONITOR_P => (
                Control::MonitorP {
                    from: pid(t, 1)?,
                    to: proc(t, 2)?,
                    monitor: reference(t, 3)?,
                },
                false,
            ),
            DEMONITOR_P => (
                Control::DemonitorP {
                    from: pid(t, 1)?,
                    to: proc(t, 2)?,
                    monitor: reference(t, 3)?,
                },
                false,
            ),
            MONITOR_P_EXIT => (
                Control::MonitorPExit {
                    from: proc(t, 1)?,
                    to: pid(t, 2)?,
                    monitor: reference(t, 3)?,
                    reason: Some(element(t, 4)?),
                },
                false,
            ),
            PAYLOAD_MONITOR_P_EXIT => (
                Control::MonitorPExit {
                    from: proc(t, 1)?,
                    to: pid(t, 2)?,
                    monitor: reference(t, 3)?,
                    reason: None,
                },
                true,
            ),
            ALIAS_SEND | ALIAS_SEND_TT => (
                Control::AliasSend {
                    from: pid(t, 1)?,
                    alias: reference(t, 2)?,
                },
                true,
            ),
            SPAWN_REQUEST | SPAWN_REQUEST_TT => {
                let mfa = t.get(4).and_then(Term::as_tuple);
                let Some([Term::Atom(module), Term::Atom(function), Term::Int(arity)]) = mfa else {
                    return Err(BadControl("element 5 is not {M, F, Arity}".into()));
                };
                let request = Control::SpawnRequest {
                    id: reference(t, 1)?,
                    from: pid(t, 2)?,
                    group_leader: pid(t, 3)?,
                    module: module.clone(),
                    function: function.clone(),
                    arity: *arity,
                    opts: element(t, 5)?,
                };
                (request, true)
            }
            SPAWN_REPLY => (
                Control::SpawnReply {
                    id: reference(t, 1)?,
                    to: pid(t, 2)?,
                    flags: t.get(3).and_then(Term::as_int).unwrap_or(0),
                    result: element(t, 4)?,
                },
                false,
            ),
            other => return Err(BadControl(format!("unknown operation {other}: {term}"))),
        };
        Ok(c)
    }

    /// The control tuple. A `reason: None` exit is written in its `PAYLOAD_*` form
    /// (the reason then goes as the payload).
    pub(crate) fn to_term(&self) -> Term {
        let int = Term::Int;
        let p = |p: &Pid| Term::Pid(*p);
        let r = |r: &ErlRef| Term::Ref(r.clone());
        let unused = || Term::atom("");
        let items: Vec<Term> = match self {
            Control::Link { from, to } => vec![int(LINK), p(from), p(to)],
            Control::Send { to } => vec![int(SEND), unused(), p(to)],
            Control::SendSender { from, to } => vec![int(SEND_SENDER), p(from), p(to)],
            Control::Exit {
                from,
                to,
                reason: Some(why),
            } => vec![int(EXIT), p(from), p(to), why.clone()],
            Control::Exit {
                from,
                to,
                reason: None,
            } => vec![int(PAYLOAD_EXIT), p(from), p(to)],
            Control::Exit2 {
                from,
                to,
                reason: Some(why),
            } => vec![int(EXIT2), p(from), p(to), why.clone()],
            Control::Exit2 {
                from,
                to,
                reason: None,
            } => vec![int(PAYLOAD_EXIT2), p(from), p(to)],
            Control::Unlink { from, to } => vec![int(UNLINK), p(from), p(to)],
            Control::UnlinkId { id, from, to } => {
                vec![int(UNLINK_ID), int(*id as i64), p(from), p(to)]
            }
            Control::UnlinkIdAck { id, from, to } => {
                vec![int(UNLINK_ID_ACK), int(*id as i64), p(from), p(to)]
            }
            Control::RegSend { from, to } => {
                vec![int(REG_SEND), p(from), unused(), Term::Atom(to.clone())]
            }
            Control::GroupLeader { from, to } => vec![int(GROUP_LEADER), p(from), p(to)],
            Control::MonitorP { from, to, monitor } => {
                vec![int(MONITOR_P), p(from), to.to_term(), r(monitor)]
            }
            Control::DemonitorP { from, to, monitor } => {
                vec![int(DEMONITOR_P), p(from), to.to_term(), r(monitor)]
            }
            Control::MonitorPExit {
                from,
                to,
                monitor,
                reason: Some(why),
            } => {
                vec![
                    int(MONITOR_P_EXIT),
                    from.to_term(),
                    p(to),
                    r(monitor),
                    why.clone(),
                ]
            }
            Control::MonitorPExit {
                from,
                to,
                monitor,
                reason: None,
            } => {
                vec![
                    int(PAYLOAD_MONITOR_P_EXIT),
                    from.to_term(),
                    p(to),
                    r(monitor),
                ]
            }
            Control::AliasSend { from, alias } => vec![int(ALIAS_SEND), p(from), r(alias)],
            Control::SpawnRequest {
                id,
                from,
                group_leader,
                module,
                function,
                arity,
                opts,
            } => {
                let mfa = Term::tuple([
                    Term::Atom(module.clone()),
                    Term::Atom(function.clone()),
                    int(*arity),
                ]);
                vec![
                    int(SPAWN_REQUEST),
                    r(id),
                    p(from),
                    p(group_leader),
                    mfa,
                    opts.clone(),
                ]
            }
            Control::SpawnReply {
                id,
                to,
                flags,
                result,
            } => {
                vec![int(SPAWN_REPLY), r(id), p(to), int(*flags), result.clone()]
            }
        };
        Term::Tuple(items)
    }
}
