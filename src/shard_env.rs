//! Which shard of a sweep this process runs, from `--shard` and the scheduler's
//! environment, and the command that reruns only the shards a sweep is missing.
//!
//! A sweep's points are dealt to N shards: the shard with 0-based index `i` owns the
//! points `p` with `p mod N = i`. On a cluster the index comes from the scheduler, so one
//! command line serves every task of a Slurm job array and every pod of a Kubernetes
//! Indexed Job:
//!
//! ```text
//! capsim sweep scenarios/density-sweep.toml --shard auto/16 --out output/density-sweep/sweep
//! ```
//!
//! - **N is always explicit**: `--shard auto/N`, or `--shard auto` with `CAPSIM_SHARDS=N`,
//!   or `CAPSIM_SHARDS=N` alone. It is never derived from the array's size, because a
//!   resubmission of shards 3 and 7 of 8 is an array of 2 tasks that still runs 2 of 8
//!   shards.
//! - **The index** is `SLURM_ARRAY_TASK_ID` (Slurm, written `--array=0-(N-1)`) or
//!   `JOB_COMPLETION_INDEX` (Kubernetes, `completionMode: Indexed`); both count from 0.
//!   Both set with different values is an error, not a guess.
//! - **`CAPSIM_SHARD_LIST=3,7`** maps the i-th task to the i-th listed shard: an Indexed
//!   Job always counts its pods from 0, so this is how it reruns shards 3 and 7 only.
//!   (A Slurm array can name the indices itself: `sbatch --array=3,7`.)
//! - `--shard K/N` names the shard explicitly, 1 ≤ K ≤ N as today's `capsim sweep` has it.
//! - An empty variable counts as unset (`SLURM_ARRAY_TASK_ID= capsim …` clears it in one
//!   line); surrounding spaces are ignored.
//!
//! Every error names the flag or variables involved and the values it saw; the CLI
//! reports it as a usage error (exit code 2).
//!
//! NOT YET WIRED (issue 16, phase 1): this file is deliberately not declared in `lib.rs`
//! while `src/study`, `src/cli.rs` and `src/report` are being restructured. Phase 2 adds
//! `mod shard_env;` and calls [`resolve_from_process`] where `capsim sweep` parses
//! `--shard`, and [`resubmission`] from `capsim status` and `capsim merge`. The module
//! depends on `std` only, so until then its tests run on their own:
//! `rustc --edition 2024 --test src/shard_env.rs -o /tmp/shard_env && /tmp/shard_env`.

use std::collections::BTreeMap;
use std::fmt;

/// The shard count, when it does not come from `--shard auto/N`.
pub(crate) const SHARDS_VAR: &str = "CAPSIM_SHARDS";
/// `3,7`: the i-th task of a resubmission runs the i-th listed shard.
pub(crate) const SHARD_LIST_VAR: &str = "CAPSIM_SHARD_LIST";
/// Slurm's 0-based index of this task in a job array.
pub(crate) const SLURM_INDEX_VAR: &str = "SLURM_ARRAY_TASK_ID";
/// Slurm's number of tasks in the array (checked against `CAPSIM_SHARD_LIST`).
pub(crate) const SLURM_COUNT_VAR: &str = "SLURM_ARRAY_TASK_COUNT";
/// Kubernetes' 0-based completion index of this pod in an Indexed Job.
pub(crate) const K8S_INDEX_VAR: &str = "JOB_COMPLETION_INDEX";

/// The largest shard count accepted. It is Kubernetes' limit on an Indexed Job's
/// parallelism and its soft limit on completions (`maxParallelismForIndexedJob`,
/// `completionsSoftLimit` in kubernetes `pkg/apis/batch/validation/validation.go`), and
/// far above any useful split: a point is never divided, so shards beyond the number of
/// points only add empty tasks, while `status` and `merge` read one manifest per shard.
pub(crate) const MAX_SHARDS: u64 = 100_000;

/// The slice of the sweep this process runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ShardAssignment {
    /// 0-based: the shard owns the points `p` with `p mod count = index`.
    pub(crate) index: u64,
    pub(crate) count: u64,
    pub(crate) origin: Origin,
}

/// Where the index came from, for the progress line (`shard 3 of 8, from …`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Origin {
    /// `--shard K/N`.
    Flag,
    /// A scheduler variable (`SLURM_ARRAY_TASK_ID` or `JOB_COMPLETION_INDEX`) with its value.
    Scheduler { var: &'static str, task: u64 },
    /// A scheduler variable picking the `task`-th entry of `CAPSIM_SHARD_LIST`.
    ShardList { var: &'static str, task: u64 },
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Flag => write!(f, "--shard"),
            Origin::Scheduler { var, task } => write!(f, "{var}={task}"),
            Origin::ShardList { var, task } => {
                write!(f, "{var}={task}: entry {} of {SHARD_LIST_VAR}", task + 1)
            }
        }
    }
}

