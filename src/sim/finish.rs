//! The end of a replication: integrals turned into [`RunMetrics`].

use crate::engine::SimTime;
use crate::metrics::{Breakdown, QuantileSketch, RunMetrics};
use crate::model::cpu::CpuPart;
use crate::model::memory::MemPart;
use crate::model::slo::Observed;

use super::state::{Gauge, World};

impl World<'_> {
    pub(super) fn finish(mut self) -> RunMetrics {
        let horizon = self.sc.horizon;
        for h in 0..self.hosts.len() {
            if let Some(k) = self.hosts[h].ksm.as_mut() {
                k.advance(horizon.0);
            }
        }
        let i = &self.gauges;
        let window = SimTime(self.sc.horizon.0 - self.warm.0).as_secs_f64();
        let hu = i.integral(Gauge::HostsUsed);
        let per_host = |x: f64| x / hu;
        let kib_to_mib = 1.0 / 1024.0;
        let reserved = self.ht.reserved_mib;
        let mem_sum: f64 = (0..MemPart::COUNT)
            .map(|p| i.integral(Gauge::Memory(MemPart::from_index(p))))
            .sum::<f64>()
            * kib_to_mib;
        let unused = i.integral(Gauge::Memory(MemPart::Unused)) * kib_to_mib;
        let saved_ksm = i.integral(Gauge::SavedKsm) * kib_to_mib;
        let saved_seg = i.integral(Gauge::SavedSegments) * kib_to_mib;
        let saved_pc = i.integral(Gauge::SavedPageCache) * kib_to_mib;
        let mut mem = vec![(
            "host_reserved".to_string(),
            if hu > 0.0 { reserved } else { f64::NAN },
        )];
        for part in MemPart::FIXED {
            let label = part.label().unwrap_or_default();
            mem.push((
                label.to_string(),
                per_host(i.integral(Gauge::Memory(part)) * kib_to_mib),
            ));
        }
        for (pos, l) in self.pl.layers.iter().enumerate() {
            mem.push((
                format!("layer:{}", l.name),
                per_host(i.integral(Gauge::Memory(MemPart::Layer(pos))) * kib_to_mib),
            ));
        }
        let mut cpu = vec![(
            "useful".to_string(),
            per_host(i.integral(Gauge::Cpu(CpuPart::Useful))),
        )];
        for (pos, l) in self.pl.layers.iter().enumerate() {
            cpu.push((
                format!("layer:{}", l.name),
                per_host(i.integral(Gauge::Cpu(CpuPart::Layer(pos)))),
            ));
        }
        if let Some(hyp) = &self.ht.hypervisor {
            cpu.push((
                format!("hypervisor:{}", hyp.name),
                per_host(i.integral(Gauge::Cpu(CpuPart::Hypervisor))),
            ));
        }
        if self.ht.ksm.enabled {
            cpu.push((
                "ksmd".into(),
                per_host(i.integral(Gauge::Cpu(CpuPart::Ksmd))),
            ));
        }
        if self.ht.steal_per_overcommit > 0.0 && self.pl.has_unit() {
            cpu.push((
                "steal".into(),
                per_host(i.integral(Gauge::Cpu(CpuPart::Steal))),
            ));
        }
        let delivered: f64 = (0..CpuPart::COUNT)
            .map(|k| i.integral(Gauge::Cpu(CpuPart::from_index(k))))
            .sum();
        let raw_capacity = self.ht.cores * self.ht.core_speed * self.ht.smt_gain;
        let ratio = |a: u64, b: u64| if b > 0 { a as f64 / b as f64 } else { f64::NAN };
        let (extra, classes_met, any_class_slo) = self.class_and_rollout_metrics();
        let mut m = RunMetrics {
            slo_met: f64::NAN,
            arrivals: self.arrivals,
            blocked: self.blocked,
            blocking_probability: ratio(self.blocked, self.arrivals),
            workloads_hosted_mean: i.integral(Gauge::Hosted) / window,
            workloads_running_mean: i.integral(Gauge::Running) / window,
            hosts: self.ht.count,
            hosts_used_mean: hu / window,
            hosts_used_peak: self.hosts_used_peak,
            density_per_host: i.integral(Gauge::Hosted) / hu,
            vms_mean: i.integral(Gauge::Vms) / window,
            mem_committed_mib_per_host: per_host(mem_sum) + reserved,
            mem_resident_mib_per_host: per_host(mem_sum - unused - saved_ksm - saved_seg)
                + reserved,
            mem_saved_mib_per_host: Breakdown(vec![
                ("ksm".into(), per_host(saved_ksm)),
                ("shared_segments".into(), per_host(saved_seg)),
                ("page_cache".into(), per_host(saved_pc)),
            ]),
            time_over_physical_fraction: i.integral(Gauge::OverPhysical) / hu,
            ksm: self.ksm_summary(),
            mem_per_workload_mib: mem_sum / i.integral(Gauge::Hosted),
            mem_breakdown_mib_per_host: Breakdown(mem),
            cpu_reserved_fraction: i.integral(Gauge::CpuReserved)
                / 1e6
                / (hu * self.ht.cpu_reservable()),
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
            m.slo_met = if self.sc.slo.met(&m.observed()) && classes_met {
                1.0
            } else {
                0.0
            };
        }
        m
    }

    /// Per-class SLO results, interference, and rollouts; whether every class met its
    /// objectives, and whether any class has some.
    pub(super) fn class_and_rollout_metrics(&self) -> (Breakdown, bool, bool) {
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
            let observed = Observed {
                slowdown_p99: p99,
                start_latency_p95_s: p95,
                blocking_probability: blocking,
            };
            if !slo.met(&observed) {
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
}
