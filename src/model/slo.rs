//! Service-level objectives and whether a replication met them.
//!
//! A scenario's `[slo]` table bounds the p99 slowdown, the p95 start latency and the
//! blocking probability; a bound left out is not checked. Density "at the SLO" is the
//! largest load for which every bound holds.

use serde::{Deserialize, Serialize};

/// What an objective is judged against: one replication's (or one class's) measures.
#[derive(Clone, Copy, Debug)]
pub struct Observed {
    pub slowdown_p99: f64,
    pub start_latency_p95_s: f64,
    pub blocking_probability: f64,
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Slo {
    /// Upper bound on the time-weighted p99 slowdown (≥ 1).
    pub p99_slowdown: Option<f64>,
    /// Upper bound on the p95 start latency, seconds.
    pub start_p95_s: Option<f64>,
    /// Upper bound on the blocking probability (0 ..= 1).
    pub blocking: Option<f64>,
}

impl Slo {
    /// Checks the bounds themselves; `Err(key, message)` names the offending key.
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        if let Some(x) = self.p99_slowdown
            && !(x.is_finite() && x >= 1.0)
        {
            return Err(("p99_slowdown", format!("p99_slowdown = {x} must be >= 1")));
        }
        if let Some(x) = self.start_p95_s
            && !(x.is_finite() && x > 0.0)
        {
            return Err((
                "start_p95_s",
                format!("start_p95_s = {x} must be > 0 seconds"),
            ));
        }
        if let Some(x) = self.blocking
            && !(0.0..=1.0).contains(&x)
        {
            return Err(("blocking", format!("blocking = {x} must be within [0, 1]")));
        }
        Ok(())
    }

    pub fn is_empty(&self) -> bool {
        self.p99_slowdown.is_none() && self.start_p95_s.is_none() && self.blocking.is_none()
    }

    /// The bounds a replication broke (empty = every objective met). An undefined metric
    /// (nothing started, nothing arrived) does not count as a violation.
    pub fn violations(&self, observed: &Observed) -> Vec<&'static str> {
        let mut v = vec![];
        let over = |x: f64, bound: Option<f64>| bound.is_some_and(|b| x.is_finite() && x > b);
        if over(observed.slowdown_p99, self.p99_slowdown) {
            v.push("p99_slowdown");
        }
        if over(observed.start_latency_p95_s, self.start_p95_s) {
            v.push("start_p95_s");
        }
        if over(observed.blocking_probability, self.blocking) {
            v.push("blocking");
        }
        v
    }

    pub fn met(&self, observed: &Observed) -> bool {
        self.violations(observed).is_empty()
    }
}
