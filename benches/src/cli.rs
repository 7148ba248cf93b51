//! Command lines of the benchmarks and the examples: integer sizes given by position
//! (`ring 10000 100`) or by name (`ring --m 100`), each with a default, on/off
//! switches (`--hibernate`), and a generated `--help`.
//!
//! Shared by the benchmark binaries (as `beamlet_benches::cli`) and the examples
//! (through a `#[path]` include in `examples/common/mod.rs`), so this file uses only
//! `std` and `lexopt` and nothing of either crate.
//!
//! The rules, in the order they are checked:
//!
//! - `-h` / `--help` prints the help on stdout and exits with status 0.
//! - `--bench`, the flag `cargo bench` passes to every benchmark binary, is ignored
//!   where [`Spec::bench`] is set (and rejected elsewhere).
//! - `--NAME VALUE` or `--NAME=VALUE` sets the parameter `NAME` (case-insensitive);
//!   `--SWITCH` turns a switch on; a bare word equal to a switch's name does too
//!   (`million 1000000 0 hibernate`, the form scripts used before the switches).
//! - Any other word is the next positional parameter, in declaration order.
//! - A value is a non-negative integer, underscores allowed (`1_000_000`), within
//!   the parameter's `[min, max]`.
//!
//! Anything else (a value that is not an integer or out of range, an unknown option,
//! one word too many, a parameter given twice) is an error: [`Spec::parse`] prints
//! it with the usage line on stderr and exits with status 2. No bad value falls back
//! to a default.

use std::ffi::OsString;
use std::fmt;

/// One integer parameter: positional, or given as `--name VALUE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Param {
    /// The name in the usage line and the help (upper case by convention: `N`).
    pub name: &'static str,
    /// The value when the parameter is not given.
    pub default: u64,
    /// The smallest value accepted.
    pub min: u64,
    /// The largest value accepted.
    pub max: u64,
    /// One line for the help.
    pub help: &'static str,
}

impl Param {
    /// A parameter accepting any `u64`.
    ///
    /// ```
    /// use beamlet_benches::cli::Param;
    /// let p = Param::new("N", 10, "processes").min(1);
    /// assert_eq!((p.default, p.min, p.max), (10, 1, u64::MAX));
    /// ```
    pub const fn new(name: &'static str, default: u64, help: &'static str) -> Param {
        Param {
            name,
            default,
            min: 0,
            max: u64::MAX,
            help,
        }
    }

    /// The same parameter with a smallest accepted value.
    pub const fn min(self, min: u64) -> Param {
        Param { min, ..self }
    }

    /// The same parameter with a largest accepted value.
    pub const fn max(self, max: u64) -> Param {
        Param { max, ..self }
    }
}

/// An on/off switch: `--name`, or the bare word `name`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Switch {
    /// The switch's name, lower case (`hibernate`).
    pub name: &'static str,
    /// One line for the help.
    pub help: &'static str,
}

/// A command line's description: what [`Spec::parse`] accepts and `--help` shows.
#[derive(Debug, Clone, Copy)]
pub struct Spec<'a> {
    /// The program's name, for the usage line and errors.
    pub name: &'a str,
    /// What the program does, one or more lines for the help.
    pub about: &'a str,
    /// The integer parameters, in positional order.
    pub params: &'a [Param],
    /// The switches.
    pub switches: &'a [Switch],
    /// Accept (and ignore) `--bench`, which `cargo bench` passes.
    pub bench: bool,
}

/// The values of a parsed command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    /// Each parameter's value (its default when not given), in [`Spec::params`] order.
    pub values: Vec<u64>,
    /// Whether each parameter was given on the command line.
    pub given: Vec<bool>,
    /// Whether each switch is on, in [`Spec::switches`] order.
    pub switches: Vec<bool>,
}

/// What a command line asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// `--help`.
    Help,
    /// A run with these values.
    Run(Parsed),
}

