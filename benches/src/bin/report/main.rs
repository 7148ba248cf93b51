//! The benchmark report: runs the scheduler benchmarks over a range of sizes, saves
//! their result lines and draws charts of cost per process against N.
//!
//! ```text
//! cargo run --release -p beamlet-benches --bin report             # minutes: 69 runs
//! cargo run --release -p beamlet-benches --bin report -- --quick  # seconds: 19 smaller runs
//! cargo run --release -p beamlet-benches --bin report -- --compare OLD.txt NEW.txt
//! cargo run --release -p beamlet-benches --bin report -- --charts RESULTS.txt
//! ```
//!
//! 1. Builds the benchmark binaries once (`cargo bench --no-run`, the release
//!    profile) and finds their paths in cargo's JSON messages.
//! 2. Runs each planned (benchmark, arguments) pair several times, directly (not
//!    through cargo), each with a time limit, keeping the one `bench=` line of stdout.
//! 3. Writes `benches/results/<UTC date-time>.txt` (a header, then each line with
//!    `args=` and `rep=` appended; see `beamlet_benches::results`) and a `.csv` beside
//!    it (`bench,args,rep,key,value`).
//! 4. Draws the SVG charts into `docs/bench/` from the medians of the repetitions.
//!
//! `--compare` prints, for every run found in both files, each key's old and new
//! median and the ratio new / old. `--charts` redraws the charts from a saved file.

mod charts;
mod plan;

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use beamlet_benches::results;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// What the command line asked for.
#[derive(Debug, PartialEq)]
enum Mode {
    /// Run the plan (`quick`: the short one) and draw the charts.
    Run { quick: bool },
    /// Compare two results files.
    Compare(PathBuf, PathBuf),
    /// Redraw the charts from a results file.
    Charts(PathBuf),
}

fn main() {
    match mode() {
        Mode::Run { quick } => run_report(quick),
        Mode::Compare(old, new) => print!("{}", results::compare(&read(&old), &read(&new))),
        Mode::Charts(file) => draw(&read(&file)),
    }
}

/// The usage line, for errors and the help.
const USAGE: &str = "Usage: report [--quick] | --compare OLD.txt NEW.txt | --charts RESULTS.txt";

/// The `--help` text.
const HELP: &str = "report: runs the scheduler benchmarks over a range of sizes, saves the result
lines in benches/results/ and draws the charts into docs/bench/.

Usage: report [--quick] | --compare OLD.txt NEW.txt | --charts RESULTS.txt

Options:
  (none)                   the full plan: sizes 10^3..10^6, 3 runs each
  --quick                  sizes up to 10^5, 1 run each
  --compare OLD NEW        each key's old and new median and new/old, run by run
  --charts RESULTS         redraw the charts from a saved results file
  -h, --help               print this help
";

/// The mode the command line asks for; prints the help (status 0) or the error
/// (status 2) and exits instead when that is what it asks for.
fn mode() -> Mode {
    match parse_mode(std::env::args_os().skip(1)) {
        Ok(Some(mode)) => mode,
        Ok(None) => {
            print!("{HELP}");
            std::process::exit(0)
        }
        Err(e) => {
            eprintln!("report: {e}\n{USAGE}\n(see --help)");
            std::process::exit(2)
        }
    }
}

/// Parses `args` (the program name excluded); `None` for `--help`.
fn parse_mode<I>(args: I) -> Result<Option<Mode>, lexopt::Error>
where
    I: IntoIterator,
    I::Item: Into<std::ffi::OsString>,
{
    use lexopt::Arg::{Long, Short};
    let mut lexer = lexopt::Parser::from_args(args);
    let mut mode = None;
    while let Some(arg) = lexer.next()? {
        let next = match arg {
            Short('h') | Long("help") => return Ok(None),
            Long("quick") => Mode::Run { quick: true },
            Long("compare") => {
                let old = lexer.value()?;
                Mode::Compare(old.into(), lexer.value()?.into())
            }
            Long("charts") => Mode::Charts(lexer.value()?.into()),
            other => return Err(other.unexpected()),
        };
        if mode.replace(next).is_some() {
            return Err("--quick, --compare and --charts exclude each other".into());
        }
    }
    Ok(Some(mode.unwrap_or(Mode::Run { quick: false })))
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| {
        eprintln!("reading {}: {e}", path.display());
        std::process::exit(1)
    })
}

/// The repository root (the benches crate's parent directory).
fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the benches crate lives inside the repository")
        .to_path_buf()
}

