//! `shuttle`: check recorded tractor dialogs and run the conformance suite.

use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};
use shuttle_conformance::case::{self, Suite};
use shuttle_conformance::runner::{self, ExpectedFailures, Filter, Outcome, Totals};
use shuttle_conformance::testee::{Builtin, Process, Testee};
use shuttle_conformance::{import, live, report};

mod check;
mod serve_testee;

#[derive(Parser, Debug)]
#[command(
    name = "shuttle",
    version,
    about = "The tractor shuttle protocol: checks and conformance suite"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the conformance suite against an implementation (by default the
    /// suite compiled into this binary, against the built-in testee).
    Run(RunArgs),
    /// Check captures (tractor-capture/1) and raw wire streams (.wire):
    /// decode every frame, re-encode it and compare the bytes.
    Check(check::Args),
    /// Turn captures, golden vectors and payload vectors into case files.
    Import {
        /// Capture files, `pld-vectors/1` files, `golden_vectors.txt`, or folders of them.
        #[arg(required = true)]
        inputs: Vec<PathBuf>,
        /// Folder to write the case files into.
        #[arg(long)]
        out: PathBuf,
    },
    /// Write the JSON Schemas (messages, captures, case format, testee
    /// protocol) and the rendered message docs.
    Schema {
        /// Folder to write into (the repository keeps them in `spec/`).
        #[arg(long, default_value = "spec")]
        out: PathBuf,
    },
    /// Serve the built-in implementation over stdin/stdout with the testee
    /// protocol (what `run --testee` talks to).
    Testee(serve_testee::Args),
    /// Replay recorded dialogs and robustness cases against a live peer
    /// over TCP or a Unix socket.
    Replay(live::cli::ReplayArgs),
    /// Run the reference actor (test endpoints of the recorded scenarios).
    Serve(live::serve::Args),
    /// Turn captures into replay cases (`shuttle-replay/1`).
    ImportReplay(live::cli::ImportReplayArgs),
}

