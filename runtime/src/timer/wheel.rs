//! A hierarchical timing wheel (one per scheduler core).
//!
//! Time is counted in ticks of [`TICK_NANOS`]. Level `l` has 64 slots, each covering
//! 64^l ticks, so seven levels cover 64^7 ticks (≈ 36 days); later deadlines
//! are parked in the last level and re-inserted when their slot comes round.
//!
//! An entry is stored at the level of the highest 6-bit group in which its deadline
//! differs from `elapsed` (the wheel's current tick), in the slot given by that group
//! of the deadline. Protocol of [`Wheel::poll`]:
//!
//! 1. Find the earliest occupied slot: the lowest level with an occupied slot at or
//!    after its current position holds it (entries at level `l` are, by construction,
//!    beyond the span of level `l - 1`).
//! 2. If that slot's start is after `now`, stop.
//! 3. Advance `elapsed` to the slot's start and take its entries: those due fire,
//!    the others are re-inserted, landing on a lower level (cascading).
//!
//! Insert and cancel are O(1); a poll costs O(levels) plus the entries it moves.

use std::time::{Duration, Instant};

/// Nanoseconds per tick: 2^13 ns ≈ 8.2 µs, fine enough that rounding a deadline up to
/// a tick adds little lateness to a 1 ms timer, coarse enough that level 0 spans half
/// a millisecond.
pub(crate) const TICK_NANOS: u64 = 1 << 13;

const LEVELS: usize = 7;
const SLOT_BITS: u32 = 6;
const SLOTS: usize = 1 << SLOT_BITS;
/// The largest distance from `elapsed` the wheel represents exactly.
const MAX_SPAN: u64 = (1 << (SLOT_BITS * LEVELS as u32)) - 1;

/// A timer in the wheel.
#[derive(Debug)]
pub(crate) struct Entry<T> {
    /// Deadline tick.
    pub(crate) when: u64,
    pub(crate) item: T,
}

#[derive(Debug)]
struct Level<T> {
    occupied: u64,
    slots: Vec<Vec<Entry<T>>>,
}

/// Converts an instant to a deadline tick relative to `epoch`, rounding up so that a
/// timer never fires early.
pub(crate) fn deadline_tick(epoch: Instant, deadline: Instant) -> u64 {
    let nanos = deadline.saturating_duration_since(epoch).as_nanos();
    let nanos = u64::try_from(nanos).unwrap_or(u64::MAX / 2);
    nanos.div_ceil(TICK_NANOS)
}

/// The current tick from raw monotonic nanoseconds ([`clock::monotonic_nanos`]),
/// `epoch_nanos` being read just after the epoch `Instant`: never ahead of the tick
/// of the same moment measured from the epoch `Instant` (as deadlines are, by
/// [`deadline_tick`]), so a timer never fires early.
///
/// [`clock::monotonic_nanos`]: super::clock::monotonic_nanos
#[inline]
pub(crate) fn raw_now_tick(epoch_nanos: u64, now_nanos: u64) -> u64 {
    now_nanos.saturating_sub(epoch_nanos) / TICK_NANOS
}

/// The instant of a tick.
pub(crate) fn tick_instant(epoch: Instant, tick: u64) -> Instant {
    epoch + Duration::from_nanos(tick.saturating_mul(TICK_NANOS))
}

/// The wheel.
#[derive(Debug)]
pub(crate) struct Wheel<T> {
    elapsed: u64,
    len: usize,
    /// No entry is due before this tick (a lower bound: the earliest slot's start
    /// after a poll, lowered by each insert), so a poll before it returns at once.
    /// A slot whose start it passes over holds no due entry yet; its cascade waits
    /// for the poll that fires its earliest entry.
    earliest: u64,
    levels: Vec<Level<T>>,
}

