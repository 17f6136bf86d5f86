//! The dialog state machine against every recorded channel, systematic
//! mutations of them, and dialogs generated from the grammar.

use shuttle::dialog::{check_channel, ChannelReport};
use shuttle_conformance::capture::End;

use crate::support::captures;

/// One channel's frames with their senders.
type Frames = Vec<(End, Vec<u8>)>;

/// Every channel of every current-protocol capture: (label, frames).
fn channels() -> Vec<(String, Frames)> {
    let mut out = Vec::new();
    for (name, cap) in captures("python-tractor") {
        for ch in 0..cap.channels.len() {
            let frames = cap
                .channel_frames(ch)
                .unwrap()
                .into_iter()
                .map(|f| (f.from, f.body))
                .collect();
            out.push((format!("{name} ch{ch}"), frames));
        }
    }
    out
}

fn check(frames: &[(End, Vec<u8>)], strict: bool) -> ChannelReport {
    let refs: Vec<(End, &[u8])> = frames.iter().map(|(e, b)| (*e, b.as_slice())).collect();
    check_channel(&refs, strict)
}

#[test]
fn every_capture_channel_is_accepted() {
    let mut bad = Vec::new();
    for (label, frames) in channels() {
        let r = check(&frames, true);
        for v in &r.violations {
            bad.push(format!("{label}: {v}"));
        }
        for w in &r.warnings {
            eprintln!("{label}: {w}");
        }
        for o in &r.open {
            eprintln!("{label}: open {} {:?} {:?}", o.cid, o.rpc, o.excuse);
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

// ---------------------------------------------------------------------------
// The negative set: systematic mutations of every recorded channel, each
// with a precise expected outcome computed from the frame kinds alone.
// ---------------------------------------------------------------------------

use std::borrow::Cow;
use std::collections::HashMap;

use shuttle::dialog::{Code, Quirk};
use shuttle::{Functype, Msg, MsgType, Raw, StartAck, Started, Yield};

/// What the test knows about one frame, from decoding it.
#[derive(Clone, Debug)]
struct Info {
    from: End,
    t: MsgType,
    cid: Option<String>,
    /// A `StreamOverrun` error.
    overrun: bool,
    /// `StartAck.functype`.
    functype: Option<Functype>,
    /// `Start{ns: "self"}`.
    self_rpc: bool,
    /// `_cancel_task` target.
    cancel_target: Option<String>,
    /// A probe `Aid`.
    probe: bool,
    /// `Start{ns: "self", func: "cancel"}`.
    actor_cancel: bool,
}

fn info(from: End, body: &[u8]) -> Info {
    let msg = Msg::decode(body).unwrap();
    let mut i = Info {
        from,
        t: msg.msg_type(),
        cid: msg.cid().map(str::to_owned),
        overrun: false,
        functype: None,
        self_rpc: false,
        cancel_target: None,
        probe: false,
        actor_cancel: false,
    };
    match &msg {
        Msg::Aid(a) => i.probe = a.is_probe,
        Msg::StartAck(a) => i.functype = Some(a.functype),
        Msg::Error(e) => i.overrun = e.boxed_type_str == "StreamOverrun",
        Msg::Start(s) => {
            i.self_rpc = s.ns == "self";
            i.actor_cancel = i.self_rpc && s.func == "cancel";
            if s.func == "_cancel_task" {
                i.cancel_target = s
                    .kwargs
                    .iter()
                    .find(|(k, _)| *k == "cid")
                    .and_then(|(_, v)| v.decode::<String>().ok());
            }
        }
        _ => {}
    }
    i
}

/// Per-dialog facts of one (unmutated) channel.
#[derive(Default)]
struct Dialogs {
    caller: HashMap<String, End>,
    functype: HashMap<String, Functype>,
    self_rpc: HashMap<String, bool>,
    actor_cancel: HashMap<String, bool>,
}

impl Dialogs {
    fn of(infos: &[Info]) -> Dialogs {
        let mut d = Dialogs::default();
        for i in infos {
            match (i.t, &i.cid) {
                (MsgType::Start, Some(c)) => {
                    d.caller.insert(c.clone(), i.from);
                    d.self_rpc.insert(c.clone(), i.self_rpc);
                    d.actor_cancel.insert(c.clone(), i.actor_cancel);
                }
                (MsgType::StartAck, Some(c)) => {
                    d.functype.insert(c.clone(), i.functype.unwrap());
                }
                _ => {}
            }
        }
        d
    }
    /// The `CancelAck` with which an actor acknowledges `self.cancel`.
    fn is_actor_cancel_ack(&self, i: &Info) -> bool {
        i.t == MsgType::CancelAck
            && i.cid.as_ref().and_then(|c| self.actor_cancel.get(c)) == Some(&true)
    }
    fn is_caller(&self, i: &Info) -> bool {
        i.cid.as_ref().and_then(|c| self.caller.get(c)) == Some(&i.from)
    }
    fn ft(&self, i: &Info) -> Option<Functype> {
        i.cid.as_ref().and_then(|c| self.functype.get(c)).copied()
    }
    /// A callee frame that ends its dialog.
    fn is_terminal(&self, i: &Info) -> bool {
        !self.is_caller(i)
            && match i.t {
                MsgType::Return | MsgType::CancelAck => true,
                MsgType::Error => !i.overrun,
                MsgType::Stop => self.ft(i) == Some(Functype::AsyncGen),
                _ => false,
            }
    }
}

/// The expected verdict on a mutated channel.
#[derive(Clone, Debug, PartialEq)]
enum Expect {
    /// The first violation is this code at this frame.
    Reject(usize, Code),
    /// No violation (the reason documents why this mutation is legal).
    Legal(&'static str),
    /// No violation, and this dialog is reported open at the close.
    LegalOpen(&'static str, String),
    /// No violation, and strict mode reports this quirk.
    LegalQuirk(&'static str, Quirk),
    /// No violation: the channel was cut off inside the handshake.
    Truncated,
}

struct Outcome {
    mutation: String,
    expect: Expect,
    frames: Frames,
}

fn verify(label: &str, o: &Outcome) -> Result<(), String> {
    let r = check(&o.frames, true);
    let first = r.violations.first();
    let fail = |what: String| {
        Err(format!(
            "{label}: {}: expected {:?}, {what}",
            o.mutation, o.expect
        ))
    };
    match &o.expect {
        Expect::Reject(at, code) => match first {
            Some(v) if v.frame == Some(*at) && v.code == *code => {
                // The violation names the frame's dialog (none for handshake frames).
                let cid = Msg::decode(&o.frames[*at].1)
                    .unwrap()
                    .cid()
                    .map(str::to_owned);
                let cid = if matches!(code, Code::SpawnSpecDirection | Code::SpawnSpecMisplaced) {
                    None
                } else {
                    cid
                };
                if v.cid == cid {
                    Ok(())
                } else {
                    fail(format!(
                        "violation names cid {:?}, frame has {cid:?}",
                        v.cid
                    ))
                }
            }
            _ => fail(format!("got {first:?}")),
        },
        Expect::Legal(_) => match first {
            None => Ok(()),
            Some(v) => fail(format!("got {v}")),
        },
        Expect::LegalOpen(_, cid) => match first {
            None if r.open.iter().any(|d| &d.cid == cid) => Ok(()),
            None => fail(format!("{cid} not open at close: {:?}", r.open)),
            Some(v) => fail(format!("got {v}")),
        },
        Expect::Truncated => match first {
            None if r.truncated.is_some() => Ok(()),
            None => fail("not reported truncated".into()),
            Some(v) => fail(format!("got {v}")),
        },
        Expect::LegalQuirk(_, q) => match first {
            None if r.warnings.iter().any(|w| w.quirk == *q) => Ok(()),
            None => fail(format!("no {q} warning: {:?}", r.warnings)),
            Some(v) => fail(format!("got {v}")),
        },
    }
}

fn encode(msg: &Msg<'_>) -> Vec<u8> {
    msg.to_vec().unwrap()
}

fn with_cid(body: &[u8], cid: &str) -> Vec<u8> {
    let mut msg = Msg::decode(body).unwrap();
    let c = Cow::Owned(cid.to_owned());
    match &mut msg {
        Msg::Start(m) => m.cid = c,
        Msg::StartAck(m) => m.cid = c,
        Msg::Started(m) => m.cid = c,
        Msg::Yield(m) => m.cid = c,
        Msg::Stop(m) => m.cid = c,
        Msg::Return(m) => m.cid = c,
        Msg::CancelAck(m) => m.cid = c,
        Msg::Error(m) => m.cid = Some(c),
        Msg::Aid(_) | Msg::SpawnSpec(_) => unreachable!(),
        other => unreachable!("the oracle has no rule for {other:?}"),
    }
    encode(&msg)
}

/// Index of the first frame at or after `from` matching `p`.
fn find(infos: &[Info], from: usize, p: impl Fn(&Info) -> bool) -> Option<usize> {
    (from..infos.len()).find(|&j| p(&infos[j]))
}

fn same_cid(i: &Info, cid: &Option<String>) -> bool {
    i.cid.is_some() && i.cid == *cid
}

/// After an end's only `Aid` moved to the other end at `at - 1`, the next
/// frame breaks the handshake: the missing end cannot send an `Aid` again
/// (it had one), and the other end already sent one.
fn handshake_break(m: &[Info], at: usize, missing: End) -> Expect {
    match m.get(at) {
        None => Expect::Truncated,
        Some(i) if i.from == missing => Expect::Reject(at, Code::ExpectedAid),
        Some(i) if i.t == MsgType::Aid => Expect::Reject(at, Code::DuplicateAid),
        Some(_) => Expect::Reject(at, Code::HandshakeIncomplete),
    }
}

/// Mutation 1: drop frame `i`.
fn drop_frame(o: &[Info], d: &Dialogs, i: usize) -> Expect {
    let f = &o[i];
    let mut m = o.to_vec();
    m.remove(i);
    let next_of_cid = find(&m, i, |x| same_cid(x, &f.cid));
    match f.t {
        MsgType::Aid => {
            // The peer's Aid may still be ahead: it is accepted; anything
            // else from the peer breaks the handshake.
            for (j, x) in m.iter().enumerate().skip(i) {
                if x.from == f.from {
                    return Expect::Reject(j, Code::ExpectedAid);
                }
                if x.t != MsgType::Aid {
                    return Expect::Reject(j, Code::HandshakeIncomplete);
                }
            }
            if m.iter().any(|x| x.probe) {
                Expect::Legal("a listener may leave a probe unanswered")
            } else {
                Expect::Truncated
            }
        }
        MsgType::SpawnSpec => Expect::Legal("without SpawnSpec the channel is an ordinary channel"),
        MsgType::Start => {
            let j = find(&m, i, |x| {
                same_cid(x, &f.cid) || (x.cancel_target.is_some() && x.cancel_target == f.cid)
            });
            match j {
                None => Expect::Legal("an unanswered request vanishes entirely"),
                Some(j) if m[j].t == MsgType::Start => Expect::Reject(j, Code::CancelTaskUnknown),
                Some(j) => Expect::Reject(j, Code::UnknownCid),
            }
        }
        MsgType::StartAck => match next_of_cid {
            None => Expect::LegalOpen(
                "an unacknowledged request may stay open",
                f.cid.clone().unwrap(),
            ),
            Some(j) if d.is_caller(&m[j]) => Expect::Reject(j, Code::CallerBeforeAck),
            Some(j) if m[j].t == MsgType::Error && !m[j].overrun => {
                // An Error without StartAck is a legal first reply.
                match find(&m, j + 1, |x| same_cid(x, &f.cid)) {
                    None => Expect::Legal("Error instead of StartAck is a legal first reply"),
                    Some(k) if d.is_caller(&m[k]) => Expect::Reject(k, Code::CallerBeforeAck),
                    Some(k) => Expect::Reject(k, Code::AfterEnd),
                }
            }
            Some(j) => Expect::Reject(j, Code::ExpectedStartAck),
        },
        MsgType::Started => match next_of_cid {
            None => Expect::Legal("nothing follows"),
            Some(j) => match m[j].t {
                MsgType::Return if !d.is_caller(&m[j]) => {
                    Expect::LegalQuirk("Return without Started", Quirk::ReturnWithoutStarted)
                }
                MsgType::Error if !m[j].overrun => {
                    Expect::Legal("a context may fail before Started")
                }
                _ => Expect::Reject(j, Code::BeforeStarted),
            },
        },
        MsgType::Yield => Expect::Legal("streams carry any number of Yields"),
        MsgType::Stop if d.is_terminal(f) => Expect::LegalOpen(
            "an asyncgen without its final Stop stays open",
            f.cid.clone().unwrap(),
        ),
        MsgType::Stop => Expect::Legal("a context side need not close its stream with Stop"),
        MsgType::Error if f.overrun => Expect::Legal("overrun notices are optional"),
        MsgType::Error | MsgType::Return | MsgType::CancelAck => Expect::LegalOpen(
            "without its final reply the dialog stays open",
            f.cid.clone().unwrap(),
        ),
        other => unreachable!("the oracle has no rule for {other:?}"),
    }
}

/// Mutation 2: send frame `i` twice.
fn duplicate_frame(o: &[Info], d: &Dialogs, i: usize) -> Expect {
    let f = &o[i];
    let at = i + 1;
    match f.t {
        MsgType::Aid => Expect::Reject(at, Code::DuplicateAid),
        MsgType::SpawnSpec => Expect::Reject(at, Code::SpawnSpecMisplaced),
        MsgType::Start => Expect::Reject(at, Code::CidReuse),
        MsgType::StartAck => Expect::Reject(at, Code::DuplicateStartAck),
        MsgType::Started => Expect::Reject(at, Code::DuplicateStarted),
        MsgType::Yield => Expect::Legal("streams carry any number of Yields"),
        MsgType::Stop if d.is_terminal(f) => Expect::Reject(at, Code::AfterEnd),
        MsgType::Stop if ended_before(o, d, i) => {
            Expect::LegalQuirk("a caller Stop after the end, twice", Quirk::StopAfterEnd)
        }
        MsgType::Stop => Expect::LegalQuirk("the same Stop twice", Quirk::DuplicateStop),
        MsgType::Error if f.overrun => Expect::Legal("one overrun notice per overflowing message"),
        MsgType::Return | MsgType::Error | MsgType::CancelAck => Expect::Reject(at, Code::AfterEnd),
        other => unreachable!("the oracle has no rule for {other:?}"),
    }
}

/// Whether the callee ended frame `i`'s dialog before frame `i`.
fn ended_before(o: &[Info], d: &Dialogs, i: usize) -> bool {
    o[..i]
        .iter()
        .any(|x| same_cid(x, &o[i].cid) && d.is_terminal(x))
}

/// Mutation 4: frame `i` sent by the other end.
fn flip_frame(o: &[Info], d: &Dialogs, i: usize) -> Expect {
    let f = &o[i];
    let to = f.from.peer();
    let mut m = o.to_vec();
    m[i].from = to;
    match f.t {
        MsgType::Aid => {
            if o[..i].iter().any(|x| x.from == to && x.t == MsgType::Aid) {
                Expect::Reject(i, Code::DuplicateAid)
            } else if f.probe && to == End::B {
                Expect::Reject(i, Code::ProbeFromAcceptor)
            } else {
                handshake_break(&m, i + 1, f.from)
            }
        }
        MsgType::SpawnSpec => Expect::Reject(i, Code::SpawnSpecDirection),
        MsgType::Start => Expect::Reject(i, Code::StartUidMismatch),
        MsgType::StartAck | MsgType::Started | MsgType::Return | MsgType::CancelAck => {
            Expect::Reject(i, Code::WrongDirection)
        }
        MsgType::Error => Expect::Reject(i, Code::RelayPathSender),
        MsgType::Yield | MsgType::Stop => stream_flip(&m, d, i, !d.is_caller(f)),
        other => unreachable!("the oracle has no rule for {other:?}"),
    }
}

/// A small independent model of whether the dialog ended, for Yield/Stop
/// moved to the other end. (A `Yield` after the own `Stop` and a second
/// `Stop` are quirks, not violations, so who stopped does not matter.)
fn stream_flip(m: &[Info], d: &Dialogs, i: usize, now_caller: bool) -> Expect {
    let cid = m[i].cid.clone();
    let ft = d.ft(&m[i]).unwrap();
    let mut ended = false;
    let role = |j: usize| {
        if j == i {
            now_caller
        } else {
            d.is_caller(&m[j])
        }
    };
    for (j, x) in m.iter().enumerate() {
        if !same_cid(x, &cid) {
            continue;
        }
        let caller = role(j);
        let t = x.t;
        let check = j >= i;
        if caller {
            if t == MsgType::Yield && ft != Functype::Context && check {
                return Expect::Reject(j, Code::KindMismatch);
            }
        } else {
            if ended && check {
                return Expect::Reject(j, Code::AfterEnd);
            }
            match t {
                MsgType::Stop => ended |= ft == Functype::AsyncGen,
                MsgType::Return | MsgType::CancelAck => ended = true,
                MsgType::Error if !x.overrun => ended = true,
                _ => {}
            }
        }
    }
    if !ended {
        Expect::LegalOpen("the dialog lost its end", cid.unwrap())
    } else {
        Expect::Legal("both ends may stream and stop independently")
    }
}

/// Mutation 8: StartAck `i` announces `ft` instead.
fn functype_change(o: &[Info], d: &Dialogs, i: usize, ft: Functype) -> Expect {
    let cid = o[i].cid.clone();
    if d.self_rpc[cid.as_ref().unwrap()] {
        return Expect::Reject(i, Code::FunctypeMismatch);
    }
    let (mut started, mut ended) = (false, false);
    let mut quirk = None;
    for (j, x) in o.iter().enumerate().skip(i + 1) {
        if !same_cid(x, &cid) {
            continue;
        }
        let kind = Expect::Reject(j, Code::KindMismatch);
        if d.is_caller(x) {
            match (ft, x.t) {
                (Functype::Context, _) if !started => {
                    return Expect::Reject(j, Code::BeforeStarted)
                }
                (Functype::AsyncFunc, _) | (Functype::AsyncGen, MsgType::Yield) => return kind,
                _ => {}
            }
            continue;
        }
        if ended {
            return Expect::Reject(j, Code::AfterEnd);
        }
        match (ft, x.t) {
            (_, MsgType::Error) if !x.overrun => ended = true,
            (Functype::AsyncFunc, MsgType::Return) => ended = true,
            (Functype::AsyncFunc, _) => return kind,
            (Functype::AsyncGen, MsgType::Yield) => {}
            (Functype::AsyncGen, MsgType::Stop) => ended = true,
            (Functype::AsyncGen, _) => return kind,
            (Functype::Context, MsgType::Started) => started = true,
            (Functype::Context, MsgType::Return) => {
                if !started {
                    quirk = Some(Quirk::ReturnWithoutStarted);
                }
                ended = true;
            }
            (Functype::Context, _) if !started => return Expect::Reject(j, Code::BeforeStarted),
            (Functype::Context, _) => {}
            other => unreachable!("the oracle has no rule for {other:?}"),
        }
    }
    match (quirk, ended) {
        (Some(q), _) => Expect::LegalQuirk("the frames fit the new functype, with a quirk", q),
        (None, true) => Expect::Legal("the frames that follow fit the announced functype too"),
        (None, false) => Expect::LegalOpen("the dialog no longer ends", cid.unwrap()),
    }
}

/// Mutation 9: swap consecutive frames `p` < `q` of one cid.
fn swap_frames(o: &[Info], d: &Dialogs, p: usize, q: usize) -> Expect {
    let (a, b) = (&o[p], &o[q]);
    let (a_caller, b_caller) = (d.is_caller(a), d.is_caller(b));
    let ft = d.ft(a);
    // A callee frame moved past its actor's acknowledgement of self.cancel.
    let a_after_exit =
        !a_caller && (p + 1..q).any(|k| o[k].from == a.from && d.is_actor_cancel_ack(&o[k]));
    use MsgType as T;
    match (a.t, b.t) {
        (T::Start, _) => Expect::Reject(p, Code::UnknownCid),
        (T::StartAck, _) if b_caller => Expect::Reject(p, Code::CallerBeforeAck),
        (T::StartAck, T::Error) if !b.overrun => Expect::Reject(q, Code::AfterEnd),
        (T::StartAck, _) => Expect::Reject(p, Code::ExpectedStartAck),
        (T::Started, T::Return) => Expect::Reject(q, Code::AfterEnd),
        (T::Started, T::Error) if !b.overrun => Expect::Reject(q, Code::AfterEnd),
        (T::Started, _) => Expect::Reject(p, Code::BeforeStarted),
        _ if a_after_exit && !d.is_terminal(b) => Expect::Reject(q, Code::AfterActorCancel),
        // Two frames from different ends, neither ending the dialog, or a
        // caller frame moved after the callee's end: independent streams.
        _ if a_caller != b_caller && !d.is_terminal(b) => {
            Expect::Legal("the two directions of a stream are independent")
        }
        _ if a_caller && d.is_terminal(b) => match a.t {
            T::Stop => Expect::LegalQuirk("caller Stop after the end", Quirk::StopAfterEnd),
            _ => Expect::LegalQuirk("caller stream frame after the end", Quirk::StreamAfterEnd),
        },
        // Same end (or a callee frame after the callee's end).
        (T::Yield, T::Yield) => Expect::Legal("payload order is not a dialog rule"),
        (T::Yield, T::Stop) if !a_caller && ft == Some(Functype::AsyncGen) => {
            Expect::Reject(q, Code::AfterEnd)
        }
        (T::Yield, T::Stop) if a_caller && ended_before(o, d, q) => {
            Expect::LegalQuirk("a caller Yield after the end", Quirk::StreamAfterEnd)
        }
        (T::Yield, T::Stop) => {
            Expect::LegalQuirk("a Yield after the own Stop", Quirk::YieldAfterStop)
        }
        _ if !a_caller && d.is_terminal(b) => Expect::Reject(q, Code::AfterEnd),
        (T::Error, _) if a.overrun && a_caller == b_caller => {
            Expect::Legal("overrun notices may come anywhere")
        }
        (_, T::Error) if b.overrun && a_caller == b_caller => {
            Expect::Legal("overrun notices may come anywhere")
        }
        _ => panic!("no oracle for swapping {a:?} and {b:?}"),
    }
}

fn mutations(frames: &Frames) -> Vec<Outcome> {
    let o: Vec<Info> = frames.iter().map(|(e, b)| info(*e, b)).collect();
    let d = Dialogs::of(&o);
    let mut out = Vec::new();
    let nil = Raw::nil();
    for i in 0..frames.len() {
        let f = &o[i];
        // 1. drop
        let mut m = frames.clone();
        m.remove(i);
        out.push(Outcome {
            mutation: format!("drop {i} ({:?})", f.t),
            expect: drop_frame(&o, &d, i),
            frames: m,
        });
        // 2. duplicate
        let mut m = frames.clone();
        m.insert(i + 1, frames[i].clone());
        out.push(Outcome {
            mutation: match f.t {
                MsgType::Return => format!("second Return {i}"),
                t => format!("duplicate {i} ({t:?})"),
            },
            expect: duplicate_frame(&o, &d, i),
            frames: m,
        });
        // 3. change the cid of a Start: the old dialog's frames are orphans
        if f.t == MsgType::Start {
            let mut m = frames.clone();
            let fresh = "00000000-0000-4000-8000-00000000000f";
            m[i].1 = with_cid(&frames[i].1, fresh);
            let j = find(&o, i + 1, |x| {
                same_cid(x, &f.cid) || (x.cancel_target.is_some() && x.cancel_target == f.cid)
            });
            out.push(Outcome {
                mutation: format!("change cid of Start {i}"),
                expect: match j {
                    None => {
                        Expect::LegalOpen("an unanswered request under another cid", fresh.into())
                    }
                    Some(j) if o[j].t == MsgType::Start => {
                        Expect::Reject(j, Code::CancelTaskUnknown)
                    }
                    Some(j) => Expect::Reject(j, Code::UnknownCid),
                },
                frames: m,
            });
        }
        // 3. change the cid of a dialog frame
        if f.cid.is_some() && f.t != MsgType::Start {
            let mut m = frames.clone();
            m[i].1 = with_cid(&frames[i].1, "00000000-0000-4000-8000-000000000000");
            out.push(Outcome {
                mutation: format!("change cid of {i} ({:?})", f.t),
                expect: Expect::Reject(i, Code::UnknownCid),
                frames: m,
            });
        }
        // 4. flip the direction
        let mut m = frames.clone();
        m[i].0 = f.from.peer();
        out.push(Outcome {
            mutation: format!("flip {i} ({:?})", f.t),
            expect: flip_frame(&o, &d, i),
            frames: m,
        });
        let cid = f.cid.clone().unwrap_or_default();
        // 5. Yield after Stop from the same end
        if f.t == MsgType::Stop {
            let mut m = frames.clone();
            m.insert(
                i + 1,
                (
                    f.from,
                    encode(&Msg::from(Yield::new(cid.as_str(), nil.clone()))),
                ),
            );
            let expect = match (d.is_caller(f), d.ft(f)) {
                (true, Some(Functype::AsyncGen)) => Expect::Reject(i + 1, Code::KindMismatch),
                (false, Some(Functype::AsyncGen)) => Expect::Reject(i + 1, Code::AfterEnd),
                (true, _) if ended_before(&o, &d, i) => {
                    Expect::LegalQuirk("a caller Yield after the end", Quirk::StreamAfterEnd)
                }
                _ => Expect::LegalQuirk("a Yield after the own Stop", Quirk::YieldAfterStop),
            };
            out.push(Outcome {
                mutation: format!("Yield after Stop {i}"),
                expect,
                frames: m,
            });
        }
        if f.t == MsgType::StartAck {
            // 7. Started in a non-context dialog
            if f.functype != Some(Functype::Context) {
                let mut m = frames.clone();
                m.insert(
                    i + 1,
                    (
                        f.from,
                        encode(&Msg::from(Started::new(cid.as_str(), nil.clone()))),
                    ),
                );
                out.push(Outcome {
                    mutation: format!("Started in {:?} after {i}", f.functype),
                    expect: Expect::Reject(i + 1, Code::KindMismatch),
                    frames: m,
                });
            }
            // 8. a StartAck whose functype contradicts what follows
            for ft in [Functype::AsyncFunc, Functype::AsyncGen, Functype::Context] {
                if Some(ft) == f.functype {
                    continue;
                }
                let mut m = frames.clone();
                m[i].1 = encode(&Msg::from(StartAck::new(Cow::Owned(cid.clone()), ft)));
                out.push(Outcome {
                    mutation: format!("StartAck {i} says {}", ft.as_str()),
                    expect: functype_change(&o, &d, i, ft),
                    frames: m,
                });
            }
        }
        // 9. swap with the next frame of the same cid
        if f.cid.is_some() {
            if let Some(q) = find(&o, i + 1, |x| same_cid(x, &f.cid)) {
                let mut m = frames.clone();
                m.swap(i, q);
                out.push(Outcome {
                    mutation: format!("swap {i} ({:?}) and {q} ({:?})", f.t, o[q].t),
                    expect: swap_frames(&o, &d, i, q),
                    frames: m,
                });
            }
        }
    }
    out
}

#[test]
fn mutations_are_rejected_at_the_mutated_frame_or_documented_legal() {
    let mut failures = Vec::new();
    let mut rejected: HashMap<Code, usize> = HashMap::new();
    let mut legal: HashMap<&'static str, usize> = HashMap::new();
    let mut total = 0;
    for (label, frames) in channels() {
        for o in mutations(&frames) {
            total += 1;
            match &o.expect {
                Expect::Reject(_, c) => *rejected.entry(*c).or_default() += 1,
                Expect::Legal(why) | Expect::LegalOpen(why, _) | Expect::LegalQuirk(why, _) => {
                    *legal.entry(why).or_default() += 1
                }
                Expect::Truncated => *legal.entry("truncated in the handshake").or_default() += 1,
            }
            if let Err(e) = verify(&label, &o) {
                failures.push(e);
            }
        }
    }
    let mut codes: Vec<_> = rejected.iter().collect();
    codes.sort();
    eprintln!("{total} mutations; rejected by code: {codes:?}; legal: {legal:?}");
    assert!(
        failures.is_empty(),
        "{} of {total} mutations misjudged:\n{}",
        failures.len(),
        failures.join("\n")
    );
    // The set must exercise rejections, not only legal mutations.
    for code in [
        Code::DuplicateAid,
        Code::ExpectedAid,
        Code::HandshakeIncomplete,
        Code::SpawnSpecDirection,
        Code::SpawnSpecMisplaced,
        Code::UnknownCid,
        Code::CidReuse,
        Code::StartUidMismatch,
        Code::WrongDirection,
        Code::ExpectedStartAck,
        Code::DuplicateStartAck,
        Code::FunctypeMismatch,
        Code::KindMismatch,
        Code::DuplicateStarted,
        Code::BeforeStarted,
        Code::AfterEnd,
        Code::RelayPathSender,
    ] {
        assert!(
            rejected.get(&code).copied().unwrap_or(0) > 0,
            "no mutation exercises {code}"
        );
    }
}

// ---------------------------------------------------------------------------
// Field mutations: the same frame with one field changed.
// ---------------------------------------------------------------------------

#[test]
fn field_mutations_are_rejected_at_the_mutated_frame() {
    let mut n = [0usize; 4];
    let mut failures = Vec::new();
    for (label, frames) in channels() {
        for (i, (from, body)) in frames.iter().enumerate() {
            let mut msg = Msg::decode(body).unwrap();
            let expect = match &mut msg {
                // An Error with an empty relay_path.
                Msg::Error(e) => {
                    e.relay_path.clear();
                    n[0] += 1;
                    Code::EmptyRelayPath
                }
                // A Start whose uid is not the sender's.
                Msg::Start(s) if n[1] <= n[2] => {
                    s.uid.uuid = Cow::Borrowed("not-the-handshake-uuid");
                    n[1] += 1;
                    Code::StartUidMismatch
                }
                // _cancel_task for a cid never seen; cancel with kwargs.
                Msg::Start(s)
                    if s.ns == "self" && (s.func == "_cancel_task" || s.func == "cancel") =>
                {
                    n[2] += 1;
                    if s.func == "cancel" {
                        s.kwargs = shuttle::StrMap::encode(&HashMap::from([("cid", "x")])).unwrap();
                        Code::BadKwargs
                    } else {
                        s.kwargs =
                            shuttle::StrMap::encode(&HashMap::from([("cid", "nope")])).unwrap();
                        Code::CancelTaskUnknown
                    }
                }
                // Runtime RPC acknowledged as a context.
                Msg::StartAck(a) if a.functype == Functype::AsyncFunc => {
                    let Some(start) =
                        frames[..i]
                            .iter()
                            .find_map(|(_, b)| match Msg::decode(b).unwrap() {
                                Msg::Start(s) if s.cid == a.cid => Some(s.ns == "self"),
                                _ => None,
                            })
                    else {
                        continue;
                    };
                    if !start {
                        continue;
                    }
                    a.functype = Functype::Context;
                    n[3] += 1;
                    Code::FunctypeMismatch
                }
                _ => continue,
            };
            let mut m = frames.clone();
            m[i] = (*from, encode(&msg));
            let r = check(&m, false);
            match r.violations.first() {
                Some(v) if v.frame == Some(i) && v.code == expect => {}
                other => failures.push(format!(
                    "{label} frame {i}: expected {expect}, got {other:?}"
                )),
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(n.iter().all(|&k| k > 0), "{n:?}");
}

// ---------------------------------------------------------------------------
// The quirks of the real captures, pinned: strict mode reports exactly these.
// ---------------------------------------------------------------------------

#[test]
fn strict_mode_reports_exactly_the_known_quirks_of_the_captures() {
    let expected: &[(&str, usize, Quirk)] = &[
        ("cancel_actor_midstream ch0", 14, Quirk::StopAfterEnd),
        (
            "cancel_actor_midstream ch0",
            14,
            Quirk::SentToCancelledActor,
        ),
        (
            "ctx_error_before_started ch0",
            6,
            Quirk::RedundantCancelTask,
        ),
        ("grandchild_error_relay ch0", 7, Quirk::RedundantCancelTask),
        ("grandchild_error_relay ch2", 9, Quirk::SentToCancelledActor),
        ("grandchild_error_relay ch2", 9, Quirk::RedundantActorCancel),
        ("payload_bytes_1mib ch0", 11, Quirk::StopAfterEnd),
        ("stream_from_asyncgen ch0", 11, Quirk::RedundantCancelTask),
        ("stream_from_asyncgen_error ch0", 8, Quirk::StopAfterEnd),
        (
            "stream_from_asyncgen_error ch0",
            9,
            Quirk::RedundantCancelTask,
        ),
        (
            "typed_pld_started_send_side_check ch0",
            6,
            Quirk::RedundantCancelTask,
        ),
    ];
    let mut seen = Vec::new();
    for (label, frames) in channels() {
        let r = check(&frames, true);
        assert!(r.is_ok(), "{label}: {:?}", r.violations);
        assert!(check(&frames, false).warnings.is_empty());
        for w in r.warnings {
            seen.push((label.clone(), w.frame.unwrap(), w.quirk));
        }
        // Open at the end: only the unread second self.cancel of grandchild ch2.
        for o in &r.open {
            assert_eq!(
                (label.as_str(), o.excuse),
                ("grandchild_error_relay ch2", Some(Excuse::NeverRead))
            );
        }
    }
    let expected: Vec<_> = expected
        .iter()
        .map(|(l, i, q)| (l.to_string(), *i, *q))
        .collect();
    assert_eq!(seen, expected);
}

// ---------------------------------------------------------------------------
// Hand-built channels for the rules the captures cannot reach.
// ---------------------------------------------------------------------------

mod build {
    use std::borrow::Cow;
    use std::collections::HashMap;

    use shuttle::{
        Aid, AnyMap, CancelAck, Error, Functype, Msg, Raw, Return, SpawnSpec, Start, StartAck,
        Started, Stop, StrMap, Uid, Yield,
    };
    use shuttle_conformance::capture::End;

    pub(super) const CHILD: (&str, &str) = ("child", "aaaa");
    pub(super) const PARENT: (&str, &str) = ("root", "bbbb");

    pub(super) fn uid(e: End) -> Uid<'static> {
        let (n, u) = if e == End::A { CHILD } else { PARENT };
        Uid::new(n, u)
    }

    pub(super) fn aid(e: End, probe: bool) -> Vec<u8> {
        let u = uid(e);
        Msg::from({
            let mut m = Aid::new(u.name, u.uuid);
            m.is_registrar = if probe { None } else { Some(e == End::B) };
            m.is_probe = probe;
            m
        })
        .to_vec()
        .unwrap()
    }

    pub(super) fn spawn_spec() -> Vec<u8> {
        Msg::from(SpawnSpec::new(
            AnyMap::empty(),
            StrMap::empty(),
            vec![],
            vec![],
            None,
        ))
        .to_vec()
        .unwrap()
    }

    pub(super) fn start(from: End, cid: &str, ns: &str, func: &str) -> Vec<u8> {
        start_kw(from, cid, ns, func, StrMap::empty())
    }

    pub(super) fn start_kw(
        from: End,
        cid: &str,
        ns: &str,
        func: &str,
        kwargs: StrMap<'static>,
    ) -> Vec<u8> {
        Msg::from({
            let mut m = Start::new(
                Cow::Owned(cid.into()),
                Cow::Owned(ns.into()),
                Cow::Owned(func.into()),
                kwargs,
                uid(from),
            );
            m.pld_spec = Cow::Borrowed("typing.Any");
            m
        })
        .to_vec()
        .unwrap()
    }

    pub(super) fn cancel_task(from: End, cid: &str, target: &str) -> Vec<u8> {
        let kw = StrMap::encode(&HashMap::from([("cid", target)])).unwrap();
        start_kw(from, cid, "self", "_cancel_task", kw)
    }

    pub(super) fn ack(cid: &str, ft: Functype) -> Vec<u8> {
        Msg::from(StartAck::new(Cow::Owned(cid.into()), ft))
            .to_vec()
            .unwrap()
    }

    pub(super) fn started(cid: &str) -> Vec<u8> {
        Msg::from(Started::new(cid.to_owned(), Raw::nil()))
            .to_vec()
            .unwrap()
    }
    pub(super) fn yld(cid: &str) -> Vec<u8> {
        Msg::from(Yield::new(cid.to_owned(), Raw::nil()))
            .to_vec()
            .unwrap()
    }
    pub(super) fn ret(cid: &str) -> Vec<u8> {
        Msg::from(Return::new(cid.to_owned(), Raw::nil()))
            .to_vec()
            .unwrap()
    }
    pub(super) fn stop(cid: &str) -> Vec<u8> {
        Msg::from(Stop::new(Cow::Owned(cid.into())))
            .to_vec()
            .unwrap()
    }
    pub(super) fn cancel_ack(cid: &str) -> Vec<u8> {
        Msg::from(CancelAck::new(Cow::Owned(cid.into()), true))
            .to_vec()
            .unwrap()
    }

    /// An error sent by `from` on `cid` (or runtime-level with `None`).
    pub(super) fn error(from: End, cid: Option<&str>, boxed: &str) -> Vec<u8> {
        let me = uid(from);
        let peer = uid(from.peer());
        Msg::from({
            let mut m = Error::new(
                me.clone(),
                Cow::Owned(boxed.into()),
                Cow::Owned(boxed.into()),
                vec![me],
            );
            m.message = Some(Cow::Borrowed(""));
            m.tb_str = Cow::Borrowed("");
            m.canceller = (boxed == "ContextCancelled").then(|| peer.clone());
            m.sender = (boxed == "StreamOverrun").then_some(peer);
            m.cid = cid.map(|c| Cow::Owned(c.to_owned()));
            m
        })
        .to_vec()
        .unwrap()
    }

    /// A spawn channel's opening: child Aid, parent Aid, SpawnSpec.
    pub(super) fn opening() -> Vec<(End, Vec<u8>)> {
        vec![
            (End::A, aid(End::A, false)),
            (End::B, aid(End::B, false)),
            (End::B, spawn_spec()),
        ]
    }
}

use build::*;
use shuttle::dialog::{check_channel_with, ChannelMachine, Config, Excuse, Meaning, Role, Rpc};

/// `opening()` plus `rest`; returns the report and the index of `rest[0]`.
fn run(rest: Vec<(End, Vec<u8>)>) -> (ChannelReport, usize) {
    let mut f = opening();
    let base = f.len();
    f.extend(rest);
    (check(&f, true), base)
}

fn first(r: &ChannelReport) -> Option<(Option<usize>, Code)> {
    r.violations.first().map(|v| (v.frame, v.code))
}

fn quirks(r: &ChannelReport) -> Vec<Quirk> {
    r.warnings.iter().map(|w| w.quirk).collect()
}

const A: End = End::A;
const B: End = End::B;

#[test]
fn handshake_rules() {
    // Aids in either order; nothing else needed.
    assert!(check(&[(B, aid(B, false)), (A, aid(A, false))], true).is_ok());
    // Empty connection: nothing to say.
    assert!(check(&[], true).is_ok());
    // A probe: the prober's Aid, the listener's Aid, close.
    let probe = vec![(A, aid(A, true)), (B, aid(B, false))];
    assert!(check(&probe, true).is_ok());
    let mut after = probe.clone();
    after.push((A, start(A, "c", "self", "find_actor")));
    assert_eq!(
        first(&check(&after, true)),
        Some((Some(2), Code::AfterProbe))
    );
    let from_acceptor = vec![(A, aid(A, false)), (B, aid(B, true))];
    assert_eq!(
        first(&check(&from_acceptor, true)),
        Some((Some(1), Code::ProbeFromAcceptor))
    );
    // A probe nobody answers: the prober calls the address "occupied".
    assert!(check(&[(A, aid(A, true))], true).is_ok());
    // Only one Aid at the close: cut off, not wrong (the peer went away).
    let cut = check(&[(A, aid(A, false))], true);
    assert_eq!(first(&cut), None);
    assert_eq!(
        cut.truncated.map(|t| t.to_string()).as_deref(),
        Some("the channel ended inside the handshake, without the Aid of the accepting end (B)")
    );
    // A frame before the sender's own Aid.
    assert_eq!(
        first(&check(&[(A, spawn_spec())], true)),
        Some((Some(0), Code::ExpectedAid))
    );
    // SpawnSpec after the child spoke.
    let mut late = vec![(A, aid(A, false)), (B, aid(B, false))];
    late.push((A, start(A, "c", "self", "register_actor")));
    late.push((B, spawn_spec()));
    assert_eq!(
        first(&check(&late, true)),
        Some((Some(3), Code::SpawnSpecMisplaced))
    );
    // Undecodable bytes are a violation, not a panic.
    let garbage = vec![(A, vec![0xc1]), (A, aid(A, false)), (B, aid(B, false))];
    let r = check(&garbage, true);
    assert_eq!(first(&r), Some((Some(0), Code::Undecodable)));
    assert_eq!(r.violations.len(), 1);
}

#[test]
fn asyncfunc_and_runtime_rpcs() {
    let (r, _) = run(vec![
        (B, start(B, "x", "mod", "f")),
        (A, ack("x", Functype::AsyncFunc)),
        (A, ret("x")),
    ]);
    assert!(
        r.is_ok() && r.warnings.is_empty() && r.open.is_empty(),
        "{r:?}"
    );
    // Error instead of StartAck.
    let (r, _) = run(vec![
        (B, start(B, "x", "mod", "f")),
        (A, error(A, Some("x"), "ModuleNotExposed")),
    ]);
    assert!(
        r.is_ok() && r.warnings.is_empty() && r.open.is_empty(),
        "{r:?}"
    );
    // Return before StartAck.
    let (r, n) = run(vec![(B, start(B, "x", "mod", "f")), (A, ret("x"))]);
    assert_eq!(first(&r), Some((Some(n + 1), Code::ExpectedStartAck)));
    // A Return to a cancel RPC, a CancelAck to an ordinary one.
    let (r, n) = run(vec![
        (B, start(B, "z", "self", "cancel")),
        (A, ack("z", Functype::AsyncFunc)),
        (A, ret("z")),
    ]);
    assert_eq!(first(&r), Some((Some(n + 2), Code::KindMismatch)));
    let (r, n) = run(vec![
        (B, start(B, "x", "mod", "f")),
        (A, ack("x", Functype::AsyncFunc)),
        (A, cancel_ack("x")),
    ]);
    assert_eq!(first(&r), Some((Some(n + 2), Code::KindMismatch)));
    // The caller never streams in an asyncfunc, never sends a plain Error.
    let (r, n) = run(vec![
        (B, start(B, "x", "mod", "f")),
        (A, ack("x", Functype::AsyncFunc)),
        (B, stop("x")),
    ]);
    assert_eq!(first(&r), Some((Some(n + 2), Code::KindMismatch)));
    let (r, n) = run(vec![
        (B, start(B, "x", "mod", "f")),
        (A, ack("x", Functype::AsyncFunc)),
        (B, error(B, Some("x"), "ValueError")),
    ]);
    assert_eq!(first(&r), Some((Some(n + 2), Code::WrongDirection)));
    // Registrar calls from the child on its own channel: asyncfunc only.
    let (r, n) = run(vec![
        (A, start(A, "r", "self", "register_actor")),
        (B, ack("r", Functype::AsyncGen)),
    ]);
    assert_eq!(first(&r), Some((Some(n + 1), Code::FunctypeMismatch)));
    // Errors: relay_path must end with the sender; a runtime-level error is a quirk.
    let (r, _) = run(vec![(A, error(A, None, "InternalError"))]);
    assert!(r.is_ok());
    assert_eq!(quirks(&r), vec![Quirk::ErrorWithoutCid]);
}

#[test]
fn asyncgen_dialogs() {
    let ok = vec![
        (B, start(B, "g", "mod", "gen")),
        (A, ack("g", Functype::AsyncGen)),
        (A, yld("g")),
        (A, yld("g")),
        (A, stop("g")),
        (B, cancel_task(B, "t", "g")),
        (A, ack("t", Functype::AsyncFunc)),
        (A, cancel_ack("t")),
    ];
    let (r, _) = run(ok.clone());
    assert!(r.is_ok());
    assert_eq!(quirks(&r), vec![Quirk::RedundantCancelTask]);
    // Early exit by the caller: Stop, cancel, then the callee's Stop; a Yield
    // in flight after the caller's Stop is a quirk.
    let early = vec![
        (B, start(B, "g", "mod", "gen")),
        (A, ack("g", Functype::AsyncGen)),
        (A, yld("g")),
        (B, stop("g")),
        (A, yld("g")),
        (B, cancel_task(B, "t", "g")),
        (A, ack("t", Functype::AsyncFunc)),
        (A, stop("g")),
        (A, cancel_ack("t")),
    ];
    let (r, _) = run(early);
    assert!(r.is_ok(), "{r:?}");
    assert_eq!(quirks(&r), vec![Quirk::YieldAfterPeerStop]);
    // A legacy stream cancelled without its Stop: open, excused.
    let legacy = vec![
        (B, start(B, "g", "mod", "gen")),
        (A, ack("g", Functype::AsyncGen)),
        (B, cancel_task(B, "t", "g")),
        (A, ack("t", Functype::AsyncFunc)),
        (A, cancel_ack("t")),
    ];
    let (r, _) = run(legacy);
    assert!(r.is_ok() && r.warnings.is_empty());
    assert_eq!(r.open.len(), 1);
    assert_eq!(r.open[0].excuse, Some(Excuse::TaskCancelled));
    // Return in an asyncgen; Started in an asyncgen.
    let (r, n) = run(vec![
        (B, start(B, "g", "m", "f")),
        (A, ack("g", Functype::AsyncGen)),
        (A, ret("g")),
    ]);
    assert_eq!(first(&r), Some((Some(n + 2), Code::KindMismatch)));
    let (r, n) = run(vec![
        (B, start(B, "g", "m", "f")),
        (A, ack("g", Functype::AsyncGen)),
        (A, started("g")),
    ]);
    assert_eq!(first(&r), Some((Some(n + 2), Code::KindMismatch)));
}

#[test]
fn tractor_stream_races_are_quirks_not_violations() {
    // In these channels A is the callee (it acks) and B the caller.
    let head = || {
        vec![
            (B, start(B, "c", "m", "ctx")),
            (A, ack("c", Functype::Context)),
            (A, started("c")),
        ]
    };
    // yield-after-stop (test_local_task_fanout_from_stream): the callee's
    // sibling task closes the stream while another sends one more Yield.
    let mut f = head();
    f.extend([
        (A, yld("c")),
        (A, stop("c")),
        (A, yld("c")),
        (B, stop("c")),
        (A, ret("c")),
    ]);
    let (r, n) = run(f);
    assert!(r.is_ok(), "{:?}", r.violations);
    assert_eq!(quirks(&r), vec![Quirk::YieldAfterStop]);
    assert_eq!(r.warnings[0].frame, Some(n + 5));
    // The same race on the caller's side.
    let mut f = head();
    f.extend([(B, stop("c")), (B, yld("c")), (A, stop("c")), (A, ret("c"))]);
    let (r, n) = run(f);
    assert!(r.is_ok(), "{:?}", r.violations);
    assert_eq!(quirks(&r), vec![Quirk::YieldAfterStop]);
    assert_eq!(r.warnings[0].frame, Some(n + 4));
    // duplicate-stop (test_inter_peer_cancellation): aclose() entered
    // twice sends the same Stop twice, from either end.
    for twice in [B, A] {
        let mut f = head();
        f.extend([(twice, stop("c")), (twice, stop("c"))]);
        f.extend([(twice.peer(), stop("c")), (A, ret("c"))]);
        let (r, n) = run(f);
        assert!(r.is_ok(), "{twice:?}: {:?}", r.violations);
        assert_eq!(quirks(&r), vec![Quirk::DuplicateStop], "{twice:?}");
        assert_eq!(r.warnings[0].frame, Some(n + 4));
    }
    // An asyncgen's Stop ends the dialog: a Yield after it is no race.
    let (r, n) = run(vec![
        (B, start(B, "g", "m", "gen")),
        (A, ack("g", Functype::AsyncGen)),
        (A, yld("g")),
        (A, stop("g")),
        (A, yld("g")),
    ]);
    assert_eq!(first(&r), Some((Some(n + 4), Code::AfterEnd)));
}

#[test]
fn context_dialogs_and_their_quirks() {
    let head = || {
        vec![
            (B, start(B, "c", "m", "ctx")),
            (A, ack("c", Functype::Context)),
            (A, started("c")),
        ]
    };
    // A Return while the callee's stream is open and nobody stopped.
    let mut f = head();
    f.extend([(A, yld("c")), (A, ret("c"))]);
    let (r, _) = run(f);
    assert!(r.is_ok());
    assert_eq!(quirks(&r), vec![Quirk::ReturnDuringStream]);
    // Return without Started.
    let (r, _) = run(vec![
        (B, start(B, "c", "m", "ctx")),
        (A, ack("c", Functype::Context)),
        (A, ret("c")),
    ]);
    assert!(r.is_ok());
    assert_eq!(quirks(&r), vec![Quirk::ReturnWithoutStarted]);
    // Yields crossing the callee's Stop; caller Yield after the end.
    let mut f = head();
    f.extend([
        (A, stop("c")),
        (B, yld("c")),
        (A, ret("c")),
        (B, yld("c")),
        (B, stop("c")),
    ]);
    let (r, _) = run(f);
    assert!(r.is_ok(), "{r:?}");
    assert_eq!(
        quirks(&r),
        vec![
            Quirk::YieldAfterPeerStop,
            Quirk::StreamAfterEnd,
            Quirk::StopAfterEnd
        ]
    );
    // StreamOverrun both ways, not terminal; Stop then Error.
    let mut f = head();
    f.extend([
        (B, yld("c")),
        (A, error(A, Some("c"), "StreamOverrun")),
        (A, yld("c")),
        (B, error(B, Some("c"), "StreamOverrun")),
        (A, stop("c")),
        (A, error(A, Some("c"), "RuntimeError")),
    ]);
    let (r, _) = run(f);
    assert!(
        r.is_ok() && r.warnings.is_empty() && r.open.is_empty(),
        "{r:?}"
    );
    // A caller Yield before Started; a caller Stop before StartAck.
    let (r, n) = run(vec![
        (B, start(B, "c", "m", "ctx")),
        (A, ack("c", Functype::Context)),
        (B, yld("c")),
    ]);
    assert_eq!(first(&r), Some((Some(n + 2), Code::BeforeStarted)));
    let (r, n) = run(vec![(B, start(B, "c", "m", "ctx")), (B, stop("c"))]);
    assert_eq!(first(&r), Some((Some(n + 1), Code::CallerBeforeAck)));
    // An open context at the close with nothing excusing it: a quirk.
    let (r, _) = run(head());
    assert!(r.is_ok());
    assert_eq!(quirks(&r), vec![Quirk::DialogOpenAtClose]);
    assert_eq!(r.open[0].excuse, None);
}

#[test]
fn cancellation_rules() {
    // Actor cancel mid-stream: ctxc, CancelAck, then the caller's late Stop.
    let f = vec![
        (B, start(B, "c", "m", "ctx")),
        (A, ack("c", Functype::Context)),
        (A, started("c")),
        (A, yld("c")),
        (B, start(B, "z", "self", "cancel")),
        (A, ack("z", Functype::AsyncFunc)),
        (A, stop("c")),
        (A, error(A, Some("c"), "ContextCancelled")),
        (A, cancel_ack("z")),
        (B, stop("c")),
        (B, start(B, "z2", "self", "cancel")),
    ];
    let (r, _) = run(f.clone());
    assert!(r.is_ok(), "{r:?}");
    assert_eq!(
        quirks(&r),
        vec![
            Quirk::StopAfterEnd,
            Quirk::SentToCancelledActor,
            Quirk::SentToCancelledActor,
            Quirk::RedundantActorCancel
        ]
    );
    assert_eq!(r.open.len(), 1);
    assert_eq!(r.open[0].excuse, Some(Excuse::NeverRead));
    // Anything from the callee after its CancelAck; an answer to an unread Start.
    let mut g = f[..9].to_vec();
    g.push((A, yld("c")));
    let (r, n) = run(g);
    assert_eq!(first(&r), Some((Some(n + 9), Code::AfterEnd)));
    let mut g = f[..5].to_vec();
    g.extend([
        (A, ack("z", Functype::AsyncFunc)),
        (A, cancel_ack("z")),
        (A, yld("c")),
    ]);
    let (r, n) = run(g);
    assert_eq!(first(&r), Some((Some(n + 7), Code::AfterActorCancel)));
    let mut g = f.clone();
    g.push((A, ack("z2", Functype::AsyncFunc)));
    let (r, n) = run(g);
    assert_eq!(first(&r), Some((Some(n + 11), Code::ReplyToUnread)));
    // Dialogs open when the actor was cancelled are excused.
    let g = vec![
        (B, start(B, "x", "m", "slow")),
        (A, ack("x", Functype::AsyncFunc)),
        (B, start(B, "z", "self", "cancel")),
        (A, ack("z", Functype::AsyncFunc)),
        (A, cancel_ack("z")),
    ];
    let (r, _) = run(g);
    assert!(r.is_ok() && r.warnings.is_empty());
    assert_eq!(r.open[0].excuse, Some(Excuse::ActorCancelled));
    // _cancel_task: unknown cid, someone else's dialog, bad kwargs.
    let (r, n) = run(vec![(B, cancel_task(B, "t", "nope"))]);
    assert_eq!(first(&r), Some((Some(n), Code::CancelTaskUnknown)));
    let (r, n) = run(vec![
        (B, start(B, "x", "m", "f")),
        (A, cancel_task(A, "t", "x")),
    ]);
    assert_eq!(first(&r), Some((Some(n + 1), Code::CancelTaskForeign)));
    let (r, n) = run(vec![(B, start(B, "t", "self", "_cancel_task"))]);
    assert_eq!(first(&r), Some((Some(n), Code::BadKwargs)));
}

#[test]
fn the_machine_is_bounded_and_reports_meanings() {
    let mut f = opening();
    for k in 0..5 {
        f.push((B, start(B, &format!("x{k}"), "m", "f")));
    }
    let refs: Vec<(End, &[u8])> = f.iter().map(|(e, b)| (*e, b.as_slice())).collect();
    let config = Config {
        max_open_dialogs: 4,
        max_ended_dialogs: 1,
    };
    let r = check_channel_with(&refs, false, config);
    assert_eq!(first(&r), Some((Some(7), Code::TooManyDialogs)));
    // Ended dialogs are forgotten beyond the bound: a late frame is then unknown.
    let mut m = ChannelMachine::new(config);
    let feed = |m: &mut ChannelMachine, from: End, b: &[u8]| {
        m.handle_frame(from, &Msg::decode(b).unwrap())
    };
    for (e, b) in opening() {
        feed(&mut m, e, &b).unwrap();
    }
    let acc = feed(&mut m, B, &start(B, "x", "m", "f")).unwrap();
    assert_eq!(
        acc.meaning,
        Meaning::Open(Rpc::App {
            ns: "m".into(),
            func: "f".into()
        })
    );
    assert_eq!(acc.role, Some(Role::Caller));
    let acc = feed(&mut m, A, &ack("x", Functype::AsyncFunc)).unwrap();
    assert_eq!(
        (acc.meaning, acc.role),
        (Meaning::Ack(Functype::AsyncFunc), Some(Role::Callee))
    );
    assert_eq!(feed(&mut m, A, &ret("x")).unwrap().meaning, Meaning::Return);
    assert_eq!(m.open_dialogs(), 0);
    for c in ["y", "w"] {
        feed(&mut m, B, &start(B, c, "m", "f")).unwrap();
        feed(&mut m, A, &error(A, Some(c), "ModuleNotExposed")).unwrap();
    }
    let v = feed(&mut m, B, &stop("x")).unwrap_err();
    assert_eq!(v.code, Code::UnknownCid);
    assert!(m.is_spawn_channel());
    let close = m.handle_close();
    assert!(close.open.is_empty() && close.violations.is_empty());
}

#[test]
fn codes_and_quirks_are_stable_and_documented() {
    let doc =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/spec/quirks.md")).unwrap();
    for q in Quirk::ALL {
        assert_eq!(Quirk::from_str_id(q.as_str()), Some(*q));
        assert!(
            doc.contains(&format!("<a id=\"{}\"></a>", q.anchor())),
            "{q} undocumented"
        );
    }
    let doc =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/spec/dialog.md")).unwrap();
    for c in Code::ALL {
        assert_eq!(Code::from_str_id(c.as_str()), Some(*c));
        assert!(
            doc.contains(&format!("`{c}`")),
            "{c} undocumented in spec/dialog.md"
        );
    }
}

// ---------------------------------------------------------------------------
// proptest: channels generated from the grammar are accepted.
// ---------------------------------------------------------------------------

mod gen {
    use proptest::prelude::*;
    use shuttle::dialog::Quirk;
    use shuttle::Functype;
    use shuttle_conformance::capture::End;

    use super::build::*;

    /// One dialog (with its cancel request, if any), as the reference
    /// implementation produces it.
    #[derive(Clone, Debug)]
    pub(super) enum Unit {
        /// `Start`, `Error` without `StartAck`.
        FailBeforeAck,
        /// `asyncfunc`: `Return` or `Error`.
        AsyncFunc { ok: bool },
        /// A registrar/discovery call.
        Runtime { func: &'static str },
        /// `asyncgen`: `n` Yields, then `Stop` or `Error` and the always-sent
        /// `_cancel_task`; or an early exit by the caller after `m` Yields.
        AsyncGen {
            n: usize,
            err: bool,
            early: Option<usize>,
        },
        /// `context`.
        Context {
            fail_before_started: bool,
            /// Directions of the streamed Yields (true = caller).
            yields: Vec<bool>,
            callee_stops: bool,
            caller_stops: bool,
            caller_stops_first: bool,
            overruns: usize,
            ending: CtxEnd,
        },
    }

    #[derive(Clone, Copy, Debug)]
    pub(super) enum CtxEnd {
        Return,
        Error,
        /// The caller cancels: `_cancel_task`, ctxc, `CancelAck`.
        Cancelled,
    }

    pub(super) fn unit() -> impl Strategy<Value = Unit> {
        prop_oneof![
            Just(Unit::FailBeforeAck),
            any::<bool>().prop_map(|ok| Unit::AsyncFunc { ok }),
            prop_oneof![
                Just("register_actor"),
                Just("unregister_actor"),
                Just("find_actor"),
                Just("wait_for_actor"),
                Just("get_registry")
            ]
            .prop_map(|func| Unit::Runtime { func }),
            (0..5usize, any::<bool>(), proptest::option::of(0..5usize)).prop_map(
                |(n, err, early)| Unit::AsyncGen {
                    n,
                    err,
                    early: early.map(|m| m.min(n))
                }
            ),
            (
                any::<bool>(),
                proptest::collection::vec(any::<bool>(), 0..8),
                any::<bool>(),
                any::<bool>(),
                any::<bool>(),
                0..3usize,
                prop_oneof![
                    Just(CtxEnd::Return),
                    Just(CtxEnd::Error),
                    Just(CtxEnd::Cancelled)
                ],
            )
                .prop_map(
                    |(
                        fail_before_started,
                        yields,
                        callee_stops,
                        caller_stops,
                        caller_stops_first,
                        overruns,
                        ending,
                    )| {
                        Unit::Context {
                            fail_before_started,
                            yields,
                            callee_stops,
                            caller_stops,
                            caller_stops_first,
                            overruns,
                            ending,
                        }
                    }
                ),
        ]
    }

    /// The unit's frames in causal order, with caller `c` and cids derived
    /// from `k`; and the quirks it may legitimately show.
    pub(super) fn frames(u: &Unit, c: End, k: usize) -> (Vec<(End, Vec<u8>)>, Vec<Quirk>) {
        let e = c.peer();
        let x = format!("x{k}");
        let t = format!("t{k}");
        let x = x.as_str();
        let mut f = Vec::new();
        let mut q = Vec::new();
        let cancel = |f: &mut Vec<(End, Vec<u8>)>, end_frames: Vec<(End, Vec<u8>)>| {
            f.push((c, cancel_task(c, &t, x)));
            f.push((e, ack(&t, Functype::AsyncFunc)));
            f.extend(end_frames);
            f.push((e, cancel_ack(&t)));
        };
        match u {
            Unit::FailBeforeAck => {
                f.push((c, start(c, x, "mod", "missing")));
                f.push((e, error(e, Some(x), "ModuleNotExposed")));
            }
            Unit::AsyncFunc { ok } => {
                f.push((c, start(c, x, "mod", "f")));
                f.push((e, ack(x, Functype::AsyncFunc)));
                f.push((
                    e,
                    if *ok {
                        ret(x)
                    } else {
                        error(e, Some(x), "ValueError")
                    },
                ));
            }
            Unit::Runtime { func } => {
                f.push((c, start(c, x, "self", func)));
                f.push((e, ack(x, Functype::AsyncFunc)));
                f.push((e, ret(x)));
            }
            Unit::AsyncGen { n, err, early } => {
                f.push((c, start(c, x, "mod", "gen")));
                f.push((e, ack(x, Functype::AsyncGen)));
                match early {
                    Some(m) => {
                        f.extend((0..*m).map(|_| (e, yld(x))));
                        f.push((c, stop(x)));
                        cancel(&mut f, vec![(e, stop(x))]);
                    }
                    None => {
                        f.extend((0..*n).map(|_| (e, yld(x))));
                        f.push((
                            e,
                            if *err {
                                error(e, Some(x), "IndexError")
                            } else {
                                stop(x)
                            },
                        ));
                        cancel(&mut f, vec![]);
                        q.push(Quirk::RedundantCancelTask);
                    }
                }
            }
            Unit::Context {
                fail_before_started,
                yields,
                callee_stops,
                caller_stops,
                caller_stops_first,
                overruns,
                ending,
            } => {
                f.push((c, start(c, x, "mod", "ctx")));
                f.push((e, ack(x, Functype::Context)));
                if *fail_before_started {
                    f.push((e, error(e, Some(x), "KeyError")));
                    return (f, q);
                }
                f.push((e, started(x)));
                for &from_caller in yields {
                    f.push((if from_caller { c } else { e }, yld(x)));
                }
                if yields.iter().any(|&y| y) {
                    f.extend((0..*overruns).map(|_| (e, error(e, Some(x), "StreamOverrun"))));
                }
                let callee_yielded = yields.iter().any(|&y| !y);
                let callee_stops = *callee_stops || (callee_yielded && !caller_stops);
                let stops = match (callee_stops, *caller_stops, caller_stops_first) {
                    (true, true, true) => vec![c, e],
                    (true, true, false) => vec![e, c],
                    (true, false, _) => vec![e],
                    (false, true, _) => vec![c],
                    (false, false, _) => vec![],
                };
                f.extend(stops.into_iter().map(|s| (s, stop(x))));
                match ending {
                    CtxEnd::Return => f.push((e, ret(x))),
                    CtxEnd::Error => f.push((e, error(e, Some(x), "RuntimeError"))),
                    CtxEnd::Cancelled => {
                        cancel(&mut f, vec![(e, error(e, Some(x), "ContextCancelled"))])
                    }
                }
            }
        }
        (f, q)
    }
}

use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn channels_generated_from_the_grammar_are_accepted(
        b_first in any::<bool>(),
        spawn in any::<bool>(),
        units in proptest::collection::vec((gen::unit(), any::<bool>()), 0..6),
        order in proptest::collection::vec(any::<u8>(), 0..200),
        cancel_end in proptest::option::of(any::<bool>()),
    ) {
        let mut frames = if b_first {
            vec![(B, aid(B, false)), (A, aid(A, false))]
        } else {
            vec![(A, aid(A, false)), (B, aid(B, false))]
        };
        if spawn {
            frames.push((B, spawn_spec()));
        }
        let mut allowed = Vec::new();
        let mut queues: Vec<std::collections::VecDeque<(End, Vec<u8>)>> = Vec::new();
        for (k, (u, a_calls)) in units.iter().enumerate() {
            let (f, q) = gen::frames(u, if *a_calls { A } else { B }, k);
            queues.push(f.into());
            allowed.extend(q);
        }
        // Interleave the dialogs, each in its own order.
        let mut picks = order.iter().cycle();
        while queues.iter().any(|q| !q.is_empty()) {
            let live: Vec<usize> = (0..queues.len()).filter(|&i| !queues[i].is_empty()).collect();
            let pick = live[*picks.next().unwrap_or(&0) as usize % live.len()];
            frames.push(queues[pick].pop_front().unwrap());
        }
        if let Some(a_cancels) = cancel_end {
            let (c, e) = if a_cancels { (A, B) } else { (B, A) };
            frames.push((c, start(c, "z", "self", "cancel")));
            frames.push((e, ack("z", shuttle::Functype::AsyncFunc)));
            frames.push((e, cancel_ack("z")));
        }
        let r = check(&frames, true);
        prop_assert!(r.is_ok(), "{:?}", r.violations);
        prop_assert!(r.open.is_empty(), "{:?}", r.open);
        for w in &r.warnings {
            prop_assert!(allowed.contains(&w.quirk), "unexpected {}", w);
        }
        prop_assert!(check(&frames, false).warnings.is_empty());
    }

    /// Arbitrary frame sequences (real message kinds with random cids and
    /// directions, plus garbage): never a panic, every frame judged once.
    #[test]
    fn arbitrary_sequences_never_panic(
        steps in proptest::collection::vec((0..14u8, any::<bool>(), 0..4u8), 0..80),
    ) {
        let mut frames = Vec::new();
        for (kind, a, c) in steps {
            let from = if a { A } else { B };
            let cid = format!("c{c}");
            let body = match kind {
                0 => aid(from, c == 0),
                1 => spawn_spec(),
                2 => start(from, &cid, "m", "f"),
                3 => start(from, &cid, "self", "cancel"),
                4 => cancel_task(from, &cid, "c1"),
                5 => ack(&cid, [shuttle::Functype::AsyncFunc, shuttle::Functype::AsyncGen, shuttle::Functype::Context][c as usize % 3]),
                6 => started(&cid),
                7 => yld(&cid),
                8 => stop(&cid),
                9 => ret(&cid),
                10 => cancel_ack(&cid),
                11 => error(from, Some(&cid), if c % 2 == 0 { "StreamOverrun" } else { "ValueError" }),
                12 => error(from, None, "InternalError"),
                _ => vec![0xc1, c],
            };
            frames.push((from, body));
        }
        let r = check(&frames, true);
        prop_assert_eq!(r.frames, frames.len());
        prop_assert!(r.violations.iter().all(|v| v.frame.is_none_or(|i| i < frames.len())));
        prop_assert!(r.violations.iter().filter(|v| v.frame.is_some()).count() <= frames.len());
    }
}

#[test]
fn check_frames_reads_capture_channels_directly() {
    for (name, cap) in captures("python-tractor") {
        for ch in 0..cap.channels.len() {
            let frames = cap.channel_frames(ch).unwrap();
            let r = shuttle::dialog::check_frames(&frames, true);
            assert!(r.is_ok(), "{name} ch{ch}: {:?}", r.violations);
            assert_eq!(r.frames, cap.channels[ch].frames.len());
        }
    }
}

#[test]
fn reports_serialize_to_json_with_stable_names() {
    let (r, _) = run(vec![
        (B, start(B, "c", "m", "ctx")),
        (A, ack("c", Functype::Context)),
        (A, started("c")),
        (A, started("c")),
    ]);
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(
        json,
        serde_json::json!({
            "frames": 7,
            "violations": [{"code": "dialog.duplicate-started", "frame": 6, "cid": "c", "reason": "a second Started"}],
            "warnings": [{"quirk": "dialog-open-at-close", "frame": null, "cid": "c"}],
            "open": [{"cid": "c", "caller": "b", "rpc": {"kind": "app", "ns": "m", "func": "ctx"},
                      "functype": "context", "start_frame": 3, "excuse": null}],
        })
    );
    assert_eq!(
        r.violations[0].to_string(),
        "frame 6 cid=c: dialog.duplicate-started: a second Started"
    );
}
