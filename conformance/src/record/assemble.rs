//! From [`Side`]s to a capture: pairing the two ends of each connection,
//! cutting their byte streams into frames, cross-checking the two copies of
//! every frame and naming the ends from their handshakes.

use std::collections::{BTreeMap, HashMap};

use crate::capture::{self, Capture};
use base64::Engine as _;
use shuttle::frame::{FrameError, FrameSplitter, Split};

use super::{Chunk, Side, Transport};

/// How bad a [`Note`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// Worth knowing: frames a receiver never read, a guessed direction.
    Info,
    /// The capture holds less than what happened, or something the format
    /// cannot say (a cut stream, a partial frame, a self-connection).
    Warning,
    /// The two copies of a frame differ, or a stream is not tractor
    /// framing: the capture cannot be trusted there.
    Problem,
}

/// One finding of the assembly.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Note {
    /// How bad it is.
    pub severity: Severity,
    /// The channel of the capture it is about (its index in `channels`),
    /// if any.
    pub channel: Option<usize>,
    /// What was found, naming the ends and the frame.
    pub text: String,
}

impl std::fmt::Display for Note {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let word = match self.severity {
            Severity::Info => "note",
            Severity::Warning => "warning",
            Severity::Problem => "problem",
        };
        match self.channel {
            Some(ch) => write!(f, "{word}: ch{ch}: {}", self.text),
            None => write!(f, "{word}: {}", self.text),
        }
    }
}

/// What to assemble, besides the sides.
#[derive(Clone, Debug)]
pub struct Options {
    /// The capture's `scenario` (file stem).
    pub scenario: String,
    /// The capture's `description`.
    pub description: String,
    /// The capture's `source`.
    pub source: serde_json::Map<String, serde_json::Value>,
    /// Largest frame body accepted; a larger announced frame ends that
    /// direction of its channel.
    pub max_frame: usize,
    /// Keep only the channels with an end of this name.
    pub only_actor: Option<String>,
    /// Keep only the frames sent in this window, in milliseconds since the
    /// first frame of the recording (start inclusive, end exclusive).
    pub window_ms: Option<(f64, f64)>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            scenario: "recording".into(),
            description: String::new(),
            source: serde_json::Map::new(),
            max_frame: shuttle::frame::DEFAULT_MAX_FRAME,
            only_actor: None,
            window_ms: None,
        }
    }
}

/// A capture and what was found while making it.
#[derive(Clone, Debug)]
pub struct Assembled {
    /// The capture.
    pub capture: Capture,
    /// Findings, in channel order.
    pub notes: Vec<Note>,
    /// Connections found (before filtering).
    pub connections: usize,
    /// Connections seen from one end only (the other was not recorded).
    pub one_sided: usize,
    /// Frames the receiver never read.
    pub unread: usize,
}

impl Assembled {
    /// Whether any note is a [`Severity::Problem`].
    pub fn has_problems(&self) -> bool {
        self.notes.iter().any(|n| n.severity == Severity::Problem)
    }
}

/// A stream of chunks laid end to end.
struct Stream {
    bytes: Vec<u8>,
    /// (offset of the chunk's first byte, its time), in order.
    marks: Vec<(usize, u64)>,
}

impl Stream {
    fn of(chunks: &[Chunk]) -> Stream {
        let mut bytes = Vec::with_capacity(chunks.iter().map(|c| c.bytes.len()).sum());
        let mut marks = Vec::with_capacity(chunks.len());
        for c in chunks {
            if c.bytes.is_empty() {
                continue;
            }
            marks.push((bytes.len(), c.t_ns));
            bytes.extend_from_slice(&c.bytes);
        }
        Stream { bytes, marks }
    }

    /// The time of the chunk holding byte `at`.
    fn time_at(&self, at: usize) -> u64 {
        let i = self.marks.partition_point(|&(o, _)| o <= at);
        self.marks.get(i.saturating_sub(1)).map_or(0, |&(_, t)| t)
    }
}

/// A frame of one direction: where it is in the stream.
struct Cut {
    start: usize,
    end: usize,
}

/// How a direction's stream ends.
enum Tail {
    Clean,
    /// Inside a frame: so many bytes of a frame of so many.
    Partial {
        have: usize,
        announced: usize,
    },
    /// A frame announced over the limit.
    TooLarge {
        announced: u64,
    },
}

