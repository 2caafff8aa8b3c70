//! One replication of one configuration (a placement on a fleet of one host type): build
//! the world from the scenario, run the engine to the horizon, and collect [`RunMetrics`].
//!
//! The world is a set of flat vectors (hosts, VMs, workloads) indexed by `u32`, with free
//! lists so slots are reused; events are a small `Copy` enum. Nothing is allocated per
//! event once the vectors have grown to the run's high-water mark.
//!
//! Common random numbers: every workload class draws its arrivals, lifetimes and demands
//! from its own stream, derived from (scenario seed, sweep point, replication, class), in a
//! fixed order whatever happens to the instance. So every placement sees the same workload
//! stream and differences between placements are not noise. Start times depend on the
//! placement's layers and use a stream of their own.

use rand::SeedableRng;
use rand_distr::{Distribution, Exp};
use rand_xoshiro::Xoshiro256PlusPlus;

use crate::engine::{EventQueue, SimTime};
use crate::metrics::{Breakdown, QuantileSketch, RunMetrics};
use crate::model::cpu::water_fill;
use crate::model::host::HostType;
use crate::model::interference::{self, N_RES};
use crate::model::ksm::{Content, Ksm, RegionId, SegmentSpec};
use crate::model::memory::{
    HostMemory, N_PARTS, PART_GUEST_OS, PART_IMAGE, PART_LABELS, PART_LAYER0, PART_UNUSED,
    PART_WORKLOAD,
};
use crate::model::placement::{Footprint, MAX_LAYERS, Placement, Policy, VmPer};
use crate::model::workload::Arrivals;
use crate::scenario::{Config, Scenario};

const NONE: u32 = u32::MAX;
/// Content class of the identical part of a guest OS (images use their image id).
const GUEST_OS_CLASS: u32 = 1 << 31;
const PAGES_PER_MIB: f64 = 256.0;
/// Slowdown reported for a workload that gets no CPU at all.
const MAX_SLOWDOWN: f64 = 1e4;

// CPU channels per host: useful work, the base hypervisor, ksmd, then each layer position.
const CPU_USEFUL: usize = 0;
const CPU_HYP: usize = 1;
const CPU_KSMD: usize = 2;
const CPU_STEAL: usize = 3;
const CPU_LAYER0: usize = 4;
const CPU_CH: usize = CPU_LAYER0 + MAX_LAYERS;

// Time-integrated aggregates.
const A_HOSTED: usize = 0;
const A_RUNNING: usize = 1;
const A_HOSTS_USED: usize = 2;
const A_VMS: usize = 3;
const A_CPU_RES: usize = 4;
const A_SAVED_KSM: usize = 5;
const A_SAVED_SEG: usize = 6;
const A_SAVED_PC: usize = 7;
const A_OVER_PHYS: usize = 8;
const A_MEM0: usize = 9;
const A_CPU0: usize = A_MEM0 + N_PARTS;
const N_AGG: usize = A_CPU0 + CPU_CH;

/// SplitMix64 finaliser: decorrelates nearby integers into independent-looking seeds.
fn mix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The seed of one random stream: (scenario seed, sweep point, replication, stream id).
pub fn stream_seed(seed: u64, point: u64, replication: u64, stream: u64) -> u64 {
    mix64(mix64(mix64(mix64(seed) ^ point) ^ replication) ^ stream)
}

/// Which replication to run, and whether to check invariants at every event (tests).
#[derive(Clone, Copy, Debug, Default)]
pub struct RunOptions {
    pub point: u64,
    pub replication: u64,
    pub check_invariants: bool,
}

#[derive(Clone, Copy, Debug)]
enum Ev {
    Arrival {
        class: u32,
    },
    Started {
        wl: u32,
        generation: u32,
    },
    Departure {
        wl: u32,
        generation: u32,
    },
    /// ksmd on `host` reaches its next state change (segment boundary, pass end).
    Ksm {
        host: u32,
        generation: u32,
    },
    /// Timeline sample of every host's KSM counters.
    Sample,
    /// A workload's demand switches between its ON and OFF phase.
    Phase {
        wl: u32,
        generation: u32,
    },
    /// A rollout begins its first wave.
    RolloutStart {
        rollout: u32,
    },
    /// A workload restarted by a rollout is back.
    Restarted {
        wl: u32,
        generation: u32,
        rollout: u32,
    },
}

/// Progress of one rollout.
#[derive(Clone, Debug, Default)]
struct RolloutState {
    targets: Vec<u32>,
    /// Targets already restarted (by id), so a VM reboot is not repeated for the
    /// containers it already took down.
    done: Vec<bool>,
    next: usize,
    batch: usize,
    in_flight: u32,
    started: Option<SimTime>,
    finished: Option<SimTime>,
    waves: u32,
    lost_instance_s: f64,
}

/// One `timeline.csv` row: a host's KSM counters at a sample time.
#[derive(Clone, Debug, PartialEq)]
pub struct TimelineRow {
    pub host: u32,
    pub time_s: f64,
    pub pages_shared: u64,
    pub pages_sharing: u64,
    pub pages_unshared: u64,
    pub pages_volatile: u64,
    pub full_scans: u64,
    pub ksmd_cpu_cores: f64,
    pub mem_saved_mib: f64,
}

#[derive(Clone, Debug, Default)]
struct Host {
    mem: HostMemory,
    cpu_reserved_uc: u64,
    running: Vec<u32>,
    starts_in_flight: u32,
    /// Background CPU demand of the layer instances on the host, by stack position.
    background: [f64; MAX_LAYERS],
    hosted: u32,
    units: u32,
    last_flush: SimTime,
    cpu: [f64; CPU_CH],
    /// ksmd of this host (None when KSM is off or nothing mergeable ever ran here).
    ksm: Option<Ksm>,
    ksm_generation: u32,
    ksm_regions: u32,
    ksm_saved_kib: u64,
    ksm_started: Option<SimTime>,
    ksm_last_merge: SimTime,
    ksm_last_sharing: u64,
    ksm_last_cpu_ns: u64,
    ksmd_demand: f64,
    /// vCPUs of the VMs on the host (steal grows with their overcommit).
    vcpus: f64,
    /// Shared-segment content on the host: (class, guests using it).
    segments: Vec<(u32, u32)>,
    segment_saved_kib: u64,
    pagecache_saved_kib: u64,
    paging: f64,
    over_physical: bool,
}

impl Host {
    fn used(&self) -> bool {
        self.hosted > 0 || self.units > 0
    }
}

#[derive(Clone, Debug)]
struct Wl {
    class: u32,
    tenant: u32,
    region: Option<RegionId>,
    host: u32,
    vm: u32,
    /// Index in `host.running`, or NONE while starting.
    pos: u32,
    generation: u32,
    alive: bool,
    arrival: SimTime,
    lifetime: Option<f64>,
    demand: f64,
    weight: f64,
    slowdown: f64,
    /// Current demand level: 1 in the ON phase, `off_level` in the OFF phase.
    level: f64,
    on: bool,
    /// The interference part of the slowdown.
    interference: f64,
    /// Sketch bucket of `slowdown` and its bounds: a new slowdown inside the bounds keeps
    /// the bucket (no log per resident per event).
    sd_bucket: u32,
    sd_bounds: (f64, f64),
    restarting: bool,
}

#[derive(Clone, Debug)]
struct Vm {
    host: u32,
    tenant: u32,
    region: Option<RegionId>,
    key: u32,
    class: u32,
    used: u32,
    ready_at: SimTime,
    alive: bool,
    /// Index in `open[key]`, or NONE when full.
    open_pos: u32,
}

struct World<'a> {
    sc: &'a Scenario,
    pl: &'a Placement,
    ht: &'a HostType,
    fps: Vec<Footprint>,
    q: EventQueue<Ev>,
    hosts: Vec<Host>,
    wls: Vec<Wl>,
    free_wls: Vec<u32>,
    vms: Vec<Vm>,
    free_vms: Vec<u32>,
    /// VMs with a free slot, per (class, tenant-or-shared) key.
    open: Vec<Vec<u32>>,
    key_base: Vec<u32>,
    class_rng: Vec<Xoshiro256PlusPlus>,
    class_seq: Vec<u64>,
    start_rng: Xoshiro256PlusPlus,
    agg: [f64; N_AGG],
    integral: [f64; N_AGG],
    last_t: SimTime,
    warm: SimTime,
    slowdown: QuantileSketch,
    start_latency: QuantileSketch,
    arrivals: u64,
    blocked: u64,
    hosts_used_peak: u32,
    events: u64,
    /// Π of the factors of the layers inside position k (k+1 ..).
    inner_factor: [f64; MAX_LAYERS],
    reservable_uc: u64,
    admissible_kib: u64,
    scratch_d: Vec<f64>,
    scratch_w: Vec<f64>,
    scratch_o: Vec<f64>,
    order: Vec<u32>,
    check: bool,
    violation: Option<String>,
    /// Global tenant id of (class, tenant index): tenants with the same name are one tenant.
    tenant_ids: Vec<Vec<u32>>,
    physical_kib: u64,
    timeline: Vec<TimelineRow>,
    class_slowdown: Vec<QuantileSketch>,
    class_start: Vec<QuantileSketch>,
    class_has_slo: Vec<bool>,
    /// Per class: the share of service time that is I/O-bound (`io_fraction`).
    class_io: Vec<f64>,
    /// Product of the placement's layers' `io_factor`.
    io_factor: f64,
    class_arrivals: Vec<u64>,
    class_blocked: Vec<u64>,
    interference_wt: (f64, f64),
    /// Attenuation of neighbour pressure across the boundary between two instances of
    /// the placement's unit (product of the unit layers'); 1 without a unit.
    unit_attenuation: f64,
    any_pressure: bool,
    /// Pressure from the other LPARs sharing this LPAR's processors, already attenuated by
    /// the LPAR boundary (on cpu, llc and membw).
    lpar_pressure: f64,
    rollouts: Vec<RolloutState>,
    psum: Vec<[f64; N_RES]>,
    /// Per-instance phase streams (by workload id; cold data kept out of `Wl`): seeded by
    /// class and instance number, so every placement sees the same phases.
    phase_rngs: Vec<Option<Xoshiro256PlusPlus>>,
    psum_scratch_d: Vec<f64>,
    psum_scratch_w: Vec<f64>,
    psum_scratch_i: Vec<u32>,
    psum_scratch_o: Vec<f64>,
    seeds: (u64, u64, u64),
}

