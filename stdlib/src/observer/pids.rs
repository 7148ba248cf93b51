//! Pids written in URLs: `1.5.0` or `<1.5.0>` (runtime, slot, serial, as `Pid`'s
//! `Display`), read with `Pid`'s `FromStr`, back to the live process they name.

use beamlet_runtime::{Pid, is_alive};

/// The live process `text` names.
pub(super) fn find(text: &str) -> Option<Pid> {
    text.trim().parse().ok().filter(|p| is_alive(*p))
}
