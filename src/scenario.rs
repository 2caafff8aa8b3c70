//! The scenario file: TOML schema, defaults, and every check that can be made before a
//! simulation starts. Errors carry the file, line and column, and the nearest valid name.
//!
//! ```toml
//! name = "web-fleet"
//! seed = 42
//! horizon_s = 86400
//! warmup_s = 3600
//!
//! [hosts.x86]                 # a fleet: a host profile, a count, any overrides
//! profile = "x86-2s"
//! count = 4
//!
//! [layers.vm-kvm]             # override a calibrated layer field (tag becomes "scenario")
//! cpu_factor = 1.03
//!
//! [placements.containers-in-vm]
//! layers = ["vm-kvm", "container-runc"]   # host → workload
//! vm_per = "tenant"
//! containers_per_vm = 8
//!
//! [workloads.web]
//! arrival_rate_per_s = 0.5
//! lifetime_s = { dist = "exponential", mean = 3600 }
//! tenants = 4
//! private_mib = 256
//! image_mib = 300
//! cpu_cores = { dist = "lognormal", mean = 0.25, cv = 0.5 }
//! cpu_request = 0.5
//! ```

use std::path::Path;
use std::sync::Arc;

use crate::diagnostics::{Error, InputError, Source};
use crate::engine::SimTime;
use crate::model::host::HostType;
use crate::model::ksm::KsmSettings;
use crate::model::placement::Placement;
use crate::model::slo::Slo;
use crate::model::workload::WorkloadClass;
use crate::profiles::ProfileSet;

pub(crate) mod document;
mod file;
mod resolve;
pub(crate) mod study;
pub use document::Override;
pub(crate) use file::parse_toml;
pub use study::{Axis, Study};

use file::{ScenarioFile, improve_serde_message};

/// The scenario `capsim run` uses when no file is given (also `scenarios/default.toml`).
pub const DEFAULT_SCENARIO: &str = include_str!("../scenarios/default.toml");

/// Default cap of the interference slowdown (assumed; see docs/model.md).
pub const DEFAULT_SLOWDOWN_CAP: f64 = 1.4;

/// How many instances a rollout restarts at once.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Batch {
    Size(u32),
    /// A fraction of the class's instances (at least one).
    Fraction(f64),
}

/// A resolved rollout.
#[derive(Clone, Debug)]
pub struct Rollout {
    pub name: String,
    pub class: usize,
    pub start: SimTime,
    pub batch: Batch,
    /// `true`: a kernel patch restarts the whole stack (VM reboot); `false`: an image
    /// redeploy restarts the per-workload layers (the containers, or the VM when the VM is
    /// the workload's only layer).
    pub kernel: bool,
}

/// A fully resolved and validated scenario.
#[derive(Clone, Debug)]
pub struct Scenario {
    pub name: String,
    pub description: String,
    pub question: String,
    pub seed: u64,
    pub horizon: SimTime,
    pub warmup: SimTime,
    /// Built-in profiles with the scenario's overrides and additions applied.
    pub profiles: ProfileSet,
    pub host_types: Vec<HostType>,
    pub placements: Vec<Placement>,
    pub workloads: Vec<WorkloadClass>,
    /// The service objectives every configuration is judged by.
    pub slo: Slo,
    /// The scenario-wide `[ksm]` settings (each host type has its resolved copy).
    pub ksm: KsmSettings,
    pub rollouts: Vec<Rollout>,
    /// `[study]`: replications, confidence, sequential stopping.
    pub study: Study,
    /// `[[sweep.axis]]`, checked; the points are built by `study::sweep::points`.
    pub sweep: Vec<Axis>,
    /// The text as read (errors found after parsing point into it).
    pub(crate) source: Arc<Source>,
    /// The parsed document with every override applied: sweep points are edits of it.
    pub(crate) document: Arc<toml::Table>,
}

/// One thing to simulate: a placement on a fleet of one host type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Config {
    pub placement: usize,
    pub host_type: usize,
}

impl Scenario {
    /// Reads and validates a scenario file.
    pub fn load(path: &Path) -> Result<Scenario, Error> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            Error::Input(InputError {
                file: path.display().to_string(),
                line_col: None,
                message: format!("cannot read the scenario: {e}"),
            })
        })?;
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "scenario".into());
        Ok(Scenario::from_toml(
            &path.display().to_string(),
            &stem,
            &text,
        )?)
    }

    /// The embedded default scenario.
    pub fn default_scenario() -> Scenario {
        Scenario::from_toml("scenarios/default.toml", "default", DEFAULT_SCENARIO)
            .expect("the embedded default scenario is valid (tested)")
    }

    /// Parses and validates scenario text; `file` names it in errors, `stem` is the
    /// name used when the file sets none.
    pub fn from_toml(file: &str, stem: &str, text: &str) -> Result<Scenario, InputError> {
        let f: ScenarioFile = parse_toml(file, text)?;
        // Parsing into a table cannot fail once the typed parse succeeded.
        let doc: toml::Table = parse_toml(file, text)?;
        resolve::resolve(f, Arc::new(Source::new(file, text)), Arc::new(doc), stem)
    }

    /// This scenario with `overrides` applied to its document and resolved again, exactly
    /// as if the file had said so (command-line overrides, sweep points).
    pub fn with_overrides(&self, overrides: &[Override]) -> Result<Scenario, InputError> {
        if overrides.is_empty() {
            return Ok(self.clone());
        }
        let mut doc = (*self.document).clone();
        for o in overrides {
            document::apply(&mut doc, o);
        }
        self.resolve_document(doc)
    }

    /// Every (placement, host type) pair to simulate, host-type major.
    pub fn configs(&self) -> Vec<Config> {
        let mut v = vec![];
        for h in 0..self.host_types.len() {
            for (p, pl) in self.placements.iter().enumerate() {
                if pl.host_types.contains(&h)
                    && self.workloads.iter().any(|w| w.host_types.contains(&h))
                {
                    v.push(Config {
                        placement: p,
                        host_type: h,
                    });
                }
            }
        }
        v
    }

    pub fn source_text(&self) -> &str {
        &self.source.text
    }

    /// Resolves an edited copy of this scenario's document exactly as a file would be;
    /// errors still point into the original file.
    fn resolve_document(&self, doc: toml::Table) -> Result<Scenario, InputError> {
        let f: ScenarioFile =
            toml::Value::Table(doc.clone())
                .try_into()
                .map_err(|e: toml::de::Error| InputError {
                    file: self.source.name.clone(),
                    line_col: None,
                    message: improve_serde_message(e.message().trim()),
                })?;
        let stem = self.name.clone();
        resolve::resolve(f, self.source.clone(), Arc::new(doc), &stem)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_scenario_is_valid() {
        let s = Scenario::default_scenario();
        assert!(s.configs().len() >= 8);
        assert_eq!(s.name, "default");
    }

    #[test]
    fn unknown_top_level_key_suggests() {
        let e = Scenario::from_toml("t.toml", "t", "seeed = 3\n").unwrap_err();
        assert_eq!(e.line_col, Some((1, 1)));
        assert!(e.message.contains("did you mean `seed`"), "{}", e.message);
    }
}