fn run_report(quick: bool) {
    let started = Instant::now();
    let plan = plan::plan(quick);
    let binaries = build(&plan);
    let stamp = utc_stamp(SystemTime::now());
    let dir = repo_root().join("benches/results");
    std::fs::create_dir_all(&dir).expect("creating benches/results");
    let name = if quick {
        format!("{stamp}-quick")
    } else {
        stamp.clone()
    };
    let txt = dir.join(format!("{name}.txt"));
    let mut text = header(&stamp, quick);
    let total: usize = plan.iter().map(|p| p.reps).sum();
    let bar = progress_bar(total);
    let mut done = 0;
    for step in &plan {
        for rep in 1..=step.reps {
            done += 1;
            let run = format!(
                "[{done:>3}/{total}] {:<12} {:<24} rep {rep}",
                step.bench,
                step.args.join(" ")
            );
            bar.set_message(format!("{} {}", step.bench, step.args.join(" ")));
            let t = Instant::now();
            let outcome = match run_one(&binaries, step) {
                Ok(line) => {
                    text.push_str(&format!("{line} args={} rep={rep}\n", step.args.join(",")));
                    format!("{:.1} s", t.elapsed().as_secs_f64())
                }
                Err(why) => {
                    text.push_str(&format!(
                        "# failed: {} {}: {why}\n",
                        step.bench,
                        step.args.join(" ")
                    ));
                    "FAILED".to_string()
                }
            };
            // One line a run, also without a terminal: the log of what ran and failed.
            if bar.is_hidden() {
                eprintln!("{run} ... {outcome}");
            } else {
                bar.println(format!("{run} ... {outcome}"));
            }
            bar.inc(1);
            // Saved after every run, so an interrupted report keeps what it measured.
            std::fs::write(&txt, &text).expect("writing the results file");
        }
    }
    bar.finish_and_clear();
    text.push_str(&format!(
        "# finished in {:.0} s, load average {}\n",
        started.elapsed().as_secs_f64(),
        load_average()
    ));
    std::fs::write(&txt, &text).expect("writing the results file");
    std::fs::write(dir.join(format!("{name}.csv")), csv(&text)).expect("writing the csv");
    draw(&text);
    eprintln!(
        "report: {} runs in {:.0} s; results in {}",
        total,
        started.elapsed().as_secs_f64(),
        txt.display()
    );
}

/// The results file's header: when, which commit, which machine.
/// The whole plan's progress (runs done, elapsed, time left) under the per-run
/// lines, on stderr; hidden when stderr is not a terminal.
fn progress_bar(total: usize) -> ProgressBar {
    let target = if std::io::stderr().is_terminal() {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    };
    let style = ProgressStyle::with_template(
        "[{bar:40}] {pos}/{len} runs, {elapsed} elapsed, ~{eta} left: {msg}",
    )
    .expect("the template is valid")
    .progress_chars("#>-");
    ProgressBar::with_draw_target(Some(total as u64), target).with_style(style)
}

fn header(stamp: &str, quick: bool) -> String {
    let commit = Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .current_dir(repo_root())
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| "unknown".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let load = load_average();
    format!(
        "# beamlet benchmark report {stamp} UTC, commit {commit}, {cores} cores, load average {load} at start, {}\n",
        if quick { "quick" } else { "full" }
    )
}

/// The one-minute load average (`/proc/loadavg`): other work on the machine skews
/// every figure, so the results file records how busy it was.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "unknown".into())
}

/// Builds every planned benchmark and returns (name, executable path) pairs.
fn build(plan: &[plan::Step]) -> Vec<(String, PathBuf)> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.args([
        "bench",
        "--no-run",
        "-p",
        "beamlet-benches",
        "--message-format=json",
    ]);
    let mut names: Vec<&str> = plan.iter().map(|s| s.bench).collect();
    names.dedup();
    for name in &names {
        cmd.args(["--bench", name]);
    }
    eprintln!("report: building {} benchmarks ...", names.len());
    let out = cmd
        .current_dir(repo_root())
        .stderr(Stdio::inherit())
        .output()
        .expect("running cargo");
    if !out.status.success() {
        eprintln!("report: cargo bench --no-run failed");
        std::process::exit(1);
    }
    let json = String::from_utf8_lossy(&out.stdout);
    json.lines().filter_map(bench_executable).collect()
}

/// From one cargo JSON message, the (name, executable) of a built bench target.
///
/// Hand-parsed: the fields needed are plain strings, and a JSON parser would be a
/// dependency for two lookups.
fn bench_executable(msg: &str) -> Option<(String, PathBuf)> {
    if !msg.contains("\"reason\":\"compiler-artifact\"") || !msg.contains("\"kind\":[\"bench\"]") {
        return None;
    }
    let field = |key: &str| -> Option<String> {
        let start = msg.find(&format!("\"{key}\":\""))? + key.len() + 4;
        let len = msg[start..].find('"')?;
        Some(msg[start..start + len].to_string())
    };
    let target = &msg[msg.find("\"target\":")?..];
    let name_start = target.find("\"name\":\"")? + 8;
    let name_len = target[name_start..].find('"')?;
    let name = target[name_start..name_start + name_len].to_string();
    Some((name, PathBuf::from(field("executable")?)))
}

