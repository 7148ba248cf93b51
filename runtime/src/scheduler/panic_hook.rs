//! The panic hook: for a panic inside a process, records message and location (for
//! the exit reason, see `unwind::classify_exit`), and passes the panic on to a hook
//! the user installed before the first runtime was built.
//!
//! 1. At the first `build`, the hook in place is taken. If it is the standard
//!    library's default hook, process panics are not passed to it: the default
//!    hook would print "thread panicked" for every process crash, which the crash
//!    report ([`crate::report`]) already tells, with the pid. A hook of the user's
//!    (an error tracker, a test harness's) gets every panic.
//! 2. Panics outside processes go to the previous hook unchanged.
//!
//! A hook installed after the first `build` replaces this one: the exit reasons of
//! process panics then lose their location.

use std::panic::PanicHookInfo;
use std::sync::Once;

use super::context;
use crate::unwind::payload_message;

type Hook = Box<dyn Fn(&PanicHookInfo<'_>) + Sync + Send + 'static>;

/// Installs (once per OS process) the hook described in the module header.
pub(crate) fn install() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let (previous, custom) = take_previous();
        std::panic::set_hook(Box::new(move |info| {
            if context::current_process().is_none() {
                return previous(info);
            }
            let message = payload_message(info.payload())
                .map(str::to_owned)
                .unwrap_or_else(|| "Box<dyn Any>".to_owned());
            context::record_panic(message, info.location().map(|l| l.to_string()));
            if custom {
                previous(info);
            }
        }));
    });
}

/// The hook in place, and whether it is not the standard library's default.
///
/// `take_hook` leaves the default hook installed, so a second `take_hook` returns
/// the default boxed exactly as the first does when nobody set a hook: the same
/// function behind the same vtable (both boxes are made by the same code in std).
/// Wide pointers compare equal only with equal address and vtable; a user's hook,
/// even one capturing nothing, has a vtable of its own.
fn take_previous() -> (Hook, bool) {
    let previous = std::panic::take_hook();
    let default = std::panic::take_hook();
    let custom = !std::ptr::eq(&*previous, &*default);
    (previous, custom)
}
