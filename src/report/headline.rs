//! The headline answer: one sentence per host type, printed by `capsim run` and placed at
//! the top of the HTML report.

use crate::results::summary::{ConfigSummary, Summary};
use crate::scenario::Scenario;

/// What is being counted: "web workloads" for a one-class fleet, "workloads" otherwise.
pub fn workload_noun(sc: Option<&Scenario>) -> String {
    match sc.map(|s| s.workloads.as_slice()) {
        Some([w]) => format!("{} workloads", w.name),
        _ => "workloads".into(),
    }
}

/// The mean of `name` (None when undefined) and its half-width, if any.
fn estimate(c: &ConfigSummary, name: &str) -> Option<(f64, Option<f64>)> {
    let e = c.estimate(name)?;
    Some((
        e.mean.filter(|x| x.is_finite())?,
        e.half_width.filter(|x| x.is_finite()),
    ))
}

fn with_ci(m: f64, h: Option<f64>) -> String {
    match h {
        Some(h) if h > 0.0 => format!("{m:.1} ± {h:.1}"),
        _ => format!("{m:.1}"),
    }
}

fn more(best: f64, other: f64) -> String {
    if other > 0.0 {
        format!("{:.0}% more than", (best / other - 1.0) * 100.0)
    } else {
        "more than".into()
    }
}

/// One sentence per host type (of the first sweep point): the densest placement, its
/// margin over the next best and the least dense, and whether the margin is within noise.
pub fn sentences(s: &Summary, noun: &str) -> Vec<String> {
    let point = s.configurations.first().map(|c| c.point);
    let mut hosts: Vec<&str> = vec![];
    for c in &s.configurations {
        if !hosts.contains(&c.host_type.as_str()) {
            hosts.push(&c.host_type);
        }
    }
    let mut lines = vec![];
    for h in hosts {
        let mut rows: Vec<(&ConfigSummary, f64, Option<f64>)> = s
            .configurations
            .iter()
            .filter(|c| c.host_type == h && Some(c.point) == point)
            .filter_map(|c| {
                let (m, hw) = estimate(c, "density_per_host")?;
                Some((c, m, hw))
            })
            .collect();
        rows.sort_by(|a, b| b.1.total_cmp(&a.1));
        let Some(&(best, d, hw)) = rows.first() else {
            continue;
        };
        let mut line = format!(
            "on {h}, {} packs the most: {} {noun} per host in use",
            best.placement,
            with_ci(d, hw)
        );
        match rows.as_slice() {
            [_] => line.push_str(" (the only placement)"),
            [_, (next, x, _)] => {
                line.push_str(&format!(", {} {}", more(d, *x), next.placement));
            }
            [_, (next, x, _), .., (last, y, _)] => line.push_str(&format!(
                ", {} {} (next best) and {} {} (fewest)",
                more(d, *x),
                next.placement,
                more(d, *y),
                last.placement
            )),
            [] => {}
        }
        // Confidence intervals that overlap: the ranking of the top two is not settled.
        if let [(_, _, Some(h1)), (next, x, Some(h2)), ..] = rows.as_slice()
            && d - x <= h1 + h2
        {
            line.push_str(&format!(
                "; its lead over {} is within the {:.0}% confidence intervals",
                next.placement,
                s.confidence * 100.0
            ));
        }
        if let Some((met, _)) = estimate(best, "slo_met") {
            if s.replications > 1 {
                line.push_str(&format!("; SLO met in {:.0}% of replications", met * 100.0));
            } else if met >= 1.0 {
                line.push_str("; SLO met");
            } else {
                line.push_str("; SLO not met");
            }
        }
        lines.push(line);
    }
    lines
}
