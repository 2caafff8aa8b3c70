//! Bitbrains GWA-T-12 (fastStorage and Rnd): one CSV per VM.
//!
//! Format (Grid Workloads Archive, "GWA-T-12 Bitbrains" trace description): one file per
//! VM, one row per observation, header row, columns separated by `;\t`:
//!
//! | column | record / sample field |
//! | --- | --- |
//! | `Timestamp [ms]` | sample time |
//! | `CPU cores` | vcpus |
//! | `CPU capacity provisioned [MHZ]` (cores × MHz per core) | MHz per core |
//! | `CPU usage [MHZ]` | demand, cores = usage / (capacity / cores) |
//! | `CPU usage [%]` | used when the capacity is 0 |
//! | `Memory capacity provisioned [KB]` | memory_mib (KB / 1024) |
//! | `Memory usage [KB]` | sample memory; its time-weighted mean is consumed_mib |
//! | disk and network throughput columns | — |
//!
//! **Timestamp unit.** The header says milliseconds, but the published files hold Unix
//! seconds (values near 1.37e9 for 2013), and OpenDC's Bitbrains reader
//! (`BitbrainsResourceStateTableReader.kt`, `Instant.ofEpochSecond`) reads them as seconds.
//! Rule: a timestamp ≥ 1e11 is milliseconds (that is after the year 5138 in seconds but 1973
//! in ms), anything smaller is seconds.
//!
//! **Instances.** One per file, named after the file stem (`fastStorage/17.csv` → `17`);
//! start is the first timestamp; each sample holds until the next, and the last one for one
//! more interval (the sampling period), which gives the end time. `cpu_mean_cores` and
//! `consumed_mib` are the time-weighted means of the piecewise-constant series, so a replay
//! of the series has exactly these means.
//!
//! **Usage.** The files are one per VM, so a time-ordered stream of all of them needs the
//! sort pre-pass (it merges the files into one temporary file ordered by time); a single
//! file streams directly.

use std::path::{Path, PathBuf};

use super::rows::{Cells, CsvRows, Dialect, Record};
use super::sort::{SortSpec, SortedFile, sort_rows_by_time};
use super::{
    CpuUsage, EstateError, Instance, InstanceStream, ReadOptions, ReadStats, RowError, UsagePoint,
    UsageStream, display,
};

const TIME: &str = "Timestamp [ms]";
const CORES: &str = "CPU cores";
const CAPACITY: &str = "CPU capacity provisioned [MHZ]";
const USAGE_MHZ: &str = "CPU usage [MHZ]";
const USAGE_PCT: &str = "CPU usage [%]";
const MEM_CAP: &str = "Memory capacity provisioned [KB]";
const MEM_USE: &str = "Memory usage [KB]";

/// Seconds of a Bitbrains timestamp (see the module docs for the unit rule).
pub fn timestamp_s(v: f64) -> f64 {
    if v >= 1e11 { v / 1000.0 } else { v }
}

/// The per-VM files of a trace directory (or the one file given), ordered by their numeric
/// stem (1, 2, …, 10) so every run sees the same order.
pub fn vm_files(path: &Path) -> Result<Vec<PathBuf>, EstateError> {
    if !path.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(path)
        .map_err(|e| EstateError::io(path, e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            let n = p.to_string_lossy();
            p.is_file() && (n.ends_with(".csv") || n.ends_with(".csv.gz"))
        })
        .collect();
    if files.is_empty() {
        return Err(EstateError::Format {
            file: display(path),
            message: "no .csv files: expected one Bitbrains file per VM".into(),
        });
    }
    files.sort_by(|a, b| {
        let (sa, sb) = (vm_name(a), vm_name(b));
        match (sa.parse::<u64>(), sb.parse::<u64>()) {
            (Ok(x), Ok(y)) => x.cmp(&y),
            _ => sa.cmp(&sb),
        }
    });
    Ok(files)
}

/// The VM name of a file: its name without `.csv` / `.csv.gz`.
pub fn vm_name(path: &Path) -> String {
    let n = path
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    n.trim_end_matches(".gz")
        .trim_end_matches(".csv")
        .to_string()
}

