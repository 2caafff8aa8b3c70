//! Conservation laws checked at every event (the simulator's checked mode recounts every
//! host's memory from its VMs and workloads and compares with the incremental books; it
//! also checks CPU allocated ≤ capacity and the admission limits).

use capsim::scenario::Scenario;
use capsim::sim::{RunOptions, run_config};

#[test]
fn default_scenario_conserves_memory_and_cpu_at_every_event() {
    let text = capsim::scenario::DEFAULT_SCENARIO
        .replace("horizon_s = 86400", "horizon_s = 20000")
        .replace("count = 4", "count = 2");
    let sc = Scenario::from_toml("default.toml", "default", &text).unwrap();
    for cfg in sc.configs() {
        let opts = RunOptions {
            check_invariants: true,
            ..Default::default()
        };
        let m = run_config(&sc, cfg, opts)
            .unwrap_or_else(|e| panic!("{}: {e}", sc.placements[cfg.placement].name));
        assert!(m.arrivals > 500, "{}", m.arrivals);
        // Committed memory is the sum of its reported parts (host reserved included).
        let parts = m.mem_breakdown_mib_per_host.total();
        assert!(
            (parts - m.mem_committed_mib_per_host).abs() < 1e-6 * parts,
            "{parts} vs {}",
            m.mem_committed_mib_per_host
        );
        // Delivered CPU never exceeds the peak capacity of the hosts in use.
        assert!(m.cpu_utilisation <= 1.0 + 1e-9);
    }
}

#[test]
fn contended_host_hands_out_exactly_its_capacity() {
    // 8 cores without SMT, 16 workloads each wanting a full core. The 16 shims' background
    // (0.001 core each) is served first; the other 7.984 cores split equally (equal
    // weights): a = 0.499 each against a demand e = 1 × 1.01, so each request's CPU time
    // (× 1.01) is stretched by e / a: slowdown = 1.01 × 1.01 / 0.499.
    let sc = super::scenario(
        r#"
        horizon_s = 100
        warmup_s = 10          # measure after every container has started
        [hosts.small]
        profile = "x86-2s"
        count = 1
        cores = 8
        threads_per_core = 1
        smt_gain = 1.0
        cpu_ceiling = 1.0
        [placements.c]
        layers = ["container-runc"]
        [workloads.hog]
        count = 16
        private_mib = 10
        cpu_cores = 1.0
        cpu_request = 0.01
        "#,
    );
    let cfg = super::config(&sc, "c", "small");
    let m = run_config(
        &sc,
        cfg,
        RunOptions {
            check_invariants: true,
            ..Default::default()
        },
    )
    .unwrap();
    let a = (8.0 - 16.0 * 0.001) / 16.0;
    let want = 1.01 * 1.01 / a;
    assert!(
        (m.slowdown_p50 / want - 1.0).abs() < 0.006,
        "{}",
        m.slowdown_p50
    );
    // All 8 cores are busy; useful work is 16 a / 1.01 (the rest is the runtime's factor).
    let useful = m.cpu_breakdown_cores_per_host.get("useful").unwrap();
    let layer = m
        .cpu_breakdown_cores_per_host
        .get("layer:container-runc")
        .unwrap();
    assert!((useful - 16.0 * a / 1.01).abs() < 1e-9, "{useful}");
    // Conservation: useful + the runtime's overhead (factor + background) = the 8 cores.
    assert!((useful + layer - 8.0).abs() < 1e-9, "{useful} + {layer}");
}

/// Admission's host index and open-VM index make exactly a full scan's choice at every
/// admission (checked mode compares them), for every policy, with containers that carry
/// images (the image term), VMs packed per tenant and shared, on a fleet that fills up.
#[test]
fn admission_indexes_choose_what_a_scan_chooses() {
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("scripts/byte-identical/policies.toml"),
    )
    .unwrap()
    .replace("horizon_s = 43200", "horizon_s = 10800")
    .replace("warmup_s = 3600", "warmup_s = 0");
    let sc = crate::scenario(&text);
    let mut blocked = 0;
    for p in &sc.placements {
        let m = crate::run_checked(&sc, &p.name, "small");
        blocked += m.blocked;
        assert!(m.arrivals > 100, "{}: {} arrivals", p.name, m.arrivals);
    }
    // The fleet must fill up, or the indexes' pruning is never exercised.
    assert!(
        blocked > 0,
        "no admission was refused: the fleet never filled"
    );
}