#[derive(clap::Args, Debug)]
struct RunArgs {
    /// Command that starts the implementation under test (run by `sh -c`),
    /// speaking the testee protocol on its stdin/stdout.
    #[arg(long)]
    testee: Option<String>,
    /// Folder of case files to run instead of the embedded suite.
    #[arg(long)]
    suite: Option<PathBuf>,
    /// Run only cases whose id matches this glob (repeatable).
    #[arg(long = "run", value_name = "GLOB")]
    run: Vec<String>,
    /// Skip cases whose id matches this glob (repeatable).
    #[arg(long = "skip", value_name = "GLOB")]
    skip: Vec<String>,
    /// File of id globs (one per line, optionally followed by text the
    /// failure must contain) that are expected to fail.
    #[arg(long)]
    expected_failures: Option<PathBuf>,
    /// Write a JUnit XML report.
    #[arg(long)]
    junit: Option<PathBuf>,
    /// Write a JSON report (with the frames exchanged and a diff per failure).
    #[arg(long)]
    json: Option<PathBuf>,
    /// List the selected cases instead of running them.
    #[arg(long)]
    list: bool,
    /// Per-request timeout for a subprocess testee, in milliseconds.
    #[arg(long, default_value_t = runner::DEFAULT_TIMEOUT.as_millis() as u64)]
    timeout_ms: u64,
    /// Print every case, not only failures.
    #[arg(short, long)]
    verbose: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(args) => run(&args),
        Command::Check(args) => check::run(&args),
        Command::Import { inputs, out } => import_cmd(&inputs, &out),
        Command::Testee(args) => serve_testee::run(&args),
        Command::Schema { out } => schema_cmd(&out),
        Command::Replay(args) => live::cli::run(&args),
        Command::Serve(args) => live::serve::run(&args),
        Command::ImportReplay(args) => live::cli::import_replay(&args),
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("shuttle: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn schema_cmd(out: &std::path::Path) -> anyhow::Result<bool> {
    let files = shuttle_conformance::spec_files();
    for (name, text) in &files {
        let path = out.join(name);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(&path, text)?;
    }
    println!("{}: {} files", out.display(), files.len());
    Ok(true)
}

fn import_cmd(inputs: &[PathBuf], out: &std::path::Path) -> anyhow::Result<bool> {
    std::fs::create_dir_all(out)?;
    for (name, file) in import::build(inputs)? {
        let path = out.join(&name);
        std::fs::write(&path, case::to_text(&file))?;
        println!("{}: {} cases", path.display(), file.cases.len());
    }
    Ok(true)
}

fn run(args: &RunArgs) -> anyhow::Result<bool> {
    let suite = match &args.suite {
        Some(dir) => Suite::load_dir(dir)?,
        None => Suite::embedded()?,
    };
    let filter = Filter::from_globs(&args.run, &args.skip)?;
    if args.list {
        let mut n = 0;
        for c in suite.cases.iter().filter(|c| filter.selects(&c.id)) {
            println!("{}  [{:?}, {}]  {}", c.id, c.level, c.body.kind(), c.title);
            n += 1;
        }
        println!("{n} cases");
        return Ok(true);
    }
    let expected = match &args.expected_failures {
        Some(p) => ExpectedFailures::parse(&std::fs::read_to_string(p)?)?,
        None => ExpectedFailures::default(),
    };
    let mut builtin;
    let mut process;
    let testee: &mut dyn Testee = match &args.testee {
        Some(cmd) => {
            process = Process::start(cmd, Duration::from_millis(args.timeout_ms))?;
            &mut process
        }
        None => {
            builtin = Builtin::default();
            &mut builtin
        }
    };
    let hello = testee.hello().clone();
    println!(
        "testee: {} {} (features: {})",
        hello.name,
        hello.version,
        hello.features.join(", ")
    );
    let selected = suite.cases.iter().filter(|c| filter.selects(&c.id)).count();
    let bar = if std::io::stderr().is_terminal() {
        indicatif::ProgressBar::new(selected as u64)
    } else {
        indicatif::ProgressBar::hidden()
    };
    let started = Instant::now();
    let verbose = args.verbose;
    let results = runner::run_suite(testee, &suite.cases, &filter, &expected, |r| {
        bar.inc(1);
        let line = match &r.outcome {
            Outcome::Passed if verbose => Some(format!("ok    {}", r.id)),
            o if o.is_failure() && r.expected_failure => verbose.then(|| format!("xfail {}", r.id)),
            o if o.is_failure() => Some(format!(
                "FAIL  {}  [{:?}] {}\n      {}\n{}",
                r.id,
                r.level,
                r.title,
                r.section,
                indent(o.failure_text().unwrap_or(""))
            )),
            Outcome::Skipped(why) if verbose => Some(format!("skip  {}  ({why})", r.id)),
            Outcome::NotApplicable(f) if verbose => {
                Some(format!("n/a   {}  (needs {})", r.id, f.join(", ")))
            }
            _ => None,
        };
        if let Some(line) = line {
            bar.suspend(|| println!("{line}"));
        }
    });
    bar.finish_and_clear();
    let elapsed = started.elapsed();
    if let Some(p) = &args.json {
        std::fs::write(p, report::json(&hello, &results))?;
    }
    if let Some(p) = &args.junit {
        std::fs::write(p, report::junit(&hello, &results))?;
    }
    let totals = Totals::of(&results);
    let mut by_kind = std::collections::BTreeMap::<&str, (usize, usize, usize)>::new();
    for r in &results {
        let e = by_kind.entry(r.kind).or_default();
        match &r.outcome {
            Outcome::Passed => e.0 += 1,
            o if o.is_failure() && !r.expected_failure => e.1 += 1,
            _ => e.2 += 1,
        }
    }
    for (kind, (p, f, s)) in by_kind {
        println!("  {kind:<8} {p} passed, {f} failed, {s} skipped");
    }
    if totals.expected_failures > 0 {
        println!("  {} expected failures", totals.expected_failures);
    }
    let mut micros: Vec<u64> = results
        .iter()
        .filter(|r| !matches!(r.outcome, Outcome::NotApplicable(_)))
        .map(|r| r.micros)
        .collect();
    micros.sort_unstable();
    let median = micros.get(micros.len() / 2).copied().unwrap_or(0);
    println!(
        "  {} cases in {:.2?} (median answer {median} µs)",
        results.len(),
        elapsed
    );
    println!(
        "{} passed, {} failed, {} skipped",
        totals.passed, totals.failed, totals.skipped
    );
    Ok(totals.failed == 0)
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("      {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}
