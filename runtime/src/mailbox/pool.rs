//! Per-thread free lists of small envelope blocks, so that a message in steady
//! state costs no allocator call (#15: malloc and free were ~275 instructions of a
//! ~2,900-instruction ping-pong round trip).
//!
//! 1. An envelope of at most [`MAX_POOLED`] bytes (and alignment at most
//!    [`BLOCK_ALIGN`]) lives in a block of its size class: a multiple of 16 bytes.
//!    The class is a constant of the message type, so the choice costs nothing.
//! 2. Freeing such an envelope pushes its block on the calling thread's list for its
//!    class, up to [`CACHED_BYTES`] on all lists; beyond that, or while the thread's
//!    lists are being torn down, the block goes back to the allocator.
//! 3. Allocating pops a block from the calling thread's list, else asks the
//!    allocator for one of the class's layout. Blocks move freely between threads'
//!    lists (a receiver frees what a sender allocated): every block of a class has
//!    the same layout, so whichever thread holds it may reuse or free it.
//! 4. A thread's lists are freed when the thread exits.
//!
//! The lists are thread-locals read only through the `#[inline(never)]` [`take`] and
//! [`give`], which neither switch nor keep a borrow, so a process that migrates
//! between the two calls is safe. Under loom the pool is off (loom's threads share
//! one OS thread and its thread-locals).

use std::alloc::Layout;
use std::cell::UnsafeCell;
use std::ptr::NonNull;

/// Alignment of every pooled block.
pub(crate) const BLOCK_ALIGN: usize = 16;

/// The largest pooled envelope, in bytes: a header and a value of up to 104 bytes.
pub(crate) const MAX_POOLED: usize = 128;

/// Size classes: 16, 32, ..., 128 bytes.
const CLASSES: usize = MAX_POOLED / BLOCK_ALIGN;

/// Bytes of free blocks a thread keeps, all classes together. A ping-pong or a call
/// needs a few blocks; a receiver that drains a slice's worth of queued messages
/// (a fan-in: up to ~1,000 per slice) needs them all kept for its senders on the
/// same scheduler, else most messages still go to the allocator (measured: 64
/// blocks per class gave fan-in 717 instructions per message, 1,024 gave 499).
/// 64 KiB holds 1,365 envelopes of a 40-byte message and bounds what a thread that
/// only receives hoards of its senders' memory.
pub(crate) const CACHED_BYTES: usize = 64 * 1024;

/// The size class of an envelope of `layout`, if it is pooled.
pub(crate) const fn class_of(layout: Layout) -> Option<usize> {
    if cfg!(loom) || layout.size() > MAX_POOLED || layout.align() > BLOCK_ALIGN {
        return None;
    }
    Some(layout.size().div_ceil(BLOCK_ALIGN).saturating_sub(1))
}

/// The size of every block of `class`.
const fn block_size(class: usize) -> usize {
    (class + 1) * BLOCK_ALIGN
}

/// The layout of every block of `class`.
pub(crate) const fn block_layout(class: usize) -> Layout {
    match Layout::from_size_align(block_size(class), BLOCK_ALIGN) {
        Ok(l) => l,
        Err(_) => panic!("block sizes are small multiples of their alignment"),
    }
}

/// A free block: its first word links to the next one.
struct FreeBlock {
    next: Option<NonNull<FreeBlock>>,
}

/// One thread's lists.
struct Lists {
    heads: [Option<NonNull<FreeBlock>>; CLASSES],
    /// Bytes of the blocks on all lists, at most [`CACHED_BYTES`].
    bytes: usize,
}

impl Drop for Lists {
    fn drop(&mut self) {
        for class in 0..CLASSES {
            while let Some(b) = self.heads[class] {
                // SAFETY: every block on the list of `class` is a free block of
                // `block_layout(class)`, owned by the list; it is unlinked before
                // it is freed and never used again.
                unsafe {
                    self.heads[class] = b.as_ref().next;
                    std::alloc::dealloc(b.as_ptr().cast(), block_layout(class));
                }
            }
        }
    }
}

