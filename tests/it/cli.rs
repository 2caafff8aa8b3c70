//! The command line as a user meets it: runs, reports, and clear errors on bad input.

use predicates::prelude::*;

use super::{TWO_PLACEMENTS as OK, capsim, write};

#[test]
fn run_prints_table_and_writes_report() {
    let tmp = tempfile::tempdir().unwrap();
    let scen = write(tmp.path(), "ok.toml", OK);
    let out = tmp.path().join("report");
    capsim()
        .arg("run")
        .arg(&scen)
        .arg("--out")
        .arg(&out)
        .assert()
        .success()
        .stdout(predicate::str::contains("bare-metal-containers"))
        .stdout(predicate::str::contains("density/host"))
        .stdout(predicate::str::contains("packs the most"))
        .stdout(predicate::str::contains("report:"));
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["scenario"], "ok");
    assert_eq!(summary["configurations"].as_array().unwrap().len(), 2);
    let csv = std::fs::read_to_string(out.join("results.csv")).unwrap();
    assert_eq!(csv.lines().count(), 3, "header + one row per configuration");
    assert!(csv.starts_with("point,placement,host_type,replication,arrivals"));
    // No temporary directories are left behind.
    let leftovers: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with('.'))
        .collect();
    assert!(leftovers.is_empty());
}

#[test]
fn json_goes_to_stdout_for_notebooks() {
    let tmp = tempfile::tempdir().unwrap();
    let scen = write(tmp.path(), "ok.toml", OK);
    let out = capsim()
        .arg("run")
        .arg(&scen)
        .arg("--out")
        .arg(tmp.path().join("r"))
        .arg("--json")
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let d = &v["configurations"][0]["metrics"]["density_per_host"]["mean"];
    assert!(d.as_f64().unwrap() > 0.0);
}

#[test]
fn validate_explain_profiles() {
    let tmp = tempfile::tempdir().unwrap();
    let scen = write(tmp.path(), "ok.toml", OK);
    capsim()
        .arg("validate")
        .arg(&scen)
        .assert()
        .success()
        .stdout(predicate::str::contains("ok"));
    capsim()
        .arg("explain")
        .arg(&scen)
        .assert()
        .success()
        .stdout(predicate::str::contains("Felter"))
        .stdout(predicate::str::contains("literature-2nd"))
        .stdout(predicate::str::contains("assumed"));
    let out = capsim().arg("profiles").output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    for l in [
        "container-runc",
        "container-crun",
        "vm-kvm",
        "vm-kvm-untuned",
        "microvm-firecracker",
        "pod-kubevirt",
        "lpar-prsm",
        "guest-zvm",
        "x86-2s",
        "mainframe-lpar",
    ] {
        assert!(text.contains(l), "{l} missing from profiles");
    }
}

/// Runs `capsim run` on `text`; expects exit 2, every `needles` in stderr, no report.
fn rejects(text: &str, needles: &[&str]) {
    let tmp = tempfile::tempdir().unwrap();
    let scen = write(tmp.path(), "bad.toml", text);
    let out_dir = tmp.path().join("out");
    let out = capsim()
        .arg("run")
        .arg(&scen)
        .arg("--out")
        .arg(&out_dir)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr: {err}");
    for n in needles {
        assert!(err.contains(n), "stderr lacks {n:?}: {err}");
    }
    assert!(!err.contains("panicked"), "{err}");
    assert!(!out_dir.exists(), "nothing may be written on bad input");
}

#[test]
fn malformed_toml() {
    rejects(&format!("{OK}\nseed = [\n"), &["bad.toml:", "error:"]);
}

#[test]
fn unknown_key_names_nearest_valid_one() {
    let bad = OK.replace("count = 2", "coress = 2");
    rejects(
        &bad,
        &[
            "bad.toml:6:1",
            "unknown key `coress`",
            "did you mean `cores`",
        ],
    );
    let bad = OK.replace("private_mib = 512", "privat_mib = 512");
    rejects(&bad, &["bad.toml:13:1", "did you mean `private_mib`"]);
}

#[test]
fn wrong_type() {
    let bad = OK.replace("count = 50", "count = \"fifty\"");
    rejects(&bad, &["bad.toml:12:9", "invalid type"]);
}

