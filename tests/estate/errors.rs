//! Bad rows name file, row and column, and `on_bad_row` decides between skip and stop.

use std::path::{Path, PathBuf};

use capsim::estate::azure::{self, AzureOptions};
use capsim::estate::kubernetes::{self, PodOptions};
use capsim::estate::{
    ColumnMap, EstateError, Field, Instance, OnBadRow, ReadOptions, generic, rvtools,
};

use super::fixture;

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn workloads(path: &Path, policy: OnBadRow) -> (Result<Vec<Instance>, EstateError>, u64) {
    let opts = generic::GenericOptions {
        read: ReadOptions {
            on_bad_row: policy,
            ..ReadOptions::default()
        },
        presort: false,
    };
    let mut r = generic::open_workloads(path, &opts).unwrap();
    let out: Result<Vec<Instance>, EstateError> = r.by_ref().collect();
    use capsim::estate::InstanceStream;
    (out, r.stats().skipped)
}

#[test]
fn a_bad_value_names_file_row_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "w.csv",
        "name,vcpus,memory_mib\na,2,1024\nb,two,1024\nc,1,\nd,1,512\n",
    );
    let (r, _) = workloads(&p, OnBadRow::Error);
    let e = r.unwrap_err().to_string();
    assert_eq!(
        e,
        format!(
            "{}:3:vcpus: expected a number ≥ 0, found `two`",
            p.display()
        )
    );
    let (r, skipped) = workloads(&p, OnBadRow::Skip);
    let names: Vec<String> = r.unwrap().into_iter().map(|i| i.name).collect();
    assert_eq!(names, ["a", "d"]);
    assert_eq!(skipped, 2, "row 3 (vcpus) and row 4 (empty memory)");
}

#[test]
fn skipped_rows_keep_their_errors_for_the_report() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "w.csv",
        "name,vcpus,memory_mib\na,0,1024\nb,1,-5\n",
    );
    let opts = generic::GenericOptions {
        read: ReadOptions {
            on_bad_row: OnBadRow::Skip,
            ..ReadOptions::default()
        },
        presort: false,
    };
    let mut r = generic::open_workloads(&p, &opts).unwrap();
    assert!(r.next().is_none());
    use capsim::estate::InstanceStream;
    let st = r.stats();
    assert_eq!((st.rows, st.records, st.skipped), (2, 0, 2));
    let cols: Vec<(u64, &str)> = st
        .first_errors
        .iter()
        .map(|e| (e.row, e.column.as_str()))
        .collect();
    assert_eq!(cols, [(2, "vcpus"), (3, "memory_mib")]);
    assert!(
        st.first_errors[0].message.contains("> 0"),
        "{}",
        st.first_errors[0].message
    );
}

#[test]
fn rvtools_bad_row_in_vinfo() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(fixture("rvtools/RVTools_tabvInfo.csv"))
        .unwrap()
        .replace(
            "db01,poweredOn,False,False,8,",
            "db01,poweredOn,False,False,eight,",
        );
    let p = write(dir.path(), "RVTools_tabvInfo.csv", &text);
    let e = rvtools::read(&p, &ReadOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        e.ends_with("RVTools_tabvInfo.csv:3:CPUs: expected a number ≥ 0, found `eight`"),
        "{e}"
    );
    let skip = ReadOptions {
        on_bad_row: OnBadRow::Skip,
        ..ReadOptions::default()
    };
    let est = rvtools::read(&p, &skip).unwrap();
    assert_eq!(est.stats.skipped, 1);
    assert_eq!(est.instances.len(), 4);
    let e = rvtools::read(
        &write(
            dir.path(),
            "x.csv",
            "VM,Powerstate,CPUs,Memory\nweb,poweredMaybe,1,1\n",
        ),
        &ReadOptions::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("x.csv:2:Powerstate: expected true/false"), "{e}");
}

#[test]
fn missing_and_misspelt_columns_suggest_the_nearest_header() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "w.csv", "name,vcpu,memory_mib\na,1,1\n");
    let e = generic::open_workloads(&p, &generic::GenericOptions::default())
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("no column `vcpus`"), "{e}");
    assert!(e.contains("did you mean `vcpu`?"), "{e}");
    let opts = ReadOptions {
        columns: ColumnMap::new().with(Field::Tenant, "Clustr"),
        ..ReadOptions::default()
    };
    let e = rvtools::read(&fixture("rvtools"), &opts)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("no column `Clustr` (needed for tenant); did you mean `Cluster`?"),
        "{e}"
    );
}

#[test]
fn azure_bad_bucket_and_impossible_times() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "vmtable.csv",
        "a,s,d,0,600,1,1,1,Unknown,>8x,4\nb,s,d,700,600,1,1,1,Unknown,2,4\nc,s,d,800,900,101,1,1,Unknown,2,4\n",
    );
    let skip = AzureOptions {
        read: ReadOptions {
            on_bad_row: OnBadRow::Skip,
            ..ReadOptions::default()
        },
        ..AzureOptions::default()
    };
    let mut r = azure::open_vmtable(&p, &skip).unwrap();
    assert!(r.next().is_none());
    use capsim::estate::InstanceStream;
    let errs: Vec<String> = r
        .stats()
        .first_errors
        .iter()
        .map(|e| e.to_string())
        .collect();
    let f = p.display();
    assert_eq!(
        errs,
        [
            format!(
                "{f}:1:vmcorecountbucket: expected a core count or bucket (2, 4, 8, 12, 24, >24), found `>8x`"
            ),
            format!("{f}:2:vmdeleted: VM deleted at 600 s, before it was created at 700 s"),
            format!("{f}:3:maxcpu: expected a percentage 0–100, found `101`"),
        ]
    );
    let e = azure::open_vmtable(
        &p,
        &AzureOptions {
            sample: Some(1.5),
            ..AzureOptions::default()
        },
    )
    .err()
    .unwrap();
    assert!(matches!(e, EstateError::Option(_)), "{e}");
}

#[test]
fn kubernetes_bad_quantity_names_the_item_line_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "pods.json",
        r#"{"kind": "List",
"items": [
  {"metadata": {"name": "a", "namespace": "n"},
   "spec": {"containers": [{"resources": {"requests": {"cpu": "lots"}}}]},
   "status": {"phase": "Running"}}
]}"#,
    );
    let e = kubernetes::open_pods(&p, &PodOptions::default())
        .unwrap()
        .next()
        .unwrap()
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        format!(
            "{}:3:spec.containers[0].resources.requests.cpu: expected a Kubernetes quantity \
             (e.g. 250m, 1.5, 512Mi, 1G), found `lots`",
            p.display()
        )
    );
    let not_list = write(dir.path(), "pod.json", r#"{"kind": "Pod", "metadata": {}}"#);
    let e = kubernetes::open_pods(&not_list, &PodOptions::default())
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("no `items` array"), "{e}");
}

#[test]
fn not_a_workbook_and_missing_files() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "broken.xlsx",
        "PK\u{3}\u{4}this is not a zip archive",
    );
    let e = rvtools::read(&p, &ReadOptions::default()).unwrap_err();
    assert!(matches!(e, EstateError::Format { .. }), "{e}");
    assert!(
        e.to_string().contains("not a readable .xlsx workbook"),
        "{e}"
    );
    let e = rvtools::read(&dir.path().join("nope.csv"), &ReadOptions::default()).unwrap_err();
    assert!(matches!(e, EstateError::Io { .. }), "{e}");
    assert_eq!(
        e.exit_code(),
        2,
        "a missing input file is the user's to fix"
    );
}
