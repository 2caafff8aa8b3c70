//! Studies: many replications of every configuration, in parallel, deterministically.
//!
//! Work items are (point, configuration, replication) triples run by rayon; results are
//! collected in item order, so the output is identical for any thread count. Sequential
//! stopping decides how many replications a point gets from that point's own results
//! only, so it too is independent of threads, batches and shards.

pub mod search;
pub mod stats;
pub mod store;
pub mod sweep;
pub mod table;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use indicatif::ProgressBar;
use rayon::prelude::*;

use crate::diagnostics::{Error, Result};
use crate::metrics::{QuantileSketch, RunMetrics};
use crate::scenario::{Config, Scenario, Study};
use crate::sim::{RunOptions, run_config};
use sweep::Point;

/// All replications of one configuration.
#[derive(Clone, Debug)]
pub struct ConfigRuns {
    pub config: Config,
    pub placement: String,
    pub host_type: String,
    pub runs: Vec<RunMetrics>,
}

/// Everything one `capsim run` computed.
#[derive(Clone, Debug)]
pub struct ScenarioRuns {
    pub point: u64,
    pub replications: u64,
    pub configs: Vec<ConfigRuns>,
}

/// Runs `replications` replications of every configuration of `sc` at sweep point `point`.
/// `threads = None` uses rayon's global pool (all cores).
pub fn run_scenario(
    sc: &Scenario,
    replications: u64,
    point: u64,
    threads: Option<usize>,
) -> Result<ScenarioRuns> {
    run_scenario_with_progress(sc, replications, point, threads, None)
}

/// [`run_scenario`], ticking `progress` once per finished (configuration, replication).
pub fn run_scenario_with_progress(
    sc: &Scenario,
    replications: u64,
    point: u64,
    threads: Option<usize>,
    progress: Option<&ProgressBar>,
) -> Result<ScenarioRuns> {
    if replications == 0 {
        return Err(Error::Usage("replications must be >= 1".into()));
    }
    tune_allocator();
    let configs = sc.configs();
    let items: Vec<(usize, u64)> = (0..configs.len())
        .flat_map(|c| (0..replications).map(move |r| (c, r)))
        .collect();
    if let Some(pb) = progress {
        pb.set_length(items.len() as u64);
    }
    let work = || -> Vec<std::result::Result<RunMetrics, String>> {
        items
            .par_iter()
            .map(|&(c, r)| {
                let m = run_config(
                    sc,
                    configs[c],
                    RunOptions {
                        point,
                        replication: r,
                        check_invariants: false,
                    },
                );
                if let Some(pb) = progress {
                    pb.inc(1);
                }
                m
            })
            .collect()
    };
    let results = match threads {
        None => work(),
        Some(n) => rayon::ThreadPoolBuilder::new()
            .num_threads(n.max(1))
            .build()
            .map_err(|e| Error::Runtime(format!("cannot start {n} threads: {e}")))?
            .install(work),
    };
    let mut out: Vec<ConfigRuns> = configs
        .iter()
        .map(|&config| ConfigRuns {
            config,
            placement: sc.placements[config.placement].name.clone(),
            host_type: sc.host_types[config.host_type].name.clone(),
            runs: Vec::with_capacity(replications as usize),
        })
        .collect();
    for ((c, _), r) in items.iter().zip(results) {
        out[*c].runs.push(r.map_err(Error::Runtime)?);
    }
    Ok(ScenarioRuns {
        point,
        replications,
        configs: out,
    })
}

impl ScenarioRuns {
    /// The runs in the form reports and saved sweep results share.
    pub fn records(&self) -> PointRuns {
        PointRuns {
            point: self.point,
            replications: self.replications,
            configs: self
                .configs
                .iter()
                .map(|c| ConfigRecords {
                    placement: c.placement.clone(),
                    host_type: c.host_type.clone(),
                    runs: c.runs.iter().map(RunRecord::from).collect(),
                })
                .collect(),
        }
    }
}

/// One replication as reports use it: every metric by name (`RunMetrics::flat`) and the
/// sketches behind the merged distributions.
#[derive(Clone, Debug)]
pub struct RunRecord {
    pub flat: Vec<(String, f64)>,
    pub start_latency: QuantileSketch,
    pub slowdown: QuantileSketch,
}

impl From<&RunMetrics> for RunRecord {
    fn from(m: &RunMetrics) -> RunRecord {
        RunRecord {
            flat: m.flat(),
            start_latency: m.start_latency_sketch.clone(),
            slowdown: m.slowdown_sketch.clone(),
        }
    }
}

impl RunRecord {
    pub fn get(&self, metric: &str) -> f64 {
        self.flat
            .iter()
            .find(|(k, _)| k == metric)
            .map_or(f64::NAN, |(_, v)| *v)
    }
}

