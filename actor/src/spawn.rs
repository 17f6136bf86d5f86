//! A parent of Python tractor children, spawned as tractor's `trio`
//! spawner spawns them.
//!
//! A child is the process `python -m tractor._child --uid "('NAME',
//! 'UUID')" --parent_addr "('HOST', PORT)"` (both values Python literals;
//! a Unix socket parent address is `"('/dir', 'file.sock')"`). It connects
//! back to the parent's listening address and sends its `Aid`; the parent
//! answers with its own and, as the channel's second frame, a `SpawnSpec`:
//! the modules the child exposes, its registrars and its runtime
//! variables. The channel then carries the parent's calls to the child.
//!
//! A [`Nursery`] ends its children as tractor's actor nursery does: it
//! sends each `self.cancel`, waits for the process to exit, and kills
//! (`SIGKILL`) one that has not exited within the grace period. A child
//! process is also killed when its [`Nursery`] is dropped, so none outlives
//! the parent's code.

use std::collections::HashMap;
use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitStatus;
use std::time::Duration;

use serde::Serialize;
use shuttle::{Addr, AddrPort, AnyMap, Int, SpawnSpec, StrMap, Uid};
use tokio::sync::oneshot;

use crate::actor::Actor;
use crate::driver::ChannelHandle;
use crate::error::Error;
use crate::portal::Portal;
use crate::transport::Address;

/// A spawn the actor waits for: the child's `SpawnSpec`, and who gets the
/// channel once the child has connected.
pub(crate) struct Waiter {
    pub(crate) spec: SpawnSpec<'static>,
    pub(crate) tx: oneshot::Sender<ChannelHandle>,
}

/// Children waiting to connect back, by uid `(name, uuid)`.
pub(crate) type Waiting = std::sync::Mutex<HashMap<(String, String), Waiter>>;

/// How to start a Python child.
#[derive(Clone, Debug)]
pub struct SpawnOptions {
    python: PathBuf,
    /// A program run instead of `python -m tractor._child`, and its
    /// leading arguments.
    program: Option<(PathBuf, Vec<OsString>)>,
    modules: Vec<(String, PathBuf)>,
    env: Vec<(OsString, OsString)>,
    cwd: Option<PathBuf>,
    loglevel: Option<String>,
    startup: Duration,
}

impl SpawnOptions {
    /// Children run by this Python (one with tractor installed).
    pub fn new(python: impl Into<PathBuf>) -> SpawnOptions {
        SpawnOptions {
            python: python.into(),
            program: None,
            modules: Vec::new(),
            env: Vec::new(),
            cwd: None,
            loglevel: None,
            startup: Duration::from_secs(30),
        }
    }

    /// Children run by `program ARGS... --uid ... --parent_addr ...`
    /// instead of tractor's `python -m tractor._child` (a child in another
    /// language, such as a Rust one on [`Actor::serve_as_child`]).
    pub fn program<I, S>(path: impl Into<PathBuf>, args: I) -> SpawnOptions
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        let mut o = SpawnOptions::new("");
        o.program = Some((path.into(), args.into_iter().map(Into::into).collect()));
        o
    }

    /// The child imports the module `name` from the file `path` and
    /// serves its functions (`enable_modules`; the child adds the file's
    /// folder to `sys.path`).
    pub fn enable_module(mut self, name: &str, path: impl Into<PathBuf>) -> SpawnOptions {
        self.modules.push((name.into(), path.into()));
        self
    }

    /// Sets an environment variable of the child (on top of the parent's).
    pub fn env(mut self, key: impl Into<OsString>, value: impl Into<OsString>) -> SpawnOptions {
        self.env.push((key.into(), value.into()));
        self
    }

    /// The child's working folder (the parent's by default).
    pub fn current_dir(mut self, dir: impl Into<PathBuf>) -> SpawnOptions {
        self.cwd = Some(dir.into());
        self
    }

    /// The child's log level (`--loglevel`).
    pub fn loglevel(mut self, level: &str) -> SpawnOptions {
        self.loglevel = Some(level.into());
        self
    }

    /// How long a child may take to connect back (30 s).
    pub fn startup_timeout(mut self, limit: Duration) -> SpawnOptions {
        self.startup = limit;
        self
    }
}

/// A Python literal of a `str` (`repr()`), as `ast.literal_eval` reads it.
fn py_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// `--parent_addr`'s literal of `addr`: `('HOST', PORT)` or `('DIR',
/// 'FILE')`.
fn py_addr(addr: &Address) -> String {
    match addr.unwrapped() {
        rmpv::Value::Array(v) if v.len() == 2 => {
            let first = py_str(v[0].as_str().unwrap_or(""));
            match &v[1] {
                rmpv::Value::String(f) => {
                    format!("({first}, {})", py_str(f.as_str().unwrap_or("")))
                }
                n => format!("({first}, {n})"),
            }
        }
        other => other.to_string(),
    }
}

