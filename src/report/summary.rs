//! `summary.json` and `results.csv`.

use serde::Serialize;

use crate::diagnostics::{Error, Result};
use crate::metrics::{QuantileSketch, cdf_points};
use crate::scenario::{Scenario, Study};
use crate::study::stats::{mean_ci, paired_ci};
use crate::study::{ConfigRecords, PointRuns, RunRecord, ScenarioRuns};

/// The default confidence level (a scenario's `[study] confidence` overrides it).
pub const CONFIDENCE: f64 = 0.95;

/// A sweep point's axis values: (path, value as shown).
pub type AxisValues = Vec<(String, String)>;

/// One point of a study as the summary needs it: the scenario it ran, its axis values
/// and its replications.
pub type StudyPoint<'a> = (&'a Scenario, AxisValues, PointRuns);

/// One metric over the replications: mean and confidence half-width (null when fewer
/// than two replications).
#[derive(Serialize, Clone, Debug)]
pub struct Estimate {
    pub mean: Option<f64>,
    pub half_width: Option<f64>,
}

/// Distributions merged over the replications, as `[q, value]` pairs.
#[derive(Serialize, Clone, Debug, Default)]
pub struct Distributions {
    pub start_latency_s: Vec<[f64; 2]>,
    pub slowdown: Vec<[f64; 2]>,
}

#[derive(Serialize, Clone, Debug)]
pub struct ConfigSummary {
    /// Sweep point index (0 for a plain run) and the axis values that define it.
    pub point: u64,
    pub axis_values: Vec<(String, String)>,
    /// Replications behind the estimates (sequential stopping may vary it by point).
    pub replications: u64,
    pub placement: String,
    pub layers: Vec<String>,
    pub host_type: String,
    pub host_family: String,
    pub hosts: u32,
    /// Metric name → estimate, in a stable order (see `RunMetrics::flat`).
    pub metrics: Vec<(String, Estimate)>,
    pub distributions: Distributions,
}

#[derive(Serialize, Clone, Debug)]
pub struct Summary {
    pub capsim_version: String,
    pub scenario: String,
    pub description: String,
    pub question: String,
    pub seed: u64,
    pub horizon_s: f64,
    pub warmup_s: f64,
    /// The most replications any point ran (each configuration states its own).
    pub replications: u64,
    pub confidence: f64,
    /// The study settings (`[study]` or their defaults).
    pub study: Study,
    /// Sweep axis paths (empty for a plain run).
    pub axes: Vec<String>,
    #[serde(serialize_with = "ser_configs")]
    pub configurations: Vec<ConfigSummary>,
    /// Paired differences between placements on the same host type, point and
    /// replications (common random numbers).
    pub paired_differences: Vec<PairedDifference>,
}

/// `a − b` of one metric, averaged over the replications both ran, with its paired-t
/// half-width.
#[derive(Serialize, Clone, Debug)]
pub struct PairedDifference {
    pub point: u64,
    pub host_type: String,
    pub a: String,
    pub b: String,
    pub metric: String,
    pub replications: u64,
    pub mean: Option<f64>,
    pub half_width: Option<f64>,
}

fn ser_configs<S: serde::Serializer>(
    v: &[ConfigSummary],
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    use serde::ser::{SerializeMap, SerializeSeq};
    struct Metrics<'a>(&'a [(String, Estimate)]);
    impl Serialize for Metrics<'_> {
        fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
            let mut m = s.serialize_map(Some(self.0.len()))?;
            for (k, e) in self.0 {
                m.serialize_entry(k, e)?;
            }
            m.end()
        }
    }
    struct Pairs<'a>(&'a [(String, String)]);
    impl Serialize for Pairs<'_> {
        fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
            let mut m = s.serialize_map(Some(self.0.len()))?;
            for (k, v) in self.0 {
                m.serialize_entry(k, v)?;
            }
            m.end()
        }
    }
    #[derive(Serialize)]
    struct C<'a> {
        point: u64,
        axis_values: Pairs<'a>,
        replications: u64,
        placement: &'a str,
        layers: &'a [String],
        host_type: &'a str,
        host_family: &'a str,
        hosts: u32,
        metrics: Metrics<'a>,
        distributions: &'a Distributions,
    }
    let mut seq = s.serialize_seq(Some(v.len()))?;
    for c in v {
        seq.serialize_element(&C {
            point: c.point,
            axis_values: Pairs(&c.axis_values),
            replications: c.replications,
            placement: &c.placement,
            layers: &c.layers,
            host_type: &c.host_type,
            host_family: &c.host_family,
            hosts: c.hosts,
            metrics: Metrics(&c.metrics),
            distributions: &c.distributions,
        })?;
    }
    seq.end()
}

