//! The one result shape — a replication ([`RunRecord`]), all replications of a
//! configuration ([`ConfigRecords`]) and every configuration of a sweep point
//! ([`PointRecords`]) — and the CSV files written from it: `results.csv` (one row per
//! point × configuration × replication) and `timeline.csv` (KSM counters over time).
//!
//! A `capsim run` is one point; a sweep is many; a saved sweep point is read back into
//! the same shape, so every report is written by the same code.

use std::path::Path;

use crate::diagnostics::{Error, InputError, Result};
use crate::metrics::{QuantileSketch, RunMetrics, TimelineRow};
use crate::ordered_map::OrderedMap;

/// One replication of one configuration: every metric by name (`RunMetrics::flat`, in
/// its order), the sketches behind the merged distributions, and the KSM timeline.
#[derive(Clone, Debug)]
pub struct RunRecord {
    pub metrics: OrderedMap<f64>,
    pub start_latency: QuantileSketch,
    pub slowdown: QuantileSketch,
    /// KSM counters per host over time; empty when KSM is off (and for replications read
    /// back from a saved sweep point, which keeps none).
    pub timeline: Vec<TimelineRow>,
}

impl From<RunMetrics> for RunRecord {
    fn from(m: RunMetrics) -> RunRecord {
        RunRecord {
            metrics: m.flat().into_iter().collect(),
            start_latency: m.start_latency_sketch,
            slowdown: m.slowdown_sketch,
            timeline: m.timeline,
        }
    }
}

impl RunRecord {
    /// The value of `metric`; NaN when this replication has no such metric (a layer the
    /// placement lacks), which every statistic leaves out like an undefined value.
    pub fn get(&self, metric: &str) -> f64 {
        self.metrics.get(metric).copied().unwrap_or(f64::NAN)
    }
}

/// All replications of one configuration (placement × host type) at one point.
#[derive(Clone, Debug)]
pub struct ConfigRecords {
    pub placement: String,
    pub host_type: String,
    pub runs: Vec<RunRecord>,
}

impl ConfigRecords {
    /// `metric` in every replication, in replication order.
    pub fn samples(&self, metric: &str) -> Vec<f64> {
        self.runs.iter().map(|r| r.get(metric)).collect()
    }
}

/// Every configuration of one sweep point (a plain run is point 0 without axis values).
/// All share the replication count, so replication r of every placement saw the same
/// workload stream (paired differences).
#[derive(Clone, Debug)]
pub struct PointRecords {
    pub point: u64,
    /// Sweep axis path → the value this point takes, as shown.
    pub axis_values: OrderedMap<String>,
    pub replications: u64,
    pub configs: Vec<ConfigRecords>,
}

fn csv_error(file: &'static str) -> impl Fn(csv::Error) -> Error {
    move |e| Error::Runtime(format!("{file}: {e}"))
}

/// `results.csv`: one row per (point, configuration, replication); after `point`, one
/// column per sweep axis (`axes`, empty for a plain run); the metric columns are the
/// union of every configuration's metrics (a layer column is empty where the placement
/// has no such layer, as is an undefined value).
pub fn results_csv(axes: &[String], points: &[PointRecords]) -> Result<Vec<u8>> {
    let mut columns: Vec<&str> = vec![];
    for run in points.iter().flat_map(|p| &p.configs).flat_map(|c| &c.runs) {
        for name in run.metrics.keys() {
            if !columns.contains(&name) {
                columns.push(name);
            }
        }
    }
    let error = csv_error("results.csv");
    let mut w = csv::Writer::from_writer(vec![]);
    let mut header = vec!["point".to_string()];
    header.extend(axes.iter().cloned());
    header.extend(["placement".into(), "host_type".into(), "replication".into()]);
    header.extend(columns.iter().map(|c| c.to_string()));
    w.write_record(&header).map_err(&error)?;
    for point in points {
        for config in &point.configs {
            for (replication, run) in config.runs.iter().enumerate() {
                let mut row = vec![point.point.to_string()];
                for axis in axes {
                    row.push(point.axis_values.get(axis).cloned().unwrap_or_default());
                }
                row.extend([
                    config.placement.clone(),
                    config.host_type.clone(),
                    replication.to_string(),
                ]);
                for column in &columns {
                    row.push(match run.metrics.get(column) {
                        Some(v) if v.is_finite() => format!("{v}"),
                        _ => String::new(),
                    });
                }
                w.write_record(&row).map_err(&error)?;
            }
        }
    }
    w.into_inner()
        .map_err(|e| Error::Runtime(format!("results.csv: {e}")))
}

