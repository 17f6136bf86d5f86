//! The payload-spec limiter: what tractor's `PldRx` does with
//! `@tractor.context(pld_spec=...)` (`spec/PROTOCOL.md` §3), agreeing with
//! msgspec on every verdict and on the error text.
//!
//! * [`PldSpec`]: a dynamic spec parsed from Python annotation syntax plus a
//!   struct table (as written in capture `pld_specs` and in pld-vectors/1
//!   files), precompiled into a flat node table; [`PldSpec::validate`] checks
//!   raw payload bytes in one pass without building a value.
//! * `decode_typed` (feature `schema`): static limiting, a serde type as
//!   the spec (through its schemars JSON Schema).
//! * Per-dialog limiting over a channel's frames is the dialog engine's:
//!   [`crate::dialog::dialog_verdicts`].
//! * [`MsgTypeError`]: the `Error` tractor sends (or builds locally) for a
//!   payload violation, and its typed read-back.
//!
//! # Fidelity
//!
//! Verdicts, error types and texts are msgspec 0.22's, checked against the
//! shared pld-vectors, the team's `extra-pld-vectors.json`, the str-form
//! corpus `str-forms.json` and seeded differential fuzzing
//! (`conformance/tools/fuzz_pld_vectors.py`). Known limits: `Meta(pattern=...)`
//! runs on the `regex` crate (Python-only syntax such as look-around is
//! refused when the spec is parsed); the hash of a frozen struct, a
//! dataclass or a `NamedTuple` does not look at its fields (one holding a
//! list is taken as hashable in a set); the exact nesting depth at which Python raises `RecursionError`
//! depends on the Python stack ([`DEFAULT_MAX_DEPTH`] is its value for a
//! top-level call); when one union breaks several struct rules at once,
//! msgspec reports the first it meets while walking a `set` (ordered by
//! object ids), which cannot be reproduced — one violation is always
//! reported, possibly another one; `repr()` of unassigned code points.
//!
//! # Speed
//!
//! The spec is compiled into a flat node table. Validation dispatches on
//! each value's first byte, never recurses (an explicit, reused stack holds
//! open containers), and does not allocate on the success path once a
//! thread is warm: fixed-size scalars are accepted through a per-node
//! 256-entry size table, runs of them (int lists) are skipped in a tight
//! loop, structs whose fields are all scalars are checked by one loop
//! without a frame, and `Any` values by a frameless loop that only falls
//! back to the exact walker to word an error. On a loaded 2-core machine,
//! validating is about as fast as, and mostly faster than, `rmp_serde`
//! decoding the same payload into the equivalent Rust types.
//!
//! ```
//! use shuttle::pld_spec::PldSpec;
//! let spec = PldSpec::parse(
//!     "Point | None",
//!     &serde_json::json!({"Point": {"fields": [["x", "int"], ["y", "int"]]}}),
//! ).unwrap();
//! assert!(spec.validate(&[0xc0]).is_ok());
//! let err = spec.validate(&[0x01]).unwrap_err();
//! assert_eq!(err.msgspec_text(), "Expected `object | null`, got `int`");
//! ```

mod compile;
mod forms;
mod json_schema;
mod mte;
mod parse;
mod regex;
#[cfg(test)]
mod sample;
#[cfg(test)]
mod tests;
#[cfg(feature = "schema")]
mod typed;
mod validate;

use std::fmt;

pub use mte::{validate_msg, MsgTypeError, MsgTypeErrorView, MSG_TYPE_ERROR};
#[cfg(feature = "schema")]
pub use typed::{decode_typed, spec_of, TypedSpec};

use crate::error::DecodeError;
use crate::msgpack::Reader;

/// Deepest nesting of non-empty containers accepted, matching where
/// CPython's recursion limit (1000) stops msgspec on Python 3.11: 998
/// levels pass, the 999th raises `RecursionError`.
pub const DEFAULT_MAX_DEPTH: usize = crate::msgpack::MAX_DEPTH;

