//! The actor: its identity, its endpoints, serving and connecting.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use futures_util::stream::{BoxStream, Stream, StreamExt as _};
use serde::de::DeserializeOwned;
use serde::Serialize;
use shuttle::dialog::{ChannelConfig, End};
use shuttle::pld_spec::PldSpec;
use shuttle::{Aid, Functype, Raw, StrMap, Uid};
use tokio::sync::{mpsc, oneshot, watch, Semaphore};

use crate::context::Context;
use crate::driver::{self, ChannelHandle};
use crate::error::{EndpointError, Error};
use crate::portal::Portal;
use crate::registrar::Registry;
use crate::tap::Tap;
use crate::transport::{self, Address, Connection, Listener};

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;
type Out = Result<Raw<'static>, EndpointError>;

/// A registered endpoint, type-erased.
#[derive(Clone)]
pub(crate) enum Handler {
    Func(Arc<dyn Fn(StrMap<'static>) -> BoxFuture<Out> + Send + Sync>),
    Stream(
        Arc<
            dyn Fn(StrMap<'static>) -> Result<BoxStream<'static, Out>, EndpointError> + Send + Sync,
        >,
    ),
    Context(Arc<dyn Fn(Context, StrMap<'static>) -> BoxFuture<Out> + Send + Sync>),
}

impl Handler {
    pub(crate) fn functype(&self) -> Functype {
        match self {
            Handler::Func(_) => Functype::AsyncFunc,
            Handler::Stream(_) => Functype::AsyncGen,
            Handler::Context(_) => Functype::Context,
        }
    }
}

/// Limits of an actor.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Largest frame body accepted (64 MiB).
    pub max_frame: usize,
    /// Channels served at once; more connections wait to be accepted (256).
    pub max_channels: usize,
    /// Most msgpack values (every scalar, string, array and map counts
    /// one) an endpoint's keyword arguments may hold (1,048,576). A `Start`
    /// holding more is answered with a `ValueError` before anything is
    /// decoded: a one-byte nil becomes tens of bytes once decoded into a
    /// dynamic value, so a frame of nils within the frame limit could
    /// otherwise cost gigabytes.
    pub max_arg_values: usize,
    /// Per-channel limits of the engine (open dialogs, queued bytes,
    /// handshake and idle timeouts).
    pub channel: ChannelConfig,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_frame: shuttle::frame::DEFAULT_MAX_FRAME,
            max_channels: 256,
            max_arg_values: 1 << 20,
            channel: ChannelConfig {
                idle_timeout: Some(Duration::from_secs(600)),
                ..ChannelConfig::default()
            },
        }
    }
}

pub(crate) struct Inner {
    pub(crate) uid: Uid<'static>,
    pub(crate) aid: Aid<'static>,
    pub(crate) endpoints: HashMap<(String, String), Handler>,
    pub(crate) limits: Limits,
    /// Set once the actor is cancelled (`self.cancel` or [`Actor::cancel`]).
    pub(crate) shutdown: watch::Sender<bool>,
    /// Sees every frame, when set.
    pub(crate) tap: Option<Arc<dyn Tap>>,
    /// The payload specs of endpoints, by (ns, func).
    pub(crate) specs: HashMap<(String, String), PldSpec>,
    /// Numbers the channels (for the tap).
    pub(crate) channels: std::sync::atomic::AtomicU64,
    /// The registry, when the actor is a registrar.
    pub(crate) registry: Option<Registry>,
    /// The registrars `serve` registers with.
    pub(crate) registrars: Vec<Address>,
    /// The address `serve` listens on (children connect back to it).
    pub(crate) listening: watch::Sender<Option<Address>>,
    /// Children spawned and not yet connected back.
    pub(crate) spawning: crate::spawn::Waiting,
    /// False while a spawned child has not registered yet: its endpoints
    /// wait (tractor's child serves its parent only once registered).
    pub(crate) ready: watch::Sender<bool>,
    /// Who waits for the parent's `SpawnSpec` (a child actor).
    pub(crate) spawn_spec: std::sync::Mutex<Option<oneshot::Sender<crate::child::ChildSpec>>>,
}

/// Resolves once the actor is cancelled (a `Send` future, unlike
/// `watch::Receiver::wait_for`'s guard).
pub(crate) async fn cancelled(rx: &mut watch::Receiver<bool>) {
    let _ = rx.wait_for(|stop| *stop).await;
}

/// Arguments of an endpoint that takes none: a keyword argument is a
/// `TypeError`, as in Python. (An endpoint taking any keyword arguments,
/// as `**kwargs` does, takes a map such as
/// `HashMap<String, rmpv::Value>`.)
#[derive(Clone, Copy, Debug, Default, serde::Deserialize, serde::Serialize)]
pub struct NoArgs {}

/// Decodes an endpoint's keyword arguments, failing as Python's call does:
/// `f() got an unexpected keyword argument 'z'`, `f() missing 1 required
/// positional argument: 'y'`.
fn args<A: DeserializeOwned>(func: &str, kwargs: &StrMap<'_>) -> Result<A, EndpointError> {
    /// `A`, noting the first keyword argument it has no field for.
    struct Noting<'u, A>(&'u mut Option<String>, std::marker::PhantomData<A>);
    impl<'de, A: DeserializeOwned> serde::de::DeserializeSeed<'de> for Noting<'_, A> {
        type Value = A;
        fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<A, D::Error> {
            serde_ignored::deserialize(d, |path| {
                if self.0.is_none() {
                    *self.0 = Some(path.to_string());
                }
            })
        }
    }
    let mut unexpected = None;
    let raw = kwargs.raw();
    let a = raw.decode_seed(Noting::<A>(&mut unexpected, std::marker::PhantomData));
    if let Some(key) = unexpected {
        return Err(EndpointError::new(
            "TypeError",
            format!("{func}() got an unexpected keyword argument '{key}'"),
        ));
    }
    a.map_err(|e| {
        let text = e.msgspec_text();
        let missing = text
            .strip_prefix("missing field `")
            .and_then(|rest| rest.strip_suffix('`'));
        match missing {
            Some(field) => EndpointError::new(
                "TypeError",
                format!("{func}() missing 1 required positional argument: '{field}'"),
            ),
            None => EndpointError::new("TypeError", format!("{func}() got bad arguments: {text}")),
        }
    })
}

