//! Host types: cores, SMT, memory, the hypervisor base layer, and the limits a planner runs
//! them at. Mainframe-style hosts differ from x86 by profile, not by code.

use serde::Serialize;

use crate::model::interference::{PerResource, Resource};
use crate::model::layer::Layer;
use crate::profiles::{HostParam, Profile, TextKey};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    X86,
    Mainframe,
}

#[derive(Clone, Debug, Serialize)]
pub struct HostType {
    /// The name the scenario gives the fleet (e.g. `x86`).
    pub name: String,
    pub family: Family,
    pub count: u32,
    pub cores: f64,
    pub threads_per_core: f64,
    pub smt_gain: f64,
    pub core_speed: f64,
    pub memory_mib: f64,
    pub reserved_mib: f64,
    pub cpu_ceiling: f64,
    pub memory_overcommit: f64,
    pub paging_slope: f64,
    pub steal_per_overcommit: f64,
    pub steal_max: f64,
    pub shared_pool_load: f64,
    pub lpar_weight_share: f64,
    pub prsm_contention_overhead: f64,
    /// ksmd settings of this host type's kernel.
    #[serde(skip)]
    pub ksm: crate::model::ksm::KsmSettings,
    /// Base layer under everything (PR/SM on a mainframe); `None` for bare metal.
    pub hypervisor: Option<Layer>,
}

impl HostType {
    pub fn from_profile(
        name: &str,
        count: u32,
        p: &Profile,
        hypervisor: Option<Layer>,
    ) -> HostType {
        HostType {
            name: name.to_string(),
            family: match p.text(TextKey::Family) {
                Some("mainframe") => Family::Mainframe,
                _ => Family::X86,
            },
            count,
            cores: p.value(HostParam::Cores),
            threads_per_core: p.value(HostParam::ThreadsPerCore),
            smt_gain: p.value(HostParam::SmtGain),
            core_speed: p.value(HostParam::CoreSpeed),
            memory_mib: p.value(HostParam::MemoryGib) * 1024.0,
            reserved_mib: p.value(HostParam::HostReservedMib),
            cpu_ceiling: p.value(HostParam::CpuCeiling),
            memory_overcommit: p.value(HostParam::MemoryOvercommit),
            paging_slope: p.value(HostParam::PagingSlope),
            steal_per_overcommit: p.value(HostParam::StealPerOvercommit),
            steal_max: p.value(HostParam::StealMax),
            shared_pool_load: p.value(HostParam::SharedPoolLoad),
            lpar_weight_share: p.value(HostParam::LparWeightShare),
            prsm_contention_overhead: p.value(HostParam::PrsmContentionOverhead),
            ksm: Default::default(),
            hypervisor,
        }
    }

    /// CPU factor of the base hypervisor (1.0 on bare metal). On shared processors the
    /// PR/SM overhead rises with the load of the other LPARs (up to ~12%).
    pub fn hypervisor_factor(&self) -> f64 {
        self.hypervisor.as_ref().map_or(1.0, |h| h.cpu_factor)
            + self.prsm_contention_overhead * self.shared_pool_load
    }

    /// Share of its processors the LPAR gets: all of them when the shared pool is idle,
    /// its PR/SM weight's share when the other LPARs are fully busy.
    pub fn processor_share(&self) -> f64 {
        self.lpar_weight_share + (1.0 - self.lpar_weight_share) * (1.0 - self.shared_pool_load)
    }

    /// Fraction of delivered CPU lost to steal with `vcpus` virtual CPUs on the host:
    /// rises with the overcommit of vCPUs over hardware threads, up to `steal_max`.
    pub fn steal_fraction(&self, vcpus: f64) -> f64 {
        let threads = self.cores * self.threads_per_core;
        let over = (vcpus / threads - 1.0).max(0.0);
        (self.steal_per_overcommit * over).min(self.steal_max)
    }

    /// Cores available to guests, in reference cores, with one thread busy per core.
    fn base_cores(&self) -> f64 {
        self.cores * self.core_speed * self.processor_share() / self.hypervisor_factor()
    }

    /// Peak throughput in reference cores with every hardware thread busy.
    pub fn cpu_capacity(&self) -> f64 {
        self.base_cores() * self.smt_gain
    }

