//! `shuttle`: check recorded tractor dialogs and run the conformance suite.

use std::io::{IsTerminal as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use shuttle_conformance::case::{self, Suite};
use shuttle_conformance::protocol::Feature;
use shuttle_conformance::runner::{self, ExpectedFailures, Filter, Outcome, Totals};
use shuttle_conformance::testee::{Builtin, Process, Testee};
use shuttle_conformance::{import, live, report};

mod check;
mod serve_testee;

/// The reader of stdout went away (`shuttle run --list | head`): the
/// command stops quietly, with exit status 0, as `cat` or `ls` would.
#[derive(Debug)]
struct StdoutClosed;

impl std::fmt::Display for StdoutClosed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("stdout was closed by its reader")
    }
}

impl std::error::Error for StdoutClosed {}

/// Writes to stdout; a closed pipe becomes [`StdoutClosed`] instead of the
/// panic of `print!`.
fn write_stdout(args: std::fmt::Arguments<'_>) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_fmt(args) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Err(StdoutClosed.into()),
        Err(e) => Err(anyhow::Error::new(e).context("writing to stdout")),
    }
}

/// `println!` that returns from the enclosing function with
/// [`StdoutClosed`] when the reader of stdout has gone away.
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::write_stdout(format_args!("{}\n", format_args!($($arg)*)))?
    };
}

/// `print!` that returns [`StdoutClosed`] like [`outln!`].
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::write_stdout(format_args!($($arg)*))?
    };
}
pub(crate) use {out, outln};

/// What `shuttle --help` says about exit codes (and the README repeats).
const EXIT_STATUS: &str = "\
Exit status:
  0  all good: every selected case passed, every checked file is fine
  1  failures: a case failed (or an expected failure did not), a check found a problem
  2  usage or input errors: a bad option, a file that cannot be read or is not
     what the command takes, a --run/--skip/expected-failure entry that matches
     no case, an output path that cannot be written";

#[derive(Parser, Debug)]
#[command(
    name = "shuttle",
    version,
    about = "The tractor shuttle protocol: checks and conformance suite",
    after_help = EXIT_STATUS
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
    /// Check captures (tractor-capture/1 and /2) and raw wire streams (.wire):
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
    /// Resource attacks against a live peer (huge legal frames, argument
    /// amplification, a caller that never reads, dialog floods,
    /// slow-loris, bursts), each judged survived, degraded or died
    /// against its time and memory budget.
    Attack(live::attack::AttackArgs),
    /// Run a tractor program and record the dialogs of all its processes
    /// as one capture (tractor-capture/2), or turn a packet capture of
    /// tractor traffic into one.
    Record(shuttle_conformance::record::cli::Args),
    /// Print a completion script for a shell (`shuttle completions bash >
    /// /etc/bash_completion.d/shuttle`).
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Write the manual pages: `shuttle.1` and one per subcommand
    /// (`shuttle-run.1`, ...).
    Man {
        /// Folder to write into (created if its parent exists).
        #[arg(long, default_value = "man")]
        out: PathBuf,
    },
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
    /// Run only cases whose id matches (repeatable). A value with `*`, `?`
    /// or `[` is a glob over the whole id (`decode/golden/0*`); a value
    /// without one selects that id and the ids below it, as a path does
    /// (`decode/golden` selects `decode/golden/0001`, not
    /// `decode/golden_x`). A value that matches no case is an error (exit
    /// status 2).
    #[arg(long = "run", value_name = "ID|GLOB")]
    run: Vec<String>,
    /// Skip cases whose id matches (repeatable; id or glob as `--run`).
    /// A value that matches no case is an error.
    #[arg(long = "skip", value_name = "ID|GLOB")]
    skip: Vec<String>,
    /// File of id globs (one per line, optionally followed by text the
    /// failure must contain) that are expected to fail. A listed case that
    /// passes or fails otherwise fails the run; an entry that matches no
    /// selected case is an error (exit status 2).
    #[arg(long, value_name = "FILE")]
    expected_failures: Option<PathBuf>,
    /// Write a JUnit XML report (the file is created before the run).
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
    /// Write a JSON report (with the frames exchanged and a diff per
    /// failure; the file is created before the run).
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// List the selected cases instead of running them.
    #[arg(long)]
    list: bool,
    /// Per-request timeout for a subprocess testee, in milliseconds.
    #[arg(long, default_value_t = runner::DEFAULT_TIMEOUT.as_millis() as u64)]
    timeout_ms: u64,
    /// How long a subprocess testee has to answer its hello, at start and
    /// after each restart, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = shuttle_conformance::testee::DEFAULT_START_TIMEOUT.as_millis() as u64)]
    start_timeout_ms: u64,
    /// Print every case, not only failures.
    #[arg(short, long)]
    verbose: bool,
    /// No progress on stderr (a bar on a terminal; otherwise a line every
    /// few seconds, so that a CI log shows a long run moving).
    #[arg(short, long)]
    quiet: bool,
    /// Stop the run after this many seconds (the cases not reached are
    /// reported as not run, and the run fails).
    #[arg(long, value_name = "SECONDS", default_value_t = 1800)]
    deadline_s: u64,
    /// Give up once the testee has crashed or timed out on this many cases
    /// in a row (0: never).
    #[arg(long, value_name = "N", default_value_t = 25)]
    give_up_after: usize,
}

