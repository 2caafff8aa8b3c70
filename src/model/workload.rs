//! Workload classes: how instances arrive and leave, what they demand, what they hold in
//! memory, and the distributions those numbers are drawn from.

use std::fmt;

use rand::RngExt;
use rand_distr::{Distribution, Exp, LogNormal, StandardUniform};
use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};

use crate::model::interference::ResourceVec;
use crate::model::slo::Slo;

/// A non-negative random quantity. In TOML: a plain number (constant) or
/// `{ dist = "exponential", mean = 3600 }`, `{ dist = "lognormal", mean = 0.3, cv = 0.5 }`,
/// `{ dist = "uniform", min = 0.1, max = 0.5 }`, `{ dist = "constant", value = 1 }`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(tag = "dist", rename_all = "lowercase")]
pub enum Dist {
    Constant {
        value: f64,
    },
    Exponential {
        mean: f64,
    },
    /// Parameterised by its mean and coefficient of variation (what planners know).
    Lognormal {
        mean: f64,
        cv: f64,
    },
    Uniform {
        min: f64,
        max: f64,
    },
}

impl Dist {
    pub fn mean(&self) -> f64 {
        match *self {
            Dist::Constant { value } => value,
            Dist::Exponential { mean } | Dist::Lognormal { mean, .. } => mean,
            Dist::Uniform { min, max } => 0.5 * (min + max),
        }
    }

    /// Checks the parameters; the message says what is wrong.
    pub fn validate(&self) -> Result<(), String> {
        let ok = |x: f64| x.is_finite() && x >= 0.0;
        match *self {
            Dist::Constant { value } if !ok(value) => Err(format!("value = {value} must be >= 0")),
            Dist::Exponential { mean } if !(ok(mean) && mean > 0.0) => {
                Err(format!("mean = {mean} must be > 0"))
            }
            Dist::Lognormal { mean, cv } if !(ok(mean) && mean > 0.0 && ok(cv)) => Err(format!(
                "mean = {mean} must be > 0 and cv = {cv} must be >= 0"
            )),
            Dist::Uniform { min, max } if !(ok(min) && ok(max) && min <= max) => Err(format!(
                "need 0 <= min <= max, got min = {min}, max = {max}"
            )),
            _ => Ok(()),
        }
    }

    /// One draw. Every variant consumes RNG output the same way for the same parameters,
    /// so streams stay aligned across placements (common random numbers).
    pub fn sample<R: RngExt + ?Sized>(&self, rng: &mut R) -> f64 {
        match *self {
            Dist::Constant { value } => value,
            Dist::Exponential { mean } => Exp::new(1.0 / mean).map_or(mean, |d| d.sample(rng)),
            Dist::Lognormal { mean, cv } => {
                if cv == 0.0 {
                    return mean;
                }
                // mean = exp(mu + s²/2), cv² = exp(s²) − 1
                let s2 = (1.0 + cv * cv).ln();
                let mu = mean.ln() - 0.5 * s2;
                LogNormal::new(mu, s2.sqrt()).map_or(mean, |d| d.sample(rng))
            }
            Dist::Uniform { min, max } => {
                let u: f64 = rng.sample(StandardUniform);
                min + (max - min) * u
            }
        }
    }
}

impl fmt::Display for Dist {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Dist::Constant { value } => write!(f, "{value}"),
            Dist::Exponential { mean } => write!(f, "exponential(mean {mean})"),
            Dist::Lognormal { mean, cv } => write!(f, "lognormal(mean {mean}, cv {cv})"),
            Dist::Uniform { min, max } => write!(f, "uniform({min}, {max})"),
        }
    }
}

