//! One end of a live channel, sans-IO: the engine an actor drives.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use super::{Accepted, ChannelMachine, CloseReport, Config, End, Meaning, Role, Violation};
use crate::pld_spec::PldSpec;
use crate::{Aid, DecodeError, Msg, Raw, Start, StrMap, Uid};

/// Limits of a [`Channel`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChannelConfig {
    /// The dialog rules' limits (open and remembered dialogs).
    pub rules: Config,
    /// Most body bytes queued for sending before [`Channel::send`] refuses
    /// with [`SendError::Full`] (default 8 MiB; one message larger than
    /// this is still accepted into an empty queue).
    pub max_queued_bytes: usize,
    /// Most events queued before the channel stops taking frames
    /// ([`Channel::wants_frames`] turns false; default 1,024).
    pub max_events: usize,
    /// How long the peer has to send its handshake `Aid` (default 10 s).
    pub handshake_timeout: Duration,
    /// Close the channel after this long without a frame from the peer
    /// while no dialog is open (default: never).
    pub idle_timeout: Option<Duration>,
}

impl Default for ChannelConfig {
    fn default() -> Self {
        ChannelConfig {
            rules: Config::default(),
            max_queued_bytes: 8 << 20,
            max_events: 1024,
            handshake_timeout: Duration::from_secs(10),
            idle_timeout: None,
        }
    }
}

/// A frame the peer sent, accepted by the dialog rules.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Incoming {
    body: Vec<u8>,
    /// What it means.
    pub meaning: Meaning,
    /// The peer's role in the frame's dialog.
    pub role: Option<Role>,
    /// The frame's dialog.
    pub cid: Option<String>,
}

impl Incoming {
    /// The message (decoded again from the kept body; it decoded once
    /// already, so this cannot fail in practice).
    pub fn msg(&self) -> Result<Msg<'_>, DecodeError> {
        Msg::decode(&self.body)
    }

    /// The frame body as received.
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// The payload of a `Started`, `Yield` or `Return`.
    pub fn pld(&self) -> Option<Raw<'_>> {
        match self.msg().ok()? {
            Msg::Started(m) => Some(m.pld),
            Msg::Yield(m) => Some(m.pld),
            Msg::Return(m) => Some(m.pld),
            _ => None,
        }
    }
}

/// What happened on a channel ([`Channel::poll_event`]).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// The peer's handshake: the channel is open (a probe `Aid` is
    /// answered and the channel should then be closed).
    Handshake {
        /// The peer's uid.
        peer: Uid<'static>,
        /// A registrar liveness probe.
        probe: bool,
    },
    /// A frame of a dialog (or a `SpawnSpec`, or a runtime-level `Error`).
    Frame(Incoming),
    /// A payload that breaks the payload spec set for its dialog
    /// ([`Channel::set_pld_spec`]); the frame is otherwise accepted (the
    /// dialog rules saw it), its payload must not be used.
    PayloadRejected {
        /// The frame.
        frame: Incoming,
        /// msgspec's complaint, with its path (`Expected `int`, got `str``).
        error: DecodeError,
    },
    /// The peer broke a dialog rule; the frame was dropped.
    Violation(Violation),
    /// The peer sent a frame that does not decode; it was dropped.
    Undecodable(Violation),
    /// The channel ended (closed by the peer, [`Channel::close`], or a
    /// timeout): the dialogs still open and what the rules say of that.
    Closed(CloseReport),
}

/// Why [`Channel::send`] refused a message.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SendError {
    /// Sending it would break a dialog rule (it was not sent).
    #[error("not sent: {0}")]
    Rule(Violation),
    /// The send queue is full: drain [`Channel::poll_transmit`] first.
    #[error("the send queue is full")]
    Full,
    /// The channel is closed.
    #[error("the channel is closed")]
    Closed,
    /// The message did not encode.
    #[error("not sent: {0}")]
    Encode(#[from] crate::EncodeError),
}

