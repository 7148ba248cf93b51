//! OS signals as messages (as OTP's `os:set_signal(sigterm, handle)`, where the
//! signal goes to `erl_signal_server` as a message): [`forward_os_signals`] makes
//! SIGTERM and SIGINT arrive in a process's mailbox as [`OsSignalReceived`], so
//! that a process can stop the system in order (the stdlib's
//! `application::stop_on_signals` does, as `init:stop/0`).
//!
//! # Design: a self-pipe and a waiting thread
//!
//! A signal handler may only make async-signal-safe calls, and delivering a
//! message takes locks and allocates. So the handler writes the signal's number as
//! one byte to a non-blocking socket pair (`write` is async-signal-safe; a full
//! pipe drops the byte, which only loses a repeat of a signal that is already on
//! its way), and keeps `errno` as it found it. A thread of its own, started with
//! the first forwarding, blocks reading the other end and delivers each signal to
//! its recipient from outside any runtime, as `Runtime::send` does. Both live for
//! the rest of the OS process: signal dispositions are process-wide.
//!
//! If the recipient of a signal is gone (it exited, or its runtime was shut
//! down), the thread restores the signal's default action and raises it again:
//! SIGTERM and SIGINT then end the program as they would have without beamlet, so
//! a signal is never swallowed by a handler nobody listens to.

use std::io::{self, Read};
use std::os::fd::IntoRawFd;
use std::os::unix::net::UnixStream;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI32, Ordering};

use crate::kernel::deliver::deliver_anywhere;
use crate::mailbox::limit::Admission;
use crate::mailbox::node::Node;
use crate::pid::Pid;

/// An OS signal that can be forwarded (see [`forward_os_signals`]).
///
/// ```
/// use beamlet_runtime::OsSignal;
/// assert_eq!(OsSignal::Term.number(), 15);
/// assert_eq!(OsSignal::Int.to_string(), "SIGINT");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OsSignal {
    /// SIGTERM: the polite request to stop (`kill`, systemd, container runtimes).
    Term,
    /// SIGINT: Ctrl-C at a terminal.
    Int,
}

impl OsSignal {
    const ALL: [OsSignal; 2] = [OsSignal::Term, OsSignal::Int];

    /// The signal's number (`libc::SIGTERM`, ...).
    pub fn number(self) -> i32 {
        match self {
            OsSignal::Term => libc::SIGTERM,
            OsSignal::Int => libc::SIGINT,
        }
    }

    fn from_number(n: i32) -> Option<OsSignal> {
        OsSignal::ALL.into_iter().find(|s| s.number() == n)
    }
}

impl std::fmt::Display for OsSignal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            OsSignal::Term => "SIGTERM",
            OsSignal::Int => "SIGINT",
        })
    }
}

/// The message a forwarded signal arrives as (as OTP's `{notify, sigterm}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OsSignalReceived {
    /// Which signal.
    pub signal: OsSignal,
}

/// The write end of the self-pipe, for the handler (-1 before the first call).
static PIPE: AtomicI32 = AtomicI32::new(-1);
/// Who receives each signal (indexed as [`OsSignal::ALL`]), and whether the
/// waiting thread runs.
static STATE: Mutex<Forwarding> = Mutex::new(Forwarding {
    to: [None, None],
    started: false,
});

struct Forwarding {
    to: [Option<Pid>; 2],
    started: bool,
}

