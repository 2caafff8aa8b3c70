//! Each reader on its fixture: the record values a row must become, and why.

use capsim::estate::azure::{self, AzureOptions, Version};
use capsim::estate::kubernetes::{self, PodOptions};
use capsim::estate::{
    CpuUsage, EstateError, Field, Instance, ReadOptions, UsageStream, alibaba, bitbrains, generic,
    in_sample, rvtools,
};

use super::{csv_tabs_to_xlsx, fixture};

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol
}

fn by_name<'a>(v: &'a [Instance], name: &str) -> &'a Instance {
    v.iter()
        .find(|i| i.name == name)
        .unwrap_or_else(|| panic!("no instance {name}"))
}

#[test]
fn rvtools_row_vcpus_and_memory_become_the_records_size_exactly() {
    let e = rvtools::read(
        &fixture("rvtools/RVTools_tabvInfo.csv"),
        &ReadOptions::default(),
    )
    .unwrap();
    // 6 vInfo rows, the template left out by default.
    assert_eq!(e.stats.rows, 6);
    assert_eq!(e.stats.records, 5);
    assert_eq!(e.stats.filtered, 1);
    let web = by_name(&e.instances, "web01");
    // vInfo CPUs = 2, Memory = 4096 MiB.
    assert_eq!(web.vcpus, 2.0);
    assert_eq!(web.memory_mib, 4096.0);
    // vMemory Consumed / Active win over vInfo "Active Memory".
    assert_eq!(web.consumed_mib, Some(3900.0));
    assert_eq!(web.active_mib, Some(820.0));
    assert_eq!(web.touched_mib(), Some(3900.0));
    assert_eq!(web.tenant.as_deref(), Some("prod-a"));
    assert_eq!(web.host.as_deref(), Some("esx01.corp.local"));
    // vCPU Overall 1300 MHz on a 2600 MHz/core host = half a core.
    assert_eq!(web.cpu_mean_cores, Some(0.5));
    assert!(web.powered_on && !web.template);
    assert_eq!(web.row, 2, "header is row 1");
    assert_eq!(by_name(&e.instances, "db01").cpu_mean_cores, Some(2.0));
    assert_eq!(by_name(&e.instances, "app02").cpu_mean_cores, Some(1.0));
    // A quoted name with a comma; not in vMemory, so vInfo's Active Memory is used.
    let legacy = by_name(&e.instances, "legacy, erp");
    assert_eq!(legacy.consumed_mib, None);
    assert_eq!(legacy.touched_mib(), Some(300.0));
    assert!(close(legacy.cpu_mean_cores.unwrap(), 0.1, 1e-12));
    // Powered off, on a host missing from vHost: kept, without a CPU figure.
    let build = by_name(&e.instances, "build01");
    assert!(!build.powered_on);
    assert_eq!(build.cpu_mean_cores, None);

    assert_eq!(e.hosts.len(), 3);
    let h = &e.hosts[0];
    assert_eq!(h.name, "esx01.corp.local");
    assert_eq!(
        (h.cores, h.threads),
        (Some(28), 56),
        "HT active doubles threads"
    );
    assert_eq!(e.hosts[2].threads, 64, "HT not active");
    assert_eq!(h.memory_mib, 393216.0);
    assert_eq!(h.cpu_mhz, Some(2600.0));
    assert_eq!(h.cpu_usage, Some(0.35));
    assert_eq!(h.mem_usage, Some(0.61));
    assert_eq!(h.cluster.as_deref(), Some("prod-a"));
    assert_eq!(e.tab_stats.len(), 3, "vHost, vCPU, vMemory");
}

