//! Generic CSV: for estates exported by anything else.
//!
//! **Workloads file** — one row per workload, header row required, `,` `;` or tab
//! separated (sniffed). Columns (by name, any order; every one can be renamed with the
//! column mapping):
//!
//! | column | unit | required | record field |
//! | --- | --- | --- | --- |
//! | `name` | text | yes | name |
//! | `vcpus` | vCPUs (fractional allowed) | yes | vcpus |
//! | `memory_mib` | MiB | yes | memory_mib |
//! | `tenant`, `image`, `class`, `host` | text | no | same |
//! | `start_s`, `end_s` | s | no | start_s, end_s |
//! | `cpu_cores` | cores (mean demand) | no | cpu_mean_cores |
//! | `active_mib`, `consumed_mib` | MiB | no | same |
//! | `powered_on`, `template` | true/false | no | same (default true / false) |
//!
//! Rows with a `start_s` must come in start order (or set `presort`).
//!
//! **Usage file** (optional) — long format, one row per sample: `name`, `time_s`,
//! `cpu_cores`, and optionally `mem_mib`; in time order (or `presort`). A sample holds until
//! the same workload's next sample.

use std::path::Path;

use super::rows::{CsvRows, Dialect};
use super::sort::{SortSpec, SortedFile, sort_rows_by_time};
use super::{
    CpuUsage, EstateError, Field, Instance, InstanceStream, ReadOptions, ReadStats, RowError,
    UsagePoint, UsageStream,
};

/// Options of the generic reader.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct GenericOptions {
    pub read: ReadOptions,
    /// Sort by time with the external pre-pass first.
    pub presort: bool,
}

fn open(
    path: &Path,
    time_col: &str,
    presort: bool,
) -> Result<(CsvRows, Option<SortedFile>), EstateError> {
    if presort {
        let sorted = sort_rows_by_time(&[path.to_path_buf()], &SortSpec::new(time_col))?;
        return Ok((sorted.rows()?, Some(sorted)));
    }
    let d = Dialect {
        delimiter: None,
        header: true,
    };
    Ok((CsvRows::open(path, d, &[])?, None))
}

struct Cols {
    name: usize,
    vcpus: usize,
    memory: usize,
    tenant: Option<usize>,
    image: Option<usize>,
    class: Option<usize>,
    host: Option<usize>,
    start: Option<usize>,
    end: Option<usize>,
    cpu: Option<usize>,
    active: Option<usize>,
    consumed: Option<usize>,
    powered_on: Option<usize>,
    template: Option<usize>,
}

/// Streams a generic workloads file.
pub struct Workloads {
    rows: CsvRows,
    _sorted: Option<SortedFile>,
    cols: Cols,
    opts: GenericOptions,
    stats: ReadStats,
    last_start: f64,
    /// Set after an error: the iterator is fused.
    failed: bool,
}

/// Opens a generic workloads CSV.
pub fn open_workloads(path: &Path, opts: &GenericOptions) -> Result<Workloads, EstateError> {
    let start_name = opts.read.columns.get(Field::StartS).unwrap_or("start_s");
    let (rows, sorted) = open(path, start_name, opts.presort)?;
    let h = &rows.header;
    let f = rows.file().to_string();
    let m = &opts.read.columns;
    let cols = Cols {
        name: h.required_field(&f, m, Field::Name, &["name"])?,
        vcpus: h.required_field(&f, m, Field::Vcpus, &["vcpus"])?,
        memory: h.required_field(&f, m, Field::MemoryMib, &["memory_mib"])?,
        tenant: h.field(&f, m, Field::Tenant, &["tenant"])?,
        image: h.field(&f, m, Field::Image, &["image"])?,
        class: h.field(&f, m, Field::Class, &["class"])?,
        host: h.field(&f, m, Field::Host, &["host"])?,
        start: h.field(&f, m, Field::StartS, &["start_s"])?,
        end: h.field(&f, m, Field::EndS, &["end_s"])?,
        cpu: h.field(&f, m, Field::CpuCores, &["cpu_cores"])?,
        active: h.field(&f, m, Field::ActiveMib, &["active_mib"])?,
        consumed: h.field(&f, m, Field::ConsumedMib, &["consumed_mib"])?,
        powered_on: h.field(&f, m, Field::PoweredOn, &["powered_on"])?,
        template: h.field(&f, m, Field::Template, &["template"])?,
    };
    Ok(Workloads {
        stats: ReadStats::new(f),
        rows,
        _sorted: sorted,
        cols,
        opts: opts.clone(),
        last_start: f64::NEG_INFINITY,

        failed: false,
    })
}

