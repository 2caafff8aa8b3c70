//! Admission: where a new workload (or the VM that will hold it) goes, under the
//! placement's policy, and what it commits there.

use crate::engine::SimTime;
use crate::model::memory::MemPart;
use crate::model::placement::{Footprint, Policy, VmPer};

use super::state::{Gauge, NONE, Vm, World};

impl World<'_> {
    /// Finds room for one workload of class `c`; commits its resources and returns
    /// (host, vm or NONE, start delay in seconds), or None when nothing fits (blocked).
    pub(super) fn admit(&mut self, c: usize, tenant: u32) -> Option<(usize, u32, f64)> {
        let fp = self.footprints[c].clone();
        let pl = self.pl;
        let now = self.q.now();
        if !pl.has_unit() {
            let image = self.sc.workloads[c].image;
            let mem = fp.wl_own_kib + fp.wl_layer_kib.iter().sum::<u64>();
            let h = self.find_host(fp.wl_cpu_reserve_ucores, mem, Some((image, fp.image_kib)))?;
            let was_used = self.hosts[h].used();
            if self.hosts[h].mem.image_ref(image) {
                self.mem_add(h, MemPart::Image, fp.image_kib);
            } else {
                self.pagecache_saved(h, fp.image_kib as i64);
            }
            self.add_workload_parts(h, &fp, 0);
            self.hosts[h].cpu_reserved_ucores += fp.wl_cpu_reserve_ucores;
            self.gauges
                .add(Gauge::CpuReserved, fp.wl_cpu_reserve_ucores as f64);
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

    /// The host for a new workload or VM under the placement's policy.
    pub(super) fn find_host(
        &self,
        cpu_ucores: u64,
        mem_kib: u64,
        image: Option<(u32, u64)>,
    ) -> Option<usize> {
        let mut best: Option<(usize, f64)> = None;
        for (i, h) in self.hosts.iter().enumerate() {
            let extra = match image {
                Some((img, kib)) if !h.mem.has_image(img) => kib,
                _ => 0,
            };
            let cpu_after = h.cpu_reserved_ucores + cpu_ucores;
            let mem_after = h.mem.committed_kib() + mem_kib + extra;
            if cpu_after > self.reservable_ucores || mem_after > self.admissible_kib {
                continue;
            }
            let load = Policy::load_after(
                cpu_after,
                self.reservable_ucores,
                mem_after,
                self.admissible_kib,
            );
            if self.pl.policy.prefers(load, best.map(|(_, b)| b)) {
                best = Some((i, load));
                if self.pl.policy == Policy::FirstFit {
                    break;
                }
            }
        }
        best.map(|(i, _)| i)
    }

    pub(super) fn pick_open_vm(&self, key: usize) -> Option<u32> {
        let list = &self.open[key];
        let policy = self.pl.policy;
        list.iter().copied().min_by_key(|&vm| {
            let v = &self.vms[vm as usize];
            policy.vm_rank(v.host, v.used, vm)
        })
    }

    pub(super) fn create_vm(&mut self, h: usize, c: usize, key: u32, tenant: u32) -> u32 {
        let fp = self.footprints[c].clone();
        let was_used = self.hosts[h].used();
        self.mem_add(h, MemPart::GuestOs, fp.guest_os_kib);
        self.mem_add(h, MemPart::Image, fp.image_kib);
        self.mem_add(h, MemPart::Unused, u64::from(fp.slots) * fp.slot_kib());
        for pos in 0..self.pl.unit_depth {
            self.mem_add(h, MemPart::Layer(pos), fp.unit_layer_kib[pos]);
            self.hosts[h].background[pos] += self.pl.layers[pos].cpu_background_cores;
        }
        self.hosts[h].cpu_reserved_ucores += fp.unit_cpu_reserve_ucores;
        self.gauges
            .add(Gauge::CpuReserved, fp.unit_cpu_reserve_ucores as f64);
        self.hosts[h].units += 1;
        self.hosts[h].vcpus += fp.vm_vcpus;
        self.gauges.add(Gauge::Vms, 1.0);
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

    pub(super) fn join_vm(&mut self, vm: u32, fp: &Footprint) {
        let h = self.vms[vm as usize].host as usize;
        self.mem_sub(h, MemPart::Unused, fp.slot_kib());
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
    pub(super) fn close_vm(&mut self, vm: u32) {
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

    pub(super) fn leave_vm(&mut self, vm: u32) {
        let c = self.vms[vm as usize].class as usize;
        let fp = self.footprints[c].clone();
        let h = self.vms[vm as usize].host as usize;
        self.remove_workload_parts(h, &fp, self.pl.unit_depth);
        self.mem_add(h, MemPart::Unused, fp.slot_kib());
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
        self.mem_sub(h, MemPart::Unused, u64::from(fp.slots) * fp.slot_kib());
        self.mem_sub(h, MemPart::GuestOs, fp.guest_os_kib);
        self.mem_sub(h, MemPart::Image, fp.image_kib);
        for pos in 0..self.pl.unit_depth {
            self.mem_sub(h, MemPart::Layer(pos), fp.unit_layer_kib[pos]);
            self.hosts[h].background[pos] -= self.pl.layers[pos].cpu_background_cores;
        }
        self.hosts[h].cpu_reserved_ucores -= fp.unit_cpu_reserve_ucores;
        self.gauges
            .add(Gauge::CpuReserved, -(fp.unit_cpu_reserve_ucores as f64));
        self.hosts[h].units -= 1;
        self.hosts[h].vcpus -= fp.vm_vcpus;
        self.gauges.add(Gauge::Vms, -(1.0));
        self.vms[vm as usize].alive = false;
        self.free_vms.push(vm);
    }

    /// Memory and background CPU of one workload's own layers (positions `from..`).
    pub(super) fn add_workload_parts(&mut self, h: usize, fp: &Footprint, from: usize) {
        self.mem_add(h, MemPart::Workload, fp.wl_own_kib);
        for pos in from..self.pl.layers.len() {
            self.mem_add(h, MemPart::Layer(pos), fp.wl_layer_kib[pos]);
            self.hosts[h].background[pos] += self.pl.layers[pos].cpu_background_cores;
        }
    }

    pub(super) fn remove_workload_parts(&mut self, h: usize, fp: &Footprint, from: usize) {
        self.mem_sub(h, MemPart::Workload, fp.wl_own_kib);
        for pos in from..self.pl.layers.len() {
            self.mem_sub(h, MemPart::Layer(pos), fp.wl_layer_kib[pos]);
            self.hosts[h].background[pos] -= self.pl.layers[pos].cpu_background_cores;
        }
    }
}
