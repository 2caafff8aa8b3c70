//! Studies: sweeps, sequential stopping, paired differences, shards and merge, resume,
//! density search, and every way to get them wrong.

use std::path::{Path, PathBuf};

use super::{capsim, write};

/// Two placements, one host type, a noisy Poisson fleet; two sweep points.
const STUDY: &str = r#"
name = "study"
seed = 5
horizon_s = 7200
warmup_s = 1800
[study]
replications_min = 2
replications_max = 4
[[sweep.axis]]
path = "hosts.x86.memory_gib"
values = [64, 128]
[hosts.x86]
profile = "x86-2s"
count = 2
[placements.bare-metal-containers]
layers = ["container-runc"]
[placements.containers-in-vm]
layers = ["vm-kvm", "container-runc"]
vm_per = "tenant"
containers_per_vm = 4
[workloads.web]
arrival_rate_per_s = 0.03
lifetime_s = { dist = "exponential", mean = 1800 }
tenants = 3
private_mib = 1024
image_mib = 200
cpu_cores = { dist = "lognormal", mean = 0.2, cv = 1.0 }
cpu_request = 0.2
"#;

/// Runs `capsim <args…>` expecting exit 2, `needles` in stderr, no panic, `out` absent.
fn rejects(args: &[&std::ffi::OsStr], out: &Path, needles: &[&str]) {
    let o = capsim().args(args).output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "stderr: {err}");
    for n in needles {
        assert!(err.contains(n), "stderr lacks {n:?}: {err}");
    }
    assert!(!err.contains("panicked"), "{err}");
    assert!(!out.exists(), "nothing may be written on bad input");
}

fn rejects_scenario(text: &str, needles: &[&str]) {
    let tmp = tempfile::tempdir().unwrap();
    let scen = write(tmp.path(), "bad.toml", text);
    let out = tmp.path().join("out");
    for cmd in ["sweep", "run", "validate"] {
        let mut args: Vec<&std::ffi::OsStr> = vec![cmd.as_ref(), scen.as_os_str()];
        if cmd != "validate" {
            args.extend(["--out".as_ref(), out.as_os_str()]);
        }
        rejects(&args, &out, needles);
    }
}

#[test]
fn unknown_sweep_path_names_the_nearest_valid_one() {
    let bad = STUDY.replace("hosts.x86.memory_gib", "hosts.x86.memroy_gib");
    rejects_scenario(
        &bad,
        &[
            "bad.toml:10:1",
            "unknown sweep path `hosts.x86.memroy_gib`",
            "did you mean `hosts.x86.memory_gib`",
        ],
    );
    let bad = STUDY.replace("hosts.x86.memory_gib", "workloads.wbe.count");
    rejects_scenario(
        &bad,
        &["bad.toml:10:1", "did you mean `workloads.web.count`"],
    );
}

#[test]
fn empty_axis_zero_step_and_bad_replications() {
    rejects_scenario(
        &STUDY.replace("values = [64, 128]", "values = []"),
        &["bad.toml:11:1", "empty axis"],
    );
    rejects_scenario(
        &STUDY.replace(
            "values = [64, 128]",
            "range = { from = 64, to = 128, step = 0 }",
        ),
        &["bad.toml:11:1", "step` = 0"],
    );
    rejects_scenario(
        &STUDY.replace(
            "values = [64, 128]",
            "range = { from = 128, to = 64, step = 32 }",
        ),
        &["bad.toml:11:1", "empty axis"],
    );
    rejects_scenario(
        &STUDY.replace("replications_min = 2", "replications_min = 5"),
        &[
            "bad.toml:7:1",
            "replications_min = 5 is above replications_max = 4",
        ],
    );
    rejects_scenario(
        &STUDY.replace(
            "replications_max = 4",
            "replications_max = 4\nmetric = \"density_per_hst\"",
        ),
        &["bad.toml:9:1", "did you mean `density_per_host`"],
    );
}

