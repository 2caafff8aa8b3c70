//! Noisy neighbours: each workload class puts *pressure* on shared resources (CPU caches,
//! memory bandwidth, I/O, network) and is *sensitive* to its neighbours' pressure.
//!
//! slowdown from neighbours = 1 + Σ_r sensitivity_r · f(Σ_neighbours pressure_r · a),
//! capped per class (default 1.4×, assumed). `a` is the attenuation of the isolation
//! boundary between the two workloads: 1 for containers on the same kernel, the unit
//! layers' `attenuation` for neighbours in other VMs (calibration.md: same-kernel
//! containers pass ×1.2 the pressure of separate VMs → 1/1.2). f(x) = 1 − e^(−x) saturates:
//! one heavy neighbour hurts almost as much as several (a shared cache can only be thrashed
//! once; assumed shape after Tang et al., ISCA 2011: 25–40% worst case).
//!
//! Recomputed per host only when that host's residents or their demand phase change:
//! O(residents of the host) per event.

use std::fmt;

use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};

/// The shared resources neighbours contend for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resource {
    Cpu,
    /// Last-level cache.
    Llc,
    /// Memory bandwidth.
    Membw,
    Io,
    Net,
}

impl Resource {
    pub const COUNT: usize = 5;
    pub const ALL: [Resource; Resource::COUNT] = [
        Resource::Cpu,
        Resource::Llc,
        Resource::Membw,
        Resource::Io,
        Resource::Net,
    ];
    /// The names scenarios use, in [`Resource::ALL`] order.
    pub const NAMES: [&'static str; Resource::COUNT] = ["cpu", "llc", "membw", "io", "net"];

    pub fn name(self) -> &'static str {
        Resource::NAMES[self as usize]
    }
}

/// Pressure (or any amount) per resource, indexed by `Resource as usize`.
pub type PerResource = [f64; Resource::COUNT];

/// A value per shared resource. TOML: `{ llc = 0.3, membw = 0.2 }` (missing = 0).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct ResourceVec(pub PerResource);

impl ResourceVec {
    pub fn get(&self, r: Resource) -> f64 {
        self.0[r as usize]
    }

    pub fn is_zero(&self) -> bool {
        self.0.iter().all(|&x| x == 0.0)
    }

    /// The first component outside `lo ..= hi`, as (resource, value).
    pub fn out_of(&self, lo: f64, hi: f64) -> Option<(&'static str, f64)> {
        Resource::NAMES
            .iter()
            .zip(self.0)
            .find(|(_, v)| !(v.is_finite() && (lo..=hi).contains(v)))
            .map(|(r, v)| (*r, v))
    }
}

impl<'de> Deserialize<'de> for ResourceVec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<ResourceVec, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ResourceVec;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a table of cpu, llc, membw, io, net values")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<ResourceVec, A::Error> {
                let mut v = [0.0; Resource::COUNT];
                while let Some(k) = m.next_key::<String>()? {
                    let Some(i) = Resource::NAMES.iter().position(|r| *r == k) else {
                        return Err(de::Error::custom(crate::diagnostics::unknown_name(
                            "resource",
                            &k,
                            Resource::NAMES,
                        )));
                    };
                    v[i] = m.next_value::<f64>()?;
                }
                Ok(ResourceVec(v))
            }
        }
        d.deserialize_map(V)
    }
}

/// The saturating response to accumulated neighbour pressure.
pub fn response(x: f64) -> f64 {
    1.0 - (-x.max(0.0)).exp()
}

/// Slowdown factor of a workload with `sensitivity` under `pressure` from neighbours
/// (already attenuated), capped at `cap`.
pub fn slowdown(sensitivity: &ResourceVec, pressure: &PerResource, cap: f64) -> f64 {
    // Resources the class is insensitive to cost nothing (no exp).
    let s: f64 = sensitivity
        .0
        .iter()
        .zip(pressure)
        .filter(|(s, _)| **s != 0.0)
        .map(|(s, p)| s * response(*p))
        .sum();
    (1.0 + s).min(cap)
}

/// The pressure one resident feels on every resource from its neighbours.
///
/// `own` is what the resident itself exerts (never felt by itself), `unit_total` the sum
/// over the residents of its VM (`None` when it runs on the host kernel), `host_total`
/// the sum over every resident of the host, and `outside` what arrives from beyond the
/// host's own boundary (other LPARs on a shared processor pool). Neighbours on the same
/// kernel pass their pressure in full; neighbours in other VMs pass it through the
/// boundary's `attenuation` (the product of the unit layers').
pub fn felt(
    own: &PerResource,
    unit_total: Option<&PerResource>,
    host_total: &PerResource,
    attenuation: f64,
    outside: &PerResource,
) -> PerResource {
    let mut x = *outside;
    for r in 0..Resource::COUNT {
        x[r] += match unit_total {
            None => host_total[r] - own[r],
            Some(same) => (same[r] - own[r]) + attenuation * (host_total[r] - same[r]),
        };
    }
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_pressure_or_sensitivity_is_no_slowdown() {
        let s = ResourceVec([0.0, 0.5, 0.5, 0.0, 0.0]);
        assert_eq!(slowdown(&s, &[0.0; Resource::COUNT], 1.4), 1.0);
        assert_eq!(
            slowdown(&ResourceVec::default(), &[3.0; Resource::COUNT], 1.4),
            1.0
        );
    }

    #[test]
    fn saturates_and_caps() {
        let s = ResourceVec([0.0, 0.3, 0.0, 0.0, 0.0]);
        // One unit of LLC pressure: 1 + 0.3 (1 − e⁻¹).
        let one = slowdown(&s, &[0.0, 1.0, 0.0, 0.0, 0.0], 2.0);
        assert!((one - (1.0 + 0.3 * (1.0 - (-1.0f64).exp()))).abs() < 1e-12);
        // Monotone, bounded by 1 + Σ sensitivity, and by the cap.
        let many = slowdown(&s, &[0.0, 10.0, 0.0, 0.0, 0.0], 2.0);
        assert!(many > one && many < 1.3);
        assert_eq!(slowdown(&s, &[0.0, 10.0, 0.0, 0.0, 0.0], 1.1), 1.1);
    }

    #[test]
    fn parses_and_rejects_unknown_resources() {
        #[derive(Deserialize)]
        struct W {
            p: ResourceVec,
        }
        let w: W = toml::from_str("p = { llc = 0.5, net = 0.1 }").unwrap();
        assert_eq!(w.p.0, [0.0, 0.5, 0.0, 0.0, 0.1]);
        let e = toml::from_str::<W>("p = { lcc = 0.5 }").err().unwrap();
        assert!(e.to_string().contains("did you mean `llc`"), "{e}");
        assert_eq!(
            ResourceVec([0.0, 1.5, 0.0, 0.0, 0.0]).out_of(0.0, 1.0),
            Some(("llc", 1.5))
        );
    }
}
