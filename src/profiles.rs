//! Built-in calibrated profiles (layers and host types) with provenance.
//!
//! The profiles live in `profiles.toml`, embedded in the binary. Every number is a
//! [`Param`]: value, unit, source and a confidence [`Tag`]. A scenario can override any
//! field of any profile, or define new profiles (optionally starting from a built-in one
//! with `base = "..."`); an override given as a plain number is tagged `scenario`.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

use crate::diagnostics::{InputError, Source, line_col, unknown_name};

pub(crate) const BUILTIN_TOML: &str = include_str!("profiles.toml");
pub(crate) const BUILTIN_NAME: &str = "<built-in profiles.toml>";

/// How much to trust a number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Tag {
    /// Measured on a real system (calibration.md names the machine).
    Measured,
    /// Read in a paper or vendor document.
    Literature,
    /// A paper's figure as reported by another source.
    #[serde(rename = "literature-2nd")]
    Literature2nd,
    /// No source found: a labelled engineering guess, listed as an assumption in reports.
    Assumed,
    /// Set in the scenario file without a tag of its own.
    Scenario,
    /// A neutral default (no effect), used when a profile does not set the field.
    Default,
}

impl Tag {
    pub(crate) const NAMES: [&'static str; 6] = [
        "measured",
        "literature",
        "literature-2nd",
        "assumed",
        "scenario",
        "default",
    ];

    fn parse(s: &str) -> Option<Tag> {
        Some(match s {
            "measured" => Tag::Measured,
            "literature" => Tag::Literature,
            "literature-2nd" => Tag::Literature2nd,
            "assumed" => Tag::Assumed,
            "scenario" => Tag::Scenario,
            "default" => Tag::Default,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        Tag::NAMES[self as usize]
    }
}

impl fmt::Display for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A calibrated number with its provenance.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Param {
    pub value: f64,
    pub unit: String,
    pub source: String,
    pub tag: Tag,
}

/// The definition of a numeric profile field: its unit, neutral default and valid range.
#[derive(Clone, Copy, Debug)]
pub struct ParamDef {
    pub name: &'static str,
    pub unit: &'static str,
    pub default: f64,
    pub min: f64,
    pub max: f64,
    pub doc: &'static str,
}

const fn def(
    name: &'static str,
    unit: &'static str,
    default: f64,
    min: f64,
    max: f64,
    doc: &'static str,
) -> ParamDef {
    ParamDef {
        name,
        unit,
        default,
        min,
        max,
        doc,
    }
}

/// A numeric profile field known at compile time: a misspelt key is a compile error, not
/// a NaN at run time.
pub trait ParamKey: Copy {
    fn def(self) -> &'static ParamDef;

    fn name(self) -> &'static str {
        self.def().name
    }
}

/// Defines a key enum and its table of [`ParamDef`]s in one place, in the same order, so
/// `Enum::X as usize` indexes the table.
macro_rules! param_table {
    ($(#[$meta:meta])* pub enum $Enum:ident in $TABLE:ident {
        $($Variant:ident = ($name:literal, $unit:literal, $default:expr, $min:expr, $max:expr, $doc:literal),)*
    }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum $Enum {
            $($Variant,)*
        }

        pub(crate) const $TABLE: &[ParamDef] = &[$(def($name, $unit, $default, $min, $max, $doc),)*];

        impl ParamKey for $Enum {
            fn def(self) -> &'static ParamDef {
                &$TABLE[self as usize]
            }
        }
    };
}

