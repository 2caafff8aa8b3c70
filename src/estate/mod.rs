//! # Estates: real inventories and traces read as workload records
//!
//! A planner's first question is about the machines they already run. This module reads
//! their inventory or a public trace into one neutral record model, which the simulator
//! turns into workload instances (phase 2 of issue 14):
//!
//! - [`Instance`]: one VM, pod or container with its size (vCPUs, defined memory), what it
//!   really touched (active/consumed memory), who owns it (tenant, class, image), when it
//!   lived (start/end seconds), where it runs today (host) and how busy it was (mean CPU
//!   cores).
//! - [`Host`]: one physical host (RVTools vHost) or node (`kubectl get nodes -o json`)
//!   with its cores, threads, memory, CPU model and, where the export has it, observed
//!   CPU and memory usage.
//! - [`UsagePoint`]: one sample of a demand series (time, VM id, CPU, memory), delivered in
//!   time order by a [`UsageStream`]. A point holds until the next point of the same VM:
//!   the series is piecewise constant.
//!
//! ## Entry points
//!
//! [`Spec`] holds what a scenario's `from = { format = …, path = …, … }` says; [`open`]
//! returns an [`Estate`] (an [`InstanceStream`] and the export's [`Host`]s) and
//! [`open_usage`] the [`UsageStream`] of its demand series, for every format. The sample
//! (`sample`) and time slice (`start_s`/`end_s`) apply to every format. The per-format
//! modules below offer the same readers with their format's own options.
//!
//! ## Formats
//!
//! | format | module | instances from | usage series from |
//! | --- | --- | --- | --- |
//! | RVTools | [`rvtools`] | vInfo (+ vCPU, vMemory, vHost tabs), `.xlsx` or CSV per tab | — (vCPU "Overall" MHz gives a mean) |
//! | Kubernetes | [`kubernetes`] | `kubectl get pods -A -o json` | — |
//! | Azure Public Dataset V1/V2 | [`azure`] | `vmtable.csv` | `vm_cpu_readings-*.csv` |
//! | Bitbrains GWA-T-12 | [`bitbrains`] | one CSV per VM | the same CSVs |
//! | Alibaba cluster-trace-v2018 | [`alibaba`] | `container_meta.csv` | `container_usage.csv` |
//! | generic CSV | [`generic`] | one row per workload | optional long-format usage file |
//!
//! Hosts come from RVTools' vHost tab ([`rvtools`]) and from `kubectl get nodes -o json`
//! ([`kubernetes::read_nodes`]).
//!
//! ## Streaming and memory
//!
//! No reader loads a whole file. CSV is read record by record into one reused
//! `csv::ByteRecord`; JSON `items` are cut out one at a time and decoded on their own;
//! `.xlsx` sheets are read cell by cell with calamine's worksheet cell reader (the
//! workbook's shared-string table is loaded whole by calamine, so an `.xlsx` costs memory
//! in proportion to its distinct strings — about one name per VM; files above
//! [`rvtools::XLSX_MAX_BYTES`] are refused with a hint to export CSV instead). Files whose
//! first two bytes are the gzip magic number are decompressed on the fly, whatever their
//! name.
//!
//! Memory is O(one row) for the row formats that need no join (Azure vmtable and readings,
//! generic CSV, Bitbrains files), and O(workloads) where a join is inherent: RVTools joins
//! vInfo with vCPU/vMemory/vHost by VM and host name, Alibaba aggregates `container_meta`
//! events per container.
//!
//! ## Unsorted traces: the sort pre-pass
//!
//! Replay keeps memory O(live workloads) only if rows arrive in time order: a workload is
//! created when its start time is reached and forgotten when it ends, and a usage point is
//! applied when its time is reached. Traces are not always sorted (Alibaba's
//! `container_usage.csv` is grouped by container, Bitbrains is one file per VM). Readers
//! check the order as they go and stop with [`EstateError::Unsorted`] (file, row, the
//! time that went backwards) instead of silently buffering. The pre-pass
//! [`sort::sort_rows_by_time`] turns such input into a time-ordered temporary file with
//! bounded memory:
//!
//! 1. read rows, collecting up to `run_rows` of them (key, original row number, raw
//!    fields) in memory;
//! 2. sort each run by (time, original row) — stable, so equal times keep file order —
//!    and spill it to a temporary file;
//! 3. merge the runs with a k-way heap into one temporary CSV whose first column is the
//!    original row number, so errors found later still name the row of the user's file.
//!
//! Memory is O(`run_rows`) during the pass and O(1) per open run while merging; the temporary
//! files are removed when the returned [`sort::SortedFile`] is dropped.
//!
//! ## Bad rows
//!
//! Every problem with a value is a [`RowError`] naming the file, the row as a user counts it
//! (a CSV's header is row 1; for JSON, the line where the item starts), the column and what
//! was expected. [`OnBadRow::Error`] (the default) stops at the first; [`OnBadRow::Skip`]
//! skips the row, counts it in [`ReadStats::skipped`] and keeps the first few errors in
//! [`ReadStats::first_errors`] for the report.
//!
//! ## Column mapping
//!
//! Each format has default columns for every record field. [`ColumnMap`] overrides any of
//! them by column name (`tenant_column = "Cluster"`, `image_column = "OS according to the
//! configuration file"`). Header names are matched ignoring case, spaces and punctuation, so
//! RVTools' human headers ("# Cores") and its internal CSV names ("vHostNumCpuCores") both
//! work. A mapped column that does not exist is an error with the nearest header name.

