//! What `capsim search` found: `search.json` (these types, serialized) and `search.csv`.

use serde::Serialize;

use crate::diagnostics::{Error, Result};
use crate::model::slo::Slo;
use crate::results::stats::Estimate;

/// One count that was simulated.
#[derive(Serialize, Clone, Debug)]
pub struct Evaluation {
    pub count: u64,
    /// Share of replications meeting every SLO.
    pub slo_met_fraction: f64,
    pub passed: bool,
}

/// The answer for one placement on one host type.
#[derive(Serialize, Clone, Debug)]
pub struct SearchResult {
    /// The sweep point searched (0 without a sweep) and its axis values, written as
    /// `[path, value]` pairs.
    pub point: u64,
    pub axis_values: Vec<(String, String)>,
    pub placement: String,
    pub host_type: String,
    /// Largest count that met the SLO (0: not even one instance does).
    pub count: u64,
    /// `[lo, hi]`: lo passes, hi fails (hi = null when max_count still passed).
    pub bracket: (u64, Option<u64>),
    /// Density per host in use at `count`, with its confidence half-width.
    pub density_per_host: Estimate,
    pub mem_per_workload_mib: Estimate,
    pub blocking_probability: Estimate,
    pub slowdown_p99: Estimate,
    pub start_latency_p95_s: Estimate,
    pub slo_met_fraction: f64,
    /// Every count simulated, in the order it was tried.
    pub evaluations: Vec<Evaluation>,
}

/// Everything `capsim search` found.
#[derive(Serialize, Clone, Debug)]
pub struct SearchReport {
    pub capsim_version: String,
    pub scenario: String,
    pub seed: u64,
    pub workload: String,
    pub replications: u64,
    pub confidence: f64,
    pub slo_fraction: f64,
    pub slo: Slo,
    pub precision: u64,
    pub max_count: u64,
    pub results: Vec<SearchResult>,
}

impl SearchReport {
    /// The sweep axis paths (those of the first result: every point has the same axes).
    pub fn axes(&self) -> Vec<&str> {
        self.results
            .first()
            .map(|r| r.axis_values.iter().map(|(k, _)| k.as_str()).collect())
            .unwrap_or_default()
    }

    pub fn to_json(&self) -> Result<String> {
        serde_json::to_string_pretty(self).map_err(|e| Error::Runtime(format!("search.json: {e}")))
    }

    /// `search.csv`: one row per point × placement × host type.
    pub fn to_csv(&self) -> Result<Vec<u8>> {
        let mut w = csv::Writer::from_writer(vec![]);
        let error = |e: csv::Error| Error::Runtime(format!("search.csv: {e}"));
        let mut header: Vec<&str> = vec!["point"];
        header.extend(self.axes());
        header.extend([
            "placement",
            "host_type",
            "count",
            "bracket_lo",
            "bracket_hi",
            "density_per_host",
            "density_half_width",
            "mem_per_workload_mib",
            "mem_half_width",
            "slo_met_fraction",
        ]);
        w.write_record(&header).map_err(error)?;
        let number = |x: Option<f64>| x.map(|v| format!("{v}")).unwrap_or_default();
        for r in &self.results {
            let mut row = vec![r.point.to_string()];
            row.extend(r.axis_values.iter().map(|(_, v)| v.clone()));
            row.extend([
                r.placement.clone(),
                r.host_type.clone(),
                r.count.to_string(),
                r.bracket.0.to_string(),
                r.bracket.1.map(|h| h.to_string()).unwrap_or_default(),
                number(r.density_per_host.mean),
                number(r.density_per_host.half_width),
                number(r.mem_per_workload_mib.mean),
                number(r.mem_per_workload_mib.half_width),
                format!("{}", r.slo_met_fraction),
            ]);
            w.write_record(&row).map_err(error)?;
        }
        w.into_inner()
            .map_err(|e| Error::Runtime(format!("search.csv: {e}")))
    }
}
