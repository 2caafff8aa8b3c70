//! The world of one replication: hosts, VMs and workload instances as flat vectors
//! indexed by `u32` (free lists reuse slots), the gauges integrated over time, and the
//! per-configuration constants precomputed once.

use rand::SeedableRng;
use rand_xoshiro::Xoshiro256PlusPlus;

use crate::engine::{EventQueue, Generations, SimTime};
use crate::metrics::{QuantileSketch, TimelineRow};
use crate::model::cpu::{CpuBreakdown, CpuPart};
use crate::model::host::HostType;
use crate::model::host_index::{EMPTY_SET, Forest, HostIndex, HostUse};
use crate::model::interference::PerResource;
use crate::model::ksm::{Ksm, RegionId};
use crate::model::memory::{HostMemory, MemPart};
use crate::model::placement::{Footprint, MAX_LAYERS, Placement, VmPer};
use crate::scenario::{Config, Scenario};

use super::seeds::stream_seed;
use super::{Ev, RunOptions};

pub(super) const NONE: u32 = u32::MAX;
/// Content class of the identical part of a guest OS (images use their image id).
pub(super) const GUEST_OS_CLASS: u32 = 1 << 31;
pub(super) const PAGES_PER_MIB: f64 = 256.0;

/// A quantity tracked over time and integrated over the measured window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Gauge {
    /// Workloads admitted and not yet gone.
    Hosted,
    Running,
    HostsUsed,
    Vms,
    /// Reserved CPU, µcores.
    CpuReserved,
    SavedKsm,
    SavedSegments,
    SavedPageCache,
    /// Hosts whose resident memory exceeds physical memory.
    OverPhysical,
    Memory(MemPart),
    Cpu(CpuPart),
}

impl Gauge {
    pub(super) const COUNT: usize = 9 + MemPart::COUNT + CpuPart::COUNT;

    pub(super) fn index(self) -> usize {
        match self {
            Gauge::Hosted => 0,
            Gauge::Running => 1,
            Gauge::HostsUsed => 2,
            Gauge::Vms => 3,
            Gauge::CpuReserved => 4,
            Gauge::SavedKsm => 5,
            Gauge::SavedSegments => 6,
            Gauge::SavedPageCache => 7,
            Gauge::OverPhysical => 8,
            Gauge::Memory(p) => 9 + p.index(),
            Gauge::Cpu(c) => 9 + MemPart::COUNT + c.index(),
        }
    }
}

/// The fleet's gauges: their current levels and their integrals over the measured window.
#[derive(Clone, Debug)]
pub(super) struct Gauges {
    level: [f64; Gauge::COUNT],
    integral: [f64; Gauge::COUNT],
}

impl Gauges {
    pub(super) fn new() -> Gauges {
        Gauges {
            level: [0.0; Gauge::COUNT],
            integral: [0.0; Gauge::COUNT],
        }
    }

    pub(super) fn add(&mut self, g: Gauge, delta: f64) {
        self.level[g.index()] += delta;
    }

    pub(super) fn level(&self, g: Gauge) -> f64 {
        self.level[g.index()]
    }

    pub(super) fn integral(&self, g: Gauge) -> f64 {
        self.integral[g.index()]
    }

    /// Adds level × dt of every gauge.
    pub(super) fn integrate(&mut self, dt: f64) {
        for (i, a) in self.integral.iter_mut().zip(&self.level) {
            *i += a * dt;
        }
    }
}

/// Progress of one rollout.
#[derive(Clone, Debug, Default)]
pub(super) struct RolloutState {
    pub(super) targets: Vec<u32>,
    /// Targets already restarted (by id), so a VM reboot is not repeated for the
    /// containers it already took down.
    pub(super) done: Vec<bool>,
    pub(super) next: usize,
    pub(super) batch: usize,
    pub(super) in_flight: u32,
    pub(super) started: Option<SimTime>,
    pub(super) finished: Option<SimTime>,
    pub(super) waves: u32,
    pub(super) lost_instance_s: f64,
}

