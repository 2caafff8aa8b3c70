//! Estate readers (`capsim::estate`): per-format record tests on hand-written fixtures,
//! bad-row errors, a mutation proptest, and the generator of the shipped synthetic samples.

mod errors;
mod mutation;
mod readers;
mod samples;

use std::path::{Path, PathBuf};

/// A fixture under tests/fixtures/estates/.
pub fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/estates")
        .join(rel)
}

/// Writes an `.xlsx` with one sheet per `(name, csv text)`, numbers as numeric cells and
/// everything else as text — the shape RVTools' Excel export has.
pub fn csv_tabs_to_xlsx(tabs: &[(&str, String)], out: &Path) {
    use rust_xlsxwriter::{DocProperties, ExcelDateTime, Workbook};
    let mut wb = Workbook::new();
    // A fixed creation time keeps the workbook's bytes the same on every run.
    let when = ExcelDateTime::from_ymd(2026, 1, 1).unwrap();
    wb.set_properties(&DocProperties::new().set_creation_datetime(&when));
    for (name, text) in tabs {
        let ws = wb.add_worksheet();
        ws.set_name(*name).unwrap();
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(text.as_bytes());
        for (r, rec) in rdr.records().enumerate() {
            let rec = rec.unwrap();
            for (c, v) in rec.iter().enumerate() {
                let (r, c) = (r as u32, c as u16);
                match v.parse::<f64>() {
                    Ok(x) if r > 0 && x.is_finite() => {
                        ws.write_number(r, c, x).unwrap();
                    }
                    _ => {
                        ws.write_string(r, c, v).unwrap();
                    }
                }
            }
        }
    }
    wb.save(out).unwrap();
}
