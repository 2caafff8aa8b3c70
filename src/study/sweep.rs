//! Sweep points — the cartesian product of the axes, each built by editing the parsed
//! scenario document at the axis paths and resolving it like a file — and running them,
//! each with as many replications as sequential stopping asks for.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use indicatif::ProgressBar;
use rayon::prelude::*;

use crate::diagnostics::{InputError, Result};
use crate::ordered_map::OrderedMap;
use crate::results::records::{PointRecords, RunRecord};
use crate::results::stats::rel_half_width;
use crate::scenario::study::display_value;
use crate::scenario::{Override, Scenario, Study};
use crate::study::{config_records, replicate};

/// One point of a sweep: its index, the axis values that define it, and the scenario.
#[derive(Clone, Debug)]
pub struct Point {
    pub index: u64,
    /// Axis path → the value this point takes, as shown.
    pub axis_values: OrderedMap<String>,
    pub scenario: Scenario,
}

/// Every point of `sc`'s sweep, first axis slowest; a scenario without a sweep is one
/// point (index 0, the scenario itself). Every point is resolved here, before anything
/// runs, so a value that makes a point invalid is reported up front.
pub fn points(sc: &Scenario) -> std::result::Result<Vec<Point>, InputError> {
    if sc.sweep.is_empty() {
        return Ok(vec![Point {
            index: 0,
            axis_values: OrderedMap::new(),
            scenario: sc.clone(),
        }]);
    }
    let sizes: Vec<usize> = sc.sweep.iter().map(|a| a.values.len()).collect();
    let total: usize = sizes.iter().product();
    let mut out = Vec::with_capacity(total);
    for p in 0..total {
        // Mixed radix, last axis fastest.
        let mut rest = p;
        let mut pick = vec![0; sizes.len()];
        for (i, n) in sizes.iter().enumerate().rev() {
            pick[i] = rest % n;
            rest /= n;
        }
        // A point is a plain scenario: its own sweep would otherwise be expanded again.
        let mut edits = vec![Override::remove("sweep")];
        let mut axis_values = OrderedMap::new();
        for (axis, &k) in sc.sweep.iter().zip(&pick) {
            let v = &axis.values[k];
            edits.push(Override::set(axis.path.clone(), v.clone()));
            axis_values.push(axis.path.clone(), display_value(v));
        }
        let desc = axis_values
            .iter()
            .map(|(k, v)| format!("{k} = {v}"))
            .collect::<Vec<_>>()
            .join(", ");
        let scenario = sc.with_overrides(&edits).map_err(|e| {
            let at = e
                .line_col
                .map(|(l, c)| format!(" (see line {l}, column {c})"))
                .unwrap_or_default();
            sc.source.error(
                &["sweep", "axis", "0", "path"],
                format!("sweep point {p} ({desc}) is invalid: {}{at}", e.message),
            )
        })?;
        out.push(Point {
            index: p as u64,
            axis_values,
            scenario,
        });
    }
    Ok(out)
}

/// How a set of points is run.
pub(crate) struct RunPlan<'a> {
    pub study: &'a Study,
    pub progress: Option<&'a ProgressBar>,
    /// Stop starting new points once this many have finished (tests of resume).
    pub stop_after: Option<u64>,
}

/// Runs every point (replications by sequential stopping), in parallel over points and
/// over (configuration, replication) within them; `on_done` receives each point as soon
/// as it is finished (in any order: it must not depend on it). Returns how many points
/// finished.
pub(crate) fn run_points(
    pool: &rayon::ThreadPool,
    points: &[&Point],
    plan: &RunPlan,
    on_done: &(dyn Fn(PointRecords) -> Result<()> + Sync),
) -> Result<u64> {
    let done = AtomicU64::new(0);
    let stop = AtomicBool::new(false);
    pool.install(|| {
        points.par_iter().try_for_each(|point| -> Result<()> {
            if stop.load(Ordering::SeqCst) {
                return Ok(());
            }
            on_done(run_point(point, plan)?)?;
            let n = done.fetch_add(1, Ordering::SeqCst) + 1;
            if plan.stop_after.is_some_and(|s| n >= s) {
                stop.store(true, Ordering::SeqCst);
            }
            Ok(())
        })
    })?;
    Ok(done.load(Ordering::SeqCst))
}

/// All replications of one point: `replications_min`, then more in batches until the
/// stopping metric's relative half-width reaches the target for every configuration or
/// `replications_max` is reached. Each batch size is a function of the results so far,
/// so the count does not depend on threads, batches or shards.
pub(crate) fn run_point(point: &Point, plan: &RunPlan) -> Result<PointRecords> {
    let sc = &point.scenario;
    let study = plan.study;
    let configs = sc.configs();
    let mut runs: Vec<Vec<RunRecord>> = vec![vec![]; configs.len()];
    let mut have = 0u64;
    let mut n = study.replications_min;
    loop {
        let batch = replicate(
            sc,
            &configs,
            point.index,
            have..n,
            plan.progress,
            RunRecord::from,
        )?;
        for (all, more) in runs.iter_mut().zip(batch) {
            all.extend(more);
        }
        have = n;
        let Some(target) = study.target_rel_half_width else {
            break;
        };
        if n >= study.replications_max {
            break;
        }
        let worst = runs
            .iter()
            .map(|config| {
                let samples: Vec<f64> = config.iter().map(|r| r.get(&study.metric)).collect();
                rel_half_width(&samples, study.confidence)
            })
            .fold(0.0, f64::max);
        if worst <= target {
            break;
        }
        // The half-width shrinks as 1/√n: aim for the n the current estimate asks for,
        // at least one more and at most double (the estimate is noisy at small n).
        let want = (n as f64 * (worst / target).powi(2)).ceil();
        let next = if want.is_finite() {
            (want as u64).clamp(n + 1, 2 * n)
        } else {
            2 * n
        };
        n = next.min(study.replications_max);
    }
    Ok(PointRecords {
        point: point.index,
        axis_values: point.axis_values.clone(),
        replications: have,
        configs: config_records(sc, &configs, runs),
    })
}