#[test]
fn rvtools_filters_and_column_mapping() {
    let path = fixture("rvtools");
    let on = ReadOptions {
        powered_on_only: true,
        ..ReadOptions::default()
    };
    let e = rvtools::read(&path, &on).unwrap();
    let names: Vec<&str> = e.instances.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(names, ["web01", "db01", "app02", "legacy, erp"]);
    let all = ReadOptions {
        include_templates: true,
        ..ReadOptions::default()
    };
    let e = rvtools::read(&path, &all).unwrap();
    assert_eq!(e.instances.len(), 6);
    assert!(by_name(&e.instances, "tmpl-rhel9").template);

    let mapped = ReadOptions {
        columns: capsim::estate::ColumnMap::new()
            .with(Field::Tenant, "Folder")
            .with(Field::Image, "OS according to the configuration file"),
        ..ReadOptions::default()
    };
    let e = rvtools::read(&path, &mapped).unwrap();
    let web = by_name(&e.instances, "web01");
    assert_eq!(web.tenant.as_deref(), Some("Web"));
    assert_eq!(
        web.image.as_deref(),
        Some("Red Hat Enterprise Linux 9 (64-bit)")
    );
}

#[test]
fn rvtools_internal_csv_names_and_semicolons() {
    let e = rvtools::read(&fixture("rvtools-internal"), &ReadOptions::default()).unwrap();
    assert_eq!(e.instances.len(), 2);
    let db = by_name(&e.instances, "db01");
    assert_eq!((db.vcpus, db.memory_mib), (8.0, 32768.0));
    assert_eq!(db.tenant.as_deref(), Some("prod-a"));
    assert_eq!(e.hosts.len(), 1);
    assert_eq!(e.hosts[0].cores, Some(28));
    assert_eq!(e.hosts[0].cpu_mhz, Some(2600.0));
    assert_eq!(e.hosts[0].cpu_usage, Some(0.35));
}

#[test]
fn rvtools_xlsx_reads_the_same_records_as_the_csv_export() {
    let dir = tempfile::tempdir().unwrap();
    let xlsx = dir.path().join("RVTools_export.xlsx");
    let tabs: Vec<(&str, String)> = ["vInfo", "vCPU", "vMemory", "vHost"]
        .iter()
        .map(|t| {
            let p = fixture(&format!("rvtools/RVTools_tab{t}.csv"));
            (*t, std::fs::read_to_string(p).unwrap())
        })
        .collect();
    csv_tabs_to_xlsx(&tabs, &xlsx);
    let opts = ReadOptions::default();
    let from_xlsx = rvtools::read(&xlsx, &opts).unwrap();
    let from_csv = rvtools::read(&fixture("rvtools"), &opts).unwrap();
    assert_eq!(from_xlsx.instances, from_csv.instances);
    assert_eq!(from_xlsx.hosts, from_csv.hosts);
    assert!(from_xlsx.stats.file.ends_with("RVTools_export.xlsx[vInfo]"));
}

