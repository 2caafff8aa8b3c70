//! The report's figures, each built from a summary (and the KSM timeline): density,
//! CPU and memory breakdowns, distributions, sweeps, SLO violations vs density, memory
//! with and without KSM, and KSM counters over time.

use std::collections::BTreeMap;
use std::path::Path;

use plotters::style::RGBColor;

use super::chart::{
    BarChart, BarRow, COMPONENT_PALETTE, GREY, Header, LegendItem, LineChart, Panel, Series,
    Swatch, USEFUL, XScale, emit,
};
use super::{Colours, PlotSet, format_number, format_percent};
use crate::diagnostics::Result;
use crate::ordered_map::OrderedMap;
use crate::results::records::TimelineRecord;
use crate::results::summary::{ConfigSummary, Summary};

/// More sweep plots than this would drown the report; the rest are listed as left out.
const MAX_SWEEP_PLOTS: usize = 40;

// ---------------------------------------------------------------------------------------
// Building the figures from a summary.

/// The mean of `name` in `c`, if defined.
fn mean(c: &ConfigSummary, name: &str) -> Option<f64> {
    c.estimate(name)
        .and_then(|e| e.mean)
        .filter(|x| x.is_finite())
}

fn host_types(s: &Summary) -> Vec<String> {
    let mut v: Vec<String> = vec![];
    for c in &s.configurations {
        if !v.contains(&c.host_type) {
            v.push(c.host_type.clone());
        }
    }
    v
}

fn point_indices(s: &Summary) -> Vec<u64> {
    let mut v: Vec<u64> = vec![];
    for c in &s.configurations {
        if !v.contains(&c.point) {
            v.push(c.point);
        }
    }
    v
}

/// The configurations of the first sweep point (all of them for a plain run).
fn first_point(s: &Summary) -> Vec<&ConfigSummary> {
    let p = s.configurations.first().map(|c| c.point);
    s.configurations
        .iter()
        .filter(|c| Some(c.point) == p)
        .collect()
}

fn point_note(s: &Summary) -> String {
    if point_indices(s).len() <= 1 {
        return String::new();
    }
    match s.configurations.first() {
        Some(c) if !c.axis_values.is_empty() => {
            let a: Vec<String> = c
                .axis_values
                .iter()
                .map(|(k, v)| format!("{k} = {v}"))
                .collect();
            format!("; sweep point {} ({})", c.point, a.join(", "))
        }
        Some(c) => format!("; sweep point {}", c.point),
        None => String::new(),
    }
}

fn replications_note(s: &Summary) -> String {
    if s.replications >= 2 {
        format!(
            "mean ± {:.0}% confidence half-width over {} replications",
            s.confidence * 100.0,
            s.replications
        )
    } else {
        "1 replication: no confidence interval (run with --replications N for one)".into()
    }
}