pub mod alibaba;
pub mod azure;
pub mod bitbrains;
pub mod generic;
pub mod kubernetes;
pub(crate) mod rows;
pub mod rvtools;
pub mod sort;

use std::fmt;
use std::path::{Path, PathBuf};

use crate::diagnostics::unknown_name;

/// One workload of an estate: a VM, a pod or a container.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Instance {
    /// Name or id, unique within the source as far as the source guarantees it.
    pub name: String,
    /// Size in vCPUs (fractional for pods and containers: their CPU limit or request).
    pub vcpus: f64,
    /// Defined (configured) memory, MiB.
    pub memory_mib: f64,
    /// Memory the guest actively used recently (RVTools vMemory "Active"), MiB.
    pub active_mib: Option<f64>,
    /// Host memory backing the guest (RVTools vMemory "Consumed"; a trace's memory usage), MiB.
    pub consumed_mib: Option<f64>,
    /// CPU reservation, cores (Kubernetes requests, Alibaba `cpu_request`).
    pub cpu_request_cores: Option<f64>,
    /// CPU limit, cores (Kubernetes limits, Alibaba `cpu_limit`).
    pub cpu_limit_cores: Option<f64>,
    /// Memory reservation, MiB (Kubernetes requests).
    pub mem_request_mib: Option<f64>,
    /// Memory limit, MiB (Kubernetes limits).
    pub mem_limit_mib: Option<f64>,
    /// Owner for per-tenant placements (cluster, namespace, subscription, …).
    pub tenant: Option<String>,
    /// Image, for sharing of image pages between instances of one image.
    pub image: Option<String>,
    /// Class or owner group (Deployment, VM category, app group, …).
    pub class: Option<String>,
    /// Arrival time in the source's clock, seconds.
    pub start_s: Option<f64>,
    /// Departure time in the source's clock, seconds.
    pub end_s: Option<f64>,
    /// Host (or node, machine) it runs on in the export.
    pub host: Option<String>,
    /// Mean CPU demand, cores.
    pub cpu_mean_cores: Option<f64>,
    /// Peak CPU demand, cores (a trace's max).
    pub cpu_max_cores: Option<f64>,
    pub powered_on: bool,
    pub template: bool,
    /// Where the record came from: its row (CSV, xlsx) or starting line (JSON) in the file.
    pub row: u64,
}

impl Instance {
    /// Memory the instance really touched, MiB: host-consumed memory where the export has
    /// it (it counts every page the guest ever touched and the host still backs), else the
    /// guest's active memory (a lower bound: only recently used pages).
    pub fn touched_mib(&self) -> Option<f64> {
        self.consumed_mib.or(self.active_mib)
    }
}

/// One physical host or Kubernetes node of an export.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Host {
    pub name: String,
    /// Cluster (RVTools) or node pool label (Kubernetes), if the export has one.
    pub cluster: Option<String>,
    /// Physical cores (unknown for Kubernetes nodes, which report logical CPUs).
    pub cores: Option<u32>,
    /// Hardware threads (logical CPUs).
    pub threads: u32,
    pub memory_mib: f64,
    pub cpu_model: Option<String>,
    /// Nominal clock per core, MHz (RVTools vHost "Speed").
    pub cpu_mhz: Option<f64>,
    /// Observed CPU usage as a fraction of the host's capacity (RVTools "CPU usage %" / 100).
    pub cpu_usage: Option<f64>,
    /// Observed memory usage as a fraction of physical memory ("Memory usage %" / 100).
    pub mem_usage: Option<f64>,
    /// CPUs the node offers to pods (Kubernetes `status.allocatable.cpu`).
    pub allocatable_cpus: Option<f64>,
    /// Memory the node offers to pods (Kubernetes `status.allocatable.memory`), MiB.
    pub allocatable_mib: Option<f64>,
    pub row: u64,
}

