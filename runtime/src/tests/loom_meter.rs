//! The mailbox count (see `mailbox/limit.rs`): under every interleaving of two
//! limited senders and an owner that drains, publishes and receives, the length read
//! by a third party never goes below zero, a `DropNewest` limit of one admits exactly
//! one message while nothing is received, and the final count is exact.

use loom::sync::Arc;
use loom::thread;

use crate::mailbox::inbound::Inbound;
use crate::mailbox::limit::{self, Admission, Admit, MailboxLimit, Meter, OverflowPolicy};
use crate::mailbox::node::Node;

/// Two senders try one message each; returns the threads (true: admitted).
fn senders(inbound: &Arc<Inbound>, meter: &Arc<Meter>) -> Vec<thread::JoinHandle<bool>> {
    (0..2u32)
        .map(|s| {
            let (inbound, meter) = (inbound.clone(), meter.clone());
            thread::spawn(move || {
                let lim = Admission::Limited { bound: None };
                let mut node = Node::new(s);
                match limit::admit(&inbound, &meter, &mut node, lim) {
                    Admit::Accept => {
                        inbound.push(node).unwrap();
                        true
                    }
                    _ => false,
                }
            })
        })
        .collect()
}

fn setup() -> (Arc<Inbound>, Arc<Meter>) {
    let inbound = Inbound::new();
    let _ = inbound.set_limit(Some(MailboxLimit::new(1, OverflowPolicy::DropNewest)));
    (Arc::new(inbound), Arc::new(Meter::new()))
}

#[test]
fn loom_meter_never_negative_and_exact() {
    loom::model(|| {
        let (inbound, meter) = setup();
        let threads = senders(&inbound, &meter);
        let mut drained = 0u64;
        let mut queue: Vec<Node> = inbound.take_all().collect();
        drained += queue.len() as u64;
        meter.publish(drained, queue.len());
        assert!(!meter.reads_negative(&inbound), "length below zero");
        if queue.pop().is_some() {
            meter.publish(drained, queue.len());
        }
        assert!(!meter.reads_negative(&inbound), "length below zero");
        for t in threads {
            t.join().unwrap();
        }
        let rest: Vec<Node> = inbound.take_all().collect();
        drained += rest.len() as u64;
        queue.extend(rest);
        meter.publish(drained, queue.len());
        assert_eq!(meter.len(&inbound), queue.len(), "final count");
    });
}

#[test]
fn loom_drop_newest_admits_exactly_max() {
    loom::model(|| {
        let (inbound, meter) = setup();
        let threads = senders(&inbound, &meter);
        // The owner drains (the count must not change) but receives nothing.
        let mut queued = inbound.take_all().count() as u64;
        meter.publish(queued, queued as usize);
        let admitted = threads
            .into_iter()
            .map(|t| t.join().unwrap())
            .filter(|&a| a)
            .count();
        queued += inbound.take_all().count() as u64;
        assert_eq!(admitted, 1, "a limit of one admits one");
        assert_eq!(queued, 1);
        assert_eq!(meter.len(&inbound), 1);
    });
}