#[test]
fn kubernetes_pods_use_the_schedulers_effective_request() {
    let pods: Vec<Instance> =
        kubernetes::open_pods(&fixture("kubernetes/pods.json"), &PodOptions::default())
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
    assert_eq!(pods.len(), 3, "Pending and Succeeded pods are left out");
    let web = by_name(&pods, "shop/web-5d9c8f7b6-x2k9p");
    // App containers request 250m + 100m; the init container 2 cores runs alone first:
    // effective request max(0.35, 2) = 2. Memory max(512 + 64, 256) = 576 MiB.
    assert_eq!(web.cpu_request_cores, Some(2.0));
    assert_eq!(web.mem_request_mib, Some(576.0));
    // Limits: max(1 + 0.2, 2) = 2 cores, max(1024 + 128, 256) = 1152 MiB.
    assert_eq!(web.cpu_limit_cores, Some(2.0));
    assert_eq!(web.mem_limit_mib, Some(1152.0));
    assert_eq!((web.vcpus, web.memory_mib), (2.0, 1152.0));
    assert_eq!(web.tenant.as_deref(), Some("shop"));
    assert_eq!(web.class.as_deref(), Some("Deployment/web"));
    assert_eq!(
        web.image.as_deref(),
        Some("registry.example.com/shop/web:1.4.2")
    );
    assert_eq!(web.host.as_deref(), Some("node-a"));
    assert_eq!(web.start_s, Some(1_714_564_800.0));
    assert_eq!(web.row, 4, "the item starts on line 4");

    let db = by_name(&pods, "shop/db-0");
    assert_eq!(db.class.as_deref(), Some("StatefulSet/db"));
    assert_eq!(db.cpu_limit_cores, None, "no limit: unbounded");
    assert_eq!(
        (db.vcpus, db.memory_mib),
        (2.0, 4096.0),
        "request when no limit"
    );

    // 1.5 cores + 250m RuntimeClass overhead; 1G = 1e9 bytes + 120Mi overhead.
    let cache = by_name(&pods, "shop/cache-7c6d9bc8f4-q2w9z");
    assert_eq!(cache.cpu_request_cores, Some(1.75));
    assert!(close(
        cache.mem_request_mib.unwrap(),
        1e9 / 1048576.0 + 120.0,
        1e-9
    ));
    assert_eq!(cache.class.as_deref(), Some("Deployment/cache"));
    assert_eq!(cache.start_s, Some(1_714_559_400.0), "12:30+02:00 = 10:30Z");

    let mut opts = PodOptions::default();
    opts.phases.push("Succeeded".into());
    opts.read.columns.set(Field::Tenant, "team");
    let pods: Vec<Instance> = kubernetes::open_pods(&fixture("kubernetes/pods.json"), &opts)
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(pods.len(), 4);
    let report = by_name(&pods, "batch/report-28391234-7xk2m");
    assert_eq!(report.cpu_request_cores, Some(2.0), "2000m = 2 cores");
    assert!(close(
        report.mem_request_mib.unwrap(),
        2e9 / 1048576.0,
        1e-9
    ));
    assert_eq!(report.class.as_deref(), Some("Job/report-28391234"));
    assert!(!report.powered_on);
    assert_eq!(
        by_name(&pods, "shop/db-0").tenant.as_deref(),
        Some("payments"),
        "tenant from the mapped label"
    );
}

#[test]
fn kubernetes_nodes_become_hosts() {
    let (hosts, stats) =
        kubernetes::read_nodes(&fixture("kubernetes/nodes.json"), &ReadOptions::default()).unwrap();
    assert_eq!(stats.records, 2);
    let a = &hosts[0];
    assert_eq!(a.name, "node-a");
    assert_eq!((a.cores, a.threads), (None, 16));
    assert_eq!(a.memory_mib, 65_843_260.0 / 1024.0);
    assert_eq!(a.allocatable_cpus, Some(15.89));
    assert_eq!(a.allocatable_mib, Some(63_439_420.0 / 1024.0));
    assert_eq!(a.cpu_model.as_deref(), Some("m5.4xlarge"));
    assert_eq!(a.cluster.as_deref(), Some("ng-general"));
    assert_eq!(hosts[1].memory_mib, 32768.0);
}

