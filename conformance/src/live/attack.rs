//! Resource attacks: cheap inputs that cost a peer much (memory, time, its
//! other clients' service), each with a budget, reported as Autobahn
//! reports its performance cases: **survived** (within budget),
//! **degraded** (alive, but over a budget: a probe answered late or not at
//! all during the attack, or memory grew past the limit), or **died** (a
//! fresh connection is not served afterwards).
//!
//! While a case runs, a *probe* channel opened before the attack calls
//! `add(x=20, y=22)` every [`PROBE_EVERY`] and times each answer, and the
//! peer's resident memory is sampled from `/proc` (the process group the
//! harness started with `--peer-command`, or the process listening on the
//! address when the peer is local). After the attack's connections are
//! closed, a fresh connection must get a handshake and `add` answered.
//!
//! Every case is bounded: it sends a fixed number of bytes and runs for a
//! fixed time, whatever the peer does.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rmpv::Value as V;
use serde::Serialize;

use super::peer::Peer;
use super::robust::{check_add, open, AddFailure, Me};
use super::session::Session;
use super::transport;

/// How often the probe channel calls `add`.
pub const PROBE_EVERY: Duration = Duration::from_millis(100);
/// How often the peer's memory is sampled.
const SAMPLE_EVERY: Duration = Duration::from_millis(20);
const MIB: u64 = 1 << 20;

/// One resource attack.
#[derive(Clone, Copy, Debug)]
pub struct AttackCase {
    /// Stable id (`attack/never-reads`).
    pub id: &'static str,
    /// One line for humans.
    pub title: &'static str,
    /// What is done.
    pub attack: Attack,
    /// What the peer may spend.
    pub budget: Budget,
}

/// What a peer may spend on one attack and still count as surviving it.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Budget {
    /// Slowest acceptable answer to a probe `add` while the attack runs.
    pub probe_ms: u64,
    /// Most the peer's resident memory may grow above its level before the
    /// attack, at any sample (only judged where memory can be observed).
    pub memory_mib: u64,
}

/// The attacks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Attack {
    /// Four frames of 8 MiB each: `add` of two 4 MiB strings, answers read.
    LargeFrames,
    /// `add(x=[None]*N, y=[None]*N)` in one 4 MiB frame: one byte on the
    /// wire per element, a pointer or more each once decoded.
    ArgAmplification,
    /// `counter(n=10**12)` started, then nothing read for three seconds.
    NeverReads,
    /// `counter(n=10**12)` read as fast as it comes for three seconds.
    EndlessStream,
    /// 10,000 `sleeper` contexts started on one channel and left open.
    DialogFlood,
    /// 256 connections that send two bytes of a length prefix and stop.
    SlowlorisHandshake,
    /// 64 channels, after the handshake, each announcing a 32 MiB frame
    /// and sending 64 KiB of it, then nothing.
    ParkedFrames,
    /// One 8 MiB frame, then 100,000 small frames (`Stop` for cids no
    /// dialog owns) in a single write.
    BurstAfterLarge,
}

/// Every attack, in the order they run.
pub const CASES: &[AttackCase] = &[
    AttackCase {
        id: "attack/large-frames",
        title: "four 8 MiB frames (add of two 4 MiB strings)",
        attack: Attack::LargeFrames,
        budget: Budget {
            probe_ms: 2000,
            memory_mib: 256,
        },
    },
    AttackCase {
        id: "attack/arg-amplification",
        title: "add(x=[None]*2M, y=[None]*2M): a 4 MiB frame of nils",
        attack: Attack::ArgAmplification,
        budget: Budget {
            probe_ms: 2000,
            memory_mib: 256,
        },
    },
    AttackCase {
        id: "attack/never-reads",
        title: "an endless stream whose caller never reads (3 s)",
        attack: Attack::NeverReads,
        budget: Budget {
            probe_ms: 1000,
            memory_mib: 64,
        },
    },
    AttackCase {
        id: "attack/endless-stream",
        title: "an endless stream read as fast as it comes (3 s)",
        attack: Attack::EndlessStream,
        budget: Budget {
            probe_ms: 1000,
            memory_mib: 64,
        },
    },
    AttackCase {
        id: "attack/dialog-flood",
        title: "10,000 contexts opened on one channel and left open",
        attack: Attack::DialogFlood,
        budget: Budget {
            probe_ms: 2000,
            memory_mib: 256,
        },
    },
    AttackCase {
        id: "attack/slowloris-handshake",
        title: "256 connections stalled inside the first length prefix",
        attack: Attack::SlowlorisHandshake,
        budget: Budget {
            probe_ms: 1000,
            memory_mib: 64,
        },
    },
    AttackCase {
        id: "attack/parked-frames",
        title: "64 channels each parking 64 KiB of an announced 32 MiB frame",
        attack: Attack::ParkedFrames,
        budget: Budget {
            probe_ms: 1000,
            memory_mib: 64,
        },
    },
    AttackCase {
        id: "attack/burst-after-large",
        title: "one 8 MiB frame, then 100,000 small frames in one write",
        attack: Attack::BurstAfterLarge,
        budget: Budget {
            probe_ms: 2000,
            memory_mib: 256,
        },
    },
];

