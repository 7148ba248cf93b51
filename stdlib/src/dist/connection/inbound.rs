//! Step 4: the peer's packets, as local deliveries from the remote pids.

use beamlet_runtime::remote::{self, Payload, RemoteSignal};
use std::sync::Arc;
use std::time::Duration;

use beamlet_runtime::{
    ExitReason, MonitorRef, Pid, Ref, exit, receive_timeout, send, spawn, whereis,
};

use super::super::control::{Control, Proc};
use super::super::packet::{self, Packet};
use super::super::reason;
use super::super::refs;
use super::super::rpc;
use super::super::term::{Atom, ErlRef, Term};
use super::{Closed, Connection};

impl Connection {
    /// One packet: a tick (empty), or `112`, a control term and maybe a payload.
    pub(super) fn packet(&mut self, bytes: &[u8]) -> Result<(), Closed> {
        self.heard = true;
        let parsed = packet::parse(bytes, &self.node.local, &self.node.config.limits);
        match parsed.map_err(|e| Closed::BadInput(e.to_string()))? {
            Packet::Tick => Ok(()),
            Packet::Control(control, payload) => self.control(control, payload),
        }
    }

    fn control(&mut self, control: Control, payload: Option<Term>) -> Result<(), Closed> {
        let payload_or = |inline: Option<Term>, payload: Option<Term>| {
            inline.or(payload).unwrap_or_else(|| Term::atom("normal"))
        };
        match control {
            Control::Send { to } | Control::SendSender { to, .. } => {
                self.to_local(to, payload);
            }
            Control::RegSend { from, to } => self.reg_send(from, to.as_str(), payload),
            Control::AliasSend { alias, .. } => self.alias_send(&alias, payload),
            Control::Link { from, to } => self.link_in(from, to)?,
            Control::Unlink { from, to } => self.unlink_in(from, to),
            Control::UnlinkId { id, from, to } => {
                self.unlink_in(from, to);
                self.send_control(
                    &Control::UnlinkIdAck {
                        id,
                        from: to,
                        to: from,
                    },
                    None,
                )?;
            }
            Control::UnlinkIdAck { .. }
            | Control::GroupLeader { .. }
            | Control::SpawnReply { .. } => {}
            Control::Exit { from, to, reason } => {
                self.crossing.links.remove(&(to, from));
                let reason = reason::from_term(payload_or(reason, payload));
                let _ = remote::deliver(
                    to,
                    RemoteSignal::Exit {
                        from,
                        reason,
                        link: true,
                    },
                );
            }
            Control::Exit2 { from, to, reason } => {
                let reason = reason::from_term(payload_or(reason, payload));
                let _ = remote::deliver(
                    to,
                    RemoteSignal::Exit {
                        from,
                        reason,
                        link: false,
                    },
                );
            }
            Control::MonitorP { from, to, monitor } => self.monitor_in(from, to, monitor)?,
            Control::DemonitorP { monitor, .. } => self.demonitor_in(&monitor),
            Control::MonitorPExit {
                from,
                to,
                monitor,
                reason,
            } => {
                let reason = reason::from_term(payload_or(reason, payload));
                self.down_in(from, to, &monitor, reason);
            }
            Control::SpawnRequest {
                id,
                from,
                module,
                function,
                opts,
                ..
            } => self.spawn_in(id, from, (module, function), &opts, payload)?,
        }
        Ok(())
    }

    fn to_local(&self, to: Pid, payload: Option<Term>) {
        if let Some(message) = payload
            && to.is_local()
        {
            let _ = send(to, message);
        }
    }

    fn reg_send(&self, from: Pid, name: &str, payload: Option<Term>) {
        let Some(message) = payload else { return };
        if let Some(export) = self.node.export(name) {
            export.handle(from, message, self.me);
        } else if let Some(pid) = whereis(name) {
            let _ = send(pid, message);
        }
    }

    fn alias_send(&self, alias: &ErlRef, payload: Option<Term>) {
        let (Some((pid, tag)), Some(message)) =
            (refs::alias_from_erl(alias, &self.node.local), payload)
        else {
            return;
        };
        let _ = remote::deliver(
            pid,
            RemoteSignal::Alias {
                alias: tag,
                message: Payload::new(message),
            },
        );
    }

    fn link_in(&mut self, from: Pid, to: Pid) -> Result<(), Closed> {
        if to.is_local() && remote::deliver(to, RemoteSignal::Link { from }).is_ok() {
            self.crossing.links.insert((to, from));
            return Ok(());
        }
        let (inline, payload) = self.exit_form(&ExitReason::NoProc);
        self.send_control(
            &Control::Exit {
                from: to,
                to: from,
                reason: inline,
            },
            payload.as_ref(),
        )
    }

