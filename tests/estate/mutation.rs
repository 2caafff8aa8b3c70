//! Malformed files never panic a reader: fixture bytes are flipped, inserted, deleted and
//! truncated, and every reader must return records or a typed error.

use std::path::Path;

use capsim::estate::azure::{self, AzureOptions};
use capsim::estate::kubernetes::{self, PodOptions};
use capsim::estate::{OnBadRow, ReadOptions, UsageStream, alibaba, bitbrains, generic, rvtools};
use proptest::prelude::*;

use super::fixture;

#[derive(Debug, Clone)]
enum Edit {
    Flip(usize, u8),
    Insert(usize, u8),
    Delete(usize),
    Truncate(usize),
}

fn apply(bytes: &[u8], edits: &[Edit]) -> Vec<u8> {
    let mut b = bytes.to_vec();
    for e in edits {
        let n = b.len().max(1);
        match *e {
            Edit::Flip(i, x) => {
                if !b.is_empty() {
                    let i = i % n;
                    b[i] ^= x | 1;
                }
            }
            Edit::Insert(i, x) => b.insert(i % (b.len() + 1), x),
            Edit::Delete(i) => {
                if !b.is_empty() {
                    b.remove(i % n);
                }
            }
            Edit::Truncate(i) => b.truncate(i % n),
        }
    }
    b
}

fn edit() -> impl Strategy<Value = Edit> {
    // Bytes that matter to the formats: delimiters, quotes, brackets, digits, signs, gzip
    // and zip magic, and anything else.
    let byte = prop_oneof![
        Just(b','),
        Just(b';'),
        Just(b'"'),
        Just(b'\n'),
        Just(b'{'),
        Just(b']'),
        Just(b'-'),
        Just(b'>'),
        Just(b'9'),
        Just(0x1f),
        Just(0x8b),
        any::<u8>(),
    ];
    prop_oneof![
        (any::<usize>(), byte.clone()).prop_map(|(i, x)| Edit::Flip(i, x)),
        (any::<usize>(), byte).prop_map(|(i, x)| Edit::Insert(i, x)),
        any::<usize>().prop_map(Edit::Delete),
        any::<usize>().prop_map(Edit::Truncate),
    ]
}

/// Copies a fixture directory's files into `dir`, mutating the one named `target`.
fn mutate_into(src: &Path, dir: &Path, target: &str, edits: &[Edit]) {
    for e in std::fs::read_dir(src).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_str().unwrap().to_string();
        let bytes = std::fs::read(&p).unwrap();
        let out = if name == target {
            apply(&bytes, edits)
        } else {
            bytes
        };
        std::fs::write(dir.join(&name), out).unwrap();
    }
}

fn policies() -> [ReadOptions; 2] {
    [OnBadRow::Error, OnBadRow::Skip].map(|p| ReadOptions {
        on_bad_row: p,
        ..ReadOptions::default()
    })
}

fn drain(mut u: impl UsageStream) {
    while let Ok(Some(_)) = u.next_point() {}
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn rvtools_survives_mutation(tab in 0usize..4, edits in prop::collection::vec(edit(), 1..6)) {
        let dir = tempfile::tempdir().unwrap();
        let target = ["RVTools_tabvInfo.csv", "RVTools_tabvCPU.csv", "RVTools_tabvMemory.csv", "RVTools_tabvHost.csv"][tab];
        mutate_into(&fixture("rvtools"), dir.path(), target, &edits);
        for o in policies() {
            let _ = rvtools::read(dir.path(), &o);
        }
    }

    #[test]
    fn xlsx_survives_mutation(edits in prop::collection::vec(edit(), 1..4)) {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("good.xlsx");
        let text = std::fs::read_to_string(fixture("rvtools/RVTools_tabvInfo.csv")).unwrap();
        super::csv_tabs_to_xlsx(&[("vInfo", text)], &good);
        let bad = dir.path().join("bad.xlsx");
        std::fs::write(&bad, apply(&std::fs::read(&good).unwrap(), &edits)).unwrap();
        for o in policies() {
            let _ = rvtools::read(&bad, &o);
        }
    }

    #[test]
    fn kubernetes_survives_mutation(nodes in any::<bool>(), edits in prop::collection::vec(edit(), 1..6)) {
        let dir = tempfile::tempdir().unwrap();
        let target = if nodes { "nodes.json" } else { "pods.json" };
        mutate_into(&fixture("kubernetes"), dir.path(), target, &edits);
        for o in policies() {
            let p = dir.path().join(target);
            if nodes {
                let _ = kubernetes::read_nodes(&p, &o);
            } else {
                let opts = PodOptions { read: o, ..PodOptions::default() };
                if let Ok(r) = kubernetes::open_pods(&p, &opts) {
                    r.for_each(drop);
                }
            }
        }
    }

    #[test]
    fn azure_survives_mutation(which in 0usize..3, presort in any::<bool>(), edits in prop::collection::vec(edit(), 1..6)) {
        let dir = tempfile::tempdir().unwrap();
        let target = ["vmtable-v2.csv", "vmtable-v1.csv", "vm_cpu_readings-file-1-of-1.csv"][which];
        mutate_into(&fixture("azure"), dir.path(), target, &edits);
        for o in policies() {
            let opts = AzureOptions { read: o, presort, sample: Some(0.7), ..AzureOptions::default() };
            let p = dir.path().join(target);
            if which == 2 {
                if let Ok(r) = azure::open_readings(&[p], &opts) {
                    drain(r);
                }
            } else if let Ok(r) = azure::open_vmtable(&p, &opts) {
                r.for_each(drop);
            }
        }
    }

    #[test]
    fn bitbrains_alibaba_generic_survive_mutation(which in 0usize..5, edits in prop::collection::vec(edit(), 1..6)) {
        let dir = tempfile::tempdir().unwrap();
        match which {
            0 | 1 => {
                let target = ["1.csv", "2.csv"][which];
                mutate_into(&fixture("bitbrains/fastStorage"), dir.path(), target, &edits);
                for o in policies() {
                    if let Ok(r) = bitbrains::open_vms(dir.path(), &o) {
                        r.for_each(drop);
                    }
                    if let Ok(s) = bitbrains::open_samples(dir.path(), &o) {
                        drain(s);
                    }
                }
            }
            2 | 3 => {
                let target = ["container_meta.csv", "container_usage.csv"][which - 2];
                mutate_into(&fixture("alibaba"), dir.path(), target, &edits);
                for o in policies() {
                    let opts = alibaba::AlibabaOptions { read: o, presort: true, ..alibaba::AlibabaOptions::default() };
                    let meta = dir.path().join("container_meta.csv");
                    if let Ok(r) = alibaba::open_containers(&meta, &opts) {
                        r.for_each(drop);
                    }
                    if let Ok(u) = alibaba::open_usage(&meta, &dir.path().join("container_usage.csv"), &opts) {
                        drain(u);
                    }
                }
            }
            _ => {
                mutate_into(&fixture("generic"), dir.path(), "workloads.csv", &edits);
                for o in policies() {
                    let opts = generic::GenericOptions { read: o, presort: false };
                    if let Ok(r) = generic::open_workloads(&dir.path().join("workloads.csv"), &opts) {
                        r.for_each(drop);
                    }
                }
            }
        }
    }
}
