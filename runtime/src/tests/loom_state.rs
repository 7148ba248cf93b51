//! The run-state machine with the mailbox: a message sent while the receiver decides
//! to wait is never lost (someone schedules the receiver), and the receiver is never
//! scheduled twice.

use loom::sync::Arc;
use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::thread;

use crate::mailbox::inbound::Inbound;
use crate::mailbox::node::Node;
use crate::process::state::{Notify, RunState, Wait};

struct Proc {
    state: RunState,
    inbound: Inbound,
    /// Times a party took ownership to schedule the process.
    schedules: AtomicUsize,
}

#[test]
fn loom_no_lost_wakeup_no_double_schedule() {
    loom::model(|| {
        let p = Arc::new(Proc {
            state: RunState::new(),
            inbound: Inbound::new(),
            schedules: AtomicUsize::new(0),
        });
        p.state.transition_to_spawned();
        p.state.transition_to_running();
        let senders: Vec<_> = (0..2u32)
            .map(|i| {
                let p = p.clone();
                thread::spawn(move || {
                    p.inbound
                        .push(Node::new(i))
                        .expect("nobody closes the inbound");
                    if p.state.notify() == Notify::Schedule {
                        p.schedules.fetch_add(1, Ordering::SeqCst);
                    }
                })
            })
            .collect();
        // The receiver: drain, and wait if nothing was there.
        let first = p.inbound.take_all().count();
        let rescheduled = if first == 0 {
            p.state.transition_to_waiting() == Wait::Reschedule
        } else {
            false
        };
        for t in senders {
            t.join().unwrap();
        }
        let schedules = p.schedules.load(Ordering::SeqCst) + usize::from(rescheduled);
        if first == 0 {
            // It waited (or tried to): exactly one party must have scheduled it.
            assert_eq!(schedules, 1, "lost or doubled wake-up");
            let rest = p.inbound.take_all().count();
            assert_eq!(rest, 2, "messages are there for the rescheduled run");
        } else {
            // It never waited; senders saw Running/Notified and scheduled nothing.
            assert_eq!(schedules, 0);
        }
    });
}
