//! `report.html`: one self-contained page a planner can forward — the question, the
//! headline answer, the plots (inline PNG, drawn with the bundled font), the comparison
//! table, and the inputs with their provenance, every `assumed` number listed as an
//! assumption. It is rendered from the saved files alone, so `capsim report DIR` can
//! redraw an old run without rerunning it.

use std::fmt::Write as _;
use std::fs;
use std::path::Path;

use crate::diagnostics::{Error, InputError, Result};
use crate::output::{replace_dir, replace_file};
use crate::report::headline;
use crate::report::plots::{self, PlotSet, format_number};
use crate::report::table::{EXPLAIN_HEADER, comparison_rows, explain_rows, looks_numeric};
use crate::results::records::read_timeline;
use crate::results::summary::Summary;
use crate::scenario::Scenario;

/// Reads `summary.json` (and `scenario.toml`, `results.csv`, `timeline.csv` when present)
/// from `dir` and writes `dir/plots/*` and `dir/report.html`.
pub fn render(dir: &Path) -> Result<()> {
    if !dir.is_dir() {
        return Err(Error::Input(InputError {
            file: dir.display().to_string(),
            line_col: None,
            message: "no such report directory (expected the output of `capsim run`)".into(),
        }));
    }
    let summary = Summary::read(dir)?;
    // A report stays renderable when its scenario no longer validates (a profile renamed
    // since the run, say): the inputs section then says why it is missing.
    let scenario = read_scenario(dir, &summary);
    let timeline = read_timeline(dir)?;
    let results_rows = count_results_rows(dir);
    // Plots are drawn into a fresh directory that replaces the old one, so plots of an
    // earlier render that no longer apply do not linger; the page inlines them as drawn.
    let html = replace_dir(&dir.join("plots"), |plots_dir| {
        let slo = scenario.as_ref().ok().map(|s| &s.slo);
        let set = plots::render_all(&summary, slo, timeline.as_deref(), plots_dir)?;
        page(&summary, scenario.as_ref(), &set, results_rows)
    })?;
    replace_file(&dir.join("report.html"), html.as_bytes())
}

fn read_scenario(dir: &Path, s: &Summary) -> Result<Scenario> {
    let p = dir.join("scenario.toml");
    let text =
        fs::read_to_string(&p).map_err(|e| Error::io(&format!("read {}", p.display()), e))?;
    Ok(Scenario::from_toml(
        &p.display().to_string(),
        &s.scenario,
        &text,
    )?)
}

fn count_results_rows(dir: &Path) -> Option<usize> {
    let mut r = csv::Reader::from_path(dir.join("results.csv")).ok()?;
    Some(r.records().filter(|x| x.is_ok()).count())
}

/// Escapes text for HTML element content and double-quoted attributes.
pub(crate) fn escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

/// Standard base64 (RFC 4648) for the inline images; a dependency for 20 lines is not
/// worth it.
pub(crate) fn base64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut o = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for ch in bytes.chunks(3) {
        let b = [ch[0], *ch.get(1).unwrap_or(&0), *ch.get(2).unwrap_or(&0)];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for i in 0..4 {
            if i <= ch.len() {
                o.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                o.push('=');
            }
        }
    }
    o
}

