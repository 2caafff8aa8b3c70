//! Alibaba cluster-trace-v2018: `container_meta.csv` and `container_usage.csv`.
//!
//! Schema (alibaba/clusterdata `cluster-trace-v2018/schema.md`, sections 1.3 and 1.4); the
//! files have **no header row**:
//!
//! `container_meta.csv` — one row per container event: `container_id`, `machine_id`,
//! `time_stamp` (s), `app_du` (deploy unit: containers of one application group),
//! `status`, `cpu_request` and `cpu_limit` (100 = 1 core), `mem_size` (normalised, 0–100).
//!
//! `container_usage.csv` — one row per container per sample: `container_id`, `machine_id`,
//! `time_stamp` (s), `cpu_util_percent`, `mem_util_percent`, `cpi`, `mem_gps`, `mpki`,
//! `net_in`, `net_out`, `disk_io_percent`.
//!
//! **Instances.** The meta rows of one container are aggregated (memory O(containers)): start
//! = its first event, end = its last event if it has more than one, size and host = its
//! latest event. `cpu_request` / 100 → `cpu_request_cores`, `cpu_limit` / 100 → vcpus and
//! `cpu_limit_cores`, `app_du` → class (and tenant: the trace has no owners), `machine_id`
//! → host. Instances are delivered in start order.
//!
//! **Memory scale.** `mem_size` is normalised to [0, 100] and the trace publishes no
//! machine memory; [`AlibabaOptions::memory_mib_per_unit`] converts one unit to MiB
//! (default 1 % of an assumed 256 GiB machine = 2621.44 MiB; tag `assumed` — override it
//! when comparing with a known machine size).
//!
//! **Usage.** `cpu_util_percent` is a percentage of the container's *requested* CPUs (the
//! maintainers' answer in alibaba/clusterdata issue #62: "the usage of a container is the
//! percentage against the container's requested CPU number"), so demand in cores =
//! `cpu_util_percent` / 100 × `cpu_request` / 100; `mem_util_percent` is read as a
//! percentage of the container's `mem_size`. The usage reader joins with the meta file for
//! these (memory O(containers)). `container_usage.csv` is grouped by container, not by
//! time: use `presort`.

use std::collections::HashMap;
use std::path::Path;

use super::rows::{CsvRows, Dialect};
use super::sort::{SortSpec, SortedFile, sort_rows_by_time};
use super::{
    CpuUsage, EstateError, Field, Instance, InstanceStream, ReadOptions, ReadStats, RowError,
    UsagePoint, UsageStream,
};

/// Columns of `container_meta.csv` (schema.md §1.3).
pub const META: [&str; 8] = [
    "container_id",
    "machine_id",
    "time_stamp",
    "app_du",
    "status",
    "cpu_request",
    "cpu_limit",
    "mem_size",
];

/// Columns of `container_usage.csv` (schema.md §1.4).
pub const USAGE: [&str; 11] = [
    "container_id",
    "machine_id",
    "time_stamp",
    "cpu_util_percent",
    "mem_util_percent",
    "cpi",
    "mem_gps",
    "mpki",
    "net_in",
    "net_out",
    "disk_io_percent",
];

/// Options of the Alibaba readers.
#[derive(Debug, Clone, PartialEq)]
pub struct AlibabaOptions {
    pub read: ReadOptions,
    /// MiB per normalised memory unit (assumed; see the module docs).
    pub memory_mib_per_unit: f64,
    /// Sort `container_usage.csv` by time with the external pre-pass first.
    pub presort: bool,
}

impl Default for AlibabaOptions {
    fn default() -> AlibabaOptions {
        AlibabaOptions {
            read: ReadOptions::default(),
            memory_mib_per_unit: 262_144.0 / 100.0,
            presort: false,
        }
    }
}

/// One container's aggregated meta events.
#[derive(Debug, Clone)]
struct Agg {
    first: f64,
    last: f64,
    latest: f64,
    events: u32,
    machine: String,
    app: String,
    request: f64,
    limit: f64,
    mem: f64,
    row: u64,
}

fn dialect() -> Dialect {
    Dialect {
        delimiter: Some(b','),
        header: false,
    }
}

/// Reads `container_meta.csv` into per-container aggregates.
fn aggregate(
    path: &Path,
    opts: &AlibabaOptions,
    stats: &mut ReadStats,
) -> Result<HashMap<String, Agg>, EstateError> {
    let mut rows = CsvRows::open(path, dialect(), &META)?;
    let h = &rows.header;
    let f = rows.file().to_string();
    let m = &opts.read.columns;
    let id = h.required_field(&f, m, Field::Name, &["container_id"])?;
    let class = h.required_field(&f, m, Field::Class, &["app_du"])?;
    let host = h.required_field(&f, m, Field::Host, &["machine_id"])?;
    let mut out: HashMap<String, Agg> = HashMap::new();
    while rows.next()? {
        stats.rows += 1;
        let c = rows.cells();
        let r = (|| -> Result<(&str, f64, f64, f64, f64), RowError> {
            Ok((
                c.required_text(id)?,
                c.number(2)?,
                c.number(5)?,
                c.number(6)?,
                c.number(7)?,
            ))
        })();
        let (name, t, req, lim, mem) = match r {
            Ok(v) => v,
            Err(e) => {
                stats.bad_row(opts.read.on_bad_row, e)?;
                continue;
            }
        };
        if mem > 100.0 {
            let e = c.err(
                7,
                format!("expected a normalised size 0–100, found `{mem}`"),
            );
            stats.bad_row(opts.read.on_bad_row, e)?;
            continue;
        }
        let machine = c.text(host).unwrap_or("");
        let app = c.text(class).unwrap_or("");
        match out.get_mut(name) {
            Some(a) => {
                a.events += 1;
                a.first = a.first.min(t);
                a.last = a.last.max(t);
                if t >= a.latest {
                    a.latest = t;
                    a.request = req;
                    a.limit = lim;
                    a.mem = mem;
                    a.machine = machine.to_string();
                    a.app = app.to_string();
                }
            }
            None => {
                out.insert(
                    name.to_string(),
                    Agg {
                        first: t,
                        last: t,
                        latest: t,
                        events: 1,
                        machine: machine.to_string(),
                        app: app.to_string(),
                        request: req,
                        limit: lim,
                        mem,
                        row: c.row,
                    },
                );
            }
        }
    }
    Ok(out)
}

