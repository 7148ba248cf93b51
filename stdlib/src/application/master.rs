//! The application master (OTP's `application_master`): one process per running
//! application, between the controller and the application's top supervisor.
//!
//! 1. The controller spawns the master linked; the master traps exits.
//! 2. The master runs the application's start function (a panic in it is a failed
//!    start) and links to the pid it returns, so that the tree's exit reaches it
//!    even from an unlinked start.
//! 3. A failed start ends the master with `{shutdown, StartFailure}`: the
//!    controller reads the error from the exit reason, so it answers the starter
//!    only once the master (and whatever it had linked) is gone.
//! 4. A successful start is told to the controller with [`MasterStarted`]; signals
//!    and messages from one process keep their order, so this always comes before
//!    the master's own exit.
//! 5. Then the master waits for one of:
//!    - [`StopApp`] from the controller: `prep_stop`, shut down the top supervisor
//!      (`Shutdown` and the application's timeout, then `Kill`), `stop`, exit
//!      `Normal`;
//!    - the top supervisor's `Exit`: run `prep_stop` and `stop` (as OTP's master
//!      does) and exit with the same reason (the controller applies the restart
//!      type);
//!    - the controller's `Exit` (it died): stop the tree as for `StopApp` and exit
//!      with the controller's reason.

use std::sync::Arc;

use beamlet_runtime::{
    Exit, ExitReason, Message, Pid, exit, link, receive_select, self_pid, send, trap_exit,
};

use super::Spec;
use crate::behaviour::StartError;
use crate::behaviour::try_dispatch;
use crate::supervisor::{run_start, shutdown_child};

/// Master → controller: the application's start function succeeded.
#[derive(Debug)]
pub(super) struct MasterStarted {
    /// The master that sends it.
    pub(super) master: Pid,
}

/// Controller → master: stop the application.
#[derive(Debug)]
pub(super) struct StopApp;

/// The payload of a master's exit reason after a failed start.
#[derive(Debug)]
pub(super) struct StartFailure(pub(super) StartError);

impl StartFailure {
    /// The start error carried by `reason`, if the master ended for a failed start.
    pub(super) fn of(reason: &ExitReason) -> Option<StartError> {
        match reason {
            ExitReason::ShutdownWith(t) => t
                .as_any()
                .downcast_ref::<StartFailure>()
                .map(|f| f.0.clone()),
            _ => None,
        }
    }
}

/// The master's body: start, report, watch, stop.
pub(super) fn run(spec: Arc<Spec>, controller: Pid) {
    trap_exit(true);
    // Observers find an application's top supervisor as this process's child, and
    // the application's name in this label.
    beamlet_runtime::set_behaviour("application_master", "beamlet_stdlib::application");
    beamlet_runtime::set_label(spec.name.clone());
    // A panic or an `exit` in the start function is a failed start (`Stop`).
    let top = match run_start(&spec.start) {
        Ok(top) => top,
        Err(error) => exit(ExitReason::shutdown_with(StartFailure(error))),
    };
    // Trapping exits, so a top process already dead arrives as an `Exit` (NoProc).
    let _ = link(top);
    let _ = send(controller, MasterStarted { master: self_pid() });
    let relevant = |m: &Message| {
        m.is::<StopApp>()
            || m.downcast_ref::<Exit>()
                .is_some_and(|e| e.from == top || e.from == controller)
    };
    let msg = receive_select(None, relevant, None).expect("no timeout");
    match msg.downcast::<Exit>() {
        Ok(e) if e.from == top => {
            run_callback(spec.prep_stop.as_ref());
            run_callback(spec.stop.as_ref());
            exit(e.reason)
        }
        Ok(e) => {
            stop_tree(&spec, top);
            exit(e.reason)
        }
        Err(_) => {
            stop_tree(&spec, top);
            exit(ExitReason::Normal)
        }
    }
}

/// An orderly stop: `prep_stop`, the tree, then `stop`.
fn stop_tree(spec: &Spec, top: Pid) {
    run_callback(spec.prep_stop.as_ref());
    shutdown_child(top, spec.shutdown);
    run_callback(spec.stop.as_ref());
}

/// Runs a stop callback; a panic in it is caught here (the dispatch point) and
/// does not keep the application from stopping.
fn run_callback(callback: Option<&super::Callback>) {
    let Some(f) = callback else {
        return;
    };
    if let Err(reason) = try_dispatch(f) {
        log::error!(target: "beamlet::application", "a stop callback failed: {reason}");
    }
}
