//! The documentation in `docs/` is checked against the code:
//!
//! - every key the scenario parser accepts (enumerated from the parser's own "valid: …"
//!   error lists, not from a hand-written list) appears in `docs/scenarios.md` as `` `key` ``,
//!   and so does every value of the enumerated string settings;
//! - every metric name `RunMetrics::flat` produces (layer/class/rollout names generalized)
//!   is documented in `docs/scenarios.md`;
//! - the generated tables (built-in profiles with value, unit, tag and source; the field
//!   reference with unit, default and range) match the code. After a deliberate change run
//!   `CAPSIM_BLESS_DOCS=1 cargo test --test it docs` to rewrite them, and review the diff;
//! - the plain-Python notebook snippet in `docs/notebooks.md` runs against a real
//!   `capsim run` and prints what summary.json and results.csv contain (skipped with a note
//!   when `python3` is missing).

use std::path::{Path, PathBuf};
use std::process::Command;

use capsim::profiles::{ParamDef, ProfileSet, Tag, host_params, layer_params};
use capsim::scenario::Scenario;
use capsim::study::run_scenario;

fn doc_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("docs")
        .join(name)
}

fn read_doc(name: &str) -> String {
    std::fs::read_to_string(doc_path(name)).unwrap_or_else(|e| panic!("docs/{name}: {e}"))
}

/// A minimal valid scenario; `{top}`, `{host}`, … mark where a probe line goes.
const MINIMAL: &str = r#"
name = "probe"
horizon_s = 600
{top}
{tables}
[hosts.x]
profile = "x86-2s"
{host}
[placements.p]
layers = ["vm-kvm", "container-runc"]
{placement}
[workloads.w]
count = 1
private_mib = 1
cpu_cores = 0.1
{workload}
"#;

fn minimal(slot: &str, text: &str) -> String {
    let mut s = MINIMAL.to_string();
    for k in ["top", "tables", "host", "placement", "workload"] {
        let pat = format!("{{{k}}}");
        s = s.replace(&pat, if k == slot { text } else { "" });
    }
    s
}

/// Parses a scenario that must fail, and returns the list after "valid:" in its message
/// (or after serde's "expected one of").
fn valid_list(what: &str, toml: &str) -> Vec<String> {
    let e = match Scenario::from_toml("probe.toml", "probe", toml) {
        Ok(_) => panic!("probe `{what}` was accepted:\n{toml}"),
        Err(e) => e,
    };
    let m = &e.message;
    let list = if let Some(i) = m.find("(valid: ") {
        let rest = &m[i + "(valid: ".len()..];
        let end = rest.rfind(')').unwrap_or(rest.len());
        rest[..end]
            .split(", ")
            .map(|s| s.trim().trim_matches('`').to_string())
            .collect::<Vec<_>>()
    } else if let Some(i) = m.find("expected one of") {
        m[i..]
            .split('`')
            .skip(1)
            .step_by(2)
            .map(str::to_string)
            .collect()
    } else {
        panic!("probe `{what}`: no list of valid keys in the error: {m}");
    };
    assert!(!list.is_empty(), "probe `{what}`: empty list in: {m}");
    list
}

fn assert_ok(what: &str, toml: &str) {
    if let Err(e) = Scenario::from_toml("probe.toml", "probe", toml) {
        panic!("probe `{what}` should parse: {e}\n{toml}");
    }
}

