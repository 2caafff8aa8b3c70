//! What a study produced, in one shape, and the files written from it.
//!
//! - [`records`]: one replication, one configuration, one sweep point — built from the
//!   simulator's `RunMetrics` or read back from a saved sweep point; `results.csv` and
//!   `timeline.csv`.
//! - [`stats`]: confidence intervals and paired differences.
//! - [`summary`]: `summary.json`, written and read by the same types.
//! - [`search`]: `search.json` and `search.csv`, the density at the SLO.
//!
//! `study` produces these and `report` presents them; neither imports the other.

pub mod records;
pub mod search;
pub mod stats;
pub mod summary;