/// How a peer came through an attack.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Every probe answered within budget, memory within budget, and a
    /// fresh connection served afterwards.
    Survived,
    /// Alive afterwards, but over a budget during the attack.
    Degraded,
    /// A fresh connection was not served afterwards.
    Died,
}

impl Verdict {
    /// The word used in reports (`survived`, `degraded`, `died`).
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Survived => "survived",
            Verdict::Degraded => "degraded",
            Verdict::Died => "died",
        }
    }
}

/// What one attack measured.
#[derive(Clone, Debug, Serialize)]
pub struct AttackReport {
    /// The verdict.
    pub verdict: Verdict,
    /// Why, when not survived (every budget overrun, or how it died).
    pub why: Vec<String>,
    /// Probes answered during the attack.
    pub probes: usize,
    /// Probes sent but not answered within their budget.
    pub probes_late: usize,
    /// Slowest probe answer, in milliseconds (a probe never answered
    /// counts as the time it was waited for).
    pub probe_max_ms: u64,
    /// The peer's resident memory before the attack, in MiB, when observed.
    pub rss_before_mib: Option<f64>,
    /// Its highest resident memory during the attack, in MiB.
    pub rss_peak_mib: Option<f64>,
    /// Its resident memory once the attack's connections were closed.
    pub rss_after_mib: Option<f64>,
    /// What the attack did, step by step.
    pub steps: Vec<String>,
}

/// The processes a local peer consists of, for reading their memory.
#[derive(Clone, Debug)]
enum Observed {
    /// A process group (the one the harness started).
    Group(i32),
    /// One process (found by its listening socket).
    Pid(i32),
}

/// Resident memory of the observed peer in bytes (`None`: not
/// observable, e.g. the peer is on another machine or has exited).
fn rss(of: &Observed) -> Option<u64> {
    let pids: Vec<i32> = match of {
        Observed::Pid(p) => vec![*p],
        Observed::Group(g) => std::fs::read_dir("/proc")
            .ok()?
            .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
            .filter(|pid| process_group(*pid) == Some(*g))
            .collect(),
    };
    let mut total = None;
    for pid in pids {
        if let Some(kib) = status_kib(pid, "VmRSS:") {
            *total.get_or_insert(0) += kib * 1024;
        }
    }
    total
}

fn process_group(pid: i32) -> Option<i32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // pid (comm) state ppid pgrp ...: comm may hold spaces and parens.
    stat.rsplit_once(')')?
        .1
        .split_whitespace()
        .nth(2)?
        .parse()
        .ok()
}

fn status_kib(pid: i32, key: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(key))?
        .trim()
        .strip_suffix("kB")?
        .trim()
        .parse()
        .ok()
}

