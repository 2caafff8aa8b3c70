//! The study part of the schema: `[study]` (replications, confidence, sequential stopping)
//! and `[[sweep.axis]]` (dotted paths into the scenario and the values they take).
//!
//! ```toml
//! [study]
//! replications_min = 3          # every point runs at least this many replications
//! replications_max = 30         # ... and at most this many
//! confidence = 0.95
//! target_rel_half_width = 0.02  # stop once half-width / |mean| <= 2% for every configuration
//! metric = "density_per_host"   # the metric the stopping rule watches
//! slo_fraction = 0.9            # `capsim search`: share of replications that must meet the SLO
//!
//! [[sweep.axis]]
//! path = "hosts.x86.memory_gib"
//! range = { from = 128, to = 512, step = 128 }
//!
//! [[sweep.axis]]
//! path = "workloads.*.private_mib"   # `*`: every workload class (also hosts.*, placements.*)
//! values = [1024, 2048]
//!
//! [[sweep.axis]]
//! path = "placements"           # a subset of placements per point
//! values = ["bare-metal-containers", ["vm", "vm-in-container"]]
//! ```
//!
//! Every axis is checked here, before anything runs; each sweep point is later built by
//! editing the parsed document at the axis paths and resolving it like a file
//! (`study::sweep`), so a point is validated exactly as a file would be.

use serde::{Deserialize, Serialize};

use crate::diagnostics::Source;
use crate::diagnostics::{InputError, nearest};
use crate::profiles::{HOST_PARAMS, LAYER_PARAMS, ProfileSet};

/// Caps that keep a typo from asking for an endless study.
pub(crate) const MAX_REPLICATIONS: u64 = 100_000;
pub(crate) const MAX_AXIS_VALUES: usize = 10_000;
pub(crate) const MAX_POINTS: usize = 100_000;

#[derive(Deserialize, Debug, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct StudyFile {
    pub replications_min: Option<u64>,
    pub replications_max: Option<u64>,
    pub confidence: Option<f64>,
    pub target_rel_half_width: Option<f64>,
    pub metric: Option<String>,
    pub slo_fraction: Option<f64>,
}

