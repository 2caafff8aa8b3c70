//! The HTML report and its plots: a byte-stable golden SVG, PNGs that are the right size
//! and not blank, re-rendering from saved results, and plots that appear only when their
//! data exist.
//!
//! The inputs are hand-written `summary.json` files, not simulation output, so the golden
//! file changes only when the drawing changes, never when the model evolves.

use std::path::Path;

use predicates::prelude::*;

use super::capsim;

fn est(mean: f64, hw: f64) -> String {
    format!("{{\"mean\": {mean}, \"half_width\": {hw}}}")
}

/// One configuration of a fixed summary: density, the CPU and memory breakdowns and the
/// two distributions.
fn config(
    point: u64,
    axes: &str,
    placement: &str,
    host: &str,
    density: f64,
    extra: &str,
) -> String {
    let layer = if placement == "vm" {
        "vm-kvm"
    } else {
        "container-runc"
    };
    let overhead = if placement == "vm" { 3.5 } else { 0.4 };
    format!(
        r#"{{
  "point": {point}, "axis_values": {{{axes}}}, "placement": "{placement}", "layers": ["{layer}"],
  "host_type": "{host}", "host_family": "x86", "hosts": 4,
  "metrics": {{
    "density_per_host": {d},
    "mem_resident_mib_per_host": {mr},
    "mem_mib_per_host.host_reserved": {hr},
    "mem_mib_per_host.workload_memory": {wm},
    "mem_mib_per_host.layer:{layer}": {lm},
    "cpu_cores_per_host.useful": {cu},
    "cpu_cores_per_host.layer:{layer}": {co},
    "slo_met": {slo}{extra}
  }},
  "distributions": {{
    "start_latency_s": [[0.01, {s1}], [0.5, {s2}], [0.95, {s3}], [1.0, {s4}]],
    "slowdown": [[0.01, 1.0], [0.5, 1.02], [0.99, 1.1], [1.0, 1.2]]
  }}
}}"#,
        d = est(density, 2.5),
        mr = est(density * 2048.0, 100.0),
        hr = est(4096.0, 0.0),
        wm = est(density * 1900.0, 50.0),
        lm = est(density * 20.0, 1.0),
        cu = est(density * 0.12, 0.1),
        co = est(overhead, 0.01),
        slo = est(1.0, 0.0),
        s1 = if placement == "vm" { 8.0 } else { 0.2 },
        s2 = if placement == "vm" { 12.0 } else { 0.4 },
        s3 = if placement == "vm" { 25.0 } else { 0.9 },
        s4 = if placement == "vm" { 40.0 } else { 1.5 },
    )
}

fn summary(configs: &[String]) -> String {
    format!(
        r#"{{
  "capsim_version": "0.1.0", "scenario": "golden", "description": "a fixed result for the golden test",
  "question": "Do <containers> & VMs differ?", "seed": 1, "horizon_s": 3600.0, "warmup_s": 0.0,
  "replications": 5, "confidence": 0.95,
  "configurations": [{}]
}}"#,
        configs.join(",\n")
    )
}

fn plain_summary() -> String {
    summary(&[
        config(0, "", "bare-metal-containers", "x86", 249.3, ""),
        config(0, "", "vm", "x86", 191.4, ""),
    ])
}

const SCENARIO: &str = r#"
name = "golden"
horizon_s = 3600
[slo]
start_p95_s = 30
[hosts.x86]
profile = "x86-2s"
count = 4
cores = { value = 40, source = "a guess", tag = "assumed" }
[placements.bare-metal-containers]
layers = ["container-runc"]
[placements.vm]
layers = ["vm-kvm"]
[workloads.web]
count = 50
private_mib = 512
image_mib = 200
cpu_cores = 0.2
"#;

fn report_dir(tmp: &Path, summary_json: &str) -> std::path::PathBuf {
    let dir = tmp.join("out");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("summary.json"), summary_json).unwrap();
    std::fs::write(dir.join("scenario.toml"), SCENARIO).unwrap();
    dir
}

