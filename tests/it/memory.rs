//! Memory per workload: bare-metal containers vs one VM per workload on the same fleet
//! differ by exactly the configured layer overheads plus the duplicated image copies.

use capsim::model::layer::Layer;

const N: f64 = 40.0;

fn fleet() -> capsim::scenario::Scenario {
    super::scenario(
        r#"
        horizon_s = 600
        [hosts.x86]
        profile = "x86-2s"
        count = 1
        [placements.bare-metal-containers]
        layers = ["container-runc"]
        [placements.vm]
        layers = ["vm-kvm"]
        [placements.containers-in-vm]
        layers = ["vm-kvm", "container-runc"]
        vm_per = "tenant"
        containers_per_vm = 8
        [workloads.web]
        count = 40
        tenants = 2
        private_mib = 1000
        image_mib = 300
        cpu_cores = 0.2
        "#,
    )
}

fn per_workload(sc: &capsim::scenario::Scenario, placement: &str) -> capsim::metrics::RunMetrics {
    super::run_checked(sc, placement, "x86")
}

#[test]
fn vm_costs_guest_kernel_image_copy_and_qemu_per_workload() {
    let sc = fleet();
    let runc = Layer::from_profile(sc.profiles.layer("container-runc").unwrap());
    let kvm = Layer::from_profile(sc.profiles.layer("vm-kvm").unwrap());
    let bm = per_workload(&sc, "bare-metal-containers");
    let vm = per_workload(&sc, "vm");
    assert_eq!(bm.blocked + vm.blocked, 0);
    let (own, image) = (1000.0, 300.0);
    // Bare metal: own memory + the runtime's overhead, and one image copy for the host.
    let bm_want = own + runc.overhead_mib(own, 1.0) + image / N;
    // VM: guest kernel + its own image copy + own memory, plus QEMU sized on that RAM.
    let ram = kvm.guest_os_mib + image + own;
    let vm_want = ram + kvm.overhead_mib(ram, 1.0);
    // Memory is booked in whole KiB: allow the rounding of each part.
    assert!(
        (bm.mem_per_workload_mib - bm_want).abs() < 0.01,
        "{} vs {bm_want}",
        bm.mem_per_workload_mib
    );
    assert!(
        (vm.mem_per_workload_mib - vm_want).abs() < 0.01,
        "{} vs {vm_want}",
        vm.mem_per_workload_mib
    );
    let diff = vm.mem_per_workload_mib - bm.mem_per_workload_mib;
    let overheads = kvm.guest_os_mib + kvm.overhead_mib(ram, 1.0) - runc.overhead_mib(own, 1.0);
    let duplicated_images = image * (1.0 - 1.0 / N);
    assert!(
        (diff - (overheads + duplicated_images)).abs() < 0.02,
        "{diff}"
    );
    // The breakdown names where it goes: 40 guest kernels and 40 image copies vs one.
    let g = vm.mem_breakdown_mib_per_host.get("guest_kernels").unwrap();
    assert!((g - N * 220.0).abs() < 0.01);
    assert!((bm.mem_breakdown_mib_per_host.get("image_copies").unwrap() - image).abs() < 0.01);
}

#[test]
fn per_tenant_vms_pack_containers_and_commit_empty_slots() {
    let sc = fleet();
    let m = per_workload(&sc, "containers-in-vm");
    // 40 workloads over 2 tenants, 8 per VM → ceil(20/8) = 3 VMs per tenant = 6 VMs.
    assert!((m.vms_mean - 6.0).abs() < 1e-9, "{}", m.vms_mean);
    // 6 VMs × 8 slots = 48 slots for 40 workloads: 8 empty slots committed, not resident.
    let runc = Layer::from_profile(sc.profiles.layer("container-runc").unwrap());
    let slot = 1000.0 + runc.overhead_mib(1000.0, 1.0);
    let unused = m
        .mem_breakdown_mib_per_host
        .get("unused_vm_capacity")
        .unwrap();
    assert!((unused - 8.0 * slot).abs() < 0.05, "{unused}");
    assert!((m.mem_committed_mib_per_host - m.mem_resident_mib_per_host - unused).abs() < 1e-6);
}

#[test]
fn memory_bound_host_blocks_what_does_not_fit() {
    // 1 host of 64 GiB − 4 GiB reserved = 61440 MiB; a VM of this workload commits
    // 220 + 300 + 1000 = 1520 MiB RAM + 30 + 1520/512 MiB QEMU = 1552.97 MiB → 39 fit.
    let text = fleet().source_text().replace(
        "profile = \"x86-2s\"",
        "profile = \"x86-2s\"\nmemory_gib = 64",
    );
    let sc = super::scenario(&text);
    let m = per_workload(&sc, "vm");
    assert_eq!(m.arrivals, 40);
    assert_eq!(m.blocked, 1);
}