#[derive(Deserialize, Debug, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct SweepFile {
    #[serde(default)]
    pub axis: Vec<AxisFile>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub(crate) struct AxisFile {
    pub path: String,
    pub values: Option<Vec<toml::Value>>,
    pub range: Option<RangeFile>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub(crate) struct RangeFile {
    pub from: toml::Value,
    pub to: toml::Value,
    pub step: toml::Value,
}

/// How many replications each point gets and how their results are judged.
/// (`Deserialize`: `summary.json` records it and is read back by the same types.)
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Study {
    pub replications_min: u64,
    /// Only used with `target_rel_half_width`: without a target every point runs
    /// `replications_min` replications.
    pub replications_max: u64,
    pub confidence: f64,
    /// Sequential stopping: add replications until half-width / |mean| of `metric` is at
    /// most this for every configuration of the point (or `replications_max`).
    pub target_rel_half_width: Option<f64>,
    pub metric: String,
    /// `capsim search`: the share of replications that must meet every SLO.
    pub slo_fraction: f64,
}

impl Default for Study {
    fn default() -> Self {
        Study {
            replications_min: 3,
            replications_max: 3,
            confidence: 0.95,
            target_rel_half_width: None,
            metric: "density_per_host".into(),
            slo_fraction: 0.9,
        }
    }
}

/// One sweep axis: a dotted path and the values it takes, in order.
#[derive(Clone, Debug)]
pub struct Axis {
    pub path: String,
    pub values: Vec<toml::Value>,
}

/// The scalar metrics of `RunMetrics::flat()` a study can stop on (breakdowns are left
/// out: their columns differ between placements). A test checks the list against a run.
pub(crate) const STOP_METRICS: &[&str] = &[
    "arrivals",
    "blocked",
    "blocking_probability",
    "workloads_hosted_mean",
    "workloads_running_mean",
    "hosts_used_mean",
    "hosts_used_peak",
    "density_per_host",
    "vms_mean",
    "mem_committed_mib_per_host",
    "mem_resident_mib_per_host",
    "mem_per_workload_mib",
    "cpu_reserved_fraction",
    "cpu_utilisation",
    "slowdown_mean",
    "slowdown_p50",
    "slowdown_p95",
    "slowdown_p99",
    "start_latency_mean_s",
    "start_latency_p50_s",
    "start_latency_p95_s",
    "start_latency_p99_s",
    "slo_met",
];

pub(crate) fn resolve_study(f: Option<&StudyFile>, src: &Source) -> Result<Study, InputError> {
    let Some(f) = f else {
        return Ok(Study::default());
    };
    let err = |k: &str, m: String| src.error(&["study", k], m);
    let min = f.replications_min.unwrap_or(3);
    if !(1..=MAX_REPLICATIONS).contains(&min) {
        return Err(err(
            "replications_min",
            format!("replications_min = {min} must be from 1 to {MAX_REPLICATIONS}"),
        ));
    }
    let max = f
        .replications_max
        .unwrap_or(if f.target_rel_half_width.is_some() {
            min.max(30)
        } else {
            min
        });
    if max > MAX_REPLICATIONS {
        return Err(err(
            "replications_max",
            format!("replications_max = {max} is above the supported {MAX_REPLICATIONS}"),
        ));
    }
    if min > max {
        return Err(err(
            "replications_min",
            format!("replications_min = {min} is above replications_max = {max}"),
        ));
    }
    let confidence = f.confidence.unwrap_or(0.95);
    if !(confidence > 0.0 && confidence < 1.0) {
        return Err(err(
            "confidence",
            format!("confidence = {confidence} must be strictly between 0 and 1 (e.g. 0.95)"),
        ));
    }
    if let Some(t) = f.target_rel_half_width
        && !(t.is_finite() && t > 0.0)
    {
        return Err(err(
            "target_rel_half_width",
            format!("target_rel_half_width = {t} must be > 0 (e.g. 0.05 for ±5%)"),
        ));
    }
    let metric = f
        .metric
        .clone()
        .unwrap_or_else(|| "density_per_host".into());
    if !STOP_METRICS.contains(&metric.as_str()) {
        return Err(err(
            "metric",
            crate::diagnostics::unknown_name("metric", &metric, STOP_METRICS.iter().copied()),
        ));
    }
    let slo_fraction = f.slo_fraction.unwrap_or(0.9);
    if !(slo_fraction > 0.0 && slo_fraction <= 1.0) {
        return Err(err(
            "slo_fraction",
            format!("slo_fraction = {slo_fraction} must be within (0, 1]"),
        ));
    }
    Ok(Study {
        replications_min: min,
        replications_max: max,
        confidence,
        target_rel_half_width: f.target_rel_half_width,
        metric,
        slo_fraction,
    })
}

fn number(v: &toml::Value) -> Option<f64> {
    match v {
        toml::Value::Integer(i) => Some(*i as f64),
        toml::Value::Float(f) => Some(*f),
        _ => None,
    }
}

/// The values of a `range = { from, to, step }`, `to` included: integers when all three
/// are integers (so `count` axes stay integers), floats otherwise. Each value is computed
/// as `from + i·step`, never by accumulation, so no rounding drift creeps in.
fn range_values(
    r: &RangeFile,
    at: &dyn Fn(&str, String) -> InputError,
) -> Result<Vec<toml::Value>, InputError> {
    let (Some(from), Some(to), Some(step)) = (number(&r.from), number(&r.to), number(&r.step))
    else {
        return Err(at(
            "range",
            "`range` needs numbers: { from = 1, to = 10, step = 1 }".into(),
        ));
    };
    if !(from.is_finite() && to.is_finite() && step.is_finite()) {
        return Err(at("range", "`range` bounds must be finite".into()));
    }
    if step == 0.0 {
        return Err(at(
            "range",
            "`range.step` = 0 would never reach `to`; give a non-zero step".into(),
        ));
    }
    let span = (to - from) / step;
    if span < -1e-9 {
        return Err(at(
            "range",
            format!(
                "empty axis: range from {from} to {to} with step {step} has no values (the step points away from `to`)"
            ),
        ));
    }
    let n = (span + 1e-9).floor() as u64 + 1;
    if n as usize > MAX_AXIS_VALUES {
        return Err(at(
            "range",
            format!("the range has {n} values; at most {MAX_AXIS_VALUES} per axis"),
        ));
    }
    let ints = matches!(
        (&r.from, &r.to, &r.step),
        (
            toml::Value::Integer(_),
            toml::Value::Integer(_),
            toml::Value::Integer(_)
        )
    );
    Ok((0..n)
        .map(|i| {
            if let (true, toml::Value::Integer(f), toml::Value::Integer(s)) =
                (ints, &r.from, &r.step)
            {
                toml::Value::Integer(f + s * i as i64)
            } else {
                toml::Value::Float(from + step * i as f64)
            }
        })
        .collect())
}

/// Keys a workload table accepts that a sweep can vary.
const WORKLOAD_KEYS: &[&str] = &[
    "count",
    "arrival_rate_per_s",
    "lifetime_s",
    "tenants",
    "private_mib",
    "image_mib",
    "zero_mib",
    "volatile_fraction",
    "cpu_cores",
    "cpu_request",
    "vcpus",
    "weight",
    "io_fraction",
];
const PLACEMENT_KEYS: &[&str] = &["layers", "hosts", "vm_per", "containers_per_vm", "policy"];
const SLO_KEYS: &[&str] = &["p99_slowdown", "start_p95_s", "blocking"];

/// Every path an axis may name in this scenario: the schema's variable fields for the
/// names the document defines, plus every leaf already written in the document (so new
/// sections — e.g. `[ksm]` — are sweepable as soon as a scenario sets them).
pub(crate) fn valid_paths(doc: &toml::Table, profiles: &ProfileSet) -> Vec<String> {
    let mut v: Vec<String> = vec!["placements".into(), "horizon_s".into(), "warmup_s".into()];
    let names = |k: &str| -> Vec<String> {
        doc.get(k)
            .and_then(|t| t.as_table())
            .map(|t| t.keys().cloned().collect())
            .unwrap_or_default()
    };
    // `*` stands for every host type / workload class / placement of the document.
    let star = |k: &str| -> Vec<String> {
        let mut n = names(k);
        if !n.is_empty() {
            n.push("*".into());
        }
        n
    };
    for h in star("hosts") {
        v.push(format!("hosts.{h}.count"));
        for d in HOST_PARAMS {
            v.push(format!("hosts.{h}.{}", d.name));
        }
    }
    for l in &profiles.layers {
        for d in LAYER_PARAMS {
            v.push(format!("layers.{}.{}", l.name, d.name));
        }
    }
    for w in star("workloads") {
        for k in WORKLOAD_KEYS {
            v.push(format!("workloads.{w}.{k}"));
        }
    }
    for p in star("placements") {
        for k in PLACEMENT_KEYS {
            v.push(format!("placements.{p}.{k}"));
        }
    }
    for k in SLO_KEYS {
        v.push(format!("slo.{k}"));
    }
    fn leaves(prefix: &str, t: &toml::Table, out: &mut Vec<String>) {
        for (k, x) in t {
            let p = if prefix.is_empty() {
                k.clone()
            } else {
                format!("{prefix}.{k}")
            };
            match x {
                toml::Value::Table(sub) => leaves(&p, sub, out),
                _ => out.push(p),
            }
        }
    }
    let mut doc_leaves = vec![];
    leaves("", doc, &mut doc_leaves);
    for p in doc_leaves {
        // The study's own settings, the seed and the name are not model inputs.
        let skip = ["study", "sweep", "seed", "name", "description", "question"]
            .iter()
            .any(|s| p == *s || p.starts_with(&format!("{s}.")));
        if !skip && !v.contains(&p) {
            v.push(p);
        }
    }
    v
}

pub(crate) fn resolve_sweep(
    f: Option<&SweepFile>,
    src: &Source,
    doc: &toml::Table,
    profiles: &ProfileSet,
) -> Result<Vec<Axis>, InputError> {
    let Some(f) = f else {
        return Ok(vec![]);
    };
    if f.axis.is_empty() {
        return Ok(vec![]);
    }
    let valid = valid_paths(doc, profiles);
    let placements: Vec<String> = doc
        .get("placements")
        .and_then(|t| t.as_table())
        .map(|t| t.keys().cloned().collect())
        .unwrap_or_default();
    let mut axes: Vec<Axis> = vec![];
    let mut total: usize = 1;
    for (i, a) in f.axis.iter().enumerate() {
        let idx = i.to_string();
        let at = |k: &str, m: String| src.error(&["sweep", "axis", &idx, k], m);
        if !valid.contains(&a.path) {
            let hint = match nearest(&a.path, valid.iter().map(String::as_str)) {
                Some(n) => format!("did you mean `{n}`?"),
                None => {
                    let top: Vec<&str> = [
                        "hosts.NAME.KEY",
                        "workloads.NAME.KEY",
                        "layers.NAME.KEY",
                        "placements",
                        "slo.KEY",
                    ]
                    .to_vec();
                    format!("valid paths look like {}", top.join(", "))
                }
            };
            return Err(at(
                "path",
                format!("unknown sweep path `{}`; {hint}", a.path),
            ));
        }
        if axes.iter().any(|x| x.path == a.path) {
            return Err(at("path", format!("`{}` is swept by two axes", a.path)));
        }
        let values = match (&a.values, &a.range) {
            (Some(_), Some(_)) => {
                return Err(at(
                    "range",
                    "give either `values` or `range`, not both".into(),
                ));
            }
            (None, None) => {
                return Err(at(
                    "path",
                    format!(
                        "axis `{}` needs `values = [...]` or `range = {{ from, to, step }}`",
                        a.path
                    ),
                ));
            }
            (Some(v), None) => {
                if v.is_empty() {
                    return Err(at(
                        "values",
                        format!("empty axis: `{}` has no values", a.path),
                    ));
                }
                if v.len() > MAX_AXIS_VALUES {
                    return Err(at(
                        "values",
                        format!("{} values; at most {MAX_AXIS_VALUES} per axis", v.len()),
                    ));
                }
                v.clone()
            }
            (None, Some(r)) => range_values(r, &at)?,
        };
        if a.path == "placements" {
            for v in &values {
                let list: Vec<&toml::Value> = match v {
                    toml::Value::Array(xs) => xs.iter().collect(),
                    x => vec![x],
                };
                if list.is_empty() {
                    return Err(at(
                        "values",
                        "a `placements` value selects no placement".into(),
                    ));
                }
                for x in list {
                    let Some(s) = x.as_str() else {
                        return Err(at(
                            "values",
                            "`placements` values are placement names or lists of them".into(),
                        ));
                    };
                    if !placements.iter().any(|p| p == s) {
                        return Err(at(
                            "values",
                            crate::diagnostics::unknown_name(
                                "placement",
                                s,
                                placements.iter().map(String::as_str),
                            ),
                        ));
                    }
                }
            }
        }
        total = total.saturating_mul(values.len());
        if total > MAX_POINTS {
            return Err(at(
                "path",
                format!("the sweep has more than {MAX_POINTS} points; split it"),
            ));
        }
        axes.push(Axis {
            path: a.path.clone(),
            values,
        });
    }
    Ok(axes)
}

/// How a value is shown in reports and CSV columns: `512`, `0.5`, `vm`, `vm+bare`.
pub(crate) fn display_value(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => s.clone(),
        toml::Value::Integer(i) => i.to_string(),
        toml::Value::Float(f) => f.to_string(),
        toml::Value::Boolean(b) => b.to_string(),
        toml::Value::Array(xs) => xs.iter().map(display_value).collect::<Vec<_>>().join("+"),
        other => other.to_string(),
    }
}
