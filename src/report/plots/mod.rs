//! The report's plots, each written as PNG and SVG into `<report dir>/plots/`.
//!
//! Every plot is drawn by one backend-independent routine so the PNG and the SVG always
//! show the same thing. Text uses the bundled DejaVu Sans (registered with plotters at
//! first use), so layout and rasterised glyphs never depend on the fonts of the machine.
//! A placement keeps one colour in every plot: the palette is indexed by the placement's
//! order of first appearance in `summary.json`.
//!
//! Plots whose data a run did not produce (KSM counters, SLO violation fractions, sweeps)
//! are left out rather than drawn empty.

mod chart;
mod figures;

use std::path::{Path, PathBuf};

use plotters::style::RGBColor;

use crate::diagnostics::{Error, Result};
use crate::model::slo::Slo;
use crate::results::records::TimelineRecord;
use crate::results::summary::Summary;
use chart::{LegendItem, PALETTE, Swatch, emit, ensure_font};
use figures::{breakdown, cdf, density, ksm_timeline, mem_vs_count_ksm, slo_vs_density, sweeps};

/// A plot written to disk, for the HTML report.
#[derive(Clone, Debug)]
pub(crate) struct PlotFile {
    pub(crate) stem: String,
    pub(crate) title: String,
    pub(crate) caption: String,
    pub(crate) png: PathBuf,
    pub(crate) svg: PathBuf,
}

/// What was drawn, and what was left out (and why).
#[derive(Clone, Debug, Default)]
pub(crate) struct PlotSet {
    pub(crate) plots: Vec<PlotFile>,
    pub(crate) left_out: Vec<String>,
}

/// Fixed colour per placement: index of first appearance in the summary.
pub(crate) struct Colours {
    placements: Vec<String>,
}

impl Colours {
    pub(crate) fn new(s: &Summary) -> Colours {
        let mut placements: Vec<String> = vec![];
        for c in &s.configurations {
            if !placements.contains(&c.placement) {
                placements.push(c.placement.clone());
            }
        }
        Colours { placements }
    }

    pub(crate) fn of(&self, placement: &str) -> RGBColor {
        let i = self
            .placements
            .iter()
            .position(|p| p == placement)
            .unwrap_or(self.placements.len());
        PALETTE[i % PALETTE.len()]
    }

    fn legend(&self, names: &[&str], swatch: Swatch) -> Vec<LegendItem> {
        self.placements
            .iter()
            .filter(|p| names.contains(&p.as_str()))
            .map(|p| LegendItem {
                label: p.clone(),
                colour: self.of(p),
                swatch,
            })
            .collect()
    }
}

/// Trims a number for an axis label: 1, 2.5, 0.05, 12000.
pub(crate) fn format_number(v: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    let a = v.abs();
    // Four decimals resolve ticks like 1.015 or 0.0025; trailing zeros are trimmed.
    let s = if a >= 1000.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.4}")
    };
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

fn format_percent(v: f64) -> String {
    format!("{}%", format_number(v * 100.0))
}

/// Draws every plot the data support into `dir` (created if needed).
pub(crate) fn render_all(
    s: &Summary,
    slo: Option<&Slo>,
    timeline: Option<&[TimelineRecord]>,
    dir: &Path,
) -> Result<PlotSet> {
    ensure_font()?;
    std::fs::create_dir_all(dir).map_err(|e| Error::io(&format!("create {}", dir.display()), e))?;
    let colours = Colours::new(s);
    let mut set = PlotSet::default();
    match density(s, &colours) {
        Some(f) => set.plots.push(emit(
            &f,
            dir,
            "density",
            "Density per placement",
            "Workloads per host in use, one bar per placement, one panel per host type; whiskers are the confidence interval.",
        )?),
        None => set.left_out.push("density: no configuration has a density_per_host mean".into()),
    }
    if let Some(f) = breakdown(
        s,
        "cpu_cores_per_host.",
        1.0,
        "CPU per host: useful work vs overhead",
        "cores per host (time-weighted mean)",
        "useful",
        "cores",
    ) {
        set.plots.push(emit(
            &f,
            dir,
            "cpu_breakdown",
            "CPU breakdown",
            "Where each host's CPU goes: the workloads' useful work and each layer's (and the hypervisor's) overhead.",
        )?);
    }
    if let Some(f) = breakdown(
        s,
        "mem_mib_per_host.",
        1.0 / 1024.0,
        "Memory per host: workloads vs overhead",
        "GiB per host (time-weighted mean)",
        "workload_memory",
        "GiB",
    ) {
        set.plots.push(emit(
            &f,
            dir,
            "mem_breakdown",
            "Memory breakdown",
            "Where each host's memory goes: workload memory, guest kernels, image copies, unused VM capacity and each layer's overhead.",
        )?);
    }
    let start_slo = slo
        .and_then(|x| x.start_p95_s)
        .map(|v| (v, format!("SLO: p95 ≤ {} s", format_number(v))));
    if let Some(f) = cdf(
        s,
        &colours,
        |c| &c.distributions.start_latency_s,
        true,
        [
            "Start latency: cumulative distribution",
            "start latency (s, log scale)",
            "fraction of starts ≤ x",
        ],
        start_slo.map(|(x, l)| (x, l, 0.95)),
    ) {
        set.plots.push(emit(
            &f,
            dir,
            "start_latency_cdf",
            "Start-latency CDF",
            "Fraction of instances started within a given time, per placement.",
        )?);
    } else {
        set.left_out
            .push("start-latency CDF: no start latencies were recorded".into());
    }
    let slow_slo = slo
        .and_then(|x| x.p99_slowdown)
        .map(|v| (v, format!("SLO: p99 ≤ {}×", format_number(v))));
    if let Some(f) = cdf(
        s,
        &colours,
        |c| &c.distributions.slowdown,
        false,
        [
            "Slowdown: cumulative distribution (time-weighted)",
            "slowdown (× the uncontended run time)",
            "fraction of run time ≤ x",
        ],
        slow_slo.map(|(x, l)| (x, l, 0.99)),
    ) {
        set.plots.push(emit(
            &f,
            dir,
            "slowdown_cdf",
            "Slowdown CDF",
            "How much CPU contention and layer overhead stretch the workloads' work, as a distribution over run time.",
        )?);
    } else {
        set.left_out
            .push("slowdown CDF: no slowdown distribution was recorded".into());
    }
    sweeps(s, &colours, dir, &mut set)?;
    let n = set.plots.len();
    slo_vs_density(s, &colours, dir, &mut set)?;
    if set.plots.len() == n {
        set.left_out.push(
            "SLO violation vs density: the results have no slo_violation_fraction metric".into(),
        );
    }
    let n = set.plots.len();
    mem_vs_count_ksm(s, &colours, dir, &mut set)?;
    if set.plots.len() == n {
        set.left_out.push(
            "memory per host vs workload count with and without KSM: needs a sweep over workloads.<class>.count crossed with a KSM axis".into(),
        );
    }
    let n = set.plots.len();
    if let Some(rows) = timeline {
        ksm_timeline(s, &colours, rows, dir, &mut set)?;
    }
    if set.plots.len() == n {
        set.left_out
            .push("KSM counters over time: no timeline.csv (or it is empty)".into());
    }
    Ok(set)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_trimmed() {
        assert_eq!(format_number(2.50), "2.5");
        assert_eq!(format_number(100.0), "100");
        assert_eq!(format_number(0.05), "0.05");
        assert_eq!(format_number(0.0), "0");
    }
}
