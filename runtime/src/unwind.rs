//! Unwinding payloads the runtime uses to leave a process's stack early.
//!
//! A process leaves its stack by unwinding (so destructors run) in three cases: an
//! ordinary panic, an exit (`exit`, or a kill noticed at a runtime call), and
//! hibernation. The payload tells the bottom frame which one it was.

use std::any::Any;

use crate::exit::{ExitReason, PanicReason};

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

/// What `payload` means; `recorded` is the panic hook's record of the last panic on
/// this thread (message, location), if any.
pub(crate) fn classify_exit(
    payload: Box<dyn Any + Send>,
    recorded: Option<(String, Option<String>)>,
) -> PanicPayload {
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
    let message = payload_message(&*payload).map(str::to_owned);
    let location = match (&message, recorded) {
        (Some(m), Some((rm, loc))) if *m == rm => loc,
        (None, Some((_, loc))) => loc,
        _ => None,
    };
    let message = message.unwrap_or_else(|| "Box<dyn Any>".to_owned());
    PanicPayload::Exit(ExitReason::Panic(PanicReason::new(message, location)))
}

pub(crate) fn payload_message(payload: &(dyn Any + Send)) -> Option<&str> {
    payload
        .downcast_ref::<&'static str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
}
