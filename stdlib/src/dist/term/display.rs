//! Erlang syntax for terms, as `io:format("~w")` writes them except that a
//! printable binary is written as text (`<<"hi">>`, as `~p` does).

use std::fmt;

use super::Term;
use super::atom::{write_atom, write_escaped};

/// One piece of output still to write: a term or punctuation.
enum Piece<'a> {
    Term(&'a Term),
    Text(&'static str),
}

/// Walked with an explicit stack of pieces, not recursion: the deepest decoded
/// term prints on a small process stack.
impl fmt::Display for Term {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut pending = vec![Piece::Term(self)];
        while let Some(piece) = pending.pop() {
            match piece {
                Piece::Text(text) => f.write_str(text)?,
                Piece::Term(term) => write_term(f, term, &mut pending)?,
            }
        }
        Ok(())
    }
}

/// Pushes pieces so that they pop in writing order: the closing bracket first,
/// the first element last.
fn push_items<'a>(pending: &mut Vec<Piece<'a>>, items: &'a [Term]) {
    for (i, item) in items.iter().enumerate().rev() {
        pending.push(Piece::Term(item));
        if i > 0 {
            pending.push(Piece::Text(","));
        }
    }
}

fn write_term<'a>(
    f: &mut fmt::Formatter<'_>,
    term: &'a Term,
    pending: &mut Vec<Piece<'a>>,
) -> fmt::Result {
    match term {
        Term::List(items) => {
            pending.push(Piece::Text("]"));
            push_items(pending, items);
            f.write_str("[")
        }
        Term::ImproperList(items, tail) => {
            pending.extend([Piece::Text("]"), Piece::Term(tail), Piece::Text("|")]);
            push_items(pending, items);
            f.write_str("[")
        }
        Term::Tuple(items) => {
            pending.push(Piece::Text("}"));
            push_items(pending, items);
            f.write_str("{")
        }
        Term::Map(pairs) => {
            pending.push(Piece::Text("}"));
            for (i, (k, v)) in pairs.iter().enumerate().rev() {
                pending.extend([Piece::Term(v), Piece::Text("=>"), Piece::Term(k)]);
                if i > 0 {
                    pending.push(Piece::Text(","));
                }
            }
            f.write_str("#{")
        }
        leaf => write_leaf(f, leaf),
    }
}

fn write_leaf(f: &mut fmt::Formatter<'_>, term: &Term) -> fmt::Result {
    match term {
        Term::Atom(a) => write_atom(f, a.as_str()),
        Term::Int(v) => write!(f, "{v}"),
        Term::BigInt(b) => write!(f, "{b}"),
        Term::Float(v) => write_float(f, *v),
        Term::Binary(bytes) => write_binary(f, bytes),
        Term::BitBinary { bytes, bits } => write_bits(f, bytes, *bits),
        Term::Pid(pid) => write!(f, "{pid}"),
        Term::Ref(r) => {
            write!(f, "#Ref<{}", r.node)?;
            r.ids.iter().rev().try_for_each(|id| write!(f, ".{id}"))?;
            f.write_str(">")
        }
        Term::Port(p) => write!(f, "#Port<{}.{}>", p.node, p.id),
        Term::Export {
            module,
            function,
            arity,
        } => write!(f, "fun {module}:{function}/{arity}"),
        Term::Fun(raw) => write!(f, "#Fun<{} bytes>", raw.len()),
        Term::List(_) | Term::ImproperList(..) | Term::Tuple(_) | Term::Map(_) => Ok(()),
    }
}

impl fmt::Debug for Term {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Shortest round-tripping digits, always with a `.` as Erlang requires
/// (`1.0`, `1.0e100`).
fn write_float(f: &mut fmt::Formatter<'_>, v: f64) -> fmt::Result {
    let text = format!("{v:?}");
    match text.split_once('e') {
        Some((mantissa, exp)) if !mantissa.contains('.') => write!(f, "{mantissa}.0e{exp}"),
        _ => f.write_str(&text),
    }
}

fn write_binary(f: &mut fmt::Formatter<'_>, bytes: &[u8]) -> fmt::Result {
    let printable = !bytes.is_empty() && bytes.iter().all(|b| (0x20..0x7f).contains(b));
    if printable {
        // All ASCII, so the bytes are a `str`; the check cannot fail.
        let text = std::str::from_utf8(bytes).map_err(|_| fmt::Error)?;
        f.write_str("<<\"")?;
        write_escaped(f, text, '"')?;
        return f.write_str("\">>");
    }
    f.write_str("<<")?;
    write_bytes(f, bytes)?;
    f.write_str(">>")
}

fn write_bits(f: &mut fmt::Formatter<'_>, bytes: &[u8], bits: u8) -> fmt::Result {
    let Some((last, whole)) = bytes.split_last() else {
        return f.write_str("<<>>");
    };
    f.write_str("<<")?;
    write_bytes(f, whole)?;
    if !whole.is_empty() {
        f.write_str(",")?;
    }
    let shift = 8u32.saturating_sub(u32::from(bits));
    write!(f, "{}:{bits}>>", u32::from(*last) >> shift)
}

fn write_bytes(f: &mut fmt::Formatter<'_>, bytes: &[u8]) -> fmt::Result {
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 {
            f.write_str(",")?;
        }
        write!(f, "{b}")?;
    }
    Ok(())
}
