//! The `shuttle replay` and `shuttle import-replay` commands.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::peer::Peer;
use super::replay::{self, ReplayCase};
use super::robust::{self, RobustCase};
use super::session::Session;
use super::transport::{self, Address, Listener};

/// Arguments of `shuttle replay`.
#[derive(clap::Args, Debug, Clone)]
pub struct ReplayArgs {
    /// Connect to a peer listening here (`tcp://HOST:PORT` or
    /// `uds:///PATH`); the harness plays the caller. One connection per case.
    #[arg(long, value_name = "ADDR", required_unless_present_any = ["listen", "list"], conflicts_with = "listen")]
    pub connect: Option<Address>,
    /// Listen here and play the caller (the parent) on every connection the
    /// peer makes, one case per connection. Robustness cases need
    /// `--connect` and are skipped.
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<Address>,
    /// With `--connect`: the shell command that runs the peer. The harness
    /// starts it before the first case and again whenever it has exited
    /// (a tractor actor exits after `self.cancel`, or dies of a hostile
    /// frame), and stops it at the end; a case during which the peer died
    /// reports how it exited and the last lines of its stderr.
    #[arg(long, value_name = "COMMAND", requires = "connect")]
    pub peer_command: Option<String>,
    /// Cases known to fail against this peer: one `GLOB [TEXT]` per line,
    /// `#` comments; a listed case must fail, and its failure must contain
    /// TEXT when given. A listed case that passes, fails otherwise, or an
    /// entry that matches no selected case fails the run.
    #[arg(long, value_name = "FILE")]
    pub expected_failures: Option<PathBuf>,
    /// Folder of replay case files to run instead of the embedded ones.
    #[arg(long)]
    pub suite: Option<PathBuf>,
    /// Run only cases whose id matches (repeatable): a glob such as
    /// `replay/portal_*`, or an id, which also selects the ids below it
    /// (`robust` selects every `robust/...` case).
    #[arg(long = "run", value_name = "ID|GLOB")]
    pub run: Vec<String>,
    /// Skip cases whose id matches (repeatable; id or glob as `--run`).
    #[arg(long = "skip", value_name = "ID|GLOB")]
    pub skip: Vec<String>,
    /// How long to wait for each expected frame (and, with `--connect`, for
    /// the connection), in milliseconds.
    #[arg(long, default_value_t = 5000)]
    pub timeout_ms: u64,
    /// With `--listen`: how long to wait for the peer to connect for each
    /// case, in milliseconds (a peer that reconnects between cases, e.g.
    /// `shuttle serve --connect`, may need longer than a frame does).
    #[arg(long, value_name = "MS", default_value_t = 10_000, requires = "listen")]
    pub accept_timeout_ms: u64,
    /// Write a JSON report (outcome, failure and transcript per case).
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// List the selected cases instead of running them.
    #[arg(long)]
    pub list: bool,
    /// Print the transcript of every case, not only of failures.
    #[arg(short, long)]
    pub verbose: bool,
}

/// Arguments of `shuttle import-replay`.
#[derive(clap::Args, Debug, Clone)]
pub struct ImportReplayArgs {
    /// Capture files (each becomes a case from its first channel, the
    /// spawn channel of a recording), or folders: of a folder, the
    /// captures of the scenarios the suite replays (`fixtures/captures/
    /// python-tractor` gives the embedded cases).
    #[arg(required = true)]
    pub captures: Vec<PathBuf>,
    /// Folder to write the replay case files into.
    #[arg(long)]
    pub out: PathBuf,
}

/// The outcome of one live case.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase", tag = "outcome", content = "detail")]
pub enum LiveOutcome {
    /// Every expectation met.
    Passed,
    /// Why it failed.
    Failed(String),
    /// Why it was not run.
    Skipped(String),
}

