//! Erlang syntax for terms, as `io:format("~w")` writes them except that a
//! printable binary is written as text (`<<"hi">>`, as `~p` does).

use std::fmt;

use super::Term;
use super::atom::{write_atom, write_escaped};

impl fmt::Display for Term {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Term::Atom(a) => write_atom(f, a.as_str()),
            Term::Int(v) => write!(f, "{v}"),
            Term::BigInt(b) => write!(f, "{b}"),
            Term::Float(v) => write_float(f, *v),
            Term::Binary(bytes) => write_binary(f, bytes),
            Term::BitBinary { bytes, bits } => write_bits(f, bytes, *bits),
            Term::List(items) => write_seq(f, "[", items, "]"),
            Term::ImproperList(items, tail) => {
                f.write_str("[")?;
                write_items(f, items)?;
                write!(f, "|{tail}]")
            }
            Term::Tuple(items) => write_seq(f, "{", items, "}"),
            Term::Map(pairs) => write_map(f, pairs),
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
        }
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

fn write_seq(f: &mut fmt::Formatter<'_>, open: &str, items: &[Term], close: &str) -> fmt::Result {
    f.write_str(open)?;
    write_items(f, items)?;
    f.write_str(close)
}

fn write_items(f: &mut fmt::Formatter<'_>, items: &[Term]) -> fmt::Result {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(",")?;
        }
        write!(f, "{item}")?;
    }
    Ok(())
}

fn write_map(f: &mut fmt::Formatter<'_>, pairs: &[(Term, Term)]) -> fmt::Result {
    f.write_str("#{")?;
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            f.write_str(",")?;
        }
        write!(f, "{k}=>{v}")?;
    }
    f.write_str("}")
}
