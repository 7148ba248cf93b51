//! Process priorities (as the BEAM's `process_flag(priority, P)`); how the run
//! queues honour them is in `kernel/queue.rs`.

/// A process priority.
///
/// # Examples
///
/// ```
/// use beamlet::{set_priority, Priority};
/// let rt = beamlet::Runtime::builder().build().unwrap();
/// rt.block_on(|| {
///     assert_eq!(set_priority(Priority::High), Priority::Normal);
///     assert_eq!(set_priority(Priority::Low), Priority::High);
/// }).unwrap();
/// rt.shutdown();
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Priority {
    /// Runs when nothing else is runnable, and otherwise every few normal slices.
    Low = 0,
    /// The default.
    Normal = 1,
    /// Runs before any normal or low process. (The BEAM's `max` is reserved for the
    /// runtime's own processes and not offered.)
    High = 2,
}

impl Priority {
    pub(crate) fn from_u8(v: u8) -> Priority {
        match v {
            0 => Priority::Low,
            2 => Priority::High,
            _ => Priority::Normal,
        }
    }
}
