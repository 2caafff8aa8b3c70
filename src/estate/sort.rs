//! The sort pre-pass: turns unsorted trace files into one time-ordered temporary CSV with
//! bounded memory (an external merge sort), so replay can stream it with memory O(live
//! workloads). See the module docs of [`crate::estate`] for the steps.
//!
//! Every row of the output starts with three columns — the sort key (time, s), the index of
//! the input file and the row's number in that file — followed by the original fields, so
//! a reader of the sorted file still reports errors against the user's file and row.

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use super::rows::{CsvRows, Dialect, Header, open_input, parse_number};
use super::{EstateError, display};

/// How to read the inputs and where their time is.
#[derive(Debug, Clone)]
pub struct SortSpec {
    /// `None`: sniff `,` `;` or tab from the first line of each file.
    pub delimiter: Option<u8>,
    /// Whether each file starts with a header row.
    pub header: bool,
    /// Column names for headerless inputs.
    pub names: Vec<String>,
    /// The column holding the time.
    pub time_column: String,
    /// Memory budget for one in-memory run, bytes of row data (default 64 MiB).
    pub run_bytes: usize,
    /// How many runs one merge pass opens at once (default 64): bounds open files.
    pub fan_in: usize,
}

impl SortSpec {
    pub fn new(time_column: impl Into<String>) -> SortSpec {
        SortSpec {
            delimiter: None,
            header: true,
            names: Vec::new(),
            time_column: time_column.into(),
            run_bytes: 64 << 20,
            fan_in: 64,
        }
    }
}

/// A time-ordered temporary file; removed when dropped.
#[derive(Debug)]
pub struct SortedFile {
    _dir: tempfile::TempDir,
    path: PathBuf,
    /// The input files, indexed as in the sorted rows' second column.
    pub files: Vec<String>,
    /// The inputs' header (or the given names).
    pub(crate) header: Header,
    /// Data rows sorted.
    pub rows: u64,
}

impl SortedFile {
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Column names of the original rows.
    pub fn columns(&self) -> &[String] {
        &self.header.names
    }

    /// A row source over the sorted rows (errors name the original file and row).
    pub(crate) fn rows(&self) -> Result<CsvRows, EstateError> {
        CsvRows::open_sorted(&self.path, self.files.clone(), self.header.clone())
    }
}

/// One buffered row of a run.
struct Item {
    key: f64,
    file: u32,
    row: u64,
    rec: csv::ByteRecord,
}

fn order(a: (f64, u32, u64), b: (f64, u32, u64)) -> Ordering {
    a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2))
}

/// Sorts the rows of `inputs` by their time column into one temporary file. Rows whose
/// time is missing or not a number sort last (the reader then reports them as bad rows).
/// All inputs must share one header (one format).
pub fn sort_rows_by_time(inputs: &[PathBuf], spec: &SortSpec) -> Result<SortedFile, EstateError> {
    if inputs.is_empty() {
        return Err(EstateError::Option("sort pre-pass: no input files".into()));
    }
    let dir = tempfile::Builder::new()
        .prefix("capsim-estate-sort")
        .tempdir()
        .map_err(|e| EstateError::io(Path::new("temporary directory"), e))?;
    let names: Vec<&str> = spec.names.iter().map(String::as_str).collect();
    let dialect = Dialect {
        delimiter: spec.delimiter,
        header: spec.header,
    };
    let mut header: Option<Header> = None;
    let mut runs: Vec<PathBuf> = Vec::new();
    let mut buf: Vec<Item> = Vec::new();
    let mut bytes = 0usize;
    let mut total = 0u64;
    let mut files = Vec::with_capacity(inputs.len());
    for (fi, input) in inputs.iter().enumerate() {
        files.push(display(input));
        let mut rows = CsvRows::open(input, dialect, &names)?;
        let col = rows
            .header
            .require(rows.file(), &spec.time_column, "the sort key")?;
        match &header {
            None => header = Some(rows.header.clone()),
            Some(h) if h.names != rows.header.names => {
                return Err(EstateError::Format {
                    file: display(input),
                    message: format!(
                        "header differs from {}: every file of one trace must have the same columns",
                        files[0]
                    ),
                });
            }
            Some(_) => {}
        }
        while rows.next()? {
            let key = std::str::from_utf8(rows.rec.field(col))
                .ok()
                .and_then(|t| parse_number(t.trim()))
                .unwrap_or(f64::INFINITY);
            let rec = rows.rec.bytes.clone();
            bytes += rec.as_slice().len() + 64;
            buf.push(Item {
                key,
                file: fi as u32,
                row: rows.row,
                rec,
            });
            total += 1;
            if bytes >= spec.run_bytes {
                runs.push(spill(&mut buf, dir.path(), runs.len())?);
                bytes = 0;
            }
        }
    }
    if !buf.is_empty() || runs.is_empty() {
        runs.push(spill(&mut buf, dir.path(), runs.len())?);
    }
    // Merge in passes of at most `fan_in` runs until one is left.
    let fan_in = spec.fan_in.max(2);
    let mut next_id = runs.len();
    while runs.len() > 1 {
        let mut merged = Vec::with_capacity(runs.len().div_ceil(fan_in));
        for group in runs.chunks(fan_in) {
            let out = dir.path().join(format!("run-{next_id}.csv"));
            next_id += 1;
            merge(group, &out)?;
            for r in group {
                let _ = std::fs::remove_file(r);
            }
            merged.push(out);
        }
        runs = merged;
    }
    Ok(SortedFile {
        path: runs.pop().expect("one run"),
        _dir: dir,
        files,
        header: header.unwrap_or_default(),
        rows: total,
    })
}

