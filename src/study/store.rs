//! Saved sweep results: one file per finished point, a manifest per shard, and the merge
//! of shards into one report.
//!
//! Layout of a sweep directory:
//!
//! ```text
//! DIR/scenario.toml            the exact input
//! DIR/shard-K-of-N.json        manifest: scenario hash, seed, shard, points, complete
//! DIR/points/p000017.json      every replication of point 17, floats as exact bit patterns
//! ```
//!
//! A shard owns the points p with p mod N = K − 1 (all their replications: sequential
//! stopping decides a point's replication count from that point's own results, so a
//! point cannot be split across machines without coordination). An unsharded sweep is
//! shard 1 of 1. Reports are always built from the saved point files, so a sweep and a
//! merge of its shards produce byte-identical reports.

use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::diagnostics::{Error, InputError, Result};
use crate::metrics::{QuantileSketch, SketchBits};
use crate::output::{put, replace_dir, replace_file};
use crate::results::records::{ConfigRecords, PointRecords, RunRecord, results_csv};
use crate::results::summary::Summary;
use crate::scenario::{Override, Scenario};
use crate::study::pool;
use crate::study::sweep::{Point, RunPlan, points, run_points};

/// Shard K of N (1-based K).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    pub k: u64,
    pub n: u64,
}

/// A `--shard` value that is not `K/N` with 1 ≤ K ≤ N.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "--shard {0}: expected K/N with 1 <= K <= N (e.g. 1/4 … 4/4; Kubernetes indices are 0-based: use K = index + 1)"
)]
pub struct BadShard(pub String);

impl Shard {
    pub const ALL: Shard = Shard { k: 1, n: 1 };

    /// Parses `K/N` with 1 ≤ K ≤ N.
    pub fn parse(s: &str) -> std::result::Result<Shard, BadShard> {
        let bad = || BadShard(s.to_string());
        let (k, n) = s.split_once('/').ok_or_else(bad)?;
        let k: u64 = k.trim().parse().map_err(|_| bad())?;
        let n: u64 = n.trim().parse().map_err(|_| bad())?;
        if n == 0 || k == 0 || k > n {
            return Err(bad());
        }
        Ok(Shard { k, n })
    }

    pub fn owns(&self, point: u64) -> bool {
        point % self.n == self.k - 1
    }

    fn manifest_name(&self) -> String {
        format!("shard-{}-of-{}.json", self.k, self.n)
    }
}

/// What one shard ran; merge checks that a set of manifests belongs together.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Manifest {
    pub capsim_version: String,
    pub scenario: String,
    /// FNV-1a of the scenario text, the seed and any replication override: results of
    /// different inputs never mix.
    pub scenario_hash: String,
    pub seed: u64,
    /// `--replications` given on the command line (fixes every point's count).
    pub replications: Option<u64>,
    pub shard: u64,
    pub shards: u64,
    pub points_total: u64,
    /// The points this shard owns.
    pub points: Vec<u64>,
    /// (point, configuration, replication) work items finished so far.
    pub items: u64,
    pub complete: bool,
}

#[derive(Serialize, Deserialize)]
struct SavedPoint {
    scenario_hash: String,
    point: u64,
    replications: u64,
    configs: Vec<SavedConfig>,
}

#[derive(Serialize, Deserialize)]
struct SavedConfig {
    placement: String,
    host_type: String,
    names: Vec<String>,
    runs: Vec<SavedRun>,
}

#[derive(Serialize, Deserialize)]
struct SavedRun {
    values: Vec<u64>,
    start_latency: SketchBits,
    slowdown: SketchBits,
}

