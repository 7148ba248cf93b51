//! Loom models of the lock-free parts. Run with
//! `RUSTFLAGS="--cfg loom" cargo test -p beamlet-runtime --release --lib loom_`.

#[cfg(not(debug_assertions))]
compile_error!("loom models need debug assertions (use --profile loom or a debug build)");

mod loom_mailbox;
mod loom_state;