impl<T> Wheel<T> {
    pub(crate) fn new() -> Wheel<T> {
        Wheel {
            elapsed: 0,
            len: 0,
            earliest: u64::MAX,
            levels: (0..LEVELS)
                .map(|_| Level {
                    occupied: 0,
                    slots: (0..SLOTS).map(|_| Vec::new()).collect(),
                })
                .collect(),
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Inserts an entry; gives it back if it is already due.
    pub(crate) fn insert(&mut self, entry: Entry<T>) -> Result<(), Entry<T>> {
        if entry.when <= self.elapsed {
            return Err(entry);
        }
        let (level, slot) = if entry.when - self.elapsed > MAX_SPAN {
            // Beyond the wheel: park it in the top level's slot just before the
            // current one (the latest start the wheel can express); when that slot
            // comes round the entry is looked at again. Never the current slot,
            // whose start is not in the future.
            let top = LEVELS - 1;
            let pos = ((self.elapsed >> (top as u32 * SLOT_BITS)) as usize) & (SLOTS - 1);
            (top, (pos + SLOTS - 1) & (SLOTS - 1))
        } else {
            let level = level_for(self.elapsed, entry.when);
            let slot = ((entry.when >> (level as u32 * SLOT_BITS)) as usize) & (SLOTS - 1);
            (level, slot)
        };
        self.earliest = self.earliest.min(entry.when);
        let lvl = &mut self.levels[level];
        lvl.slots[slot].push(entry);
        lvl.occupied |= 1 << slot;
        self.len += 1;
        Ok(())
    }

    /// The start tick of the earliest occupied slot, and where it is.
    fn next_slot(&self) -> Option<(u64, usize, usize)> {
        for (level, lvl) in self.levels.iter().enumerate() {
            if lvl.occupied == 0 {
                continue;
            }
            let shift = level as u32 * SLOT_BITS;
            let pos = ((self.elapsed >> shift) as usize) & (SLOTS - 1);
            let rotated = lvl.occupied.rotate_right(pos as u32);
            let slot = (rotated.trailing_zeros() as usize + pos) & (SLOTS - 1);
            let slot_span = 1u64 << shift;
            let level_span = slot_span << SLOT_BITS;
            let level_start = self.elapsed & !(level_span - 1);
            let mut start = level_start + slot as u64 * slot_span;
            if slot < pos {
                start += level_span;
            }
            return Some((start.max(self.elapsed), level, slot));
        }
        None
    }

    /// The tick at which the next entry may fire, if any.
    pub(crate) fn next_deadline(&self) -> Option<u64> {
        // A higher-level slot only cascades at its start; its earliest entry may be
        // later, but waking at the start is always safe.
        // Nor before `earliest`, which a poll needs to pass to look at any slot.
        self.next_slot()
            .map(|(start, _, _)| start.max(self.earliest))
    }

    /// Whether a [`poll`](Self::poll) at `now` may fire or move anything (`false`:
    /// it would return at once).
    #[inline]
    pub(crate) fn may_fire(&self, now: u64) -> bool {
        now >= self.earliest
    }

    /// Fires every entry due at `now` (a tick), in deadline order per slot.
    pub(crate) fn poll(&mut self, now: u64, mut fire: impl FnMut(T)) {
        if now < self.earliest {
            return;
        }
        while let Some((start, level, slot)) = self.next_slot() {
            if start > now {
                break;
            }
            self.elapsed = start;
            let lvl = &mut self.levels[level];
            lvl.occupied &= !(1 << slot);
            let entries = std::mem::take(&mut lvl.slots[slot]);
            self.len -= entries.len();
            for e in entries {
                if e.when <= now {
                    fire(e.item);
                } else if let Err(e) = self.insert(e) {
                    fire(e.item);
                }
            }
        }
        self.elapsed = self.elapsed.max(now);
        self.earliest = self.next_slot().map_or(u64::MAX, |(start, _, _)| start);
    }

    /// Keeps only the entries `keep` accepts (a sweep of cancelled timers). O(len),
    /// so callers run it only when most entries are known to be dead.
    pub(crate) fn retain(&mut self, mut keep: impl FnMut(&T) -> bool) {
        let mut len = 0;
        for lvl in &mut self.levels {
            for (i, slot) in lvl.slots.iter_mut().enumerate() {
                slot.retain(|e| keep(&e.item));
                if slot.is_empty() {
                    // Give back the slot's memory too: a sweep follows a mass exit.
                    *slot = Vec::new();
                    lvl.occupied &= !(1 << i);
                }
                len += slot.len();
            }
        }
        self.len = len;
    }

    /// Removes every entry.
    pub(crate) fn drain(&mut self) -> impl Iterator<Item = T> + '_ {
        self.len = 0;
        self.levels.iter_mut().flat_map(|lvl| {
            lvl.occupied = 0;
            lvl.slots
                .iter_mut()
                .flat_map(|s| s.drain(..).map(|e| e.item))
        })
    }
}

fn level_for(elapsed: u64, when: u64) -> usize {
    let masked = (elapsed ^ when) | (SLOTS as u64 - 1);
    let significant = 63 - masked.leading_zeros();
    ((significant / SLOT_BITS) as usize).min(LEVELS - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A deterministic xorshift for test inputs.
    fn rng(seed: &mut u64) -> u64 {
        *seed ^= *seed << 13;
        *seed ^= *seed >> 7;
        *seed ^= *seed << 17;
        *seed
    }

    #[test]
    fn fires_each_entry_once_never_early() {
        let mut seed = 0x9e37_79b9_7f4a_7c15;
        let mut wheel = Wheel::new();
        let mut pending = Vec::new();
        for id in 0..5000u64 {
            let when = 1 + rng(&mut seed)
                % match id % 4 {
                    0 => 50,
                    1 => 5_000,
                    2 => 300_000,
                    _ => 40_000_000,
                };
            wheel
                .insert(Entry {
                    when,
                    item: (id, when),
                })
                .unwrap();
            pending.push(when);
        }
        let mut now = 0;
        let mut fired = 0;
        while !wheel.is_empty() {
            now += 1 + rng(&mut seed) % 20_000;
            wheel.poll(now, |(_, when)| {
                assert!(when <= now, "fired early: {when} > {now}");
                fired += 1;
            });
            // Everything due must have fired.
            if let Some(next) = wheel.next_deadline() {
                assert!(next > now);
            }
        }
        assert_eq!(fired, 5000);
    }

    #[test]
    fn jumping_to_each_next_deadline_fires_everything_on_time() {
        // The simulation's pattern: the clock jumps to `next_deadline` and polls.
        // Every jump must make progress (a deadline a poll would skip, for the
        // wheel's lower bound, would loop for ever) and fire nothing early.
        let mut seed = 0x2545_f491_4f6c_dd1d;
        let mut wheel = Wheel::new();
        for id in 0..2000u64 {
            let when = 1 + rng(&mut seed) % [70, 5_000, 300_000, 40_000_000][id as usize % 4];
            wheel.insert(Entry { when, item: when }).unwrap();
        }
        let (mut now, mut fired, mut jumps) = (0, 0, 0);
        while let Some(next) = wheel.next_deadline() {
            assert!(next > now, "no progress: {next} after {now}");
            now = next;
            jumps += 1;
            wheel.poll(now, |when| {
                assert!(when <= now);
                fired += 1;
            });
        }
        assert_eq!(fired, 2000);
        assert!(jumps <= 2000 * 7, "{jumps} jumps");
    }

    #[test]
    fn exact_deadlines_fire_on_their_tick() {
        let mut wheel = Wheel::new();
        for when in [1u64, 63, 64, 65, 4095, 4096, 4097, 262_144] {
            wheel.insert(Entry { when, item: when }).unwrap();
        }
        for t in 1..=262_144u64 {
            let mut got = Vec::new();
            wheel.poll(t, |w| got.push(w));
            for w in got {
                assert_eq!(w, t);
            }
        }
        assert!(wheel.is_empty());
    }

    #[test]
    fn far_deadlines_from_any_current_tick_never_spin() {
        for start in [0u64, 5, 63, 4097, (1 << 36) + 7, (1 << 42) - 3] {
            let mut wheel = Wheel::new();
            wheel.poll(start, |()| panic!("empty"));
            wheel
                .insert(Entry {
                    when: u64::MAX / 2,
                    item: (),
                })
                .unwrap();
            let mut fired = false;
            for now in [
                start + 1,
                start + 1000,
                start + MAX_SPAN / 2,
                start + 3 * MAX_SPAN,
            ] {
                wheel.poll(now, |()| fired = true);
            }
            assert!(!fired);
            assert_eq!(wheel.len(), 1);
        }
    }

    #[test]
    fn retain_drops_entries_and_keeps_the_rest_firing_on_time() {
        let mut wheel = Wheel::new();
        for when in 1..=1000u64 {
            wheel.insert(Entry { when, item: when }).unwrap();
        }
        wheel.retain(|w| w % 3 == 0);
        assert_eq!(wheel.len(), 333);
        let mut fired = Vec::new();
        wheel.poll(1000, |w| fired.push(w));
        assert_eq!(fired, (1..=333).map(|i| i * 3).collect::<Vec<_>>());
        assert!(wheel.is_empty());
    }

    #[test]
    fn far_deadline_is_clamped_and_kept() {
        let mut wheel = Wheel::new();
        wheel
            .insert(Entry {
                when: u64::MAX / 2,
                item: (),
            })
            .unwrap();
        let mut fired = false;
        wheel.poll(MAX_SPAN * 3, |_| fired = true);
        assert!(!fired);
        assert_eq!(wheel.len(), 1);
        assert!(wheel.insert(Entry { when: 0, item: () }).is_err());
    }
}