/// Why the shard could not be resolved. Each message names the flag or variables and the
/// values seen, and says what would be valid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ShardEnvError {
    /// `--shard` is none of `K/N`, `auto/N`, `auto`.
    Syntax { flag: String },
    /// A value that must be a whole number is not (negative, fractional, text, too large).
    NotANumber {
        name: String,
        value: String,
        expected: &'static str,
    },
    /// N = 0.
    ZeroShards { name: String },
    /// N > [`MAX_SHARDS`].
    TooManyShards { name: String, count: u64 },
    /// `--shard K/N` with K outside 1..=N.
    FlagOutOfRange { k: u64, n: u64 },
    /// `--shard …/N` and `CAPSIM_SHARDS` give different counts.
    CountMismatch {
        flag: String,
        flag_n: u64,
        env_n: u64,
    },
    /// `--shard auto` and no `CAPSIM_SHARDS`.
    NoCount,
    /// Automatic sharding outside a scheduler: neither index variable is set.
    NoIndex { count: u64 },
    /// `SLURM_ARRAY_TASK_ID` and `JOB_COMPLETION_INDEX` disagree.
    IndexConflict { slurm: u64, k8s: u64 },
    /// The scheduler's index is not below N.
    IndexOutOfRange {
        var: &'static str,
        index: u64,
        count: u64,
    },
    /// `CAPSIM_SHARD_LIST` without automatic sharding (`flag` is the explicit `--shard`,
    /// if any).
    ListWithoutAuto { flag: Option<String>, list: String },
    /// An entry of `CAPSIM_SHARD_LIST` is not a whole number (1-based position).
    ListNotANumber {
        list: String,
        position: usize,
        entry: String,
    },
    /// More entries than shards.
    ListTooLong {
        list: String,
        len: usize,
        count: u64,
    },
    /// An entry is not below N.
    ListOutOfRange {
        list: String,
        entry: u64,
        count: u64,
    },
    /// An entry appears twice: two tasks would run one shard.
    ListDuplicate { list: String, entry: u64 },
    /// The task's index has no entry in the list: the array or Job has more tasks than
    /// the list has shards.
    ListShorterThanTasks {
        var: &'static str,
        task: u64,
        list: String,
        len: usize,
    },
    /// Slurm's array size differs from the list's length, so some task has no shard or
    /// some listed shard no task.
    ListTaskCount {
        tasks: u64,
        list: String,
        len: usize,
    },
}

impl fmt::Display for ShardEnvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use ShardEnvError::*;
        match self {
            Syntax { flag } => write!(
                f,
                "--shard {flag}: expected K/N (1 <= K <= N), auto/N (index from \
                 {SLURM_INDEX_VAR} or {K8S_INDEX_VAR}), or auto with {SHARDS_VAR}=N"
            ),
            NotANumber {
                name,
                value,
                expected,
            } => write!(f, "{name}={value}: not a whole number ({expected})"),
            ZeroShards { name } => {
                write!(f, "{name}: 0 shards; the shard count N must be at least 1")
            }
            TooManyShards { name, count } => write!(
                f,
                "{name}: {count} shards is more than the {MAX_SHARDS} allowed (a point is \
                 never split, so shards beyond the sweep's points would run nothing)"
            ),
            FlagOutOfRange { k, n } => write!(
                f,
                "--shard {k}/{n}: K must be between 1 and {n} (explicit shards count from 1; \
                 --shard auto/{n} takes the 0-based {SLURM_INDEX_VAR} or {K8S_INDEX_VAR})"
            ),
            CountMismatch {
                flag,
                flag_n,
                env_n,
            } => write!(
                f,
                "--shard {flag} says {flag_n} shards but {SHARDS_VAR}={env_n}: give the shard \
                 count once, or the same in both"
            ),
            NoCount => write!(
                f,
                "--shard auto needs the shard count: write --shard auto/N or set {SHARDS_VAR}=N \
                 (it is never taken from the array's size: a resubmission of 2 of 8 shards \
                 is an array of 2 that still has 8 shards)"
            ),
            NoIndex { count } => write!(
                f,
                "--shard auto/{count} takes this task's index from the scheduler, but neither \
                 {SLURM_INDEX_VAR} (a Slurm job array) nor {K8S_INDEX_VAR} (a Kubernetes \
                 Indexed Job) is set; outside a scheduler give the shard as --shard K/{count}"
            ),
            IndexConflict { slurm, k8s } => write!(
                f,
                "{SLURM_INDEX_VAR}={slurm} and {K8S_INDEX_VAR}={k8s} disagree, so this task's \
                 shard is ambiguous: unset the variable that does not belong to this job"
            ),
            IndexOutOfRange { var, index, count } => {
                write!(
                    f,
                    "{var}={index} is out of range for {count} shards (indices 0..={}): ",
                    count - 1
                )?;
                if *var == SLURM_INDEX_VAR {
                    write!(
                        f,
                        "write the array as --array=0-{} (it counts from 0), or raise N in \
                         --shard auto/N",
                        count - 1
                    )
                } else {
                    write!(
                        f,
                        "the Job's completions must equal the shard count {count} (or list the \
                         shards in {SHARD_LIST_VAR})"
                    )
                }
            }
            ListWithoutAuto {
                flag: Some(flag),
                list,
            } => write!(
                f,
                "{SHARD_LIST_VAR}={list} is set but --shard {flag} names the shard itself: \
                 {SHARD_LIST_VAR} applies only to --shard auto/N (or {SHARDS_VAR}); unset one"
            ),
            ListWithoutAuto { flag: None, list } => write!(
                f,
                "{SHARD_LIST_VAR}={list} is set but the sweep is not sharded: add \
                 --shard auto/N or set {SHARDS_VAR}=N"
            ),
            ListNotANumber {
                list,
                position,
                entry,
            } => write!(
                f,
                "{SHARD_LIST_VAR}={list}: entry {position} `{entry}` is not a whole number \
                 (expected 0-based shard indices separated by commas, like 3,7)"
            ),
            ListTooLong { list, len, count } => write!(
                f,
                "{SHARD_LIST_VAR}={list} lists {len} shards but the sweep has only {count}"
            ),
            ListOutOfRange { list, entry, count } => write!(
                f,
                "{SHARD_LIST_VAR}={list}: shard {entry} is out of range for {count} shards \
                 (indices 0..={})",
                count - 1
            ),
            ListDuplicate { list, entry } => write!(
                f,
                "{SHARD_LIST_VAR}={list} lists shard {entry} twice: two tasks would run the \
                 same shard"
            ),
            ListShorterThanTasks {
                var,
                task,
                list,
                len,
            } => {
                write!(
                    f,
                    "{var}={task} but {SHARD_LIST_VAR}={list} has only {len} entries: task i \
                     runs the i-th listed shard, so the job needs exactly {len} tasks, indices \
                     0..={}",
                    len - 1
                )?;
                if *var == SLURM_INDEX_VAR {
                    write!(
                        f,
                        " (or submit --array={list} and leave {SHARD_LIST_VAR} unset)"
                    )?;
                }
                Ok(())
            }
            ListTaskCount { tasks, list, len } => write!(
                f,
                "{SLURM_COUNT_VAR}={tasks} but {SHARD_LIST_VAR}={list} has {len} entries: each \
                 array task runs one listed shard, so submit --array=0-{} (or --array={list} \
                 without {SHARD_LIST_VAR})",
                len - 1
            ),
        }
    }
}