#[test]
fn non_positive_values() {
    let bad = OK.replace("count = 50", "arrival_rate_per_s = -1\nlifetime_s = 10");
    rejects(&bad, &["bad.toml:12:1", "must be > 0"]);
    let bad = OK.replace("count = 50", "count = 0");
    rejects(&bad, &["bad.toml:12:1", "must be >= 1"]);
    let bad = OK.replace("count = 2", "count = 2\ncores = 0");
    rejects(&bad, &["bad.toml:7:1", "out of range"]);
}

#[test]
fn workload_larger_than_every_host() {
    let bad = OK.replace("private_mib = 512", "private_mib = 600000");
    rejects(
        &bad,
        &[
            "bad.toml:11:",
            "commits",
            "more than host type `x86` admits",
        ],
    );
}

#[test]
fn unknown_profile_layer_or_placement_host() {
    let bad = OK.replace("\"vm-kvm\"", "\"vm-kvmm\"");
    rejects(
        &bad,
        &[
            "bad.toml:10:",
            "unknown layer `vm-kvmm`",
            "did you mean `vm-kvm`",
        ],
    );
    let bad = OK.replace("x86-2s", "x86-3s");
    rejects(
        &bad,
        &[
            "bad.toml:5:",
            "unknown host profile `x86-3s`",
            "did you mean `x86-2s`",
        ],
    );
    let bad = OK.replace(
        "layers = [\"vm-kvm\"]",
        "layers = [\"vm-kvm\"]\nhosts = [\"x68\"]",
    );
    rejects(&bad, &["unknown host type `x68`", "did you mean `x86`"]);
}

#[test]
fn missing_file_is_an_input_error() {
    capsim()
        .args(["run", "/nonexistent/scenario.toml"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("cannot read the scenario"));
}

#[test]
fn bad_ksm_and_fraction_values() {
    rejects(
        &format!("{OK}\n[ksm]\nenabled = true\npages_to_scan = 0\n"),
        &["bad.toml:19:1", "pages_to_scan must be > 0"],
    );
    rejects(
        &format!("{OK}\n[ksm]\nsleep_millisecs = 0\n"),
        &["bad.toml:18:1", "sleep_millisecs must be > 0"],
    );
    rejects(
        &format!("{OK}\n[ksm]\nmax_page_sharing = 1\n"),
        &["bad.toml:18:1", "max_page_sharing must be >= 2"],
    );
    rejects(
        &format!("{OK}\n[layers.vm-kvm]\nguest_os_mergeable_fraction = 1.5\n"),
        &["bad.toml:18:1", "out of range"],
    );
    rejects(
        &format!("{OK}\n[layers.vm-kvm]\nsegment_fraction = -0.1\n"),
        &["bad.toml:18:1", "out of range"],
    );
    let bad = OK.replace("image_mib = 200", "image_mib = 200\nvolatile_fraction = 2");
    rejects(&bad, &["bad.toml:15:1", "within [0, 1]"]);
    let bad = OK.replace("count = 2", "count = 2\nksm = { pages_to_scan = 0 }");
    rejects(&bad, &["bad.toml:7:", "pages_to_scan must be > 0"]);
}

#[test]
fn bad_interference_slo_and_rollout_values() {
    let bad = OK.replace(
        "image_mib = 200",
        "image_mib = 200\npressure = { llc = 1.5 }",
    );
    rejects(
        &bad,
        &["bad.toml:15:1", "pressure.llc = 1.5 must be within [0, 1]"],
    );
    let bad = OK.replace(
        "image_mib = 200",
        "image_mib = 200\nsensitivity = { lcc = 0.5 }",
    );
    rejects(&bad, &["bad.toml:15:", "did you mean `llc`"]);
    let bad = OK.replace(
        "image_mib = 200",
        "image_mib = 200\nslo = { p99_latency = 2 }",
    );
    rejects(&bad, &["bad.toml:15:", "unknown key `p99_latency`"]);
    rejects(
        &format!("{OK}\n[slo]\np99_slowdwn = 1.5\n"),
        &["bad.toml:18:1", "did you mean `p99_slowdown`"],
    );
    rejects(
        &format!("{OK}\n[[rollout]]\nworkload = \"web\"\nstart_s = 10\nbatch_size = 0\n"),
        &["bad.toml:20:1", "batch_size must be >= 1"],
    );
    rejects(
        &format!("{OK}\n[[rollout]]\nworkload = \"wbe\"\nstart_s = 10\nbatch_size = 2\n"),
        &["bad.toml:18:1", "did you mean `web`"],
    );
}