fn cut_frames(bytes: &[u8], splitter: &FrameSplitter) -> (Vec<Cut>, Tail) {
    let mut cuts = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        match splitter.split(&bytes[at..]) {
            Ok(Split::Frame { consumed, .. }) => {
                cuts.push(Cut {
                    start: at,
                    end: at + consumed,
                });
                at += consumed;
            }
            Ok(Split::NeedMore { at_least }) => {
                let have = bytes.len() - at;
                return (
                    cuts,
                    Tail::Partial {
                        have,
                        announced: have + at_least,
                    },
                );
            }
            Err(FrameError::TooLarge { announced, .. }) => {
                return (cuts, Tail::TooLarge { announced });
            }
            Err(_) => {
                return (
                    cuts,
                    Tail::Partial {
                        have: 0,
                        announced: 0,
                    },
                )
            }
        }
    }
    (cuts, Tail::Clean)
}

fn common_prefix(a: &[u8], b: &[u8]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}

/// Whether what one end sent and what the other received agree as far as
/// both go.
fn agree(sent: &[Chunk], received: Option<&[Chunk]>) -> bool {
    let Some(received) = received else {
        return true;
    };
    let mut a = sent.iter().flat_map(|c| c.bytes.iter());
    let mut b = received.iter().flat_map(|c| c.bytes.iter());
    loop {
        match (a.next(), b.next()) {
            (Some(x), Some(y)) if x == y => {}
            (Some(_), Some(_)) => return false,
            _ => return true,
        }
    }
}

fn first_time(s: &Side) -> u64 {
    let sent = s.sent.first().map(|c| c.t_ns);
    let received = s.received.as_ref().and_then(|r| r.first()).map(|c| c.t_ns);
    sent.into_iter().chain(received).min().unwrap_or(u64::MAX)
}

/// Pairs the sides of each connection: `(i, Some(j))` for a connection
/// seen from both ends, `(i, None)` for one seen from one end.
fn pair(sides: &[Side]) -> Vec<(usize, Option<usize>)> {
    let mut by_name: HashMap<(Transport, &str, &str), Vec<usize>> = HashMap::new();
    for (i, s) in sides.iter().enumerate() {
        by_name
            .entry((s.transport, s.local.as_str(), s.remote.as_str()))
            .or_default()
            .push(i);
    }
    let mut taken = vec![false; sides.len()];
    let mut out = Vec::new();
    for (i, s) in sides.iter().enumerate() {
        if taken[i] {
            continue;
        }
        taken[i] = true;
        let candidates = by_name
            .get(&(s.transport, s.remote.as_str(), s.local.as_str()))
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        let t = first_time(s);
        let open = || candidates.iter().copied().filter(|&j| !taken[j] && j != i);
        let closest = |j: &usize| first_time(&sides[*j]).abs_diff(t);
        // The other end with the same socket names whose copies agree with
        // this end's; failing that, one with the same names (the copies
        // differ, which the direction check then reports).
        let best = open()
            .filter(|&j| {
                let o = &sides[j];
                agree(&s.sent, o.received.as_deref()) && agree(&o.sent, s.received.as_deref())
            })
            .min_by_key(closest)
            .or_else(|| open().min_by_key(closest));
        if let Some(j) = best {
            taken[j] = true;
        }
        out.push((i, best));
    }
    out
}

/// One end of a connection: a recorded side or the unrecorded peer of one.
struct End<'s> {
    side: Option<&'s Side>,
    local: &'s str,
    pid: Option<u64>,
}

/// An identity announced in a handshake.
#[derive(Clone, Debug)]
struct Identity {
    name: String,
    uuid: String,
    pid: Option<u64>,
    probe: bool,
    unnamed: bool,
}

/// The identity a first frame announces: a current `Aid`, or the
/// `[name, uuid]` pair of the 0.1.0a5 dialect.
fn identity(body: &[u8]) -> Option<Identity> {
    if let Ok(shuttle::Msg::Aid(aid)) = shuttle::Msg::decode(body) {
        return Some(Identity {
            name: aid.name.into_owned(),
            uuid: aid.uuid.into_owned(),
            pid: match aid.pid {
                Some(shuttle::Int::U(p)) => Some(p),
                _ => None,
            },
            probe: aid.is_probe,
            unnamed: false,
        });
    }
    let mut reader = std::io::Cursor::new(body);
    let value = rmpv::decode::read_value_with_max_depth(&mut reader, 16).ok()?;
    if reader.position() as usize != body.len() {
        return None;
    }
    match value {
        rmpv::Value::Array(pair) if pair.len() == 2 => Some(Identity {
            name: pair[0].as_str()?.to_string(),
            uuid: pair[1].as_str()?.to_string(),
            pid: None,
            probe: false,
            unnamed: false,
        }),
        _ => None,
    }
}

