//! Placements are layer stacks (host → workload). The stack splits in two:
//! the *unit* — every layer up to and including the innermost kernel layer — is created per
//! VM/guest instance and holds `slots` workloads; the *inner* layers (containers inside a VM)
//! are created per workload. A stack without a kernel layer runs every workload directly on
//! the host kernel. New placements are new layer lists in TOML, not new code.

use serde::Serialize;

use crate::model::layer::Layer;
use crate::model::workload::WorkloadClass;

/// Most layers a stack may have (fixed-size accounting arrays on the hot path).
pub const MAX_LAYERS: usize = 6;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum VmPer {
    /// VMs are shared by every tenant of the class.
    Shared,
    /// Each VM belongs to one tenant (the isolation-first choice).
    Tenant,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Policy {
    /// Lowest-numbered host that fits.
    FirstFit,
    /// The host left most loaded after placing (tight packing).
    BestFit,
    /// The host left least loaded after placing (load spreading).
    Spread,
}

impl Policy {
    pub const NAMES: [&'static str; 3] = ["first-fit", "best-fit", "spread"];

    pub fn parse(s: &str) -> Option<Policy> {
        match s {
            "first-fit" => Some(Policy::FirstFit),
            "best-fit" => Some(Policy::BestFit),
            "spread" => Some(Policy::Spread),
            _ => None,
        }
    }

    /// The load a host is left at after placing: the larger of its CPU reservation and its
    /// committed memory, each as a fraction of what the host admits.
    pub fn load_after(
        cpu_after_ucores: u64,
        reservable_ucores: u64,
        mem_after_kib: u64,
        admissible_kib: u64,
    ) -> f64 {
        (cpu_after_ucores as f64 / reservable_ucores as f64)
            .max(mem_after_kib as f64 / admissible_kib as f64)
    }

    /// Whether a host that would be left at `load` beats the best candidate so far
    /// (`None`: no candidate yet). Hosts are offered in index order, so ties go to the
    /// lowest index; first-fit takes the first host that fits.
    pub fn prefers(self, load: f64, best: Option<f64>) -> bool {
        match (self, best) {
            (_, None) => true,
            (Policy::FirstFit, Some(_)) => false,
            (Policy::BestFit, Some(b)) => load > b,
            (Policy::Spread, Some(b)) => load < b,
        }
    }

    /// Rank of an open VM with `used` workloads (the smallest rank takes the next
    /// workload): first-fit packs the fleet from the front (lowest host, then oldest VM),
    /// best-fit fills the fullest VM, spread the emptiest.
    pub fn vm_rank(self, host: u32, used: u32, vm: u32) -> (i64, i64) {
        match self {
            Policy::FirstFit => (i64::from(host), i64::from(vm)),
            Policy::BestFit => (-i64::from(used), i64::from(vm)),
            Policy::Spread => (i64::from(used), i64::from(vm)),
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Placement {
    pub name: String,
    pub description: String,
    /// Host → workload.
    pub layers: Vec<Layer>,
    /// Number of leading layers created once per VM/guest instance (0: host kernel).
    pub unit_depth: usize,
    /// Workloads per instance (1 unless inner layers pack several containers per VM).
    pub slots: u32,
    pub vm_per: VmPer,
    pub policy: Policy,
    /// Indices of the host types this placement runs on.
    pub host_types: Vec<usize>,
}

/// KiB in one MiB; memory is accounted in integer KiB so sums are exact.
pub const KIB_PER_MIB: f64 = 1024.0;

pub fn mib_to_kib(mib: f64) -> u64 {
    (mib * KIB_PER_MIB).round().max(0.0) as u64
}

/// What one workload of a class costs under a placement: the numbers admission and
/// accounting use, precomputed once per (class, placement).
#[derive(Clone, Debug, Serialize)]
pub struct Footprint {
    /// Product of every layer's CPU factor.
    pub cpu_factor: f64,
    /// CPU reserved per workload (request × factor + per-workload layer background), µcores.
    pub wl_cpu_reserve_ucores: u64,
    /// Background CPU of the per-workload layers (shims), cores.
    pub wl_background: f64,
    /// The workload's own memory (private + zero pages).
    pub wl_own_kib: u64,
    /// Overhead of each per-workload layer, indexed by stack position.
    pub wl_layer_kib: [u64; MAX_LAYERS],
    /// Image content, once per kernel.
    pub image_kib: u64,
    /// --- per unit (VM / guest); all zero when the stack has no kernel layer ---
    pub slots: u32,
    pub vm_vcpus: f64,
    /// Guest RAM of one instance: guest OS + image + slots × (own + inner overheads).
    pub guest_ram_kib: u64,
    pub guest_os_kib: u64,
    /// Host-side overhead of each unit layer (QEMU, virt-launcher), by stack position.
    pub unit_layer_kib: [u64; MAX_LAYERS],
    /// CPU reserved by one instance for all its slots, µcores.
    pub unit_cpu_reserve_ucores: u64,
    pub unit_background: f64,
}

impl Footprint {
    /// Memory one slot takes inside a guest (own memory + inner layer overheads).
    pub fn slot_kib(&self) -> u64 {
        self.wl_own_kib + self.wl_layer_kib.iter().sum::<u64>()
    }

    /// Everything one instance commits on the host.
    pub fn unit_commit_kib(&self) -> u64 {
        self.guest_ram_kib + self.unit_layer_kib.iter().sum::<u64>()
    }
}

pub fn ucores(cores: f64) -> u64 {
    (cores * 1e6).round().max(0.0) as u64
}

impl Placement {
    pub fn has_unit(&self) -> bool {
        self.unit_depth > 0
    }

    pub fn cpu_factor(&self) -> f64 {
        self.layers.iter().map(|l| l.cpu_factor).product()
    }

    /// Sizes one workload of `class` (and, for VM stacks, one VM) under this placement.
    pub fn footprint(&self, class: &WorkloadClass) -> Footprint {
        let cpu_factor = self.cpu_factor();
        let own = class.own_mib();
        let vcpus = class.vcpus;
        let mut wl_layer_kib = [0u64; MAX_LAYERS];
        let mut wl_background = 0.0;
        for (pos, l) in self.layers.iter().enumerate().skip(self.unit_depth) {
            wl_layer_kib[pos] = mib_to_kib(l.overhead_mib(own, vcpus));
            wl_background += l.cpu_background_cores;
        }
        let wl_reserve = class.cpu_request * cpu_factor + wl_background;
        let mut fp = Footprint {
            cpu_factor,
            wl_cpu_reserve_ucores: ucores(wl_reserve),
            wl_background,
            wl_own_kib: mib_to_kib(own),
            wl_layer_kib,
            image_kib: mib_to_kib(class.image_mib),
            slots: 1,
            vm_vcpus: 0.0,
            guest_ram_kib: 0,
            guest_os_kib: 0,
            unit_layer_kib: [0; MAX_LAYERS],
            unit_cpu_reserve_ucores: 0,
            unit_background: 0.0,
        };
        if !self.has_unit() {
            return fp;
        }
        fp.slots = self.slots;
        let unit = &self.layers[..self.unit_depth];
        let guest_os: f64 = unit
            .iter()
            .filter(|l| l.kernel)
            .map(|l| l.guest_os_mib)
            .sum();
        fp.guest_os_kib = mib_to_kib(guest_os);
        fp.guest_ram_kib = fp.guest_os_kib + fp.image_kib + u64::from(self.slots) * fp.slot_kib();
        fp.vm_vcpus = (f64::from(self.slots) * vcpus).ceil().max(1.0);
        let guest_mib = fp.guest_ram_kib as f64 / KIB_PER_MIB;
        for (pos, l) in unit.iter().enumerate() {
            fp.unit_layer_kib[pos] = mib_to_kib(l.overhead_mib(guest_mib, fp.vm_vcpus));
            fp.unit_background += l.cpu_background_cores;
        }
        fp.unit_cpu_reserve_ucores =
            u64::from(self.slots) * fp.wl_cpu_reserve_ucores + ucores(fp.unit_background);
        fp
    }
}
