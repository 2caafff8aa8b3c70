//! How results are presented: the tables on the terminal, the headline answer, and
//! `report.html` with its plots (`plots/*.png`, `plots/*.svg`).
//!
//! Everything here is drawn from [`crate::results`] — a finished run's records or a
//! saved `summary.json` — never from a running study, so `capsim report DIR` redraws an
//! old report exactly as the run drew it.

pub mod headline;
pub mod html;
pub(crate) mod plots;
pub mod table;
