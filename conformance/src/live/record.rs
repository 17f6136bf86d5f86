//! Recording one channel as a `tractor-capture/2` document
//! (`fixtures/captures/FORMAT.md`): a [`Recorder`] on a `shuttle-actor`
//! actor (`shuttle serve --record DIR` uses one) keeps every frame it
//! reads and writes, and writes one capture file per channel when the
//! channel ends, so that `shuttle check DIR` can run the codec and the
//! dialog rules over traffic a live peer just produced.
//!
//! The order of the frames is the order in which this end read and wrote
//! them, which is causal order: a reply is written only after its request
//! was read. A channel records at most [`MAX_RECORDED`] bytes of bodies;
//! beyond that it stops recording and says so in the description.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::capture::{self, Capture};
use base64::Engine as _;
use shuttle_actor::{Direction, Tap};

/// Most body bytes one channel records (256 MiB).
pub const MAX_RECORDED: usize = 256 << 20;

/// Which end sent a frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum From {
    /// This actor.
    Me,
    /// The peer.
    Peer,
}

#[derive(Debug, Default)]
struct Log {
    frames: Vec<(From, u64, Vec<u8>)>,
    bytes: usize,
    dropped: usize,
}

/// The frames of one channel, shared by its reading and writing tasks.
#[derive(Clone, Debug, Default)]
pub struct ChannelLog(Arc<Mutex<Log>>);

/// `CLOCK_MONOTONIC` in nanoseconds, as tractor's recorder stamps frames.
fn monotonic_ns() -> u64 {
    nix::time::clock_gettime(nix::time::ClockId::CLOCK_MONOTONIC)
        .map(|t| (t.tv_sec() as u64).saturating_mul(1_000_000_000) + t.tv_nsec() as u64)
        .unwrap_or(0)
}

impl ChannelLog {
    /// Records one frame body.
    pub fn frame(&self, from: From, body: &[u8]) {
        let t = monotonic_ns();
        let mut log = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if log.bytes + body.len() > MAX_RECORDED {
            log.dropped += 1;
            return;
        }
        log.bytes += body.len();
        log.frames.push((from, t, body.to_vec()));
    }

    /// The first frame body `from` sent (its handshake `Aid`, normally).
    pub fn first(&self, from: From) -> Option<Vec<u8>> {
        let log = self.0.lock().unwrap_or_else(|e| e.into_inner());
        log.frames
            .iter()
            .find(|(f, _, _)| *f == from)
            .map(|(_, _, body)| body.clone())
    }

    /// The capture document of the channel. `me` accepted the connection
    /// when `accepted` (it listened), else it connected.
    pub fn to_capture(&self, ends: &Ends, scenario: &str) -> Capture {
        let log = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let uuid = |from: From| match from {
            From::Me => ends.me.uuid.clone(),
            From::Peer => ends.peer.uuid.clone(),
        };
        let (a, b) = if ends.accepted {
            (&ends.peer, &ends.me)
        } else {
            (&ends.me, &ends.peer)
        };
        let end_of = |from: From| match (from, ends.accepted) {
            (From::Me, true) | (From::Peer, false) => capture::End::B,
            (From::Me, false) | (From::Peer, true) => capture::End::A,
        };
        let frames: Vec<capture::Frame> = log
            .frames
            .iter()
            .map(|(from, t, body)| capture::Frame {
                from: uuid(*from),
                end: Some(end_of(*from)),
                t_ns: *t,
                msgpack_b64: base64::engine::general_purpose::STANDARD.encode(body),
                recv_copy: *from == From::Peer,
            })
            .collect();
        let mut description = format!(
            "One channel as `shuttle serve` ({}) saw it: every frame it read (marked _recv_copy) and wrote, in that order.",
            ends.me.name
        );
        if log.dropped > 0 {
            description.push_str(&format!(
                " Recording stopped after {} bytes; {} later frames are missing.",
                log.bytes, log.dropped
            ));
        }
        let mut source = serde_json::Map::new();
        source.insert("impl".into(), "shuttle-serve".into());
        source.insert("version".into(), env!("CARGO_PKG_VERSION").into());
        Capture {
            format: capture::FORMAT.into(),
            source,
            scenario: scenario.into(),
            description,
            actors: [&ends.me, &ends.peer]
                .into_iter()
                .map(|e| capture::Actor {
                    name: e.name.clone(),
                    uuid: e.uuid.clone(),
                    pid: e.pid,
                    probe: e.probe,
                    unnamed: false,
                })
                .collect(),
            channels: vec![capture::Channel {
                a: a.uuid.clone(),
                b: b.uuid.clone(),
                transport: ends.transport.into(),
                addrs: serde_json::Map::new(),
                empty: frames.is_empty(),
                unrecorded: Some(end_of(From::Peer)),
                frames,
            }],
            pld_specs: vec![],
            pld_verdicts: None,
        }
    }
}

