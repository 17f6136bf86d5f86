//! `shuttle serve`: the test endpoints of the recorded scenarios, served
//! by a Rust tractor actor (`shuttle-actor`), so that the recorded dialogs
//! replay against it and a real tractor program can call it. It is also a
//! worked example of writing endpoints with the actor crate: every endpoint
//! below is a few lines of ordinary async Rust.
//!
//! It behaves as a tractor daemon does, with two differences on purpose:
//!
//! * hostile frames are rejected (the engine drops what breaks the dialog
//!   rules and closes a channel whose framing is broken) and never take
//!   the actor down (protocol reference §8.2);
//! * after `self.cancel` the actor is cancelled as tractor's is (every
//!   channel's tasks cancelled, the channels closed) and, unless
//!   `--exit-on-cancel`, a fresh actor (a new uuid) serves the same
//!   listener on, so that one daemon serves a whole replay run.

use std::collections::HashMap;
use std::time::Duration;

use futures_util::stream;
use rmpv::Value as V;
use serde::{Deserialize, Serialize};
use shuttle::Msg;
use shuttle_actor::{Actor, Context, Direction, EndpointError, NoArgs, Tap};

use super::record;
use super::transport::{self, Address, MAX_FRAME};

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
    /// Exit once the actor was cancelled with `self.cancel` (as a tractor
    /// actor does) instead of serving on with a fresh actor.
    #[arg(long)]
    pub exit_on_cancel: bool,
    /// Be a tractor registrar: answer the handshake with `is_registrar:
    /// true` and serve `register_actor`, `unregister_actor`, `find_actor`,
    /// `wait_for_actor`, `get_registry` and `delete_addr`, so that Python
    /// roots started with `registry_addrs=[ADDR]` use it.
    #[arg(long)]
    pub registrar: bool,
    /// Run as the spawned child of a tractor parent: the uid it gave, a
    /// Python pair `('NAME', 'UUID')` (the actor's name and uuid; `--name`
    /// is ignored). Needs --parent_addr.
    #[arg(long, value_name = "PAIR", requires = "parent_addr", conflicts_with_all = ["listen", "connect"])]
    pub uid: Option<String>,
    /// The parent's address as a Python pair, `('HOST', PORT)` or `('DIR',
    /// 'FILE')`: the child connects there, takes its `SpawnSpec`, listens,
    /// registers, and exits when cancelled or when the parent is lost.
    #[arg(long = "parent_addr", value_name = "PAIR", requires = "uid")]
    pub parent_addr: Option<String>,
    /// A spawned child's log level (accepted for tractor's command line;
    /// unused).
    #[arg(long, hide = true)]
    pub loglevel: Option<String>,
    /// Log nothing to stderr.
    #[arg(short, long)]
    pub quiet: bool,
    /// Record every channel: when a channel ends, write every frame read
    /// and written on it to `DIR/channel-NNNN-PEER.json`, a
    /// `tractor-capture/2` file that `shuttle check` reads.
    #[arg(long, value_name = "DIR")]
    pub record: Option<std::path::PathBuf>,
    /// Misbehave on purpose (for testing the harness): `wrong-add` (add
    /// returns x+y+1), `hang` (answers the handshake, then nothing),
    /// `die-on-garbage` (exit on any frame that is not a message).
    #[arg(long, hide = true)]
    pub misbehave: Option<Misbehave>,
}

/// Deliberate faults of `shuttle serve --misbehave`.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Misbehave {
    /// `add` answers `x + y + 1`.
    WrongAdd,
    /// Nothing is answered after the handshake.
    Hang,
    /// The process exits on a frame that does not decode.
    DieOnGarbage,
}

/// Runs `shuttle serve` until killed (or cancelled, with
/// `--exit-on-cancel`).
pub fn run(args: &Args) -> anyhow::Result<bool> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(serve(args.clone()))
}

/// Logs a line on stderr, never blocking the runtime (`super::log`).
fn log(args: &Args, what: impl AsRef<str>) {
    if !args.quiet {
        super::log::line(format!("shuttle serve [{}]: {}", args.name, what.as_ref()));
    }
}