/// 64-bit FNV-1a: tiny, stable across platforms and Rust versions (unlike `DefaultHasher`).
fn fnv1a(bytes: &[u8], mut h: u64) -> u64 {
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

pub fn scenario_hash(text: &str, seed: u64, replications: Option<u64>) -> String {
    let mut h = fnv1a(text.as_bytes(), 0xcbf2_9ce4_8422_2325);
    h = fnv1a(&seed.to_le_bytes(), h);
    h = fnv1a(&replications.unwrap_or(0).to_le_bytes(), h);
    format!("{h:016x}")
}

fn input(path: &Path, message: String) -> Error {
    Error::Input(InputError {
        file: path.display().to_string(),
        line_col: None,
        message,
    })
}

fn point_path(dir: &Path, p: u64) -> PathBuf {
    dir.join("points").join(format!("p{p:06}.json"))
}

/// Why a saved point cannot be used: the point is then (re)run, or — when a report is
/// being built from it — the input is bad.
#[derive(Debug, thiserror::Error)]
enum PointFileError {
    #[error("{}: {source}", path.display())]
    Unreadable {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: {source}", path.display())]
    Malformed {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("{}: results of another scenario or point", path.display())]
    OtherStudy { path: PathBuf },
    #[error("{}: damaged ({what})", path.display())]
    Damaged { path: PathBuf, what: &'static str },
}

fn save_point(dir: &Path, hash: &str, point: &PointRecords) -> Result<()> {
    let saved = SavedPoint {
        scenario_hash: hash.to_string(),
        point: point.point,
        replications: point.replications,
        configs: point
            .configs
            .iter()
            .map(|c| SavedConfig {
                placement: c.placement.clone(),
                host_type: c.host_type.clone(),
                names: c
                    .runs
                    .first()
                    .map(|r| r.metrics.keys().map(String::from).collect())
                    .unwrap_or_default(),
                runs: c
                    .runs
                    .iter()
                    .map(|r| SavedRun {
                        values: r.metrics.iter().map(|(_, v)| v.to_bits()).collect(),
                        start_latency: r.start_latency.to_bits(),
                        slowdown: r.slowdown.to_bits(),
                    })
                    .collect(),
            })
            .collect(),
    };
    let json = serde_json::to_vec(&saved)
        .map_err(|e| Error::Runtime(format!("point {}: {e}", point.point)))?;
    replace_file(&point_path(dir, point.point), &json)
}

/// Loads the saved results of `point` (which supplies the axis values a point file does
/// not repeat); `Err` says why they cannot be used.
fn load_point(
    dir: &Path,
    hash: &str,
    point: &Point,
) -> std::result::Result<PointRecords, PointFileError> {
    let path = point_path(dir, point.index);
    let bytes = match fs::read(&path) {
        Ok(b) => b,
        Err(source) => return Err(PointFileError::Unreadable { path, source }),
    };
    let s: SavedPoint = match serde_json::from_slice(&bytes) {
        Ok(s) => s,
        Err(source) => return Err(PointFileError::Malformed { path, source }),
    };
    if s.scenario_hash != hash || s.point != point.index {
        return Err(PointFileError::OtherStudy { path });
    }
    let damaged = |what| PointFileError::Damaged {
        path: path.clone(),
        what,
    };
    let mut configs = vec![];
    for c in s.configs {
        let mut runs = vec![];
        for r in c.runs {
            if r.values.len() != c.names.len() {
                return Err(damaged("column count"));
            }
            runs.push(RunRecord {
                metrics: c
                    .names
                    .iter()
                    .cloned()
                    .zip(r.values.iter().map(|b| f64::from_bits(*b)))
                    .collect(),
                start_latency: QuantileSketch::for_latency()
                    .with_bits(&r.start_latency)
                    .ok_or_else(|| damaged("sketch"))?,
                slowdown: QuantileSketch::for_slowdown()
                    .with_bits(&r.slowdown)
                    .ok_or_else(|| damaged("sketch"))?,
                // A point file keeps no KSM timeline: sweeps write no timeline.csv.
                timeline: vec![],
            });
        }
        configs.push(ConfigRecords {
            placement: c.placement,
            host_type: c.host_type,
            runs,
        });
    }
    Ok(PointRecords {
        point: point.index,
        axis_values: point.axis_values.clone(),
        replications: s.replications,
        configs,
    })
}

fn read_manifest(path: &Path) -> Result<Manifest> {
    let bytes = fs::read(path).map_err(|e| input(path, format!("cannot read: {e}")))?;
    serde_json::from_slice(&bytes)
        .map_err(|e| input(path, format!("not a capsim shard manifest: {e}")))
}

fn write_manifest(dir: &Path, m: &Manifest) -> Result<()> {
    let json =
        serde_json::to_vec_pretty(m).map_err(|e| Error::Runtime(format!("manifest: {e}")))?;
    let shard = Shard {
        k: m.shard,
        n: m.shards,
    };
    replace_file(&dir.join(shard.manifest_name()), &json)
}

/// Every `shard-*-of-*.json` in `dir`, sorted by name.
fn manifests_in(dir: &Path) -> Result<Vec<(PathBuf, Manifest)>> {
    let Ok(rd) = fs::read_dir(dir) else {
        return Ok(vec![]);
    };
    let mut paths: Vec<PathBuf> = rd
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("shard-") && n.ends_with(".json"))
        })
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|p| read_manifest(&p).map(|m| (p, m)))
        .collect()
}

