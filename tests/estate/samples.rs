//! Generator of the shipped synthetic estates under `scenarios/estates/`, and the tests that
//! keep them reproducible and readable.
//!
//! `CAPSIM_WRITE_ESTATE_SAMPLES=1 cargo test --test estate samples` rewrites the files;
//! without it, the test regenerates them in a temporary directory and requires the shipped
//! CSVs to be byte-identical (the `.xlsx` must read to the same records as the CSVs).
//!
//! Both samples are **synthetic**: drawn from a seeded generator, no real estate or trace.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use capsim::estate::azure::{self, AzureOptions};
use capsim::estate::{Instance, ReadOptions, UsageStream, rvtools};
use rand::{Rng, RngExt, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

use super::csv_tabs_to_xlsx;

fn samples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/estates")
}

/// A draw from `items` with the given weights.
fn pick<'a, T>(rng: &mut impl Rng, items: &'a [(T, f64)]) -> &'a T {
    let total: f64 = items.iter().map(|(_, w)| w).sum();
    let mut u = rng.random::<f64>() * total;
    for (it, w) in items {
        if u < *w {
            return it;
        }
        u -= w;
    }
    &items[items.len() - 1].0
}

struct HostGen {
    name: String,
    cluster: &'static str,
    model: &'static str,
    mhz: f64,
    sockets: u32,
    cores: u32,
    memory_mib: f64,
    vms: u32,
    on: u32,
    used_mhz: f64,
    used_mib: f64,
}

