//! `shuttle serve`: a reference actor built on the message crate. It
//! answers the handshake, ignores a `SpawnSpec`, serves `Start`s
//! concurrently per channel by cid and implements the `__main__` test
//! endpoints of the recorded scenarios (so that the recorded dialogs replay
//! against it), plus the runtime RPCs `self.cancel` and `self._cancel_task`.
//!
//! Differences from a Python tractor actor, on purpose:
//!
//! * hostile frames are rejected (logged and skipped, or the channel is
//!   closed when the framing itself is broken) and never take the actor
//!   down (protocol reference §8.2);
//! * `self.cancel` cancels the tasks of the requesting channel and closes
//!   that channel, and the actor keeps serving other and later channels
//!   (a Python actor exits);
//! * when a channel drops, its tasks are cancelled.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use shuttle::{
    Aid, CancelAck, Error as ErrorMsg, Functype, Msg, Raw, Return, Start, StartAck, Started, Stop,
    Uid, Yield,
};
use tokio::sync::mpsc;

use super::record;
use super::transport::{self, Address, Conn, FrameReader, Listener, ReadError, MAX_FRAME};

/// Arguments of `shuttle serve`.
#[derive(clap::Args, Debug, Clone)]
pub struct Args {
    /// Listen on this address (`tcp://HOST:PORT`, port 0 for any free
    /// port; `uds:///PATH`). The bound address is printed as
    /// `listening on ADDR`.
    #[arg(long, value_name = "ADDR", conflicts_with = "connect")]
    pub listen: Option<Address>,
    /// Connect to a harness listening here (`shuttle replay --listen`),
    /// serve that channel, and connect again when it ends.
    #[arg(long, value_name = "ADDR")]
    pub connect: Option<Address>,
    /// The actor name announced in the handshake.
    #[arg(long, default_value = "shuttle")]
    pub name: String,
    /// Largest frame body accepted, in bytes.
    #[arg(long, default_value_t = MAX_FRAME)]
    pub max_frame: usize,
    /// Exit once a channel was cancelled with `self.cancel` (as a tractor
    /// actor does) instead of serving on.
    #[arg(long)]
    pub exit_on_cancel: bool,
    /// Log nothing to stderr.
    #[arg(short, long)]
    pub quiet: bool,
    /// Record every channel: when a channel ends, write every frame read
    /// and written on it to `DIR/channel-NNNN-PEER.json`, a
    /// `tractor-capture/1` file that `shuttle check` reads.
    #[arg(long, value_name = "DIR")]
    pub record: Option<std::path::PathBuf>,
    /// Misbehave on purpose (for testing the harness): `wrong-add` (add
    /// returns x+y+1), `hang` (never answers a Start), `die-on-garbage`
    /// (exit on any frame that is not a message).
    #[arg(long, hide = true)]
    pub misbehave: Option<Misbehave>,
}

/// Deliberate faults of `shuttle serve --misbehave`.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Misbehave {
    /// `add` answers `x + y + 1`.
    WrongAdd,
    /// `Start`s are never answered.
    Hang,
    /// The process exits on a frame that does not decode.
    DieOnGarbage,
}

/// Runs `shuttle serve` until killed.
pub fn run(args: &Args) -> anyhow::Result<bool> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(serve(args.clone()))
}

struct Actor {
    me: Uid<'static>,
    aid: Vec<u8>,
    args: Args,
    /// Channels served so far (numbers the recordings).
    channels: std::sync::atomic::AtomicU64,
}

impl Actor {
    fn log(&self, what: impl AsRef<str>) {
        if !self.args.quiet {
            eprintln!("shuttle serve [{}]: {}", self.me.name, what.as_ref());
        }
    }
}