/// The process listening at a local address, found through the socket
/// inode in `/proc/net/{tcp,tcp6,unix}` and the processes' open files.
fn listening_pid(addr: &transport::Address) -> Option<i32> {
    let inode = match addr {
        transport::Address::Tcp(a) => {
            let port: u16 = a.rsplit_once(':')?.1.parse().ok()?;
            ["/proc/net/tcp", "/proc/net/tcp6"].iter().find_map(|f| {
                let text = std::fs::read_to_string(f).ok()?;
                text.lines().skip(1).find_map(|l| {
                    let cols: Vec<&str> = l.split_whitespace().collect();
                    let local_port = u16::from_str_radix(cols.get(1)?.rsplit_once(':')?.1, 16);
                    // State 0A is LISTEN.
                    (local_port.ok()? == port && *cols.get(3)? == "0A")
                        .then(|| cols.get(9)?.parse::<u64>().ok())?
                })
            })?
        }
        transport::Address::Uds(path) => {
            let text = std::fs::read_to_string("/proc/net/unix").ok()?;
            let want = path.to_str()?;
            text.lines().skip(1).find_map(|l| {
                let cols: Vec<&str> = l.split_whitespace().collect();
                (cols.get(7) == Some(&want)).then(|| cols.get(6)?.parse::<u64>().ok())?
            })?
        }
    };
    let target = format!("socket:[{inode}]");
    std::fs::read_dir("/proc").ok()?.find_map(|e| {
        let pid: i32 = e.ok()?.file_name().to_str()?.parse().ok()?;
        let fds = std::fs::read_dir(format!("/proc/{pid}/fd")).ok()?;
        fds.filter_map(|fd| std::fs::read_link(fd.ok()?.path()).ok())
            .any(|l| l.as_os_str() == target.as_str())
            .then_some(pid)
    })
}

fn observe(peer: &Peer) -> Option<Observed> {
    match peer.pid() {
        Some(pid) => Some(Observed::Group(pid as i32)),
        None => listening_pid(peer.addr()).map(Observed::Pid),
    }
}

