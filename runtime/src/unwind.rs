//! Unwinding payloads the runtime uses to leave a process's stack early, and the
//! panic hook that records where a process panicked.
//!
//! A process leaves its stack by unwinding (so destructors run) in three cases: an
//! ordinary panic, an exit (`exit`, or a kill noticed at a runtime call), and
//! hibernation. The payload tells the bottom frame which one it was.

use std::any::Any;
use std::sync::Once;

use crate::ExitReason;
use crate::exit::PanicReason;
use crate::scheduler::context;

/// Payload of an unwind that ends the process with a reason.
pub(crate) struct ExitUnwind(pub(crate) ExitReason);

/// Payload of an unwind that hibernates the process.
pub(crate) struct HibernateUnwind(pub(crate) Box<dyn FnOnce() + Send>);

/// What an unwind that reached a process's bottom frame means.
pub(crate) enum PanicPayload {
    Exit(ExitReason),
    Hibernate(Box<dyn FnOnce() + Send>),
}

/// Unwinds the current process's stack with `reason`. No panic hook runs.
pub(crate) fn raise(reason: ExitReason) -> ! {
    std::panic::resume_unwind(Box::new(ExitUnwind(reason)))
}

/// Unwinds the current process's stack to hibernate into `f`.
pub(crate) fn raise_hibernate(f: Box<dyn FnOnce() + Send>) -> ! {
    std::panic::resume_unwind(Box::new(HibernateUnwind(f)))
}

pub(crate) fn classify_exit(payload: Box<dyn Any + Send>) -> PanicPayload {
    let payload = match payload.downcast::<ExitUnwind>() {
        Ok(e) => return PanicPayload::Exit(e.0),
        Err(p) => p,
    };
    let payload = match payload.downcast::<HibernateUnwind>() {
        Ok(h) => return PanicPayload::Hibernate(h.0),
        Err(p) => p,
    };
    // The hook's record belongs to this unwind only if it describes the same panic: a
    // panic caught earlier on this thread leaves a record behind, and an unwind
    // started with `resume_unwind` does not run the hook.
    let recorded = context::take_panic();
    let message = payload_message(&*payload).map(str::to_owned);
    let location = match (&message, recorded) {
        (Some(m), Some((rm, loc))) if *m == rm => loc,
        (None, Some((_, loc))) => loc,
        _ => None,
    };
    let message = message.unwrap_or_else(|| "Box<dyn Any>".to_owned());
    PanicPayload::Exit(ExitReason::Panic(PanicReason::new(message, location)))
}

fn payload_message(payload: &(dyn Any + Send)) -> Option<&str> {
    payload
        .downcast_ref::<&'static str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
}

/// Runs `f`, turning a panic or an `exit` inside it into the exit reason it would
/// end the process with — the one dispatch point a behaviour needs to run its
/// `terminate` callback. A kill and a `hibernate` are not caught: they continue
/// unwinding, as they must.
///
/// # Examples
///
/// ```
/// use beamlet_runtime::{catch_exit, exit, ExitReason};
/// let rt = beamlet_runtime::Runtime::builder().build().unwrap();
/// rt.block_on(|| {
///     assert_eq!(catch_exit(|| 5), Ok(5));
///     let r = catch_exit(|| -> () { panic!("bad state") });
///     assert!(matches!(r, Err(ExitReason::Panic(ref p)) if p.message() == "bad state"));
///     assert_eq!(catch_exit(|| exit(ExitReason::Shutdown)), Err(ExitReason::Shutdown));
/// }).unwrap();
/// rt.shutdown();
/// ```
pub fn catch_exit<R>(f: impl FnOnce() -> R) -> Result<R, ExitReason> {
    let payload = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(r) => return Ok(r),
        Err(payload) => payload,
    };
    let killed = context::current_process().is_some_and(|p| p.get().kill_pending());
    if killed || payload.is::<HibernateUnwind>() {
        std::panic::resume_unwind(payload);
    }
    match classify_exit(payload) {
        PanicPayload::Exit(reason) => Err(reason),
        PanicPayload::Hibernate(_) => unreachable!("hibernation payloads are re-raised above"),
    }
}

/// Installs (once per OS process) a panic hook that, for panics inside a process,
/// records message and location for the exit reason instead of printing: a process
/// crash is reported through its exit reason and the crash report (`log`), as on the
/// BEAM. Panics outside processes go to the previous hook unchanged.
pub(crate) fn install_panic_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if context::current_process().is_some() {
                let message = payload_message(info.payload())
                    .map(str::to_owned)
                    .unwrap_or_else(|| "Box<dyn Any>".to_owned());
                context::record_panic(message, info.location().map(|l| l.to_string()));
            } else {
                previous(info);
            }
        }));
    });
}
