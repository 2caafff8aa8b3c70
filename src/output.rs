//! The one way capsim writes its outputs: into a temporary sibling that is renamed into
//! place, so a reader — or a rerun after a crash — sees the old file or directory or the
//! new one, never half of one.
//!
//! Two entry points share the temporary names and the rename discipline:
//! [`replace_dir`] for a report directory (filled by a closure, then swapped in) and
//! [`replace_file`] for a single file (a saved sweep point, a shard manifest,
//! `report.html`). Inside a directory being filled, [`put`] writes plain files: the
//! directory as a whole is what appears atomically.

use std::fs;
use std::path::{Path, PathBuf};

use crate::diagnostics::{Error, Result};

/// `.NAME.SUFFIX-PID` next to `path`: hidden, unique to this process, and never matched
/// by the names capsim itself looks for (`*.json`, `shard-*`).
fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "output".into());
    parent_of(path).join(format!(".{name}.{suffix}-{}", std::process::id()))
}

/// The directory holding `path` (`.` for a bare name).
fn parent_of(path: &Path) -> PathBuf {
    path.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// Replaces the directory `dir` with one that `fill` writes: `fill` gets a fresh
/// temporary directory next to `dir`, which then takes `dir`'s place. An older `dir` is
/// moved aside first and removed only once the new one is in place; if `fill` fails,
/// nothing changes.
pub fn replace_dir<T>(dir: &Path, fill: impl FnOnce(&Path) -> Result<T>) -> Result<T> {
    let parent = parent_of(dir);
    fs::create_dir_all(&parent)
        .map_err(|e| Error::io(&format!("create {}", parent.display()), e))?;
    let tmp = sibling(dir, "tmp");
    let old = sibling(dir, "old");
    let _ = fs::remove_dir_all(&tmp);
    fs::create_dir_all(&tmp).map_err(|e| Error::io(&format!("create {}", tmp.display()), e))?;
    let value = match fill(&tmp) {
        Ok(v) => v,
        Err(e) => {
            let _ = fs::remove_dir_all(&tmp);
            return Err(e);
        }
    };
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
    Ok(value)
}

/// Replaces the file `path` with `bytes`: written to a temporary sibling, then renamed
/// over `path` (a rename within one directory replaces a file atomically).
pub fn replace_file(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = sibling(path, "tmp");
    fs::write(&tmp, bytes).map_err(|e| Error::io(&format!("write {}", tmp.display()), e))?;
    fs::rename(&tmp, path).map_err(|e| {
        let _ = fs::remove_file(&tmp);
        Error::io(&format!("rename {}", path.display()), e)
    })
}

/// Writes `dir/name` inside a directory that [`replace_dir`] is filling.
pub fn put(dir: &Path, name: &str, bytes: &[u8]) -> Result<()> {
    let p = dir.join(name);
    fs::write(&p, bytes).map_err(|e| Error::io(&format!("write {}", p.display()), e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_fill_leaves_the_old_directory_alone() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("report");
        replace_dir(&dir, |d| put(d, "a.txt", b"first")).unwrap();
        let failed: Result<()> = replace_dir(&dir, |d| {
            put(d, "a.txt", b"second")?;
            Err(Error::Runtime("boom".into()))
        });
        assert!(failed.is_err());
        assert_eq!(fs::read(dir.join("a.txt")).unwrap(), b"first");
        // No temporary or moved-aside directory is left behind.
        let names: Vec<String> = fs::read_dir(tmp.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["report"]);
    }

    #[test]
    fn a_new_directory_replaces_the_old_one_entirely() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("report");
        replace_dir(&dir, |d| put(d, "stale.txt", b"x")).unwrap();
        let n = replace_dir(&dir, |d| put(d, "new.txt", b"y").map(|()| 7)).unwrap();
        assert_eq!(n, 7);
        assert!(!dir.join("stale.txt").exists());
        assert_eq!(fs::read(dir.join("new.txt")).unwrap(), b"y");
    }

    #[test]
    fn replace_file_overwrites_and_leaves_no_temporary() {
        let tmp = tempfile::tempdir().unwrap();
        let f = tmp.path().join("p.json");
        replace_file(&f, b"1").unwrap();
        replace_file(&f, b"22").unwrap();
        assert_eq!(fs::read(&f).unwrap(), b"22");
        assert_eq!(fs::read_dir(tmp.path()).unwrap().count(), 1);
    }
}