/// One end of one channel, driven without I/O, modelled on quinn-proto's
/// `Connection`: frame bodies in ([`handle_frame`](Channel::handle_frame)),
/// bodies to send out ([`poll_transmit`](Channel::poll_transmit)), what
/// happened ([`poll_event`](Channel::poll_event)), time passed in and never
/// read from the OS ([`poll_timeout`](Channel::poll_timeout),
/// [`handle_timeout`](Channel::handle_timeout)).
///
/// Every frame either way goes through the channel's [`ChannelMachine`],
/// the same rules [`check_channel`](super::check_channel) judges recordings
/// with: a peer's frame that breaks one is dropped and reported, and a
/// message of ours that would break one is refused by
/// [`send`](Channel::send) and never reaches the wire.
///
/// ```
/// use std::time::Instant;
/// use shuttle::dialog::{Channel, ChannelConfig, End, Event};
/// use shuttle::{Aid, StrMap};
///
/// let now = Instant::now();
/// let mut caller = Channel::new(End::A, &Aid::new("caller", "u-a"), ChannelConfig::default(), now);
/// let mut callee = Channel::new(End::B, &Aid::new("callee", "u-b"), ChannelConfig::default(), now);
/// // Move the handshakes across, as sockets would.
/// while let Some(body) = caller.poll_transmit() { callee.handle_frame(&body, now); }
/// while let Some(body) = callee.poll_transmit() { caller.handle_frame(&body, now); }
/// assert!(matches!(callee.poll_event(), Some(Event::Handshake { .. })));
///
/// let cid = caller.start("__main__", "add", StrMap::empty(), None).unwrap();
/// while let Some(body) = caller.poll_transmit() { callee.handle_frame(&body, now); }
/// let Some(Event::Frame(start)) = callee.poll_event() else { panic!() };
/// assert_eq!(start.cid.as_deref(), Some(cid.as_str()));
/// ```
#[derive(Debug)]
pub struct Channel {
    me: End,
    uid: Uid<'static>,
    config: ChannelConfig,
    machine: ChannelMachine,
    transmit: VecDeque<Vec<u8>>,
    queued_bytes: usize,
    events: VecDeque<Event>,
    peer: Option<Uid<'static>>,
    specs: HashMap<String, PldSpec>,
    next_cid: u64,
    closed: bool,
    last_frame: Instant,
    opened: Instant,
}

impl Channel {
    /// One end of a new channel: `End::A` if this end connected, `End::B`
    /// if it accepted. Its handshake `aid` is queued to send at once.
    pub fn new(me: End, aid: &Aid<'_>, config: ChannelConfig, now: Instant) -> Channel {
        let mut c = Channel {
            me,
            uid: aid.uid().into_owned(),
            config,
            machine: ChannelMachine::new(config.rules),
            transmit: VecDeque::new(),
            queued_bytes: 0,
            events: VecDeque::new(),
            peer: None,
            specs: HashMap::new(),
            next_cid: 0,
            closed: false,
            last_frame: now,
            opened: now,
        };
        let body = aid.to_vec();
        let _ = c.machine.handle_frame(me, &Msg::Aid(aid.clone()));
        c.queue(body);
        c
    }