/// CPU of one usage sample.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum CpuUsage {
    /// Absolute demand in cores.
    Cores(f64),
    /// Percent of the instance's vCPUs (Azure readings carry no core count of their own;
    /// the instance record from `vmtable.csv` has it).
    PercentOfVcpus(f64),
}

impl CpuUsage {
    /// Demand in cores for an instance of `vcpus`.
    pub fn cores(self, vcpus: f64) -> f64 {
        match self {
            CpuUsage::Cores(c) => c,
            CpuUsage::PercentOfVcpus(p) => p / 100.0 * vcpus,
        }
    }
}

/// One sample of a demand series; holds until the next sample of the same `vm`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct UsagePoint<'a> {
    /// Sample time in the source's clock, seconds.
    pub time_s: f64,
    /// The instance's name, as in [`Instance::name`]. Borrowed from the reader's row buffer:
    /// no allocation per sample.
    pub vm: &'a str,
    pub cpu: CpuUsage,
    /// Memory in use, MiB, where the trace has it.
    pub mem_mib: Option<f64>,
}

/// A time-ordered stream of usage points (a lending iterator: each point borrows the
/// reader's buffer until the next call).
pub trait UsageStream {
    /// The next point, `None` at the end. Times never decrease; a trace whose times go
    /// backwards fails with [`EstateError::Unsorted`].
    fn next_point(&mut self) -> Result<Option<UsagePoint<'_>>, EstateError>;
    fn stats(&self) -> &ReadStats;
    /// The point the last `next_point` returned, again (`None` before the first and after
    /// the end): lets a wrapper look at a point and then hand it on.
    fn current(&self) -> Option<UsagePoint<'_>>;
}

/// A stream of instance records with the counts a report shows.
pub trait InstanceStream: Iterator<Item = Result<Instance, EstateError>> {
    fn stats(&self) -> &ReadStats;
}

/// What to do with a row that has a missing or invalid value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnBadRow {
    /// Skip it, count it, keep the first few errors for the report.
    Skip,
    /// Stop with the row's error (the default: a planner should see bad data).
    #[default]
    Error,
}

impl OnBadRow {
    pub const NAMES: [&'static str; 2] = ["skip", "error"];

    pub fn parse(s: &str) -> Result<OnBadRow, String> {
        match s {
            "skip" => Ok(OnBadRow::Skip),
            "error" => Ok(OnBadRow::Error),
            _ => Err(unknown_name("on_bad_row value", s, OnBadRow::NAMES)),
        }
    }
}

/// How many errors [`ReadStats::first_errors`] keeps.
pub const KEPT_ERRORS: usize = 5;

/// Counts from one read, for the report ("source file, row count, skipped rows").
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ReadStats {
    /// The file (or directory) read.
    pub file: String,
    /// Data rows (or JSON items) seen, header excluded.
    pub rows: u64,
    /// Records delivered.
    pub records: u64,
    /// Rows skipped as bad under [`OnBadRow::Skip`].
    pub skipped: u64,
    /// Rows left out on purpose: powered off, templates, outside the sample or time slice,
    /// pods not in a selected phase.
    pub filtered: u64,
    /// The first [`KEPT_ERRORS`] bad-row errors.
    pub first_errors: Vec<RowError>,
}

impl ReadStats {
    pub(crate) fn new(file: impl Into<String>) -> ReadStats {
        ReadStats {
            file: file.into(),
            ..ReadStats::default()
        }
    }