fn pld<R: Serialize>(r: Result<R, EndpointError>) -> Out {
    let v = r?;
    Raw::encode(&v)
        .map_err(|e| EndpointError::new("TypeError", format!("cannot encode the result: {e}")))
}

/// Builds an [`Actor`]: its name and its endpoints.
pub struct ActorBuilder {
    name: String,
    endpoints: HashMap<(String, String), Handler>,
    limits: Limits,
    tap: Option<Arc<dyn Tap>>,
    specs: HashMap<(String, String), PldSpec>,
    registry: Option<Registry>,
    registrars: Vec<Address>,
    uuid: Option<String>,
}

impl std::fmt::Debug for ActorBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ActorBuilder")
            .field("name", &self.name)
            .field("endpoints", &self.endpoints.len())
            .finish()
    }
}

impl ActorBuilder {
    /// An async function endpoint `ns.func` (`Portal.run` / `run_from_ns`;
    /// answered with `Return`). Its keyword arguments are decoded into `A`.
    pub fn func<A, R, F, Fut>(mut self, ns: &str, func: &str, f: F) -> Self
    where
        A: DeserializeOwned + Send + 'static,
        R: Serialize + Send + 'static,
        F: Fn(A) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<R, EndpointError>> + Send + 'static,
    {
        let name = func.to_string();
        let f = Arc::new(f);
        let h = Handler::Func(Arc::new(move |kwargs| {
            let f = f.clone();
            let name = name.clone();
            Box::pin(async move {
                let a = args::<A>(&name, &kwargs)?;
                pld(f(a).await)
            })
        }));
        self.endpoints.insert((ns.into(), func.into()), h);
        self
    }

