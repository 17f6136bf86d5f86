//! A tractor actor in Rust.
//!
//! An [`Actor`] serves endpoints to Python tractor actors (and to other
//! Rust ones) over TCP and Unix sockets, and calls theirs through a
//! [`Portal`], speaking tractor's wire protocol byte for byte. It runs on
//! tokio and drives the message crate's sans-IO engine,
//! [`shuttle::dialog::Channel`]: one task per channel owns the engine and
//! the socket; endpoint tasks and portals talk to it over bounded queues
//! (quinn's `ConnectionDriver` model), so that a peer that floods or stops
//! reading meets backpressure, not unbounded memory.
//!
//! Endpoints are registered by module path and name, as tractor exposes
//! them:
//!
//! | tractor | here | answered with |
//! |---|---|---|
//! | `async def f(**kw)` (`Portal.run`) | [`ActorBuilder::func`] | `Return` |
//! | `async def f(**kw): yield ...` (`Portal.open_stream_from`) | [`ActorBuilder::stream`] | `Yield`s, then `Stop` |
//! | `@tractor.context async def f(ctx, **kw)` (`Portal.open_context`) | [`ActorBuilder::context`] | `Started`, a two-way stream, `Return` |
//!
//! Keyword arguments are decoded into the endpoint's serde type; results
//! and stream items are encoded as msgspec encodes the equivalent Python
//! values (structs as maps). An endpoint raises an [`EndpointError`] (a
//! Python class name and text); the caller gets it boxed as tractor boxes
//! it (`RemoteActorError` fields: type, traceback text, `relay_path`).
//! The runtime methods tractor calls are built in: `self.cancel`
//! ([`Portal::cancel_actor`]; the actor then exits, as tractor's does) and
//! `self._cancel_task` (a cancelled context answers `ContextCancelled`).
//!
//! ```
//! use futures_util::stream;
//! use shuttle_actor::{Actor, Address, Context, EndpointError, Listener, NoArgs};
//!
//! #[derive(serde::Deserialize, serde::Serialize)]
//! struct Add { x: i64, y: i64 }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let worker = Actor::builder("worker")
//!     .func("__main__", "add", |a: Add| async move { Ok::<_, EndpointError>(a.x + a.y) })
//!     .stream("__main__", "count", |_: NoArgs| {
//!         stream::iter((0..3).map(Ok::<i64, EndpointError>))
//!     })
//!     .context("__main__", "doubler", |mut ctx: Context, _: NoArgs| async move {
//!         ctx.started(&()).await.ok();
//!         ctx.open_stream().await.ok();
//!         while let Some(Ok(v)) = ctx.recv::<i64>().await {
//!             ctx.send(&(2 * v)).await.ok();
//!         }
//!         Ok::<_, EndpointError>("done")
//!     })
//!     .build();
//! let listener = Listener::bind(&"tcp://127.0.0.1:0".parse::<Address>()?).await?;
//! let addr = listener.local_addr();
//! let served = tokio::spawn({
//!     let worker = worker.clone();
//!     async move { worker.serve(listener).await }
//! });
//!
//! // A second actor calls it, as a Python tractor program would.
//! let client = Actor::builder("client").build();
//! let portal = client.connect(&addr).await?;
//! let sum: i64 = portal.run_from_ns("__main__", "add", &Add { x: 20, y: 22 }).await?;
//! assert_eq!(sum, 42);
//!
//! let mut items = portal.open_stream_from("__main__", "count", &NoArgs {}).await?;
//! let mut got = vec![];
//! while let Some(v) = items.recv::<i64>().await { got.push(v?); }
//! assert_eq!(got, [0, 1, 2]);
//!
//! let (mut ctx, ()) = portal.open_context("__main__", "doubler", &NoArgs {}).await?;
//! ctx.open_stream();
//! ctx.send(&21).await?;
//! assert_eq!(ctx.recv::<i64>().await.transpose()?, Some(42));
//! assert_eq!(ctx.result::<String>().await?, "done");
//!
//! assert!(portal.cancel_actor().await?); // the worker exits, as tractor's does
//! served.await??;
//! # Ok(()) }
//! ```
//!
//! Payload specs work on both sides as in tractor: a caller limits what
//! it takes with [`Portal::open_context_with`], an endpoint with
//! [`ActorBuilder::pld_spec`] (`@tractor.context(pld_spec=...)`); a
//! payload that breaks one is [`Error::Payload`], answered as tractor's
//! `MsgTypeError` when an endpoint raises it on with `?`.
//!
//! Trees: an actor can be a tree's registrar ([`ActorBuilder::registrar`],
//! see [`Registry`]), register with one ([`ActorBuilder::register_with`]),
//! and spawn Python tractor children as tractor's `trio` spawner does
//! ([`Actor::open_nursery`], [`Nursery::start_actor`], [`SpawnOptions`]),
//! cancelling and reaping them with [`Nursery::cancel`].
//!
//! An actor can also run as a spawned child ([`ChildArgs`],
//! [`Actor::serve_as_child`]): it exits when its parent cancels it or
//! when the parent's channel is lost.
//!
//! Not yet here: tractor's `StreamOverrun`: a full dialog inbox applies
//! backpressure to the socket instead of answering the sender with an
//! overrun error.

// Every queue is bounded; no `unsafe`.
#![forbid(unsafe_code)]

mod actor;
mod args;
mod child;
mod context;
mod driver;
mod error;
mod portal;
mod registrar;
mod spawn;
mod tap;
mod transport;

pub use actor::{Actor, ActorBuilder, Limits, NoArgs};
pub use child::ChildArgs;
pub use context::{CallerContext, Context, RecvStream};
pub use error::{EndpointError, Error, RemoteError};
pub use portal::Portal;
pub use registrar::{Entry, Registry, MAX_ADDRS, MAX_REGISTERED};
pub use rmpv;
pub use spawn::{Child, ChildExit, Nursery, SpawnOptions};
pub use tap::{Direction, Tap};
pub use transport::{Address, Connection, Listener};