thread_local! {
    static LISTS: UnsafeCell<Lists> = const {
        UnsafeCell::new(Lists { heads: [None; CLASSES], bytes: 0 })
    };
}

/// A block of `class` from this thread's list, or a new one; `None` only if the
/// allocator fails.
#[inline(never)]
pub(crate) fn take(class: usize) -> Option<NonNull<u8>> {
    let cached = LISTS
        .try_with(|l| {
            // SAFETY: the lists are touched only by this thread, inside `take` and
            // `give`, which do not reenter each other: the borrow is unique.
            let l = unsafe { &mut *l.get() };
            let b = l.heads[class]?;
            // SAFETY: `b` is a free block on this thread's list, so its link is
            // initialised; it leaves the list here.
            l.heads[class] = unsafe { b.as_ref().next };
            l.bytes -= block_size(class);
            Some(b.cast::<u8>())
        })
        .ok()
        .flatten();
    // SAFETY: the layout has a non-zero size.
    cached.or_else(|| NonNull::new(unsafe { std::alloc::alloc(block_layout(class)) }))
}

/// Takes back block `b` of `class`, whose contents are dead: keeps it on this
/// thread's list, or frees it.
///
/// # Safety
///
/// `b` must be a block of `class` from [`take`] that nothing uses any more.
#[inline(never)]
pub(crate) unsafe fn give(class: usize, b: NonNull<u8>) {
    let kept = LISTS
        .try_with(|l| {
            // SAFETY: as in `take`.
            let l = unsafe { &mut *l.get() };
            let size = block_size(class);
            if l.bytes + size > CACHED_BYTES {
                return false;
            }
            let block = b.cast::<FreeBlock>();
            // SAFETY: the block is ours (contract), at least 16 bytes and aligned
            // for a pointer; it becomes the list's head.
            unsafe {
                block.as_ptr().write(FreeBlock {
                    next: l.heads[class],
                })
            };
            l.heads[class] = Some(block);
            l.bytes += size;
            true
        })
        .unwrap_or(false);
    if !kept {
        // SAFETY: per the contract, `b` was allocated with this class's layout.
        unsafe { std::alloc::dealloc(b.as_ptr(), block_layout(class)) };
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn classes_round_up_to_16_bytes_and_stop_at_128() {
        assert_eq!(class_of(Layout::new::<[u8; 1]>()), Some(0));
        assert_eq!(class_of(Layout::new::<[u64; 4]>()), Some(1));
        assert_eq!(class_of(Layout::new::<[u8; 33]>()), Some(2));
        assert_eq!(class_of(Layout::new::<[u8; 128]>()), Some(7));
        assert_eq!(class_of(Layout::new::<[u8; 129]>()), None);
        #[repr(align(32))]
        struct Wide;
        assert_eq!(class_of(Layout::new::<Wide>()), None);
        assert_eq!(block_layout(1).size(), 32);
    }

    #[test]
    fn a_given_block_is_taken_again_and_the_cache_is_bounded() {
        let a = take(2).unwrap();
        // SAFETY: `a` came from `take(2)` and is not used after this.
        unsafe { give(2, a) };
        assert_eq!(take(2), Some(a), "the block just freed is reused");
        let size = block_layout(3).size();
        let blocks: Vec<_> = (0..CACHED_BYTES / size + 10)
            .map(|_| take(3).unwrap())
            .collect();
        for b in blocks {
            // SAFETY: each came from `take(3)` and is not used after this.
            unsafe { give(3, b) };
        }
        let bytes = LISTS.with(|l| {
            // SAFETY: no other borrow of this thread's lists is live.
            unsafe { (*l.get()).bytes }
        });
        assert!(
            bytes <= CACHED_BYTES && bytes + size > CACHED_BYTES,
            "{bytes}"
        );
        // SAFETY: `a` came from `take(2)`.
        unsafe { give(2, a) };
    }
}