/// One case's result.
#[derive(Clone, Debug, Serialize)]
pub struct LiveResult {
    /// The case id.
    pub id: String,
    /// Its title.
    pub title: String,
    /// Passed, failed or skipped.
    #[serde(flatten)]
    pub outcome: LiveOutcome,
    /// A failure the expected-failures list names.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub expected_failure: bool,
    /// The frames exchanged.
    pub transcript: Vec<String>,
    /// Wall time in milliseconds.
    pub millis: u64,
}

/// Runs `shuttle import-replay`.
pub fn import_replay(args: &ImportReplayArgs) -> anyhow::Result<bool> {
    std::fs::create_dir_all(&args.out)?;
    let mut built = Vec::new();
    for input in &args.captures {
        if input.is_dir() {
            built.extend(super::gen::build(input)?);
        } else {
            built.push(super::gen::build_file(input)?);
        }
    }
    for (name, case) in built {
        let path = args.out.join(&name);
        std::fs::write(&path, super::gen::to_text(&case))?;
        println!("{}: {} steps", path.display(), case.steps.len());
    }
    Ok(true)
}

/// Runs `shuttle replay`: prints one line per case (with the transcript of
/// failures) and `N passed, N failed, N skipped`; true when nothing failed.
pub fn run(args: &ReplayArgs) -> anyhow::Result<bool> {
    let cases = match &args.suite {
        Some(dir) => replay::load_dir(dir)?,
        None => replay::embedded()?,
    };
    let filter = crate::runner::Filter::from_globs(&args.run, &args.skip)?;
    let selects = |id: &str| filter.selects(id);
    let cases: Vec<ReplayCase> = cases.into_iter().filter(|c| selects(&c.id)).collect();
    let robust: Vec<RobustCase> = robust::CASES
        .iter()
        .filter(|c| selects(c.id))
        .copied()
        .collect();
    let ids: Vec<&str> = cases
        .iter()
        .map(|c| c.id.as_str())
        .chain(robust.iter().map(|c| c.id))
        .collect();
    let expected =
        crate::runner::ExpectedFailures::for_selection(args.expected_failures.as_deref(), &ids)?;
    if args.list {
        for c in &cases {
            println!("{}  {}  [{}]", c.id, c.title, c.endpoints.join(", "));
        }
        for c in &robust {
            println!("{}  {}", c.id, c.title);
        }
        println!("{} cases", cases.len() + robust.len());
        return Ok(true);
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let timeout = Duration::from_millis(args.timeout_ms.max(1));
    let verbose = args.verbose;
    let results = rt.block_on(async {
        let mut results = Vec::new();
        let mut report = |mut r: LiveResult| {
            judge(&expected, &mut r);
            print_result(&r, verbose);
            results.push(r);
        };
        if let Some(addr) = &args.connect {
            let mut peer = match &args.peer_command {
                Some(cmd) => {
                    println!("peer: {addr}, run by the harness as `{cmd}` (the harness connects and plays the caller)");
                    Peer::spawned(addr.clone(), cmd.clone())
                }
                None => {
                    println!("peer: {addr} (the harness connects and plays the caller)");
                    Peer::at(addr.clone())
                }
            };
            for case in &cases {
                let mut r = replay_connect(case, &mut peer, timeout).await;
                note_death(&mut peer, &mut r).await;
                report(r);
            }
            for case in &robust {
                let started = Instant::now();
                let (r, transcript) = robust::run(case, &mut peer, timeout).await;
                let mut r = LiveResult {
                    id: case.id.into(),
                    title: case.title.into(),
                    outcome: match r {
                        Ok(()) => LiveOutcome::Passed,
                        Err(e) => LiveOutcome::Failed(e),
                    },
                    expected_failure: false,
                    transcript,
                    millis: started.elapsed().as_millis() as u64,
                };
                note_death(&mut peer, &mut r).await;
                report(r);
            }
            if args.peer_command.is_some() {
                println!("(the peer command was started {} times)", peer.starts());
            }
            peer.stop().await;
        } else if let Some(addr) = &args.listen {
            let listener = Listener::bind(addr).await?;
            println!(
                "listening on {} (the peer connects; the harness plays the caller)",
                listener.local_addr()
            );
            let accept_timeout = Duration::from_millis(args.accept_timeout_ms.max(1));
            for case in &cases {
                report(replay_listen(case, &listener, timeout, accept_timeout).await);
            }
            for case in &robust {
                report(LiveResult {
                    id: case.id.into(),
                    title: case.title.into(),
                    outcome: LiveOutcome::Skipped("robustness cases need --connect".into()),
                    expected_failure: false,
                    transcript: vec![],
                    millis: 0,
                });
            }
        }
        anyhow::Ok(results)
    })?;
    let count = |f: fn(&LiveOutcome) -> bool| results.iter().filter(|r| f(&r.outcome)).count();
    let passed = count(|o| matches!(o, LiveOutcome::Passed));
    let xfailed = results.iter().filter(|r| r.expected_failure).count();
    let failed = count(|o| matches!(o, LiveOutcome::Failed(_))) - xfailed;
    let skipped = count(|o| matches!(o, LiveOutcome::Skipped(_)));
    if let Some(p) = &args.json {
        let peer = args
            .connect
            .as_ref()
            .or(args.listen.as_ref())
            .map(|a| a.to_string());
        let doc = serde_json::json!({
            "format": "shuttle-live-report/1",
            "peer": peer,
            "mode": if args.connect.is_some() { "connect" } else { "listen" },
            "totals": {"passed": passed, "failed": failed, "skipped": skipped, "expected_failures": xfailed},
            "results": results,
        });
        std::fs::write(p, serde_json::to_string_pretty(&doc)? + "\n")?;
    }
    if xfailed > 0 {
        println!(
            "{passed} passed, {failed} failed, {skipped} skipped, {xfailed} failed as expected"
        );
    } else {
        println!("{passed} passed, {failed} failed, {skipped} skipped");
    }
    Ok(failed == 0)
}

/// Applies the expected-failures list to one result.
fn judge(expected: &crate::runner::ExpectedFailures, r: &mut LiveResult) {
    let failure = match &r.outcome {
        LiveOutcome::Failed(why) => Some(why.as_str()),
        _ => None,
    };
    let passed = r.outcome == LiveOutcome::Passed;
    match expected.judge(&r.id, failure, passed) {
        crate::runner::Listed::No => {}
        crate::runner::Listed::AsExpected => r.expected_failure = true,
        crate::runner::Listed::Otherwise(why) => r.outcome = LiveOutcome::Failed(why),
    }
}

/// Adds to a failed case how the peer command died during it, if it did.
async fn note_death(peer: &mut Peer, r: &mut LiveResult) {
    let failed = matches!(r.outcome, LiveOutcome::Failed(_));
    if let Some(death) = peer.death(failed).await {
        if let LiveOutcome::Failed(why) = &mut r.outcome {
            why.push('\n');
            why.push_str(&death);
        }
    }
}

fn print_result(r: &LiveResult, verbose: bool) {
    let transcript = || {
        r.transcript
            .iter()
            .map(|l| format!("        {l}"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    match &r.outcome {
        LiveOutcome::Passed => {
            println!("ok    {}  ({} ms)", r.id, r.millis);
            if verbose {
                println!("{}", transcript());
            }
        }
        LiveOutcome::Failed(why) if r.expected_failure => {
            println!("xfail {}  (an expected failure)", r.id);
            if verbose {
                for l in why.lines() {
                    println!("      {l}");
                }
            }
        }
        LiveOutcome::Failed(why) => {
            println!("FAIL  {}  {}", r.id, r.title);
            for l in why.lines() {
                println!("      {l}");
            }
            println!("      transcript:\n{}", transcript());
        }
        LiveOutcome::Skipped(why) => println!("skip  {}  ({why})", r.id),
    }
}

async fn replay_connect(case: &ReplayCase, peer: &mut Peer, timeout: Duration) -> LiveResult {
    let started = Instant::now();
    let mut retries = 0usize;
    let retried = |n: usize| -> Vec<String> {
        if n == 0 {
            vec![]
        } else {
            vec![format!(
                "   ({n} earlier connection(s) closed by the peer before any frame; retried)"
            )]
        }
    };
    loop {
        let left = timeout
            .saturating_sub(started.elapsed())
            .max(Duration::from_millis(1));
        let conn = match peer.connect(left).await {
            Ok(conn) => conn,
            Err(e) => {
                return LiveResult {
                    id: case.id.clone(),
                    title: case.title.clone(),
                    outcome: LiveOutcome::Failed(format!(
                        "cannot connect to {}: {e} (the peer is not running, or it died)",
                        peer.addr()
                    )),
                    expected_failure: false,
                    transcript: retried(retries),
                    millis: started.elapsed().as_millis() as u64,
                }
            }
        };
        let mut s = Session::new(conn);
        let r = replay::play(case, &mut s, timeout).await;
        // A peer restarting between cases (a tractor actor exits after
        // `self.cancel`) may take a connection and drop it unanswered.
        if r.is_err() && s.closed_before_any_frame() && started.elapsed() < timeout {
            retries += 1;
            tokio::time::sleep(Duration::from_millis(25)).await;
            continue;
        }
        let mut result = finish(case, s, r, timeout, started).await;
        let mut lines = retried(retries);
        lines.append(&mut result.transcript);
        result.transcript = lines;
        return result;
    }
}

async fn replay_listen(
    case: &ReplayCase,
    listener: &Listener,
    timeout: Duration,
    accept_timeout: Duration,
) -> LiveResult {
    let started = Instant::now();
    match tokio::time::timeout(accept_timeout, transport::accept(listener)).await {
        Ok(Ok(conn)) => play(case, Session::new(conn), timeout, started).await,
        Ok(Err(e)) => LiveResult {
            id: case.id.clone(),
            title: case.title.clone(),
            outcome: LiveOutcome::Failed(format!("accept failed: {e}")),
            expected_failure: false,
            transcript: vec![],
            millis: started.elapsed().as_millis() as u64,
        },
        Err(_) => LiveResult {
            id: case.id.clone(),
            title: case.title.clone(),
            outcome: LiveOutcome::Failed(format!(
                "the peer did not connect within {} ms",
                accept_timeout.as_millis()
            )),
            expected_failure: false,
            transcript: vec![],
            millis: started.elapsed().as_millis() as u64,
        },
    }
}

async fn play(
    case: &ReplayCase,
    mut s: Session,
    timeout: Duration,
    started: Instant,
) -> LiveResult {
    let r = replay::play(case, &mut s, timeout).await;
    finish(case, s, r, timeout, started).await
}

async fn finish(
    case: &ReplayCase,
    mut s: Session,
    mut r: Result<(), String>,
    timeout: Duration,
    started: Instant,
) -> LiveResult {
    if r.is_ok() {
        r = linger(&mut s, timeout).await;
    }
    LiveResult {
        id: case.id.clone(),
        title: case.title.clone(),
        outcome: match r {
            Ok(()) => LiveOutcome::Passed,
            Err(e) => LiveOutcome::Failed(e),
        },
        expected_failure: false,
        transcript: s.transcript.lines().to_vec(),
        millis: started.elapsed().as_millis() as u64,
    }
}

/// After the last expected frame: no further frame may come; the peer
/// closing the connection (as a tractor actor does after `self.cancel`) is
/// waited for, up to the timeout, so that the next case finds it ready again.
async fn linger(s: &mut Session, wait: Duration) -> Result<(), String> {
    match s.recv(wait).await {
        Ok(Some(body)) => {
            s.transcript.mark_last("unexpected");
            Err(format!(
                "unexpected frame after the recorded dialog: {}",
                super::session::summarize(&body)
            ))
        }
        Ok(None) | Err(_) => Ok(()),
    }
}
