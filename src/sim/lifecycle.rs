//! Workload lifecycle: arrival, start, ON/OFF phases, departure, and rollouts that
//! restart instances.

use rand::SeedableRng;
use rand_distr::{Distribution, Exp};
use rand_xoshiro::Xoshiro256PlusPlus;

use crate::engine::SimTime;
use crate::model::memory::MemPart;
use crate::model::workload::Arrivals;

use super::Ev;
use super::seeds::stream_seed;
use super::state::{Gauge, Instance, NONE, World};

impl World<'_> {
    pub(super) fn on_arrival(&mut self, c: usize) {
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
        let inst = Instance {
            class: c as u32,
            tenant: self.tenant_ids[c][tenant as usize],
            region: None,
            host: h as u32,
            vm,
            pos: NONE,
            alive: true,
            arrival: now,
            lifetime,
            demand,
            weight: class.weight,
            slowdown: self.footprints[c].cpu_factor,
            level: 1.0,
            on: true,
            interference: 1.0,
            slowdown_bucket: self.slowdown.index(self.footprints[c].cpu_factor) as u32,
            slowdown_bounds: self
                .slowdown
                .bucket_bounds(self.slowdown.index(self.footprints[c].cpu_factor)),
            restarting: false,
        };
        let id = match self.free_instances.pop() {
            Some(id) => {
                self.instances[id as usize] = inst;
                self.phase_rngs[id as usize] = phase_rng;
                id
            }
            None => {
                self.instances.push(inst);
                self.phase_rngs.push(phase_rng);
                self.instance_generations.ensure(self.instances.len());
                (self.instances.len() - 1) as u32
            }
        };
        let was_used = self.hosts[h].used();
        self.hosts[h].hosted += 1;
        self.hosts[h].starts_in_flight += 1;
        self.note_host_use(h, was_used);
        self.gauges.add(Gauge::Hosted, 1.0);
        self.add_workload_region(id);
        let generation = self.instance_generations.current(id as usize);
        self.q.schedule_in(
            SimTime::from_secs_f64(delay),
            Ev::Started {
                inst: id,
                generation,
            },
        );
    }

    /// Sum of the start times of layers `from..to`.
    pub(super) fn sample_starts(&mut self, from: usize, to: usize, others: u32) -> f64 {
        let mut t = 0.0;
        for l in &self.pl.layers[from..to] {
            t += l.sample_start_s(&mut self.start_rng, others);
        }
        t
    }

    pub(super) fn on_started(&mut self, id: u32) {
        let now = self.q.now();
        let (h, arrival, lifetime) = {
            let w = &self.instances[id as usize];
            (w.host as usize, w.arrival, w.lifetime)
        };
        if arrival >= self.warm {
            let lat = SimTime(now.0 - arrival.0).as_secs_f64();
            self.start_latency.add(lat, 1.0);
            let c = self.instances[id as usize].class as usize;
            self.class_start[c].add(lat, 1.0);
        }
        self.flush_slowdown(h, now);
        let host = &mut self.hosts[h];
        host.starts_in_flight -= 1;
        self.instances[id as usize].pos = host.running.len() as u32;
        host.running.push(id);
        self.gauges.add(Gauge::Running, 1.0);
        self.recompute_cpu(h);
        self.schedule_phase(id);
        if let Some(l) = lifetime {
            let generation = self.instance_generations.current(id as usize);
            self.q.schedule_in(
                SimTime::from_secs_f64(l),
                Ev::Departure {
                    inst: id,
                    generation,
                },
            );
        }
    }

    pub(super) fn on_departure(&mut self, id: u32) {
        let now = self.q.now();
        let (h, vm, c, pos) = {
            let w = &self.instances[id as usize];
            (w.host as usize, w.vm, w.class as usize, w.pos)
        };
        self.flush_slowdown(h, now);
        if pos != NONE {
            self.unlink_running(id);
            self.gauges.add(Gauge::Running, -(1.0));
        } else if self.instances[id as usize].restarting {
            // Gone while a rollout restarts it: the wave stops waiting for it.
            self.hosts[h].starts_in_flight -= 1;
        }
        self.gauges.add(Gauge::Hosted, -(1.0));
        self.remove_workload_region(id);
        let was_used = self.hosts[h].used();
        self.hosts[h].hosted -= 1;
        let fp = self.footprints[c].clone();
        if vm == NONE {
            self.remove_workload_parts(h, &fp, 0);
            let image = self.sc.workloads[c].image;
            if self.hosts[h].mem.image_unref(image) {
                self.mem_sub(h, MemPart::Image, fp.image_kib);
            } else {
                self.pagecache_saved(h, -(fp.image_kib as i64));
            }
            self.reserve_cpu(h, -(fp.wl_cpu_reserve_ucores as i64));
        } else {
            self.leave_vm(vm);
        }
        self.note_host_use(h, was_used);
        self.instances[id as usize].alive = false;
        // Every event still queued for this slot is stale from now on.
        self.instance_generations.bump(id as usize);
        self.free_instances.push(id);
        self.recompute_cpu(h);
        // A static fleet with a lifetime is a fleet with churn: the instance is redeployed.
        if matches!(self.sc.workloads[c].arrivals, Arrivals::Static { .. }) {
            self.q
                .schedule_in(SimTime::ZERO, Ev::Arrival { class: c as u32 });
        }
    }

    /// Removes a running workload from its host's running list.
    pub(super) fn unlink_running(&mut self, id: u32) {
        let (h, pos) = {
            let w = &self.instances[id as usize];
            (w.host as usize, w.pos)
        };
        let host = &mut self.hosts[h];
        host.running.swap_remove(pos as usize);
        if let Some(&moved) = host.running.get(pos as usize) {
            self.instances[moved as usize].pos = pos;
        }
        self.instances[id as usize].pos = NONE;
    }

    /// Schedules the workload's next phase switch (ON/OFF demand), if it has phases.
    pub(super) fn schedule_phase(&mut self, id: u32) {
        let c = self.instances[id as usize].class as usize;
        let Some(ph) = self.sc.workloads[c].phases else {
            return;
        };
        let inst = &self.instances[id as usize];
        let Some(rng) = self.phase_rngs[id as usize].as_mut() else {
            return;
        };
        let d = if inst.on { ph.on_s } else { ph.off_s }.sample(rng);
        let generation = self.instance_generations.current(id as usize);
        self.q.schedule_in(
            SimTime::from_secs_f64(d),
            Ev::Phase {
                inst: id,
                generation,
            },
        );
    }

    pub(super) fn on_phase(&mut self, id: u32) {
        let c = self.instances[id as usize].class as usize;
        let Some(ph) = self.sc.workloads[c].phases else {
            return;
        };
        let h = self.instances[id as usize].host as usize;
        self.flush_slowdown(h, self.q.now());
        let inst = &mut self.instances[id as usize];
        inst.on = !inst.on;
        inst.level = if inst.on { 1.0 } else { ph.off_level };
        if inst.pos != NONE {
            self.recompute_cpu(h);
        }
        self.schedule_phase(id);
    }

    pub(super) fn on_rollout_start(&mut self, r: usize) {
        let ro = &self.sc.rollouts[r];
        let targets: Vec<u32> = (0..self.instances.len() as u32)
            .filter(|&w| {
                let inst = &self.instances[w as usize];
                inst.alive && inst.class as usize == ro.class && inst.pos != NONE
            })
            .collect();
        let batch = match ro.batch {
            crate::scenario::Batch::Size(b) => b as usize,
            crate::scenario::Batch::Fraction(f) => {
                ((f * targets.len() as f64).floor() as usize).max(1)
            }
        };
        let st = &mut self.rollouts[r];
        st.done = vec![false; self.instances.len()];
        st.targets = targets;
        st.batch = batch;
        st.started = Some(self.q.now());
        self.rollout_wave(r);
    }

    /// Restarts the next batch of still-running targets; marks the rollout finished when
    /// none are left.
    pub(super) fn rollout_wave(&mut self, r: usize) {
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
            let inst = &self.instances[id as usize];
            if !inst.alive
                || inst.pos == NONE
                || inst.restarting
                || self.rollouts[r].done[id as usize]
            {
                continue;
            }
            let h = inst.host as usize;
            if kernel && packed {
                let vm = inst.vm;
                let members: Vec<u32> = self.hosts[h]
                    .running
                    .iter()
                    .copied()
                    .filter(|&j| self.instances[j as usize].vm == vm)
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
    pub(super) fn restart(&mut self, r: usize, id: u32, t: f64) {
        let now = self.q.now();
        let h = self.instances[id as usize].host as usize;
        self.flush_slowdown(h, now);
        self.unlink_running(id);
        self.gauges.add(Gauge::Running, -(1.0));
        self.instances[id as usize].restarting = true;
        self.hosts[h].starts_in_flight += 1;
        let st = &mut self.rollouts[r];
        if let Some(d) = st.done.get_mut(id as usize) {
            *d = true;
        }
        st.lost_instance_s += t;
        st.in_flight += 1;
        let generation = self.instance_generations.current(id as usize);
        self.q.schedule_in(
            SimTime::from_secs_f64(t),
            Ev::Restarted {
                inst: id,
                generation,
                rollout: r as u32,
            },
        );
    }

    pub(super) fn on_restarted(&mut self, id: u32, generation: u32, r: usize) {
        let now = self.q.now();
        if self.is_current(id, generation) && self.instances[id as usize].restarting {
            let h = self.instances[id as usize].host as usize;
            self.flush_slowdown(h, now);
            self.instances[id as usize].restarting = false;
            self.hosts[h].starts_in_flight -= 1;
            self.instances[id as usize].pos = self.hosts[h].running.len() as u32;
            self.hosts[h].running.push(id);
            self.gauges.add(Gauge::Running, 1.0);
            self.recompute_cpu(h);
        }
        self.rollouts[r].in_flight -= 1;
        if self.rollouts[r].in_flight == 0 {
            self.rollout_wave(r);
        }
    }
}

pub(super) fn exp_sample(rate: f64, rng: &mut Xoshiro256PlusPlus) -> f64 {
    Exp::new(rate).map_or(f64::INFINITY, |d| d.sample(rng))
}
