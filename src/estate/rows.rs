//! Row plumbing shared by the readers: transparent gzip, header lookup by normalised name,
//! a streaming CSV row source with one reused `ByteRecord`, the `.xlsx` cell-stream → row
//! adapter, and value parsers that produce [`RowError`]s naming file, row and column.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

use super::{ColumnMap, EstateError, Field, RowError, display};
use crate::diagnostics::nearest;

/// Opens `path` for reading, decompressing it on the fly if it starts with the gzip magic
/// number (so `vmtable.csv.gz` and a gzip file without the suffix both work).
pub(crate) fn open_input(path: &Path) -> Result<Box<dyn BufRead>, EstateError> {
    let file = File::open(path).map_err(|e| EstateError::io(path, e))?;
    let mut buf = BufReader::with_capacity(1 << 16, file);
    let head = buf.fill_buf().map_err(|e| EstateError::io(path, e))?;
    if head.len() >= 2 && head[0] == 0x1f && head[1] == 0x8b {
        let gz = flate2::bufread::MultiGzDecoder::new(buf);
        Ok(Box::new(BufReader::with_capacity(1 << 16, gz)))
    } else {
        Ok(Box::new(buf))
    }
}

/// A header name reduced for matching: lower case, letters and digits only, `#` read as
/// "num" and `%` as "pct" — so "# Cores", "#cores" and "vHostNumCpuCores"-style names
/// compare by their words.
pub(crate) fn normalize(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.trim_start_matches('\u{feff}').chars() {
        match c {
            '#' => out.push_str("num"),
            '%' => out.push_str("pct"),
            c if c.is_alphanumeric() => out.extend(c.to_lowercase()),
            _ => {}
        }
    }
    out
}

/// The column names of a table and their normalised forms.
#[derive(Debug, Clone, Default)]
pub(crate) struct Header {
    pub names: Vec<String>,
    norm: Vec<String>,
}

impl Header {
    pub fn new(names: Vec<String>) -> Header {
        let names: Vec<String> = names
            .into_iter()
            .map(|n| n.trim_start_matches('\u{feff}').trim().to_string())
            .collect();
        let norm = names.iter().map(|n| normalize(n)).collect();
        Header { names, norm }
    }

    /// The first column matching one of `aliases` (normalised comparison, aliases in order
    /// of preference).
    pub fn find(&self, aliases: &[&str]) -> Option<usize> {
        aliases.iter().find_map(|a| {
            let a = normalize(a);
            self.norm.iter().position(|n| *n == a)
        })
    }

    /// The column named `name`, or an error with the nearest header name.
    pub fn require(&self, file: &str, name: &str, field: &str) -> Result<usize, EstateError> {
        self.find(&[name])
            .ok_or_else(|| self.missing(file, name, field))
    }

    pub fn missing(&self, file: &str, name: &str, field: &str) -> EstateError {
        let hint = match nearest(name, self.names.iter().map(String::as_str)) {
            Some(n) => format!("; did you mean `{n}`?"),
            None if self.names.len() <= 12 => format!(" (columns: {})", self.names.join(", ")),
            None => String::new(),
        };
        EstateError::MissingColumn {
            file: file.to_string(),
            column: name.to_string(),
            field: field.to_string(),
            hint,
        }
    }

    /// Resolves a record field: the mapped column if the user mapped one (it must exist),
    /// else the first of the format's default `aliases` present, else `None`.
    pub fn field(
        &self,
        file: &str,
        columns: &ColumnMap,
        field: Field,
        aliases: &[&str],
    ) -> Result<Option<usize>, EstateError> {
        match columns.get(field) {
            Some(name) => self.require(file, name, field.name()).map(Some),
            None => Ok(self.find(aliases)),
        }
    }

    /// Like [`Header::field`] for a field the format cannot do without.
    pub fn required_field(
        &self,
        file: &str,
        columns: &ColumnMap,
        field: Field,
        aliases: &[&str],
    ) -> Result<usize, EstateError> {
        match self.field(file, columns, field, aliases)? {
            Some(i) => Ok(i),
            None => Err(self.missing(file, aliases[0], field.name())),
        }
    }

    pub fn name(&self, i: usize) -> &str {
        self.names.get(i).map(String::as_str).unwrap_or("?")
    }
}

/// Where a row's values come from: a CSV record or an xlsx row.
pub(crate) trait Row {
    /// The raw text of column `i` (empty if the row is short).
    fn raw(&self, i: usize) -> Result<&str, std::str::Utf8Error>;
}

/// A CSV record; `offset` skips the row-number column the sort pre-pass adds.
pub(crate) struct Record {
    pub bytes: csv::ByteRecord,
    offset: usize,
}