/// Where a spec was refused (mirrors the vectors' `stage`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// The spec string or struct table could not be read at all (not a
    /// msgspec error: bad syntax, unknown struct name).
    Syntax,
    /// `msgspec.defstruct` refused a struct.
    StructDefinition,
    /// `msgspec.msgpack.Decoder(spec)` refused the spec.
    Decoder,
}

impl Stage {
    /// The vectors' spelling: `syntax`, `struct-definition`, `decoder`.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Syntax => "syntax",
            Stage::StructDefinition => "struct-definition",
            Stage::Decoder => "decoder",
        }
    }
}

/// A spec that cannot be used: unreadable, or one msgspec refuses to build.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpecError {
    error_type: &'static str,
    reason: String,
    message: String,
    stage: Stage,
}

impl SpecError {
    /// An error msgspec raises while building a decoder for the spec; the
    /// reason is the text before its `` - type `...` `` tail.
    pub(crate) fn decoder(error_type: &'static str, message: String) -> Self {
        let reason = message
            .split(" - type `")
            .next()
            .unwrap_or_default()
            .to_string();
        SpecError {
            error_type,
            reason,
            message,
            stage: Stage::Decoder,
        }
    }

    /// An error Python raises while the spec's types are built
    /// (`msgspec.Meta(...)`'s checks, `defstruct`).
    pub(crate) fn definition(error_type: &'static str, message: String) -> Self {
        SpecError {
            error_type,
            reason: message.clone(),
            message,
            stage: Stage::StructDefinition,
        }
    }

    pub(crate) fn syntax(message: String) -> Self {
        SpecError {
            error_type: "SpecSyntaxError",
            reason: message.clone(),
            message,
            stage: Stage::Syntax,
        }
    }

    /// The Python exception class msgspec raises (`TypeError`, `ValueError`,
    /// `NotImplementedError`), or `SpecSyntaxError` for a spec that could
    /// not be read.
    pub fn error_type(&self) -> &'static str {
        self.error_type
    }

    /// msgspec's text without the trailing `` - type `...` is not
    /// supported`` (the vectors' `error_reason`).
    pub fn reason(&self) -> &str {
        &self.reason
    }

    /// The full text, with a Python-like rendering of the offending type.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Which stage refused the spec.
    pub fn stage(&self) -> Stage {
        self.stage
    }
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.error_type, self.message)
    }
}

impl std::error::Error for SpecError {}

/// A payload spec: a type in Python annotation syntax with its structs,
/// compiled for one-pass validation of raw msgpack payloads.
#[derive(Clone)]
pub struct PldSpec {
    text: String,
    structs: serde_json::Value,
    c: compile::Compiled,
    max_depth: usize,
}

impl fmt::Debug for PldSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PldSpec")
            .field("spec", &self.text)
            .field("structs", &self.structs)
            .finish_non_exhaustive()
    }
}

