//! The scenario file: TOML schema, defaults, and every check that can be made before a
//! simulation starts. Errors carry the file, line and column, and the nearest valid name.
//!
//! ```toml
//! name = "web-fleet"
//! seed = 42
//! horizon_s = 86400
//! warmup_s = 3600
//!
//! [hosts.x86]                 # a fleet: a host profile, a count, any overrides
//! profile = "x86-2s"
//! count = 4
//!
//! [layers.vm-kvm]             # override a calibrated layer field (tag becomes "scenario")
//! cpu_factor = 1.03
//!
//! [placements.containers-in-vm]
//! layers = ["vm-kvm", "container-runc"]   # host → workload
//! vm_per = "tenant"
//! containers_per_vm = 8
//!
//! [workloads.web]
//! arrival_rate_per_s = 0.5
//! lifetime_s = { dist = "exponential", mean = 3600 }
//! tenants = 4
//! private_mib = 256
//! image_mib = 300
//! cpu_cores = { dist = "lognormal", mean = 0.25, cv = 0.5 }
//! cpu_request = 0.5
//! ```

use std::fmt;
use std::marker::PhantomData;
use std::path::Path;

use serde::de::{DeserializeOwned, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};

use crate::diagnostics::{Error, InputError, line_col, nearest, unknown_name};
use crate::engine::SimTime;
use crate::model::host::HostType;
use crate::model::layer::{Layer, LayerKind};
use crate::model::placement::{MAX_LAYERS, Placement, Policy, VmPer};
use crate::model::slo::Slo;
use crate::model::workload::{Arrivals, Dist, WorkloadClass};
use crate::profiles::{ProfileKind, ProfileSet, Source, Tag};

pub(crate) mod study;
pub use study::{Axis, Study};

/// The scenario `capsim run` uses when no file is given (also `scenarios/default.toml`).
pub const DEFAULT_SCENARIO: &str = include_str!("../scenarios/default.toml");

/// Input limits: far beyond any real fleet, low enough that integer accounting (KiB, µcores)
/// cannot overflow and a typo cannot ask for an endless run.
const MAX_MIB: f64 = 1e9;
const MAX_STATIC: u64 = 10_000_000;
const MAX_ARRIVALS: f64 = 1e9;
const MAX_HOSTS: i64 = 1_000_000;
const MAX_SLOTS: u32 = 10_000;

/// A map that keeps the document's order (placements print in the order written).
#[derive(Debug, Clone)]
pub(crate) struct OrderedMap<T>(pub Vec<(String, T)>);

impl<T> Default for OrderedMap<T> {
    fn default() -> Self {
        OrderedMap(Vec::new())
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for OrderedMap<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = OrderedMap<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a table")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Self::Value, A::Error> {
                let mut v = Vec::new();
                while let Some((k, x)) = m.next_entry::<String, T>()? {
                    v.push((k, x));
                }
                Ok(OrderedMap(v))
            }
        }
        d.deserialize_map(V(PhantomData))
    }
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub(crate) struct ScenarioFile {
    pub name: Option<String>,
    pub description: Option<String>,
    pub question: Option<String>,
    #[serde(default = "default_seed")]
    pub seed: u64,
    pub horizon_s: Option<f64>,
    pub warmup_s: Option<f64>,
    pub study: Option<study::StudyFile>,
    pub sweep: Option<study::SweepFile>,
    #[serde(default)]
    pub layers: OrderedMap<toml::Table>,
    #[serde(default)]
    pub hosts: OrderedMap<toml::Table>,
    #[serde(default)]
    pub placements: OrderedMap<PlacementFile>,
    #[serde(default)]
    pub workloads: OrderedMap<WorkloadFile>,
    #[serde(default)]
    pub slo: Slo,
}