    /// Applies the bad-row policy to `err`: `Ok` (counted) to skip, `Err` to stop.
    pub(crate) fn bad_row(&mut self, policy: OnBadRow, err: RowError) -> Result<(), EstateError> {
        match policy {
            OnBadRow::Error => Err(EstateError::Row(err)),
            OnBadRow::Skip => {
                self.skipped += 1;
                if self.first_errors.len() < KEPT_ERRORS {
                    self.first_errors.push(err);
                }
                Ok(())
            }
        }
    }
}

/// A missing or invalid value in one row: `file:row:column: message`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{row}:{column}: {message}")]
pub struct RowError {
    pub file: String,
    /// 1-based row as a user counts it: a CSV's header is row 1; for JSON, the line on
    /// which the item starts.
    pub row: u64,
    /// The column's name (for JSON, the field's path inside the item).
    pub column: String,
    /// What was found and what was expected.
    pub message: String,
}

/// Everything reading an estate can fail with.
#[derive(Debug, thiserror::Error)]
pub enum EstateError {
    /// A bad value in one row (under [`OnBadRow::Error`]).
    #[error(transparent)]
    Row(#[from] RowError),
    /// A required column is absent from the header.
    #[error("{file}: no column `{column}` (needed for {field}){hint}")]
    MissingColumn {
        file: String,
        column: String,
        field: String,
        /// ", did you mean `…`?" or the list of columns.
        hint: String,
    },
    /// The file is not in the expected format (not an xlsx, no `items` array, …).
    #[error("{file}: {message}")]
    Format { file: String, message: String },
    /// Times went backwards: the file needs the sort pre-pass.
    #[error(
        "{file}:{row}: time {time_s} s comes after {previous_s} s: the rows are not in time \
         order; sort them first (estate::sort::sort_rows_by_time, or `presort = true`)"
    )]
    Unsorted {
        file: String,
        row: u64,
        time_s: f64,
        previous_s: f64,
    },
    /// An option has a value the reader cannot use.
    #[error("{0}")]
    Option(String),
    /// Reading failed (missing file, permission, corrupt gzip, …).
    #[error("{file}: {source}")]
    Io {
        file: String,
        #[source]
        source: std::io::Error,
    },
}

impl EstateError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> EstateError {
        EstateError::Io {
            file: path.display().to_string(),
            source,
        }
    }

    /// Exit code under the project's convention: bad input 2, I/O failure 1.
    pub fn exit_code(&self) -> i32 {
        match self {
            EstateError::Io { source, .. } if source.kind() != std::io::ErrorKind::NotFound => 1,
            _ => 2,
        }
    }
}

/// A record field a column can be mapped to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    Name,
    Vcpus,
    MemoryMib,
    ActiveMib,
    ConsumedMib,
    Tenant,
    Image,
    Class,
    StartS,
    EndS,
    Host,
    CpuCores,
    PoweredOn,
    Template,
}

impl Field {
    pub const ALL: [Field; 14] = [
        Field::Name,
        Field::Vcpus,
        Field::MemoryMib,
        Field::ActiveMib,
        Field::ConsumedMib,
        Field::Tenant,
        Field::Image,
        Field::Class,
        Field::StartS,
        Field::EndS,
        Field::Host,
        Field::CpuCores,
        Field::PoweredOn,
        Field::Template,
    ];

    /// The field's name; its mapping key in a scenario is `<name>_column`.
    pub fn name(self) -> &'static str {
        match self {
            Field::Name => "name",
            Field::Vcpus => "vcpus",
            Field::MemoryMib => "memory_mib",
            Field::ActiveMib => "active_mib",
            Field::ConsumedMib => "consumed_mib",
            Field::Tenant => "tenant",
            Field::Image => "image",
            Field::Class => "class",
            Field::StartS => "start_s",
            Field::EndS => "end_s",
            Field::Host => "host",
            Field::CpuCores => "cpu_cores",
            Field::PoweredOn => "powered_on",
            Field::Template => "template",
        }
    }

    /// The field for a mapping key such as `tenant_column`, with the nearest valid key in
    /// the error.
    pub fn from_key(key: &str) -> Result<Field, String> {
        let keys: Vec<String> = Field::ALL
            .iter()
            .map(|f| format!("{}_column", f.name()))
            .collect();
        match keys.iter().position(|k| k == key) {
            Some(i) => Ok(Field::ALL[i]),
            None => Err(unknown_name(
                "column mapping key",
                key,
                keys.iter().map(String::as_str),
            )),
        }
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Overrides of the default column of record fields, by column name.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ColumnMap {
    overrides: Vec<(Field, String)>,
}

impl ColumnMap {
    pub fn new() -> ColumnMap {
        ColumnMap::default()
    }

    /// Maps `field` to the column named `column` (replacing an earlier mapping).
    pub fn set(&mut self, field: Field, column: impl Into<String>) -> &mut ColumnMap {
        let column = column.into();
        match self.overrides.iter_mut().find(|(f, _)| *f == field) {
            Some(slot) => slot.1 = column,
            None => self.overrides.push((field, column)),
        }
        self
    }

    /// Builder form of [`ColumnMap::set`].
    pub fn with(mut self, field: Field, column: impl Into<String>) -> ColumnMap {
        self.set(field, column);
        self
    }

    pub fn get(&self, field: Field) -> Option<&str> {
        self.overrides
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, c)| c.as_str())
    }

    pub fn is_empty(&self) -> bool {
        self.overrides.is_empty()
    }
}