impl PldSpec {
    /// Parses `spec`, a type in Python's own spelling, with the struct
    /// table `structs`, and refuses what msgspec refuses.
    ///
    /// The spec: `Any`, `None`, `bool`, `int`, `float`, `str`, `bytes`,
    /// `bytearray`, `memoryview`, `datetime.datetime`, `datetime.date`,
    /// `datetime.time`, `datetime.timedelta`, `uuid.UUID`,
    /// `decimal.Decimal`, `msgspec.msgpack.Ext`, `msgspec.Raw`;
    /// `list[T]`, `set[T]`, `frozenset[T]`, `tuple[T, ...]`, `tuple[A, B]`,
    /// `dict[K, V]` (bare `list`, `set`, `dict`, ... hold `Any`);
    /// `Literal['a', 1]`; unions with `|`, `Optional[T]`, `Union[...]`;
    /// `typing.Annotated[T, msgspec.Meta(ge=0, max_length=3, pattern='^a',
    /// tz=True, ...)]` anywhere a type stands; and the names of the table.
    ///
    /// The table (`{}` or `null` for none) maps a name to a `msgspec.Struct`
    /// (`{"fields": [["x", "int"], ["y", "int", 0]], "tag": true,
    /// "array_like": false, "forbid_unknown_fields": false, "frozen": false,
    /// "rename": "camel", "tag_field": "kind"}`), or, with `"kind"`, to an
    /// `enum.Enum` (`{"kind": "enum", "members": {"RED": "red"}}`), a
    /// `typing.NewType` (`{"kind": "newtype", "type": "int"}`), a
    /// `typing.TypedDict` (`{"kind": "typeddict", "fields": [["a",
    /// "typing.NotRequired[int]"]], "total": true}`), a dataclass (`"kind":
    /// "dataclass"`, fields as a struct's, `"frozen"`) or a
    /// `typing.NamedTuple` (`"kind": "namedtuple"`, fields as a struct's).
    ///
    /// ```
    /// use shuttle::pld_spec::PldSpec;
    /// let spec = PldSpec::parse(
    ///     "set[typing.Annotated[int, msgspec.Meta(ge=0)]] | Color",
    ///     &serde_json::json!({"Color": {"kind": "enum", "members": {"RED": "red"}}}),
    /// ).unwrap();
    /// assert!(spec.validate(&[0x92, 0x01, 0x02]).is_ok());
    /// let err = spec.validate(&[0x91, 0xff]).unwrap_err();
    /// assert_eq!(err.msgspec_text(), "Expected `int` >= 0 - at `$[0]`");
    /// let err = spec.validate(&[0xa4, b'b', b'l', b'u', b'e']).unwrap_err();
    /// assert_eq!(err.msgspec_text(), "Invalid enum value 'blue'");
    /// ```
    pub fn parse(spec: &str, structs: &serde_json::Value) -> Result<PldSpec, SpecError> {
        let c = compile::compile(spec, structs)?;
        Ok(PldSpec {
            text: spec.to_string(),
            structs: structs.clone(),
            c,
            max_depth: DEFAULT_MAX_DEPTH,
        })
    }

    /// The spec `Any`: every well-formed payload passes (tractor's default).
    pub fn any() -> PldSpec {
        // "Any" with no structs always compiles.
        match Self::parse("Any", &serde_json::Value::Null) {
            Ok(s) => s,
            Err(e) => unreachable!("`Any` is a valid spec: {e}"),
        }
    }

    /// The same spec with another nesting limit (at most
    /// [`DEFAULT_MAX_DEPTH`]; larger values are capped so that validation
    /// stays within a bounded stack).
    pub fn with_max_depth(mut self, max_depth: usize) -> PldSpec {
        self.max_depth = max_depth.min(DEFAULT_MAX_DEPTH);
        self
    }

    /// The spec as written.
    pub fn spec_str(&self) -> &str {
        &self.text
    }

    /// The struct table as given.
    pub fn structs(&self) -> &serde_json::Value {
        &self.structs
    }

    /// tractor's `MsgDec.spec_str` rendering: member names joined with `|`
    /// (`PldMsg|NoneType`, `int|str`, `Any`), used in `MsgTypeError` texts.
    pub fn tractor_spec_str(&self) -> String {
        match &self.c.root_ast {
            Some(parse::Ty::Union(ts)) => ts.iter().map(tractor_name).collect::<Vec<_>>().join("|"),
            Some(t) => tractor_name(t),
            None => self.text.clone(),
        }
    }

    /// Validates one complete payload (exactly one msgpack value, nothing
    /// after it) as `msgspec.msgpack.decode(payload, type=spec)` would.
    /// On failure, [`DecodeError::msgspec_text`] is msgspec's `str(exc)`
    /// and [`DecodeError::python_type`] its exception class.
    pub fn validate(&self, payload: &[u8]) -> Result<(), DecodeError> {
        let mut v = validate::Validator {
            r: Reader::new(payload),
            c: &self.c,
            max_depth: self.max_depth,
            reference: false,
        };
        let root = &self.c.nodes[self.c.root as usize];
        if root.leaf {
            v.leaf_root(self.c.root)?;
        } else if let Some(sid) = root.flat_struct {
            v.flat_root(self.c.root, sid)?;
        } else {
            validate::with_stack(|stack| v.run(self.c.root, stack))?;
        }
        v.r.finish()
    }