    /// An async generator endpoint `ns.func` (`Portal.open_stream_from`;
    /// answered with `Yield`s ended by `Stop`, or by `Error` when an item
    /// is an error).
    pub fn stream<A, R, F, S>(mut self, ns: &str, func: &str, f: F) -> Self
    where
        A: DeserializeOwned + Send + 'static,
        R: Serialize + Send + 'static,
        F: Fn(A) -> S + Send + Sync + 'static,
        S: Stream<Item = Result<R, EndpointError>> + Send + 'static,
    {
        let name = func.to_string();
        let h = Handler::Stream(Arc::new(move |kwargs| {
            let a = args::<A>(&name, &kwargs)?;
            Ok(f(a).map(pld).boxed())
        }));
        self.endpoints.insert((ns.into(), func.into()), h);
        self
    }

    /// A context endpoint `ns.func` (`Portal.open_context`): it gets the
    /// callee's [`Context`]; its return value is the context's result.
    pub fn context<A, R, F, Fut>(mut self, ns: &str, func: &str, f: F) -> Self
    where
        A: DeserializeOwned + Send + 'static,
        R: Serialize + Send + 'static,
        F: Fn(Context, A) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<R, EndpointError>> + Send + 'static,
    {
        let name = func.to_string();
        let f = Arc::new(f);
        let h = Handler::Context(Arc::new(move |ctx, kwargs| {
            let f = f.clone();
            let name = name.clone();
            Box::pin(async move {
                let a = args::<A>(&name, &kwargs)?;
                pld(f(ctx, a).await)
            })
        }));
        self.endpoints.insert((ns.into(), func.into()), h);
        self
    }

    /// Sets the actor's limits.
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Limits the payloads endpoint `ns.func` takes from its callers to
    /// `spec`, as `@tractor.context(pld_spec=...)` does: a caller's
    /// `Yield` that breaks it reaches the endpoint as
    /// [`Error::Payload`] (raised on with `?`, it is answered as tractor's
    /// `MsgTypeError`), and [`Context::started`] refuses a value that
    /// breaks it before sending, as tractor's `ctx.started()` does.
    ///
    /// ```
    /// use shuttle::pld_spec::PldSpec;
    /// use shuttle_actor::{Actor, Context, EndpointError, NoArgs};
    ///
    /// let spec = PldSpec::parse("int|None", &serde_json::json!({})).unwrap();
    /// let actor = Actor::builder("typed")
    ///     .context("__main__", "doubler", |mut ctx: Context, _: NoArgs| async move {
    ///         ctx.started(&0).await?;
    ///         ctx.open_stream().await?;
    ///         while let Some(x) = ctx.recv::<i64>().await {
    ///             ctx.send(&(2 * x?)).await?; // a str sent to it: MsgTypeError
    ///         }
    ///         Ok::<_, EndpointError>(())
    ///     })
    ///     .pld_spec("__main__", "doubler", spec)
    ///     .build();
    /// # let _ = actor;
    /// ```
    pub fn pld_spec(mut self, ns: &str, func: &str, spec: PldSpec) -> Self {
        self.specs.insert((ns.into(), func.into()), spec);
        self
    }

    /// Makes the actor a registrar, as tractor's `Registrar` is: its
    /// handshake says `is_registrar: true` (so that
    /// `open_root_actor(registry_addrs=[...])` accepts its address) and it
    /// serves `register_actor`, `unregister_actor`, `find_actor`,
    /// `wait_for_actor`, `get_registry` and `delete_addr` (see
    /// [`Registry`]). [`Actor::registry`] shows what is registered;
    /// [`Actor::serve`] lists the registrar itself there, as tractor's
    /// registrar lists itself.
    pub fn registrar(mut self) -> Self {
        let registry = Registry::default();
        self = registry.serve_on(self);
        self.registry = Some(registry);
        self
    }

    /// Registers the actor with the registrar at `addr` (tractor's
    /// `registry_addrs`): [`Actor::serve`] registers the address it
    /// listens on there before it accepts a connection, and unregisters
    /// it when the actor ends, as a tractor actor does, so that
    /// `tractor.find_actor(name)` / `wait_for_actor(name)` find it. May be
    /// given more than once.
    pub fn register_with(mut self, addr: Address) -> Self {
        self.registrars.push(addr);
        self
    }

