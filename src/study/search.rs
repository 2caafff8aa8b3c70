//! Density at the SLO: for each placement and host type, the largest number of static
//! instances of one workload class on **one host** for which every objective of the
//! scenario's `[slo]` holds in at least `slo_fraction` of the replications.
//!
//! The count is bracketed by doubling (1, 2, 4, … until the SLO fails) and then bisected
//! down to the requested precision. Every count is evaluated on the same replications
//! (common random numbers: replication r draws the same streams at every count), which
//! keeps the pass/fail curve as smooth as the model allows. The predicate is assumed to
//! be monotone (more instances never make the SLO easier); the result is always a
//! bracket `[lo, hi]` with `lo` passing and `hi` failing.

use rayon::prelude::*;
use serde::Serialize;

use crate::diagnostics::{Error, Result};
use crate::metrics::RunMetrics;
use crate::model::workload::Arrivals;
use crate::report::summary::Estimate;
use crate::scenario::{Config, Scenario};
use crate::sim::{RunOptions, run_config};
use crate::study::stats::mean_ci;

/// How to search.
#[derive(Clone, Debug)]
pub struct SearchOptions {
    /// The workload class whose count is searched (the others stay as defined).
    pub workload: usize,
    pub replications: u64,
    /// Stop bisecting when hi − lo ≤ precision.
    pub precision: u64,
    /// Stop doubling here (the answer is then "at least max_count").
    pub max_count: u64,
}

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
    /// The sweep point searched (0 without a sweep) and its axis values.
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
    pub slo: crate::model::slo::Slo,
    pub precision: u64,
    pub max_count: u64,
    pub results: Vec<SearchResult>,
}

/// The scenario with `count` static instances of class `w` on one host of every type.
fn at_count(sc: &Scenario, w: usize, count: u64) -> Scenario {
    let mut s = sc.clone();
    // Editing the resolved scenario is safe here: a count from 1 to the limit and a
    // one-host fleet are always valid once the scenario itself resolved (the per-host
    // fit checks do not depend on either).
    s.workloads[w].arrivals = Arrivals::Static { count };
    for h in &mut s.host_types {
        h.count = 1;
    }
    s
}

fn estimate(runs: &[RunMetrics], f: fn(&RunMetrics) -> f64, level: f64) -> Estimate {
    let xs: Vec<f64> = runs.iter().map(f).collect();
    let (m, h) = mean_ci(&xs, level);
    Estimate {
        mean: m.is_finite().then_some(m),
        half_width: h.is_finite().then_some(h),
    }
}

/// Searches every configuration of every sweep point of `sc` (in parallel on `pool`):
/// with a sweep, the answer is a curve (e.g. density at the SLO vs host memory).
pub fn search(
    sc: &Scenario,
    opts: &SearchOptions,
    pool: &rayon::ThreadPool,
) -> Result<SearchReport> {
    let pts = crate::study::sweep::points(sc)?;
    if sc.slo.is_empty() {
        return Err(Error::Usage(format!(
            "scenario `{}` has no [slo]: density at the SLO needs objectives (e.g. [slo] blocking = 0.0, p99_slowdown = 1.5)",
            sc.name
        )));
    }
    if opts.replications == 0 || opts.precision == 0 || opts.max_count == 0 {
        return Err(Error::Usage(
            "--replications, --precision and --max-count must be >= 1".into(),
        ));
    }
    let work: Vec<(&crate::study::sweep::Point, Config)> = pts
        .iter()
        .flat_map(|p| p.scenario.configs().into_iter().map(move |c| (p, c)))
        .collect();
    let results: Vec<Result<SearchResult>> = pool.install(|| {
        work.par_iter()
            .map(|&(p, cfg)| {
                let mut r = search_config(&p.scenario, cfg, opts)?;
                r.point = p.index;
                r.axis_values = p.axis_values.clone();
                Ok(r)
            })
            .collect()
    });
    Ok(SearchReport {
        capsim_version: env!("CARGO_PKG_VERSION").to_string(),
        scenario: sc.name.clone(),
        seed: sc.seed,
        workload: sc.workloads[opts.workload].name.clone(),
        replications: opts.replications,
        confidence: sc.study.confidence,
        slo_fraction: sc.study.slo_fraction,
        slo: sc.slo.clone(),
        precision: opts.precision,
        max_count: opts.max_count,
        results: results.into_iter().collect::<Result<_>>()?,
    })
}