/// Options shared by every reader.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadOptions {
    pub on_bad_row: OnBadRow,
    pub columns: ColumnMap,
    /// Leave out powered-off VMs (RVTools) — they hold no memory and no CPU today.
    pub powered_on_only: bool,
    /// Keep VM templates (RVTools); they are never running workloads, so the default is to
    /// leave them out.
    pub include_templates: bool,
}

impl Default for ReadOptions {
    fn default() -> ReadOptions {
        ReadOptions {
            on_bad_row: OnBadRow::Error,
            columns: ColumnMap::new(),
            powered_on_only: false,
            include_templates: false,
        }
    }
}

/// The estate formats, by the name a scenario's `from = { format = … }` uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Rvtools,
    Kubernetes,
    AzureV1,
    AzureV2,
    Bitbrains,
    Alibaba,
    Generic,
}

impl Format {
    pub const NAMES: [&'static str; 7] = [
        "rvtools",
        "kubernetes",
        "azure-v1",
        "azure-v2",
        "bitbrains",
        "alibaba-2018",
        "csv",
    ];

    pub fn name(self) -> &'static str {
        match self {
            Format::Rvtools => "rvtools",
            Format::Kubernetes => "kubernetes",
            Format::AzureV1 => "azure-v1",
            Format::AzureV2 => "azure-v2",
            Format::Bitbrains => "bitbrains",
            Format::Alibaba => "alibaba-2018",
            Format::Generic => "csv",
        }
    }

    /// The format named `s`, with the nearest valid name in the error.
    pub fn parse(s: &str) -> Result<Format, String> {
        const ALL: [Format; 7] = [
            Format::Rvtools,
            Format::Kubernetes,
            Format::AzureV1,
            Format::AzureV2,
            Format::Bitbrains,
            Format::Alibaba,
            Format::Generic,
        ];
        ALL.into_iter()
            .find(|f| f.name() == s)
            .ok_or_else(|| unknown_name("estate format", s, Format::NAMES))
    }
}

/// Everything a scenario's `from = { … }` can say, for any format: the one entry point the
/// simulator needs ([`open`], [`open_usage`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Spec {
    pub format: Format,
    /// The inventory or trace: RVTools `.xlsx`, vInfo CSV or directory of CSVs; pod list;
    /// `vmtable.csv`; Bitbrains directory or file; `container_meta.csv`; generic workloads.
    pub path: PathBuf,
    /// Usage series files: Azure `vm_cpu_readings-*.csv` (in time order), the generic usage
    /// CSV, Alibaba `container_usage.csv`. Bitbrains reads its series from `path`.
    pub usage: Vec<PathBuf>,
    /// `kubectl get nodes -o json`, for the hosts of a Kubernetes estate.
    pub nodes: Option<PathBuf>,
    pub read: ReadOptions,
    /// Fraction of instances kept, by a deterministic hash of their name ([`in_sample`]).
    pub sample: Option<f64>,
    /// Keep instances alive at or after this time (s, the source's clock) and samples from it.
    pub start_s: Option<f64>,
    /// Keep instances starting before this time and samples before it.
    pub end_s: Option<f64>,
    /// Sort unsorted input by time with the external pre-pass.
    pub presort: bool,
    /// Kubernetes pod phases kept (default `Running`).
    pub phases: Vec<String>,
    /// Alibaba: MiB per normalised memory unit (default: [`alibaba::AlibabaOptions`]).
    pub memory_mib_per_unit: Option<f64>,
}

impl Spec {
    pub fn new(format: Format, path: impl Into<PathBuf>) -> Spec {
        Spec {
            format,
            path: path.into(),
            usage: Vec::new(),
            nodes: None,
            read: ReadOptions::default(),
            sample: None,
            start_s: None,
            end_s: None,
            presort: false,
            phases: vec!["Running".to_string()],
            memory_mib_per_unit: None,
        }
    }

