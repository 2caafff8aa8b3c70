//! # capsim — a discrete-event capacity simulator
//!
//! capsim answers one question for a capacity planner: **for these workloads on these
//! hosts, which placement packs the most workloads per host while their service objectives
//! hold, and what does it cost?**
//!
//! ## The model in one page
//!
//! - **Hosts** ([`model::host`]) have cores, SMT (a core with all threads busy delivers
//!   `smt_gain`× one thread), memory, a base hypervisor layer (none on bare metal, PR/SM on
//!   a mainframe LPAR) and the limits a planner runs them at: a CPU ceiling and a memory
//!   overcommit ratio. Mainframes differ from x86 by profile, not by code.
//! - **Placements are layer stacks** ([`model::placement`]), host → workload:
//!   `["container-runc"]` (bare-metal containers), `["vm-kvm", "container-runc"]`
//!   (containers in a per-tenant VM), `["pod-kubevirt", "vm-kvm"]` (VM in a container),
//!   `["guest-zvm"]` (z/VM guest). Everything up to the innermost kernel layer is created
//!   once per VM and holds `containers_per_vm` workloads; the layers inside it are created
//!   per workload.
//! - **Layers** ([`model::layer`]) come from calibrated profiles ([`profiles`]) with a
//!   source and a confidence tag for every number: a CPU factor (KVM tuned 1.02, untuned
//!   1.17), background CPU per instance, memory per instance (QEMU ≈ 30 MiB + RAM/512;
//!   KubeVirt ≈ 218 MiB + 0.002·RAM + 8 MiB/vCPU), a guest OS footprint for kernel layers,
//!   and a lognormal start time that stretches with concurrent starts.
//! - **Memory** ([`model::memory`]): containers of one image on one kernel share the image
//!   once; each VM kernel holds its own copy. A VM commits its whole guest RAM when it
//!   boots; empty container slots are committed but not resident.
//! - **CPU** ([`model::cpu`]): per host, demands (× layer factors) share the SMT-aware
//!   throughput by weighted max-min fairness; slowdown = factor × demand / allocation.
//! - **Admission**: first-fit / best-fit / spread under CPU reservation ≤ ceiling and
//!   committed memory ≤ overcommit × physical; an arrival that fits nowhere is blocked.
//! - **Engine** ([`engine`]): integer nanoseconds, `(time, seq)` FIFO ties, events by value.
//!   Every placement sees the same workload stream (common random numbers).
//!
//! ## How the crate is layered
//!
//! Each layer imports only the ones above it (`tests/it/layering.rs` checks this):
//!
//! 1. [`engine`] (time and the event queue; imports nothing), [`diagnostics`] (input
//!    errors with file:line:col), [`profiles`] (calibrated numbers with provenance);
//! 2. [`model`]: pure models — placement policies, CPU sharing, memory parts, KSM,
//!    interference, SLOs — which own every formula;
//! 3. [`metrics`] and [`scenario`] (the file, its overrides and its resolution);
//! 4. [`sim`]: one replication — holds the world's state and calls the model;
//! 5. [`results`]: the one result shape, statistics and `summary.json`;
//! 6. [`study`] (replications, sweeps, search, shards) and [`report`] (tables, plots,
//!    `report.html`), which never import each other; [`output`] writes atomically;
//! 7. [`cli`].
//!
//! ## Example
//!
//! ```
//! use capsim::scenario::Scenario;
//! use capsim::results::summary::Summary;
//! use capsim::study::run_scenario;
//!
//! let toml = r#"
//!     seed = 7
//!     horizon_s = 3600
//!     [hosts.x86]
//!     profile = "x86-2s"
//!     count = 2
//!     [placements.bare-metal-containers]
//!     layers = ["container-runc"]
//!     [placements.vm]
//!     layers = ["vm-kvm"]
//!     [workloads.web]
//!     count = 100
//!     private_mib = 512
//!     image_mib = 300
//!     cpu_cores = 0.2
//! "#;
//! let sc = Scenario::from_toml("example.toml", "example", toml).unwrap();
//! let runs = run_scenario(&sc, 1, 0, Some(1)).unwrap();
//! let s = Summary::build(&sc, &runs);
//! let bm = s.mean("bare-metal-containers", "x86", "mem_per_workload_mib").unwrap();
//! let vm = s.mean("vm", "x86", "mem_per_workload_mib").unwrap();
//! // Each VM carries a guest kernel (220 MiB), its own image copy and QEMU's overhead.
//! assert!(vm > bm + 220.0);
//! ```

pub mod cli;
pub mod diagnostics;
pub mod engine;
pub mod estate;
pub mod metrics;
pub mod model;
pub mod ordered_map;
pub mod output;
pub mod profiles;
pub mod report;
pub mod results;
pub mod scenario;
pub mod sim;
pub mod study;

pub use diagnostics::{Error, InputError, Result};
