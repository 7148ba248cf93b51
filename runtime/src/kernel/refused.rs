//! Why a delivery did not happen (the node comes back to the sender).

use crate::error::SendError;
use crate::mailbox::node::Node;

/// Why a delivery did not happen; the node comes back.
#[derive(Debug)]
pub(crate) enum Refused {
    /// The process is dead (or its runtime is gone).
    NoProc(Node),
    /// Its mailbox limit (or the sender's bound) refused the message.
    MailboxFull(Node),
}

impl Refused {
    pub(crate) fn into_node(self) -> Node {
        match self {
            Refused::NoProc(n) | Refused::MailboxFull(n) => n,
        }
    }

    /// The typed error of a refused `send` of an `M`.
    pub(crate) fn into_send_error<M: 'static>(self) -> SendError<M> {
        let take = |n: Node| n.downcast::<M>().expect("the node holds the sent M");
        match self {
            Refused::NoProc(n) => SendError::NoProc(take(n)),
            Refused::MailboxFull(n) => SendError::MailboxFull(take(n)),
        }
    }
}
