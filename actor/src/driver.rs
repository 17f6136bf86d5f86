//! The task that drives one channel (quinn's `ConnectionDriver`): it owns
//! the sans-IO [`Channel`] engine and the socket, runs the endpoints the
//! peer calls, and routes frames to the handles of the dialogs this actor
//! called. Handles talk to it over bounded queues only.
//!
//! Backpressure: a frame is delivered to its dialog's bounded inbox; while
//! an inbox is full the driver stops reading the socket (the peer then
//! blocks on TCP) but keeps serving commands, so a handle that sends while
//! it does not read cannot deadlock the channel. Commands are taken only
//! while the engine's send queue has room, and the queue drains into a
//! bounded writer: a peer that stops reading blocks our endpoints' sends,
//! never our memory.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt as _};
use shuttle::dialog::{Channel, Event, Incoming, Meaning, Role, Rpc, SendError};
use shuttle::pld_spec::PldSpec;
use shuttle::{
    CancelAck, Error as ErrorMsg, Functype, Msg, Raw, Return, StartAck, Stop, StrMap, Uid, Yield,
};
use tokio::sync::{mpsc, oneshot};
use tokio_util::codec::{FramedRead, FramedWrite};

use crate::actor::{cancelled, Handler, Inner};
use crate::context::Context;
use crate::error::{EndpointError, Error};
use crate::tap::Direction;
use crate::transport::{self, Stream};

/// Frames buffered per dialog before the driver stops reading the socket.
const INBOX: usize = 64;
/// Commands buffered per channel.
pub(crate) const COMMANDS: usize = 64;
/// Frames buffered for the socket writer.
const WRITES: usize = 16;
/// How long a cancelled actor's spawn channel waits for the child to
/// close it after `self.cancel`.
const CHILD_GRACE: std::time::Duration = std::time::Duration::from_secs(3);