    fn unlink_in(&mut self, from: Pid, to: Pid) {
        self.crossing.links.remove(&(to, from));
        let _ = remote::deliver(to, RemoteSignal::Unlink { from });
    }

    fn monitor_in(&mut self, from: Pid, to: Proc, monitor: ErlRef) -> Result<(), Closed> {
        let target = match &to {
            Proc::Pid(p) if p.is_local() => Some(*p),
            Proc::Pid(_) => None,
            Proc::Name(name) => whereis(name.as_str()),
        };
        let tag = Ref::new();
        let set = target.is_some_and(|pid| {
            let sig = RemoteSignal::Monitor {
                from,
                monitor: MonitorRef::from_tag(tag),
            };
            remote::deliver(pid, sig).is_ok()
        });
        match target {
            Some(pid) if set => {
                self.crossing
                    .watched
                    .insert(monitor.clone(), (pid, from, tag));
                self.crossing.watched_tags.insert(tag, monitor);
                Ok(())
            }
            _ => {
                let (inline, payload) = self.exit_form(&ExitReason::NoProc);
                let exit = Control::MonitorPExit {
                    from: to,
                    to: from,
                    monitor,
                    reason: inline,
                };
                self.send_control(&exit, payload.as_ref())
            }
        }
    }

    fn demonitor_in(&mut self, monitor: &ErlRef) {
        if let Some((target, _, tag)) = self.crossing.watched.remove(monitor) {
            self.crossing.watched_tags.remove(&tag);
            let _ = remote::deliver(
                target,
                RemoteSignal::Demonitor {
                    monitor: MonitorRef::from_tag(tag),
                },
            );
        }
    }

    fn down_in(&mut self, from: Proc, to: Pid, monitor: &ErlRef, reason: ExitReason) {
        let Some(tag) = refs::from_erl(monitor, &self.node.local) else {
            return;
        };
        if self.crossing.watching.remove(&tag).is_none() {
            return;
        }
        let pid = match from {
            Proc::Pid(p) => p,
            Proc::Name(_) => Pid::NO_PROCESS,
        };
        let _ = remote::deliver(
            to,
            RemoteSignal::Down {
                monitor: MonitorRef::from_tag(tag),
                pid,
                reason,
            },
        );
    }

    /// A `SPAWN_REQUEST` (`rpc.rs`, steps 1–3): the process is spawned, linked
    /// and monitored as asked, announced by `SPAWN_REPLY`, and only then let run,
    /// so its exit cannot overtake the monitor.
    fn spawn_in(
        &mut self,
        id: ErlRef,
        from: Pid,
        (module, function): (Atom, Atom),
        opts: &Term,
        args: Option<Term>,
    ) -> Result<(), Closed> {
        let Some(Term::List(args)) = args else {
            return self.spawn_refused(id, from, "badarg");
        };
        let (link, monitor) = spawn_options(opts);
        let spawned = spawn(move || {
            if receive_timeout::<Go>(GO_PATIENCE).is_none() {
                return;
            }
            if let Some(reason) = rpc::spawned_job(module, function, args) {
                exit(ExitReason::Custom(Arc::new(reason)));
            }
        });
        let Ok(pid) = spawned else {
            return self.spawn_refused(id, from, "system_limit");
        };
        if link {
            self.link_in(from, pid)?;
        }
        if monitor {
            self.monitor_in(from, Proc::Pid(pid), id.clone())?;
        }
        let reply = Control::SpawnReply {
            id,
            to: from,
            flags: i64::from(link) | (i64::from(monitor) << 1),
            result: Term::Pid(pid),
        };
        self.send_control(&reply, None)?;
        let _ = send(pid, Go);
        Ok(())
    }

    fn spawn_refused(&mut self, id: ErlRef, from: Pid, why: &str) -> Result<(), Closed> {
        let reply = Control::SpawnReply {
            id,
            to: from,
            flags: 0,
            result: Term::atom(why),
        };
        self.send_control(&reply, None)
    }
}

/// What a spawned process waits for before it runs (see `spawn_in`).
struct Go;

/// How long a spawned process waits for its [`Go`]: only a connection that
/// ended between the spawn and its reply leaves it waiting.
const GO_PATIENCE: Duration = Duration::from_secs(30);

/// Whether a spawn's options ask for a link and for a monitor (`link`,
/// `monitor`, `{monitor, Opts}`); the others concern the requesting side.
fn spawn_options(opts: &Term) -> (bool, bool) {
    let opts = opts.as_list().unwrap_or_default();
    let link = opts.iter().any(|o| o.is_atom("link"));
    let monitor = opts.iter().any(|o| {
        o.is_atom("monitor") || matches!(o.as_tuple(), Some([m, _]) if m.is_atom("monitor"))
    });
    (link, monitor)
}
