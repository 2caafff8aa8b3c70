//! CPU contention on one host: weighted processor sharing (max-min fair by weight) of the
//! host's throughput among runnable demands, after layer factors.
//!
//! Background work (idle kernels, shims, ksmd) is served first: it is small and runs in
//! kernel threads that preempt user work. The rest is water-filled: every workload gets
//! `avail × w_i / Σw` unless it needs less, and what it leaves is shared again.

use crate::model::placement::MAX_LAYERS;

/// Where a host's delivered CPU goes, for the CPU breakdown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CpuPart {
    /// The workloads' own demand, in reference cores.
    Useful,
    /// The host's base hypervisor (PR/SM on a mainframe).
    Hypervisor,
    /// The KSM daemon.
    Ksmd,
    /// Cycles stolen from guests by vCPU overcommit.
    Steal,
    /// Overhead of the layer at this stack position (its factor and its background).
    Layer(usize),
}

impl CpuPart {
    pub const COUNT: usize = 4 + MAX_LAYERS;

    pub fn index(self) -> usize {
        match self {
            CpuPart::Useful => 0,
            CpuPart::Hypervisor => 1,
            CpuPart::Ksmd => 2,
            CpuPart::Steal => 3,
            CpuPart::Layer(k) => 4 + k,
        }
    }

    /// The part at `index` (the inverse of [`CpuPart::index`]).
    pub fn from_index(index: usize) -> CpuPart {
        match index {
            0 => CpuPart::Useful,
            1 => CpuPart::Hypervisor,
            2 => CpuPart::Ksmd,
            3 => CpuPart::Steal,
            k => CpuPart::Layer(k - 4),
        }
    }
}

/// CPU per [`CpuPart`], indexed by [`CpuPart::index`].
pub type CpuBreakdown = [f64; CpuPart::COUNT];

/// Slowdown reported for a workload that gets no CPU at all.
pub const MAX_SLOWDOWN: f64 = 1e4;

/// CPU slowdown of a workload whose stack multiplies its work by `factor`, which wants
/// `want` cores (demand × factor, before any limit) and is allocated `allocated`: the
/// factor alone when it gets what it wants, stretched by want / allocated when it does
/// not (a limit, a too-small dedicated reservation or a contended host throttles it).
pub fn contended_slowdown(factor: f64, want: f64, allocated: f64) -> f64 {
    if want <= 0.0 || allocated >= want {
        factor
    } else if allocated > 0.0 {
        factor * want / allocated
    } else {
        MAX_SLOWDOWN
    }
}

/// A request's service-time slowdown: its I/O-bound share (`io_fraction`) runs at the
/// stack's I/O factor (virtio random IOPS about half of native), the rest at the CPU
/// slowdown; paging and neighbour interference stretch both.
pub fn service_slowdown(
    cpu_slowdown: f64,
    io_fraction: f64,
    io_factor: f64,
    paging: f64,
    interference: f64,
) -> f64 {
    let s = (1.0 - io_fraction) * cpu_slowdown + io_fraction * io_factor;
    (s * paging * interference).min(MAX_SLOWDOWN)
}

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