#[derive(Clone, Debug, Default)]
pub(super) struct Host {
    pub(super) mem: HostMemory,
    pub(super) cpu_reserved_ucores: u64,
    pub(super) running: Vec<u32>,
    pub(super) starts_in_flight: u32,
    /// Background CPU demand of the layer instances on the host, by stack position.
    pub(super) background: [f64; MAX_LAYERS],
    pub(super) hosted: u32,
    pub(super) units: u32,
    pub(super) last_flush: SimTime,
    pub(super) cpu: CpuBreakdown,
    /// ksmd of this host (None when KSM is off or nothing mergeable ever ran here).
    pub(super) ksm: Option<Ksm>,
    pub(super) ksm_regions: u32,
    pub(super) ksm_saved_kib: u64,
    pub(super) ksm_started: Option<SimTime>,
    pub(super) ksm_last_merge: SimTime,
    pub(super) ksm_last_sharing: u64,
    pub(super) ksm_last_cpu_ns: u64,
    pub(super) ksmd_demand: f64,
    /// vCPUs of the VMs on the host (steal grows with their overcommit).
    pub(super) vcpus: f64,
    /// Shared-segment content on the host: (class, guests using it).
    pub(super) segments: Vec<(u32, u32)>,
    pub(super) segment_saved_kib: u64,
    pub(super) pagecache_saved_kib: u64,
    pub(super) paging: f64,
    pub(super) over_physical: bool,
}

impl Host {
    pub(super) fn used(&self) -> bool {
        self.hosted > 0 || self.units > 0
    }
}

#[derive(Clone, Debug)]
/// One workload instance: where it runs, what it demands, and how it fares.
pub(super) struct Instance {
    pub(super) class: u32,
    pub(super) tenant: u32,
    pub(super) region: Option<RegionId>,
    pub(super) host: u32,
    pub(super) vm: u32,
    /// Index in `host.running`, or NONE while starting.
    pub(super) pos: u32,
    pub(super) alive: bool,
    pub(super) arrival: SimTime,
    pub(super) lifetime: Option<f64>,
    pub(super) demand: f64,
    pub(super) weight: f64,
    pub(super) slowdown: f64,
    /// Current demand level: 1 in the ON phase, `off_level` in the OFF phase.
    pub(super) level: f64,
    pub(super) on: bool,
    /// The interference part of the slowdown.
    pub(super) interference: f64,
    /// Sketch bucket of `slowdown` and its bounds: a new slowdown inside the bounds keeps
    /// the bucket (no log per resident per event).
    pub(super) slowdown_bucket: u32,
    pub(super) slowdown_bounds: (f64, f64),
    pub(super) restarting: bool,
}

#[derive(Clone, Debug)]
pub(super) struct Vm {
    pub(super) host: u32,
    pub(super) tenant: u32,
    pub(super) region: Option<RegionId>,
    pub(super) key: u32,
    pub(super) class: u32,
    pub(super) used: u32,
    pub(super) ready_at: SimTime,
    pub(super) alive: bool,
}

