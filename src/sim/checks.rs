//! Checked mode: recount everything from scratch after every event and compare with the
//! incremental accounting.

use crate::model::memory::MemPart;

use super::state::{Gauge, NONE, World};

impl World<'_> {
    /// Recounts every host's memory parts from the VMs and workloads on it and compares
    /// them with the incremental accounting; checks the admission limits.
    pub(super) fn check_invariants(&mut self) {
        let mut parts = vec![[0u64; MemPart::COUNT]; self.hosts.len()];
        for v in self.vms.iter().filter(|v| v.alive) {
            let fp = &self.footprints[v.class as usize];
            let p = &mut parts[v.host as usize];
            p[MemPart::GuestOs.index()] += fp.guest_os_kib;
            p[MemPart::Image.index()] += fp.image_kib;
            p[MemPart::Unused.index()] += u64::from(fp.slots - v.used) * fp.slot_kib();
            for pos in 0..self.pl.unit_depth {
                p[MemPart::Layer(pos).index()] += fp.unit_layer_kib[pos];
            }
        }
        let mut images: Vec<Vec<u32>> = vec![vec![]; self.hosts.len()];
        for w in self.instances.iter().filter(|w| w.alive) {
            let fp = &self.footprints[w.class as usize];
            let p = &mut parts[w.host as usize];
            p[MemPart::Workload.index()] += fp.wl_own_kib;
            let from = if w.vm == NONE { 0 } else { self.pl.unit_depth };
            for pos in from..self.pl.layers.len() {
                p[MemPart::Layer(pos).index()] += fp.wl_layer_kib[pos];
            }
            let img = self.sc.workloads[w.class as usize].image;
            if w.vm == NONE && !images[w.host as usize].contains(&img) {
                images[w.host as usize].push(img);
                p[MemPart::Image.index()] += fp.image_kib;
            }
        }
        let mut total = [0u64; MemPart::COUNT];
        for (h, host) in self.hosts.iter().enumerate() {
            if *host.mem.parts() != parts[h] {
                self.violation = Some(format!(
                    "host {h}: memory parts {:?} do not match a recount {:?}",
                    host.mem.parts(),
                    parts[h]
                ));
                return;
            }
            if host.mem.committed_kib() != host.mem.parts().iter().sum::<u64>() {
                self.violation = Some(format!("host {h}: cached committed total is stale"));
                return;
            }
            if host.mem.committed_kib() > self.admissible_kib {
                self.violation = Some(format!("host {h}: committed memory over the limit"));
                return;
            }
            if host.cpu_reserved_ucores > self.reservable_ucores {
                self.violation = Some(format!("host {h}: CPU reservation over the ceiling"));
                return;
            }
            for (t, p) in total.iter_mut().zip(host.mem.parts()) {
                *t += p;
            }
        }
        for (k, t) in total.iter().enumerate() {
            let part = MemPart::from_index(k);
            let fleet = self.gauges.level(Gauge::Memory(part));
            if fleet != *t as f64 {
                self.violation = Some(format!(
                    "memory part {part:?}: fleet total {fleet} != sum over hosts {t}"
                ));
                return;
            }
        }
    }
}