/// Runs one replication of one configuration. In checked mode an invariant violation
/// (memory parts that do not add up, CPU handed out beyond capacity, a host over its
/// limits) stops the run and is returned as `Err`.
pub fn run_config(sc: &Scenario, cfg: Config, opts: RunOptions) -> Result<RunMetrics, String> {
    let mut w = World::new(sc, cfg, opts);
    w.run()?;
    Ok(w.finish())
}

impl<'a> World<'a> {
    fn new(sc: &'a Scenario, cfg: Config, opts: RunOptions) -> World<'a> {
        let pl = &sc.placements[cfg.placement];
        let ht = &sc.host_types[cfg.host_type];
        let fps: Vec<Footprint> = sc.workloads.iter().map(|c| pl.footprint(c)).collect();
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
            fps,
            q: EventQueue::with_capacity(1024),
            hosts: vec![Host::default(); ht.count as usize],
            wls: vec![],
            free_wls: vec![],
            vms: vec![],
            free_vms: vec![],
            open: vec![vec![]; n_keys as usize],
            key_base,
            class_rng,
            class_seq: vec![0; sc.workloads.len()],
            start_rng: Xoshiro256PlusPlus::seed_from_u64(stream_seed(
                sc.seed,
                opts.point,
                opts.replication,
                start_stream,
            )),
            agg: [0.0; N_AGG],
            integral: [0.0; N_AGG],
            last_t: SimTime::ZERO,
            warm: sc.warmup,
            slowdown: QuantileSketch::for_slowdown(),
            start_latency: QuantileSketch::for_latency(),
            arrivals: 0,
            blocked: 0,
            hosts_used_peak: 0,
            events: 0,
            inner_factor,
            reservable_uc: (ht.cpu_reservable() * 1e6).floor() as u64,
            admissible_kib: (ht.memory_admissible_mib() * 1024.0).floor().max(0.0) as u64,
            scratch_d: vec![],
            scratch_w: vec![],
            scratch_o: vec![],
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
                || lpar_pressure(ht) > 0.0)
                && sc.workloads.iter().any(|c| !c.sensitivity.is_zero()),
            lpar_pressure: lpar_pressure(ht),
            rollouts: vec![RolloutState::default(); sc.rollouts.len()],
            psum: vec![],
            phase_rngs: vec![],
            psum_scratch_d: vec![],
            psum_scratch_w: vec![],
            psum_scratch_i: vec![],
            psum_scratch_o: vec![],
            seeds: (sc.seed, opts.point, opts.replication),
        }
    }

    fn run(&mut self) -> Result<(), String> {
        let host_type = self
            .sc
            .host_types
            .iter()
            .position(|h| std::ptr::eq(h, self.ht));
        for (c, class) in self.sc.workloads.iter().enumerate() {
            if !host_type.is_some_and(|h| class.host_types.contains(&h)) {
                continue;
            }
            match class.arrivals {
                Arrivals::Static { count } => {
                    for _ in 0..count {
                        self.q
                            .schedule_at(SimTime::ZERO, Ev::Arrival { class: c as u32 });
                    }
                }
                Arrivals::Poisson { rate_per_s } => {
                    let gap = exp_sample(rate_per_s, &mut self.class_rng[c]);
                    self.q
                        .schedule_at(SimTime::from_secs_f64(gap), Ev::Arrival { class: c as u32 });
                }
            }
        }
        if self.ht.ksm.enabled {
            self.q.schedule_at(SimTime::ZERO, Ev::Sample);
        }
        for (r, ro) in self.sc.rollouts.iter().enumerate() {
            self.q
                .schedule_at(ro.start, Ev::RolloutStart { rollout: r as u32 });
        }
        let horizon = self.sc.horizon;
        while let Some((now, ev)) = self.q.pop_until(horizon) {
            self.events += 1;
            self.integrate(now);
            match ev {
                Ev::Arrival { class } => self.on_arrival(class as usize),
                Ev::Started { wl, generation } => {
                    if self.is_current(wl, generation) {
                        self.on_started(wl);
                    }
                }
                Ev::Departure { wl, generation } => {
                    if self.is_current(wl, generation) {
                        self.on_departure(wl);
                    }
                }
                Ev::Ksm { host, generation } => {
                    if self.hosts[host as usize].ksm_generation == generation {
                        self.on_ksm(host as usize);
                    }
                }
                Ev::Sample => self.on_sample(),
                Ev::Phase { wl, generation } => {
                    if self.is_current(wl, generation) {
                        self.on_phase(wl);
                    }
                }
                Ev::RolloutStart { rollout } => self.on_rollout_start(rollout as usize),
                Ev::Restarted {
                    wl,
                    generation,
                    rollout,
                } => self.on_restarted(wl, generation, rollout as usize),
            }
            if self.check {
                self.check_invariants();
            }
            if let Some(v) = self.violation.take() {
                return Err(format!("at t = {:.6} s: {v}", now.as_secs_f64()));
            }
        }
        self.q.advance_to(horizon);
        self.integrate(horizon);
        for h in 0..self.hosts.len() {
            self.flush_slowdown(h, horizon);
        }
        Ok(())
    }

    fn is_current(&self, wl: u32, generation: u32) -> bool {
        let w = &self.wls[wl as usize];
        w.alive && w.generation == generation
    }

    /// Adds value × dt of every aggregate over the measured window.
    fn integrate(&mut self, now: SimTime) {
        let from = self.last_t.max(self.warm);
        if now > from {
            let dt = SimTime(now.0 - from.0).as_secs_f64();
            for (i, a) in self.integral.iter_mut().zip(&self.agg) {
                *i += a * dt;
            }
        }
        self.last_t = now;
    }

    fn flush_slowdown(&mut self, h: usize, now: SimTime) {
        let host = &mut self.hosts[h];
        let from = host.last_flush.max(self.warm);
        if now > from {
            let dt = SimTime(now.0 - from.0).as_secs_f64();
            for &w in &host.running {
                let wl = &self.wls[w as usize];
                let b = wl.sd_bucket as usize;
                self.slowdown.add_at(b, wl.slowdown, dt);
                if self.class_has_slo[wl.class as usize] {
                    self.class_slowdown[wl.class as usize].add_at(b, wl.slowdown, dt);
                }
                self.interference_wt.0 += wl.interference * dt;
                self.interference_wt.1 += dt;
            }
        }
        host.last_flush = now;
    }

    fn mem_add(&mut self, h: usize, part: usize, kib: u64) {
        self.hosts[h].mem.add(part, kib);
        self.agg[A_MEM0 + part] += kib as f64;
    }

    fn mem_sub(&mut self, h: usize, part: usize, kib: u64) {
        if !self.hosts[h].mem.sub(part, kib) {
            self.violation = Some(format!("host {h}: memory part {part} below zero"));
        }
        self.agg[A_MEM0 + part] -= kib as f64;
    }

    /// Keeps the hosts-in-use count current after host `h` changed.
    fn note_host_use(&mut self, h: usize, was_used: bool) {
        let now_used = self.hosts[h].used();
        if now_used != was_used {
            self.agg[A_HOSTS_USED] += if now_used { 1.0 } else { -1.0 };
            self.hosts_used_peak = self.hosts_used_peak.max(self.agg[A_HOSTS_USED] as u32);
        }
    }

    fn on_arrival(&mut self, c: usize) {
        let now = self.q.now();
        let class = &self.sc.workloads[c];
        // Draw everything the instance needs, in a fixed order, before admission: the
        // stream must not depend on the placement (common random numbers).
        let rng = &mut self.class_rng[c];
        if let Arrivals::Poisson { rate_per_s } = class.arrivals {
            let gap = exp_sample(rate_per_s, rng);
            self.q
                .schedule_in(SimTime::from_secs_f64(gap), Ev::Arrival { class: c as u32 });
        }
        let lifetime = class.lifetime_s.map(|d| d.sample(rng));
        let demand = class.cpu_cores.sample(rng);
        let tenant = (self.class_seq[c] % u64::from(class.tenants)) as u32;
        self.class_seq[c] += 1;
        let instance = self.class_seq[c] - 1;
        let counted = now >= self.warm || matches!(class.arrivals, Arrivals::Static { .. });
        if counted {
            self.arrivals += 1;
            self.class_arrivals[c] += 1;
        }
        let Some((h, vm, delay)) = self.admit(c, tenant) else {
            if counted {
                self.blocked += 1;
                self.class_blocked[c] += 1;
            }
            return;
        };
        let (seed, point, rep) = self.seeds;
        let phase_rng = class.phases.map(|_| {
            let stream = (1u64 << 41) | ((c as u64) << 32) | (instance & 0xFFFF_FFFF);
            Xoshiro256PlusPlus::seed_from_u64(stream_seed(seed, point, rep, stream))
        });
        let wl = Wl {
            class: c as u32,
            tenant: self.tenant_ids[c][tenant as usize],
            region: None,
            host: h as u32,
            vm,
            pos: NONE,
            generation: 0,
            alive: true,
            arrival: now,
            lifetime,
            demand,
            weight: class.weight,
            slowdown: self.fps[c].cpu_factor,
            level: 1.0,
            on: true,
            interference: 1.0,
            sd_bucket: self.slowdown.index(self.fps[c].cpu_factor) as u32,
            sd_bounds: self
                .slowdown
                .bucket_bounds(self.slowdown.index(self.fps[c].cpu_factor)),
            restarting: false,
        };
        let id = match self.free_wls.pop() {
            Some(id) => {
                let generation = self.wls[id as usize].generation;
                self.wls[id as usize] = Wl { generation, ..wl };
                self.phase_rngs[id as usize] = phase_rng;
                id
            }
            None => {
                self.wls.push(wl);
                self.phase_rngs.push(phase_rng);
                (self.wls.len() - 1) as u32
            }
        };
        let was_used = self.hosts[h].used();
        self.hosts[h].hosted += 1;
        self.hosts[h].starts_in_flight += 1;
        self.note_host_use(h, was_used);
        self.agg[A_HOSTED] += 1.0;
        self.add_workload_region(id);
        let generation = self.wls[id as usize].generation;
        self.q.schedule_in(
            SimTime::from_secs_f64(delay),
            Ev::Started { wl: id, generation },
        );
    }

    /// Finds room for one workload of class `c`; commits its resources and returns
    /// (host, vm or NONE, start delay in seconds), or None when nothing fits (blocked).
    fn admit(&mut self, c: usize, tenant: u32) -> Option<(usize, u32, f64)> {
        let fp = self.fps[c].clone();
        let pl = self.pl;
        let now = self.q.now();
        if !pl.has_unit() {
            let image = self.sc.workloads[c].image;
            let mem = fp.wl_own_kib + fp.wl_layer_kib.iter().sum::<u64>();
            let h = self.find_host(fp.wl_cpu_reserve_ucores, mem, Some((image, fp.image_kib)))?;
            let was_used = self.hosts[h].used();
            if self.hosts[h].mem.image_ref(image) {
                self.mem_add(h, PART_IMAGE, fp.image_kib);
            } else {
                self.pagecache_saved(h, fp.image_kib as i64);
            }
            self.add_workload_parts(h, &fp, 0);
            self.hosts[h].cpu_reserved_uc += fp.wl_cpu_reserve_ucores;
            self.agg[A_CPU_RES] += fp.wl_cpu_reserve_ucores as f64;
            self.note_host_use(h, was_used);
            let others = self.hosts[h].starts_in_flight;
            let delay = self.sample_starts(0, pl.layers.len(), others);
            return Some((h, NONE, delay));
        }
        let key = self.key_base[c]
            + if pl.vm_per == VmPer::Tenant {
                tenant
            } else {
                0
            };
        let vm = match self.pick_open_vm(key as usize) {
            Some(vm) => vm,
            None => {
                let h = self.find_host(fp.unit_cpu_reserve_ucores, fp.unit_commit_kib(), None)?;
                let t = self.tenant_ids[c][tenant as usize];
                self.create_vm(h, c, key, t)
            }
        };
        let h = self.vms[vm as usize].host as usize;
        self.join_vm(vm, &fp);
        let others = self.hosts[h].starts_in_flight;
        let wait = SimTime(self.vms[vm as usize].ready_at.0.saturating_sub(now.0)).as_secs_f64();
        let delay = wait + self.sample_starts(pl.unit_depth, pl.layers.len(), others);
        Some((h, vm, delay))
    }

    /// Sum of the start times of layers `from..to`.
    fn sample_starts(&mut self, from: usize, to: usize, others: u32) -> f64 {
        let mut t = 0.0;
        for l in &self.pl.layers[from..to] {
            t += l.sample_start_s(&mut self.start_rng, others);
        }
        t
    }

    /// Memory and background CPU of one workload's own layers (positions `from..`).
    fn add_workload_parts(&mut self, h: usize, fp: &Footprint, from: usize) {
        self.mem_add(h, PART_WORKLOAD, fp.wl_own_kib);
        for pos in from..self.pl.layers.len() {
            self.mem_add(h, PART_LAYER0 + pos, fp.wl_layer_kib[pos]);
            self.hosts[h].background[pos] += self.pl.layers[pos].cpu_background_cores;
        }
    }

    fn remove_workload_parts(&mut self, h: usize, fp: &Footprint, from: usize) {
        self.mem_sub(h, PART_WORKLOAD, fp.wl_own_kib);
        for pos in from..self.pl.layers.len() {
            self.mem_sub(h, PART_LAYER0 + pos, fp.wl_layer_kib[pos]);
            self.hosts[h].background[pos] -= self.pl.layers[pos].cpu_background_cores;
        }
    }

    /// The host for a new workload or VM under the placement's policy.
    fn find_host(&self, cpu_uc: u64, mem_kib: u64, image: Option<(u32, u64)>) -> Option<usize> {
        let mut best: Option<(usize, f64)> = None;
        for (i, h) in self.hosts.iter().enumerate() {
            let extra = match image {
                Some((img, kib)) if !h.mem.has_image(img) => kib,
                _ => 0,
            };
            let cpu_after = h.cpu_reserved_uc + cpu_uc;
            let mem_after = h.mem.committed_kib() + mem_kib + extra;
            if cpu_after > self.reservable_uc || mem_after > self.admissible_kib {
                continue;
            }
            let load = (cpu_after as f64 / self.reservable_uc as f64)
                .max(mem_after as f64 / self.admissible_kib as f64);
            let better = match (self.pl.policy, best) {
                (Policy::FirstFit, _) => return Some(i),
                (_, None) => true,
                (Policy::BestFit, Some((_, b))) => load > b,
                (Policy::Spread, Some((_, b))) => load < b,
            };
            if better {
                best = Some((i, load));
            }
        }
        best.map(|(i, _)| i)
    }

    fn pick_open_vm(&self, key: usize) -> Option<u32> {
        let list = &self.open[key];
        let score = |vm: u32| {
            let v = &self.vms[vm as usize];
            match self.pl.policy {
                // Lowest host first, then oldest VM: packs the fleet from the front.
                Policy::FirstFit => (v.host as i64, vm as i64),
                // Fullest VM first (fewest free slots).
                Policy::BestFit => (-(v.used as i64), vm as i64),
                // Emptiest VM first.
                Policy::Spread => (v.used as i64, vm as i64),
            }
        };
        list.iter().copied().min_by_key(|&vm| score(vm))
    }

    fn create_vm(&mut self, h: usize, c: usize, key: u32, tenant: u32) -> u32 {
        let fp = self.fps[c].clone();
        let was_used = self.hosts[h].used();
        self.mem_add(h, PART_GUEST_OS, fp.guest_os_kib);
        self.mem_add(h, PART_IMAGE, fp.image_kib);
        self.mem_add(h, PART_UNUSED, u64::from(fp.slots) * fp.slot_kib());
        for pos in 0..self.pl.unit_depth {
            self.mem_add(h, PART_LAYER0 + pos, fp.unit_layer_kib[pos]);
            self.hosts[h].background[pos] += self.pl.layers[pos].cpu_background_cores;
        }
        self.hosts[h].cpu_reserved_uc += fp.unit_cpu_reserve_ucores;
        self.agg[A_CPU_RES] += fp.unit_cpu_reserve_ucores as f64;
        self.hosts[h].units += 1;
        self.hosts[h].vcpus += fp.vm_vcpus;
        self.agg[A_VMS] += 1.0;
        self.note_host_use(h, was_used);
        let others = self.hosts[h].starts_in_flight;
        let boot = self.sample_starts(0, self.pl.unit_depth, others);
        let vm = Vm {
            host: h as u32,
            tenant,
            region: None,
            key,
            class: c as u32,
            used: 0,
            ready_at: self.q.now().after(SimTime::from_secs_f64(boot)),
            alive: true,
            open_pos: NONE,
        };
        let id = match self.free_vms.pop() {
            Some(id) => {
                self.vms[id as usize] = vm;
                id
            }
            None => {
                self.vms.push(vm);
                (self.vms.len() - 1) as u32
            }
        };
        let list = &mut self.open[key as usize];
        self.vms[id as usize].open_pos = list.len() as u32;
        list.push(id);
        self.add_guest_memory(id);
        // The new VM's host load changed: CPU background now runs there.
        self.recompute_cpu(h);
        id
    }

    fn join_vm(&mut self, vm: u32, fp: &Footprint) {
        let h = self.vms[vm as usize].host as usize;
        self.mem_sub(h, PART_UNUSED, fp.slot_kib());
        self.add_workload_parts(h, fp, self.pl.unit_depth);
        // Containers of one image in one guest share its page cache.
        if self.vms[vm as usize].used >= 1 {
            self.pagecache_saved(h, fp.image_kib as i64);
        }
        let v = &mut self.vms[vm as usize];
        v.used += 1;
        if v.used == self.pl.slots {
            self.close_vm(vm);
        }
    }

    /// Removes a full (or dying) VM from its key's open list.
    fn close_vm(&mut self, vm: u32) {
        let (key, pos) = {
            let v = &self.vms[vm as usize];
            (v.key as usize, v.open_pos)
        };
        if pos == NONE {
            return;
        }
        let list = &mut self.open[key];
        list.swap_remove(pos as usize);
        if let Some(&moved) = list.get(pos as usize) {
            self.vms[moved as usize].open_pos = pos;
        }
        self.vms[vm as usize].open_pos = NONE;
    }

    fn leave_vm(&mut self, vm: u32) {
        let c = self.vms[vm as usize].class as usize;
        let fp = self.fps[c].clone();
        let h = self.vms[vm as usize].host as usize;
        self.remove_workload_parts(h, &fp, self.pl.unit_depth);
        self.mem_add(h, PART_UNUSED, fp.slot_kib());
        self.vms[vm as usize].used -= 1;
        if self.vms[vm as usize].used > 0 {
            self.pagecache_saved(h, -(fp.image_kib as i64));
            if self.vms[vm as usize].open_pos == NONE {
                let key = self.vms[vm as usize].key as usize;
                self.vms[vm as usize].open_pos = self.open[key].len() as u32;
                self.open[key].push(vm);
            }
            return;
        }
        // Empty: shut the VM down and give its reservation back.
        self.close_vm(vm);
        self.remove_guest_memory(vm);
        self.mem_sub(h, PART_UNUSED, u64::from(fp.slots) * fp.slot_kib());
        self.mem_sub(h, PART_GUEST_OS, fp.guest_os_kib);
        self.mem_sub(h, PART_IMAGE, fp.image_kib);
        for pos in 0..self.pl.unit_depth {
            self.mem_sub(h, PART_LAYER0 + pos, fp.unit_layer_kib[pos]);
            self.hosts[h].background[pos] -= self.pl.layers[pos].cpu_background_cores;
        }
        self.hosts[h].cpu_reserved_uc -= fp.unit_cpu_reserve_ucores;
        self.agg[A_CPU_RES] -= fp.unit_cpu_reserve_ucores as f64;
        self.hosts[h].units -= 1;
        self.hosts[h].vcpus -= fp.vm_vcpus;
        self.agg[A_VMS] -= 1.0;
        self.vms[vm as usize].alive = false;
        self.free_vms.push(vm);
    }

    fn on_started(&mut self, id: u32) {
        let now = self.q.now();
        let (h, arrival, lifetime) = {
            let w = &self.wls[id as usize];
            (w.host as usize, w.arrival, w.lifetime)
        };
        if arrival >= self.warm {
            let lat = SimTime(now.0 - arrival.0).as_secs_f64();
            self.start_latency.add(lat, 1.0);
            let c = self.wls[id as usize].class as usize;
            self.class_start[c].add(lat, 1.0);
        }
        self.flush_slowdown(h, now);
        let host = &mut self.hosts[h];
        host.starts_in_flight -= 1;
        self.wls[id as usize].pos = host.running.len() as u32;
        host.running.push(id);
        self.agg[A_RUNNING] += 1.0;
        self.recompute_cpu(h);
        self.schedule_phase(id);
        if let Some(l) = lifetime {
            let generation = self.wls[id as usize].generation;
            self.q.schedule_in(
                SimTime::from_secs_f64(l),
                Ev::Departure { wl: id, generation },
            );
        }
    }

    fn on_departure(&mut self, id: u32) {
        let now = self.q.now();
        let (h, vm, c, pos) = {
            let w = &self.wls[id as usize];
            (w.host as usize, w.vm, w.class as usize, w.pos)
        };
        self.flush_slowdown(h, now);
        if pos != NONE {
            self.unlink_running(id);
            self.agg[A_RUNNING] -= 1.0;
        } else if self.wls[id as usize].restarting {
            // Gone while a rollout restarts it: the wave stops waiting for it.
            self.hosts[h].starts_in_flight -= 1;
        }
        self.agg[A_HOSTED] -= 1.0;
        self.remove_workload_region(id);
        let was_used = self.hosts[h].used();
        self.hosts[h].hosted -= 1;
        let fp = self.fps[c].clone();
        if vm == NONE {
            self.remove_workload_parts(h, &fp, 0);
            let image = self.sc.workloads[c].image;
            if self.hosts[h].mem.image_unref(image) {
                self.mem_sub(h, PART_IMAGE, fp.image_kib);
            } else {
                self.pagecache_saved(h, -(fp.image_kib as i64));
            }
            self.hosts[h].cpu_reserved_uc -= fp.wl_cpu_reserve_ucores;
            self.agg[A_CPU_RES] -= fp.wl_cpu_reserve_ucores as f64;
        } else {
            self.leave_vm(vm);
        }
        self.note_host_use(h, was_used);
        let w = &mut self.wls[id as usize];
        w.alive = false;
        w.generation = w.generation.wrapping_add(1);
        self.free_wls.push(id);
        self.recompute_cpu(h);
        // A static fleet with a lifetime is a fleet with churn: the instance is redeployed.
        if matches!(self.sc.workloads[c].arrivals, Arrivals::Static { .. }) {
            self.q
                .schedule_in(SimTime::ZERO, Ev::Arrival { class: c as u32 });
        }
    }

    /// Re-shares host `h`'s CPU after its residents or their demand changed, and
    /// recomputes their slowdowns and the host's CPU breakdown. Cost O(residents of h).
    ///
    /// Order: background (idle kernels, shims, ksmd) first; dedicated workloads get their
    /// demand up to their reservation, and their whole reservation is withheld from the
    /// others (never lent); burstable workloads share what is left by weighted max-min
    /// fairness, each up to its limit. Steal takes its share of the host's throughput.
    /// slowdown = layer factor × (uncapped demand / allocation) × paging × interference.
    fn recompute_cpu(&mut self, h: usize) {
        let now = self.q.now();
        self.flush_slowdown(h, now);
        let paging = self.refresh_pressure(h);
        let factor = self.pl.cpu_factor();
        let host = &self.hosts[h];
        self.scratch_d.clear();
        self.scratch_w.clear();
        let mut dedicated_reserved = 0.0;
        let mut dedicated_used = 0.0;
        let mut burst_demand = 0.0;
        for &w in &host.running {
            let wl = &self.wls[w as usize];
            let caps = cpu_caps(&self.sc.workloads[wl.class as usize], factor);
            let e = (wl.demand * wl.level * factor).min(caps.limit);
            if caps.dedicated {
                dedicated_reserved += caps.limit;
                dedicated_used += e;
                // Marked by a zero weight: not part of the burstable share.
                self.scratch_d.push(e);
                self.scratch_w.push(0.0);
            } else {
                burst_demand += e;
                self.scratch_d.push(e);
                self.scratch_w.push(wl.weight);
            }
        }
        let bg: f64 = host.background.iter().sum::<f64>().max(0.0) + host.ksmd_demand;
        // Dedicated threads are held whether busy or not.
        let held = bg + dedicated_reserved + burst_demand;
        // Steal takes its fraction of the cores: the host delivers demand in full until
        // the remaining capacity runs out.
        let steal = self.ht.steal_fraction(host.vcpus);
        let cap = self
            .ht
            .throughput_scaled(held.max(bg + dedicated_used + burst_demand), 1.0 - steal);
        let bg_alloc = bg.min(cap);
        let ded_alloc_scale = if bg_alloc + dedicated_used > cap && dedicated_used > 0.0 {
            ((cap - bg_alloc) / dedicated_used).max(0.0)
        } else {
            1.0
        };
        let burst_avail = (cap - bg_alloc - dedicated_reserved.max(dedicated_used)).max(0.0);
        // Water-fill the burstable ones only (dedicated carry weight 0 and are set below).
        self.scratch_o.clear();
        self.scratch_o.resize(self.scratch_d.len(), 0.0);
        let any_dedicated = self.scratch_w.contains(&0.0);
        if !any_dedicated {
            // Common case: everyone shares; no need to split out a burstable subset.
            water_fill(
                burst_avail,
                &self.scratch_d,
                &self.scratch_w,
                &mut self.scratch_o,
                &mut self.order,
            );
        } else {
            let n = self.scratch_d.len();
            let mut d = std::mem::take(&mut self.psum_scratch_d);
            let mut wts = std::mem::take(&mut self.psum_scratch_w);
            let mut idx = std::mem::take(&mut self.psum_scratch_i);
            let mut out = std::mem::take(&mut self.psum_scratch_o);
            d.clear();
            wts.clear();
            idx.clear();
            for k in 0..n {
                if self.scratch_w[k] > 0.0 {
                    d.push(self.scratch_d[k]);
                    wts.push(self.scratch_w[k]);
                    idx.push(k as u32);
                } else {
                    self.scratch_o[k] = self.scratch_d[k] * ded_alloc_scale;
                }
            }
            out.clear();
            out.resize(d.len(), 0.0);
            water_fill(burst_avail, &d, &wts, &mut out, &mut self.order);
            for (j, &k) in idx.iter().enumerate() {
                self.scratch_o[k as usize] = out[j];
            }
            self.psum_scratch_d = d;
            self.psum_scratch_w = wts;
            self.psum_scratch_i = idx;
            self.psum_scratch_o = out;
        }
        self.interference(h);
        let mut useful = 0.0;
        let mut allocated = bg_alloc;
        let host = &self.hosts[h];
        for (k, &w) in host.running.iter().enumerate() {
            let a = self.scratch_o[k];
            allocated += a;
            useful += a / factor;
            let wl = &self.wls[w as usize];
            // Slowdown against the uncapped demand: a limit or a too-small dedicated
            // reservation throttles the workload.
            let want = wl.demand * wl.level * factor;
            let s = if want <= 0.0 || a >= want {
                factor
            } else if a > 0.0 {
                factor * want / a
            } else {
                MAX_SLOWDOWN
            };
            // The I/O-bound share of a request's service time runs at the stack's I/O
            // factor (virtio random IOPS ~ half of native), the rest at the CPU slowdown.
            let io = self.class_io[wl.class as usize];
            let s = (1.0 - io) * s + io * self.io_factor;
            let s = (s * paging * wl.interference).min(MAX_SLOWDOWN);
            if s != wl.slowdown {
                let (lo, hi) = wl.sd_bounds;
                let rebucket = !(lo <= s && s < hi);
                let wl = &mut self.wls[w as usize];
                wl.slowdown = s;
                if rebucket {
                    let b = self.slowdown.index(s);
                    wl.sd_bucket = b as u32;
                    wl.sd_bounds = self.slowdown.bucket_bounds(b);
                }
            }
        }
        let mut cpu = [0.0; CPU_CH];
        cpu[CPU_USEFUL] = useful;
        let bg_share = if bg > 0.0 { bg_alloc / bg } else { 0.0 };
        for (pos, l) in self.pl.layers.iter().enumerate() {
            // Work at layer pos = useful × Π(inner factors); its overhead is that × (f − 1).
            cpu[CPU_LAYER0 + pos] = useful * self.inner_factor[pos] * (l.cpu_factor - 1.0)
                + host.background[pos].max(0.0) * bg_share;
        }
        cpu[CPU_KSMD] = host.ksmd_demand * bg_share;
        // Stolen time in proportion to what the host delivered.
        cpu[CPU_STEAL] = if steal < 1.0 {
            allocated * steal / (1.0 - steal)
        } else {
            0.0
        };
        cpu[CPU_HYP] = (allocated + cpu[CPU_STEAL]) * (self.ht.hypervisor_factor() - 1.0);
        if self.check && allocated > cap + 1e-9 {
            self.violation = Some(format!(
                "host {h}: CPU allocated {allocated} exceeds capacity {cap}"
            ));
        }
        if self.check {
            for (k, &w) in host.running.iter().enumerate() {
                let c = &self.sc.workloads[self.wls[w as usize].class as usize];
                if c.dedicated && self.scratch_o[k] > c.cpu_request * factor + 1e-9 {
                    self.violation = Some(format!(
                        "host {h}: dedicated workload got {} > its reservation",
                        self.scratch_o[k]
                    ));
                }
            }
        }
        let host = &mut self.hosts[h];
        for (k, v) in cpu.iter().enumerate() {
            self.agg[A_CPU0 + k] += v - host.cpu[k];
        }
        host.cpu = cpu;
    }

    /// Interference factor of every resident of host `h` from its neighbours' pressure:
    /// full pressure from the same kernel, attenuated across the VM boundary.
    fn interference(&mut self, h: usize) {
        if !self.any_pressure {
            return;
        }
        let host = &self.hosts[h];
        let mut host_sum = [0.0; N_RES];
        // Per-VM sums, indexed through the scratch vector by VM id (grown on demand).
        if self.psum.len() < self.vms.len() {
            self.psum.resize(self.vms.len(), [0.0; N_RES]);
        }
        for &w in &host.running {
            let wl = &self.wls[w as usize];
            if wl.vm != NONE {
                self.psum[wl.vm as usize] = [0.0; N_RES];
            }
        }
        for &w in &host.running {
            let wl = &self.wls[w as usize];
            let p = &self.sc.workloads[wl.class as usize].pressure.0;
            for r in 0..N_RES {
                let x = p[r] * wl.level;
                host_sum[r] += x;
                if wl.vm != NONE {
                    self.psum[wl.vm as usize][r] += x;
                }
            }
        }
        let att = self.unit_attenuation;
        // Residents of one class in the same phase (and VM grouping) see the same
        // pressure: remember the last few answers instead of recomputing the exps.
        let mut memo: [(u32, [f64; N_RES], f64); 8] = [(u32::MAX, [0.0; N_RES], 1.0); 8];
        let mut memo_next = 0;
        for &w in &host.running {
            let wl = &self.wls[w as usize];
            let class = &self.sc.workloads[wl.class as usize];
            // cpu, llc, membw get the other LPARs' share; io and net are separate paths.
            let mut x = [
                self.lpar_pressure,
                self.lpar_pressure,
                self.lpar_pressure,
                0.0,
                0.0,
            ];
            for r in 0..N_RES {
                let own = class.pressure.0[r] * wl.level;
                x[r] += if wl.vm == NONE {
                    host_sum[r] - own
                } else {
                    let same = self.psum[wl.vm as usize][r];
                    (same - own) + att * (host_sum[r] - same)
                };
            }
            let f = match memo.iter().find(|(c, mx, _)| *c == wl.class && *mx == x) {
                Some(&(_, _, f)) => f,
                None => {
                    let f = interference::slowdown(&class.sensitivity, &x, class.slowdown_cap);
                    memo[memo_next] = (wl.class, x, f);
                    memo_next = (memo_next + 1) % memo.len();
                    f
                }
            };
            self.wls[w as usize].interference = f;
        }
    }

    /// Removes a running workload from its host's running list.
    fn unlink_running(&mut self, id: u32) {
        let (h, pos) = {
            let w = &self.wls[id as usize];
            (w.host as usize, w.pos)
        };
        let host = &mut self.hosts[h];
        host.running.swap_remove(pos as usize);
        if let Some(&moved) = host.running.get(pos as usize) {
            self.wls[moved as usize].pos = pos;
        }
        self.wls[id as usize].pos = NONE;
    }

    /// Schedules the workload's next phase switch (ON/OFF demand), if it has phases.
    fn schedule_phase(&mut self, id: u32) {
        let c = self.wls[id as usize].class as usize;
        let Some(ph) = self.sc.workloads[c].phases else {
            return;
        };
        let wl = &self.wls[id as usize];
        let Some(rng) = self.phase_rngs[id as usize].as_mut() else {
            return;
        };
        let d = if wl.on { ph.on_s } else { ph.off_s }.sample(rng);
        let generation = wl.generation;
        self.q
            .schedule_in(SimTime::from_secs_f64(d), Ev::Phase { wl: id, generation });
    }

    fn on_phase(&mut self, id: u32) {
        let c = self.wls[id as usize].class as usize;
        let Some(ph) = self.sc.workloads[c].phases else {
            return;
        };
        let h = self.wls[id as usize].host as usize;
        self.flush_slowdown(h, self.q.now());
        let wl = &mut self.wls[id as usize];
        wl.on = !wl.on;
        wl.level = if wl.on { 1.0 } else { ph.off_level };
        if wl.pos != NONE {
            self.recompute_cpu(h);
        }
        self.schedule_phase(id);
    }

    fn on_rollout_start(&mut self, r: usize) {
        let ro = &self.sc.rollouts[r];
        let targets: Vec<u32> = (0..self.wls.len() as u32)
            .filter(|&w| {
                let wl = &self.wls[w as usize];
                wl.alive && wl.class as usize == ro.class && wl.pos != NONE
            })
            .collect();
        let batch = match ro.batch {
            crate::scenario::Batch::Size(b) => b as usize,
            crate::scenario::Batch::Fraction(f) => {
                ((f * targets.len() as f64).floor() as usize).max(1)
            }
        };
        let st = &mut self.rollouts[r];
        st.done = vec![false; self.wls.len()];
        st.targets = targets;
        st.batch = batch;
        st.started = Some(self.q.now());
        self.rollout_wave(r);
    }

    /// Restarts the next batch of still-running targets; marks the rollout finished when
    /// none are left.
    fn rollout_wave(&mut self, r: usize) {
        let now = self.q.now();
        let kernel = self.sc.rollouts[r].kernel;
        // A kernel patch of containers-in-VM reboots the VM: every container in it goes
        // down with it and comes back after the boot.
        let packed = self.pl.has_unit() && self.pl.unit_depth < self.pl.layers.len();
        let mut launched = 0;
        while launched < self.rollouts[r].batch
            && self.rollouts[r].next < self.rollouts[r].targets.len()
        {
            let id = self.rollouts[r].targets[self.rollouts[r].next];
            self.rollouts[r].next += 1;
            let wl = &self.wls[id as usize];
            if !wl.alive || wl.pos == NONE || wl.restarting || self.rollouts[r].done[id as usize] {
                continue;
            }
            let h = wl.host as usize;
            if kernel && packed {
                let vm = wl.vm;
                let members: Vec<u32> = self.hosts[h]
                    .running
                    .iter()
                    .copied()
                    .filter(|&j| self.wls[j as usize].vm == vm)
                    .collect();
                let others = self.hosts[h].starts_in_flight;
                let boot = self.sample_starts(0, self.pl.unit_depth, others);
                for j in members {
                    let t =
                        boot + self.sample_starts(self.pl.unit_depth, self.pl.layers.len(), others);
                    self.restart(r, j, t);
                    launched += 1;
                }
                self.recompute_cpu(h);
                continue;
            }
            // Which layers restart: a kernel patch reboots the whole stack; an image
            // redeploy restarts the per-workload layers (the VM when it is the workload).
            let from = if kernel || self.pl.unit_depth == self.pl.layers.len() {
                0
            } else {
                self.pl.unit_depth
            };
            let others = self.hosts[h].starts_in_flight;
            let t = self.sample_starts(from, self.pl.layers.len(), others);
            self.restart(r, id, t);
            self.recompute_cpu(h);
            launched += 1;
        }
        if launched > 0 {
            self.rollouts[r].waves += 1;
        } else if self.rollouts[r].in_flight == 0 && self.rollouts[r].finished.is_none() {
            self.rollouts[r].finished = Some(now);
        }
    }

    /// Takes running workload `id` down for `t` seconds on behalf of rollout `r` (the
    /// caller recomputes the host's CPU once for the whole wave).
    fn restart(&mut self, r: usize, id: u32, t: f64) {
        let now = self.q.now();
        let h = self.wls[id as usize].host as usize;
        self.flush_slowdown(h, now);
        self.unlink_running(id);
        self.agg[A_RUNNING] -= 1.0;
        self.wls[id as usize].restarting = true;
        self.hosts[h].starts_in_flight += 1;
        let st = &mut self.rollouts[r];
        if let Some(d) = st.done.get_mut(id as usize) {
            *d = true;
        }
        st.lost_instance_s += t;
        st.in_flight += 1;
        let generation = self.wls[id as usize].generation;
        self.q.schedule_in(
            SimTime::from_secs_f64(t),
            Ev::Restarted {
                wl: id,
                generation,
                rollout: r as u32,
            },
        );
    }

    fn on_restarted(&mut self, id: u32, generation: u32, r: usize) {
        let now = self.q.now();
        if self.is_current(id, generation) && self.wls[id as usize].restarting {
            let h = self.wls[id as usize].host as usize;
            self.flush_slowdown(h, now);
            self.wls[id as usize].restarting = false;
            self.hosts[h].starts_in_flight -= 1;
            self.wls[id as usize].pos = self.hosts[h].running.len() as u32;
            self.hosts[h].running.push(id);
            self.agg[A_RUNNING] += 1.0;
            self.recompute_cpu(h);
        }
        self.rollouts[r].in_flight -= 1;
        if self.rollouts[r].in_flight == 0 {
            self.rollout_wave(r);
        }
    }

    /// Adds `delta` KiB of page-cache sharing (an image held once for several users).
    fn pagecache_saved(&mut self, h: usize, delta: i64) {
        let host = &mut self.hosts[h];
        host.pagecache_saved_kib = host.pagecache_saved_kib.saturating_add_signed(delta);
        self.agg[A_SAVED_PC] += delta as f64;
    }

    /// Takes (or drops) a reference on shared-segment content `class` of `kib` on host
    /// `h`: every guest after the first uses the host's one copy.
    fn segment_ref(&mut self, h: usize, class: u32, kib: u64, add: bool) {
        let host = &mut self.hosts[h];
        let k = match host.segments.iter().position(|&(c, _)| c == class) {
            Some(k) => k,
            None => {
                host.segments.push((class, 0));
                host.segments.len() - 1
            }
        };
        let before = host.segments[k].1;
        let after = if add {
            before + 1
        } else {
            before.saturating_sub(1)
        };
        host.segments[k].1 = after;
        let shared_before = u64::from(before.saturating_sub(1)) * kib;
        let shared_after = u64::from(after.saturating_sub(1)) * kib;
        host.segment_saved_kib = host.segment_saved_kib + shared_after - shared_before;
        self.agg[A_SAVED_SEG] += shared_after as f64 - shared_before as f64;
        if after == 0 {
            host.segments.swap_remove(k);
        }
    }

    /// Guest memory of a new VM: shared segments (z/VM NSS/DCSS) and, with KSM on, the
    /// guest RAM as a mergeable region (identical guest-OS part, unique rest, image).
    fn add_guest_memory(&mut self, vm: u32) {
        self.guest_memory(vm, true);
    }

    fn remove_guest_memory(&mut self, vm: u32) {
        self.guest_memory(vm, false);
    }

    fn guest_memory(&mut self, vm: u32, add: bool) {
        let (h, c, tenant) = {
            let v = &self.vms[vm as usize];
            (v.host as usize, v.class as usize, v.tenant)
        };
        let class = &self.sc.workloads[c];
        let unit = &self.pl.layers[..self.pl.unit_depth];
        let (mut os_ksm, mut os_unique, mut os_seg, mut seg_capable) = (0.0, 0.0, 0.0, false);
        for l in unit.iter().filter(|l| l.kernel) {
            let identical = l.guest_os_mib * l.guest_os_mergeable_fraction;
            os_seg += identical * l.segment_fraction;
            os_ksm += identical * (1.0 - l.segment_fraction);
            os_unique += l.guest_os_mib - identical;
            seg_capable |= l.segment_fraction > 0.0;
        }
        let image_in_segment = class.image_segment && seg_capable;
        let (image, image_kib, image_mib) = (class.image, self.fps[c].image_kib, class.image_mib);
        if os_seg > 0.0 {
            self.segment_ref(h, GUEST_OS_CLASS, (os_seg * 1024.0).round() as u64, add);
        }
        if image_in_segment {
            self.segment_ref(h, image, image_kib, add);
        }
        if !self.ht.ksm.enabled {
            return;
        }
        if add {
            let mut segs = vec![
                SegmentSpec {
                    content: Content::Shared(GUEST_OS_CLASS),
                    pages: pages(os_ksm),
                },
                SegmentSpec {
                    content: Content::Unique,
                    pages: pages(os_unique),
                },
            ];
            if !image_in_segment {
                segs.push(SegmentSpec {
                    content: Content::Shared(image),
                    pages: pages(image_mib),
                });
            }
            let r = self.ksm_add_region(h, tenant, &segs, 0.0);
            self.vms[vm as usize].region = Some(r);
        } else if let Some(r) = self.vms[vm as usize].region.take() {
            self.ksm_remove_region(h, r);
        }
    }

    /// A workload's anonymous memory as a mergeable region: always inside a VM (guest RAM
    /// is mergeable), on the host kernel only when the application opts in.
    fn add_workload_region(&mut self, id: u32) {
        let (h, c, tenant, in_vm) = {
            let w = &self.wls[id as usize];
            (w.host as usize, w.class as usize, w.tenant, w.vm != NONE)
        };
        if !self.ht.ksm.enabled || !(in_vm || self.ht.ksm.containers_mergeable) {
            return;
        }
        let class = &self.sc.workloads[c];
        let segs = [
            SegmentSpec {
                content: Content::Unique,
                pages: pages(class.private_mib * (1.0 - class.volatile_fraction)),
            },
            SegmentSpec {
                content: Content::Volatile,
                pages: pages(class.private_mib * class.volatile_fraction),
            },
            SegmentSpec {
                content: Content::Zero,
                pages: pages(class.zero_mib),
            },
        ];
        let cow = class.write_mib_per_s * PAGES_PER_MIB;
        let r = self.ksm_add_region(h, tenant, &segs, cow);
        self.wls[id as usize].region = Some(r);
    }

    fn remove_workload_region(&mut self, id: u32) {
        let h = self.wls[id as usize].host as usize;
        if let Some(r) = self.wls[id as usize].region.take() {
            self.ksm_remove_region(h, r);
        }
    }

    fn ksm_add_region(
        &mut self,
        h: usize,
        tenant: u32,
        segs: &[SegmentSpec],
        cow: f64,
    ) -> RegionId {
        let now = self.q.now();
        let params = &self.ht.ksm.params;
        let host = &mut self.hosts[h];
        let k = host
            .ksm
            .get_or_insert_with(|| Ksm::new(params.clone(), now.0));
        let r = k.add_region(now.0, tenant, segs, cow);
        host.ksm_regions += 1;
        host.ksm_started.get_or_insert(now);
        self.ksm_sync(h);
        r
    }

    fn ksm_remove_region(&mut self, h: usize, r: RegionId) {
        let now = self.q.now();
        let host = &mut self.hosts[h];
        if let Some(k) = host.ksm.as_mut() {
            k.remove_region(now.0, r);
            host.ksm_regions -= 1;
        }
        self.ksm_sync(h);
    }

    /// After ksmd state changed on host `h`: book the memory it saves, its CPU demand,
    /// and schedule its next state change.
    fn ksm_sync(&mut self, h: usize) {
        let now = self.q.now();
        let params = &self.ht.ksm.params;
        let host = &mut self.hosts[h];
        let Some(k) = host.ksm.as_ref() else { return };
        let saved = k.saved_pages(now.0) * 4;
        self.agg[A_SAVED_KSM] += saved as f64 - host.ksm_saved_kib as f64;
        host.ksm_saved_kib = saved;
        let sharing = k.counters(now.0).pages_sharing;
        if sharing > host.ksm_last_sharing {
            host.ksm_last_merge = now;
        }
        host.ksm_last_sharing = sharing;
        // ksmd's duty cycle while it has something to scan: one wake-up plus a batch of
        // pages per wake period.
        host.ksmd_demand = if host.ksm_regions > 0 {
            (params.per_wake_ns + u64::from(params.pages_to_scan) * params.per_page_ns) as f64
                / params.wake_period_ns() as f64
        } else {
            0.0
        };
        host.ksm_generation = host.ksm_generation.wrapping_add(1);
        if let Some(t) = k.next_event_ns() {
            let generation = host.ksm_generation;
            self.q.schedule_at(
                SimTime(t),
                Ev::Ksm {
                    host: h as u32,
                    generation,
                },
            );
        }
    }

    fn on_ksm(&mut self, h: usize) {
        let now = self.q.now();
        if let Some(k) = self.hosts[h].ksm.as_mut() {
            k.advance(now.0);
        }
        let demand_before = self.hosts[h].ksmd_demand;
        let paging_before = self.hosts[h].paging;
        let over_before = self.hosts[h].over_physical;
        self.ksm_sync(h);
        // Merging lowers resident memory; past physical memory that changes the paging
        // factor, and so every resident's slowdown.
        let paging = self.refresh_pressure(h);
        if paging != paging_before
            || over_before != self.hosts[h].over_physical
            || demand_before != self.hosts[h].ksmd_demand
        {
            self.recompute_cpu(h);
        }
    }

    fn on_sample(&mut self) {
        let now = self.q.now();
        let dt = self.ht.ksm.timeline_interval;
        for (h, host) in self.hosts.iter_mut().enumerate() {
            let Some(k) = host.ksm.as_mut() else { continue };
            k.advance(now.0);
            let c = k.counters(now.0);
            let cores = (c.cpu_ns - host.ksm_last_cpu_ns) as f64 / dt.0.max(1) as f64;
            host.ksm_last_cpu_ns = c.cpu_ns;
            self.timeline.push(TimelineRow {
                host: h as u32,
                time_s: now.as_secs_f64(),
                pages_shared: c.pages_shared,
                pages_sharing: c.pages_sharing,
                pages_unshared: c.pages_unshared,
                pages_volatile: c.pages_volatile,
                full_scans: c.full_scans,
                ksmd_cpu_cores: if now.0 == 0 { 0.0 } else { cores },
                mem_saved_mib: k.saved_pages(now.0) as f64 * 4.0 / 1024.0,
            });
        }
        self.q.schedule_in(dt, Ev::Sample);
    }

    /// Resident memory of host `h`: committed less empty VM capacity and what KSM and
    /// shared segments save.
    fn resident_kib(&self, h: usize) -> u64 {
        let host = &self.hosts[h];
        host.mem
            .resident_kib()
            .saturating_sub(host.ksm_saved_kib + host.segment_saved_kib)
    }

    /// Updates the host's paging factor and over-physical flag; returns the factor.
    fn refresh_pressure(&mut self, h: usize) -> f64 {
        let resident = self.resident_kib(h);
        let over = resident > self.physical_kib;
        let paging = self.ht.paging_factor(resident as f64 / 1024.0);
        let host = &mut self.hosts[h];
        if over != host.over_physical {
            self.agg[A_OVER_PHYS] += if over { 1.0 } else { -1.0 };
            host.over_physical = over;
        }
        host.paging = paging;
        paging
    }

    /// KSM counters at the horizon, averaged over the hosts where ksmd ran; the CPU it
    /// used in total; and the mean time from its start to the last merge that raised
    /// `pages_sharing` (the full merge of a static set of guests).
    fn ksm_summary(&self) -> Breakdown {
        if !self.ht.ksm.enabled {
            return Breakdown::default();
        }
        let now = self.sc.horizon.0;
        let mut n = 0.0;
        let mut sums = [0.0f64; 7];
        let mut merge_t = (0.0, 0.0);
        let mut cpu_s = 0.0;
        for host in &self.hosts {
            let Some(k) = &host.ksm else { continue };
            let c = k.counters(now);
            n += 1.0;
            cpu_s += c.cpu_ns as f64 / 1e9;
            for (s, v) in sums.iter_mut().zip([
                c.pages_shared,
                c.pages_sharing,
                c.pages_unshared,
                c.pages_volatile,
                c.full_scans,
                c.zero_pages_merged,
                c.wakeups,
            ]) {
                *s += v as f64;
            }
            if let (Some(start), true) = (host.ksm_started, c.pages_sharing > 0) {
                merge_t.0 += host.ksm_last_merge.0.saturating_sub(start.0) as f64 / 1e9;
                merge_t.1 += 1.0;
            }
        }
        let mut v: Vec<(String, f64)> = [
            "pages_shared",
            "pages_sharing",
            "pages_unshared",
            "pages_volatile",
            "full_scans",
            "zero_pages_merged",
            "wakeups",
        ]
        .iter()
        .zip(sums)
        .map(|(k, s)| (k.to_string(), if n > 0.0 { s / n } else { f64::NAN }))
        .collect();
        v.push(("ksmd_cpu_s".into(), cpu_s));
        v.push((
            "scan_rate_pages_per_s".into(),
            self.ht.ksm.scan_rate_pages_per_s(),
        ));
        v.push((
            "time_to_full_merge_s".into(),
            if merge_t.1 > 0.0 {
                merge_t.0 / merge_t.1
            } else {
                f64::NAN
            },
        ));
        Breakdown(v)
    }

    /// Per-class SLO results, interference, and rollouts; whether every class met its
    /// objectives, and whether any class has some.
    fn class_and_rollout_metrics(&self) -> (Breakdown, bool, bool) {
        let mut v = vec![];
        let mut all_met = true;
        let mut any = false;
        let (mut viol_w, mut viol_sum) = (0.0, 0.0);
        for (c, class) in self.sc.workloads.iter().enumerate() {
            let slo = &class.slo;
            if slo.is_empty() {
                continue;
            }
            any = true;
            let sd = &self.class_slowdown[c];
            let st = &self.class_start[c];
            let blocking = if self.class_arrivals[c] > 0 {
                self.class_blocked[c] as f64 / self.class_arrivals[c] as f64
            } else {
                f64::NAN
            };
            let p99 = sd.quantile(0.99);
            let p95 = st.quantile(0.95);
            if let Some(b) = slo.p99_slowdown {
                let f = sd.fraction_above(b);
                v.push((format!("slo_violation_fraction.{}", class.name), f));
                if f.is_finite() {
                    viol_sum += f * sd.weight();
                    viol_w += sd.weight();
                }
            }
            v.push((format!("slowdown_p99.{}", class.name), p99));
            v.push((format!("start_latency_p95_s.{}", class.name), p95));
            v.push((format!("blocking_probability.{}", class.name), blocking));
            let over = |x: f64, b: Option<f64>| b.is_some_and(|b| x.is_finite() && x > b);
            if over(p99, slo.p99_slowdown)
                || over(p95, slo.start_p95_s)
                || over(blocking, slo.blocking)
            {
                all_met = false;
            }
        }
        if viol_w > 0.0 {
            v.insert(0, ("slo_violation_fraction".into(), viol_sum / viol_w));
        }
        if self.any_pressure {
            let (s, w) = self.interference_wt;
            v.push((
                "interference_mean".into(),
                if w > 0.0 { s / w } else { f64::NAN },
            ));
        }
        for (r, ro) in self.sc.rollouts.iter().enumerate() {
            let st = &self.rollouts[r];
            let duration = match (st.started, st.finished) {
                (Some(a), Some(b)) => SimTime(b.0 - a.0).as_secs_f64(),
                _ => f64::NAN,
            };
            v.push((format!("rollout.{}.duration_s", ro.name), duration));
            v.push((
                format!("rollout.{}.capacity_lost_instance_s", ro.name),
                st.lost_instance_s,
            ));
            v.push((format!("rollout.{}.waves", ro.name), f64::from(st.waves)));
            v.push((
                format!("rollout.{}.instances", ro.name),
                st.targets.len() as f64,
            ));
        }
        (Breakdown(v), all_met, any)
    }

    /// Recounts every host's memory parts from the VMs and workloads on it and compares
    /// them with the incremental accounting; checks the admission limits.
    fn check_invariants(&mut self) {
        let mut parts = vec![[0u64; N_PARTS]; self.hosts.len()];
        for v in self.vms.iter().filter(|v| v.alive) {
            let fp = &self.fps[v.class as usize];
            let p = &mut parts[v.host as usize];
            p[PART_GUEST_OS] += fp.guest_os_kib;
            p[PART_IMAGE] += fp.image_kib;
            p[PART_UNUSED] += u64::from(fp.slots - v.used) * fp.slot_kib();
            for pos in 0..self.pl.unit_depth {
                p[PART_LAYER0 + pos] += fp.unit_layer_kib[pos];
            }
        }
        let mut images: Vec<Vec<u32>> = vec![vec![]; self.hosts.len()];
        for w in self.wls.iter().filter(|w| w.alive) {
            let fp = &self.fps[w.class as usize];
            let p = &mut parts[w.host as usize];
            p[PART_WORKLOAD] += fp.wl_own_kib;
            let from = if w.vm == NONE { 0 } else { self.pl.unit_depth };
            for pos in from..self.pl.layers.len() {
                p[PART_LAYER0 + pos] += fp.wl_layer_kib[pos];
            }
            let img = self.sc.workloads[w.class as usize].image;
            if w.vm == NONE && !images[w.host as usize].contains(&img) {
                images[w.host as usize].push(img);
                p[PART_IMAGE] += fp.image_kib;
            }
        }
        let mut total = [0u64; N_PARTS];
        for (h, host) in self.hosts.iter().enumerate() {
            if host.mem.parts != parts[h] {
                self.violation = Some(format!(
                    "host {h}: memory parts {:?} do not match a recount {:?}",
                    host.mem.parts, parts[h]
                ));
                return;
            }
            if host.mem.committed_kib() != host.mem.parts.iter().sum::<u64>() {
                self.violation = Some(format!("host {h}: cached committed total is stale"));
                return;
            }
            if host.mem.committed_kib() > self.admissible_kib {
                self.violation = Some(format!("host {h}: committed memory over the limit"));
                return;
            }
            if host.cpu_reserved_uc > self.reservable_uc {
                self.violation = Some(format!("host {h}: CPU reservation over the ceiling"));
                return;
            }
            for (t, p) in total.iter_mut().zip(&host.mem.parts) {
                *t += p;
            }
        }
        for (k, t) in total.iter().enumerate() {
            if self.agg[A_MEM0 + k] != *t as f64 {
                self.violation = Some(format!(
                    "memory part {k}: fleet total {} != sum over hosts {t}",
                    self.agg[A_MEM0 + k]
                ));
                return;
            }
        }
    }

    fn finish(mut self) -> RunMetrics {
        let horizon = self.sc.horizon;
        for h in 0..self.hosts.len() {
            if let Some(k) = self.hosts[h].ksm.as_mut() {
                k.advance(horizon.0);
            }
        }
        let i = &self.integral;
        let window = SimTime(self.sc.horizon.0 - self.warm.0).as_secs_f64();
        let hu = i[A_HOSTS_USED];
        let per_host = |x: f64| x / hu;
        let kib_to_mib = 1.0 / 1024.0;
        let reserved = self.ht.reserved_mib;
        let mem_sum: f64 = (0..N_PARTS).map(|p| i[A_MEM0 + p]).sum::<f64>() * kib_to_mib;
        let unused = i[A_MEM0 + PART_UNUSED] * kib_to_mib;
        let saved_ksm = i[A_SAVED_KSM] * kib_to_mib;
        let saved_seg = i[A_SAVED_SEG] * kib_to_mib;
        let saved_pc = i[A_SAVED_PC] * kib_to_mib;
        let mut mem = vec![(
            "host_reserved".to_string(),
            if hu > 0.0 { reserved } else { f64::NAN },
        )];
        for (p, label) in PART_LABELS.iter().enumerate() {
            mem.push((label.to_string(), per_host(i[A_MEM0 + p] * kib_to_mib)));
        }
        for (pos, l) in self.pl.layers.iter().enumerate() {
            mem.push((
                format!("layer:{}", l.name),
                per_host(i[A_MEM0 + PART_LAYER0 + pos] * kib_to_mib),
            ));
        }
        let mut cpu = vec![("useful".to_string(), per_host(i[A_CPU0 + CPU_USEFUL]))];
        for (pos, l) in self.pl.layers.iter().enumerate() {
            cpu.push((
                format!("layer:{}", l.name),
                per_host(i[A_CPU0 + CPU_LAYER0 + pos]),
            ));
        }
        if let Some(hyp) = &self.ht.hypervisor {
            cpu.push((
                format!("hypervisor:{}", hyp.name),
                per_host(i[A_CPU0 + CPU_HYP]),
            ));
        }
        if self.ht.ksm.enabled {
            cpu.push(("ksmd".into(), per_host(i[A_CPU0 + CPU_KSMD])));
        }
        if self.ht.steal_per_overcommit > 0.0 && self.pl.has_unit() {
            cpu.push(("steal".into(), per_host(i[A_CPU0 + CPU_STEAL])));
        }
        let delivered: f64 = (0..CPU_CH).map(|k| i[A_CPU0 + k]).sum();
        let raw_capacity = self.ht.cores * self.ht.core_speed * self.ht.smt_gain;
        let ratio = |a: u64, b: u64| if b > 0 { a as f64 / b as f64 } else { f64::NAN };
        let (extra, classes_met, any_class_slo) = self.class_and_rollout_metrics();
        let mut m = RunMetrics {
            slo_met: f64::NAN,
            arrivals: self.arrivals,
            blocked: self.blocked,
            blocking_probability: ratio(self.blocked, self.arrivals),
            workloads_hosted_mean: i[A_HOSTED] / window,
            workloads_running_mean: i[A_RUNNING] / window,
            hosts: self.ht.count,
            hosts_used_mean: hu / window,
            hosts_used_peak: self.hosts_used_peak,
            density_per_host: i[A_HOSTED] / hu,
            vms_mean: i[A_VMS] / window,
            mem_committed_mib_per_host: per_host(mem_sum) + reserved,
            mem_resident_mib_per_host: per_host(mem_sum - unused - saved_ksm - saved_seg)
                + reserved,
            mem_saved_mib_per_host: Breakdown(vec![
                ("ksm".into(), per_host(saved_ksm)),
                ("shared_segments".into(), per_host(saved_seg)),
                ("page_cache".into(), per_host(saved_pc)),
            ]),
            time_over_physical_fraction: i[A_OVER_PHYS] / hu,
            ksm: self.ksm_summary(),
            mem_per_workload_mib: mem_sum / i[A_HOSTED],
            mem_breakdown_mib_per_host: Breakdown(mem),
            cpu_reserved_fraction: i[A_CPU_RES] / 1e6 / (hu * self.ht.cpu_reservable()),
            cpu_utilisation: delivered / (hu * raw_capacity),
            cpu_breakdown_cores_per_host: Breakdown(cpu),
            slowdown_mean: self.slowdown.mean(),
            slowdown_p50: self.slowdown.quantile(0.50),
            slowdown_p95: self.slowdown.quantile(0.95),
            slowdown_p99: self.slowdown.quantile(0.99),
            start_latency_mean_s: self.start_latency.mean(),
            start_latency_p50_s: self.start_latency.quantile(0.50),
            start_latency_p95_s: self.start_latency.quantile(0.95),
            start_latency_p99_s: self.start_latency.quantile(0.99),
            events: self.events,
            start_latency_sketch: std::mem::replace(
                &mut self.start_latency,
                QuantileSketch::new(1.0, 2.0, 2.0),
            ),
            slowdown_sketch: std::mem::replace(
                &mut self.slowdown,
                QuantileSketch::new(1.0, 2.0, 2.0),
            ),
            timeline: std::mem::take(&mut self.timeline),
            extra,
        };
        if !self.sc.slo.is_empty() || any_class_slo {
            m.slo_met = if self.sc.slo.met(&m) && classes_met {
                1.0
            } else {
                0.0
            };
        }
        m
    }
}

