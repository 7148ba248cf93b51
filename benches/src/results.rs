//! Result files of the benchmark report (`cargo run --release -p beamlet-benches --bin
//! report`): parsing result lines, grouping repeated runs, and comparing two files.
//!
//! A results file holds `#` comment lines and result lines. Each result line is a
//! benchmark's own line with two keys appended by the report: `args=` (the arguments
//! it ran with, comma-separated) and `rep=` (which repetition it was):
//!
//! ```text
//! bench=ring impl=beamlet n=1000 secs=0.412 rss_kib=5120 ns_per_hop=412.0 args=1000,10000 rep=1
//! ```
//!
//! A run is identified by `bench` and `args`; the repetitions of a run are summarised
//! by the median of each numeric key.

use std::collections::BTreeMap;

/// One parsed result line.
///
/// ```
/// let r = beamlet_benches::results::Line::parse("bench=ring n=10 ns_per_hop=61.5 args=10,5").unwrap();
/// assert_eq!((r.bench.as_str(), r.args.as_str()), ("ring", "10,5"));
/// assert_eq!(r.value("ns_per_hop"), Some(61.5));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    /// The `bench` key.
    pub bench: String,
    /// The `args` key; for a line without one (a benchmark's own line, saved by
    /// hand), `n=<n>`, so that runs of different sizes stay apart.
    pub args: String,
    /// Every other key whose value is a number, in line order.
    pub values: Vec<(String, f64)>,
}

impl Line {
    /// Parses a result line; `None` for a comment, a blank line, or a line without
    /// `bench=`.
    pub fn parse(line: &str) -> Option<Line> {
        let line = line.trim();
        if line.starts_with('#') {
            return None;
        }
        let mut bench = None;
        let mut args = None;
        let mut values = Vec::new();
        for (key, value) in line.split_whitespace().filter_map(|kv| kv.split_once('=')) {
            match key {
                "bench" => bench = Some(value.to_string()),
                "args" => args = Some(value.to_string()),
                "impl" | "rep" => {}
                _ => {
                    if let Ok(v) = value.parse::<f64>() {
                        values.push((key.to_string(), v));
                    }
                }
            }
        }
        let args = args.unwrap_or_else(|| {
            let n = values.iter().find(|(k, _)| k == "n").map(|&(_, v)| v);
            n.map_or_else(String::new, |n| format!("n={n}"))
        });
        Some(Line {
            bench: bench?,
            args,
            values,
        })
    }

    /// The value of numeric key `key`.
    pub fn value(&self, key: &str) -> Option<f64> {
        self.values.iter().find(|(k, _)| k == key).map(|&(_, v)| v)
    }
}

/// The repetitions of one run (same `bench` and `args`), summarised.
#[derive(Debug, Clone, PartialEq)]
pub struct Run {
    /// The benchmark's name.
    pub bench: String,
    /// The arguments it ran with.
    pub args: String,
    /// How many result lines were summarised.
    pub reps: usize,
    /// Each numeric key's median over the repetitions, in line order.
    pub medians: Vec<(String, f64)>,
}

impl Run {
    /// The median of numeric key `key`.
    pub fn value(&self, key: &str) -> Option<f64> {
        self.medians.iter().find(|(k, _)| k == key).map(|&(_, v)| v)
    }

    /// The `index`-th argument as a number.
    pub fn arg(&self, index: usize) -> Option<f64> {
        self.args.split(',').nth(index)?.parse().ok()
    }
}

/// The middle value (the mean of the two middle ones for an even count); 0 if empty.
///
/// ```
/// assert_eq!(beamlet_benches::results::median(&mut [3.0, 1.0, 2.0]), 2.0);
/// assert_eq!(beamlet_benches::results::median(&mut [4.0, 1.0]), 2.5);
/// ```
pub fn median(xs: &mut [f64]) -> f64 {
    if xs.is_empty() {
        return 0.0;
    }
    xs.sort_by(f64::total_cmp);
    let mid = xs.len() / 2;
    if xs.len() % 2 == 1 {
        xs[mid]
    } else {
        (xs[mid - 1] + xs[mid]) / 2.0
    }
}

