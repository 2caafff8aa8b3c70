//! Azure Public Dataset V1 (2017) and V2 (2019) VM traces.
//!
//! Schema (Azure/AzurePublicDataset `AzurePublicDatasetV1.md`, `AzurePublicDatasetV2.md`,
//! and the column names the dataset's own analysis notebooks give when loading the files:
//! `analysis/Azure Public Dataset - Trace Analysis.ipynb`, `analysis/Azure 2019 Public
//! Dataset V2 - Trace Analysis.ipynb`). The files have **no header row**.
//!
//! `vmtable.csv` — one row per VM:
//!
//! | # | V1 name | V2 name | meaning | record field |
//! | --- | --- | --- | --- | --- |
//! | 1 | vmid | vmid | encrypted VM id | name |
//! | 2 | subscriptionid | subscriptionid | encrypted subscription | tenant |
//! | 3 | deploymentid | deploymentid | encrypted deployment | — |
//! | 4 | vmcreated | vmcreated | s from trace start | start_s |
//! | 5 | vmdeleted | vmdeleted | s from trace start | end_s |
//! | 6 | maxcpu | maxcpu | % of the VM's cores | cpu_max_cores |
//! | 7 | avgcpu | avgcpu | % of the VM's cores | cpu_mean_cores |
//! | 8 | p95maxcpu | p95maxcpu | % | — |
//! | 9 | vmcategory | vmcategory | Delay-insensitive / Interactive / Unknown | class |
//! | 10 | vmcorecount | vmcorecountbucket | cores (V1) / bucket (V2) | vcpus |
//! | 11 | vmmemory | vmmemorybucket | GB (V1) / GB bucket (V2) | memory_mib |
//!
//! The two versions share the column order; they differ in columns 10–11: V1 gives the
//! core count and memory (GB) themselves, V2 gives size buckets. The V2 notebook names the
//! buckets "0-2, 2-4, 4-8, 8-12, 12-24, >24" cores and "0-2, 2-4, 4-8, 8-32, 32-64, >64" GB
//! and stores each as its upper bound ("2", "4", …, "24") or as ">24" / ">64".
//!
//! **Bucket rule** (documented, overridable): a numeric bucket is read as its upper bound —
//! the largest VM the bucket can hold, so a capacity estimate from it errs on the safe side
//! — and the open buckets ">24" cores and ">64" GB are read as 30 cores and 70 GB, the
//! values the V2 analysis notebook substitutes ("Transform vmcorecount '>24' bucket to 30
//! and '>64' to 70"). Tag: `literature` for the open-bucket values, `assumed` for the
//! upper-bound reading. GB are taken as GiB (× 1024 MiB), as Azure sizes memory in GiB.
//!
//! `vm_cpu_readings-file-*-of-*.csv` — one row per VM per 5 minutes: timestamp (s), vmid,
//! min, max and avg CPU (% of the VM's cores). Replay uses avg as the demand for the next
//! 5 minutes: [`CpuUsage::PercentOfVcpus`].
//!
//! **Sampling**: `sample = f` keeps a VM if its id's FNV-1a hash, read as a fraction of
//! 2^64, is below `f` ([`super::in_sample`]) — the same VMs on every platform, in the
//! vmtable and in the readings alike. **Slice**: `start`/`end` keep VMs alive at some time
//! in [start, end) (created before `end`, deleted after `start`) and readings with a
//! timestamp in [start, end). Times are the trace's own seconds (0 = trace start).
//!
//! The vmtable is not sorted by creation time (the notebook's first rows are created at
//! 558300, 424500, 1133100, 0 s); the reader checks the order and asks for the sort
//! pre-pass ([`AzureOptions::presort`]) when it finds rows out of order.

use std::path::{Path, PathBuf};

use super::rows::{CsvRows, Dialect};
use super::sort::{SortSpec, SortedFile, sort_rows_by_time};
use super::{
    CpuUsage, EstateError, Field, Instance, InstanceStream, ReadOptions, ReadStats, RowError,
    UsagePoint, UsageStream, in_sample,
};

/// Column names of a V1 `vmtable.csv` (the V1 analysis notebook's `headers`).
pub const VMTABLE_V1: [&str; 11] = [
    "vmid",
    "subscriptionid",
    "deploymentid",
    "vmcreated",
    "vmdeleted",
    "maxcpu",
    "avgcpu",
    "p95maxcpu",
    "vmcategory",
    "vmcorecount",
    "vmmemory",
];