/// Reads a class's per-instance numbers the CPU share needs.
struct CpuCaps {
    limit: f64,
    dedicated: bool,
}

fn cpu_caps(class: &crate::model::workload::WorkloadClass, factor: f64) -> CpuCaps {
    if class.dedicated {
        CpuCaps {
            limit: class.cpu_request * factor,
            dedicated: true,
        }
    } else {
        CpuCaps {
            limit: class.cpu_limit.map_or(f64::INFINITY, |l| l * factor),
            dedicated: false,
        }
    }
}

/// Neighbour pressure from other LPARs on a shared processor pool: their load
/// (`shared_pool_load`, 0 with dedicated processors) through the PR/SM boundary's
/// `attenuation` (0.3, assumed).
fn lpar_pressure(ht: &HostType) -> f64 {
    ht.hypervisor
        .as_ref()
        .map_or(0.0, |h| h.attenuation * ht.shared_pool_load)
}

fn pages(mib: f64) -> u64 {
    (mib * PAGES_PER_MIB).round().max(0.0) as u64
}

/// Global tenant ids: tenant `i` of a class with `tenants = n` is `<prefix>-<i>`; a class
/// with `tenant = "acme"` is tenant `acme`; equal names are one tenant across classes.
fn tenant_ids(sc: &Scenario) -> Vec<Vec<u32>> {
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

fn exp_sample(rate: f64, rng: &mut Xoshiro256PlusPlus) -> f64 {
    Exp::new(rate).map_or(f64::INFINITY, |d| d.sample(rng))
}
