//! Restart intensity, as a pure function of the restart history and the clock
//! reading passed in (no processes, no clock of its own), unit-tested below.
//!
//! 1. Each restart appends `now` to the history.
//! 2. Entries older than the period (`now - t > period`) are dropped.
//! 3. More than `max_restarts` entries left means the intensity is exceeded: the
//!    supervisor gives up and shuts down (OTP's `add_restart/1`).

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// Whether one more restart is allowed.
///
/// ```
/// use beamlet::otp::supervisor::Intensity;
/// assert_ne!(Intensity::Within, Intensity::Exceeded);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Intensity {
    /// Restart.
    Within,
    /// Too many restarts within the period: shut down.
    Exceeded,
}

/// Records a restart at `now` in `history` and says whether it stays within
/// `max_restarts` per `period`.
///
/// ```
/// use std::collections::VecDeque;
/// use std::time::{Duration, Instant};
/// use beamlet::otp::supervisor::{add_restart, Intensity};
/// let (mut h, t) = (VecDeque::new(), Instant::now());
/// let period = Duration::from_secs(5);
/// for _ in 0..3 { assert_eq!(add_restart(&mut h, t, 3, period), Intensity::Within); }
/// assert_eq!(add_restart(&mut h, t, 3, period), Intensity::Exceeded);
/// ```
pub fn add_restart(
    history: &mut VecDeque<Instant>,
    now: Instant,
    max_restarts: u32,
    period: Duration,
) -> Intensity {
    history.push_back(now);
    while history
        .front()
        .is_some_and(|&t| now.saturating_duration_since(t) > period)
    {
        history.pop_front();
    }
    if history.len() > max_restarts as usize {
        Intensity::Exceeded
    } else {
        Intensity::Within
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIVE: Duration = Duration::from_secs(5);

    fn ms(t0: Instant, n: u64) -> Instant {
        t0 + Duration::from_millis(n)
    }

    #[test]
    fn four_restarts_in_one_second_exceed_three_in_five() {
        let (mut h, t0) = (VecDeque::new(), Instant::now());
        let r: Vec<_> = [0, 250, 500, 750]
            .iter()
            .map(|&n| add_restart(&mut h, ms(t0, n), 3, FIVE))
            .collect();
        assert_eq!(r[..3], [Intensity::Within; 3]);
        assert_eq!(r[3], Intensity::Exceeded);
    }

    #[test]
    fn restarts_spread_beyond_the_period_never_exceed() {
        let (mut h, t0) = (VecDeque::new(), Instant::now());
        for i in 0..100 {
            let r = add_restart(&mut h, ms(t0, i * 2_000), 3, FIVE);
            assert_eq!(r, Intensity::Within, "restart {i}");
        }
        assert!(h.len() <= 3);
    }

    #[test]
    fn old_restarts_leave_the_window() {
        let (mut h, t0) = (VecDeque::new(), Instant::now());
        for n in [0, 1, 2] {
            assert_eq!(add_restart(&mut h, ms(t0, n), 3, FIVE), Intensity::Within);
        }
        // 5.001 s after the first three: they are out of the window.
        assert_eq!(
            add_restart(&mut h, ms(t0, 5_003), 3, FIVE),
            Intensity::Within
        );
        assert_eq!(h.len(), 1);
    }

    #[test]
    fn a_restart_exactly_one_period_old_still_counts() {
        let (mut h, t0) = (VecDeque::new(), Instant::now());
        add_restart(&mut h, t0, 1, FIVE);
        assert_eq!(
            add_restart(&mut h, ms(t0, 5_000), 1, FIVE),
            Intensity::Exceeded
        );
    }

    #[test]
    fn zero_max_restarts_allows_none() {
        let mut h = VecDeque::new();
        assert_eq!(
            add_restart(&mut h, Instant::now(), 0, FIVE),
            Intensity::Exceeded
        );
    }

    #[test]
    fn a_zero_period_counts_only_simultaneous_restarts() {
        let (mut h, t0) = (VecDeque::new(), Instant::now());
        assert_eq!(
            add_restart(&mut h, t0, 1, Duration::ZERO),
            Intensity::Within
        );
        assert_eq!(
            add_restart(&mut h, ms(t0, 1), 1, Duration::ZERO),
            Intensity::Within
        );
        assert_eq!(
            add_restart(&mut h, ms(t0, 1), 1, Duration::ZERO),
            Intensity::Exceeded
        );
    }
}