pub(super) struct World<'a> {
    pub(super) sc: &'a Scenario,
    pub(super) pl: &'a Placement,
    pub(super) ht: &'a HostType,
    pub(super) footprints: Vec<Footprint>,
    pub(super) q: EventQueue<Ev>,
    pub(super) hosts: Vec<Host>,
    pub(super) instances: Vec<Instance>,
    pub(super) free_instances: Vec<u32>,
    /// Admission's index over the hosts, and the hosts changed since it last heard.
    pub(super) host_index: HostIndex,
    pub(super) index_stale: Vec<bool>,
    pub(super) stale_hosts: Vec<u32>,
    /// Generation of each instance slot: events carry it, a departure bumps it.
    pub(super) instance_generations: Generations,
    /// Generation of each host's ksmd: only its latest scheduled event is live.
    pub(super) ksm_generations: Generations,
    pub(super) vms: Vec<Vm>,
    pub(super) free_vms: Vec<u32>,
    /// VMs with a free slot, per (class, tenant-or-shared) key.
    /// Per (class, tenant-or-shared) key: the root of its set of VMs with a free slot,
    /// ordered by the policy's rank.
    pub(super) open: Vec<u32>,
    pub(super) open_vms: Forest,
    pub(super) key_base: Vec<u32>,
    pub(super) class_rng: Vec<Xoshiro256PlusPlus>,
    pub(super) class_seq: Vec<u64>,
    pub(super) start_rng: Xoshiro256PlusPlus,
    pub(super) gauges: Gauges,
    pub(super) last_t: SimTime,
    pub(super) warm: SimTime,
    pub(super) slowdown: QuantileSketch,
    pub(super) start_latency: QuantileSketch,
    pub(super) arrivals: u64,
    pub(super) blocked: u64,
    pub(super) hosts_used_peak: u32,
    pub(super) events: u64,
    /// Π of the factors of the layers inside position k (k+1 ..).
    pub(super) inner_factor: [f64; MAX_LAYERS],
    pub(super) reservable_ucores: u64,
    pub(super) admissible_kib: u64,
    pub(super) demand_scratch: Vec<f64>,
    pub(super) weight_scratch: Vec<f64>,
    pub(super) alloc_scratch: Vec<f64>,
    pub(super) order: Vec<u32>,
    pub(super) check: bool,
    pub(super) violation: Option<String>,
    /// Global tenant id of (class, tenant index): tenants with the same name are one tenant.
    pub(super) tenant_ids: Vec<Vec<u32>>,
    pub(super) physical_kib: u64,
    pub(super) timeline: Vec<TimelineRow>,
    pub(super) class_slowdown: Vec<QuantileSketch>,
    pub(super) class_start: Vec<QuantileSketch>,
    pub(super) class_has_slo: Vec<bool>,
    /// Per class: the share of service time that is I/O-bound (`io_fraction`).
    pub(super) class_io: Vec<f64>,
    /// Product of the placement's layers' `io_factor`.
    pub(super) io_factor: f64,
    pub(super) class_arrivals: Vec<u64>,
    pub(super) class_blocked: Vec<u64>,
    pub(super) interference_wt: (f64, f64),
    /// Attenuation of neighbour pressure across the boundary between two instances of
    /// the placement's unit (product of the unit layers'); 1 without a unit.
    pub(super) unit_attenuation: f64,
    pub(super) any_pressure: bool,
    /// Pressure from beyond the host (other LPARs on a shared processor pool).
    pub(super) outside_pressure: PerResource,
    pub(super) rollouts: Vec<RolloutState>,
    /// Scratch: neighbour pressure summed per VM (by VM id).
    pub(super) vm_pressure: Vec<PerResource>,
    /// Per-instance phase streams (by workload id; cold data kept out of `Instance`): seeded by
    /// class and instance number, so every placement sees the same phases.
    pub(super) phase_rngs: Vec<Option<Xoshiro256PlusPlus>>,
    pub(super) burst_demand_scratch: Vec<f64>,
    pub(super) burst_weight_scratch: Vec<f64>,
    pub(super) burst_index_scratch: Vec<u32>,
    pub(super) burst_alloc_scratch: Vec<f64>,
    pub(super) seeds: (u64, u64, u64),
}