async fn serve(args: Args) -> anyhow::Result<bool> {
    let me = Uid::new(args.name.clone(), fresh_uuid());
    let mut aid = Aid::new(me.name.clone(), me.uuid.clone());
    aid.pid = Some(shuttle::Int::U(std::process::id().into()));
    aid.is_registrar = Some(false);
    let aid = aid.to_vec();
    if let Some(dir) = &args.record {
        std::fs::create_dir_all(dir).map_err(|e| {
            anyhow::anyhow!("--record {}: cannot create the folder: {e}", dir.display())
        })?;
    }
    let actor = Arc::new(Actor {
        me,
        aid,
        args,
        channels: Default::default(),
    });
    if let Some(addr) = &actor.args.listen {
        let listener = Listener::bind(addr).await?;
        println!("listening on {}", listener.local_addr());
        use std::io::Write as _;
        std::io::stdout().flush()?;
        loop {
            match listener.accept().await {
                Ok(conn) => {
                    tokio::spawn(channel(actor.clone(), conn));
                }
                Err(e) => {
                    actor.log(format!("accept failed: {e}"));
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
    } else if let Some(addr) = &actor.args.connect {
        let mut failing_since = None;
        loop {
            match transport::connect(addr).await {
                Ok(conn) => {
                    failing_since = None;
                    channel(actor.clone(), conn).await;
                }
                Err(e) => {
                    let since = *failing_since.get_or_insert_with(std::time::Instant::now);
                    if since.elapsed() > Duration::from_secs(10) {
                        actor.log(format!("giving up on {addr}: {e}"));
                        return Ok(true);
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
    } else {
        anyhow::bail!("serve needs --listen ADDR or --connect ADDR")
    }
}

/// A uuid4-form string from the system's randomness (or the clock).
fn fresh_uuid() -> String {
    let mut b = [0u8; 16];
    let ok = std::fs::File::open("/dev/urandom")
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut b))
        .is_ok();
    if !ok {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0)
            ^ u128::from(std::process::id()) << 64;
        b = t.to_le_bytes();
    }
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// A caller's frame routed to a running context.
enum Inbound {
    Yield(Raw<'static>),
    Stop,
}

struct TaskEntry {
    functype: Functype,
    func: String,
    inbox: Option<mpsc::UnboundedSender<Inbound>>,
    abort: tokio::task::AbortHandle,
    stream_open: bool,
}

type Tasks = Arc<Mutex<HashMap<String, TaskEntry>>>;
type Out = mpsc::UnboundedSender<Vec<u8>>;

fn send(out: &Out, msg: Msg<'_>) {
    match msg.to_vec() {
        Ok(body) => {
            let _ = out.send(body);
        }
        Err(e) => eprintln!("shuttle serve: cannot encode a reply: {e}"),
    }
}

/// An error as a Python exception would box it: class name and the text
/// of the last traceback line.
#[derive(Debug)]
struct PyErr {
    class: &'static str,
    text: String,
}

impl PyErr {
    fn new(class: &'static str, text: impl Into<String>) -> PyErr {
        PyErr {
            class,
            text: text.into(),
        }
    }
}

fn error_msg(actor: &Actor, cid: &str, func: &str, e: &PyErr) -> Msg<'static> {
    // Python's traceback names a class by its module unless it is a
    // builtin; tractor's own exceptions live in `tractor._exceptions`.
    let class = match e.class {
        "ModuleNotExposed" | "ContextCancelled" | "MsgTypeError" | "StreamOverrun" => {
            format!("tractor._exceptions.{}", e.class)
        }
        builtin => builtin.to_string(),
    };
    let line = if e.text.is_empty() {
        class
    } else {
        format!("{class}: {}", e.text)
    };
    let mut err = ErrorMsg::new(actor.me.clone(), e.class, e.class, vec![actor.me.clone()]);
    err.message = Some("".into());
    err.tb_str = format!(
        "Traceback (most recent call last):\n  File \"shuttle serve\", in {func}\n{line}\n"
    )
    .into();
    err.cid = Some(cid.to_string().into());
    Msg::from(err)
}

fn ctxc_msg(actor: &Actor, cid: &str, func: &str, canceller: &Uid<'_>) -> Msg<'static> {
    let message = format!(
        "'child'-side task was cancelled by its 'parent'-side peer\n                      ------ - ------\n<= canceller: ('{}', '{}')\n=> cancellee: ('{}', '{}')\n  |_'child' <Task '{func}'>",
        canceller.name, canceller.uuid, actor.me.name, actor.me.uuid
    );
    let mut err = ErrorMsg::new(
        actor.me.clone(),
        "ContextCancelled",
        "ContextCancelled",
        vec![actor.me.clone()],
    );
    err.message = Some(message.clone().into());
    err.tb_str = format!(
            "Traceback (most recent call last):\n  File \"shuttle serve\", in {func}\ntractor._exceptions.ContextCancelled: {message}\n"
        )
    .into();
    err.canceller = Some(canceller.clone().into_owned());
    err.cid = Some(cid.to_string().into());
    Msg::from(err)
}

/// Serves one channel until it ends.
async fn channel(actor: Arc<Actor>, conn: Conn) {
    let Conn { read, write, peer } = conn;
    let n = actor
        .channels
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let log = actor
        .args
        .record
        .as_ref()
        .map(|_| record::ChannelLog::default());
    let (out, mut out_rx) = mpsc::unbounded_channel::<Vec<u8>>();
    let sent = log.clone();
    let writer = tokio::spawn(async move {
        let mut w = write;
        while let Some(body) = out_rx.recv().await {
            if let Some(log) = &sent {
                log.frame(record::From::Me, &body);
            }
            if transport::write_frame(&mut w, &body).await.is_err() {
                break;
            }
        }
        let _ = tokio::io::AsyncWriteExt::shutdown(&mut w).await;
    });
    let mut reader = FrameReader::new(read, actor.args.max_frame);
    if let Some(log) = &log {
        reader.record(log.clone());
    }
    let tasks: Tasks = Arc::default();
    let _ = out.send(actor.aid.clone());
    let mut peer_end = None;
    // The handshake: the first frame must be the peer's Aid.
    let peer_uid = match tokio::time::timeout(Duration::from_secs(10), reader.next()).await {
        Ok(Ok(Some(body))) => match Msg::decode(&body) {
            Ok(Msg::Aid(a)) if a.is_probe => {
                actor.log(format!("{peer}: probe from {:?}, closing", a.name));
                peer_end = Some(record_end(&a));
                None
            }
            Ok(Msg::Aid(a)) => {
                peer_end = Some(record_end(&a));
                Some(a.uid().into_owned())
            }
            Ok(m) => {
                actor.log(format!(
                    "{peer}: handshake failed: first frame is a {}, not an Aid",
                    m.msg_type().as_str()
                ));
                None
            }
            Err(e) => {
                actor.log(format!("{peer}: handshake failed: {e}"));
                if actor.args.misbehave == Some(Misbehave::DieOnGarbage) {
                    std::process::exit(3);
                }
                None
            }
        },
        Ok(Ok(None)) => None,
        Ok(Err(e)) => {
            actor.log(format!("{peer}: handshake failed: {e}"));
            None
        }
        Err(_) => {
            actor.log(format!("{peer}: no handshake within 10 s"));
            None
        }
    };
    let mut cancelled = false;
    if let Some(peer_uid) = peer_uid {
        actor.log(format!("{peer}: channel with {}", show_uid(&peer_uid)));
        cancelled = messages(&actor, &mut reader, &out, &tasks, &peer_uid).await;
    }
    // Cancel what still runs, send what is queued and close our side.
    let running: Vec<TaskEntry> = tasks.lock().unwrap().drain().map(|(_, t)| t).collect();
    for t in running {
        t.abort.abort();
    }
    drop(out);
    let _ = writer.await;
    if cancelled {
        // Like tractor after `self.cancel`: the channel is closed; take
        // (and drop) what the peer still sends until it closes, bounded.
        // (Recorded: it is part of the channel.)
        let _ = tokio::time::timeout(Duration::from_secs(2), async {
            while let Ok(Some(_)) = reader.next().await {}
        })
        .await;
    }
    if let (Some(log), Some(dir)) = (&log, &actor.args.record) {
        let ends = record::Ends {
            me: record::End {
                name: actor.me.name.to_string(),
                uuid: actor.me.uuid.to_string(),
                pid: Some(std::process::id().into()),
                probe: false,
            },
            peer: peer_end.unwrap_or(record::End {
                name: "unknown".into(),
                uuid: "unknown".into(),
                pid: None,
                probe: false,
            }),
            accepted: actor.args.listen.is_some(),
            transport: match actor.args.listen.as_ref().or(actor.args.connect.as_ref()) {
                Some(Address::Uds(_)) => "uds",
                _ => "tcp",
            },
        };
        match record::write(dir, n, log, &ends) {
            Ok(path) => actor.log(format!("recorded {}", path.display())),
            Err(e) => actor.log(format!(
                "cannot write the recording into {}: {e}",
                dir.display()
            )),
        }
    }
    if cancelled && actor.args.exit_on_cancel {
        actor.log("cancelled: exiting");
        std::process::exit(0);
    }
}

fn record_end(a: &Aid<'_>) -> record::End {
    record::End {
        name: a.name.to_string(),
        uuid: a.uuid.to_string(),
        pid: a.pid.as_ref().and_then(|p| match p {
            shuttle::Int::U(u) => Some(*u),
            shuttle::Int::I(i) => u64::try_from(*i).ok(),
        }),
        probe: a.is_probe,
    }
}

fn show_uid(u: &Uid<'_>) -> String {
    format!("('{}', '{}')", u.name, u.uuid)
}

/// The message loop of one channel. Returns true when it ended by `self.cancel`.
async fn messages(
    actor: &Arc<Actor>,
    reader: &mut FrameReader,
    out: &Out,
    tasks: &Tasks,
    peer: &Uid<'static>,
) -> bool {
    loop {
        let body = match reader.next().await {
            Ok(Some(b)) => b,
            Ok(None) => {
                actor.log("peer closed the channel");
                return false;
            }
            Err(ReadError::Io(e)) => {
                actor.log(format!("channel failed: {e}"));
                return false;
            }
            Err(e) => {
                actor.log(format!("rejected: {e}; closing the channel"));
                if actor.args.misbehave == Some(Misbehave::DieOnGarbage) {
                    std::process::exit(3);
                }
                return false;
            }
        };
        let msg = match Msg::decode(&body) {
            Ok(m) => m,
            Err(e) => {
                actor.log(format!("rejected a {}-byte frame: {e}", body.len()));
                if actor.args.misbehave == Some(Misbehave::DieOnGarbage) {
                    std::process::exit(3);
                }
                continue;
            }
        };
        match msg {
            Msg::Start(start) => {
                if actor.args.misbehave == Some(Misbehave::Hang) {
                    continue;
                }
                if start.uid != *peer {
                    actor.log(format!(
                        "rejected Start cid={}: uid {} is not the channel's {}",
                        start.cid,
                        show_uid(&start.uid),
                        show_uid(peer)
                    ));
                    let e = PyErr::new("RuntimeError", "IPC <Start> msg <-> chan.aid mismatch!?");
                    send(out, error_msg(actor, &start.cid, &start.func, &e));
                    continue;
                }
                if tasks.lock().unwrap().contains_key(start.cid.as_ref()) {
                    let e = PyErr::new(
                        "RuntimeError",
                        format!("cid {} is already in use", start.cid),
                    );
                    send(out, error_msg(actor, &start.cid, &start.func, &e));
                    continue;
                }
                if start.ns == "self" {
                    if start.func == "cancel" {
                        self_cancel(actor, out, tasks, &start);
                        return true;
                    }
                    runtime_rpc(actor, out, tasks, &start);
                    continue;
                }
                start_task(actor, out, tasks, &start);
            }
            Msg::Yield(y) => {
                let t = tasks.lock().unwrap();
                match t.get(y.cid.as_ref()).and_then(|t| t.inbox.as_ref()) {
                    Some(inbox) => {
                        let _ = inbox.send(Inbound::Yield(y.pld.into_owned()));
                    }
                    None => actor.log(format!("ignored Yield for unknown cid {}", y.cid)),
                }
            }
            Msg::Stop(s) => {
                let t = tasks.lock().unwrap();
                match t.get(s.cid.as_ref()).and_then(|t| t.inbox.as_ref()) {
                    Some(inbox) => {
                        let _ = inbox.send(Inbound::Stop);
                    }
                    None => actor.log(format!("ignored Stop for cid {}", s.cid)),
                }
            }
            Msg::SpawnSpec(_) => actor.log("ignored a SpawnSpec"),
            Msg::Error(e) => actor.log(format!(
                "ignored an Error from the peer ({}, cid {:?}, relay_path of {})",
                e.boxed_type_str,
                e.cid,
                e.relay_path.len()
            )),
            other => actor.log(format!(
                "ignored a {} (this actor calls nobody)",
                other.msg_type().as_str()
            )),
        }
    }
}

/// Cancels one task on behalf of `requester`: a context gets `Stop` (if its
/// stream is open) and a `ContextCancelled` error, an asyncgen a `Stop`, an
/// asyncfunc nothing.
fn cancel_task(actor: &Actor, out: &Out, tasks: &Tasks, cid: &str, requester: &Uid<'_>) {
    let Some(t) = tasks.lock().unwrap().remove(cid) else {
        return;
    };
    t.abort.abort();
    match t.functype {
        Functype::Context => {
            if t.stream_open {
                send(out, Msg::from(Stop::new(cid)));
            }
            send(out, ctxc_msg(actor, cid, &t.func, requester));
        }
        Functype::AsyncGen => send(out, Msg::from(Stop::new(cid))),
        Functype::AsyncFunc => {}
    }
}

fn self_cancel(actor: &Actor, out: &Out, tasks: &Tasks, start: &Start<'_>) {
    actor.log(format!("self.cancel from {}", show_uid(&start.uid)));
    send(
        out,
        Msg::from(StartAck::new(start.cid.clone(), Functype::AsyncFunc)),
    );
    let mut cids: Vec<String> = tasks.lock().unwrap().keys().cloned().collect();
    cids.sort();
    for cid in cids {
        cancel_task(actor, out, tasks, &cid, &start.uid);
    }
    send(out, Msg::from(CancelAck::new(start.cid.clone(), true)));
}

fn runtime_rpc(actor: &Actor, out: &Out, tasks: &Tasks, start: &Start<'_>) {
    match start.func.as_ref() {
        "_cancel_task" => {
            let target = start
                .kwargs
                .iter()
                .find(|(k, _)| *k == "cid")
                .and_then(|(_, v)| v.decode::<String>().ok());
            let Some(target) = target else {
                let e = PyErr::new(
                    "TypeError",
                    "Actor._cancel_task() missing 1 required keyword argument: 'cid'",
                );
                send(out, error_msg(actor, &start.cid, &start.func, &e));
                return;
            };
            send(
                out,
                Msg::from(StartAck::new(start.cid.clone(), Functype::AsyncFunc)),
            );
            cancel_task(actor, out, tasks, &target, &start.uid);
            send(out, Msg::from(CancelAck::new(start.cid.clone(), true)));
        }
        other => {
            actor.log(format!("rejected unknown runtime method self.{other}"));
            let e = PyErr::new(
                "AttributeError",
                format!("'Actor' object has no attribute '{other}'"),
            );
            send(out, error_msg(actor, &start.cid, other, &e));
        }
    }
}

/// Parameters of the test endpoints: kind and `(name, required)` list.
fn signature(func: &str) -> Option<(Functype, &'static [(&'static str, bool)])> {
    use Functype::*;
    Some(match func {
        "add" => (AsyncFunc, &[("x", true), ("y", true)]),
        "boom" | "ok" | "exposed" => (AsyncFunc, &[]),
        "compute" => (AsyncFunc, &[("base", true), ("exp", true)]),
        "counter" => (AsyncGen, &[("n", true)]),
        "flaky_gen" => (AsyncGen, &[]),
        "greet" => (Context, &[("name", true)]),
        "doubler" | "point_doubler" | "sleeper" | "ticker" | "fails_early" | "fails_midstream"
        | "blob_echo" | "resolver" | "streamer" => (Context, &[]),
        "producer" => (Context, &[("count", true)]),
        "tagged_echo" => (Context, &[("tag", true)]),
        "echo" => (Context, &[("first", false)]),
        _ => return None,
    })
}

fn start_task(actor: &Arc<Actor>, out: &Out, tasks: &Tasks, start: &Start<'_>) {
    let func = start.func.to_string();
    if start.ns != "__main__" {
        let ns = &start.ns;
        let e = PyErr::new(
            "ModuleNotExposed",
            format!("{ns}\n\nMake sure you exposed the target module, `{ns}`, using:\nActorNursery.start_actor(<name>, enable_modules=['{ns}'])"),
        );
        send(out, error_msg(actor, &start.cid, &func, &e));
        return;
    }
    let Some((functype, params)) = signature(&func) else {
        let e = PyErr::new(
            "AttributeError",
            format!("module '__main__' has no attribute '{func}'"),
        );
        send(out, error_msg(actor, &start.cid, &func, &e));
        return;
    };
    let mut kwargs: HashMap<String, rmpv::Value> = HashMap::new();
    for (k, v) in start.kwargs.iter() {
        let Some((_, _)) = params.iter().find(|(p, _)| *p == k) else {
            let e = PyErr::new(
                "TypeError",
                format!("{func}() got an unexpected keyword argument '{k}'"),
            );
            send(out, error_msg(actor, &start.cid, &func, &e));
            return;
        };
        kwargs.insert(k.to_string(), v.to_value().unwrap_or(rmpv::Value::Nil));
    }
    let missing: Vec<String> = params
        .iter()
        .filter(|(p, req)| *req && !kwargs.contains_key(*p))
        .map(|(p, _)| format!("'{p}'"))
        .collect();
    if !missing.is_empty() {
        let e = PyErr::new(
            "TypeError",
            format!(
                "{func}() missing {} required positional argument{}: {}",
                missing.len(),
                if missing.len() == 1 { "" } else { "s" },
                missing.join(" and ")
            ),
        );
        send(out, error_msg(actor, &start.cid, &func, &e));
        return;
    }
    let cid = start.cid.to_string();
    send(out, Msg::from(StartAck::new(cid.clone(), functype)));
    let (inbox, inbox_rx) = if functype == Functype::Context {
        let (tx, rx) = mpsc::unbounded_channel();
        (Some(tx), Some(rx))
    } else {
        (None, None)
    };
    let ctx = Ctx {
        actor: actor.clone(),
        cid: cid.clone(),
        func: func.clone(),
        out: out.clone(),
        tasks: tasks.clone(),
        inbox: inbox_rx,
    };
    // On the current-thread runtime the task does not run before the entry
    // is in the table.
    let handle = tokio::spawn(async move {
        let mut ctx = ctx;
        let result = endpoint(&mut ctx, kwargs).await;
        ctx.finish(functype, result);
    });
    tasks.lock().unwrap().insert(
        cid,
        TaskEntry {
            functype,
            func,
            inbox,
            abort: handle.abort_handle(),
            stream_open: false,
        },
    );
}

/// What an endpoint task holds.
struct Ctx {
    actor: Arc<Actor>,
    cid: String,
    func: String,
    out: Out,
    tasks: Tasks,
    inbox: Option<mpsc::UnboundedReceiver<Inbound>>,
}

impl Ctx {
    fn send(&self, msg: Msg<'_>) {
        send(&self.out, msg)
    }

    fn started(&self, pld: Raw<'_>) {
        self.send(Msg::Started(Started::new(self.cid.as_str(), pld)));
    }

    fn open_stream(&self) {
        if let Some(t) = self.tasks.lock().unwrap().get_mut(&self.cid) {
            t.stream_open = true;
        }
    }

    fn yield_(&self, pld: Raw<'_>) {
        self.send(Msg::Yield(Yield::new(self.cid.as_str(), pld)));
    }

    fn close_stream(&self) {
        if let Some(t) = self.tasks.lock().unwrap().get_mut(&self.cid) {
            if t.stream_open {
                t.stream_open = false;
                self.send(Msg::from(Stop::new(self.cid.as_str())));
            }
        }
    }

    /// The caller's next stream frame (`None` when the channel is gone).
    /// Taking the caller's `Stop` closes the stream without a `Stop` back
    /// (a `Stop` that is never taken leaves it open, as in Python).
    async fn recv(&mut self) -> Option<Inbound> {
        let got = match &mut self.inbox {
            Some(rx) => rx.recv().await,
            None => None,
        };
        if matches!(got, Some(Inbound::Stop)) {
            if let Some(t) = self.tasks.lock().unwrap().get_mut(&self.cid) {
                t.stream_open = false;
            }
        }
        got
    }

    /// Sends the terminal message, unless the task was cancelled meanwhile
    /// (the table entry decides, atomically with cancellation).
    fn finish(&self, functype: Functype, result: Result<Raw<'static>, PyErr>) {
        let entry = self.tasks.lock().unwrap().remove(&self.cid);
        let Some(entry) = entry else { return };
        let cid: Cow<'_, str> = self.cid.as_str().into();
        match (functype, result) {
            (Functype::AsyncGen, Ok(_)) => self.send(Msg::from(Stop::new(cid))),
            (_, Ok(pld)) => {
                if entry.stream_open {
                    self.send(Msg::from(Stop::new(cid.clone())));
                }
                self.send(Msg::Return(Return::new(cid, pld)));
            }
            (_, Err(e)) => {
                if entry.stream_open {
                    self.send(Msg::from(Stop::new(cid)));
                }
                self.send(error_msg(&self.actor, &self.cid, &self.func, &e));
            }
        }
    }
}

fn pld(v: &rmpv::Value) -> Raw<'static> {
    Raw::encode(v).unwrap_or_else(|_| Raw::nil())
}

fn s(text: &str) -> Raw<'static> {
    pld(&rmpv::Value::from(text))
}

/// Python's `str()` of a simple value (for f-strings).
fn py_str(v: &rmpv::Value) -> String {
    match v {
        rmpv::Value::String(s) => s.as_str().unwrap_or("").to_string(),
        rmpv::Value::Integer(i) => i.to_string(),
        rmpv::Value::Nil => "None".into(),
        rmpv::Value::Boolean(true) => "True".into(),
        rmpv::Value::Boolean(false) => "False".into(),
        other => other.to_string(),
    }
}

fn py_type(v: &rmpv::Value) -> &'static str {
    match v {
        rmpv::Value::Nil => "NoneType",
        rmpv::Value::Boolean(_) => "bool",
        rmpv::Value::Integer(_) => "int",
        rmpv::Value::F32(_) | rmpv::Value::F64(_) => "float",
        rmpv::Value::String(_) => "str",
        rmpv::Value::Binary(_) => "bytes",
        rmpv::Value::Array(_) => "list",
        rmpv::Value::Map(_) => "dict",
        rmpv::Value::Ext(..) => "Ext",
    }
}

/// Python's `a + b` for ints, floats, strs, bytes and lists.
fn py_add(a: &rmpv::Value, b: &rmpv::Value) -> Result<rmpv::Value, PyErr> {
    use rmpv::Value as V;
    let num = |v: &V| -> Option<f64> {
        match v {
            V::Integer(i) => i.as_f64(),
            V::F64(f) => Some(*f),
            V::F32(f) => Some(f64::from(*f)),
            _ => None,
        }
    };
    Ok(match (a, b) {
        (V::Integer(x), V::Integer(y)) => {
            let x = x.as_i64().map(i128::from).or(x.as_u64().map(i128::from));
            let y = y.as_i64().map(i128::from).or(y.as_u64().map(i128::from));
            let sum = x.zip(y).map(|(x, y)| x + y).unwrap_or(0);
            if let Ok(v) = u64::try_from(sum) {
                V::from(v)
            } else if let Ok(v) = i64::try_from(sum) {
                V::from(v)
            } else {
                return Err(PyErr::new("OverflowError", "int too large for msgpack"));
            }
        }
        (V::String(x), V::String(y)) => V::from(format!(
            "{}{}",
            x.as_str().unwrap_or(""),
            y.as_str().unwrap_or("")
        )),
        (V::Binary(x), V::Binary(y)) => V::Binary([x.as_slice(), y.as_slice()].concat()),
        (V::Array(x), V::Array(y)) => V::Array([x.as_slice(), y.as_slice()].concat()),
        _ => match (num(a), num(b)) {
            (Some(x), Some(y)) if !matches!((a, b), (V::Boolean(_), _) | (_, V::Boolean(_))) => {
                V::F64(x + y)
            }
            _ => {
                return Err(PyErr::new(
                    "TypeError",
                    format!(
                        "unsupported operand type(s) for +: '{}' and '{}'",
                        py_type(a),
                        py_type(b)
                    ),
                ))
            }
        },
    })
}

fn forever() -> impl std::future::Future<Output = ()> {
    std::future::pending()
}

/// The test endpoints, each answering as the recorded Python endpoint did.
async fn endpoint(ctx: &mut Ctx, kw: HashMap<String, rmpv::Value>) -> Result<Raw<'static>, PyErr> {
    use rmpv::Value as V;
    let arg = |k: &str| kw.get(k).cloned().unwrap_or(V::Nil);
    let func = ctx.func.clone();
    match func.as_str() {
        // portal_run_return, uds_transport
        "add" => {
            let mut r = py_add(&arg("x"), &arg("y"))?;
            if ctx.actor.args.misbehave == Some(Misbehave::WrongAdd) {
                r = py_add(&r, &V::from(1))?;
            }
            Ok(pld(&r))
        }
        // portal_run_error
        "boom" => Err(PyErr::new("ValueError", "boom: bad value 42")),
        "ok" => Ok(s("still alive")),
        // portal_run_module_not_exposed
        "exposed" => Ok(s("exposed-ok")),
        // run_in_actor_result
        "compute" => {
            let (base, exp) = (arg("base"), arg("exp"));
            let (Some(b), Some(e)) = (base.as_i64(), exp.as_u64()) else {
                return Err(PyErr::new("TypeError", "compute() takes ints"));
            };
            match u32::try_from(e).ok().and_then(|e| b.checked_pow(e)) {
                Some(v) => Ok(pld(&V::from(v))),
                None => Err(PyErr::new("OverflowError", "result too large for msgpack")),
            }
        }
        // stream_from_asyncgen
        "counter" => {
            let n = arg("n").as_i64().unwrap_or(0);
            for i in 0..n {
                ctx.yield_(pld(&V::from(i)));
                tokio::task::yield_now().await;
            }
            Ok(Raw::nil())
        }
        // stream_from_asyncgen_error
        "flaky_gen" => {
            ctx.yield_(s("one"));
            ctx.yield_(s("two"));
            tokio::task::yield_now().await;
            Err(PyErr::new("IndexError", "generator broke after two items"))
        }
        // ctx_started_return
        "greet" => {
            let name = py_str(&arg("name"));
            ctx.started(s(&format!("hello {name}")));
            Ok(pld(&V::Map(vec![
                (V::from("greeted"), V::from(name)),
                (V::from("count"), V::from(1)),
            ])))
        }
        // ctx_stream_caller_stops
        "doubler" => {
            ctx.started(Raw::nil());
            ctx.open_stream();
            while let Some(Inbound::Yield(v)) = ctx.recv().await {
                let v = v.to_value().unwrap_or(V::Nil);
                ctx.yield_(pld(&py_add(&v, &v)?));
            }
            ctx.close_stream();
            Ok(s("done"))
        }
        // ctx_stream_callee_stops
        "producer" => {
            let count = arg("count").as_i64().unwrap_or(0);
            ctx.started(s("ready"));
            ctx.open_stream();
            for i in 0..count {
                ctx.yield_(s(&format!("item-{i}")));
            }
            ctx.close_stream();
            Ok(pld(&V::from(count)))
        }
        // multiplexed_contexts
        "tagged_echo" => {
            let tag = py_str(&arg("tag"));
            ctx.started(s(&format!("{tag}:ready")));
            ctx.open_stream();
            while let Some(Inbound::Yield(v)) = ctx.recv().await {
                let v = v.to_value().unwrap_or(V::Nil);
                ctx.yield_(s(&format!("{tag}:{}", py_str(&v))));
            }
            ctx.close_stream();
            Ok(s(&format!("{tag}:done")))
        }
        // payload_scalars (no kwargs), payload_containers (`first`)
        "echo" => {
            let first = kw.get("first").cloned();
            ctx.started(pld(first.as_ref().unwrap_or(&V::Nil)));
            ctx.open_stream();
            while let Some(Inbound::Yield(v)) = ctx.recv().await {
                ctx.yield_(v);
            }
            ctx.close_stream();
            Ok(match first {
                None => Raw::nil(),
                Some(_) => pld(&V::Array(vec![
                    V::Map(vec![(
                        V::from("ret"),
                        V::Array(vec![
                            V::from(1),
                            V::Array(vec![V::from(2), V::Array(vec![V::from(3)])]),
                        ]),
                    )]),
                    V::Array(vec![]),
                    V::Map(vec![]),
                ])),
            })
        }
        // payload_namespace_path: `NamespacePath`s travel as plain strs
        "resolver" => {
            ctx.started(Raw::nil());
            ctx.open_stream();
            while let Some(Inbound::Yield(v)) = ctx.recv().await {
                ctx.yield_(v);
            }
            ctx.close_stream();
            Ok(Raw::nil())
        }
        // typed_pld_bad_yield: the second Yield breaks the caller's spec;
        // then it waits, with its stream open, for the caller to cancel it
        "streamer" => {
            ctx.started(pld(&V::Map(vec![(V::from("field"), V::from("ok"))])));
            ctx.open_stream();
            ctx.yield_(pld(&V::Map(vec![(V::from("field"), V::from("first"))])));
            ctx.yield_(pld(&V::from(42)));
            forever().await;
            Ok(Raw::nil())
        }
        // typed_pld_valid
        "point_doubler" => {
            let point = |x: i64, y: i64| {
                V::Map(vec![(V::from("x"), V::from(x)), (V::from("y"), V::from(y))])
            };
            ctx.started(pld(&point(0, 0)));
            ctx.open_stream();
            while let Some(Inbound::Yield(v)) = ctx.recv().await {
                let v = v.to_value().unwrap_or(V::Nil);
                let get = |k: &str| {
                    v.as_map()
                        .and_then(|m| m.iter().find(|(mk, _)| mk.as_str() == Some(k)))
                        .and_then(|(_, v)| v.as_i64())
                };
                let (Some(x), Some(y)) = (get("x"), get("y")) else {
                    return Err(PyErr::new(
                        "MsgTypeError",
                        "expected a Point {x: int, y: int}",
                    ));
                };
                ctx.yield_(pld(&point(2 * x, 2 * y)));
            }
            ctx.close_stream();
            Ok(Raw::nil())
        }
        // ctx_cancel_from_caller
        "sleeper" => {
            ctx.started(s("sleeping"));
            forever().await;
            Ok(Raw::nil())
        }
        // cancel_actor_midstream
        "ticker" => {
            ctx.started(s("ticking"));
            ctx.open_stream();
            for i in 0..3 {
                ctx.yield_(pld(&V::from(i)));
            }
            forever().await;
            Ok(Raw::nil())
        }
        // ctx_error_before_started
        "fails_early" => Err(PyErr::new("KeyError", "'missing-key'")),
        // ctx_error_after_started
        "fails_midstream" => {
            ctx.started(pld(&V::from(1)));
            ctx.open_stream();
            ctx.yield_(s("a"));
            ctx.yield_(s("b"));
            tokio::task::yield_now().await;
            Err(PyErr::new("RuntimeError", "midstream failure"))
        }
        // payload_bytes_1mib
        "blob_echo" => {
            ctx.started(pld(&V::from(1_048_576)));
            ctx.open_stream();
            if let Some(Inbound::Yield(v)) = ctx.recv().await {
                let blob = v.to_value().unwrap_or(V::Nil);
                let bytes = match &blob {
                    V::Binary(b) => b.clone(),
                    _ => Vec::new(),
                };
                use sha2::Digest as _;
                let digest: String = sha2::Sha256::digest(&bytes)
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect();
                ctx.yield_(s(&digest));
                ctx.yield_(v);
            }
            ctx.close_stream();
            Ok(s("ok"))
        }
        other => Err(PyErr::new(
            "AttributeError",
            format!("module '__main__' has no attribute '{other}'"),
        )),
    }
}
