//! The command line: `capsim run | validate | explain | profiles | report`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::{Args, Parser, Subcommand};

use crate::diagnostics::{Error, Result, unknown_name};
use crate::output::{put, replace_dir};
use crate::profiles::ProfileSet;
use crate::report::{headline, html, table};
use crate::results::records::{results_csv, timeline_csv};
use crate::results::summary::Summary;
use crate::scenario::{Override, Scenario};
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

/// How a command simulates: `run`, `sweep` and `search`.
#[derive(Args, Debug)]
pub struct SimulationOptions {
    /// Override the scenario's seed.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Worker threads (default: all cores). Results do not depend on it.
    #[arg(long)]
    pub threads: Option<usize>,
}

/// Where results go and what is printed: every command that writes a report.
#[derive(Args, Debug)]
pub struct OutputOptions {
    /// Report directory (default: `output/<scenario name>`; `output/<name>-search` for
    /// `search`). A sweep rerun into the same directory skips the points already finished.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Print the results as JSON on stdout (summary.json; search.json for `search`)
    /// instead of the table, for notebooks.
    #[arg(long)]
    pub json: bool,
    /// Print nothing but errors.
    #[arg(long, short)]
    pub quiet: bool,
}

impl OutputOptions {
    /// `--out`, or `output/<name>`.
    fn dir(&self, name: &str) -> PathBuf {
        self.out
            .clone()
            .unwrap_or_else(|| Path::new("output").join(name))
    }
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Simulate every placement of a scenario on the same workload stream and compare them.
    Run {
        /// Scenario file (TOML). Without one, the built-in default scenario runs.
        scenario: Option<PathBuf>,
        /// Independent replications per configuration (confidence intervals need >= 2).
        #[arg(long, default_value_t = 1)]
        replications: u64,
        #[command(flatten)]
        simulation: SimulationOptions,
        #[command(flatten)]
        output: OutputOptions,
    },
    /// Run a study: every sweep point × placement × host type, replications until the
    /// confidence target; resumable, and shardable across machines (`--shard K/N`).
    Sweep {
        scenario: PathBuf,
        /// Run only slice K of N (1 <= K <= N); combine the slices with `capsim merge`.
        #[arg(long)]
        shard: Option<String>,
        /// Fixed replications per point (overrides `[study]` and its stopping rule).
        #[arg(long)]
        replications: Option<u64>,
        #[command(flatten)]
        simulation: SimulationOptions,
        #[command(flatten)]
        output: OutputOptions,
        /// Stop after N points have finished (tests of resume).
        #[arg(long, hide = true)]
        stop_after: Option<u64>,
    },
    /// Density at the SLO: the largest workload count per host meeting every `[slo]` bound
    /// in at least `[study]` slo_fraction of replications, per placement and host type.
    Search {
        scenario: PathBuf,
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
        #[command(flatten)]
        simulation: SimulationOptions,
        #[command(flatten)]
        output: OutputOptions,
    },
    /// Combine the directories of `capsim sweep --shard K/N` runs into one report.
    Merge {
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
        #[command(flatten)]
        output: OutputOptions,
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

impl SimulationOptions {
    /// `--threads 0` and `--replications 0` are usage errors.
    fn check(&self, replications: Option<u64>) -> Result<()> {
        if replications == Some(0) {
            return Err(Error::Usage("--replications must be >= 1".into()));
        }
        if self.threads == Some(0) {
            return Err(Error::Usage("--threads must be >= 1".into()));
        }
        Ok(())
    }
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
            replications,
            simulation,
            output,
        } => {
            let sc = load(scenario.as_deref(), simulation.seed, None)?;
            // A sweep's points are checked here too: a scenario is valid or it is not.
            let n_points = points(&sc)?.len();
            if n_points > 1 && !output.quiet && !output.json {
                eprintln!(
                    "capsim: this scenario sweeps {n_points} points; `run` simulates the base scenario, `capsim sweep` runs them all"
                );
            }
            simulation.check(Some(replications))?;
            run(&sc, replications, &simulation, &output)
        }
        Command::Sweep {
            scenario,
            shard,
            replications,
            simulation,
            output,
            stop_after,
        } => {
            let shard = match shard {
                Some(s) => Shard::parse(&s).map_err(|e| Error::Usage(e.to_string()))?,
                None => Shard::ALL,
            };
            simulation.check(replications)?;
            let sc = load(Some(&scenario), simulation.seed, replications)?;
            let out = output.dir(&sc.name);
            let bar = progress_bar(output.quiet || output.json);
            let outcome = sweep(
                &sc,
                &out,
                &SweepOptions {
                    shard,
                    threads: simulation.threads,
                    progress: bar.as_ref(),
                    stop_after,
                    replications,
                },
            )?;
            if let Some(bar) = bar {
                bar.finish_and_clear();
            }
            report_sweep(&outcome, &out, shard, &output)
        }
        Command::Search {
            scenario,
            workload,
            replications,
            precision,
            max_count,
            simulation,
            output,
        } => {
            simulation.check(replications)?;
            let sc = load(Some(&scenario), simulation.seed, None)?;
            let workload = match &workload {
                None => 0,
                Some(name) => sc
                    .workloads
                    .iter()
                    .position(|w| &w.name == name)
                    .ok_or_else(|| {
                        Error::Usage(unknown_name(
                            "workload class",
                            name,
                            sc.workloads.iter().map(|w| w.name.as_str()),
                        ))
                    })?,
            };
            let opts = SearchOptions {
                workload,
                replications: replications.unwrap_or(sc.study.replications_min),
                precision,
                max_count,
            };
            let out = output.dir(&format!("{}-search", sc.name));
            let pool = crate::study::pool(simulation.threads)?;
            let found = search(&sc, &opts, &pool)?;
            let json = found.to_json()?;
            let csv = found.to_csv()?;
            replace_dir(&out, |dir| {
                put(dir, "search.json", json.as_bytes())?;
                put(dir, "search.csv", &csv)?;
                put(dir, "scenario.toml", sc.source_text().as_bytes())
            })?;
            if output.json {
                println!("{json}");
            } else if !output.quiet {
                print!("{}", table::search(&found));
                println!(
                    "count at SLO = most `{}` instances on one host meeting every SLO in >= {:.0}% of {} replications; density/host and MiB/workload at that count with their {:.0}% CIs",
                    found.workload,
                    found.slo_fraction * 100.0,
                    found.replications,
                    found.confidence * 100.0
                );
                println!("report: {} (search.json, search.csv)", out.display());
            }
            Ok(())
        }
        Command::Merge { dirs, output } => {
            let (summary, out) = merge(&dirs, output.out.as_deref())?;
            print_study(&summary, &out, &output)
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
            let sc = load(scenario.as_deref(), None, None)?;
            print!("{}", table::explain(&sc));
            Ok(())
        }
        Command::Profiles => {
            print!("{}", table::profiles(&ProfileSet::builtin()?));
            Ok(())
        }
        Command::Report { dir } => {
            html::render(&dir)?;
            println!("report: {}", dir.join("report.html").display());
            Ok(())
        }
    }
}

