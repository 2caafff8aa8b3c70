//! KSM cost is independent of memory size: the page-class model schedules events at
//! segment boundaries and pass ends, so 8 guests of 10 TiB cost the same simulation work as
//! 8 guests of 10 GiB over the same number of full scans. Runs both through the full
//! simulator (scenario → run) in the same process and prints the time ratio.
//!
//! `cargo bench --bench ksm`

use std::time::Instant;

use capsim::scenario::Scenario;
use capsim::sim::{RunOptions, run_config};

fn scenario(guest_gib: f64) -> Scenario {
    let private_mib = guest_gib * 1024.0 - 620.0;
    // Same number of full scans for both sizes: the horizon scales with the pages.
    let pages = 8.0 * guest_gib * 1024.0 * 256.0;
    let horizon = 20.0 * pages / 4093.0;
    let text = format!(
        r#"
        horizon_s = {horizon}
        [ksm]
        enabled = true
        timeline_interval_s = {interval}
        [hosts.big]
        profile = "x86-2s"
        count = 1
        memory_gib = {mem}
        [placements.vm]
        layers = ["vm-kvm"]
        [workloads.guest]
        count = 8
        private_mib = {private_mib}
        image_mib = 400
        cpu_cores = 0.1
        "#,
        interval = horizon / 100.0,
        mem = 16.0 * guest_gib + 64.0,
    );
    Scenario::from_toml("bench.toml", "bench", &text).unwrap()
}

fn time(sc: &Scenario) -> (f64, u64, f64) {
    let cfg = sc.configs()[0];
    let t = Instant::now();
    let m = run_config(sc, cfg, RunOptions::default()).unwrap();
    (
        t.elapsed().as_secs_f64(),
        m.events,
        m.ksm.get("full_scans").unwrap(),
    )
}

fn main() {
    let small = scenario(10.0);
    let huge = scenario(10.0 * 1024.0);
    let rounds = 7;
    let (mut ts, mut th) = (vec![], vec![]);
    let (mut es, mut eh, mut fs, mut fh) = (0, 0, 0.0, 0.0);
    for _ in 0..rounds {
        let (t, e, f) = time(&small);
        ts.push(t);
        (es, fs) = (e, f);
        let (t, e, f) = time(&huge);
        th.push(t);
        (eh, fh) = (e, f);
    }
    ts.sort_by(f64::total_cmp);
    th.sort_by(f64::total_cmp);
    let (a, b) = (ts[rounds / 2], th[rounds / 2]);
    println!("KSM on 8 identical guests, ~20 full scans, median of {rounds} rounds");
    println!(
        "  8 x 10 GiB: {:>9.3} ms, {es} events, {fs} full scans",
        a * 1e3
    );
    println!(
        "  8 x 10 TiB: {:>9.3} ms, {eh} events, {fh} full scans",
        b * 1e3
    );
    println!(
        "  time ratio 10 TiB / 10 GiB = {:.3} (target: ~1, independent of memory size)",
        b / a
    );
}