    /// Rejects options the format cannot use, and impossible values.
    fn check(&self) -> Result<(), EstateError> {
        let bad = |what: &str| {
            Err(EstateError::Option(format!(
                "`{what}` does not apply to format `{}`",
                self.format.name()
            )))
        };
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
        if self.nodes.is_some() && self.format != Format::Kubernetes {
            return bad("nodes");
        }
        if self.memory_mib_per_unit.is_some() && self.format != Format::Alibaba {
            return bad("memory_mib_per_unit");
        }
        if !self.usage.is_empty()
            && matches!(
                self.format,
                Format::Rvtools | Format::Kubernetes | Format::Bitbrains
            )
        {
            return bad("usage");
        }
        if self.usage.len() > 1 && matches!(self.format, Format::Generic | Format::Alibaba) {
            return Err(EstateError::Option(format!(
                "format `{}` takes one usage file, got {}",
                self.format.name(),
                self.usage.len()
            )));
        }
        Ok(())
    }

    fn azure(&self) -> azure::AzureOptions {
        azure::AzureOptions {
            read: self.read.clone(),
            version: if self.format == Format::AzureV1 {
                azure::Version::V1
            } else {
                azure::Version::V2
            },
            sample: self.sample,
            start_s: self.start_s,
            end_s: self.end_s,
            presort: self.presort,
            ..azure::AzureOptions::default()
        }
    }

    fn alibaba(&self) -> alibaba::AlibabaOptions {
        let d = alibaba::AlibabaOptions::default();
        alibaba::AlibabaOptions {
            read: self.read.clone(),
            memory_mib_per_unit: self.memory_mib_per_unit.unwrap_or(d.memory_mib_per_unit),
            presort: self.presort,
        }
    }

    fn generic(&self) -> generic::GenericOptions {
        generic::GenericOptions {
            read: self.read.clone(),
            presort: self.presort,
        }
    }
}

/// An opened estate: its instances (streamed) and the hosts the export describes.
pub struct Estate {
    pub instances: Box<dyn InstanceStream>,
    /// RVTools vHost rows or Kubernetes nodes; empty for traces.
    pub hosts: Vec<Host>,
    /// Counts of the host source (vHost tab, node list), if read.
    pub host_stats: Option<ReadStats>,
}

/// Opens the instances (and hosts) of an estate.
pub fn open(spec: &Spec) -> Result<Estate, EstateError> {
    spec.check()?;
    let plain = |s: Box<dyn InstanceStream>| -> Box<dyn InstanceStream> {
        Box::new(Filtered::new(s, spec))
    };
    Ok(match spec.format {
        Format::Rvtools => {
            let e = rvtools::read(&spec.path, &spec.read)?;
            let host_stats = e
                .tab_stats
                .iter()
                .find(|s| s.file.contains("vHost"))
                .cloned();
            Estate {
                instances: plain(Box::new(Collected::new(e.instances, e.stats))),
                hosts: e.hosts,
                host_stats,
            }
        }
        Format::Kubernetes => {
            let opts = kubernetes::PodOptions {
                read: spec.read.clone(),
                phases: spec.phases.clone(),
            };
            let (hosts, host_stats) = match &spec.nodes {
                Some(n) => {
                    let (h, s) = kubernetes::read_nodes(n, &spec.read)?;
                    (h, Some(s))
                }
                None => (Vec::new(), None),
            };
            Estate {
                instances: plain(Box::new(kubernetes::open_pods(&spec.path, &opts)?)),
                hosts,
                host_stats,
            }
        }
        Format::AzureV1 | Format::AzureV2 => Estate {
            // Sample and slice are applied by the reader itself.
            instances: Box::new(azure::open_vmtable(&spec.path, &spec.azure())?),
            hosts: Vec::new(),
            host_stats: None,
        },
        Format::Bitbrains => Estate {
            instances: plain(Box::new(bitbrains::open_vms(&spec.path, &spec.read)?)),
            hosts: Vec::new(),
            host_stats: None,
        },
        Format::Alibaba => Estate {
            instances: plain(Box::new(alibaba::open_containers(
                &spec.path,
                &spec.alibaba(),
            )?)),
            hosts: Vec::new(),
            host_stats: None,
        },
        Format::Generic => Estate {
            instances: plain(Box::new(generic::open_workloads(
                &spec.path,
                &spec.generic(),
            )?)),
            hosts: Vec::new(),
            host_stats: None,
        },
    })
}

