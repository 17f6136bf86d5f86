//! Static limiting: a Rust payload type as the spec (the twin of tractor's
//! `Started[Point]`). The type's `schemars` schema is turned into a
//! [`PldSpec`] once; a payload is first validated against it (so a mismatch
//! is reported as msgspec words it, with its path: ``Expected `int`, got
//! `str` - at `$.x` ``) and then decoded with serde.
//!
//! # Whose words a mismatch gets
//!
//! The validation step reads `T`'s JSON Schema keywords as msgspec
//! constraints, so what it catches is worded as msgspec words it for the
//! equivalent Python type:
//!
//! * every integer type: `u8`/`u16`/`i8`/`i16` (schemars' `minimum` and
//!   `maximum`), `u32`/`i32`/`i64`/`isize`/`usize`/`u64`/`u128` (the bounds
//!   of their `format`, as schemars writes none), `NonZeroU*` (`minimum: 1`)
//!   and `#[schemars(range(..))]` on them, as
//!   `Annotated[int, Meta(ge=.., le=..)]`: ``Expected `int` <= 255``,
//!   ``Expected `int` >= 0``; `u64`'s bounds are all msgpack can carry, and
//!   `i64` gets `le=2**63-1`;
//! * `f32`/`f64` with `#[schemars(range(..))]`: ``Expected `float` >= 0.5``;
//! * `char` (`min_length=1, max_length=1`), `#[schemars(length(..))]` on
//!   strings and sequences, `[T; N]` (`min_length=max_length=N`), and map
//!   sizes: ``Expected `str` of length <= 3``,
//!   ``Expected `array` of length >= 1``;
//! * `#[schemars(regex(..))]`: ``Expected `str` matching regex '...'``;
//! * `HashSet`/`BTreeSet` of hashable items (`uniqueItems`) as `set[T]`.
//!
//! What still gets serde's wording (the payload passes the derived spec
//! and serde refuses it):
//!
//! * `NonZeroI*` at 0: schemars writes `not: {const: 0}`, which msgspec
//!   cannot express;
//! * integer bounds outside int64 (msgspec's `Meta` takes no others), i.e.
//!   a `maximum` between `2**63` and `2**64 - 2` from a custom `range`;
//! * strings with a `format` (chrono's `DateTime` and `NaiveDate`, uuid's
//!   `Uuid`, jiff's `Span`, `Ipv4Addr`, ...) stay `str`, not msgspec's
//!   `datetime`/`uuid.UUID`/... (as `PldSpec::from_schema` reads them):
//!   those crates take forms msgspec refuses (a leap second `23:59:60`, a
//!   braced or `urn:uuid:` UUID, a `Span` in years or as "1h 30m"), so the
//!   spec would refuse payloads the Rust type reads; their parse errors
//!   are the crates' own, and so are those of any string a `Deserialize`
//!   parses;
//! * patterns the regex engine cannot run (look-around, back-references)
//!   or that no Python string literal in a spec can hold (both quote
//!   kinds); serde does not check these either;
//! * maps with non-string keys and externally tagged or untagged enums
//!   with several struct variants (read as `dict[str, Any]`), and anything
//!   else a hand-written `Deserialize` refuses beyond its schema.

use std::marker::PhantomData;

use schemars::JsonSchema;
use serde::de::DeserializeOwned;

use super::json_schema::Origin;
use super::{PldSpec, SpecError};
use crate::error::{DecodeError, ErrorKind};
use crate::Raw;

/// The compiled spec of a Rust payload type `T`; build it once and reuse.
///
/// ```
/// use shuttle::{pld_spec::TypedSpec, Raw};
/// #[derive(serde::Deserialize, schemars::JsonSchema, Debug, PartialEq)]
/// struct Point { x: i64, y: i64 }
/// let spec = TypedSpec::<Point>::new().unwrap();
/// let p: Point = spec.decode(&Raw::encode(&serde_json::json!({"x": 1, "y": 2})).unwrap()).unwrap();
/// assert_eq!(p, Point { x: 1, y: 2 });
/// let err = spec.decode(&Raw::encode(&serde_json::json!({"x": "1", "y": 2})).unwrap()).unwrap_err();
/// assert_eq!(err.msgspec_text(), "Expected `int`, got `str` - at `$.x`");
/// ```
pub struct TypedSpec<T> {
    spec: PldSpec,
    _t: PhantomData<fn() -> T>,
}

impl<T> std::fmt::Debug for TypedSpec<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TypedSpec")
            .field("spec", &self.spec)
            .finish()
    }
}

impl<T> Clone for TypedSpec<T> {
    fn clone(&self) -> Self {
        TypedSpec {
            spec: self.spec.clone(),
            _t: PhantomData,
        }
    }
}

impl<T: DeserializeOwned + JsonSchema> TypedSpec<T> {
    /// Derives the spec from `T`'s JSON Schema.
    pub fn new() -> Result<Self, SpecError> {
        Ok(TypedSpec {
            spec: spec_of::<T>()?,
            _t: PhantomData,
        })
    }

    /// The dynamic spec derived from `T`.
    pub fn spec(&self) -> &PldSpec {
        &self.spec
    }

    /// Validates then decodes a payload.
    pub fn decode(&self, raw: &Raw<'_>) -> Result<T, DecodeError> {
        self.spec.validate(raw.as_bytes())?;
        raw.decode()
    }
}

/// The dynamic spec of a Rust type, through its `schemars` JSON Schema.
pub fn spec_of<T: JsonSchema>() -> Result<PldSpec, SpecError> {
    let schema = schemars::schema_for!(T);
    let value = serde_json::to_value(&schema)
        .map_err(|e| SpecError::syntax(format!("schema of {}: {e}", std::any::type_name::<T>())))?;
    let (spec, structs) = super::json_schema::from_json_schema(&value, Origin::Rust)?;
    PldSpec::parse(&spec, &structs)
}

/// Decodes a payload into `T`, reporting a mismatch as msgspec would
/// (``Expected `int`, got `str` - at `$.x` ``). Derives `T`'s spec on each
/// call; keep a [`TypedSpec`] to do that once.
pub fn decode_typed<T: DeserializeOwned + JsonSchema>(raw: &Raw<'_>) -> Result<T, DecodeError> {
    let spec = TypedSpec::<T>::new().map_err(|e| {
        DecodeError::new(ErrorKind::Other(format!(
            "no payload spec for this type: {e}"
        )))
    })?;
    spec.decode(raw)
}
