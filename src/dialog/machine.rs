//! The channel state machine.

use std::collections::{HashMap, VecDeque};

use super::{
    undecodable_reason, Accepted, CloseReport, Code, Config, End, Excuse, Meaning, OpenDialog,
    Quirk, Role, Rpc, Truncated, Violation, Warning,
};
use crate::{DecodeError, Functype, Msg, MsgType, Start, Uid};

/// What the machine knows about one end of the channel.
#[derive(Clone, Debug, Default)]
struct EndState {
    /// Its handshake identity.
    aid: Option<Uid<'static>>,
    /// Its `Aid` was a registrar probe.
    probe: bool,
    /// Frames it sent after its `Aid` (accepted ones).
    sent: usize,
    /// It received `self.cancel`: its message loop no longer reads.
    stopped_reading: bool,
    /// It acknowledged `self.cancel` with `CancelAck`: it has stopped.
    exited: bool,
}

/// The per-dialog state that changes frame by frame.
#[derive(Clone, Copy, Debug, Default)]
struct Flags {
    functype: Option<Functype>,
    ended: bool,
    started: bool,
    caller_stopped: bool,
    callee_stopped: bool,
    callee_yielded: bool,
    task_cancelled: bool,
    unread: bool,
}

#[derive(Clone, Debug)]
struct Dialog {
    caller: End,
    rpc: Rpc,
    start_frame: usize,
    f: Flags,
}

impl Dialog {
    fn is_cancel_rpc(&self) -> bool {
        matches!(self.rpc, Rpc::ActorCancel | Rpc::TaskCancel { .. })
    }
}

/// One channel's dialog rules, fed frame by frame: no I/O, no clock.
///
/// Frames are numbered from 0 in the order they are handed in (decoded
/// or not); violations and warnings carry that index.
#[derive(Clone, Debug)]
pub struct ChannelMachine {
    config: Config,
    next_frame: usize,
    ends: [EndState; 2],
    spawn: bool,
    dialogs: HashMap<String, Dialog>,
    open_count: usize,
    ended_order: VecDeque<String>,
    /// Starts this end refused (too many dialogs open) and may still
    /// answer with one `Error` each (at most [`MAX_REFUSED`] at a time).
    refused: VecDeque<(End, String)>,
}

/// Refused `Start`s remembered for their `Error` reply.
const MAX_REFUSED: usize = 1024;

fn ix(e: End) -> usize {
    match e {
        End::A => 0,
        End::B => 1,
    }
}

fn violation(frame: usize, cid: Option<&str>, code: Code, reason: impl Into<String>) -> Violation {
    Violation {
        code,
        frame: Some(frame),
        cid: cid.map(str::to_owned),
        reason: reason.into(),
    }
}

fn same_uid(a: &Uid<'_>, b: &Uid<'_>) -> bool {
    a.name == b.name && a.uuid == b.uuid
}

fn end_name(e: End) -> &'static str {
    match e {
        End::A => "the connecting end (A)",
        End::B => "the accepting end (B)",
    }
}

impl Default for ChannelMachine {
    fn default() -> Self {
        ChannelMachine::new(Config::default())
    }
}

impl ChannelMachine {
    /// A machine for a fresh channel.
    pub fn new(config: Config) -> Self {
        ChannelMachine {
            config,
            next_frame: 0,
            ends: Default::default(),
            spawn: false,
            dialogs: HashMap::new(),
            open_count: 0,
            ended_order: VecDeque::new(),
            refused: VecDeque::new(),
        }
    }

    /// Notes that `callee` refused the `Start` of `cid` (it broke
    /// [`Code::TooManyDialogs`]): `callee` may then answer it with one
    /// `Error`, so that the caller is not left waiting. At most 1,024
    /// refusals are remembered; beyond that the oldest goes unanswered.
    pub fn refuse(&mut self, callee: End, cid: &str) {
        if self.refused.len() == MAX_REFUSED {
            self.refused.pop_front();
        }
        self.refused.push_back((callee, cid.to_owned()));
    }

    /// Frames handed in so far (the index the next frame gets).
    pub fn frames_seen(&self) -> usize {
        self.next_frame
    }

    /// True once the parent's `SpawnSpec` was accepted.
    pub fn is_spawn_channel(&self) -> bool {
        self.spawn
    }

