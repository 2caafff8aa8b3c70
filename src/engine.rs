//! The discrete-event core: integer time, a deterministic event queue, and generation
//! counters for cancellation. It knows nothing about hosts, layers or KSM — `sim.rs` owns
//! the world and matches on its own event enum.
//!
//! Design choices (after NeXosim and DSLab's simcore):
//! - time is an integer number of nanoseconds ([`SimTime`]); distributions are sampled in
//!   f64 seconds and rounded once ([`SimTime::from_secs_f64`]), so no drift accumulates;
//! - the queue orders by `(time, seq)`: simultaneous events run in the order they were
//!   scheduled (FIFO), which makes runs bit-reproducible;
//! - events are a caller-defined `Copy` enum stored by value in a binary heap: no boxing,
//!   no dynamic dispatch, and no allocation per event once the heap has grown;
//! - cancellation is lazy: an event carries the generation of the thing it refers to, and
//!   the handler drops it when the generation has moved on ([`Generations`]).

use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// Simulated time in integer nanoseconds since the start of the run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SimTime(pub u64);

impl SimTime {
    pub const ZERO: SimTime = SimTime(0);
    pub const MAX: SimTime = SimTime(u64::MAX);
    pub const NANOS_PER_SEC: f64 = 1e9;

    /// Rounds a duration in seconds to the nearest nanosecond (negative and NaN map to 0,
    /// values past ~584 years saturate).
    pub fn from_secs_f64(secs: f64) -> SimTime {
        if secs.is_nan() || secs <= 0.0 {
            return SimTime::ZERO;
        }
        let ns = (secs * Self::NANOS_PER_SEC).round();
        if ns >= u64::MAX as f64 {
            SimTime::MAX
        } else {
            SimTime(ns as u64)
        }
    }

    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / Self::NANOS_PER_SEC
    }

    /// `self + d`, saturating at [`SimTime::MAX`] so "never" stays never.
    pub fn after(self, d: SimTime) -> SimTime {
        SimTime(self.0.saturating_add(d.0))
    }
}

/// One queued event: ordered by time, then by insertion sequence.
struct Entry<E> {
    time: u64,
    seq: u64,
    event: E,
}

impl<E> PartialEq for Entry<E> {
    fn eq(&self, other: &Self) -> bool {
        self.time == other.time && self.seq == other.seq
    }
}
impl<E> Eq for Entry<E> {}
impl<E> PartialOrd for Entry<E> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<E> Ord for Entry<E> {
    // Reversed: `BinaryHeap` is a max-heap and we want the earliest (time, seq) on top.
    fn cmp(&self, other: &Self) -> Ordering {
        other
            .time
            .cmp(&self.time)
            .then_with(|| other.seq.cmp(&self.seq))
    }
}

/// A future-event list ordered by `(time, seq)`; ties are served first-in first-out.
pub struct EventQueue<E> {
    heap: BinaryHeap<Entry<E>>,
    seq: u64,
    now: SimTime,
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E> EventQueue<E> {
    pub fn new() -> Self {
        Self::with_capacity(0)
    }

    /// Pre-sizes the heap so a run with a known number of pending events never reallocates.
    pub fn with_capacity(capacity: usize) -> Self {
        EventQueue {
            heap: BinaryHeap::with_capacity(capacity),
            seq: 0,
            now: SimTime::ZERO,
        }
    }

    /// The time of the event most recently popped (the simulation clock).
    pub fn now(&self) -> SimTime {
        self.now
    }

    pub fn len(&self) -> usize {
        self.heap.len()
    }

    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }

    /// Schedules `event` at absolute time `at`. Scheduling in the past is clamped to `now`
    /// (an event can never run before the clock), which keeps the clock monotone.
    pub fn schedule_at(&mut self, at: SimTime, event: E) {
        let time = at.0.max(self.now.0);
        let seq = self.seq;
        self.seq += 1;
        self.heap.push(Entry { time, seq, event });
    }

    /// Schedules `event` after a delay from the current clock.
    pub fn schedule_in(&mut self, delay: SimTime, event: E) {
        self.schedule_at(self.now.after(delay), event);
    }

    /// Time of the next event without removing it.
    pub fn peek_time(&self) -> Option<SimTime> {
        self.heap.peek().map(|e| SimTime(e.time))
    }

    /// Removes the earliest event and advances the clock to its time.
    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        let e = self.heap.pop()?;
        self.now = SimTime(e.time);
        Some((self.now, e.event))
    }

    /// Pops the next event only if it is due at or before `horizon`.
    pub fn pop_until(&mut self, horizon: SimTime) -> Option<(SimTime, E)> {
        if self.heap.peek()?.time > horizon.0 {
            return None;
        }
        self.pop()
    }

    /// Moves the clock forward without an event (e.g. to the horizon at the end of a run).
    pub fn advance_to(&mut self, t: SimTime) {
        if t > self.now {
            self.now = t;
        }
    }
}