impl<'a> World<'a> {
    pub(super) fn new(sc: &'a Scenario, cfg: Config, opts: RunOptions) -> World<'a> {
        let pl = &sc.placements[cfg.placement];
        let ht = &sc.host_types[cfg.host_type];
        let footprints: Vec<Footprint> = sc.workloads.iter().map(|c| pl.footprint(c)).collect();
        let mut key_base = vec![];
        let mut n_keys = 0u32;
        for c in &sc.workloads {
            key_base.push(n_keys);
            n_keys += if pl.vm_per == VmPer::Tenant {
                c.tenants
            } else {
                1
            };
        }
        let class_rng = (0..sc.workloads.len())
            .map(|c| {
                Xoshiro256PlusPlus::seed_from_u64(stream_seed(
                    sc.seed,
                    opts.point,
                    opts.replication,
                    c as u64,
                ))
            })
            .collect();
        let start_stream = (1u64 << 40) | ((cfg.placement as u64) << 20) | cfg.host_type as u64;
        let mut inner_factor = [1.0; MAX_LAYERS];
        for (k, f) in inner_factor.iter_mut().enumerate().take(pl.layers.len()) {
            *f = pl.layers[k + 1..].iter().map(|l| l.cpu_factor).product();
        }
        World {
            sc,
            pl,
            ht,
            footprints,
            q: EventQueue::with_capacity(1024),
            hosts: vec![Host::default(); ht.count as usize],
            instances: vec![],
            free_instances: vec![],
            host_index: HostIndex::new(
                pl.policy,
                HostUse {
                    cpu_ucores: (ht.cpu_reservable() * 1e6).floor() as u64,
                    mem_kib: (ht.memory_admissible_mib() * 1024.0).floor().max(0.0) as u64,
                },
                ht.count as usize,
            ),
            index_stale: vec![false; ht.count as usize],
            stale_hosts: vec![],
            instance_generations: Generations::new(),
            ksm_generations: {
                let mut g = Generations::new();
                g.ensure(ht.count as usize);
                g
            },
            vms: vec![],
            free_vms: vec![],
            open: vec![EMPTY_SET; n_keys as usize],
            open_vms: Forest::default(),
            key_base,
            class_rng,
            class_seq: vec![0; sc.workloads.len()],
            start_rng: Xoshiro256PlusPlus::seed_from_u64(stream_seed(
                sc.seed,
                opts.point,
                opts.replication,
                start_stream,
            )),
            gauges: Gauges::new(),
            last_t: SimTime::ZERO,
            warm: sc.warmup,
            slowdown: QuantileSketch::for_slowdown(),
            start_latency: QuantileSketch::for_latency(),
            arrivals: 0,
            blocked: 0,
            hosts_used_peak: 0,
            events: 0,
            inner_factor,
            reservable_ucores: (ht.cpu_reservable() * 1e6).floor() as u64,
            admissible_kib: (ht.memory_admissible_mib() * 1024.0).floor().max(0.0) as u64,
            demand_scratch: vec![],
            weight_scratch: vec![],
            alloc_scratch: vec![],
            order: vec![],
            check: opts.check_invariants,
            violation: None,
            tenant_ids: tenant_ids(sc),
            physical_kib: (ht.memory_physical_mib() * 1024.0).floor().max(0.0) as u64,
            timeline: vec![],
            class_slowdown: vec![QuantileSketch::for_slowdown(); sc.workloads.len()],
            class_start: vec![QuantileSketch::for_latency(); sc.workloads.len()],
            class_has_slo: sc.workloads.iter().map(|c| !c.slo.is_empty()).collect(),
            class_io: sc.workloads.iter().map(|c| c.io_fraction).collect(),
            io_factor: pl.layers.iter().map(|l| l.io_factor).product(),
            class_arrivals: vec![0; sc.workloads.len()],
            class_blocked: vec![0; sc.workloads.len()],
            interference_wt: (0.0, 0.0),
            unit_attenuation: pl.layers[..pl.unit_depth]
                .iter()
                .map(|l| l.attenuation)
                .product(),
            any_pressure: (sc.workloads.iter().any(|c| !c.pressure.is_zero())
                || ht.outside_pressure().iter().any(|&p| p > 0.0))
                && sc.workloads.iter().any(|c| !c.sensitivity.is_zero()),
            outside_pressure: ht.outside_pressure(),
            rollouts: vec![RolloutState::default(); sc.rollouts.len()],
            vm_pressure: vec![],
            phase_rngs: vec![],
            burst_demand_scratch: vec![],
            burst_weight_scratch: vec![],
            burst_index_scratch: vec![],
            burst_alloc_scratch: vec![],
            seeds: (sc.seed, opts.point, opts.replication),
        }
    }

    pub(super) fn is_current(&self, inst: u32, generation: u32) -> bool {
        let w = &self.instances[inst as usize];
        w.alive
            && self
                .instance_generations
                .is_current(inst as usize, generation)
    }

    /// Integrates every gauge up to `now` over the measured window.
    pub(super) fn integrate(&mut self, now: SimTime) {
        let from = self.last_t.max(self.warm);
        if now > from {
            let dt = SimTime(now.0 - from.0).as_secs_f64();
            self.gauges.integrate(dt);
        }
        self.last_t = now;
    }

    /// Keeps the hosts-in-use count current after host `h` changed.
    pub(super) fn note_host_use(&mut self, h: usize, was_used: bool) {
        let now_used = self.hosts[h].used();
        if now_used != was_used {
            self.gauges
                .add(Gauge::HostsUsed, if now_used { 1.0 } else { -1.0 });
            self.hosts_used_peak = self
                .hosts_used_peak
                .max(self.gauges.level(Gauge::HostsUsed) as u32);
        }
    }
}

/// Global tenant ids: tenant `i` of a class with `tenants = n` is `<prefix>-<i>`; a class
/// with `tenant = "acme"` is tenant `acme`; equal names are one tenant across classes.
pub(super) fn tenant_ids(sc: &Scenario) -> Vec<Vec<u32>> {
    let mut names: Vec<String> = vec![];
    sc.workloads
        .iter()
        .map(|c| {
            (0..c.tenants)
                .map(|i| {
                    let name = if c.tenants == 1 {
                        c.tenant_prefix.clone()
                    } else {
                        format!("{}-{i}", c.tenant_prefix)
                    };
                    match names.iter().position(|n| *n == name) {
                        Some(k) => k as u32,
                        None => {
                            names.push(name);
                            (names.len() - 1) as u32
                        }
                    }
                })
                .collect()
        })
        .collect()
}