    /// Sets the actor's uuid (a fresh uuid4 by default): a spawned child
    /// takes the one its parent gave it (see [`ChildArgs`](crate::ChildArgs)).
    pub fn uuid(mut self, uuid: &str) -> Self {
        self.uuid = Some(uuid.into());
        self
    }

    /// Shows every frame of every channel to `tap` (see [`Tap`]).
    pub fn tap(mut self, tap: impl Tap) -> Self {
        self.tap = Some(Arc::new(tap));
        self
    }

    /// The actor, with a fresh uuid.
    pub fn build(self) -> Actor {
        let uuid = self
            .uuid
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        let uid = Uid::new(self.name.clone(), uuid);
        let mut aid = Aid::new(uid.name.clone(), uid.uuid.clone());
        aid.pid = Some(shuttle::Int::U(std::process::id().into()));
        aid.is_registrar = Some(self.registry.is_some());
        let (shutdown, _) = watch::channel(false);
        Actor {
            inner: Arc::new(Inner {
                uid,
                aid,
                endpoints: self.endpoints,
                limits: self.limits,
                shutdown,
                tap: self.tap,
                specs: self.specs,
                channels: Default::default(),
                registry: self.registry,
                registrars: self.registrars,
                listening: watch::channel(None).0,
                spawning: Default::default(),
                spawn_spec: Default::default(),
                ready: watch::channel(true).0,
            }),
        }
    }
}

/// A tractor actor: serves its endpoints to any tractor peer that
/// connects, and calls other actors through [`Portal`]s.
///
/// ```no_run
/// use shuttle_actor::{Actor, Address, EndpointError, Listener};
///
/// #[derive(serde::Deserialize)]
/// struct Add { x: i64, y: i64 }
///
/// # async fn run() -> std::io::Result<()> {
/// let actor = Actor::builder("adder")
///     .func("__main__", "add", |a: Add| async move { Ok::<_, EndpointError>(a.x + a.y) })
///     .build();
/// let listener = Listener::bind(&"tcp://127.0.0.1:1616".parse::<Address>().unwrap()).await?;
/// actor.serve(listener).await // until a peer sends `self.cancel`
/// # }
/// ```
#[derive(Clone)]
pub struct Actor {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for Actor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Actor")
            .field("uid", &self.inner.uid)
            .finish()
    }
}

impl Actor {
    /// Starts building an actor named `name`.
    pub fn builder(name: &str) -> ActorBuilder {
        ActorBuilder {
            name: name.to_string(),
            endpoints: HashMap::new(),
            limits: Limits::default(),
            tap: None,
            specs: HashMap::new(),
            registry: None,
            registrars: Vec::new(),
            uuid: None,
        }
    }

    /// The registry this actor serves, when it was built as a registrar
    /// ([`ActorBuilder::registrar`]).
    pub fn registry(&self) -> Option<&Registry> {
        self.inner.registry.as_ref()
    }

