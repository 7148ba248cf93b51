//! The panic hook: for a panic inside a process, records message and location (for
//! the exit reason, see `unwind::classify_exit`) instead of printing.

use std::sync::Once;

use super::context;
use crate::unwind::payload_message;

/// Installs (once per OS process) a panic hook that, for panics inside a process,
/// records message and location for the exit reason instead of printing: a process
/// crash is reported through its exit reason and the crash report (`log`), as on the
/// BEAM. Panics outside processes go to the previous hook unchanged.
pub(crate) fn install() {
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
