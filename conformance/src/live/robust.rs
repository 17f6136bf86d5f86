//! Robustness cases: the hostile frames that crash a Python tractor actor
//! (protocol reference §8.2). The expectation is "rejected, and the peer
//! keeps serving its other channels": the harness opens two channels,
//! sends the hostile input on the first, then checks that the second still
//! answers an `add` and that a fresh connection still gets a handshake and
//! an `add` answered.
//!
//! The first two channels are opened the way replay cases connect: a
//! refused connection, or one closed before the handshake, is retried
//! until the timeout, so that a peer restarting after the previous case
//! (a tractor actor killed by it) is waited for. The third is not
//! retried: by then the peer has to be serving.

use std::time::Duration;

use shuttle::{Aid, Error as ErrorMsg, Msg, Start, StrMap, Uid};

use super::peer::Peer;
use super::session::Session;
use super::transport;

/// One robustness case.
#[derive(Clone, Copy, Debug)]
pub struct RobustCase {
    /// Stable id (`robust/non-map`).
    pub id: &'static str,
    /// One line for humans.
    pub title: &'static str,
    /// What is sent on the hostile channel.
    pub hostile: Hostile,
}

/// The hostile inputs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hostile {
    /// A valid msgpack value that is not a map (an array).
    NonMap,
    /// A map without `msg_type`.
    NoMsgType,
    /// A map whose `msg_type` names no message.
    UnknownMsgType,
    /// A `Stop` whose cid holds invalid UTF-8.
    InvalidUtf8,
    /// A length prefix announcing 100 bytes, 10 bytes, then end of stream.
    TruncatedThenEof,
    /// A length prefix of 4 GiB - 1 followed by a few bytes.
    HugeLength,
    /// A `Start` whose uid differs from the handshake's.
    StartUidMismatch,
    /// `Start{ns: "self"}` naming a method that does not exist.
    SelfNoSuchMethod,
    /// An `Error` boxing `RemoteActorError` with an empty `relay_path`, on
    /// the cid of a context the peer is running (`sleeper`).
    ErrorEmptyRelayPath,
    /// The legacy `nil` "terminate" sentinel.
    LegacyNil,
    /// Five frames that are not msgpack (`c1`), one after the other.
    FiveUndecodable,
    /// A zero-length frame.
    EmptyFrame,
}

/// Every robustness case.
pub const CASES: &[RobustCase] = &[
    RobustCase {
        id: "robust/non-map",
        title: "a frame holding an array, not a map",
        hostile: Hostile::NonMap,
    },
    RobustCase {
        id: "robust/no-msg-type",
        title: "a map without msg_type",
        hostile: Hostile::NoMsgType,
    },
    RobustCase {
        id: "robust/unknown-msg-type",
        title: "a map with an unknown msg_type",
        hostile: Hostile::UnknownMsgType,
    },
    RobustCase {
        id: "robust/invalid-utf8",
        title: "a Stop whose cid is invalid UTF-8",
        hostile: Hostile::InvalidUtf8,
    },
    RobustCase {
        id: "robust/truncated-body-eof",
        title: "a truncated body, then end of stream",
        hostile: Hostile::TruncatedThenEof,
    },
    RobustCase {
        id: "robust/huge-length",
        title: "a 4 GiB length prefix",
        hostile: Hostile::HugeLength,
    },
    RobustCase {
        id: "robust/start-uid-mismatch",
        title: "a Start whose uid is not the handshake's",
        hostile: Hostile::StartUidMismatch,
    },
    RobustCase {
        id: "robust/self-no-such-method",
        title: "a Start for a self method that does not exist",
        hostile: Hostile::SelfNoSuchMethod,
    },
    RobustCase {
        id: "robust/error-empty-relay-path",
        title: "an Error boxing RemoteActorError with an empty relay_path, into a live context",
        hostile: Hostile::ErrorEmptyRelayPath,
    },
    RobustCase {
        id: "robust/legacy-nil",
        title: "the legacy nil terminate sentinel",
        hostile: Hostile::LegacyNil,
    },
    RobustCase {
        id: "robust/five-undecodable",
        title: "five undecodable frames in a row",
        hostile: Hostile::FiveUndecodable,
    },
    RobustCase {
        id: "robust/empty-frame",
        title: "a zero-length frame",
        hostile: Hostile::EmptyFrame,
    },
];

/// The harness's identity on one connection.
pub(super) struct Me {
    uid: Uid<'static>,
}

