//! The command line: `capsim run | validate | explain | profiles | report`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::{Parser, Subcommand};

use crate::diagnostics::{Error, Result};
use crate::profiles::ProfileSet;
use crate::report::summary::{Summary, results_csv, timeline_csv};
use crate::report::{table, write_atomically, write_file};
use crate::scenario::Scenario;
use crate::study::run_scenario;

#[derive(Parser, Debug)]
#[command(
    name = "capsim",
    version,
    about = "Discrete-event capacity simulator: how densely do containers, VMs and VM-in-container placements pack on x86 and mainframe hosts?",
    after_help = "Exit codes: 0 ok, 1 runtime failure, 2 bad input."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Simulate every placement of a scenario on the same workload stream and compare them.
    Run {
        /// Scenario file (TOML). Without one, the built-in default scenario runs.
        scenario: Option<PathBuf>,
        /// Override the scenario's seed.
        #[arg(long)]
        seed: Option<u64>,
        /// Report directory (default: output/<scenario name>).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Print summary.json on stdout (for notebooks) instead of the table.
        #[arg(long)]
        json: bool,
        /// Independent replications per configuration (confidence intervals need >= 2).
        #[arg(long, default_value_t = 1)]
        replications: u64,
        /// Worker threads (default: all cores). Results do not depend on it.
        #[arg(long)]
        threads: Option<usize>,
        /// Print nothing but errors.
        #[arg(long, short)]
        quiet: bool,
    },
    /// Check a scenario without running it.
    Validate { scenario: PathBuf },
    /// Print every resolved parameter with its unit, source and confidence tag.
    Explain { scenario: Option<PathBuf> },
    /// List the built-in calibrated profiles.
    Profiles,
    /// Re-render report.html and plots/ from a report directory's saved results (no rerun).
    Report { dir: PathBuf },
}

/// Parses `args` and runs the command. Clap handles `--help`/usage errors itself (exit 2).
pub fn main<I, T>(args: I) -> Result<()>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let cli = Cli::parse_from(args);
    match cli.command {
        Command::Run {
            scenario,
            seed,
            out,
            json,
            replications,
            threads,
            quiet,
        } => {
            let mut sc = load(scenario.as_deref())?;
            if let Some(s) = seed {
                sc.seed = s;
            }
            if replications == 0 {
                return Err(Error::Usage("--replications must be >= 1".into()));
            }
            if threads == Some(0) {
                return Err(Error::Usage("--threads must be >= 1".into()));
            }
            let out = out.unwrap_or_else(|| Path::new("output").join(&sc.name));
            run(&sc, &out, json, replications, threads, quiet)
        }
        Command::Validate { scenario } => {
            let sc = Scenario::load(&scenario)?;
            println!(
                "{}: ok — {} host type(s), {} placement(s), {} workload class(es), {} configuration(s) to simulate",
                scenario.display(),
                sc.host_types.len(),
                sc.placements.len(),
                sc.workloads.len(),
                sc.configs().len()
            );
            Ok(())
        }
        Command::Explain { scenario } => {
            let sc = load(scenario.as_deref())?;
            print!("{}", table::explain(&sc));
            Ok(())
        }
        Command::Profiles => {
            print!("{}", table::profiles(&ProfileSet::builtin()?));
            Ok(())
        }
        Command::Report { dir } => {
            crate::report::html::render(&dir)?;
            println!("report: {}", dir.join("report.html").display());
            Ok(())
        }
    }
}

fn load(path: Option<&Path>) -> Result<Scenario> {
    match path {
        Some(p) => Scenario::load(p),
        None => Ok(Scenario::default_scenario()),
    }
}

fn run(
    sc: &Scenario,
    out: &Path,
    json: bool,
    replications: u64,
    threads: Option<usize>,
    quiet: bool,
) -> Result<()> {
    let started = Instant::now();
    let n_configs = sc.configs().len();
    if !quiet && !json {
        eprintln!(
            "capsim: scenario `{}` — {} configuration(s) × {} replication(s), seed {}",
            sc.name, n_configs, replications, sc.seed
        );
    }
    let runs = run_scenario(sc, replications, 0, threads)?;
    let summary = Summary::build(sc, &runs);
    let summary_json = summary.to_json()?;
    let csv = results_csv(&runs)?;
    let timeline = timeline_csv(&runs)?;
    write_atomically(out, |dir| {
        write_file(dir, "summary.json", summary_json.as_bytes())?;
        write_file(dir, "results.csv", &csv)?;
        if let Some(t) = &timeline {
            write_file(dir, "timeline.csv", t)?;
        }
        write_file(dir, "scenario.toml", sc.source_text().as_bytes())?;
        // Rendered from the files just written, so `capsim report` redraws the same page.
        crate::report::html::render(dir)
    })?;
    let elapsed = started.elapsed().as_secs_f64();
    let stdout = std::io::stdout();
    let mut o = stdout.lock();
    let w = |o: &mut std::io::StdoutLock, s: &str| {
        o.write_all(s.as_bytes())
            .map_err(|e| Error::io("write to stdout", e))
    };
    if json {
        w(&mut o, &summary_json)?;
        w(&mut o, "\n")?;
        return Ok(());
    }
    if quiet {
        return Ok(());
    }
    w(&mut o, &table::comparison(&summary))?;
    w(&mut o, "\n")?;
    for (title, t) in [
        (
            "KSM (counters at the horizon, mean per host):",
            table::ksm(&summary),
        ),
        (
            "Service objectives per workload class:",
            table::class_slos(&summary),
        ),
        ("Rollouts:", table::rollouts(&summary)),
    ] {
        if !t.is_empty() {
            w(&mut o, &format!("{title}\n{t}\n"))?;
        }
    }

    w(
        &mut o,
        &format!("done in {elapsed:.2} s: summary.json, results.csv, plots/, report.html\n"),
    )?;
    w(
        &mut o,
        &format!("report: {}\n", out.join("report.html").display()),
    )?;
    let noun = crate::report::headline::workload_noun(Some(sc));
    for line in crate::report::headline::sentences(&summary, &noun) {
        w(&mut o, &format!("{line}\n"))?;
    }
    Ok(())
}

/// One sentence per host type: the densest placement and how the others compare.
pub fn headlines(s: &Summary) -> Vec<String> {
    crate::report::headline::sentences(s, "workloads")
}