    /// CPU a planner may reserve on the host (the utilisation ceiling).
    pub fn cpu_reservable(&self) -> f64 {
        self.cpu_ceiling * self.cpu_capacity()
    }

    /// Throughput the host delivers for a runnable demand of `demand` reference cores.
    /// Up to one thread per core, demand runs at full speed. Past that, extra runnable
    /// threads land on SMT siblings, each adding only (smt_gain − 1)/(threads − 1) of a
    /// core, until every thread is busy and throughput reaches `cores × smt_gain`.
    pub fn throughput(&self, demand: f64) -> f64 {
        self.throughput_scaled(demand, 1.0)
    }

    /// [`HostType::throughput`] on `scale` × the cores (steal takes the rest).
    pub fn throughput_scaled(&self, demand: f64, scale: f64) -> f64 {
        let c = self.base_cores() * scale;
        if demand <= c {
            return demand;
        }
        if self.threads_per_core <= 1.0 {
            return c;
        }
        let per_extra_thread = (self.smt_gain - 1.0) / (self.threads_per_core - 1.0);
        c + (demand.min(c * self.threads_per_core) - c) * per_extra_thread
    }

    /// Memory admission limit for what workloads commit (the host OS's reservation is
    /// already taken): overcommit × physical − reserved.
    pub fn memory_admissible_mib(&self) -> f64 {
        self.memory_overcommit * self.memory_mib - self.reserved_mib - self.hypervisor_fixed_mib()
    }

    /// Physical memory workloads can be resident in (what paging starts beyond).
    pub fn memory_physical_mib(&self) -> f64 {
        self.memory_mib - self.reserved_mib - self.hypervisor_fixed_mib()
    }

    /// Slowdown factor from paging when `resident_mib` is resident: 1 up to physical
    /// memory, then a steep linear cliff (`paging_slope` per unit of overcommit).
    pub fn paging_factor(&self, resident_mib: f64) -> f64 {
        let phys = self.memory_physical_mib();
        if resident_mib <= phys || phys <= 0.0 {
            1.0
        } else {
            1.0 + self.paging_slope * (resident_mib / phys - 1.0)
        }
    }

    /// Neighbour pressure arriving from beyond this host: the other LPARs on a shared
    /// processor pool press on cpu, llc and membw with their load (`shared_pool_load`, 0
    /// with dedicated processors) through the PR/SM boundary's `attenuation`; I/O and
    /// network take separate paths.
    pub fn outside_pressure(&self) -> PerResource {
        let p = self
            .hypervisor
            .as_ref()
            .map_or(0.0, |h| h.attenuation * self.shared_pool_load);
        let mut v = [0.0; Resource::COUNT];
        for r in [Resource::Cpu, Resource::Llc, Resource::Membw] {
            v[r as usize] = p;
        }
        v
    }

    fn hypervisor_fixed_mib(&self) -> f64 {
        self.hypervisor.as_ref().map_or(0.0, |h| h.mem_fixed_mib)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profiles::ProfileSet;

    fn x86() -> HostType {
        let set = ProfileSet::builtin().unwrap();
        HostType::from_profile("x86", 1, set.host("x86-2s").unwrap(), None)
    }

    #[test]
    fn smt_throughput_is_piecewise_linear() {
        let h = x86(); // 64 cores, 2 threads, gain 1.25
        assert_eq!(h.throughput(10.0), 10.0);
        assert_eq!(h.throughput(64.0), 64.0);
        // 32 extra runnable threads add 32 × 0.25 cores.
        assert!((h.throughput(96.0) - 72.0).abs() < 1e-12);
        assert!((h.throughput(1000.0) - 80.0).abs() < 1e-12);
        assert!((h.cpu_capacity() - 80.0).abs() < 1e-12);
        assert!((h.cpu_reservable() - 64.0).abs() < 1e-12);
    }

    #[test]
    fn prsm_overhead_reduces_capacity() {
        let set = ProfileSet::builtin().unwrap();
        let hyp = Layer::from_profile(set.layer("lpar-prsm").unwrap());
        let h = HostType::from_profile("z", 1, set.host("mainframe-lpar").unwrap(), Some(hyp));
        // 16 IFLs × 1.3 / 1.001
        assert!((h.cpu_capacity() - 16.0 * 1.3 / 1.001).abs() < 1e-9);
    }
}
