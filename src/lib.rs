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
//! channel ([`dialog::dialog_verdicts`]) and `MsgTypeError`
//! ([`pld_spec::MsgTypeError`]).
//!
//!
//! # Layout
//!
//! The protocol only: no I/O, no async, no clock, no files. Modules depend
//! one way, each on the layers below it (lowest first; a test,
//! `tests/layers.rs`, fails on a dependency against this order):
//!
//! | layer | module | holds |
//! |---|---|---|
//! | 0 | [`error`] | [`DecodeError`] (msgspec's text and path, opaque), [`EncodeError`] |
//! | 1 | [`msgpack`] | the reader, the one skipper and the one check of a value typed `Any` with msgspec's errors (internal), [`msgpack::write`], [`msgpack::headers`], the timestamp check |
//! | 2 | `value` | [`Value`], a dynamic value safe to drop at any depth |
//! | 3 | `raw` | [`Raw`]: payload bytes as they arrived; serde decoding behind a depth and stack guard |
//! | 4 | [`json`], [`python`] | the msgpack-to-JSON mapping; Python's `repr` |
//! | 5 | `msg` | the ten messages: the `message!` table, decode, encode, JSON, schemas |
//! | 6 | [`frame`], `schema`, [`pld_spec`] | framing; the JSON Schemas (feature `schema`); payload specs and `MsgTypeError` |
//! | 7 | [`dialog`] | the dialog rules: the sans-IO channel engine, judging recordings, per-dialog payload verdicts |
//! | 8 | [`legacy`] | the dict dialect of tractor 0.1.0a5 |
//!
//! No module depends on one above it. The harness (`shuttle-conformance`) holds
//! everything about files and processes: the capture format, the vector
//! runner, cases, testees, the rendered docs.
//!
//! # How to add
//!
//! | to add | edit |
//! |---|---|
//! | a message | its line in the `messages!` list (which writes `MsgType` and its tag matcher, the `Msg` enum, its matches, its `From` impls and the decode dispatch) and its struct in the `message!` table (fields, wire keys, defaults, docs), both in `src/msg/mod.rs`; its examples in `src/msg/schema.rs`; its rules in `src/dialog/machine.rs`; then `shuttle schema` and `spec/PROTOCOL.md` |
//! | a payload-spec construct | the grammar in `src/pld_spec/parse.rs`, its node in `src/pld_spec/compile.rs`, its check in `src/pld_spec/validate/` (`scalar.rs` for a scalar, `mod.rs` for a container; a shortcut in `fast.rs` only with a benchmark), its sampler in `src/pld_spec/sample.rs`; vectors decided by msgspec through `conformance/tools/gen_pld_vectors.py` |
//! | a kind of conformance case | `CaseBody` in `conformance/src/case.rs` (its kind is also the feature it needs), the request in `conformance/src/protocol.rs`, its check in `conformance/src/runner.rs`, the built-in testee `conformance/src/testee/builtin.rs`, the Python testee `conformance/testees/python/testee.py`, then `shuttle schema` |
//! | a testee feature | its name in the testee's hello (`FEATURES` in `conformance/src/testee/builtin.rs` and in the Python testee) and the cases that need it (`CaseFile.features`) |
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
