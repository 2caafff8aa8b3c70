//! M/M/c/c: c identical slots, Poisson arrivals, exponential lifetimes, blocking when full.
//! The model's blocking must match Erlang-B inside the 95% confidence interval.

use capsim::results::stats::mean_ci;
use capsim::sim::{RunOptions, run_config};

/// Erlang-B by the stable recurrence B(0) = 1, B(k) = A·B(k−1) / (k + A·B(k−1)).
fn erlang_b(c: u32, a: f64) -> f64 {
    (1..=c).fold(1.0, |b, k| a * b / (f64::from(k) + a * b))
}

#[test]
fn erlang_b_reference_values() {
    // The DESIGN.md reference system: c = 1000, A = 950 → 0.003649.
    assert!((erlang_b(1000, 950.0) - 0.003649).abs() < 5e-6);
    assert!((erlang_b(1, 1.0) - 0.5).abs() < 1e-15);
}

#[test]
fn blocking_matches_erlang_b() {
    // c = 20 slots: the host admits exactly 20 workloads of 100 MiB (no reserved memory,
    // no layer overhead, CPU never binds); A = λ/μ = 15 Erlang.
    let (c, lambda, mean_life) = (20u32, 15.0, 1.0);
    let toml = format!(
        r#"
        seed = 2024
        horizon_s = 1500
        warmup_s = 20
        [layers.null]
        description = "no overhead, instant start"
        kind = "container"
        [hosts.slots]
        profile = "x86-2s"
        count = 1
        memory_gib = {mem}
        host_reserved_mib = 0
        cpu_ceiling = 1.0
        [placements.processes]
        layers = ["null"]
        [workloads.job]
        arrival_rate_per_s = {lambda}
        lifetime_s = {{ dist = "exponential", mean = {mean_life} }}
        private_mib = 100
        cpu_cores = 0.001
        "#,
        mem = f64::from(c) * 100.0 / 1024.0,
    );
    let sc = super::scenario(&toml);
    let cfg = super::config(&sc, "processes", "slots");
    let reps = 20;
    let blocking: Vec<f64> = (0..reps)
        .map(|r| {
            let m = run_config(
                &sc,
                cfg,
                RunOptions {
                    replication: r,
                    ..Default::default()
                },
            )
            .unwrap();
            m.blocking_probability
        })
        .collect();
    let (mean, half) = mean_ci(&blocking, 0.95);
    let want = erlang_b(c, lambda * mean_life);
    assert!((want - 0.0456).abs() < 1e-3, "B(20, 15) = {want}");
    // The interval must be informative (not wide enough to contain anything)...
    assert!(half < 0.15 * want, "half-width {half} too wide");
    // ...and contain the analytic value.
    assert!(
        (mean - want).abs() <= half,
        "blocking {mean} ± {half} does not contain Erlang-B {want}"
    );
}