param_table! {
    /// A numeric field of a layer profile (`[layers.NAME]`).
    pub enum LayerParam in LAYER_PARAMS {
        CpuFactor = ("cpu_factor", "x", 1.0, 0.01, 100.0, "multiplies the CPU demand of what runs inside the layer"),
        CpuBackgroundCores = ("cpu_background_cores", "cores", 0.0, 0.0, 1e3, "CPU used by each instance of the layer even when idle"),
        MemFixedMib = ("mem_fixed_mib", "MiB", 0.0, 0.0, 1e7, "host memory per instance outside the guest"),
        MemGuestFraction = ("mem_guest_fraction", "fraction of guest RAM", 0.0, 0.0, 1.0, "host memory per instance proportional to the guest RAM"),
        MemPerVcpuMib = ("mem_per_vcpu_mib", "MiB/vCPU", 0.0, 0.0, 1e5, "host memory per instance per vCPU"),
        GuestOsMib = ("guest_os_mib", "MiB", 0.0, 0.0, 1e7, "resident memory of the guest kernel and base userspace (kernel layers)"),
        StartMedianS = ("start_median_s", "s", 0.0, 0.0, 1e6, "median start time of one instance"),
        StartP95S = ("start_p95_s", "s", 0.0, 0.0, 1e6, "95th percentile start time (lognormal tail)"),
        StartConcurrencySlope = ("start_concurrency_slope", "1/start", 0.0, 0.0, 100.0, "start time grows by this fraction per other start in flight on the host"),
        IoFactor = ("io_factor", "x", 1.0, 0.01, 100.0, "multiplies I/O service time"),
        NetRttAddUs = ("net_rtt_add_us", "us", 0.0, 0.0, 1e7, "added network round trip"),
        GuestOsMergeableFraction = ("guest_os_mergeable_fraction", "fraction", 0.0, 0.0, 1.0, "share of the guest OS footprint identical across guests of this layer (KSM / segments can share it)"),
        SegmentFraction = ("segment_fraction", "fraction", 0.0, 0.0, 1.0, "share of that identical content held in shared segments (z/VM NSS/DCSS): shared from guest start, no scanning"),
        Attenuation = ("attenuation", "fraction", 1.0, 0.0, 1.0, "share of neighbour pressure that passes this isolation boundary"),
    }
}

param_table! {
    /// A numeric field of a host-type profile (`[hosts.NAME]`).
    pub enum HostParam in HOST_PARAMS {
        Cores = ("cores", "cores", 1.0, 0.001, 1e6, "physical cores (IFLs on a mainframe)"),
        ThreadsPerCore = ("threads_per_core", "threads", 1.0, 1.0, 8.0, "hardware threads per core"),
        SmtGain = ("smt_gain", "x", 1.0, 1.0, 8.0, "throughput of a core with all threads busy relative to one thread"),
        CoreSpeed = ("core_speed", "x reference core", 1.0, 0.001, 1e3, "speed of one core relative to the reference core of workload demands"),
        MemoryGib = ("memory_gib", "GiB", 1.0, 0.001, 1e7, "physical memory"),
        HostReservedMib = ("host_reserved_mib", "MiB", 0.0, 0.0, 1e10, "memory held by the host OS / hypervisor, not available to workloads"),
        CpuCeiling = ("cpu_ceiling", "fraction", 1.0, 0.001, 1.0, "highest CPU reservation a planner allows, as a fraction of capacity"),
        MemoryOvercommit = ("memory_overcommit", "ratio", 1.0, 0.01, 100.0, "allowed ratio of committed to physical memory"),
        StealPerOvercommit = ("steal_per_overcommit", "fraction per unit", 0.0, 0.0, 1.0, "CPU lost to steal per unit of vCPU overcommit beyond one vCPU per hardware thread"),
        StealMax = ("steal_max", "fraction", 0.12, 0.0, 1.0, "upper bound of steal time"),
        SharedPoolLoad = ("shared_pool_load", "fraction", 0.0, 0.0, 1.0, "how busy the other LPARs sharing this LPAR's processors are (0: dedicated processors)"),
        LparWeightShare = ("lpar_weight_share", "fraction", 1.0, 0.0, 1.0, "this LPAR's PR/SM weight as a share of the shared pool it is entitled to under contention"),
        PrsmContentionOverhead = ("prsm_contention_overhead", "fraction", 0.0, 0.0, 1.0, "extra PR/SM overhead at full shared-pool contention (rises linearly with shared_pool_load)"),
        PagingSlope = ("paging_slope", "x per unit over", 20.0, 0.0, 1e4, "slowdown added per unit of resident memory beyond physical (the paging cliff)"),
    }
}