fn default_seed() -> u64 {
    1
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub(crate) struct PlacementFile {
    pub description: Option<String>,
    pub layers: Vec<String>,
    pub hosts: Option<Vec<String>>,
    pub vm_per: Option<String>,
    pub containers_per_vm: Option<u32>,
    pub policy: Option<String>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub(crate) struct WorkloadFile {
    pub count: Option<u64>,
    pub arrival_rate_per_s: Option<f64>,
    pub lifetime_s: Option<Dist>,
    pub tenants: Option<u32>,
    pub tenant: Option<String>,
    pub image: Option<String>,
    pub private_mib: f64,
    #[serde(default)]
    pub image_mib: f64,
    #[serde(default)]
    pub zero_mib: f64,
    #[serde(default)]
    pub volatile_fraction: f64,
    pub cpu_cores: Dist,
    pub cpu_request: Option<f64>,
    pub vcpus: Option<f64>,
    pub weight: Option<f64>,
    #[serde(default)]
    pub io_fraction: f64,
}

/// A fully resolved and validated scenario.
#[derive(Clone, Debug)]
pub struct Scenario {
    pub name: String,
    pub description: String,
    pub question: String,
    pub seed: u64,
    pub horizon: SimTime,
    pub warmup: SimTime,
    /// Built-in profiles with the scenario's overrides and additions applied.
    pub profiles: ProfileSet,
    pub host_types: Vec<HostType>,
    pub placements: Vec<Placement>,
    pub workloads: Vec<WorkloadClass>,
    /// The service objectives every configuration is judged by.
    pub slo: Slo,
    /// `[study]`: replications, confidence, sequential stopping.
    pub study: Study,
    /// `[[sweep.axis]]`, checked; the points are built by `study::sweep::points`.
    pub sweep: Vec<Axis>,
    pub(crate) source: Source,
}

/// One thing to simulate: a placement on a fleet of one host type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Config {
    pub placement: usize,
    pub host_type: usize,
}

/// Turns a toml/serde error into a located message, naming the nearest valid key.
pub(crate) fn toml_error(file: &str, text: &str, e: &toml::de::Error) -> InputError {
    let msg = e.message().trim().to_string();
    InputError {
        file: file.to_string(),
        line_col: e.span().map(|s| line_col(text, s.start)),
        message: improve_serde_message(&msg),
    }
}

/// serde says "unknown field `coress`, expected one of `a`, `b`"; we add "did you mean".
fn improve_serde_message(msg: &str) -> String {
    let Some(rest) = msg.strip_prefix("unknown field `") else {
        return msg.to_string();
    };
    let Some(end) = rest.find('`') else {
        return msg.to_string();
    };
    let wrong = &rest[..end];
    let expected: Vec<&str> = rest[end + 1..].split('`').skip(1).step_by(2).collect();
    match nearest(wrong, expected.iter().copied()) {
        Some(n) => format!(
            "unknown key `{wrong}`; did you mean `{n}`? (valid: {})",
            expected.join(", ")
        ),
        None => format!("unknown key `{wrong}` (valid: {})", expected.join(", ")),
    }
}

pub(crate) fn parse_toml<T: DeserializeOwned>(file: &str, text: &str) -> Result<T, InputError> {
    toml::from_str(text).map_err(|e| toml_error(file, text, &e))
}

impl Scenario {
    /// Reads and validates a scenario file.
    pub fn load(path: &Path) -> Result<Scenario, Error> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            Error::Input(InputError {
                file: path.display().to_string(),
                line_col: None,
                message: format!("cannot read the scenario: {e}"),
            })
        })?;
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "scenario".into());
        Ok(Scenario::from_toml(
            &path.display().to_string(),
            &stem,
            &text,
        )?)
    }

    /// The embedded default scenario.
    pub fn default_scenario() -> Scenario {
        Scenario::from_toml("scenarios/default.toml", "default", DEFAULT_SCENARIO)
            .expect("the embedded default scenario is valid (tested)")
    }

    /// Parses and validates scenario text; `file` names it in errors, `stem` is the
    /// name used when the file sets none.
    pub fn from_toml(file: &str, stem: &str, text: &str) -> Result<Scenario, InputError> {
        let f: ScenarioFile = parse_toml(file, text)?;
        let src = Source::new(file, text);
        resolve(f, src, stem)
    }

    /// Every (placement, host type) pair to simulate, host-type major.
    pub fn configs(&self) -> Vec<Config> {
        let mut v = vec![];
        for h in 0..self.host_types.len() {
            for (p, pl) in self.placements.iter().enumerate() {
                if pl.host_types.contains(&h) {
                    v.push(Config {
                        placement: p,
                        host_type: h,
                    });
                }
            }
        }
        v
    }

    pub fn source_text(&self) -> &str {
        &self.source.text
    }

    /// Resolves an edited copy of this scenario's document (a sweep point) exactly as a
    /// file would be; errors still point into the original file.
    pub(crate) fn resolve_document(&self, doc: toml::Table) -> Result<Scenario, InputError> {
        let f: ScenarioFile =
            toml::Value::Table(doc)
                .try_into()
                .map_err(|e: toml::de::Error| InputError {
                    file: self.source.name.clone(),
                    line_col: None,
                    message: improve_serde_message(e.message().trim()),
                })?;
        let stem = self.name.clone();
        resolve(f, self.source.clone(), &stem)
    }
}