/// (table, section of scenarios.md documenting it, accepted keys), each list read from the parser's own error message.
fn accepted_keys() -> Vec<(&'static str, &'static str, Vec<String>)> {
    const P: &str = "zzz_probe = 1";
    let mut v = vec![
        (
            "top level",
            "Top level",
            valid_list("top", &minimal("top", P)),
        ),
        (
            "[hosts.NAME]",
            "Hosts",
            valid_list("host", &minimal("host", P)),
        ),
        (
            "[layers.NAME]",
            "Layers",
            valid_list("layer", &minimal("tables", "[layers.x]\nzzz_probe = 1")),
        ),
        (
            "[placements.NAME]",
            "Placements",
            valid_list("placement", &minimal("placement", P)),
        ),
        (
            "[workloads.NAME]",
            "Workloads",
            valid_list("workload", &minimal("workload", P)),
        ),
        (
            "[slo]",
            "Service objectives",
            valid_list("slo", &minimal("tables", "[slo]\nzzz_probe = 1")),
        ),
        (
            "[ksm]",
            "KSM",
            valid_list("ksm", &minimal("tables", "[ksm]\nzzz_probe = 1")),
        ),
        (
            "[[rollout]]",
            "Rollouts",
            valid_list("rollout", &minimal("tables", "[[rollout]]\nzzz_probe = 1")),
        ),
        (
            "[study]",
            "Studies and sweeps",
            valid_list("study", &minimal("tables", "[study]\nzzz_probe = 1")),
        ),
        (
            "[[sweep.axis]]",
            "Studies and sweeps",
            valid_list(
                "sweep axis",
                &minimal("tables", "[[sweep.axis]]\npath = \"seed\"\nzzz_probe = 1"),
            ),
        ),
        (
            "host ksm = { }",
            "KSM",
            valid_list("host ksm", &minimal("host", "ksm = { zzz_probe = 1 }")),
        ),
        (
            "workload slo = { }",
            "Workloads",
            valid_list(
                "workload slo",
                &minimal("workload", "slo = { zzz_probe = 1 }"),
            ),
        ),
        (
            "phases = { }",
            "Workloads",
            valid_list("phases", &minimal("workload", "phases = { zzz_probe = 1 }")),
        ),
        (
            "distribution { dist = … }",
            "Workloads",
            valid_list(
                "distribution",
                &minimal("workload", "lifetime_s = { zzz_probe = 1 }"),
            ),
        ),
        (
            "pressure / sensitivity",
            "Workloads",
            valid_list(
                "resource",
                &minimal("workload", "pressure = { zzz_probe = 1 }"),
            ),
        ),
        (
            "profile number { value, … }",
            "Numbers with provenance",
            valid_list(
                "param table",
                &minimal("host", "cores = { value = 8, zzz_probe = 1 }"),
            ),
        ),
    ];
    // A host table's `ksm` is taken out before the profile fields are checked, so the
    // host list above does not name it: prove it is accepted, then add it.
    assert_ok("host ksm", &minimal("host", "ksm = { enabled = true }"));
    v[1].2.push("ksm".into());
    v
}

/// The values each enumerated string setting accepts, from the parser's errors.
fn accepted_values() -> Vec<(&'static str, &'static str, Vec<String>)> {
    const Z: &str = "\"zzz_probe\"";
    let f = |slot: &str, key: &str| minimal(slot, &format!("{key} = {Z}"));
    vec![
        (
            "policy",
            "Placements",
            valid_list("policy", &f("placement", "policy")),
        ),
        (
            "vm_per",
            "Placements",
            valid_list("vm_per", &f("placement", "vm_per")),
        ),
        (
            "cpu_mode",
            "Workloads",
            valid_list("cpu_mode", &f("workload", "cpu_mode")),
        ),
        (
            "dist",
            "Workloads",
            valid_list(
                "dist",
                &minimal(
                    "workload",
                    "lifetime_s = { dist = \"zzz_probe\", mean = 1 }",
                ),
            ),
        ),
        (
            "[ksm] scope",
            "KSM",
            valid_list(
                "ksm scope",
                &minimal("tables", "[ksm]\nscope = \"zzz_probe\""),
            ),
        ),
        (
            "[[rollout]] scope",
            "Rollouts",
            valid_list(
                "rollout scope",
                &minimal(
                    "tables",
                    "[[rollout]]\nworkload = \"w\"\nstart_s = 1\nbatch_size = 1\nscope = \"zzz_probe\"",
                ),
            ),
        ),
        (
            "host family",
            "Hosts",
            valid_list("family", &f("host", "family")),
        ),
        (
            "hypervisor",
            "Hosts",
            valid_list("hypervisor", &f("host", "hypervisor")),
        ),
        (
            "layer kind",
            "Layers",
            valid_list(
                "kind",
                &minimal("tables", "[layers.x]\nkind = \"zzz_probe\""),
            ),
        ),
        (
            "layer isolation",
            "Layers",
            valid_list(
                "isolation",
                &minimal("tables", "[layers.x]\nisolation = \"zzz_probe\""),
            ),
        ),
        (
            "tag",
            "Numbers with provenance",
            valid_list(
                "tag",
                &minimal("host", "cores = { value = 8, tag = \"zzz_probe\" }"),
            ),
        ),
    ]
}