/// Groups the result lines of `text` into runs, in order of first appearance.
///
/// ```
/// let text = "# a comment\nbench=x n=1 t=3 args=1 rep=1\nbench=x n=1 t=1 args=1 rep=2\nbench=x n=1 t=2 args=1 rep=3\n";
/// let runs = beamlet_benches::results::runs(text);
/// assert_eq!(runs.len(), 1);
/// assert_eq!((runs[0].reps, runs[0].value("t")), (3, Some(2.0)));
/// ```
pub fn runs(text: &str) -> Vec<Run> {
    let mut order: Vec<(String, String)> = Vec::new();
    let mut lines: BTreeMap<(String, String), Vec<Line>> = BTreeMap::new();
    for line in text.lines().filter_map(Line::parse) {
        let id = (line.bench.clone(), line.args.clone());
        if !lines.contains_key(&id) {
            order.push(id.clone());
        }
        lines.entry(id).or_default().push(line);
    }
    order.into_iter().map(|id| summarise(&lines[&id])).collect()
}

/// One run's repetitions summarised by the median of each key of the first line.
fn summarise(reps: &[Line]) -> Run {
    let first = &reps[0];
    let medians = first
        .values
        .iter()
        .map(|(key, _)| {
            let mut xs: Vec<f64> = reps.iter().filter_map(|l| l.value(key)).collect();
            (key.clone(), median(&mut xs))
        })
        .collect();
    Run {
        bench: first.bench.clone(),
        args: first.args.clone(),
        reps: reps.len(),
        medians,
    }
}

/// A table comparing the runs of `new` with those of `old` with the same `bench` and
/// `args`: one row per numeric key, with both medians and the ratio new / old.
/// Runs found in only one of the two are listed at the end.
///
/// ```
/// let old = "bench=ring n=10 ns_per_hop=400 args=10,5\n";
/// let new = "bench=ring n=10 ns_per_hop=200 args=10,5\n";
/// let table = beamlet_benches::results::compare(old, new);
/// assert!(table.contains("ns_per_hop"));
/// assert!(table.contains("0.50"));
/// ```
pub fn compare(old: &str, new: &str) -> String {
    let old_runs = runs(old);
    let new_runs = runs(new);
    let mut out = format!(
        "{:<20} {:<22} {:<20} {:>14} {:>14} {:>8}\n",
        "bench", "args", "key", "old", "new", "new/old"
    );
    for run in &new_runs {
        let Some(before) = old_runs
            .iter()
            .find(|o| o.bench == run.bench && o.args == run.args)
        else {
            continue;
        };
        // `n` is part of what identifies the run, not a measurement.
        for (key, value) in run.medians.iter().filter(|(k, _)| k != "n") {
            let Some(was) = before.value(key) else {
                continue;
            };
            let ratio = if was == 0.0 {
                "-".to_string()
            } else {
                format!("{:.2}", value / was)
            };
            out.push_str(&format!(
                "{:<20} {:<22} {:<20} {:>14} {:>14} {:>8}\n",
                run.bench,
                run.args,
                key,
                short(was),
                short(*value),
                ratio
            ));
        }
    }
    for (runs, other, side) in [(&old_runs, &new_runs, "old"), (&new_runs, &old_runs, "new")] {
        for run in runs.iter() {
            if !other
                .iter()
                .any(|o| o.bench == run.bench && o.args == run.args)
            {
                out.push_str(&format!(
                    "only in {side}: bench={} args={}\n",
                    run.bench, run.args
                ));
            }
        }
    }
    out
}

/// A number printed without needless decimals.
fn short(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{x:.0}")
    } else {
        format!("{x:.3}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_skips_comments_and_keeps_numbers_only() {
        assert_eq!(Line::parse("# bench=x"), None);
        assert_eq!(Line::parse(""), None);
        let l = Line::parse("bench=a impl=beamlet n=3 flag=yes secs=0.5 rep=2").unwrap();
        assert_eq!(l.args, "n=3");
        assert_eq!(
            l.values,
            vec![("n".to_string(), 3.0), ("secs".to_string(), 0.5)]
        );
    }

    #[test]
    fn runs_keep_first_appearance_order_and_separate_args() {
        let text = "bench=b n=1 t=1 args=1\nbench=a n=1 t=5 args=1\nbench=b n=1 t=9 args=2\n";
        let ids: Vec<_> = runs(text)
            .into_iter()
            .map(|r| (r.bench, r.args, r.medians[1].1))
            .collect();
        assert_eq!(
            ids,
            vec![
                ("b".to_string(), "1".to_string(), 1.0),
                ("a".to_string(), "1".to_string(), 5.0),
                ("b".to_string(), "2".to_string(), 9.0),
            ]
        );
    }

    #[test]
    fn compare_lists_unmatched_runs() {
        let table = compare("bench=a n=1 t=1 args=1\n", "bench=b n=1 t=1 args=1\n");
        assert!(table.contains("only in old: bench=a args=1"));
        assert!(table.contains("only in new: bench=b args=1"));
    }
}
