//! Integration tests: one binary, one module per concern.

mod cli;
mod conservation;
mod determinism;
mod docs;
mod erlang;
mod ksm;
mod library;
mod memory;
mod mutation;
mod neighbours;
mod report;
mod study;

use capsim::scenario::{Config, Scenario};

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
