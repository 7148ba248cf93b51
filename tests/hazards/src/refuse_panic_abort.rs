//! Built with `panic = "abort"` (the dev profile of this crate): the runtime must
//! refuse to start, since one process's panic would end every process.

use beamlet_runtime::{BuildError, Runtime};

fn main() {
    if !cfg!(panic = "abort") {
        eprintln!("this check must be built with panic = abort (the dev profile)");
        std::process::exit(2);
    }
    match Runtime::builder().schedulers(1).build() {
        Err(BuildError::PanicAbort) => println!("panic = abort: refused at build"),
        Err(e) => {
            eprintln!("wrong error: {e:?}");
            std::process::exit(1);
        }
        Ok(rt) => {
            let _ = rt.shutdown();
            eprintln!("a panic = abort build started a runtime");
            std::process::exit(1);
        }
    }
}
