//! The dialog rules of the protocol as a sans-IO state machine
//! (`spec/PROTOCOL.md` §5): who may send what, when, and on which `cid`.
//!
//! A [`ChannelMachine`] follows one channel (one stream connection). Feed
//! it every frame in order with the end that sent it
//! ([`ChannelMachine::handle_frame`]); it answers what the frame means
//! ([`Accepted`]) or which rule it breaks ([`Violation`], with a stable
//! [`Code`]). When the connection ends, [`ChannelMachine::handle_close`]
//! reports the dialogs still open and whether that is legal there. The
//! machine does no I/O, keeps no clock and never panics on bad input; its
//! memory is bounded by [`Config`].
//!
//! What real tractor sends is the protocol: behaviour that the bare
//! grammar does not describe but tractor really produces is accepted and
//! named as a [`Quirk`] (documented in `spec/quirks.md`); strict mode
//! ([`check_channel`] with `strict = true`) reports quirks as warnings.
//!
//! ```
//! use shuttle::dialog::{check_channel, End};
//! use shuttle::Aid;
//!
//! let mut child = Aid::new("child", "u1");
//! child.is_registrar = Some(false);
//! let mut root = Aid::new("root", "u2");
//! root.is_registrar = Some(true);
//! let (a, b) = (child.to_vec(), root.to_vec());
//! let report = check_channel(&[(End::A, &a), (End::B, &b)], true);
//! assert!(report.is_ok());
//! ```
//!
//! # Driving a live channel
//!
//! [`Channel`] is the engine an actor drives: one end of one live channel,
//! sans-IO (frames in, frames and events out, time passed in). It feeds
//! every frame, the peer's and its own, through the same
//! [`ChannelMachine`], so that a rule lives in one place whether it judges
//! a recording or guards a live actor.
//!
//! # Ends and roles
//!
//! [`End::A`] is the connecting end of the channel, [`End::B`] the
//! accepting end (a spawned child connects to its parent, so on a spawn
//! channel A is the child and B the parent). Each dialog has a *caller*
//! (the end that sent `Start`) and a *callee*; either end may be the
//! caller of any dialog.
//!
//! # Memory bounds
//!
//! At most [`Config::max_open_dialogs`] dialogs may be open at once (a
//! `Start` beyond that is a [`Code::TooManyDialogs`] violation and is not
//! tracked). Ended dialogs are remembered, to recognise late frames and
//! redundant cancels, up to [`Config::max_ended_dialogs`], oldest forgotten
//! first; a frame for a forgotten dialog is reported as
//! [`Code::UnknownCid`].

use serde::{Deserialize, Serialize, Serializer};

use crate::{DecodeError, Functype, Msg};

mod channel;
mod codes;
mod machine;
mod verdicts;

pub use channel::{Channel, ChannelConfig, Event, Incoming, SendError};
pub use codes::{Code, Quirk};
pub use machine::ChannelMachine;
pub use verdicts::{dialog_verdicts, EndpointSpec, EndpointSpecs, FrameVerdict};

/// Limits of a [`ChannelMachine`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Config {
    /// Most dialogs open at once (default 1024).
    pub max_open_dialogs: usize,
    /// Most ended dialogs remembered (default 4096).
    pub max_ended_dialogs: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            max_open_dialogs: 1024,
            max_ended_dialogs: 4096,
        }
    }
}

/// The part an end plays in one dialog.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// The end that sent `Start`.
    Caller,
    /// The end that runs the endpoint.
    Callee,
}

/// What a runtime or application RPC is, as named by its `Start`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum Rpc {
    /// `self.cancel`: cancel the whole callee actor.
    ActorCancel,
    /// `self._cancel_task{cid}`: cancel one dialog of the requesting end.
    TaskCancel {
        /// The dialog to cancel.
        target: String,
    },
    /// Any other `ns: "self"` method (registrar and discovery calls:
    /// `register_actor`, `find_actor`, ...).
    Runtime {
        /// The method name.
        func: String,
    },
    /// An application endpoint `ns.func`.
    App {
        /// Module path.
        ns: String,
        /// Function name.
        func: String,
    },
}