/// How often a run not attached to a terminal says how far it got.
const PROGRESS_EVERY: Duration = Duration::from_secs(5);

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Command::Record(args) = &cli.command {
        // Signals go to the recorded program; the capture is written after.
        return shuttle_conformance::record::cli::main(args);
    }
    // Testees and peers run in process groups of their own: a signal that
    // ends this command must end them too.
    shuttle_conformance::children::kill_all_on_signal();
    let result = match cli.command {
        Command::Run(args) => run(&args),
        Command::Check(args) => check::run(&args),
        Command::Import { inputs, out } => import_cmd(&inputs, &out),
        Command::Testee(args) => serve_testee::run(&args),
        Command::Schema { out } => schema_cmd(&out),
        Command::Replay(args) => live::cli::run(&args),
        Command::Attack(args) => live::attack::run_cli(&args),
        Command::Serve(args) => {
            let at = match (&args.listen, &args.connect) {
                (Some(a), _) => format!("serve --listen {a}"),
                (None, Some(a)) => format!("serve --connect {a}"),
                (None, None) => "serve".to_string(),
            };
            live::serve::run(&args).with_context(|| at)
        }
        Command::ImportReplay(args) => live::cli::import_replay(&args),
        Command::Completions { shell } => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut cmd, "shuttle", &mut script);
            write_stdout(format_args!("{}", String::from_utf8_lossy(&script))).map(|()| true)
        }
        Command::Man { out } => man_cmd(&out),
        Command::Record(_) => unreachable!("handled above"),
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) if e.is::<StdoutClosed>() => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("shuttle: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// `shuttle man`: one page for the command and one per subcommand.
fn man_cmd(out: &Path) -> anyhow::Result<bool> {
    prepare_out_dir(out, "man --out")?;
    let cmd = <Cli as clap::CommandFactory>::command();
    let mut pages = vec![("shuttle".to_string(), cmd.clone())];
    for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
        let name = format!("shuttle-{}", sub.get_name());
        pages.push((name.clone(), sub.clone().name(name)));
    }
    let mut written = Vec::new();
    for (name, page) in pages {
        let path = out.join(format!("{name}.1"));
        let mut roff = Vec::new();
        clap_mangen::Man::new(page).render(&mut roff)?;
        std::fs::write(&path, roff)
            .map_err(|e| anyhow::anyhow!("man --out: cannot write {}: {e}", path.display()))?;
        written.push(path);
    }
    // Said once all are written, so that a closed stdout loses no page.
    for path in written {
        outln!("{}", path.display());
    }
    Ok(true)
}

fn schema_cmd(out: &Path) -> anyhow::Result<bool> {
    prepare_out_dir(out, "schema --out")?;
    let files = shuttle_conformance::spec_files();
    for (name, text) in &files {
        let path = out.join(name);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("schema --out: cannot create folder {}", dir.display()))?;
        }
        std::fs::write(&path, text)
            .with_context(|| format!("schema --out: cannot write {}", path.display()))?;
    }
    outln!("{}: {} files", out.display(), files.len());
    Ok(true)
}

/// Makes sure `out` is a folder, creating it when only its last component
/// is missing (a typo in a parent folder must not silently create a tree).
fn prepare_out_dir(out: &Path, what: &str) -> anyhow::Result<()> {
    match std::fs::metadata(out) {
        Ok(m) if m.is_dir() => Ok(()),
        Ok(_) => anyhow::bail!(
            "{what} {}: not a folder (it is a file); name a folder to write into",
            out.display()
        ),
        Err(_) => {
            let parent = match out.parent() {
                Some(p) if !p.as_os_str().is_empty() => p,
                _ => Path::new("."),
            };
            anyhow::ensure!(
                parent.is_dir(),
                "{what} {}: its parent folder {} does not exist; create it first \
                 (only the last folder of the path is created)",
                out.display(),
                parent.display()
            );
            std::fs::create_dir(out)
                .with_context(|| format!("{what} {}: cannot create the folder", out.display()))
        }
    }
}

