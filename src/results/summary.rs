//! `summary.json`: per configuration and point, every metric's mean and confidence
//! half-width, the merged distributions, and paired differences between placements.
//!
//! The same serde types write the file and read it back (`capsim report DIR` redraws a
//! report from it), so the schema exists once. Metrics, axis values and breakdown parts
//! are [`OrderedMap`]s: their key order carries meaning (a breakdown is stacked in the
//! order it is written) and survives the round trip. Fields a hand-written or older file
//! may lack are read as their defaults.

use std::path::Path;

use serde::{Deserialize, Deserializer, Serialize};

use crate::diagnostics::{Error, InputError, Result};
use crate::metrics::{QuantileSketch, cdf_points};
use crate::ordered_map::OrderedMap;
use crate::results::records::{ConfigRecords, PointRecords, RunRecord};
use crate::results::stats::{Estimate, finite, paired_ci};
use crate::scenario::{Scenario, Study};

/// The default confidence level (a scenario's `[study] confidence` overrides it).
pub const CONFIDENCE: f64 = 0.95;

/// Distributions merged over the replications, as `[q, value]` pairs.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
pub struct Distributions {
    #[serde(default)]
    pub start_latency_s: Vec<[f64; 2]>,
    #[serde(default)]
    pub slowdown: Vec<[f64; 2]>,
}

/// One configuration (placement × host type) at one point.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct ConfigSummary {
    /// Sweep point index (0 for a plain run) and the axis values that define it.
    #[serde(default)]
    pub point: u64,
    #[serde(default, deserialize_with = "axis_values_as_text")]
    pub axis_values: OrderedMap<String>,
    /// Replications behind the estimates (sequential stopping may vary it by point).
    #[serde(default)]
    pub replications: u64,
    pub placement: String,
    #[serde(default)]
    pub layers: Vec<String>,
    pub host_type: String,
    #[serde(default)]
    pub host_family: String,
    #[serde(default)]
    pub hosts: u32,
    /// Metric name → estimate, in `RunMetrics::flat` order.
    pub metrics: OrderedMap<Estimate>,
    #[serde(default)]
    pub distributions: Distributions,
}