/// Why a command line was refused.
#[derive(Debug)]
pub enum CliError {
    /// Not an integer (or not UTF-8).
    NotInteger {
        /// The parameter.
        param: &'static str,
        /// What was given.
        value: String,
    },
    /// An integer outside the parameter's range.
    OutOfRange {
        /// The parameter.
        param: &'static str,
        /// What was given.
        value: u64,
        /// The smallest value accepted.
        min: u64,
        /// The largest value accepted.
        max: u64,
    },
    /// A word after the last positional parameter.
    TooMany(String),
    /// A parameter given both by position and by name, or twice by name.
    Twice(&'static str),
    /// An unknown option, or an option's missing value (from the lexer).
    Lexer(lexopt::Error),
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CliError::NotInteger { param, value } => {
                write!(f, "{param}: expected a non-negative integer, got {value:?}")
            }
            CliError::OutOfRange {
                param,
                value,
                min,
                max,
            } => {
                if *max == u64::MAX {
                    write!(f, "{param}: must be at least {min}, got {value}")
                } else {
                    write!(f, "{param}: must be in {min}..={max}, got {value}")
                }
            }
            CliError::TooMany(word) => write!(f, "unexpected argument {word:?}"),
            CliError::Twice(param) => write!(f, "{param} is given twice"),
            CliError::Lexer(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for CliError {}

impl From<lexopt::Error> for CliError {
    fn from(e: lexopt::Error) -> CliError {
        CliError::Lexer(e)
    }
}

impl Spec<'_> {
    /// Parses the process's own arguments; prints the help and exits with status 0
    /// on `--help`, prints the error and exits with status 2 on a bad command line.
    pub fn parse(&self) -> Parsed {
        match self.try_parse(std::env::args_os().skip(1)) {
            Ok(Outcome::Run(parsed)) => parsed,
            Ok(Outcome::Help) => {
                print!("{}", self.help());
                std::process::exit(0)
            }
            Err(e) => {
                eprintln!("{}: {e}\n{}\n(see --help)", self.name, self.usage());
                std::process::exit(2)
            }
        }
    }

    /// Parses `args` (the program name excluded).
    ///
    /// ```
    /// use beamlet_benches::cli::{Outcome, Param, Spec};
    /// let params = [Param::new("N", 10, "size"), Param::new("M", 5, "rounds")];
    /// let spec = Spec { name: "x", about: "", params: &params, switches: &[], bench: true };
    /// let Ok(Outcome::Run(p)) = spec.try_parse(["1_000", "--bench"]) else { panic!() };
    /// assert_eq!(p.values, [1000, 5]);
    /// assert!(spec.try_parse(["ten"]).is_err());
    /// ```
    pub fn try_parse<I>(&self, args: I) -> Result<Outcome, CliError>
    where
        I: IntoIterator,
        I::Item: Into<OsString>,
    {
        use lexopt::Arg::{Long, Short, Value};
        let mut parsed = Parsed {
            values: self.params.iter().map(|p| p.default).collect(),
            given: vec![false; self.params.len()],
            switches: vec![false; self.switches.len()],
        };
        let mut next_positional = 0;
        let mut lexer = lexopt::Parser::from_args(args);
        while let Some(arg) = lexer.next()? {
            match arg {
                Short('h') | Long("help") => return Ok(Outcome::Help),
                Long("bench") if self.bench => {}
                Long(name) => {
                    // Owned: taking the option's value borrows the lexer again.
                    let name = name.to_owned();
                    if let Some(s) = self.switch_index(&name) {
                        parsed.switches[s] = true;
                    } else if let Some(i) = self.param_index(&name) {
                        let raw = lexer.value()?;
                        self.set(&mut parsed, i, raw)?;
                    } else {
                        return Err(Long(&name).unexpected().into());
                    }
                }
                Value(word) => {
                    if let Some(s) = word.to_str().and_then(|w| self.switch_index(w)) {
                        parsed.switches[s] = true;
                        continue;
                    }
                    if next_positional >= self.params.len() {
                        return Err(CliError::TooMany(word.to_string_lossy().into_owned()));
                    }
                    self.set(&mut parsed, next_positional, word)?;
                    next_positional += 1;
                }
                other => return Err(other.unexpected().into()),
            }
        }
        Ok(Outcome::Run(parsed))
    }

    fn switch_index(&self, name: &str) -> Option<usize> {
        self.switches.iter().position(|s| s.name == name)
    }

    fn param_index(&self, name: &str) -> Option<usize> {
        self.params
            .iter()
            .position(|p| p.name.eq_ignore_ascii_case(name))
    }

    /// Checks and stores parameter `i`'s value.
    fn set(&self, parsed: &mut Parsed, i: usize, raw: OsString) -> Result<(), CliError> {
        let p = &self.params[i];
        if parsed.given[i] {
            return Err(CliError::Twice(p.name));
        }
        let text = raw.to_string_lossy();
        let value: u64 = text
            .replace('_', "")
            .parse()
            .map_err(|_| CliError::NotInteger {
                param: p.name,
                value: text.clone().into_owned(),
            })?;
        if value < p.min || value > p.max {
            return Err(CliError::OutOfRange {
                param: p.name,
                value,
                min: p.min,
                max: p.max,
            });
        }
        parsed.values[i] = value;
        parsed.given[i] = true;
        Ok(())
    }

    /// The usage line: `Usage: ring [N] [M] [SCHEDULERS]`.
    pub fn usage(&self) -> String {
        let mut s = format!("Usage: {}", self.name);
        for p in self.params {
            s.push_str(&format!(" [{}]", p.name));
        }
        for sw in self.switches {
            s.push_str(&format!(" [--{}]", sw.name));
        }
        s
    }

    /// The whole `--help` text.
    pub fn help(&self) -> String {
        let mut s = format!("{}\n\n{}\n", self.about.trim_end(), self.usage());
        let width = self
            .params
            .iter()
            .map(|p| p.name.len())
            .chain(self.switches.iter().map(|sw| sw.name.len() + 2))
            .chain([10])
            .max()
            .unwrap_or(10);
        if !self.params.is_empty() {
            s.push_str(
                "\nArguments, by position or as `--name VALUE` (`1_000_000` is accepted):\n",
            );
            for p in self.params {
                s.push_str(&format!("  {:<width$}  {} {}\n", p.name, p.help, range(p)));
            }
        }
        s.push_str("\nOptions:\n");
        for sw in self.switches {
            let flag = format!("--{}", sw.name);
            s.push_str(&format!("  {flag:<width$}  {}\n", sw.help));
        }
        if self.bench {
            s.push_str(&format!(
                "  {:<width$}  ignored (cargo bench passes it)\n",
                "--bench"
            ));
        }
        s.push_str(&format!("  {:<width$}  print this help\n", "-h, --help"));
        s
    }
}

/// `(default 10000)`, with the range when it is not every `u64`.
fn range(p: &Param) -> String {
    match (p.min, p.max) {
        (0, u64::MAX) => format!("(default {})", p.default),
        (min, u64::MAX) => format!("(default {}, at least {min})", p.default),
        (min, max) => format!("(default {}, {min}..={max})", p.default),
    }
}

/// Parses the process's arguments as integer parameters only (see [`Spec::parse`]),
/// returning their values in order.
///
/// `bench`: accept `--bench` (set for benchmark binaries).
pub fn ints<const P: usize>(name: &str, about: &str, params: [Param; P], bench: bool) -> [u64; P] {
    let spec = Spec {
        name,
        about,
        params: &params,
        switches: &[],
        bench,
    };
    let values = spec.parse().values;
    std::array::from_fn(|i| values[i])
}

#[cfg(test)]
mod tests {
    use super::*;

    const PARAMS: [Param; 2] = [
        Param::new("N", 10, "size").min(1),
        Param::new("PORT", 7, "port").max(65535),
    ];
    const SWITCHES: [Switch; 1] = [Switch {
        name: "hibernate",
        help: "hibernate",
    }];

    fn spec(bench: bool) -> Spec<'static> {
        Spec {
            name: "t",
            about: "a test",
            params: &PARAMS,
            switches: &SWITCHES,
            bench,
        }
    }

    fn run(args: &[&str]) -> Result<Parsed, CliError> {
        match spec(true).try_parse(args.iter().copied())? {
            Outcome::Run(p) => Ok(p),
            Outcome::Help => panic!("help"),
        }
    }

    #[test]
    fn defaults_positional_and_named() {
        assert_eq!(run(&[]).unwrap().values, [10, 7]);
        let p = run(&["3", "--bench", "80"]).unwrap();
        assert_eq!((p.values, p.given), (vec![3, 80], vec![true, true]));
        let p = run(&["--port=9", "--n", "2_000"]).unwrap();
        assert_eq!(p.values, [2000, 9]);
        assert_eq!(run(&["--port", "9"]).unwrap().given, [false, true]);
    }

    #[test]
    fn switches_by_flag_or_bare_word() {
        assert_eq!(run(&["1", "2", "hibernate"]).unwrap().switches, [true]);
        assert_eq!(run(&["--hibernate"]).unwrap().switches, [true]);
        assert_eq!(run(&["1"]).unwrap().switches, [false]);
    }

    #[test]
    fn bad_values_are_errors() {
        let err = |args: &[&str]| run(args).unwrap_err().to_string();
        assert_eq!(
            err(&["ten"]),
            "N: expected a non-negative integer, got \"ten\""
        );
        assert_eq!(err(&["0"]), "N: must be at least 1, got 0");
        assert_eq!(
            err(&["1", "70000"]),
            "PORT: must be in 0..=65535, got 70000"
        );
        assert_eq!(err(&["1", "2", "3"]), "unexpected argument \"3\"");
        assert_eq!(err(&["1", "--n", "2"]), "N is given twice");
        assert!(matches!(run(&["--nope"]), Err(CliError::Lexer(_))));
        assert!(matches!(run(&["-5"]), Err(CliError::Lexer(_))));
        assert!(matches!(run(&["--n"]), Err(CliError::Lexer(_))));
    }

    #[test]
    fn bench_flag_only_where_allowed() {
        let r = spec(false).try_parse(["--bench"]);
        assert!(matches!(r, Err(CliError::Lexer(_))));
    }

    #[test]
    fn help_lists_every_argument() {
        assert!(matches!(spec(true).try_parse(["-h"]), Ok(Outcome::Help)));
        let h = spec(true).help();
        assert!(h.starts_with("a test\n\nUsage: t [N] [PORT] [--hibernate]\n"));
        // Names are padded to the longest, here `--hibernate`.
        assert!(h.contains("  N            size (default 10, at least 1)\n"));
        assert!(h.contains("  PORT         port (default 7, 0..=65535)\n"));
        assert!(h.contains("  --hibernate"));
        assert!(h.contains("  --bench"));
    }
}