fn addr_of(a: &Address) -> Addr<'static> {
    match a.unwrapped() {
        rmpv::Value::Array(v) if v.len() == 2 => {
            let host = v[0].as_str().unwrap_or("").to_string();
            let port = match &v[1] {
                rmpv::Value::String(f) => {
                    AddrPort::Str(f.as_str().unwrap_or("").to_string().into())
                }
                n => AddrPort::Int(Int::U(n.as_u64().unwrap_or(0))),
            };
            Addr {
                host: host.into(),
                port,
            }
        }
        _ => Addr {
            host: "".into(),
            port: AddrPort::Int(Int::U(0)),
        },
    }
}

/// The runtime variables a current tractor parent sends (every key; the
/// child requires `_debug_mode` and `_is_infected_aio`).
#[derive(Serialize)]
struct RuntimeVars {
    _is_root: bool,
    _root_mailbox: rmpv::Value,
    _root_addrs: Vec<rmpv::Value>,
    _enable_tpts: Vec<&'static str>,
    _registry_addrs: Vec<rmpv::Value>,
    _debug_mode: bool,
    repl_fixture: bool,
    use_greenback: bool,
    use_stackscope: bool,
    _is_infected_aio: bool,
}

/// A child process and the portal to it.
#[derive(Debug)]
pub struct Child {
    uid: Uid<'static>,
    portal: Portal,
    process: tokio::process::Child,
    pid: Option<u32>,
}

impl Child {
    /// The child's uid.
    pub fn uid(&self) -> &Uid<'static> {
        &self.uid
    }

    /// The portal to the child (over the channel it connected back on).
    pub fn portal(&self) -> &Portal {
        &self.portal
    }

    /// The child's process id.
    pub fn pid(&self) -> Option<u32> {
        self.pid
    }

    /// The child's exit status, if it has exited.
    pub fn try_status(&mut self) -> std::io::Result<Option<ExitStatus>> {
        self.process.try_wait()
    }
}

/// How a child ended, as [`Nursery::cancel`] saw it.
#[derive(Debug)]
pub struct ChildExit {
    /// The child's uid.
    pub uid: Uid<'static>,
    /// Its exit status (`None` if it could not be waited for).
    pub status: Option<ExitStatus>,
    /// Whether it acknowledged `self.cancel` (false for a child that had
    /// died already, or did not answer).
    pub cancel_acked: bool,
    /// Whether it had to be killed after the grace period.
    pub killed: bool,
}

impl ChildExit {
    /// The signal that ended the child, if one did (9 for `SIGKILL`).
    pub fn signal(&self) -> Option<i32> {
        use std::os::unix::process::ExitStatusExt as _;
        self.status.and_then(|s| s.signal())
    }
}

/// The children of an actor (tractor's `ActorNursery`): it spawns them,
/// and cancels and reaps them all with [`cancel`](Nursery::cancel).
/// Dropping it kills (`SIGKILL`) any child still running.
///
/// When the actor itself is cancelled (a peer's `self.cancel`, or
/// [`Actor::cancel`]), each child is sent `self.cancel` over its spawn
/// channel, which stays open (up to 3 s) until the child closes it, as
/// tractor's nursery cancels its children with its actor; the children
/// then exit by themselves, and [`cancel`](Nursery::cancel) reaps them.
#[derive(Debug)]
pub struct Nursery {
    actor: Actor,
    children: Vec<Child>,
}

impl Actor {
    /// A nursery for children of this actor. The actor must be serving
    /// ([`Actor::serve`]) for a child to connect back to it; a spawn waits
    /// (up to its startup timeout) for it to listen.
    pub fn open_nursery(&self) -> Nursery {
        Nursery {
            actor: self.clone(),
            children: Vec::new(),
        }
    }
}

impl Nursery {
    /// The children, in the order started.
    pub fn children(&self) -> &[Child] {
        &self.children
    }

    /// The children, to poll their processes.
    pub fn children_mut(&mut self) -> &mut [Child] {
        &mut self.children
    }

    /// Spawns the Python tractor child `name` (`ActorNursery.start_actor`)
    /// and returns a portal to it once it has connected back and been
    /// sent its `SpawnSpec`. Its registrars are this actor when it is a
    /// registrar, else the ones it registers with
    /// ([`ActorBuilder::register_with`](crate::ActorBuilder::register_with)).
    pub async fn start_actor(&mut self, name: &str, opts: &SpawnOptions) -> Result<Portal, Error> {
        let inner = &self.actor.inner;
        // The parent's `serve` may not have started yet: wait for it.
        let mut listening = inner.listening.subscribe();
        let here =
            match tokio::time::timeout(opts.startup, listening.wait_for(Option::is_some)).await {
                Ok(Ok(here)) => here
                    .clone()
                    .unwrap_or_else(|| unreachable!("waited for Some")),
                _ => {
                    return Err(Error::Spawn(format!(
                    "cannot spawn {name}: the parent is not listening (serve it with Actor::serve)"
                )))
                }
            };
        let uid = Uid::new(name.to_string(), uuid::Uuid::new_v4().to_string());
        let registrars: Vec<Address> = if inner.registry.is_some() {
            vec![here.clone()]
        } else {
            inner.registrars.clone()
        };
        let vars = RuntimeVars {
            _is_root: false,
            _root_mailbox: here.unwrapped(),
            _root_addrs: vec![here.unwrapped()],
            _enable_tpts: vec![match here {
                Address::Tcp(_) => "tcp",
                Address::Uds(_) => "uds",
            }],
            _registry_addrs: registrars.iter().map(Address::unwrapped).collect(),
            _debug_mode: false,
            repl_fixture: false,
            use_greenback: false,
            use_stackscope: false,
            _is_infected_aio: false,
        };
        let runtime_vars = StrMap::encode(&vars).map_err(|e| Error::Encode(e.to_string()))?;
        let mut modules = Vec::new();
        for (m, p) in &opts.modules {
            let p = std::path::absolute(p)
                .map_err(|e| Error::Spawn(format!("module {m} at {}: {e}", p.display())))?;
            modules.push((m.clone().into(), p.display().to_string().into()));
        }
        let spec = SpawnSpec::new(
            AnyMap::empty(),
            runtime_vars,
            modules,
            registrars.iter().map(addr_of).collect(),
            None,
        );
        let (tx, rx) = oneshot::channel();
        let key = (uid.name.to_string(), uid.uuid.to_string());
        inner
            .spawning
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key.clone(), Waiter { spec, tx });

