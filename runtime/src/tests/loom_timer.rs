//! A `send_after` timer's cancel against its fire, on the real [`TimerCell`]: exactly
//! one of "the wheel delivers the message" and "`cancel_timer` returns the time
//! left" happens, under every interleaving of the scheduler firing it and two
//! threads cancelling it; the message is dropped exactly once either way, and once
//! one side has won, `read_timer` (`remaining`) no longer reports the timer pending.

use std::time::{Duration, Instant};

use loom::sync::Arc;
use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::thread;

use crate::mailbox::node::Node;
use crate::timer::TimerCell;

/// A message that counts its drops.
struct Counted(Arc<AtomicUsize>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn loom_timer_cancel_or_fire_exactly_one() {
    loom::model(|| {
        let drops = Arc::new(AtomicUsize::new(0));
        let deadline = Instant::now() + Duration::from_secs(60);
        // Real time (no virtual clock): the model is about the state, not the clock.
        let cell = TimerCell::new(deadline, Node::new(Counted(drops.clone())), None);
        let cancellers: Vec<_> = (0..2)
            .map(|_| {
                let cell = cell.clone();
                thread::spawn(move || {
                    let won = cell.cancel();
                    if won.is_some() {
                        assert_eq!(cell.remaining(), None, "cancelled, not pending");
                    }
                    won.is_some()
                })
            })
            .collect();
        // The scheduler's side: the wheel entry comes due.
        let delivered = cell.fire().map(|node| {
            assert_eq!(cell.remaining(), None, "fired, not pending");
            let message = node
                .downcast::<Counted>()
                .ok()
                .expect("the timer's message");
            drop(message);
        });
        let cancels = cancellers
            .into_iter()
            .map(|t| t.join().unwrap())
            .filter(|&won| won)
            .count();
        assert_eq!(
            usize::from(delivered.is_some()) + cancels,
            1,
            "exactly one of fire and cancel wins"
        );
        assert_eq!(cell.remaining(), None);
        assert_eq!(drops.load(Ordering::SeqCst), 1, "the message dropped once");
    });
}