/// One row of `timeline.csv`: which replication of which configuration, and the
/// simulator's [`TimelineRow`] (one host's KSM counters at one sample time). The same
/// type writes the file and reads it back.
#[derive(Clone, Debug, PartialEq)]
pub struct TimelineRecord {
    pub point: u64,
    pub placement: String,
    pub host_type: String,
    pub replication: u64,
    pub row: TimelineRow,
}

/// The key columns of `timeline.csv`, before [`TimelineRow::COLUMNS`].
const TIMELINE_KEYS: [&str; 4] = ["point", "placement", "host_type", "replication"];

impl TimelineRecord {
    fn new(
        point: u64,
        config: &ConfigRecords,
        replication: usize,
        row: &TimelineRow,
    ) -> TimelineRecord {
        TimelineRecord {
            point,
            placement: config.placement.clone(),
            host_type: config.host_type.clone(),
            replication: replication as u64,
            row: row.clone(),
        }
    }

    /// The CSV fields: the keys, then the row's (floats in their shortest exact form).
    fn fields(&self) -> impl Iterator<Item = String> + '_ {
        [
            self.point.to_string(),
            self.placement.clone(),
            self.host_type.clone(),
            self.replication.to_string(),
        ]
        .into_iter()
        .chain(self.row.fields())
    }

    /// Reads one record by column name; `point` and `host` may be absent (files written
    /// before sweeps had points and hosts were told apart read them as 0).
    fn read(
        header: &csv::StringRecord,
        record: &csv::StringRecord,
    ) -> std::result::Result<Self, String> {
        let get = |name: &str| {
            header
                .iter()
                .position(|h| h == name)
                .and_then(|i| record.get(i))
        };
        let text = |name: &str| {
            get(name)
                .map(str::to_string)
                .ok_or(format!("no `{name}` column"))
        };
        let number = |name: &str, optional: bool| -> std::result::Result<f64, String> {
            match get(name) {
                None if optional => Ok(0.0),
                None => Err(format!("no `{name}` column")),
                Some(v) => v
                    .trim()
                    .parse::<f64>()
                    .map_err(|_| format!("`{name}` = {v:?} is not a number")),
            }
        };
        let count = |name: &str, optional: bool| -> std::result::Result<u64, String> {
            let x = number(name, optional)?;
            if x.is_finite() && x >= 0.0 && x.fract() == 0.0 && x < 2f64.powi(63) {
                Ok(x as u64)
            } else {
                Err(format!("`{name}` = {x} is not a count"))
            }
        };
        Ok(TimelineRecord {
            point: count("point", true)?,
            placement: text("placement")?,
            host_type: text("host_type")?,
            replication: count("replication", false)?,
            row: TimelineRow {
                host: u32::try_from(count("host", true)?)
                    .map_err(|_| "`host` is too large".to_string())?,
                time_s: number("time_s", false)?,
                pages_shared: count("pages_shared", false)?,
                pages_sharing: count("pages_sharing", false)?,
                pages_unshared: count("pages_unshared", false)?,
                pages_volatile: count("pages_volatile", false)?,
                full_scans: count("full_scans", false)?,
                ksmd_cpu_cores: number("ksmd_cpu_cores", false)?,
                mem_saved_mib: number("mem_saved_mib", false)?,
            },
        })
    }
}

/// `timeline.csv`: the KSM counters of every host over time, per point, configuration
/// and replication, with the kernel's counter names. `None` when no host ran ksmd.
pub fn timeline_csv(points: &[PointRecords]) -> Result<Option<Vec<u8>>> {
    let runs = || points.iter().flat_map(|p| &p.configs).flat_map(|c| &c.runs);
    if runs().all(|r| r.timeline.is_empty()) {
        return Ok(None);
    }
    let error = csv_error("timeline.csv");
    let mut w = csv::Writer::from_writer(vec![]);
    w.write_record(TIMELINE_KEYS.iter().chain(&TimelineRow::COLUMNS))
        .map_err(&error)?;
    for point in points {
        for config in &point.configs {
            for (replication, run) in config.runs.iter().enumerate() {
                for row in &run.timeline {
                    let record = TimelineRecord::new(point.point, config, replication, row);
                    w.write_record(record.fields()).map_err(&error)?;
                }
            }
        }
    }
    w.into_inner()
        .map(Some)
        .map_err(|e| Error::Runtime(format!("timeline.csv: {e}")))
}

