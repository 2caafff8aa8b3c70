//! RVTools exports: a VMware planner's inventory.
//!
//! RVTools writes one tab per object type, either as one `.xlsx` workbook ("Export all to
//! Excel") or as one CSV per tab ("Export all to csv": `RVTools_tabvInfo.csv`,
//! `RVTools_tabvCPU.csv`, `RVTools_tabvMemory.csv`, `RVTools_tabvHost.csv`, …). This reader
//! takes the workbook, the vInfo CSV (the other tabs are found beside it by name) or the
//! directory holding the CSVs.
//!
//! Columns used, by tab. Headers are the export's visible names; RVTools' CSV export and
//! some versions use internal names (`vInfoVMName`, `vHostNumCpuCores`, …), accepted as
//! aliases. Sources: the header lists of a reference RVTools 4.x export reproduced in
//! Yoobuu/Kylow `vmware_rvtools_exporter/out/compare/report.md` (vInfo 93 columns, vCPU 32,
//! vMemory 36, vHost 74) and the internal-name mappings in the RVTools column-mapping
//! documentation of RVTools-processing projects (e.g. "vInfoVMName → VM", "vHostCpuMhz →
//! Speed", "vHostOverallCpuUsage → CPU usage %", "vMemorySizeMiB → Size MiB",
//! "vCPUMaxCpuUsage → Max"). The internal names of vCPU "Overall" and vMemory
//! "Consumed"/"Active" are not in those lists; `vCPUOverall`, `vMemoryConsumed` and
//! `vMemoryActive` are accepted by analogy (assumed).
//!
//! | tab | column | record field |
//! | --- | --- | --- |
//! | vInfo | VM | name |
//! | vInfo | Powerstate (`poweredOn`/`poweredOff`/`suspended`) | powered_on |
//! | vInfo | Template (True/False) | template |
//! | vInfo | CPUs | vcpus |
//! | vInfo | Memory (MiB) | memory_mib |
//! | vInfo | Active Memory (MiB, newer exports) | active_mib (if vMemory has none) |
//! | vInfo | Cluster (default; map Folder or Resource pool instead) | tenant |
//! | vInfo | Host | host |
//! | vCPU | VM, Overall (MHz, vCenter's `overallCpuUsage` quick stat) | cpu_mean_cores = Overall / host Speed |
//! | vMemory | VM, Consumed (MiB, host memory backing the guest) | consumed_mib |
//! | vMemory | VM, Active (MiB, guest memory recently touched) | active_mib |
//! | vHost | Host, Cluster, CPU Model, Speed (MHz per core), # Cores, HT Active, # Memory (MiB), CPU usage %, Memory usage % | [`Host`] |
//!
//! "Overall" is a point-in-time reading (vCenter averages it over its last 20 s sample),
//! not a long-run mean: it says how busy the VM was when the export ran. CPU demand in cores
//! is Overall MHz divided by the MHz of one core of the VM's host (vHost "Speed"), because
//! a vCPU running flat out on that host uses exactly one core's MHz.
//!
//! Templates are left out unless `include_templates`; powered-off VMs are kept (they hold a
//! reservation on paper) unless `powered_on_only`. Secondary tabs are joined to vInfo by VM
//! name (and the host tab by host name); a VM missing from them just lacks those fields.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use super::rows::{Cells, CsvRows, Dialect, Header, Row, xlsx_rows};
use super::{EstateError, Field, Host, Instance, ReadOptions, ReadStats, display, sibling};

/// Workbooks above this size are refused: calamine loads the shared-string table of a
/// workbook whole, so memory grows with the file; the CSV export streams instead. The
/// largest real exports seen in public reports are tens of MiB.
pub const XLSX_MAX_BYTES: u64 = 512 << 20;

/// An RVTools export read whole: its VMs (vInfo joined with vCPU/vMemory/vHost) and hosts.
#[derive(Debug, Clone, Default)]
pub struct RvtoolsEstate {
    /// One record per vInfo row kept, in file order.
    pub instances: Vec<Instance>,
    /// One record per vHost row (empty if the export has no vHost tab).
    pub hosts: Vec<Host>,
    /// Counts of the vInfo tab.
    pub stats: ReadStats,
    /// Counts of the vCPU, vMemory and vHost tabs that were present.
    pub tab_stats: Vec<ReadStats>,
}