fn plots(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir.join("plots"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn density_svg_is_byte_stable() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = report_dir(tmp.path(), &plain_summary());
    capsim::report::html::render(&dir).unwrap();
    let svg = std::fs::read_to_string(dir.join("plots/density.svg")).unwrap();
    // Rendering twice gives the same bytes (no time stamps, no hash-map order).
    capsim::report::html::render(&dir).unwrap();
    assert_eq!(
        svg,
        std::fs::read_to_string(dir.join("plots/density.svg")).unwrap()
    );
    insta::assert_snapshot!("density_svg", svg);
}

/// Width and height from a PNG's IHDR chunk (bytes 16..24, big-endian).
fn png_size(bytes: &[u8]) -> (u32, u32) {
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "not a PNG");
    assert_eq!(&bytes[12..16], b"IHDR");
    let be = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    (be(&bytes[16..20]), be(&bytes[20..24]))
}

/// Distinct RGB colours in a PNG, decoded with the `png` crate (already in the dependency
/// tree through plotters → image, so the dev-dependency adds nothing to build).
fn colours(bytes: &[u8]) -> usize {
    let mut dec = png::Decoder::new(bytes);
    dec.set_transformations(png::Transformations::EXPAND);
    let mut r = dec.read_info().unwrap();
    let mut buf = vec![0; r.output_buffer_size()];
    let info = r.next_frame(&mut buf).unwrap();
    let px = info.color_type.samples();
    let mut seen = std::collections::HashSet::new();
    for p in buf[..info.buffer_size()].chunks(px) {
        seen.insert((p[0], p[1.min(px - 1)], p[2.min(px - 1)]));
    }
    seen.len()
}

#[test]
fn pngs_have_their_size_and_are_not_blank() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = report_dir(tmp.path(), &plain_summary());
    capsim::report::html::render(&dir).unwrap();
    let names = plots(&dir);
    for want in [
        "density",
        "cpu_breakdown",
        "mem_breakdown",
        "start_latency_cdf",
        "slowdown_cdf",
    ] {
        assert!(
            names.contains(&format!("{want}.png")),
            "{want}.png in {names:?}"
        );
        assert!(
            names.contains(&format!("{want}.svg")),
            "{want}.svg in {names:?}"
        );
    }
    for n in names.iter().filter(|n| n.ends_with(".png")) {
        let bytes = std::fs::read(dir.join("plots").join(n)).unwrap();
        let (w, h) = png_size(&bytes);
        assert_eq!(w, 1200, "{n}");
        assert!((200..4000).contains(&h), "{n}: height {h}");
        // White background, black text and at least one placement's colour.
        assert!(colours(&bytes) > 10, "{n} looks blank");
    }
    // Data that this result lacks give no plot (never an empty or made-up one).
    assert!(!names.iter().any(|n| n.starts_with("ksm_timeline")));
    assert!(!names.iter().any(|n| n.starts_with("slo_violation")));
    assert!(!names.iter().any(|n| n.starts_with("sweep_")));
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    assert!(html.contains("KSM counters over time: no timeline.csv"));
}

#[test]
fn report_is_self_contained_escaped_and_lists_assumptions() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = report_dir(tmp.path(), &plain_summary());
    capsim::report::html::render(&dir).unwrap();
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    assert!(html.contains("Do &lt;containers&gt; &amp; VMs differ?"));
    assert!(!html.contains("<containers>"));
    assert!(html.contains("bare-metal-containers packs the most: 249.3 ± 2.5 web workloads per host in use, 30% more than vm"));
    assert_eq!(
        html.matches("<img ").count(),
        html.matches("data:image/png;base64,").count()
    );
    assert!(html.matches("data:image/png;base64,").count() >= 5);
    // Nothing is loaded from elsewhere.
    assert!(!html.contains("src=\"http") && !html.contains("<link") && !html.contains("<script"));
    // The scenario's own assumption and the profiles' assumed numbers are listed.
    assert!(html.contains("<h3>Assumptions</h3>"));
    assert!(html.contains("<code>cores</code> = 40"));
    assert!(html.contains("a guess"));
}

