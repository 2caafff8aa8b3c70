//! CPU contention on one host: weighted processor sharing (max-min fair by weight) of the
//! host's throughput among runnable demands, after layer factors.
//!
//! Background work (idle kernels, shims, ksmd) is served first: it is small and runs in
//! kernel threads that preempt user work. The rest is water-filled: every workload gets
//! `avail × w_i / Σw` unless it needs less, and what it leaves is shared again.

/// Splits `avail` cores among `demands` by `weights` (max-min fair). Writes allocations to
/// `out`; `order` is caller-owned scratch so the hot path does not allocate.
pub fn water_fill(
    avail: f64,
    demands: &[f64],
    weights: &[f64],
    out: &mut [f64],
    order: &mut Vec<u32>,
) {
    debug_assert_eq!(demands.len(), weights.len());
    debug_assert_eq!(demands.len(), out.len());
    let total: f64 = demands.iter().sum();
    if total <= avail {
        out.copy_from_slice(demands);
        return;
    }
    order.clear();
    order.extend(0..demands.len() as u32);
    // Ascending demand per unit of weight: the smallest are satisfied first.
    order.sort_unstable_by(|&a, &b| {
        let (a, b) = (a as usize, b as usize);
        (demands[a] / weights[a])
            .total_cmp(&(demands[b] / weights[b]))
            .then(a.cmp(&b))
    });
    let mut left = avail.max(0.0);
    let mut w_left: f64 = weights.iter().sum();
    for (k, &i) in order.iter().enumerate() {
        let i = i as usize;
        let fair = left * weights[i] / w_left;
        if demands[i] <= fair {
            out[i] = demands[i];
            left -= demands[i];
            w_left -= weights[i];
        } else {
            // Everyone from here on is limited by the fair share of what is left.
            let per_weight = left / w_left;
            for &j in &order[k..] {
                let j = j as usize;
                out[j] = per_weight * weights[j];
            }
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uncontended_gets_demand() {
        let mut out = [0.0; 3];
        water_fill(10.0, &[1.0, 2.0, 3.0], &[1.0; 3], &mut out, &mut vec![]);
        assert_eq!(out, [1.0, 2.0, 3.0]);
    }

    #[test]
    fn max_min_fair_by_weight() {
        let mut out = [0.0; 3];
        // 6 cores: the small demand (1) is met; 5 left split 2:1 by weight between the others.
        water_fill(
            6.0,
            &[1.0, 10.0, 10.0],
            &[1.0, 2.0, 1.0],
            &mut out,
            &mut vec![],
        );
        assert!((out[0] - 1.0).abs() < 1e-12);
        assert!((out[1] - 10.0 / 3.0).abs() < 1e-12);
        assert!((out[2] - 5.0 / 3.0).abs() < 1e-12);
        // Conservation: a contended host hands out exactly its capacity.
        assert!((out.iter().sum::<f64>() - 6.0).abs() < 1e-12);
    }
}