/// What a handle asks of the driver.
pub(crate) enum Cmd {
    /// Send a message of a dialog.
    Send(Msg<'static>),
    /// A callee context opened its stream (so that ending or cancelling it
    /// sends `Stop`).
    StreamOpened(String),
    /// A callee context took the caller's `Stop`: its stream is closed
    /// without a `Stop` back.
    StreamClosed(String),
    /// A callee task ended with this result.
    Finish {
        cid: String,
        result: Result<Raw<'static>, EndpointError>,
    },
    /// Start a dialog as the caller.
    Start {
        ns: String,
        func: String,
        kwargs: StrMap<'static>,
        spec: Option<PldSpec>,
        reply: oneshot::Sender<Result<Dialog, Error>>,
    },
    /// Ask the peer to cancel one of the dialogs this end called
    /// (`self._cancel_task`).
    CancelTask(String),
    /// Close the channel (its dialogs end as on the peer's close).
    Close,
}

/// A frame for a dialog's handle.
#[derive(Debug)]
pub(crate) enum Inbound {
    /// An accepted frame.
    Frame(Incoming),
    /// A frame whose payload broke the dialog's payload spec.
    Rejected(String),
}

/// The caller's end of one dialog.
#[derive(Debug)]
pub(crate) struct Dialog {
    pub(crate) cid: String,
    pub(crate) inbox: mpsc::Receiver<Inbound>,
    pub(crate) cmd: mpsc::Sender<Cmd>,
}

impl Dialog {
    /// The next frame of the dialog.
    pub(crate) async fn next(&mut self) -> Result<Incoming, Error> {
        match self.inbox.recv().await {
            Some(Inbound::Frame(f)) => Ok(f),
            Some(Inbound::Rejected(why)) => Err(Error::Payload(why)),
            None => Err(Error::ChannelClosed),
        }
    }
}

/// The channel's commands and the peer's identity, for a [`Portal`](crate::Portal).
#[derive(Clone, Debug)]
pub(crate) struct ChannelHandle {
    pub(crate) cmd: mpsc::Sender<Cmd>,
    pub(crate) peer: Uid<'static>,
}

struct Route {
    /// Where the dialog's frames go (`None`: nobody listens, e.g. our own
    /// `_cancel_task` requests).
    tx: Option<mpsc::Sender<Inbound>>,
    role: Role,
    functype: Option<Functype>,
    func: String,
    /// A callee task running the endpoint.
    task: Option<tokio::task::AbortHandle>,
    /// A callee context whose stream is open (ending it sends `Stop`).
    stream_open: bool,
}

struct Driver {
    actor: Arc<Inner>,
    engine: Channel,
    routes: HashMap<String, Route>,
    cmd_tx: mpsc::Sender<Cmd>,
    /// A frame waiting for room in its dialog's inbox.
    pending: Option<(mpsc::Sender<Inbound>, Inbound)>,
    handshake: Option<oneshot::Sender<Result<Uid<'static>, Error>>>,
    /// `self.cancel` was answered: stop the actor once it is flushed.
    exit_after_flush: bool,
    /// The peer is a child this actor spawned (this is its spawn channel).
    child: bool,
    /// The actor was cancelled and sent its child `self.cancel`: the
    /// channel closes when the child closes it, or at this deadline.
    close_by: Option<tokio::time::Instant>,
}

/// Runs one channel until it ends. `handshake` learns the peer's uid (or
/// why there is none).
pub(crate) async fn run(
    actor: Arc<Inner>,
    stream: Stream,
    me: shuttle::dialog::End,
    handshake: Option<oneshot::Sender<Result<Uid<'static>, Error>>>,
    cmd: (mpsc::Sender<Cmd>, mpsc::Receiver<Cmd>),
) {
    let (cmd_tx, mut cmd_rx) = cmd;
    let (read, write) = tokio::io::split(stream);
    let mut reader = FramedRead::new(read, transport::codec(actor.limits.max_frame));
    let (writer_tx, mut writer_rx) = mpsc::channel::<Bytes>(WRITES);
    let max_frame = actor.limits.max_frame;
    let writer = tokio::spawn(async move {
        let mut w = FramedWrite::new(write, transport::codec(max_frame));
        while let Some(body) = writer_rx.recv().await {
            // Send now what is queued; flush once the queue is empty.
            if w.feed(body).await.is_err() {
                return;
            }
            while let Ok(more) = writer_rx.try_recv() {
                if w.feed(more).await.is_err() {
                    return;
                }
            }
            if SinkExt::<Bytes>::flush(&mut w).await.is_err() {
                return;
            }
        }
        let _ = SinkExt::<Bytes>::close(&mut w).await;
    });
    let tap = actor.tap.clone();
    let id = actor
        .channels
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    if let Some(t) = &tap {
        t.opened(id, me == shuttle::dialog::End::B);
    }
    let engine = Channel::new(me, &actor.aid, actor.limits.channel, Instant::now());
    let mut d = Driver {
        actor: actor.clone(),
        engine,
        routes: HashMap::new(),
        cmd_tx,
        pending: None,
        handshake,
        exit_after_flush: false,
        child: false,
        close_by: None,
    };
    let mut shutdown = actor.shutdown.subscribe();
    let mut out: Option<Vec<u8>> = None;
    let mut reading = true;
    loop {
        if out.is_none() {
            out = d.engine.poll_transmit();
        }
        if out.is_none() && d.exit_after_flush {
            d.exit_after_flush = false;
            let _ = actor.shutdown.send(true);
        }
        if d.engine.is_closed() && out.is_none() && d.pending.is_none() {
            break;
        }
        let deadline = d.engine.poll_timeout().map(tokio::time::Instant::from_std);
        let pending_tx = d.pending.as_ref().map(|(tx, _)| tx.clone());
        tokio::select! {
            biased;
            permit = writer_tx.reserve(), if out.is_some() => match permit {
                Ok(p) => {
                    let body = out.take().unwrap_or_default();
                    if let Some(t) = &tap {
                        t.frame(id, Direction::Sent, &body);
                    }
                    p.send(Bytes::from(body));
                }
                Err(_) => {
                    // The writer is gone: the socket failed.
                    out = None;
                    d.engine.handle_close(Instant::now());
                    d.pump();
                }
            },
            permit = async { pending_tx.unwrap().reserve_owned().await }, if pending_tx.is_some() => {
                if let (Ok(p), Some((_, item))) = (permit, d.pending.take()) {
                    p.send(item);
                }
                d.pump();
            },
            Some(cmd) = cmd_rx.recv(), if d.engine.can_send() => {
                d.command(cmd);
                d.pump();
            },
            frame = reader.next(), if reading && d.pending.is_none() && d.engine.wants_frames() => {
                match frame {
                    Some(Ok(body)) => {
                        if let Some(t) = &tap {
                            t.frame(id, Direction::Received, &body);
                        }
                        d.engine.handle_frame(&body, Instant::now())
                    }
                    Some(Err(e)) => {
                        tracing::debug!("channel with {:?} failed: {e}", d.engine.peer());
                        reading = false;
                        d.engine.handle_close(Instant::now());
                    }
                    None => {
                        reading = false;
                        d.engine.handle_close(Instant::now());
                    }
                }
                d.pump();
            },
            _ = async { tokio::time::sleep_until(deadline.unwrap_or_else(tokio::time::Instant::now)).await }, if deadline.is_some() => {
                d.engine.handle_timeout(Instant::now());
                d.pump();
            },
            _ = cancelled(&mut shutdown), if !d.engine.is_closed() && d.close_by.is_none() => {
                let me = d.engine.uid().clone();
                d.cancel_all(&me);
                if d.child {
                    // As tractor's nursery does when its actor is
                    // cancelled: cancel the child and give it time to
                    // unregister and close its channel.
                    d.cancel_child();
                    d.close_by = Some(tokio::time::Instant::now() + CHILD_GRACE);
                } else {
                    d.engine.close();
                }
                d.pump();
            },
            _ = async { tokio::time::sleep_until(d.close_by.unwrap_or_else(tokio::time::Instant::now)).await }, if d.close_by.is_some() && !d.engine.is_closed() => {
                d.engine.close();
                d.pump();
            },
        }
    }
    d.cancel_all_silently();
    if let Some(h) = d.handshake.take() {
        let _ = h.send(Err(Error::Handshake("the channel closed first".into())));
    }
    drop(writer_tx);
    let _ = writer.await;
    if let Some(t) = &tap {
        t.closed(id);
    }
}

impl Driver {
    /// Sends the child at the other end `self.cancel` (nobody waits for
    /// the answer: the child closes the channel once it is done).
    fn cancel_child(&mut self) {
        match self.engine.start("self", "cancel", StrMap::empty(), None) {
            Ok(cid) => {
                self.routes.insert(
                    cid,
                    Route {
                        tx: None,
                        role: Role::Caller,
                        functype: None,
                        func: "cancel".into(),
                        task: None,
                        stream_open: false,
                    },
                );
            }
            Err(e) => tracing::debug!("cannot cancel the child {:?}: {e}", self.engine.peer()),
        }
    }