fn vmtable(opts: &AzureOptions) -> Vec<Instance> {
    azure::open_vmtable(&fixture("azure/vmtable-v2.csv"), opts)
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn azure_v2_buckets_times_and_utilisation() {
    let vms = vmtable(&AzureOptions::default());
    assert_eq!(vms.len(), 5);
    let a = &vms[0];
    assert_eq!(a.name, "vmA");
    assert_eq!((a.vcpus, a.memory_mib), (2.0, 4096.0));
    assert_eq!((a.start_s, a.end_s), (Some(0.0), Some(86400.0)));
    assert_eq!(a.tenant.as_deref(), Some("sub1"));
    assert_eq!(a.class.as_deref(), Some("Interactive"));
    // avgcpu 10.2 % of 2 cores; maxcpu 95.5 %.
    assert!(close(a.cpu_mean_cores.unwrap(), 0.204, 1e-12));
    assert!(close(a.cpu_max_cores.unwrap(), 1.91, 1e-12));
    let c = by_name(&vms, "vmC");
    assert_eq!(
        (c.vcpus, c.memory_mib),
        (30.0, 70.0 * 1024.0),
        "open buckets >24 / >64"
    );
    assert_eq!(by_name(&vms, "vmE").vcpus, 12.0);
    assert_eq!(a.row, 1, "no header: the first line is row 1");

    let v1: Vec<Instance> = azure::open_vmtable(
        &fixture("azure/vmtable-v1.csv"),
        &AzureOptions {
            version: Version::V1,
            ..AzureOptions::default()
        },
    )
    .unwrap()
    .collect::<Result<_, _>>()
    .unwrap();
    assert_eq!((v1[0].vcpus, v1[0].memory_mib), (1.0, 1.75 * 1024.0));
}

#[test]
fn azure_slice_keeps_vms_alive_in_the_window() {
    let opts = AzureOptions {
        start_s: Some(2000.0),
        end_s: Some(7000.0),
        ..AzureOptions::default()
    };
    let names: Vec<String> = vmtable(&opts).into_iter().map(|i| i.name).collect();
    // vmD ended at 1800 (before the window), vmE was created at 7200 (after it).
    assert_eq!(names, ["vmA", "vmB", "vmC"]);
}

#[test]
fn azure_sampling_is_deterministic_and_consistent_across_files() {
    let opts = AzureOptions {
        sample: Some(0.5),
        ..AzureOptions::default()
    };
    let first: Vec<String> = vmtable(&opts).into_iter().map(|i| i.name).collect();
    let again: Vec<String> = vmtable(&opts).into_iter().map(|i| i.name).collect();
    assert_eq!(first, again);
    let want: Vec<&str> = ["vmA", "vmB", "vmC", "vmD", "vmE"]
        .into_iter()
        .filter(|id| in_sample(id.as_bytes(), 0.5))
        .collect();
    assert_eq!(first, want);
    let mut r =
        azure::open_readings(&[fixture("azure/vm_cpu_readings-file-1-of-1.csv")], &opts).unwrap();
    while let Some(p) = r.next_point().unwrap() {
        assert!(want.contains(&p.vm), "reading of unsampled {}", p.vm);
    }
}

#[test]
fn azure_readings_stream_percent_of_the_vms_cores() {
    let mut r = azure::open_readings(
        &[fixture("azure/vm_cpu_readings-file-1-of-1.csv")],
        &AzureOptions::default(),
    )
    .unwrap();
    let mut got = Vec::new();
    while let Some(p) = r.next_point().unwrap() {
        got.push((p.time_s, p.vm.to_string(), p.cpu));
    }
    assert_eq!(got.len(), 7);
    assert_eq!(got[0], (0.0, "vmA".into(), CpuUsage::PercentOfVcpus(10.0)));
    assert_eq!(got[6], (900.0, "vmD".into(), CpuUsage::PercentOfVcpus(5.0)));
    // 50 % of vmC's 30 cores.
    assert_eq!(got[5].2.cores(30.0), 15.0);
}

#[test]
fn unsorted_vmtable_is_refused_then_presorted() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("vmtable.csv");
    std::fs::write(
        &p,
        "late,s,d,900,1800,1,1,1,Unknown,2,4\nearly,s,d,0,600,1,1,1,Unknown,2,4\n",
    )
    .unwrap();
    let r: Result<Vec<Instance>, EstateError> = azure::open_vmtable(&p, &AzureOptions::default())
        .unwrap()
        .collect();
    match r {
        Err(EstateError::Unsorted { row, time_s, .. }) => assert_eq!((row, time_s), (2, 0.0)),
        other => panic!("expected Unsorted, got {other:?}"),
    }
    let opts = AzureOptions {
        presort: true,
        ..AzureOptions::default()
    };
    let vms: Vec<Instance> = azure::open_vmtable(&p, &opts)
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let got: Vec<(&str, u64)> = vms.iter().map(|i| (i.name.as_str(), i.row)).collect();
    assert_eq!(
        got,
        [("early", 2), ("late", 1)],
        "original rows survive the sort"
    );
}