impl Record {
    /// The raw bytes of column `i` (empty if the row is short).
    pub fn field(&self, i: usize) -> &[u8] {
        self.bytes.get(i + self.offset).unwrap_or(b"")
    }

    /// Number of columns.
    pub fn len(&self) -> usize {
        self.bytes.len().saturating_sub(self.offset)
    }
}

impl Row for Record {
    fn raw(&self, i: usize) -> Result<&str, std::str::Utf8Error> {
        std::str::from_utf8(self.field(i))
    }
}

impl Row for Vec<String> {
    fn raw(&self, i: usize) -> Result<&str, std::str::Utf8Error> {
        Ok(self.get(i).map(String::as_str).unwrap_or(""))
    }
}

/// Typed access to one row's values, with errors naming file, row and column.
pub(crate) struct Cells<'a, R: Row + ?Sized> {
    pub file: &'a str,
    pub header: &'a Header,
    pub row: u64,
    pub rec: &'a R,
}

impl<R: Row + ?Sized> Cells<'_, R> {
    pub fn err(&self, col: usize, message: impl Into<String>) -> RowError {
        RowError {
            file: self.file.to_string(),
            row: self.row,
            column: self.header.name(col).to_string(),
            message: message.into(),
        }
    }

    /// The trimmed text of column `col`.
    pub fn text(&self, col: usize) -> Result<&str, RowError> {
        self.rec
            .raw(col)
            .map(str::trim)
            .map_err(|_| self.err(col, "not valid UTF-8 text"))
    }

    /// Non-empty text, or an error.
    pub fn required_text(&self, col: usize) -> Result<&str, RowError> {
        let t = self.text(col)?;
        if t.is_empty() {
            Err(self.err(col, "empty; expected a value"))
        } else {
            Ok(t)
        }
    }

    /// Text of an optional column; empty text is `None`.
    pub fn opt_text(&self, col: Option<usize>) -> Result<Option<&str>, RowError> {
        match col {
            None => Ok(None),
            Some(c) => self.text(c).map(|t| (!t.is_empty()).then_some(t)),
        }
    }

    /// A finite number ≥ 0.
    pub fn number(&self, col: usize) -> Result<f64, RowError> {
        let t = self.text(col)?;
        parse_number(t).ok_or_else(|| {
            if t.is_empty() {
                self.err(col, "empty; expected a number ≥ 0")
            } else {
                self.err(col, format!("expected a number ≥ 0, found `{}`", clip(t)))
            }
        })
    }

    /// A finite number ≥ 0 in an optional column; empty is `None`.
    pub fn opt_number(&self, col: Option<usize>) -> Result<Option<f64>, RowError> {
        match col {
            None => Ok(None),
            Some(c) if self.text(c)?.is_empty() => Ok(None),
            Some(c) => self.number(c).map(Some),
        }
    }

    /// A number > 0 (sizes).
    pub fn positive(&self, col: usize) -> Result<f64, RowError> {
        let v = self.number(col)?;
        if v > 0.0 {
            Ok(v)
        } else {
            Err(self.err(col, format!("expected a number > 0, found `{v}`")))
        }
    }

    /// A yes/no value (True/False, yes/no, 1/0, poweredOn/poweredOff).
    pub fn flag(&self, col: usize) -> Result<bool, RowError> {
        let t = self.text(col)?;
        parse_flag(t).ok_or_else(|| {
            self.err(
                col,
                format!("expected true/false (or yes/no, 1/0), found `{}`", clip(t)),
            )
        })
    }
}

/// Parses a finite, non-negative decimal number (`1`, `2.5`, `1e3`). Thousands separators
/// and units are not accepted: a value that is not a plain number is a bad value.
pub(crate) fn parse_number(t: &str) -> Option<f64> {
    let v: f64 = t.parse().ok()?;
    (v.is_finite() && v >= 0.0).then_some(v)
}

pub(crate) fn parse_flag(t: &str) -> Option<bool> {
    match t.to_ascii_lowercase().as_str() {
        "true" | "yes" | "1" | "y" | "on" | "poweredon" => Some(true),
        "false" | "no" | "0" | "n" | "off" | "poweredoff" | "suspended" => Some(false),
        _ => None,
    }
}

/// A value shortened for an error message.
pub(crate) fn clip(t: &str) -> String {
    if t.chars().count() > 40 {
        let s: String = t.chars().take(40).collect();
        format!("{s}…")
    } else {
        t.to_string()
    }
}

/// CSV dialect of an input.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Dialect {
    /// `None`: detect from the first line (`,`, `;` or tab, whichever is most frequent).
    pub delimiter: Option<u8>,
    /// Whether the first row is a header.
    pub header: bool,
}