/// The synthetic RVTools export: tab name → CSV text.
pub fn rvtools_sample() -> Vec<(&'static str, String)> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(0x5256_546f_6f6c_7331);
    // Two hardware generations: 12 hosts of 2019 (2 × 20 cores, 384 GiB) and 8 of 2024
    // (2 × 32 cores, 1 TiB). Clusters: the 2019 hosts run prod-web, dev-test and vdi, the
    // 2024 hosts prod-db and prod-app.
    let gens = [
        (
            "Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz",
            2500.0,
            20,
            393_216.0,
        ),
        (
            "Intel(R) Xeon(R) Gold 6448Y CPU @ 2.10GHz",
            2100.0,
            32,
            1_048_576.0,
        ),
    ];
    let layout: [(&str, usize, usize); 5] = [
        ("prod-web", 0, 5),
        ("dev-test", 0, 4),
        ("vdi", 0, 3),
        ("prod-db", 1, 4),
        ("prod-app", 1, 4),
    ];
    let mut hosts: Vec<HostGen> = Vec::new();
    for (cluster, g, n) in layout {
        for _ in 0..n {
            let (model, mhz, cores, mem) = gens[g];
            hosts.push(HostGen {
                name: format!("esx{:02}.dc1.example.com", hosts.len() + 1),
                cluster,
                model,
                mhz,
                sockets: 2,
                cores: 2 * cores,
                memory_mib: mem,
                vms: 0,
                on: 0,
                used_mhz: 0.0,
                used_mib: 0.0,
            });
        }
    }
    let os = [
        ("Red Hat Enterprise Linux 9 (64-bit)", 0.30),
        ("Red Hat Enterprise Linux 8 (64-bit)", 0.15),
        ("Microsoft Windows Server 2019 (64-bit)", 0.20),
        ("Microsoft Windows Server 2022 (64-bit)", 0.15),
        ("Ubuntu Linux (64-bit)", 0.12),
        ("SUSE Linux Enterprise 15 (64-bit)", 0.08),
    ];
    // Cluster shares and size mixes (vCPUs, weight); memory = vCPUs × GiB per vCPU.
    // (cluster, share of VMs, vCPU mix, GiB-per-vCPU mix); mixes are (value, weight).
    type Mix = &'static [(u32, f64)];
    let clusters: [(&str, f64, Mix, Mix); 5] = [
        (
            "prod-web",
            0.30,
            &[(1, 0.15), (2, 0.50), (4, 0.30), (8, 0.05)],
            &[(2, 0.5), (4, 0.5)],
        ),
        (
            "prod-app",
            0.25,
            &[(2, 0.30), (4, 0.40), (8, 0.25), (16, 0.05)],
            &[(4, 0.6), (8, 0.4)],
        ),
        (
            "prod-db",
            0.10,
            &[(4, 0.20), (8, 0.40), (16, 0.30), (32, 0.10)],
            &[(4, 0.6), (8, 0.4)],
        ),
        (
            "dev-test",
            0.20,
            &[(1, 0.20), (2, 0.50), (4, 0.25), (8, 0.05)],
            &[(2, 0.6), (4, 0.4)],
        ),
        ("vdi", 0.15, &[(2, 0.70), (4, 0.30)], &[(2, 0.4), (4, 0.6)]),
    ];
    let cluster_w: Vec<(usize, f64)> = clusters.iter().enumerate().map(|(i, c)| (i, c.1)).collect();
    let info_h = "VM,Powerstate,Template,SRM Placeholder,Config status,DNS Name,Connection state,\
                  Guest state,CPUs,Memory,Active Memory,NICs,Disks,Resource pool,Folder,\
                  Datacenter,Cluster,Host,OS according to the configuration file,VM ID,VI SDK Server\n";
    let cpu_h = "VM,Powerstate,Template,SRM Placeholder,CPUs,Sockets,Cores p/s,Max,Overall,Level,\
                 Shares,Reservation,Entitlement,DRS Entitlement,Limit,Datacenter,Cluster,Host\n";
    let mem_h = "VM,Powerstate,Template,SRM Placeholder,Size MiB,Memory Reservation Locked To Max,\
                 Overhead,Max,Consumed,Consumed Overhead,Private,Shared,Swapped,Ballooned,Active,\
                 Entitlement,DRS Entitlement,Level,Shares,Reservation,Limit,Datacenter,Cluster,Host\n";
    let (mut info, mut cpu, mut mem) = (info_h.to_string(), cpu_h.to_string(), mem_h.to_string());
    let n_vms = 300;
    let n_templates = 5;
    for i in 0..n_vms {
        let template = i >= n_vms - n_templates;
        let ci = if template {
            3
        } else {
            *pick(&mut rng, &cluster_w)
        };
        let (cluster, _, sizes, gib_per) = clusters[ci];
        let vcpus = *pick(
            &mut rng,
            &sizes.iter().map(|&(v, w)| (v, w)).collect::<Vec<_>>(),
        );
        let gpv = *pick(
            &mut rng,
            &gib_per.iter().map(|&(v, w)| (v, w)).collect::<Vec<_>>(),
        );
        let memory = f64::from(vcpus * gpv * 1024).max(2048.0);
        let os_name = *pick(&mut rng, &os);
        let powered_on = !template && rng.random::<f64>() >= 0.08;
        let candidates: Vec<usize> = (0..hosts.len())
            .filter(|&h| hosts[h].cluster == cluster)
            .collect();
        let hi = candidates[rng.random_range(0..candidates.len())];
        let h = &mut hosts[hi];
        let name = if template {
            format!(
                "tmpl-{}-{:02}",
                os_name.split(' ').next().unwrap().to_lowercase(),
                i - (n_vms - n_templates) + 1
            )
        } else {
            format!("{}-{:03}", cluster.replace("prod-", ""), i + 1)
        };
        // Utilisation: lognormal around 12 % of the VM's vCPUs (most VMs idle, a tail busy),
        // capped at 95 %; consumed memory 55–100 % of configured, active 10–40 % of consumed.
        let z: f64 = {
            let (u1, u2): (f64, f64) = (rng.random::<f64>().max(1e-12), rng.random());
            (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
        };
        let util = (0.12f64.ln() + 0.8 * z).exp().min(0.95);
        let (overall, consumed, active) = if powered_on {
            let overall = (f64::from(vcpus) * h.mhz * util).round();
            let consumed = (memory * rng.random_range(0.55..1.0)).round();
            let active = (consumed * rng.random_range(0.10..0.40)).round();
            (overall, consumed, active)
        } else {
            (0.0, 0.0, 0.0)
        };
        let overhead = (30.0 + memory / 512.0).round();
        h.vms += 1;
        if powered_on {
            h.on += 1;
            h.used_mhz += overall;
            h.used_mib += consumed + overhead;
        }
        let power = if powered_on {
            "poweredOn"
        } else {
            "poweredOff"
        };
        let tmpl = if template { "True" } else { "False" };
        let folder = if template { "Templates" } else { cluster };
        let _ = writeln!(
            info,
            "{name},{power},{tmpl},False,green,{dns},connected,{gs},{vcpus},{memory},{active},1,{disks},\
             Resources/{cluster},{folder},DC1,{cluster},{host},{os_name},vm-{id},vc01.dc1.example.com",
            dns = if powered_on {
                format!("{name}.dc1.example.com")
            } else {
                String::new()
            },
            gs = if powered_on { "running" } else { "notRunning" },
            disks = 1 + (i % 3),
            host = h.name,
            id = 1000 + i,
        );
        let cores_ps = if vcpus >= 8 { vcpus / 2 } else { vcpus };
        let _ = writeln!(
            cpu,
            "{name},{power},{tmpl},False,{vcpus},{sockets},{cores_ps},{max},{overall},normal,{shares},0,\
             {overall},{overall},-1,DC1,{cluster},{host}",
            sockets = vcpus / cores_ps,
            max = f64::from(vcpus) * h.mhz,
            shares = vcpus * 1000,
            host = h.name,
        );
        let _ = writeln!(
            mem,
            "{name},{power},{tmpl},False,{memory},False,{ovh},{memory},{consumed},{ovh},{private},\
             {shared},0,0,{active},{ent},{ent},normal,{shares},0,-1,DC1,{cluster},{host}",
            ovh = if powered_on { overhead } else { 0.0 },
            private = (consumed * 0.9).round(),
            shared = consumed - (consumed * 0.9).round(),
            ent = if powered_on { consumed + overhead } else { 0.0 },
            shares = memory * 10.0,
            host = h.name,
        );
    }
    // Observed host usage: the VMs' demand plus the hypervisor's own (assumed 2 % CPU,
    // 4 GiB + 1 % of memory), as vCenter would report it.
    let mut host = "Host,Datacenter,Cluster,Config status,in Maintenance Mode,CPU Model,Speed,\
                    HT Available,HT Active,# CPU,Cores per CPU,# Cores,CPU usage %,# Memory,\
                    Memory usage %,# NICs,# HBAs,# VMs total,# VMs,VMs per Core,# vCPUs,\
                    vCPUs per Core,vRAM,ESX Version,Vendor,Model\n"
        .to_string();
    for h in &hosts {
        let cap = f64::from(h.cores) * h.mhz;
        let cpu_pct = ((h.used_mhz / cap + 0.02) * 100.0).min(100.0).round();
        let mem_pct = (((h.used_mib + 4096.0 + 0.01 * h.memory_mib) / h.memory_mib) * 100.0)
            .min(100.0)
            .round();
        let (esx, vendor, model) = if h.mhz == 2500.0 {
            (
                "VMware ESXi 7.0.3 build-21930508",
                "Dell Inc.",
                "PowerEdge R640",
            )
        } else {
            (
                "VMware ESXi 8.0.2 build-22380479",
                "Dell Inc.",
                "PowerEdge R760",
            )
        };
        let _ = writeln!(
            host,
            "{},DC1,{},green,False,{},{},True,True,{},{},{},{cpu_pct},{},{mem_pct},4,2,{},{},{:.2},,,,{esx},{vendor},{model}",
            h.name,
            h.cluster,
            h.model,
            h.mhz,
            h.sockets,
            h.cores / h.sockets,
            h.cores,
            h.memory_mib,
            h.vms,
            h.on,
            f64::from(h.vms) / f64::from(h.cores),
        );
    }
    vec![
        ("vInfo", info),
        ("vCPU", cpu),
        ("vMemory", mem),
        ("vHost", host),
    ]
}

/// The synthetic Azure V2-format trace: (vmtable.csv, vm_cpu_readings.csv).
pub fn azure_sample() -> (String, String) {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(0x417a_7572_6556_3201);
    let day = 86_400.0;
    let step = 300.0;
    let sizes: [((&str, &str), f64); 8] = [
        (("2", "4"), 0.25),
        (("2", "8"), 0.15),
        (("4", "8"), 0.15),
        (("4", "32"), 0.15),
        (("8", "32"), 0.15),
        (("12", "64"), 0.05),
        (("24", "64"), 0.05),
        ((">24", ">64"), 0.05),
    ];
    let cats = [
        ("Interactive", 0.45),
        ("Delay-insensitive", 0.25),
        ("Unknown", 0.30),
    ];
    struct Vm {
        id: String,
        sub: usize,
        dep: usize,
        start: f64,
        end: f64,
        cat: &'static str,
        cores: &'static str,
        mem: &'static str,
        base: f64,
        amp: f64,
    }
    let mut vms = Vec::new();
    for i in 0..120 {
        let long = i < 50;
        let start = if long {
            0.0
        } else {
            // Arrivals follow the working day: more between 8:00 and 18:00.
            loop {
                let t = (rng.random::<f64>() * day / step).floor() * step;
                let h = t / 3600.0;
                let w = if (8.0..18.0).contains(&h) { 1.0 } else { 0.3 };
                if rng.random::<f64>() < w {
                    break t;
                }
            }
        };
        let end = if long {
            day
        } else {
            let life = (-(rng.random::<f64>().max(1e-9)).ln() * 4.0 * 3600.0 / step).ceil() * step;
            (start + life.max(step)).min(day)
        };
        let ((cores, mem), cat) = (*pick(&mut rng, &sizes), *pick(&mut rng, &cats));
        let mut id = String::from("syn");
        for _ in 0..16 {
            let _ = write!(id, "{:x}", rng.random_range(0..16u8));
        }
        let interactive = cat == "Interactive";
        vms.push(Vm {
            id,
            sub: rng.random_range(0..12),
            dep: rng.random_range(0..30),
            start,
            end,
            cat,
            cores,
            mem,
            base: rng.random_range(5.0..30.0),
            // Interactive VMs follow the day strongly, others weakly.
            amp: if interactive {
                rng.random_range(0.5..0.9)
            } else {
                rng.random_range(0.0..0.3)
            },
        });
    }
    vms.sort_by(|a, b| a.start.total_cmp(&b.start).then(a.id.cmp(&b.id)));
    // Readings: avg = base × (1 + amp·cos(2π(t − 14 h)/day)) — the peak at 14:00 — with
    // ±10 % noise; min/max around it.
    let mut readings: Vec<(f64, usize, f64, f64, f64)> = Vec::new();
    let mut stats = vec![(0.0f64, 0.0f64, 0usize, Vec::<f64>::new()); vms.len()];
    let mut t = 0.0;
    while t < day {
        for (k, v) in vms.iter().enumerate() {
            if v.start <= t && t < v.end {
                let phase = std::f64::consts::TAU * (t - 14.0 * 3600.0) / day;
                let noise = rng.random_range(0.9..1.1);
                let avg = (v.base * (1.0 + v.amp * phase.cos()) * noise).clamp(0.0, 100.0);
                let min = avg * rng.random_range(0.3..0.9);
                let max = (avg * rng.random_range(1.1..2.5)).min(100.0);
                readings.push((t, k, min, max, avg));
                let s = &mut stats[k];
                s.0 = s.0.max(max);
                s.1 += avg;
                s.2 += 1;
                s.3.push(max);
            }
        }
        t += step;
    }
    let mut table = String::new();
    for (k, v) in vms.iter().enumerate() {
        let s = &mut stats[k];
        s.3.sort_by(f64::total_cmp);
        let p95 = if s.3.is_empty() {
            0.0
        } else {
            s.3[((s.3.len() - 1) as f64 * 0.95) as usize]
        };
        let avg = if s.2 > 0 { s.1 / s.2 as f64 } else { 0.0 };
        let _ = writeln!(
            table,
            "{},synsub{:02},syndep{:03},{},{},{:.6},{:.6},{:.6},{},{},{}",
            v.id, v.sub, v.dep, v.start, v.end, s.0, avg, p95, v.cat, v.cores, v.mem
        );
    }
    let mut rd = String::new();
    for (t, k, min, max, avg) in readings {
        let _ = writeln!(rd, "{t},{},{min:.6},{max:.6},{avg:.6}", vms[k].id);
    }
    (table, rd)
}

const RVTOOLS_README: &str = "# Synthetic RVTools export (sample)

SYNTHETIC DATA: drawn by the seeded generator in `tests/estate/samples.rs`
(`rvtools_sample`); no real estate. It has the shape of an RVTools 4.x export:

- `RVTools_tab{vInfo,vCPU,vMemory,vHost}.csv` (\"Export all to csv\") and the same four tabs in
  `RVTools_export.xlsx`;
- 300 VMs in five clusters used as tenants (prod-web, prod-app, prod-db, dev-test, vdi), a
  realistic size mix (1–32 vCPUs, 2–8 GiB per vCPU), about 8 % powered off and 5 templates;
- 20 hosts of two hardware generations (12 × 2019: 2 × 20 cores at 2.5 GHz, 384 GiB; 8 × 2024:
  2 × 32 cores at 2.1 GHz, 1 TiB), each VM on a host of its cluster (vInfo `Host`);
- vHost observed CPU and memory usage = the sum of its VMs' vCPU `Overall` MHz and vMemory
  `Consumed` (+ overhead) plus an assumed hypervisor share (2 % CPU; 4 GiB + 1 % memory).

Regenerate with `CAPSIM_WRITE_ESTATE_SAMPLES=1 cargo test --test estate samples`.
";

const AZURE_README: &str = "# Synthetic Azure Public Dataset V2-format trace (sample)

SYNTHETIC DATA: drawn by the seeded generator in `tests/estate/samples.rs`
(`azure_sample`); not taken from the Azure Public Dataset. Same file layout as the dataset
(no header rows):

- `vmtable.csv`: vmid, subscriptionid, deploymentid, vmcreated, vmdeleted, maxcpu, avgcpu,
  p95maxcpu, vmcategory, vmcorecountbucket, vmmemorybucket — 120 VMs over one day, 50 running
  all day, 70 arriving mostly in working hours with exponential lifetimes (mean 4 h), sorted
  by creation time;
- `vm_cpu_readings.csv`: timestamp, vmid, mincpu, maxcpu, avgcpu every 300 s. CPU follows a
  daily cycle peaking at 14:00 (strongly for Interactive VMs), so the daily peak, not the
  mean, sets the density.

Regenerate with `CAPSIM_WRITE_ESTATE_SAMPLES=1 cargo test --test estate samples`.
";

/// Writes every sample file into `dir`.
fn write_samples(dir: &Path) {
    let rv = dir.join("rvtools-sample");
    std::fs::create_dir_all(&rv).unwrap();
    let tabs = rvtools_sample();
    for (tab, text) in &tabs {
        std::fs::write(rv.join(format!("RVTools_tab{tab}.csv")), text).unwrap();
    }
    csv_tabs_to_xlsx(&tabs, &rv.join("RVTools_export.xlsx"));
    std::fs::write(rv.join("README.md"), RVTOOLS_README).unwrap();
    let az = dir.join("azure-v2-sample");
    std::fs::create_dir_all(&az).unwrap();
    let (table, readings) = azure_sample();
    std::fs::write(az.join("vmtable.csv"), table).unwrap();
    std::fs::write(az.join("vm_cpu_readings.csv"), readings).unwrap();
    std::fs::write(az.join("README.md"), AZURE_README).unwrap();
}

#[test]
fn shipped_samples_match_the_generator() {
    let shipped = samples_dir();
    if std::env::var_os("CAPSIM_WRITE_ESTATE_SAMPLES").is_some() {
        write_samples(&shipped);
    }
    let fresh = tempfile::tempdir().unwrap();
    write_samples(fresh.path());
    for rel in [
        "rvtools-sample/RVTools_tabvInfo.csv",
        "rvtools-sample/RVTools_tabvCPU.csv",
        "rvtools-sample/RVTools_tabvMemory.csv",
        "rvtools-sample/RVTools_tabvHost.csv",
        "rvtools-sample/README.md",
        "azure-v2-sample/vmtable.csv",
        "azure-v2-sample/vm_cpu_readings.csv",
        "azure-v2-sample/README.md",
    ] {
        let a = std::fs::read(shipped.join(rel))
            .unwrap_or_else(|e| panic!("{rel}: {e} (run with CAPSIM_WRITE_ESTATE_SAMPLES=1)"));
        let b = std::fs::read(fresh.path().join(rel)).unwrap();
        assert!(a == b, "{rel} differs from the generator's output");
    }
    let opts = ReadOptions::default();
    let x = rvtools::read(&shipped.join("rvtools-sample/RVTools_export.xlsx"), &opts).unwrap();
    let c = rvtools::read(&shipped.join("rvtools-sample"), &opts).unwrap();
    assert_eq!(x.instances, c.instances);
    assert_eq!(x.hosts, c.hosts);
}

#[test]
fn rvtools_sample_has_the_promised_shape() {
    let all = ReadOptions {
        include_templates: true,
        ..ReadOptions::default()
    };
    let e = rvtools::read(&samples_dir().join("rvtools-sample"), &all).unwrap();
    assert_eq!(e.instances.len(), 300);
    assert_eq!(e.instances.iter().filter(|i| i.template).count(), 5);
    let off = e.instances.iter().filter(|i| !i.powered_on).count();
    assert!(
        (15..=40).contains(&off),
        "{off} powered off (incl. 5 templates)"
    );
    let mut tenants: Vec<&str> = e
        .instances
        .iter()
        .filter_map(|i| i.tenant.as_deref())
        .collect();
    tenants.sort();
    tenants.dedup();
    assert_eq!(
        tenants,
        ["dev-test", "prod-app", "prod-db", "prod-web", "vdi"]
    );
    assert_eq!(e.hosts.len(), 20);
    let mut models: Vec<&str> = e
        .hosts
        .iter()
        .filter_map(|h| h.cpu_model.as_deref())
        .collect();
    models.dedup();
    assert_eq!(models.len(), 2, "two hardware generations");
    // Every powered-on VM has a demand figure (its host is in vHost), and the hosts'
    // observed CPU is their VMs' demand plus the 2 % hypervisor share.
    for h in &e.hosts {
        let demand: f64 = e
            .instances
            .iter()
            .filter(|i| i.host.as_deref() == Some(h.name.as_str()) && i.powered_on)
            .map(|i| i.cpu_mean_cores.unwrap())
            .sum();
        let observed = h.cpu_usage.unwrap() * f64::from(h.cores.unwrap());
        let want = demand + 0.02 * f64::from(h.cores.unwrap());
        assert!(
            (observed - want).abs() <= 0.006 * f64::from(h.cores.unwrap()),
            "{}: {observed} vs {want}",
            h.name
        );
    }
}

#[test]
fn azure_sample_peaks_in_the_afternoon() {
    let dir = samples_dir().join("azure-v2-sample");
    let vms: Vec<Instance> =
        azure::open_vmtable(&dir.join("vmtable.csv"), &AzureOptions::default())
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
    assert_eq!(vms.len(), 120);
    let cores: std::collections::HashMap<&str, f64> =
        vms.iter().map(|v| (v.name.as_str(), v.vcpus)).collect();
    let mut r =
        azure::open_readings(&[dir.join("vm_cpu_readings.csv")], &AzureOptions::default()).unwrap();
    let mut by_hour = [0.0f64; 24];
    while let Some(p) = r.next_point().unwrap() {
        by_hour[(p.time_s / 3600.0) as usize % 24] += p.cpu.cores(cores[p.vm]);
    }
    let peak = (0..24)
        .max_by(|&a, &b| by_hour[a].total_cmp(&by_hour[b]))
        .unwrap();
    assert!((11..=17).contains(&peak), "demand peaks at {peak}:00");
    assert!(by_hour[peak] > 1.5 * by_hour[3], "{:?}", by_hour);
}
