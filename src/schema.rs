//! JSON Schema (draft 2020-12) of the ten messages. (The documentation
//! rendered from them, `spec/messages.md` and `messages.html`, is written
//! by the harness: `shuttle schema`.)
//!
//! The schemas describe a message as [`Msg::to_json`](crate::Msg::to_json) renders it: wire keys
//! (`_parent_main_data`, `_bad_msg`, ...), the tag `msg_type` first as a
//! `const`, uids and addresses as 2-item arrays, payloads as any value with
//! the msgpack-to-JSON mapping of [`crate::json`]. They describe what a
//! conforming sender writes: every key present, nothing else. A receiver is
//! more lenient (`spec/PROTOCOL.md#decoding`): a defaulted key may be
//! missing (its `default` is given), unknown keys are ignored.
//!
//! Besides the standard keywords, every message schema carries
//! `x-wire-order` (its keys in the order they are written, tag first),
//! `x-required-on-decode` (the keys a decoder cannot do without) and
//! `x-msgpack-examples` (the exact bytes, in hex, of each of its
//! `examples`).
//!
//! [`schemas`] returns every schema of this crate, by name.
//!
//! ```
//! let all = shuttle::schema::schemas();
//! assert!(all.iter().any(|(name, _)| name == "Msg"));
//! ```
//!
//! The schemas are generated from the message table (`msg`), where their
//! implementation lives; this module is their public face.

pub use crate::msg::schema::{examples, schema_for, schemas, settings};
