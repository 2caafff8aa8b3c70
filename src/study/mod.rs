//! Studies: many replications of every configuration, in parallel, deterministically.
//!
//! Every simulation a study runs goes through `replicate`: (configuration,
//! replication) work items run by rayon and collected in item order, so the output is
//! identical for any thread count. `capsim run` is one call of it ([`run_scenario`]),
//! a sweep calls it per point in batches chosen by sequential stopping ([`sweep`]), a
//! search per count it tries ([`search`]). Results come back as
//! [`crate::results::records`]; writing them is [`store`]'s and the report's business.

pub mod search;
pub mod store;
pub mod sweep;

use std::ops::Range;

use indicatif::ProgressBar;
use rayon::prelude::*;

use crate::diagnostics::{Error, Result};
use crate::metrics::RunMetrics;
use crate::ordered_map::OrderedMap;
use crate::results::records::{ConfigRecords, PointRecords, RunRecord};
use crate::scenario::{Config, Scenario};
use crate::sim::{RunOptions, run_config};

/// Runs `replications` (a range of replication indices) of each of `configs` of `sc` at
/// sweep point `point`, in parallel on the current rayon pool, ticking `progress` once
/// per finished run. Returns, per configuration, `keep` of each run in replication
/// order; the first failure in that order is the error.
pub(crate) fn replicate<T: Send>(
    sc: &Scenario,
    configs: &[Config],
    point: u64,
    replications: Range<u64>,
    progress: Option<&ProgressBar>,
    keep: impl Fn(RunMetrics) -> T + Sync,
) -> Result<Vec<Vec<T>>> {
    let items: Vec<(usize, u64)> = (0..configs.len())
        .flat_map(|c| replications.clone().map(move |r| (c, r)))
        .collect();
    if let Some(bar) = progress {
        bar.inc_length(items.len() as u64);
    }
    let results: Vec<Result<T>> = items
        .par_iter()
        .map(|&(c, replication)| {
            let options = RunOptions {
                point,
                replication,
                check_invariants: false,
            };
            let run = run_config(sc, configs[c], options)
                .map(&keep)
                .map_err(|e| Error::Runtime(e.to_string()));
            if let Some(bar) = progress {
                bar.inc(1);
            }
            run
        })
        .collect();
    let mut out: Vec<Vec<T>> = configs.iter().map(|_| vec![]).collect();
    for (&(c, _), run) in items.iter().zip(results) {
        out[c].push(run?);
    }
    Ok(out)
}

/// The records of `runs[c]` for each configuration `configs[c]` of `sc`.
pub(crate) fn config_records(
    sc: &Scenario,
    configs: &[Config],
    runs: Vec<Vec<RunRecord>>,
) -> Vec<ConfigRecords> {
    configs
        .iter()
        .zip(runs)
        .map(|(c, runs)| ConfigRecords {
            placement: sc.placements[c.placement].name.clone(),
            host_type: sc.host_types[c.host_type].name.clone(),
            runs,
        })
        .collect()
}

/// Runs `replications` replications of every configuration of `sc` at sweep point
/// `point`. `threads = None` uses rayon's global pool (all cores).
pub fn run_scenario(
    sc: &Scenario,
    replications: u64,
    point: u64,
    threads: Option<usize>,
) -> Result<PointRecords> {
    run_scenario_with_progress(sc, replications, point, threads, None)
}

/// [`run_scenario`], ticking `progress` once per finished (configuration, replication).
pub fn run_scenario_with_progress(
    sc: &Scenario,
    replications: u64,
    point: u64,
    threads: Option<usize>,
    progress: Option<&ProgressBar>,
) -> Result<PointRecords> {
    if replications == 0 {
        return Err(Error::Usage("replications must be >= 1".into()));
    }
    tune_allocator();
    let configs = sc.configs();
    let work = || {
        replicate(
            sc,
            &configs,
            point,
            0..replications,
            progress,
            RunRecord::from,
        )
    };
    let runs = match threads {
        None => work()?,
        Some(n) => pool(Some(n))?.install(work)?,
    };
    Ok(PointRecords {
        point,
        axis_values: OrderedMap::new(),
        replications,
        configs: config_records(sc, &configs, runs),
    })
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
pub fn pool(threads: Option<usize>) -> Result<rayon::ThreadPool> {
    tune_allocator();
    let mut builder = rayon::ThreadPoolBuilder::new();
    if let Some(n) = threads {
        builder = builder.num_threads(n.max(1));
    }
    builder
        .build()
        .map_err(|e| Error::Runtime(format!("cannot start worker threads: {e}")))
}

#[cfg(test)]
pub(crate) mod tests {
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

    /// Two placements, an hour of Poisson arrivals: small enough for a debug build.
    pub(crate) const SMALL: &str = r#"
        seed = 7
        horizon_s = 3600
        [hosts.x86]
        profile = "x86-2s"
        count = 2
        [placements.bare-metal-containers]
        layers = ["container-runc"]
        [placements.vm]
        layers = ["vm-kvm"]
        [workloads.web]
        arrival_rate_per_s = 0.05
        lifetime_s = { dist = "exponential", mean = 900 }
        private_mib = 512
        image_mib = 300
        cpu_cores = 0.2
    "#;

    #[test]
    fn replications_do_not_depend_on_how_they_are_batched() {
        // Sequential stopping runs 0..2 and then 2..3; a plain run runs 0..3 at once.
        let sc = Scenario::from_toml("small.toml", "small", SMALL).unwrap();
        let configs = &sc.configs();
        let bits =
            |r: &RunRecord| -> Vec<u64> { r.metrics.iter().map(|(_, v)| v.to_bits()).collect() };
        let once = replicate(&sc, configs, 0, 0..3, None, |m| bits(&m.into())).unwrap();
        let mut batched = replicate(&sc, configs, 0, 0..2, None, |m| bits(&m.into())).unwrap();
        for (c, more) in replicate(&sc, configs, 0, 2..3, None, |m| bits(&m.into()))
            .unwrap()
            .into_iter()
            .enumerate()
        {
            batched[c].extend(more);
        }
        assert_eq!(once, batched);
        assert_ne!(once[0][0], once[0][1], "replications must differ");
    }
}
