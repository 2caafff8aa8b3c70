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
use crate::model::interference::ResourceVec;
use crate::model::ksm::{KsmParams, KsmScope};
use crate::model::layer::{Layer, LayerKind};
use crate::model::placement::{MAX_LAYERS, Placement, Policy, VmPer};
use crate::model::slo::Slo;
use crate::model::workload::{Arrivals, Dist, Phases, WorkloadClass};
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
/// Default cap of the interference slowdown (calibration.md: assumed).
pub const DEFAULT_SLOWDOWN_CAP: f64 = 1.4;

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
    #[serde(default)]
    pub ksm: KsmFile,
    #[serde(default)]
    pub rollout: Vec<RolloutFile>,
}

/// `[ksm]`: ksmd on every host (the kernel's tunables); a host type may override any field
/// with its own `ksm = { ... }` table.
#[derive(Deserialize, Debug, Default, Clone)]
#[serde(deny_unknown_fields)]
pub(crate) struct KsmFile {
    pub enabled: Option<bool>,
    pub pages_to_scan: Option<u32>,
    pub sleep_millisecs: Option<u32>,
    pub hz: Option<u32>,
    pub max_page_sharing: Option<u32>,
    pub use_zero_pages: Option<bool>,
    pub scope: Option<String>,
    pub per_page_us: Option<f64>,
    pub per_wake_us: Option<f64>,
    pub containers_mergeable: Option<bool>,
    pub timeline_interval_s: Option<f64>,
}

impl KsmFile {
    /// `self` with every field `over` sets replaced.
    fn overridden_by(&self, over: &KsmFile) -> KsmFile {
        macro_rules! pick {
            ($($f:ident),*) => { KsmFile { $($f: over.$f.clone().or_else(|| self.$f.clone()),)* } };
        }
        pick!(
            enabled,
            pages_to_scan,
            sleep_millisecs,
            hz,
            max_page_sharing,
            use_zero_pages,
            scope,
            per_page_us,
            per_wake_us,
            containers_mergeable,
            timeline_interval_s
        )
    }
}

/// Resolved KSM settings.
#[derive(Clone, Debug, Default)]
pub struct KsmSettings {
    pub enabled: bool,
    pub(crate) params: KsmParams,
    /// Container memory participates only where the application opts in (MADV_MERGEABLE).
    pub containers_mergeable: bool,
    /// Interval of the `timeline.csv` samples.
    pub timeline_interval: SimTime,
}

impl KsmSettings {
    pub fn scan_rate_pages_per_s(&self) -> f64 {
        self.params.scan_rate_pages_per_s()
    }
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
    #[serde(default)]
    pub image_segment: bool,
    #[serde(default)]
    pub write_mib_per_s: f64,
    pub pressure: Option<ResourceVec>,
    pub sensitivity: Option<ResourceVec>,
    pub slowdown_cap: Option<f64>,
    pub phases: Option<Phases>,
    pub cpu_mode: Option<String>,
    pub cpu_limit: Option<f64>,
    #[serde(default)]
    pub slo: Slo,
    pub hosts: Option<Vec<String>>,
}

/// `[[rollout]]`: a restart wave over one workload class (patching, redeploys).
#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub(crate) struct RolloutFile {
    pub name: Option<String>,
    pub workload: String,
    pub start_s: f64,
    pub batch_size: Option<u32>,
    pub max_unavailable: Option<f64>,
    pub scope: Option<String>,
}

/// How many instances a rollout restarts at once.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Batch {
    Size(u32),
    /// A fraction of the class's instances (at least one).
    Fraction(f64),
}

