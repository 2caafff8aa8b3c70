//! Metrics of one replication: counters, time-weighted averages and streaming quantiles.
//!
//! Quantiles come from a fixed-size log-bucket sketch (DDSketch-style): constant memory,
//! O(1) per sample, relative error bounded by the bucket width — never a vector of all
//! samples.

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

/// Weighted quantile sketch over `[min, max]` with geometric buckets of ratio `gamma`.
/// Values are reported as the bucket's geometric midpoint, clamped to the exact extremes
/// seen, so the relative error is at most `(gamma − 1) / 2`.
#[derive(Clone, Debug)]
pub struct QuantileSketch {
    min: f64,
    ln_gamma: f64,
    buckets: Vec<f64>,
    total_w: f64,
    sum_wx: f64,
    lo: f64,
    hi: f64,
}

impl QuantileSketch {
    pub fn new(min: f64, max: f64, gamma: f64) -> QuantileSketch {
        let ln_gamma = gamma.ln();
        let n = ((max / min).ln() / ln_gamma).ceil() as usize + 1;
        QuantileSketch {
            min,
            ln_gamma,
            buckets: vec![0.0; n],
            total_w: 0.0,
            sum_wx: 0.0,
            lo: f64::INFINITY,
            hi: f64::NEG_INFINITY,
        }
    }

    /// Slowdowns: 0.5× … 10⁴×, 0.5% buckets.
    pub fn for_slowdown() -> QuantileSketch {
        QuantileSketch::new(0.5, 1e4, 1.005)
    }

    /// Latencies in seconds: 1 µs … 10⁶ s, 1% buckets.
    pub fn for_latency() -> QuantileSketch {
        QuantileSketch::new(1e-6, 1e6, 1.01)
    }

    /// The bucket of `x`; callers on a hot path cache it while `x` does not change.
    pub fn index(&self, x: f64) -> usize {
        if x <= self.min {
            return 0;
        }
        (((x / self.min).ln() / self.ln_gamma) as usize).min(self.buckets.len() - 1)
    }

    /// Adds `x` with weight `w` (a count, or a duration for time-weighted quantiles).
    pub fn add(&mut self, x: f64, w: f64) {
        if w <= 0.0 || x.is_nan() {
            return;
        }
        let i = self.index(x);
        self.buckets[i] += w;
        self.total_w += w;
        self.sum_wx += w * x;
        self.lo = self.lo.min(x);
        self.hi = self.hi.max(x);
    }

    /// The values that fall into bucket `i`: `[lo, hi)` (open-ended at both extremes).
    pub fn bucket_bounds(&self, i: usize) -> (f64, f64) {
        let lo = if i == 0 {
            f64::NEG_INFINITY
        } else {
            self.min * (i as f64 * self.ln_gamma).exp()
        };
        let hi = if i + 1 >= self.buckets.len() {
            f64::INFINITY
        } else {
            self.min * ((i + 1) as f64 * self.ln_gamma).exp()
        };
        (lo, hi)
    }

    /// [`QuantileSketch::add`] with the bucket already known (`i == self.index(x)`).
    pub fn add_at(&mut self, i: usize, x: f64, w: f64) {
        self.buckets[i] += w;
        self.total_w += w;
        self.sum_wx += w * x;
        self.lo = self.lo.min(x);
        self.hi = self.hi.max(x);
    }

    pub fn merge(&mut self, other: &QuantileSketch) {
        for (a, b) in self.buckets.iter_mut().zip(&other.buckets) {
            *a += b;
        }
        self.total_w += other.total_w;
        self.sum_wx += other.sum_wx;
        self.lo = self.lo.min(other.lo);
        self.hi = self.hi.max(other.hi);
    }

    pub fn weight(&self) -> f64 {
        self.total_w
    }

    pub fn mean(&self) -> f64 {
        if self.total_w > 0.0 {
            self.sum_wx / self.total_w
        } else {
            f64::NAN
        }
    }

    /// The `q`-quantile (0 ≤ q ≤ 1); NaN when empty.
    pub fn quantile(&self, q: f64) -> f64 {
        if self.total_w <= 0.0 {
            return f64::NAN;
        }
        let target = q.clamp(0.0, 1.0) * self.total_w;
        let mut acc = 0.0;
        for (i, w) in self.buckets.iter().enumerate() {
            acc += w;
            if acc >= target && *w > 0.0 {
                let mid = self.min * ((i as f64 + 0.5) * self.ln_gamma).exp();
                return mid.clamp(self.lo, self.hi);
            }
        }
        self.hi
    }

    /// Fraction of the weight above `x` (e.g. time spent above an SLO bound).
    pub fn fraction_above(&self, x: f64) -> f64 {
        if self.total_w <= 0.0 {
            return f64::NAN;
        }
        let i = self.index(x);
        self.buckets[i + 1..].iter().sum::<f64>() / self.total_w
    }

