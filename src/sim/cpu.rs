//! CPU on one host: processor sharing of the host's throughput among its residents,
//! their slowdowns, and the host's CPU breakdown.

use crate::engine::SimTime;
use crate::model::cpu::{self, CpuBreakdown, CpuPart, water_fill};
use crate::model::interference::{self, PerResource, Resource};

use super::state::{Gauge, NONE, World};

impl World<'_> {
    pub(super) fn flush_slowdown(&mut self, h: usize, now: SimTime) {
        let host = &mut self.hosts[h];
        let from = host.last_flush.max(self.warm);
        if now > from {
            let dt = SimTime(now.0 - from.0).as_secs_f64();
            for &w in &host.running {
                let inst = &self.instances[w as usize];
                let b = inst.slowdown_bucket as usize;
                self.slowdown.add_at(b, inst.slowdown, dt);
                if self.class_has_slo[inst.class as usize] {
                    self.class_slowdown[inst.class as usize].add_at(b, inst.slowdown, dt);
                }
                self.interference_wt.0 += inst.interference * dt;
                self.interference_wt.1 += dt;
            }
        }
        host.last_flush = now;
    }

    /// Re-shares host `h`'s CPU after its residents or their demand changed, and
    /// recomputes their slowdowns and the host's CPU breakdown. Cost O(residents of h).
    ///
    /// Order: background (idle kernels, shims, ksmd) first; dedicated workloads get their
    /// demand up to their reservation, and their whole reservation is withheld from the
    /// others (never lent); burstable workloads share what is left by weighted max-min
    /// fairness, each up to its limit. Steal takes its share of the host's throughput.
    /// slowdown = layer factor × (uncapped demand / allocation) × paging × interference.
    pub(super) fn recompute_cpu(&mut self, h: usize) {
        let now = self.q.now();
        self.flush_slowdown(h, now);
        let paging = self.refresh_pressure(h);
        let factor = self.pl.cpu_factor();
        let host = &self.hosts[h];
        self.demand_scratch.clear();
        self.weight_scratch.clear();
        let mut dedicated_reserved = 0.0;
        let mut dedicated_used = 0.0;
        let mut burst_demand = 0.0;
        for &w in &host.running {
            let inst = &self.instances[w as usize];
            let caps = cpu_caps(&self.sc.workloads[inst.class as usize], factor);
            let e = (inst.demand * inst.level * factor).min(caps.limit);
            if caps.dedicated {
                dedicated_reserved += caps.limit;
                dedicated_used += e;
                // Marked by a zero weight: not part of the burstable share.
                self.demand_scratch.push(e);
                self.weight_scratch.push(0.0);
            } else {
                burst_demand += e;
                self.demand_scratch.push(e);
                self.weight_scratch.push(inst.weight);
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
        self.alloc_scratch.clear();
        self.alloc_scratch.resize(self.demand_scratch.len(), 0.0);
        let any_dedicated = self.weight_scratch.contains(&0.0);
        if !any_dedicated {
            // Common case: everyone shares; no need to split out a burstable subset.
            water_fill(
                burst_avail,
                &self.demand_scratch,
                &self.weight_scratch,
                &mut self.alloc_scratch,
                &mut self.order,
            );
        } else {
            let n = self.demand_scratch.len();
            let mut d = std::mem::take(&mut self.burst_demand_scratch);
            let mut wts = std::mem::take(&mut self.burst_weight_scratch);
            let mut idx = std::mem::take(&mut self.burst_index_scratch);
            let mut out = std::mem::take(&mut self.burst_alloc_scratch);
            d.clear();
            wts.clear();
            idx.clear();
            for k in 0..n {
                if self.weight_scratch[k] > 0.0 {
                    d.push(self.demand_scratch[k]);
                    wts.push(self.weight_scratch[k]);
                    idx.push(k as u32);
                } else {
                    self.alloc_scratch[k] = self.demand_scratch[k] * ded_alloc_scale;
                }
            }
            out.clear();
            out.resize(d.len(), 0.0);
            water_fill(burst_avail, &d, &wts, &mut out, &mut self.order);
            for (j, &k) in idx.iter().enumerate() {
                self.alloc_scratch[k as usize] = out[j];
            }
            self.burst_demand_scratch = d;
            self.burst_weight_scratch = wts;
            self.burst_index_scratch = idx;
            self.burst_alloc_scratch = out;
        }
        self.interference(h);
        let mut useful = 0.0;
        let mut allocated = bg_alloc;
        let host = &self.hosts[h];
        for (k, &w) in host.running.iter().enumerate() {
            let a = self.alloc_scratch[k];
            allocated += a;
            useful += a / factor;
            let inst = &self.instances[w as usize];
            let want = inst.demand * inst.level * factor;
            let s = cpu::service_slowdown(
                cpu::contended_slowdown(factor, want, a),
                self.class_io[inst.class as usize],
                self.io_factor,
                paging,
                inst.interference,
            );
            if s != inst.slowdown {
                let (lo, hi) = inst.slowdown_bounds;
                let rebucket = !(lo <= s && s < hi);
                let inst = &mut self.instances[w as usize];
                inst.slowdown = s;
                if rebucket {
                    let b = self.slowdown.index(s);
                    inst.slowdown_bucket = b as u32;
                    inst.slowdown_bounds = self.slowdown.bucket_bounds(b);
                }
            }
        }
        let mut cpu: CpuBreakdown = [0.0; CpuPart::COUNT];
        cpu[CpuPart::Useful.index()] = useful;
        let bg_share = if bg > 0.0 { bg_alloc / bg } else { 0.0 };
        for (pos, l) in self.pl.layers.iter().enumerate() {
            // Work at layer pos = useful × Π(inner factors); its overhead is that × (f − 1).
            cpu[CpuPart::Layer(pos).index()] =
                useful * self.inner_factor[pos] * (l.cpu_factor - 1.0)
                    + host.background[pos].max(0.0) * bg_share;
        }
        cpu[CpuPart::Ksmd.index()] = host.ksmd_demand * bg_share;
        // Stolen time in proportion to what the host delivered.
        cpu[CpuPart::Steal.index()] = if steal < 1.0 {
            allocated * steal / (1.0 - steal)
        } else {
            0.0
        };
        cpu[CpuPart::Hypervisor.index()] =
            (allocated + cpu[CpuPart::Steal.index()]) * (self.ht.hypervisor_factor() - 1.0);
        if self.check && allocated > cap + 1e-9 {
            self.violation = Some(format!(
                "host {h}: CPU allocated {allocated} exceeds capacity {cap}"
            ));
        }
        if self.check {
            for (k, &w) in host.running.iter().enumerate() {
                let c = &self.sc.workloads[self.instances[w as usize].class as usize];
                if c.dedicated && self.alloc_scratch[k] > c.cpu_request * factor + 1e-9 {
                    self.violation = Some(format!(
                        "host {h}: dedicated workload got {} > its reservation",
                        self.alloc_scratch[k]
                    ));
                }
            }
        }
        let host = &mut self.hosts[h];
        for (k, v) in cpu.iter().enumerate() {
            self.gauges
                .add(Gauge::Cpu(CpuPart::from_index(k)), v - host.cpu[k]);
        }
        host.cpu = cpu;
    }

    /// Interference factor of every resident of host `h` from its neighbours' pressure
    /// ([`interference::felt`]: full pressure from the same kernel, attenuated across the
    /// VM boundary, plus the other LPARs').
    pub(super) fn interference(&mut self, h: usize) {
        if !self.any_pressure {
            return;
        }
        let host = &self.hosts[h];
        let mut host_total: PerResource = [0.0; Resource::COUNT];
        // Per-VM sums, indexed by VM id (grown on demand, reset for this host's VMs).
        if self.vm_pressure.len() < self.vms.len() {
            self.vm_pressure
                .resize(self.vms.len(), [0.0; Resource::COUNT]);
        }
        for &w in &host.running {
            let inst = &self.instances[w as usize];
            if inst.vm != NONE {
                self.vm_pressure[inst.vm as usize] = [0.0; Resource::COUNT];
            }
        }
        for &w in &host.running {
            let inst = &self.instances[w as usize];
            let p = &self.sc.workloads[inst.class as usize].pressure.0;
            for r in 0..Resource::COUNT {
                let x = p[r] * inst.level;
                host_total[r] += x;
                if inst.vm != NONE {
                    self.vm_pressure[inst.vm as usize][r] += x;
                }
            }
        }
        // Residents of one class in the same phase (and VM grouping) see the same
        // pressure: remember the last few answers instead of recomputing the exps.
        let mut memo: [(u32, PerResource, f64); 8] = [(u32::MAX, [0.0; Resource::COUNT], 1.0); 8];
        let mut memo_next = 0;
        for &w in &host.running {
            let inst = &self.instances[w as usize];
            let class = &self.sc.workloads[inst.class as usize];
            let own = class.pressure.0.map(|p| p * inst.level);
            let unit_total = (inst.vm != NONE).then(|| &self.vm_pressure[inst.vm as usize]);
            let x = interference::felt(
                &own,
                unit_total,
                &host_total,
                self.unit_attenuation,
                &self.outside_pressure,
            );
            let f = match memo.iter().find(|(c, mx, _)| *c == inst.class && *mx == x) {
                Some(&(_, _, f)) => f,
                None => {
                    let f = interference::slowdown(&class.sensitivity, &x, class.slowdown_cap);
                    memo[memo_next] = (inst.class, x, f);
                    memo_next = (memo_next + 1) % memo.len();
                    f
                }
            };
            self.instances[w as usize].interference = f;
        }
    }
}

/// Reads a class's per-instance numbers the CPU share needs.
pub(super) struct CpuCaps {
    limit: f64,
    dedicated: bool,
}

pub(super) fn cpu_caps(class: &crate::model::workload::WorkloadClass, factor: f64) -> CpuCaps {
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
