//! Reading a saved report back: `summary.json` into [`Summary`] (so `capsim report DIR`
//! re-renders without rerunning) and `timeline.csv` into rows.
//!
//! `summary.json` stores metrics and axis values as JSON objects whose key order carries
//! meaning (the breakdowns are stacked in that order), so they are read into ordered
//! vectors with a map visitor rather than through a sorted map.

use std::fmt;
use std::marker::PhantomData;
use std::path::Path;

use serde::Deserialize;
use serde::de::{Deserializer, MapAccess, Visitor};

use crate::diagnostics::{Error, InputError, Result};
use crate::report::summary::{ConfigSummary, Distributions, Estimate, Summary};

/// A JSON object read as `(key, value)` pairs in file order.
struct Ordered<V>(Vec<(String, V)>);

impl<'de, V: Deserialize<'de>> Deserialize<'de> for Ordered<V> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V2<V>(PhantomData<V>);
        impl<'de, V: Deserialize<'de>> Visitor<'de> for V2<V> {
            type Value = Ordered<V>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(
                self,
                mut m: A,
            ) -> std::result::Result<Self::Value, A::Error> {
                let mut v = Vec::with_capacity(m.size_hint().unwrap_or(0));
                while let Some((k, x)) = m.next_entry::<String, V>()? {
                    v.push((k, x));
                }
                Ok(Ordered(v))
            }
        }
        d.deserialize_map(V2(PhantomData))
    }
}

#[derive(Deserialize)]
struct SavedEstimate {
    mean: Option<f64>,
    half_width: Option<f64>,
}

#[derive(Deserialize, Default)]
struct SavedDistributions {
    #[serde(default)]
    start_latency_s: Vec<[f64; 2]>,
    #[serde(default)]
    slowdown: Vec<[f64; 2]>,
}

#[derive(Deserialize)]
struct SavedConfig {
    #[serde(default)]
    point: u64,
    #[serde(default)]
    replications: u64,
    #[serde(default = "no_axes")]
    axis_values: Ordered<serde_json::Value>,
    placement: String,
    #[serde(default)]
    layers: Vec<String>,
    host_type: String,
    #[serde(default)]
    host_family: String,
    #[serde(default)]
    hosts: u32,
    metrics: Ordered<SavedEstimate>,
    #[serde(default)]
    distributions: SavedDistributions,
}

fn no_axes() -> Ordered<serde_json::Value> {
    Ordered(vec![])
}

#[derive(Deserialize)]
struct SavedSummary {
    #[serde(default)]
    capsim_version: String,
    scenario: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    question: String,
    #[serde(default)]
    seed: u64,
    #[serde(default)]
    horizon_s: f64,
    #[serde(default)]
    warmup_s: f64,
    #[serde(default)]
    replications: u64,
    #[serde(default)]
    confidence: f64,
    #[serde(default)]
    axes: Vec<String>,
    configurations: Vec<SavedConfig>,
}

/// Parses `summary.json` text; `file` names it in errors.
pub fn summary_from_json(file: &str, text: &str) -> std::result::Result<Summary, InputError> {
    let s: SavedSummary = serde_json::from_str(text).map_err(|e| InputError {
        file: file.to_string(),
        line_col: (e.line() > 0).then(|| (e.line(), e.column())),
        message: format!("not a capsim summary.json: {e}"),
    })?;
    let configurations = s
        .configurations
        .into_iter()
        .map(|c| ConfigSummary {
            point: c.point,
            replications: if c.replications > 0 {
                c.replications
            } else {
                s.replications
            },
            // Axis values are written as strings; a hand-edited number is still accepted.
            axis_values: c
                .axis_values
                .0
                .into_iter()
                .map(|(k, v)| {
                    let v = match v {
                        serde_json::Value::String(s) => s,
                        other => other.to_string(),
                    };
                    (k, v)
                })
                .collect(),
            placement: c.placement,
            layers: c.layers,
            host_type: c.host_type,
            host_family: c.host_family,
            hosts: c.hosts,
            metrics: c
                .metrics
                .0
                .into_iter()
                .map(|(k, e)| {
                    (
                        k,
                        Estimate {
                            mean: e.mean.filter(|x| x.is_finite()),
                            half_width: e.half_width.filter(|x| x.is_finite()),
                        },
                    )
                })
                .collect(),
            distributions: Distributions {
                start_latency_s: c.distributions.start_latency_s,
                slowdown: c.distributions.slowdown,
            },
        })
        .collect();
    Ok(Summary {
        capsim_version: s.capsim_version,
        scenario: s.scenario,
        description: s.description,
        question: s.question,
        seed: s.seed,
        horizon_s: s.horizon_s,
        warmup_s: s.warmup_s,
        replications: s.replications,
        confidence: s.confidence,
        // The plots and page need neither the study settings nor the paired
        // differences; summary.json itself is never rewritten from here.
        study: crate::scenario::study::Study::default(),
        axes: s.axes,
        configurations,
        paired_differences: vec![],
    })
}

/// Reads `dir/summary.json`; a missing or malformed file is bad input (exit code 2).
pub fn read_summary(dir: &Path) -> Result<Summary> {
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
    Ok(summary_from_json(&p.display().to_string(), &text)?)
}

/// One row of `timeline.csv`: KSM counters of one (placement, host type, replication) at
/// one time.
#[derive(Deserialize, Clone, Debug, PartialEq)]
pub struct TimelineRow {
    pub placement: String,
    pub host_type: String,
    pub replication: u64,
    pub time_s: f64,
    pub pages_shared: f64,
    pub pages_sharing: f64,
    pub pages_unshared: f64,
    pub pages_volatile: f64,
    pub full_scans: f64,
    pub ksmd_cpu_cores: f64,
    pub mem_saved_mib: f64,
}

/// Reads `dir/timeline.csv` when it exists (`Ok(None)` otherwise: older runs and scenarios
/// without KSM have none).
pub fn read_timeline(dir: &Path) -> Result<Option<Vec<TimelineRow>>> {
    let p = dir.join("timeline.csv");
    if !p.exists() {
        return Ok(None);
    }
    let bad = |line: Option<usize>, m: String| {
        Error::Input(InputError {
            file: p.display().to_string(),
            line_col: line.map(|l| (l, 1)),
            message: m,
        })
    };
    let mut r = csv::Reader::from_path(&p).map_err(|e| bad(None, format!("cannot read: {e}")))?;
    let mut rows = vec![];
    for rec in r.deserialize::<TimelineRow>() {
        let row = rec.map_err(|e| {
            let line = e.position().map(|p| p.line() as usize);
            bad(line, format!("bad timeline row: {e}"))
        })?;
        rows.push(row);
    }
    Ok(Some(rows))
}