/// What an accepted frame means.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Meaning {
    /// An end's handshake `Aid`.
    Handshake {
        /// A registrar liveness probe.
        probe: bool,
    },
    /// The parent's `SpawnSpec`: this is a spawn channel.
    SpawnSpec,
    /// A `Start` opened a dialog.
    Open(Rpc),
    /// `StartAck`: the endpoint kind.
    Ack(Functype),
    /// A context's `Started`.
    Started,
    /// One stream item.
    Yield,
    /// End of the sender's stream; `ends_dialog` for an `asyncgen` callee.
    Stop {
        /// The dialog ended with it.
        ends_dialog: bool,
    },
    /// The dialog's result.
    Return,
    /// The result of a cancel RPC.
    CancelAck,
    /// A `StreamOverrun` notice: not the end of the dialog.
    Overrun,
    /// An `Error` that ends the dialog (before or after `StartAck`).
    Error,
    /// An `Error` with `cid: None`, which no dialog owns.
    RuntimeError,
}

/// An accepted frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Accepted {
    /// What it means.
    pub meaning: Meaning,
    /// The sender's role in the frame's dialog (`None` for handshake frames
    /// and runtime-level errors).
    pub role: Option<Role>,
    /// The quirks it exhibits (empty for frames the grammar describes).
    pub quirks: Vec<Quirk>,
}

/// A broken rule.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Violation {
    /// Which rule.
    pub code: Code,
    /// Index of the offending frame in the channel (`None` for the end of
    /// the channel).
    pub frame: Option<usize>,
    /// The dialog concerned, if any.
    pub cid: Option<String>,
    /// One line for humans.
    pub reason: String,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.frame {
            Some(i) => write!(f, "frame {i}")?,
            None => f.write_str("close")?,
        }
        if let Some(cid) = &self.cid {
            write!(f, " cid={cid}")?;
        }
        write!(f, ": {}: {}", self.code, self.reason)
    }
}

/// A quirk met at a frame (or at the end of the channel).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Warning {
    /// Which quirk.
    pub quirk: Quirk,
    /// Index of the frame (`None` for the end of the channel).
    pub frame: Option<usize>,
    /// The dialog concerned, if any.
    pub cid: Option<String>,
}

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.frame {
            Some(i) => write!(f, "frame {i}")?,
            None => f.write_str("close")?,
        }
        if let Some(cid) = &self.cid {
            write!(f, " cid={cid}")?;
        }
        write!(
            f,
            ": quirk {} (spec/quirks.md#{})",
            self.quirk,
            self.quirk.anchor()
        )
    }
}

/// Why a dialog may legally still be open when its channel ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Excuse {
    /// The callee's actor received `self.cancel` on this channel: it stops
    /// reading and cancelled tasks send nothing more (e.g. an actor
    /// cancelled mid-stream).
    ActorCancelled,
    /// The caller requested `self._cancel_task` for it: a cancelled
    /// `asyncfunc` (or legacy stream) task sends nothing more.
    TaskCancelled,
    /// The `Start` reached an actor that had stopped reading.
    NeverRead,
}

/// A dialog still open at the end of its channel.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OpenDialog {
    /// The dialog.
    pub cid: String,
    /// The end that started it.
    #[serde(serialize_with = "ser_end")]
    pub caller: End,
    /// What was called.
    pub rpc: Rpc,
    /// The endpoint kind, if acknowledged.
    #[serde(serialize_with = "ser_functype")]
    pub functype: Option<Functype>,
    /// Index of its `Start`.
    pub start_frame: usize,
    /// Why being open here is legal; `None` = nothing excuses it (reported
    /// as [`Quirk::DialogOpenAtClose`]).
    pub excuse: Option<Excuse>,
}

/// What [`ChannelMachine::handle_close`] finds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[must_use]
pub struct CloseReport {
    /// Dialogs still open, in `Start` order.
    pub open: Vec<OpenDialog>,
    /// Rules broken by ending the channel here.
    pub violations: Vec<Violation>,
    /// Quirks of ending the channel here.
    pub quirks: Vec<Warning>,
    /// Whether the channel was cut off where no rule lets it end (not a
    /// violation: the peer went away).
    pub truncated: Option<Truncated>,
}