/// Findings about one channel.
type Notes = Vec<(Severity, String)>;

/// One direction of a connection, cut into frames.
struct Direction {
    /// (time, body, from the receiver's copy)
    frames: Vec<(u64, Vec<u8>, bool)>,
    unread: usize,
}

/// Builds one direction from the sender's and the receiver's copies.
fn direction(
    sent: Option<&[Chunk]>,
    received: Option<&[Chunk]>,
    splitter: &FrameSplitter,
    what: &str,
    notes: &mut Vec<(Severity, String)>,
) -> Direction {
    let sender = sent.map(Stream::of);
    let receiver = received.map(Stream::of);
    let mut frames = Vec::new();
    let mut unread = 0;
    // The bytes: the sender's copy, extended by what the receiver read
    // beyond it (the tail of a send that failed after it left).
    let (bytes, from_receiver_at) = match (&sender, &receiver) {
        (Some(s), Some(r)) => {
            let same = common_prefix(&s.bytes, &r.bytes);
            if same < s.bytes.len().min(r.bytes.len()) {
                notes.push((
                    Severity::Problem,
                    format!(
                        "{what}: the receiver read other bytes than the sender sent, from byte {same} on; the receiver's copy is ignored"
                    ),
                ));
                (&s.bytes[..], usize::MAX)
            } else if r.bytes.len() > s.bytes.len() {
                (&r.bytes[..], s.bytes.len())
            } else {
                (&s.bytes[..], usize::MAX)
            }
        }
        (Some(s), None) => (&s.bytes[..], usize::MAX),
        (None, Some(r)) => (&r.bytes[..], 0),
        (None, None) => (&[][..], usize::MAX),
    };
    let (cuts, tail) = cut_frames(bytes, splitter);
    let read_len = receiver.as_ref().map(|r| r.bytes.len());
    for cut in &cuts {
        let body = bytes[cut.start + shuttle::frame::PREFIX_LEN..cut.end].to_vec();
        let recv_copy = cut.start >= from_receiver_at
            || (from_receiver_at != usize::MAX && cut.end > from_receiver_at);
        let t = if recv_copy {
            receiver.as_ref().map_or(0, |r| r.time_at(cut.end - 1))
        } else {
            sender.as_ref().map_or(0, |s| s.time_at(cut.start))
        };
        if let (Some(len), false) = (read_len, recv_copy) {
            if cut.end > len && sent.is_some() && received.is_some() {
                unread += 1;
            }
        }
        frames.push((t, body, recv_copy));
    }
    match tail {
        Tail::Clean => {}
        Tail::Partial { have, announced } => notes.push((
            Severity::Warning,
            format!(
                "{what} ends inside a frame ({have} of its {} bytes, length prefix included): the sender was stopped or the connection cut mid-frame; the partial frame is left out",
                announced.max(have)
            ),
        )),
        Tail::TooLarge { announced } => notes.push((
            Severity::Warning,
            format!(
                "{what}: frame {} announces {announced} bytes, over the limit of {} bytes (--max-frame); the rest of this direction is left out",
                cuts.len(),
                splitter.max_frame()
            ),
        )),
    }
    if unread > 0 {
        notes.push((
            Severity::Info,
            format!("{what}: the receiver never read the last {unread} frame(s) (it had stopped reading)"),
        ));
    }
    Direction { frames, unread }
}