    /// The handshake uid of an end, once its `Aid` was accepted.
    pub fn uid(&self, end: End) -> Option<&Uid<'static>> {
        self.ends[ix(end)].aid.as_ref()
    }

    /// Whether the dialog `cid` is open.
    pub fn is_open(&self, cid: &str) -> bool {
        self.dialogs.contains_key(cid)
    }

    /// Dialogs currently open.
    pub fn open_dialogs(&self) -> usize {
        self.open_count
    }

    /// A frame that could not be decoded: always a [`Code::Undecodable`]
    /// violation; the machine's state is unchanged.
    #[must_use]
    pub fn handle_undecodable(&mut self, from: End, error: &DecodeError) -> Violation {
        let frame = self.next_frame;
        self.next_frame += 1;
        violation(
            frame,
            None,
            Code::Undecodable,
            format!("{} sent an {}", end_name(from), undecodable_reason(error)),
        )
    }

    /// One decoded frame sent by `from`. On a violation the frame is
    /// dropped: the state is as if it had never been sent (only the frame
    /// index advances). An implementation can therefore feed each frame it
    /// is about to send and refrain from sending it on `Err`.
    #[must_use = "the verdict on the frame"]
    pub fn handle_frame(&mut self, from: End, msg: &Msg<'_>) -> Result<Accepted, Violation> {
        let frame = self.next_frame;
        self.next_frame += 1;
        let out = self.frame_inner(frame, from, msg);
        if out.is_ok() && !matches!(msg, Msg::Aid(_)) {
            self.ends[ix(from)].sent += 1;
        }
        out
    }

    fn frame_inner(
        &mut self,
        frame: usize,
        from: End,
        msg: &Msg<'_>,
    ) -> Result<Accepted, Violation> {
        let cid = msg.cid();
        let me = ix(from);
        let peer = ix(from.peer());
        if let Msg::Aid(aid) = msg {
            if self.ends[me].aid.is_some() {
                return Err(violation(
                    frame,
                    None,
                    Code::DuplicateAid,
                    format!("{} sent a second Aid", end_name(from)),
                ));
            }
            if aid.is_probe && from == End::B {
                return Err(violation(
                    frame,
                    None,
                    Code::ProbeFromAcceptor,
                    "a probe Aid from the accepting end; only the connecting end probes",
                ));
            }
            let end = &mut self.ends[me];
            end.aid = Some(Uid::new(aid.name.to_string(), aid.uuid.to_string()));
            end.probe = aid.is_probe;
            return Ok(Accepted {
                meaning: Meaning::Handshake {
                    probe: aid.is_probe,
                },
                role: None,
                quirks: Vec::new(),
            });
        }
        if self.ends[me].aid.is_none() {
            return Err(violation(
                frame,
                cid,
                Code::ExpectedAid,
                format!(
                    "{} sent {} before its Aid; every end's first frame is its Aid",
                    end_name(from),
                    msg.msg_type()
                ),
            ));
        }
        if self.ends[peer].aid.is_none() {
            return Err(violation(
                frame,
                cid,
                Code::HandshakeIncomplete,
                format!(
                    "{} sent {} before the peer's Aid arrived",
                    end_name(from),
                    msg.msg_type()
                ),
            ));
        }
        if self.ends[0].probe || self.ends[1].probe {
            return Err(violation(
                frame,
                cid,
                Code::AfterProbe,
                format!(
                    "{} on a probe channel, which carries only the two Aids",
                    msg.msg_type()
                ),
            ));
        }
        match msg {
            Msg::SpawnSpec(_) => self.on_spawn_spec(frame, from),
            Msg::Start(s) => self.on_start(frame, from, s),
            Msg::Error(e) => {
                check_error_fields(frame, cid, self.ends[me].aid.as_ref(), e)?;
                // The answer to a Start this end refused.
                if let Some(at) = cid.and_then(|c| {
                    self.refused
                        .iter()
                        .position(|(end, r)| *end == from && r == c)
                }) {
                    self.refused.remove(at);
                    return Ok(Accepted {
                        meaning: Meaning::Error,
                        role: Some(Role::Callee),
                        quirks: Vec::new(),
                    });
                }
                match cid {
                    None => Ok(Accepted {
                        meaning: Meaning::RuntimeError,
                        role: None,
                        quirks: self.unread_quirk(from, vec![Quirk::ErrorWithoutCid]),
                    }),
                    Some(cid) => self.on_dialog_frame(frame, from, cid, msg),
                }
            }
            _ => match cid {
                Some(cid) => self.on_dialog_frame(frame, from, cid, msg),
                // Every other message carries a cid.
                None => Err(violation(
                    frame,
                    None,
                    Code::UnknownCid,
                    "a dialog message without cid",
                )),
            },
        }
    }

    /// Adds [`Quirk::SentToCancelledActor`] when the receiver has stopped reading.
    fn unread_quirk(&self, from: End, mut quirks: Vec<Quirk>) -> Vec<Quirk> {
        if self.ends[ix(from.peer())].stopped_reading {
            quirks.push(Quirk::SentToCancelledActor);
        }
        quirks
    }

    fn on_spawn_spec(&mut self, frame: usize, from: End) -> Result<Accepted, Violation> {
        if from != End::B {
            return Err(violation(
                frame,
                None,
                Code::SpawnSpecDirection,
                "SpawnSpec from the connecting end; only the parent (accepting end) sends it",
            ));
        }
        if self.ends[1].sent != 0 {
            return Err(violation(
                frame,
                None,
                Code::SpawnSpecMisplaced,
                "SpawnSpec is not the parent's second frame",
            ));
        }
        if self.ends[0].sent != 0 {
            return Err(violation(
                frame,
                None,
                Code::SpawnSpecMisplaced,
                "SpawnSpec after the child already sent frames past its Aid",
            ));
        }
        self.spawn = true;
        Ok(Accepted {
            meaning: Meaning::SpawnSpec,
            role: None,
            quirks: Vec::new(),
        })
    }

    fn on_start(&mut self, frame: usize, from: End, s: &Start<'_>) -> Result<Accepted, Violation> {
        let cid: &str = &s.cid;
        let callee = from.peer();
        if let Some(uid) = &self.ends[ix(from)].aid {
            if !same_uid(uid, &s.uid) {
                return Err(violation(
                    frame,
                    Some(cid),
                    Code::StartUidMismatch,
                    format!(
                        "Start.uid {} is not the sender's handshake uid {}",
                        s.uid, uid
                    ),
                ));
            }
        }
        if self.dialogs.contains_key(cid) {
            return Err(violation(
                frame,
                Some(cid),
                Code::CidReuse,
                "Start reuses the cid of a dialog already seen on this channel",
            ));
        }
        if self.open_count >= self.config.max_open_dialogs {
            return Err(violation(
                frame,
                Some(cid),
                Code::TooManyDialogs,
                format!(
                    "more than {} dialogs open at once",
                    self.config.max_open_dialogs
                ),
            ));
        }
        let rpc = classify(frame, s)?;
        let unread = self.ends[ix(callee)].stopped_reading;
        let mut quirks = self.unread_quirk(from, Vec::new());
        let mut mark_target = None;
        match &rpc {
            Rpc::TaskCancel { target } => match self.dialogs.get(target.as_str()) {
                None => {
                    return Err(violation(
                        frame,
                        Some(cid),
                        Code::CancelTaskUnknown,
                        format!("_cancel_task names cid {target:?}, never started on this channel"),
                    ))
                }
                Some(t) if t.caller != from => {
                    return Err(violation(
                        frame,
                        Some(cid),
                        Code::CancelTaskForeign,
                        format!(
                            "_cancel_task for {target:?}, a dialog the requester did not start"
                        ),
                    ))
                }
                Some(t) if t.f.ended => quirks.push(Quirk::RedundantCancelTask),
                Some(_) => mark_target = Some(target.clone()),
            },
            Rpc::ActorCancel if self.ends[ix(callee)].stopped_reading => {
                quirks.push(Quirk::RedundantActorCancel);
            }
            _ => {}
        }
        // Commit.
        if let Some(target) = mark_target {
            if !unread {
                if let Some(t) = self.dialogs.get_mut(&target) {
                    t.f.task_cancelled = true;
                }
            }
        }
        if rpc == Rpc::ActorCancel {
            self.ends[ix(callee)].stopped_reading = true;
        }
        self.dialogs.insert(
            cid.to_owned(),
            Dialog {
                caller: from,
                rpc: rpc.clone(),
                start_frame: frame,
                f: Flags {
                    unread,
                    ..Flags::default()
                },
            },
        );
        self.open_count += 1;
        Ok(Accepted {
            meaning: Meaning::Open(rpc),
            role: Some(Role::Caller),
            quirks,
        })
    }

    fn on_dialog_frame(
        &mut self,
        frame: usize,
        from: End,
        cid: &str,
        msg: &Msg<'_>,
    ) -> Result<Accepted, Violation> {
        let Some(d) = self.dialogs.get(cid) else {
            return Err(violation(
                frame,
                Some(cid),
                Code::UnknownCid,
                format!(
                    "{} for a cid no Start opened on this channel",
                    msg.msg_type()
                ),
            ));
        };
        let role = if from == d.caller {
            Role::Caller
        } else {
            Role::Callee
        };
        let overrun = matches!(msg, Msg::Error(e) if e.boxed_type_str == "StreamOverrun");
        let callee_only = match msg {
            Msg::StartAck(_) | Msg::Started(_) | Msg::Return(_) | Msg::CancelAck(_) => true,
            Msg::Error(_) => !overrun,
            _ => false,
        };
        if role == Role::Caller && callee_only {
            return Err(violation(
                frame,
                Some(cid),
                Code::WrongDirection,
                format!(
                    "{} from the caller; only the callee sends it",
                    msg.msg_type()
                ),
            ));
        }
        let step = match role {
            Role::Callee => callee_step(frame, cid, d, msg, overrun, self.ends[ix(from)].exited)?,
            Role::Caller => caller_step(frame, cid, d, msg, overrun)?,
        };
        let (f, meaning, quirks) = step;
        let was_ended = d.f.ended;
        let actor_cancel_ack = d.rpc == Rpc::ActorCancel && matches!(msg, Msg::CancelAck(_));
        let quirks = self.unread_quirk(from, quirks);
        // Commit.
        if let Some(d) = self.dialogs.get_mut(cid) {
            d.f = f;
        }
        if actor_cancel_ack {
            self.ends[ix(from)].exited = true;
        }
        if f.ended && !was_ended {
            self.open_count -= 1;
            self.ended_order.push_back(cid.to_owned());
            while self.ended_order.len() > self.config.max_ended_dialogs {
                if let Some(old) = self.ended_order.pop_front() {
                    self.dialogs.remove(&old);
                }
            }
        }
        Ok(Accepted {
            meaning,
            role: Some(role),
            quirks,
        })
    }

    /// The channel ended (EOF, reset, or the end of a capture): reports the
    /// dialogs still open and whether that is legal, and an incomplete
    /// handshake. The machine can be inspected afterwards but should not be
    /// fed more frames.
    pub fn handle_close(&mut self) -> CloseReport {
        let violations = Vec::new();
        // A channel cut off inside the handshake (the peer went away, as
        // an actor does when its registrar is torn down first) is
        // truncated, not wrong. A listener that never answers a probe is a
        // documented outcome of its own (§5.3: "occupied").
        let silent_listener = self.ends[0].probe && self.ends[1].aid.is_none();
        let truncated = (self.next_frame > 0
            && !silent_listener
            && (self.ends[0].aid.is_none() || self.ends[1].aid.is_none()))
        .then(|| {
            let missing = if self.ends[0].aid.is_none() {
                End::A
            } else {
                End::B
            };
            Truncated::Handshake {
                missing,
                reason: format!(
                    "the channel ended inside the handshake, without the Aid of {}",
                    end_name(missing)
                ),
            }
        });
        let mut open: Vec<OpenDialog> = self
            .dialogs
            .iter()
            .filter(|(_, d)| !d.f.ended)
            .map(|(cid, d)| {
                let callee = ix(d.caller.peer());
                let excuse = if d.f.unread {
                    Some(Excuse::NeverRead)
                } else if self.ends[callee].stopped_reading {
                    Some(Excuse::ActorCancelled)
                } else if d.f.task_cancelled {
                    Some(Excuse::TaskCancelled)
                } else {
                    None
                };
                OpenDialog {
                    cid: cid.clone(),
                    caller: d.caller,
                    rpc: d.rpc.clone(),
                    functype: d.f.functype,
                    start_frame: d.start_frame,
                    excuse,
                }
            })
            .collect();
        open.sort_by_key(|d| d.start_frame);
        let quirks = open
            .iter()
            .filter(|d| d.excuse.is_none())
            .map(|d| Warning {
                quirk: Quirk::DialogOpenAtClose,
                frame: None,
                cid: Some(d.cid.clone()),
            })
            .collect();
        CloseReport {
            open,
            violations,
            quirks,
            truncated,
        }
    }
}