/// Column indices of a Bitbrains file.
#[derive(Clone, Copy)]
struct Cols {
    time: usize,
    cores: usize,
    capacity: usize,
    usage_mhz: usize,
    usage_pct: Option<usize>,
    mem_cap: usize,
    mem_use: Option<usize>,
}

impl Cols {
    fn of(rows: &CsvRows) -> Result<Cols, EstateError> {
        let h = &rows.header;
        let f = rows.file();
        Ok(Cols {
            time: h.require(f, TIME, "sample time")?,
            cores: h.require(f, CORES, "vcpus")?,
            capacity: h.require(f, CAPACITY, "MHz per core")?,
            usage_mhz: h.require(f, USAGE_MHZ, "CPU demand")?,
            usage_pct: h.find(&[USAGE_PCT]),
            mem_cap: h.require(f, MEM_CAP, "memory")?,
            mem_use: h.find(&[MEM_USE]),
        })
    }
}

/// One parsed row: (time s, vcpus, demand cores, memory MiB, memory used MiB).
fn sample(c: &Cells<'_, Record>, k: Cols) -> Result<(f64, f64, f64, f64, Option<f64>), RowError> {
    let t = timestamp_s(c.number(k.time)?);
    let cores = c.positive(k.cores)?;
    let cap = c.number(k.capacity)?;
    let used = c.number(k.usage_mhz)?;
    let demand = if cap > 0.0 {
        used / (cap / cores)
    } else {
        match k.usage_pct {
            Some(p) => c.number(p)? / 100.0 * cores,
            None => return Err(c.err(k.capacity, "capacity is 0 and there is no CPU usage [%]")),
        }
    };
    let mem = c.number(k.mem_cap)? / 1024.0;
    let used_mem = c.opt_number(k.mem_use)?.map(|kb| kb / 1024.0);
    Ok((t, cores, demand, mem, used_mem))
}

/// Instances of a Bitbrains trace, one per file, read lazily file by file.
pub struct Vms {
    files: Vec<PathBuf>,
    next: usize,
    opts: ReadOptions,
    stats: ReadStats,
    /// Set after an error: the iterator is fused.
    failed: bool,
}

/// Opens a Bitbrains trace: a directory of per-VM CSVs, or one file.
pub fn open_vms(path: &Path, opts: &ReadOptions) -> Result<Vms, EstateError> {
    Ok(Vms {
        files: vm_files(path)?,
        next: 0,
        opts: opts.clone(),
        stats: ReadStats::new(display(path)),

        failed: false,
    })
}

impl Vms {
    /// Summarises one file into an instance (`None` if it has no usable row).
    fn summarise(&mut self, path: &Path) -> Result<Option<Instance>, EstateError> {
        let dialect = Dialect {
            delimiter: Some(b';'),
            header: true,
        };
        let mut rows = CsvRows::open(path, dialect, &[])?;
        let k = Cols::of(&rows)?;
        let mut first: Option<(f64, f64, f64, u64)> = None; // t0, vcpus, memory, row
        let mut last: Option<(f64, f64, Option<f64>)> = None; // t, demand, mem used
        let (mut prev_dt, mut cpu_area, mut mem_area, mut mem_dt) = (0.0, 0.0, 0.0, 0.0);
        while rows.next()? {
            self.stats.rows += 1;
            let s = match sample(&rows.cells(), k) {
                Ok(s) => s,
                Err(e) => {
                    self.stats.bad_row(self.opts.on_bad_row, e)?;
                    continue;
                }
            };
            let (t, vcpus, demand, mem, used) = s;
            if let Some((tp, dp, up)) = last {
                if t < tp {
                    return Err(EstateError::Unsorted {
                        file: rows.file().to_string(),
                        row: rows.row,
                        time_s: t,
                        previous_s: tp,
                    });
                }
                let dt = t - tp;
                cpu_area += dp * dt;
                if let Some(u) = up {
                    mem_area += u * dt;
                    mem_dt += dt;
                }
                prev_dt = dt;
            } else {
                first = Some((t, vcpus, mem, rows.row));
            }
            last = Some((t, demand, used));
        }
        let (Some((t0, vcpus, mem, row)), Some((tl, dl, ul))) = (first, last) else {
            return Ok(None);
        };
        // The last sample holds for one more sampling period.
        cpu_area += dl * prev_dt;
        if let Some(u) = ul {
            mem_area += u * prev_dt;
            mem_dt += prev_dt;
        }
        let end = tl + prev_dt;
        let span = end - t0;
        let mean = |area: f64, dt: f64, fallback: Option<f64>| {
            if dt > 0.0 { Some(area / dt) } else { fallback }
        };
        Ok(Some(Instance {
            name: vm_name(path),
            vcpus,
            memory_mib: mem,
            consumed_mib: mean(mem_area, mem_dt, ul),
            start_s: Some(t0),
            end_s: Some(end),
            cpu_mean_cores: mean(cpu_area, span, Some(dl)),
            powered_on: true,
            row,
            ..Instance::default()
        }))
    }
}