/// Reads `dir/timeline.csv` when it exists (`Ok(None)` otherwise: older runs and
/// scenarios without KSM have none); a malformed row is bad input naming its line.
pub fn read_timeline(dir: &Path) -> Result<Option<Vec<TimelineRecord>>> {
    let p = dir.join("timeline.csv");
    if !p.exists() {
        return Ok(None);
    }
    let bad = |line: Option<usize>, message: String| {
        Error::Input(InputError {
            file: p.display().to_string(),
            line_col: line.map(|l| (l, 1)),
            message,
        })
    };
    let mut reader =
        csv::Reader::from_path(&p).map_err(|e| bad(None, format!("cannot read: {e}")))?;
    let header = reader
        .headers()
        .map_err(|e| bad(Some(1), format!("bad header: {e}")))?
        .clone();
    let mut rows = vec![];
    for record in reader.records() {
        let record = record.map_err(|e| {
            let line = e.position().map(|p| p.line() as usize);
            bad(line, format!("bad timeline row: {e}"))
        })?;
        let line = record.position().map(|p| p.line() as usize);
        rows.push(
            TimelineRecord::read(&header, &record)
                .map_err(|m| bad(line, format!("bad timeline row: {m}")))?,
        );
    }
    Ok(Some(rows))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(metrics: &[(&str, f64)], timeline: Vec<TimelineRow>) -> RunRecord {
        RunRecord {
            metrics: metrics.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
            start_latency: QuantileSketch::for_latency(),
            slowdown: QuantileSketch::for_slowdown(),
            timeline,
        }
    }

    #[test]
    fn results_csv_takes_the_union_of_columns_and_leaves_undefined_values_empty() {
        let point = PointRecords {
            point: 3,
            axis_values: [("hosts.x86.count".to_string(), "4".to_string())]
                .into_iter()
                .collect(),
            replications: 1,
            configs: vec![
                ConfigRecords {
                    placement: "a".into(),
                    host_type: "x86".into(),
                    runs: vec![record(&[("density", 2.5), ("p99", f64::NAN)], vec![])],
                },
                ConfigRecords {
                    placement: "b".into(),
                    host_type: "x86".into(),
                    runs: vec![record(&[("density", 1.0), ("layer:vm", 30.0)], vec![])],
                },
            ],
        };
        let csv = results_csv(&["hosts.x86.count".into()], &[point]).unwrap();
        assert_eq!(
            String::from_utf8(csv).unwrap(),
            "point,hosts.x86.count,placement,host_type,replication,density,p99,layer:vm\n\
             3,4,a,x86,0,2.5,,\n\
             3,4,b,x86,0,1,,30\n"
        );
    }

    #[test]
    fn timeline_csv_reads_back_into_the_records_it_was_written_from() {
        let row = TimelineRow {
            host: 2,
            time_s: 600.0,
            pages_shared: 10,
            pages_sharing: 90,
            pages_unshared: 5,
            pages_volatile: 1,
            full_scans: 3,
            ksmd_cpu_cores: 0.05,
            mem_saved_mib: 0.3125,
        };
        let point = PointRecords {
            point: 0,
            axis_values: OrderedMap::new(),
            replications: 1,
            configs: vec![ConfigRecords {
                placement: "vm".into(),
                host_type: "x86".into(),
                runs: vec![record(&[], vec![row.clone()])],
            }],
        };
        let bytes = timeline_csv(std::slice::from_ref(&point)).unwrap().unwrap();
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join("timeline.csv"), bytes).unwrap();
        let back = read_timeline(tmp.path()).unwrap().unwrap();
        assert_eq!(back, [TimelineRecord::new(0, &point.configs[0], 0, &row)]);
        // No KSM anywhere: no file.
        let mut quiet = point;
        quiet.configs[0].runs[0].timeline.clear();
        assert!(timeline_csv(&[quiet]).unwrap().is_none());
    }
}