/// A streaming CSV source: one reused `ByteRecord`, O(one row) memory.
pub(crate) struct CsvRows {
    /// The file(s) read: one, or the inputs of a sort pre-pass.
    files: Vec<String>,
    /// Index in `files` of the current row's file.
    cur: usize,
    pub header: Header,
    rdr: csv::Reader<Box<dyn BufRead>>,
    pub rec: Record,
    /// Row number (1-based, header = row 1) of `rec`.
    pub row: u64,
    /// Rows produced by the sort pre-pass carry the original row number in column 0.
    numbered: bool,
}

impl CsvRows {
    /// Opens `path`; `names` gives the columns of a headerless format.
    pub fn open(path: &Path, dialect: Dialect, names: &[&str]) -> Result<CsvRows, EstateError> {
        let mut input = open_input(path)?;
        let delimiter = match dialect.delimiter {
            Some(d) => d,
            None => sniff_delimiter(input.fill_buf().map_err(|e| EstateError::io(path, e))?),
        };
        let rdr = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(delimiter)
            .comment(None)
            .from_reader(input);
        let mut rows = CsvRows {
            files: vec![display(path)],
            cur: 0,
            header: Header::new(names.iter().map(|s| s.to_string()).collect()),
            rdr,
            rec: Record {
                bytes: csv::ByteRecord::new(),
                offset: 0,
            },
            row: 0,
            numbered: false,
        };
        if dialect.header {
            if !rows.next()? {
                return Err(EstateError::Format {
                    file: rows.file().to_string(),
                    message: "empty file: expected a header row".into(),
                });
            }
            let names = (0..rows.rec.len())
                .map(|i| String::from_utf8_lossy(rows.rec.field(i)).into_owned())
                .collect();
            rows.header = Header::new(names);
        }
        Ok(rows)
    }

    /// Opens a file written by the sort pre-pass (columns: key, file index, row, original
    /// fields); errors name the original files and rows.
    pub fn open_sorted(
        sorted: &Path,
        files: Vec<String>,
        header: Header,
    ) -> Result<CsvRows, EstateError> {
        let input = open_input(sorted)?;
        let rdr = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(input);
        Ok(CsvRows {
            files,
            cur: 0,
            header,
            rdr,
            rec: Record {
                bytes: csv::ByteRecord::new(),
                offset: 3,
            },
            row: 0,
            numbered: true,
        })
    }

    /// Reads the next record into `self.rec`; `false` at the end.
    pub fn next(&mut self) -> Result<bool, EstateError> {
        loop {
            let more = self
                .rdr
                .read_byte_record(&mut self.rec.bytes)
                .map_err(|e| {
                    let line = e.position().map(|p| p.line()).unwrap_or(self.row + 1);
                    match e.into_kind() {
                        csv::ErrorKind::Io(io) => EstateError::Io {
                            file: self.files[self.cur].clone(),
                            source: io,
                        },
                        other => EstateError::Row(RowError {
                            file: self.files[self.cur].clone(),
                            row: line,
                            column: "-".into(),
                            message: format!("unreadable CSV: {other:?}"),
                        }),
                    }
                })?;
            if !more {
                return Ok(false);
            }
            let b = &self.rec.bytes;
            if self.numbered {
                let num = |i: usize| {
                    std::str::from_utf8(b.get(i).unwrap_or(b""))
                        .ok()
                        .and_then(|s| s.parse::<u64>().ok())
                        .unwrap_or(0)
                };
                self.cur = (num(1) as usize).min(self.files.len() - 1);
                self.row = num(2);
            } else {
                self.row = b.position().map(|p| p.line()).unwrap_or(self.row + 1);
            }
            // Blank lines carry no row.
            if b.len() == 1 && b[0].iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            return Ok(true);
        }
    }

    /// Index of the current row's file among the inputs (0 for a plain file).
    pub fn file_index(&self) -> usize {
        self.cur
    }

    /// The file of the current row.
    pub fn file(&self) -> &str {
        &self.files[self.cur]
    }

    pub fn cells(&self) -> Cells<'_, Record> {
        Cells {
            file: &self.files[self.cur],
            header: &self.header,
            row: self.row,
            rec: &self.rec,
        }
    }
}

/// The most frequent of `,` `;` and tab on the first line (`,` on a tie or none).
pub(crate) fn sniff_delimiter(head: &[u8]) -> u8 {
    let line = head.split(|&b| b == b'\n').next().unwrap_or(b"");
    let count = |d: u8| line.iter().filter(|&&b| b == d).count();
    let (c, s, t) = (count(b','), count(b';'), count(b'\t'));
    if s > c && s >= t {
        b';'
    } else if t > c && t > s {
        b'\t'
    } else {
        b','
    }
}

/// The callback of [`xlsx_rows`]: (sheet row, the row's values).
pub(crate) type XlsxRowFn<'a> = dyn FnMut(u64, &Vec<String>) -> Result<(), EstateError> + 'a;