impl Me {
    pub(super) fn new(tag: &str) -> Me {
        Me {
            uid: Uid::new(
                "shuttle-harness".to_string(),
                format!("00000000-0000-4000-8000-{:012x}", fnv(tag)),
            ),
        }
    }

    fn aid(&self) -> Vec<u8> {
        let mut aid = Aid::new(self.uid.name.clone(), self.uid.uuid.clone());
        aid.pid = Some(shuttle::Int::U(std::process::id().into()));
        aid.is_registrar = Some(false);
        aid.to_vec()
    }

    pub(super) fn start(&self, cid: &str, ns: &str, func: &str, kwargs: &rmpv::Value) -> Vec<u8> {
        let kwargs = StrMap::encode(kwargs).expect("kwargs encode");
        Start::new(cid, ns, func, kwargs, self.uid.clone()).to_vec()
    }
}

fn fnv(s: &str) -> u64 {
    s.bytes().fold(0xcbf29ce484222325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100000001b3)
    }) & 0xffff_ffff_ffff
}

fn map(entries: &[(&str, rmpv::Value)]) -> Vec<u8> {
    let v = rmpv::Value::Map(
        entries
            .iter()
            .map(|(k, v)| (rmpv::Value::from(*k), v.clone()))
            .collect(),
    );
    let mut out = Vec::new();
    rmpv::encode::write_value(&mut out, &v).expect("writing to a Vec");
    out
}

fn framed(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    shuttle::frame::write_frame(&mut out, body).expect("small frame");
    out
}

