//! Process identifiers and unique references.
//!
//! A [`Pid`] names one process of one runtime for ever: it holds the runtime's number,
//! the index of the process-table slot and the slot's serial at spawn time. A slot is
//! reused by later processes, but each reuse bumps the serial, so a stale pid never
//! reaches the new occupant (messages carry the serial and are dropped on mismatch).

use std::cell::Cell;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::nodes::{self, REMOTE};

/// The identifier of a process.
///
/// `Pid` is `Copy`, hashable and ordered, and prints like the BEAM's `<0.42.0>`:
/// runtime number, process-table slot, slot serial.
///
/// # Examples
///
/// ```
/// let rt = beamlet::Runtime::builder().schedulers(1).build().unwrap();
/// let pid = rt.block_on(|| beamlet::self_pid()).unwrap();
/// assert!(format!("{pid}").starts_with('<'));
/// rt.shutdown();
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Pid {
    pub(crate) runtime: u32,
    pub(crate) index: u32,
    pub(crate) serial: u32,
}

impl Pid {
    /// A pid no process ever has (`<4294967295.4294967295.4294967295>`): what a
    /// [`Down`](crate::Down) names when a monitor by name found no process, and
    /// never alive.
    ///
    /// ```
    /// let rt = beamlet::Runtime::builder().build().unwrap();
    /// rt.block_on(|| {
    ///     assert!(!beamlet::is_alive(beamlet::Pid::NO_PROCESS));
    /// }).unwrap();
    /// rt.shutdown();
    /// ```
    pub const NO_PROCESS: Pid = Pid::new(u32::MAX, u32::MAX, u32::MAX);

    pub(crate) const fn new(runtime: u32, index: u32, serial: u32) -> Pid {
        Pid {
            runtime,
            index,
            serial,
        }
    }

    /// The pid of slot `index` with serial `serial` in runtime `runtime`, as
    /// [`runtime_id`](Pid::runtime_id), [`index`](Pid::index) and
    /// [`serial`](Pid::serial) give them back (what a term codec needs to read back a
    /// pid it wrote). The pid may name no live process; [`is_alive`](crate::is_alive)
    /// tells.
    ///
    /// ```
    /// # let rt = beamlet::Runtime::builder().schedulers(1).build().unwrap();
    /// let pid = rt.block_on(beamlet::self_pid).unwrap();
    /// let again = beamlet::Pid::from_parts(pid.runtime_id(), pid.index(), pid.serial());
    /// assert_eq!(again, pid);
    /// # rt.shutdown();
    /// ```
    pub const fn from_parts(runtime: u32, index: u32, serial: u32) -> Pid {
        Pid::new(runtime, index, serial)
    }

    /// The process-table slot (the second part of `<R.I.S>`); for a pid of another
    /// node, the Erlang pid's `ID`.
    pub fn index(&self) -> u32 {
        self.index
    }

    /// The slot's serial at spawn (the third part of `<R.I.S>`); for a pid of another
    /// node, the Erlang pid's `Serial`.
    pub fn serial(&self) -> u32 {
        self.serial
    }

    /// Whether the pid names a process of a runtime in this OS process, rather than
    /// one on another node of a distributed cluster (see `beamlet::remote`).
    ///
    /// ```
    /// # let rt = beamlet::Runtime::builder().schedulers(1).build().unwrap();
    /// assert!(rt.block_on(beamlet::self_pid).unwrap().is_local());
    /// let far = beamlet::remote::pid("erl@127.0.0.1", 7, 85, 0).unwrap();
    /// assert!(!far.is_local());
    /// # rt.shutdown();
    /// ```
    pub fn is_local(&self) -> bool {
        self.runtime & REMOTE == 0 || *self == Pid::NO_PROCESS
    }

    /// The number of the other node's `(name, creation)` in the node table, for a
    /// pid of another node.
    pub(crate) fn node_number(&self) -> Option<u32> {
        (!self.is_local()).then_some(self.runtime & !REMOTE)
    }