/// Delivers the signals in `signals` to `to` as [`OsSignalReceived`] messages from
/// now on, instead of their default action (ending the program). One recipient per
/// signal for the whole OS process: a later call replaces it. Once the recipient is
/// gone, the next such signal gets its default action again. Callable from any
/// thread.
///
/// # Errors
///
/// The OS error of creating the pipe, starting the thread or `sigaction`.
///
/// # Examples
///
/// ```
/// use beamlet_runtime::{forward_os_signals, receive, self_pid, OsSignal, OsSignalReceived};
/// let rt = beamlet_runtime::Runtime::builder().build().unwrap();
/// rt.block_on(|| {
///     forward_os_signals(self_pid(), &[OsSignal::Int]).unwrap();
///     // SAFETY (of the example): `raise` only sends a signal to this thread.
///     unsafe { libc::raise(libc::SIGINT) };
///     assert_eq!(receive::<OsSignalReceived>().signal, OsSignal::Int);
/// }).unwrap();
/// rt.shutdown();
/// ```
pub fn forward_os_signals(to: Pid, signals: &[OsSignal]) -> io::Result<()> {
    let mut state = STATE.lock().unwrap_or_else(|e| e.into_inner());
    if !state.started {
        start_waiter()?;
        state.started = true;
    }
    // The recipient first: a signal that comes as soon as the handler is in finds it.
    for &s in signals {
        state.to[index(s)] = Some(to);
    }
    drop(state);
    for &s in signals {
        install(
            s.number(),
            on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t,
        )?;
    }
    Ok(())
}

fn index(s: OsSignal) -> usize {
    OsSignal::ALL.iter().position(|&x| x == s).expect("listed")
}

/// Makes the self-pipe and starts the thread that reads it.
fn start_waiter() -> io::Result<()> {
    let (mut read, write) = UnixStream::pair()?;
    // The handler must never block.
    write.set_nonblocking(true)?;
    std::thread::Builder::new()
        .name("beamlet-signals".into())
        .spawn(move || {
            let mut buf = [0u8; 64];
            loop {
                match read.read(&mut buf) {
                    Ok(0) => return,
                    Ok(n) => buf[..n].iter().for_each(|&b| dispatch(i32::from(b))),
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(_) => return,
                }
            }
        })?;
    // Kept open for the rest of the OS process: the handler may run at any time.
    PIPE.store(write.into_raw_fd(), Ordering::Release);
    Ok(())
}

/// Delivers signal `n` to its recipient, or gives it its default action.
fn dispatch(n: i32) {
    let Some(signal) = OsSignal::from_number(n) else {
        return;
    };
    let to = STATE.lock().unwrap_or_else(|e| e.into_inner()).to[index(signal)];
    let delivered = to.is_some_and(|pid| {
        let node = Node::new(OsSignalReceived { signal });
        deliver_anywhere(pid, node, Admission::Always).is_ok()
    });
    if !delivered {
        log::info!(target: "beamlet", "{signal}: nobody receives it any more; default action");
        if install(n, libc::SIG_DFL).is_ok() {
            // SAFETY: `raise` sends a signal to this thread and touches no memory of
            // ours; with the default action restored it ends the program.
            unsafe { libc::raise(n) };
        }
    }
}

/// The signal handler: one byte into the self-pipe, `errno` kept.
extern "C" fn on_signal(n: libc::c_int) {
    let fd = PIPE.load(Ordering::Acquire);
    if fd < 0 {
        return;
    }
    let byte = n as u8;
    // SAFETY: `__errno_location` and `write` are async-signal-safe; the buffer is a
    // local byte valid for the call, and `fd` is the pipe's write end, never closed.
    unsafe {
        let errno = *libc::__errno_location();
        libc::write(fd, std::ptr::from_ref(&byte).cast(), 1);
        *libc::__errno_location() = errno;
    }
}

/// Sets the disposition of signal `n` to `handler` (restarting interrupted calls).
fn install(n: libc::c_int, handler: libc::sighandler_t) -> io::Result<()> {
    // SAFETY: a zeroed `sigaction` is a valid value of the C struct (empty mask, no
    // flags), filled in before the call; `sigaction` reads it and writes nothing
    // back (the old action pointer is null). The handler only makes
    // async-signal-safe calls (see `on_signal`).
    let r = unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = handler;
        action.sa_flags = libc::SA_RESTART;
        libc::sigemptyset(&mut action.sa_mask);
        libc::sigaction(n, &action, std::ptr::null_mut())
    };
    if r == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signals_map_to_their_numbers_and_back() {
        for s in OsSignal::ALL {
            assert_eq!(OsSignal::from_number(s.number()), Some(s));
            assert_eq!(OsSignal::ALL[index(s)], s);
        }
        assert_eq!(OsSignal::from_number(libc::SIGHUP), None);
    }
}
