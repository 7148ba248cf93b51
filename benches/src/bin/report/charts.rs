//! The report's SVG charts (plotters, SVG backend), drawn from the runs' medians.
//!
//! Cost-per-process charts put N on a log x axis and the cost on a linear y axis from
//! zero, so a flat line means the cost per process does not grow with N.

use std::path::{Path, PathBuf};

use beamlet_benches::results::Run;
use plotters::prelude::*;

/// One line of a chart: a label and its (x, y) points.
type Series = (String, Vec<(f64, f64)>);

const COLOURS: [RGBColor; 5] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
];

/// Draws every chart that `runs` has data for into `dir`, each with `note` (where and
/// when it was measured) at the bottom; returns the files written.
pub(crate) fn draw_all(runs: &[Run], dir: &Path, note: &str) -> Vec<PathBuf> {
    let charts = [
        (
            "per_process_time.svg",
            "Time per process against N",
            "µs per process",
            time_series(runs),
        ),
        (
            "per_process_memory.svg",
            "Memory per process against N",
            "bytes per process",
            memory_series(runs),
        ),
        (
            "ring.svg",
            "Ring: message hop cost against ring size N",
            "ns per hop",
            vec![by_n(runs, "ring", "ns_per_hop", "ring, ns/hop", |_| true)],
        ),
        (
            "timers.svg",
            "Timers: N processes sleeping 1 ms ×10, wake-up lateness",
            "lateness (µs)",
            vec![
                by_n(runs, "timers", "late_mean_us", "mean", |_| true),
                by_n(runs, "timers", "late_p99_us", "p99", |_| true),
            ],
        ),
    ];
    let mut written = Vec::new();
    for (file, title, y_desc, series) in charts {
        let series: Vec<Series> = series.into_iter().filter(|s| !s.1.is_empty()).collect();
        if series.is_empty() {
            continue;
        }
        let path = dir.join(file);
        match against_n(&path, title, y_desc, &series, note) {
            Ok(()) => written.push(path),
            Err(e) => eprintln!("report: drawing {file}: {e}"),
        }
    }
    let path = dir.join("fairness.svg");
    match fairness(&path, runs, note) {
        Ok(true) => written.push(path),
        Ok(false) => {}
        Err(e) => eprintln!("report: drawing fairness.svg: {e}"),
    }
    written
}

/// The points (n, key) of `bench`'s runs whose arguments pass `keep`, by n.
fn by_n(runs: &[Run], bench: &str, key: &str, label: &str, keep: impl Fn(&Run) -> bool) -> Series {
    let mut points: Vec<(f64, f64)> = runs
        .iter()
        .filter(|r| r.bench == bench && keep(r))
        .filter_map(|r| Some((r.value("n")?, r.value(key)?)))
        .collect();
    points.sort_by(|a, b| a.0.total_cmp(&b.0));
    (label.to_string(), points)
}

/// Processes in a skynet tree with `n` leaves: n + n/10 + ... + 1.
fn skynet_processes(n: f64) -> f64 {
    (10.0 * n - 1.0) / 9.0
}

fn time_series(runs: &[Run]) -> Vec<Series> {
    let hib = |want: f64| move |r: &Run| r.arg(1).unwrap_or(0.0) == want;
    let mut skynet = by_n(
        runs,
        "skynet",
        "ms",
        "skynet: spawn+exit, µs/process",
        |_| true,
    );
    for p in &mut skynet.1 {
        p.1 = p.1 * 1e3 / skynet_processes(p.0);
    }
    vec![
        by_n(runs, "spawn_idle", "spawn_us_per_proc", "spawn", hib(0.0)),
        by_n(
            runs,
            "spawn_idle",
            "spawn_us_per_proc",
            "spawn, hibernating",
            hib(1.0),
        ),
        by_n(
            runs,
            "spawn_idle",
            "exit_us_per_proc",
            "wake + exit",
            hib(0.0),
        ),
        skynet,
    ]
}

fn memory_series(runs: &[Run]) -> Vec<Series> {
    let hib = |want: f64| move |r: &Run| r.arg(1).unwrap_or(0.0) == want;
    let mut skynet = by_n(
        runs,
        "skynet",
        "hwm_kib",
        "skynet: peak RSS (with the ~3 MiB base) / processes",
        |_| true,
    );
    for p in &mut skynet.1 {
        p.1 = p.1 * 1024.0 / skynet_processes(p.0);
    }
    vec![
        by_n(
            runs,
            "spawn_idle",
            "bytes_per_proc",
            "idle in receive",
            hib(0.0),
        ),
        by_n(runs, "spawn_idle", "bytes_per_proc", "hibernated", hib(1.0)),
        skynet,
    ]
}

/// `10^k` for round powers of ten, the plain number otherwise.
fn power_label(x: f64) -> String {
    let e = x.log10();
    if (e - e.round()).abs() < 1e-6 {
        format!("10^{}", e.round())
    } else {
        format!("{x:.0}")
    }
}

type DrawResult<T> = Result<T, Box<dyn std::error::Error>>;

