//! Noisy neighbours, phases, dedicated CPU, start-up under concurrency and rollouts.

use capsim::scenario::Scenario;

fn file(name: &str) -> String {
    std::fs::read_to_string(format!("{}/scenarios/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

use super::run_checked as run;

fn shortened(text: &str) -> Scenario {
    let t = text.replace("horizon_s = 21600", "horizon_s = 5400");
    Scenario::from_toml("s.toml", "s", &t).unwrap()
}

#[test]
fn zero_pressure_gives_the_cpu_only_slowdown() {
    let text = file("noisy-neighbours.toml");
    let with = shortened(&text);
    let zero = shortened(
        &text
            .replace("pressure = { llc = 0.004, membw = 0.004 }", "pressure = {}")
            .replace(
                "pressure = { cpu = 0.01, llc = 0.02, membw = 0.025 }",
                "pressure = {}",
            ),
    );
    let plain = shortened(
        &text
            .lines()
            .filter(|l| !l.starts_with("pressure") && !l.starts_with("sensitivity"))
            .collect::<Vec<_>>()
            .join("\n"),
    );
    for p in ["bare-metal-containers", "containers-in-vm", "vm"] {
        let z = run(&zero, p, "high-density");
        let n = run(&plain, p, "high-density");
        // Bit-identical: interference multiplies by exactly 1 without pressure.
        assert_eq!(z.slowdown_p99, n.slowdown_p99, "{p}");
        assert_eq!(z.slowdown_mean, n.slowdown_mean, "{p}");
        assert_eq!(z.extra.get("interference_mean"), None);
        let w = run(&with, p, "high-density");
        assert!(
            w.slowdown_mean > n.slowdown_mean,
            "{p}: neighbours must hurt"
        );
    }
}

#[test]
fn isolation_orders_the_harm_bare_metal_then_containers_in_vm_then_vm() {
    let sc = shortened(&file("noisy-neighbours.toml"));
    for host in ["low-density", "high-density"] {
        let i = |p| run(&sc, p, host).extra.get("interference_mean").unwrap();
        let (bm, civ, vm) = (i("bare-metal-containers"), i("containers-in-vm"), i("vm"));
        assert!(
            bm >= civ && civ >= vm && vm > 1.0,
            "{host}: {bm} {civ} {vm}"
        );
    }
    // And denser hosts hurt more.
    let lo = run(&sc, "bare-metal-containers", "low-density")
        .extra
        .get("interference_mean")
        .unwrap();
    let hi = run(&sc, "bare-metal-containers", "high-density")
        .extra
        .get("interference_mean")
        .unwrap();
    assert!(hi > lo);
}

#[test]
fn dedicated_workloads_never_exceed_their_reservation() {
    // Checked mode fails the run if any dedicated allocation exceeds request × factor;
    // demand (ON at 0.8 cores, cv 0.25) often exceeds the 0.5-core reservation, so the
    // cap is exercised and shows as throttling.
    let text =
        file("dedicated-vs-burstable.toml").replace("cpu_request = 1.0 ", "cpu_request = 0.5 ");
    let sc = shortened(&text);
    let d = run(&sc, "bare-metal-containers", "dedicated-fleet");
    assert!(d.extra.get("slowdown_p99.svc-dedicated").unwrap() > 1.5);
    let b = run(&sc, "bare-metal-containers", "burstable-fleet");
    // Reserving the mean packs more per host than reserving more.
    assert!(b.density_per_host > d.density_per_host);
}

#[test]
fn start_latency_rises_with_concurrent_starts() {
    let one = |count: u32| {
        let sc = super::scenario(&format!(
            r#"
            horizon_s = 600
            [hosts.x86]
            profile = "x86-2s"
            count = 1
            [placements.vm]
            layers = ["vm-kvm"]
            [workloads.w]
            count = {count}
            private_mib = 256
            cpu_cores = 0.1
            "#
        ));
        run(&sc, "vm", "x86").start_latency_p95_s
    };
    let (p1, p10, p40) = (one(1), one(10), one(40));
    assert!(p1 < p10 && p10 < p40, "{p1} {p10} {p40}");
    // 40 VMs booting together: the 40th sees 39 others in flight → ×(1 + 0.1 × 39).
    assert!(p40 > 3.0 * 4.6, "{p40}");
}

#[test]
fn rollout_takes_waves_times_restart_time() {
    // A layer with a fixed 10 s start (p95 = median → no spread, no concurrency slope):
    // 20 instances in batches of 3 → ceil(20/3) = 7 waves → 70 s; 20 × 10 s lost.
    let sc = super::scenario(
        r#"
        horizon_s = 3600
        [layers.fixed]
        kind = "container"
        start_median_s = 10
        start_p95_s = 10
        [hosts.x86]
        profile = "x86-2s"
        count = 1
        [placements.c]
        layers = ["fixed"]
        [workloads.w]
        count = 20
        private_mib = 100
        cpu_cores = 0.1
        [[rollout]]
        name = "patch"
        workload = "w"
        start_s = 1000
        batch_size = 3
        "#,
    );
    let m = run(&sc, "c", "x86");
    assert!((m.extra.get("rollout.patch.duration_s").unwrap() - 70.0).abs() < 1e-6);
    assert_eq!(m.extra.get("rollout.patch.waves"), Some(7.0));
    assert!(
        (m.extra
            .get("rollout.patch.capacity_lost_instance_s")
            .unwrap()
            - 200.0)
            .abs()
            < 1e-6
    );
    // While a wave restarts, 3 of 20 instances are down: running < hosted on average.
    assert!(m.workloads_running_mean < m.workloads_hosted_mean);
}

#[test]
fn steal_needs_vcpu_overcommit_and_lpar_sharing_costs_capacity() {
    let text = |placement: &str, extra: &str| {
        format!(
            r#"
            horizon_s = 600
            [hosts.x86]
            profile = "x86-2s"
            count = 1
            {extra}
            [placements.p]
            layers = {placement}
            [workloads.w]
            count = 200
            private_mib = 256
            vcpus = 2
            cpu_cores = 0.1
            cpu_request = 0.1
            "#
        )
    };
    // 200 VMs × 2 vCPUs on 128 threads: overcommit 3.125 → steal min(0.12, 0.06 × 2.125).
    let sc = super::scenario(&text("[\"vm-kvm\"]", ""));
    let m = run(&sc, "p", "x86");
    let useful_plus = m.cpu_breakdown_cores_per_host.total()
        - m.cpu_breakdown_cores_per_host.get("steal").unwrap();
    let steal = m.cpu_breakdown_cores_per_host.get("steal").unwrap();
    assert!(
        (steal / useful_plus - 0.12 / 0.88).abs() < 1e-3,
        "{steal} / {useful_plus}"
    );
    // Containers bring no vCPUs: no steal column at all.
    let sc = super::scenario(&text("[\"container-runc\"]", ""));
    assert!(
        run(&sc, "p", "x86")
            .cpu_breakdown_cores_per_host
            .get("steal")
            .is_none()
    );
    // An LPAR on a half-busy shared pool with a 50% weight gets 75% of its IFLs, and PR/SM
    // overhead 0.001 + 0.119 × 0.5.
    let z = capsim::model::host::HostType::from_profile(
        "z",
        1,
        capsim::profiles::ProfileSet::builtin()
            .unwrap()
            .host("mainframe-lpar")
            .unwrap(),
        None,
    );
    let mut shared = z.clone();
    shared.shared_pool_load = 0.5;
    shared.lpar_weight_share = 0.5;
    assert!((shared.processor_share() - 0.75).abs() < 1e-12);
    assert!((shared.hypervisor_factor() - (1.0 + 0.119 * 0.5)).abs() < 1e-12);
    assert!((shared.cpu_capacity() / z.cpu_capacity() - 0.75 / (1.0 + 0.0595)).abs() < 1e-9);
}

#[test]
fn kernel_patch_reboots_whole_vms_with_their_containers() {
    // 20 containers of one tenant, 10 per VM → 2 VMs. Fixed start times: VM boot 20 s,
    // container 1 s. A kernel patch with batch 5 reboots one whole VM per wave (10 ≥ 5):
    // 2 waves × (20 + 1) s = 42 s; every container is down 21 s → 420 instance-s.
    let sc = super::scenario(
        r#"
        horizon_s = 3600
        [layers.vm-fixed]
        kind = "vm"
        kernel = true
        start_median_s = 20
        start_p95_s = 20
        [layers.ctr-fixed]
        kind = "container"
        start_median_s = 1
        start_p95_s = 1
        [hosts.x86]
        profile = "x86-2s"
        count = 1
        [placements.civ]
        layers = ["vm-fixed", "ctr-fixed"]
        vm_per = "tenant"
        containers_per_vm = 10
        [workloads.w]
        count = 20
        private_mib = 100
        cpu_cores = 0.1
        [[rollout]]
        name = "patch"
        workload = "w"
        start_s = 600
        batch_size = 5
        scope = "kernel"
        [[rollout]]
        name = "redeploy"
        workload = "w"
        start_s = 1800
        batch_size = 5
        "#,
    );
    let m = run(&sc, "civ", "x86");
    assert_eq!(m.extra.get("rollout.patch.waves"), Some(2.0));
    assert!((m.extra.get("rollout.patch.duration_s").unwrap() - 42.0).abs() < 1e-6);
    assert!(
        (m.extra
            .get("rollout.patch.capacity_lost_instance_s")
            .unwrap()
            - 420.0)
            .abs()
            < 1e-6
    );
    // An image redeploy restarts only the containers: 4 waves × 1 s.
    assert!((m.extra.get("rollout.redeploy.duration_s").unwrap() - 4.0).abs() < 1e-6);
}

#[test]
fn io_bound_share_runs_at_the_stack_io_factor() {
    // Half of each request is I/O: under a container (io_factor 1, cpu 1.01) the slowdown
    // is 0.5 × 1.01 + 0.5 × 1; under a KVM VM (cpu 1.02, virtio io_factor 2) it is
    // 0.5 × 1.02 + 0.5 × 2 — uncontended, so nothing else adds to it.
    let sc = super::scenario(
        r#"
        horizon_s = 600
        warmup_s = 60
        [hosts.x86]
        profile = "x86-2s"
        count = 1
        [placements.c]
        layers = ["container-runc"]
        [placements.vm]
        layers = ["vm-kvm"]
        [workloads.db]
        count = 10
        private_mib = 512
        io_fraction = 0.5
        cpu_cores = 0.2
        "#,
    );
    let c = run(&sc, "c", "x86").slowdown_mean;
    let v = run(&sc, "vm", "x86").slowdown_mean;
    assert!((c - (0.5 * 1.01 + 0.5)).abs() < 1e-9, "{c}");
    assert!((v - (0.5 * 1.02 + 0.5 * 2.0)).abs() < 1e-9, "{v}");
}

#[test]
fn other_lpars_on_a_shared_pool_press_through_the_lpar_boundary() {
    // No pressure from the workloads themselves: all interference comes from the other
    // LPARs. Pool load 0.5 through PR/SM's attenuation 0.3 → x = 0.15 on cpu, llc and
    // membw; with sensitivity llc = 0.4 only: 1 + 0.4 (1 − e^(−0.15)).
    let text = |load: f64| {
        format!(
            r#"
            horizon_s = 600
            warmup_s = 60
            [hosts.z]
            profile = "mainframe-lpar"
            count = 1
            shared_pool_load = {load}
            [placements.g]
            layers = ["guest-zvm"]
            [workloads.w]
            count = 10
            private_mib = 512
            cpu_cores = 0.2
            sensitivity = {{ llc = 0.4 }}
            "#
        )
    };
    let dedicated = run(&super::scenario(&text(0.0)), "g", "z");
    assert_eq!(
        dedicated.extra.get("interference_mean"),
        None,
        "no pressure anywhere"
    );
    let shared = run(&super::scenario(&text(0.5)), "g", "z");
    let want = 1.0 + 0.4 * (1.0 - (-0.15f64).exp());
    let got = shared.extra.get("interference_mean").unwrap();
    assert!((got - want).abs() < 1e-12, "{got} vs {want}");
}