impl Iterator for Vms {
    type Item = Result<Instance, EstateError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        let item = self.advance();
        self.failed = matches!(item, Some(Err(_)));
        item
    }
}

impl Vms {
    fn advance(&mut self) -> Option<Result<Instance, EstateError>> {
        while self.next < self.files.len() {
            let path = self.files[self.next].clone();
            self.next += 1;
            match self.summarise(&path) {
                Err(e) => return Some(Err(e)),
                Ok(None) => self.stats.filtered += 1,
                Ok(Some(i)) => {
                    self.stats.records += 1;
                    return Some(Ok(i));
                }
            }
        }
        None
    }
}

impl InstanceStream for Vms {
    fn stats(&self) -> &ReadStats {
        &self.stats
    }
}

/// The samples of a Bitbrains trace in time order (all files merged).
pub struct Samples {
    rows: CsvRows,
    _sorted: Option<SortedFile>,
    names: Vec<String>,
    cols: Cols,
    opts: ReadOptions,
    stats: ReadStats,
    last_t: f64,
    current: Option<(f64, f64, Option<f64>)>,
}

/// Opens the samples of a trace: one file streams directly; a directory is merged by time
/// with the sort pre-pass (temporary disk space about the size of the trace).
pub fn open_samples(path: &Path, opts: &ReadOptions) -> Result<Samples, EstateError> {
    let files = vm_files(path)?;
    let names = files.iter().map(|f| vm_name(f)).collect();
    let (rows, sorted) = if files.len() == 1 {
        let d = Dialect {
            delimiter: Some(b';'),
            header: true,
        };
        (CsvRows::open(&files[0], d, &[])?, None)
    } else {
        let mut spec = SortSpec::new(TIME);
        spec.delimiter = Some(b';');
        let sorted = sort_rows_by_time(&files, &spec)?;
        (sorted.rows()?, Some(sorted))
    };
    let cols = Cols::of(&rows)?;
    Ok(Samples {
        stats: ReadStats::new(display(path)),
        rows,
        _sorted: sorted,
        names,
        cols,
        opts: opts.clone(),
        last_t: f64::NEG_INFINITY,
        current: None,
    })
}

impl UsageStream for Samples {
    fn next_point(&mut self) -> Result<Option<UsagePoint<'_>>, EstateError> {
        loop {
            if !self.rows.next()? {
                self.current = None;
                return Ok(None);
            }
            self.stats.rows += 1;
            match sample(&self.rows.cells(), self.cols) {
                Ok((t, _, demand, _, used)) => {
                    if t < self.last_t {
                        return Err(EstateError::Unsorted {
                            file: self.rows.file().to_string(),
                            row: self.rows.row,
                            time_s: t,
                            previous_s: self.last_t,
                        });
                    }
                    self.last_t = t;
                    self.current = Some((t, demand, used));
                    self.stats.records += 1;
                    break;
                }
                Err(e) => self.stats.bad_row(self.opts.on_bad_row, e)?,
            }
        }
        Ok(self.current())
    }

    fn stats(&self) -> &ReadStats {
        &self.stats
    }

    fn current(&self) -> Option<UsagePoint<'_>> {
        let (t, demand, used) = self.current?;
        Some(UsagePoint {
            time_s: t,
            vm: &self.names[self.rows.file_index()],
            cpu: CpuUsage::Cores(demand),
            mem_mib: used,
        })
    }
}
