//! Confidence intervals: Student-t on the replication means, and paired differences
//! between configurations that shared their random numbers.

use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, StudentsT};

/// One metric over the replications: mean and confidence half-width, `None` (null in
/// JSON) where undefined — no finite value, or fewer than two for the half-width.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq)]
pub struct Estimate {
    pub mean: Option<f64>,
    pub half_width: Option<f64>,
}

impl Estimate {
    /// The `level` confidence interval of `samples` (see [`mean_ci`]).
    pub fn of(samples: &[f64], level: f64) -> Estimate {
        let (mean, half_width) = mean_ci(samples, level);
        Estimate {
            mean: finite(mean),
            half_width: finite(half_width),
        }
    }
}

/// `Some(x)` for a finite `x`: JSON has no NaN or infinity.
pub(crate) fn finite(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}

/// Mean and half-width of the `level` confidence interval of `xs` (half-width NaN with
/// fewer than two finite values). Non-finite values (an undefined metric in one
/// replication) are left out.
pub fn mean_ci(xs: &[f64], level: f64) -> (f64, f64) {
    let v: Vec<f64> = xs.iter().copied().filter(|x| x.is_finite()).collect();
    let n = v.len();
    if n == 0 {
        return (f64::NAN, f64::NAN);
    }
    let mean = v.iter().sum::<f64>() / n as f64;
    if n < 2 {
        return (mean, f64::NAN);
    }
    let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    let t = StudentsT::new(0.0, 1.0, (n - 1) as f64)
        .map(|d| d.inverse_cdf(0.5 + level / 2.0))
        .unwrap_or(f64::NAN);
    (mean, t * (var / n as f64).sqrt())
}

/// Half-width over |mean| (the sequential stopping criterion): 0 when the metric is
/// undefined in every replication or constant, infinite when it cannot be judged yet
/// (fewer than two values, or a zero mean with spread).
pub fn rel_half_width(xs: &[f64], level: f64) -> f64 {
    let (m, h) = mean_ci(xs, level);
    if m.is_nan() || h == 0.0 {
        return 0.0;
    }
    if h.is_nan() || m == 0.0 {
        return f64::INFINITY;
    }
    h / m.abs()
}

/// Mean and half-width of the paired differences `a[r] − b[r]` (replications where both
/// are defined): with common random numbers the pairs share their workload stream, so
/// this interval is far narrower than the difference of two independent intervals.
pub fn paired_ci(a: &[f64], b: &[f64], level: f64) -> (f64, f64, usize) {
    let d: Vec<f64> = a
        .iter()
        .zip(b)
        .filter(|(x, y)| x.is_finite() && y.is_finite())
        .map(|(x, y)| x - y)
        .collect();
    let (m, h) = mean_ci(&d, level);
    (m, h, d.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn t_interval_matches_table() {
        // n = 5, sd = 1.5811 (values 1..5): t(0.975, 4) = 2.776 → h = 2.776 × 1.5811/√5.
        let (m, h) = mean_ci(&[1.0, 2.0, 3.0, 4.0, 5.0], 0.95);
        assert_eq!(m, 3.0);
        assert!(
            (h - 2.776_445 * 1.581_139 / 5f64.sqrt()).abs() < 1e-4,
            "{h}"
        );
        let (m, h) = mean_ci(&[2.0], 0.95);
        assert_eq!(m, 2.0);
        assert!(h.is_nan());
        let (m, _) = mean_ci(&[1.0, f64::NAN, 3.0], 0.95);
        assert_eq!(m, 2.0);
    }
}