impl ConfigSummary {
    /// One metric's estimate (mean and half-width) over this configuration's replications.
    pub fn estimate(&self, metric: &str) -> Option<&Estimate> {
        self.metrics
            .iter()
            .find(|(k, _)| k == metric)
            .map(|(_, e)| e)
    }

    /// The mean of one metric over this configuration's replications.
    pub fn mean(&self, metric: &str) -> Option<f64> {
        self.estimate(metric).and_then(|e| e.mean)
    }
}

impl Summary {
    /// The summary of a plain run (one point).
    pub fn build(sc: &Scenario, runs: &ScenarioRuns) -> Summary {
        Summary::from_points(sc, &[(sc, vec![], runs.records())])
    }

    /// The summary of a study: every point with the scenario it was run with and its axis
    /// values. `base` names the study; `confidence` comes from its `[study]`.
    pub fn from_points(base: &Scenario, points: &[StudyPoint]) -> Summary {
        let level = base.study.confidence;
        let mut configurations = vec![];
        let mut paired_differences = vec![];
        for (sc, axis_values, pr) in points {
            for cr in &pr.configs {
                configurations.push(config_summary(sc, pr, axis_values, cr, level));
            }
            paired_differences.extend(paired(pr, &base.study.metric, level));
        }
        let replications = points
            .iter()
            .map(|(_, _, p)| p.replications)
            .max()
            .unwrap_or(0);
        Summary {
            capsim_version: env!("CARGO_PKG_VERSION").to_string(),
            scenario: base.name.clone(),
            description: base.description.clone(),
            question: base.question.clone(),
            seed: base.seed,
            horizon_s: base.horizon.as_secs_f64(),
            warmup_s: base.warmup.as_secs_f64(),
            replications,
            confidence: level,
            study: base.study.clone(),
            axes: base.sweep.iter().map(|a| a.path.clone()).collect(),
            configurations,
            paired_differences,
        }
    }

    pub fn to_json(&self) -> Result<String> {
        serde_json::to_string_pretty(self).map_err(|e| Error::Runtime(format!("summary.json: {e}")))
    }

    /// The mean of a metric for one configuration.
    pub fn mean(&self, placement: &str, host_type: &str, metric: &str) -> Option<f64> {
        self.configurations
            .iter()
            .find(|c| c.placement == placement && c.host_type == host_type)?
            .mean(metric)
    }
}

/// Metrics that always get paired differences (the stopping metric is added).
const PAIRED_METRICS: [&str; 2] = ["density_per_host", "mem_per_workload_mib"];

fn opt(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}

fn config_summary(
    sc: &Scenario,
    pr: &PointRuns,
    axis_values: &[(String, String)],
    cr: &ConfigRecords,
    level: f64,
) -> ConfigSummary {
    let pl = sc.placements.iter().find(|p| p.name == cr.placement);
    let ht = sc.host_types.iter().find(|h| h.name == cr.host_type);
    let names: Vec<&str> = cr
        .runs
        .first()
        .map(|r| r.flat.iter().map(|(k, _)| k.as_str()).collect())
        .unwrap_or_default();
    let metrics = names
        .iter()
        .map(|name| {
            let xs: Vec<f64> = cr.runs.iter().map(|r| r.get(name)).collect();
            let (m, h) = mean_ci(&xs, level);
            (
                name.to_string(),
                Estimate {
                    mean: opt(m),
                    half_width: opt(h),
                },
            )
        })
        .collect();
    let merged = |f: fn(&RunRecord) -> &QuantileSketch| {
        let mut it = cr.runs.iter();
        let mut s = it.next().map(|r| f(r).clone())?;
        for r in it {
            s.merge(f(r));
        }
        Some(s)
    };
    let dist = |f| merged(f).map(|s| cdf_points(&s)).unwrap_or_default();
    ConfigSummary {
        point: pr.point,
        axis_values: axis_values.to_vec(),
        replications: cr.runs.len() as u64,
        distributions: Distributions {
            start_latency_s: dist(|r| &r.start_latency),
            slowdown: dist(|r| &r.slowdown),
        },
        placement: cr.placement.clone(),
        layers: pl
            .map(|p| p.layers.iter().map(|l| l.name.clone()).collect())
            .unwrap_or_default(),
        host_type: cr.host_type.clone(),
        host_family: ht
            .and_then(|h| serde_json::to_value(h.family).ok())
            .and_then(|v| v.as_str().map(String::from))
            .unwrap_or_default(),
        hosts: ht.map_or(0, |h| h.count),
        metrics,
    }
}