type Step = (Flags, Meaning, Vec<Quirk>);

/// Names the RPC of a `Start` and checks the kwargs of the cancel RPCs.
fn classify(frame: usize, s: &Start<'_>) -> Result<Rpc, Violation> {
    let cid: &str = &s.cid;
    if s.ns != "self" {
        return Ok(Rpc::App {
            ns: s.ns.to_string(),
            func: s.func.to_string(),
        });
    }
    match &*s.func {
        "cancel" => {
            if s.kwargs.iter().next().is_some() {
                return Err(violation(
                    frame,
                    Some(cid),
                    Code::BadKwargs,
                    "self.cancel takes no kwargs (extra ones break tractor's handler)",
                ));
            }
            Ok(Rpc::ActorCancel)
        }
        "_cancel_task" => {
            let mut target = None;
            let mut others = 0;
            for (k, v) in s.kwargs.iter() {
                if k == "cid" {
                    target = v.decode::<String>().ok();
                } else {
                    others += 1;
                }
            }
            match target {
                Some(target) if others == 0 => Ok(Rpc::TaskCancel { target }),
                _ => Err(violation(
                    frame,
                    Some(cid),
                    Code::BadKwargs,
                    "self._cancel_task takes exactly {cid: str}",
                )),
            }
        }
        func => Ok(Rpc::Runtime {
            func: func.to_owned(),
        }),
    }
}