impl std::error::Error for ShardEnvError {}

/// What `--shard` says before the environment is consulted.
enum FlagSpec {
    Explicit { k: u64, n: u64 },
    Auto { n: Option<u64> },
}

/// Resolves the shard of this process from the `--shard` value (`None` when the flag is
/// absent) and the environment, read through `env` so that tests need not touch the
/// process's environment. `Ok(None)`: the sweep is not sharded.
pub(crate) fn resolve(
    flag: Option<&str>,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Option<ShardAssignment>, ShardEnvError> {
    let get = |name: &str| {
        env(name)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    let env_count = match get(SHARDS_VAR) {
        Some(v) => Some(parse_count(SHARDS_VAR, &format!("{SHARDS_VAR}={v}"), &v)?),
        None => None,
    };
    let list = get(SHARD_LIST_VAR);
    let spec = match flag.map(str::trim) {
        Some(f) => parse_flag(f)?,
        // `CAPSIM_SHARDS` alone is `--shard auto/N` for job templates that cannot change
        // the command line.
        None => match env_count {
            Some(_) => FlagSpec::Auto { n: None },
            None => {
                return match list {
                    Some(list) => Err(ShardEnvError::ListWithoutAuto { flag: None, list }),
                    // Scheduler variables alone do not shard: an array may just as well run
                    // a different scenario in each task.
                    None => Ok(None),
                };
            }
        },
    };
    match spec {
        FlagSpec::Explicit { k, n } => {
            let flag = flag.unwrap_or_default().trim().to_string();
            if let Some(env_n) = env_count.filter(|&e| e != n) {
                return Err(ShardEnvError::CountMismatch {
                    flag,
                    flag_n: n,
                    env_n,
                });
            }
            if let Some(list) = list {
                return Err(ShardEnvError::ListWithoutAuto {
                    flag: Some(flag),
                    list,
                });
            }
            Ok(Some(ShardAssignment {
                index: k - 1,
                count: n,
                origin: Origin::Flag,
            }))
        }
        FlagSpec::Auto { n } => {
            let count = match (n, env_count) {
                (Some(flag_n), Some(env_n)) if flag_n != env_n => {
                    return Err(ShardEnvError::CountMismatch {
                        flag: flag.unwrap_or_default().trim().to_string(),
                        flag_n,
                        env_n,
                    });
                }
                (Some(n), _) | (None, Some(n)) => n,
                (None, None) => return Err(ShardEnvError::NoCount),
            };
            let (var, task) = scheduler_index(&get, count)?;
            let Some(list) = list else {
                if task >= count {
                    return Err(ShardEnvError::IndexOutOfRange {
                        var,
                        index: task,
                        count,
                    });
                }
                return Ok(Some(ShardAssignment {
                    index: task,
                    count,
                    origin: Origin::Scheduler { var, task },
                }));
            };
            let shards = parse_list(&list, count)?;
            if var == SLURM_INDEX_VAR
                && let Some(v) = get(SLURM_COUNT_VAR)
            {
                let tasks = parse_index(SLURM_COUNT_VAR, &v, "the number of array tasks")?;
                if tasks != shards.len() as u64 {
                    return Err(ShardEnvError::ListTaskCount {
                        tasks,
                        list,
                        len: shards.len(),
                    });
                }
            }
            match usize::try_from(task).ok().and_then(|t| shards.get(t)) {
                Some(&index) => Ok(Some(ShardAssignment {
                    index,
                    count,
                    origin: Origin::ShardList { var, task },
                })),
                None => Err(ShardEnvError::ListShorterThanTasks {
                    var,
                    task,
                    list,
                    len: shards.len(),
                }),
            }
        }
    }
}

/// [`resolve`] on this process's environment. A value that is not UTF-8 is passed on
/// lossily, so it fails as "not a whole number" naming its variable.
pub(crate) fn resolve_from_process(
    flag: Option<&str>,
) -> Result<Option<ShardAssignment>, ShardEnvError> {
    resolve(flag, |name| {
        std::env::var_os(name).map(|v| v.to_string_lossy().into_owned())
    })
}

fn parse_flag(flag: &str) -> Result<FlagSpec, ShardEnvError> {
    if flag == "auto" {
        return Ok(FlagSpec::Auto { n: None });
    }
    if let Some(n) = flag.strip_prefix("auto/") {
        let shown = format!("--shard auto/{}", n.trim());
        return Ok(FlagSpec::Auto {
            n: Some(parse_count("--shard auto/N: N", &shown, n)?),
        });
    }
    let Some((k, n)) = flag.split_once('/') else {
        return Err(ShardEnvError::Syntax { flag: flag.into() });
    };
    let (k, n) = (k.trim(), n.trim());
    if k.is_empty() || n.is_empty() {
        return Err(ShardEnvError::Syntax { flag: flag.into() });
    }
    let n = parse_count(&format!("--shard {flag}: N"), &format!("--shard {flag}"), n)?;
    let k = parse_index(&format!("--shard {flag}: K"), k, "1 <= K <= N")?;
    if k == 0 || k > n {
        return Err(ShardEnvError::FlagOutOfRange { k, n });
    }
    Ok(FlagSpec::Explicit { k, n })
}

/// A shard count N. `name` labels a value that is not a number (`CAPSIM_SHARDS`,
/// `--shard auto/N: N`); `shown` is how the count was written, for the range errors
/// (`CAPSIM_SHARDS=0`, `--shard auto/0`).
fn parse_count(name: &str, shown: &str, value: &str) -> Result<u64, ShardEnvError> {
    let n = parse_index(name, value, "the shard count N, at least 1")?;
    if n == 0 {
        return Err(ShardEnvError::ZeroShards { name: shown.into() });
    }
    if n > MAX_SHARDS {
        return Err(ShardEnvError::TooManyShards {
            name: shown.into(),
            count: n,
        });
    }
    Ok(n)
}

fn parse_index(name: &str, value: &str, expected: &'static str) -> Result<u64, ShardEnvError> {
    let v = value.trim();
    // `u64::from_str` accepts a leading `+`; an index never has one.
    if v.starts_with('+') {
        return Err(not_a_number(name, v, expected));
    }
    v.parse::<u64>()
        .map_err(|_| not_a_number(name, v, expected))
}

fn not_a_number(name: &str, value: &str, expected: &'static str) -> ShardEnvError {
    ShardEnvError::NotANumber {
        name: name.into(),
        value: value.into(),
        expected,
    }
}

/// The task's 0-based index and the variable it came from.
fn scheduler_index(
    get: &impl Fn(&str) -> Option<String>,
    count: u64,
) -> Result<(&'static str, u64), ShardEnvError> {
    let read = |var: &'static str, what: &'static str| -> Result<Option<u64>, ShardEnvError> {
        get(var).map(|v| parse_index(var, &v, what)).transpose()
    };
    let slurm = read(SLURM_INDEX_VAR, "the 0-based index of a Slurm array task")?;
    let k8s = read(
        K8S_INDEX_VAR,
        "the 0-based completion index of an Indexed Job",
    )?;
    match (slurm, k8s) {
        (Some(slurm), Some(k8s)) if slurm != k8s => {
            Err(ShardEnvError::IndexConflict { slurm, k8s })
        }
        (Some(i), _) => Ok((SLURM_INDEX_VAR, i)),
        (None, Some(i)) => Ok((K8S_INDEX_VAR, i)),
        (None, None) => Err(ShardEnvError::NoIndex { count }),
    }
}

/// `CAPSIM_SHARD_LIST`, checked whole (so a bad entry is reported by every task, not only
/// by the one that reads it): whole numbers below N, none twice, at most N of them.
fn parse_list(list: &str, count: u64) -> Result<Vec<u64>, ShardEnvError> {
    let entries: Vec<&str> = list.split(',').map(str::trim).collect();
    let mut shards = Vec::with_capacity(entries.len());
    for (i, e) in entries.iter().enumerate() {
        if e.is_empty() || e.starts_with('+') {
            return Err(list_nan(list, i, e));
        }
        shards.push(e.parse::<u64>().map_err(|_| list_nan(list, i, e))?);
    }
    if shards.len() as u64 > count {
        return Err(ShardEnvError::ListTooLong {
            list: list.into(),
            len: shards.len(),
            count,
        });
    }
    let mut seen = std::collections::BTreeSet::new();
    for &s in &shards {
        if s >= count {
            return Err(ShardEnvError::ListOutOfRange {
                list: list.into(),
                entry: s,
                count,
            });
        }
        if !seen.insert(s) {
            return Err(ShardEnvError::ListDuplicate {
                list: list.into(),
                entry: s,
            });
        }
    }
    Ok(shards)
}

fn list_nan(list: &str, i: usize, entry: &str) -> ShardEnvError {
    ShardEnvError::ListNotANumber {
        list: list.into(),
        position: i + 1,
        entry: entry.into(),
    }
}

/// How to rerun only the missing shards, under each scheduler.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Resubmission {
    /// `sbatch --array=3,7 SCRIPT`: the array names the shard indices themselves.
    pub(crate) slurm: String,
    /// The changes that turn the sweep's Indexed Job into one that runs only these shards.
    pub(crate) kubernetes: Vec<String>,
}

/// The commands that rerun exactly the shards `missing` (0-based indices of `count`;
/// order and repeats do not matter) with the user's array script `slurm_script` and the
/// Kubernetes Job `job_name`. `None` when nothing is missing.
pub(crate) fn resubmission(
    missing: &[u64],
    count: u64,
    slurm_script: &str,
    job_name: &str,
) -> Option<Resubmission> {
    let set: std::collections::BTreeSet<u64> = missing.iter().copied().collect();
    if set.is_empty() {
        return None;
    }
    let indices: Vec<u64> = set.into_iter().collect();
    let list = indices
        .iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(",");
    let n = indices.len();
    Some(Resubmission {
        // Options on the sbatch command line override the script's #SBATCH --array.
        slurm: format!("sbatch --array={} {slurm_script}", slurm_ranges(&indices)),
        kubernetes: vec![
            format!(
                "a new Indexed Job from {job_name}'s manifest with metadata.name: {job_name}-rerun,"
            ),
            format!("spec.completions: {n}, spec.parallelism: {n}, and the container env"),
            format!(
                "{SHARD_LIST_VAR}=\"{list}\" ({SHARDS_VAR}/--shard auto/{count} unchanged): pod i runs shard i of the list"
            ),
        ],
    })
}

/// Sorted, distinct indices as Slurm's `--array` list: runs of three or more become
/// `a-b` (`0-2,5,7,8`), keeping the command short for many missing shards.
fn slurm_ranges(sorted: &[u64]) -> String {
    let mut runs: BTreeMap<u64, u64> = BTreeMap::new();
    let mut start = None;
    let mut prev = 0;
    for &i in sorted {
        match start {
            Some(_) if i == prev + 1 => {}
            Some(s) => {
                runs.insert(s, prev);
                start = Some(i);
            }
            None => start = Some(i),
        }
        prev = i;
    }
    if let Some(s) = start {
        runs.insert(s, prev);
    }
    runs.into_iter()
        .map(|(a, b)| match b - a {
            0 => a.to_string(),
            1 => format!("{a},{b}"),
            _ => format!("{a}-{b}"),
        })
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;
    use ShardEnvError as E;

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        }
    }

    fn run(flag: Option<&str>, vars: &[(&str, &str)]) -> Result<Option<ShardAssignment>, E> {
        resolve(flag, env(vars))
    }

    /// (index, count) of a successful resolution.
    fn ok(flag: Option<&str>, vars: &[(&str, &str)]) -> (u64, u64) {
        let a = run(flag, vars)
            .unwrap_or_else(|e| panic!("{flag:?} {vars:?}: {e}"))
            .unwrap_or_else(|| panic!("{flag:?} {vars:?}: not sharded"));
        (a.index, a.count)
    }

    fn err(flag: Option<&str>, vars: &[(&str, &str)]) -> E {
        match run(flag, vars) {
            Err(e) => e,
            Ok(a) => panic!("{flag:?} {vars:?}: expected an error, got {a:?}"),
        }
    }

    const S: &str = SLURM_INDEX_VAR;
    const K: &str = K8S_INDEX_VAR;

    #[test]
    fn without_flag_or_count_nothing_is_sharded() {
        assert_eq!(run(None, &[]), Ok(None));
        // An array task that runs a whole (e.g. per-task) scenario is not a shard.
        assert_eq!(run(None, &[(S, "3")]), Ok(None));
        assert_eq!(run(None, &[(K, "3")]), Ok(None));
        assert_eq!(run(None, &[(SHARDS_VAR, "")]), Ok(None));
    }

    #[test]
    fn explicit_shard_is_one_based_and_ignores_the_scheduler() {
        assert_eq!(ok(Some("1/4"), &[]), (0, 4));
        assert_eq!(ok(Some("4/4"), &[]), (3, 4));
        assert_eq!(ok(Some(" 2 / 4 "), &[]), (1, 4));
        // The explicit flag wins over a scheduler index (and says where it came from).
        let a = run(Some("2/4"), &[(S, "0"), (K, "3")]).unwrap().unwrap();
        assert_eq!((a.index, a.count, a.origin), (1, 4, Origin::Flag));
        assert_eq!(ok(Some("2/4"), &[(SHARDS_VAR, "4")]), (1, 4));
    }

    #[test]
    fn explicit_shard_errors() {
        assert_eq!(
            err(Some("0/4"), &[]),
            E::FlagOutOfRange { k: 0, n: 4 },
            "explicit shards count from 1"
        );
        assert_eq!(err(Some("5/4"), &[]), E::FlagOutOfRange { k: 5, n: 4 });
        assert!(matches!(err(Some("1/0"), &[]), E::ZeroShards { .. }));
        assert!(matches!(
            err(Some("1/100001"), &[]),
            E::TooManyShards { count: 100_001, .. }
        ));
        assert_eq!(ok(Some("100000/100000"), &[]), (99_999, MAX_SHARDS));
        for bad in ["3", "", "/", "1/", "/4", "auto4", "1/2/3", "a/4"] {
            let e = err(Some(bad), &[]);
            assert!(
                matches!(e, E::Syntax { .. } | E::NotANumber { .. }),
                "{bad}: {e:?}"
            );
            assert!(e.to_string().contains("--shard"), "{bad}: {e}");
        }
        for bad in [
            "-1/4",
            "+1/4",
            "1.5/4",
            "x/4",
            "1/x",
            "1/-4",
            "1/99999999999999999999",
        ] {
            assert!(matches!(err(Some(bad), &[]), E::NotANumber { .. }), "{bad}");
        }
        assert_eq!(
            err(Some("2/4"), &[(SHARDS_VAR, "8")]),
            E::CountMismatch {
                flag: "2/4".into(),
                flag_n: 4,
                env_n: 8
            }
        );
        assert_eq!(
            err(Some("2/4"), &[(SHARD_LIST_VAR, "3,7")]),
            E::ListWithoutAuto {
                flag: Some("2/4".into()),
                list: "3,7".into()
            }
        );
    }

    #[test]
    fn auto_takes_the_index_from_either_scheduler() {
        let a = run(Some("auto/4"), &[(S, "2")]).unwrap().unwrap();
        assert_eq!(
            a,
            ShardAssignment {
                index: 2,
                count: 4,
                origin: Origin::Scheduler { var: S, task: 2 }
            }
        );
        let a = run(Some("auto/4"), &[(K, "3")]).unwrap().unwrap();
        assert_eq!(
            a,
            ShardAssignment {
                index: 3,
                count: 4,
                origin: Origin::Scheduler { var: K, task: 3 }
            }
        );
        assert_eq!(ok(Some("auto/4"), &[(S, "0")]), (0, 4));
        // Both set and equal: not ambiguous.
        assert_eq!(ok(Some("auto/4"), &[(S, "1"), (K, "1")]), (1, 4));
        // An empty variable is unset; spaces are ignored.
        assert_eq!(ok(Some("auto/4"), &[(S, ""), (K, " 1 ")]), (1, 4));
        assert_eq!(ok(Some(" auto/ 4 "), &[(S, "1")]), (1, 4));
    }

    #[test]
    fn the_count_comes_from_the_flag_or_capsim_shards() {
        assert_eq!(ok(Some("auto"), &[(SHARDS_VAR, "4"), (S, "3")]), (3, 4));
        assert_eq!(ok(None, &[(SHARDS_VAR, "4"), (K, "3")]), (3, 4));
        assert_eq!(ok(Some("auto/4"), &[(SHARDS_VAR, "4"), (K, "3")]), (3, 4));
        assert_eq!(err(Some("auto"), &[(S, "3")]), E::NoCount);
        assert_eq!(
            err(Some("auto/4"), &[(SHARDS_VAR, "8"), (S, "3")]),
            E::CountMismatch {
                flag: "auto/4".into(),
                flag_n: 4,
                env_n: 8
            }
        );
        assert_eq!(
            err(Some("auto/0"), &[(S, "0")]),
            E::ZeroShards {
                name: "--shard auto/0".into()
            }
        );
        assert_eq!(
            err(None, &[(SHARDS_VAR, "0"), (S, "0")]),
            E::ZeroShards {
                name: "CAPSIM_SHARDS=0".into()
            }
        );
        assert!(matches!(
            err(None, &[(SHARDS_VAR, "100001"), (S, "0")]),
            E::TooManyShards { count: 100_001, .. }
        ));
        for bad in ["four", "-4", "4.0", "+4", "1e3", "18446744073709551616"] {
            let e = err(None, &[(SHARDS_VAR, bad), (S, "0")]);
            assert!(matches!(e, E::NotANumber { .. }), "{bad}: {e:?}");
            assert!(e.to_string().contains("CAPSIM_SHARDS="), "{e}");
            let e = err(Some(&format!("auto/{bad}")), &[(S, "0")]);
            assert!(matches!(e, E::NotANumber { .. }), "{bad}: {e:?}");
            assert!(e.to_string().contains("--shard auto/N"), "{e}");
        }
        assert!(matches!(
            err(Some("auto/"), &[(S, "0")]),
            E::NotANumber { .. }
        ));
    }

    #[test]
    fn index_errors_name_the_variables() {
        assert_eq!(err(Some("auto/4"), &[]), E::NoIndex { count: 4 });
        assert_eq!(
            err(Some("auto/4"), &[(S, "1"), (K, "2")]),
            E::IndexConflict { slurm: 1, k8s: 2 }
        );
        assert_eq!(
            err(Some("auto/4"), &[(S, "4")]),
            E::IndexOutOfRange {
                var: S,
                index: 4,
                count: 4
            }
        );
        assert_eq!(
            err(Some("auto/4"), &[(K, "9")]),
            E::IndexOutOfRange {
                var: K,
                index: 9,
                count: 4
            }
        );
        for bad in ["-1", "x", "1.0", "+1", "99999999999999999999"] {
            let e = err(Some("auto/4"), &[(S, bad)]);
            assert!(matches!(e, E::NotANumber { .. }), "{bad}: {e:?}");
            assert!(e.to_string().starts_with(&format!("{S}={bad}")), "{e}");
            let e = err(Some("auto/4"), &[(K, bad)]);
            assert!(e.to_string().starts_with(&format!("{K}={bad}")), "{e}");
        }
        // A bad variable is reported even when the other one is fine.
        assert!(matches!(
            err(Some("auto/4"), &[(S, "1"), (K, "x")]),
            E::NotANumber { .. }
        ));
    }

    #[test]
    fn the_old_one_based_slurm_array_fails_on_its_last_task() {
        // `--array=1-4` with `--shard auto/4`: task 4 is out of range and says how to
        // write the array (task 0 would otherwise never run).
        let e = err(Some("auto/4"), &[(S, "4")]);
        assert!(e.to_string().contains("--array=0-3"), "{e}");
        let e = err(Some("auto/4"), &[(K, "4")]);
        assert!(e.to_string().contains("completions"), "{e}");
    }

    #[test]
    fn shard_list_maps_task_i_to_the_i_th_entry() {
        let list = [(SHARDS_VAR, "8"), (SHARD_LIST_VAR, "3,7")];
        let pick = |var: &'static str, task: &str| {
            let mut vars = list.to_vec();
            vars.push((var, task));
            run(Some("auto"), &vars).unwrap().unwrap()
        };
        assert_eq!(
            pick(K, "0"),
            ShardAssignment {
                index: 3,
                count: 8,
                origin: Origin::ShardList { var: K, task: 0 }
            }
        );
        assert_eq!(pick(K, "1").index, 7);
        assert_eq!(
            pick(K, "1").origin.to_string(),
            "JOB_COMPLETION_INDEX=1: entry 2 of CAPSIM_SHARD_LIST"
        );
        assert_eq!(pick(S, "1").index, 7);
        assert_eq!(
            ok(Some("auto/8"), &[(SHARD_LIST_VAR, " 7 , 3 "), (K, "0")]),
            (7, 8)
        );
        // A list as long as N is a plain permutation.
        assert_eq!(
            ok(Some("auto/3"), &[(SHARD_LIST_VAR, "2,0,1"), (K, "0")]),
            (2, 3)
        );
        // Slurm's task count must match the list when Slurm sets it.
        assert_eq!(
            ok(
                Some("auto/8"),
                &[(SHARD_LIST_VAR, "3,7"), (S, "1"), (SLURM_COUNT_VAR, "2")]
            ),
            (7, 8)
        );
    }

    #[test]
    fn shard_list_errors() {
        let with = |l: &'static str| [(SHARD_LIST_VAR, l), (K, "0")];
        assert_eq!(
            err(Some("auto/8"), &[(SHARD_LIST_VAR, "3,7"), (K, "2")]),
            E::ListShorterThanTasks {
                var: K,
                task: 2,
                list: "3,7".into(),
                len: 2
            }
        );
        let e = err(Some("auto/8"), &[(SHARD_LIST_VAR, "3,7"), (S, "3")]);
        assert!(
            e.to_string().contains("--array=3,7"),
            "a Slurm user who wrote --array=3,7 is told to drop the list: {e}"
        );
        assert_eq!(
            err(Some("auto/4"), &with("0,1,2,3,0")),
            E::ListTooLong {
                list: "0,1,2,3,0".into(),
                len: 5,
                count: 4
            }
        );
        assert_eq!(
            err(Some("auto/8"), &with("3,8")),
            E::ListOutOfRange {
                list: "3,8".into(),
                entry: 8,
                count: 8
            }
        );
        assert_eq!(
            err(Some("auto/8"), &with("3,7,3")),
            E::ListDuplicate {
                list: "3,7,3".into(),
                entry: 3
            }
        );
        for (bad, pos, entry) in [
            ("3,x", 2, "x"),
            ("3,,7", 2, ""),
            ("3,7,", 3, ""),
            (",", 1, ""),
            ("-1", 1, "-1"),
            ("3-5", 1, "3-5"),
            ("+3", 1, "+3"),
            ("3;7", 1, "3;7"),
        ] {
            assert_eq!(
                err(Some("auto/8"), &with(bad)),
                E::ListNotANumber {
                    list: bad.into(),
                    position: pos,
                    entry: entry.into()
                },
                "{bad}"
            );
        }
        // The whole list is checked by every task, even one whose own entry is fine.
        assert!(matches!(
            err(Some("auto/8"), &with("3,99")),
            E::ListOutOfRange { entry: 99, .. }
        ));
        for tasks in ["1", "3"] {
            assert_eq!(
                err(
                    Some("auto/8"),
                    &[(SHARD_LIST_VAR, "3,7"), (S, "0"), (SLURM_COUNT_VAR, tasks)]
                ),
                E::ListTaskCount {
                    tasks: tasks.parse().unwrap(),
                    list: "3,7".into(),
                    len: 2
                }
            );
        }
        assert!(matches!(
            err(
                Some("auto/8"),
                &[(SHARD_LIST_VAR, "3,7"), (S, "0"), (SLURM_COUNT_VAR, "two")]
            ),
            E::NotANumber { .. }
        ));
        // The list needs automatic sharding.
        assert_eq!(
            err(None, &[(SHARD_LIST_VAR, "3,7"), (K, "0")]),
            E::ListWithoutAuto {
                flag: None,
                list: "3,7".into()
            }
        );
        // ... and a task index (the list does not replace it).
        assert_eq!(
            err(Some("auto/8"), &[(SHARD_LIST_VAR, "3,7")]),
            E::NoIndex { count: 8 }
        );
    }

    #[test]
    fn every_error_names_its_flag_or_variables() {
        // (--shard, environment, what the message must name)
        type Case<'a> = (Option<&'a str>, Vec<(&'a str, &'a str)>, Vec<&'a str>);
        let cases: Vec<Case> = vec![
            (Some("3"), vec![], vec!["--shard 3", "CAPSIM_SHARDS"]),
            (Some("0/4"), vec![], vec!["--shard 0/4"]),
            (Some("auto/0"), vec![(S, "0")], vec!["--shard auto/0"]),
            (
                None,
                vec![(SHARDS_VAR, "0"), (S, "0")],
                vec!["CAPSIM_SHARDS=0"],
            ),
            (
                None,
                vec![(SHARDS_VAR, "200000"), (S, "0")],
                vec!["CAPSIM_SHARDS=200000", "100000"],
            ),
            (
                Some("auto/4"),
                vec![(SHARDS_VAR, "8"), (S, "0")],
                vec!["--shard auto/4", "CAPSIM_SHARDS=8"],
            ),
            (
                Some("auto"),
                vec![(S, "0")],
                vec!["--shard auto", "CAPSIM_SHARDS"],
            ),
            (Some("auto/4"), vec![], vec![S, K, "--shard auto/4"]),
            (
                Some("auto/4"),
                vec![(S, "1"), (K, "2")],
                vec!["SLURM_ARRAY_TASK_ID=1", "JOB_COMPLETION_INDEX=2"],
            ),
            (
                Some("auto/4"),
                vec![(S, "4")],
                vec!["SLURM_ARRAY_TASK_ID=4", "4 shards"],
            ),
            (
                Some("auto/4"),
                vec![(K, "x")],
                vec!["JOB_COMPLETION_INDEX=x"],
            ),
            (
                Some("1/4"),
                vec![(SHARD_LIST_VAR, "1")],
                vec!["CAPSIM_SHARD_LIST=1", "--shard 1/4"],
            ),
            (
                Some("auto/4"),
                vec![(SHARD_LIST_VAR, "1,x"), (K, "0")],
                vec!["CAPSIM_SHARD_LIST=1,x", "`x`"],
            ),
            (
                Some("auto/4"),
                vec![(SHARD_LIST_VAR, "1,1"), (K, "0")],
                vec!["CAPSIM_SHARD_LIST=1,1", "twice"],
            ),
            (
                Some("auto/4"),
                vec![(SHARD_LIST_VAR, "1,2"), (K, "5")],
                vec!["JOB_COMPLETION_INDEX=5", "CAPSIM_SHARD_LIST=1,2"],
            ),
            (
                Some("auto/4"),
                vec![(SHARD_LIST_VAR, "1,2"), (S, "0"), (SLURM_COUNT_VAR, "4")],
                vec!["SLURM_ARRAY_TASK_COUNT=4", "CAPSIM_SHARD_LIST=1,2"],
            ),
        ];
        for (flag, vars, names) in cases {
            let e = err(flag, &vars).to_string();
            for n in names {
                assert!(
                    e.contains(n),
                    "{flag:?} {vars:?}: `{e}` does not name `{n}`"
                );
            }
        }
    }

    /// The one command line of every task: over the tasks 0..N of either scheduler, each
    /// shard runs exactly once, and both schedulers give the same shard for the same task.
    #[test]
    fn every_shard_runs_exactly_once_under_both_schedulers() {
        for n in 1..=9u64 {
            let flag = format!("auto/{n}");
            let mut seen = vec![0u32; n as usize];
            for task in 0..n {
                let t = task.to_string();
                let slurm = ok(Some(&flag), &[(S, &t)]);
                let k8s = ok(Some(&flag), &[(K, &t)]);
                assert_eq!(slurm, k8s);
                assert_eq!(slurm.1, n);
                seen[slurm.0 as usize] += 1;
            }
            assert!(seen.iter().all(|&c| c == 1), "N = {n}: {seen:?}");
        }
    }

    #[test]
    fn resubmission_names_exactly_the_missing_shards() {
        let r = resubmission(
            &[7, 3, 3],
            8,
            "deploy/slurm/sweep-array.sbatch",
            "capsim-sweep",
        )
        .unwrap();
        assert_eq!(
            r.slurm,
            "sbatch --array=3,7 deploy/slurm/sweep-array.sbatch"
        );
        let k = r.kubernetes.join(" ");
        assert!(k.contains("metadata.name: capsim-sweep-rerun"), "{k}");
        assert!(
            k.contains("spec.completions: 2, spec.parallelism: 2"),
            "{k}"
        );
        assert!(k.contains("CAPSIM_SHARD_LIST=\"3,7\""), "{k}");
        assert!(k.contains("--shard auto/8"), "{k}");
        assert_eq!(resubmission(&[], 8, "s", "j"), None);
    }

    #[test]
    fn slurm_ranges_shorten_runs() {
        assert_eq!(slurm_ranges(&[3]), "3");
        assert_eq!(slurm_ranges(&[3, 7]), "3,7");
        assert_eq!(slurm_ranges(&[3, 4]), "3,4");
        assert_eq!(
            slurm_ranges(&[0, 1, 2, 5, 7, 8, 9, 10, 12]),
            "0-2,5,7-10,12"
        );
    }

    /// Expands a Slurm `--array` list (`0-2,5`), as Slurm does, for the round trip below.
    fn slurm_expand(spec: &str) -> Vec<u64> {
        spec.split(',')
            .flat_map(|part| match part.split_once('-') {
                Some((a, b)) => (a.parse().unwrap()..=b.parse().unwrap()).collect::<Vec<u64>>(),
                None => vec![part.parse().unwrap()],
            })
            .collect()
    }

    /// What the printed commands run is what was missing: Slurm tasks carry the indices
    /// themselves; the pods of the rerun Job pick them from CAPSIM_SHARD_LIST.
    #[test]
    fn resubmission_round_trips_through_the_resolver() {
        let count = 40;
        let missing = [0u64, 1, 2, 3, 9, 17, 18, 30, 39];
        let r = resubmission(&missing, count, "sweep.sbatch", "j").unwrap();
        let spec = r
            .slurm
            .strip_prefix("sbatch --array=")
            .and_then(|s| s.strip_suffix(" sweep.sbatch"))
            .unwrap();
        let tasks = slurm_expand(spec);
        assert_eq!(tasks, missing);
        let flag = format!("auto/{count}");
        let ran: Vec<u64> = tasks
            .iter()
            .map(|t| ok(Some(&flag), &[(S, &t.to_string())]).0)
            .collect();
        assert_eq!(ran, missing);

        let k = r.kubernetes.join(" ");
        let list = k
            .split("CAPSIM_SHARD_LIST=\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .unwrap();
        let completions = missing.len();
        assert!(k.contains(&format!("spec.completions: {completions},")));
        let ran: Vec<u64> = (0..completions)
            .map(|i| ok(Some(&flag), &[(SHARD_LIST_VAR, list), (K, &i.to_string())]).0)
            .collect();
        assert_eq!(ran, missing);
    }
}
