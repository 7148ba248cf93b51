//! The OS process's memory as Linux reports it: resident set (`VmRSS`), its peak
//! (`VmHWM`) and page tables (`VmPTE`) from `/proc/self/status`, and the machine's
//! available memory (`MemAvailable`) from `/proc/meminfo`.
//!
//! The one copy of these readers: the benchmarks use it as `beamlet_benches::memory`,
//! the examples through a `#[path]` include in `examples/common/mod.rs`, so this file
//! uses only `std`. Every value is in KiB, and 0 where the file or the field is
//! missing (another OS): a figure built on it reads as zero rather than failing the
//! run.

/// The `field` line of a `/proc` file in the `Name:   1234 kB` layout, in KiB.
fn proc_kib(path: &str, field: &str) -> u64 {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    field_kib(&text, field).unwrap_or(0)
}

/// The value of `field` in `text`, a `/proc/self/status` or `/proc/meminfo` body.
fn field_kib(text: &str, field: &str) -> Option<u64> {
    text.lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
}

/// The OS process's current resident set size in KiB (`VmRSS`).
pub fn rss_kib() -> u64 {
    proc_kib("/proc/self/status", "VmRSS")
}

/// The OS process's peak resident set size in KiB (`VmHWM`).
pub fn hwm_kib() -> u64 {
    proc_kib("/proc/self/status", "VmHWM")
}

/// The OS process's page tables in KiB (`VmPTE`): not in the RSS, but memory each
/// touched stack page's share of a page table costs.
pub fn pte_kib() -> u64 {
    proc_kib("/proc/self/status", "VmPTE")
}

/// Memory the kernel estimates can be given to a new allocation without swapping,
/// in KiB (`MemAvailable`: free memory plus the page cache and slabs it can reclaim).
pub fn available_kib() -> u64 {
    proc_kib("/proc/meminfo", "MemAvailable")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_proc_layout() {
        let text = "VmPeak:\t  100 kB\nVmHWM:\t    42 kB\nVmRSS:\t    40 kB\n";
        assert_eq!(field_kib(text, "VmHWM"), Some(42));
        assert_eq!(field_kib(text, "VmRSS"), Some(40));
        assert_eq!(field_kib(text, "VmPTE"), None);
        // A prefix of another field's name is not that field.
        assert_eq!(field_kib("VmRSSx: 1 kB\n", "VmRSS"), None);
    }

    #[test]
    fn reads_own_memory() {
        let rss = rss_kib();
        assert!(rss > 0);
        assert!(hwm_kib() >= rss);
        assert!(pte_kib() > 0);
        assert!(available_kib() > 0);
    }
}
