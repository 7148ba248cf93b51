//! Pids written in URLs: `1.5.0` or `<1.5.0>` (runtime, slot, serial, as `Pid`'s
//! `Display`) back to the live process they name.
//!
//! A `Pid` cannot be made from its parts outside the runtime, so [`find`] looks the
//! parts up among the live processes of the caller's runtime: `processes()` lists
//! them in slot order, so a binary search on the slot finds the candidate in a few
//! dozen comparisons; should the order ever not hold, a scan still finds it.

use beamlet_runtime::Pid;

/// The three parts of a written pid, or `None` if it is not one.
pub(super) fn parse(text: &str) -> Option<(u32, u32, u32)> {
    let text = text.trim();
    let inner = match text.strip_prefix('<') {
        Some(rest) => rest.strip_suffix('>')?,
        None => text,
    };
    let mut parts = inner.split('.');
    let mut next = || -> Option<u32> {
        let p = parts.next()?;
        // `u32::from_str` takes a leading `+`; a pid never has one.
        if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        p.parse().ok()
    };
    let pid = (next()?, next()?, next()?);
    parts.next().is_none().then_some(pid)
}

/// The parts of `pid`, as its `Display` prints them.
pub(super) fn parts(pid: Pid) -> (u32, u32, u32) {
    parse(&pid.to_string()).expect("a pid prints as <R.I.S>")
}

/// The live process `text` names, in the caller's runtime.
pub(super) fn find(text: &str) -> Option<Pid> {
    let want = parse(text)?;
    let all = beamlet_runtime::processes();
    let by_slot = all.binary_search_by_key(&(want.0, want.1), |p| {
        let (r, i, _) = parts(*p);
        (r, i)
    });
    match by_slot {
        Ok(at) if parts(all[at]) == want => Some(all[at]),
        _ => all.iter().copied().find(|p| parts(*p) == want),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_pids_parse_with_or_without_brackets() {
        assert_eq!(parse("1.5.0"), Some((1, 5, 0)));
        assert_eq!(parse("<1.5.0>"), Some((1, 5, 0)));
        assert_eq!(parse(" <4294967295.0.7> "), Some((u32::MAX, 0, 7)));
        for bad in [
            "",
            "1.5",
            "1.5.0.1",
            "<1.5.0",
            "1.5.0>",
            "1..0",
            "1.+5.0",
            "a.b.c",
            "1.5.4294967296",
        ] {
            assert_eq!(parse(bad), None, "{bad:?}");
        }
    }
}
