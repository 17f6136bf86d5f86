//! Stable names for rule violations ([`Code`]) and for the tolerated
//! oddities of real tractor traffic ([`Quirk`]).

use std::fmt;

macro_rules! stable_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $(
                $(#[$vmeta:meta])*
                $variant:ident = $text:literal,
            )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )*
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            /// The stable identifier (never changes once released).
            pub const fn as_str(self) -> &'static str {
                match self {
                    $( $name::$variant => $text, )*
                }
            }

            /// The value whose identifier is `s`.
            pub fn from_str_id(s: &str) -> Option<$name> {
                match s {
                    $( $text => Some($name::$variant), )*
                    _ => None,
                }
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

stable_enum! {
    /// The rule a frame (or the end of a channel) breaks. Each code is a
    /// stable string (`Code::as_str`), grouped by prefix: `frame.*` (the
    /// bytes), `handshake.*` (§5.1-5.3), `dialog.*` (the per-cid grammar,
    /// §5.4-5.8), `rpc.*` (runtime RPCs in `ns: "self"`, §5.8, §5.11),
    /// `error.*` (fields of `Error`, §6) and `limits.*` (the machine's own
    /// memory bounds).
    pub enum Code {
        /// The frame body is not one of the ten messages.
        Undecodable = "frame.undecodable",
        /// An end's first frame is not its `Aid`.
        ExpectedAid = "handshake.expected-aid",
        /// An end sent a second `Aid`.
        DuplicateAid = "handshake.duplicate-aid",
        /// A non-`Aid` frame before the peer's `Aid` arrived, or a channel
        /// that closed with only one `Aid`.
        HandshakeIncomplete = "handshake.incomplete",
        /// A probe `Aid` (`is_probe: true`) sent by the accepting end; only
        /// the connecting end probes.
        ProbeFromAcceptor = "handshake.probe-from-acceptor",
        /// Anything but the peer's `Aid` on a probe channel.
        AfterProbe = "handshake.after-probe",
        /// `SpawnSpec` sent by the connecting end: only the parent (the
        /// accepting end) sends it.
        SpawnSpecDirection = "handshake.spawnspec-direction",
        /// `SpawnSpec` that is not the parent's second frame, or that comes
        /// after the child already sent something past its `Aid`.
        SpawnSpecMisplaced = "handshake.spawnspec-misplaced",
        /// A dialog frame whose `cid` no `Start` on this channel opened.
        UnknownCid = "dialog.unknown-cid",
        /// A `Start` reusing the `cid` of a dialog seen on this channel.
        CidReuse = "dialog.cid-reuse",
        /// `Start.uid` differs from the sender's handshake uid (tractor's
        /// callee crashes on it).
        StartUidMismatch = "dialog.start-uid-mismatch",
        /// A message only the callee sends (`StartAck`, `Started`,
        /// `Return`, `CancelAck`, a non-overrun `Error`) sent by the caller.
        WrongDirection = "dialog.wrong-direction",
        /// The callee's first reply is neither `StartAck` nor `Error`.
        ExpectedStartAck = "dialog.expected-startack",
        /// The caller streams (`Yield`, `Stop`, `Error`) before `StartAck`.
        CallerBeforeAck = "dialog.caller-before-ack",
        /// A second `StartAck`.
        DuplicateStartAck = "dialog.duplicate-startack",
        /// A runtime RPC (`ns: "self"`) acknowledged as anything but
        /// `asyncfunc`.
        FunctypeMismatch = "dialog.functype-mismatch",
        /// A message that the dialog's functype never carries (`Started` or
        /// `Yield` in `asyncfunc`, `Return` in `asyncgen`, a caller `Yield`
        /// in `asyncgen`, `CancelAck` outside the cancel RPCs, `Return` for
        /// a cancel RPC, ...).
        KindMismatch = "dialog.kind-mismatch",
        /// A second `Started`.
        DuplicateStarted = "dialog.duplicate-started",
        /// A stream frame (`Yield`, `Stop`, `StreamOverrun`) of a context
        /// dialog before its `Started`.
        BeforeStarted = "dialog.before-started",
        /// A callee frame after the callee ended the dialog (a second
        /// `Return`, anything after `Error`, `CancelAck` or an `asyncgen`
        /// `Stop`).
        AfterEnd = "dialog.after-end",
        /// The callee answers a `Start` it never read (sent after the
        /// callee's actor received `self.cancel`).
        ReplyToUnread = "dialog.reply-to-unread",
        /// A callee frame after the callee acknowledged `self.cancel`
        /// (`CancelAck`): the actor has stopped.
        AfterActorCancel = "dialog.after-actor-cancel",
        /// `kwargs` of a runtime RPC do not fit it (`cancel` takes `{}`,
        /// `_cancel_task` takes `{cid: str}`, registrar calls their keys).
        BadKwargs = "rpc.bad-kwargs",
        /// `_cancel_task` names a `cid` never seen on this channel.
        CancelTaskUnknown = "rpc.cancel-task-unknown",
        /// `_cancel_task` names a dialog that the requesting end did not
        /// start (tractor only cancels from the channel and end that started).
        CancelTaskForeign = "rpc.cancel-task-foreign",
        /// An `Error` with an empty `relay_path` (tractor always appends its
        /// own uid; the Python receiver asserts on it for relays).
        EmptyRelayPath = "error.empty-relay-path",
        /// An `Error` whose `relay_path` does not end with the sender's uid.
        RelayPathSender = "error.relay-path-sender",
        /// More dialogs open at once than the machine tracks
        /// ([`Config::max_open_dialogs`](super::Config::max_open_dialogs)).
        TooManyDialogs = "limits.open-dialogs",
    }
}

stable_enum! {
    /// Something real tractor does that the bare grammar of §5.4 does not
    /// describe. Quirks are accepted; strict mode reports them as
    /// warnings. Each is documented in `spec/quirks.md` under the anchor
    /// [`Quirk::anchor`].
    pub enum Quirk {
        /// The caller sends `Stop` for a dialog the callee already ended
        /// (`Return`/`Error`, or the asyncgen's `Stop`): its stream closes on
        /// block exit regardless.
        StopAfterEnd = "stop-after-end",
        /// The caller sends a `Yield` (or a `StreamOverrun` error) after the
        /// callee ended the dialog: the frames crossed on the wire.
        StreamAfterEnd = "stream-after-end",
        /// An end keeps yielding after it received the peer's `Stop`; the
        /// receiver drains and discards them.
        YieldAfterPeerStop = "yield-after-peer-stop",
        /// `self._cancel_task` for a dialog that has already ended; the
        /// callee answers `CancelAck true` anyway.
        RedundantCancelTask = "redundant-cancel-task",
        /// A frame sent to an actor after it received `self.cancel`: its
        /// message loop has stopped reading this channel.
        SentToCancelledActor = "sent-to-cancelled-actor",
        /// A second `self.cancel` to an actor already being cancelled.
        RedundantActorCancel = "redundant-actor-cancel",
        /// A context callee sends `Return` while its stream is open and
        /// neither side sent `Stop`; a Python caller iterating the stream
        /// receives the result as a stream item.
        ReturnDuringStream = "return-during-stream",
        /// A context callee sends `Return` without `Started`; the Python
        /// caller takes the result as the started value.
        ReturnWithoutStarted = "return-without-started",
        /// An `Error` with `cid: None` (a runtime-level error); the Python
        /// receiver drops it with a warning.
        ErrorWithoutCid = "error-without-cid",
        /// A dialog is still open when the channel ends and nothing excuses
        /// it (no actor or task cancel, not an unread request): tractor has
        /// no goodbye message and a disconnect cancels nothing.
        DialogOpenAtClose = "dialog-open-at-close",
        /// A context end sends one more `Yield` after its own `Stop`: a
        /// sibling task closed the stream (`MsgStream.aclose()`) while
        /// another was inside `MsgStream.send()`, which checks its closed
        /// flag only before its await. The receiver drains it.
        YieldAfterStop = "yield-after-stop",
        /// The same end sends `Stop` twice: `MsgStream.aclose()` entered
        /// again (explicitly, then from `__aexit__` while cancelling) sends
        /// a second `Stop`. The receiver ignores it.
        DuplicateStop = "duplicate-stop",
    }
}

impl Quirk {
    /// The anchor of the quirk's section in `spec/quirks.md`
    /// (`spec/quirks.md#<anchor>`); equal to [`Quirk::as_str`].
    pub const fn anchor(self) -> &'static str {
        self.as_str()
    }
}
