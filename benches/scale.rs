//! Scale: a full fleet for one simulated day under each admission policy.
//!
//! Workloads of 40 GiB on 512 GiB x86 hosts (12 per host by memory), 10 per host on
//! average: about 83% of hosts are in use, so admission has to search a fleet that is
//! really in use. Static instances with a 4 h mean lifetime are redeployed when they end
//! (~7 admissions per instance over the day). Sizes and targets on the 2-core machine:
//!
//! | hosts   | workloads | target per policy         |
//! |---------|-----------|---------------------------|
//! | 10,000  | 100,000   | < 20 s                    |
//! | 100,000 | 1,000,000 | < 5 min and < 4 GiB RSS   |
//!
//! Each case runs in its own child process, so its peak RSS (VmHWM) is its own.
//! `CAPSIM_SCALE_HOSTS=10000` and `CAPSIM_SCALE_POLICIES=best-fit` limit what runs.
//!
//! `cargo bench --bench scale`

use std::process::Command;
use std::time::Instant;

use capsim::scenario::Scenario;
use capsim::sim::{RunOptions, run_config};

fn scenario(hosts: u64, policy: &str) -> Scenario {
    let workloads = hosts * 10;
    let toml = format!(
        r#"
name = "scale"
seed = 1
horizon_s = 86400
[hosts.x86]
profile = "x86-2s"
count = {hosts}
[placements.bare-metal-containers]
layers = ["container-runc"]
policy = "{policy}"
[workloads.db]
count = {workloads}
lifetime_s = {{ dist = "exponential", mean = 14400 }}
tenants = 100
private_mib = 40960
image_mib = 400
cpu_cores = {{ dist = "lognormal", mean = 1.2, cv = 0.6 }}
cpu_request = 2
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

/// One case, in this process: prints one line.
fn run_case(hosts: u64, policy: &str) {
    let sc = scenario(hosts, policy);
    let cfg = sc.configs()[0];
    let c0 = cpu_seconds();
    let t = Instant::now();
    let m = run_config(&sc, cfg, RunOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    let secs = t.elapsed().as_secs_f64();
    let cpu = c0.zip(cpu_seconds()).map(|(a, b)| b - a);
    let target = if hosts >= 100_000 {
        "< 300 s, < 4096 MiB"
    } else {
        "< 20 s"
    };
    println!(
        "{hosts:>7} hosts {policy:>9}: {:.0} workloads resident, {:.1}% of hosts in use, {} admissions ({} blocked), {} events in {secs:.1} s wall, {} CPU; peak RSS {} (target {target})",
        m.workloads_hosted_mean,
        100.0 * m.hosts_used_mean / hosts as f64,
        m.arrivals - m.blocked,
        m.blocked,
        m.events,
        cpu.map_or("n/a".into(), |c| format!("{c:.1} s")),
        peak_rss_mib().map_or("n/a".into(), |x| format!("{x:.0} MiB")),
    );
}

fn main() {
    if let Ok(case) = std::env::var("CAPSIM_SCALE_CASE") {
        let (hosts, policy) = case.split_once(':').expect("HOSTS:POLICY");
        run_case(hosts.parse().expect("hosts"), policy);
        return;
    }
    let sizes = std::env::var("CAPSIM_SCALE_HOSTS").unwrap_or_else(|_| "10000,100000".into());
    let policies = std::env::var("CAPSIM_SCALE_POLICIES")
        .unwrap_or_else(|_| "first-fit,best-fit,spread".into());
    let exe = std::env::current_exe().expect("own path");
    for hosts in sizes.split(',') {
        for policy in policies.split(',') {
            let status = Command::new(&exe)
                .env("CAPSIM_SCALE_CASE", format!("{hosts}:{policy}"))
                .status()
                .expect("run a case");
            assert!(status.success(), "case {hosts}:{policy} failed");
        }
    }
}