/// Options of `capsim sweep`.
pub struct SweepOptions<'a> {
    pub shard: Shard,
    pub threads: Option<usize>,
    pub progress: Option<&'a indicatif::ProgressBar>,
    pub stop_after: Option<u64>,
    /// `--replications`: already applied to the scenario's study; recorded for the hash.
    pub replications: Option<u64>,
}

/// What a sweep did.
pub struct SweepOutcome {
    pub points_total: u64,
    pub points_owned: u64,
    pub points_skipped: u64,
    pub points_run: u64,
    /// All owned points are finished (false after `--stop-after`).
    pub complete: bool,
    /// The report (unsharded, complete sweeps only).
    pub summary: Option<Summary>,
}

/// Runs (or resumes) the slice `opts.shard` of `sc`'s sweep into `out`. Every input
/// problem — an invalid point, a directory holding another scenario's results — is
/// reported before anything is written.
pub fn sweep(sc: &Scenario, out: &Path, opts: &SweepOptions) -> Result<SweepOutcome> {
    let all = points(sc)?;
    let hash = scenario_hash(sc.source_text(), sc.seed, opts.replications);
    for (path, m) in manifests_in(out)? {
        if m.scenario_hash != hash || m.shards != opts.shard.n {
            return Err(input(
                &path,
                format!(
                    "{} already holds results of another scenario, seed or sharding (hash {}, shard {}/{}; this run: hash {hash}, shard {}/{}): choose another --out or delete it",
                    out.display(),
                    m.scenario_hash,
                    m.shard,
                    m.shards,
                    opts.shard.k,
                    opts.shard.n
                ),
            ));
        }
    }
    let mine: Vec<&Point> = all.iter().filter(|p| opts.shard.owns(p.index)).collect();
    fs::create_dir_all(out.join("points"))
        .map_err(|e| Error::io(&format!("create {}", out.display()), e))?;
    replace_file(&out.join("scenario.toml"), sc.source_text().as_bytes())?;
    let mut manifest = Manifest {
        capsim_version: env!("CARGO_PKG_VERSION").to_string(),
        scenario: sc.name.clone(),
        scenario_hash: hash.clone(),
        seed: sc.seed,
        replications: opts.replications,
        shard: opts.shard.k,
        shards: opts.shard.n,
        points_total: all.len() as u64,
        points: mine.iter().map(|p| p.index).collect(),
        items: 0,
        complete: false,
    };
    write_manifest(out, &manifest)?;
    // Resume: a point whose file loads is finished; anything else is (re)run.
    let todo: Vec<&Point> = mine
        .iter()
        .copied()
        .filter(|p| load_point(out, &hash, p).is_err())
        .collect();
    let skipped = (mine.len() - todo.len()) as u64;
    let pool = pool(opts.threads)?;
    let plan = RunPlan {
        study: &sc.study,
        progress: opts.progress,
        stop_after: opts.stop_after,
    };
    let run = run_points(&pool, &todo, &plan, &|point| save_point(out, &hash, &point))?;
    let complete = run == todo.len() as u64;
    let mut summary = None;
    if complete {
        let runs = load_all(out, &hash, &mine)?;
        manifest.items = runs
            .iter()
            .map(|r| r.replications * r.configs.len() as u64)
            .sum();
        manifest.complete = true;
        write_manifest(out, &manifest)?;
        if opts.shard.n == 1 {
            summary = Some(write_report(sc, &all, runs, out, true)?);
        }
    }
    Ok(SweepOutcome {
        points_total: all.len() as u64,
        points_owned: mine.len() as u64,
        points_skipped: skipped,
        points_run: run,
        complete,
        summary,
    })
}

