//! What a run leaves behind: `summary.json` (stable schema), `results.csv` (one row per
//! point × placement × host type × replication), the comparison table on the terminal,
//! and `report.html` with its plots (`plots/*.png`, `plots/*.svg`).
//! Files are written into a temporary directory that is renamed into place, so a failed
//! run never leaves a half-written report.

pub mod headline;
pub mod html;
pub(crate) mod plots;
pub mod saved;
pub mod summary;
pub mod table;

use std::fs;
use std::path::{Path, PathBuf};

use crate::diagnostics::{Error, Result};

/// Writes a report directory atomically: `fill` writes into a fresh temporary directory
/// next to `dir`, which then replaces `dir` (an older report is removed only after the new
/// one is in place).
pub fn write_atomically(dir: &Path, fill: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
    let parent = dir
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    fs::create_dir_all(&parent)
        .map_err(|e| Error::io(&format!("create {}", parent.display()), e))?;
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "report".into());
    let pid = std::process::id();
    let tmp = parent.join(format!(".{name}.tmp-{pid}"));
    let old = parent.join(format!(".{name}.old-{pid}"));
    let _ = fs::remove_dir_all(&tmp);
    fs::create_dir_all(&tmp).map_err(|e| Error::io(&format!("create {}", tmp.display()), e))?;
    if let Err(e) = fill(&tmp) {
        let _ = fs::remove_dir_all(&tmp);
        return Err(e);
    }
    let had_old = dir.exists();
    if had_old {
        fs::rename(dir, &old)
            .map_err(|e| Error::io(&format!("move aside {}", dir.display()), e))?;
    }
    if let Err(e) = fs::rename(&tmp, dir) {
        if had_old {
            let _ = fs::rename(&old, dir);
        }
        let _ = fs::remove_dir_all(&tmp);
        return Err(Error::io(&format!("rename into {}", dir.display()), e));
    }
    if had_old {
        let _ = fs::remove_dir_all(&old);
    }
    Ok(())
}

pub(crate) fn write_file(dir: &Path, name: &str, bytes: &[u8]) -> Result<()> {
    let p = dir.join(name);
    fs::write(&p, bytes).map_err(|e| Error::io(&format!("write {}", p.display()), e))
}
