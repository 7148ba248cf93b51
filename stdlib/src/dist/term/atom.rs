//! Atoms: interned-by-sharing names, and how Erlang writes them.
//!
//! An [`Atom`] is an `Arc<str>`: cloning one (into a reply, a map key, a pid's
//! node) is a reference-count bump, never a copy of the text. Atoms are not
//! interned in a global table: a global table that grows with every atom a peer
//! sends is the atom-table exhaustion the BEAM itself suffers from.
//!
//! The decoder takes its atoms through [`recent`], a small fixed-size cache per
//! thread: the same few dozen atoms (`'$gen_call'`, `alias`, `ok`, a map's keys,
//! node names) arrive in every message, and a hit shares the cached name instead
//! of allocating it again. The cache is bounded (a slot per hash, the newest
//! atom wins), so a peer sending fresh atoms only evicts, never grows it.

use std::borrow::Borrow;
use std::cell::RefCell;
use std::fmt;
use std::sync::Arc;

/// An Erlang atom (`ok`, `'EXIT'`, `'Elixir.Foo'`).
///
/// Its [`Display`](fmt::Display) writes Erlang syntax, quoting when needed;
/// [`as_str`](Atom::as_str) is the bare name.
///
/// # Examples
///
/// ```
/// use beamlet::otp::dist::term::Atom;
/// let ok = Atom::new("ok");
/// assert_eq!(ok.as_str(), "ok");
/// assert_eq!(ok.to_string(), "ok");
/// assert_eq!(Atom::new("EXIT").to_string(), "'EXIT'");
/// assert_eq!(ok, *"ok");
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Atom(Arc<str>);

impl Atom {
    /// The atom named `name`.
    ///
    /// ```
    /// use beamlet::otp::dist::term::Atom;
    /// assert_eq!(Atom::new("error").as_str(), "error");
    /// ```
    pub fn new(name: &str) -> Atom {
        Atom(Arc::from(name))
    }

    /// The atom's name, without quotes.
    ///
    /// ```
    /// use beamlet::otp::dist::term::Atom;
    /// assert_eq!(Atom::new("Elixir.Foo").as_str(), "Elixir.Foo");
    /// ```
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The name as a shared string (no copy).
    ///
    /// ```
    /// use beamlet::otp::dist::term::Atom;
    /// assert_eq!(&*Atom::new("ok").to_arc(), "ok");
    /// ```
    pub fn to_arc(&self) -> Arc<str> {
        Arc::clone(&self.0)
    }
}

/// Slots of the per-thread cache of recent atoms.
const RECENT_SLOTS: usize = 256;

thread_local! {
    static RECENT: RefCell<[Option<Atom>; RECENT_SLOTS]> =
        const { RefCell::new([const { None }; RECENT_SLOTS]) };
}

/// FNV-1a: cheap for the short names atoms have, and good enough to spread
/// them over the slots.
fn slot_of(name: &str) -> usize {
    let hash = name.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    (hash % RECENT_SLOTS as u64) as usize
}

/// The atom `name`, shared with the last atom of that name this thread made
/// here if it is still cached (see the module header). Out of line, and the
/// cache borrowed only inside: nothing here can switch processes.
#[inline(never)]
pub(super) fn recent(name: &str) -> Atom {
    let slot = slot_of(name);
    let cached = RECENT.try_with(|recent| {
        let mut recent = recent.borrow_mut();
        match &recent[slot] {
            Some(atom) if atom.as_str() == name => atom.clone(),
            _ => {
                let atom = Atom::new(name);
                recent[slot] = Some(atom.clone());
                atom
            }
        }
    });
    // A thread being torn down has no cache left.
    cached.unwrap_or_else(|_| Atom::new(name))
}

impl From<&str> for Atom {
    fn from(name: &str) -> Atom {
        Atom::new(name)
    }
}

impl From<String> for Atom {
    fn from(name: String) -> Atom {
        Atom(Arc::from(name))
    }
}

impl From<Arc<str>> for Atom {
    fn from(name: Arc<str>) -> Atom {
        Atom(name)
    }
}

impl Borrow<str> for Atom {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl PartialEq<str> for Atom {
    fn eq(&self, other: &str) -> bool {
        &*self.0 == other
    }
}

impl PartialEq<&str> for Atom {
    fn eq(&self, other: &&str) -> bool {
        &*self.0 == *other
    }
}

impl fmt::Display for Atom {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_atom(f, &self.0)
    }
}

impl fmt::Debug for Atom {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_atom(f, &self.0)
    }
}

/// Erlang's reserved words: an atom so named must be quoted (`'receive'`).
const RESERVED: &[&str] = &[
    "after", "and", "andalso", "band", "begin", "bnot", "bor", "bsl", "bsr", "bxor", "case",
    "catch", "cond", "div", "else", "end", "fun", "if", "let", "maybe", "not", "of", "or",
    "orelse", "receive", "rem", "try", "when", "xor",
];

/// Whether `name` can be written bare: a lower-case letter, then letters,
/// digits, `_` and `@`, and not a reserved word (as `io_lib:write_atom/1`).
fn needs_no_quotes(name: &str) -> bool {
    let mut chars = name.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_lowercase());
    first_ok
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '@')
        && !RESERVED.contains(&name)
}

/// Writes an atom's name as Erlang source: bare or single-quoted with escapes.
pub(crate) fn write_atom(f: &mut fmt::Formatter<'_>, name: &str) -> fmt::Result {
    if needs_no_quotes(name) {
        return f.write_str(name);
    }
    f.write_str("'")?;
    write_escaped(f, name, '\'')?;
    f.write_str("'")
}

/// Writes `text` with Erlang's escapes for the quote character `quote`, `\` and
/// control characters.
pub(crate) fn write_escaped(f: &mut fmt::Formatter<'_>, text: &str, quote: char) -> fmt::Result {
    use fmt::Write;
    for c in text.chars() {
        match c {
            '\\' => f.write_str("\\\\")?,
            '\n' => f.write_str("\\n")?,
            '\t' => f.write_str("\\t")?,
            '\r' => f.write_str("\\r")?,
            c if c == quote => {
                f.write_char('\\')?;
                f.write_char(c)?;
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => write!(f, "\\x{{{:X}}}", c as u32)?,
            c => f.write_char(c)?,
        }
    }
    Ok(())
}

#[cfg(test)]
mod recent_tests {
    use super::*;

    #[test]
    fn a_recent_atom_is_shared_and_a_colliding_one_replaces_it() {
        let a = recent("cache_test_ok");
        let b = recent("cache_test_ok");
        assert!(Arc::ptr_eq(&a.0, &b.0));
        // Names that land in the same slot: the newest wins, both stay correct.
        let other = (0..10_000)
            .map(|i| format!("cache_test_{i}"))
            .find(|n| slot_of(n) == slot_of("cache_test_ok") && n != "cache_test_ok")
            .unwrap();
        assert_eq!(recent(&other).as_str(), other);
        let c = recent("cache_test_ok");
        assert_eq!(c, a);
        assert!(!Arc::ptr_eq(&c.0, &a.0));
    }
}