/// Column names of a V2 `vmtable.csv` (the V2 analysis notebook's `headers`).
pub const VMTABLE_V2: [&str; 11] = [
    "vmid",
    "subscriptionid",
    "deploymentid",
    "vmcreated",
    "vmdeleted",
    "maxcpu",
    "avgcpu",
    "p95maxcpu",
    "vmcategory",
    "vmcorecountbucket",
    "vmmemorybucket",
];

/// Column names of `vm_cpu_readings-*.csv` (schema items 15–18 with the VM id).
pub const READINGS: [&str; 5] = ["timestamp", "vmid", "mincpu", "maxcpu", "avgcpu"];

/// Dataset version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    V1,
    V2,
}

/// Options of the Azure readers.
#[derive(Debug, Clone, PartialEq)]
pub struct AzureOptions {
    pub read: ReadOptions,
    pub version: Version,
    /// Fraction of VMs kept (deterministic by VM id); `None` keeps all.
    pub sample: Option<f64>,
    /// Keep VMs alive at or after this time (s), readings from it.
    pub start_s: Option<f64>,
    /// Keep VMs created before this time (s), readings before it.
    pub end_s: Option<f64>,
    /// Cores for the open bucket ">24" (V2 notebook: 30).
    pub over_core_bucket: f64,
    /// GiB for the open bucket ">64" (V2 notebook: 70).
    pub over_memory_bucket_gib: f64,
    /// Sort the input by time with the external pre-pass first (needed when it is not
    /// sorted; costs one extra pass over the file and temporary disk space).
    pub presort: bool,
}

impl Default for AzureOptions {
    fn default() -> AzureOptions {
        AzureOptions {
            read: ReadOptions::default(),
            version: Version::V2,
            sample: None,
            start_s: None,
            end_s: None,
            over_core_bucket: 30.0,
            over_memory_bucket_gib: 70.0,
            presort: false,
        }
    }
}

impl AzureOptions {
    fn check(&self) -> Result<(), EstateError> {
        if let Some(f) = self.sample
            && !(f > 0.0 && f <= 1.0)
        {
            return Err(EstateError::Option(format!(
                "sample = {f}: expected a fraction in (0, 1]"
            )));
        }
        if let (Some(s), Some(e)) = (self.start_s, self.end_s)
            && s >= e
        {
            return Err(EstateError::Option(format!(
                "start = {s} s is not before end = {e} s"
            )));
        }
        if !(self.over_core_bucket > 0.0 && self.over_memory_bucket_gib > 0.0) {
            return Err(EstateError::Option(
                "open-bucket sizes must be > 0".to_string(),
            ));
        }
        Ok(())
    }

    fn kept(&self, id: &[u8]) -> bool {
        self.sample.is_none_or(|f| in_sample(id, f))
    }
}

/// Reads a bucket label: a number is its own value (V1) or the bucket's upper bound (V2);
/// ">N" is the open bucket, read as `over` (which must exceed N).
fn bucket(t: &str, over: f64) -> Option<f64> {
    if let Some(rest) = t.strip_prefix('>') {
        let n: f64 = rest.trim().parse().ok()?;
        return (over > n).then_some(over);
    }
    let v: f64 = t.parse().ok()?;
    (v.is_finite() && v > 0.0).then_some(v)
}

/// A row source over one file, or over a sorted temporary copy of it.
struct Input {
    rows: CsvRows,
    _sorted: Option<SortedFile>,
}

fn open(
    paths: &[PathBuf],
    names: &[&str],
    time_col: &str,
    presort: bool,
) -> Result<Input, EstateError> {
    if presort {
        let mut spec = SortSpec::new(time_col);
        spec.delimiter = Some(b',');
        spec.header = false;
        spec.names = names.iter().map(|s| s.to_string()).collect();
        let sorted = sort_rows_by_time(paths, &spec)?;
        return Ok(Input {
            rows: sorted.rows()?,
            _sorted: Some(sorted),
        });
    }
    let dialect = Dialect {
        delimiter: Some(b','),
        header: false,
    };
    Ok(Input {
        rows: CsvRows::open(&paths[0], dialect, names)?,
        _sorted: None,
    })
}

/// Streams `vmtable.csv` as instances in creation order.
pub struct VmTable {
    input: Input,
    opts: AzureOptions,
    stats: ReadStats,
    cols: [usize; 8],
    last_start: f64,
    /// Set after an error: the iterator is fused.
    failed: bool,
}

