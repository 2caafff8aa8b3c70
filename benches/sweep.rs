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

/// CPU time of this process so far (user + system), seconds; None off Linux. With other
/// jobs on the machine the wall-clock ratio understates the speed-up; CPU time / wall
/// time of the 2-thread run shows how much parallel work there was.
fn cpu_seconds() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/self/stat").ok()?;
    let rest = &s[s.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

fn main() {
    let sc = Scenario::from_toml("sweep-bench.toml", "sweep-bench", SCENARIO)
        .unwrap_or_else(|e| panic!("{e}"));
    let reps = 16;
    let time = |threads: usize| {
        let c = cpu_seconds();
        let t = Instant::now();
        let runs = run_scenario(&sc, reps, 0, Some(threads)).unwrap_or_else(|e| panic!("{e}"));
        let wall = t.elapsed().as_secs_f64();
        let cpu = c.zip(cpu_seconds()).map(|(a, b)| b - a);
        (wall, cpu, runs)
    };
    // Warm-up: page in code and data so the first timed run is not penalised.
    let _ = time(2);
    let (t1, _, r1) = time(1);
    let (t2, cpu2, r2) = time(2);
    // Bit patterns, so NaN (an undefined metric) compares equal to itself.
    let bits = |r: &capsim::results::records::RunRecord| -> Vec<u64> {
        r.metrics.iter().map(|(_, v)| v.to_bits()).collect()
    };
    let same = r1
        .configs
        .iter()
        .zip(&r2.configs)
        .all(|(a, b)| a.runs.iter().zip(&b.runs).all(|(x, y)| bits(x) == bits(y)));
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "sweep: {} configurations x {reps} replications: 1 thread {t1:.2} s, 2 threads {t2:.2} s, speed-up {:.2}x (target >= 1.8x on 2 cores); 2-thread CPU/wall {}; identical results: {same}; loadavg {}",
        r1.configs.len(),
        t1 / t2,
        cpu2.map_or("n/a".into(), |c| format!("{:.2}", c / t2)),
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );
}