/// A resolved rollout.
#[derive(Clone, Debug)]
pub struct Rollout {
    pub name: String,
    pub class: usize,
    pub start: SimTime,
    pub batch: Batch,
    /// `true`: a kernel patch restarts the whole stack (VM reboot); `false`: an image
    /// redeploy restarts the per-workload layers (the containers, or the VM when the VM is
    /// the workload's only layer).
    pub kernel: bool,
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
    /// The scenario-wide `[ksm]` settings (each host type has its resolved copy).
    pub ksm: KsmSettings,
    pub rollouts: Vec<Rollout>,
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
                if pl.host_types.contains(&h)
                    && self.workloads.iter().any(|w| w.host_types.contains(&h))
                {
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
        let mut table = table.clone();
        let host_ksm = match table.remove("ksm") {
            None => None,
            Some(v) => {
                let text = toml::to_string(&v).unwrap_or_default();
                let k: KsmFile = toml::from_str(&text).map_err(|e| {
                    src.error(
                        &["hosts", name, "ksm"],
                        improve_serde_message(e.message().trim()),
                    )
                })?;
                Some(k)
            }
        };
        let table = &table;
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
        let mut ht = HostType::from_profile(name, count, p, hypervisor);
        ht.ksm = match &host_ksm {
            None => resolve_ksm(&f.ksm, horizon_s, &src, &["ksm"])?,
            Some(k) => resolve_ksm(
                &f.ksm.overridden_by(k),
                horizon_s,
                &src,
                &["hosts", name, "ksm"],
            )?,
        };
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
        let pressure = w.pressure.unwrap_or_default();
        if let Some((r, v)) = pressure.out_of(0.0, 1.0) {
            return Err(err(
                &at("pressure"),
                format!("pressure.{r} = {v} must be within [0, 1]"),
            ));
        }
        let sensitivity = w.sensitivity.unwrap_or_default();
        if let Some((r, v)) = sensitivity.out_of(0.0, 2.0) {
            return Err(err(
                &at("sensitivity"),
                format!("sensitivity.{r} = {v} must be within [0, 2]"),
            ));
        }
        let slowdown_cap = w.slowdown_cap.unwrap_or(DEFAULT_SLOWDOWN_CAP);
        if !(slowdown_cap.is_finite() && (1.0..=100.0).contains(&slowdown_cap)) {
            return Err(err(
                &at("slowdown_cap"),
                format!("slowdown_cap = {slowdown_cap} must be within [1, 100]"),
            ));
        }
        if let Some(ph) = &w.phases
            && !(0.0..=1.0).contains(&ph.off_level)
        {
            return Err(err(
                &at("phases"),
                format!("phases.off_level = {} must be within [0, 1]", ph.off_level),
            ));
        }
        if let Some(ph) = &w.phases
            && (ph.on_s.mean() <= 0.0 || ph.off_s.mean() <= 0.0)
        {
            return Err(err(
                &at("phases"),
                "phases.on_s and phases.off_s need a mean > 0 seconds".into(),
            ));
        }
        let dedicated = match w.cpu_mode.as_deref() {
            None | Some("burstable") => false,
            Some("dedicated") => true,
            Some(o) => {
                return Err(err(
                    &at("cpu_mode"),
                    unknown_name("cpu_mode", o, ["dedicated", "burstable"]),
                ));
            }
        };
        if let Some(l) = w.cpu_limit
            && !(l.is_finite() && l > 0.0)
        {
            return Err(err(
                &at("cpu_limit"),
                format!("cpu_limit = {l} must be > 0 cores"),
            ));
        }
        if dedicated && w.cpu_limit.is_some() {
            return Err(err(
                &at("cpu_limit"),
                "a dedicated class's limit is its cpu_request: leave cpu_limit out".into(),
            ));
        }
        if let Err((key, m)) = w.slo.validate() {
            return Err(err(&["workloads", name, "slo", key], m));
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
            image_segment: w.image_segment,
            write_mib_per_s: w.write_mib_per_s,
            pressure,
            sensitivity,
            slowdown_cap,
            phases: w.phases,
            dedicated,
            cpu_limit: w.cpu_limit,
            slo: w.slo.clone(),
            host_types: host_indices(w.hosts.as_deref(), &host_types)
                .map_err(|m| err(&at("hosts"), m))?,
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
        let host_idx =
            host_indices(p.hosts.as_deref(), &host_types).map_err(|m| err(&at("hosts"), m))?;
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
            for wc in workloads.iter().filter(|w| w.host_types.contains(&h)) {
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
    let ksm = resolve_ksm(&f.ksm, horizon_s, &src, &["ksm"])?;
    let mut rollouts = vec![];
    for (i, r) in f.rollout.iter().enumerate() {
        let idx = i.to_string();
        let at = |k: &'static str| vec!["rollout", idx.as_str(), k];
        let Some(class) = workloads.iter().position(|w| w.name == r.workload) else {
            return Err(err(
                &at("workload"),
                unknown_name(
                    "workload",
                    &r.workload,
                    workloads.iter().map(|w| w.name.as_str()),
                ),
            ));
        };
        if !(r.start_s.is_finite() && (0.0..horizon_s).contains(&r.start_s)) {
            return Err(err(
                &at("start_s"),
                format!(
                    "start_s = {} must be within the horizon [0, {horizon_s})",
                    r.start_s
                ),
            ));
        }
        let batch = match (r.batch_size, r.max_unavailable) {
            (Some(_), Some(_)) => {
                return Err(err(
                    &at("batch_size"),
                    "give either batch_size or max_unavailable, not both".into(),
                ));
            }
            (None, None) => {
                return Err(err(
                    &["rollout", &idx],
                    "a rollout needs batch_size (instances) or max_unavailable (fraction)".into(),
                ));
            }
            (Some(0), _) => return Err(err(&at("batch_size"), "batch_size must be >= 1".into())),
            (Some(b), None) => Batch::Size(b),
            (None, Some(f)) if !(f > 0.0 && f <= 1.0) => {
                return Err(err(
                    &at("max_unavailable"),
                    format!("max_unavailable = {f} must be within (0, 1]"),
                ));
            }
            (None, Some(f)) => Batch::Fraction(f),
        };
        let kernel = match r.scope.as_deref() {
            None | Some("image") => false,
            Some("kernel") => true,
            Some(o) => {
                return Err(err(
                    &at("scope"),
                    unknown_name("rollout scope", o, ["image", "kernel"]),
                ));
            }
        };
        rollouts.push(Rollout {
            name: r
                .name
                .clone()
                .unwrap_or_else(|| format!("{}-{i}", r.workload)),
            class,
            start: SimTime::from_secs_f64(r.start_s),
            batch,
            kernel,
        });
    }
    let study = study::resolve_study(f.study.as_ref(), &src)?;
    let sweep = study::resolve_sweep(f.sweep.as_ref(), &src, &profiles)?;

    Ok(Scenario {
        rollouts,
        ksm,
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

/// Indices of the named host types (all of them when no list is given); the error names
/// the nearest valid host type.
fn host_indices(names: Option<&[String]>, host_types: &[HostType]) -> Result<Vec<usize>, String> {
    let Some(names) = names else {
        return Ok((0..host_types.len()).collect());
    };
    names
        .iter()
        .map(|h| {
            host_types.iter().position(|t| &t.name == h).ok_or_else(|| {
                unknown_name("host type", h, host_types.iter().map(|t| t.name.as_str()))
            })
        })
        .collect()
}

fn resolve_ksm(
    k: &KsmFile,
    horizon_s: f64,
    src: &Source,
    path: &[&str],
) -> Result<KsmSettings, InputError> {
    let d = KsmParams::default();
    let at = |key: &str| {
        let mut p = path.to_vec();
        p.push(key);
        src.error(&p, String::new())
    };
    let fail = |key: &str, m: String| InputError {
        message: m,
        ..at(key)
    };
    let scope = match k.scope.as_deref() {
        None | Some("host") => KsmScope::Host,
        Some("tenant") => KsmScope::Tenant,
        Some(o) => {
            return Err(fail(
                "scope",
                unknown_name("ksm scope", o, ["host", "tenant"]),
            ));
        }
    };
    let us_to_ns = |key: &str, v: Option<f64>, default: u64| -> Result<u64, InputError> {
        match v {
            None => Ok(default),
            Some(x) if x.is_finite() && (0.0..=1e6).contains(&x) => Ok((x * 1000.0).round() as u64),
            Some(x) => Err(fail(
                key,
                format!("`{key}` = {x} must be within 0 ..= 1e6 microseconds"),
            )),
        }
    };
    let params = KsmParams {
        pages_to_scan: k.pages_to_scan.unwrap_or(d.pages_to_scan),
        sleep_millisecs: k.sleep_millisecs.unwrap_or(d.sleep_millisecs),
        hz: k.hz.unwrap_or(d.hz),
        max_page_sharing: k.max_page_sharing.unwrap_or(d.max_page_sharing),
        use_zero_pages: k.use_zero_pages.unwrap_or(d.use_zero_pages),
        scope,
        per_page_ns: us_to_ns("per_page_us", k.per_page_us, d.per_page_ns)?,
        per_wake_ns: us_to_ns("per_wake_us", k.per_wake_us, d.per_wake_ns)?,
    };
    for (key, bad) in [
        ("pages_to_scan", params.pages_to_scan == 0),
        ("sleep_millisecs", params.sleep_millisecs == 0),
        ("hz", params.hz == 0),
        ("max_page_sharing", params.max_page_sharing < 2),
    ] {
        if bad {
            let m = params.validate().err().unwrap_or_default();
            return Err(fail(key, m));
        }
    }
    let interval = k.timeline_interval_s.unwrap_or(horizon_s / 200.0);
    if !(interval.is_finite() && interval > 0.0 && horizon_s / interval <= 1e6) {
        return Err(fail(
            "timeline_interval_s",
            format!(
                "timeline_interval_s = {interval} must be > 0 and give at most 1e6 samples over the horizon"
            ),
        ));
    }
    Ok(KsmSettings {
        enabled: k.enabled.unwrap_or(false),
        params,
        containers_mergeable: k.containers_mergeable.unwrap_or(false),
        timeline_interval: SimTime::from_secs_f64(interval),
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