    /// The sketch as exact integers (f64 bit patterns), non-zero buckets only: saved
    /// sweep results must reload bit-for-bit so a merged report equals an unsharded one.
    pub(crate) fn to_bits(&self) -> SketchBits {
        SketchBits {
            buckets: self
                .buckets
                .iter()
                .enumerate()
                .filter(|(_, w)| **w != 0.0)
                .map(|(i, w)| (i as u32, w.to_bits()))
                .collect(),
            totals: [
                self.total_w.to_bits(),
                self.sum_wx.to_bits(),
                self.lo.to_bits(),
                self.hi.to_bits(),
            ],
        }
    }

    /// Refills an empty sketch of the same shape from [`Self::to_bits`]; None when the
    /// saved buckets do not fit this shape.
    pub(crate) fn with_bits(mut self, b: &SketchBits) -> Option<QuantileSketch> {
        for &(i, w) in &b.buckets {
            *self.buckets.get_mut(i as usize)? = f64::from_bits(w);
        }
        let [t, s, lo, hi] = b.totals.map(f64::from_bits);
        self.total_w = t;
        self.sum_wx = s;
        self.lo = lo;
        self.hi = hi;
        Some(self)
    }
}

/// A sketch in saved form (see [`QuantileSketch::to_bits`]).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub(crate) struct SketchBits {
    pub buckets: Vec<(u32, u64)>,
    pub totals: [u64; 4],
}

/// Labelled values that serialize as an ordered JSON object.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Breakdown(pub Vec<(String, f64)>);

impl Breakdown {
    pub fn get(&self, label: &str) -> Option<f64> {
        self.0.iter().find(|(l, _)| l == label).map(|(_, v)| *v)
    }

    pub fn total(&self) -> f64 {
        self.0.iter().map(|(_, v)| v).sum()
    }
}

impl Serialize for Breakdown {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            m.serialize_entry(k, &finite(*v))?;
        }
        m.end()
    }
}

/// JSON has no NaN: undefined values (e.g. p99 of nothing) are written as null.
fn finite(v: f64) -> Option<f64> {
    v.is_finite().then_some(v)
}

fn ser_f64<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
    finite(*v).serialize(s)
}