/// Every numeric field a layer profile (`[layers.NAME]`) accepts, in definition order
/// (for documentation and tools: `docs/scenarios.md` is checked against it).
pub fn layer_params() -> &'static [ParamDef] {
    LAYER_PARAMS
}

/// Every numeric field a host profile (`[hosts.NAME]`) accepts, in definition order.
pub fn host_params() -> &'static [ParamDef] {
    HOST_PARAMS
}

/// A text field of a profile (the numeric ones are [`LayerParam`] and [`HostParam`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TextKey {
    /// Layer: container, pod, vm, microvm, lpar, guest.
    Kind,
    /// Layer: the boundary it puts around what runs inside (process, vm, lpar).
    Isolation,
    /// Host: x86 or mainframe.
    Family,
    /// Host: the base layer under everything (`none` on bare metal).
    Hypervisor,
}

impl TextKey {
    pub fn name(self) -> &'static str {
        match self {
            TextKey::Kind => "kind",
            TextKey::Isolation => "isolation",
            TextKey::Family => "family",
            TextKey::Hypervisor => "hypervisor",
        }
    }
}

/// Which kind of profile a table describes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ProfileKind {
    Layer,
    Host,
}

impl ProfileKind {
    pub(crate) fn params(self) -> &'static [ParamDef] {
        match self {
            ProfileKind::Layer => LAYER_PARAMS,
            ProfileKind::Host => HOST_PARAMS,
        }
    }

    /// Non-numeric keys and the values they accept (`&[]` = any string / bool).
    fn text_keys(self) -> &'static [(&'static str, &'static [&'static str])] {
        match self {
            ProfileKind::Layer => &[
                ("description", &[]),
                ("base", &[]),
                (
                    "kind",
                    &["container", "pod", "vm", "microvm", "lpar", "guest"],
                ),
                ("kernel", &[]),
                ("isolation", &["process", "vm", "lpar"]),
            ],
            ProfileKind::Host => &[
                ("description", &[]),
                ("base", &[]),
                ("profile", &[]),
                ("family", &["x86", "mainframe"]),
                ("hypervisor", &[]),
                ("count", &[]),
            ],
        }
    }
}

/// One profile: text attributes plus numeric parameters with provenance.
#[derive(Clone, Debug, Serialize)]
pub struct Profile {
    pub name: String,
    pub description: String,
    /// kind / isolation / family / hypervisor …
    pub text: BTreeMap<String, String>,
    pub kernel: bool,
    pub params: BTreeMap<String, Param>,
}

impl Profile {
    fn empty(name: &str, kind: ProfileKind) -> Profile {
        let params = kind
            .params()
            .iter()
            .map(|d| {
                (
                    d.name.to_string(),
                    Param {
                        value: d.default,
                        unit: d.unit.to_string(),
                        source: "neutral default (no effect)".into(),
                        tag: Tag::Default,
                    },
                )
            })
            .collect();
        Profile {
            name: name.to_string(),
            description: String::new(),
            text: BTreeMap::new(),
            kernel: false,
            params,
        }
    }

    /// The value of a numeric field (every defined field is always present).
    pub fn value(&self, key: impl ParamKey) -> f64 {
        self.params.get(key.name()).map_or(f64::NAN, |p| p.value)
    }

    pub fn text(&self, key: TextKey) -> Option<&str> {
        self.text.get(key.name()).map(String::as_str)
    }
}

/// All profiles available to a scenario: the built-ins, overridden and extended by it.
#[derive(Clone, Debug, Serialize)]
pub struct ProfileSet {
    pub layers: Vec<Profile>,
    pub hosts: Vec<Profile>,
}

