//! Integration tests: one binary, one module per concern.

mod browser;
mod cli;
mod conservation;
mod determinism;
mod docs;
mod erlang;
mod ksm;
mod layering;
mod library;
mod memory;
mod mutation;
mod neighbours;
mod report;
mod study;

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use capsim::scenario::{Config, Scenario};

/// The `capsim` binary under test.
pub fn capsim() -> Command {
    Command::cargo_bin("capsim").unwrap()
}

/// Writes `text` to `dir/name` and returns the path.
pub fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// A small valid scenario: two placements on two x86 hosts, 50 static web instances.
pub const TWO_PLACEMENTS: &str = r#"
name = "ok"
horizon_s = 3600
[hosts.x86]
profile = "x86-2s"
count = 2
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

pub fn scenario(toml: &str) -> Scenario {
    Scenario::from_toml("test.toml", "test", toml).unwrap_or_else(|e| panic!("{e}"))
}

pub fn config(sc: &Scenario, placement: &str, host: &str) -> Config {
    *sc.configs()
        .iter()
        .find(|c| {
            sc.placements[c.placement].name == placement && sc.host_types[c.host_type].name == host
        })
        .expect("configuration exists")
}

/// Runs one configuration with invariant checks at every event; a violation fails the test.
pub fn run_checked(sc: &Scenario, placement: &str, host: &str) -> capsim::metrics::RunMetrics {
    let cfg = config(sc, placement, host);
    capsim::sim::run_config(
        sc,
        cfg,
        capsim::sim::RunOptions {
            check_invariants: true,
            ..Default::default()
        },
    )
    .unwrap_or_else(|e| panic!("{placement} on {host}: {e}"))
}