/// Calls `f(row, &values)` for every row of worksheet `sheet` of the `.xlsx` at `path`,
/// streaming the sheet's XML cell by cell (one row of values in memory). Row numbers are
/// the sheet's (1-based, header = row 1). Returns `false` if the workbook has no such sheet.
pub(crate) fn xlsx_rows(
    path: &Path,
    sheet: &str,
    f: &mut XlsxRowFn<'_>,
) -> Result<bool, EstateError> {
    use calamine::{DataRef, Reader, Xlsx};
    let file = display(path);
    let fmt_err = |e: calamine::XlsxError| EstateError::Format {
        file: file.clone(),
        message: format!("not a readable .xlsx workbook: {e}"),
    };
    let input = File::open(path).map_err(|e| EstateError::io(path, e))?;
    let mut wb: Xlsx<_> = Xlsx::new(BufReader::new(input)).map_err(fmt_err)?;
    let Some(name) = wb
        .sheet_names()
        .into_iter()
        .find(|n| n.eq_ignore_ascii_case(sheet))
    else {
        return Ok(false);
    };
    let mut cells = wb.worksheet_cells_reader(&name).map_err(fmt_err)?;
    let mut values: Vec<String> = Vec::new();
    let mut current: Option<u32> = None;
    let mut emit = |row: u32, values: &mut Vec<String>| -> Result<(), EstateError> {
        let r = f(u64::from(row) + 1, values);
        for v in values.iter_mut() {
            v.clear();
        }
        r
    };
    while let Some(cell) = cells.next_cell().map_err(fmt_err)? {
        let (r, c) = cell.get_position();
        if current != Some(r) {
            if let Some(prev) = current {
                emit(prev, &mut values)?;
            }
            current = Some(r);
        }
        let c = c as usize;
        // Columns far beyond any real export are a corrupt or hostile file, not a row.
        if c >= 16_384 {
            return Err(EstateError::Format {
                file: file.clone(),
                message: format!("sheet {name}: column {} out of range", c + 1),
            });
        }
        if values.len() <= c {
            values.resize(c + 1, String::new());
        }
        let v = &mut values[c];
        v.clear();
        use std::fmt::Write;
        let _ = match cell.get_value() {
            DataRef::Int(i) => write!(v, "{i}"),
            DataRef::Float(x) => write!(v, "{x}"),
            DataRef::String(s) => write!(v, "{s}"),
            DataRef::SharedString(s) => write!(v, "{s}"),
            DataRef::Bool(b) => write!(v, "{b}"),
            DataRef::DateTime(d) => write!(v, "{}", d.as_f64()),
            DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => write!(v, "{s}"),
            DataRef::Error(_) | DataRef::Empty => Ok(()),
        };
    }
    if let Some(prev) = current {
        emit(prev, &mut values)?;
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_names_match_ignoring_case_spaces_and_punctuation() {
        let h = Header::new(vec![
            "\u{feff}VM".into(),
            "# Cores".into(),
            "CPU usage %".into(),
            "OS according to the configuration file".into(),
        ]);
        assert_eq!(h.find(&["vm"]), Some(0));
        assert_eq!(h.find(&["#cores"]), Some(1));
        assert_eq!(h.find(&["numcores"]), Some(1));
        assert_eq!(h.find(&["CPU Usage %"]), Some(2));
        assert_eq!(
            h.find(&["missing", "os according to the configuration file"]),
            Some(3)
        );
        let e = h
            .require("f.csv", "# Core", "cores")
            .unwrap_err()
            .to_string();
        assert!(e.contains("did you mean `# Cores`"), "{e}");
    }

    #[test]
    fn numbers_and_flags() {
        assert_eq!(parse_number("4096"), Some(4096.0));
        assert_eq!(parse_number("2.5e3"), Some(2500.0));
        assert_eq!(parse_number("-1"), None);
        assert_eq!(parse_number("NaN"), None);
        assert_eq!(parse_number("inf"), None);
        assert_eq!(parse_number("1,024"), None);
        assert_eq!(parse_flag("True"), Some(true));
        assert_eq!(parse_flag("poweredOff"), Some(false));
        assert_eq!(parse_flag("maybe"), None);
    }

    #[test]
    fn delimiter_is_sniffed_from_the_first_line() {
        assert_eq!(sniff_delimiter(b"a,b,c\n1;2;3"), b',');
        assert_eq!(sniff_delimiter(b"a;b;c\n"), b';');
        assert_eq!(sniff_delimiter(b"Timestamp [ms];\tCPU cores;\tx\n"), b';');
        assert_eq!(sniff_delimiter(b"a\tb\tc"), b'\t');
        assert_eq!(sniff_delimiter(b"single"), b',');
    }
}