    /// The spawn waiting for the child `peer`, if this channel is its.
    fn spawned(&self, peer: &Uid<'static>) -> Option<crate::spawn::Waiter> {
        self.actor
            .spawning
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&(peer.name.to_string(), peer.uuid.to_string()))
    }

    /// Handles the engine's events until there are none, or one waits for
    /// room in a full inbox.
    fn pump(&mut self) {
        while self.pending.is_none() {
            let Some(ev) = self.engine.poll_event() else {
                return;
            };
            match ev {
                Event::Handshake { peer, probe } => {
                    if probe {
                        // Our Aid answered it; a probe channel carries nothing more.
                        self.engine.close();
                    } else if let Some(h) = self.handshake.take() {
                        let _ = h.send(Ok(peer));
                    } else if let Some(w) = self.spawned(&peer) {
                        self.child = true;
                        // A child we spawned connected back: its SpawnSpec
                        // is the channel's second frame, then the parent's
                        // portal calls over it.
                        if let Err(e) = self.engine.send(&Msg::from(w.spec)) {
                            tracing::debug!("cannot send the SpawnSpec to {peer:?}: {e}");
                        }
                        let _ = w.tx.send(ChannelHandle {
                            cmd: self.cmd_tx.clone(),
                            peer,
                        });
                    }
                }
                Event::Frame(f) => self.frame(f),
                Event::PayloadRejected { frame, error } => {
                    let cid = frame.cid.clone().unwrap_or_default();
                    self.deliver(&cid, Inbound::Rejected(error.to_string()));
                }
                Event::Violation(v) | Event::Undecodable(v) => {
                    tracing::debug!("dropped a frame from {:?}: {v}", self.engine.peer());
                }
                Event::Closed(_) => {
                    // Handles learn it when their inbox closes.
                    let me = self.engine.uid().clone();
                    self.cancel_all(&me);
                    self.routes.clear();
                }
                _ => {}
            }
        }
    }

