//! The runtime's stacks: one [`Slab`] per size class.
//!
//! A process's stack size is chosen at spawn (`SpawnOpts::stack_size`, else the
//! runtime's `stack_size`). Stacks of different sizes cannot share a chunk (a chunk's
//! slots are all one size, which is what lets the fault handler find a guard page by
//! arithmetic), so each size class has its own slab. The classes are the powers of two
//! from [`MIN_STACK_SIZE`] to [`MAX_STACK_SIZE`], plus the runtime's default size if
//! it is not one of them; a request gets the smallest class that holds it. A class
//! maps nothing until its first stack is taken, so unused classes cost nothing.
//!
//! Only the default class goes through the schedulers' per-core caches (spawn's hot
//! path is unchanged by the other classes); a stack of another class is taken from
//! and given back to its slab directly, one lock each.

use std::sync::atomic::AtomicUsize;

use super::page::page_size;
use super::slab::{PooledStack, Slab};
use crate::limits::{MAX_STACK_SIZE, MIN_STACK_SIZE};

/// The stacks of every size class.
#[derive(Debug)]
pub(crate) struct StackPool {
    classes: Box<[Slab]>,
    default: u8,
    /// Stacks mapped in every class, for the `mprotect` tier's mapping budget.
    mapped: AtomicUsize,
}

/// The usable sizes of the classes, ascending: the powers of two from the minimum to
/// the maximum, and `default` (rounded up to pages) among them.
fn class_sizes(default: usize) -> Vec<usize> {
    let page = page_size();
    let mut sizes: Vec<usize> = std::iter::successors(Some(MIN_STACK_SIZE), |s| Some(s * 2))
        .take_while(|&s| s <= MAX_STACK_SIZE)
        .collect();
    sizes.push(default.div_ceil(page) * page);
    sizes.sort_unstable();
    sizes.dedup();
    sizes
}

/// The index of the smallest of `sizes` (ascending) that holds `bytes`, if any.
fn pick(sizes: &[usize], bytes: usize) -> Option<usize> {
    sizes.iter().position(|&s| s >= bytes)
}

impl StackPool {
    /// Stacks of `default_size` usable bytes by default, and of every other class on
    /// request; at most `max_stacks` simultaneously live stacks per class.
    pub(crate) fn new(default_size: usize, max_stacks: usize) -> StackPool {
        let sizes = class_sizes(default_size);
        let default = pick(&sizes, default_size).expect("the default is a class");
        let classes = sizes
            .iter()
            .enumerate()
            .map(|(i, &s)| Slab::new(i as u8, s, max_stacks))
            .collect();
        StackPool {
            classes,
            default: default as u8,
            mapped: AtomicUsize::new(0),
        }
    }

    /// The class of processes spawned without a stack size.
    pub(crate) fn default_class(&self) -> u8 {
        self.default
    }

    /// The class for a stack of at least `bytes` usable bytes; `None` beyond
    /// [`MAX_STACK_SIZE`]. Requests below [`MIN_STACK_SIZE`] get the smallest class.
    pub(crate) fn class_for(&self, bytes: usize) -> Option<u8> {
        self.classes
            .iter()
            .position(|c| c.usable() >= bytes)
            .map(|i| i as u8)
    }

    /// Usable bytes of the stacks of `class`.
    pub(crate) fn usable(&self, class: u8) -> usize {
        self.classes[usize::from(class)].usable()
    }

    /// Stacks carved so far in every class (live plus pooled).
    pub(crate) fn carved(&self) -> usize {
        self.classes.iter().map(Slab::carved).sum()
    }

    /// Free stacks in every class's pool (not those in schedulers' caches).
    pub(crate) fn pooled(&self) -> usize {
        self.classes.iter().map(Slab::pooled).sum()
    }

    /// Takes up to `want` free stacks of `class` into `out` (see
    /// [`Slab::acquire_batch`]).
    pub(crate) fn acquire_batch(&self, class: u8, out: &mut Vec<usize>, want: usize) -> usize {
        self.classes[usize::from(class)].acquire_batch(out, want, &self.mapped)
    }