fn safe_stem(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

pub(super) fn density(s: &Summary, colours: &Colours) -> Option<BarChart> {
    let configs = first_point(s);
    let mut panels = vec![];
    let mut names: Vec<&str> = vec![];
    for host in host_types(s) {
        let rows: Vec<BarRow> = configs
            .iter()
            .filter(|c| c.host_type == host)
            .filter_map(|c| {
                let e = c.estimate("density_per_host")?;
                let m = e.mean.filter(|x| x.is_finite())?;
                names.push(&c.placement);
                let half_width = e.half_width.filter(|x| x.is_finite() && *x > 0.0);
                Some(BarRow {
                    label: c.placement.clone(),
                    segments: vec![(m, colours.of(&c.placement))],
                    interval: half_width.map(|w| (m - w, m + w)),
                    note: match half_width {
                        Some(w) => format!("{m:.1} ± {w:.1}"),
                        None => format!("{m:.1}"),
                    },
                })
            })
            .collect();
        if !rows.is_empty() {
            panels.push((format!("host type: {host}"), rows));
        }
    }
    if panels.is_empty() {
        return None;
    }
    Some(BarChart {
        header: Header {
            title: "Density: workloads per host in use".into(),
            subtitle: format!("{}{}", replications_note(s), point_note(s)),
            legend: colours.legend(&names, Swatch::Box),
        },
        x_desc: "workloads per host in use (time-weighted mean)".into(),
        panels,
    })
}

/// Orders breakdown components: useful work first, then layers, hypervisors, ksmd, steal,
/// then anything else in the order the summary lists it.
fn component_rank(k: &str) -> u8 {
    if k == "useful" || k == "workload_memory" {
        0
    } else if k.starts_with("layer:") {
        2
    } else if k.starts_with("hypervisor:") {
        3
    } else if k == "ksmd" {
        4
    } else if k == "steal" {
        5
    } else {
        1
    }
}

pub(super) fn breakdown(
    s: &Summary,
    prefix: &str,
    scale: f64,
    title: &str,
    x_desc: &str,
    useful_key: &str,
    unit: &str,
) -> Option<BarChart> {
    let configs = first_point(s);
    let mut components: Vec<String> = vec![];
    for c in &configs {
        for (k, e) in c.metrics.iter() {
            if let Some(rest) = k.strip_prefix(prefix)
                && e.mean.is_some()
                && !components.iter().any(|x| x == rest)
            {
                components.push(rest.to_string());
            }
        }
    }
    components.sort_by_key(|k| component_rank(k)); // stable: keeps summary order within a rank
    if components.is_empty() {
        return None;
    }
    let mut others = COMPONENT_PALETTE.iter().cycle();
    let colour_of: Vec<(String, RGBColor)> = components
        .iter()
        .map(|k| {
            let c = if k == useful_key {
                USEFUL
            } else {
                *others.next().unwrap_or(&GREY)
            };
            (k.clone(), c)
        })
        .collect();
    let mut panels = vec![];
    for host in host_types(s) {
        let rows: Vec<BarRow> = configs
            .iter()
            .filter(|c| c.host_type == host)
            .filter_map(|c| {
                let segments: Vec<(f64, RGBColor)> = colour_of
                    .iter()
                    .filter_map(|(k, col)| Some((mean(c, &format!("{prefix}{k}"))? * scale, *col)))
                    .collect();
                if segments.is_empty() {
                    return None;
                }
                let total: f64 = segments.iter().map(|x| x.0.max(0.0)).sum();
                let useful = mean(c, &format!("{prefix}{useful_key}")).map(|x| x * scale);
                let note = match useful {
                    Some(u) if total > 0.0 => format!(
                        "{:.1} {unit}; {} {:.0}%",
                        total,
                        useful_key.replace('_', " "),
                        u / total * 100.0
                    ),
                    _ => format!("{total:.1} {unit}"),
                };
                Some(BarRow {
                    label: c.placement.clone(),
                    segments,
                    interval: None,
                    note,
                })
            })
            .collect();
        if !rows.is_empty() {
            panels.push((format!("host type: {host}"), rows));
        }
    }
    if panels.is_empty() {
        return None;
    }
    Some(BarChart {
        header: Header {
            title: title.into(),
            subtitle: format!(
                "means over {} replication(s){}",
                s.replications,
                point_note(s)
            ),
            legend: colour_of
                .iter()
                .map(|(k, c)| LegendItem {
                    label: k.replace('_', " "),
                    colour: *c,
                    swatch: Swatch::Box,
                })
                .collect(),
        },
        x_desc: x_desc.into(),
        panels,
    })
}

/// `labels`: title, x description, y description. `slo`: the bound (x), its label and
/// the quantile it applies to, drawn as dashed reference lines.
pub(super) fn cdf(
    s: &Summary,
    colours: &Colours,
    pick: fn(&ConfigSummary) -> &Vec<[f64; 2]>,
    log: bool,
    [title, x_desc, y_desc]: [&str; 3],
    slo: Option<(f64, String, f64)>,
) -> Option<LineChart> {
    let vline = slo.as_ref().map(|(x, l, _)| (*x, l.clone()));
    let hline = slo
        .as_ref()
        .map(|(_, _, q)| (*q, format!("{}%", format_number(q * 100.0))));
    let configs = first_point(s);
    let mut panels = vec![];
    let mut names: Vec<&str> = vec![];
    for host in host_types(s) {
        let series: Vec<Series> = configs
            .iter()
            .filter(|c| c.host_type == host && !pick(c).is_empty())
            .map(|c| {
                names.push(&c.placement);
                Series {
                    colour: colours.of(&c.placement),
                    points: pick(c).iter().map(|q| (q[1], q[0])).collect(),
                    ..Series::default()
                }
            })
            .collect();
        if !series.is_empty() {
            panels.push(Panel {
                caption: format!("host type: {host}"),
                series,
                vline: vline.clone(),
                hline: hline.clone(),
                ..Panel::default()
            });
        }
    }
    if panels.is_empty() {
        return None;
    }
    let data_max = panels
        .iter()
        .flat_map(|p| p.series.iter().flat_map(|s| s.points.iter().map(|q| q.0)))
        .fold(f64::NEG_INFINITY, f64::max);
    let slo_note = match &vline {
        Some((x, label)) if *x > data_max => {
            format!("; {label}, beyond every value shown")
        }
        Some((_, label)) => format!("; dashed: {label}"),
        None => String::new(),
    };
    Some(LineChart {
        header: Header {
            title: title.into(),
            subtitle: format!(
                "merged over {} replication(s){}{}",
                s.replications,
                point_note(s),
                slo_note
            ),
            legend: colours.legend(&names, Swatch::Line),
        },
        x_desc: x_desc.into(),
        y_desc: y_desc.into(),
        x_scale: if log { XScale::Log } else { XScale::Linear },
        categories: vec![],
        y_fixed: Some((0.0, 1.0)),
        y_from_zero: true,
        share_y: true,
        columns: panels.len().min(2),
        panel_height: 520,
        panels,
        x_format: format_number,
        y_format: format_number,
    })
}

/// Every sweep axis's values, in order of first appearance.
fn sweep_axes(s: &Summary) -> Vec<(String, Vec<String>)> {
    let mut v: Vec<(String, Vec<String>)> = vec![];
    for c in &s.configurations {
        for (k, x) in c.axis_values.iter() {
            match v.iter_mut().find(|(n, _)| n == k) {
                Some((_, xs)) => {
                    if !xs.contains(x) {
                        xs.push(x.clone());
                    }
                }
                None => v.push((k.to_string(), vec![x.clone()])),
            }
        }
    }
    v
}

fn axis_value<'a>(c: &'a ConfigSummary, axis: &str) -> Option<&'a str> {
    c.axis_values.get(axis).map(String::as_str)
}

