//! Studies: many replications of every configuration, in parallel, deterministically.
//!
//! Work items are (configuration, replication) pairs run by rayon; results are collected
//! in item order, so the output is identical for any thread count.

pub mod stats;

use rayon::prelude::*;

use crate::diagnostics::{Error, Result};
use crate::metrics::RunMetrics;
use crate::scenario::{Config, Scenario};
use crate::sim::{RunOptions, run_config};

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
    if replications == 0 {
        return Err(Error::Usage("replications must be >= 1".into()));
    }
    let configs = sc.configs();
    let items: Vec<(usize, u64)> = (0..configs.len())
        .flat_map(|c| (0..replications).map(move |r| (c, r)))
        .collect();
    let work = || -> Vec<std::result::Result<RunMetrics, String>> {
        items
            .par_iter()
            .map(|&(c, r)| {
                run_config(
                    sc,
                    configs[c],
                    RunOptions {
                        point,
                        replication: r,
                        check_invariants: false,
                    },
                )
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
