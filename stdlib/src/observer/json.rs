//! A small JSON writer: the API's answers are built field by field into one
//! `String`, with no serialisation framework.
//!
//! 1. [`Object`] and [`Array`] open their bracket when made and close it when
//!    dropped, so a nested value cannot be left open; the separators are theirs.
//! 2. Every string goes through [`string`], which escapes what RFC 8259 requires
//!    (quote, backslash, control characters) and also U+2028 / U+2029, which old
//!    JavaScript parsers take as line ends.
//! 3. A float that is not finite is written `null` (JSON has no NaN).

use std::fmt::Write;

use beamlet_runtime::Pid;

/// Appends `s` to `out` as a JSON string literal.
pub(super) fn string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c == '\u{2028}' || c == '\u{2029}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Appends `v` as a JSON number (`null` if not finite).
fn float(out: &mut String, v: f64) {
    if v.is_finite() {
        let _ = write!(out, "{v}");
    } else {
        out.push_str("null");
    }
}

/// An object being written; closed with `}` when dropped.
pub(super) struct Object<'a> {
    out: &'a mut String,
    empty: bool,
}

impl<'a> Object<'a> {
    /// Opens an object at the end of `out`.
    pub(super) fn new(out: &'a mut String) -> Object<'a> {
        out.push('{');
        Object { out, empty: true }
    }

    /// Writes the separator and `"key":`, and returns the buffer for the value.
    fn key(&mut self, key: &str) -> &mut String {
        if !self.empty {
            self.out.push(',');
        }
        self.empty = false;
        string(self.out, key);
        self.out.push(':');
        self.out
    }

    pub(super) fn str(&mut self, key: &str, v: &str) -> &mut Self {
        string(self.key(key), v);
        self
    }

    /// A string, or `null`.
    pub(super) fn opt_str(&mut self, key: &str, v: Option<&str>) -> &mut Self {
        match v {
            Some(v) => self.str(key, v),
            None => self.null(key),
        }
    }

    /// A pid as `Display` prints it (`"<1.5.0>"`).
    pub(super) fn pid(&mut self, key: &str, pid: Pid) -> &mut Self {
        self.str(key, &pid.to_string())
    }

    /// A pid, or `null`.
    pub(super) fn opt_pid(&mut self, key: &str, pid: Option<Pid>) -> &mut Self {
        match pid {
            Some(p) => self.pid(key, p),
            None => self.null(key),
        }
    }

    pub(super) fn u64(&mut self, key: &str, v: u64) -> &mut Self {
        let _ = write!(self.key(key), "{v}");
        self
    }

    pub(super) fn f64(&mut self, key: &str, v: f64) -> &mut Self {
        float(self.key(key), v);
        self
    }

    pub(super) fn bool(&mut self, key: &str, v: bool) -> &mut Self {
        self.key(key).push_str(if v { "true" } else { "false" });
        self
    }

    pub(super) fn null(&mut self, key: &str) -> &mut Self {
        self.key(key).push_str("null");
        self
    }

    /// A nested object under `key`.
    pub(super) fn object(&mut self, key: &str) -> Object<'_> {
        Object::new(self.key(key))
    }

    /// A nested array under `key`.
    pub(super) fn array(&mut self, key: &str) -> Array<'_> {
        Array::new(self.key(key))
    }
}

impl Drop for Object<'_> {
    fn drop(&mut self) {
        self.out.push('}');
    }
}

/// An array being written; closed with `]` when dropped.
pub(super) struct Array<'a> {
    out: &'a mut String,
    empty: bool,
}

impl<'a> Array<'a> {
    pub(super) fn new(out: &'a mut String) -> Array<'a> {
        out.push('[');
        Array { out, empty: true }
    }

    /// Writes the separator and returns the buffer for the next value.
    fn next(&mut self) -> &mut String {
        if !self.empty {
            self.out.push(',');
        }
        self.empty = false;
        self.out
    }

    pub(super) fn str(&mut self, v: &str) -> &mut Self {
        string(self.next(), v);
        self
    }

    pub(super) fn pid(&mut self, pid: Pid) -> &mut Self {
        self.str(&pid.to_string())
    }

    /// A nested object as the next element.
    pub(super) fn object(&mut self) -> Object<'_> {
        Object::new(self.next())
    }
}

impl Drop for Array<'_> {
    fn drop(&mut self) {
        self.out.push(']');
    }
}

/// `{"error":"<message>"}`: the body of every error answer.
pub(super) fn error(message: &str) -> String {
    let mut out = String::new();
    Object::new(&mut out).str("error", message);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lit(s: &str) -> String {
        let mut out = String::new();
        string(&mut out, s);
        out
    }

    #[test]
    fn strings_escape_quotes_backslashes_and_controls() {
        assert_eq!(lit("plain"), r#""plain""#);
        assert_eq!(lit(r#"a"b\c"#), r#""a\"b\\c""#);
        assert_eq!(lit("l1\nl2\r\t"), r#""l1\nl2\r\t""#);
        assert_eq!(lit("\u{0}\u{1f}"), r#""\u0000\u001f""#);
        assert_eq!(lit("\u{2028}\u{2029}"), r#""\u2028\u2029""#);
        // Other non-ASCII text is written as UTF-8, as JSON allows.
        assert_eq!(lit("é→🦀"), "\"é→🦀\"");
        assert_eq!(lit("</script>"), "\"</script>\"");
    }

    #[test]
    fn objects_and_arrays_nest_and_close_themselves() {
        let mut out = String::new();
        {
            let mut o = Object::new(&mut out);
            o.u64("n", 3)
                .f64("f", 0.5)
                .bool("b", false)
                .opt_str("s", None);
            o.f64("nan", f64::NAN);
            {
                let mut a = o.array("xs");
                a.str("x");
                a.object().u64("k", 1);
            }
            o.object("empty");
            o.array("none");
        }
        assert_eq!(
            out,
            r#"{"n":3,"f":0.5,"b":false,"s":null,"nan":null,"xs":["x",{"k":1}],"empty":{},"none":[]}"#
        );
    }

    #[test]
    fn errors_are_objects_with_an_escaped_message() {
        assert_eq!(
            error("no \"such\" process"),
            r#"{"error":"no \"such\" process"}"#
        );
    }
}