/// The containers of `container_meta.csv`, in start order.
pub struct Containers {
    items: std::vec::IntoIter<Instance>,
    stats: ReadStats,
}

/// Reads and aggregates `container_meta.csv` (optionally `.gz`).
pub fn open_containers(path: &Path, opts: &AlibabaOptions) -> Result<Containers, EstateError> {
    if opts.memory_mib_per_unit.is_nan() || opts.memory_mib_per_unit <= 0.0 {
        return Err(EstateError::Option(
            "memory_mib_per_unit must be > 0".into(),
        ));
    }
    let mut stats = ReadStats::new(super::display(path));
    let aggs = aggregate(path, opts, &mut stats)?;
    let mut items: Vec<Instance> = Vec::with_capacity(aggs.len());
    for (name, a) in aggs {
        let cores = |v: f64| v / 100.0;
        let vcpus = if a.limit > 0.0 { a.limit } else { a.request };
        if vcpus <= 0.0 || a.mem <= 0.0 {
            stats.filtered += 1;
            continue;
        }
        items.push(Instance {
            name,
            vcpus: cores(vcpus),
            memory_mib: a.mem * opts.memory_mib_per_unit,
            cpu_request_cores: Some(cores(a.request)),
            cpu_limit_cores: (a.limit > 0.0).then(|| cores(a.limit)),
            tenant: Some(a.app.clone()),
            class: Some(a.app),
            host: Some(a.machine),
            start_s: Some(a.first),
            end_s: (a.events > 1).then_some(a.last),
            powered_on: true,
            row: a.row,
            ..Instance::default()
        });
    }
    items.sort_by(|a, b| {
        a.start_s
            .unwrap_or(0.0)
            .total_cmp(&b.start_s.unwrap_or(0.0))
            .then_with(|| a.name.cmp(&b.name))
    });
    stats.records = items.len() as u64;
    Ok(Containers {
        items: items.into_iter(),
        stats,
    })
}

impl Iterator for Containers {
    type Item = Result<Instance, EstateError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.items.next().map(Ok)
    }
}

impl InstanceStream for Containers {
    fn stats(&self) -> &ReadStats {
        &self.stats
    }
}

/// `container_usage.csv` as usage points in cores and MiB.
pub struct Usage {
    rows: CsvRows,
    _sorted: Option<SortedFile>,
    /// container → (requested cores, memory MiB).
    sizes: HashMap<String, (f64, f64)>,
    opts: AlibabaOptions,
    stats: ReadStats,
    last_t: f64,
    current: Option<(f64, f64, Option<f64>)>,
}

/// Opens `container_usage.csv`, joined with `container_meta.csv` for sizes.
pub fn open_usage(meta: &Path, usage: &Path, opts: &AlibabaOptions) -> Result<Usage, EstateError> {
    let mut meta_stats = ReadStats::new(super::display(meta));
    let sizes = aggregate(meta, opts, &mut meta_stats)?
        .into_iter()
        .map(|(k, a)| (k, (a.request / 100.0, a.mem * opts.memory_mib_per_unit)))
        .collect();
    let (rows, sorted) = if opts.presort {
        let mut spec = SortSpec::new("time_stamp");
        spec.delimiter = Some(b',');
        spec.header = false;
        spec.names = USAGE.iter().map(|s| s.to_string()).collect();
        let s = sort_rows_by_time(&[usage.to_path_buf()], &spec)?;
        (s.rows()?, Some(s))
    } else {
        (CsvRows::open(usage, dialect(), &USAGE)?, None)
    };
    Ok(Usage {
        stats: ReadStats::new(rows.file().to_string()),
        rows,
        _sorted: sorted,
        sizes,
        opts: opts.clone(),
        last_t: f64::NEG_INFINITY,
        current: None,
    })
}

impl UsageStream for Usage {
    fn next_point(&mut self) -> Result<Option<UsagePoint<'_>>, EstateError> {
        loop {
            if !self.rows.next()? {
                self.current = None;
                return Ok(None);
            }
            self.stats.rows += 1;
            let c = self.rows.cells();
            let r = (|| -> Result<Option<(f64, f64, Option<f64>)>, RowError> {
                let id = c.required_text(0)?;
                let t = c.number(2)?;
                let cpu = c.number(3)?;
                let mem = c.opt_number(Some(4))?;
                let Some(&(req, mib)) = self.sizes.get(id) else {
                    return Ok(None);
                };
                Ok(Some((t, cpu / 100.0 * req, mem.map(|p| p / 100.0 * mib))))
            })();
            match r {
                Ok(Some(p)) => {
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
                // A container with no meta record has no size to scale by.
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
        let (t, cores, mem_mib) = self.current?;
        let vm = std::str::from_utf8(self.rows.rec.field(0))
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