fn writer(path: &Path) -> Result<csv::Writer<BufWriter<File>>, EstateError> {
    let f = File::create(path).map_err(|e| EstateError::io(path, e))?;
    Ok(csv::WriterBuilder::new()
        .flexible(true)
        .from_writer(BufWriter::with_capacity(1 << 16, f)))
}

fn write_item(
    w: &mut csv::Writer<BufWriter<File>>,
    path: &Path,
    key: f64,
    file: u32,
    row: u64,
    fields: impl Iterator<Item = impl AsRef<[u8]>>,
) -> Result<(), EstateError> {
    let io = |e: csv::Error| EstateError::io(path, std::io::Error::other(e));
    // `{:?}` of an f64 round-trips exactly; infinity is written as `inf`.
    w.write_field(format!("{key:?}")).map_err(io)?;
    w.write_field(file.to_string()).map_err(io)?;
    w.write_field(row.to_string()).map_err(io)?;
    for f in fields {
        w.write_field(f).map_err(io)?;
    }
    w.write_record(None::<&[u8]>).map_err(io)
}

/// Sorts the buffered rows and writes them as run `id`.
fn spill(buf: &mut Vec<Item>, dir: &Path, id: usize) -> Result<PathBuf, EstateError> {
    buf.sort_by(|a, b| order((a.key, a.file, a.row), (b.key, b.file, b.row)));
    let path = dir.join(format!("run-{id}.csv"));
    let mut w = writer(&path)?;
    for it in buf.drain(..) {
        write_item(&mut w, &path, it.key, it.file, it.row, it.rec.iter())?;
    }
    w.flush().map_err(|e| EstateError::io(&path, e))?;
    Ok(path)
}

/// A run's current head row in the merge heap (ordered smallest first).
struct Head {
    key: f64,
    file: u32,
    row: u64,
    run: usize,
}

impl PartialEq for Head {
    fn eq(&self, o: &Self) -> bool {
        self.cmp(o) == Ordering::Equal
    }
}
impl Eq for Head {}
impl PartialOrd for Head {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Head {
    fn cmp(&self, o: &Self) -> Ordering {
        // Reversed: BinaryHeap is a max-heap.
        order((o.key, o.file, o.row), (self.key, self.file, self.row)).then(o.run.cmp(&self.run))
    }
}

fn read_head(
    rdr: &mut csv::Reader<Box<dyn std::io::BufRead>>,
    rec: &mut csv::ByteRecord,
    path: &Path,
    run: usize,
) -> Result<Option<Head>, EstateError> {
    let more = rdr
        .read_byte_record(rec)
        .map_err(|e| EstateError::io(path, std::io::Error::other(e)))?;
    if !more {
        return Ok(None);
    }
    let num = |i: usize| std::str::from_utf8(rec.get(i).unwrap_or(b"")).unwrap_or("");
    Ok(Some(Head {
        key: num(0).parse().unwrap_or(f64::INFINITY),
        file: num(1).parse().unwrap_or(0),
        row: num(2).parse().unwrap_or(0),
        run,
    }))
}

/// k-way merge of sorted runs into `out`.
fn merge(runs: &[PathBuf], out: &Path) -> Result<(), EstateError> {
    let mut readers = Vec::with_capacity(runs.len());
    let mut recs = Vec::with_capacity(runs.len());
    let mut heap = BinaryHeap::with_capacity(runs.len());
    for (i, r) in runs.iter().enumerate() {
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(open_input(r)?);
        let mut rec = csv::ByteRecord::new();
        if let Some(h) = read_head(&mut rdr, &mut rec, r, i)? {
            heap.push(h);
        }
        readers.push(rdr);
        recs.push(rec);
    }
    let mut w = writer(out)?;
    while let Some(h) = heap.pop() {
        let rec = &recs[h.run];
        write_item(&mut w, out, h.key, h.file, h.row, rec.iter().skip(3))?;
        if let Some(n) = read_head(&mut readers[h.run], &mut recs[h.run], &runs[h.run], h.run)? {
            heap.push(n);
        }
    }
    w.flush().map_err(|e| EstateError::io(out, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorts_across_runs_and_files_keeping_original_rows() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.csv");
        let b = dir.path().join("b.csv");
        std::fs::write(&a, "t,v\n30,a1\n10,a2\n20,a3\nx,bad\n").unwrap();
        std::fs::write(&b, "t,v\n15,b1\n10,b2\n").unwrap();
        let mut spec = SortSpec::new("t");
        spec.run_bytes = 1; // one row per run: exercises spilling and multi-pass merging
        spec.fan_in = 2;
        let sorted = sort_rows_by_time(&[a, b], &spec).unwrap();
        assert_eq!(sorted.rows, 6);
        let mut rows = sorted.rows().unwrap();
        let mut got = Vec::new();
        while rows.next().unwrap() {
            let c = rows.cells();
            got.push((
                c.file.rsplit('/').next().unwrap().to_string(),
                c.row,
                c.text(0).unwrap().to_string(),
                c.text(1).unwrap().to_string(),
            ));
        }
        let want = [
            ("a.csv", 3, "10", "a2"),
            ("b.csv", 3, "10", "b2"),
            ("b.csv", 2, "15", "b1"),
            ("a.csv", 4, "20", "a3"),
            ("a.csv", 2, "30", "a1"),
            ("a.csv", 5, "x", "bad"),
        ];
        let got: Vec<(&str, u64, &str, &str)> = got
            .iter()
            .map(|(f, r, t, v)| (f.as_str(), *r, t.as_str(), v.as_str()))
            .collect();
        assert_eq!(got, want);
        let path = sorted.path().to_path_buf();
        drop(sorted);
        assert!(!path.exists(), "the temporary file is removed on drop");
    }
}
