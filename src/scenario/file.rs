//! The scenario file as written: the serde types of every table, and the parse errors
//! turned into located messages.

use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::diagnostics::{InputError, line_col, nearest};
use crate::model::interference::ResourceVec;
use crate::model::slo::Slo;
use crate::model::workload::{Dist, Phases};
use crate::ordered_map::OrderedMap;

use super::study;

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub(crate) struct ScenarioFile {
    pub name: Option<String>,
    pub description: Option<String>,
    pub question: Option<String>,
    #[serde(default = "default_seed")]
    pub seed: u64,
    pub horizon_s: Option<f64>,
    pub warmup_s: Option<f64>,
    pub study: Option<study::StudyFile>,
    pub sweep: Option<study::SweepFile>,
    #[serde(default)]
    pub layers: OrderedMap<toml::Table>,
    #[serde(default)]
    pub hosts: OrderedMap<toml::Table>,
    #[serde(default)]
    pub placements: OrderedMap<PlacementFile>,
    #[serde(default)]
    pub workloads: OrderedMap<WorkloadFile>,
    #[serde(default)]
    pub slo: Slo,
    #[serde(default)]
    pub ksm: KsmFile,
    #[serde(default)]
    pub rollout: Vec<RolloutFile>,
}

/// `[ksm]`: ksmd on every host (the kernel's tunables); a host type may override any field
/// with its own `ksm = { ... }` table.
#[derive(Deserialize, Debug, Default, Clone)]
#[serde(deny_unknown_fields)]
pub(crate) struct KsmFile {
    pub enabled: Option<bool>,
    pub pages_to_scan: Option<u32>,
    pub sleep_millisecs: Option<u32>,
    pub hz: Option<u32>,
    pub max_page_sharing: Option<u32>,
    pub use_zero_pages: Option<bool>,
    pub scope: Option<String>,
    pub per_page_us: Option<f64>,
    pub per_wake_us: Option<f64>,
    pub containers_mergeable: Option<bool>,
    pub timeline_interval_s: Option<f64>,
}

impl KsmFile {
    /// `self` with every field `over` sets replaced.
    pub(super) fn overridden_by(&self, over: &KsmFile) -> KsmFile {
        macro_rules! pick {
            ($($f:ident),*) => { KsmFile { $($f: over.$f.clone().or_else(|| self.$f.clone()),)* } };
        }
        pick!(
            enabled,
            pages_to_scan,
            sleep_millisecs,
            hz,
            max_page_sharing,
            use_zero_pages,
            scope,
            per_page_us,
            per_wake_us,
            containers_mergeable,
            timeline_interval_s
        )
    }
}

fn default_seed() -> u64 {
    1
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub(crate) struct PlacementFile {
    pub description: Option<String>,
    pub layers: Vec<String>,
    pub hosts: Option<Vec<String>>,
    pub vm_per: Option<String>,
    pub containers_per_vm: Option<u32>,
    pub policy: Option<String>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub(crate) struct WorkloadFile {
    pub count: Option<u64>,
    pub arrival_rate_per_s: Option<f64>,
    pub lifetime_s: Option<Dist>,
    pub tenants: Option<u32>,
    pub tenant: Option<String>,
    pub image: Option<String>,
    pub private_mib: f64,
    #[serde(default)]
    pub image_mib: f64,
    #[serde(default)]
    pub zero_mib: f64,
    #[serde(default)]
    pub volatile_fraction: f64,
    pub cpu_cores: Dist,
    pub cpu_request: Option<f64>,
    pub vcpus: Option<f64>,
    pub weight: Option<f64>,
    #[serde(default)]
    pub io_fraction: f64,
    #[serde(default)]
    pub image_segment: bool,
    #[serde(default)]
    pub write_mib_per_s: f64,
    pub pressure: Option<ResourceVec>,
    pub sensitivity: Option<ResourceVec>,
    pub slowdown_cap: Option<f64>,
    pub phases: Option<Phases>,
    pub cpu_mode: Option<String>,
    pub cpu_limit: Option<f64>,
    #[serde(default)]
    pub slo: Slo,
    pub hosts: Option<Vec<String>>,
}

/// `[[rollout]]`: a restart wave over one workload class (patching, redeploys).
#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub(crate) struct RolloutFile {
    pub name: Option<String>,
    pub workload: String,
    pub start_s: f64,
    pub batch_size: Option<u32>,
    pub max_unavailable: Option<f64>,
    pub scope: Option<String>,
}

/// Turns a toml/serde error into a located message, naming the nearest valid key.
pub(crate) fn toml_error(file: &str, text: &str, e: &toml::de::Error) -> InputError {
    let msg = e.message().trim().to_string();
    InputError {
        file: file.to_string(),
        line_col: e.span().map(|s| line_col(text, s.start)),
        message: improve_serde_message(&msg),
    }
}

/// serde says "unknown field `coress`, expected one of `a`, `b`"; we add "did you mean".
pub(super) fn improve_serde_message(msg: &str) -> String {
    let Some(rest) = msg.strip_prefix("unknown field `") else {
        return msg.to_string();
    };
    let Some(end) = rest.find('`') else {
        return msg.to_string();
    };
    let wrong = &rest[..end];
    let expected: Vec<&str> = rest[end + 1..].split('`').skip(1).step_by(2).collect();
    match nearest(wrong, expected.iter().copied()) {
        Some(n) => format!(
            "unknown key `{wrong}`; did you mean `{n}`? (valid: {})",
            expected.join(", ")
        ),
        None => format!("unknown key `{wrong}` (valid: {})", expected.join(", ")),
    }
}

pub(crate) fn parse_toml<T: DeserializeOwned>(file: &str, text: &str) -> Result<T, InputError> {
    toml::from_str(text).map_err(|e| toml_error(file, text, &e))
}