/// Opens a `vmtable.csv` (optionally `.gz`).
pub fn open_vmtable(path: &Path, opts: &AzureOptions) -> Result<VmTable, EstateError> {
    opts.check()?;
    let names: &[&str] = match opts.version {
        Version::V1 => &VMTABLE_V1,
        Version::V2 => &VMTABLE_V2,
    };
    let input = open(&[path.to_path_buf()], names, "vmcreated", opts.presort)?;
    let h = &input.rows.header;
    let file = input.rows.file().to_string();
    let m = &opts.read.columns;
    let cols = [
        h.required_field(&file, m, Field::Name, &["vmid"])?,
        h.required_field(&file, m, Field::Tenant, &["subscriptionid"])?,
        h.required_field(&file, m, Field::StartS, &["vmcreated"])?,
        h.required_field(&file, m, Field::EndS, &["vmdeleted"])?,
        h.required_field(&file, m, Field::Class, &["vmcategory"])?,
        h.required_field(&file, m, Field::Vcpus, &[names[9]])?,
        h.required_field(&file, m, Field::MemoryMib, &[names[10]])?,
        h.required_field(&file, m, Field::CpuCores, &["avgcpu"])?,
    ];
    Ok(VmTable {
        stats: ReadStats::new(file),
        input,
        opts: opts.clone(),
        cols,
        last_start: f64::NEG_INFINITY,

        failed: false,
    })
}

impl VmTable {
    /// Parses the current row; `Ok(None)` if it is outside the sample or slice.
    fn parse(&self) -> Result<Option<Instance>, RowError> {
        let rows = &self.input.rows;
        let c = rows.cells();
        let [id, sub, created, deleted, cat, cores, mem, avg] = self.cols;
        let name = c.required_text(id)?;
        if !self.opts.kept(name.as_bytes()) {
            return Ok(None);
        }
        let start = c.number(created)?;
        let end = c.number(deleted)?;
        if end < start {
            return Err(c.err(
                deleted,
                format!("VM deleted at {end} s, before it was created at {start} s"),
            ));
        }
        if self.opts.end_s.is_some_and(|e| start >= e)
            || self.opts.start_s.is_some_and(|s| end <= s)
        {
            return Ok(None);
        }
        let core_t = c.text(cores)?;
        let vcpus = bucket(core_t, self.opts.over_core_bucket).ok_or_else(|| {
            c.err(
                cores,
                format!(
                    "expected a core count or bucket (2, 4, 8, 12, 24, >24), found `{}`",
                    super::rows::clip(core_t)
                ),
            )
        })?;
        let mem_t = c.text(mem)?;
        let gib = bucket(mem_t, self.opts.over_memory_bucket_gib).ok_or_else(|| {
            c.err(
                mem,
                format!(
                    "expected memory in GB or a bucket (2, 4, 8, 32, 64, >64), found `{}`",
                    super::rows::clip(mem_t)
                ),
            )
        })?;
        let pct = |col: usize| -> Result<f64, RowError> {
            let v = c.number(col)?;
            if v > 100.0 + 1e-9 {
                Err(c.err(col, format!("expected a percentage 0–100, found `{v}`")))
            } else {
                Ok(v)
            }
        };
        let avg_pct = pct(avg)?;
        let max_pct = pct(5)?;
        Ok(Some(Instance {
            name: name.to_string(),
            vcpus,
            memory_mib: gib * 1024.0,
            tenant: c.opt_text(Some(sub))?.map(str::to_string),
            class: c.opt_text(Some(cat))?.map(str::to_string),
            start_s: Some(start),
            end_s: Some(end),
            cpu_mean_cores: Some(avg_pct / 100.0 * vcpus),
            cpu_max_cores: Some(max_pct / 100.0 * vcpus),
            powered_on: true,
            row: c.row,
            ..Instance::default()
        }))
    }
}

