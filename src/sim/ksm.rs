//! ksmd on each host: mergeable regions in, merged memory and ksmd CPU out, and its
//! timeline samples.

use crate::engine::SimTime;
use crate::metrics::{Breakdown, TimelineRow};
use crate::model::ksm::{Ksm, RegionId, SegmentSpec};

use super::Ev;
use super::state::{Gauge, World};

impl World<'_> {
    pub(super) fn ksm_add_region(
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

    pub(super) fn ksm_remove_region(&mut self, h: usize, r: RegionId) {
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
    pub(super) fn ksm_sync(&mut self, h: usize) {
        let now = self.q.now();
        let params = &self.ht.ksm.params;
        let host = &mut self.hosts[h];
        let Some(k) = host.ksm.as_ref() else { return };
        let saved = k.saved_pages(now.0) * 4;
        self.gauges
            .add(Gauge::SavedKsm, saved as f64 - host.ksm_saved_kib as f64);
        host.ksm_saved_kib = saved;
        let sharing = k.counters(now.0).pages_sharing;
        if sharing > host.ksm_last_sharing {
            host.ksm_last_merge = now;
        }
        host.ksm_last_sharing = sharing;
        host.ksmd_demand = if host.ksm_regions > 0 {
            params.duty_cycle_cores()
        } else {
            0.0
        };
        // The previously scheduled ksmd event is superseded by this one.
        let generation = self.ksm_generations.bump(h);
        if let Some(t) = k.next_event_ns() {
            self.q.schedule_at(
                SimTime(t),
                Ev::Ksm {
                    host: h as u32,
                    generation,
                },
            );
        }
    }

    pub(super) fn on_ksm(&mut self, h: usize) {
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

    pub(super) fn on_sample(&mut self) {
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

    /// KSM counters at the horizon, averaged over the hosts where ksmd ran; the CPU it
    /// used in total; and the mean time from its start to the last merge that raised
    /// `pages_sharing` (the full merge of a static set of guests).
    pub(super) fn ksm_summary(&self) -> Breakdown {
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
}
