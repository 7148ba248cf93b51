//! Latency distributions of the benchmarks, in one definition: an HdrHistogram of
//! nanosecond samples at 3 significant digits.
//!
//! A percentile `pQ` is the nearest rank: the `ceil(Q/100 × count)`-th smallest
//! sample (the smallest when that is 0), reported as the highest value its histogram
//! bucket holds, so within 0.1% above the sample itself. `max` is the largest sample
//! to the same precision, `mean` the mean of the recorded values. An empty
//! distribution reports 0 everywhere.
//!
//! Benchmarks print these in microseconds with one decimal, under keys named after
//! the quantity and its unit: `p50_us`, `p99_us`, `max_us` (`late_p99_us`,
//! `late_max_us` in `timers`, whose every key is a lateness), the same names as the
//! peer implementations in `shared/peers` print, so their lines stay comparable.
//! [`Latency::keys_us`] writes them.

use hdrhistogram::Histogram;

use crate::{Report, fixed};

/// Significant digits the histogram keeps: values within 0.1% share a bucket.
const SIGFIG: u8 = 3;

/// A latency distribution in nanoseconds.
#[derive(Debug, Clone)]
pub struct Latency {
    hist: Histogram<u64>,
}

impl Default for Latency {
    fn default() -> Latency {
        Latency::new()
    }
}

impl Latency {
    /// An empty distribution; it grows to any value recorded.
    pub fn new() -> Latency {
        Latency {
            // SIGFIG is within the 0..=5 that `new` accepts.
            hist: Histogram::new(SIGFIG).expect("3 significant digits is a valid precision"),
        }
    }

    /// A distribution of `samples`, in nanoseconds.
    ///
    /// ```
    /// let l = beamlet_benches::latency::Latency::from_ns((1..=100).map(|i| i * 1000));
    /// assert_eq!(l.count(), 100);
    /// assert_eq!(l.quantile_ns(0.5), 50_015); // 50 µs, to 0.1%: its bucket's top
    /// assert_eq!(l.max_ns(), 100_031);
    /// ```
    pub fn from_ns(samples: impl IntoIterator<Item = u64>) -> Latency {
        let mut l = Latency::new();
        for ns in samples {
            l.record_ns(ns);
        }
        l
    }

    /// Adds one sample (the histogram grows to fit it; values past its reach, about
    /// 146 years, are counted at its top).
    pub fn record_ns(&mut self, ns: u64) {
        if self.hist.record(ns).is_err() {
            self.hist.saturating_record(ns);
        }
    }

    /// How many samples there are.
    pub fn count(&self) -> u64 {
        self.hist.len()
    }

    /// The nearest-rank `q` quantile (`0.99` for p99) in nanoseconds; 0 if empty.
    pub fn quantile_ns(&self, q: f64) -> u64 {
        if self.hist.is_empty() {
            return 0;
        }
        self.hist.value_at_quantile(q)
    }

    /// The largest sample in nanoseconds; 0 if empty.
    pub fn max_ns(&self) -> u64 {
        if self.hist.is_empty() {
            return 0;
        }
        self.hist.max()
    }

    /// The mean in nanoseconds; 0 if empty.
    pub fn mean_ns(&self) -> f64 {
        if self.hist.is_empty() {
            return 0.0;
        }
        self.hist.mean()
    }

    /// Appends to `report`, in microseconds with one decimal, the key
    /// `{prefix}p{Q}_us` for each percentile `Q` of `percentiles` (`"99"`, `"999"`
    /// for 99.9), then `{prefix}max_us`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use beamlet_benches::{Report, latency::Latency};
    /// let l = Latency::from_ns([1_000, 2_000, 3_000, 400_000]);
    /// let r = l.keys_us(Report::new("x", 4, Duration::ZERO).rss_kib(0), "", &["50", "99"]);
    /// assert_eq!(r.line(), "bench=x impl=beamlet n=4 secs=0.000 rss_kib=0 p50_us=2.0 p99_us=400.1 max_us=400.1");
    /// ```
    pub fn keys_us(&self, mut report: Report, prefix: &str, percentiles: &[&str]) -> Report {
        for p in percentiles {
            let q = percentile_quantile(p);
            report = report.key(format!("{prefix}p{p}_us"), us(self.quantile_ns(q)));
        }
        report.key(format!("{prefix}max_us"), us(self.max_ns()))
    }
}

/// The quantile a percentile key names: `"50"` is 0.5, `"999"` is 0.999 (a key's
/// digits after the first two are decimals, as in `p999`).
fn percentile_quantile(p: &str) -> f64 {
    let digits: f64 = p.parse().expect("a percentile key is digits");
    let decimals = p.len().saturating_sub(2) as i32;
    digits / 10f64.powi(decimals) / 100.0
}

/// Nanoseconds as microseconds with one decimal.
pub fn us(ns: u64) -> String {
    fixed(ns as f64 / 1e3, 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        // 1..=1000 ns: exact below 2048 at 3 significant digits.
        let l = Latency::from_ns(1..=1000);
        assert_eq!(l.quantile_ns(0.5), 500);
        assert_eq!(l.quantile_ns(0.99), 990);
        assert_eq!(l.quantile_ns(0.999), 999);
        assert_eq!(l.quantile_ns(0.0), 1);
        assert_eq!(l.max_ns(), 1000);
        assert_eq!(l.mean_ns(), 500.5);
        // Few samples: p99 of 10 is the 10th, not an interpolation.
        let l = Latency::from_ns([5, 1, 4, 2, 3, 10, 9, 8, 7, 6]);
        assert_eq!(l.quantile_ns(0.99), 10);
        assert_eq!(l.quantile_ns(0.5), 5);
    }

    #[test]
    fn large_values_within_a_thousandth() {
        let l = Latency::from_ns([3_700_000]);
        let p = l.quantile_ns(0.99);
        assert!((3_700_000..=3_700_000 + 3_700).contains(&p), "{p}");
    }

    #[test]
    fn empty_is_zero() {
        let l = Latency::new();
        assert_eq!((l.count(), l.quantile_ns(0.99), l.max_ns()), (0, 0, 0));
        assert_eq!(l.mean_ns(), 0.0);
    }

    #[test]
    fn percentile_keys() {
        assert_eq!(percentile_quantile("50"), 0.5);
        assert_eq!(percentile_quantile("10"), 0.1);
        assert!((percentile_quantile("999") - 0.999).abs() < 1e-12);
    }
}