/// Axis values are written as strings; a hand-edited number is still accepted.
fn axis_values_as_text<'de, D: Deserializer<'de>>(
    d: D,
) -> std::result::Result<OrderedMap<String>, D::Error> {
    let raw = OrderedMap::<serde_json::Value>::deserialize(d)?;
    Ok(raw
        .0
        .into_iter()
        .map(|(k, v)| match v {
            serde_json::Value::String(s) => (k, s),
            other => (k, other.to_string()),
        })
        .collect())
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Summary {
    #[serde(default)]
    pub capsim_version: String,
    pub scenario: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub question: String,
    #[serde(default)]
    pub seed: u64,
    #[serde(default)]
    pub horizon_s: f64,
    #[serde(default)]
    pub warmup_s: f64,
    /// The most replications any point ran (each configuration states its own).
    #[serde(default)]
    pub replications: u64,
    #[serde(default)]
    pub confidence: f64,
    /// The study settings (`[study]` or their defaults).
    #[serde(default)]
    pub study: Study,
    /// Sweep axis paths (empty for a plain run).
    #[serde(default)]
    pub axes: Vec<String>,
    pub configurations: Vec<ConfigSummary>,
    /// Paired differences between placements on the same host type, point and
    /// replications (common random numbers).
    #[serde(default)]
    pub paired_differences: Vec<PairedDifference>,
}

/// `a − b` of one metric, averaged over the replications both ran, with its paired-t
/// half-width.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
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

impl ConfigSummary {
    /// One metric's estimate (mean and half-width) over this configuration's replications.
    pub fn estimate(&self, metric: &str) -> Option<&Estimate> {
        self.metrics.get(metric)
    }

    /// The mean of one metric over this configuration's replications.
    pub fn mean(&self, metric: &str) -> Option<f64> {
        self.estimate(metric).and_then(|e| e.mean)
    }

    fn new(sc: &Scenario, point: &PointRecords, config: &ConfigRecords, level: f64) -> Self {
        let placement = sc.placements.iter().find(|p| p.name == config.placement);
        let host_type = sc.host_types.iter().find(|h| h.name == config.host_type);
        let metrics = config
            .runs
            .first()
            .map(|r| {
                r.metrics
                    .keys()
                    .map(|name| (name.to_string(), Estimate::of(&config.samples(name), level)))
                    .collect()
            })
            .unwrap_or_default();
        let merged = |sketch: fn(&RunRecord) -> &QuantileSketch| {
            let mut runs = config.runs.iter();
            let mut all = sketch(runs.next()?).clone();
            for r in runs {
                all.merge(sketch(r));
            }
            Some(cdf_points(&all))
        };
        ConfigSummary {
            point: point.point,
            axis_values: point.axis_values.clone(),
            replications: config.runs.len() as u64,
            placement: config.placement.clone(),
            layers: placement
                .map(|p| p.layers.iter().map(|l| l.name.clone()).collect())
                .unwrap_or_default(),
            host_type: config.host_type.clone(),
            host_family: host_type
                .and_then(|h| serde_json::to_value(h.family).ok())
                .and_then(|v| v.as_str().map(String::from))
                .unwrap_or_default(),
            hosts: host_type.map_or(0, |h| h.count),
            metrics,
            distributions: Distributions {
                start_latency_s: merged(|r| &r.start_latency).unwrap_or_default(),
                slowdown: merged(|r| &r.slowdown).unwrap_or_default(),
            },
        }
    }
}

impl Summary {
    /// The summary of a plain run (one point).
    pub fn build(sc: &Scenario, runs: &PointRecords) -> Summary {
        Summary::from_points(sc, &[(sc, runs)])
    }

    /// The summary of a study: every point with the scenario it was run with. `base`
    /// names the study; the confidence level comes from its `[study]`.
    pub fn from_points(base: &Scenario, points: &[(&Scenario, &PointRecords)]) -> Summary {
        let level = base.study.confidence;
        let mut configurations = vec![];
        let mut paired_differences = vec![];
        for (sc, point) in points {
            for config in &point.configs {
                configurations.push(ConfigSummary::new(sc, point, config, level));
            }
            paired_differences.extend(paired(point, &base.study.metric, level));
        }
        Summary {
            capsim_version: env!("CARGO_PKG_VERSION").to_string(),
            scenario: base.name.clone(),
            description: base.description.clone(),
            question: base.question.clone(),
            seed: base.seed,
            horizon_s: base.horizon.as_secs_f64(),
            warmup_s: base.warmup.as_secs_f64(),
            replications: points
                .iter()
                .map(|(_, p)| p.replications)
                .max()
                .unwrap_or(0),
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

    /// Parses `summary.json` text; `file` names it in errors.
    pub fn from_json(file: &str, text: &str) -> std::result::Result<Summary, InputError> {
        let mut s: Summary = serde_json::from_str(text).map_err(|e| InputError {
            file: file.to_string(),
            line_col: (e.line() > 0).then(|| (e.line(), e.column())),
            message: format!("not a capsim summary.json: {e}"),
        })?;
        // Files written before configurations stated their own count share the study's.
        for c in &mut s.configurations {
            if c.replications == 0 {
                c.replications = s.replications;
            }
        }
        Ok(s)
    }

    /// Reads `dir/summary.json`; a missing or malformed file is bad input (exit code 2).
    pub fn read(dir: &Path) -> Result<Summary> {
        let p = dir.join("summary.json");
        let text = std::fs::read_to_string(&p).map_err(|e| {
            Error::Input(InputError {
                file: p.display().to_string(),
                line_col: None,
                message: format!(
                    "cannot read the saved results ({e}); is this a capsim report directory?"
                ),
            })
        })?;
        Ok(Summary::from_json(&p.display().to_string(), &text)?)
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

/// Placement a − placement b on the same host type and the same replications of one
/// point, for every pair of placements in scenario order.
fn paired(point: &PointRecords, stop_metric: &str, level: f64) -> Vec<PairedDifference> {
    let mut metrics: Vec<&str> = PAIRED_METRICS.to_vec();
    if !metrics.contains(&stop_metric) {
        metrics.push(stop_metric);
    }
    let mut out = vec![];
    for (i, a) in point.configs.iter().enumerate() {
        for b in point.configs[i + 1..]
            .iter()
            .filter(|b| b.host_type == a.host_type)
        {
            for metric in &metrics {
                let (mean, half_width, n) =
                    paired_ci(&a.samples(metric), &b.samples(metric), level);
                out.push(PairedDifference {
                    point: point.point,
                    host_type: a.host_type.clone(),
                    a: a.placement.clone(),
                    b: b.placement.clone(),
                    metric: metric.to_string(),
                    replications: n as u64,
                    mean: finite(mean),
                    half_width: finite(half_width),
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_json_reads_back_into_the_summary_that_wrote_it() {
        let sc = Scenario::from_toml("small.toml", "small", crate::study::tests::SMALL).unwrap();
        let runs = crate::study::run_scenario(&sc, 2, 0, Some(1)).unwrap();
        let s = Summary::build(&sc, &runs);
        let text = s.to_json().unwrap();
        let back = Summary::from_json("summary.json", &text).unwrap();
        assert_eq!(back, s);
        // And writes the same bytes again: nothing is lost or reordered.
        assert_eq!(back.to_json().unwrap(), text);
    }

    #[test]
    fn reading_accepts_numeric_axis_values_and_fills_missing_counts() {
        let text = r#"{"scenario": "s", "replications": 4, "configurations": [
            {"axis_values": {"hosts.x86.count": 8, "ksm.enabled": "true"},
             "placement": "vm", "host_type": "x86",
             "metrics": {"b": {"mean": 1.5, "half_width": null}, "a": {"mean": null, "half_width": null}}}]}"#;
        let s = Summary::from_json("summary.json", text).unwrap();
        let c = &s.configurations[0];
        assert_eq!(c.axis_values.get("hosts.x86.count").unwrap(), "8");
        assert_eq!(c.replications, 4);
        assert_eq!(c.metrics.keys().collect::<Vec<_>>(), ["b", "a"]);
        assert_eq!(c.mean("b"), Some(1.5));
        assert_eq!(c.mean("a"), None);
    }
}