/// What one replication of one configuration (placement × host type) measured, over the
/// window from the end of warm-up to the horizon. Per-host values are averages over the
/// hosts in use (time-weighted).
#[derive(Clone, Debug, Serialize)]
pub struct RunMetrics {
    /// Arrivals after warm-up (static instances count as arriving at time zero).
    pub arrivals: u64,
    pub blocked: u64,
    #[serde(serialize_with = "ser_f64")]
    pub blocking_probability: f64,
    /// Workloads admitted and not yet gone (including those still starting), time-averaged.
    #[serde(serialize_with = "ser_f64")]
    pub workloads_hosted_mean: f64,
    #[serde(serialize_with = "ser_f64")]
    pub workloads_running_mean: f64,
    pub hosts: u32,
    #[serde(serialize_with = "ser_f64")]
    pub hosts_used_mean: f64,
    pub hosts_used_peak: u32,
    /// Workloads per host in use: the density.
    #[serde(serialize_with = "ser_f64")]
    pub density_per_host: f64,
    /// VMs / guests (kernel instances beyond the host's), time-averaged.
    #[serde(serialize_with = "ser_f64")]
    pub vms_mean: f64,
    #[serde(serialize_with = "ser_f64")]
    pub mem_committed_mib_per_host: f64,
    #[serde(serialize_with = "ser_f64")]
    pub mem_resident_mib_per_host: f64,
    /// Memory not held twice thanks to sharing, per host in use: KSM merges, shared
    /// segments (z/VM NSS/DCSS), and page cache shared by containers of one image on one
    /// kernel (the latter is already left out of committed memory).
    pub mem_saved_mib_per_host: Breakdown,
    /// Fraction of host-in-use time with resident memory beyond physical memory (paging).
    #[serde(serialize_with = "ser_f64")]
    pub time_over_physical_fraction: f64,
    /// KSM counters at the horizon (mean per host running ksmd), ksmd CPU seconds in
    /// total, scan rate and time to full merge; empty when KSM is off.
    pub ksm: Breakdown,
    /// Committed memory per hosted workload, excluding the hosts' own reserved memory.
    #[serde(serialize_with = "ser_f64")]
    pub mem_per_workload_mib: f64,
    /// Committed memory per host in use, by part (host_reserved, guest_kernels, image
    /// copies, workload memory, unused VM capacity, and each layer's overhead).
    pub mem_breakdown_mib_per_host: Breakdown,
    /// Reserved CPU / reservable capacity on hosts in use.
    #[serde(serialize_with = "ser_f64")]
    pub cpu_reserved_fraction: f64,
    /// Delivered CPU / peak capacity on hosts in use.
    #[serde(serialize_with = "ser_f64")]
    pub cpu_utilisation: f64,
    /// Delivered CPU per host in use, in reference cores: useful work and each layer's
    /// overhead (factor overhead + per-instance background) and the base hypervisor's.
    pub cpu_breakdown_cores_per_host: Breakdown,
    #[serde(serialize_with = "ser_f64")]
    pub slowdown_mean: f64,
    #[serde(serialize_with = "ser_f64")]
    pub slowdown_p50: f64,
    #[serde(serialize_with = "ser_f64")]
    pub slowdown_p95: f64,
    #[serde(serialize_with = "ser_f64")]
    pub slowdown_p99: f64,
    #[serde(serialize_with = "ser_f64")]
    pub start_latency_mean_s: f64,
    #[serde(serialize_with = "ser_f64")]
    pub start_latency_p50_s: f64,
    #[serde(serialize_with = "ser_f64")]
    pub start_latency_p95_s: f64,
    #[serde(serialize_with = "ser_f64")]
    pub start_latency_p99_s: f64,
    /// 1 when every objective of the scenario's `[slo]` held in this replication, 0 when
    /// one did not, NaN when the scenario sets none (its mean is the fraction of
    /// replications meeting the SLO).
    #[serde(serialize_with = "ser_f64")]
    pub slo_met: f64,
    /// Events the engine processed (a cost measure, not a result).
    pub events: u64,
    /// The sketches behind the quantiles, kept so replications can be merged into one
    /// distribution (the report's CDFs).
    #[serde(skip)]
    pub start_latency_sketch: QuantileSketch,
    #[serde(skip)]
    pub slowdown_sketch: QuantileSketch,
    /// Per-class and per-rollout results, already named as their CSV columns:
    /// `slo_violation_fraction[.<class>]` (time-weighted share of workload time above the
    /// class's p99-slowdown bound), `slowdown_p99.<class>`, `start_latency_p95_s.<class>`,
    /// `blocking_probability.<class>`, `interference_mean`, `rollout.<name>.duration_s`,
    /// `rollout.<name>.capacity_lost_instance_s`, `rollout.<name>.waves`.
    pub extra: Breakdown,
    /// KSM counters per host over time (`timeline.csv`); empty when KSM is off.
    #[serde(skip)]
    pub timeline: Vec<TimelineRow>,
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

impl TimelineRow {
    /// The row's columns in `timeline.csv`, in [`TimelineRow::fields`] order.
    pub const COLUMNS: [&'static str; 9] = [
        "host",
        "time_s",
        "pages_shared",
        "pages_sharing",
        "pages_unshared",
        "pages_volatile",
        "full_scans",
        "ksmd_cpu_cores",
        "mem_saved_mib",
    ];

    /// The row as text fields (floats in their shortest exact form).
    pub fn fields(&self) -> [String; 9] {
        [
            self.host.to_string(),
            format!("{}", self.time_s),
            self.pages_shared.to_string(),
            self.pages_sharing.to_string(),
            self.pages_unshared.to_string(),
            self.pages_volatile.to_string(),
            self.full_scans.to_string(),
            format!("{}", self.ksmd_cpu_cores),
            format!("{}", self.mem_saved_mib),
        ]
    }
}

/// Quantile levels at which distributions are written to `summary.json`.
pub const CDF_LEVELS: [f64; 23] = [
    0.01, 0.02, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95,
    0.97, 0.98, 0.99, 0.995, 0.999, 1.0,
];

/// `[q, value]` pairs of a sketch at [`CDF_LEVELS`] (empty when the sketch is).
pub fn cdf_points(s: &QuantileSketch) -> Vec<[f64; 2]> {
    if s.weight() <= 0.0 {
        return vec![];
    }
    CDF_LEVELS.iter().map(|&q| [q, s.quantile(q)]).collect()
}

impl RunMetrics {
    /// The measures the scenario-wide `[slo]` is judged by.
    pub fn observed(&self) -> crate::model::slo::Observed {
        crate::model::slo::Observed {
            slowdown_p99: self.slowdown_p99,
            start_latency_p95_s: self.start_latency_p95_s,
            blocking_probability: self.blocking_probability,
        }
    }

