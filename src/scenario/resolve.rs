//! Resolution: a parsed scenario file becomes a [`Scenario`] — profiles applied, names
//! turned into indices, every value checked — one function per section, in the order
//! their errors are reported.

use std::sync::Arc;

use crate::diagnostics::{InputError, Source, unknown_name};
use crate::engine::SimTime;
use crate::model::host::HostType;
use crate::model::ksm::{KsmParams, KsmScope, KsmSettings, KsmTunables};
use crate::model::layer::{Layer, LayerKind};
use crate::model::placement::{MAX_LAYERS, Placement, Policy, VmPer};
use crate::model::workload::{Arrivals, WorkloadClass};
use crate::profiles::{LayerParam, ProfileKind, ProfileSet, Tag, TextKey};

use super::file::{
    KsmFile, PlacementFile, RolloutFile, ScenarioFile, WorkloadFile, improve_serde_message,
};
use super::{Batch, DEFAULT_SLOWDOWN_CAP, Rollout, Scenario, study};

/// Input limits: far beyond any real fleet, low enough that integer accounting (KiB, µcores)
/// cannot overflow and a typo cannot ask for an endless run.
const MAX_MIB: f64 = 1e9;
const MAX_STATIC: u64 = 10_000_000;
const MAX_ARRIVALS: f64 = 1e9;
const MAX_HOSTS: i64 = 1_000_000;
const MAX_SLOTS: u32 = 10_000;

pub(super) fn resolve(
    f: ScenarioFile,
    src: Arc<Source>,
    document: Arc<toml::Table>,
    stem: &str,
) -> Result<Scenario, InputError> {
    let err = |path: &[&str], m: String| src.error(path, m);
    let (horizon_s, warmup_s) = times(&f, &src)?;
    let mut profiles = layer_profiles(&f, &src)?;
    if f.hosts.0.is_empty() {
        return Err(err(
            &[],
            "the scenario defines no hosts: add a [hosts.NAME] table with `profile` and `count`"
                .into(),
        ));
    }
    let host_types = f
        .hosts
        .0
        .iter()
        .map(|(name, table)| host_type(&f, name, table, &mut profiles, horizon_s, &src))
        .collect::<Result<Vec<_>, _>>()?;
    check_start_times(&profiles, &src)?;
    // Workloads.
    if f.workloads.0.is_empty() {
        return Err(err(
            &[],
            "the scenario defines no workloads: add a [workloads.NAME] table".into(),
        ));
    }
    let mut images: Vec<String> = vec![];
    let workloads = f
        .workloads
        .0
        .iter()
        .map(|(name, w)| workload(name, w, horizon_s, &host_types, &mut images, &src))
        .collect::<Result<Vec<_>, _>>()?;
    // Placements.
    if f.placements.0.is_empty() {
        return Err(err(
            &[],
            "the scenario defines no placements: add a [placements.NAME] table with `layers`"
                .into(),
        ));
    }
    let placements = f
        .placements
        .0
        .iter()
        .map(|(name, p)| placement(name, p, &profiles, &host_types, &src))
        .collect::<Result<Vec<_>, _>>()?;
    check_fit(&placements, &host_types, &workloads, &src)?;
    if let Err((key, m)) = f.slo.validate() {
        return Err(err(&["slo", key], m));
    }
    let ksm = resolve_ksm(&f.ksm, horizon_s, &src, &["ksm"])?;
    let rollouts = f
        .rollout
        .iter()
        .enumerate()
        .map(|(i, r)| rollout(i, r, &workloads, horizon_s, &src))
        .collect::<Result<Vec<_>, _>>()?;
    let study = study::resolve_study(f.study.as_ref(), &src)?;
    let sweep = study::resolve_sweep(f.sweep.as_ref(), &src, &document, &profiles)?;

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
        document,
    })
}

/// `horizon_s` and `warmup_s`, checked.
fn times(f: &ScenarioFile, src: &Source) -> Result<(f64, f64), InputError> {
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
    Ok((horizon_s, warmup_s))
}

/// The built-in profiles with the scenario's `[layers.*]` tables applied on top.
fn layer_profiles(f: &ScenarioFile, src: &Source) -> Result<ProfileSet, InputError> {
    // Profiles: built-ins, then the scenario's layer and host tables on top.
    let mut profiles = ProfileSet::builtin()?;
    for (name, table) in &f.layers.0 {
        profiles.apply(
            ProfileKind::Layer,
            name,
            table,
            src,
            "layers",
            Tag::Scenario,
        )?;
    }
    Ok(profiles)
}