    /// This end's uid.
    pub fn uid(&self) -> &Uid<'static> {
        &self.uid
    }

    /// The peer's uid, once its handshake arrived.
    pub fn peer(&self) -> Option<&Uid<'static>> {
        self.peer.as_ref()
    }

    /// Whether the channel has ended.
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// Dialogs open on the channel.
    pub fn open_dialogs(&self) -> usize {
        self.machine.open_dialogs()
    }

    /// Whether the channel takes more frames now: false while
    /// [`ChannelConfig::max_events`] events wait to be polled. A driver
    /// stops reading the socket until it turns true again, which pushes
    /// back on the peer.
    pub fn wants_frames(&self) -> bool {
        !self.closed && self.events.len() < self.config.max_events
    }

    /// Whether [`send`](Channel::send) would take a message now.
    pub fn can_send(&self) -> bool {
        !self.closed
            && (self.transmit.is_empty() || self.queued_bytes < self.config.max_queued_bytes)
    }

    /// Call with every frame body the peer sent, in order (a driver splits
    /// the stream with [`frame::FrameSplitter`](crate::frame::FrameSplitter)).
    /// Events follow from [`poll_event`](Channel::poll_event).
    pub fn handle_frame(&mut self, body: &[u8], now: Instant) {
        if self.closed {
            return;
        }
        self.last_frame = now;
        let peer_end = self.peer_end();
        let msg = match Msg::decode(body) {
            Ok(m) => m,
            Err(e) => {
                let v = self.machine.handle_undecodable(peer_end, &e);
                // A malformed `Start` whose cid can be read is answered, so
                // that its caller is not left waiting.
                if let Some(cid) = start_cid(body).filter(|c| !self.machine.is_open(c)) {
                    self.refuse(&cid, &format!("a malformed Start: {e}"));
                }
                self.events.push_back(Event::Undecodable(v));
                return;
            }
        };
        match self.machine.handle_frame(peer_end, &msg) {
            Err(v) => {
                // A Start over the cap of open dialogs is answered, so that
                // the caller is not left waiting for a dialog never opened.
                if let (super::Code::TooManyDialogs, Msg::Start(s)) = (v.code, &msg) {
                    self.refuse(&s.cid, &v.reason);
                }
                self.events.push_back(Event::Violation(v));
            }
            Ok(Accepted { meaning, role, .. }) => {
                if let (Meaning::Handshake { probe }, Msg::Aid(aid)) = (&meaning, &msg) {
                    let peer = aid.uid().into_owned();
                    self.peer = Some(peer.clone());
                    self.events.push_back(Event::Handshake {
                        peer,
                        probe: *probe,
                    });
                    return;
                }
                let cid = msg.cid().map(str::to_owned);
                let rejected = match (&msg, cid.as_ref().and_then(|c| self.specs.get(c))) {
                    (Msg::Started(m), Some(spec)) => spec.validate(m.pld.as_bytes()).err(),
                    (Msg::Yield(m), Some(spec)) => spec.validate(m.pld.as_bytes()).err(),
                    (Msg::Return(m), Some(spec)) => spec.validate(m.pld.as_bytes()).err(),
                    _ => None,
                };
                let ended = matches!(
                    meaning,
                    Meaning::Return
                        | Meaning::Error
                        | Meaning::CancelAck
                        | Meaning::Stop { ends_dialog: true }
                );
                let frame = Incoming {
                    body: body.to_vec(),
                    meaning,
                    role,
                    cid: cid.clone(),
                };
                if ended {
                    if let Some(c) = &cid {
                        self.specs.remove(c);
                    }
                }
                self.events.push_back(match rejected {
                    Some(error) => Event::PayloadRejected { frame, error },
                    None => Event::Frame(frame),
                });
            }
        }
    }

    /// Call when the stream ended (EOF or error). Ends the channel.
    pub fn handle_close(&mut self, _now: Instant) {
        self.close();
    }

    /// Ends the channel from this side: nothing more is sent or taken;
    /// [`Event::Closed`] follows. Queued bodies can still be drained.
    pub fn close(&mut self) {
        if self.closed {
            return;
        }
        self.closed = true;
        self.specs.clear();
        let report = self.machine.handle_close();
        self.events.push_back(Event::Closed(report));
    }

    /// When [`handle_timeout`](Channel::handle_timeout) wants to be called
    /// next (`None`: no timer).
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.closed {
            return None;
        }
        if self.peer.is_none() {
            return Some(self.opened + self.config.handshake_timeout);
        }
        match self.config.idle_timeout {
            Some(idle) if self.machine.open_dialogs() == 0 => Some(self.last_frame + idle),
            _ => None,
        }
    }

    /// Call when the time [`poll_timeout`](Channel::poll_timeout) named has
    /// come (calling it early does nothing). Closes a channel whose peer
    /// never completed its handshake, or that stayed idle too long.
    pub fn handle_timeout(&mut self, now: Instant) {
        if let Some(at) = self.poll_timeout() {
            if now >= at {
                self.close();
            }
        }
    }

    /// The next frame body to write to the peer, in order.
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        let body = self.transmit.pop_front()?;
        self.queued_bytes -= body.len();
        Some(body)
    }

    /// The next thing that happened.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// Limits the payloads the peer sends on dialog `cid` to `spec` (as
    /// `@tractor.context(pld_spec=...)` does on the receiving side); a
    /// payload that breaks it is reported as [`Event::PayloadRejected`].
    /// The limit ends with the dialog.
    pub fn set_pld_spec(&mut self, cid: &str, spec: PldSpec) {
        self.specs.insert(cid.to_owned(), spec);
    }

    /// Sends one message, checked against the dialog rules first.
    pub fn send(&mut self, msg: &Msg<'_>) -> Result<(), SendError> {
        if self.closed {
            return Err(SendError::Closed);
        }
        if !self.can_send() {
            return Err(SendError::Full);
        }
        let body = msg.to_vec()?;
        match self.machine.handle_frame(self.me, msg) {
            Ok(_) => {
                self.queue(body);
                Ok(())
            }
            Err(v) => Err(SendError::Rule(v)),
        }
    }

    /// Starts a dialog: sends `Start{ns, func, kwargs}` under a fresh cid
    /// and returns the cid. With `spec`, the callee's payloads on it are
    /// limited ([`set_pld_spec`](Channel::set_pld_spec)).
    pub fn start(
        &mut self,
        ns: &str,
        func: &str,
        kwargs: StrMap<'_>,
        spec: Option<PldSpec>,
    ) -> Result<String, SendError> {
        self.next_cid += 1;
        let cid = format!("{}-{}", self.uid.uuid, self.next_cid);
        let start = Start::new(cid.as_str(), ns, func, kwargs, self.uid.clone());
        self.send(&Msg::Start(start))?;
        if let Some(spec) = spec {
            self.set_pld_spec(&cid, spec);
        }
        Ok(cid)
    }

    /// Answers a refused `Start` with an `Error` boxing `RuntimeError`
    /// (what the caller raises as a remote error), with the machine's
    /// leave. Only while the send queue has room: a caller flooding Starts
    /// without reading gets no more answers than the queue holds.
    fn refuse(&mut self, cid: &str, why: &str) {
        if !self.can_send() {
            return;
        }
        self.machine.refuse(self.me, cid);
        let me = self.uid.clone();
        let mut e = crate::Error::new(me.clone(), "RuntimeError", "RuntimeError", vec![me]);
        e.cid = Some(cid.to_owned().into());
        e.message = Some(format!("refused: {why}").into());
        let msg = Msg::from(e);
        if let (Ok(body), Ok(_)) = (msg.to_vec(), self.machine.handle_frame(self.me, &msg)) {
            self.queue(body);
        }
    }

    fn peer_end(&self) -> End {
        match self.me {
            End::A => End::B,
            End::B => End::A,
        }
    }

    fn queue(&mut self, body: Vec<u8>) {
        self.queued_bytes += body.len();
        self.transmit.push_back(body);
    }
}