/// Assembles sides into one capture.
pub fn assemble(sides: &[Side], options: &Options) -> Assembled {
    let splitter = FrameSplitter::new(options.max_frame);
    let pairs = pair(sides);
    struct Conn<'s> {
        a: End<'s>,
        b: End<'s>,
        transport: Transport,
        a_to_b: Direction,
        b_to_a: Direction,
        guessed: bool,
        cut: Vec<(Severity, String)>,
        one_sided: bool,
    }
    let mut conns = Vec::new();
    let mut unread = 0;
    let mut one_sided = 0;
    for (i, j) in pairs {
        let s = &sides[i];
        let o = j.map(|j| &sides[j]);
        // Which end connected.
        let (s_connected, guessed) = match (s.connected, o.and_then(|o| o.connected)) {
            (Some(c), _) => (c, false),
            (None, Some(c)) => (!c, false),
            (None, None) => (true, true),
        };
        let end_s = End {
            side: Some(s),
            local: &s.local,
            pid: s.pid,
        };
        let end_o = End {
            side: o,
            local: o.map_or(s.remote.as_str(), |o| o.local.as_str()),
            pid: o.and_then(|o| o.pid),
        };
        let (a, b) = if s_connected {
            (end_s, end_o)
        } else {
            (end_o, end_s)
        };
        let name = |e: &End| format!("[{}]", e.local);
        let mut notes = Vec::new();
        let ab = format!("{} -> {}", name(&a), name(&b));
        let ba = format!("{} -> {}", name(&b), name(&a));
        let a_to_b = direction(
            a.side.map(|s| s.sent.as_slice()),
            b.side.and_then(|s| s.received.as_deref()),
            &splitter,
            &ab,
            &mut notes,
        );
        let b_to_a = direction(
            b.side.map(|s| s.sent.as_slice()),
            a.side.and_then(|s| s.received.as_deref()),
            &splitter,
            &ba,
            &mut notes,
        );
        unread += a_to_b.unread + b_to_a.unread;
        let mut cut = Vec::new();
        for side in [a.side, b.side].into_iter().flatten() {
            if let Some(why) = &side.cut {
                cut.push((Severity::Warning, format!("{}: {why}", name_of_side(side))));
            }
        }
        cut.extend(notes);
        let one = o.is_none();
        if one {
            one_sided += 1;
        }
        conns.push(Conn {
            a,
            b,
            transport: s.transport,
            a_to_b,
            b_to_a,
            guessed,
            cut,
            one_sided: one,
        });
    }

    // Identities: from each end's first frame; for an end that sent none,
    // the identity its process announced elsewhere.
    let mut by_pid: HashMap<u64, Identity> = HashMap::new();
    let ids: Vec<(Option<Identity>, Option<Identity>)> = conns
        .iter()
        .map(|c| {
            let first = |d: &Direction| d.frames.first().and_then(|(_, b, _)| identity(b));
            (first(&c.a_to_b), first(&c.b_to_a))
        })
        .collect();
    for (c, (ia, ib)) in conns.iter().zip(&ids) {
        for (end, id) in [(&c.a, ia), (&c.b, ib)] {
            if let (Some(pid), Some(id)) = (end.pid.or(id.as_ref().and_then(|i| i.pid)), id) {
                if !id.probe {
                    by_pid.entry(pid).or_insert_with(|| id.clone());
                }
            }
        }
    }
    let mut actors: BTreeMap<String, capture::Actor> = BTreeMap::new();
    let mut actor_order: Vec<String> = Vec::new();
    let mut unnamed = 0usize;
    let mut channels: Vec<(u64, capture::Channel, Notes)> = Vec::new();
    for (c, (ia, ib)) in conns.into_iter().zip(ids) {
        let mut notes: Vec<(Severity, String)> = Vec::new();
        let mut resolve = |end: &End, id: Option<Identity>, notes: &mut Vec<(Severity, String)>| {
            let id = id
                .or_else(|| end.pid.and_then(|p| by_pid.get(&p).cloned()))
                .unwrap_or_else(|| {
                    unnamed += 1;
                    notes.push((
                        Severity::Info,
                        format!(
                            "the end at [{}] never announced an identity: it is listed as unnamed-{unnamed}",
                            end.local
                        ),
                    ));
                    Identity {
                        name: "?".into(),
                        uuid: format!("unnamed-{unnamed}"),
                        pid: end.pid,
                        probe: false,
                        unnamed: true,
                    }
                });
            let pid = end.pid.or(id.pid);
            let entry = actors.entry(id.uuid.clone()).or_insert_with(|| {
                actor_order.push(id.uuid.clone());
                capture::Actor {
                    name: id.name.clone(),
                    uuid: id.uuid.clone(),
                    pid,
                    probe: id.probe,
                    unnamed: id.unnamed,
                }
            });
            if entry.pid.is_none() {
                entry.pid = pid;
            }
            id
        };
        let a = resolve(&c.a, ia, &mut notes);
        let b = resolve(&c.b, ib, &mut notes);
        if a.uuid == b.uuid {
            notes.push((
                Severity::Info,
                format!(
                    "{} connected to itself: both ends have uuid {} (each frame's `end` says which sent it)",
                    a.name, a.uuid
                ),
            ));
        }
        if let Some(options_only) = &options.only_actor {
            if &a.name != options_only && &b.name != options_only {
                continue;
            }
        }
        if c.guessed {
            notes.push((
                Severity::Info,
                format!(
                    "which end connected is not known; {} is taken as the connecting end",
                    a.name
                ),
            ));
        }
        if c.one_sided {
            let (recorded, other) = if c.a.side.is_some() {
                (&a, &b)
            } else {
                (&b, &a)
            };
            notes.push((
                Severity::Info,
                format!(
                    "only {}'s end was recorded: {}'s frames come from {}'s copy (_recv_copy)",
                    recorded.name, other.name, recorded.name
                ),
            ));
        }
        for (severity, why) in c.cut {
            notes.push((severity, rename(&why, &c.a, &a, &c.b, &b)));
        }
        let frames = merge(&a.uuid, c.a_to_b.frames, &b.uuid, c.b_to_a.frames);
        let unrecorded = match (c.a.side, c.b.side) {
            (Some(_), None) => Some(capture::End::B),
            (None, Some(_)) => Some(capture::End::A),
            _ => None,
        };
        let first = frames.first().map_or(u64::MAX, |f| f.t_ns);
        let mut addrs = serde_json::Map::new();
        addrs.insert("a".into(), c.a.local.into());
        addrs.insert("b".into(), c.b.local.into());
        channels.push((
            first,
            capture::Channel {
                a: a.uuid,
                b: b.uuid,
                transport: c.transport.as_str().into(),
                addrs,
                empty: frames.is_empty(),
                unrecorded,
                frames,
            },
            notes,
        ));
    }
    // Channels in order of their first frame; empty ones last.
    channels.sort_by_key(|(first, _, _)| *first);
    if let Some((from, to)) = options.window_ms {
        let t0 = channels.first().map_or(0, |c| c.0);
        let lo = t0.saturating_add((from.max(0.0) * 1e6) as u64);
        let hi = t0.saturating_add((to.max(0.0) * 1e6).min(u64::MAX as f64) as u64);
        for (_, ch, _) in &mut channels {
            ch.frames.retain(|f| f.t_ns >= lo && f.t_ns < hi);
        }
        channels.retain(|(_, ch, _)| !ch.frames.is_empty());
    }
    let mut notes = Vec::new();
    let mut kept = Vec::new();
    for (index, (_, ch, ch_notes)) in channels.into_iter().enumerate() {
        for (severity, text) in ch_notes {
            notes.push(Note {
                severity,
                channel: Some(index),
                text,
            });
        }
        kept.push(ch);
    }
    let used: std::collections::HashSet<&str> = kept
        .iter()
        .flat_map(|c| [c.a.as_str(), c.b.as_str()])
        .collect();
    let actors = actor_order
        .iter()
        .filter(|u| used.contains(u.as_str()))
        .filter_map(|u| actors.get(u).cloned())
        .collect();
    Assembled {
        capture: Capture {
            format: capture::FORMAT.into(),
            source: options.source.clone(),
            scenario: options.scenario.clone(),
            description: options.description.clone(),
            actors,
            channels: kept,
            pld_specs: Vec::new(),
            pld_verdicts: None,
        },
        notes,
        connections: sides.len(),
        one_sided,
        unread,
    }
}

