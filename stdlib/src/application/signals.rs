//! SIGTERM and SIGINT as `init:stop/0`: [`stop_on_signals`] spawns a process that
//! receives the signals (through the runtime's `forward_os_signals`) and halts the
//! system in order on the first one.
//!
//! The watcher handles one signal and then exits: the runtime gives later signals
//! their default action again, so a second Ctrl-C (or SIGTERM) while the
//! applications are still stopping ends the program at once, as a user who presses
//! it twice means.

use std::io;

use beamlet_runtime::{OsSignal, OsSignalReceived, Pid, Runtime, forward_os_signals};

use super::stop_system;

/// Makes SIGTERM and SIGINT stop the system in order (as `init:stop/0` does on a
/// BEAM node that gets SIGTERM): every running application of `rt` is stopped,
/// newest first, then [`run`](super::run) (or [`await_halt`](super::await_halt))
/// returns [`Halt::Requested`](super::Halt::Requested). Opt-in: without it the
/// signals end the program at once, as for any Rust program.
///
/// A process of `rt` (returned) waits for the first signal; a second one, or one
/// after that process or `rt` is gone, has its default action and ends the
/// program. Signals are process-wide: a later call (for this runtime or another)
/// takes them over. Callable from any thread.
///
/// # Errors
///
/// The OS error of installing the handlers (or of spawning the process, wrapping
/// its [`SpawnError`](beamlet_runtime::SpawnError)).
///
/// # Examples
///
/// A program's `main`:
///
/// ```no_run
/// use beamlet_stdlib::application::{self, Application, RestartType};
/// use beamlet_runtime::{receive, spawn_link, Runtime};
///
///
/// let rt = Runtime::builder().build().unwrap();
/// application::stop_on_signals(&rt).unwrap();
/// let app = Application::new("server", || spawn_link(|| loop { receive::<()>(); }))
///     .on_stop(|| eprintln!("server stopped"));
/// // Returns once SIGTERM or Ctrl-C has stopped the application.
/// let halt = application::run(rt, vec![app], RestartType::Permanent);
/// ```
pub fn stop_on_signals(rt: &Runtime) -> io::Result<Pid> {
    let watcher = rt.spawn(watch).map_err(io::Error::other)?;
    if let Err(e) = forward_os_signals(watcher, &[OsSignal::Term, OsSignal::Int]) {
        let _ = rt.send(watcher, Quit);
        return Err(e);
    }
    Ok(watcher)
}

/// Tells a watcher whose signals could not be installed to end.
struct Quit;

/// The watcher: halts the system on the first signal, then exits (so that the next
/// signal has its default action).
fn watch() {
    let received = beamlet_runtime::receive_select(
        None,
        |m| m.is::<OsSignalReceived>() || m.is::<Quit>(),
        None,
    )
    .expect("no timeout");
    let Ok(signal) = received.downcast::<OsSignalReceived>() else {
        return;
    };
    let signal = signal.signal;
    log::info!(target: "beamlet::application", "{signal}: stopping the system");
    if let Err(e) = stop_system() {
        log::error!(
            target: "beamlet::application",
            "{signal}: the system could not be stopped ({e}); the next signal ends the program"
        );
    }
}