async fn serve(args: Args) -> anyhow::Result<bool> {
    let recorder = match &args.record {
        Some(dir) => {
            std::fs::create_dir_all(dir).map_err(|e| {
                anyhow::anyhow!("--record {}: cannot create the folder: {e}", dir.display())
            })?;
            let transport = match args.listen.as_ref().or(args.connect.as_ref()) {
                Some(Address::Uds(_)) => "uds",
                _ => "tcp",
            };
            let mut r = record::Recorder::new(dir.clone(), transport);
            if !args.quiet {
                r = r.logging_as(&format!("shuttle serve [{}]", args.name));
            }
            Some(r)
        }
        None => None,
    };
    if args.misbehave == Some(Misbehave::Hang) {
        return hang(&args).await;
    }
    if let (Some(uid), Some(parent)) = (&args.uid, &args.parent_addr) {
        let child = shuttle_actor::ChildArgs::parse(["--uid", uid, "--parent_addr", parent])
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let mut a = args.clone();
        a.name = child.name.clone();
        let actor = build_with(&a, recorder, Some(&child.uuid));
        actor
            .serve_as_child(&child.parent)
            .await
            .map_err(|e| anyhow::anyhow!("as the child of {}: {e}", child.parent))?;
        log(&a, "cancelled or parent lost: exiting");
        return Ok(true);
    }
    if let Some(addr) = &args.listen {
        let listener = shuttle_actor::Listener::bind(addr)
            .await
            .map_err(|e| anyhow::anyhow!("cannot listen on {addr}: {e}"))?;
        println!("listening on {}", listener.local_addr());
        use std::io::Write as _;
        std::io::stdout().flush()?;
        if args.exit_on_cancel {
            build(&args, recorder).serve(listener).await?;
            log(&args, "cancelled: exiting");
            return Ok(true);
        }
        // Its own accept loop: a connection accepted after `self.cancel`
        // goes to a fresh actor, never to the cancelled one.
        let here = listener.local_addr();
        let list_self = |actor: &Actor| {
            // A registrar lists itself, as tractor's does (Actor::serve
            // does this; this loop is its own).
            if let Some(r) = actor.registry() {
                let uid = actor.uid();
                let _ = r.register(&uid.name, &uid.uuid, here.unwrapped());
            }
        };
        let mut actor = build(&args, recorder.clone());
        list_self(&actor);
        loop {
            let conn = match listener.accept().await {
                Ok(conn) => conn,
                Err(e) => {
                    log(&args, format!("accept failed: {e}"));
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            if actor.is_cancelled() {
                actor = build(&args, recorder.clone());
                list_self(&actor);
                log(&args, "cancelled: serving on as a fresh actor");
            }
            let a = actor.clone();
            tokio::spawn(async move { a.serve_connection(conn).await });
        }
    } else if let Some(addr) = &args.connect {
        let mut failing_since = None;
        loop {
            let actor = build(&args, recorder.clone());
            match actor.connect(addr).await {
                Ok(portal) => {
                    failing_since = None;
                    portal.closed().await;
                    if actor.is_cancelled() && args.exit_on_cancel {
                        log(&args, "cancelled: exiting");
                        return Ok(true);
                    }
                }
                Err(e) => {
                    let since = *failing_since.get_or_insert_with(std::time::Instant::now);
                    if since.elapsed() > Duration::from_secs(10) {
                        log(&args, format!("giving up on {addr}: {e}"));
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

/// `--misbehave hang`: answers the handshake with an `Aid`, then reads
/// and drops every frame without answering.
async fn hang(args: &Args) -> anyhow::Result<bool> {
    let me = build(args, None);
    let mut aid = shuttle::Aid::new(me.uid().name.clone(), me.uid().uuid.clone());
    aid.pid = Some(shuttle::Int::U(std::process::id().into()));
    let aid = aid.to_vec();
    let Some(addr) = &args.listen else {
        anyhow::bail!("--misbehave hang needs --listen")
    };
    let listener = transport::Listener::bind(addr).await?;
    println!("listening on {}", listener.local_addr());
    use std::io::Write as _;
    std::io::stdout().flush()?;
    loop {
        let conn = transport::accept(&listener).await?;
        let aid = aid.clone();
        let max = args.max_frame;
        tokio::spawn(async move {
            let transport::Conn {
                read, mut write, ..
            } = conn;
            if transport::write_frame(&mut write, &aid).await.is_err() {
                return;
            }
            let mut reader = transport::FrameReader::new(read, max);
            while let Ok(Some(_)) = reader.next().await {}
        });
    }
}

/// The actor with the scenario endpoints.
fn build(args: &Args, recorder: Option<record::Recorder>) -> Actor {
    build_with(args, recorder, None)
}

/// The actor with the scenario endpoints, with a given uuid.
fn build_with(args: &Args, recorder: Option<record::Recorder>, uuid: Option<&str>) -> Actor {
    let limits = shuttle_actor::Limits {
        max_frame: args.max_frame,
        ..Default::default()
    };
    let wrong_add = args.misbehave == Some(Misbehave::WrongAdd);
    let mut b = Actor::builder(&args.name).limits(limits);
    if let Some(u) = uuid {
        b = b.uuid(u);
    }
    if args.registrar {
        b = b.registrar();
    }
    let die = args.misbehave == Some(Misbehave::DieOnGarbage);
    if recorder.is_some() || die {
        b = b.tap(ServeTap { recorder, die });
    }
    endpoints(b, wrong_add).build()
}

/// What `serve` watches frames for: `--record`, and `--misbehave
/// die-on-garbage` (the process exits on a frame that does not decode, as
/// a Python actor's runtime dies of one).
struct ServeTap {
    recorder: Option<record::Recorder>,
    die: bool,
}

impl Tap for ServeTap {
    fn opened(&self, channel: u64, accepted: bool) {
        if let Some(r) = &self.recorder {
            r.opened(channel, accepted);
        }
    }

    fn frame(&self, channel: u64, dir: Direction, body: &[u8]) {
        if let Some(r) = &self.recorder {
            r.frame(channel, dir, body);
        }
        if self.die && dir == Direction::Received {
            if let Err(e) = Msg::decode(body) {
                eprintln!("shuttle serve: rejected a {}-byte frame: {e}", body.len());
                std::process::exit(3);
            }
        }
    }

    fn closed(&self, channel: u64) {
        if let Some(r) = &self.recorder {
            r.closed(channel);
        }
    }
}

// ---------------------------------------------------------------------
// The endpoints, each answering as the recorded Python endpoint did.

#[derive(Deserialize)]
struct AddArgs {
    x: V,
    y: V,
}

#[derive(Deserialize)]
struct ComputeArgs {
    base: V,
    exp: V,
}

#[derive(Deserialize)]
struct CountArgs {
    n: i64,
}

#[derive(Deserialize)]
struct NameArgs {
    name: V,
}

#[derive(Deserialize)]
struct CountCtxArgs {
    count: i64,
}

#[derive(Deserialize)]
struct TagArgs {
    tag: V,
}

#[derive(Deserialize)]
struct EchoArgs {
    first: Option<V>,
}

#[derive(Serialize)]
struct Greeted {
    greeted: String,
    count: i64,
}

#[derive(Serialize, Deserialize)]
struct Point {
    x: i64,
    y: i64,
}

fn err(class: &str, text: impl Into<String>) -> EndpointError {
    EndpointError::new(class, text)
}

/// Python's `str()` of a simple value (for f-strings).
fn py_str(v: &V) -> String {
    match v {
        V::String(s) => s.as_str().unwrap_or("").to_string(),
        V::Integer(i) => i.to_string(),
        V::Nil => "None".into(),
        V::Boolean(true) => "True".into(),
        V::Boolean(false) => "False".into(),
        other => other.to_string(),
    }
}

fn py_type(v: &V) -> &'static str {
    match v {
        V::Nil => "NoneType",
        V::Boolean(_) => "bool",
        V::Integer(_) => "int",
        V::F32(_) | V::F64(_) => "float",
        V::String(_) => "str",
        V::Binary(_) => "bytes",
        V::Array(_) => "list",
        V::Map(_) => "dict",
        V::Ext(..) => "Ext",
    }
}

/// Python's `a + b` for ints, floats, strs, bytes and lists.
fn py_add(a: &V, b: &V) -> Result<V, EndpointError> {
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
                return Err(err("OverflowError", "int too large for msgpack"));
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
                return Err(err(
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

/// `Point | None`, the spec `point_doubler` was recorded with.
fn point_spec() -> shuttle::pld_spec::PldSpec {
    let structs = serde_json::json!({"Point": {"fields": [["x", "int"], ["y", "int"]]}});
    shuttle::pld_spec::PldSpec::parse("Point | None", &structs).expect("a well-formed spec")
}

/// Never resolves: an endpoint that waits to be cancelled.
async fn forever() {
    std::future::pending::<()>().await
}

/// Maps a failed send or receive to the endpoint's error (the channel went
/// away or the dialog was cancelled: the result is then not sent anyway).
fn gone(e: shuttle_actor::Error) -> EndpointError {
    err("RuntimeError", e.to_string())
}

/// Registers the endpoints of the recorded scenarios (`spec/replay.md`).
fn endpoints(b: shuttle_actor::ActorBuilder, wrong_add: bool) -> shuttle_actor::ActorBuilder {
    const NS: &str = "__main__";
    b
        // portal_run_return, uds_transport
        .func(NS, "add", move |a: AddArgs| async move {
            let r = py_add(&a.x, &a.y)?;
            if wrong_add {
                py_add(&r, &V::from(1))
            } else {
                Ok(r)
            }
        })
        // portal_run_error
        .func(NS, "boom", |_: NoArgs| async {
            Err::<(), _>(err("ValueError", "boom: bad value 42"))
        })
        .func(NS, "ok", |_: NoArgs| async { Ok("still alive") })
        // portal_run_module_not_exposed
        .func(NS, "exposed", |_: NoArgs| async { Ok("exposed-ok") })
        // run_in_actor_result
        .func(NS, "compute", |a: ComputeArgs| async move {
            let (Some(b), Some(e)) = (a.base.as_i64(), a.exp.as_u64()) else {
                return Err(err("TypeError", "compute() takes ints"));
            };
            u32::try_from(e)
                .ok()
                .and_then(|e| b.checked_pow(e))
                .ok_or_else(|| err("OverflowError", "result too large for msgpack"))
        })
        // stream_from_asyncgen
        .stream(NS, "counter", |a: CountArgs| {
            stream::iter((0..a.n.max(0)).map(Ok::<_, EndpointError>))
        })
        // stream_from_asyncgen_error
        .stream(NS, "flaky_gen", |_: NoArgs| {
            stream::iter([
                Ok("one"),
                Ok("two"),
                Err(err("IndexError", "generator broke after two items")),
            ])
        })
        // ctx_started_return
        .context(NS, "greet", |mut ctx: Context, a: NameArgs| async move {
            let name = py_str(&a.name);
            ctx.started(&format!("hello {name}")).await.map_err(gone)?;
            Ok(Greeted {
                greeted: name,
                count: 1,
            })
        })
        // ctx_stream_caller_stops
        .context(NS, "doubler", |mut ctx: Context, _: NoArgs| async move {
            ctx.started(&()).await.map_err(gone)?;
            ctx.open_stream().await.map_err(gone)?;
            while let Some(v) = ctx.recv::<V>().await {
                let v = v.map_err(gone)?;
                ctx.send(&py_add(&v, &v)?).await.map_err(gone)?;
            }
            ctx.close_stream().await.map_err(gone)?;
            Ok("done")
        })
        // ctx_stream_callee_stops
        .context(
            NS,
            "producer",
            |mut ctx: Context, a: CountCtxArgs| async move {
                ctx.started("ready").await.map_err(gone)?;
                ctx.open_stream().await.map_err(gone)?;
                for i in 0..a.count {
                    ctx.send(&format!("item-{i}")).await.map_err(gone)?;
                }
                ctx.close_stream().await.map_err(gone)?;
                Ok(a.count)
            },
        )
        // multiplexed_contexts
        .context(
            NS,
            "tagged_echo",
            |mut ctx: Context, a: TagArgs| async move {
                let tag = py_str(&a.tag);
                ctx.started(&format!("{tag}:ready")).await.map_err(gone)?;
                ctx.open_stream().await.map_err(gone)?;
                while let Some(v) = ctx.recv::<V>().await {
                    let v = v.map_err(gone)?;
                    ctx.send(&format!("{tag}:{}", py_str(&v)))
                        .await
                        .map_err(gone)?;
                }
                ctx.close_stream().await.map_err(gone)?;
                Ok(format!("{tag}:done"))
            },
        )
        // payload_scalars (no kwargs), payload_containers (`first`)
        .context(NS, "echo", |mut ctx: Context, a: EchoArgs| async move {
            ctx.started(&a.first.clone().unwrap_or(V::Nil))
                .await
                .map_err(gone)?;
            ctx.open_stream().await.map_err(gone)?;
            while let Some(v) = ctx.recv::<V>().await {
                ctx.send(&v.map_err(gone)?).await.map_err(gone)?;
            }
            ctx.close_stream().await.map_err(gone)?;
            Ok(match a.first {
                None => V::Nil,
                Some(_) => V::Array(vec![
                    V::Map(vec![(
                        V::from("ret"),
                        V::Array(vec![
                            V::from(1),
                            V::Array(vec![V::from(2), V::Array(vec![V::from(3)])]),
                        ]),
                    )]),
                    V::Array(vec![]),
                    V::Map(vec![]),
                ]),
            })
        })
        // payload_namespace_path: `NamespacePath`s travel as plain strs
        .context(NS, "resolver", |mut ctx: Context, _: NoArgs| async move {
            ctx.started(&()).await.map_err(gone)?;
            ctx.open_stream().await.map_err(gone)?;
            while let Some(v) = ctx.recv::<V>().await {
                ctx.send(&v.map_err(gone)?).await.map_err(gone)?;
            }
            ctx.close_stream().await.map_err(gone)?;
            Ok(())
        })
        // typed_pld_bad_yield: the second Yield breaks the caller's spec;
        // then it waits, with its stream open, for the caller to cancel it
        .context(NS, "streamer", |mut ctx: Context, _: NoArgs| async move {
            ctx.started(&HashMap::from([("field", "ok")]))
                .await
                .map_err(gone)?;
            ctx.open_stream().await.map_err(gone)?;
            ctx.send(&HashMap::from([("field", "first")]))
                .await
                .map_err(gone)?;
            ctx.send(&42).await.map_err(gone)?;
            forever().await;
            Ok(())
        })
        // typed_pld_valid
        .context(
            NS,
            "point_doubler",
            |mut ctx: Context, _: NoArgs| async move {
                ctx.started(&Point { x: 0, y: 0 }).await.map_err(gone)?;
                ctx.open_stream().await.map_err(gone)?;
                while let Some(p) = ctx.recv::<Point>().await {
                    let p = p?; // not a Point: MsgTypeError, as in tractor
                    ctx.send(&Point {
                        x: 2 * p.x,
                        y: 2 * p.y,
                    })
                    .await
                    .map_err(gone)?;
                }
                ctx.close_stream().await.map_err(gone)?;
                Ok(())
            },
        )
        // typed_pld_valid: the recorded endpoint's spec
        .pld_spec(NS, "point_doubler", point_spec())
        // ctx_cancel_from_caller
        .context(NS, "sleeper", |mut ctx: Context, _: NoArgs| async move {
            ctx.started("sleeping").await.map_err(gone)?;
            forever().await;
            Ok(())
        })
        // cancel_actor_midstream
        .context(NS, "ticker", |mut ctx: Context, _: NoArgs| async move {
            ctx.started("ticking").await.map_err(gone)?;
            ctx.open_stream().await.map_err(gone)?;
            for i in 0..3 {
                ctx.send(&i).await.map_err(gone)?;
            }
            forever().await;
            Ok(())
        })
        // ctx_error_before_started
        .context(NS, "fails_early", |_: Context, _: NoArgs| async {
            Err::<(), _>(err("KeyError", "'missing-key'"))
        })
        // ctx_error_after_started
        .context(
            NS,
            "fails_midstream",
            |mut ctx: Context, _: NoArgs| async move {
                ctx.started(&1).await.map_err(gone)?;
                ctx.open_stream().await.map_err(gone)?;
                ctx.send("a").await.map_err(gone)?;
                ctx.send("b").await.map_err(gone)?;
                Err::<(), _>(err("RuntimeError", "midstream failure"))
            },
        )
        // payload_bytes_1mib
        .context(NS, "blob_echo", |mut ctx: Context, _: NoArgs| async move {
            ctx.started(&1_048_576).await.map_err(gone)?;
            ctx.open_stream().await.map_err(gone)?;
            if let Some(blob) = ctx.recv::<V>().await {
                let blob = blob.map_err(gone)?;
                let bytes: &[u8] = match &blob {
                    V::Binary(b) => b,
                    _ => &[],
                };
                use sha2::Digest as _;
                let digest: String = sha2::Sha256::digest(bytes)
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect();
                ctx.send(&digest).await.map_err(gone)?;
                ctx.send(&blob).await.map_err(gone)?;
            }
            ctx.close_stream().await.map_err(gone)?;
            Ok("ok")
        })
}