fn name_of_side(side: &Side) -> String {
    format!("[{}]", side.local)
}

/// Replaces the address names of the ends in a note by actor names.
fn rename(text: &str, ea: &End, a: &Identity, eb: &End, b: &Identity) -> String {
    text.replace(&format!("[{}]", ea.local), &a.name)
        .replace(&format!("[{}]", eb.local), &b.name)
}

/// Merges the two directions by time, each keeping its own order.
fn merge(
    a: &str,
    ab: Vec<(u64, Vec<u8>, bool)>,
    b: &str,
    ba: Vec<(u64, Vec<u8>, bool)>,
) -> Vec<capture::Frame> {
    let engine = base64::engine::general_purpose::STANDARD;
    let mut out = Vec::with_capacity(ab.len() + ba.len());
    let mut x = ab.into_iter().peekable();
    let mut y = ba.into_iter().peekable();
    loop {
        let take_x = match (x.peek(), y.peek()) {
            (Some(p), Some(q)) => p.0 <= q.0,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (None, None) => break,
        };
        let (from, end, (t, body, recv_copy)) = if take_x {
            (a, capture::End::A, x.next().expect("peeked"))
        } else {
            (b, capture::End::B, y.next().expect("peeked"))
        };
        out.push(capture::Frame {
            from: from.to_string(),
            end: Some(end),
            t_ns: t,
            msgpack_b64: engine.encode(&body),
            recv_copy,
        });
    }
    out
}