/// The cid of a frame that is a map tagged `Start` with a str `cid`,
/// however malformed its other fields.
fn start_cid(body: &[u8]) -> Option<String> {
    let mut r = crate::msgpack::Reader::new(body);
    let n = r.map_len().ok()??;
    let mut tag = None;
    let mut cid = None;
    for _ in 0..n.min(64) {
        let key = r.str().ok()?;
        match key {
            "msg_type" => tag = Some(r.str().ok()?),
            "cid" => cid = Some(r.str().ok()?),
            _ => r.skip_values(1).ok()?,
        }
        if tag.is_some() && cid.is_some() {
            break;
        }
    }
    (tag? == "Start").then(|| cid.map(str::to_owned))?
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Functype, Return, StartAck, Started, Stop, Yield};

    /// Two channel ends connected in memory (quinn's `Pair`): every body
    /// one transmits is handed to the other, deterministically.
    struct Pair {
        a: Channel,
        b: Channel,
        now: Instant,
    }

    impl Pair {
        fn new() -> Pair {
            let now = Instant::now();
            let mut p = Pair {
                a: Channel::new(
                    End::A,
                    &Aid::new("caller", "ua"),
                    ChannelConfig::default(),
                    now,
                ),
                b: Channel::new(
                    End::B,
                    &Aid::new("callee", "ub"),
                    ChannelConfig::default(),
                    now,
                ),
                now,
            };
            p.drive();
            assert!(matches!(
                p.b.poll_event(),
                Some(Event::Handshake { probe: false, .. })
            ));
            assert!(matches!(p.a.poll_event(), Some(Event::Handshake { .. })));
            p
        }

        fn drive(&mut self) {
            loop {
                let mut moved = false;
                while let Some(body) = self.a.poll_transmit() {
                    self.b.handle_frame(&body, self.now);
                    moved = true;
                }
                while let Some(body) = self.b.poll_transmit() {
                    self.a.handle_frame(&body, self.now);
                    moved = true;
                }
                if !moved {
                    return;
                }
            }
        }
    }

    fn frame(e: Option<Event>) -> Incoming {
        match e {
            Some(Event::Frame(f)) => f,
            other => panic!("expected a frame, got {other:?}"),
        }
    }

    #[test]
    fn a_context_dialog_runs_end_to_end_in_memory() {
        let mut p = Pair::new();
        let cid =
            p.a.start("__main__", "doubler", StrMap::empty(), None)
                .unwrap();
        p.drive();
        let start = frame(p.b.poll_event());
        assert!(matches!(start.meaning, Meaning::Open(_)));
        p.b.send(&Msg::StartAck(StartAck::new(
            cid.as_str(),
            Functype::Context,
        )))
        .unwrap();
        p.b.send(&Msg::Started(Started::new(cid.as_str(), Raw::nil())))
            .unwrap();
        p.drive();
        assert_eq!(
            frame(p.a.poll_event()).meaning,
            Meaning::Ack(Functype::Context)
        );
        assert_eq!(frame(p.a.poll_event()).meaning, Meaning::Started);
        p.a.send(&Msg::Yield(Yield::new(
            cid.as_str(),
            Raw::encode(&21).unwrap(),
        )))
        .unwrap();
        p.a.send(&Msg::Stop(Stop::new(cid.as_str()))).unwrap();
        p.drive();
        let y = frame(p.b.poll_event());
        assert_eq!(y.pld().unwrap().decode::<i32>().unwrap(), 21);
        assert!(matches!(
            frame(p.b.poll_event()).meaning,
            Meaning::Stop { .. }
        ));
        p.b.send(&Msg::Return(Return::new(
            cid.as_str(),
            Raw::encode("done").unwrap(),
        )))
        .unwrap();
        p.drive();
        assert_eq!(frame(p.a.poll_event()).meaning, Meaning::Return);
        assert_eq!(p.a.open_dialogs(), 0);
        assert_eq!(p.b.open_dialogs(), 0);
    }

    #[test]
    fn a_start_over_the_open_dialog_cap_is_answered_with_an_error() {
        let mut p = Pair::new();
        let mut cfg = ChannelConfig::default();
        cfg.rules.max_open_dialogs = 2;
        p.b = Channel::new(End::B, &Aid::new("callee", "ub"), cfg, p.now);
        p.a = Channel::new(
            End::A,
            &Aid::new("caller", "ua"),
            ChannelConfig::default(),
            p.now,
        );
        p.drive();
        while p.a.poll_event().is_some() {}
        while p.b.poll_event().is_some() {}
        let cids: Vec<String> = (0..3)
            .map(|_| {
                p.a.start("__main__", "sleeper", StrMap::empty(), None)
                    .unwrap()
            })
            .collect();
        p.drive();
        // The callee sees two dialogs open and the third refused.
        assert!(matches!(frame(p.b.poll_event()).meaning, Meaning::Open(_)));
        assert!(matches!(frame(p.b.poll_event()).meaning, Meaning::Open(_)));
        match p.b.poll_event() {
            Some(Event::Violation(v)) => assert_eq!(v.code, crate::dialog::Code::TooManyDialogs),
            other => panic!("{other:?}"),
        }
        // The caller got an Error for the third, through its own rules.
        let e = frame(p.a.poll_event());
        assert_eq!(e.meaning, Meaning::Error);
        assert_eq!(e.cid.as_deref(), Some(cids[2].as_str()));
        let Ok(Msg::Error(err)) = e.msg() else {
            panic!("not an Error")
        };
        assert_eq!(err.boxed_type_str, "RuntimeError");
        assert!(err
            .message
            .as_deref()
            .is_some_and(|m| m.starts_with("refused: more than 2 dialogs open")));
        assert_eq!(p.a.open_dialogs(), 2);
        // One answer per refusal: a second Error on that cid is not allowed.
        let mut again = crate::Error::new(
            Uid::new("callee", "ub"),
            "RuntimeError",
            "RuntimeError",
            vec![Uid::new("callee", "ub")],
        );
        again.cid = Some(cids[2].clone().into());
        assert!(matches!(
            p.b.send(&Msg::from(again)),
            Err(SendError::Rule(_))
        ));
    }

    #[test]
    fn a_malformed_start_is_answered_with_an_error() {
        let mut p = Pair::new();
        p.drive();
        while p.b.poll_event().is_some() {}
        while p.b.poll_transmit().is_some() {}
        // A Start whose `kwargs` is a list: undecodable, but its cid reads.
        let mut body = Vec::new();
        crate::msgpack::write::map_len(&mut body, 3);
        crate::msgpack::write::str(&mut body, "msg_type");
        crate::msgpack::write::str(&mut body, "Start");
        crate::msgpack::write::str(&mut body, "cid");
        crate::msgpack::write::str(&mut body, "c1");
        crate::msgpack::write::str(&mut body, "kwargs");
        crate::msgpack::write::array_len(&mut body, 0);
        p.b.handle_frame(&body, p.now);
        assert!(matches!(p.b.poll_event(), Some(Event::Undecodable(_))));
        let answer = p.b.poll_transmit().expect("an answer");
        let Ok(Msg::Error(err)) = Msg::decode(&answer) else {
            panic!("not an Error")
        };
        assert_eq!(err.cid.as_deref(), Some("c1"));
        assert!(
            err.message
                .as_deref()
                .is_some_and(|m| m.starts_with("refused: a malformed Start: ")),
            "{:?}",
            err.message
        );
        // Anything else undecodable, or a Start without a readable cid, is
        // not answered.
        for bad in [
            &[0xc1][..],
            &[
                0x81, 0xa8, b'm', b's', b'g', b'_', b't', b'y', b'p', b'e', 0xa5, b'S', b't', b'a',
                b'r', b't',
            ],
        ] {
            p.b.handle_frame(bad, p.now);
            assert!(p.b.poll_transmit().is_none());
        }
    }

    #[test]
    fn a_message_that_breaks_a_rule_is_refused_and_never_sent() {
        let mut p = Pair::new();
        // A Return for a dialog nobody started.
        let err =
            p.b.send(&Msg::Return(Return::new("nobody", Raw::nil())))
                .unwrap_err();
        assert!(matches!(err, SendError::Rule(_)), "{err}");
        assert!(p.b.poll_transmit().is_none());
    }

    #[test]
    fn a_peer_frame_that_breaks_a_rule_is_dropped_and_reported() {
        let mut p = Pair::new();
        let bad = Msg::Yield(Yield::new("nobody", Raw::nil()))
            .to_vec()
            .unwrap();
        p.b.handle_frame(&bad, p.now);
        assert!(matches!(p.b.poll_event(), Some(Event::Violation(_))));
        p.b.handle_frame(&[0xc1], p.now);
        assert!(matches!(p.b.poll_event(), Some(Event::Undecodable(_))));
    }

    #[test]
    fn payloads_that_break_the_dialog_spec_are_rejected() {
        let mut p = Pair::new();
        let spec = PldSpec::parse("int", &serde_json::Value::Null).unwrap();
        let cid =
            p.a.start("__main__", "counter", StrMap::empty(), Some(spec))
                .unwrap();
        p.drive();
        let _ = p.b.poll_event();
        p.b.send(&Msg::StartAck(StartAck::new(
            cid.as_str(),
            Functype::AsyncGen,
        )))
        .unwrap();
        p.b.send(&Msg::Yield(Yield::new(
            cid.as_str(),
            Raw::encode(&1).unwrap(),
        )))
        .unwrap();
        p.b.send(&Msg::Yield(Yield::new(
            cid.as_str(),
            Raw::encode("two").unwrap(),
        )))
        .unwrap();
        p.drive();
        let _ack = frame(p.a.poll_event());
        let _one = frame(p.a.poll_event());
        match p.a.poll_event() {
            Some(Event::PayloadRejected { error, .. }) => {
                assert_eq!(error.to_string(), "Expected `int`, got `str`")
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_send_queue_is_bounded() {
        let now = Instant::now();
        let config = ChannelConfig {
            max_queued_bytes: 64,
            ..ChannelConfig::default()
        };
        let mut a = Channel::new(End::A, &Aid::new("a", "ua"), config, now);
        let mut b = Channel::new(End::B, &Aid::new("b", "ub"), ChannelConfig::default(), now);
        while let Some(x) = a.poll_transmit() {
            b.handle_frame(&x, now);
        }
        while let Some(x) = b.poll_transmit() {
            a.handle_frame(&x, now);
        }
        let mut sent = 0;
        while a.can_send() {
            a.start("__main__", "ok", StrMap::empty(), None).unwrap();
            sent += 1;
            assert!(sent < 10);
        }
        assert!(matches!(
            a.start("__main__", "ok", StrMap::empty(), None),
            Err(SendError::Full)
        ));
        assert!(a.poll_transmit().is_some());
    }

    #[test]
    fn a_silent_peer_is_dropped_after_the_handshake_timeout() {
        let now = Instant::now();
        let mut a = Channel::new(End::A, &Aid::new("a", "ua"), ChannelConfig::default(), now);
        let at = a.poll_timeout().unwrap();
        a.handle_timeout(now);
        assert!(!a.is_closed());
        a.handle_timeout(at);
        assert!(a.is_closed());
        let _ = a.poll_transmit();
        assert!(matches!(a.poll_event(), Some(Event::Closed(_))));
    }
}