/// Generation counters for lazy cancellation: an event stores the generation its target had
/// when it was scheduled; bumping the generation makes every older event stale.
#[derive(Default, Clone, Debug)]
pub struct Generations {
    gens: Vec<u32>,
}

impl Generations {
    pub fn new() -> Self {
        Self::default()
    }

    /// Grows to hold `n` ids (all at generation 0).
    pub fn ensure(&mut self, n: usize) {
        if self.gens.len() < n {
            self.gens.resize(n, 0);
        }
    }

    pub fn current(&self, id: usize) -> u32 {
        self.gens[id]
    }

    /// Invalidates every pending event for `id`; returns the new generation.
    pub fn bump(&mut self, id: usize) -> u32 {
        let g = &mut self.gens[id];
        *g = g.wrapping_add(1);
        *g
    }

    pub fn is_current(&self, id: usize, generation: u32) -> bool {
        self.gens.get(id) == Some(&generation)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pops_in_time_order() {
        let mut q = EventQueue::new();
        for t in [50u64, 10, 40, 20, 30] {
            q.schedule_at(SimTime(t), t);
        }
        let order: Vec<u64> = std::iter::from_fn(|| q.pop().map(|(_, e)| e)).collect();
        assert_eq!(order, vec![10, 20, 30, 40, 50]);
    }

    #[test]
    fn ties_are_fifo() {
        let mut q = EventQueue::new();
        for i in 0..100u32 {
            q.schedule_at(SimTime(7), i);
        }
        q.schedule_at(SimTime(3), 1000);
        assert_eq!(q.pop(), Some((SimTime(3), 1000)));
        for i in 0..100u32 {
            assert_eq!(q.pop(), Some((SimTime(7), i)));
        }
        assert!(q.pop().is_none());
    }

    #[test]
    fn clock_is_monotone_and_past_is_clamped() {
        let mut q = EventQueue::new();
        q.schedule_at(SimTime(100), 'a');
        assert_eq!(q.pop(), Some((SimTime(100), 'a')));
        q.schedule_at(SimTime(5), 'b');
        assert_eq!(q.pop(), Some((SimTime(100), 'b')));
        q.schedule_in(SimTime(10), 'c');
        assert_eq!(q.pop(), Some((SimTime(110), 'c')));
    }

    #[test]
    fn pop_until_respects_horizon() {
        let mut q = EventQueue::new();
        q.schedule_at(SimTime(10), 1);
        q.schedule_at(SimTime(20), 2);
        assert_eq!(q.pop_until(SimTime(15)), Some((SimTime(10), 1)));
        assert_eq!(q.pop_until(SimTime(15)), None);
        assert_eq!(q.len(), 1);
    }

    #[test]
    fn generations_cancel_stale_events() {
        #[derive(Clone, Copy, Debug, PartialEq)]
        struct Timeout {
            id: usize,
            generation: u32,
        }
        let mut gens = Generations::new();
        gens.ensure(2);
        let mut q = EventQueue::new();
        q.schedule_at(
            SimTime(10),
            Timeout {
                id: 0,
                generation: gens.current(0),
            },
        );
        q.schedule_at(
            SimTime(20),
            Timeout {
                id: 1,
                generation: gens.current(1),
            },
        );
        // Cancel id 0 and reschedule it later.
        let g = gens.bump(0);
        q.schedule_at(
            SimTime(30),
            Timeout {
                id: 0,
                generation: g,
            },
        );
        let mut fired = vec![];
        while let Some((t, ev)) = q.pop() {
            if gens.is_current(ev.id, ev.generation) {
                fired.push((t.0, ev.id));
            }
        }
        assert_eq!(fired, vec![(20, 1), (30, 0)]);
    }

    #[test]
    fn seconds_round_once() {
        assert_eq!(SimTime::from_secs_f64(1.5), SimTime(1_500_000_000));
        assert_eq!(SimTime::from_secs_f64(1e-9 * 0.4), SimTime(0));
        assert_eq!(SimTime::from_secs_f64(-3.0), SimTime::ZERO);
        assert_eq!(SimTime::from_secs_f64(f64::NAN), SimTime::ZERO);
        assert_eq!(SimTime::from_secs_f64(1e300), SimTime::MAX);
        assert_eq!(SimTime::MAX.after(SimTime(5)), SimTime::MAX);
    }
}