/// One end of a recorded channel.
#[derive(Clone, Debug)]
pub struct End {
    /// Actor name.
    pub name: String,
    /// Actor uuid (`unknown` when the peer never completed a handshake).
    pub uuid: String,
    /// OS process id, where known.
    pub pid: Option<u64>,
    /// A registrar probe's throw-away identity.
    pub probe: bool,
}

/// Both ends of a recorded channel.
#[derive(Clone, Debug)]
pub struct Ends {
    /// This actor.
    pub me: End,
    /// The peer.
    pub peer: End,
    /// Whether this actor accepted the connection.
    pub accepted: bool,
    /// `tcp` or `uds`.
    pub transport: &'static str,
}

/// Writes `DIR/channel-NNNN-PEER.json`; returns the path.
pub fn write(dir: &Path, n: u64, log: &ChannelLog, ends: &Ends) -> std::io::Result<PathBuf> {
    let peer: String = ends
        .peer
        .name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .take(40)
        .collect();
    let scenario = format!("channel-{n:04}-{peer}");
    let doc = log.to_capture(ends, &scenario);
    let path = dir.join(format!("{scenario}.json"));
    let text = serde_json::to_string_pretty(&doc).map_err(std::io::Error::other)?;
    // Written whole under a temporary name, then renamed: a reader never
    // sees half a file.
    let tmp = dir.join(format!(".{scenario}.json.part"));
    std::fs::write(&tmp, text + "\n")?;
    std::fs::rename(&tmp, &path)?;
    Ok(path)
}

/// A [`Tap`] for a `shuttle-actor` actor that records every channel it
/// serves or opens and writes each, when it ends, as
/// `DIR/channel-NNNN-PEER.json` (see [`write()`]). Clones share the
/// numbering, so the actors of one process (a fresh one after each
/// `self.cancel`) never overwrite each other's files.
#[derive(Clone, Debug)]
pub struct Recorder {
    dir: PathBuf,
    transport: &'static str,
    /// Where to say what was written (stderr), if anywhere.
    log_as: Option<String>,
    /// Numbers the files across the actors of this process.
    files: Arc<AtomicU64>,
    open: Arc<Mutex<HashMap<u64, (ChannelLog, bool)>>>,
}

impl Recorder {
    /// Records into `dir` (which must exist); `transport` is `tcp` or `uds`.
    pub fn new(dir: PathBuf, transport: &'static str) -> Recorder {
        Recorder {
            dir,
            transport,
            log_as: None,
            files: Arc::default(),
            open: Arc::default(),
        }
    }

    /// Says on stderr, after `prefix`, which file each channel went to.
    pub fn logging_as(mut self, prefix: &str) -> Recorder {
        self.log_as = Some(prefix.to_string());
        self
    }
}

/// The end that sent `aid` (the first frame each side sends).
fn end_of(aid: Option<&Vec<u8>>) -> Option<End> {
    match shuttle::Msg::decode(aid?) {
        Ok(shuttle::Msg::Aid(a)) => Some(End {
            name: a.name.to_string(),
            uuid: a.uuid.to_string(),
            pid: match a.pid {
                Some(shuttle::Int::U(p)) => Some(p),
                _ => None,
            },
            probe: a.is_probe,
        }),
        _ => None,
    }
}

impl Tap for Recorder {
    fn opened(&self, channel: u64, accepted: bool) {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        open.insert(channel, (ChannelLog::default(), accepted));
    }

    fn frame(&self, channel: u64, dir: Direction, body: &[u8]) {
        let open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((log, _)) = open.get(&channel) {
            let from = match dir {
                Direction::Received => From::Peer,
                Direction::Sent => From::Me,
            };
            log.frame(from, body);
        }
    }

    fn closed(&self, channel: u64) {
        let Some((log, accepted)) = self
            .open
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&channel)
        else {
            return;
        };
        let unknown = || End {
            name: "unknown".into(),
            uuid: "unknown".into(),
            pid: None,
            probe: false,
        };
        let ends = Ends {
            me: end_of(log.first(From::Me).as_ref()).unwrap_or_else(unknown),
            peer: end_of(log.first(From::Peer).as_ref()).unwrap_or_else(unknown),
            accepted,
            transport: self.transport,
        };
        let n = self.files.fetch_add(1, Ordering::Relaxed);
        let said = match write(&self.dir, n, &log, &ends) {
            Ok(path) => format!("recorded {}", path.display()),
            Err(e) => format!(
                "cannot write the recording into {}: {e}",
                self.dir.display()
            ),
        };
        if let Some(prefix) = &self.log_as {
            super::log::line(format!("{prefix}: {said}"));
        }
    }
}
