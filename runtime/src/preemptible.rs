//! `iter.preemptible()`: an iterator adapter that pays one reduction per item, so a
//! long loop over a collection stays preemptible without explicit `reduce` calls.

/// Adds [`preemptible`](Preemptible::preemptible) to every iterator.
///
/// # Examples
///
/// ```
/// use beamlet::Preemptible;
/// let rt = beamlet::Runtime::builder().build().unwrap();
/// let total = rt.block_on(|| (0..1_000_000u64).preemptible().sum::<u64>()).unwrap();
/// assert_eq!(total, 499_999_500_000);
/// rt.shutdown();
/// ```
pub trait Preemptible: Iterator + Sized {
    /// Wraps the iterator so that each item costs one reduction.
    fn preemptible(self) -> PreemptibleIter<Self> {
        PreemptibleIter(self)
    }
}

impl<I: Iterator> Preemptible for I {}

/// The iterator returned by [`Preemptible::preemptible`].
#[derive(Debug, Clone)]
#[must_use = "iterators are lazy"]
pub struct PreemptibleIter<I>(I);

impl<I: Iterator> Iterator for PreemptibleIter<I> {
    type Item = I::Item;

    #[inline]
    fn next(&mut self) -> Option<I::Item> {
        crate::control::reduce(1);
        self.0.next()
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.0.size_hint()
    }
}