    /// The actor's uid (`(name, uuid)`).
    pub fn uid(&self) -> &Uid<'static> {
        &self.inner.uid
    }

    /// Serves every connection `listener` accepts, until the actor is
    /// cancelled (a peer's `self.cancel`, or [`Actor::cancel`]); then every
    /// channel's tasks are cancelled as tractor cancels them and the
    /// channels are closed before this returns.
    ///
    /// The listener is closed as soon as the actor is cancelled, as
    /// tractor's is, before the channels are: a peer connecting meanwhile
    /// is refused, not accepted and dropped.
    ///
    /// With registrars ([`ActorBuilder::register_with`]), the listening
    /// address is registered with each before the first connection is
    /// accepted (a registrar that cannot be reached or refuses is an
    /// error, as it fails a tractor actor's start-up) and unregistered
    /// when serving ends (at most 2 s per registrar, as tractor bounds
    /// its own attempt).
    pub async fn serve(&self, listener: Listener) -> std::io::Result<()> {
        let registrars = self.inner.registrars.clone();
        self.serve_registered(listener, &registrars).await
    }

    /// [`serve`](Actor::serve), registering with `registrars`.
    pub(crate) async fn serve_registered(
        &self,
        listener: Listener,
        registrars: &[Address],
    ) -> std::io::Result<()> {
        let here = listener.local_addr();
        self.inner.listening.send_replace(Some(here.clone()));
        if let Some(r) = &self.inner.registry {
            // A registrar lists itself, as tractor's does.
            let uid = &self.inner.uid;
            if let Err(e) = r.register(&uid.name, &uid.uuid, here.unwrapped()) {
                tracing::debug!("cannot list the registrar itself: {e}");
            }
        }
        for reg in registrars {
            self.registration(reg, Some(&here)).await.map_err(|e| {
                std::io::Error::other(format!("cannot register with the registrar at {reg}: {e}"))
            })?;
        }
        self.inner.ready.send_replace(true);
        let served = self.serve_only(listener).await;
        for reg in registrars {
            let gone = tokio::time::timeout(Duration::from_secs(2), self.registration(reg, None));
            match gone.await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::debug!("cannot unregister from {reg}: {e}"),
                Err(_) => tracing::debug!("cannot unregister from {reg}: timed out"),
            }
        }
        served
    }

    /// Registers `addr` with the registrar at `reg` (or unregisters, when
    /// `None`) over a channel of its own, closed afterwards.
    async fn registration(&self, reg: &Address, addr: Option<&Address>) -> Result<(), Error> {
        // A cancelled actor's channels close at once: leave on a fresh one
        // that carries only this call.
        let me = if self.is_cancelled() {
            self.leaving()
        } else {
            self.clone()
        };
        let portal = me.connect(reg).await?;
        let r = match addr {
            Some(a) => portal.register_actor(&self.inner.uid, &a.unwrapped()).await,
            None => portal.unregister_actor(&self.inner.uid).await,
        };
        portal.close().await;
        r
    }

    /// The same actor (uid, limits, tap), not cancelled and serving
    /// nothing: what a cancelled actor leaves its registrars with.
    fn leaving(&self) -> Actor {
        let i = &self.inner;
        Actor {
            inner: Arc::new(Inner {
                uid: i.uid.clone(),
                aid: i.aid.clone(),
                endpoints: HashMap::new(),
                limits: i.limits,
                shutdown: watch::channel(false).0,
                tap: i.tap.clone(),
                specs: HashMap::new(),
                // Numbered apart from the actor's own channels: a tap
                // keys its channels by these numbers.
                channels: std::sync::atomic::AtomicU64::new(
                    i.channels.load(std::sync::atomic::Ordering::Relaxed) + 1_000_000,
                ),
                registry: None,
                registrars: Vec::new(),
                listening: watch::channel(None).0,
                spawning: Default::default(),
                spawn_spec: Default::default(),
                ready: watch::channel(true).0,
            }),
        }
    }

    async fn serve_only(&self, listener: Listener) -> std::io::Result<()> {
        let mut shutdown = self.inner.shutdown.subscribe();
        let slots = Arc::new(Semaphore::new(self.inner.limits.max_channels));
        let mut channels = tokio::task::JoinSet::new();
        loop {
            let permit = tokio::select! {
                biased;
                _ = cancelled(&mut shutdown) => break,
                p = slots.clone().acquire_owned() => p.expect("the semaphore is never closed"),
            };
            tokio::select! {
                biased;
                _ = cancelled(&mut shutdown) => break,
                conn = listener.accept() => match conn {
                    Ok(conn) => {
                        let me = self.clone();
                        channels.spawn(async move {
                            me.serve_connection(conn).await;
                            drop(permit);
                        });
                    }
                    Err(e) => {
                        tracing::debug!("accept failed: {e}");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                },
            }
            while channels.try_join_next().is_some() {}
        }
        drop(listener);
        // Every channel has seen the shutdown; give them a bounded time to
        // send their cancellations and close.
        let _ = tokio::time::timeout(Duration::from_secs(5), async {
            while channels.join_next().await.is_some() {}
        })
        .await;
        Ok(())
    }

    /// Serves one accepted connection until its channel ends (the peer
    /// closes it, it fails, or the actor is cancelled). For programs with
    /// their own accept loop; unlike [`serve`](Actor::serve) this applies
    /// no limit on the number of channels.
    ///
    /// A connection given to a cancelled actor is closed unanswered (no
    /// handshake), as a restarting tractor daemon drops one; a peer can
    /// tell that apart from a served channel and retry.
    pub async fn serve_connection(&self, conn: Connection) {
        if self.is_cancelled() {
            return;
        }
        driver::run(
            self.inner.clone(),
            conn.stream,
            End::B,
            None,
            mpsc::channel(driver::COMMANDS),
        )
        .await
    }

    /// Cancels the actor: [`serve`](Actor::serve) returns and every channel
    /// is closed after cancelling its tasks.
    pub fn cancel(&self) {
        let _ = self.inner.shutdown.send(true);
    }

    /// Resolves once the actor is cancelled (a peer's `self.cancel`, or
    /// [`Actor::cancel`]).
    pub async fn cancelled(&self) {
        cancelled(&mut self.inner.shutdown.subscribe()).await
    }

    /// Whether the actor was cancelled.
    pub fn is_cancelled(&self) -> bool {
        *self.inner.shutdown.borrow()
    }

    /// Connects to the actor listening at `addr` and returns a portal to it.
    /// The channel also serves this actor's endpoints to that peer.
    pub async fn connect(&self, addr: &Address) -> Result<Portal, Error> {
        let stream = transport::connect(addr)
            .await
            .map_err(|e| std::io::Error::new(e.kind(), format!("cannot connect to {addr}: {e}")))?
            .stream;
        let (tx, rx) = oneshot::channel();
        let (cmd_tx, cmd_rx) = mpsc::channel(driver::COMMANDS);
        let inner = self.inner.clone();
        tokio::spawn(driver::run(
            inner,
            stream,
            End::A,
            Some(tx),
            (cmd_tx.clone(), cmd_rx),
        ));
        let timeout = self.inner.limits.channel.handshake_timeout;
        let peer = match tokio::time::timeout(timeout, rx).await {
            Ok(Ok(Ok(peer))) => peer,
            Ok(Ok(Err(e))) => return Err(e),
            Ok(Err(_)) => return Err(Error::Handshake(addr.to_string())),
            Err(_) => return Err(Error::Handshake(format!("{addr} (timed out)"))),
        };
        Ok(Portal::new(ChannelHandle { cmd: cmd_tx, peer }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize, serde::Serialize)]
    struct Add {
        x: i64,
        y: i64,
    }

    fn kwargs(v: &impl Serialize) -> StrMap<'static> {
        StrMap::encode(v).unwrap()
    }

    #[test]
    fn keyword_arguments_fail_as_a_python_call_does() {
        #[derive(Serialize)]
        struct XZ {
            x: i64,
            z: i64,
        }
        #[derive(Serialize)]
        struct X {
            x: i64,
        }
        let e = args::<Add>("add", &kwargs(&XZ { x: 1, z: 2 })).unwrap_err();
        assert_eq!(
            e.to_string(),
            "TypeError: add() got an unexpected keyword argument 'z'"
        );
        let e = args::<Add>("add", &kwargs(&X { x: 1 })).unwrap_err();
        assert_eq!(
            e.to_string(),
            "TypeError: add() missing 1 required positional argument: 'y'"
        );
        let e = args::<NoArgs>("ok", &kwargs(&X { x: 1 })).unwrap_err();
        assert_eq!(
            e.to_string(),
            "TypeError: ok() got an unexpected keyword argument 'x'"
        );
        let a = args::<Add>("add", &kwargs(&Add { x: 1, y: 2 })).unwrap();
        assert_eq!((a.x, a.y), (1, 2));
    }
}
