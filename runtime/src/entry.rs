//! The entry point of a program that is a beamlet application: [`run`] builds the
//! default runtime, runs the root process, shuts the runtime down and turns the
//! root's result into the program's exit code — the `#[tokio::main]` of beamlet.

use std::process::{ExitCode, Termination};

use crate::builder::RuntimeBuilder;
use crate::runtime::Runtime;

/// Runs `root` as the root process of a runtime with the default settings, then
/// shuts the runtime down (killing what is left) and returns the exit code of the
/// root's result: a `main` in one line.
///
/// The root's value reports itself as `main`'s would (`()` and `Ok` succeed, an
/// `Err` is printed and fails, an [`ExitCode`] is itself). A root that panics or is
/// killed fails, with its exit reason on stderr.
///
/// # Examples
///
/// ```
/// use std::process::ExitCode;
///
/// fn main() -> ExitCode {
///     beamlet::run(|| {
///         let me = beamlet::self_pid();
///         beamlet::spawn(move || beamlet::send(me, "hi").unwrap()).unwrap();
///         assert_eq!(beamlet::receive::<&str>(), "hi");
///     })
/// }
/// ```
#[track_caller]
pub fn run<F, T>(root: F) -> ExitCode
where
    F: FnOnce() -> T + Send + 'static,
    T: Termination + Send + 'static,
{
    Runtime::builder().run(root)
}

impl RuntimeBuilder {
    /// [`run`] with these settings: builds the runtime (a build error is printed and
    /// fails), runs `root` as its root process, shuts down, and returns the exit code
    /// of the root's result.
    ///
    /// ```
    /// use std::process::ExitCode;
    /// let code = beamlet::Runtime::builder()
    ///     .schedulers(1)
    ///     .run(|| -> Result<(), String> { Err("no config file".into()) });
    /// assert_eq!(format!("{code:?}"), format!("{:?}", ExitCode::FAILURE));
    /// ```
    #[track_caller]
    pub fn run<F, T>(self, root: F) -> ExitCode
    where
        F: FnOnce() -> T + Send + 'static,
        T: Termination + Send + 'static,
    {
        let rt = match self.build() {
            Ok(rt) => rt,
            Err(e) => {
                eprintln!("beamlet: the runtime could not start: {e}");
                return ExitCode::FAILURE;
            }
        };
        let result = rt.block_on(root);
        let _ = rt.shutdown();
        match result {
            Ok(value) => value.report(),
            Err(reason) => {
                eprintln!("beamlet: the root process exited: {reason}");
                ExitCode::FAILURE
            }
        }
    }
}
