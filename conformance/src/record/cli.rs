//! The `shuttle record` command.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context as _;

use super::assemble::{self, Assembled, Options, Severity};
use super::sanitize::Rules;
use super::tap::{self, Process};
use super::Side;

/// `shuttle record`: run a tractor program and capture the dialogs of all
/// its processes, or turn tap logs or a packet capture into a capture.
#[derive(clap::Args, Debug)]
#[command(after_help = "\
Exit status: the program's own status when it failed (128+N when signal N \
ended it); otherwise 1 when the recording found a problem (two copies of a \
frame that differ, a stream that is not tractor framing), 2 when no capture \
could be written, 0 when all went well.

The program runs in a process group of its own; SIGINT, SIGTERM and SIGHUP \
sent to shuttle are passed on to it, and the capture is written after it \
ends. Its standard streams are the command's own.")]
pub struct Args {
    /// The capture to write (`tractor-capture/2`); its `.txt` rendering is
    /// written beside it.
    #[arg(short, long, value_name = "FILE")]
    pub out: PathBuf,
    /// Read this packet capture (pcap or pcapng, e.g. `tcpdump -i lo -w
    /// FILE`) instead of running a program.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["command", "from_logs"])]
    pub pcap: Option<PathBuf>,
    /// Assemble the tap logs in this folder (kept by `--keep-logs`)
    /// instead of running a program.
    #[arg(long, value_name = "DIR", conflicts_with = "command")]
    pub from_logs: Option<PathBuf>,
    /// Keep the tap logs in this folder (created; must be empty).
    #[arg(long, value_name = "DIR")]
    pub keep_logs: Option<PathBuf>,
    /// The capture's scenario name (default: the stem of --out).
    #[arg(long)]
    pub scenario: Option<String>,
    /// The capture's description (default: the command and how it ended).
    #[arg(long)]
    pub description: Option<String>,
    /// Replace machine paths (the program's folder, the Python installation
    /// and virtual environment, the runtime and home folders) and the host
    /// name inside frames by neutral ones, so that the capture can be
    /// committed.
    #[arg(long)]
    pub sanitize: bool,
    /// Write one capture per pytest test into the folder --out (named
    /// after the test; connections opened outside any test go to
    /// `outside-tests.json`). For recording a test suite: `shuttle record
    /// --split-by-test -o DIR -- python -m pytest ...`.
    #[arg(long)]
    pub split_by_test: bool,
    /// The payload specs of typed endpoints, which never travel on the
    /// wire, to put in the capture's `pld_specs` (so that `shuttle check`
    /// applies them): a JSON array in that field's format, or a capture
    /// whose `pld_specs` to take.
    #[arg(long, value_name = "FILE")]
    pub pld_specs: Option<PathBuf>,
    /// Keep only the channels with an end of this actor name.
    #[arg(long, value_name = "NAME")]
    pub only_actor: Option<String>,
    /// Keep only frames sent at or after this many milliseconds from the
    /// first frame.
    #[arg(long, value_name = "MS")]
    pub from_ms: Option<f64>,
    /// Keep only frames sent before this many milliseconds from the first
    /// frame.
    #[arg(long, value_name = "MS")]
    pub to_ms: Option<f64>,
    /// Largest frame body kept; a larger announced frame ends that
    /// direction of its channel.
    #[arg(long, value_name = "BYTES", default_value_t = shuttle::frame::DEFAULT_MAX_FRAME)]
    pub max_frame: usize,
    /// Most bytes of frames one process logs.
    #[arg(long, value_name = "BYTES", default_value_t = 1 << 30)]
    pub max_log_bytes: u64,
    /// End the program (SIGINT, then SIGKILL 3 s later) after this many
    /// seconds.
    #[arg(long, value_name = "SECONDS")]
    pub timeout_s: Option<f64>,
    /// The program and its arguments.
    #[arg(last = true, value_name = "COMMAND")]
    pub command: Vec<String>,
}

/// How the recorded program ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ended {
    /// It exited with this status.
    Exited(i32),
    /// A signal ended it.
    Signalled(i32),
    /// No program was run (logs or a packet capture were read).
    NotRun,
}

impl Ended {
    fn describe(self) -> String {
        match self {
            Ended::Exited(c) => format!("exited with status {c}"),
            Ended::Signalled(s) => format!("was ended by signal {s}"),
            Ended::NotRun => "was not run".into(),
        }
    }