#[test]
fn bitbrains_vm_means_are_time_weighted() {
    let vms: Vec<Instance> =
        bitbrains::open_vms(&fixture("bitbrains/fastStorage"), &ReadOptions::default())
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
    assert_eq!(vms.len(), 2);
    let v = &vms[0];
    assert_eq!(v.name, "1");
    assert_eq!((v.vcpus, v.memory_mib), (4.0, 16384.0));
    // Samples 300 s apart, the last held one more period: 1376314846 → 1376315746.
    assert_eq!(
        (v.start_s, v.end_s),
        (Some(1_376_314_846.0), Some(1_376_315_746.0))
    );
    // Usage MHz / (capacity / cores) ≈ 1, 2, 0.5 cores, 300 s each.
    let mhz = 11703.99 / 4.0;
    let want = (2925.99 + 5851.99 + 1462.99) / mhz / 3.0;
    assert!(
        close(v.cpu_mean_cores.unwrap(), want, 1e-12),
        "{:?}",
        v.cpu_mean_cores
    );
    assert!(close(v.cpu_mean_cores.unwrap(), 1.1667, 1e-3));
    // Memory used 4, 6, 4 GiB.
    assert!(close(
        v.consumed_mib.unwrap(),
        (4096.0 + 6144.0 + 4096.0) / 3.0,
        1e-9
    ));
}

#[test]
fn bitbrains_samples_merge_files_in_time_order() {
    let mut s = bitbrains::open_samples(&fixture("bitbrains/fastStorage"), &ReadOptions::default())
        .unwrap();
    let mut got = Vec::new();
    while let Some(p) = s.next_point().unwrap() {
        got.push((p.time_s, p.vm.to_string()));
        if got.len() == 1 {
            // 585.2 MHz of a 2 × 2926 MHz VM = 0.2 cores; 1 GiB used.
            match p.cpu {
                CpuUsage::Cores(c) => assert!(close(c, 0.2, 1e-6), "{c}"),
                other => panic!("{other:?}"),
            }
            assert_eq!(p.mem_mib, Some(1024.0));
        }
    }
    let want = [
        (1_376_314_800.0, "2"),
        (1_376_314_846.0, "1"),
        (1_376_315_100.0, "2"),
        (1_376_315_146.0, "1"),
        (1_376_315_446.0, "1"),
    ];
    let got: Vec<(f64, &str)> = got.iter().map(|(t, v)| (*t, v.as_str())).collect();
    assert_eq!(got, want);
}