/// Checks the fields of an `Error` that do not depend on the dialog.
fn check_error_fields(
    frame: usize,
    cid: Option<&str>,
    sender: Option<&Uid<'static>>,
    e: &crate::Error<'_>,
) -> Result<(), Violation> {
    let Some(last) = e.relay_path.last() else {
        return Err(violation(
            frame,
            cid,
            Code::EmptyRelayPath,
            format!("Error ({}) with an empty relay_path", e.boxed_type_str),
        ));
    };
    if let Some(sender) = sender {
        if !same_uid(last, sender) {
            return Err(violation(
                frame,
                cid,
                Code::RelayPathSender,
                format!("relay_path ends with {last}, not the sender {sender}"),
            ));
        }
    }
    Ok(())
}

/// Where a step's violation is reported: the frame and its dialog.
#[derive(Clone, Copy)]
struct At<'c> {
    frame: usize,
    cid: &'c str,
}

impl At<'_> {
    fn err<T>(self, code: Code, reason: impl Into<String>) -> Result<T, Violation> {
        Err(violation(self.frame, Some(self.cid), code, reason))
    }

    /// `what` has no place in a dialog of kind `ft`.
    fn kind<T>(self, ft: Functype, what: &str) -> Result<T, Violation> {
        self.err(
            Code::KindMismatch,
            format!("{what} in an {} dialog", ft.as_str()),
        )
    }
}