fn load_all(dir: &Path, hash: &str, pts: &[&Point]) -> Result<Vec<PointRecords>> {
    pts.iter()
        .map(|p| load_point(dir, hash, p).map_err(|e| input(dir, e.to_string())))
        .collect()
}

/// Writes summary.json, results.csv and scenario.toml into `out` atomically; with
/// `keep_cache` the saved points and manifests in `out` move into the new report too
/// (hard links where possible), so a later rerun still finds them.
fn write_report(
    base: &Scenario,
    pts: &[Point],
    runs: Vec<PointRecords>,
    out: &Path,
    keep_cache: bool,
) -> Result<Summary> {
    let axes: Vec<String> = base.sweep.iter().map(|a| a.path.clone()).collect();
    let csv = results_csv(&axes, &runs)?;
    let with_scenarios: Vec<(&Scenario, &PointRecords)> =
        pts.iter().map(|p| &p.scenario).zip(&runs).collect();
    let summary = Summary::from_points(base, &with_scenarios);
    let json = summary.to_json()?;
    replace_dir(out, |dir| {
        put(dir, "summary.json", json.as_bytes())?;
        put(dir, "results.csv", &csv)?;
        put(dir, "scenario.toml", base.source_text().as_bytes())?;
        if keep_cache {
            copy_cache(out, dir)?;
        }
        Ok(())
    })?;
    Ok(summary)
}

fn copy_cache(from: &Path, to: &Path) -> Result<()> {
    let link = |a: &Path, b: &Path| -> Result<()> {
        if fs::hard_link(a, b).is_err() {
            fs::copy(a, b).map_err(|e| Error::io(&format!("copy {}", a.display()), e))?;
        }
        Ok(())
    };
    for (p, _) in manifests_in(from)? {
        if let Some(name) = p.file_name() {
            link(&p, &to.join(name))?;
        }
    }
    let pts = from.join("points");
    fs::create_dir_all(to.join("points"))
        .map_err(|e| Error::io(&format!("create {}", to.display()), e))?;
    let rd = fs::read_dir(&pts).map_err(|e| Error::io(&format!("read {}", pts.display()), e))?;
    for e in rd.filter_map(|e| e.ok()) {
        let p = e.path();
        if p.extension().is_some_and(|x| x == "json") {
            link(&p, &to.join("points").join(e.file_name()))?;
        }
    }
    Ok(())
}

