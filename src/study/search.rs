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

use crate::diagnostics::{Error, Result};
use crate::metrics::RunMetrics;
use crate::model::workload::Arrivals;
use crate::results::records::RunRecord;
use crate::results::search::{Evaluation, SearchReport, SearchResult};
use crate::results::stats::Estimate;
use crate::scenario::{Config, Scenario};
use crate::study::replicate;
use crate::study::sweep::{Point, points};

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

/// Searches every configuration of every sweep point of `sc` (in parallel on `pool`):
/// with a sweep, the answer is a curve (e.g. density at the SLO vs host memory).
pub fn search(
    sc: &Scenario,
    opts: &SearchOptions,
    pool: &rayon::ThreadPool,
) -> Result<SearchReport> {
    let pts = points(sc)?;
    if sc.slo.is_empty() {
        return Err(Error::Usage(format!(
            "scenario `{}` has no [slo]: density at the SLO needs objectives (e.g. [slo] blocking = 0.0, p99_slowdown = 1.5)",
            sc.name
        )));
    }
    let Some(workload) = sc.workloads.get(opts.workload) else {
        return Err(Error::Usage(format!(
            "scenario `{}` has no workload class number {}",
            sc.name, opts.workload
        )));
    };
    if opts.replications == 0 || opts.precision == 0 || opts.max_count == 0 {
        return Err(Error::Usage(
            "--replications, --precision and --max-count must be >= 1".into(),
        ));
    }
    let work: Vec<(&Point, Config)> = pts
        .iter()
        .flat_map(|p| p.scenario.configs().into_iter().map(move |c| (p, c)))
        .collect();
    let results: Vec<Result<SearchResult>> = pool.install(|| {
        work.par_iter()
            .map(|&(p, config)| {
                let mut r = search_config(&p.scenario, config, opts)?;
                r.point = p.index;
                r.axis_values = p.axis_values.0.clone();
                Ok(r)
            })
            .collect()
    });
    Ok(SearchReport {
        capsim_version: env!("CARGO_PKG_VERSION").to_string(),
        scenario: sc.name.clone(),
        seed: sc.seed,
        workload: workload.name.clone(),
        replications: opts.replications,
        confidence: sc.study.confidence,
        slo_fraction: sc.study.slo_fraction,
        slo: sc.slo.clone(),
        precision: opts.precision,
        max_count: opts.max_count,
        results: results.into_iter().collect::<Result<_>>()?,
    })
}

fn search_config(sc: &Scenario, config: Config, opts: &SearchOptions) -> Result<SearchResult> {
    let mut evaluations = vec![];
    // Every count runs replications 0..R at point 0 (also for a sweep point: the point
    // is already in the scenario), so count n and count m share their random streams.
    let eval = |n: u64, evaluations: &mut Vec<Evaluation>| -> Result<(bool, Vec<RunRecord>)> {
        let at_n = at_count(sc, opts.workload, n);
        let judged = |m: RunMetrics| (sc.slo.met(&m.observed()), RunRecord::from(m));
        let runs = replicate(&at_n, &[config], 0, 0..opts.replications, None, judged)?
            .pop()
            .unwrap_or_default();
        let met = runs.iter().filter(|(met, _)| *met).count() as f64 / runs.len() as f64;
        // A tiny tolerance so 0.9 × 10 replications (9 of 10) passes despite rounding.
        let passed = met + 1e-12 >= sc.study.slo_fraction;
        evaluations.push(Evaluation {
            count: n,
            slo_met_fraction: met,
            passed,
        });
        Ok((passed, runs.into_iter().map(|(_, r)| r).collect()))
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
    let runs: Vec<RunRecord> = best.unwrap_or_default();
    let estimate = |metric: &str| {
        let samples: Vec<f64> = runs.iter().map(|r| r.get(metric)).collect();
        Estimate::of(&samples, level)
    };
    let met = evaluations
        .iter()
        .find(|e| e.count == lo)
        .map_or(0.0, |e| e.slo_met_fraction);
    Ok(SearchResult {
        point: 0,
        axis_values: vec![],
        placement: sc.placements[config.placement].name.clone(),
        host_type: sc.host_types[config.host_type].name.clone(),
        count: lo,
        bracket: (lo, hi),
        density_per_host: estimate("density_per_host"),
        mem_per_workload_mib: estimate("mem_per_workload_mib"),
        blocking_probability: estimate("blocking_probability"),
        slowdown_p99: estimate("slowdown_p99"),
        start_latency_p95_s: estimate("start_latency_p95_s"),
        slo_met_fraction: met,
        evaluations,
    })
}