impl Iterator for VmTable {
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

impl VmTable {
    fn advance(&mut self) -> Option<Result<Instance, EstateError>> {
        loop {
            match self.input.rows.next() {
                Err(e) => return Some(Err(e)),
                Ok(false) => return None,
                Ok(true) => {}
            }
            self.stats.rows += 1;
            match self.parse() {
                Ok(Some(inst)) => {
                    let start = inst.start_s.unwrap_or(0.0);
                    if start < self.last_start {
                        return Some(Err(EstateError::Unsorted {
                            file: self.stats.file.clone(),
                            row: inst.row,
                            time_s: start,
                            previous_s: self.last_start,
                        }));
                    }
                    self.last_start = start;
                    self.stats.records += 1;
                    return Some(Ok(inst));
                }
                Ok(None) => self.stats.filtered += 1,
                Err(e) => {
                    if let Err(e) = self.stats.bad_row(self.opts.read.on_bad_row, e) {
                        return Some(Err(e));
                    }
                }
            }
        }
    }
}

impl InstanceStream for VmTable {
    fn stats(&self) -> &ReadStats {
        &self.stats
    }
}

/// Streams `vm_cpu_readings` files (in the order given, which is time order for the
/// dataset's numbered files) as usage points.
pub struct Readings {
    paths: Vec<PathBuf>,
    next_file: usize,
    input: Option<Input>,
    opts: AzureOptions,
    stats: ReadStats,
    last_t: f64,
    /// The current point's time and avg CPU %.
    current: Option<(f64, f64)>,
}

/// Opens the readings files `paths` (each optionally `.gz`).
pub fn open_readings(paths: &[PathBuf], opts: &AzureOptions) -> Result<Readings, EstateError> {
    opts.check()?;
    if paths.is_empty() {
        return Err(EstateError::Option("no vm_cpu_readings files given".into()));
    }
    let mut r = Readings {
        paths: paths.to_vec(),
        next_file: 0,
        input: None,
        opts: opts.clone(),
        stats: ReadStats::new(super::display(&paths[0])),
        last_t: f64::NEG_INFINITY,
        current: None,
    };
    if opts.presort {
        r.input = Some(open(paths, &READINGS, "timestamp", true)?);
        r.next_file = paths.len();
    }
    Ok(r)
}

impl Readings {
    fn parse(&self) -> Result<Option<(f64, f64)>, RowError> {
        let c = self.input.as_ref().expect("open").rows.cells();
        let id = c.required_text(1)?;
        if !self.opts.kept(id.as_bytes()) {
            return Ok(None);
        }
        let t = c.number(0)?;
        if self.opts.start_s.is_some_and(|s| t < s) || self.opts.end_s.is_some_and(|e| t >= e) {
            return Ok(None);
        }
        let avg = c.number(4)?;
        if avg > 100.0 + 1e-9 {
            return Err(c.err(4, format!("expected a percentage 0–100, found `{avg}`")));
        }
        Ok(Some((t, avg)))
    }
}

impl UsageStream for Readings {
    fn next_point(&mut self) -> Result<Option<UsagePoint<'_>>, EstateError> {
        loop {
            if self.input.is_none() {
                if self.next_file >= self.paths.len() {
                    self.current = None;
                    return Ok(None);
                }
                let p = self.paths[self.next_file].clone();
                self.next_file += 1;
                self.input = Some(open(&[p], &READINGS, "timestamp", false)?);
            }
            let input = self.input.as_mut().expect("open");
            if !input.rows.next()? {
                if self.next_file >= self.paths.len() {
                    self.current = None;
                    return Ok(None);
                }
                self.input = None;
                continue;
            }
            self.stats.rows += 1;
            match self.parse() {
                Ok(Some((t, avg))) => {
                    if t < self.last_t {
                        let rows = &self.input.as_ref().expect("open").rows;
                        return Err(EstateError::Unsorted {
                            file: rows.file().to_string(),
                            row: rows.row,
                            time_s: t,
                            previous_s: self.last_t,
                        });
                    }
                    self.last_t = t;
                    self.stats.records += 1;
                    self.current = Some((t, avg));
                    break;
                }
                Ok(None) => self.stats.filtered += 1,
                Err(e) => self.stats.bad_row(self.opts.read.on_bad_row, e)?,
            }
        }
        Ok(self.current())
    }

    fn stats(&self) -> &ReadStats {
        &self.stats
    }

    fn current(&self) -> Option<UsagePoint<'_>> {
        let (t, avg) = self.current?;
        let rows = &self.input.as_ref()?.rows;
        let vm = std::str::from_utf8(rows.rec.field(1)).unwrap_or("").trim();
        Some(UsagePoint {
            time_s: t,
            vm,
            cpu: CpuUsage::PercentOfVcpus(avg),
            mem_mib: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_read_as_upper_bound_and_open_bucket_as_the_notebook_value() {
        assert_eq!(bucket("2", 30.0), Some(2.0));
        assert_eq!(bucket("24", 30.0), Some(24.0));
        assert_eq!(bucket(">24", 30.0), Some(30.0));
        assert_eq!(bucket(">64", 70.0), Some(70.0));
        assert_eq!(bucket("1.75", 70.0), Some(1.75), "V1 gives memory itself");
        assert_eq!(bucket(">24", 20.0), None, "an open bucket below its bound");
        assert_eq!(bucket("0", 30.0), None);
        assert_eq!(bucket("big", 30.0), None);
    }
}