/// Opens the estate's usage series, if it has one (`None` for inventories without series,
/// and for formats whose series file was not given). The sample and slice apply to the
/// points as to the instances; for formats other than Azure, points they leave out are not
/// counted in the stream's `filtered`.
pub fn open_usage(spec: &Spec) -> Result<Option<Box<dyn UsageStream>>, EstateError> {
    spec.check()?;
    let plain = |s: Box<dyn UsageStream>| -> Option<Box<dyn UsageStream>> {
        Some(Box::new(FilteredUsage::new(s, spec)))
    };
    Ok(match spec.format {
        Format::Rvtools | Format::Kubernetes => None,
        Format::AzureV1 | Format::AzureV2 if spec.usage.is_empty() => None,
        Format::AzureV1 | Format::AzureV2 => {
            Some(Box::new(azure::open_readings(&spec.usage, &spec.azure())?))
        }
        Format::Bitbrains => plain(Box::new(bitbrains::open_samples(&spec.path, &spec.read)?)),
        Format::Alibaba => match spec.usage.first() {
            None => None,
            Some(u) => plain(Box::new(alibaba::open_usage(
                &spec.path,
                u,
                &spec.alibaba(),
            )?)),
        },
        Format::Generic => match spec.usage.first() {
            None => None,
            Some(u) => plain(Box::new(generic::open_usage(u, &spec.generic())?)),
        },
    })
}

/// Instances read whole (RVTools, whose tabs must be joined) as a stream.
struct Collected {
    items: std::vec::IntoIter<Instance>,
    stats: ReadStats,
}

impl Collected {
    fn new(items: Vec<Instance>, stats: ReadStats) -> Collected {
        Collected {
            items: items.into_iter(),
            stats,
        }
    }
}

impl Iterator for Collected {
    type Item = Result<Instance, EstateError>;
    fn next(&mut self) -> Option<Self::Item> {
        self.items.next().map(Ok)
    }
}

impl InstanceStream for Collected {
    fn stats(&self) -> &ReadStats {
        &self.stats
    }
}

/// The sample and time slice for readers that do not apply them themselves.
struct Filtered {
    inner: Box<dyn InstanceStream>,
    sample: Option<f64>,
    start_s: Option<f64>,
    end_s: Option<f64>,
    dropped: u64,
    stats: ReadStats,
}

impl Filtered {
    fn new(inner: Box<dyn InstanceStream>, spec: &Spec) -> Filtered {
        Filtered {
            stats: inner.stats().clone(),
            inner,
            sample: spec.sample,
            start_s: spec.start_s,
            end_s: spec.end_s,
            dropped: 0,
        }
    }

    fn keeps(&self, i: &Instance) -> bool {
        let start = i.start_s.unwrap_or(f64::NEG_INFINITY);
        let end = i.end_s.unwrap_or(f64::INFINITY);
        self.sample.is_none_or(|f| in_sample(i.name.as_bytes(), f))
            && self.end_s.is_none_or(|e| start < e)
            && self.start_s.is_none_or(|s| end > s)
    }
}

impl Iterator for Filtered {
    type Item = Result<Instance, EstateError>;
    fn next(&mut self) -> Option<Self::Item> {
        let out = loop {
            match self.inner.next() {
                Some(Ok(i)) if !self.keeps(&i) => self.dropped += 1,
                other => break other,
            }
        };
        // The inner counts, with the instances dropped here moved from records to filtered.
        let inner = self.inner.stats();
        self.stats.rows = inner.rows;
        self.stats.skipped = inner.skipped;
        self.stats.records = inner.records - self.dropped;
        self.stats.filtered = inner.filtered + self.dropped;
        if self.stats.first_errors.len() != inner.first_errors.len() {
            self.stats.first_errors = inner.first_errors.clone();
        }
        out
    }
}

impl InstanceStream for Filtered {
    fn stats(&self) -> &ReadStats {
        &self.stats
    }
}

/// The sample and time slice on a usage stream.
struct FilteredUsage {
    inner: Box<dyn UsageStream>,
    sample: Option<f64>,
    start_s: Option<f64>,
    end_s: Option<f64>,
}

impl FilteredUsage {
    fn new(inner: Box<dyn UsageStream>, spec: &Spec) -> FilteredUsage {
        FilteredUsage {
            inner,
            sample: spec.sample,
            start_s: spec.start_s,
            end_s: spec.end_s,
        }
    }
}