/// All replications of one configuration at one point.
#[derive(Clone, Debug)]
pub struct ConfigRecords {
    pub placement: String,
    pub host_type: String,
    pub runs: Vec<RunRecord>,
}

/// Every configuration of one sweep point; all share the replication count, so
/// replication r of every placement saw the same workload stream (paired differences).
#[derive(Clone, Debug)]
pub struct PointRuns {
    pub point: u64,
    pub replications: u64,
    pub configs: Vec<ConfigRecords>,
}

/// Keeps glibc malloc from handing memory back to the kernel after every replication.
///
/// Each replication grows and frees vectors of a few MiB; by default glibc trims its
/// heaps and unmaps large blocks on free, and in a multi-threaded process every such
/// unmap needs a TLB shoot-down on the other cores. On a virtual machine those IPIs are
/// so slow that two threads ran no faster than one (measured: 7.5 s with 1 and with 2
/// threads; 3.7 s with 2 threads after this). Fixing the thresholds keeps freed memory
/// in the process for the next replication. Process-wide and idempotent; no effect on
/// results.
pub fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        static ONCE: std::sync::Once = std::sync::Once::new();
        ONCE.call_once(|| {
            // SAFETY: mallopt only changes allocator tuning parameters; it is called
            // once, before the worker threads of this study allocate.
            unsafe {
                libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
                libc::mallopt(libc::M_TRIM_THRESHOLD, 512 << 20);
            }
        });
    }
}

/// Builds the rayon pool for `threads` (None: all cores).
pub(crate) fn pool(threads: Option<usize>) -> Result<rayon::ThreadPool> {
    tune_allocator();
    let mut b = rayon::ThreadPoolBuilder::new();
    if let Some(n) = threads {
        b = b.num_threads(n.max(1));
    }
    b.build()
        .map_err(|e| Error::Runtime(format!("cannot start worker threads: {e}")))
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
    on_done: &(dyn Fn(&Point, PointRuns) -> Result<()> + Sync),
) -> Result<u64> {
    let done = AtomicU64::new(0);
    let stop = AtomicBool::new(false);
    pool.install(|| {
        points.par_iter().try_for_each(|pt| -> Result<()> {
            if stop.load(Ordering::SeqCst) {
                return Ok(());
            }
            let runs = run_point(pt, plan)?;
            on_done(pt, runs)?;
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
/// `replications_max` is reached. Each batch size is a function of the results so far.
pub(crate) fn run_point(pt: &Point, plan: &RunPlan) -> Result<PointRuns> {
    let sc = &pt.scenario;
    let study = plan.study;
    let configs = sc.configs();
    let mut runs: Vec<Vec<RunRecord>> = vec![vec![]; configs.len()];
    let mut have = 0u64;
    let mut n = study.replications_min;
    if let Some(pb) = plan.progress {
        pb.inc_length(n * configs.len() as u64);
    }
    loop {
        let items: Vec<(usize, u64)> = (0..configs.len())
            .flat_map(|c| (have..n).map(move |r| (c, r)))
            .collect();
        let results: Vec<std::result::Result<RunMetrics, String>> = items
            .par_iter()
            .map(|&(c, r)| {
                let m = run_config(
                    sc,
                    configs[c],
                    RunOptions {
                        point: pt.index,
                        replication: r,
                        check_invariants: false,
                    },
                );
                if let Some(pb) = plan.progress {
                    pb.inc(1);
                }
                m
            })
            .collect();
        for (&(c, _), m) in items.iter().zip(results) {
            let m = m.map_err(Error::Runtime)?;
            runs[c].push(RunRecord::from(&m));
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
            .map(|rs| {
                let xs: Vec<f64> = rs.iter().map(|r| r.get(&study.metric)).collect();
                stats::rel_half_width(&xs, study.confidence)
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
        let next = next.min(study.replications_max);
        if let Some(pb) = plan.progress {
            pb.inc_length((next - n) * configs.len() as u64);
        }
        n = next;
    }
    Ok(PointRuns {
        point: pt.index,
        replications: have,
        configs: configs
            .iter()
            .zip(runs)
            .map(|(c, runs)| ConfigRecords {
                placement: sc.placements[c.placement].name.clone(),
                host_type: sc.host_types[c.host_type].name.clone(),
                runs,
            })
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_stopping_metric_is_a_run_metric() {
        let sc = Scenario::default_scenario();
        let m = run_config(&sc, sc.configs()[0], RunOptions::default()).unwrap();
        let names: Vec<String> = m.flat().into_iter().map(|(k, _)| k).collect();
        for s in crate::scenario::study::STOP_METRICS {
            assert!(
                names.iter().any(|n| n == s),
                "{s} is not in RunMetrics::flat()"
            );
        }
    }
}
