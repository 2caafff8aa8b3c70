//! The terminal table of a study: one row per point × configuration.

use crate::report::summary::Summary;
use crate::report::table::{fmt_ci as ci, render};

/// Point, axis values, configuration, replications, density and memory with their CIs.
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
        .enumerate()
        .map(|(i, c)| {
            let mut r = vec![c.point.to_string()];
            for a in &s.axes {
                r.push(
                    c.axis_values
                        .iter()
                        .find(|(k, _)| k == a)
                        .map(|(_, v)| v.clone())
                        .unwrap_or_default(),
                );
            }
            let slo = c
                .metrics
                .iter()
                .find(|(k, _)| k == "slo_met")
                .and_then(|(_, e)| e.mean)
                .map_or("-".into(), |x| format!("{:.0}%", x * 100.0));
            r.extend([
                c.host_type.clone(),
                c.placement.clone(),
                c.replications.to_string(),
                ci(s, i, "density_per_host", 1, 1.0),
                ci(s, i, "mem_per_workload_mib", 0, 1.0),
                ci(s, i, "blocking_probability", 2, 100.0),
                slo,
            ]);
            r
        })
        .collect();
    render(&header, &rows)
}
