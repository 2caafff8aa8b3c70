//! Admission: where a new workload (or the VM that will hold it) goes, under the
//! placement's policy, and what it commits there.

use crate::engine::SimTime;
use crate::model::host_index::{HostUse, Request};
use crate::model::memory::MemPart;
use crate::model::placement::{Footprint, VmPer};

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
            self.reserve_cpu(h, fp.wl_cpu_reserve_ucores as i64);
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

    /// Changes host `h`'s CPU reservation by `delta` µcores.
    pub(super) fn reserve_cpu(&mut self, h: usize, delta: i64) {
        let host = &mut self.hosts[h];
        host.cpu_reserved_ucores = host.cpu_reserved_ucores.saturating_add_signed(delta);
        self.gauges.add(Gauge::CpuReserved, delta as f64);
        self.mark_for_admission(h);
    }

    /// Host `h`'s reservation, committed memory or images changed: the admission index
    /// learns it before the next query.
    pub(super) fn mark_for_admission(&mut self, h: usize) {
        if !self.index_stale[h] {
            self.index_stale[h] = true;
            self.stale_hosts.push(h as u32);
        }
    }

    /// What host `h` uses against the admission limits.
    fn host_use(&self, h: usize) -> HostUse {
        HostUse {
            cpu_ucores: self.hosts[h].cpu_reserved_ucores,
            mem_kib: self.hosts[h].mem.committed_kib(),
        }
    }

    /// The host for a new workload or VM under the placement's policy, from the host
    /// index ([`crate::model::host_index::HostIndex`]); checked mode compares it with a full scan.
    pub(super) fn find_host(
        &mut self,
        cpu_ucores: u64,
        mem_kib: u64,
        image: Option<(u32, u64)>,
    ) -> Option<usize> {
        for k in 0..self.stale_hosts.len() {
            let h = self.stale_hosts[k] as usize;
            self.index_stale[h] = false;
            let used = self.host_use(h);
            let mem = &self.hosts[h].mem;
            self.host_index.update(h, used, |img| mem.has_image(img));
        }
        self.stale_hosts.clear();
        let request = Request {
            cpu_ucores,
            mem_kib,
            image,
        };
        let hosts = &self.hosts;
        let has_image = |h: usize, img: u32| hosts[h].mem.has_image(img);
        if self.check {
            let used: Vec<HostUse> = (0..hosts.len()).map(|h| self.host_use(h)).collect();
            if let Err(e) = self.host_index.verify(&used, request, has_image) {
                self.violation = Some(e);
            }
        }
        self.host_index.choose(request, has_image)
    }

    /// The open VM of `key` that takes the next workload: the smallest
    /// [`crate::model::placement::Policy::vm_rank`], from the ordered set of the key's
    /// open VMs; checked mode compares it with a scan of every VM.
    pub(super) fn pick_open_vm(&mut self, key: usize) -> Option<u32> {
        let pick = self
            .open_vms
            .first_at_least(self.open[key], i64::MIN, i64::MIN);
        if self.check {
            let policy = self.pl.policy;
            let scan = (0..self.vms.len() as u32)
                .filter(|&vm| {
                    let v = &self.vms[vm as usize];
                    v.alive && v.key as usize == key && v.used < self.pl.slots
                })
                .min_by_key(|&vm| {
                    let v = &self.vms[vm as usize];
                    policy.vm_rank(v.host, v.used, vm)
                });
            if scan != pick {
                self.violation = Some(format!(
                    "open-VM index chose {pick:?}, a scan {scan:?}, for key {key}"
                ));
            }
        }
        pick
    }

    /// Files VM `vm` under its key by its current rank while it has a free slot, and
    /// takes it out when it is full or gone.
    pub(super) fn file_vm(&mut self, vm: u32) {
        let v = &self.vms[vm as usize];
        let root = &mut self.open[v.key as usize];
        if v.alive && v.used < self.pl.slots {
            let (rank, _) = self.pl.policy.vm_rank(v.host, v.used, vm);
            self.open_vms.set(root, vm, rank, 0);
        } else {
            self.open_vms.remove(root, vm);
        }
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
        self.reserve_cpu(h, fp.unit_cpu_reserve_ucores as i64);
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
        self.open_vms.grow(self.vms.len());
        self.file_vm(id);
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
        self.vms[vm as usize].used += 1;
        self.file_vm(vm);
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
            self.file_vm(vm);
            return;
        }
        // Empty: shut the VM down and give its reservation back.
        self.vms[vm as usize].alive = false;
        self.file_vm(vm);
        self.remove_guest_memory(vm);
        self.mem_sub(h, MemPart::Unused, u64::from(fp.slots) * fp.slot_kib());
        self.mem_sub(h, MemPart::GuestOs, fp.guest_os_kib);
        self.mem_sub(h, MemPart::Image, fp.image_kib);
        for pos in 0..self.pl.unit_depth {
            self.mem_sub(h, MemPart::Layer(pos), fp.unit_layer_kib[pos]);
            self.hosts[h].background[pos] -= self.pl.layers[pos].cpu_background_cores;
        }
        self.reserve_cpu(h, -(fp.unit_cpu_reserve_ucores as i64));
        self.hosts[h].units -= 1;
        self.hosts[h].vcpus -= fp.vm_vcpus;
        self.gauges.add(Gauge::Vms, -(1.0));
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