fn import_cmd(inputs: &[PathBuf], out: &Path) -> anyhow::Result<bool> {
    let files = import::build(inputs)?;
    prepare_out_dir(out, "import --out")?;
    for (name, file) in files {
        let path = out.join(&name);
        std::fs::write(&path, case::to_text(&file))
            .with_context(|| format!("import --out: cannot write {}", path.display()))?;
        outln!("{}: {} cases", path.display(), file.cases.len());
    }
    Ok(true)
}

/// Creates a report file before the run, so that a bad path is reported
/// before the run rather than after it, with its results lost.
fn create_report(path: &Option<PathBuf>, option: &str) -> anyhow::Result<Option<std::fs::File>> {
    path.as_ref()
        .map(|p| {
            std::fs::File::create(p).map_err(|e| {
                let hint = match p.parent() {
                    Some(dir) if !dir.as_os_str().is_empty() && !dir.is_dir() => {
                        format!(" (the folder {} does not exist)", dir.display())
                    }
                    _ => String::new(),
                };
                anyhow::anyhow!(
                    "{option} {}: cannot create the report: {e}{hint}",
                    p.display()
                )
            })
        })
        .transpose()
}

/// Writes a report created by [`create_report`].
fn write_report(
    file: Option<std::fs::File>,
    path: &Option<PathBuf>,
    option: &str,
    text: impl FnOnce() -> String,
) -> anyhow::Result<()> {
    if let (Some(mut f), Some(p)) = (file, path) {
        f.write_all(text().as_bytes())
            .with_context(|| format!("{option} {}: cannot write the report", p.display()))?;
    }
    Ok(())
}

/// The `--run`/`--skip` values that match none of `ids`.
fn unused_selectors(args: &RunArgs, ids: &[&str]) -> anyhow::Result<Vec<String>> {
    let mut unused = Vec::new();
    for (option, values) in [("--run", &args.run), ("--skip", &args.skip)] {
        for v in values {
            let one = Filter::from_globs(std::slice::from_ref(v), &[])?;
            if !ids.iter().any(|id| one.selects(id)) {
                unused.push(format!("{option} {v:?}"));
            }
        }
    }
    Ok(unused)
}