    fn failed(self) -> Option<u8> {
        match self {
            Ended::Exited(0) | Ended::NotRun => None,
            Ended::Exited(c) => Some(u8::try_from(c).unwrap_or(1).max(1)),
            Ended::Signalled(s) => Some(u8::try_from(128 + s).unwrap_or(255)),
        }
    }
}

/// Runs `shuttle record`.
pub fn main(args: &Args) -> ExitCode {
    match run(args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("shuttle record: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let scenario = match &args.scenario {
        Some(s) => s.clone(),
        None => args
            .out
            .file_stem()
            .and_then(|s| s.to_str())
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .with_context(|| format!("--out {}: no file name", args.out.display()))?,
    };
    if let Some(parent) = args
        .out
        .parent()
        .filter(|p| !p.as_os_str().is_empty() && !args.split_by_test)
    {
        if !parent.is_dir() {
            anyhow::bail!(
                "--out {}: folder {} does not exist",
                args.out.display(),
                parent.display()
            );
        }
    }
    let (sides, processes, ended, what) = if let Some(pcap) = &args.pcap {
        let sides = super::pcap::read(pcap, &super::pcap::Limits::default())
            .with_context(|| format!("--pcap {}", pcap.display()))?;
        (
            sides,
            Vec::new(),
            Ended::NotRun,
            format!("the packet capture {}", file_name(pcap)),
        )
    } else if let Some(dir) = &args.from_logs {
        let (sides, processes) = read_logs(dir, args.max_log_bytes)?;
        (
            sides,
            processes,
            Ended::NotRun,
            format!("the tap logs in {}", file_name(dir)),
        )
    } else {
        if args.command.is_empty() {
            anyhow::bail!(
                "nothing to record: give a command after `--`, or --pcap FILE, or --from-logs DIR"
            );
        }
        let logs = match &args.keep_logs {
            Some(dir) => {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("--keep-logs {}", dir.display()))?;
                if std::fs::read_dir(dir)?.next().is_some() {
                    anyhow::bail!("--keep-logs {}: the folder is not empty", dir.display());
                }
                Logs::Kept(dir.clone())
            }
            None => Logs::Temp(tempfile::tempdir().context("a temporary folder for the tap logs")?),
        };
        let tap_dir = tempfile::tempdir().context("a temporary folder for the tap")?;
        std::fs::write(tap_dir.path().join("sitecustomize.py"), tap::SOURCE)
            .context("writing the tap")?;
        let ended = run_program(args, tap_dir.path(), logs.path())?;
        eprintln!(
            "shuttle record: `{}` {}",
            args.command.join(" "),
            ended.describe()
        );
        let (sides, processes) = read_logs(logs.path(), args.max_log_bytes)?;
        let what = format!("`{}`, which {}", args.command.join(" "), ended.describe());
        (sides, processes, ended, what)
    };
    let root = root_process(&processes);
    let mut source = serde_json::Map::new();
    if args.pcap.is_some() {
        source.insert("impl".into(), "unknown".into());
        source.insert("via".into(), "pcap".into());
    } else {
        source.insert("impl".into(), "python-tractor".into());
        if let Some(p) = root {
            for (key, dist) in [("version", "tractor")] {
                if let Some(v) = p.versions.get(dist) {
                    source.insert(key.into(), v.clone().into());
                }
            }
            source.insert("python".into(), p.python.clone().into());
            for dist in ["msgspec", "trio"] {
                if let Some(v) = p.versions.get(dist) {
                    source.insert(dist.into(), v.clone().into());
                }
            }
        }
    }
    let mut options = Options {
        scenario,
        description: args
            .description
            .clone()
            .unwrap_or_else(|| format!("Recorded by `shuttle record` from {what}.")),
        source,
        max_frame: args.max_frame,
        only_actor: args.only_actor.clone(),
        window_ms: match (args.from_ms, args.to_ms) {
            (None, None) => None,
            (from, to) => Some((from.unwrap_or(0.0), to.unwrap_or(f64::INFINITY))),
        },
    };
    let pld_specs = match &args.pld_specs {
        Some(path) => read_pld_specs(path)?,
        None => Vec::new(),
    };
    let rules = args.sanitize.then(|| rules_for(&processes));
    if let Some(rules) = &rules {
        eprintln!(
            "shuttle record: --sanitize replaces {}",
            rules
                .pairs()
                .iter()
                .map(|(from, to)| format!("{from} -> {to}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let make = |sides: &[Side], options: &Options, out: &Path| -> anyhow::Result<Assembled> {
        let mut assembled = assemble::assemble(sides, options);
        assembled.capture.pld_specs = pld_specs.clone();
        order_actors(&mut assembled.capture, &processes);
        if let Some(rules) = &rules {
            rules.capture(&mut assembled.capture);
        }
        write(out, &assembled)?;
        Ok(assembled)
    };
    let mut problems = false;
    if args.split_by_test {
        // One capture per test, named after it, in the folder --out.
        std::fs::create_dir_all(&args.out)
            .with_context(|| format!("--out {}", args.out.display()))?;
        let mut groups: std::collections::BTreeMap<String, Vec<Side>> = Default::default();
        for side in sides {
            let group = side.group.clone().unwrap_or_else(|| "outside-tests".into());
            groups.entry(group).or_default().push(side);
        }
        let mut channels = 0;
        let mut frames = 0;
        let mut with_notes = 0;
        let mut names = std::collections::HashSet::new();
        for (group, sides) in &groups {
            let mut stem = file_stem_of(group);
            while !names.insert(stem.clone()) {
                stem.push('_');
            }
            options.scenario = stem.clone();
            options.description =
                format!("Recorded by `shuttle record` from {what}: the connections of {group}.");
            let assembled = make(sides, &options, &args.out.join(format!("{stem}.json")))?;
            channels += assembled.capture.channels.len();
            frames += assembled
                .capture
                .channels
                .iter()
                .map(|c| c.frames.len())
                .sum::<usize>();
            if assembled
                .notes
                .iter()
                .any(|n| n.severity >= Severity::Warning)
            {
                with_notes += 1;
                for note in assembled
                    .notes
                    .iter()
                    .filter(|n| n.severity >= Severity::Warning)
                {
                    eprintln!("shuttle record: {stem}: {note}");
                }
            }
            problems |= assembled.has_problems();
        }
        eprintln!(
            "shuttle record: {} process(es) recorded; {} capture(s) in {} ({channels} channels, {frames} frames); {with_notes} with warnings",
            processes.len(),
            groups.len(),
            args.out.display()
        );
    } else {
        let assembled = make(&sides, &options, &args.out)?;
        eprintln!(
            "shuttle record: wrote {} and {}",
            args.out.display(),
            args.out.with_extension("txt").display()
        );
        report(&assembled, processes.len());
        problems = assembled.has_problems();
    }
    Ok(match ended.failed() {
        Some(code) => ExitCode::from(code),
        None if problems => ExitCode::from(1),
        None => ExitCode::SUCCESS,
    })
}

/// Most bytes of a `--pld-specs` file.
const MAX_PLD_SPECS_FILE: u64 = 64 << 20;

/// The `pld_specs` of `--pld-specs FILE`: an array, or a capture's field.
fn read_pld_specs(path: &Path) -> anyhow::Result<Vec<serde_json::Value>> {
    let shown = path.display();
    let meta = std::fs::metadata(path).with_context(|| format!("--pld-specs {shown}"))?;
    if !meta.is_file() || meta.len() > MAX_PLD_SPECS_FILE {
        anyhow::bail!("--pld-specs {shown}: not a regular file of at most 64 MiB");
    }
    let text = std::fs::read_to_string(path).with_context(|| format!("--pld-specs {shown}"))?;
    let value: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("--pld-specs {shown}: not JSON"))?;
    let specs = match value {
        serde_json::Value::Array(a) => a,
        serde_json::Value::Object(mut o) => match o.remove("pld_specs") {
            Some(serde_json::Value::Array(a)) => a,
            _ => anyhow::bail!("--pld-specs {shown}: an object without a \"pld_specs\" array"),
        },
        _ => anyhow::bail!("--pld-specs {shown}: neither an array nor a capture"),
    };
    for (i, spec) in specs.iter().enumerate() {
        for key in ["ns", "func", "spec"] {
            if spec.get(key).and_then(|v| v.as_str()).is_none() {
                anyhow::bail!("--pld-specs {shown}: entry {i} has no string \"{key}\"");
            }
        }
    }
    Ok(specs)
}

/// A file stem for a test id (`tests/test_rpc.py::test_x[tcp-1]`):
/// memory addresses (` at 0x7f..`) left out, letters, digits, `-` and `_`
/// kept, anything else `_`, at most 150 characters.
fn file_stem_of(group: &str) -> String {
    // Parameter ids naming objects carry their memory address, which
    // changes between runs.
    static ADDRESS: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let address = ADDRESS.get_or_init(|| regex::Regex::new(" at 0x[0-9a-fA-F]+").expect("a regex"));
    let group = address.replace_all(group, "");
    let mut stem: String = group
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if stem.len() > 150 {
        stem.truncate(150);
    }
    stem
}

fn file_name(p: &Path) -> String {
    p.display().to_string()
}

enum Logs {
    Kept(PathBuf),
    Temp(tempfile::TempDir),
}

impl Logs {
    fn path(&self) -> &Path {
        match self {
            Logs::Kept(p) => p,
            Logs::Temp(t) => t.path(),
        }
    }
}

/// Most logs read from one folder.
const MAX_LOGS: usize = 100_000;

/// Reads every `*.tap` log of a folder, oldest process first.
pub fn read_logs(dir: &Path, max_bytes: u64) -> anyhow::Result<(Vec<Side>, Vec<Process>)> {
    let mut paths = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let entry = entry.with_context(|| format!("reading {}", dir.display()))?;
        let path = entry.path();
        if path.extension().is_some_and(|e| e == "tap") {
            if paths.len() == MAX_LOGS {
                anyhow::bail!("{}: more than {MAX_LOGS} tap logs", dir.display());
            }
            paths.push(path);
        }
    }
    // `PID-T.tap`: T is the process's clock at its first record.
    let started = |p: &PathBuf| {
        p.file_stem()
            .and_then(|s| s.to_str())
            .and_then(|s| s.rsplit('-').next())
            .and_then(|t| t.parse::<u64>().ok())
            .unwrap_or(u64::MAX)
    };
    paths.sort_by_key(|p| (started(p), p.clone()));
    let mut sides = Vec::new();
    let mut processes = Vec::new();
    for path in paths {
        let log = tap::read_log(&path, max_bytes)?;
        processes.extend(log.process);
        sides.extend(log.sides);
    }
    Ok((sides, processes))
}

/// The process the others descend from (the first one whose parent is not
/// recorded).
fn root_process(processes: &[Process]) -> Option<&Process> {
    processes
        .iter()
        .find(|p| !processes.iter().any(|q| q.pid == p.ppid))
        .or(processes.first())
}

/// Lists the actors root first, then by depth in the process tree and by
/// start; probe identities last.
fn order_actors(capture: &mut crate::capture::Capture, processes: &[Process]) {
    let depth = |pid: u64| {
        let mut depth = 0usize;
        let mut cur = pid;
        while let Some(p) = processes.iter().find(|p| p.pid == cur) {
            if depth > processes.len() || !processes.iter().any(|q| q.pid == p.ppid) {
                break;
            }
            depth += 1;
            cur = p.ppid;
        }
        depth
    };
    let started = |pid: u64| processes.iter().position(|p| p.pid == pid);
    capture.actors.sort_by_key(|a| {
        (
            a.probe,
            a.pid.map_or(usize::MAX, depth),
            a.pid.and_then(started).unwrap_or(usize::MAX),
        )
    });
}

/// The replacements `--sanitize` makes.
fn rules_for(processes: &[Process]) -> Rules {
    let mut rules = Rules::default();
    for p in processes {
        rules.add(&p.cwd, "/srv/app");
        rules.add(&p.prefix, "/opt/venv");
        rules.add(&p.base_prefix, "/usr");
        rules.add(&p.runtime_dir, "/run/user/1000");
        rules.add(&p.home, "/home/user");
        rules.add(&p.host, "host");
    }
    if processes.is_empty() {
        // A packet capture: the folders of this machine, as far as known.
        if let Ok(cwd) = std::env::current_dir() {
            rules.add(&cwd.to_string_lossy(), "/srv/app");
        }
        if let Ok(dir) = std::env::var("XDG_RUNTIME_DIR") {
            rules.add(&dir, "/run/user/1000");
        }
        if let Ok(home) = std::env::var("HOME") {
            rules.add(&home, "/home/user");
        }
    }
    rules
}

fn write(out: &Path, assembled: &Assembled) -> anyhow::Result<()> {
    let mut json = serde_json::to_string_pretty(&assembled.capture)?;
    json.push('\n');
    let json = json_with_one_space_indent(&json);
    let txt = out.with_extension("txt");
    std::fs::write(out, json).with_context(|| format!("writing {}", out.display()))?;
    std::fs::write(&txt, super::txt::render(&assembled.capture))
        .with_context(|| format!("writing {}", txt.display()))?;
    Ok(())
}

/// The committed captures indent by one space per level.
fn json_with_one_space_indent(pretty: &str) -> String {
    let mut out = String::with_capacity(pretty.len());
    for line in pretty.lines() {
        let spaces = line.len() - line.trim_start_matches(' ').len();
        out.extend(std::iter::repeat_n(' ', spaces / 2));
        out.push_str(&line[spaces..]);
        out.push('\n');
    }
    out
}

fn report(a: &Assembled, processes: usize) {
    let frames: usize = a.capture.channels.iter().map(|c| c.frames.len()).sum();
    eprintln!(
        "shuttle record: {processes} process(es) recorded, {} connection end(s), {} channel(s) ({} seen from one end only), {frames} frame(s){}",
        a.connections,
        a.capture.channels.len(),
        a.one_sided,
        if a.unread > 0 {
            format!(", {} never read by their receiver", a.unread)
        } else {
            String::new()
        }
    );
    for note in &a.notes {
        if note.severity >= Severity::Info {
            eprintln!("shuttle record: {note}");
        }
    }
}

/// Runs the program with the tap, passing signals on, until it and every
/// process of its group are gone.
fn run_program(args: &Args, tap_dir: &Path, log_dir: &Path) -> anyhow::Result<Ended> {
    use std::os::unix::process::{CommandExt as _, ExitStatusExt as _};
    let mut python_path = std::ffi::OsString::from(tap_dir);
    if let Some(old) = std::env::var_os("PYTHONPATH").filter(|p| !p.is_empty()) {
        python_path.push(":");
        python_path.push(old);
    }
    let mut child = std::process::Command::new(&args.command[0])
        .args(&args.command[1..])
        .env("PYTHONPATH", python_path)
        .env(tap::DIR_VAR, log_dir)
        .env(tap::MAX_BYTES_VAR, args.max_log_bytes.to_string())
        .process_group(0)
        .spawn()
        .with_context(|| format!("cannot start `{}`", args.command[0]))?;
    let group = nix::unistd::Pid::from_raw(i32::try_from(child.id()).context("pid")?);
    let signals = signal_hook::iterator::Signals::new([
        signal_hook::consts::SIGINT,
        signal_hook::consts::SIGTERM,
        signal_hook::consts::SIGHUP,
    ]);
    let mut signals = signals.ok();
    let deadline = args
        .timeout_s
        .map(|s| Instant::now() + Duration::from_secs_f64(s.clamp(0.0, 1e9)));
    let mut interrupted_at: Option<Instant> = None;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if let Some(signals) = signals.as_mut() {
            for sig in signals.pending() {
                let _ =
                    nix::sys::signal::killpg(group, nix::sys::signal::Signal::try_from(sig).ok());
            }
        }
        if let (Some(d), None) = (deadline, interrupted_at) {
            if Instant::now() >= d {
                eprintln!("shuttle record: --timeout-s reached: sending SIGINT to the program");
                let _ = nix::sys::signal::killpg(group, nix::sys::signal::Signal::SIGINT);
                interrupted_at = Some(Instant::now());
            }
        }
        if interrupted_at.is_some_and(|t| t.elapsed() >= Duration::from_secs(3)) {
            eprintln!("shuttle record: the program did not end 3 s after SIGINT: SIGKILL");
            let _ = nix::sys::signal::killpg(group, nix::sys::signal::Signal::SIGKILL);
            interrupted_at = Some(Instant::now() + Duration::from_secs(3600));
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    // Processes of the program still running (subactors left behind) get
    // a moment to end, then are killed: their logs are read after.
    let since = Instant::now();
    while nix::sys::signal::killpg(group, None).is_ok() {
        if since.elapsed() >= Duration::from_secs(2) {
            eprintln!(
                "shuttle record: processes of the program were still running 2 s after it ended: SIGKILL"
            );
            let _ = nix::sys::signal::killpg(group, nix::sys::signal::Signal::SIGKILL);
            std::thread::sleep(Duration::from_millis(100));
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(match (status.code(), status.signal()) {
        (Some(c), _) => Ended::Exited(c),
        (None, Some(s)) => Ended::Signalled(s),
        (None, None) => Ended::Exited(1),
    })
}