/// Samples memory until stopped; keeps the peak.
struct Sampler {
    stop: Arc<AtomicBool>,
    peak: Arc<Mutex<Option<u64>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Sampler {
    fn start(of: Option<Observed>) -> Sampler {
        let stop = Arc::new(AtomicBool::new(false));
        let peak = Arc::new(Mutex::new(None));
        let task = tokio::spawn({
            let (stop, peak) = (stop.clone(), peak.clone());
            async move {
                let Some(of) = of else { return };
                while !stop.load(Ordering::Relaxed) {
                    // /proc reads are quick, but keep them off the runtime.
                    let of2 = of.clone();
                    if let Ok(Some(now)) = tokio::task::spawn_blocking(move || rss(&of2)).await {
                        let mut p = peak.lock().unwrap_or_else(|e| e.into_inner());
                        *p = Some(p.map_or(now, |p: u64| p.max(now)));
                    }
                    tokio::time::sleep(SAMPLE_EVERY).await;
                }
            }
        });
        Sampler { stop, peak, task }
    }

    async fn finish(self) -> Option<u64> {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.task.await;
        *self.peak.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Probe timings.
#[derive(Default)]
struct Probes {
    answered: usize,
    late: usize,
    max: Duration,
    failure: Option<String>,
}

/// Calls `add` on `s` every [`PROBE_EVERY`] until stopped, timing each.
fn start_probe(
    mut s: Session,
    me: Me,
    budget: Duration,
    stop: Arc<AtomicBool>,
) -> tokio::task::JoinHandle<Probes> {
    tokio::spawn(async move {
        let mut p = Probes::default();
        let mut n = 0usize;
        // Waiting longer than the budget only tells how late; cap it so a
        // case stays bounded.
        let wait = budget * 3;
        while !stop.load(Ordering::Relaxed) {
            n += 1;
            let t = Instant::now();
            match check_add(&mut s, &me, &format!("probe-{n}"), wait).await {
                Ok(()) => {
                    let took = t.elapsed();
                    p.answered += 1;
                    p.max = p.max.max(took);
                    if took > budget {
                        p.late += 1;
                    }
                }
                Err(AddFailure::Silent(e) | AddFailure::Wrong(e)) => {
                    p.late += 1;
                    p.max = p.max.max(t.elapsed());
                    p.failure = Some(format!("probe {n}: {e}"));
                    return p;
                }
            }
            tokio::time::sleep(PROBE_EVERY).await;
        }
        p
    })
}

fn mib(b: u64) -> f64 {
    (b as f64 / MIB as f64 * 10.0).round() / 10.0
}

/// Runs one attack against the peer.
pub async fn run(case: &AttackCase, peer: &mut Peer, timeout: Duration) -> AttackReport {
    let mut steps = Vec::new();
    let mut why = Vec::new();
    let me_probe = Me::new(&format!("{}/probe", case.id));
    let probe = match open(peer, &me_probe, timeout, "probe", true).await {
        Ok(s) => s,
        Err(e) => {
            return AttackReport {
                verdict: Verdict::Died,
                why: vec![format!("before the attack: {e}")],
                probes: 0,
                probes_late: 0,
                probe_max_ms: 0,
                rss_before_mib: None,
                rss_peak_mib: None,
                rss_after_mib: None,
                steps,
            }
        }
    };
    let observed = observe(peer);
    let before = observed.as_ref().and_then(rss);
    let sampler = Sampler::start(observed.clone());
    let stop = Arc::new(AtomicBool::new(false));
    let budget = Duration::from_millis(case.budget.probe_ms);
    let probing = start_probe(probe, me_probe, budget, stop.clone());
    let me = Me::new(case.id);
    if let Err(e) = attack(case.attack, peer, &me, timeout, &mut steps).await {
        steps.push(format!("the attack stopped early: {e}"));
    }
    stop.store(true, Ordering::Relaxed);
    let probes = probing.await.unwrap_or_default();
    let peak = sampler.finish().await;
    // The attack's connections are closed by now; give the peer a moment
    // to let go of what they held.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let after = observed.as_ref().and_then(rss);
    if let Some(f) = &probes.failure {
        why.push(format!("the probe channel failed during the attack: {f}"));
    }
    if probes.late > 0 {
        why.push(format!(
            "{} of {} probes answered later than {} ms (slowest {} ms)",
            probes.late,
            probes.answered + usize::from(probes.failure.is_some()),
            case.budget.probe_ms,
            probes.max.as_millis()
        ));
    }
    if let (Some(b), Some(p)) = (before, peak) {
        let grew = p.saturating_sub(b);
        if grew > case.budget.memory_mib * MIB {
            why.push(format!(
                "memory grew by {} MiB (budget {} MiB)",
                mib(grew),
                case.budget.memory_mib
            ));
        }
    }
    let me_after = Me::new(&format!("{}/after", case.id));
    let served_after = match open(peer, &me_after, timeout, "after", false).await {
        Ok(mut s) => match check_add(&mut s, &me_after, "after-1", timeout).await {
            Ok(()) => Ok(()),
            Err(AddFailure::Silent(e) | AddFailure::Wrong(e)) => Err(e),
        },
        Err(e) => Err(e),
    };
    let verdict = match served_after {
        Err(e) => {
            why.insert(0, format!("a fresh connection after the attack: {e}"));
            Verdict::Died
        }
        Ok(()) if why.is_empty() => Verdict::Survived,
        Ok(()) => Verdict::Degraded,
    };
    AttackReport {
        verdict,
        why,
        probes: probes.answered,
        probes_late: probes.late,
        probe_max_ms: probes.max.as_millis() as u64,
        rss_before_mib: before.map(mib),
        rss_peak_mib: peak.map(mib),
        rss_after_mib: after.map(mib),
        steps,
    }
}

fn framed(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + 4);
    shuttle::frame::write_frame(&mut out, body).expect("frame under the limit");
    out
}

fn kwargs(entries: Vec<(&str, V)>) -> V {
    V::Map(entries.into_iter().map(|(k, v)| (V::from(k), v)).collect())
}

/// Reads and drops whatever the peer sends on `s` for `d`, or until it
/// closes; returns how many frames came.
async fn drain_for(s: &mut Session, d: Duration) -> usize {
    let until = Instant::now() + d;
    let mut n = 0;
    loop {
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return n;
        }
        match s.recv(left).await {
            Ok(Some(_)) => n += 1,
            _ => return n,
        }
    }
}

/// Reads until the `Return` (or `Error`) of `cid`, or `d` has passed.
async fn await_result(s: &mut Session, cid: &str, d: Duration) -> Result<String, String> {
    let until = Instant::now() + d;
    loop {
        let left = until.saturating_duration_since(Instant::now());
        let body = match s.recv(left).await {
            Ok(Some(b)) => b,
            Ok(None) => return Err("the peer closed the channel".into()),
            Err(e) => return Err(e.to_string()),
        };
        match shuttle::Msg::decode(&body) {
            Ok(m @ (shuttle::Msg::Return(_) | shuttle::Msg::Error(_))) if m.cid() == Some(cid) => {
                return Ok(format!("{} ({} bytes)", m.msg_type().as_str(), body.len()))
            }
            _ => {}
        }
    }
}

async fn attack(
    a: Attack,
    peer: &mut Peer,
    me: &Me,
    timeout: Duration,
    steps: &mut Vec<String>,
) -> Result<(), String> {
    match a {
        Attack::LargeFrames => {
            let mut s = open(peer, me, timeout, "A", true).await?;
            let half = "x".repeat(4 << 20);
            for i in 0..4 {
                let cid = format!("large-{i}");
                let body = me.start(
                    &cid,
                    "__main__",
                    "add",
                    &kwargs(vec![
                        ("x", V::from(half.as_str())),
                        ("y", V::from(half.as_str())),
                    ]),
                );
                s.send(&body, &format!("Start {cid} add(x=4 MiB str, y=4 MiB str)"))
                    .await
                    .map_err(|e| e.to_string())?;
                let r = await_result(&mut s, &cid, Duration::from_secs(10)).await?;
                steps.push(format!("{cid}: sent {} bytes, answered {r}", body.len()));
            }
        }
        Attack::ArgAmplification => {
            let mut s = open(peer, me, timeout, "A", true).await?;
            let nils = V::Array(vec![V::Nil; 2 << 20]);
            let body = me.start(
                "amplify",
                "__main__",
                "add",
                &kwargs(vec![("x", nils.clone()), ("y", nils)]),
            );
            s.send(&body, "Start amplify add(x=[None]*2M, y=[None]*2M)")
                .await
                .map_err(|e| e.to_string())?;
            let r = await_result(&mut s, "amplify", Duration::from_secs(10)).await;
            steps.push(format!(
                "sent one {}-byte frame; answered: {r:?}",
                body.len()
            ));
        }
        Attack::NeverReads | Attack::EndlessStream => {
            let mut s = open(peer, me, timeout, "A", true).await?;
            let body = me.start(
                "endless",
                "__main__",
                "counter",
                &kwargs(vec![("n", V::from(1_000_000_000_000u64))]),
            );
            s.send(&body, "Start endless counter(n=10**12)")
                .await
                .map_err(|e| e.to_string())?;
            if a == Attack::NeverReads {
                tokio::time::sleep(Duration::from_secs(3)).await;
                steps.push("started counter(n=10**12), read nothing for 3 s, closed".into());
            } else {
                let n = drain_for(&mut s, Duration::from_secs(3)).await;
                steps.push(format!(
                    "started counter(n=10**12), read {n} frames in 3 s, closed"
                ));
            }
        }
        Attack::DialogFlood => {
            let mut s = open(peer, me, timeout, "A", true).await?;
            let mut bytes = Vec::new();
            for i in 0..10_000 {
                bytes.extend(framed(&me.start(
                    &format!("flood-{i}"),
                    "__main__",
                    "sleeper",
                    &kwargs(vec![]),
                )));
            }
            s.send_raw(&bytes, "10,000 Start sleeper() in one write")
                .await
                .map_err(|e| e.to_string())?;
            let n = drain_for(&mut s, Duration::from_secs(3)).await;
            steps.push(format!(
                "sent 10,000 Starts ({} bytes); {n} frames back in 3 s",
                bytes.len()
            ));
        }
        Attack::SlowlorisHandshake => {
            let mut conns = Vec::new();
            for _ in 0..256 {
                let mut c = peer.connect(timeout).await.map_err(|e| e.to_string())?;
                use tokio::io::AsyncWriteExt as _;
                c.write
                    .write_all(&[0x20, 0x00])
                    .await
                    .map_err(|e| e.to_string())?;
                conns.push(c);
            }
            tokio::time::sleep(Duration::from_secs(2)).await;
            steps.push(format!(
                "{} connections each sent 2 bytes of a length prefix, held 2 s",
                conns.len()
            ));
        }
        Attack::ParkedFrames => {
            let mut held = Vec::new();
            for i in 0..64 {
                let mut s = open(peer, me, timeout, &format!("A{i}"), true).await?;
                let mut bytes = (32u32 << 20).to_le_bytes().to_vec();
                bytes.resize(4 + (64 << 10), 0x90);
                s.send_raw(&bytes, "a 32 MiB length prefix and 64 KiB of body")
                    .await
                    .map_err(|e| e.to_string())?;
                held.push(s);
            }
            tokio::time::sleep(Duration::from_secs(2)).await;
            steps.push(format!(
                "{} channels each announced a 32 MiB frame, sent 64 KiB of it, held 2 s",
                held.len()
            ));
        }
        Attack::BurstAfterLarge => {
            let mut s = open(peer, me, timeout, "A", true).await?;
            let big = "x".repeat(8 << 20);
            let mut bytes = framed(&me.start(
                "large",
                "__main__",
                "add",
                &kwargs(vec![("x", V::from(big.as_str())), ("y", V::from(""))]),
            ));
            for i in 0..100_000 {
                bytes.extend(framed(&shuttle::Stop::new(format!("nobody-{i}")).to_vec()));
            }
            s.send_raw(&bytes, "an 8 MiB add, then 100,000 Stops for unknown cids")
                .await
                .map_err(|e| e.to_string())?;
            let r = await_result(&mut s, "large", Duration::from_secs(10)).await;
            steps.push(format!(
                "sent {} bytes in one write; the large add answered: {r:?}",
                bytes.len()
            ));
        }
    }
    Ok(())
}

/// Arguments of `shuttle attack`.
#[derive(clap::Args, Debug, Clone)]
pub struct AttackArgs {
    /// The peer's address (`tcp://HOST:PORT` or `uds:///PATH`).
    #[arg(long, value_name = "ADDR", required_unless_present = "list")]
    pub connect: Option<transport::Address>,
    /// The shell command that runs the peer; the harness starts it (again
    /// after a case that killed it) and reads its memory from its process
    /// group. Without it the memory of a local peer is read from the
    /// process listening at ADDR.
    #[arg(long, value_name = "COMMAND", requires = "connect")]
    pub peer_command: Option<String>,
    /// Verdicts known for this peer: one `GLOB [TEXT]` per line, `#`
    /// comments; a listed case must not survive, and its report (`died:
    /// ...` or `degraded: ...`) must contain TEXT when given. A listed case
    /// that survives, or an entry that matches no selected case, fails the
    /// run.
    #[arg(long, value_name = "FILE")]
    pub expected_failures: Option<std::path::PathBuf>,
    /// Run only these cases (id, which selects the ids below it, or glob;
    /// repeatable).
    #[arg(long = "run", value_name = "ID|GLOB")]
    pub run: Vec<String>,
    /// Skip these cases (id or glob; repeatable).
    #[arg(long = "skip", value_name = "ID|GLOB")]
    pub skip: Vec<String>,
    /// How long to wait for a connection, a handshake or an answer outside
    /// the attack itself, in milliseconds.
    #[arg(long, default_value_t = 5000)]
    pub timeout_ms: u64,
    /// Write a JSON report (`shuttle-attack-report/1`: budget and
    /// measurements per case).
    #[arg(long, value_name = "FILE")]
    pub json: Option<std::path::PathBuf>,
    /// List the cases and their budgets instead of running them.
    #[arg(long)]
    pub list: bool,
}

/// Runs `shuttle attack`: one line per case with its verdict and
/// measurements, then `N survived, N degraded, N died`; true when every
/// case survived or ended as the expected-failures list says.
pub fn run_cli(args: &AttackArgs) -> anyhow::Result<bool> {
    let filter = crate::runner::Filter::from_globs(&args.run, &args.skip)?;
    let cases: Vec<AttackCase> = CASES
        .iter()
        .filter(|c| filter.selects(c.id))
        .copied()
        .collect();
    if cases.is_empty() {
        anyhow::bail!("--run/--skip: no attack case selected (`shuttle attack --list` lists them)");
    }
    if args.list {
        for c in &cases {
            println!("{}", describe(c));
        }
        println!("{} cases", cases.len());
        return Ok(true);
    }
    let ids: Vec<&str> = cases.iter().map(|c| c.id).collect();
    let expected =
        crate::runner::ExpectedFailures::for_selection(args.expected_failures.as_deref(), &ids)?;
    if let Some(p) = &args.json {
        check_writable(p)?;
    }
    let Some(addr) = &args.connect else {
        anyhow::bail!("--connect ADDR is required");
    };
    let timeout = Duration::from_millis(args.timeout_ms.max(1));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let results = rt.block_on(async {
        let mut peer = match &args.peer_command {
            Some(cmd) => Peer::spawned(addr.clone(), cmd.clone()),
            None => Peer::at(addr.clone()),
        };
        let mut results = Vec::new();
        for case in &cases {
            let started = Instant::now();
            let mut report = run(case, &mut peer, timeout).await;
            if report.verdict == Verdict::Died {
                if let Some(death) = peer.death(true).await {
                    report.why.push(death);
                }
                // A peer that stopped serving but lingers (a tractor actor
                // tearing down thousands of tasks) is stopped, so that the
                // next case starts a fresh one.
                peer.stop().await;
            }
            let text = format!("{}: {}", report.verdict.as_str(), report.why.join("; "));
            let failure = (report.verdict != Verdict::Survived).then_some(text.as_str());
            let judged = expected.judge(case.id, failure, failure.is_none());
            print_report(case, &report, &judged, started.elapsed());
            results.push((case, report, judged));
        }
        peer.stop().await;
        results
    });
    let count = |v: Verdict| results.iter().filter(|(_, r, _)| r.verdict == v).count();
    let unexpected = results
        .iter()
        .filter(|(_, r, j)| match j {
            crate::runner::Listed::No => r.verdict != Verdict::Survived,
            crate::runner::Listed::AsExpected => false,
            crate::runner::Listed::Otherwise(_) => true,
        })
        .count();
    if let Some(p) = &args.json {
        let doc = serde_json::json!({
            "format": "shuttle-attack-report/1",
            "peer": addr.to_string(),
            "results": results.iter().map(|(c, r, j)| serde_json::json!({
                "id": c.id,
                "title": c.title,
                "budget": c.budget,
                "expected": matches!(j, crate::runner::Listed::AsExpected),
                "report": r,
            })).collect::<Vec<_>>(),
        });
        std::fs::write(p, serde_json::to_string_pretty(&doc)? + "\n")
            .map_err(|e| anyhow::anyhow!("--json {}: {e}", p.display()))?;
    }
    println!(
        "{} survived, {} degraded, {} died; {} not as expected",
        count(Verdict::Survived),
        count(Verdict::Degraded),
        count(Verdict::Died),
        unexpected
    );
    Ok(unexpected == 0)
}

fn print_report(
    case: &AttackCase,
    r: &AttackReport,
    judged: &crate::runner::Listed,
    took: Duration,
) {
    let memory = match (r.rss_before_mib, r.rss_peak_mib, r.rss_after_mib) {
        (Some(b), Some(p), Some(a)) => format!("memory {b} -> peak {p} -> {a} MiB"),
        _ => "memory not observed".into(),
    };
    let mark = match judged {
        crate::runner::Listed::AsExpected => " (as expected)",
        crate::runner::Listed::Otherwise(_) => " (NOT AS EXPECTED)",
        crate::runner::Listed::No => "",
    };
    println!(
        "{:<9} {}  probes {} (slowest {} ms), {}, {:.1} s{mark}",
        r.verdict.as_str(),
        case.id,
        r.probes,
        r.probe_max_ms,
        memory,
        took.as_secs_f64()
    );
    for w in &r.why {
        for l in w.lines() {
            println!("          {l}");
        }
    }
    if let crate::runner::Listed::Otherwise(why) = judged {
        println!("          {why}");
    }
    for s in &r.steps {
        println!("          . {s}");
    }
}

/// One line naming a case and its budget (for `--list`).
pub fn describe(case: &AttackCase) -> String {
    format!(
        "{}  {}  (budget: probe {} ms, memory +{} MiB)",
        case.id, case.title, case.budget.probe_ms, case.budget.memory_mib
    )
}

/// Whether a report file can be created, before a run starts.
pub fn check_writable(p: &Path) -> anyhow::Result<()> {
    std::fs::File::create(p)
        .map(drop)
        .map_err(|e| anyhow::anyhow!("--json {}: cannot create the file: {e}", p.display()))
}