/// Placement a − placement b on the same host type and the same replications of one
/// point, for every pair of placements in scenario order.
fn paired(pr: &PointRuns, stop_metric: &str, level: f64) -> Vec<PairedDifference> {
    let mut metrics: Vec<&str> = PAIRED_METRICS.to_vec();
    if !metrics.contains(&stop_metric) {
        metrics.push(stop_metric);
    }
    let mut out = vec![];
    for (i, a) in pr.configs.iter().enumerate() {
        for b in pr.configs[i + 1..]
            .iter()
            .filter(|b| b.host_type == a.host_type)
        {
            for m in &metrics {
                let xa: Vec<f64> = a.runs.iter().map(|r| r.get(m)).collect();
                let xb: Vec<f64> = b.runs.iter().map(|r| r.get(m)).collect();
                let (mean, hw, n) = paired_ci(&xa, &xb, level);
                out.push(PairedDifference {
                    point: pr.point,
                    host_type: a.host_type.clone(),
                    a: a.placement.clone(),
                    b: b.placement.clone(),
                    metric: m.to_string(),
                    replications: n as u64,
                    mean: opt(mean),
                    half_width: opt(hw),
                });
            }
        }
    }
    out
}

/// `results.csv`: one row per (point, configuration, replication); the columns are the
/// union of every configuration's metrics (a layer column is empty where the placement
/// has no such layer).
pub fn results_csv(runs: &ScenarioRuns) -> Result<Vec<u8>> {
    results_csv_points(&[], &[(vec![], runs.records())])
}

/// `results.csv` of a study: after `point`, one column per sweep axis (`axes`) holding
/// the point's value.
pub fn results_csv_points(
    axes: &[String],
    points: &[(Vec<(String, String)>, PointRuns)],
) -> Result<Vec<u8>> {
    let mut columns: Vec<&str> = vec![];
    for (_, pr) in points {
        for cr in &pr.configs {
            for r in &cr.runs {
                for (k, _) in &r.flat {
                    if !columns.contains(&k.as_str()) {
                        columns.push(k);
                    }
                }
            }
        }
    }
    let mut w = csv::Writer::from_writer(vec![]);
    let csv_err = |e: csv::Error| Error::Runtime(format!("results.csv: {e}"));
    let mut header = vec!["point".to_string()];
    header.extend(axes.iter().cloned());
    header.extend(["placement".into(), "host_type".into(), "replication".into()]);
    header.extend(columns.iter().map(|c| c.to_string()));
    w.write_record(&header).map_err(csv_err)?;
    for (axis_values, pr) in points {
        for cr in &pr.configs {
            for (rep, r) in cr.runs.iter().enumerate() {
                let mut row = vec![pr.point.to_string()];
                for a in axes {
                    row.push(
                        axis_values
                            .iter()
                            .find(|(k, _)| k == a)
                            .map(|(_, v)| v.clone())
                            .unwrap_or_default(),
                    );
                }
                row.extend([cr.placement.clone(), cr.host_type.clone(), rep.to_string()]);
                for c in &columns {
                    row.push(match r.flat.iter().find(|(k, _)| k == c) {
                        Some((_, v)) if v.is_finite() => format!("{v}"),
                        _ => String::new(),
                    });
                }
                w.write_record(&row).map_err(csv_err)?;
            }
        }
    }
    w.into_inner()
        .map_err(|e| Error::Runtime(format!("results.csv: {e}")))
}

/// `timeline.csv`: the KSM counters of every host over time, per configuration and
/// replication, with the kernel's counter names. `None` when no host ran ksmd.
pub fn timeline_csv(runs: &ScenarioRuns) -> Result<Option<Vec<u8>>> {
    if runs
        .configs
        .iter()
        .all(|c| c.runs.iter().all(|r| r.timeline.is_empty()))
    {
        return Ok(None);
    }
    let csv_err = |e: csv::Error| Error::Runtime(format!("timeline.csv: {e}"));
    let mut w = csv::Writer::from_writer(vec![]);
    w.write_record([
        "point",
        "placement",
        "host_type",
        "replication",
        "host",
        "time_s",
        "pages_shared",
        "pages_sharing",
        "pages_unshared",
        "pages_volatile",
        "full_scans",
        "ksmd_cpu_cores",
        "mem_saved_mib",
    ])
    .map_err(csv_err)?;
    for cr in &runs.configs {
        for (rep, r) in cr.runs.iter().enumerate() {
            for t in &r.timeline {
                w.write_record([
                    runs.point.to_string(),
                    cr.placement.clone(),
                    cr.host_type.clone(),
                    rep.to_string(),
                    t.host.to_string(),
                    format!("{}", t.time_s),
                    t.pages_shared.to_string(),
                    t.pages_sharing.to_string(),
                    t.pages_unshared.to_string(),
                    t.pages_volatile.to_string(),
                    t.full_scans.to_string(),
                    format!("{}", t.ksmd_cpu_cores),
                    format!("{}", t.mem_saved_mib),
                ])
                .map_err(csv_err)?;
            }
        }
    }
    w.into_inner()
        .map(Some)
        .map_err(|e| Error::Runtime(format!("timeline.csv: {e}")))
}
