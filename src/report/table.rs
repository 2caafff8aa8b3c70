//! Every plain-text table capsim prints: the placement comparison (also in the HTML
//! report), KSM, per-class SLOs and rollouts of a run, the study table of a sweep, the
//! search table, `explain` and `profiles`.

use crate::model::workload::Arrivals;
use crate::profiles::{
    HOST_PARAMS, HostParam, LAYER_PARAMS, LayerParam, Param, Profile, ProfileSet, Tag, TextKey,
};
use crate::results::search::SearchReport;
use crate::results::stats::Estimate;
use crate::results::summary::Summary;
use crate::scenario::Scenario;

/// A cell that reads as a number ("12.5", "-3", "+4%", "38.2 ±1.1"): right-aligned in
/// the terminal and in the HTML report.
pub(crate) fn looks_numeric(s: &str) -> bool {
    s.chars()
        .next()
        .is_some_and(|c| c.is_ascii_digit() || c == '-' || c == '+')
        && s.chars().any(|c| c.is_ascii_digit())
}

/// Left-aligns text columns and right-aligns numeric-looking ones.
pub fn render(header: &[&str], rows: &[Vec<String>]) -> String {
    let n = header.len();
    let mut width: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate().take(n) {
            width[i] = width[i].max(c.chars().count());
        }
    }
    let mut out = String::new();
    let line = |cells: &[String], out: &mut String| {
        for (i, c) in cells.iter().enumerate().take(n) {
            let pad = width[i] - c.chars().count();
            if i > 0 {
                out.push_str("  ");
            }
            if looks_numeric(c) {
                out.push_str(&" ".repeat(pad));
                out.push_str(c);
            } else {
                out.push_str(c);
                if i + 1 < n {
                    out.push_str(&" ".repeat(pad));
                }
            }
        }
        out.push('\n');
    };
    line(
        &header.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
        &mut out,
    );
    let rule: Vec<String> = width.iter().map(|w| "-".repeat(*w)).collect();
    line(&rule, &mut out);
    for r in rows {
        line(r, &mut out);
    }
    out
}

/// `v` with `digits` decimals, "-" when undefined.
fn number(v: Option<f64>, digits: usize) -> String {
    match v {
        Some(x) if x.is_finite() => format!("{x:.digits$}"),
        _ => "-".into(),
    }
}

/// "38.2 ±1.1" when a half-width exists, "38.2" when not, "-" without a mean.
fn with_ci(e: Option<&Estimate>, digits: usize, scale: f64) -> String {
    match e.map(|e| (e.mean, e.half_width)) {
        Some((Some(m), Some(h))) => format!("{:.digits$} ±{:.digits$}", m * scale, h * scale),
        Some((Some(m), None)) => format!("{:.digits$}", m * scale),
        _ => "-".into(),
    }
}

/// The comparison table `capsim run` prints.
pub fn comparison(s: &Summary) -> String {
    let (header, rows) = comparison_rows(s);
    render(&header, &rows)
}

