//! The page's actions: `POST /api/process/<pid>/{kill,suspend,resume,send}`.
//!
//! 1. Refused with 403 unless the observer was started with
//!    [`Config::actions`](super::Config::actions).
//! 2. A pid that names no live process is 404.
//! 3. `kill` sends the exit signal `Kill` (untrappable, as `exit(Pid, kill)`).
//! 4. `suspend` and `resume` are `sys` calls, so only a behaviour's process can
//!    take them: any other is 409 (a plain process would never answer, and the
//!    request would stay in its mailbox). A behaviour that does not answer within
//!    a second is 409 too.
//! 5. `send` delivers the body, UTF-8 text of at most 4 KiB (the request limit),
//!    as an [`ObserverMessage`]; a body that is not UTF-8 is 400, a full mailbox
//!    (a mailbox limit refusing it) 409.

use std::time::Duration;

use beamlet_runtime::{ExitReason, SendError};

use super::ObserverMessage;
use super::http::Response;
use super::routes::no_such_process;
use super::server::Shared;
use super::{json, pids, table};

/// How long a suspend or resume waits for the behaviour.
const SYS_TIMEOUT: Duration = Duration::from_secs(1);

const ACTIONS: [&str; 4] = ["kill", "suspend", "resume", "send"];

/// Whether `action` is one of the actions.
pub(super) fn known(action: &str) -> bool {
    ACTIONS.contains(&action)
}

/// Runs `action` on the process `pid` names (see the module's steps).
pub(super) fn act(shared: &Shared, pid: &str, action: &str, body: &[u8]) -> Response {
    if !shared.config.actions {
        return Response::error(403, "actions are off");
    }
    let Some(pid) = pids::find(pid) else {
        return no_such_process();
    };
    match action {
        "kill" => beamlet_runtime::exit_pid(pid, ExitReason::Kill),
        "suspend" | "resume" => {
            if table::behaviour_of(pid).is_none() {
                return Response::error(409, "not a behaviour's process");
            }
            if let Err(e) = crate::sys::set_suspended(pid, action == "suspend", SYS_TIMEOUT) {
                return Response::error(409, &format!("{action} failed: {e}"));
            }
        }
        _ => {
            let Ok(text) = String::from_utf8(body.to_vec()) else {
                return Response::error(400, "the message is not UTF-8 text");
            };
            match beamlet_runtime::send(pid, ObserverMessage(text)) {
                Ok(()) => {}
                Err(SendError::MailboxFull(_)) => {
                    return Response::error(409, "the process's mailbox is full");
                }
                Err(_) => return no_such_process(),
            }
        }
    }
    let mut out = String::new();
    json::Object::new(&mut out).bool("ok", true);
    Response::json(200, out)
}