/// A frame from the callee of dialog `d`: the dialog's new flags, what the
/// frame means and its quirks, or the rule it breaks. The callee must still
/// be able to reply; its first reply is `StartAck` or `Error`, and the
/// endpoint kind acknowledged there decides the rest.
fn callee_step(
    frame: usize,
    cid: &str,
    d: &Dialog,
    msg: &Msg<'_>,
    overrun: bool,
    exited: bool,
) -> Result<Step, Violation> {
    let at = At { frame, cid };
    callee_may_reply(at, &d.f, msg.msg_type(), exited)?;
    let mut f = d.f;
    let mut quirks = Vec::new();
    let meaning = match f.functype {
        None => callee_first_reply(at, &d.rpc, &mut f, msg)?,
        Some(_) if matches!(msg, Msg::StartAck(_)) => {
            return at.err(Code::DuplicateStartAck, "a second StartAck")
        }
        Some(Functype::AsyncFunc) => asyncfunc_reply(at, d.is_cancel_rpc(), &mut f, msg, overrun)?,
        Some(Functype::AsyncGen) => asyncgen_reply(at, &mut f, &mut quirks, msg, overrun)?,
        Some(Functype::Context) => context_reply(at, &mut f, &mut quirks, msg, overrun)?,
    };
    Ok((f, meaning, quirks))
}