fn search_config(sc: &Scenario, cfg: Config, opts: &SearchOptions) -> Result<SearchResult> {
    let mut evaluations = vec![];
    let eval = |n: u64, evaluations: &mut Vec<Evaluation>| -> Result<(bool, Vec<RunMetrics>)> {
        let s = at_count(sc, opts.workload, n);
        let runs: Vec<std::result::Result<RunMetrics, String>> = (0..opts.replications)
            .into_par_iter()
            .map(|r| {
                run_config(
                    &s,
                    cfg,
                    RunOptions {
                        point: 0,
                        replication: r,
                        check_invariants: false,
                    },
                )
            })
            .collect();
        let runs: Vec<RunMetrics> = runs
            .into_iter()
            .collect::<std::result::Result<_, _>>()
            .map_err(Error::Runtime)?;
        let met = runs.iter().filter(|m| sc.slo.met(m)).count() as f64 / runs.len() as f64;
        // A tiny tolerance so 0.9 × 10 replications (9 of 10) passes despite rounding.
        let passed = met + 1e-12 >= sc.study.slo_fraction;
        evaluations.push(Evaluation {
            count: n,
            slo_met_fraction: met,
            passed,
        });
        Ok((passed, runs))
    };
    let (ok1, runs1) = eval(1, &mut evaluations)?;
    let (mut lo, mut hi, mut best) = (0u64, Some(1u64), None);
    if ok1 {
        lo = 1;
        best = Some(runs1);
        hi = None;
        let mut n = 1u64;
        // Bracket: double until the SLO fails or the cap is reached.
        while n < opts.max_count {
            n = (n * 2).min(opts.max_count);
            let (ok, runs) = eval(n, &mut evaluations)?;
            if ok {
                lo = n;
                best = Some(runs);
            } else {
                hi = Some(n);
                break;
            }
        }
        // Bisect inside [lo, hi].
        while let Some(h) = hi {
            if h - lo <= opts.precision {
                break;
            }
            let mid = lo + (h - lo) / 2;
            let (ok, runs) = eval(mid, &mut evaluations)?;
            if ok {
                lo = mid;
                best = Some(runs);
            } else {
                hi = Some(mid);
            }
        }
    }
    let level = sc.study.confidence;
    let runs = best.unwrap_or_default();
    let met = evaluations
        .iter()
        .find(|e| e.count == lo)
        .map_or(0.0, |e| e.slo_met_fraction);
    Ok(SearchResult {
        point: 0,
        axis_values: vec![],
        placement: sc.placements[cfg.placement].name.clone(),
        host_type: sc.host_types[cfg.host_type].name.clone(),
        count: lo,
        bracket: (lo, hi),
        density_per_host: estimate(&runs, |m| m.density_per_host, level),
        mem_per_workload_mib: estimate(&runs, |m| m.mem_per_workload_mib, level),
        blocking_probability: estimate(&runs, |m| m.blocking_probability, level),
        slowdown_p99: estimate(&runs, |m| m.slowdown_p99, level),
        start_latency_p95_s: estimate(&runs, |m| m.start_latency_p95_s, level),
        slo_met_fraction: met,
        evaluations,
    })
}

impl SearchReport {
    /// `search.csv`: one row per placement × host type.
    pub fn to_csv(&self) -> Result<Vec<u8>> {
        let mut w = csv::Writer::from_writer(vec![]);
        let e = |e: csv::Error| Error::Runtime(format!("search.csv: {e}"));
        let axes: Vec<String> = self
            .results
            .first()
            .map(|r| r.axis_values.iter().map(|(k, _)| k.clone()).collect())
            .unwrap_or_default();
        let mut header = vec!["point".to_string()];
        header.extend(axes.iter().cloned());
        header.extend(
            [
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
            ]
            .map(String::from),
        );
        w.write_record(&header).map_err(e)?;
        let f = |x: Option<f64>| x.map(|v| format!("{v}")).unwrap_or_default();
        for r in &self.results {
            let mut row = vec![r.point.to_string()];
            row.extend(r.axis_values.iter().map(|(_, v)| v.clone()));
            row.extend([
                r.placement.clone(),
                r.host_type.clone(),
                r.count.to_string(),
                r.bracket.0.to_string(),
                r.bracket.1.map(|h| h.to_string()).unwrap_or_default(),
                f(r.density_per_host.mean),
                f(r.density_per_host.half_width),
                f(r.mem_per_workload_mib.mean),
                f(r.mem_per_workload_mib.half_width),
                format!("{}", r.slo_met_fraction),
            ]);
            w.write_record(&row).map_err(e)?;
        }
        w.into_inner()
            .map_err(|e| Error::Runtime(format!("search.csv: {e}")))
    }

    /// The terminal table.
    pub fn table(&self) -> String {
        let ci = |e: &Estimate| match (e.mean, e.half_width) {
            (Some(m), Some(h)) => format!("{m:.1} ±{h:.1}"),
            (Some(m), None) => format!("{m:.1}"),
            _ => "-".into(),
        };
        let rows: Vec<Vec<String>> = self
            .results
            .iter()
            .map(|r| {
                let mut row = vec![r.point.to_string()];
                row.extend(r.axis_values.iter().map(|(_, v)| v.clone()));
                row.extend([
                    r.host_type.clone(),
                    r.placement.clone(),
                    r.count.to_string(),
                    match r.bracket.1 {
                        Some(h) => format!("[{}, {h})", r.bracket.0),
                        None => format!(">= {} (cap)", r.bracket.0),
                    },
                    ci(&r.density_per_host),
                    ci(&r.mem_per_workload_mib),
                    format!("{:.0}%", r.slo_met_fraction * 100.0),
                    r.evaluations.len().to_string(),
                ]);
                row
            })
            .collect();
        let axes: Vec<&str> = self
            .results
            .first()
            .map(|r| r.axis_values.iter().map(|(k, _)| k.as_str()).collect())
            .unwrap_or_default();
        let mut header = vec!["point"];
        header.extend(axes);
        header.extend([
            "host",
            "placement",
            "count at SLO",
            "bracket",
            "density/host",
            "MiB/workload",
            "SLO met",
            "counts tried",
        ]);
        crate::report::table::render(&header, &rows)
    }
}