impl ProfileSet {
    /// The built-in profiles (parsed from the embedded TOML; a failure here is a bug that
    /// the unit tests catch, so it is reported as an input error on the built-in file).
    pub fn builtin() -> Result<ProfileSet, InputError> {
        let src = Source::new(BUILTIN_NAME, BUILTIN_TOML);
        let doc: toml::Table = toml::from_str(BUILTIN_TOML).map_err(|e| InputError {
            file: BUILTIN_NAME.into(),
            line_col: e.span().map(|s| line_col(BUILTIN_TOML, s.start)),
            message: e.message().to_string(),
        })?;
        let mut set = ProfileSet {
            layers: vec![],
            hosts: vec![],
        };
        for (section, kind) in [("layers", ProfileKind::Layer), ("hosts", ProfileKind::Host)] {
            if let Some(toml::Value::Table(t)) = doc.get(section) {
                for (name, v) in t {
                    let toml::Value::Table(fields) = v else {
                        return Err(src.error(&[section, name], "expected a table"));
                    };
                    set.apply(kind, name, fields, &src, section, Tag::Scenario)?;
                }
            }
        }
        Ok(set)
    }

    pub fn layer(&self, name: &str) -> Option<&Profile> {
        self.layers.iter().find(|p| p.name == name)
    }

    pub fn host(&self, name: &str) -> Option<&Profile> {
        self.hosts.iter().find(|p| p.name == name)
    }

    fn list_mut(&mut self, kind: ProfileKind) -> &mut Vec<Profile> {
        match kind {
            ProfileKind::Layer => &mut self.layers,
            ProfileKind::Host => &mut self.hosts,
        }
    }

    fn list(&self, kind: ProfileKind) -> &Vec<Profile> {
        match kind {
            ProfileKind::Layer => &self.layers,
            ProfileKind::Host => &self.hosts,
        }
    }

    /// Applies one profile table (built-in or scenario override) on top of the set.
    /// A table for an existing name overrides its fields; a new name starts from `base`
    /// (or `profile` for hosts) when given, else from neutral defaults.
    pub(crate) fn apply(
        &mut self,
        kind: ProfileKind,
        name: &str,
        fields: &toml::Table,
        src: &Source,
        section: &str,
        plain_tag: Tag,
    ) -> Result<(), InputError> {
        let base_key = match kind {
            ProfileKind::Layer => "base",
            ProfileKind::Host => "profile",
        };
        let mut profile = match self.list(kind).iter().find(|p| p.name == name) {
            Some(p) => p.clone(),
            None => match fields.get(base_key).or_else(|| fields.get("base")) {
                Some(toml::Value::String(b)) => {
                    let names: Vec<&str> =
                        self.list(kind).iter().map(|p| p.name.as_str()).collect();
                    let Some(base) = self.list(kind).iter().find(|p| &p.name == b) else {
                        return Err(src.error(
                            &[section, name, base_key],
                            unknown_name(
                                match kind {
                                    ProfileKind::Layer => "layer profile",
                                    ProfileKind::Host => "host profile",
                                },
                                b,
                                names,
                            ),
                        ));
                    };
                    let mut p = base.clone();
                    p.name = name.to_string();
                    p
                }
                _ => Profile::empty(name, kind),
            },
        };
        // A host table may name its profile even when the host name equals nothing built-in.
        if let (ProfileKind::Host, Some(toml::Value::String(b))) = (kind, fields.get("profile"))
            && self.list(kind).iter().all(|p| &p.name != b)
        {
            let names: Vec<&str> = self.list(kind).iter().map(|p| p.name.as_str()).collect();
            return Err(src.error(
                &[section, name, "profile"],
                unknown_name("host profile", b, names),
            ));
        }
        let text_keys = kind.text_keys();
        for (key, value) in fields {
            let path = [section, name, key.as_str()];
            if let Some((_, allowed)) = text_keys.iter().find(|(k, _)| k == key) {
                match (key.as_str(), value) {
                    ("kernel", toml::Value::Boolean(b)) => profile.kernel = *b,
                    ("kernel", _) => {
                        return Err(src.error(&path, "`kernel` expects true or false"));
                    }
                    ("count", _) => {} // handled by the scenario (fleet size, not a profile field)
                    ("base" | "profile", toml::Value::String(_)) => {}
                    (_, toml::Value::String(s)) => {
                        if !allowed.is_empty() && !allowed.contains(&s.as_str()) {
                            return Err(src.error(
                                &path,
                                unknown_name(
                                    &format!("value for `{key}`"),
                                    s,
                                    allowed.iter().copied(),
                                ),
                            ));
                        }
                        if key == "description" {
                            profile.description = s.clone();
                        } else {
                            profile.text.insert(key.clone(), s.clone());
                        }
                    }
                    _ => return Err(src.error(&path, format!("`{key}` expects a string"))),
                }
                continue;
            }
            let Some(d) = kind.params().iter().find(|d| d.name == key) else {
                let valid = kind
                    .params()
                    .iter()
                    .map(|d| d.name)
                    .chain(text_keys.iter().map(|(k, _)| *k));
                return Err(src.error(&path, unknown_name("key", key, valid)));
            };
            let param = parse_param(d, value, src, &path, plain_tag)?;
            profile.params.insert(d.name.to_string(), param);
        }
        let list = self.list_mut(kind);
        match list.iter_mut().find(|p| p.name == name) {
            Some(slot) => *slot = profile,
            None => list.push(profile),
        }
        Ok(())
    }
}