/// Connects (retrying, when `retry`, a refused connection or one closed
/// before the handshake until `timeout` has passed) and exchanges `Aid`s.
pub(super) async fn open(
    peer: &mut Peer,
    me: &Me,
    timeout: Duration,
    label: &str,
    retry: bool,
) -> Result<Session, String> {
    let started = std::time::Instant::now();
    loop {
        let r = open_once(peer, me, timeout, label, retry).await;
        match r {
            Err(e) if retry && e.starts_with("PEER DIED?") && started.elapsed() < timeout => {
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
            r => return r,
        }
    }
}

async fn open_once(
    peer: &mut Peer,
    me: &Me,
    timeout: Duration,
    label: &str,
    retry: bool,
) -> Result<Session, String> {
    let conn = if retry {
        peer.connect(timeout).await
    } else {
        transport::connect(peer.addr()).await
    }
    .map_err(|e| format!("PEER DIED? connecting for channel {label} failed: {e}"))?;
    let mut s = Session::new(conn);
    s.transcript.note(format!("channel {label}"));
    s.send(&me.aid(), &format!("Aid {}", me.uid.name))
        .await
        .map_err(|e| format!("channel {label}: sending the Aid failed: {e}"))?;
    match s.recv(timeout).await {
        Ok(Some(body)) => match Msg::decode(&body) {
            Ok(Msg::Aid(_)) => Ok(s),
            _ => Err(format!(
                "channel {label}: the peer's first frame is not an Aid"
            )),
        },
        Ok(None) => Err(format!(
            "PEER DIED? channel {label}: closed before the handshake"
        )),
        Err(e) => Err(format!("PEER DIED? channel {label}: no handshake: {e}")),
    }
}

/// Why the `add` check failed.
pub(super) enum AddFailure {
    /// No answer: the channel closed, broke or stayed silent.
    Silent(String),
    /// An answer, but a wrong one.
    Wrong(String),
}

/// Runs `add(x=20, y=22)` on a session and checks the answer.
pub(super) async fn check_add(
    s: &mut Session,
    me: &Me,
    cid: &str,
    timeout: Duration,
) -> Result<(), AddFailure> {
    use AddFailure::{Silent, Wrong};
    let kwargs = rmpv::Value::Map(vec![
        (rmpv::Value::from("x"), rmpv::Value::from(20)),
        (rmpv::Value::from("y"), rmpv::Value::from(22)),
    ]);
    s.send(
        &me.start(cid, "__main__", "add", &kwargs),
        "Start __main__.add(x=20, y=22)",
    )
    .await
    .map_err(|e| Silent(format!("sending add failed: {e}")))?;
    let mut acked = false;
    loop {
        let body = match s.recv(timeout).await {
            Ok(Some(b)) => b,
            Ok(None) => {
                return Err(Silent(
                    "the peer closed the channel instead of answering add".into(),
                ))
            }
            Err(e) => return Err(Silent(format!("add was not answered: {e}"))),
        };
        match Msg::decode(&body) {
            Ok(Msg::StartAck(a)) if a.cid == cid && !acked => acked = true,
            Ok(Msg::Return(r)) if r.cid == cid && acked => {
                return match r.pld.to_value() {
                    Ok(v) if v.as_u64() == Some(42) => Ok(()),
                    Ok(v) => Err(Wrong(format!(
                        "add(x=20, y=22) returned {}, not 42",
                        super::pattern::show(&v)
                    ))),
                    Err(e) => Err(Wrong(format!("add returned an undecodable payload: {e}"))),
                };
            }
            Ok(m) if m.cid() == Some(cid) => {
                return Err(Wrong(format!(
                    "unexpected {} answering add",
                    m.msg_type().as_str()
                )))
            }
            _ => {} // frames of other dialogs
        }
    }
}

/// Runs one robustness case against a peer listening at `addr`. On
/// failure the error says whether the peer died.
pub async fn run(
    case: &RobustCase,
    peer: &mut Peer,
    timeout: Duration,
) -> (Result<(), String>, Vec<String>) {
    let mut lines = Vec::new();
    let r = run_inner(case, peer, timeout, &mut lines).await;
    (r, lines)
}

async fn run_inner(
    case: &RobustCase,
    peer: &mut Peer,
    timeout: Duration,
    lines: &mut Vec<String>,
) -> Result<(), String> {
    let me_a = Me::new(&format!("{}/a", case.id));
    let me_b = Me::new(&format!("{}/b", case.id));
    let mut a = open(peer, &me_a, timeout, "A", true).await?;
    let mut b = match open(peer, &me_b, timeout, "B", true).await {
        Ok(b) => b,
        Err(e) => {
            lines.extend(a.transcript.lines().iter().cloned());
            return Err(e);
        }
    };
    let sent = match hostile(case.hostile, &me_a, &mut a, timeout).await {
        Ok(sent) => sent,
        Err(e) => {
            lines.extend(a.transcript.lines().iter().cloned());
            return Err(e);
        }
    };
    // What the hostile channel does next is informational, except that a
    // rejected Start must not be acknowledged.
    let watch = timeout.min(Duration::from_millis(300));
    let mut acked = false;
    if sent {
        while let Ok(Some(body)) = a.recv(watch).await {
            if let Ok(Msg::StartAck(ack)) = Msg::decode(&body) {
                if ack.cid == "hostile-1" {
                    acked = true;
                }
            }
        }
    }
    let check_b = check_add(&mut b, &me_b, "robust-check-b", timeout).await;
    lines.extend(a.transcript.lines().iter().cloned());
    lines.extend(b.transcript.lines().iter().cloned());
    drop(a);
    match check_b {
        Err(AddFailure::Silent(e)) => {
            return Err(format!(
                "PEER DIED or stopped serving: after the hostile input on channel A, channel B failed: {e}"
            ))
        }
        Err(AddFailure::Wrong(e)) => return Err(format!("channel B answered wrongly: {e}")),
        Ok(()) => {}
    }
    let me_c = Me::new(&format!("{}/c", case.id));
    let mut c = match open(peer, &me_c, timeout, "C", false).await {
        Ok(c) => c,
        Err(e) => {
            return Err(format!(
                "PEER DIED: a new connection after the hostile input failed: {e}"
            ))
        }
    };
    let check_c = check_add(&mut c, &me_c, "robust-check-c", timeout).await;
    lines.extend(c.transcript.lines().iter().cloned());
    match check_c {
        Err(AddFailure::Silent(e)) => {
            return Err(format!(
                "PEER DIED or stopped serving: a new channel failed: {e}"
            ))
        }
        Err(AddFailure::Wrong(e)) => return Err(format!("channel C answered wrongly: {e}")),
        Ok(()) => {}
    }
    if acked {
        return Err("the peer acknowledged (StartAck) a Start it must reject".into());
    }
    Ok(())
}

/// The cid of the live context the `ErrorEmptyRelayPath` case targets.
const LIVE_CTX: &str = "robust-live-ctx";

/// Opens the `sleeper` context on `a` and waits for its `Started`.
async fn open_live_context(me: &Me, a: &mut Session, timeout: Duration) -> Result<(), String> {
    a.send(
        &me.start(LIVE_CTX, "__main__", "sleeper", &rmpv::Value::Map(vec![])),
        &format!("Start cid={LIVE_CTX} __main__.sleeper() (the live context)"),
    )
    .await
    .map_err(|e| format!("channel A: sending the Start of the live context failed: {e}"))?;
    loop {
        match a.recv(timeout).await {
            Ok(Some(body)) => match Msg::decode(&body) {
                Ok(Msg::Started(s)) if s.cid == LIVE_CTX => return Ok(()),
                Ok(Msg::StartAck(s)) if s.cid == LIVE_CTX => {}
                Ok(m) if m.cid() == Some(LIVE_CTX) => {
                    return Err(format!(
                        "channel A: the live context answered {} instead of Started",
                        m.msg_type().as_str()
                    ))
                }
                _ => {}
            },
            Ok(None) => {
                return Err("PEER DIED? channel A closed before the live context started".into())
            }
            Err(e) => return Err(format!("channel A: the live context did not start: {e}")),
        }
    }
}

/// Sends the hostile input on `a`; `Ok(false)` when sending it failed at
/// the socket (the peer is already gone).
async fn hostile(h: Hostile, me: &Me, a: &mut Session, timeout: Duration) -> Result<bool, String> {
    use rmpv::Value as V;
    let mut bytes = Vec::new();
    let note = match h {
        Hostile::NonMap => {
            bytes = framed(&[0x93, 0x01, 0x02, 0x03]);
            "[1, 2, 3] (array frame)"
        }
        Hostile::NoMsgType => {
            bytes = framed(&map(&[("cid", V::from("hostile-1"))]));
            "{cid: 'hostile-1'} (no msg_type)"
        }
        Hostile::UnknownMsgType => {
            bytes = framed(&map(&[
                ("msg_type", V::from("Bogus")),
                ("cid", V::from("hostile-1")),
            ]));
            "{msg_type: 'Bogus', cid: 'hostile-1'}"
        }
        Hostile::InvalidUtf8 => {
            let mut body = map(&[("msg_type", V::from("Stop"))]);
            body[0] = 0x82;
            body.extend_from_slice(&[0xa3, b'c', b'i', b'd', 0xa2, 0xff, 0xfe]);
            bytes = framed(&body);
            "Stop with cid b'\\xff\\xfe' (invalid UTF-8)"
        }
        Hostile::TruncatedThenEof => {
            bytes.extend_from_slice(&100u32.to_le_bytes());
            bytes.extend_from_slice(&[0x82, 0xa8, b'm', b's', b'g', b'_', b't', b'y', b'p', b'e']);
            "length 100, 10 bytes of body, then end of stream"
        }
        Hostile::HugeLength => {
            bytes.extend_from_slice(&u32::MAX.to_le_bytes());
            bytes.extend_from_slice(&[0x82, 0xa8]);
            "length prefix ffffffff (4 GiB - 1), 2 bytes of body"
        }
        Hostile::StartUidMismatch => {
            let other = Me {
                uid: Uid::new(
                    "mallory".to_string(),
                    "00000000-0000-4000-8000-0000000000aa".to_string(),
                ),
            };
            let kwargs = V::Map(vec![(V::from("x"), V::from(1)), (V::from("y"), V::from(2))]);
            bytes = framed(&other.start("hostile-1", "__main__", "add", &kwargs));
            "Start cid=hostile-1 __main__.add with uid ['mallory', ...] (not the handshake's)"
        }
        Hostile::SelfNoSuchMethod => {
            bytes = framed(&me.start("hostile-1", "self", "no_such_method", &V::Map(vec![])));
            "Start cid=hostile-1 self.no_such_method()"
        }
        Hostile::ErrorEmptyRelayPath => {
            open_live_context(me, a, timeout).await?;
            let mut e = ErrorMsg::new(me.uid.clone(), "ValueError", "RemoteActorError", vec![]);
            e.cid = Some(LIVE_CTX.into());
            bytes = framed(&e.to_vec());
            "Error boxed RemoteActorError, relay_path [] (cid robust-live-ctx, the live context)"
        }
        Hostile::LegacyNil => {
            bytes = framed(&[0xc0]);
            "nil (legacy terminate sentinel)"
        }
        Hostile::FiveUndecodable => {
            for _ in 0..5 {
                bytes.extend_from_slice(&framed(&[0xc1]));
            }
            "five frames holding the never-used byte c1"
        }
        Hostile::EmptyFrame => {
            bytes = framed(&[]);
            "an empty frame (length 0)"
        }
    };
    let sent = a.send_raw(&bytes, note).await.is_ok();
    if sent && h == Hostile::TruncatedThenEof {
        let _ = a.shutdown_write().await;
    }
    Ok(sent)
}