/// The callee may send `t` at all: it has not ended the dialog, the dialog
/// was not opened after its actor stopped reading, and its actor has not
/// acknowledged `self.cancel`.
fn callee_may_reply(at: At<'_>, f: &Flags, t: MsgType, exited: bool) -> Result<(), Violation> {
    if f.ended {
        return at.err(
            Code::AfterEnd,
            format!("{t} from the callee after it ended the dialog"),
        );
    }
    if f.unread {
        return at.err(
            Code::ReplyToUnread,
            format!("{t} answers a Start sent after the callee's actor was cancelled"),
        );
    }
    if exited {
        return at.err(
            Code::AfterActorCancel,
            format!("{t} from the callee after it acknowledged self.cancel"),
        );
    }
    Ok(())
}

/// The callee's first reply: `StartAck` (a runtime RPC only as
/// `asyncfunc`) or an `Error` that ends the dialog.
fn callee_first_reply(
    at: At<'_>,
    rpc: &Rpc,
    f: &mut Flags,
    msg: &Msg<'_>,
) -> Result<Meaning, Violation> {
    match msg {
        Msg::StartAck(a) => {
            if !matches!(rpc, Rpc::App { .. }) && a.functype != Functype::AsyncFunc {
                return at.err(
                    Code::FunctypeMismatch,
                    format!(
                        "runtime RPC acknowledged as {}, not asyncfunc",
                        a.functype.as_str()
                    ),
                );
            }
            f.functype = Some(a.functype);
            Ok(Meaning::Ack(a.functype))
        }
        Msg::Error(_) => {
            f.ended = true;
            Ok(Meaning::Error)
        }
        _ => at.err(
            Code::ExpectedStartAck,
            format!(
                "{} as the callee's first reply; it must be StartAck or Error",
                msg.msg_type()
            ),
        ),
    }
}

/// An `asyncfunc` callee ends the dialog with one `Return` (`CancelAck`
/// for the cancel RPCs) or `Error`.
fn asyncfunc_reply(
    at: At<'_>,
    cancel_rpc: bool,
    f: &mut Flags,
    msg: &Msg<'_>,
    overrun: bool,
) -> Result<Meaning, Violation> {
    let ft = Functype::AsyncFunc;
    Ok(match msg {
        Msg::Return(_) if cancel_rpc => {
            return at.kind(ft, "Return for a cancel RPC (answers CancelAck)")
        }
        Msg::Return(_) => {
            f.ended = true;
            Meaning::Return
        }
        Msg::CancelAck(_) if cancel_rpc => {
            f.ended = true;
            Meaning::CancelAck
        }
        Msg::CancelAck(_) => return at.kind(ft, "CancelAck outside the cancel RPCs"),
        Msg::Error(_) if overrun => return at.kind(ft, "StreamOverrun"),
        Msg::Error(_) => {
            f.ended = true;
            Meaning::Error
        }
        _ => return at.kind(ft, msg.msg_type().as_str()),
    })
}

/// An `asyncgen` callee yields until its `Stop` or an `Error` ends the
/// dialog.
fn asyncgen_reply(
    at: At<'_>,
    f: &mut Flags,
    quirks: &mut Vec<Quirk>,
    msg: &Msg<'_>,
    overrun: bool,
) -> Result<Meaning, Violation> {
    let ft = Functype::AsyncGen;
    Ok(match msg {
        Msg::Yield(_) => {
            if f.callee_stopped {
                // The generator's Stop ended the dialog.
                return at.err(Code::AfterEnd, "callee Yield after its own Stop");
            }
            if f.caller_stopped {
                quirks.push(Quirk::YieldAfterPeerStop);
            }
            f.callee_yielded = true;
            Meaning::Yield
        }
        Msg::Stop(_) => {
            f.callee_stopped = true;
            f.ended = true;
            Meaning::Stop { ends_dialog: true }
        }
        Msg::Error(_) if overrun => return at.kind(ft, "StreamOverrun from the callee"),
        Msg::Error(_) => {
            f.ended = true;
            Meaning::Error
        }
        _ => return at.kind(ft, msg.msg_type().as_str()),
    })
}