#[test]
fn plots_appear_when_their_data_do() {
    let tmp = tempfile::tempdir().unwrap();
    let slo = |v: f64| format!(",\n    \"slo_violation_fraction\": {}", est(v, 0.01));
    let mut configs = vec![];
    for (p, (count, ksm)) in [(200, "true"), (200, "false"), (300, "true"), (300, "false")]
        .iter()
        .enumerate()
    {
        let axes = format!("\"workloads.web.count\": \"{count}\", \"ksm.enabled\": \"{ksm}\"");
        let f = f64::from(*count) / 200.0;
        configs.push(config(
            p as u64,
            &axes,
            "bare-metal-containers",
            "x86",
            180.0 * f,
            &slo(0.01 * f),
        ));
        configs.push(config(
            p as u64,
            &axes,
            "vm",
            "x86",
            150.0 * f,
            &slo(0.03 * f),
        ));
    }
    let dir = report_dir(tmp.path(), &summary(&configs));
    let mut timeline = String::from(
        "placement,host_type,replication,time_s,pages_shared,pages_sharing,pages_unshared,pages_volatile,full_scans,ksmd_cpu_cores,mem_saved_mib\n",
    );
    for rep in 0..2 {
        for t in 0..10 {
            for (pl, k) in [("bare-metal-containers", 1.0), ("vm", 3.0)] {
                let x = f64::from(t) * k;
                timeline.push_str(&format!(
                    "{pl},x86,{rep},{},{},{},0,0,{t},{},{}\n",
                    t * 600,
                    x * 100.0,
                    x * 900.0,
                    0.05 * k,
                    x * 3.5
                ));
            }
        }
    }
    std::fs::write(dir.join("timeline.csv"), timeline).unwrap();
    capsim::report::html::render(&dir).unwrap();
    let names = plots(&dir);
    for want in [
        "ksm_timeline_x86.png",
        "slo_violation_vs_density.png",
        "mem_vs_count_ksm.png",
        "sweep_density_per_host_workloads_web_count.png",
        "sweep_density_per_host_ksm_enabled.png",
    ] {
        assert!(
            names.contains(&want.to_string()),
            "{want} missing from {names:?}"
        );
    }
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    assert!(!html.contains("no timeline.csv"));
}

#[test]
fn report_command_rerenders_saved_results() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = report_dir(tmp.path(), &plain_summary());
    // A plot left by an older render that no longer applies must not survive.
    std::fs::create_dir_all(dir.join("plots")).unwrap();
    std::fs::write(dir.join("plots/stale.png"), b"old").unwrap();
    capsim()
        .arg("report")
        .arg(&dir)
        .assert()
        .success()
        .stdout(predicate::str::contains("report.html"));
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    assert!(html.contains("data:image/png;base64,"));
    assert!(!dir.join("plots/stale.png").exists());
    assert!(dir.join("plots/density.svg").exists());
}

#[test]
fn report_of_a_missing_or_broken_dir_is_bad_input() {
    let tmp = tempfile::tempdir().unwrap();
    let out = capsim()
        .arg("report")
        .arg(tmp.path().join("nope"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no such report directory"), "{err}");
    assert!(!err.contains("panicked"));

    let dir = report_dir(tmp.path(), "{ \"scenario\": 3 ");
    let out = capsim().arg("report").arg(&dir).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("summary.json") && err.contains("not a capsim summary.json"),
        "{err}"
    );
    assert!(!dir.join("report.html").exists());
}

#[test]
fn run_writes_report_and_names_it_last() {
    let tmp = tempfile::tempdir().unwrap();
    let scen = tmp.path().join("golden.toml");
    std::fs::write(&scen, SCENARIO).unwrap();
    let out_dir = tmp.path().join("r");
    let out = capsim()
        .arg("run")
        .arg(&scen)
        .arg("--out")
        .arg(&out_dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let tail: Vec<&str> = stdout.lines().rev().take(2).collect();
    assert!(
        tail[0].starts_with("on x86, ") && tail[0].contains("packs the most"),
        "{stdout}"
    );
    assert_eq!(
        tail[1],
        format!("report: {}", out_dir.join("report.html").display())
    );
    let html = std::fs::read_to_string(out_dir.join("report.html")).unwrap();
    assert!(html.contains("packs the most"));
    assert!(html.contains("data:image/png;base64,"));
    assert!(out_dir.join("plots/density.png").exists());

    // --quiet prints nothing; --json prints only the summary; both still write the report.
    let q = capsim()
        .arg("run")
        .arg(&scen)
        .arg("--out")
        .arg(&out_dir)
        .arg("-q")
        .output()
        .unwrap();
    assert!(q.status.success() && q.stdout.is_empty());
    let j = capsim()
        .arg("run")
        .arg(&scen)
        .arg("--out")
        .arg(&out_dir)
        .arg("--json")
        .output()
        .unwrap();
    assert!(j.status.success());
    serde_json::from_slice::<serde_json::Value>(&j.stdout).unwrap();
    assert!(out_dir.join("report.html").exists());
}