    /// A pid of another node: `id` and `serial` on the node numbered `node`.
    pub(crate) const fn remote(node: u32, id: u32, serial: u32) -> Pid {
        Pid::new(node | REMOTE, id, serial)
    }

    /// The number of the runtime this process belongs to (the first part of `<R.I.S>`).
    ///
    /// ```
    /// # let rt = beamlet::Runtime::builder().schedulers(1).build().unwrap();
    /// let pid = rt.block_on(beamlet::self_pid).unwrap();
    /// assert_eq!(pid.runtime_id(), rt.id());
    /// # rt.shutdown();
    /// ```
    pub fn runtime_id(&self) -> u32 {
        self.runtime
    }
}

/// A local pid prints as `<R.I.S>`; a pid of another node as `<node@host.I.S>`.
impl fmt::Display for Pid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.node_number().map(nodes::get) {
            Some(Some((node, _))) => write!(f, "<{node}.{}.{}>", self.index, self.serial),
            _ => write!(f, "<{}.{}.{}>", self.runtime, self.index, self.serial),
        }
    }
}

/// Why a text is not a pid (see [`Pid`]'s `FromStr`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParsePidError;

impl fmt::Display for ParsePidError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("not a pid: expected <R.I.S> or R.I.S, three unsigned 32-bit numbers")
    }
}

impl std::error::Error for ParsePidError {}

/// Reads a pid as `Display` writes it, `<R.I.S>`, or without the brackets (as
/// `erlang:list_to_pid/1`, for debugging tools: a URL, a shell). The pid may name
/// no live process; [`is_alive`](crate::is_alive) tells.
///
/// ```
/// use beamlet::Pid;
/// let rt = beamlet::Runtime::builder().build().unwrap();
/// let me = rt.block_on(beamlet::self_pid).unwrap();
/// assert_eq!(me.to_string().parse::<Pid>(), Ok(me));
/// assert_eq!(me.to_string().trim_matches(['<', '>']).parse::<Pid>(), Ok(me));
/// assert!("1.2".parse::<Pid>().is_err());
/// rt.shutdown();
/// ```
impl std::str::FromStr for Pid {
    type Err = ParsePidError;

    fn from_str(text: &str) -> Result<Pid, ParsePidError> {
        let inner = match text.strip_prefix('<') {
            Some(rest) => rest.strip_suffix('>').ok_or(ParsePidError)?,
            None => text,
        };
        let mut parts = inner.split('.').map(|p| {
            // `u32::from_str` takes a leading `+`; a pid never has one.
            if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
                return Err(ParsePidError);
            }
            p.parse::<u32>().map_err(|_| ParsePidError)
        });
        let mut next = || parts.next().ok_or(ParsePidError)?;
        let pid = Pid::new(next()?, next()?, next()?);
        match parts.next() {
            None => Ok(pid),
            Some(_) => Err(ParsePidError),
        }
    }
}

impl fmt::Debug for Pid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// A reference unique within the OS process, as `erlang:make_ref/0`.
///
/// Used to tag requests so that the matching reply can be picked out of a mailbox.
///
/// # Examples
///
/// ```
/// let a = beamlet::Ref::new();
/// let b = beamlet::Ref::new();
/// assert_ne!(a, b);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Ref(u64);

/// Next reference number not handed to any thread. Relaxed: uniqueness needs
/// only the atomicity of the RMW.
static NEXT_REF: AtomicU64 = AtomicU64::new(1);

/// Reference numbers a thread takes from [`NEXT_REF`] at a time, so making a
/// reference touches the shared counter's cache line once in this many (a
/// gen_server call makes three: the monitor, the alias, the request tag), not
/// every time on every core.
const REF_BLOCK: u64 = 1024;

thread_local! {
    /// The calling thread's block of reference numbers: `next..end`.
    static REF_BLOCK_LEFT: Cell<(u64, u64)> = const { Cell::new((0, 0)) };
}