#[test]
fn a_value_that_breaks_a_point_is_reported_before_anything_runs() {
    // 1 GiB hosts cannot hold one workload: point 0 is invalid, like a file would be.
    rejects_scenario(
        &STUDY.replace("values = [64, 128]", "values = [128, 1]"),
        &["bad.toml:10:1", "sweep point 1", "memory_gib = 1"],
    );
    rejects_scenario(
        &STUDY
            .replace("path = \"hosts.x86.memory_gib\"", "path = \"placements\"")
            .replace("values = [64, 128]", "values = [\"containers-in-wm\"]"),
        &["bad.toml:11:1", "did you mean `containers-in-vm`"],
    );
}

#[test]
fn bad_shards_are_rejected() {
    let tmp = tempfile::tempdir().unwrap();
    let scen = write(tmp.path(), "s.toml", STUDY);
    let out = tmp.path().join("out");
    for s in ["0/4", "5/4", "1/0", "x/2", "3"] {
        rejects(
            &[
                "sweep".as_ref(),
                scen.as_os_str(),
                "--shard".as_ref(),
                s.as_ref(),
                "--out".as_ref(),
                out.as_os_str(),
            ],
            &out,
            &["--shard", "1 <= K <= N"],
        );
    }
}

fn sweep(scen: &Path, out: &Path, extra: &[&str]) -> std::process::Output {
    let o = capsim()
        .arg("sweep")
        .arg(scen)
        .arg("--out")
        .arg(out)
        .args(extra)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    o
}

fn report(dir: &Path) -> (Vec<u8>, Vec<u8>) {
    (
        std::fs::read(dir.join("summary.json")).unwrap(),
        std::fs::read(dir.join("results.csv")).unwrap(),
    )
}

#[test]
fn sweep_is_identical_on_1_and_2_threads_and_reports_points() {
    let tmp = tempfile::tempdir().unwrap();
    let scen = write(tmp.path(), "s.toml", STUDY);
    let a = tmp.path().join("a");
    let b = tmp.path().join("b");
    sweep(&scen, &a, &["--threads", "1", "--quiet"]);
    sweep(&scen, &b, &["--threads", "2", "--quiet"]);
    assert_eq!(report(&a), report(&b));
    let csv = String::from_utf8(report(&a).1).unwrap();
    assert!(csv.starts_with("point,hosts.x86.memory_gib,placement,host_type,replication,"));
    // 2 points × 2 placements × 2 replications (no stopping target: replications_min).
    assert_eq!(csv.lines().count(), 1 + 2 * 2 * 2, "{csv}");
    let s: serde_json::Value = serde_json::from_slice(&report(&a).0).unwrap();
    let configs = s["configurations"].as_array().unwrap();
    assert_eq!(configs.len(), 4);
    assert_eq!(configs[2]["point"], 1);
    assert_eq!(configs[2]["axis_values"]["hosts.x86.memory_gib"], "128");
    // Paired differences: one pair per point, for density and memory per workload.
    let pd = s["paired_differences"].as_array().unwrap();
    assert_eq!(pd.len(), 2 * 2, "{pd:?}");
    let d = pd
        .iter()
        .find(|d| d["point"] == 1 && d["metric"] == "mem_per_workload_mib")
        .unwrap();
    assert_eq!(d["a"], "bare-metal-containers");
    assert_eq!(d["b"], "containers-in-vm");
    // A VM kernel per tenant costs memory: bare metal needs less per workload.
    assert!(d["mean"].as_f64().unwrap() < 0.0, "{d}");
    assert!(d["half_width"].as_f64().unwrap() >= 0.0);
}

