//! The synchronous start protocol (`otp::gen::start`, as `proc_lib:start_link`), under
//! the races two schedulers allow.

mod common;

use beamlet::otp::behaviour;
use beamlet::{Exit, ExitReason, exit, receive_timeout, trap_exit};
use common::{PATIENCE, run};

/// Starts; more makes the race below likelier to be hit.
const STARTS: u32 = 3_000;

/// A child that acknowledges its start and dies at once can be gone, on the other
/// scheduler, before the starter has set up its monitor; the monitor's `NoProc` then
/// overtakes the ack. The start must still succeed (the child did start, as with
/// OTP's `proc_lib:start_link`) and the death come through the link.
#[test]
fn a_child_dying_right_after_its_ack_was_started() {
    run(|| {
        trap_exit(true);
        for i in 0..STARTS {
            let reason = ExitReason::custom(format!("died after ack {i}"));
            let died = reason.clone();
            let started = behaviour::start(true, None, move |starter| {
                starter.ack();
                exit(died)
            });
            let child = started.unwrap_or_else(|e| panic!("start {i}: {e:?}"));
            let e = receive_timeout::<Exit>(PATIENCE).expect("the child's exit through the link");
            assert_eq!((e.from, e.reason), (child, reason));
        }
    });
}
