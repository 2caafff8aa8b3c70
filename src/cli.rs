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
use crate::study::run_scenario_with_progress;
use crate::study::search::{SearchOptions, search};
use crate::study::store::{Shard, SweepOptions, SweepOutcome, merge, sweep};
use crate::study::sweep::points;

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
        /// Report directory (default: `output/<scenario name>`).
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
    /// Run a study: every sweep point × placement × host type, replications until the
    /// confidence target; resumable, and shardable across machines (`--shard K/N`).
    Sweep {
        scenario: PathBuf,
        /// Report / results directory (default: `output/<scenario name>`). A rerun into the
        /// same directory skips the points already finished.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Run only slice K of N (1 <= K <= N); combine the slices with `capsim merge`.
        #[arg(long)]
        shard: Option<String>,
        /// Override the scenario's seed.
        #[arg(long)]
        seed: Option<u64>,
        /// Fixed replications per point (overrides `[study]` and its stopping rule).
        #[arg(long)]
        replications: Option<u64>,
        /// Worker threads (default: all cores). Results do not depend on it.
        #[arg(long)]
        threads: Option<usize>,
        /// Print summary.json on stdout instead of the table.
        #[arg(long)]
        json: bool,
        #[arg(long, short)]
        quiet: bool,
        /// Stop after N points have finished (tests of resume).
        #[arg(long, hide = true)]
        stop_after: Option<u64>,
    },
    /// Density at the SLO: the largest workload count per host meeting every `[slo]` bound
    /// in at least `[study]` slo_fraction of replications, per placement and host type.
    Search {
        scenario: PathBuf,
        /// Report directory for search.json and search.csv (default: `output/<name>-search`).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Workload class whose count is searched (default: the first).
        #[arg(long)]
        workload: Option<String>,
        /// Replications per count (default: `[study]` replications_min).
        #[arg(long)]
        replications: Option<u64>,
        /// Stop bisecting once the bracket is this narrow (instances).
        #[arg(long, default_value_t = 1)]
        precision: u64,
        /// Largest count tried while bracketing.
        #[arg(long, default_value_t = 100_000)]
        max_count: u64,
        #[arg(long)]
        seed: Option<u64>,
        #[arg(long)]
        threads: Option<usize>,
        /// Print search.json on stdout instead of the table.
        #[arg(long)]
        json: bool,
        #[arg(long, short)]
        quiet: bool,
    },
    /// Combine the directories of `capsim sweep --shard K/N` runs into one report.
    Merge {
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
        /// Report directory (default: `output/<scenario name>`).
        #[arg(long)]
        out: Option<PathBuf>,
        #[arg(long)]
        json: bool,
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
            // A sweep's points are checked here too: a scenario is valid or it is not.
            let n_points = points(&sc)?.len();
            if n_points > 1 && !quiet && !json {
                eprintln!(
                    "capsim: this scenario sweeps {n_points} points; `run` simulates the base scenario, `capsim sweep` runs them all"
                );
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
        Command::Sweep {
            scenario,
            out,
            shard,
            seed,
            replications,
            threads,
            json,
            quiet,
            stop_after,
        } => {
            let mut sc = Scenario::load(&scenario)?;
            if let Some(s) = seed {
                sc.seed = s;
            }
            let shard = match shard {
                Some(s) => Shard::parse(&s).map_err(Error::Usage)?,
                None => Shard::ALL,
            };
            check_counts(replications, threads)?;
            if let Some(r) = replications {
                fix_replications(&mut sc, r);
            }
            let out = out.unwrap_or_else(|| Path::new("output").join(&sc.name));
            let pb = progress_bar(quiet || json);
            let outcome = sweep(
                &sc,
                &out,
                &SweepOptions {
                    shard,
                    threads,
                    progress: pb.as_ref(),
                    stop_after,
                    replications,
                },
            )?;
            if let Some(pb) = pb {
                pb.finish_and_clear();
            }
            report_sweep(&outcome, &out, shard, json, quiet)
        }
        Command::Search {
            scenario,
            out,
            workload,
            replications,
            precision,
            max_count,
            seed,
            threads,
            json,
            quiet,
        } => {
            let mut sc = Scenario::load(&scenario)?;
            if let Some(s) = seed {
                sc.seed = s;
            }
            check_counts(replications, threads)?;
            let w = match &workload {
                None => 0,
                Some(name) => sc
                    .workloads
                    .iter()
                    .position(|w| &w.name == name)
                    .ok_or_else(|| {
                        Error::Usage(crate::diagnostics::unknown_name(
                            "workload class",
                            name,
                            sc.workloads.iter().map(|w| w.name.as_str()),
                        ))
                    })?,
            };
            let opts = SearchOptions {
                workload: w,
                replications: replications.unwrap_or(sc.study.replications_min),
                precision,
                max_count,
            };
            let out =
                out.unwrap_or_else(|| Path::new("output").join(format!("{}-search", sc.name)));
            let pool = crate::study::pool(threads)?;
            let rep = search(&sc, &opts, &pool)?;
            let json_text = serde_json::to_string_pretty(&rep)
                .map_err(|e| Error::Runtime(format!("search.json: {e}")))?;
            let csv = rep.to_csv()?;
            write_atomically(&out, |dir| {
                write_file(dir, "search.json", json_text.as_bytes())?;
                write_file(dir, "search.csv", &csv)?;
                write_file(dir, "scenario.toml", sc.source_text().as_bytes())
            })?;
            if json {
                println!("{json_text}");
            } else if !quiet {
                print!("{}", rep.table());
                println!(
                    "count at SLO = most `{}` instances on one host meeting every SLO in >= {:.0}% of {} replications; density/host and MiB/workload at that count with their {:.0}% CIs",
                    rep.workload,
                    rep.slo_fraction * 100.0,
                    rep.replications,
                    rep.confidence * 100.0
                );
                println!("report: {} (search.json, search.csv)", out.display());
            }
            Ok(())
        }
        Command::Merge {
            dirs,
            out,
            json,
            quiet,
        } => {
            let (summary, out) = merge(&dirs, out.as_deref())?;
            print_study(&summary, &out, json, quiet)
        }
        Command::Validate { scenario } => {
            let sc = Scenario::load(&scenario)?;
            let n_points = points(&sc)?.len();
            println!(
                "{}: ok — {} host type(s), {} placement(s), {} workload class(es), {} configuration(s) to simulate, {} sweep point(s)",
                scenario.display(),
                sc.host_types.len(),
                sc.placements.len(),
                sc.workloads.len(),
                sc.configs().len(),
                n_points
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
    let pb = progress_bar(quiet || json);
    let runs = run_scenario_with_progress(sc, replications, 0, threads, pb.as_ref())?;
    if let Some(pb) = pb {
        pb.finish_and_clear();
    }
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

fn check_counts(replications: Option<u64>, threads: Option<usize>) -> Result<()> {
    if replications == Some(0) {
        return Err(Error::Usage("--replications must be >= 1".into()));
    }
    if threads == Some(0) {
        return Err(Error::Usage("--threads must be >= 1".into()));
    }
    Ok(())
}

/// `--replications N`: exactly N per point, no sequential stopping.
fn fix_replications(sc: &mut Scenario, r: u64) {
    sc.study.replications_min = r;
    sc.study.replications_max = r;
    sc.study.target_rel_half_width = None;
}

/// A progress bar with ETA on stderr — only for a person watching a terminal.
fn progress_bar(silent: bool) -> Option<indicatif::ProgressBar> {
    use std::io::IsTerminal;
    if silent || !std::io::stderr().is_terminal() {
        return None;
    }
    let pb =
        indicatif::ProgressBar::with_draw_target(Some(0), indicatif::ProgressDrawTarget::stderr());
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{elapsed_precise} [{bar:40}] {pos}/{len} replications, ETA {eta}",
    ) {
        pb.set_style(style.progress_chars("=> "));
    }
    Some(pb)
}

fn report_sweep(o: &SweepOutcome, out: &Path, shard: Shard, json: bool, quiet: bool) -> Result<()> {
    if !quiet && !json {
        eprintln!(
            "capsim: {} of {} point(s) in this shard ({}/{}); {} already finished, {} run now",
            o.points_owned, o.points_total, shard.k, shard.n, o.points_skipped, o.points_run
        );
    }
    if !o.complete {
        if !quiet {
            eprintln!(
                "capsim: stopped before every point finished; rerun the same command to resume"
            );
        }
        return Ok(());
    }
    match &o.summary {
        Some(s) => print_study(s, out, json, quiet),
        None => {
            if !quiet {
                println!(
                    "shard {}/{} finished: {} — combine all shards with `capsim merge DIR…`",
                    shard.k,
                    shard.n,
                    out.display()
                );
            }
            Ok(())
        }
    }
}

/// The study table: one row per point × configuration, then the report path.
fn print_study(s: &Summary, out: &Path, json: bool, quiet: bool) -> Result<()> {
    if json {
        println!("{}", s.to_json()?);
        return Ok(());
    }
    if quiet {
        return Ok(());
    }
    print!("{}", crate::study::table::study(s));
    println!("report: {} (summary.json, results.csv)", out.display());
    Ok(())
}