#[test]
fn shards_merge_into_the_unsharded_report_byte_for_byte() {
    let tmp = tempfile::tempdir().unwrap();
    let text = STUDY.replace("values = [64, 128]", "values = [64, 96, 128]");
    let scen = write(tmp.path(), "s.toml", &text);
    let whole = tmp.path().join("whole");
    sweep(&scen, &whole, &["--quiet"]);
    let mut dirs = vec![];
    for k in 1..=2 {
        let d = tmp.path().join(format!("shard{k}"));
        let o = sweep(&scen, &d, &["--shard", &format!("{k}/2")]);
        assert!(String::from_utf8_lossy(&o.stdout).contains("capsim merge"));
        assert!(
            !d.join("results.csv").exists(),
            "a shard writes results, not a report"
        );
        dirs.push(d);
    }
    let merged = tmp.path().join("merged");
    capsim()
        .arg("merge")
        .args(&dirs)
        .arg("--out")
        .arg(&merged)
        .arg("--quiet")
        .assert()
        .success();
    assert_eq!(report(&whole), report(&merged));

    // Merging with a missing shard, a shard twice, or shards of another scenario fails.
    let out = tmp.path().join("nope");
    let args = |ds: &[&PathBuf]| {
        let mut v: Vec<std::ffi::OsString> = vec!["merge".into()];
        v.extend(ds.iter().map(|d| d.as_os_str().to_owned()));
        v.extend(["--out".into(), out.as_os_str().to_owned()]);
        v
    };
    let run = |v: Vec<std::ffi::OsString>, needles: &[&str]| {
        let refs: Vec<&std::ffi::OsStr> = v.iter().map(|s| s.as_os_str()).collect();
        rejects(&refs, &out, needles);
    };
    run(args(&[&dirs[0]]), &["shard(s) 2/2 missing"]);
    run(args(&[&dirs[0], &dirs[0]]), &["given twice"]);
    let other = write(tmp.path(), "o.toml", &text.replace("seed = 5", "seed = 6"));
    let od = tmp.path().join("other2");
    sweep(&other, &od, &["--shard", "2/2", "--quiet"]);
    run(
        args(&[&dirs[0], &od]),
        &["another study", "different scenarios"],
    );
    // Sweeping another scenario into a directory that holds results is refused too.
    let o = capsim()
        .arg("sweep")
        .arg(&other)
        .arg("--out")
        .arg(&dirs[0])
        .arg("--shard")
        .arg("1/2")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("already holds results"));
}

#[test]
fn resume_skips_finished_points() {
    let tmp = tempfile::tempdir().unwrap();
    let text = STUDY.replace("values = [64, 128]", "values = [64, 96, 128]");
    let scen = write(tmp.path(), "s.toml", &text);
    let fresh = tmp.path().join("fresh");
    sweep(&scen, &fresh, &["--quiet"]);
    let dir = tmp.path().join("resumed");
    // Interrupted after one point: its results are saved, nothing else, no report yet.
    let o = sweep(&scen, &dir, &["--threads", "1", "--stop-after", "1"]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("rerun the same command"));
    let saved: Vec<_> = std::fs::read_dir(dir.join("points")).unwrap().collect();
    assert_eq!(saved.len(), 1);
    assert!(!dir.join("summary.json").exists());
    let before = std::fs::read(dir.join("points/p000000.json")).unwrap();
    let o = sweep(&scen, &dir, &[]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("1 already finished, 2 run now"), "{err}");
    assert_eq!(
        std::fs::read(dir.join("points/p000000.json")).unwrap(),
        before
    );
    assert_eq!(report(&fresh), report(&dir));
    // A complete rerun runs nothing.
    let o = sweep(&scen, &dir, &[]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("3 already finished, 0 run now"));
    assert_eq!(report(&fresh), report(&dir));
}

