//! One replication of one configuration (a placement on a fleet of one host type): build
//! the world from the scenario, run the engine to the horizon, and collect [`RunMetrics`].
//!
//! The world is a set of flat vectors (hosts, VMs, workloads) indexed by `u32`, with free
//! lists so slots are reused; events are a small `Copy` enum. Nothing is allocated per
//! event once the vectors have grown to the run's high-water mark.
//!
//! Common random numbers: every workload class draws its arrivals, lifetimes and demands
//! from its own stream, derived from (scenario seed, sweep point, replication, class), in a
//! fixed order whatever happens to the instance. So every placement sees the same workload
//! stream and differences between placements are not noise. Start times depend on the
//! placement's layers and use a stream of their own.

mod admission;
mod checks;
mod cpu;
mod finish;
mod ksm;
mod lifecycle;
mod memory;
mod seeds;
mod state;

use crate::engine::SimTime;
use crate::metrics::RunMetrics;
use crate::model::workload::Arrivals;
use crate::scenario::{Config, Scenario};

use lifecycle::exp_sample;
pub use seeds::stream_seed;
use state::World;

/// Which replication to run, and whether to check invariants at every event (tests).
#[derive(Clone, Copy, Debug, Default)]
pub struct RunOptions {
    pub point: u64,
    pub replication: u64,
    pub check_invariants: bool,
}

#[derive(Clone, Copy, Debug)]
enum Ev {
    Arrival {
        class: u32,
    },
    Started {
        inst: u32,
        generation: u32,
    },
    Departure {
        inst: u32,
        generation: u32,
    },
    /// ksmd on `host` reaches its next state change (segment boundary, pass end).
    Ksm {
        host: u32,
        generation: u32,
    },
    /// Timeline sample of every host's KSM counters.
    Sample,
    /// A workload's demand switches between its ON and OFF phase.
    Phase {
        inst: u32,
        generation: u32,
    },
    /// A rollout begins its first wave.
    RolloutStart {
        rollout: u32,
    },
    /// A workload restarted by a rollout is back.
    Restarted {
        inst: u32,
        generation: u32,
        rollout: u32,
    },
}

/// The simulator's own accounting contradicted itself (checked mode only): a bug in
/// capsim, never bad input.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("at t = {at_s:.6} s: {what}")]
pub struct InvariantViolation {
    /// Simulated time of the event after which the check failed.
    pub at_s: f64,
    pub what: String,
}

/// Runs one replication of one configuration. In checked mode an invariant violation
/// (memory parts that do not add up, CPU handed out beyond capacity, a host over its
/// limits) stops the run and is returned as `Err`.
pub fn run_config(
    sc: &Scenario,
    cfg: Config,
    opts: RunOptions,
) -> Result<RunMetrics, InvariantViolation> {
    let mut w = World::new(sc, cfg, opts);
    w.run()?;
    Ok(w.finish())
}

impl World<'_> {
    pub(super) fn run(&mut self) -> Result<(), InvariantViolation> {
        let host_type = self
            .sc
            .host_types
            .iter()
            .position(|h| std::ptr::eq(h, self.ht));
        for (c, class) in self.sc.workloads.iter().enumerate() {
            if !host_type.is_some_and(|h| class.host_types.contains(&h)) {
                continue;
            }
            match class.arrivals {
                Arrivals::Static { count } => {
                    for _ in 0..count {
                        self.q
                            .schedule_at(SimTime::ZERO, Ev::Arrival { class: c as u32 });
                    }
                }
                Arrivals::Poisson { rate_per_s } => {
                    let gap = exp_sample(rate_per_s, &mut self.class_rng[c]);
                    self.q
                        .schedule_at(SimTime::from_secs_f64(gap), Ev::Arrival { class: c as u32 });
                }
            }
        }
        if self.ht.ksm.enabled {
            self.q.schedule_at(SimTime::ZERO, Ev::Sample);
        }
        for (r, ro) in self.sc.rollouts.iter().enumerate() {
            self.q
                .schedule_at(ro.start, Ev::RolloutStart { rollout: r as u32 });
        }
        let horizon = self.sc.horizon;
        while let Some((now, ev)) = self.q.pop_until(horizon) {
            self.events += 1;
            self.integrate(now);
            match ev {
                Ev::Arrival { class } => self.on_arrival(class as usize),
                Ev::Started { inst, generation } => {
                    if self.is_current(inst, generation) {
                        self.on_started(inst);
                    }
                }
                Ev::Departure { inst, generation } => {
                    if self.is_current(inst, generation) {
                        self.on_departure(inst);
                    }
                }
                Ev::Ksm { host, generation } => {
                    if self.ksm_generations.is_current(host as usize, generation) {
                        self.on_ksm(host as usize);
                    }
                }
                Ev::Sample => self.on_sample(),
                Ev::Phase { inst, generation } => {
                    if self.is_current(inst, generation) {
                        self.on_phase(inst);
                    }
                }
                Ev::RolloutStart { rollout } => self.on_rollout_start(rollout as usize),
                Ev::Restarted {
                    inst,
                    generation,
                    rollout,
                } => self.on_restarted(inst, generation, rollout as usize),
            }
            if self.check {
                self.check_invariants();
            }
            if let Some(what) = self.violation.take() {
                return Err(InvariantViolation {
                    at_s: now.as_secs_f64(),
                    what,
                });
            }
        }
        self.q.advance_to(horizon);
        self.integrate(horizon);
        for h in 0..self.hosts.len() {
            self.flush_slowdown(h, horizon);
        }
        Ok(())
    }
}