/// How a channel was cut off (`spec/dialog.md#truncated`): an outcome of
/// its own, neither a violation nor a quirk. (A dialog still open at the
/// end is reported in [`ChannelReport::open`], and as the quirk
/// `dialog-open-at-close` when nothing excuses it.)
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "at", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Truncated {
    /// The channel ended after one end's `Aid` and before the other's.
    Handshake {
        /// The end whose `Aid` never came.
        #[serde(skip)]
        missing: End,
        /// One line for humans.
        reason: String,
    },
}

impl std::fmt::Display for Truncated {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Truncated::Handshake { reason, .. } => f.write_str(reason),
        }
    }
}

/// The verdict on one whole channel ([`check_channel`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ChannelReport {
    /// Frames checked.
    pub frames: usize,
    /// Every broken rule, in frame order (close last).
    pub violations: Vec<Violation>,
    /// Every quirk met (strict mode only; empty otherwise).
    pub warnings: Vec<Warning>,
    /// Dialogs still open at the end.
    pub open: Vec<OpenDialog>,
    /// Whether the channel was cut off (not a violation).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub truncated: Option<Truncated>,
}

impl ChannelReport {
    /// No violation.
    pub fn is_ok(&self) -> bool {
        self.violations.is_empty()
    }
}

/// Decodes and checks one channel: every frame in order with its sender,
/// then the close. Undecodable frames are [`Code::Undecodable`]
/// violations. With `strict`, quirks are reported as warnings.
pub fn check_channel(frames: &[(End, &[u8])], strict: bool) -> ChannelReport {
    check_channel_with(frames, strict, Config::default())
}

/// [`check_channel`] with explicit limits.
pub fn check_channel_with(frames: &[(End, &[u8])], strict: bool, config: Config) -> ChannelReport {
    let mut m = ChannelMachine::new(config);
    let mut violations = Vec::new();
    let mut warnings = Vec::new();
    for (i, (from, body)) in frames.iter().enumerate() {
        match Msg::decode(body) {
            Ok(msg) => match m.handle_frame(*from, &msg) {
                Ok(acc) if strict => warnings.extend(acc.quirks.into_iter().map(|quirk| Warning {
                    quirk,
                    frame: Some(i),
                    cid: msg.cid().map(str::to_owned),
                })),
                Ok(_) => {}
                Err(v) => violations.push(v),
            },
            Err(e) => violations.push(m.handle_undecodable(*from, &e)),
        }
    }
    let close = m.handle_close();
    violations.extend(close.violations);
    if strict {
        warnings.extend(close.quirks);
    }
    ChannelReport {
        frames: frames.len(),
        violations,
        warnings,
        open: close.open,
        truncated: close.truncated,
    }
}

/// Which end of a channel sent a frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum End {
    /// The connecting end (`a`).
    A,
    /// The accepting end (`b`).
    B,
}

impl End {
    /// The other end.
    pub fn peer(self) -> End {
        match self {
            End::A => End::B,
            End::B => End::A,
        }
    }
}

/// A frame body with its sender (as read from a recording).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodedFrame {
    /// Which end sent it.
    pub from: End,
    /// The msgpack body.
    pub body: Vec<u8>,
}

/// [`check_channel`] over owned frames, as read from a recording.
pub fn check_frames(frames: &[DecodedFrame], strict: bool) -> ChannelReport {
    let refs: Vec<(End, &[u8])> = frames.iter().map(|f| (f.from, f.body.as_slice())).collect();
    check_channel(&refs, strict)
}

/// Describes a decode error for a [`Code::Undecodable`] violation.
fn undecodable_reason(e: &DecodeError) -> String {
    format!("undecodable frame: {e}")
}

fn ser_end<S: Serializer>(e: &End, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(match e {
        End::A => "a",
        End::B => "b",
    })
}

fn ser_functype<S: Serializer>(f: &Option<Functype>, s: S) -> Result<S::Ok, S::Error> {
    match f {
        Some(f) => s.serialize_str(f.as_str()),
        None => s.serialize_none(),
    }
}
