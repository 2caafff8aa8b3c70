//! Engine speed: the M/M/c/c model (c = 1000, λ = 950, μ = 1, 2 M arrivals) on capsim's
//! event queue and on a minimal hand-written `BinaryHeap` loop, in the same run.
//! Prints events/s of both and the ratio (target ≥ 0.9×), then runs divan's timings.
//!
//! `cargo bench --bench engine`

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::Instant;

use capsim::engine::{EventQueue, SimTime};
use rand::SeedableRng;
use rand_distr::{Distribution, Exp};
use rand_xoshiro::Xoshiro256PlusPlus;

const C: u32 = 1000;
const LAMBDA: f64 = 950.0;
const MU: f64 = 1.0;
const ARRIVALS: u64 = 2_000_000;

#[derive(Clone, Copy)]
enum Ev {
    Arrival,
    Departure,
}

/// (events processed, blocked arrivals) on capsim's engine.
fn mmcc_capsim(arrivals: u64, seed: u64) -> (u64, u64) {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let ia = Exp::new(LAMBDA).unwrap();
    let svc = Exp::new(MU).unwrap();
    let mut q = EventQueue::with_capacity(C as usize + 16);
    q.schedule_at(SimTime::from_secs_f64(ia.sample(&mut rng)), Ev::Arrival);
    let (mut busy, mut seen, mut blocked, mut events) = (0u32, 0u64, 0u64, 0u64);
    while let Some((_, ev)) = q.pop() {
        events += 1;
        match ev {
            Ev::Arrival => {
                seen += 1;
                if seen < arrivals {
                    q.schedule_in(SimTime::from_secs_f64(ia.sample(&mut rng)), Ev::Arrival);
                }
                if busy < C {
                    busy += 1;
                    q.schedule_in(SimTime::from_secs_f64(svc.sample(&mut rng)), Ev::Departure);
                } else {
                    blocked += 1;
                }
            }
            Ev::Departure => busy -= 1,
        }
    }
    (events, blocked)
}

/// The same model as a minimal loop over `BinaryHeap<Reverse<(time, kind)>>`.
fn mmcc_baseline(arrivals: u64, seed: u64) -> (u64, u64) {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let ia = Exp::new(LAMBDA).unwrap();
    let svc = Exp::new(MU).unwrap();
    let ns = |s: f64| (s * 1e9).round() as u64;
    let mut heap: BinaryHeap<Reverse<(u64, u8)>> = BinaryHeap::with_capacity(C as usize + 16);
    heap.push(Reverse((ns(ia.sample(&mut rng)), 0)));
    let (mut busy, mut seen, mut blocked, mut events) = (0u32, 0u64, 0u64, 0u64);
    while let Some(Reverse((now, kind))) = heap.pop() {
        events += 1;
        if kind == 0 {
            seen += 1;
            if seen < arrivals {
                heap.push(Reverse((now + ns(ia.sample(&mut rng)), 0)));
            }
            if busy < C {
                busy += 1;
                heap.push(Reverse((now + ns(svc.sample(&mut rng)), 1)));
            } else {
                blocked += 1;
            }
        } else {
            busy -= 1;
        }
    }
    (events, blocked)
}

fn events_per_s(f: fn(u64, u64) -> (u64, u64), seed: u64) -> (f64, u64, u64) {
    let t = Instant::now();
    let (events, blocked) = std::hint::black_box(f(ARRIVALS, seed));
    (events as f64 / t.elapsed().as_secs_f64(), events, blocked)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn ratio_report() {
    let rounds = 7;
    let (mut ours, mut base) = (vec![], vec![]);
    let mut blocked = 0;
    // Alternate so that frequency scaling and cache state hit both equally.
    for r in 0..rounds {
        let (b, _, _) = events_per_s(mmcc_baseline, r);
        let (o, _, bl) = events_per_s(mmcc_capsim, r);
        base.push(b);
        ours.push(o);
        blocked += bl;
    }
    let (o, b) = (median(ours), median(base));
    let blocking = blocked as f64 / (rounds * ARRIVALS) as f64;
    println!(
        "M/M/c/c c={C} λ={LAMBDA} μ={MU}, {ARRIVALS} arrivals, median of {rounds} alternating rounds"
    );
    println!("  capsim engine       {:>6.2} M events/s", o / 1e6);
    println!("  BinaryHeap baseline {:>6.2} M events/s", b / 1e6);
    println!("  ratio               {:>6.3}  (target >= 0.9)", o / b);
    println!("  blocking            {blocking:.6}  (Erlang-B 0.003649)");
}

#[divan::bench(sample_count = 5, sample_size = 1)]
fn capsim_engine() -> (u64, u64) {
    mmcc_capsim(ARRIVALS / 4, 1)
}

#[divan::bench(sample_count = 5, sample_size = 1)]
fn binary_heap_baseline() -> (u64, u64) {
    mmcc_baseline(ARRIVALS / 4, 1)
}

fn main() {
    ratio_report();
    divan::main();
}