/// The next reference number of the calling thread's block (a new block when it
/// is used up). Out of line, as every runtime thread-local accessor: it returns
/// a number and keeps no borrow, so a process may move threads between calls;
/// numbers stay unique because blocks never overlap.
#[inline(never)]
fn next_ref_id() -> u64 {
    let from_block = REF_BLOCK_LEFT.try_with(|left| {
        let (next, end) = left.get();
        if next < end {
            left.set((next + 1, end));
            return next;
        }
        let start = NEXT_REF.fetch_add(REF_BLOCK, Ordering::Relaxed);
        left.set((start + 1, start + REF_BLOCK));
        start
    });
    // A thread being torn down has no block left: one number straight from the counter.
    from_block.unwrap_or_else(|_| NEXT_REF.fetch_add(1, Ordering::Relaxed))
}

impl Ref {
    /// Makes a new unique reference.
    #[allow(
        clippy::new_without_default,
        reason = "each call makes a distinct value"
    )]
    pub fn new() -> Ref {
        Ref(next_ref_id())
    }

    /// The reference's number (unique within the OS process).
    ///
    /// ```
    /// assert!(beamlet::Ref::new().id() > 0);
    /// ```
    pub fn id(&self) -> u64 {
        self.0
    }

    /// The reference numbered `id`, as [`id`](Ref::id) gives it: what a term codec
    /// needs to read back a reference it wrote. A made-up number names no reference
    /// [`Ref::new`] gave out, or one that was, so compare only numbers you were given.
    ///
    /// ```
    /// let r = beamlet::Ref::new();
    /// assert_eq!(beamlet::Ref::from_id(r.id()), r);
    /// ```
    pub const fn from_id(id: u64) -> Ref {
        Ref(id)
    }
}

impl fmt::Debug for Ref {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#Ref<{}>", self.0)
    }
}

impl fmt::Display for Ref {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// Names one monitor.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MonitorRef(pub(crate) Ref);

impl MonitorRef {
    /// The monitor's reference (what a term codec writes for it).
    ///
    /// ```
    /// use beamlet::MonitorRef;
    /// let rt = beamlet::Runtime::builder().build().unwrap();
    /// rt.block_on(|| {
    ///     let m = beamlet::monitor(beamlet::self_pid());
    ///     assert_eq!(MonitorRef::from_tag(m.tag()), m);
    /// }).unwrap();
    /// rt.shutdown();
    /// ```
    pub fn tag(&self) -> Ref {
        self.0
    }

    /// The monitor whose reference is `tag` (what a term codec reads back).
    pub const fn from_tag(tag: Ref) -> MonitorRef {
        MonitorRef(tag)
    }
}

impl fmt::Debug for MonitorRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#Monitor<{}>", self.0.id())
    }
}

#[cfg(test)]
mod parse_tests {
    use super::*;

    #[test]
    fn written_pids_parse_with_or_without_brackets() {
        assert_eq!("1.5.0".parse(), Ok(Pid::new(1, 5, 0)));
        assert_eq!("<1.5.0>".parse(), Ok(Pid::new(1, 5, 0)));
        assert_eq!("<4294967295.0.7>".parse(), Ok(Pid::new(u32::MAX, 0, 7)));
        for bad in [
            "",
            "1.5",
            "1.5.0.1",
            "<1.5.0",
            "1.5.0>",
            "1..0",
            "1.+5.0",
            "a.b.c",
            "1.5.4294967296",
            " 1.5.0",
        ] {
            assert_eq!(bad.parse::<Pid>(), Err(ParsePidError), "{bad:?}");
        }
    }
}

#[cfg(test)]
mod ref_tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn references_made_on_many_threads_are_all_distinct() {
        // More than a block per thread, so every thread takes several blocks.
        let per_thread = 3 * REF_BLOCK as usize + 7;
        let threads: Vec<_> = (0..4)
            .map(|_| {
                std::thread::spawn(move || {
                    (0..per_thread).map(|_| Ref::new().id()).collect::<Vec<_>>()
                })
            })
            .collect();
        let mut seen = HashSet::new();
        for t in threads {
            for id in t.join().unwrap() {
                assert!(id > 0);
                assert!(seen.insert(id), "reference {id} made twice");
            }
        }
        assert_eq!(seen.len(), 4 * per_thread);
    }
}