    /// Every metric as `(name, value)`, breakdowns flattened as `prefix.label`: one CSV
    /// column each, in a stable order.
    pub fn flat(&self) -> Vec<(String, f64)> {
        let mut v: Vec<(String, f64)> = vec![
            ("arrivals".into(), self.arrivals as f64),
            ("blocked".into(), self.blocked as f64),
            ("blocking_probability".into(), self.blocking_probability),
            ("workloads_hosted_mean".into(), self.workloads_hosted_mean),
            ("workloads_running_mean".into(), self.workloads_running_mean),
            ("hosts".into(), f64::from(self.hosts)),
            ("hosts_used_mean".into(), self.hosts_used_mean),
            ("hosts_used_peak".into(), f64::from(self.hosts_used_peak)),
            ("density_per_host".into(), self.density_per_host),
            ("vms_mean".into(), self.vms_mean),
            (
                "mem_committed_mib_per_host".into(),
                self.mem_committed_mib_per_host,
            ),
            (
                "mem_resident_mib_per_host".into(),
                self.mem_resident_mib_per_host,
            ),
            ("mem_per_workload_mib".into(), self.mem_per_workload_mib),
        ];
        for (k, x) in &self.mem_breakdown_mib_per_host.0 {
            v.push((format!("mem_mib_per_host.{k}"), *x));
        }
        for (k, x) in &self.mem_saved_mib_per_host.0 {
            v.push((format!("mem_saved_mib_per_host.{k}"), *x));
        }
        v.push((
            "time_over_physical_fraction".into(),
            self.time_over_physical_fraction,
        ));
        for (k, x) in &self.ksm.0 {
            v.push((format!("ksm.{k}"), *x));
        }
        v.push(("cpu_reserved_fraction".into(), self.cpu_reserved_fraction));
        v.push(("cpu_utilisation".into(), self.cpu_utilisation));
        for (k, x) in &self.cpu_breakdown_cores_per_host.0 {
            v.push((format!("cpu_cores_per_host.{k}"), *x));
        }
        v.extend(self.extra.0.iter().cloned());
        v.extend([
            ("slowdown_mean".into(), self.slowdown_mean),
            ("slowdown_p50".into(), self.slowdown_p50),
            ("slowdown_p95".into(), self.slowdown_p95),
            ("slowdown_p99".into(), self.slowdown_p99),
            ("start_latency_mean_s".into(), self.start_latency_mean_s),
            ("start_latency_p50_s".into(), self.start_latency_p50_s),
            ("start_latency_p95_s".into(), self.start_latency_p95_s),
            ("start_latency_p99_s".into(), self.start_latency_p99_s),
            ("slo_met".into(), self.slo_met),
            ("events".into(), self.events as f64),
        ]);
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sketch_quantiles_within_relative_error() {
        let mut s = QuantileSketch::new(1e-3, 1e3, 1.01);
        // 1..=1000 uniformly: the q-quantile is ≈ 1000 q.
        for i in 1..=1000 {
            s.add(i as f64, 1.0);
        }
        for (q, want) in [(0.5, 500.0), (0.95, 950.0), (0.99, 990.0)] {
            let got = s.quantile(q);
            assert!((got / want - 1.0).abs() < 0.011, "q{q}: {got} vs {want}");
        }
        assert!((s.mean() - 500.5).abs() < 1e-9);
        assert_eq!(s.quantile(1.0), 1000.0);
        assert!((s.fraction_above(900.0) - 0.1).abs() < 0.011);
    }

    #[test]
    fn sketch_is_time_weighted() {
        let mut s = QuantileSketch::for_slowdown();
        s.add(1.0, 99.0); // 99 s at slowdown 1
        s.add(3.0, 1.0); // 1 s at slowdown 3
        assert!((s.mean() - 1.02).abs() < 1e-12);
        assert!((s.quantile(0.5) - 1.0).abs() < 0.003);
        assert!((s.quantile(0.995) - 3.0).abs() < 0.01);
    }

    #[test]
    fn empty_sketch_is_nan_and_serializes_null() {
        let s = QuantileSketch::for_latency();
        assert!(s.quantile(0.5).is_nan());
        let b = Breakdown(vec![("x".into(), f64::NAN)]);
        assert_eq!(serde_json::to_string(&b).unwrap(), r#"{"x":null}"#);
    }
}

#[cfg(test)]
mod bounds_tests {
    use super::*;

    #[test]
    fn bucket_bounds_contain_exactly_the_bucket() {
        let s = QuantileSketch::for_slowdown();
        for x in [0.1, 0.5, 0.9999, 1.0, 1.01, 1.0337, 2.5, 77.0, 9999.0, 1e9] {
            let i = s.index(x);
            let (lo, hi) = s.bucket_bounds(i);
            assert!(lo <= x && x < hi, "{x} not in [{lo}, {hi}) of bucket {i}");
            // Just outside the bounds is another bucket.
            if hi.is_finite() {
                assert_ne!(s.index(hi * (1.0 + 1e-9)), i);
            }
        }
    }
}
