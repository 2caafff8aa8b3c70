//! The domain: hosts, layers, placements, workloads, and how they use CPU and memory.
//! Each file is one concept; `sim.rs` wires them together on the engine.

pub mod cpu;
pub mod host;
pub mod host_index;
pub mod interference;
pub mod ksm;
pub mod layer;
pub mod memory;
pub mod placement;
pub mod slo;
pub mod workload;