#[test]
fn alibaba_containers_and_usage_in_cores() {
    let opts = alibaba::AlibabaOptions::default();
    let cs: Vec<Instance> = alibaba::open_containers(&fixture("alibaba/container_meta.csv"), &opts)
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let names: Vec<&str> = cs.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["c_1", "c_2", "c_3"], "start order");
    let c1 = &cs[0];
    // cpu_limit 800 = 8 cores, cpu_request 400 = 4 cores; events at 0 and 3600 s.
    assert_eq!((c1.vcpus, c1.cpu_request_cores), (8.0, Some(4.0)));
    assert_eq!((c1.start_s, c1.end_s), (Some(0.0), Some(3600.0)));
    assert!(close(c1.memory_mib, 3.13 * 2621.44, 1e-9));
    assert_eq!(c1.class.as_deref(), Some("app_A"));
    assert_eq!(c1.host.as_deref(), Some("m_1"));
    assert_eq!(cs[1].end_s, None, "one event: still running");

    let mut u = alibaba::open_usage(
        &fixture("alibaba/container_meta.csv"),
        &fixture("alibaba/container_usage.csv"),
        &opts,
    )
    .unwrap();
    u.next_point().unwrap();
    match u.next_point() {
        Err(EstateError::Unsorted { row, .. }) => assert_eq!(row, 2),
        other => panic!("expected Unsorted, got {other:?}"),
    }

    let sorted = alibaba::AlibabaOptions {
        presort: true,
        ..opts
    };
    let mut u = alibaba::open_usage(
        &fixture("alibaba/container_meta.csv"),
        &fixture("alibaba/container_usage.csv"),
        &sorted,
    )
    .unwrap();
    let mut got = Vec::new();
    while let Some(p) = u.next_point().unwrap() {
        got.push((p.time_s, p.vm.to_string(), p.cpu, p.mem_mib));
    }
    // c_9 has no meta record: left out. 25 % of 4 requested cores = 1 core.
    assert_eq!(got.len(), 3);
    assert_eq!(got[0].0, 0.0);
    assert_eq!(got[0].2, CpuUsage::Cores(1.0));
    assert!(close(got[0].3.unwrap(), 0.30 * 3.13 * 2621.44, 1e-9));
    assert_eq!((got[1].1.as_str(), got[1].2), ("c_2", CpuUsage::Cores(2.0)));
    assert_eq!((got[2].0, got[2].2), (600.0, CpuUsage::Cores(2.0)));
    assert_eq!(u.stats().filtered, 1);
}

#[test]
fn generic_workloads_and_usage() {
    let ws: Vec<Instance> = generic::open_workloads(
        &fixture("generic/workloads.csv"),
        &generic::GenericOptions::default(),
    )
    .unwrap()
    .collect::<Result<_, _>>()
    .unwrap();
    assert_eq!(ws.len(), 3);
    let b = by_name(&ws, "batch-1");
    assert_eq!((b.vcpus, b.memory_mib), (0.5, 1024.0));
    assert_eq!(b.tenant.as_deref(), Some("analytics"));
    assert_eq!(b.image.as_deref(), Some("spark:3.5"));
    assert_eq!(
        (b.start_s, b.end_s, b.cpu_mean_cores),
        (Some(120.0), Some(1800.0), Some(0.45))
    );
    assert_eq!(by_name(&ws, "api-2").end_s, None);

    let mut u = generic::open_usage(
        &fixture("generic/usage.csv"),
        &generic::GenericOptions::default(),
    )
    .unwrap();
    let mut got = Vec::new();
    while let Some(p) = u.next_point().unwrap() {
        got.push((p.time_s, p.vm.to_string(), p.cpu, p.mem_mib));
    }
    assert_eq!(got.len(), 4);
    assert_eq!(got[1], (60.0, "api-2".into(), CpuUsage::Cores(0.2), None));
    assert_eq!(
        got[2],
        (300.0, "api-1".into(), CpuUsage::Cores(1.1), Some(2100.0))
    );
}

#[test]
fn gzip_input_is_read_transparently() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("vmtable.csv.gz");
    let raw = std::fs::read(fixture("azure/vmtable-v2.csv")).unwrap();
    let mut gz = flate2::write::GzEncoder::new(
        std::fs::File::create(&p).unwrap(),
        flate2::Compression::default(),
    );
    gz.write_all(&raw).unwrap();
    gz.finish().unwrap();
    let from_gz: Vec<Instance> = azure::open_vmtable(&p, &AzureOptions::default())
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(from_gz, vmtable(&AzureOptions::default()));
}

