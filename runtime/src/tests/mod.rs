//! Loom models of the lock-free parts. Run with `bash .ci/loom.sh`, or
//! `RUSTFLAGS="--cfg loom" cargo test -p beamlet-runtime --lib loom_`.

#[cfg(not(debug_assertions))]
compile_error!("loom models need debug assertions (use --profile loom or a debug build)");

mod loom_mailbox;
mod loom_meter;
mod loom_park;
mod loom_state;
mod loom_timer;
