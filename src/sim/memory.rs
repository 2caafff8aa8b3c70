//! Memory accounting on one host: committed parts, page-cache and shared-segment sharing,
//! guest and workload memory as KSM regions, resident memory and paging.

use crate::model::ksm::{Content, SegmentSpec};
use crate::model::memory::MemPart;

use super::state::{GUEST_OS_CLASS, Gauge, NONE, PAGES_PER_MIB, World};

impl World<'_> {
    pub(super) fn mem_add(&mut self, h: usize, part: MemPart, kib: u64) {
        self.hosts[h].mem.add(part, kib);
        self.gauges.add(Gauge::Memory(part), kib as f64);
        self.mark_for_admission(h);
    }

    pub(super) fn mem_sub(&mut self, h: usize, part: MemPart, kib: u64) {
        if !self.hosts[h].mem.sub(part, kib) {
            self.violation = Some(format!("host {h}: memory part {part:?} below zero"));
        }
        self.gauges.add(Gauge::Memory(part), -(kib as f64));
        self.mark_for_admission(h);
    }

    /// Adds `delta` KiB of page-cache sharing (an image held once for several users).
    pub(super) fn pagecache_saved(&mut self, h: usize, delta: i64) {
        let host = &mut self.hosts[h];
        host.pagecache_saved_kib = host.pagecache_saved_kib.saturating_add_signed(delta);
        self.gauges.add(Gauge::SavedPageCache, delta as f64);
    }

    /// Takes (or drops) a reference on shared-segment content `class` of `kib` on host
    /// `h`: every guest after the first uses the host's one copy.
    pub(super) fn segment_ref(&mut self, h: usize, class: u32, kib: u64, add: bool) {
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
        self.gauges.add(
            Gauge::SavedSegments,
            shared_after as f64 - shared_before as f64,
        );
        if after == 0 {
            host.segments.swap_remove(k);
        }
    }

    /// Guest memory of a new VM: shared segments (z/VM NSS/DCSS) and, with KSM on, the
    /// guest RAM as a mergeable region (identical guest-OS part, unique rest, image).
    pub(super) fn add_guest_memory(&mut self, vm: u32) {
        self.guest_memory(vm, true);
    }

    pub(super) fn remove_guest_memory(&mut self, vm: u32) {
        self.guest_memory(vm, false);
    }

    pub(super) fn guest_memory(&mut self, vm: u32, add: bool) {
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
        let (image, image_kib, image_mib) =
            (class.image, self.footprints[c].image_kib, class.image_mib);
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
    pub(super) fn add_workload_region(&mut self, id: u32) {
        let (h, c, tenant, in_vm) = {
            let w = &self.instances[id as usize];
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
        self.instances[id as usize].region = Some(r);
    }

    pub(super) fn remove_workload_region(&mut self, id: u32) {
        let h = self.instances[id as usize].host as usize;
        if let Some(r) = self.instances[id as usize].region.take() {
            self.ksm_remove_region(h, r);
        }
    }

    /// Resident memory of host `h`: committed less empty VM capacity and what KSM and
    /// shared segments save.
    pub(super) fn resident_kib(&self, h: usize) -> u64 {
        let host = &self.hosts[h];
        host.mem
            .resident_kib()
            .saturating_sub(host.ksm_saved_kib + host.segment_saved_kib)
    }

    /// Updates the host's paging factor and over-physical flag; returns the factor.
    pub(super) fn refresh_pressure(&mut self, h: usize) -> f64 {
        let resident = self.resident_kib(h);
        let over = resident > self.physical_kib;
        let paging = self.ht.paging_factor(resident as f64 / 1024.0);
        let host = &mut self.hosts[h];
        if over != host.over_physical {
            self.gauges
                .add(Gauge::OverPhysical, if over { 1.0 } else { -1.0 });
            host.over_physical = over;
        }
        host.paging = paging;
        paging
    }
}

pub(super) fn pages(mib: f64) -> u64 {
    (mib * PAGES_PER_MIB).round().max(0.0) as u64
}