/// Combines the shard directories of one sweep into the report an unsharded run writes
/// (into `out`, default `output/<scenario>`). Checks first, writes nothing on a mismatch:
/// same scenario hash and seed, same N, every shard present once and complete.
pub fn merge(dirs: &[PathBuf], out: Option<&Path>) -> Result<(Summary, PathBuf)> {
    let mut found: Vec<(PathBuf, PathBuf, Manifest)> = vec![];
    for d in dirs {
        let ms = manifests_in(d)?;
        if ms.is_empty() {
            return Err(input(
                d,
                "no shard manifest (shard-K-of-N.json) here: is this the --out of `capsim sweep --shard K/N`?".into(),
            ));
        }
        for (p, m) in ms {
            found.push((d.clone(), p, m));
        }
    }
    let Some((dir0, first_path, first)) = found.first() else {
        return Err(Error::Usage(
            "merge needs the directories of the shards to combine".into(),
        ));
    };
    for (_, p, m) in &found[1..] {
        if m.scenario_hash != first.scenario_hash || m.seed != first.seed {
            return Err(input(
                p,
                format!(
                    "belongs to another study (scenario `{}`, hash {}, seed {}) than {} (scenario `{}`, hash {}, seed {}): shards of different scenarios cannot be merged",
                    m.scenario,
                    m.scenario_hash,
                    m.seed,
                    first_path.display(),
                    first.scenario,
                    first.scenario_hash,
                    first.seed
                ),
            ));
        }
        if m.shards != first.shards {
            return Err(input(
                p,
                format!(
                    "was run as one of {} shards, {} as one of {}",
                    m.shards,
                    first_path.display(),
                    first.shards
                ),
            ));
        }
    }
    let n = first.shards;
    let mut owner: Vec<Option<usize>> = vec![None; n as usize];
    for (i, (_, p, m)) in found.iter().enumerate() {
        if m.shard == 0 || m.shard > n {
            return Err(input(p, format!("shard {}/{n} is out of range", m.shard)));
        }
        let slot = &mut owner[(m.shard - 1) as usize];
        if let Some(j) = *slot {
            return Err(input(
                p,
                format!(
                    "shard {}/{n} is given twice (also {})",
                    m.shard,
                    found[j].1.display()
                ),
            ));
        }
        *slot = Some(i);
        if !m.complete {
            return Err(input(
                p,
                format!(
                    "shard {}/{n} is not finished: rerun the same `capsim sweep --shard {}/{n}` (it resumes)",
                    m.shard, m.shard
                ),
            ));
        }
    }
    let missing: Vec<String> = owner
        .iter()
        .enumerate()
        .filter(|(_, o)| o.is_none())
        .map(|(k, _)| format!("{}/{n}", k + 1))
        .collect();
    if !missing.is_empty() {
        return Err(input(
            first_path,
            format!(
                "shard(s) {} missing: give every shard's directory",
                missing.join(", ")
            ),
        ));
    }
    // The scenario as the shards ran it.
    let sc_path = dir0.join("scenario.toml");
    let text =
        fs::read_to_string(&sc_path).map_err(|e| input(&sc_path, format!("cannot read: {e}")))?;
    let overrides = Override::command_line(Some(first.seed), first.replications)
        .map_err(|m| input(first_path, m))?;
    let sc = Scenario::from_toml(&sc_path.display().to_string(), &first.scenario, &text)?
        .with_overrides(&overrides)?;
    if scenario_hash(&text, sc.seed, first.replications) != first.scenario_hash {
        return Err(input(
            &sc_path,
            "does not match its manifest's scenario hash (edited after the sweep?)".into(),
        ));
    }
    let all = points(&sc)?;
    let mut runs = vec![];
    for p in &all {
        let k = (p.index % n) as usize;
        let Some(i) = owner[k] else {
            return Err(input(
                first_path,
                format!("no shard owns point {}", p.index),
            ));
        };
        let dir = &found[i].0;
        runs.push(load_point(dir, &first.scenario_hash, p).map_err(|e| input(dir, e.to_string()))?);
    }
    let out = out
        .map(Path::to_path_buf)
        .unwrap_or_else(|| Path::new("output").join(&sc.name));
    // The report replaces its directory: never one holding a shard's results.
    let canon = |p: &Path| fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    if dirs.iter().any(|d| canon(d) == canon(&out)) {
        return Err(input(
            &out,
            "is one of the shard directories being merged; give another --out".into(),
        ));
    }
    let summary = write_report(&sc, &all, runs, &out, false)?;
    Ok((summary, out))
}