/// Metrics drawn against each sweep axis: (metric, label, scale).
const SWEEP_METRICS: [(&str, &str, f64); 6] = [
    ("density_per_host", "workloads per host in use", 1.0),
    (
        "mem_resident_mib_per_host",
        "resident memory per host (GiB)",
        1.0 / 1024.0,
    ),
    ("mem_per_workload_mib", "memory per workload (MiB)", 1.0),
    ("slowdown_p99", "p99 slowdown (×)", 1.0),
    ("start_latency_p95_s", "p95 start latency (s)", 1.0),
    ("slo_violation_fraction", "SLO violation fraction", 1.0),
];

pub(super) fn sweeps(s: &Summary, colours: &Colours, dir: &Path, set: &mut PlotSet) -> Result<()> {
    if point_indices(s).len() <= 1 {
        return Ok(());
    }
    let all_axes = sweep_axes(s);
    let mut wanted = vec![];
    for (axis, values) in all_axes.iter().filter(|(_, v)| v.len() > 1) {
        // Sweeping the placement list itself has no per-placement line to draw.
        if axis == "placements" {
            continue;
        }
        let numeric: Option<Vec<f64>> = values.iter().map(|v| v.parse::<f64>().ok()).collect();
        // One figure per combination of the other axes, so each line varies one axis.
        let mut combos: Vec<OrderedMap<String>> = vec![];
        for c in &s.configurations {
            let other: OrderedMap<String> = c
                .axis_values
                .iter()
                .filter(|(k, _)| k != axis)
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect();
            if !combos.contains(&other) {
                combos.push(other);
            }
        }
        for (metric, label, scale) in SWEEP_METRICS {
            if !s.configurations.iter().any(|c| mean(c, metric).is_some()) {
                continue;
            }
            for (combination, other) in combos.iter().enumerate() {
                wanted.push((
                    axis,
                    values,
                    numeric.clone(),
                    metric,
                    label,
                    scale,
                    combination,
                    other.clone(),
                ));
            }
        }
    }
    for (n, (axis, values, numeric, metric, label, scale, combination, other)) in
        wanted.iter().enumerate()
    {
        if n >= MAX_SWEEP_PLOTS {
            set.left_out.push(format!(
                "{} further sweep plots (more than {MAX_SWEEP_PLOTS}); summary.json has the numbers",
                wanted.len() - MAX_SWEEP_PLOTS
            ));
            break;
        }
        let x_of_config = |c: &ConfigSummary| -> Option<f64> {
            let v = axis_value(c, axis)?;
            match numeric {
                Some(_) => v.parse().ok(),
                None => values.iter().position(|x| x == v).map(|i| i as f64),
            }
        };
        let mut panels = vec![];
        let mut names: Vec<&str> = vec![];
        for host in host_types(s) {
            let mut series = vec![];
            for placement in &colours.placements {
                let mut data: Vec<(f64, f64, Option<f64>)> = s
                    .configurations
                    .iter()
                    .filter(|c| c.host_type == host && &c.placement == placement)
                    .filter(|c| {
                        c.axis_values
                            .iter()
                            .filter(|(k, _)| k != *axis)
                            .eq(other.iter())
                    })
                    .filter_map(|c| {
                        let e = c.estimate(metric)?;
                        Some((
                            x_of_config(c)?,
                            e.mean? * scale,
                            e.half_width.map(|w| w * scale),
                        ))
                    })
                    .collect();
                if data.is_empty() {
                    continue;
                }
                data.sort_by(|a, b| a.0.total_cmp(&b.0));
                names.push(placement);
                series.push(Series {
                    colour: colours.of(placement),
                    markers: true,
                    points: data.iter().map(|p| (p.0, p.1)).collect(),
                    band: data
                        .iter()
                        .filter_map(|p| Some((p.0, p.1 - p.2?, p.1 + p.2?)))
                        .collect(),
                    ..Series::default()
                });
            }
            if !series.is_empty() {
                panels.push(Panel {
                    caption: format!("host type: {host}"),
                    series,
                    ..Panel::default()
                });
            }
        }
        if panels.is_empty() {
            continue;
        }
        let others = if other.is_empty() {
            String::new()
        } else {
            let o: Vec<String> = other.iter().map(|(k, v)| format!("{k} = {v}")).collect();
            format!("; {}", o.join(", "))
        };
        let title = format!("{label} vs {axis}");
        let fig = LineChart {
            header: Header {
                title: title.clone(),
                subtitle: format!("{}{others}", replications_note(s)),
                legend: colours.legend(&names, Swatch::Line),
            },
            x_desc: axis.to_string(),
            y_desc: label.to_string(),
            x_scale: if numeric.is_some() {
                XScale::Linear
            } else {
                XScale::Categories
            },
            categories: if numeric.is_some() {
                vec![]
            } else {
                values.to_vec()
            },
            y_fixed: None,
            y_from_zero: *metric != "slowdown_p99",
            share_y: true,
            columns: panels.len().min(2),
            panel_height: 460,
            panels,
            x_format: format_number,
            y_format: if *metric == "slo_violation_fraction" {
                format_percent
            } else {
                format_number
            },
        };
        let stem = format!(
            "sweep_{}_{}{}",
            safe_stem(metric),
            safe_stem(axis),
            if *combination > 0 {
                format!("_{combination}")
            } else {
                String::new()
            }
        );
        set.plots.push(emit(
            &fig,
            dir,
            &stem,
            &title,
            &format!("{label} at each value of the sweep axis `{axis}`, one line per placement; the band is the confidence interval."),
        )?);
    }
    Ok(())
}