#[test]
fn sequential_stopping_adds_replications_until_the_target() {
    let sc = |target: &str| {
        super::scenario(&STUDY.replace(
            "replications_max = 4",
            &format!("replications_max = 6\ntarget_rel_half_width = {target}"),
        ))
    };
    let reps = |sc: &capsim::scenario::Scenario| -> Vec<u64> {
        let tmp = tempfile::tempdir().unwrap();
        let o = capsim::study::store::sweep(
            sc,
            &tmp.path().join("o"),
            &capsim::study::store::SweepOptions {
                shard: capsim::study::store::Shard::ALL,
                threads: Some(2),
                progress: None,
                stop_after: None,
                replications: None,
            },
        )
        .unwrap();
        o.summary
            .unwrap()
            .configurations
            .iter()
            .map(|c| c.replications)
            .collect()
    };
    // An unreachable target runs to replications_max; a loose one stops at the minimum.
    assert_eq!(reps(&sc("0.000001")), vec![6; 4]);
    assert_eq!(reps(&sc("10.0")), vec![2; 4]);
}

#[test]
fn confidence_intervals_shrink_with_replications() {
    let sc = super::scenario(STUDY);
    let hw = |n: u64| {
        let runs = capsim::study::run_scenario(&sc, n, 0, Some(2)).unwrap();
        let s = capsim::results::summary::Summary::build(&sc, &runs);
        let e = s.configurations[0]
            .estimate("workloads_hosted_mean")
            .unwrap();
        e.half_width.unwrap()
    };
    let (h3, h12) = (hw(3), hw(12));
    assert!(h12 < h3 / 2.0, "half-width 3 reps {h3}, 12 reps {h12}");
}

/// A host that holds exactly 10 workloads by memory: 10,000 MiB admissible, 1,000 MiB
/// each, no layer overhead, no image, CPU far from binding.
const EXACT: &str = r#"
name = "exact"
seed = 9
horizon_s = 600
[study]
replications_min = 2
slo_fraction = 1.0
[slo]
blocking = 0.0
[hosts.x86]
profile = "x86-2s"
count = 4
memory_gib = 10
host_reserved_mib = 240
[layers.container-runc]
mem_fixed_mib = 0
cpu_background_cores = 0
[placements.bare-metal-containers]
layers = ["container-runc"]
[workloads.web]
count = 3
private_mib = 1000
cpu_cores = 0.01
"#;

#[test]
fn search_finds_the_count_a_host_holds_by_memory() {
    let sc = super::scenario(EXACT);
    // The hand computation, checked against the model's own footprint.
    let fp = sc.placements[0].footprint(&sc.workloads[0]);
    let per_kib = fp.wl_own_kib + fp.wl_layer_kib.iter().sum::<u64>();
    assert_eq!(per_kib, 1000 * 1024);
    assert_eq!(sc.host_types[0].memory_admissible_mib(), 10_000.0);
    let tmp = tempfile::tempdir().unwrap();
    let scen = write(tmp.path(), "exact.toml", EXACT);
    let out = tmp.path().join("search");
    let o = capsim()
        .arg("search")
        .arg(&scen)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(stdout.contains("count at SLO"), "{stdout}");
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("search.json")).unwrap()).unwrap();
    let r = &v["results"][0];
    assert_eq!(r["count"], 10, "{r}");
    assert_eq!(r["bracket"], serde_json::json!([10, 11]));
    assert_eq!(r["density_per_host"]["mean"], 10.0);
    // Doubling 1, 2, 4, 8, 16 then bisection 12, 10, 11.
    let tried: Vec<u64> = r["evaluations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["count"].as_u64().unwrap())
        .collect();
    assert_eq!(tried, vec![1, 2, 4, 8, 16, 12, 10, 11]);
    let csv = std::fs::read_to_string(out.join("search.csv")).unwrap();
    assert!(
        csv.lines()
            .nth(1)
            .unwrap()
            .starts_with("0,bare-metal-containers,x86,10,10,11,10,")
    );

    // No SLO: nothing to search for (exit 2, nothing written).
    let no_slo = write(
        tmp.path(),
        "noslo.toml",
        &EXACT.replace("[slo]\nblocking = 0.0\n", ""),
    );
    let out2 = tmp.path().join("s2");
    rejects(
        &[
            "search".as_ref(),
            no_slo.as_os_str(),
            "--out".as_ref(),
            out2.as_os_str(),
        ],
        &out2,
        &["has no [slo]"],
    );
}
