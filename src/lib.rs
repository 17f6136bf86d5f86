//! The wire protocol of the [tractor] actor runtime, its "SC shuttle
//! protocol", as pure Rust types.
//!
//! This crate reads and writes exactly the bytes Python tractor (through
//! msgspec) does: the ten messages, their framing, and the raw payloads
//! they carry. It does no I/O and has no async: bring your own sockets.
//! The dialog rules (who may send what, when, on which `cid`) are a
//! sans-IO state machine in [`dialog`] (`spec/dialog.md`, `spec/quirks.md`).
//! Decoded messages render as JSON ([`Msg::to_json`], mapping in [`json`]),
//! described by the JSON Schemas of the `schema` module (cargo feature
//! `schema`, which adds schemars to the dependencies). The older dict
//! dialect of tractor 0.1.0a5 is in [`legacy`].
//! The written protocol lives in `spec/PROTOCOL.md`; the conformance suite
//! that checks any implementation against recorded tractor dialogs lives in
//! the `shuttle-conformance` crate (the `shuttle` command).
//!
//! ```
//! use shuttle::{Msg, Raw, Started, frame};
//!
//! // Encode a message as tractor would, and frame it.
//! let started = Started::new("c1", Raw::encode(&("hello", 1)).unwrap());
//! let mut wire = Vec::new();
//! frame::write_frame_with(&mut wire, |out| started.encode(out)).unwrap();
//!
//! // Split the stream and decode: the payload stays raw, borrowed from the frame.
//! let frame::Split::Frame { body, .. } = frame::FrameSplitter::default().split(&wire).unwrap()
//!     else { unreachable!() };
//! let Msg::Started(msg) = Msg::decode(body).unwrap() else { unreachable!() };
//! assert_eq!(msg.cid, "c1");
//! let (greeting, n): (String, u32) = msg.pld.decode().unwrap();
//! assert_eq!((greeting.as_str(), n), ("hello", 1));
//! ```
//!
//! Messages are built with `new` from the fields the protocol requires;
//! defaulted fields start at their wire default and are public to set. The
//! message structs, and the enums [`Msg`], [`MsgType`] and [`Functype`], are
//! `#[non_exhaustive]`, as tractor adds fields and messages over time (a tag
//! this crate does not know is refused with msgspec's verdict):
//!
//! ```
//! use shuttle::{Aid, Int, Msg};
//!
//! let mut aid = Aid::new("worker", "8d90cd1c-0578-4d4f-ab02-6f13a40fa0ed");
//! aid.pid = Some(Int::U(4242));
//! let body = aid.to_vec();
//! assert_eq!(Msg::decode(&body).unwrap(), Msg::from(aid));
//! ```
//!
//! # Python types and their Rust twins
//!
//! | tractor / msgspec | Rust |
//! |---|---|
//! | `str` | `Cow<'a, str>` (borrowed from the frame when decoded) |
//! | `int`, `int \| None` | [`Int`], `Option<Int>` |
//! | `bool` | `bool` |
//! | `tuple[str, str]` (a uid) | [`Uid`] |
//! | `Literal["asyncfunc", "asyncgen", "context"]` | [`Functype`] |
//! | `dict[str, Any]` | [`StrMap`] (validated, kept raw) |
//! | `dict` | [`AnyMap`] (validated, kept raw) |
//! | `tuple[str, str \| int]` (an address) | [`Addr`] |
//! | `msgspec.Raw` payload | [`Raw`] |
//! | `Started[T]` | `Started<'a, T>` |
//!
//! # Payload specs
//!
//! [`pld_spec`] limits what `Started`/`Yield`/`Return` payloads may be, as
//! `@tractor.context(pld_spec=...)` does, with msgspec's verdicts and error
//! texts: dynamic specs in Python annotation syntax ([`pld_spec::PldSpec`]),
//! Rust types as specs (`pld_spec::TypedSpec`, feature `schema`), per-dialog limiting over a
//! channel ([`pld_spec::dialog_verdicts`]) and `MsgTypeError`
//! ([`pld_spec::MsgTypeError`]).
//!
//! [tractor]: https://github.com/goodboy/tractor

// One audited `unsafe` block: the ASCII fast path of UTF-8 validation.
#![deny(unsafe_code)]

pub mod dialog;
pub mod error;
pub mod frame;
pub mod json;
pub mod legacy;
mod msg;
pub mod msgpack;
pub mod pld_spec;
pub mod python;
mod raw;
#[cfg(feature = "schema")]
pub mod schema;
mod value;

pub use error::{DecodeError, EncodeError};
pub use msg::{
    Addr, AddrPort, Aid, AnyMap, BadMsg, CancelAck, Error, Functype, Msg, MsgType, Return,
    SpawnSpec, Start, StartAck, Started, Stop, StrMap, Uid, Yield,
};
pub use msgpack::Int;
pub use raw::{EncodePld, Raw};
pub use value::Value;

/// Deepest nesting accepted where a value is decoded as Python `Any`
/// (`Start.kwargs`, `SpawnSpec._runtime_vars`, `Error._bad_msg.pld`, ...)
/// or checked against a payload spec: where msgspec, called from the top
/// level of a Python program, gives up with `RecursionError`. Raw payloads
/// are skipped without recursion and have no depth limit; payload specs can
/// lower it ([`pld_spec::PldSpec::with_max_depth`]).
pub const DEFAULT_MAX_DEPTH: usize = pld_spec::DEFAULT_MAX_DEPTH;