fn run(args: &RunArgs) -> anyhow::Result<bool> {
    let suite = match &args.suite {
        Some(dir) => Suite::load_dir(dir)?,
        None => Suite::embedded()?,
    };
    let filter = Filter::from_globs(&args.run, &args.skip)?;
    let all: Vec<&str> = suite.cases.iter().map(|c| c.id.as_str()).collect();
    let unused = unused_selectors(args, &all)?;
    anyhow::ensure!(
        unused.is_empty(),
        "no case matches {} (of the {} cases; see `shuttle run --list`: a value \
         without `*?[` selects that id and the ids below it, one with them is a glob over \
         the whole id)",
        unused.join(", nor "),
        all.len()
    );
    let ids: Vec<&str> = all
        .iter()
        .copied()
        .filter(|id| filter.selects(id))
        .collect();
    anyhow::ensure!(
        !ids.is_empty(),
        "--run/--skip together select none of the {} cases (see `shuttle run --list`)",
        all.len()
    );
    if args.list {
        for c in suite.cases.iter().filter(|c| filter.selects(&c.id)) {
            outln!("{}  [{:?}, {}]  {}", c.id, c.level, c.body.kind(), c.title);
        }
        outln!("{} cases", ids.len());
        return Ok(true);
    }
    let expected = ExpectedFailures::for_selection(args.expected_failures.as_deref(), &ids)?;
    let json_file = create_report(&args.json, "--json")?;
    let junit_file = create_report(&args.junit, "--junit")?;
    let mut builtin;
    let mut process;
    let testee: &mut dyn Testee = match &args.testee {
        Some(cmd) => {
            process = Process::start_with(
                cmd,
                Duration::from_millis(args.timeout_ms),
                Duration::from_millis(args.start_timeout_ms),
            )
            .with_context(|| format!("--testee {cmd:?}"))?;
            &mut process
        }
        None => {
            builtin = Builtin::default();
            &mut builtin
        }
    };
    let hello = testee.hello().clone();
    outln!(
        "testee: {} {} (features: {})",
        hello.name,
        hello.version,
        hello.features.join(", ")
    );
    let (_, unknown) = hello.features();
    if !unknown.is_empty() {
        let known: Vec<&str> = Feature::ALL.iter().map(|f| f.as_str()).collect();
        outln!(
            "warning: the testee declares features this harness does not know, ignored: {} (known: {})",
            unknown.join(", "),
            known.join(", ")
        );
    }
    let selected = ids.len();
    let on_terminal = std::io::stderr().is_terminal();
    let bar = if on_terminal && !args.quiet {
        indicatif::ProgressBar::new(selected as u64)
    } else {
        indicatif::ProgressBar::hidden()
    };
    let started = Instant::now();
    let verbose = args.verbose;
    let mut printed = Ok(());
    let (mut done, mut failing, mut said) = (0usize, 0usize, Instant::now());
    let deadline = Duration::from_secs(args.deadline_s);
    let mut broken_in_a_row = 0usize;
    let mut stopped = None;
    let results = runner::run_suite_while(testee, &suite.cases, &filter, &expected, |r| {
        bar.inc(1);
        done += 1;
        failing += usize::from(r.outcome.is_failure() && !r.expected_failure);
        match &r.outcome {
            Outcome::Crashed(_) | Outcome::TimedOut(_) => broken_in_a_row += 1,
            _ => broken_in_a_row = 0,
        }
        if args.give_up_after > 0 && broken_in_a_row >= args.give_up_after {
            stopped = Some(format!(
                "gave up: the testee crashed or timed out on {broken_in_a_row} cases in a row (--give-up-after)"
            ));
        } else if started.elapsed() >= deadline {
            stopped = Some(format!(
                "stopped at the deadline of {} s (--deadline-s)",
                args.deadline_s
            ));
        }
        if !on_terminal && !args.quiet && said.elapsed() >= PROGRESS_EVERY {
            said = Instant::now();
            eprintln!(
                "shuttle run: {done} of {selected} cases, {failing} failed so far ({:.0} s)",
                started.elapsed().as_secs_f64()
            );
        }
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
            printed = bar.suspend(|| write_stdout(format_args!("{line}\n")));
        }
        printed.is_ok() && stopped.is_none()
    });
    bar.finish_and_clear();
    printed?;
    let elapsed = started.elapsed();
    write_report(json_file, &args.json, "--json", || {
        report::json(&hello, &results)
    })?;
    write_report(junit_file, &args.junit, "--junit", || {
        report::junit(&hello, &results)
    })?;
    let totals = Totals::of(&results);
    let mut by_kind = std::collections::BTreeMap::<&str, Totals>::new();
    for r in &results {
        let t = Totals::of(std::slice::from_ref(r));
        let e = by_kind.entry(r.kind).or_default();
        e.passed += t.passed;
        e.failed += t.failed;
        e.expected_failures += t.expected_failures;
        e.skipped += t.skipped;
    }
    for (kind, t) in &by_kind {
        outln!("  {kind:<8} {}", summary(t));
    }
    let mut micros: Vec<u64> = results
        .iter()
        .filter(|r| !matches!(r.outcome, Outcome::NotApplicable(_)))
        .map(|r| r.micros)
        .collect();
    micros.sort_unstable();
    let median = micros.get(micros.len() / 2).copied().unwrap_or(0);
    outln!(
        "  {} cases in {:.2?} (median answer {median} µs)",
        results.len(),
        elapsed
    );
    // A run proves something only if required cases were answered.
    let required = |r: &&runner::CaseResult| r.level == case::Level::Required;
    let required_ran = results
        .iter()
        .filter(required)
        .filter(|r| !matches!(r.outcome, Outcome::Skipped(_) | Outcome::NotApplicable(_)))
        .count();
    let required_selected = suite
        .cases
        .iter()
        .filter(|c| filter.selects(&c.id) && c.level == case::Level::Required)
        .count();
    outln!("  {required_ran} of {required_selected} required cases ran");
    let mut ok = totals.failed == 0;
    if let Some(why) = &stopped {
        outln!(
            "  {why}; {} of {selected} cases were not run",
            selected - results.len()
        );
        ok = false;
    }
    let answered = results
        .iter()
        .filter(|r| !matches!(r.outcome, Outcome::Skipped(_) | Outcome::NotApplicable(_)))
        .count();
    if answered == 0 || (required_selected > 0 && required_ran == 0) {
        outln!(
            "  the run proves nothing: no {}case was answered (the testee declares features: {}; it skipped or could not take the rest)",
            if answered == 0 { "" } else { "required " },
            if hello.features.is_empty() { "none".to_string() } else { hello.features.join(", ") }
        );
        ok = false;
    }
    outln!("{}", summary(&totals));
    Ok(ok)
}

/// `P passed, F failed[, X expected failures], S skipped`: the same words
/// for the per-kind lines and the total, so that they add up.
fn summary(t: &Totals) -> String {
    let xfail = match t.expected_failures {
        0 => String::new(),
        1 => ", 1 expected failure".to_string(),
        n => format!(", {n} expected failures"),
    };
    format!(
        "{} passed, {} failed{xfail}, {} skipped",
        t.passed, t.failed, t.skipped
    )
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("      {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}
