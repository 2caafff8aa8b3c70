//! Sweep speed-up (DESIGN.md §8): the same study on 1 thread and on 2 threads, in one
//! run; target ≥ 1.8× on the 2-core reference machine. Also checks that both give the
//! same results (they must: work items are independent and collected in order).

use std::time::Instant;

use capsim::scenario::Scenario;
use capsim::study::run_scenario;

const SCENARIO: &str = r#"
name = "sweep-bench"
seed = 3
horizon_s = 43200
warmup_s = 7200
[hosts.x86]
profile = "x86-2s"
count = 8
[placements.bare-metal-containers]
layers = ["container-runc"]
[placements.containers-in-vm]
layers = ["vm-kvm", "container-runc"]
vm_per = "tenant"
containers_per_vm = 8
[placements.vm-in-container]
layers = ["pod-kubevirt", "vm-kvm"]
[workloads.web]
arrival_rate_per_s = 0.25
lifetime_s = { dist = "exponential", mean = 7200 }
tenants = 4
private_mib = 2048
image_mib = 400
cpu_cores = { dist = "lognormal", mean = 0.12, cv = 0.6 }
cpu_request = 0.2
"#;

fn main() {
    let sc = Scenario::from_toml("sweep-bench.toml", "sweep-bench", SCENARIO)
        .unwrap_or_else(|e| panic!("{e}"));
    let reps = 16;
    let time = |threads: usize| {
        let t = Instant::now();
        let runs = run_scenario(&sc, reps, 0, Some(threads)).unwrap_or_else(|e| panic!("{e}"));
        (t.elapsed().as_secs_f64(), runs)
    };
    // Warm-up: page in code and data so the first timed run is not penalised.
    let _ = time(2);
    let (t1, r1) = time(1);
    let (t2, r2) = time(2);
    let same = r1
        .configs
        .iter()
        .zip(&r2.configs)
        .all(|(a, b)| a.runs.iter().zip(&b.runs).all(|(x, y)| x.flat() == y.flat()));
    println!(
        "sweep: {} configurations x {reps} replications: 1 thread {t1:.2} s, 2 threads {t2:.2} s, speed-up {:.2}x (target >= 1.8x on 2 cores); identical results: {same}",
        r1.configs.len(),
        t1 / t2
    );
}