impl UsageStream for FilteredUsage {
    fn next_point(&mut self) -> Result<Option<UsagePoint<'_>>, EstateError> {
        let (sample, start, end) = (self.sample, self.start_s, self.end_s);
        loop {
            // Peek with a short borrow, then re-borrow to return: the lending stream cannot
            // hand out a point and keep looping over the same borrow.
            let keep = match self.inner.next_point()? {
                None => return Ok(None),
                Some(p) => {
                    sample.is_none_or(|f| in_sample(p.vm.as_bytes(), f))
                        && start.is_none_or(|s| p.time_s >= s)
                        && end.is_none_or(|e| p.time_s < e)
                }
            };
            if keep {
                break;
            }
        }
        Ok(self.inner.current())
    }

    fn stats(&self) -> &ReadStats {
        self.inner.stats()
    }

    fn current(&self) -> Option<UsagePoint<'_>> {
        self.inner.current()
    }
}

/// A deterministic 64-bit hash of an id (FNV-1a): the same on every platform and run, so a
/// `sample = 0.01` keeps the same VMs everywhere.
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// Whether id `id` is in a deterministic sample of fraction `fraction` (0..=1): its hash,
/// read as a fraction of 2^64, is below `fraction`. Nested: every id in a 1 % sample is in
/// the 2 % sample.
pub fn in_sample(id: &[u8], fraction: f64) -> bool {
    if fraction >= 1.0 {
        return true;
    }
    // 53 high bits make an exact double in [0, 1).
    let u = (fnv1a64(id) >> 11) as f64 / (1u64 << 53) as f64;
    u < fraction
}

/// The display name of a path for error messages.
pub(crate) fn display(path: &Path) -> String {
    path.display().to_string()
}

/// A path relative to which files of one estate (e.g. RVTools tabs) are found.
pub(crate) fn sibling(path: &Path, name: &str) -> PathBuf {
    path.parent()
        .map(|d| d.join(name))
        .unwrap_or_else(|| PathBuf::from(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a_matches_the_published_test_vectors() {
        // FNV-1a 64 reference values (IETF draft-eastlake-fnv, test vectors for "" and "a").
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a64(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn sampling_is_nested_and_close_to_its_fraction() {
        let ids: Vec<String> = (0..20_000).map(|i| format!("vm-{i}")).collect();
        let one: Vec<&String> = ids
            .iter()
            .filter(|id| in_sample(id.as_bytes(), 0.01))
            .collect();
        let two: Vec<&String> = ids
            .iter()
            .filter(|id| in_sample(id.as_bytes(), 0.02))
            .collect();
        assert!(
            one.iter().all(|id| two.contains(id)),
            "a 1 % sample lies in the 2 % sample"
        );
        // Binomial(20000, 0.01): mean 200, sd 14; 5 sd either way.
        assert!((130..=270).contains(&one.len()), "{}", one.len());
        assert!(ids.iter().all(|id| in_sample(id.as_bytes(), 1.0)));
        assert!(!ids.iter().any(|id| in_sample(id.as_bytes(), 0.0)));
    }

    #[test]
    fn names_suggest_the_nearest_valid_one() {
        assert_eq!(Format::parse("rvtools"), Ok(Format::Rvtools));
        let e = Format::parse("rvtool").unwrap_err();
        assert!(e.contains("did you mean `rvtools`"), "{e}");
        assert_eq!(Field::from_key("tenant_column"), Ok(Field::Tenant));
        let e = Field::from_key("tennant_column").unwrap_err();
        assert!(e.contains("did you mean `tenant_column`"), "{e}");
        let e = OnBadRow::parse("skipp").unwrap_err();
        assert!(e.contains("did you mean `skip`"), "{e}");
    }

    #[test]
    fn skip_policy_counts_and_keeps_the_first_errors() {
        let mut st = ReadStats::new("f.csv");
        for row in 2..12 {
            let e = RowError {
                file: "f.csv".into(),
                row,
                column: "CPUs".into(),
                message: "x".into(),
            };
            st.bad_row(OnBadRow::Skip, e).unwrap();
        }
        assert_eq!(st.skipped, 10);
        assert_eq!(st.first_errors.len(), KEPT_ERRORS);
        assert_eq!(st.first_errors[0].row, 2);
        let e = RowError {
            file: "f.csv".into(),
            row: 3,
            column: "CPUs".into(),
            message: "expected a number, found `x`".into(),
        };
        let err = st.bad_row(OnBadRow::Error, e).unwrap_err();
        assert_eq!(
            err.to_string(),
            "f.csv:3:CPUs: expected a number, found `x`"
        );
    }
}