/// SLO violation fraction against density, one marker per sweep point; drawn only when
/// the summary carries `slo_violation_fraction` (or a per-class `.<class>` variant).
pub(super) fn slo_vs_density(
    s: &Summary,
    colours: &Colours,
    dir: &Path,
    set: &mut PlotSet,
) -> Result<()> {
    let mut metrics: Vec<String> = vec![];
    for c in &s.configurations {
        for (k, e) in c.metrics.iter() {
            if (k == "slo_violation_fraction" || k.starts_with("slo_violation_fraction."))
                && e.mean.is_some()
                && !metrics.iter().any(|known| known == k)
            {
                metrics.push(k.to_string());
            }
        }
    }
    for metric in metrics {
        let class = metric.strip_prefix("slo_violation_fraction.");
        let mut panels = vec![];
        let mut names: Vec<&str> = vec![];
        for host in host_types(s) {
            let mut series = vec![];
            for placement in &colours.placements {
                let mut data: Vec<(f64, f64, Option<f64>)> = s
                    .configurations
                    .iter()
                    .filter(|c| c.host_type == host && &c.placement == placement)
                    .filter_map(|c| {
                        let e = c.estimate(&metric)?;
                        Some((mean(c, "density_per_host")?, e.mean?, e.half_width))
                    })
                    .collect();
                if data.is_empty() {
                    continue;
                }
                data.sort_by(|a, b| a.0.total_cmp(&b.0));
                names.push(placement);
                series.push(Series {
                    colour: colours.of(placement),
                    markers: true,
                    points: data.iter().map(|p| (p.0, p.1)).collect(),
                    whiskers: data
                        .iter()
                        .filter_map(|p| Some((p.0, (p.1 - p.2?).max(0.0), p.1 + p.2?)))
                        .collect(),
                    ..Series::default()
                });
            }
            if !series.is_empty() {
                panels.push(Panel {
                    caption: format!("host type: {host}"),
                    series,
                    ..Panel::default()
                });
            }
        }
        if panels.is_empty() {
            continue;
        }
        let title = match class {
            Some(c) => format!("SLO violations vs density: class {c}"),
            None => "SLO violations vs density".to_string(),
        };
        let fig = LineChart {
            header: Header {
                title: title.clone(),
                subtitle: format!("one marker per sweep point; {}", replications_note(s)),
                legend: colours.legend(&names, Swatch::Line),
            },
            x_desc: "workloads per host in use".into(),
            y_desc: "fraction of time in SLO violation".into(),
            x_scale: XScale::Linear,
            categories: vec![],
            y_fixed: None,
            y_from_zero: true,
            share_y: true,
            columns: panels.len().min(2),
            panel_height: 460,
            panels,
            x_format: format_number,
            y_format: format_percent,
        };
        let stem = match class {
            Some(c) => format!("slo_violation_vs_density_{}", safe_stem(c)),
            None => "slo_violation_vs_density".into(),
        };
        set.plots.push(emit(
            &fig,
            dir,
            &stem,
            &title,
            "How often the service objectives are violated as workloads pack more densely; each placement is one line.",
        )?);
    }
    Ok(())
}

