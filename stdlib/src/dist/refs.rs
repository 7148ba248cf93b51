//! References across nodes: beamlet's [`Ref`] and [`Alias`](beamlet_runtime::Alias)
//! as the Erlang references a peer sees, and back.
//!
//! A local [`Ref`] is a 64-bit number; on the wire it is a reference of this node
//! with three words (`id & 0x3ffff`, the next 32 bits, the top 14), as Erlang's own
//! references are. An alias is a reference that also names its process, as OTP's
//! pid-references do: five words, the tag's three then the pid's index and serial,
//! so an `ALIAS_SEND` finds the process without a table.

use beamlet_runtime::{Pid, Ref};

use super::term::{ErlRef, LocalNode};

fn words(id: u64) -> [u32; 3] {
    [(id & 0x3ffff) as u32, (id >> 18) as u32, (id >> 50) as u32]
}

fn from_words(w: &[u32]) -> u64 {
    u64::from(w[0] & 0x3ffff) | (u64::from(w[1]) << 18) | (u64::from(w[2]) << 50)
}

fn is_ours(r: &ErlRef, local: &LocalNode) -> bool {
    r.node == local.name && r.creation == local.creation
}

/// The reference a peer sees for the local `r`.
pub(crate) fn to_erl(r: Ref, local: &LocalNode) -> ErlRef {
    ErlRef {
        node: local.name.clone(),
        creation: local.creation,
        ids: words(r.id()).to_vec(),
    }
}

/// The local reference a reference of this node stands for.
pub(crate) fn from_erl(r: &ErlRef, local: &LocalNode) -> Option<Ref> {
    (is_ours(r, local) && r.ids.len() == 3).then(|| Ref::from_id(from_words(&r.ids)))
}

/// The reference a peer sees for the alias `tag` of the local process `pid`.
pub(crate) fn alias_to_erl(pid: Pid, tag: Ref, local: &LocalNode) -> ErlRef {
    let mut ids = words(tag.id()).to_vec();
    ids.extend([pid.index(), pid.serial()]);
    ErlRef {
        node: local.name.clone(),
        creation: local.creation,
        ids,
    }
}

/// The process and tag of an alias of this node.
pub(crate) fn alias_from_erl(r: &ErlRef, local: &LocalNode) -> Option<(Pid, Ref)> {
    if !is_ours(r, local) || r.ids.len() != 5 {
        return None;
    }
    let pid = Pid::from_parts(local.runtime, r.ids[3], r.ids[4]);
    Some((pid, Ref::from_id(from_words(&r.ids))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dist::term::Atom;

    fn local() -> LocalNode {
        LocalNode {
            name: Atom::new("me@host"),
            creation: 5,
            runtime: 0,
        }
    }

    #[test]
    fn a_reference_and_an_alias_come_back_as_they_went() {
        let r = Ref::from_id(0x1234_5678_9abc_def0);
        assert_eq!(from_erl(&to_erl(r, &local()), &local()), Some(r));
        let pid = Pid::from_parts(0, 7, 9);
        let a = alias_to_erl(pid, r, &local());
        assert_eq!(alias_from_erl(&a, &local()), Some((pid, r)));
        assert_eq!(from_erl(&a, &local()), None);
        let theirs = ErlRef {
            node: Atom::new("x@h"),
            ..to_erl(r, &local())
        };
        assert_eq!(from_erl(&theirs, &local()), None);
    }
}
