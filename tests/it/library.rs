//! The scenario library: every file in `scenarios/` validates, runs (at reduced size) and
//! produces its report.

use std::path::PathBuf;

use assert_cmd::Command;

fn library() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    v.sort();
    v
}

/// Shortens the horizon (and warm-up) to keep the test fast; the model is unchanged.
fn reduced(text: &str) -> String {
    text.lines()
        .map(|l| {
            let key = l.split('=').next().unwrap_or("").trim();
            match key {
                "horizon_s" => "horizon_s = 3000".to_string(),
                "warmup_s" => "warmup_s = 300".to_string(),
                _ => l.to_string(),
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn every_library_scenario_states_its_question() {
    let files = library();
    assert!(files.len() >= 9, "{files:?}");
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        assert!(
            text.starts_with('#'),
            "{} needs a comment header",
            f.display()
        );
        assert!(
            text.contains("Question") || text.contains("Question:"),
            "{} must state its question",
            f.display()
        );
        assert!(
            text.contains("Look at"),
            "{} must say what to look at",
            f.display()
        );
    }
}

#[test]
fn every_library_scenario_runs_and_reports() {
    let tmp = tempfile::tempdir().unwrap();
    for f in library() {
        let name = f.file_stem().unwrap().to_string_lossy().into_owned();
        let text = reduced(&std::fs::read_to_string(&f).unwrap());
        // Rollouts scheduled past the reduced horizon would be rejected: keep them inside.
        let text = text
            .replace("start_s = 3600", "start_s = 1000")
            .replace("start_s = 10800", "start_s = 2000");
        let scen = tmp.path().join(format!("{name}.toml"));
        std::fs::write(&scen, text).unwrap();
        let out = tmp.path().join(&name);
        let r = Command::cargo_bin("capsim")
            .unwrap()
            .args(["validate"])
            .arg(&f)
            .output()
            .unwrap();
        assert!(
            r.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&r.stderr)
        );
        let r = Command::cargo_bin("capsim")
            .unwrap()
            .arg("run")
            .arg(&scen)
            .arg("--out")
            .arg(&out)
            .arg("--quiet")
            .output()
            .unwrap();
        assert!(
            r.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&r.stderr)
        );
        let html = std::fs::read_to_string(out.join("report.html")).unwrap();
        assert!(
            html.contains("<img") || html.contains("<svg"),
            "{name}: report has plots"
        );
        assert!(out.join("plots/density.png").exists(), "{name}");
    }
}