    fn frame(&mut self, f: Incoming) {
        let cid = f.cid.clone().unwrap_or_default();
        match &f.meaning {
            Meaning::Open(rpc) => {
                let rpc = rpc.clone();
                self.request(&f, rpc);
            }
            Meaning::SpawnSpec => {
                let waiting = self
                    .actor
                    .spawn_spec
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .take();
                match (waiting, f.msg()) {
                    (Some(tx), Ok(Msg::SpawnSpec(spec))) => {
                        let _ = tx.send(crate::child::ChildSpec::of(&spec));
                    }
                    _ => tracing::debug!("ignored a SpawnSpec from {:?}", self.engine.peer()),
                }
            }
            Meaning::RuntimeError => {
                tracing::debug!("ignored a {:?} from {:?}", f.meaning, self.engine.peer());
            }
            meaning => {
                let ends = matches!(
                    meaning,
                    Meaning::Return
                        | Meaning::Error
                        | Meaning::CancelAck
                        | Meaning::Stop { ends_dialog: true }
                );
                let caller_route = self
                    .routes
                    .get(&cid)
                    .is_some_and(|r| r.role == Role::Caller);
                if let (Meaning::Ack(ft), Some(r)) = (meaning, self.routes.get_mut(&cid)) {
                    r.functype = Some(*ft);
                }
                self.deliver(&cid, Inbound::Frame(f));
                if ends && caller_route {
                    self.routes.remove(&cid);
                }
            }
        }
    }

