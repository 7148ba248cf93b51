//! Step 3: local deliveries to the peer's pids, as control messages.

use beamlet_runtime::remote::{Outbound, RemoteSignal};
use beamlet_runtime::{MonitorRef, Pid};

use super::super::api::NAME_STAND_IN;
use super::super::control::{Control, Proc};
use super::super::refs;
use super::super::term::Term;
use super::{Closed, Connection};

impl Connection {
    pub(super) fn outbound(&mut self, out: Outbound) -> Result<(), Closed> {
        let to = out.to;
        match out.signal {
            RemoteSignal::Message(payload) => match payload.downcast::<Term>() {
                Ok(term) => self.send_control(&Control::Send { to }, Some(&term)),
                Err(other) => {
                    log::warn!(
                        "dist: a {} sent to {to} was dropped: only a Term crosses nodes \
                         (use beamlet::otp::dist::send)",
                        other.type_name()
                    );
                    Ok(())
                }
            },
            RemoteSignal::Exit { from, reason, link } => {
                let (inline, payload) = self.exit_form(&reason);
                let control = if link {
                    self.crossing.links.remove(&(from, to));
                    Control::Exit {
                        from,
                        to,
                        reason: inline,
                    }
                } else {
                    Control::Exit2 {
                        from,
                        to,
                        reason: inline,
                    }
                };
                self.send_control(&control, payload.as_ref())
            }
            RemoteSignal::Link { from } => {
                self.crossing.links.insert((from, to));
                self.send_control(&Control::Link { from, to }, None)
            }
            RemoteSignal::Unlink { from } => {
                self.crossing.links.remove(&(from, to));
                self.unlink(from, to)
            }
            RemoteSignal::Monitor { from, monitor } => self.monitor(from, to, monitor),
            RemoteSignal::Demonitor { monitor } => self.demonitor(monitor),
            RemoteSignal::Down {
                monitor,
                pid,
                reason,
            } => self.down_of_watched(monitor, pid, reason),
            // An alias names a local process; nothing local sends to a peer's alias
            // this way (see `Request::AliasSend`).
            RemoteSignal::Alias { .. } => Ok(()),
        }
    }

    fn unlink(&mut self, from: Pid, to: Pid) -> Result<(), Closed> {
        if self.flags & super::super::flags::UNLINK_ID != 0 {
            let id = self.next_unlink_id;
            self.next_unlink_id += 1;
            self.send_control(&Control::UnlinkId { id, from, to }, None)
        } else {
            self.send_control(&Control::Unlink { from, to }, None)
        }
    }

    fn monitor(&mut self, from: Pid, to: Pid, monitor: MonitorRef) -> Result<(), Closed> {
        let name = (to.index() == NAME_STAND_IN)
            .then(|| self.stand_ins.remove(&to.serial()))
            .flatten();
        let target = name.map_or(Proc::Pid(to), Proc::Name);
        self.crossing
            .watching
            .insert(monitor.tag(), (from, target.clone()));
        let r = refs::to_erl(monitor.tag(), &self.node.local);
        self.send_control(
            &Control::MonitorP {
                from,
                to: target,
                monitor: r,
            },
            None,
        )
    }

    fn demonitor(&mut self, monitor: MonitorRef) -> Result<(), Closed> {
        let Some((from, to)) = self.crossing.watching.remove(&monitor.tag()) else {
            return Ok(());
        };
        let r = refs::to_erl(monitor.tag(), &self.node.local);
        self.send_control(
            &Control::DemonitorP {
                from,
                to,
                monitor: r,
            },
            None,
        )
    }

    /// A local process watched from the peer went down (or never existed).
    fn down_of_watched(
        &mut self,
        monitor: MonitorRef,
        pid: Pid,
        reason: beamlet_runtime::ExitReason,
    ) -> Result<(), Closed> {
        let Some(theirs) = self.crossing.watched_tags.remove(&monitor.tag()) else {
            return Ok(());
        };
        let Some((_, watcher, _)) = self.crossing.watched.remove(&theirs) else {
            return Ok(());
        };
        let (inline, payload) = self.exit_form(&reason);
        let control = Control::MonitorPExit {
            from: Proc::Pid(pid),
            to: watcher,
            monitor: theirs,
            reason: inline,
        };
        self.send_control(&control, payload.as_ref())
    }
}