/// The text of the `## {heading}` section (up to the next `## `), so a key is found in the
/// table it belongs to, not merely somewhere in the file.
fn section_of<'a>(doc: &'a str, heading: &str) -> &'a str {
    let h = format!("\n## {heading}\n");
    let b = doc
        .find(&h)
        .unwrap_or_else(|| panic!("docs/scenarios.md has no section `## {heading}`"))
        + 1;
    let e = doc[b + 3..].find("\n## ").map_or(doc.len(), |i| b + 3 + i);
    &doc[b..e]
}

#[test]
fn docs_scenarios_names_every_accepted_key() {
    let doc = read_doc("scenarios.md");
    let mut missing = vec![];
    for (table, section, keys) in accepted_keys() {
        let text = section_of(&doc, section);
        for k in keys {
            if !text.contains(&format!("`{k}`")) {
                missing.push(format!("{table}: `{k}` (in section \"## {section}\")"));
            }
        }
    }
    for (setting, section, values) in accepted_values() {
        let text = section_of(&doc, section);
        for v in values {
            if !text.contains(&format!("`{v}`")) {
                missing.push(format!(
                    "value of {setting}: `{v}` (in section \"## {section}\")"
                ));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "docs/scenarios.md does not document these accepted keys/values:\n  {}",
        missing.join("\n  ")
    );
}

/// A scenario that produces every kind of metric: KSM, a hypervisor, steal, per-class
/// SLOs, interference and a rollout.
const RICH: &str = r#"
name = "rich"
horizon_s = 900
warmup_s = 60
[slo]
p99_slowdown = 2
[ksm]
enabled = true
[hosts.x86]
profile = "x86-2s"
count = 1
[hosts.z]
profile = "mainframe-lpar"
count = 1
[placements.civ]
layers = ["vm-kvm", "container-runc"]
[placements.bm]
layers = ["container-runc"]
[workloads.web]
count = 20
private_mib = 256
image_mib = 100
cpu_cores = 0.1
pressure = { llc = 0.1 }
sensitivity = { llc = 0.2 }
slo = { p99_slowdown = 1.5 }
[[rollout]]
name = "patch"
workload = "web"
start_s = 300
batch_size = 5
"#;

/// A metric name with scenario-specific parts replaced by placeholders.
fn generalize(name: &str, sc: &Scenario) -> String {
    for prefix in [
        "mem_mib_per_host.layer:",
        "cpu_cores_per_host.layer:",
        "cpu_cores_per_host.hypervisor:",
    ] {
        if name.starts_with(prefix) {
            return format!("{prefix}<name>");
        }
    }
    for r in &sc.rollouts {
        let p = format!("rollout.{}.", r.name);
        if let Some(rest) = name.strip_prefix(&p) {
            return format!("rollout.<name>.{rest}");
        }
    }
    for w in &sc.workloads {
        if let Some(base) = name.strip_suffix(&format!(".{}", w.name)) {
            return format!("{base}.<class>");
        }
    }
    name.to_string()
}

#[test]
fn docs_scenarios_names_every_metric() {
    let sc = Scenario::from_toml("rich.toml", "rich", RICH).unwrap_or_else(|e| panic!("{e}"));
    let runs = run_scenario(&sc, 1, 0, Some(1)).unwrap();
    let doc = read_doc("scenarios.md");
    let mut names: Vec<String> = vec![];
    for cr in &runs.configs {
        for r in &cr.runs {
            for k in r.metrics.keys() {
                let g = generalize(k, &sc);
                if !names.contains(&g) {
                    names.push(g);
                }
            }
        }
    }
    // The scenario must have produced the optional families, or the check is hollow.
    for must in [
        "ksm.pages_sharing",
        "cpu_cores_per_host.steal",
        "cpu_cores_per_host.ksmd",
        "cpu_cores_per_host.hypervisor:<name>",
        "slowdown_p99.<class>",
        "interference_mean",
        "rollout.<name>.waves",
    ] {
        assert!(names.iter().any(|n| n == must), "{must} not produced");
    }
    let text = section_of(&doc, "Metrics");
    let missing: Vec<&String> = names
        .iter()
        .filter(|n| !text.contains(&format!("`{n}`")))
        .collect();
    assert!(
        missing.is_empty(),
        "docs/scenarios.md does not document these metrics: {missing:?}"
    );
    // results.csv's leading columns.
    for k in ["point", "placement", "host_type", "replication"] {
        assert!(text.contains(&format!("`{k}`")), "column {k}");
    }
}

// ---------------------------------------------------------------- generated tables

fn num(x: f64) -> String {
    if x >= 1e5 && x.fract() == 0.0 {
        format!("{x:e}")
    } else {
        format!("{x}")
    }
}

fn esc(s: &str) -> String {
    s.replace('|', "\\|")
}

fn field_table(defs: &[ParamDef]) -> String {
    let mut s =
        String::from("| key | unit | neutral default | range | meaning |\n|---|---|---|---|---|\n");
    for d in defs {
        s.push_str(&format!(
            "| `{}` | {} | {} | {} ..= {} | {} |\n",
            d.name,
            d.unit,
            num(d.default),
            num(d.min),
            num(d.max),
            esc(d.doc)
        ));
    }
    s
}

fn profile_tables(set: &ProfileSet, hosts: bool) -> String {
    let list = if hosts { &set.hosts } else { &set.layers };
    let mut s = String::new();
    for p in list {
        s.push_str(&format!("#### `{}`\n\n{}", p.name, esc(&p.description)));
        let mut attrs: Vec<String> = p.text.iter().map(|(k, v)| format!("{k} = `{v}`")).collect();
        if !hosts {
            attrs.push(format!("kernel = `{}`", p.kernel));
        }
        s.push_str(&format!(" ({}).\n\n", attrs.join(", ")));
        s.push_str("| parameter | value | unit | tag | source |\n|---|---|---|---|---|\n");
        for (k, param) in &p.params {
            if param.tag == Tag::Default {
                continue;
            }
            s.push_str(&format!(
                "| `{k}` | {} | {} | {} | {} |\n",
                num(param.value),
                param.unit,
                param.tag,
                esc(&param.source)
            ));
        }
        let neutral: Vec<String> = p
            .params
            .iter()
            .filter(|(_, x)| x.tag == Tag::Default)
            .map(|(k, x)| format!("`{k}` = {}", num(x.value)))
            .collect();
        if !neutral.is_empty() {
            s.push_str(&format!(
                "\nNot set (neutral default, tag `default`): {}.\n",
                neutral.join(", ")
            ));
        }
        s.push('\n');
    }
    s
}

/// Checks (or, with CAPSIM_BLESS_DOCS=1, rewrites) the block between
/// `<!-- BEGIN generated:NAME -->` and `<!-- END generated:NAME -->`.
fn check_block(file: &str, name: &str, want: &str) -> Option<String> {
    let path = doc_path(file);
    let text = read_doc(file);
    let begin = format!("<!-- BEGIN generated:{name} -->\n");
    let end = format!("<!-- END generated:{name} -->");
    let (Some(b), Some(e)) = (text.find(&begin), text.find(&end)) else {
        return Some(format!("docs/{file}: markers for `{name}` are missing"));
    };
    let have = &text[b + begin.len()..e];
    if have == want {
        return None;
    }
    if std::env::var_os("CAPSIM_BLESS_DOCS").is_some() {
        let new = format!("{}{want}{}", &text[..b + begin.len()], &text[e..]);
        std::fs::write(&path, new).unwrap();
        return None;
    }
    Some(format!(
        "docs/{file}: generated block `{name}` is out of date (rerun with CAPSIM_BLESS_DOCS=1 and review the diff)"
    ))
}

#[test]
fn docs_generated_tables_match_the_code() {
    let set = ProfileSet::builtin().unwrap();
    let problems: Vec<String> = [
        check_block("model.md", "layer-profiles", &profile_tables(&set, false)),
        check_block("model.md", "host-profiles", &profile_tables(&set, true)),
        check_block("scenarios.md", "layer-fields", &field_table(layer_params())),
        check_block("scenarios.md", "host-fields", &field_table(host_params())),
    ]
    .into_iter()
    .flatten()
    .collect();
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn docs_model_numbers_match_the_code() {
    let doc = read_doc("model.md");
    // KSM scan rate at the defaults and at pages_to_scan = 1000.
    let sc = Scenario::default_scenario();
    let r = sc.ksm.scan_rate_pages_per_s();
    let fast = minimal("tables", "[ksm]\npages_to_scan = 1000");
    let fast = Scenario::from_toml("f.toml", "f", &fast).unwrap();
    let r1000 = fast.ksm.scan_rate_pages_per_s();
    for (what, x) in [("default scan rate", r), ("scan rate at 1000", r1000)] {
        let s = format!("{x:.0} pages/s");
        assert!(doc.contains(&s), "model.md should state the {what}: {s}");
    }
    // The worked example: x86 `vm` in the default scenario.
    let vm = sc.placements.iter().find(|p| p.name == "vm").unwrap();
    let x86 = sc.host_types.iter().find(|h| h.name == "x86").unwrap();
    let fp = vm.footprint(&sc.workloads[0]);
    let per_vm = fp.unit_commit_kib() as f64 / 1024.0;
    let adm = x86.memory_admissible_mib();
    for s in [
        format!("{:.2} MiB", per_vm),
        format!("{adm:.0} MiB"),
        format!("{}", (adm / per_vm).floor()),
        format!("{:.2}", x86.cpu_capacity()),
    ] {
        assert!(
            doc.contains(&s),
            "model.md worked example should contain {s}"
        );
    }
}

// ---------------------------------------------------------------- notebook snippet

/// The fenced block tagged ```` ```python title=stdlib ````.
fn stdlib_snippet(doc: &str) -> String {
    let start = "```python title=stdlib\n";
    let b = doc
        .find(start)
        .expect("notebooks.md has a ```python title=stdlib block")
        + start.len();
    let e = doc[b..].find("\n```").expect("closing fence") + b;
    doc[b..e].to_string()
}

#[test]
fn docs_notebook_stdlib_snippet_runs() {
    let doc = read_doc("notebooks.md");
    let code = stdlib_snippet(&doc);
    let python = match Command::new("python3").arg("--version").output() {
        Ok(o) if o.status.success() => "python3",
        _ => {
            eprintln!("note: python3 not found; the notebooks.md snippet was not run");
            return;
        }
    };
    let tmp = tempfile::tempdir().unwrap();
    let scen = tmp.path().join("nb.toml");
    std::fs::write(
        &scen,
        super::TWO_PLACEMENTS.replace("name = \"ok\"", "name = \"nb\""),
    )
    .unwrap();
    let script = tmp.path().join("snippet.py");
    std::fs::write(&script, &code).unwrap();
    let out = tmp.path().join("out");
    let o = Command::new(python)
        .arg(&script)
        .env("CAPSIM", env!("CARGO_BIN_EXE_capsim"))
        .env("SCENARIO", &scen)
        .env("OUT", &out)
        .current_dir(tmp.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "snippet failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    // Compare with the files the run wrote.
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    let configs = summary["configurations"].as_array().unwrap();
    let reps = summary["replications"].as_u64().unwrap();
    assert_eq!(configs.len(), 2);
    for c in configs {
        let placement = c["placement"].as_str().unwrap();
        let host = c["host_type"].as_str().unwrap();
        let m = c["metrics"]["density_per_host"]["mean"].as_f64().unwrap();
        let want = format!("{host} {placement} density_per_host {m:.1}");
        assert!(stdout.contains(&want), "missing `{want}` in:\n{stdout}");
        let want_csv = format!("csv {host} {placement} density_per_host {m:.1} over {reps}");
        assert!(
            stdout.contains(&want_csv),
            "missing `{want_csv}` in:\n{stdout}"
        );
    }
    let rows = configs.len() as u64 * reps;
    assert!(
        stdout.contains(&format!("results.csv: {rows} rows")),
        "row count in:\n{stdout}"
    );
}