/// Resident memory per host against the workload count, KSM on vs off: needs a sweep over
/// a `workloads.<class>.count` axis crossed with a KSM axis (`ksm…` or `….ksm…`).
pub(super) fn mem_vs_count_ksm(
    s: &Summary,
    colours: &Colours,
    dir: &Path,
    set: &mut PlotSet,
) -> Result<()> {
    let axes = sweep_axes(s);
    let count_axis = axes.iter().find(|(k, v)| {
        k.starts_with("workloads.")
            && k.ends_with(".count")
            && v.len() > 1
            && v.iter().all(|x| x.parse::<f64>().is_ok())
    });
    let ksm_axis = axes
        .iter()
        .find(|(k, v)| (k.starts_with("ksm") || k.contains(".ksm")) && v.len() > 1);
    let (Some((count, _)), Some((ksm, ksm_values))) = (count_axis, ksm_axis) else {
        return Ok(());
    };
    let mut panels = vec![];
    let mut names: Vec<&str> = vec![];
    for host in host_types(s) {
        let mut series = vec![];
        for placement in &colours.placements {
            for (value_index, ksm_value) in ksm_values.iter().enumerate() {
                let mut data: Vec<(f64, f64)> = s
                    .configurations
                    .iter()
                    .filter(|c| c.host_type == host && &c.placement == placement)
                    .filter(|c| axis_value(c, ksm) == Some(ksm_value.as_str()))
                    .filter_map(|c| {
                        Some((
                            axis_value(c, count)?.parse().ok()?,
                            mean(c, "mem_resident_mib_per_host")? / 1024.0,
                        ))
                    })
                    .collect();
                if data.is_empty() {
                    continue;
                }
                data.sort_by(|a, b| a.0.total_cmp(&b.0));
                if !names.contains(&placement.as_str()) {
                    names.push(placement);
                }
                series.push(Series {
                    colour: colours.of(placement),
                    dashed: value_index > 0,
                    markers: true,
                    points: data,
                    ..Series::default()
                });
            }
        }
        if !series.is_empty() {
            panels.push(Panel {
                caption: format!("host type: {host}"),
                series,
                ..Panel::default()
            });
        }
    }
    if panels.is_empty() {
        return Ok(());
    }
    let mut legend = colours.legend(&names, Swatch::Line);
    for (value_index, ksm_value) in ksm_values.iter().enumerate().take(2) {
        legend.push(LegendItem {
            label: format!("{ksm} = {ksm_value}"),
            colour: GREY,
            swatch: if value_index == 0 {
                Swatch::Line
            } else {
                Swatch::Dashed
            },
        });
    }
    let title = "Memory per host vs workload count, with and without KSM".to_string();
    let fig = LineChart {
        header: Header {
            title: title.clone(),
            subtitle: format!("means over {} replication(s)", s.replications),
            legend,
        },
        x_desc: count.clone(),
        y_desc: "resident memory per host (GiB)".into(),
        x_scale: XScale::Linear,
        categories: vec![],
        y_fixed: None,
        y_from_zero: true,
        share_y: true,
        columns: panels.len().min(2),
        panel_height: 460,
        panels,
        x_format: format_number,
        y_format: format_number,
    };
    set.plots.push(emit(
        &fig,
        dir,
        "mem_vs_count_ksm",
        &title,
        &format!("Resident memory per host as the workload count grows; solid: {ksm} = {}, dashed: the other values.", ksm_values[0]),
    )?);
    Ok(())
}