/// Parses `1.5` or `{ value = 1.5, unit = "x", source = "...", tag = "measured" }`.
fn parse_param(
    d: &ParamDef,
    value: &toml::Value,
    src: &Source,
    path: &[&str],
    plain_tag: Tag,
) -> Result<Param, InputError> {
    let number = |v: &toml::Value| match v {
        toml::Value::Integer(i) => Some(*i as f64),
        toml::Value::Float(f) => Some(*f),
        _ => None,
    };
    let expected = format!(
        "`{}` expects a number in {} (or {{ value, source, tag }})",
        d.name, d.unit
    );
    let (v, source, tag) = match value {
        toml::Value::Table(t) => {
            for k in t.keys() {
                if !["value", "unit", "source", "tag"].contains(&k.as_str()) {
                    let mut p = path.to_vec();
                    p.push(k);
                    return Err(src.error(
                        &p,
                        unknown_name("key", k, ["value", "unit", "source", "tag"]),
                    ));
                }
            }
            let Some(v) = t.get("value").and_then(number) else {
                return Err(src.error(
                    path,
                    format!("{expected}: `value` is missing or not a number"),
                ));
            };
            if let Some(u) = t.get("unit").and_then(|u| u.as_str())
                && u != d.unit
            {
                return Err(src.error(
                    path,
                    format!("`{}` is measured in `{}`, not `{u}`", d.name, d.unit),
                ));
            }
            let source = t
                .get("source")
                .and_then(|s| s.as_str())
                .unwrap_or("set in the scenario")
                .to_string();
            let tag = match t.get("tag").and_then(|s| s.as_str()) {
                None => plain_tag,
                Some(s) => Tag::parse(s).ok_or_else(|| {
                    src.error(path, unknown_name("tag", s, Tag::NAMES.iter().copied()))
                })?,
            };
            (v, source, tag)
        }
        other => match number(other) {
            Some(v) => (v, format!("set in {}", src.name), plain_tag),
            None => return Err(src.error(path, expected)),
        },
    };
    if !v.is_finite() || v < d.min || v > d.max {
        return Err(src.error(
            path,
            format!(
                "`{}` = {v} is out of range: expected {} to {} {}",
                d.name, d.min, d.max, d.unit
            ),
        ));
    }
    Ok(Param {
        value: v,
        unit: d.unit.to_string(),
        source,
        tag,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtins_parse_with_provenance() {
        let set = ProfileSet::builtin().expect("built-in profiles parse");
        for name in [
            "container-runc",
            "container-crun",
            "vm-kvm",
            "vm-kvm-untuned",
            "microvm-firecracker",
            "pod-kubevirt",
            "lpar-prsm",
            "guest-zvm",
        ] {
            let p = set.layer(name).unwrap_or_else(|| panic!("layer {name}"));
            assert!(!p.description.is_empty(), "{name} has a description");
            for (k, param) in &p.params {
                assert!(
                    param.tag == Tag::Default || !param.source.is_empty(),
                    "{name}.{k} has a source"
                );
            }
        }
        for name in ["x86-2s", "mainframe-lpar"] {
            let h = set.host(name).unwrap();
            // The capacity parameters are set explicitly by every built-in host profile;
            // family-specific ones (steal on x86, PR/SM sharing on LPARs) may stay neutral.
            for k in [
                "cores",
                "threads_per_core",
                "smt_gain",
                "core_speed",
                "memory_gib",
                "host_reserved_mib",
                "cpu_ceiling",
                "memory_overcommit",
                "paging_slope",
            ] {
                assert_ne!(
                    h.params[k].tag,
                    Tag::Default,
                    "{name}.{k} must be calibrated"
                );
            }
        }
        // The calibration table's headline numbers.
        assert_eq!(
            set.layer("vm-kvm").unwrap().value(LayerParam::CpuFactor),
            1.02
        );
        assert_eq!(
            set.layer("vm-kvm-untuned")
                .unwrap()
                .value(LayerParam::CpuFactor),
            1.17
        );
        assert_eq!(
            set.layer("pod-kubevirt")
                .unwrap()
                .value(LayerParam::MemFixedMib),
            218.0
        );
        assert_eq!(
            set.host("mainframe-lpar")
                .unwrap()
                .value(HostParam::SmtGain),
            1.3
        );
        assert!(set.layer("vm-kvm").unwrap().kernel);
        assert!(!set.layer("container-runc").unwrap().kernel);
    }

    #[test]
    fn plain_override_is_tagged_scenario_and_range_checked() {
        let mut set = ProfileSet::builtin().unwrap();
        let text = "[layers.vm-kvm]\ncpu_factor = 1.05\n";
        let src = Source::new("s.toml", text);
        let doc: toml::Table = toml::from_str(text).unwrap();
        let t = doc["layers"]["vm-kvm"].as_table().unwrap();
        set.apply(
            ProfileKind::Layer,
            "vm-kvm",
            t,
            &src,
            "layers",
            Tag::Scenario,
        )
        .unwrap();
        let p = &set.layer("vm-kvm").unwrap().params["cpu_factor"];
        assert_eq!((p.value, p.tag), (1.05, Tag::Scenario));

        let text = "[layers.vm-kvm]\nattenuation = 1.5\n";
        let src = Source::new("s.toml", text);
        let doc: toml::Table = toml::from_str(text).unwrap();
        let t = doc["layers"]["vm-kvm"].as_table().unwrap();
        let e = set
            .apply(
                ProfileKind::Layer,
                "vm-kvm",
                t,
                &src,
                "layers",
                Tag::Scenario,
            )
            .unwrap_err();
        assert_eq!(e.line_col, Some((2, 1)));
        assert!(e.message.contains("out of range"), "{}", e.message);
    }

    #[test]
    fn unknown_key_names_nearest() {
        let mut set = ProfileSet::builtin().unwrap();
        let text = "[layers.vm-kvm]\n\ncpu_factr = 1.05\n";
        let src = Source::new("s.toml", text);
        let doc: toml::Table = toml::from_str(text).unwrap();
        let t = doc["layers"]["vm-kvm"].as_table().unwrap();
        let e = set
            .apply(
                ProfileKind::Layer,
                "vm-kvm",
                t,
                &src,
                "layers",
                Tag::Scenario,
            )
            .unwrap_err();
        assert_eq!(e.line_col, Some((3, 1)));
        assert!(
            e.message.contains("did you mean `cpu_factor`"),
            "{}",
            e.message
        );
    }
}