const CSS: &str = "body{font-family:'DejaVu Sans',Verdana,sans-serif;max-width:1240px;margin:2em auto;padding:0 1em;color:#222;line-height:1.45}
h1{font-size:1.7em;margin-bottom:.2em}h2{margin-top:1.8em;border-bottom:1px solid #ccc;padding-bottom:.2em}
.meta{color:#666}.headline{font-size:1.15em;background:#f3f7fb;border-left:4px solid #4e79a7;padding:.6em 1em}
.headline li{margin:.3em 0}figure{margin:1.5em 0}figure img{max-width:100%;height:auto;border:1px solid #eee}
figcaption{color:#555;font-size:.95em}table{border-collapse:collapse;font-size:.88em;margin:.5em 0}
th,td{border:1px solid #ddd;padding:.25em .5em;text-align:left;vertical-align:top}th{background:#f4f4f4}
td.n{text-align:right;font-variant-numeric:tabular-nums}tr.assumed td{background:#fff6e0}
pre{background:#f7f7f7;padding:.8em;overflow-x:auto;font-size:.85em}.warn{color:#a33}";

fn table(out: &mut String, header: &[&str], rows: &[Vec<String>], assumed_col: Option<usize>) {
    out.push_str("<table>\n<tr>");
    for h in header {
        let _ = write!(out, "<th>{}</th>", escape(h));
    }
    out.push_str("</tr>\n");
    for r in rows {
        let assumed = assumed_col.is_some_and(|i| r.get(i).is_some_and(|t| t == "assumed"));
        out.push_str(if assumed {
            "<tr class=\"assumed\">"
        } else {
            "<tr>"
        });
        for c in r {
            let class = if looks_numeric(c) { " class=\"n\"" } else { "" };
            let _ = write!(out, "<td{class}>{}</td>", escape(c));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</table>\n");
}

fn page(
    s: &Summary,
    sc: std::result::Result<&Scenario, &Error>,
    set: &PlotSet,
    results_rows: Option<usize>,
) -> Result<String> {
    let mut o = String::new();
    let title = format!("capsim report: {}", s.scenario);
    let _ = write!(
        o,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n<style>\n{CSS}\n</style>\n</head>\n<body>\n<h1>{}</h1>\n",
        escape(&title),
        escape(&title)
    );
    let question = if !s.question.is_empty() {
        s.question.clone()
    } else {
        format!(
            "Which placement packs the most workloads per host, and what does each layer cost{}?",
            if s.description.is_empty() {
                String::new()
            } else {
                format!(" — {}", s.description)
            }
        )
    };
    let _ = writeln!(o, "<p><strong>Question:</strong> {}</p>", escape(&question));
    if !s.question.is_empty() && !s.description.is_empty() {
        let _ = writeln!(o, "<p>{}</p>", escape(&s.description));
    }
    let _ = writeln!(
        o,
        "<p class=\"meta\">capsim {} · seed {} · horizon {} s (warm-up {} s) · {} replication(s) · {:.0}% confidence intervals{}</p>",
        escape(&s.capsim_version),
        s.seed,
        format_number(s.horizon_s),
        format_number(s.warmup_s),
        s.replications,
        s.confidence * 100.0,
        results_rows
            .map(|n| format!(" · results.csv: {n} rows"))
            .unwrap_or_default()
    );

    o.push_str("<h2>Answer</h2>\n<ul class=\"headline\">\n");
    let lines = headline::sentences(s, &headline::workload_noun(sc.ok()));
    if lines.is_empty() {
        o.push_str("<li>No configuration produced a density estimate.</li>\n");
    }
    for l in &lines {
        let _ = writeln!(o, "<li>{}.</li>", escape(&capitalise(l)));
    }
    o.push_str("</ul>\n");

    o.push_str("<h2>Plots</h2>\n");
    for p in &set.plots {
        let png =
            fs::read(&p.png).map_err(|e| Error::io(&format!("read {}", p.png.display()), e))?;
        let svg_name = format!(
            "plots/{}",
            p.svg
                .file_name()
                .map(|n| n.to_string_lossy())
                .unwrap_or_default()
        );
        let _ = writeln!(
            o,
            "<figure id=\"{}\">\n<img alt=\"{}\" src=\"data:image/png;base64,{}\">\n<figcaption><strong>{}.</strong> {} <span class=\"meta\">(vector version next to this report: {})</span></figcaption>\n</figure>",
            escape(&p.stem),
            escape(&p.title),
            base64(&png),
            escape(&p.title),
            escape(&p.caption),
            escape(&svg_name)
        );
    }
    if !set.left_out.is_empty() {
        o.push_str("<p>Not drawn, because this run has no data for them:</p>\n<ul>\n");
        for l in &set.left_out {
            let _ = writeln!(o, "<li>{}</li>", escape(l));
        }
        o.push_str("</ul>\n");
    }

    o.push_str("<h2>Comparison</h2>\n");
    let (header, rows) = comparison_rows(s);
    table(&mut o, &header, &rows, None);
    o.push_str("<p class=\"meta\">Density is workloads per host in use (time-weighted); ± is the confidence half-width. Overhead cores are every layer's and the hypervisor's CPU. Every metric, with its interval, is in summary.json.</p>\n");

    o.push_str("<h2>Inputs and provenance</h2>\n");
    match sc {
        Ok(sc) => inputs(&mut o, sc),
        Err(e) => {
            let _ = writeln!(
                o,
                "<p class=\"warn\">The inputs cannot be listed: scenario.toml could not be read or no longer validates ({}).</p>",
                escape(&e.to_string())
            );
        }
    }
    o.push_str("</body>\n</html>\n");
    Ok(o)
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

fn inputs(o: &mut String, sc: &Scenario) {
    o.push_str("<h3>Placements (layers, host → workload)</h3>\n<ul>\n");
    for pl in &sc.placements {
        let layers: Vec<&str> = pl.layers.iter().map(|l| l.name.as_str()).collect();
        let hosts: Vec<&str> = pl
            .host_types
            .iter()
            .filter_map(|&h| sc.host_types.get(h).map(|x| x.name.as_str()))
            .collect();
        let _ = writeln!(
            o,
            "<li><strong>{}</strong>: {} <span class=\"meta\">on {}</span></li>",
            escape(&pl.name),
            escape(&layers.join(" → ")),
            escape(&hosts.join(", "))
        );
    }
    o.push_str("</ul>\n");
    let mut slo = vec![];
    if let Some(x) = sc.slo.p99_slowdown {
        slo.push(format!("p99 slowdown ≤ {x}"));
    }
    if let Some(x) = sc.slo.start_p95_s {
        slo.push(format!("p95 start latency ≤ {x} s"));
    }
    if let Some(x) = sc.slo.blocking {
        slo.push(format!("blocking ≤ {:.1}%", x * 100.0));
    }
    let _ = writeln!(
        o,
        "<p><strong>Service objectives:</strong> {}</p>",
        if slo.is_empty() {
            "none set".to_string()
        } else {
            escape(&slo.join("; "))
        }
    );

    let rows = explain_rows(sc);
    let assumed: Vec<&Vec<String>> = rows.iter().filter(|r| r[4] == "assumed").collect();
    o.push_str("<h3>Assumptions</h3>\n");
    if assumed.is_empty() {
        o.push_str(
            "<p>No parameter is tagged <code>assumed</code>: every number has a source.</p>\n",
        );
    } else {
        let _ = writeln!(
            o,
            "<p>{} parameter(s) are tagged <code>assumed</code> (no measurement or publication behind them). The answer depends on them; override them in the scenario when you have measurements:</p>\n<ul>",
            assumed.len()
        );
        for r in &assumed {
            let _ = writeln!(
                o,
                "<li>{} <code>{}</code> = {}{} — {}</li>",
                escape(&r[0]),
                escape(&r[1]),
                escape(&r[2]),
                if r[3].is_empty() {
                    String::new()
                } else {
                    format!(" {}", escape(&r[3]))
                },
                escape(&r[5])
            );
        }
        o.push_str("</ul>\n");
    }
    o.push_str("<h3>Every parameter with its source</h3>\n<p class=\"meta\">Tags: measured, literature, literature-2nd (second-hand), assumed (highlighted), scenario (set in the scenario file).</p>\n");
    table(o, &EXPLAIN_HEADER, &rows, Some(4));
    let _ = writeln!(
        o,
        "<details><summary>scenario.toml (the exact input)</summary>\n<pre>{}</pre>\n</details>",
        escape(sc.source_text())
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc4648_vectors() {
        for (i, o) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(i.as_bytes()), o);
        }
    }

    #[test]
    fn escapes_markup() {
        assert_eq!(
            escape("<a href=\"x\">&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;"
        );
    }
}