impl Workloads {
    fn parse(&self) -> Result<Option<Instance>, RowError> {
        let c = self.rows.cells();
        let k = &self.cols;
        let flag = |col: Option<usize>, default: bool| -> Result<bool, RowError> {
            match col {
                Some(i) if !c.text(i)?.is_empty() => c.flag(i),
                _ => Ok(default),
            }
        };
        let powered_on = flag(k.powered_on, true)?;
        let template = flag(k.template, false)?;
        let inst = Instance {
            name: c.required_text(k.name)?.to_string(),
            vcpus: c.positive(k.vcpus)?,
            memory_mib: c.positive(k.memory)?,
            tenant: c.opt_text(k.tenant)?.map(str::to_string),
            image: c.opt_text(k.image)?.map(str::to_string),
            class: c.opt_text(k.class)?.map(str::to_string),
            host: c.opt_text(k.host)?.map(str::to_string),
            start_s: c.opt_number(k.start)?,
            end_s: c.opt_number(k.end)?,
            cpu_mean_cores: c.opt_number(k.cpu)?,
            active_mib: c.opt_number(k.active)?,
            consumed_mib: c.opt_number(k.consumed)?,
            powered_on,
            template,
            row: c.row,
            ..Instance::default()
        };
        if let (Some(s), Some(e), Some(col)) = (inst.start_s, inst.end_s, k.end)
            && e < s
        {
            return Err(c.err(col, format!("ends at {e} s, before its start at {s} s")));
        }
        let o = &self.opts.read;
        if template && !o.include_templates || !powered_on && o.powered_on_only {
            return Ok(None);
        }
        Ok(Some(inst))
    }
}

impl Iterator for Workloads {
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

impl Workloads {
    fn advance(&mut self) -> Option<Result<Instance, EstateError>> {
        loop {
            match self.rows.next() {
                Err(e) => return Some(Err(e)),
                Ok(false) => return None,
                Ok(true) => {}
            }
            self.stats.rows += 1;
            match self.parse() {
                Ok(Some(inst)) => {
                    if let Some(s) = inst.start_s {
                        if s < self.last_start {
                            return Some(Err(EstateError::Unsorted {
                                file: self.stats.file.clone(),
                                row: inst.row,
                                time_s: s,
                                previous_s: self.last_start,
                            }));
                        }
                        self.last_start = s;
                    }
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

impl InstanceStream for Workloads {
    fn stats(&self) -> &ReadStats {
        &self.stats
    }
}

/// Streams a generic long-format usage file.
pub struct Usage {
    rows: CsvRows,
    _sorted: Option<SortedFile>,
    cols: (usize, usize, usize, Option<usize>),
    opts: GenericOptions,
    stats: ReadStats,
    last_t: f64,
    current: Option<(f64, f64, Option<f64>)>,
}

/// Opens a generic usage CSV (`name`, `time_s`, `cpu_cores`, optional `mem_mib`).
pub fn open_usage(path: &Path, opts: &GenericOptions) -> Result<Usage, EstateError> {
    let (rows, sorted) = open(path, "time_s", opts.presort)?;
    let h = &rows.header;
    let f = rows.file().to_string();
    let m = &opts.read.columns;
    let cols = (
        h.required_field(&f, m, Field::Name, &["name"])?,
        h.require(&f, "time_s", "sample time")?,
        h.required_field(&f, m, Field::CpuCores, &["cpu_cores"])?,
        h.find(&["mem_mib"]),
    );
    Ok(Usage {
        stats: ReadStats::new(f),
        rows,
        _sorted: sorted,
        cols,
        opts: opts.clone(),
        last_t: f64::NEG_INFINITY,
        current: None,
    })
}

impl UsageStream for Usage {
    fn next_point(&mut self) -> Result<Option<UsagePoint<'_>>, EstateError> {
        let (name, time, cpu, mem) = self.cols;
        loop {
            if !self.rows.next()? {
                self.current = None;
                return Ok(None);
            }
            self.stats.rows += 1;
            let c = self.rows.cells();
            let r = (|| -> Result<(f64, f64, Option<f64>), RowError> {
                c.required_text(name)?;
                Ok((c.number(time)?, c.number(cpu)?, c.opt_number(mem)?))
            })();
            match r {
                Ok(p) => {
                    if p.0 < self.last_t {
                        return Err(EstateError::Unsorted {
                            file: c.file.to_string(),
                            row: c.row,
                            time_s: p.0,
                            previous_s: self.last_t,
                        });
                    }
                    self.last_t = p.0;
                    self.current = Some(p);
                    self.stats.records += 1;
                    break;
                }
                Err(e) => self.stats.bad_row(self.opts.read.on_bad_row, e)?,
            }
        }
        Ok(self.current())
    }

    fn stats(&self) -> &ReadStats {
        &self.stats
    }

    fn current(&self) -> Option<UsagePoint<'_>> {
        let (t, cores, mem_mib) = self.current?;
        let vm = std::str::from_utf8(self.rows.rec.field(self.cols.0))
            .unwrap_or("")
            .trim();
        Some(UsagePoint {
            time_s: t,
            vm,
            cpu: CpuUsage::Cores(cores),
            mem_mib,
        })
    }
}
