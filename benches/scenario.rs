//! Cost of the slowdown model: the default scenario as the foundation runs it, and the
//! same scenario with noisy-neighbour pressure/sensitivity and ON/OFF demand phases on
//! every workload, in the same process. Prints both run times and the ratio (target ≤ 2×)
//! and the default scenario's absolute time (target < 2 s).
//!
//! `cargo bench --bench scenario`

use std::time::Instant;

use capsim::scenario::{DEFAULT_SCENARIO, Scenario};
use capsim::study::run_scenario;

fn time(sc: &Scenario, threads: usize) -> (f64, u64) {
    let t = Instant::now();
    let runs = run_scenario(sc, 1, 0, Some(threads)).unwrap();
    let events = runs
        .configs
        .iter()
        .map(|c| c.runs[0].get("events") as u64)
        .sum();
    (t.elapsed().as_secs_f64(), events)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let base = Scenario::from_toml("default.toml", "default", DEFAULT_SCENARIO).unwrap();
    let noisy_text = DEFAULT_SCENARIO.replace(
        "cpu_request = 0.2",
        "cpu_request = 0.2\npressure = { cpu = 0.005, llc = 0.004, membw = 0.004 }\nsensitivity = { llc = 0.3, membw = 0.2 }\nphases = { on_s = { dist = \"exponential\", mean = 300 }, off_s = { dist = \"exponential\", mean = 600 }, off_level = 0.2 }",
    );
    let noisy = Scenario::from_toml("noisy.toml", "noisy", &noisy_text).unwrap();
    // Interference alone: the same events as the foundation, more work per event.
    let pressure_text = DEFAULT_SCENARIO.replace(
        "cpu_request = 0.2",
        "cpu_request = 0.2\npressure = { cpu = 0.005, llc = 0.004, membw = 0.004 }\nsensitivity = { llc = 0.3, membw = 0.2 }",
    );
    let pressure = Scenario::from_toml("pressure.toml", "pressure", &pressure_text).unwrap();
    let rounds = 5;
    let (mut a, mut b, mut c) = (vec![], vec![], vec![]);
    let (mut ea, mut eb, mut ec) = (0, 0, 0);
    for _ in 0..rounds {
        let (t, e) = time(&pressure, 1);
        c.push(t);
        ec = e;
        let (t, e) = time(&base, 1);
        a.push(t);
        ea = e;
        let (t, e) = time(&noisy, 1);
        b.push(t);
        eb = e;
    }
    let (ta, tb, tc) = (median(a), median(b), median(c));
    let (t2, _) = time(&base, 2);
    println!("default scenario (10 configurations, 1 simulated day each), median of {rounds}");
    println!(
        "  foundation model        {ta:>7.3} s on 1 thread ({ea} events), {t2:.3} s on 2 threads (target < 2 s)"
    );
    println!(
        "  + interference          {tc:>7.3} s on 1 thread ({ec} events): {:.2}x (target <= 2x)",
        tc / ta
    );
    println!(
        "  + interference + phases {tb:>7.3} s on 1 thread ({eb} events): {:.2}x",
        tb / ta
    );
    println!(
        "  per event: foundation {:.2} us, +interference {:.2} us, +phases {:.2} us",
        ta / ea as f64 * 1e6,
        tc / ec as f64 * 1e6,
        tb / eb as f64 * 1e6
    );
}