/// The comparison table's header and rows (the terminal and the HTML report share them).
pub fn comparison_rows(s: &Summary) -> ([&'static str; 12], Vec<Vec<String>>) {
    let header = [
        "host",
        "placement",
        "density/host",
        "hosts used",
        "blocked %",
        "MiB/workload",
        "GiB committed/host",
        "useful cores/host",
        "overhead cores/host",
        "slowdown p99",
        "start p95 s",
        "SLO met",
    ];
    let mut rows = vec![];
    for c in &s.configurations {
        let m = |k: &str| c.mean(k);
        let overhead: f64 = c
            .metrics
            .iter()
            .filter(|(k, _)| {
                k.starts_with("cpu_cores_per_host.") && *k != "cpu_cores_per_host.useful"
            })
            .filter_map(|(_, e)| e.mean)
            .sum();
        rows.push(vec![
            c.host_type.clone(),
            c.placement.clone(),
            with_ci(c.estimate("density_per_host"), 1, 1.0),
            number(m("hosts_used_mean"), 2),
            number(m("blocking_probability").map(|x| x * 100.0), 2),
            number(m("mem_per_workload_mib"), 0),
            number(m("mem_committed_mib_per_host").map(|x| x / 1024.0), 1),
            number(m("cpu_cores_per_host.useful"), 2),
            number(Some(overhead), 3),
            number(m("slowdown_p99"), 3),
            number(m("start_latency_p95_s"), 2),
            match m("slo_met") {
                Some(x) if s.replications > 1 => format!("{:.0}%", x * 100.0),
                Some(x) if x >= 1.0 => "yes".into(),
                Some(_) => "no".into(),
                None => "-".into(),
            },
        ]);
    }
    (header, rows)
}

/// The KSM table: memory saved, ksmd CPU and time to merge, for configurations that ran
/// ksmd (empty string when none did).
pub fn ksm(s: &Summary) -> String {
    let mut rows = vec![];
    for c in &s.configurations {
        let m = |k: &str| c.mean(k);
        let Some(sharing) = m("ksm.pages_sharing") else {
            continue;
        };
        rows.push(vec![
            c.host_type.clone(),
            c.placement.clone(),
            number(m("ksm.scan_rate_pages_per_s"), 0),
            number(Some(sharing), 0),
            number(m("ksm.pages_shared"), 0),
            number(Some(sharing * 4.0 / 1024.0 / 1024.0), 2),
            number(m("mem_saved_mib_per_host.ksm").map(|x| x / 1024.0), 2),
            number(m("cpu_cores_per_host.ksmd"), 4),
            number(m("ksm.time_to_full_merge_s"), 0),
            number(m("ksm.full_scans"), 1),
        ]);
    }
    if rows.is_empty() {
        return String::new();
    }
    let header = [
        "host",
        "placement",
        "scan pages/s",
        "pages_sharing",
        "pages_shared",
        "saved at end GiB",
        "saved time-avg GiB",
        "ksmd cores/host",
        "full merge s",
        "full_scans",
    ];
    render(&header, &rows)
}

/// Per-class SLO results (`slo_violation_fraction.<class>` …), one row per
/// configuration × class; empty when no class has objectives.
pub fn class_slos(s: &Summary) -> String {
    let mut rows = vec![];
    for c in &s.configurations {
        let m = |k: &str| c.mean(k);
        let classes: Vec<&str> = c
            .metrics
            .iter()
            .filter_map(|(k, _)| k.strip_prefix("slowdown_p99."))
            .collect();
        for class in classes {
            if m(&format!("slowdown_p99.{class}")).is_none() {
                continue;
            }
            rows.push(vec![
                c.host_type.clone(),
                c.placement.clone(),
                class.to_string(),
                number(m(&format!("slowdown_p99.{class}")), 3),
                number(
                    m(&format!("slo_violation_fraction.{class}")).map(|x| x * 100.0),
                    2,
                ),
                number(m(&format!("start_latency_p95_s.{class}")), 2),
                number(
                    m(&format!("blocking_probability.{class}")).map(|x| x * 100.0),
                    2,
                ),
                number(m("interference_mean"), 3),
            ]);
        }
    }
    if rows.is_empty() {
        return String::new();
    }
    let header = [
        "host",
        "placement",
        "class",
        "slowdown p99",
        "% time over SLO",
        "start p95 s",
        "blocked %",
        "interference mean",
    ];
    render(&header, &rows)
}

/// Rollouts: waves, duration and capacity lost per configuration.
pub fn rollouts(s: &Summary) -> String {
    let mut rows = vec![];
    for c in &s.configurations {
        let m = |k: &str| c.mean(k);
        let names: Vec<&str> = c
            .metrics
            .iter()
            .filter_map(|(k, _)| k.strip_prefix("rollout.")?.strip_suffix(".duration_s"))
            .collect();
        for r in names {
            rows.push(vec![
                c.host_type.clone(),
                c.placement.clone(),
                r.to_string(),
                number(m(&format!("rollout.{r}.instances")), 0),
                number(m(&format!("rollout.{r}.waves")), 0),
                number(m(&format!("rollout.{r}.duration_s")), 1),
                number(m(&format!("rollout.{r}.capacity_lost_instance_s")), 0),
            ]);
        }
    }
    if rows.is_empty() {
        return String::new();
    }
    let header = [
        "host",
        "placement",
        "rollout",
        "instances",
        "waves",
        "duration s",
        "instance-s unavailable",
    ];
    render(&header, &rows)
}

/// The table of a sweep: one row per point × configuration with the axis values,
/// replications, density and memory with their CIs.
pub fn study(s: &Summary) -> String {
    let mut header: Vec<&str> = vec!["point"];
    header.extend(s.axes.iter().map(String::as_str));
    header.extend([
        "host",
        "placement",
        "reps",
        "density/host",
        "MiB/workload",
        "blocked %",
        "SLO met",
    ]);
    let rows: Vec<Vec<String>> = s
        .configurations
        .iter()
        .map(|c| {
            let mut row = vec![c.point.to_string()];
            for axis in &s.axes {
                row.push(c.axis_values.get(axis).cloned().unwrap_or_default());
            }
            row.extend([
                c.host_type.clone(),
                c.placement.clone(),
                c.replications.to_string(),
                with_ci(c.estimate("density_per_host"), 1, 1.0),
                with_ci(c.estimate("mem_per_workload_mib"), 0, 1.0),
                with_ci(c.estimate("blocking_probability"), 2, 100.0),
                c.mean("slo_met")
                    .map_or("-".into(), |x| format!("{:.0}%", x * 100.0)),
            ]);
            row
        })
        .collect();
    render(&header, &rows)
}

/// The table of `capsim search`: one row per point × configuration with the count at
/// the SLO, its bracket, and density and memory there.
pub fn search(report: &SearchReport) -> String {
    let rows: Vec<Vec<String>> = report
        .results
        .iter()
        .map(|r| {
            let mut row = vec![r.point.to_string()];
            row.extend(r.axis_values.iter().map(|(_, v)| v.clone()));
            row.extend([
                r.host_type.clone(),
                r.placement.clone(),
                r.count.to_string(),
                match r.bracket.1 {
                    Some(h) => format!("[{}, {h})", r.bracket.0),
                    None => format!(">= {} (cap)", r.bracket.0),
                },
                with_ci(Some(&r.density_per_host), 1, 1.0),
                with_ci(Some(&r.mem_per_workload_mib), 1, 1.0),
                format!("{:.0}%", r.slo_met_fraction * 100.0),
                r.evaluations.len().to_string(),
            ]);
            row
        })
        .collect();
    let mut header = vec!["point"];
    header.extend(report.axes());
    header.extend([
        "host",
        "placement",
        "count at SLO",
        "bracket",
        "density/host",
        "MiB/workload",
        "SLO met",
        "counts tried",
    ]);
    render(&header, &rows)
}

fn param_row(scope: &str, name: &str, p: &Param) -> Vec<String> {
    vec![
        scope.to_string(),
        name.to_string(),
        format!("{}", p.value),
        p.unit.clone(),
        p.tag.to_string(),
        p.source.clone(),
    ]
}

/// Every resolved parameter of a scenario with its unit, tag and source: what `explain`
/// prints and what the HTML report lists as inputs.
pub fn explain_rows(sc: &Scenario) -> Vec<Vec<String>> {
    let mut rows = vec![];
    let mut add_profile = |scope: String, p: &Profile| {
        for (k, param) in &p.params {
            if param.tag != Tag::Default {
                rows.push(param_row(&scope, k, param));
            }
        }
    };
    for ht in &sc.host_types {
        if let Some(p) = sc.profiles.host(&ht.name) {
            add_profile(format!("host {}", ht.name), p);
        }
        if let Some(hyp) = &ht.hypervisor
            && let Some(p) = sc.profiles.layer(&hyp.name)
        {
            add_profile(format!("hypervisor {}", hyp.name), p);
        }
    }
    let mut seen: Vec<&str> = vec![];
    for pl in &sc.placements {
        for l in &pl.layers {
            if !seen.contains(&l.name.as_str()) {
                seen.push(&l.name);
                if let Some(p) = sc.profiles.layer(&l.name) {
                    add_profile(format!("layer {}", l.name), p);
                }
            }
        }
    }
    for w in &sc.workloads {
        let scope = format!("workload {}", w.name);
        let mut r = |k: &str, v: String, unit: &str| {
            rows.push(vec![
                scope.clone(),
                k.to_string(),
                v,
                unit.to_string(),
                "scenario".into(),
                format!("set in {}", sc.source.name),
            ])
        };
        match w.arrivals {
            Arrivals::Static { count } => r("count", count.to_string(), "instances"),
            Arrivals::Poisson { rate_per_s } => {
                r("arrival_rate_per_s", rate_per_s.to_string(), "1/s")
            }
        }
        if let Some(l) = w.lifetime_s {
            r("lifetime_s", l.to_string(), "s");
        }
        r("tenants", w.tenants.to_string(), "tenants");
        r("image", w.image_name.clone(), "");
        r("private_mib", w.private_mib.to_string(), "MiB");
        r("image_mib", w.image_mib.to_string(), "MiB");
        r("zero_mib", w.zero_mib.to_string(), "MiB");
        r(
            "volatile_fraction",
            w.volatile_fraction.to_string(),
            "fraction",
        );
        r("cpu_cores", w.cpu_cores.to_string(), "cores");
        r("cpu_request", w.cpu_request.to_string(), "cores");
        r("vcpus", w.vcpus.to_string(), "vCPUs");
        r("weight", w.weight.to_string(), "");
    }
    rows
}

pub const EXPLAIN_HEADER: [&str; 6] = ["scope", "parameter", "value", "unit", "tag", "source"];

pub fn explain(sc: &Scenario) -> String {
    let mut out = format!(
        "scenario `{}`: seed {}, horizon {} s, warm-up {} s\n",
        sc.name,
        sc.seed,
        sc.horizon.as_secs_f64(),
        sc.warmup.as_secs_f64()
    );
    if !sc.question.is_empty() {
        out.push_str(&format!("question: {}\n", sc.question));
    }
    out.push_str("\nplacements (layers host → workload):\n");
    for pl in &sc.placements {
        let layers: Vec<&str> = pl.layers.iter().map(|l| l.name.as_str()).collect();
        let hosts: Vec<&str> = pl
            .host_types
            .iter()
            .map(|&h| sc.host_types[h].name.as_str())
            .collect();
        let packing = if pl.has_unit() && pl.unit_depth < pl.layers.len() {
            format!(", {} per VM, VMs per {:?}", pl.slots, pl.vm_per).to_lowercase()
        } else {
            String::new()
        };
        out.push_str(&format!(
            "  {:<28} [{}]{}, policy {:?}, on {}\n",
            pl.name,
            layers.join(" → "),
            packing,
            pl.policy,
            hosts.join(", ")
        ));
    }
    out.push('\n');
    out.push_str(&render(&EXPLAIN_HEADER, &explain_rows(sc)));
    let assumed = explain_rows(sc)
        .iter()
        .filter(|r| r[4] == "assumed")
        .count();
    out.push_str(&format!(
        "\n{assumed} parameters are tagged `assumed` (no source found): override them in the scenario when you have measurements.\n"
    ));
    out
}

/// `capsim profiles`: every built-in profile with its headline numbers.
pub fn profiles(set: &ProfileSet) -> String {
    let mut out = String::from("layers:\n");
    let header = [
        "layer",
        "kind",
        "kernel",
        "cpu x",
        "MiB fixed",
        "start p50 s",
        "description",
    ];
    let rows: Vec<Vec<String>> = set
        .layers
        .iter()
        .map(|p| {
            vec![
                p.name.clone(),
                p.text(TextKey::Kind).unwrap_or("-").to_string(),
                if p.kernel {
                    "new".into()
                } else {
                    "shared".into()
                },
                format!("{}", p.value(LayerParam::CpuFactor)),
                format!("{}", p.value(LayerParam::MemFixedMib)),
                format!("{}", p.value(LayerParam::StartMedianS)),
                p.description.clone(),
            ]
        })
        .collect();
    out.push_str(&render(&header, &rows));
    out.push_str("\nhost types:\n");
    let header = [
        "host",
        "family",
        "cores",
        "SMT gain",
        "GiB",
        "ceiling",
        "hypervisor",
        "description",
    ];
    let rows: Vec<Vec<String>> = set
        .hosts
        .iter()
        .map(|p| {
            vec![
                p.name.clone(),
                p.text(TextKey::Family).unwrap_or("-").to_string(),
                format!("{}", p.value(HostParam::Cores)),
                format!("{}", p.value(HostParam::SmtGain)),
                format!("{}", p.value(HostParam::MemoryGib)),
                format!("{}", p.value(HostParam::CpuCeiling)),
                p.text(TextKey::Hypervisor).unwrap_or("none").to_string(),
                p.description.clone(),
            ]
        })
        .collect();
    out.push_str(&render(&header, &rows));
    for (what, defs) in [("layer", LAYER_PARAMS), ("host", HOST_PARAMS)] {
        out.push_str(&format!(
            "\n{what} fields (override any of them in a scenario):\n"
        ));
        let rows: Vec<Vec<String>> = defs
            .iter()
            .map(|d| {
                vec![
                    d.name.to_string(),
                    d.unit.to_string(),
                    format!("{} .. {}", d.min, d.max),
                    d.doc.to_string(),
                ]
            })
            .collect();
        out.push_str(&render(&["field", "unit", "range", "meaning"], &rows));
    }
    out.push_str("\n`capsim explain SCENARIO` lists every parameter with its source and tag.\n");
    out
}
