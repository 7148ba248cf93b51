//! The process table: slots allocated in chunks on first use and never freed before
//! the runtime, so lookup by pid is two loads and a serial check, with no lock.

use std::sync::Mutex;
use std::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};

use super::record::Process;

/// Slots per chunk: 1,024 records of ~200 bytes, allocated together on first use.
const CHUNK: usize = 1024;

/// Process slots, lookups lock-free, allocation through a free list.
#[derive(Debug)]
pub(crate) struct ProcessTable {
    chunks: Box<[AtomicPtr<Process>]>,
    capacity: usize,
    free: Mutex<FreeList>,
    /// Slots ever allocated (statistics). Relaxed: informational.
    created: AtomicUsize,
}

#[derive(Debug, Default)]
struct FreeList {
    indices: Vec<u32>,
    next_fresh: usize,
}

impl ProcessTable {
    pub(crate) fn new(capacity: usize) -> ProcessTable {
        let n = capacity.div_ceil(CHUNK);
        ProcessTable {
            chunks: (0..n)
                .map(|_| AtomicPtr::new(std::ptr::null_mut()))
                .collect(),
            capacity,
            free: Mutex::new(FreeList::default()),
            created: AtomicUsize::new(0),
        }
    }

    /// The record at `index`, if its chunk exists.
    pub(crate) fn get(&self, index: u32) -> Option<&Process> {
        let index = index as usize;
        let chunk = self.chunks.get(index / CHUNK)?;
        // Acquire pairs with the Release store in `allocate_chunk`.
        let base = chunk.load(Ordering::Acquire);
        if base.is_null() {
            return None;
        }
        // SAFETY: a non-null chunk pointer is a live array of CHUNK records that lives
        // as long as the table.
        Some(unsafe { &*base.add(index % CHUNK) })
    }

    /// Takes up to `want` free slot indices into `out`; fewer only at capacity.
    pub(crate) fn alloc_batch(&self, out: &mut Vec<u32>, want: usize) -> usize {
        let mut free = self.free.lock().unwrap_or_else(|e| e.into_inner());
        let from_list = want.min(free.indices.len());
        let at = free.indices.len() - from_list;
        out.extend(free.indices.drain(at..));
        let mut got = from_list;
        while got < want && free.next_fresh < self.capacity {
            let index = free.next_fresh;
            if index % CHUNK == 0 {
                self.allocate_chunk(index / CHUNK);
            }
            free.next_fresh += 1;
            out.push(index as u32);
            got += 1;
        }
        self.created.store(free.next_fresh, Ordering::Relaxed);
        got
    }

    /// Returns free slots.
    pub(crate) fn release_batch(&self, indices: impl IntoIterator<Item = u32>) {
        let mut free = self.free.lock().unwrap_or_else(|e| e.into_inner());
        free.indices.extend(indices);
    }

    fn allocate_chunk(&self, c: usize) {
        let base = c * CHUNK;
        let len = CHUNK.min(self.capacity - base);
        let records: Box<[Process]> = (0..len).map(|i| Process::new((base + i) as u32)).collect();
        let p = Box::into_raw(records) as *mut Process;
        // Release pairs with the Acquire load in `get`.
        self.chunks[c].store(p, Ordering::Release);
    }

    /// Every allocated record (for shutdown and introspection).
    /// Slots created so far: every live process's index is below it.
    pub(crate) fn len(&self) -> u32 {
        self.created.load(Ordering::Relaxed).min(self.capacity) as u32
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &Process> + '_ {
        let created = self.created.load(Ordering::Relaxed).min(self.capacity);
        (0..created).filter_map(move |i| self.get(i as u32))
    }
}

impl Drop for ProcessTable {
    fn drop(&mut self) {
        for (c, chunk) in self.chunks.iter().enumerate() {
            // Acquire pairs with the Release publication of a chunk in `alloc_batch`.
            let p = chunk.load(Ordering::Acquire);
            if p.is_null() {
                continue;
            }
            let len = CHUNK.min(self.capacity - c * CHUNK);
            // SAFETY: rebuilding the boxed slice leaked in `allocate_chunk`, once.
            let mut records = unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(p, len)) };
            for r in records.iter_mut() {
                if let Some(co) = r.owned_mut().coroutine.take() {
                    co.abandon();
                }
            }
            drop(records);
        }
    }
}