/// One `[hosts.NAME]` table: its profile (built-in or overridden), fleet size, base
/// hypervisor and ksmd.
fn host_type(
    f: &ScenarioFile,
    name: &str,
    table: &toml::Table,
    profiles: &mut ProfileSet,
    horizon_s: f64,
    src: &Source,
) -> Result<HostType, InputError> {
    let err = |path: &[&str], m: String| src.error(path, m);
    let builtin_names: Vec<String> = profiles.hosts.iter().map(|p| p.name.clone()).collect();
    if !table.contains_key("profile") && !builtin_names.iter().any(|b| b == name) {
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
    profiles.apply(ProfileKind::Host, name, table, src, "hosts", Tag::Scenario)?;
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
    let hypervisor = match p.text(TextKey::Hypervisor).unwrap_or("none") {
        "none" => None,
        h => match profiles.layer(h) {
            Some(l) => Some(Layer::from_profile(l)),
            None => {
                let names =
                    std::iter::once("none").chain(profiles.layers.iter().map(|l| l.name.as_str()));
                return Err(err(
                    &["hosts", name, "hypervisor"],
                    unknown_name("hypervisor layer", h, names),
                ));
            }
        },
    };
    let mut ht = HostType::from_profile(name, count, p, hypervisor);
    ht.ksm = match &host_ksm {
        None => resolve_ksm(&f.ksm, horizon_s, src, &["ksm"])?,
        Some(k) => resolve_ksm(
            &f.ksm.overridden_by(k),
            horizon_s,
            src,
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
    Ok(ht)
}

/// Every layer's start-time percentiles are ordered.
fn check_start_times(profiles: &ProfileSet, src: &Source) -> Result<(), InputError> {
    let err = |path: &[&str], m: String| src.error(path, m);
    for (l, p) in profiles.layers.iter().enumerate() {
        let median = p.value(LayerParam::StartMedianS);
        let p95 = p.value(LayerParam::StartP95S);
        if median > 0.0 && p95 < median {
            let name = &profiles.layers[l].name;
            return Err(err(
                &["layers", name],
                format!("layer `{name}`: start_p95_s ({p95}) is below start_median_s ({median})"),
            ));
        }
    }
    Ok(())
}

/// One `[workloads.NAME]` class. `images` collects image names across classes (classes
/// naming the same image share its content).
fn workload(
    name: &str,
    w: &WorkloadFile,
    horizon_s: f64,
    host_types: &[HostType],
    images: &mut Vec<String>,
    src: &Source,
) -> Result<WorkloadClass, InputError> {
    let err = |path: &[&str], m: String| src.error(path, m);
    let at = |k: &'static str| vec!["workloads", name, k];
    let arrivals = match (w.count, w.arrival_rate_per_s) {
        (Some(_), Some(_)) => {
            return Err(err(
                &at("count"),
                format!("workload `{name}`: give either `count` or `arrival_rate_per_s`, not both"),
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
    let image_name = w.image.clone().unwrap_or_else(|| name.to_string());
    let image = match images.iter().position(|i| *i == image_name) {
        Some(i) => i,
        None => {
            images.push(image_name.clone());
            images.len() - 1
        }
    } as u32;
    Ok(WorkloadClass {
        name: name.to_string(),
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
        host_types: host_indices(w.hosts.as_deref(), host_types)
            .map_err(|m| err(&at("hosts"), m))?,
    })
}

/// One `[placements.NAME]` layer stack.
fn placement(
    name: &str,
    p: &PlacementFile,
    profiles: &ProfileSet,
    host_types: &[HostType],
    src: &Source,
) -> Result<Placement, InputError> {
    let err = |path: &[&str], m: String| src.error(path, m);
    let at = |k: &'static str| vec!["placements", name, k];
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
        host_indices(p.hosts.as_deref(), host_types).map_err(|m| err(&at("hosts"), m))?;
    if host_idx.is_empty() {
        return Err(err(
            &at("hosts"),
            format!("placement `{name}` runs on no host type"),
        ));
    }
    Ok(Placement {
        name: name.to_string(),
        description: p.description.clone().unwrap_or_default(),
        layers,
        unit_depth,
        slots,
        vm_per,
        policy,
        host_types: host_idx,
    })
}

/// Every workload fits an empty host under every configuration it runs in; otherwise
/// the configuration could only block, which is an input mistake.
fn check_fit(
    placements: &[Placement],
    host_types: &[HostType],
    workloads: &[WorkloadClass],
    src: &Source,
) -> Result<(), InputError> {
    let err = |path: &[&str], m: String| src.error(path, m);
    for pl in placements {
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
    Ok(())
}

/// The `i`-th `[[rollout]]`.
fn rollout(
    i: usize,
    r: &RolloutFile,
    workloads: &[WorkloadClass],
    horizon_s: f64,
    src: &Source,
) -> Result<Rollout, InputError> {
    let err = |path: &[&str], m: String| src.error(path, m);
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
    Ok(Rollout {
        name: r
            .name
            .clone()
            .unwrap_or_else(|| format!("{}-{i}", r.workload)),
        class,
        start: SimTime::from_secs_f64(r.start_s),
        batch,
        kernel,
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
    let d = KsmTunables::default();
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
    let tunables = KsmTunables {
        pages_to_scan: k.pages_to_scan.unwrap_or(d.pages_to_scan),
        sleep_millisecs: k.sleep_millisecs.unwrap_or(d.sleep_millisecs),
        hz: k.hz.unwrap_or(d.hz),
        max_page_sharing: k.max_page_sharing.unwrap_or(d.max_page_sharing),
        use_zero_pages: k.use_zero_pages.unwrap_or(d.use_zero_pages),
        scope,
        per_page_ns: us_to_ns("per_page_us", k.per_page_us, d.per_page_ns)?,
        per_wake_ns: us_to_ns("per_wake_us", k.per_wake_us, d.per_wake_ns)?,
    };
    let params = KsmParams::new(tunables).map_err(|e| fail(e.key(), format!("ksm: {e}")))?;
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