/// A `context` callee sends `Started` once, then may stream (`Yield`,
/// `Stop`, `StreamOverrun`) until `Return` or `Error` ends the dialog.
fn context_reply(
    at: At<'_>,
    f: &mut Flags,
    quirks: &mut Vec<Quirk>,
    msg: &Msg<'_>,
    overrun: bool,
) -> Result<Meaning, Violation> {
    Ok(match msg {
        Msg::Started(_) => {
            if f.started {
                return at.err(Code::DuplicateStarted, "a second Started");
            }
            f.started = true;
            Meaning::Started
        }
        Msg::Yield(_) => {
            if !f.started {
                return at.err(Code::BeforeStarted, "callee Yield before Started");
            }
            if f.callee_stopped {
                quirks.push(Quirk::YieldAfterStop);
            } else if f.caller_stopped {
                quirks.push(Quirk::YieldAfterPeerStop);
            }
            f.callee_yielded = true;
            Meaning::Yield
        }
        Msg::Stop(_) => {
            if !f.started {
                return at.err(Code::BeforeStarted, "callee Stop before Started");
            }
            if f.callee_stopped {
                quirks.push(Quirk::DuplicateStop);
            }
            f.callee_stopped = true;
            Meaning::Stop { ends_dialog: false }
        }
        Msg::Return(_) => {
            if !f.started {
                quirks.push(Quirk::ReturnWithoutStarted);
            } else if f.callee_yielded && !f.callee_stopped && !f.caller_stopped {
                quirks.push(Quirk::ReturnDuringStream);
            }
            f.ended = true;
            Meaning::Return
        }
        Msg::Error(_) if overrun => {
            if !f.started {
                return at.err(Code::BeforeStarted, "StreamOverrun before Started");
            }
            Meaning::Overrun
        }
        Msg::Error(_) => {
            f.ended = true;
            Meaning::Error
        }
        _ => return at.kind(Functype::Context, msg.msg_type().as_str()),
    })
}

/// A frame from the caller of dialog `d`, after its `StartAck`: `Yield`
/// (context only), `Stop` and `StreamOverrun`, each legal only in the
/// kinds that stream.
fn caller_step(
    frame: usize,
    cid: &str,
    d: &Dialog,
    msg: &Msg<'_>,
    overrun: bool,
) -> Result<Step, Violation> {
    let at = At { frame, cid };
    let t = msg.msg_type();
    let mut f = d.f;
    let mut quirks = Vec::new();
    let Some(ft) = f.functype else {
        return at.err(
            Code::CallerBeforeAck,
            format!("caller {t} before the callee's StartAck"),
        );
    };
    let meaning = match msg {
        Msg::Yield(_) => {
            if ft != Functype::Context {
                return at.kind(ft, "caller Yield");
            }
            if !f.started {
                return at.err(Code::BeforeStarted, "caller Yield before Started");
            }
            if f.ended {
                quirks.push(Quirk::StreamAfterEnd);
            } else if f.caller_stopped {
                quirks.push(Quirk::YieldAfterStop);
            } else if f.callee_stopped {
                quirks.push(Quirk::YieldAfterPeerStop);
            }
            Meaning::Yield
        }
        Msg::Stop(_) => {
            if ft == Functype::AsyncFunc {
                return at.kind(ft, "caller Stop");
            }
            if ft == Functype::Context && !f.started {
                return at.err(Code::BeforeStarted, "caller Stop before Started");
            }
            if f.ended {
                quirks.push(Quirk::StopAfterEnd);
            } else if f.caller_stopped {
                quirks.push(Quirk::DuplicateStop);
            }
            f.caller_stopped = true;
            Meaning::Stop { ends_dialog: false }
        }
        Msg::Error(_) if overrun => {
            if ft == Functype::AsyncFunc {
                return at.kind(ft, "StreamOverrun");
            }
            if ft == Functype::Context && !f.started {
                return at.err(Code::BeforeStarted, "StreamOverrun before Started");
            }
            if f.ended {
                quirks.push(Quirk::StreamAfterEnd);
            }
            Meaning::Overrun
        }
        // Callee-only messages were rejected by the caller of this function.
        _ => return at.err(Code::WrongDirection, format!("{t} from the caller")),
    };
    Ok((f, meaning, quirks))
}