fn resolve(f: ScenarioFile, src: Source, stem: &str) -> Result<Scenario, InputError> {
    let err = |path: &[&str], m: String| src.error(path, m);
    let horizon_s = f.horizon_s.unwrap_or(86_400.0);
    let warmup_s = f.warmup_s.unwrap_or(0.0);
    if !(horizon_s.is_finite() && horizon_s > 0.0) {
        return Err(err(
            &["horizon_s"],
            format!("horizon_s = {horizon_s} must be > 0 seconds"),
        ));
    }
    if !(warmup_s.is_finite() && (0.0..horizon_s).contains(&warmup_s)) {
        return Err(err(
            &["warmup_s"],
            format!("warmup_s = {warmup_s} must be >= 0 and below horizon_s = {horizon_s}"),
        ));
    }

    // Profiles: built-ins, then the scenario's layer and host tables on top.
    let mut profiles = ProfileSet::builtin()?;
    for (name, table) in &f.layers.0 {
        profiles.apply(
            ProfileKind::Layer,
            name,
            table,
            &src,
            "layers",
            Tag::Scenario,
        )?;
    }
    if f.hosts.0.is_empty() {
        return Err(err(
            &[],
            "the scenario defines no hosts: add a [hosts.NAME] table with `profile` and `count`"
                .into(),
        ));
    }
    let mut host_types = vec![];
    for (name, table) in &f.hosts.0 {
        let builtin_names: Vec<String> = profiles.hosts.iter().map(|p| p.name.clone()).collect();
        if !table.contains_key("profile") && !builtin_names.contains(name) {
            return Err(err(
                &["hosts", name],
                format!(
                    "host type `{name}` needs `profile = \"...\"` (built-in: {})",
                    builtin_names.join(", ")
                ),
            ));
        }
        profiles.apply(ProfileKind::Host, name, table, &src, "hosts", Tag::Scenario)?;
        let count = match table.get("count") {
            None => 1,
            Some(toml::Value::Integer(n)) if *n >= 1 && *n <= MAX_HOSTS => *n as u32,
            Some(v) => {
                return Err(err(
                    &["hosts", name, "count"],
                    format!("`count` must be a whole number from 1 to {MAX_HOSTS}, got {v}"),
                ));
            }
        };
        let p = profiles.host(name).expect("just applied");
        let hypervisor = match p.text("hypervisor").unwrap_or("none") {
            "none" => None,
            h => match profiles.layer(h) {
                Some(l) => Some(Layer::from_profile(l)),
                None => {
                    let names = std::iter::once("none")
                        .chain(profiles.layers.iter().map(|l| l.name.as_str()));
                    return Err(err(
                        &["hosts", name, "hypervisor"],
                        unknown_name("hypervisor layer", h, names),
                    ));
                }
            },
        };
        let ht = HostType::from_profile(name, count, p, hypervisor);
        if ht.reserved_mib >= ht.memory_mib {
            return Err(err(
                &["hosts", name],
                format!(
                    "host type `{name}`: host_reserved_mib ({}) leaves no memory of its {} MiB",
                    ht.reserved_mib, ht.memory_mib
                ),
            ));
        }
        if ht.threads_per_core.fract() != 0.0 {
            return Err(err(
                &["hosts", name, "threads_per_core"],
                "threads_per_core must be a whole number".into(),
            ));
        }
        host_types.push(ht);
    }
    for (l, p) in profiles.layers.iter().enumerate() {
        let median = p.value("start_median_s");
        let p95 = p.value("start_p95_s");
        if median > 0.0 && p95 < median {
            let name = &profiles.layers[l].name;
            return Err(err(
                &["layers", name],
                format!("layer `{name}`: start_p95_s ({p95}) is below start_median_s ({median})"),
            ));
        }
    }

    // Workloads.
    if f.workloads.0.is_empty() {
        return Err(err(
            &[],
            "the scenario defines no workloads: add a [workloads.NAME] table".into(),
        ));
    }
    let mut images: Vec<String> = vec![];
    let mut workloads = vec![];
    for (name, w) in &f.workloads.0 {
        let at = |k: &'static str| vec!["workloads", name.as_str(), k];
        let arrivals = match (w.count, w.arrival_rate_per_s) {
            (Some(_), Some(_)) => {
                return Err(err(
                    &at("count"),
                    format!(
                        "workload `{name}`: give either `count` or `arrival_rate_per_s`, not both"
                    ),
                ));
            }
            (None, None) => {
                return Err(err(
                    &["workloads", name],
                    format!(
                        "workload `{name}` needs `count` (static instances) or `arrival_rate_per_s` (Poisson arrivals)"
                    ),
                ));
            }
            (Some(0), _) => return Err(err(&at("count"), "`count` must be >= 1".into())),
            (Some(n), None) => Arrivals::Static { count: n },
            (None, Some(r)) if !(r.is_finite() && r > 0.0) => {
                return Err(err(
                    &at("arrival_rate_per_s"),
                    format!("arrival_rate_per_s = {r} must be > 0"),
                ));
            }
            (None, Some(r)) => Arrivals::Poisson { rate_per_s: r },
        };
        if matches!(arrivals, Arrivals::Poisson { .. }) && w.lifetime_s.is_none() {
            return Err(err(
                &["workloads", name],
                format!(
                    "workload `{name}` has arrivals but no `lifetime_s`: instances would never leave"
                ),
            ));
        }
        for (k, v) in [
            ("private_mib", w.private_mib),
            ("image_mib", w.image_mib),
            ("zero_mib", w.zero_mib),
        ] {
            if !(v.is_finite() && (0.0..=MAX_MIB).contains(&v)) {
                return Err(err(
                    &at(k),
                    format!("`{k}` = {v} must be within 0 ..= {MAX_MIB} MiB"),
                ));
            }
        }
        match arrivals {
            Arrivals::Static { count } if count > MAX_STATIC => {
                return Err(err(
                    &at("count"),
                    format!(
                        "`count` = {count} is above the supported {MAX_STATIC} instances per class"
                    ),
                ));
            }
            Arrivals::Poisson { rate_per_s } if rate_per_s * horizon_s > MAX_ARRIVALS => {
                return Err(err(
                    &at("arrival_rate_per_s"),
                    format!(
                        "arrival_rate_per_s = {rate_per_s} over horizon_s = {horizon_s} means {:.3e} arrivals; at most {MAX_ARRIVALS:e} per class are supported",
                        rate_per_s * horizon_s
                    ),
                ));
            }
            _ => {}
        }
        for (k, v) in [
            ("volatile_fraction", w.volatile_fraction),
            ("io_fraction", w.io_fraction),
        ] {
            if !(0.0..=1.0).contains(&v) {
                return Err(err(&at(k), format!("`{k}` = {v} must be within [0, 1]")));
            }
        }
        let cpu_request = w.cpu_request.unwrap_or(w.cpu_cores.mean());
        if !(cpu_request.is_finite() && cpu_request > 0.0 && cpu_request <= 1e6) {
            return Err(err(
                &at("cpu_request"),
                format!("cpu_request = {cpu_request} must be > 0 cores"),
            ));
        }
        let vcpus = w.vcpus.unwrap_or(cpu_request.ceil().max(1.0));
        if !(vcpus.is_finite() && vcpus > 0.0 && vcpus <= 1e4) {
            return Err(err(&at("vcpus"), format!("vcpus = {vcpus} must be > 0")));
        }
        let weight = w.weight.unwrap_or(1.0);
        if !(weight.is_finite() && weight > 0.0) {
            return Err(err(&at("weight"), format!("weight = {weight} must be > 0")));
        }
        let (tenants, tenant_prefix) = match (&w.tenant, w.tenants) {
            (Some(_), Some(_)) => {
                return Err(err(
                    &at("tenants"),
                    "give either `tenant` or `tenants`, not both".into(),
                ));
            }
            (Some(t), None) => (1, t.clone()),
            (None, Some(0)) => return Err(err(&at("tenants"), "`tenants` must be >= 1".into())),
            (None, Some(n)) => (n, format!("{name}-tenant")),
            (None, None) => (1, format!("{name}-tenant")),
        };
        let image_name = w.image.clone().unwrap_or_else(|| name.clone());
        let image = match images.iter().position(|i| *i == image_name) {
            Some(i) => i,
            None => {
                images.push(image_name.clone());
                images.len() - 1
            }
        } as u32;
        workloads.push(WorkloadClass {
            name: name.clone(),
            arrivals,
            lifetime_s: w.lifetime_s,
            tenants,
            tenant_prefix,
            image,
            image_name,
            private_mib: w.private_mib,
            image_mib: w.image_mib,
            zero_mib: w.zero_mib,
            volatile_fraction: w.volatile_fraction,
            cpu_cores: w.cpu_cores,
            cpu_request,
            vcpus,
            weight,
            io_fraction: w.io_fraction,
        });
    }

    // Placements.
    if f.placements.0.is_empty() {
        return Err(err(
            &[],
            "the scenario defines no placements: add a [placements.NAME] table with `layers`"
                .into(),
        ));
    }
    let mut placements = vec![];
    for (name, p) in &f.placements.0 {
        let at = |k: &'static str| vec!["placements", name.as_str(), k];
        if p.layers.is_empty() {
            return Err(err(
                &at("layers"),
                format!("placement `{name}` has no layers"),
            ));
        }
        if p.layers.len() > MAX_LAYERS {
            return Err(err(
                &at("layers"),
                format!(
                    "placement `{name}` has {} layers; at most {MAX_LAYERS}",
                    p.layers.len()
                ),
            ));
        }
        let mut layers = vec![];
        for (i, l) in p.layers.iter().enumerate() {
            let Some(prof) = profiles.layer(l) else {
                let names = profiles.layers.iter().map(|p| p.name.as_str());
                let idx = i.to_string();
                return Err(err(
                    &["placements", name, "layers", &idx],
                    unknown_name("layer", l, names),
                ));
            };
            let layer = Layer::from_profile(prof);
            if layer.kind == LayerKind::Lpar {
                return Err(err(
                    &at("layers"),
                    format!(
                        "layer `{l}` is an LPAR: it belongs under a host type as `hypervisor = \"{l}\"`, not in a placement"
                    ),
                ));
            }
            layers.push(layer);
        }
        let unit_depth = layers.iter().rposition(|l| l.kernel).map_or(0, |i| i + 1);
        let packs = unit_depth > 0 && unit_depth < layers.len();
        if !packs && (p.containers_per_vm.is_some() || p.vm_per.is_some()) {
            return Err(err(
                &at(if p.vm_per.is_some() {
                    "vm_per"
                } else {
                    "containers_per_vm"
                }),
                format!(
                    "placement `{name}`: `containers_per_vm` / `vm_per` need layers inside a VM (e.g. [\"vm-kvm\", \"container-runc\"])"
                ),
            ));
        }
        let slots = if packs {
            p.containers_per_vm.unwrap_or(8)
        } else {
            1
        };
        if !(1..=MAX_SLOTS).contains(&slots) {
            return Err(err(
                &at("containers_per_vm"),
                format!("`containers_per_vm` must be from 1 to {MAX_SLOTS}"),
            ));
        }
        let vm_per = match p.vm_per.as_deref() {
            None | Some("shared") => VmPer::Shared,
            Some("tenant") => VmPer::Tenant,
            Some(o) => {
                return Err(err(
                    &at("vm_per"),
                    unknown_name("value for `vm_per`", o, ["tenant", "shared"]),
                ));
            }
        };
        let policy = match p.policy.as_deref() {
            None => Policy::FirstFit,
            Some(s) => Policy::parse(s)
                .ok_or_else(|| err(&at("policy"), unknown_name("policy", s, Policy::NAMES)))?,
        };
        let host_idx = match &p.hosts {
            None => (0..host_types.len()).collect(),
            Some(hs) => {
                let mut v = vec![];
                for h in hs {
                    match host_types.iter().position(|t| &t.name == h) {
                        Some(i) => v.push(i),
                        None => {
                            return Err(err(
                                &at("hosts"),
                                unknown_name(
                                    "host type",
                                    h,
                                    host_types.iter().map(|t| t.name.as_str()),
                                ),
                            ));
                        }
                    }
                }
                v
            }
        };
        if host_idx.is_empty() {
            return Err(err(
                &at("hosts"),
                format!("placement `{name}` runs on no host type"),
            ));
        }
        placements.push(Placement {
            name: name.clone(),
            description: p.description.clone().unwrap_or_default(),
            layers,
            unit_depth,
            slots,
            vm_per,
            policy,
            host_types: host_idx,
        });
    }

    // Semantic check: every workload fits an empty host under every configuration it runs
    // in; otherwise the configuration could only block, which is an input mistake.
    for pl in &placements {
        for &h in &pl.host_types {
            let ht = &host_types[h];
            for wc in &workloads {
                let fp = pl.footprint(wc);
                let (mem_kib, cpu_uc) = if pl.has_unit() {
                    (fp.unit_commit_kib(), fp.unit_cpu_reserve_ucores)
                } else {
                    (
                        fp.wl_own_kib + fp.wl_layer_kib.iter().sum::<u64>() + fp.image_kib,
                        fp.wl_cpu_reserve_ucores,
                    )
                };
                let mem_mib = mem_kib as f64 / 1024.0;
                let cpu = cpu_uc as f64 / 1e6;
                let what = if pl.has_unit() && pl.slots > 1 {
                    format!("a VM of {} `{}` workloads", pl.slots, wc.name)
                } else {
                    format!("one `{}` workload", wc.name)
                };
                if mem_mib > ht.memory_admissible_mib() {
                    return Err(err(
                        &["workloads", &wc.name],
                        format!(
                            "{what} under placement `{}` commits {mem_mib:.0} MiB, more than host type `{}` admits ({:.0} MiB = {} × {:.0} MiB − {:.0} MiB reserved)",
                            pl.name,
                            ht.name,
                            ht.memory_admissible_mib(),
                            ht.memory_overcommit,
                            ht.memory_mib,
                            ht.reserved_mib
                        ),
                    ));
                }
                if cpu > ht.cpu_reservable() + 1e-9 {
                    return Err(err(
                        &["workloads", &wc.name],
                        format!(
                            "{what} under placement `{}` reserves {cpu:.2} cores, more than host type `{}` allows ({:.2} = ceiling {} × capacity {:.2})",
                            pl.name,
                            ht.name,
                            ht.cpu_reservable(),
                            ht.cpu_ceiling,
                            ht.cpu_capacity()
                        ),
                    ));
                }
            }
        }
    }

    if let Err((key, m)) = f.slo.validate() {
        return Err(err(&["slo", key], m));
    }
    let study = study::resolve_study(f.study.as_ref(), &src)?;
    let sweep = study::resolve_sweep(f.sweep.as_ref(), &src, &profiles)?;

    Ok(Scenario {
        slo: f.slo,
        study,
        sweep,
        name: f.name.unwrap_or_else(|| stem.to_string()),
        description: f.description.unwrap_or_default(),
        question: f.question.unwrap_or_default(),
        seed: f.seed,
        horizon: SimTime::from_secs_f64(horizon_s),
        warmup: SimTime::from_secs_f64(warmup_s),
        profiles,
        host_types,
        placements,
        workloads,
        source: src,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_scenario_is_valid() {
        let s = Scenario::default_scenario();
        assert!(s.configs().len() >= 8);
        assert_eq!(s.name, "default");
    }

    #[test]
    fn unknown_top_level_key_suggests() {
        let e = Scenario::from_toml("t.toml", "t", "seeed = 3\n").unwrap_err();
        assert_eq!(e.line_col, Some((1, 1)));
        assert!(e.message.contains("did you mean `seed`"), "{}", e.message);
    }
}