impl<'de> Deserialize<'de> for Dist {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Dist, D::Error> {
        struct V;
        const KEYS: &[&str] = &["dist", "value", "mean", "cv", "min", "max"];
        const DISTS: &[&str] = &["constant", "exponential", "lognormal", "uniform"];
        impl<'de> Visitor<'de> for V {
            type Value = Dist;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a number or a table such as { dist = \"exponential\", mean = 3600 }")
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Dist, E> {
                Ok(Dist::Constant { value: v })
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Dist, E> {
                Ok(Dist::Constant { value: v as f64 })
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Dist, E> {
                Ok(Dist::Constant { value: v as f64 })
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Dist, A::Error> {
                let mut kind: Option<String> = None;
                let mut vals: [Option<f64>; 5] = [None; 5];
                while let Some(k) = m.next_key::<String>()? {
                    match KEYS.iter().position(|x| *x == k) {
                        Some(0) => kind = Some(m.next_value()?),
                        Some(i) => vals[i - 1] = Some(m.next_value::<f64>()?),
                        None => {
                            return Err(de::Error::custom(crate::diagnostics::unknown_name(
                                "key",
                                &k,
                                KEYS.iter().copied(),
                            )));
                        }
                    }
                }
                let [value, mean, cv, min, max] = vals;
                let need = |x: Option<f64>, name: &str, dist: &str| {
                    x.ok_or_else(|| de::Error::custom(format!("`{dist}` needs `{name}`")))
                };
                let kind = kind.ok_or_else(|| {
                    de::Error::custom("missing `dist` (constant, exponential, lognormal, uniform)")
                })?;
                let used: &[&str] = match kind.as_str() {
                    "constant" => &["value"],
                    "exponential" => &["mean"],
                    "lognormal" => &["mean", "cv"],
                    "uniform" => &["min", "max"],
                    other => {
                        return Err(de::Error::custom(crate::diagnostics::unknown_name(
                            "distribution",
                            other,
                            DISTS.iter().copied(),
                        )));
                    }
                };
                for (name, v) in KEYS[1..].iter().zip(vals) {
                    if v.is_some() && !used.contains(name) {
                        return Err(de::Error::custom(format!(
                            "`{name}` does not apply to `{kind}` (it takes {})",
                            used.join(", ")
                        )));
                    }
                }
                let dist = match kind.as_str() {
                    "constant" => Dist::Constant {
                        value: need(value, "value", &kind)?,
                    },
                    "exponential" => Dist::Exponential {
                        mean: need(mean, "mean", &kind)?,
                    },
                    "lognormal" => Dist::Lognormal {
                        mean: need(mean, "mean", &kind)?,
                        cv: need(cv, "cv", &kind)?,
                    },
                    _ => Dist::Uniform {
                        min: need(min, "min", &kind)?,
                        max: need(max, "max", &kind)?,
                    },
                };
                dist.validate().map_err(de::Error::custom)?;
                Ok(dist)
            }
        }
        d.deserialize_any(V)
    }
}

/// How instances of a class come into being.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Arrivals {
    /// `count` instances at time zero; with a lifetime, each is replaced when it ends.
    Static { count: u64 },
    /// A Poisson stream with this rate per second.
    Poisson { rate_per_s: f64 },
}

#[derive(Clone, Debug, Serialize)]
pub struct WorkloadClass {
    pub name: String,
    pub arrivals: Arrivals,
    /// Time an instance runs once started; `None` = until the horizon.
    pub lifetime_s: Option<Dist>,
    /// Instances are spread round-robin over this many tenants.
    pub tenants: u32,
    pub tenant_prefix: String,
    /// Image id (classes with the same `image` share identical content).
    pub image: u32,
    pub image_name: String,
    pub private_mib: f64,
    pub image_mib: f64,
    pub zero_mib: f64,
    pub volatile_fraction: f64,
    /// Useful CPU demand in reference cores, drawn per instance.
    pub cpu_cores: Dist,
    /// CPU reserved at admission, in reference cores.
    pub cpu_request: f64,
    pub vcpus: f64,
    pub weight: f64,
    pub io_fraction: f64,
    /// The image's content lives in a shared segment (z/VM DCSS) where the kernel layer
    /// supports segments: one copy per host from guest start.
    pub image_segment: bool,
    /// Writes to merged (KSM) pages per second: copy-on-write un-merges them.
    pub write_mib_per_s: f64,
    /// Pressure this class puts on shared resources (0..1 each, at full demand).
    pub pressure: ResourceVec,
    /// Slowdown per unit of neighbour pressure (0..2 each).
    pub sensitivity: ResourceVec,
    /// Upper bound of the interference slowdown.
    pub slowdown_cap: f64,
    /// ON/OFF demand phases (bursty demand); `None`: constant demand.
    pub phases: Option<Phases>,
    /// Dedicated: request = limit, never exceeds or lends it. Burstable: request < limit,
    /// shares the host's slack.
    pub dedicated: bool,
    /// Burstable limit in reference cores (`None`: no limit).
    pub cpu_limit: Option<f64>,
    /// This class's objectives (p99 slowdown, start p95, blocking).
    pub slo: Slo,
    /// Host types this class runs on (indices; all by default).
    pub host_types: Vec<usize>,
}

/// ON/OFF demand: ON periods at the drawn demand, OFF periods at `off_level` × it.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Phases {
    pub on_s: Dist,
    pub off_s: Dist,
    #[serde(default)]
    pub off_level: f64,
}

impl WorkloadClass {
    /// The instance's own memory (what no other instance shares).
    pub fn own_mib(&self) -> f64 {
        self.private_mib + self.zero_mib
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_xoshiro::Xoshiro256PlusPlus;

    #[test]
    fn lognormal_has_requested_mean_and_cv() {
        let d = Dist::Lognormal { mean: 0.3, cv: 0.5 };
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(3);
        let n = 200_000;
        let xs: Vec<f64> = (0..n).map(|_| d.sample(&mut rng)).collect();
        let m = xs.iter().sum::<f64>() / n as f64;
        let var = xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1) as f64;
        // standard error of the mean: 0.15/sqrt(2e5) ≈ 3.4e-4
        assert!((m - 0.3).abs() < 0.002, "mean {m}");
        assert!((var.sqrt() / m - 0.5).abs() < 0.01, "cv {}", var.sqrt() / m);
    }

    #[test]
    fn dist_parses_and_rejects() {
        #[derive(Deserialize)]
        struct W {
            d: Dist,
        }
        let w: W = toml::from_str("d = { dist = \"exponential\", mean = 2 }").unwrap();
        assert_eq!(w.d, Dist::Exponential { mean: 2.0 });
        let w: W = toml::from_str("d = 0.5").unwrap();
        assert_eq!(w.d, Dist::Constant { value: 0.5 });
        let e = toml::from_str::<W>("d = { dist = \"exponentail\", mean = 2 }")
            .err()
            .unwrap();
        assert!(e.to_string().contains("did you mean `exponential`"), "{e}");
        let e = toml::from_str::<W>("d = { dist = \"exponential\", mean = 0 }")
            .err()
            .unwrap();
        assert!(e.to_string().contains("must be > 0"), "{e}");
        let e = toml::from_str::<W>("d = { dist = \"uniform\", min = 1 }")
            .err()
            .unwrap();
        assert!(e.to_string().contains("needs `max`"), "{e}");
    }
}