/// The per-row callback of a tab read: (resolved columns, the row, the tab's counts).
type RowFn<'a, C> =
    dyn FnMut(&C, &Cells<'_, dyn Row>, &mut ReadStats) -> Result<(), EstateError> + 'a;

/// Where the tabs are.
enum Source {
    Xlsx(PathBuf),
    /// The CSV of each tab, if present.
    Csv(HashMap<&'static str, PathBuf>),
}

const TABS: [&str; 4] = ["vInfo", "vCPU", "vMemory", "vHost"];

impl Source {
    fn locate(path: &Path) -> Result<Source, EstateError> {
        if path.is_dir() {
            let mut tabs = HashMap::new();
            for tab in TABS {
                for name in [
                    format!("RVTools_tab{tab}.csv"),
                    format!("RVTools_tab{tab}.csv.gz"),
                ] {
                    let p = path.join(&name);
                    if p.is_file() {
                        tabs.insert(tab, p);
                        break;
                    }
                }
            }
            if !tabs.contains_key("vInfo") {
                return Err(EstateError::Format {
                    file: display(path),
                    message: "no RVTools_tabvInfo.csv in this directory".into(),
                });
            }
            return Ok(Source::Csv(tabs));
        }
        let mut magic = [0u8; 4];
        let n = std::fs::File::open(path)
            .and_then(|mut f| f.read(&mut magic))
            .map_err(|e| EstateError::io(path, e))?;
        if n == 4 && magic == *b"PK\x03\x04" {
            let len = std::fs::metadata(path)
                .map_err(|e| EstateError::io(path, e))?
                .len();
            if len > XLSX_MAX_BYTES {
                return Err(EstateError::Format {
                    file: display(path),
                    message: format!(
                        "workbook of {} MiB is above the {} MiB limit for .xlsx (its string \
                         table is loaded whole); use RVTools' CSV export instead",
                        len >> 20,
                        XLSX_MAX_BYTES >> 20
                    ),
                });
            }
            return Ok(Source::Xlsx(path.to_path_buf()));
        }
        // A CSV of one tab: find the others by replacing the tab name in the file name.
        let fname = path
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut tabs = HashMap::new();
        tabs.insert("vInfo", path.to_path_buf());
        if let Some(pos) = fname.find("vInfo") {
            for tab in &TABS[1..] {
                let name = format!("{}{}{}", &fname[..pos], tab, &fname[pos + 5..]);
                let p = sibling(path, &name);
                if p.is_file() {
                    tabs.insert(tab, p);
                }
            }
        }
        Ok(Source::Csv(tabs))
    }

    /// Streams tab `tab`: `on_header` resolves columns once, `on_row` sees each data row.
    /// Returns `None` if the export has no such tab.
    fn read_tab<C>(
        &self,
        tab: &str,
        on_header: &mut dyn FnMut(&str, &Header) -> Result<C, EstateError>,
        on_row: &mut RowFn<'_, C>,
    ) -> Result<Option<ReadStats>, EstateError> {
        match self {
            Source::Csv(tabs) => {
                let Some(path) = tabs.get(tab) else {
                    return Ok(None);
                };
                let mut rows = CsvRows::open(
                    path,
                    Dialect {
                        delimiter: None,
                        header: true,
                    },
                    &[],
                )?;
                let mut stats = ReadStats::new(rows.file());
                let cols = on_header(rows.file(), &rows.header)?;
                while rows.next()? {
                    stats.rows += 1;
                    let c = rows.cells();
                    let cells: Cells<'_, dyn Row> = Cells {
                        file: c.file,
                        header: c.header,
                        row: c.row,
                        rec: c.rec,
                    };
                    on_row(&cols, &cells, &mut stats)?;
                }
                Ok(Some(stats))
            }
            Source::Xlsx(path) => {
                let file = format!("{}[{tab}]", display(path));
                let mut stats = ReadStats::new(file.clone());
                let mut state: Option<(Header, C)> = None;
                let found = xlsx_rows(path, tab, &mut |row, values| {
                    match &state {
                        None => {
                            let header = Header::new(values.clone());
                            let cols = on_header(&file, &header)?;
                            state = Some((header, cols));
                        }
                        Some((header, cols)) => {
                            if values.iter().all(|v| v.trim().is_empty()) {
                                return Ok(());
                            }
                            stats.rows += 1;
                            let cells: Cells<'_, dyn Row> = Cells {
                                file: &file,
                                header,
                                row,
                                rec: values,
                            };
                            on_row(cols, &cells, &mut stats)?;
                        }
                    }
                    Ok(())
                })?;
                if !found {
                    return Ok(None);
                }
                if state.is_none() {
                    return Err(EstateError::Format {
                        file,
                        message: "empty sheet: expected a header row".into(),
                    });
                }
                Ok(Some(stats))
            }
        }
    }
}

