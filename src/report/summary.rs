//! `summary.json` and `results.csv`.

use serde::Serialize;

use crate::diagnostics::{Error, Result};
use crate::metrics::{QuantileSketch, RunMetrics, cdf_points};
use crate::scenario::Scenario;
use crate::study::ScenarioRuns;
use crate::study::stats::mean_ci;

pub const CONFIDENCE: f64 = 0.95;

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
    pub replications: u64,
    pub confidence: f64,
    #[serde(serialize_with = "ser_configs")]
    pub configurations: Vec<ConfigSummary>,
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

impl Summary {
    pub fn build(sc: &Scenario, runs: &ScenarioRuns) -> Summary {
        let configurations = runs
            .configs
            .iter()
            .map(|cr| {
                let pl = &sc.placements[cr.config.placement];
                let ht = &sc.host_types[cr.config.host_type];
                let flats: Vec<Vec<(String, f64)>> = cr.runs.iter().map(|r| r.flat()).collect();
                let names: Vec<String> = flats
                    .first()
                    .map(|f| f.iter().map(|(k, _)| k.clone()).collect())
                    .unwrap_or_default();
                let metrics = names
                    .iter()
                    .enumerate()
                    .map(|(i, name)| {
                        let xs: Vec<f64> = flats.iter().map(|f| f[i].1).collect();
                        let (m, h) = mean_ci(&xs, CONFIDENCE);
                        (
                            name.clone(),
                            Estimate {
                                mean: m.is_finite().then_some(m),
                                half_width: h.is_finite().then_some(h),
                            },
                        )
                    })
                    .collect();
                let merged = |f: fn(&RunMetrics) -> &QuantileSketch| {
                    let mut it = cr.runs.iter();
                    let mut s = it.next().map(|r| f(r).clone())?;
                    for r in it {
                        s.merge(f(r));
                    }
                    Some(s)
                };
                let dist = |f| merged(f).map(|s| cdf_points(&s)).unwrap_or_default();
                ConfigSummary {
                    point: runs.point,
                    axis_values: vec![],
                    distributions: Distributions {
                        start_latency_s: dist(|r| &r.start_latency_sketch),
                        slowdown: dist(|r| &r.slowdown_sketch),
                    },
                    placement: pl.name.clone(),
                    layers: pl.layers.iter().map(|l| l.name.clone()).collect(),
                    host_type: ht.name.clone(),
                    host_family: serde_json::to_value(ht.family)
                        .ok()
                        .and_then(|v| v.as_str().map(String::from))
                        .unwrap_or_default(),
                    hosts: ht.count,
                    metrics,
                }
            })
            .collect();
        Summary {
            capsim_version: env!("CARGO_PKG_VERSION").to_string(),
            scenario: sc.name.clone(),
            description: sc.description.clone(),
            question: sc.question.clone(),
            seed: sc.seed,
            horizon_s: sc.horizon.as_secs_f64(),
            warmup_s: sc.warmup.as_secs_f64(),
            replications: runs.replications,
            confidence: CONFIDENCE,
            configurations,
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
            .metrics
            .iter()
            .find(|(k, _)| k == metric)?
            .1
            .mean
    }
}

/// `results.csv`: one row per (point, configuration, replication); the columns are the
/// union of every configuration's metrics (a layer column is empty where the placement
/// has no such layer).
pub fn results_csv(runs: &ScenarioRuns) -> Result<Vec<u8>> {
    let mut columns: Vec<String> = vec![];
    for cr in &runs.configs {
        for r in &cr.runs {
            for (k, _) in r.flat() {
                if !columns.contains(&k) {
                    columns.push(k);
                }
            }
        }
    }
    let mut w = csv::Writer::from_writer(vec![]);
    let csv_err = |e: csv::Error| Error::Runtime(format!("results.csv: {e}"));
    let mut header = vec![
        "point".to_string(),
        "placement".into(),
        "host_type".into(),
        "replication".into(),
    ];
    header.extend(columns.iter().cloned());
    w.write_record(&header).map_err(csv_err)?;
    for cr in &runs.configs {
        for (rep, r) in cr.runs.iter().enumerate() {
            let flat = r.flat();
            let mut row = vec![
                runs.point.to_string(),
                cr.placement.clone(),
                cr.host_type.clone(),
                rep.to_string(),
            ];
            for c in &columns {
                row.push(match flat.iter().find(|(k, _)| k == c) {
                    Some((_, v)) if v.is_finite() => format!("{v}"),
                    _ => String::new(),
                });
            }
            w.write_record(&row).map_err(csv_err)?;
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