/// KSM counters over time from `timeline.csv`, averaged over replications at each time.
pub(super) fn ksm_timeline(
    s: &Summary,
    colours: &Colours,
    rows: &[TimelineRecord],
    dir: &Path,
    set: &mut PlotSet,
) -> Result<()> {
    let mut hosts: Vec<String> = host_types(s);
    for r in rows {
        if !hosts.contains(&r.host_type) {
            hosts.push(r.host_type.clone());
        }
    }
    let mut order: Vec<String> = colours.placements.clone();
    for r in rows {
        if !order.contains(&r.placement) {
            order.push(r.placement.clone());
        }
    }
    for host in hosts {
        // (placement) -> time bits -> (sum of each counter, n)
        let mut sums: BTreeMap<usize, BTreeMap<u64, ([f64; 4], f64)>> = BTreeMap::new();
        for r in rows.iter().filter(|r| r.host_type == host) {
            let Some(placement_index) = order.iter().position(|p| p == &r.placement) else {
                continue;
            };
            if !r.row.time_s.is_finite() || r.row.time_s < 0.0 {
                continue;
            }
            let e = sums
                .entry(placement_index)
                .or_default()
                .entry(r.row.time_s.to_bits())
                .or_insert(([0.0; 4], 0.0));
            e.0[0] += r.row.pages_sharing as f64;
            e.0[1] += r.row.pages_shared as f64;
            e.0[2] += r.row.mem_saved_mib / 1024.0;
            e.0[3] += r.row.ksmd_cpu_cores;
            e.1 += 1.0;
        }
        if sums.is_empty() {
            continue;
        }
        let series_of = |k: usize, dashed: bool| -> Vec<Series> {
            sums.iter()
                .map(|(&placement_index, by_t)| Series {
                    colour: colours.of(&order[placement_index]),
                    dashed,
                    points: by_t
                        .iter()
                        .map(|(t, (v, n))| (f64::from_bits(*t) / 3600.0, v[k] / n))
                        .collect(),
                    ..Series::default()
                })
                .collect()
        };
        let mut pages = series_of(0, false);
        pages.extend(series_of(1, true));
        let names: Vec<&str> = sums
            .keys()
            .map(|&placement_index| order[placement_index].as_str())
            .collect();
        let mut legend = colours.legend(&names, Swatch::Line);
        // Placements absent from the summary still get a legend entry.
        for n in &names {
            if !legend.iter().any(|l| l.label == *n) {
                legend.push(LegendItem {
                    label: n.to_string(),
                    colour: colours.of(n),
                    swatch: Swatch::Line,
                });
            }
        }
        legend.push(LegendItem {
            label: "pages_sharing".into(),
            colour: GREY,
            swatch: Swatch::Line,
        });
        legend.push(LegendItem {
            label: "pages_shared".into(),
            colour: GREY,
            swatch: Swatch::Dashed,
        });
        let panels = vec![
            Panel {
                caption: "KSM pages (sharing: solid, shared: dashed)".into(),
                y_desc: Some("pages".into()),
                series: pages,
                ..Panel::default()
            },
            Panel {
                caption: "memory saved by KSM".into(),
                y_desc: Some("GiB saved".into()),
                series: series_of(2, false),
                ..Panel::default()
            },
            Panel {
                caption: "ksmd CPU".into(),
                y_desc: Some("ksmd cores".into()),
                series: series_of(3, false),
                ..Panel::default()
            },
        ];
        let title = format!("KSM over time on {host}");
        let fig = LineChart {
            header: Header {
                title: title.clone(),
                subtitle: "from timeline.csv, mean over replications at each sample time".into(),
                legend,
            },
            x_desc: "simulated time (h)".into(),
            y_desc: String::new(),
            x_scale: XScale::Linear,
            categories: vec![],
            y_fixed: None,
            y_from_zero: true,
            share_y: false,
            columns: 1,
            panel_height: 340,
            panels,
            x_format: format_number,
            y_format: format_number,
        };
        set.plots.push(emit(
            &fig,
            dir,
            &format!("ksm_timeline_{}", safe_stem(&host)),
            &title,
            "KSM merging over time: pages shared and sharing, the memory it saves and the CPU ksmd spends.",
        )?);
    }
    Ok(())
}