    /// Wraps a slot of `class` as a corosensei stack.
    pub(crate) fn stack(&self, class: u8, slot: usize) -> PooledStack {
        self.classes[usize::from(class)].stack(slot)
    }

    /// Gives stacks of `class` back (their pages stay resident).
    pub(crate) fn release_batch(&self, class: u8, slots: impl IntoIterator<Item = usize>) {
        self.classes[usize::from(class)].release_batch(slots);
    }

    /// Releases the pages of a free stack below its top `keep_top` bytes.
    pub(crate) fn release_below(&self, class: u8, slot: usize, keep_top: usize) {
        self.classes[usize::from(class)].release_below(slot, keep_top);
    }

    /// Releases the pages of pooled stacks beyond `keep` resident default-class ones;
    /// the other classes keep as many bytes' worth at most. Returns how many stacks
    /// were released.
    pub(crate) fn trim(&self, keep: usize) -> usize {
        let budget = keep * self.usable(self.default);
        self.classes
            .iter()
            .map(|c| {
                c.trim(if c.usable() == self.usable(self.default) {
                    keep
                } else {
                    budget / c.usable()
                })
            })
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const K: usize = 1024;

    #[test]
    fn classes_are_powers_of_two_plus_the_default() {
        let sizes = class_sizes(256 * K);
        assert_eq!(sizes.first(), Some(&MIN_STACK_SIZE));
        assert_eq!(sizes.last(), Some(&MAX_STACK_SIZE));
        assert!(sizes.iter().all(|s| s.is_power_of_two()));
        let odd = class_sizes(100 * K + 1);
        assert!(
            odd.contains(&(104 * K)),
            "the default rounded up to pages: {odd:?}"
        );
        assert_eq!(odd.len(), sizes.len() + 1);
    }

    #[test]
    fn a_request_gets_the_smallest_class_that_holds_it() {
        let pool = StackPool::new(256 * K, 4);
        assert_eq!(pool.usable(pool.default_class()), 256 * K);
        let usable = |b| pool.class_for(b).map(|c| pool.usable(c));
        assert_eq!(usable(1), Some(MIN_STACK_SIZE));
        assert_eq!(usable(16 * K), Some(16 * K));
        assert_eq!(usable(16 * K + 1), Some(32 * K));
        assert_eq!(usable(256 * K), Some(256 * K));
        assert_eq!(usable(3 * 1024 * K), Some(4 * 1024 * K));
        assert_eq!(usable(MAX_STACK_SIZE), Some(MAX_STACK_SIZE));
        assert_eq!(usable(MAX_STACK_SIZE + 1), None);
        assert_eq!(pool.class_for(256 * K), Some(pool.default_class()));
    }

    #[test]
    fn an_odd_default_is_its_own_class() {
        let pool = StackPool::new(100 * K, 4);
        assert_eq!(pool.usable(pool.default_class()), 100 * K);
        assert_eq!(pool.class_for(100 * K), Some(pool.default_class()));
        assert_eq!(
            pool.class_for(101 * K).map(|c| pool.usable(c)),
            Some(128 * K)
        );
    }

    #[test]
    fn classes_hand_out_stacks_of_their_size() {
        let pool = StackPool::new(64 * K, 4);
        let big = pool.class_for(1024 * K).unwrap();
        let mut v = Vec::new();
        assert_eq!(pool.acquire_batch(big, &mut v, 2), 2);
        let stack = pool.stack(big, v[0]);
        assert_eq!(stack.usable(), 1024 * K);
        assert_eq!(stack.into_slot(), (big, v[0]));
        // Touch the bottom of the big stack, release it, and read zeroes back.
        let low = (v[0] + page_size()) as *mut u64;
        // SAFETY: the lowest word above the guard page of a carved slot nobody runs on.
        unsafe { low.write(7) };
        pool.release_below(big, v[0], 64 * K);
        // SAFETY: as above; the released page reads back as zero.
        assert_eq!(unsafe { low.read() }, 0);
        pool.release_batch(big, v.drain(..));
        assert_eq!(pool.carved(), 2);
    }
}
