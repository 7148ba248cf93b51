//! The inbound stack: every pushed node is taken exactly once, and each sender's
//! nodes come out in push order, under every interleaving of two senders and a
//! receiver that takes concurrently.

use loom::sync::Arc;
use loom::thread;

use crate::mailbox::inbound::Inbound;
use crate::mailbox::node::Node;

#[test]
fn loom_inbound_order_and_exactly_once() {
    loom::model(|| {
        let inbound = Arc::new(Inbound::new());
        let senders: Vec<_> = (0..2u32)
            .map(|s| {
                let inbound = inbound.clone();
                thread::spawn(move || {
                    for i in 0..2u32 {
                        inbound
                            .push(Node::new((s, i)))
                            .expect("nobody closes the inbound");
                    }
                })
            })
            .collect();
        let mut got: Vec<(u32, u32)> = inbound
            .take_all()
            .map(|n| n.downcast::<(u32, u32)>().unwrap())
            .collect();
        for t in senders {
            t.join().unwrap();
        }
        got.extend(
            inbound
                .take_all()
                .map(|n| n.downcast::<(u32, u32)>().unwrap()),
        );
        assert_eq!(got.len(), 4, "every node taken exactly once: {got:?}");
        for s in 0..2 {
            let seq: Vec<u32> = got.iter().filter(|m| m.0 == s).map(|m| m.1).collect();
            assert_eq!(seq, [0, 1], "sender {s} order");
        }
    });
}
