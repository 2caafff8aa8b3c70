//! Scale target (DESIGN.md §8): 10,000 hosts and 100,000 workloads over one simulated day
//! in under 60 s and under 2 GiB, on one core of the 2-core reference machine.
//!
//! `cargo bench --bench scale` runs one replication per admission policy of a fleet of
//! 10,000 x86 hosts holding 100,000 workloads all day (static instances with a 4 h mean
//! lifetime, each redeployed when it ends: ~700,000 admissions over the day), and prints
//! wall time, events/s and peak RSS (VmHWM from /proc/self/status, Linux only).
//! `CAPSIM_SCALE_POLICIES=first-fit` limits the policies run.

use std::time::Instant;

use capsim::scenario::Scenario;
use capsim::sim::{RunOptions, run_config};

fn scenario(policy: &str) -> Scenario {
    let toml = format!(
        r#"
name = "scale"
seed = 1
horizon_s = 86400
[hosts.x86]
profile = "x86-2s"
count = 10000
[placements.bare-metal-containers]
layers = ["container-runc"]
policy = "{policy}"
[workloads.web]
count = 100000
lifetime_s = {{ dist = "exponential", mean = 14400 }}
tenants = 100
private_mib = 2048
image_mib = 400
cpu_cores = {{ dist = "lognormal", mean = 0.12, cv = 0.6 }}
cpu_request = 0.2
"#
    );
    Scenario::from_toml("scale.toml", "scale", &toml).unwrap_or_else(|e| panic!("{e}"))
}

/// Peak resident set size of this process so far, in MiB (None off Linux).
fn peak_rss_mib() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// CPU time of this process so far, seconds (None off Linux): on a shared machine wall
/// time includes waiting for a core, CPU time does not.
fn cpu_seconds() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/self/stat").ok()?;
    let rest = &s[s.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

fn main() {
    let policies = std::env::var("CAPSIM_SCALE_POLICIES")
        .unwrap_or_else(|_| "first-fit,best-fit,spread".into());
    for policy in policies.split(',') {
        let sc = scenario(policy);
        let cfg = sc.configs()[0];
        let c0 = cpu_seconds();
        let t = Instant::now();
        let m = run_config(&sc, cfg, RunOptions::default()).unwrap_or_else(|e| panic!("{e}"));
        let secs = t.elapsed().as_secs_f64();
        let cpu = c0.zip(cpu_seconds()).map(|(a, b)| b - a);
        println!(
            "scale {policy:>9}: 10000 hosts, {:.0} workloads resident (mean), {} admissions, {} events in {secs:.2} s wall, {} CPU ({:.2} M events/s); hosts used {:.0}; peak RSS {} — target < 60 s, < 2048 MiB",
            m.workloads_hosted_mean,
            m.arrivals - m.blocked,
            m.events,
            cpu.map_or("n/a".into(), |c| format!("{c:.2} s")),
            m.events as f64 / secs / 1e6,
            m.hosts_used_mean,
            peak_rss_mib().map_or("n/a".into(), |x| format!("{x:.0} MiB")),
        );
    }
}
