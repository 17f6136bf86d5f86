//! The negative set: systematic mutations of every recorded channel
//! (frames dropped, duplicated, moved to the other end, swapped; cids and
//! functypes changed), each with a precise expected outcome computed from
//! the frame kinds alone by a small independent oracle.

use std::borrow::Cow;
use std::collections::HashMap;

use shuttle::dialog::{Code, Quirk};
use shuttle_conformance::capture::End;

use super::{channels, check, Frames};
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