#[test]
fn one_entry_point_opens_every_format() {
    use capsim::estate::{Format, Spec, open, open_usage};
    let count = |spec: &Spec| -> (usize, usize, usize) {
        let e = open(spec).unwrap();
        let hosts = e.hosts.len();
        let n = e.instances.count();
        let mut u = 0;
        if let Some(mut s) = open_usage(spec).unwrap() {
            while s.next_point().unwrap().is_some() {
                u += 1;
            }
        }
        (n, hosts, u)
    };
    assert_eq!(
        count(&Spec::new(Format::Rvtools, fixture("rvtools"))),
        (5, 3, 0)
    );
    let mut k = Spec::new(Format::Kubernetes, fixture("kubernetes/pods.json"));
    k.nodes = Some(fixture("kubernetes/nodes.json"));
    assert_eq!(count(&k), (3, 2, 0));
    let mut a = Spec::new(Format::AzureV2, fixture("azure/vmtable-v2.csv"));
    a.usage = vec![fixture("azure/vm_cpu_readings-file-1-of-1.csv")];
    assert_eq!(count(&a), (5, 0, 7));
    let mut a1 = Spec::new(Format::AzureV1, fixture("azure/vmtable-v1.csv"));
    a1.presort = true;
    assert_eq!(count(&a1), (2, 0, 0));
    assert_eq!(
        count(&Spec::new(
            Format::Bitbrains,
            fixture("bitbrains/fastStorage")
        )),
        (2, 0, 5)
    );
    let mut al = Spec::new(Format::Alibaba, fixture("alibaba/container_meta.csv"));
    al.usage = vec![fixture("alibaba/container_usage.csv")];
    al.presort = true;
    assert_eq!(count(&al), (3, 0, 3));
    let mut g = Spec::new(Format::Generic, fixture("generic/workloads.csv"));
    g.usage = vec![fixture("generic/usage.csv")];
    assert_eq!(count(&g), (3, 0, 4));

    // The slice applies to formats whose reader has none of its own: generic workloads
    // alive in [100, 200) are api-1 (0–3600), api-2 (60–) and batch-1 (120–1800); samples
    // at 100 ≤ t < 200: none.
    g.start_s = Some(100.0);
    g.end_s = Some(200.0);
    assert_eq!(count(&g), (3, 0, 0));
    g.start_s = Some(2000.0);
    g.end_s = None;
    let mut e = open(&g).unwrap();
    let names: Vec<String> = e.instances.by_ref().map(|i| i.unwrap().name).collect();
    assert_eq!(names, ["api-1", "api-2"], "batch-1 ended at 1800");
    let st = e.instances.stats();
    assert_eq!((st.rows, st.records, st.filtered), (3, 2, 1));

    // The sample keeps the same names as the hash says, in any format.
    let mut r = Spec::new(Format::Rvtools, fixture("rvtools"));
    r.sample = Some(0.5);
    let kept: Vec<String> = open(&r)
        .unwrap()
        .instances
        .map(|i| i.unwrap().name)
        .collect();
    let all: Vec<String> = open(&Spec::new(Format::Rvtools, fixture("rvtools")))
        .unwrap()
        .instances
        .map(|i| i.unwrap().name)
        .collect();
    let want: Vec<String> = all
        .into_iter()
        .filter(|n| in_sample(n.as_bytes(), 0.5))
        .collect();
    assert_eq!(kept, want);
}

#[test]
fn options_a_format_cannot_use_are_refused() {
    use capsim::estate::{Format, Spec, open};
    let mut r = Spec::new(Format::Rvtools, fixture("rvtools"));
    r.nodes = Some(fixture("kubernetes/nodes.json"));
    let e = open(&r).err().unwrap().to_string();
    assert_eq!(e, "`nodes` does not apply to format `rvtools`");
    let mut r = Spec::new(Format::Rvtools, fixture("rvtools"));
    r.usage = vec![fixture("generic/usage.csv")];
    assert!(open(&r).is_err());
    let mut g = Spec::new(Format::Generic, fixture("generic/workloads.csv"));
    g.sample = Some(0.0);
    assert!(
        open(&g)
            .err()
            .unwrap()
            .to_string()
            .contains("expected a fraction in (0, 1]")
    );
}
