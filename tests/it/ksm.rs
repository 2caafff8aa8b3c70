//! KSM, shared segments and the overcommit cliff inside the full simulation.

use capsim::metrics::RunMetrics;
use capsim::scenario::Scenario;
use capsim::sim::{RunOptions, run_config};

fn tuning() -> Scenario {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/scenarios/ksm-tuning.toml"
    ))
    .unwrap();
    Scenario::from_toml("ksm-tuning.toml", "ksm-tuning", &text).unwrap()
}

fn run(sc: &Scenario, host: &str) -> RunMetrics {
    super::run_checked(sc, "vm", host)
}

/// Identical pages per guest: the identical 18% of the 220 MiB guest OS + the 400 MiB
/// image, in 4 KiB pages (rounded per segment as the model books them).
fn identical_pages() -> f64 {
    (0.18f64 * 220.0 * 256.0).round() + 400.0 * 256.0
}

#[test]
fn identical_guests_merge_to_n_minus_one_copies() {
    let sc = tuning();
    let s = identical_pages();
    let default = run(&sc, "ksm-default");
    assert_eq!(default.ksm.get("pages_sharing"), Some(39.0 * s));
    assert_eq!(default.ksm.get("pages_shared"), Some(s));
    // Unique pages: the other 82% of each guest OS plus the 1024 MiB private memory.
    let unique = (220.0f64 * 0.82 * 256.0).round() + 1024.0 * 256.0;
    assert_eq!(default.ksm.get("pages_unshared"), Some(40.0 * unique));
    // KSM off: nothing saved, no ksmd.
    let off = run(&sc, "ksm-off");
    assert_eq!(off.mem_saved_mib_per_host.get("ksm"), Some(0.0));
    assert!(off.ksm.0.is_empty());
    // Committed memory (what admission counts) does not change: KSM savings become
    // density only through overcommit.
    // (equal up to summation order: KSM events split the time integral differently)
    let (a, b) = (
        off.mem_committed_mib_per_host,
        default.mem_committed_mib_per_host,
    );
    assert!((a - b).abs() < 1e-9 * a, "{a} vs {b}");
    assert!(default.mem_resident_mib_per_host < off.mem_resident_mib_per_host);
}

#[test]
fn tenant_scope_never_merges_across_tenants() {
    let sc = tuning();
    let s = identical_pages();
    let t = run(&sc, "ksm-tenant");
    // 4 tenants × 10 guests: each tenant keeps its own copy.
    assert_eq!(t.ksm.get("pages_sharing"), Some(4.0 * 9.0 * s));
    assert_eq!(t.ksm.get("pages_shared"), Some(4.0 * s));
}

#[test]
fn time_to_merge_follows_the_scan_rate() {
    let sc = tuning();
    // Every guest: 220 + 400 + 1024 MiB of mergeable guest RAM.
    let pass_pages = 40.0 * (220.0 + 400.0 + 1024.0) * 256.0;
    for (host, rate) in [
        ("ksm-default", 100.0 / 0.02443),
        ("ksm-aggressive", 1000.0 / 0.0283),
    ] {
        let m = run(&sc, host);
        let pass_s = pass_pages / rate;
        let t = m.ksm.get("time_to_full_merge_s").unwrap();
        // The last guest's copy is reached near the end of the second full scan; guests
        // start over a few tens of seconds of boot storm, hence the tolerance.
        assert!(
            t > 1.8 * pass_s && t < 2.05 * pass_s,
            "{host}: {t} s vs pass {pass_s} s"
        );
        assert!((m.ksm.get("scan_rate_pages_per_s").unwrap() / rate - 1.0).abs() < 0.01);
    }
    let d = run(&sc, "ksm-default")
        .ksm
        .get("time_to_full_merge_s")
        .unwrap();
    let a = run(&sc, "ksm-aggressive")
        .ksm
        .get("time_to_full_merge_s")
        .unwrap();
    // 10× pages_to_scan is only ~8.6× the rate: the per-page cost starts to show.
    assert!(a / d > 1.0 / 10.0 && a / d < 1.0 / 7.5, "ratio {}", a / d);
}

#[test]
fn ksmd_cpu_is_the_duty_cycle() {
    let sc = tuning();
    let m = run(&sc, "ksm-default");
    // (140 µs per wake + 100 × 4.3 µs) every 24.43 ms.
    let duty = (140e-6 + 100.0 * 4.3e-6) / (0.024 + 100.0 * 4.3e-6);
    let ksmd = m.cpu_breakdown_cores_per_host.get("ksmd").unwrap();
    assert!((ksmd / duty - 1.0).abs() < 0.01, "{ksmd} vs {duty}");
    // The kernel-style accounting agrees: wake-ups × 140 µs + pages × 4.3 µs over the run.
    let cpu_s = m.ksm.get("ksmd_cpu_s").unwrap();
    assert!((cpu_s / (duty * 14400.0) - 1.0).abs() < 0.01, "{cpu_s}");
}

#[test]
fn zvm_shared_segments_share_from_guest_start_without_scanning() {
    let sc = super::scenario(
        r#"
        horizon_s = 600
        [hosts.z]
        profile = "mainframe-lpar"
        count = 1
        [placements.zvm-guest]
        layers = ["guest-zvm"]
        [workloads.web]
        count = 10
        private_mib = 512
        image_mib = 300
        image_segment = true
        cpu_cores = 0.1
        "#,
    );
    let m = run_config(
        &sc,
        super::config(&sc, "zvm-guest", "z"),
        RunOptions::default(),
    )
    .unwrap();
    // NSS: the identical 18% of the 220 MiB guest OS; DCSS: the 300 MiB image; one copy
    // for 10 guests from the start, no ksmd.
    let want = 9.0 * ((0.18f64 * 220.0 * 1024.0).round() / 1024.0 + 300.0);
    let got = m.mem_saved_mib_per_host.get("shared_segments").unwrap();
    assert!((got - want).abs() < 1e-6, "{got} vs {want}");
    assert!(m.ksm.0.is_empty());
    assert!(m.cpu_breakdown_cores_per_host.get("ksmd").is_none());
}

#[test]
fn overcommit_past_physical_memory_hits_the_paging_cliff() {
    // 16 GiB host, 4 GiB reserved: 12288 MiB physical. 10 containers of 1500 MiB commit
    // 10 × (1500 + 8.4) + 100 = 15184 MiB: allowed with overcommit 1.5, resident beyond
    // physical by r = 15184 / 12288 → slowdown × (1 + 20 (r − 1)).
    let sc = super::scenario(
        r#"
        horizon_s = 100
        warmup_s = 10
        [hosts.small]
        profile = "x86-2s"
        count = 1
        memory_gib = 16
        memory_overcommit = 1.5
        [placements.c]
        layers = ["container-runc"]
        [workloads.app]
        count = 10
        private_mib = 1500
        image_mib = 100
        cpu_cores = 0.1
        "#,
    );
    let m = run_config(
        &sc,
        super::config(&sc, "c", "small"),
        RunOptions {
            check_invariants: true,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(m.blocked, 0);
    let resident = 10.0 * (1500.0 + (8.4f64 * 1024.0).round() / 1024.0) + 100.0;
    let paging = 1.0 + 20.0 * (resident / 12288.0 - 1.0);
    assert!(
        (m.slowdown_p50 / (1.01 * paging) - 1.0).abs() < 0.006,
        "{} vs {}",
        m.slowdown_p50,
        1.01 * paging
    );
    assert_eq!(m.time_over_physical_fraction, 1.0);
}