    fn deliver(&mut self, cid: &str, item: Inbound) {
        let Some(tx) = self.routes.get(cid).and_then(|r| r.tx.clone()) else {
            return;
        };
        match tx.try_send(item) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(item)) => self.pending = Some((tx, item)),
            // The handle was dropped: nobody wants the dialog's frames.
            Err(mpsc::error::TrySendError::Closed(_)) => {}
        }
    }

    fn send(&mut self, msg: Msg<'_>) {
        match self.engine.send(&msg) {
            Ok(()) => {}
            Err(SendError::Rule(v)) => tracing::debug!("not sent: {v}"),
            Err(e) => tracing::debug!("not sent: {e}"),
        }
    }

    fn error_msg(&self, cid: &str, func: &str, e: &EndpointError) -> Msg<'static> {
        let me = self.engine.uid().clone();
        let mut err = ErrorMsg::new(
            me.clone(),
            e.type_name.clone(),
            e.type_name.clone(),
            vec![me],
        );
        err.message = Some("".into());
        // Python's traceback names a class by its module unless it is a
        // builtin; tractor's own exceptions live in `tractor._exceptions`.
        let module = match e.type_name.as_str() {
            "ModuleNotExposed" | "ContextCancelled" | "MsgTypeError" | "StreamOverrun" => {
                "tractor._exceptions."
            }
            _ => "",
        };
        err.tb_str = format!(
            "Traceback (most recent call last):\n  File \"shuttle-actor\", in {func}\n{module}{e}\n"
        )
        .into();
        err.cid = Some(cid.to_string().into());
        Msg::from(err)
    }

    fn ctxc_msg(&self, cid: &str, func: &str, canceller: &Uid<'_>) -> Msg<'static> {
        let me = self.engine.uid().clone();
        let message = format!(
            "'child'-side task was cancelled by its 'parent'-side peer\n<= canceller: ('{}', '{}')\n=> cancellee: ('{}', '{}')\n  |_'child' <Task '{func}'>",
            canceller.name, canceller.uuid, me.name, me.uuid
        );
        let mut err = ErrorMsg::new(me.clone(), "ContextCancelled", "ContextCancelled", vec![me]);
        err.message = Some(message.clone().into());
        err.tb_str = format!(
            "Traceback (most recent call last):\n  File \"shuttle-actor\", in {func}\ntractor._exceptions.ContextCancelled: {message}\n"
        )
        .into();
        err.canceller = Some(canceller.clone().into_owned());
        err.cid = Some(cid.to_string().into());
        Msg::from(err)
    }

    /// A `Start` from the peer.
    fn request(&mut self, f: &Incoming, rpc: Rpc) {
        let Ok(Msg::Start(start)) = f.msg() else {
            return;
        };
        let cid = start.cid.to_string();
        let requester = start.uid.clone().into_owned();
        let kwargs = start.kwargs.clone().into_owned();
        drop(start);
        match rpc {
            Rpc::ActorCancel => {
                self.cancel_all(&requester);
                self.send(Msg::from(StartAck::new(cid.clone(), Functype::AsyncFunc)));
                self.send(Msg::from(CancelAck::new(cid, true)));
                self.exit_after_flush = true;
            }
            Rpc::TaskCancel { target } => {
                self.send(Msg::from(StartAck::new(cid.clone(), Functype::AsyncFunc)));
                self.cancel_task(&target, &requester);
                self.send(Msg::from(CancelAck::new(cid, true)));
            }
            Rpc::Runtime { func }
                if self
                    .actor
                    .endpoints
                    .contains_key(&("self".to_string(), func.clone())) =>
            {
                // A runtime method this actor serves (the registrar's).
                self.spawn_endpoint(cid, "self".into(), func, kwargs)
            }
            Rpc::Runtime { func } => {
                let e = EndpointError::new(
                    "AttributeError",
                    format!("'Actor' object has no attribute '{func}'"),
                );
                let msg = self.error_msg(&cid, &func, &e);
                self.send(msg);
            }
            Rpc::App { ns, func } => self.spawn_endpoint(cid, ns, func, kwargs),
        }
    }

    fn spawn_endpoint(&mut self, cid: String, ns: String, func: String, kwargs: StrMap<'static>) {
        let handler = match self.actor.endpoints.get(&(ns.clone(), func.clone())) {
            Some(h) => h.clone(),
            None => {
                let e = if self.actor.endpoints.keys().any(|(n, _)| *n == ns) {
                    EndpointError::new(
                        "AttributeError",
                        format!("module '{ns}' has no attribute '{func}'"),
                    )
                } else {
                    EndpointError::new(
                        "ModuleNotExposed",
                        format!("{ns}\n\nMake sure you exposed the target module, `{ns}`, using:\nActorNursery.start_actor(<name>, enable_modules=['{ns}'])"),
                    )
                };
                let msg = self.error_msg(&cid, &func, &e);
                self.send(msg);
                return;
            }
        };
        let cap = self.actor.limits.max_arg_values;
        if let Err(n) = crate::args::count_values(kwargs.raw().as_bytes(), cap) {
            // Decoding them could cost many times the frame (a pointer or
            // more per one-byte nil); refuse before any is built.
            let e = EndpointError::new(
                "ValueError",
                format!("{func}(): the arguments hold more than {cap} values ({n} counted before giving up); this actor takes at most {cap}"),
            );
            let msg = self.error_msg(&cid, &func, &e);
            self.send(msg);
            return;
        }
        let functype = handler.functype();
        let spec = self.actor.specs.get(&(ns, func.clone())).cloned();
        if let Some(spec) = &spec {
            self.engine.set_pld_spec(&cid, spec.clone());
        }
        self.send(Msg::from(StartAck::new(cid.clone(), functype)));
        let cmd = self.cmd_tx.clone();
        let (tx, rx) = if functype == Functype::Context {
            let (tx, rx) = mpsc::channel(INBOX);
            (Some(tx), Some(rx))
        } else {
            (None, None)
        };
        let task_cid = cid.clone();
        let mut ready = self.actor.ready.subscribe();
        let task = tokio::spawn(async move {
            // A spawned child serves its parent's calls once registered.
            let _ = ready.wait_for(|r| *r).await;
            let result = match handler {
                Handler::Func(f) => f(kwargs).await,
                Handler::Context(f) => {
                    let ctx = Context::new(task_cid.clone(), cmd.clone(), rx, spec);
                    f(ctx, kwargs).await
                }
                Handler::Stream(f) => match f(kwargs) {
                    Ok(mut items) => loop {
                        match items.next().await {
                            Some(Ok(pld)) => {
                                let y = Msg::from(Yield::new(task_cid.clone(), pld));
                                if cmd.send(Cmd::Send(y)).await.is_err() {
                                    return;
                                }
                            }
                            Some(Err(e)) => break Err(e),
                            None => break Ok(Raw::nil()),
                        }
                    },
                    Err(e) => Err(e),
                },
            };
            let _ = cmd
                .send(Cmd::Finish {
                    cid: task_cid,
                    result,
                })
                .await;
        });
        self.routes.insert(
            cid,
            Route {
                tx,
                role: Role::Callee,
                functype: Some(functype),
                func,
                task: Some(task.abort_handle()),
                stream_open: false,
            },
        );
    }

    fn command(&mut self, cmd: Cmd) {
        match cmd {
            Cmd::Send(msg) => {
                if let Msg::Stop(s) = &msg {
                    if let Some(r) = self.routes.get_mut(s.cid.as_ref()) {
                        if r.role == Role::Callee {
                            r.stream_open = false;
                        }
                    }
                }
                self.send(msg);
            }
            Cmd::StreamOpened(cid) => {
                if let Some(r) = self.routes.get_mut(&cid) {
                    r.stream_open = true;
                }
            }
            Cmd::StreamClosed(cid) => {
                if let Some(r) = self.routes.get_mut(&cid) {
                    r.stream_open = false;
                }
            }
            Cmd::Finish { cid, result } => {
                let Some(r) = self.routes.remove(&cid) else {
                    return; // cancelled meanwhile
                };
                if r.stream_open {
                    self.send(Msg::from(Stop::new(cid.clone())));
                }
                match (r.functype, result) {
                    (_, Err(e)) => {
                        let msg = self.error_msg(&cid, &r.func, &e);
                        self.send(msg);
                    }
                    (Some(Functype::AsyncGen), Ok(_)) => self.send(Msg::from(Stop::new(cid))),
                    (_, Ok(pld)) => self.send(Msg::from(Return::new(cid, pld))),
                }
            }
            Cmd::Start {
                ns,
                func,
                kwargs,
                spec,
                reply,
            } => {
                let r = match self.engine.start(&ns, &func, kwargs, spec) {
                    Ok(cid) => {
                        let (tx, rx) = mpsc::channel(INBOX);
                        self.routes.insert(
                            cid.clone(),
                            Route {
                                tx: Some(tx),
                                role: Role::Caller,
                                functype: None,
                                func,
                                task: None,
                                stream_open: false,
                            },
                        );
                        Ok(Dialog {
                            cid,
                            inbox: rx,
                            cmd: self.cmd_tx.clone(),
                        })
                    }
                    Err(SendError::Closed) => Err(Error::ChannelClosed),
                    Err(e) => Err(Error::Protocol(e.to_string())),
                };
                let _ = reply.send(r);
            }
            Cmd::Close => {
                let me = self.engine.uid().clone();
                self.cancel_all(&me);
                self.engine.close();
            }
            Cmd::CancelTask(target) => {
                if !self.routes.contains_key(&target) {
                    return; // already ended
                }
                #[derive(serde::Serialize)]
                struct Target<'a> {
                    cid: &'a str,
                }
                let Ok(kwargs) = StrMap::encode(&Target { cid: &target }) else {
                    return;
                };
                if let Ok(cid) = self.engine.start("self", "_cancel_task", kwargs, None) {
                    self.routes.insert(
                        cid,
                        Route {
                            tx: None,
                            role: Role::Caller,
                            functype: None,
                            func: "_cancel_task".into(),
                            task: None,
                            stream_open: false,
                        },
                    );
                }
            }
        }
    }

    /// Cancels one callee task on behalf of `requester`: a context gets
    /// `Stop` (if its stream is open) and a `ContextCancelled` error, an
    /// asyncgen a `Stop`, an asyncfunc nothing (as tractor does).
    fn cancel_task(&mut self, cid: &str, requester: &Uid<'_>) {
        let Some(r) = self.routes.get(cid) else {
            return;
        };
        if r.role != Role::Callee {
            return;
        }
        let Some(r) = self.routes.remove(cid) else {
            return;
        };
        if let Some(t) = &r.task {
            t.abort();
        }
        match r.functype {
            Some(Functype::Context) => {
                if r.stream_open {
                    self.send(Msg::from(Stop::new(cid.to_string())));
                }
                let msg = self.ctxc_msg(cid, &r.func, requester);
                self.send(msg);
            }
            Some(Functype::AsyncGen) => self.send(Msg::from(Stop::new(cid.to_string()))),
            _ => {}
        }
    }

    fn cancel_all(&mut self, requester: &Uid<'_>) {
        let callee: Vec<String> = self
            .routes
            .iter()
            .filter(|(_, r)| r.role == Role::Callee)
            .map(|(c, _)| c.clone())
            .collect();
        for cid in callee {
            self.cancel_task(&cid, requester);
        }
    }

    fn cancel_all_silently(&mut self) {
        for r in self.routes.values() {
            if let Some(t) = &r.task {
                t.abort();
            }
        }
        self.routes.clear();
    }
}