/// Runs one step once; its result line, or why there is none.
fn run_one(binaries: &[(String, PathBuf)], step: &plan::Step) -> Result<String, String> {
    let exe = binaries
        .iter()
        .find(|(name, _)| name == step.bench)
        .map(|(_, path)| path)
        .ok_or("not built")?;
    let mut child = Command::new(exe)
        .args(&step.args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    let deadline = Instant::now() + plan::TIME_LIMIT;
    loop {
        match child.try_wait().map_err(|e| e.to_string())? {
            Some(_) => break,
            None if Instant::now() > deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("over the {:?} limit", plan::TIME_LIMIT));
            }
            None => std::thread::sleep(Duration::from_millis(20)),
        }
    }
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    stdout
        .lines()
        .find(|l| l.starts_with("bench="))
        .map(str::to_string)
        .ok_or_else(|| {
            let stderr = String::from_utf8_lossy(&out.stderr);
            let last = stderr.lines().last().unwrap_or("no output");
            format!("{} ({last})", out.status)
        })
}

/// The results as CSV in long form: one row per numeric key of each result line.
fn csv(text: &str) -> String {
    let mut out = String::from("bench,args,rep,key,value\n");
    for raw in text.lines() {
        let Some(line) = results::Line::parse(raw) else {
            continue;
        };
        let rep = raw
            .split_whitespace()
            .find_map(|kv| kv.strip_prefix("rep="))
            .unwrap_or("1");
        for (key, value) in &line.values {
            out.push_str(&format!(
                "{},\"{}\",{rep},{key},{value}\n",
                line.bench, line.args
            ));
        }
    }
    out
}

fn draw(text: &str) {
    let dir = repo_root().join("docs/bench");
    std::fs::create_dir_all(&dir).expect("creating docs/bench");
    let runs = results::runs(text);
    // The results file's header line says which commit, how many cores, how busy.
    let note = text
        .lines()
        .find_map(|l| l.strip_prefix("# beamlet benchmark report "))
        .map_or_else(String::new, |h| format!("measured {h}"));
    for path in charts::draw_all(&runs, &dir, &note) {
        eprintln!("report: wrote {}", path.display());
    }
}

/// `YYYY-MM-DDTHHMMZ` for `t` (UTC), for file names that sort by time.
fn utc_stamp(t: SystemTime) -> String {
    let secs = t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days as i64);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}{:02}Z",
        rem / 3600,
        (rem % 3600) / 60
    )
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian (Howard
/// Hinnant's `civil_from_days`).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(19_723), (2024, 1, 1));
        assert_eq!(civil_from_days(19_782), (2024, 2, 29));
        let t = UNIX_EPOCH + Duration::from_secs(19_723 * 86_400 + 3_600 + 120);
        assert_eq!(utc_stamp(t), "2024-01-01T0102Z");
    }

    #[test]
    fn finds_bench_executables_in_cargo_messages() {
        let msg = r#"{"reason":"compiler-artifact","package_id":"x","target":{"kind":["bench"],"crate_types":["bin"],"name":"ring","src_path":"/r.rs"},"executable":"/t/release/deps/ring-abc","fresh":true}"#;
        assert_eq!(
            bench_executable(msg),
            Some(("ring".into(), PathBuf::from("/t/release/deps/ring-abc")))
        );
        assert_eq!(
            bench_executable(r#"{"reason":"build-finished","success":true}"#),
            None
        );
    }

    #[test]
    fn csv_has_one_row_per_key() {
        let text = "# h\nbench=ring impl=beamlet n=10 ns_per_hop=5.5 args=10,2 rep=3\n";
        assert_eq!(
            csv(text),
            "bench,args,rep,key,value\nring,\"10,2\",3,n,10\nring,\"10,2\",3,ns_per_hop,5.5\n"
        );
    }

    #[test]
    fn command_line_modes() {
        let parse = |args: &[&str]| parse_mode(args.iter().copied());
        assert_eq!(parse(&[]).unwrap(), Some(Mode::Run { quick: false }));
        assert_eq!(
            parse(&["--quick"]).unwrap(),
            Some(Mode::Run { quick: true })
        );
        assert_eq!(
            parse(&["--compare", "a", "b"]).unwrap(),
            Some(Mode::Compare("a".into(), "b".into()))
        );
        assert_eq!(
            parse(&["--charts", "r"]).unwrap(),
            Some(Mode::Charts("r".into()))
        );
        assert_eq!(parse(&["--help"]).unwrap(), None);
        assert!(parse(&["--compare", "a"]).is_err());
        assert!(parse(&["--quick", "--charts", "r"]).is_err());
        assert!(parse(&["quick"]).is_err());
    }
}