/// Draws each series as a line through dots, in its own colour, and the legend.
fn lines_with_legend<'a, DB, X, Y>(
    chart: &mut ChartContext<'a, DB, Cartesian2d<X, Y>>,
    series: &[Series],
) -> DrawResult<()>
where
    DB: DrawingBackend + 'a,
    DB::ErrorType: 'static,
    X: Ranged<ValueType = f64>,
    Y: Ranged<ValueType = f64>,
{
    for (i, (label, points)) in series.iter().enumerate() {
        let colour = COLOURS[i % COLOURS.len()];
        chart
            .draw_series(LineSeries::new(
                points.iter().copied(),
                colour.stroke_width(2),
            ))?
            .label(label.as_str())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], colour));
        chart.draw_series(points.iter().map(|&p| Circle::new(p, 4, colour.filled())))?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()?;
    Ok(())
}

/// A line chart with N on a log x axis and a linear y axis from zero.
fn against_n(
    path: &Path,
    title: &str,
    y_desc: &str,
    series: &[Series],
    note: &str,
) -> DrawResult<()> {
    let xs = series.iter().flat_map(|s| s.1.iter().map(|p| p.0));
    let (x_min, x_max) = xs.fold((f64::MAX, f64::MIN), |(lo, hi), x| (lo.min(x), hi.max(x)));
    let y_max = series
        .iter()
        .flat_map(|s| s.1.iter().map(|p| p.1))
        .fold(0.0, f64::max);
    let root = SVGBackend::new(path, (820, 520)).into_drawing_area();
    root.fill(&WHITE)?;
    root.draw(&Text::new(
        note.to_string(),
        (16, 502),
        ("sans-serif", 12).into_font().color(&RGBColor(90, 90, 90)),
    ))?;
    let root = root.margin(0, 24, 0, 0);
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 22))
        .margin(16)
        .x_label_area_size(44)
        .y_label_area_size(70)
        .build_cartesian_2d(
            (x_min / 1.5..x_max * 1.5).log_scale(),
            0.0..(y_max * 1.25).max(1e-9),
        )?;
    chart
        .configure_mesh()
        .x_desc("N (processes, log scale)")
        .y_desc(y_desc)
        .x_label_formatter(&|x| power_label(*x))
        .y_label_formatter(&|y: &f64| {
            if y_max >= 20.0 {
                format!("{y:.0}")
            } else {
                format!("{y:.1}")
            }
        })
        .draw()?;
    lines_with_legend(&mut chart, series)?;
    root.present()?;
    Ok(())
}

/// The fairness bench's percentile keys, in order, with their axis labels.
const PERCENTILES: [(&str, &str); 8] = [
    ("p10_us", "p10"),
    ("p25_us", "p25"),
    ("p50_us", "p50"),
    ("p75_us", "p75"),
    ("p90_us", "p90"),
    ("p99_us", "p99"),
    ("p999_us", "p99.9"),
    ("max_us", "max"),
];

/// The ticker's lateness distribution with hogs that pay reductions and with hogs
/// that never call the runtime; false if there were no fairness runs.
fn fairness(path: &Path, runs: &[Run], note: &str) -> DrawResult<bool> {
    let series: Vec<Series> = runs
        .iter()
        .filter(|r| r.bench == "fairness")
        .map(|r| {
            let hogs = r.arg(0).unwrap_or(0.0);
            let label = if r.value("pay") == Some(1.0) {
                format!("{hogs} hogs calling reduce(1)")
            } else {
                format!("{hogs} hogs never calling the runtime")
            };
            let points = PERCENTILES
                .iter()
                .enumerate()
                .filter_map(|(i, (key, _))| Some((i as f64, r.value(key)?.max(1.0))))
                .collect();
            (label, points)
        })
        .collect();
    if series.is_empty() {
        return Ok(false);
    }
    let y_max = series
        .iter()
        .flat_map(|s| s.1.iter().map(|p| p.1))
        .fold(1.0, f64::max);
    let root = SVGBackend::new(path, (820, 520)).into_drawing_area();
    root.fill(&WHITE)?;
    root.draw(&Text::new(
        note.to_string(),
        (16, 502),
        ("sans-serif", 12).into_font().color(&RGBColor(90, 90, 90)),
    ))?;
    let root = root.margin(0, 24, 0, 0);
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "Fairness: how late a 1 ms ticker wakes beside busy hogs",
            ("sans-serif", 22),
        )
        .margin(16)
        .x_label_area_size(44)
        .y_label_area_size(70)
        .build_cartesian_2d(-0.3..7.3, (1.0..y_max * 2.0).log_scale())?;
    chart
        .configure_mesh()
        .x_desc("percentile of wake-ups")
        .y_desc("lateness (µs, log scale)")
        .y_label_formatter(&|y: &f64| format!("{y:.0}"))
        .x_labels(PERCENTILES.len())
        .x_label_formatter(&|x: &f64| {
            let i = x.round();
            if (x - i).abs() < 0.01 && (0.0..8.0).contains(&i) {
                PERCENTILES[i as usize].1.to_string()
            } else {
                String::new()
            }
        })
        .draw()?;
    lines_with_legend(&mut chart, &series)?;
    root.present()?;
    Ok(true)
}
