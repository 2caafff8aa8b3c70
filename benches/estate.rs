//! Estate ingestion speed (issue 14): ≥ 1 M rows/s from plain CSV, memory O(one row).
//!
//! `cargo bench --bench estate` writes a 1,000,000-row Azure V2-format `vmtable.csv`
//! (creation-ordered, ids shaped like the dataset's 64-character base64 hashes) and a
//! 1,000,000-row `vm_cpu_readings` file to a temporary directory, then measures:
//!
//! - `csv baseline`: the csv crate alone reading every record into one `ByteRecord`;
//! - `vmtable → instances`: [`capsim::estate::azure::open_vmtable`], every row parsed,
//!   checked and turned into an `Instance`;
//! - `readings → points`: [`capsim::estate::azure::open_readings`], every row a usage point;
//! - `vmtable presort`: the external sort pre-pass plus reading the sorted file.
//!
//! It prints rows/s (best of `CAPSIM_ESTATE_REPS`, default 3, wall clock) and the peak RSS
//! (VmHWM, Linux) before and after reading: reading must not grow it with the row count.
//! `CAPSIM_ESTATE_ROWS` changes the row count.

use std::io::{BufWriter, Write};
use std::path::Path;
use std::time::Instant;

use capsim::estate::UsageStream;
use capsim::estate::azure::{self, AzureOptions};

/// Peak resident set size of this process so far, MiB (None off Linux).
fn peak_rss_mib() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// A deterministic 64-character base64-looking id (SplitMix64 of the index).
fn id(i: u64, out: &mut String) {
    const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    out.clear();
    let mut x = i.wrapping_add(0x9e37_79b9_7f4a_7c15);
    for _ in 0..8 {
        x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        x ^= x >> 31;
        for k in 0..8 {
            out.push(B64[((x >> (k * 6)) & 63) as usize] as char);
        }
    }
}

fn write_vmtable(path: &Path, rows: u64) -> u64 {
    let mut w = BufWriter::with_capacity(1 << 20, std::fs::File::create(path).unwrap());
    let (mut vm, mut sub, mut dep) = (String::new(), String::new(), String::new());
    let cores = ["2", "4", "8", "12", "24", ">24"];
    let mems = ["4", "8", "32", "64", "64", ">64"];
    let cats = ["Interactive", "Delay-insensitive", "Unknown"];
    for i in 0..rows {
        id(i, &mut vm);
        id(i % 6_000 + (1 << 40), &mut sub);
        id(i % 30_000 + (1 << 41), &mut dep);
        let created = (i * 2_592_000 / rows) / 300 * 300;
        let deleted = created + 300 * (1 + i % 997);
        let k = (i % 6) as usize;
        writeln!(
            w,
            "{vm},{sub},{dep},{created},{deleted},{:.6},{:.6},{:.6},{},{},{}",
            50.0 + (i % 500) as f64 / 10.0,
            (i % 1000) as f64 / 20.0,
            40.0 + (i % 600) as f64 / 10.0,
            cats[(i % 3) as usize],
            cores[k],
            mems[k]
        )
        .unwrap();
    }
    w.flush().unwrap();
    std::fs::metadata(path).unwrap().len()
}

fn write_readings(path: &Path, rows: u64) -> u64 {
    let mut w = BufWriter::with_capacity(1 << 20, std::fs::File::create(path).unwrap());
    let mut vm = String::new();
    for i in 0..rows {
        id(i % 5_000, &mut vm);
        let t = i / 5_000 * 300;
        let avg = (i % 1000) as f64 / 10.0;
        writeln!(
            w,
            "{t},{vm},{:.6},{:.6},{avg:.6}",
            avg * 0.5,
            (avg * 1.5).min(100.0)
        )
        .unwrap();
    }
    w.flush().unwrap();
    std::fs::metadata(path).unwrap().len()
}

fn best(reps: usize, rows: u64, mut f: impl FnMut() -> u64) -> f64 {
    let mut best = f64::INFINITY;
    for _ in 0..reps {
        let t = Instant::now();
        let n = f();
        let dt = t.elapsed().as_secs_f64();
        assert_eq!(n, rows, "every row read");
        best = best.min(dt);
    }
    rows as f64 / best
}

fn main() {
    let rows: u64 = std::env::var("CAPSIM_ESTATE_ROWS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let reps: usize = std::env::var("CAPSIM_ESTATE_REPS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);
    let dir = tempfile::tempdir().unwrap();
    let table = dir.path().join("vmtable.csv");
    let readings = dir.path().join("vm_cpu_readings.csv");
    let tb = write_vmtable(&table, rows);
    let rb = write_readings(&readings, rows);
    println!(
        "estate ingestion: {rows} rows; vmtable {:.0} MiB, readings {:.0} MiB",
        tb as f64 / 1048576.0,
        rb as f64 / 1048576.0
    );
    let rss0 = peak_rss_mib();
    let opts = AzureOptions::default();

    let base = best(reps, rows, || {
        let mut r = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_path(&table)
            .unwrap();
        let mut rec = csv::ByteRecord::new();
        let mut n = 0;
        while r.read_byte_record(&mut rec).unwrap() {
            n += 1;
        }
        n
    });
    println!("  csv baseline           {:>6.2} M rows/s", base / 1e6);

    let mut cores = 0.0;
    let inst = best(reps, rows, || {
        let mut n = 0;
        for i in azure::open_vmtable(&table, &opts).unwrap() {
            cores += i.unwrap().vcpus;
            n += 1;
        }
        n
    });
    println!(
        "  vmtable → instances    {:>6.2} M rows/s  ({:.1} MB/s)",
        inst / 1e6,
        inst * tb as f64 / rows as f64 / 1e6
    );

    let mut sum = 0.0;
    let pts = best(reps, rows, || {
        let mut r = azure::open_readings(std::slice::from_ref(&readings), &opts).unwrap();
        let mut n = 0;
        while let Some(p) = r.next_point().unwrap() {
            sum += p.cpu.cores(1.0);
            n += 1;
        }
        n
    });
    println!("  readings → points      {:>6.2} M rows/s", pts / 1e6);
    let rss1 = peak_rss_mib();

    let sorted_opts = AzureOptions {
        presort: true,
        ..AzureOptions::default()
    };
    let sorted = best(1, rows, || {
        let mut n = 0;
        for i in azure::open_vmtable(&table, &sorted_opts).unwrap() {
            i.unwrap();
            n += 1;
        }
        n
    });
    println!(
        "  vmtable presort + read {:>6.2} M rows/s  (64 MiB runs)",
        sorted / 1e6
    );
    let rss2 = peak_rss_mib();
    if let (Some(a), Some(b), Some(c)) = (rss0, rss1, rss2) {
        println!(
            "  peak RSS: {a:.1} MiB before reading, {b:.1} MiB after the streaming reads, \
             {c:.1} MiB after the presort"
        );
    }
    println!(
        "  (checksums: {cores:.0} vCPUs, {sum:.0} %·vCPU; target ≥ 1 M rows/s from plain CSV)"
    );
}