        let mut cmd = match &opts.program {
            Some((program, args)) => {
                let mut c = tokio::process::Command::new(program);
                c.args(args);
                c
            }
            None => {
                let mut c = tokio::process::Command::new(&opts.python);
                c.args(["-m", "tractor._child"]);
                c
            }
        };
        let shown = opts
            .program
            .as_ref()
            .map_or(&opts.python, |(p, _)| p)
            .display()
            .to_string();
        cmd.arg("--uid")
            .arg(format!("({}, {})", py_str(&uid.name), py_str(&uid.uuid)))
            .arg("--parent_addr")
            .arg(py_addr(&here));
        if let Some(l) = &opts.loglevel {
            cmd.args(["--loglevel", l]);
        }
        for (k, v) in &opts.env {
            cmd.env(k, v);
        }
        if let Some(d) = &opts.cwd {
            cmd.current_dir(d);
        }
        cmd.stdin(std::process::Stdio::null()).kill_on_drop(true);
        let forget = || {
            inner
                .spawning
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(&key);
        };
        let mut process = match cmd.spawn() {
            Ok(p) => p,
            Err(e) => {
                forget();
                return Err(Error::Spawn(format!(
                    "cannot start {shown} for {name}: {e}"
                )));
            }
        };
        let pid = process.id();
        let chan = tokio::select! {
            c = tokio::time::timeout(opts.startup, rx) => c,
            status = process.wait() => {
                forget();
                return Err(Error::Spawn(format!(
                    "child {name} exited before connecting back: {}",
                    status.map(|s| s.to_string()).unwrap_or_else(|e| e.to_string())
                )));
            }
        };
        let chan = match chan {
            Ok(Ok(chan)) => chan,
            Ok(Err(_)) | Err(_) => {
                forget();
                let _ = process.start_kill();
                let _ = process.wait().await;
                return Err(Error::Spawn(format!(
                    "child {name} did not connect back to {here} within {:?}",
                    opts.startup
                )));
            }
        };
        let portal = Portal::new(chan);
        self.children.push(Child {
            uid: uid.into_owned(),
            portal: portal.clone(),
            process,
            pid,
        });
        Ok(portal)
    }

    /// Cancels every child and reaps it, as tractor's nursery does on
    /// exit: `self.cancel` to each (at once), a wait of at most `grace`
    /// for its process to exit, then `SIGKILL` for one still running. A
    /// child that died already is reaped and reported with its status.
    pub async fn cancel(mut self, grace: Duration) -> Vec<ChildExit> {
        let children = std::mem::take(&mut self.children);
        let ends = children.into_iter().map(|mut c| async move {
            let cancel_acked = match c.process.try_wait() {
                Ok(Some(_)) => false,
                // Cancelled with the actor already (its channel is gone).
                _ if c.portal.is_closed() => false,
                _ => matches!(
                    tokio::time::timeout(grace, c.portal.cancel_actor()).await,
                    Ok(Ok(true))
                ),
            };
            let (status, killed) = match tokio::time::timeout(grace, c.process.wait()).await {
                Ok(s) => (s.ok(), false),
                Err(_) => {
                    let _ = c.process.start_kill();
                    (c.process.wait().await.ok(), true)
                }
            };
            ChildExit {
                uid: c.uid,
                status,
                cancel_acked,
                killed,
            }
        });
        futures_util::future::join_all(ends).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_line_values_are_python_literals() {
        assert_eq!(py_str("it's"), r"'it\'s'");
        assert_eq!(py_str("a\\b\n"), r"'a\\b\n'");
        let tcp: Address = "tcp://127.0.0.1:4000".parse().unwrap();
        assert_eq!(py_addr(&tcp), "('127.0.0.1', 4000)");
        let uds: Address = "uds:///run/x/a.sock".parse().unwrap();
        assert_eq!(py_addr(&uds), "('/run/x', 'a.sock')");
    }
}