/// The scenario at `path` (the built-in default without one) with the command line's
/// `--seed` / `--replications` applied to its document before resolution.
fn load(path: Option<&Path>, seed: Option<u64>, replications: Option<u64>) -> Result<Scenario> {
    let sc = match path {
        Some(p) => Scenario::load(p)?,
        None => Scenario::default_scenario(),
    };
    let overrides = Override::command_line(seed, replications).map_err(Error::Usage)?;
    Ok(sc.with_overrides(&overrides)?)
}

/// `capsim run`: simulate, write the report directory, print the tables and headline.
fn run(
    sc: &Scenario,
    replications: u64,
    simulation: &SimulationOptions,
    output: &OutputOptions,
) -> Result<()> {
    let started = Instant::now();
    let (json, quiet) = (output.json, output.quiet);
    let out = output.dir(&sc.name);
    if !quiet && !json {
        eprintln!(
            "capsim: scenario `{}` — {} configuration(s) × {} replication(s), seed {}",
            sc.name,
            sc.configs().len(),
            replications,
            sc.seed
        );
    }
    let bar = progress_bar(quiet || json);
    let runs = run_scenario_with_progress(sc, replications, 0, simulation.threads, bar.as_ref())?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let summary = Summary::build(sc, &runs);
    let summary_json = summary.to_json()?;
    let runs = [runs];
    let csv = results_csv(&[], &runs)?;
    let timeline = timeline_csv(&runs)?;
    replace_dir(&out, |dir| {
        put(dir, "summary.json", summary_json.as_bytes())?;
        put(dir, "results.csv", &csv)?;
        if let Some(t) = &timeline {
            put(dir, "timeline.csv", t)?;
        }
        put(dir, "scenario.toml", sc.source_text().as_bytes())?;
        // Rendered from the files just written, so `capsim report` redraws the same page.
        html::render(dir)
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
    let noun = headline::workload_noun(Some(sc));
    for line in headline::sentences(&summary, &noun) {
        w(&mut o, &format!("{line}\n"))?;
    }
    Ok(())
}

/// A progress bar with ETA on stderr — only for a person watching a terminal.
fn progress_bar(silent: bool) -> Option<indicatif::ProgressBar> {
    use std::io::IsTerminal;
    if silent || !std::io::stderr().is_terminal() {
        return None;
    }
    let bar =
        indicatif::ProgressBar::with_draw_target(Some(0), indicatif::ProgressDrawTarget::stderr());
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{elapsed_precise} [{bar:40}] {pos}/{len} replications, ETA {eta}",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    Some(bar)
}

fn report_sweep(o: &SweepOutcome, out: &Path, shard: Shard, output: &OutputOptions) -> Result<()> {
    if !output.quiet && !output.json {
        eprintln!(
            "capsim: {} of {} point(s) in this shard ({}/{}); {} already finished, {} run now",
            o.points_owned, o.points_total, shard.k, shard.n, o.points_skipped, o.points_run
        );
    }
    if !o.complete {
        if !output.quiet {
            eprintln!(
                "capsim: stopped before every point finished; rerun the same command to resume"
            );
        }
        return Ok(());
    }
    match &o.summary {
        Some(s) => print_study(s, out, output),
        None => {
            if !output.quiet {
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
fn print_study(s: &Summary, out: &Path, output: &OutputOptions) -> Result<()> {
    if output.json {
        println!("{}", s.to_json()?);
        return Ok(());
    }
    if output.quiet {
        return Ok(());
    }
    print!("{}", table::study(s));
    println!("report: {} (summary.json, results.csv)", out.display());
    Ok(())
}