/// Reads an RVTools export at `path` (an `.xlsx`, the vInfo CSV, or the directory of CSVs).
pub fn read(path: &Path, opts: &ReadOptions) -> Result<RvtoolsEstate, EstateError> {
    let src = Source::locate(path)?;
    let policy = opts.on_bad_row;
    let mut tab_stats = Vec::new();

    // vHost: host name → host.
    let mut hosts: Vec<Host> = Vec::new();
    struct HostCols {
        name: usize,
        cluster: Option<usize>,
        model: Option<usize>,
        speed: Option<usize>,
        cores: usize,
        ht: Option<usize>,
        memory: usize,
        cpu_usage: Option<usize>,
        mem_usage: Option<usize>,
    }
    let st = src.read_tab(
        "vHost",
        &mut |file, h| {
            Ok(HostCols {
                name: h
                    .find(&["Host", "vHostName"])
                    .ok_or_else(|| h.missing(file, "Host", "host name"))?,
                cluster: h.find(&["Cluster", "vHostCluster"]),
                model: h.find(&["CPU Model", "vHostCpuModel"]),
                speed: h.find(&["Speed", "vHostCpuMhz"]),
                cores: h
                    .find(&["# Cores", "vHostNumCpuCores"])
                    .ok_or_else(|| h.missing(file, "# Cores", "host cores"))?,
                ht: h.find(&["HT Active", "vHostHTActive"]),
                memory: h
                    .find(&["# Memory", "vHostMemorySize"])
                    .ok_or_else(|| h.missing(file, "# Memory", "host memory"))?,
                cpu_usage: h.find(&["CPU usage %", "vHostOverallCpuUsage"]),
                mem_usage: h.find(&["Memory usage %", "vHostOverallMemoryUsage"]),
            })
        },
        &mut |c, cells, stats| {
            let host = (|| -> Result<Host, super::RowError> {
                let cores = cells.positive(c.cores)?;
                let ht = match c.ht {
                    Some(i) if !cells.text(i)?.is_empty() => cells.flag(i)?,
                    _ => false,
                };
                let cores = cores.round() as u32;
                Ok(Host {
                    name: cells.required_text(c.name)?.to_string(),
                    cluster: cells.opt_text(c.cluster)?.map(str::to_string),
                    cores: Some(cores),
                    threads: if ht { cores * 2 } else { cores },
                    memory_mib: cells.positive(c.memory)?,
                    cpu_model: cells.opt_text(c.model)?.map(str::to_string),
                    cpu_mhz: cells.opt_number(c.speed)?,
                    cpu_usage: cells.opt_number(c.cpu_usage)?.map(|p| p / 100.0),
                    mem_usage: cells.opt_number(c.mem_usage)?.map(|p| p / 100.0),
                    allocatable_cpus: None,
                    allocatable_mib: None,
                    row: cells.row,
                })
            })();
            match host {
                Ok(h) => {
                    stats.records += 1;
                    hosts.push(h);
                    Ok(())
                }
                Err(e) => stats.bad_row(policy, e),
            }
        },
    )?;
    tab_stats.extend(st);
    let host_mhz: HashMap<&str, f64> = hosts
        .iter()
        .filter_map(|h| h.cpu_mhz.filter(|m| *m > 0.0).map(|m| (h.name.as_str(), m)))
        .collect();

    // vCPU: VM → Overall MHz.
    let mut overall: HashMap<String, f64> = HashMap::new();
    let st = src.read_tab(
        "vCPU",
        &mut |file, h| {
            let vm = h
                .find(&["VM", "vCPUVMName"])
                .ok_or_else(|| h.missing(file, "VM", "VM name"))?;
            Ok((
                vm,
                h.find(&["Overall", "vCPUOverall", "vCPUOverallCpuUsage"]),
            ))
        },
        &mut |&(vm, ov), cells, stats| {
            let Some(ov) = ov else { return Ok(()) };
            let r = (|| Ok((cells.required_text(vm)?, cells.opt_number(Some(ov))?)))();
            match r {
                Ok((name, Some(mhz))) => {
                    stats.records += 1;
                    overall.insert(name.to_string(), mhz);
                    Ok(())
                }
                Ok((_, None)) => Ok(()),
                Err(e) => stats.bad_row(policy, e),
            }
        },
    )?;
    tab_stats.extend(st);

    // vMemory: VM → (consumed, active) MiB.
    let mut memory: HashMap<String, (Option<f64>, Option<f64>)> = HashMap::new();
    let st = src.read_tab(
        "vMemory",
        &mut |file, h| {
            let vm = h
                .find(&["VM", "vMemoryVMName"])
                .ok_or_else(|| h.missing(file, "VM", "VM name"))?;
            Ok((
                vm,
                h.find(&["Consumed", "vMemoryConsumed"]),
                h.find(&["Active", "vMemoryActive"]),
            ))
        },
        &mut |&(vm, consumed, active), cells, stats| {
            let r = (|| {
                Ok((
                    cells.required_text(vm)?,
                    cells.opt_number(consumed)?,
                    cells.opt_number(active)?,
                ))
            })();
            match r {
                Ok((name, c, a)) => {
                    stats.records += 1;
                    memory.insert(name.to_string(), (c, a));
                    Ok(())
                }
                Err(e) => stats.bad_row(policy, e),
            }
        },
    )?;
    tab_stats.extend(st);

    // vInfo: the VMs.
    struct InfoCols {
        name: usize,
        power: Option<usize>,
        template: Option<usize>,
        vcpus: usize,
        memory: usize,
        active: Option<usize>,
        consumed: Option<usize>,
        tenant: Option<usize>,
        image: Option<usize>,
        class: Option<usize>,
        host: Option<usize>,
        cpu: Option<usize>,
        start: Option<usize>,
        end: Option<usize>,
    }
    let cols_map = &opts.columns;
    let mut instances = Vec::new();
    let stats = src
        .read_tab(
            "vInfo",
            &mut |file, h| {
                Ok(InfoCols {
                    name: h.required_field(file, cols_map, Field::Name, &["VM", "vInfoVMName"])?,
                    power: h.field(
                        file,
                        cols_map,
                        Field::PoweredOn,
                        &["Powerstate", "vInfoPowerstate"],
                    )?,
                    template: h.field(
                        file,
                        cols_map,
                        Field::Template,
                        &["Template", "vInfoTemplate"],
                    )?,
                    vcpus: h.required_field(
                        file,
                        cols_map,
                        Field::Vcpus,
                        &["CPUs", "vInfoCPUs"],
                    )?,
                    memory: h.required_field(
                        file,
                        cols_map,
                        Field::MemoryMib,
                        &["Memory", "vInfoMemory"],
                    )?,
                    active: h.field(file, cols_map, Field::ActiveMib, &["Active Memory"])?,
                    consumed: h.field(file, cols_map, Field::ConsumedMib, &[])?,
                    tenant: h.field(file, cols_map, Field::Tenant, &["Cluster", "vInfoCluster"])?,
                    image: h.field(file, cols_map, Field::Image, &[])?,
                    class: h.field(file, cols_map, Field::Class, &[])?,
                    host: h.field(file, cols_map, Field::Host, &["Host", "vInfoHost"])?,
                    cpu: h.field(file, cols_map, Field::CpuCores, &[])?,
                    start: h.field(file, cols_map, Field::StartS, &[])?,
                    end: h.field(file, cols_map, Field::EndS, &[])?,
                })
            },
            &mut |c, cells, stats| {
                let r = (|| -> Result<Option<Instance>, super::RowError> {
                    let template = match c.template {
                        Some(i) if !cells.text(i)?.is_empty() => cells.flag(i)?,
                        _ => false,
                    };
                    let powered_on = match c.power {
                        Some(i) => cells.flag(i)?,
                        None => true,
                    };
                    let name = cells.required_text(c.name)?.to_string();
                    let vcpus = cells.positive(c.vcpus)?;
                    let memory_mib = cells.positive(c.memory)?;
                    let host = cells.opt_text(c.host)?.map(str::to_string);
                    let (consumed, active) = memory.get(&name).copied().unwrap_or((None, None));
                    let mapped_cpu = cells.opt_number(c.cpu)?;
                    let cpu_mean_cores = mapped_cpu.or_else(|| {
                        let mhz = overall.get(&name)?;
                        let per_core = host_mhz.get(host.as_deref()?)?;
                        Some(mhz / per_core)
                    });
                    if template && !opts.include_templates || !powered_on && opts.powered_on_only {
                        return Ok(None);
                    }
                    Ok(Some(Instance {
                        vcpus,
                        memory_mib,
                        active_mib: active.or(cells.opt_number(c.active)?),
                        consumed_mib: cells.opt_number(c.consumed)?.or(consumed),
                        tenant: cells.opt_text(c.tenant)?.map(str::to_string),
                        image: cells.opt_text(c.image)?.map(str::to_string),
                        class: cells.opt_text(c.class)?.map(str::to_string),
                        start_s: cells.opt_number(c.start)?,
                        end_s: cells.opt_number(c.end)?,
                        host,
                        cpu_mean_cores,
                        powered_on,
                        template,
                        row: cells.row,
                        name,
                        ..Instance::default()
                    }))
                })();
                match r {
                    Ok(Some(i)) => {
                        stats.records += 1;
                        instances.push(i);
                        Ok(())
                    }
                    Ok(None) => {
                        stats.filtered += 1;
                        Ok(())
                    }
                    Err(e) => stats.bad_row(policy, e),
                }
            },
        )?
        .ok_or_else(|| EstateError::Format {
            file: display(path),
            message: "no vInfo tab: not an RVTools export".into(),
        })?;
    Ok(RvtoolsEstate {
        instances,
        hosts,
        stats,
        tab_stats,
    })
}