    /// Validates a payload against this spec, then decodes it into `T` with
    /// serde: static limiting with a hand-written spec (mismatches are
    /// reported in msgspec's words; a payload that passes the spec but does
    /// not fit `T` gives serde's message).
    pub fn decode<T: serde::de::DeserializeOwned>(
        &self,
        raw: &crate::Raw<'_>,
    ) -> Result<T, DecodeError> {
        self.validate(raw.as_bytes())?;
        raw.decode()
    }

    /// [`PldSpec::validate`] without any of its shortcuts (size tables,
    /// flat structs, the `Any` loop): the general frame walker alone. Same
    /// results, slower; for testing the shortcuts (in the crate's tests
    /// and the fuzz targets, `--cfg fuzzing`, only).
    #[cfg(any(test, fuzzing))]
    pub fn validate_reference(&self, payload: &[u8]) -> Result<(), DecodeError> {
        let mut v = validate::Validator {
            r: Reader::new(payload),
            c: &self.c,
            max_depth: self.max_depth,
            reference: true,
        };
        validate::with_stack(|stack| v.run(self.c.root, stack))?;
        v.r.finish()
    }

    /// A random payload that conforms to this spec, drawing randomness from
    /// `rng` (for property tests and fuzzing). Encodings are often
    /// non-minimal; nesting is kept shallow.
    #[cfg(test)]
    pub(crate) fn sample(&self, rng: &mut dyn FnMut() -> u64) -> Vec<u8> {
        let mut s = sample::Sampler {
            c: &self.c,
            rng,
            poison: None,
            typed_seen: 0,
            poisoned: false,
        };
        let mut out = Vec::new();
        s.node(&mut out, self.c.root, 0, false);
        out
    }

    /// A random payload that conforms to this spec except for one value:
    /// the `k`-th typed (not `Any`, not a map key) value, counted modulo
    /// their number, is replaced by an ext value, which no spec of the
    /// grammar accepts. `None` when the spec has no typed position (`Any`).
    #[cfg(test)]
    pub(crate) fn sample_invalid(&self, rng: &mut dyn FnMut() -> u64, k: usize) -> Option<Vec<u8>> {
        let mut target = k;
        for _ in 0..8 {
            let mut s = sample::Sampler {
                c: &self.c,
                rng: &mut *rng,
                poison: Some(target),
                typed_seen: 0,
                poisoned: false,
            };
            let mut out = Vec::new();
            s.node(&mut out, self.c.root, 0, false);
            if s.poisoned {
                return Some(out);
            }
            if s.typed_seen == 0 {
                return None;
            }
            target = k % s.typed_seen;
        }
        None
    }

    /// A JSON Schema (draft 2020-12) describing the payloads this spec
    /// accepts, structs under `$defs`.
    pub fn json_schema(&self) -> serde_json::Value {
        json_schema::to_json_schema(&self.c)
    }

    /// Derives a dynamic spec from a JSON Schema, e.g. one produced by
    /// `schemars::schema_for!(T)` for the Rust payload type `T` (objects
    /// with `properties` become structs named after their `title` or
    /// `$defs` key; `required` fields stay required, the others get a
    /// `None` default). Validation keywords become `msgspec.Meta`
    /// constraints: integer and number bounds (integer ones within int64,
    /// including those implied by `format: int32`, `uint8`, ...) and
    /// `multipleOf`, string, array and object lengths, `pattern` (left out
    /// when the regex engine cannot run it); `uniqueItems` of hashable items
    /// makes a `set`, and the string `format`s msgspec's schemas write
    /// (`date-time`, `date`, `time`, `duration`, `uuid`, `decimal`) make
    /// their types.
    pub fn from_schema(schema: &serde_json::Value) -> Result<PldSpec, SpecError> {
        let (spec, structs) = json_schema::from_json_schema(schema, json_schema::Origin::Any)?;
        PldSpec::parse(&spec, &structs)
    }
}

fn tractor_name(t: &parse::Ty) -> String {
    match t {
        parse::Ty::Any => "Any".into(),
        parse::Ty::None => "NoneType".into(),
        parse::Ty::Struct(n) => n.clone(),
        other => {
            let s = other.to_string();
            s.replace("pld.", "")
        }
    }
}
