//! Compilation of a parsed spec and its struct table into the flat node
//! table the validator walks, with msgspec's rules on which specs are
//! refused.

use std::collections::HashMap;

use super::parse::{parse_ty, rename, Lit, Meta, Num, Ty};
use super::{SpecError, Stage};
use crate::python::json_repr;

// The scalar types a node accepts, as bits (msgspec's `types` mask).
pub(crate) const NONE: u32 = 1;
pub(crate) const BOOL: u32 = 1 << 1;
pub(crate) const INT: u32 = 1 << 2;
pub(crate) const FLOAT: u32 = 1 << 3;
pub(crate) const STR: u32 = 1 << 4;
pub(crate) const BYTES: u32 = 1 << 5;
pub(crate) const BYTEARRAY: u32 = 1 << 6;
pub(crate) const MEMORYVIEW: u32 = 1 << 7;
pub(crate) const DATETIME: u32 = 1 << 8;
pub(crate) const DATE: u32 = 1 << 9;
pub(crate) const TIME: u32 = 1 << 10;
pub(crate) const TIMEDELTA: u32 = 1 << 11;
pub(crate) const UUID: u32 = 1 << 12;
pub(crate) const DECIMAL: u32 = 1 << 13;
pub(crate) const EXT: u32 = 1 << 14;
/// Every type read from a msgpack bin.
pub(crate) const BIN_LIKE: u32 = BYTES | BYTEARRAY | MEMORYVIEW;
/// The types of which a union may hold one only (msgspec's "str-like").
const STR_LIKE: u32 =
    STR | BYTES | BYTEARRAY | MEMORYVIEW | DATETIME | DATE | TIME | TIMEDELTA | UUID | DECIMAL;

/// Index of a node in [`Compiled::nodes`].
pub(crate) type NodeId = u32;

/// How a struct (or a tagged union of structs) is picked.
#[derive(Clone, Debug)]
pub(crate) enum Sel {
    /// One struct.
    One(u32),
    /// A union of tagged structs: index into [`Compiled::unions`].
    Tagged(u32),
}

/// What an array is accepted as.
#[derive(Clone, Debug)]
pub(crate) enum ArrayKind {
    No,
    List(NodeId),
    VarTuple(NodeId),
    /// `set[T]` (`frozen`: `frozenset[T]`): items are read as keys and
    /// must be hashable.
    Set {
        elem: NodeId,
        frozen: bool,
    },
    Tuple(Box<[NodeId]>),
    Structs(Sel),
}

/// What a map is accepted as.
#[derive(Clone, Debug)]
pub(crate) enum ObjKind {
    No,
    Dict(NodeId, NodeId),
    Structs(Sel),
}

/// A float bound: the value and whether it is strict (`gt`/`lt`).
#[derive(Clone, Copy, Debug)]
pub(crate) struct FloatBound {
    pub(crate) value: f64,
    pub(crate) strict: bool,
}

/// The `msgspec.Meta` constraints of a node, one slot per kind of value
/// (msgspec's `c_*` fields): a union may constrain its int and its float
/// differently.
#[derive(Clone, Debug, Default)]
pub(crate) struct Constraints {
    pub(crate) int_min: Option<i64>,
    pub(crate) int_max: Option<i64>,
    pub(crate) int_multiple_of: Option<i64>,
    pub(crate) float_min: Option<FloatBound>,
    pub(crate) float_max: Option<FloatBound>,
    pub(crate) float_multiple_of: Option<f64>,
    pub(crate) str_min: Option<usize>,
    pub(crate) str_max: Option<usize>,
    /// The compiled pattern and the pattern as written.
    pub(crate) str_regex: Option<(::regex::Regex, Box<str>)>,
    pub(crate) bytes_min: Option<usize>,
    pub(crate) bytes_max: Option<usize>,
    pub(crate) array_min: Option<usize>,
    pub(crate) array_max: Option<usize>,
    pub(crate) map_min: Option<usize>,
    pub(crate) map_max: Option<usize>,
    /// `tz=True`: a datetime or time must carry an offset; `False`: must not.
    pub(crate) tz: Option<bool>,
}

impl Constraints {
    /// No constraint is set.
    pub(crate) fn is_empty(&self) -> bool {
        !self.numeric()
            && self.str_min.is_none()
            && self.str_max.is_none()
            && self.str_regex.is_none()
            && self.bytes_min.is_none()
            && self.bytes_max.is_none()
            && self.array_min.is_none()
            && self.array_max.is_none()
            && self.map_min.is_none()
            && self.map_max.is_none()
            && self.tz.is_none()
    }

    /// A bound or multiple on ints or floats is set.
    pub(crate) fn numeric(&self) -> bool {
        self.int_min.is_some()
            || self.int_max.is_some()
            || self.int_multiple_of.is_some()
            || self.float_min.is_some()
            || self.float_max.is_some()
            || self.float_multiple_of.is_some()
    }
}

/// Which constraints a type takes (msgspec's `constraint_kind`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Int,
    Float,
    Str,
    Bytes,
    Time,
    Array,
    Map,
    Other,
}

fn kind_of(t: &Ty) -> Kind {
    match t {
        Ty::Int => Kind::Int,
        Ty::Float => Kind::Float,
        Ty::Str => Kind::Str,
        Ty::Bytes | Ty::ByteArray | Ty::MemoryView => Kind::Bytes,
        Ty::DateTime | Ty::Time => Kind::Time,
        Ty::List(_) | Ty::Set(_) | Ty::FrozenSet(_) | Ty::VarTuple(_) => Kind::Array,
        Ty::Dict(..) => Kind::Map,
        _ => Kind::Other,
    }
}

/// msgspec's `typenode_collect_constraints`: checks that `meta` fits a type
/// of `kind` (erroring with the annotated type `shown`), then fills `c`.
fn apply_meta(
    c: &mut Constraints,
    meta: &Meta,
    kind: Kind,
    shown: &dyn std::fmt::Display,
) -> Result<(), SpecError> {
    let invalid = |name: &str, what: &str| {
        SpecError::decoder(
            "TypeError",
            format!("Can only set `{name}` on a {what} type - type `{shown}` is invalid"),
        )
    };
    if !matches!(kind, Kind::Int | Kind::Float) {
        for (name, set) in [
            ("gt", meta.gt),
            ("ge", meta.ge),
            ("lt", meta.lt),
            ("le", meta.le),
            ("multiple_of", meta.multiple_of),
        ] {
            if set.is_some() {
                return Err(invalid(name, "numeric"));
            }
        }
    }
    if kind != Kind::Str && meta.pattern.is_some() {
        return Err(invalid("pattern", "str"));
    }
    if !matches!(kind, Kind::Str | Kind::Bytes | Kind::Array | Kind::Map) {
        if meta.min_length.is_some() {
            return Err(invalid("min_length", "str, bytes, or collection"));
        }
        if meta.max_length.is_some() {
            return Err(invalid("max_length", "str, bytes, or collection"));
        }
    }
    if kind != Kind::Time && meta.tz.is_some() {
        return Err(invalid("tz", "datetime or time"));
    }
    let length = |v: Option<i128>| v.map(|v| usize::try_from(v).unwrap_or(usize::MAX));
    match kind {
        Kind::Int => {
            let as_i64 = |n: Num, offset: i128| -> Result<i64, SpecError> {
                let Num::Int(i) = n else {
                    return Err(SpecError::decoder(
                        "TypeError",
                        "'float' object cannot be interpreted as an integer".into(),
                    ));
                };
                let Ok(x) = i64::try_from(i) else {
                    return Err(SpecError::decoder("ValueError", "Integer bounds constraints (`ge`, `le`, ...) that don't fit in an int64 are currently not supported. If you need this feature, please open an issue on GitHub".into()));
                };
                if offset == -1 && x == i64::MIN {
                    return Err(SpecError::decoder(
                        "ValueError",
                        "lt <= -2**63 is not supported".into(),
                    ));
                }
                if offset == 1 && x == i64::MAX {
                    return Err(SpecError::decoder(
                        "ValueError",
                        "gt >= 2**63 - 1 is not supported".into(),
                    ));
                }
                Ok((x as i128 + offset) as i64)
            };
            if let Some(n) = meta.gt {
                c.int_min = Some(as_i64(n, 1)?);
            } else if let Some(n) = meta.ge {
                c.int_min = Some(as_i64(n, 0)?);
            }
            if let Some(n) = meta.lt {
                c.int_max = Some(as_i64(n, -1)?);
            } else if let Some(n) = meta.le {
                c.int_max = Some(as_i64(n, 0)?);
            }
            if let Some(n) = meta.multiple_of {
                c.int_multiple_of = Some(as_i64(n, 0)?);
            }
        }
        Kind::Float => {
            let f = |n: Num| match n {
                Num::Int(i) => i as f64,
                Num::Float(x) => x,
            };
            if let Some(n) = meta.gt {
                c.float_min = Some(FloatBound {
                    value: f(n),
                    strict: true,
                });
            } else if let Some(n) = meta.ge {
                c.float_min = Some(FloatBound {
                    value: f(n),
                    strict: false,
                });
            }
            if let Some(n) = meta.lt {
                c.float_max = Some(FloatBound {
                    value: f(n),
                    strict: true,
                });
            } else if let Some(n) = meta.le {
                c.float_max = Some(FloatBound {
                    value: f(n),
                    strict: false,
                });
            }
            if let Some(n) = meta.multiple_of {
                c.float_multiple_of = Some(f(n));
            }
        }
        Kind::Str => {
            if let Some(p) = &meta.pattern {
                let re = super::regex::compile(p)
                    .map_err(|why| SpecError::definition("re.error", why))?;
                c.str_regex = Some((re, p.as_str().into()));
            }
            if meta.min_length.is_some() {
                c.str_min = length(meta.min_length);
            }
            if meta.max_length.is_some() {
                c.str_max = length(meta.max_length);
            }
        }
        Kind::Bytes => {
            if meta.min_length.is_some() {
                c.bytes_min = length(meta.min_length);
            }
            if meta.max_length.is_some() {
                c.bytes_max = length(meta.max_length);
            }
        }
        Kind::Array => {
            if meta.min_length.is_some() {
                c.array_min = length(meta.min_length);
            }
            if meta.max_length.is_some() {
                c.array_max = length(meta.max_length);
            }
        }
        Kind::Map => {
            if meta.min_length.is_some() {
                c.map_min = length(meta.min_length);
            }
            if meta.max_length.is_some() {
                c.map_max = length(meta.max_length);
            }
        }
        Kind::Time => {
            if meta.tz.is_some() {
                c.tz = meta.tz;
            }
        }
        Kind::Other => {}
    }
    Ok(())
}

/// One type position: msgspec's `TypeNode`, the union of everything a value
/// there may be.
#[derive(Clone, Debug)]
pub(crate) struct Node {
    pub(crate) any: bool,
    /// `msgspec.Raw` alone: any well-formed value, skipped unchecked.
    pub(crate) raw: bool,
    pub(crate) flags: u32,
    pub(crate) int_lits: Box<[i64]>,
    /// `msgspec.Meta` constraints, if any.
    pub(crate) constr: Option<Box<Constraints>>,
    pub(crate) str_lits: Box<[Box<str>]>,
    pub(crate) array: ArrayKind,
    pub(crate) object: ObjKind,
    /// msgspec's rendering of what is expected (`int | null`).
    pub(crate) expected: Box<str>,
    /// Only scalars are accepted (no container, not `Any`): validated
    /// inline by the frame that holds it.
    pub(crate) leaf: bool,
    /// Scalars and, as the only container, one struct in map form whose
    /// fields are all leaves: the struct this node may hold, validated
    /// inline by the frame that holds the node (outside map keys).
    pub(crate) flat_struct: Option<u32>,
    /// Per first byte: the size of a value accepted without further checks
    /// (fixed-size scalars), or 0 for the general path.
    pub(crate) fast: Box<[u8; 256]>,
}

/// A tag value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum TagVal {
    Str(Box<str>),
    Int(i64),
}

/// One struct field.
#[derive(Clone, Debug)]
pub(crate) struct FieldDef {
    /// Name on the wire (after `rename`).
    pub(crate) wire: Box<str>,
    pub(crate) ty: NodeId,
    pub(crate) required: bool,
    pub(crate) default: Option<serde_json::Value>,
    pub(crate) ty_ast: Ty,
}

/// The record classes msgspec decodes: a `msgspec.Struct`, or one of the
/// standard library's shapes, which decode slightly differently.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Record {
    Struct,
    /// A `typing.TypedDict`: a plain dict with required keys.
    TypedDict,
    /// A `dataclasses.dataclass`.
    Dataclass,
    /// A `typing.NamedTuple`: an array, a tuple in Python.
    NamedTuple,
}

/// An `enum.Enum` class of the table: its member values.
#[derive(Clone, Debug)]
pub(crate) struct EnumDef {
    pub(crate) name: Box<str>,
    pub(crate) values: Vec<serde_json::Value>,
}

/// What the table defines besides records: enums and `typing.NewType`s.
#[derive(Clone, Debug, Default)]
pub(crate) struct Others {
    pub(crate) enums: HashMap<String, EnumDef>,
    pub(crate) newtypes: HashMap<String, Ty>,
}

/// One struct class.
#[derive(Clone, Debug)]
pub(crate) struct StructDef {
    pub(crate) name: Box<str>,
    pub(crate) fields: Vec<FieldDef>,
    pub(crate) tag: Option<TagVal>,
    pub(crate) tag_field: Box<str>,
    pub(crate) array_like: bool,
    pub(crate) forbid_unknown: bool,
    /// `frozen=True`: instances are hashable.
    pub(crate) frozen: bool,
    /// Which kind of record class it is.
    pub(crate) record: Record,
    pub(crate) nrequired: usize,
    /// Every field is a leaf node, at most 64 fields: validated by one
    /// flat loop.
    pub(crate) flat: bool,
}

/// A union of tagged structs.
#[derive(Clone, Debug)]
pub(crate) struct TagUnion {
    pub(crate) tag_field: Box<str>,
    pub(crate) strs: Vec<(Box<str>, u32)>,
    pub(crate) ints: Vec<(i64, u32)>,
}

/// The flat, precompiled form of a spec.
#[derive(Clone, Debug, Default)]
pub(crate) struct Compiled {
    pub(crate) nodes: Vec<Node>,
    pub(crate) structs: Vec<StructDef>,
    pub(crate) unions: Vec<TagUnion>,
    pub(crate) root: NodeId,
    pub(crate) root_ast: Option<Ty>,
}

fn decoder_err(ty: &'static str, reason: &str, t: &dyn std::fmt::Display) -> SpecError {
    SpecError {
        error_type: ty,
        reason: reason.to_string(),
        message: format!("{reason} - type `{t}` is not supported"),
        stage: Stage::Decoder,
    }
}

fn def_err(ty: &'static str, msg: String) -> SpecError {
    SpecError {
        error_type: ty,
        reason: msg.clone(),
        message: msg,
        stage: Stage::StructDefinition,
    }
}

const BIG_INT: &str = "Integer values > (2**63 - 1) are not currently supported for Enum/Literal/integer tags. If you need this feature, please open an issue on GitHub.";

fn big_int() -> SpecError {
    SpecError {
        error_type: "NotImplementedError",
        reason: BIG_INT.to_string(),
        message: BIG_INT.to_string(),
        stage: Stage::Decoder,
    }
}

/// Parses a struct table entry by entry (definition stage).
/// A parsed struct table: the record classes, their index by name, and
/// the enums and `NewType`s.
type Table = (Vec<StructDef>, HashMap<String, u32>, Others);

fn parse_structs(table: &serde_json::Value) -> Result<Table, SpecError> {
    let mut structs = Vec::new();
    let mut by_name = HashMap::new();
    let mut others = Others::default();
    let map = match table {
        serde_json::Value::Object(m) => m,
        serde_json::Value::Null => return Ok((structs, by_name, others)),
        _ => {
            return Err(SpecError::syntax(
                "the struct table must be a JSON object".into(),
            ))
        }
    };
    for (name, def) in map {
        let bad = |why: &str| SpecError::syntax(format!("struct {name}: {why}"));
        let obj = def.as_object().ok_or_else(|| bad("not an object"))?;
        let record = match obj.get("kind").and_then(|k| k.as_str()) {
            None | Some("struct") => Record::Struct,
            Some("typeddict") => Record::TypedDict,
            Some("dataclass") => Record::Dataclass,
            Some("namedtuple") => Record::NamedTuple,
            Some("enum") => {
                let members = obj
                    .get("members")
                    .and_then(|m| m.as_object())
                    .ok_or_else(|| bad("an enum needs `members`, an object of name to value"))?;
                let mut values: Vec<serde_json::Value> = Vec::new();
                for v in members.values() {
                    if !(v.is_string() || v.is_i64() || v.is_u64() || v.is_number()) {
                        return Err(bad("enum values must be strings or numbers"));
                    }
                    // Members with equal values are aliases.
                    if !values.contains(v) {
                        values.push(v.clone());
                    }
                }
                others.enums.insert(
                    name.clone(),
                    EnumDef {
                        name: name.as_str().into(),
                        values,
                    },
                );
                continue;
            }
            Some("newtype") => {
                let ty = obj
                    .get("type")
                    .and_then(|t| t.as_str())
                    .ok_or_else(|| bad("a newtype needs `type`, a spec string"))?;
                others.newtypes.insert(name.clone(), parse_ty(ty)?);
                continue;
            }
            Some(other) => return Err(bad(&format!("unknown kind {other:?}"))),
        };
        let total = obj.get("total").and_then(|t| t.as_bool()).unwrap_or(true);
        let rename_how = match obj.get("rename") {
            None | Some(serde_json::Value::Null) => None,
            Some(serde_json::Value::String(s)) => {
                if rename("x", s).is_none() {
                    return Err(bad("unknown rename convention"));
                }
                Some(s.clone())
            }
            Some(_) => return Err(bad("`rename` must be a string")),
        };
        let mut fields = Vec::new();
        let mut seen_default = false;
        let field_list = obj
            .get("fields")
            .and_then(|f| f.as_array())
            .ok_or_else(|| bad("missing `fields`"))?;
        // defstruct checks every default before the field order.
        for f in field_list.iter().filter(|_| record == Record::Struct) {
            if let Some(d) = f.as_array().and_then(|f| f.get(2)) {
                let non_empty = match d {
                    serde_json::Value::Array(a) => !a.is_empty(),
                    serde_json::Value::Object(o) => !o.is_empty(),
                    _ => false,
                };
                if non_empty {
                    return Err(def_err("TypeError", format!(
                        "Using a non-empty mutable collection ({}) as a default value is unsafe. Instead configure a `default_factory` for this field.",
                        json_repr(d)
                    )));
                }
            }
        }
        for f in field_list {
            let f = f.as_array().ok_or_else(|| bad("a field is not an array"))?;
            let (fname, fty) = match (f.first(), f.get(1)) {
                (Some(serde_json::Value::String(n)), Some(serde_json::Value::String(t))) => (n, t),
                _ => return Err(bad("a field must be [name, type] or [name, type, default]")),
            };
            let default = f.get(2).cloned();
            // A TypedDict field is required unless `total=False` or
            // `NotRequired[...]` says otherwise; it has no default.
            let (fty, required) = match record {
                Record::TypedDict => {
                    if default.is_some() {
                        return Err(bad("a TypedDict field has no default"));
                    }
                    let strip = |t: &str, w: &str| {
                        t.strip_prefix("typing.")
                            .unwrap_or(t)
                            .strip_prefix(w)
                            .and_then(|r| r.strip_prefix('['))
                            .and_then(|r| r.strip_suffix(']'))
                            .map(str::to_string)
                    };
                    match (strip(fty, "NotRequired"), strip(fty, "Required")) {
                        (Some(inner), _) => (inner, false),
                        (_, Some(inner)) => (inner, true),
                        _ => (fty.clone(), total),
                    }
                }
                _ => (fty.clone(), default.is_none()),
            };
            if let (Record::Dataclass, Some(d)) = (record, &default) {
                if d.is_array() || d.is_object() {
                    let class = if d.is_array() { "list" } else { "dict" };
                    return Err(def_err("ValueError", format!(
                        "mutable default <class '{class}'> for field {fname} is not allowed: use default_factory"
                    )));
                }
            }
            if default.is_some() {
                seen_default = true;
            } else if seen_default && record != Record::TypedDict {
                let last = field_list
                    .iter()
                    .filter_map(|f| f.as_array())
                    .take_while(|f| f.first().and_then(|n| n.as_str()) != Some(fname.as_str()))
                    .filter(|f| f.len() > 2)
                    .last()
                    .and_then(|f| f.first())
                    .and_then(|n| n.as_str())
                    .unwrap_or_default()
                    .to_string();
                return Err(def_err("TypeError", match record {
                    // Python 3.11's wording (3.13 adds the default's name).
                    Record::Dataclass => format!("non-default argument '{fname}' follows default argument"),
                    Record::NamedTuple => format!("Non-default namedtuple field {fname} cannot follow default field {last}"),
                    _ => format!("Required field '{fname}' cannot follow optional fields. Either reorder the struct fields, or set `kw_only=True` in the struct definition."),
                }));
            }
            let fty = &fty;
            let wire = match &rename_how {
                Some(how) => rename(fname, how).unwrap_or_else(|| fname.clone()),
                None => fname.clone(),
            };
            fields.push(FieldDef {
                wire: wire.into(),
                ty: 0,
                required,
                default,
                ty_ast: parse_ty(fty)?,
            });
        }
        let tag_field_opt = match obj.get("tag_field") {
            None | Some(serde_json::Value::Null) => None,
            Some(serde_json::Value::String(s)) => Some(s.clone()),
            Some(_) => return Err(bad("`tag_field` must be a string")),
        };
        let tag = match obj.get("tag") {
            None | Some(serde_json::Value::Null) | Some(serde_json::Value::Bool(false)) => {
                tag_field_opt
                    .as_ref()
                    .map(|_| TagVal::Str(name.as_str().into()))
            }
            Some(serde_json::Value::Bool(true)) => Some(TagVal::Str(name.as_str().into())),
            Some(serde_json::Value::String(s)) => Some(TagVal::Str(s.as_str().into())),
            Some(serde_json::Value::Number(n)) => match n.as_i64() {
                Some(i) => Some(TagVal::Int(i)),
                None if n.is_u64() => {
                    return Err(def_err(
                        "ValueError",
                        "Integer `tag` values must be within [-2**63, 2**63 - 1]".into(),
                    ))
                }
                None => return Err(bad("a tag must be a bool, a string or an integer")),
            },
            Some(_) => return Err(bad("a tag must be a bool, a string or an integer")),
        };
        let tag_field: Box<str> = tag_field_opt.as_deref().unwrap_or("type").into();
        if tag.is_some() && fields.iter().any(|f| *f.wire == *tag_field) {
            return Err(def_err(
                "ValueError",
                format!("`tag_field='{tag_field}' conflicts with an existing field of that name"),
            ));
        }
        let flag = |k: &str| obj.get(k).and_then(|v| v.as_bool()).unwrap_or(false);
        let nrequired = fields.iter().filter(|f| f.required).count();
        by_name.insert(name.clone(), structs.len() as u32);
        let is_struct = record == Record::Struct;
        structs.push(StructDef {
            name: name.as_str().into(),
            fields,
            tag: if is_struct { tag } else { None },
            tag_field,
            array_like: record == Record::NamedTuple || (is_struct && flag("array_like")),
            forbid_unknown: is_struct && flag("forbid_unknown_fields"),
            frozen: flag("frozen"),
            record,
            nrequired,
            flat: false,
        });
    }
    Ok((structs, by_name, others))
}

struct Builder {
    c: Compiled,
    by_name: HashMap<String, u32>,
    others: std::rc::Rc<Others>,
    scheduled: Vec<bool>,
    queue: Vec<u32>,
}

/// A union member as msgspec collects it: a type with the constraints of
/// the `Annotated` around it, or the constraint check of an `Annotated`
/// around a union (after its members).
enum Item<'t> {
    Member(&'t Ty, Option<(&'t Meta, &'t Ty)>),
    AnnotatedUnion(&'t Meta, &'t Ty),
}

/// How many `NewType`s may wrap each other.
const MAX_NEWTYPE_DEPTH: usize = 32;

fn flatten<'t>(
    t: &'t Ty,
    others: &'t Others,
    out: &mut Vec<Item<'t>>,
    depth: usize,
) -> Result<(), SpecError> {
    if depth > MAX_NEWTYPE_DEPTH {
        return Err(SpecError::syntax(format!(
            "`NewType`s nest too deep (or refer to themselves) in `{t}`"
        )));
    }
    match t {
        Ty::Union(ts) => {
            for t in ts {
                flatten(t, others, out, depth)?;
            }
        }
        Ty::Annotated(inner, meta) => match &**inner {
            Ty::Union(_) => {
                flatten(inner, others, out, depth)?;
                out.push(Item::AnnotatedUnion(meta, t));
            }
            // A NewType is its type, inside the Annotated too.
            Ty::Struct(n) if others.newtypes.contains_key(n) => {
                let mut inner_items = Vec::new();
                flatten(&others.newtypes[n], others, &mut inner_items, depth + 1)?;
                match inner_items.as_slice() {
                    [Item::Member(m, None)] => out.push(Item::Member(m, Some((meta, t)))),
                    _ => {
                        out.extend(inner_items);
                        out.push(Item::AnnotatedUnion(meta, t));
                    }
                }
            }
            other => out.push(Item::Member(other, Some((meta, t)))),
        },
        // A NewType is transparent (msgspec strips it like Annotated).
        Ty::Struct(n) if others.newtypes.contains_key(n) => {
            flatten(&others.newtypes[n], others, out, depth + 1)?;
        }
        t => out.push(Item::Member(t, None)),
    }
    Ok(())
}

impl Builder {
    fn sid(&mut self, name: &str) -> Result<u32, SpecError> {
        let sid = *self.by_name.get(name).ok_or_else(|| {
            SpecError::syntax(format!("unknown struct `{name}` (not in the struct table)"))
        })?;
        if !self.scheduled[sid as usize] {
            self.scheduled[sid as usize] = true;
            self.queue.push(sid);
        }
        Ok(sid)
    }

    fn node(&mut self, t: &Ty) -> Result<NodeId, SpecError> {
        let others = self.others.clone();
        let mut items = Vec::new();
        flatten(t, &others, &mut items, 0)?;
        // Enums and the standard library's records, at most one of each
        // kind (msgspec's `typenode_collect_*`).
        let mut int_enum = false;
        let mut str_enum = false;
        let mut empty_enum = false;
        let mut lit_ints = false;
        let mut lit_strs = false;
        let mut typeddict: Option<u32> = None;
        let mut dataclass: Option<u32> = None;
        let mut namedtuple: Option<u32> = None;
        let unique = |kind: &str| {
            decoder_err(
                "TypeError",
                &format!("Type unions may not contain more than one {kind} type"),
                t,
            )
        };
        let mut members: Vec<&Ty> = Vec::new();
        let mut n = Node {
            any: false,
            raw: false,
            flags: 0,
            int_lits: Box::new([]),
            constr: None,
            str_lits: Box::new([]),
            array: ArrayKind::No,
            object: ObjKind::No,
            expected: "".into(),
            leaf: false,
            flat_struct: None,
            fast: Box::new([0; 256]),
        };
        let mut ints: Vec<i64> = Vec::new();
        let mut strs: Vec<Box<str>> = Vec::new();
        let mut arrays: Vec<&Ty> = Vec::new();
        let mut dicts: Vec<&Ty> = Vec::new();
        let mut structs: Vec<u32> = Vec::new();
        let mut big_literal = false;
        // msgspec's checks come in a fixed order: a second list-like or
        // dict type while collecting the members (in member order), then
        // the struct rules, then out-of-range integer literals, then
        // array-like / dict-like types mixed with structs, then str-likes.
        let mut constr = Constraints::default();
        for item in &items {
            let (m, meta) = match item {
                Item::Member(m, meta) => (*m, *meta),
                Item::AnnotatedUnion(meta, shown) => {
                    apply_meta(&mut constr, meta, Kind::Other, shown)?;
                    continue;
                }
            };
            members.push(m);
            match m {
                Ty::None => n.flags |= NONE,
                Ty::Bool => n.flags |= BOOL,
                Ty::Int => n.flags |= INT,
                Ty::Float => n.flags |= FLOAT,
                Ty::Str => n.flags |= STR,
                Ty::Bytes => n.flags |= BYTES,
                Ty::ByteArray => n.flags |= BYTEARRAY,
                Ty::MemoryView => n.flags |= MEMORYVIEW,
                Ty::DateTime => n.flags |= DATETIME,
                Ty::Date => n.flags |= DATE,
                Ty::Time => n.flags |= TIME,
                Ty::TimeDelta => n.flags |= TIMEDELTA,
                Ty::Uuid => n.flags |= UUID,
                Ty::Decimal => n.flags |= DECIMAL,
                Ty::Ext => n.flags |= EXT,
                // Raw adds nothing to a union; alone it takes anything.
                Ty::Raw => {}
                Ty::Literal(ls) => {
                    for l in ls {
                        lit_ints |= matches!(l, Lit::Int(_));
                        match l {
                            Lit::Int(i) => match i64::try_from(*i) {
                                Ok(i) if !ints.contains(&i) => ints.push(i),
                                Ok(_) => {}
                                Err(_) => big_literal = true,
                            },
                            Lit::Str(s) => {
                                lit_strs = true;
                                if !strs.iter().any(|x| **x == **s) {
                                    strs.push(s.as_str().into())
                                }
                            }
                        }
                    }
                }
                Ty::List(_) | Ty::VarTuple(_) | Ty::Tuple(_) | Ty::Set(_) | Ty::FrozenSet(_) => {
                    if !arrays.is_empty() {
                        return Err(decoder_err(
                            "TypeError",
                            "Type unions may not contain more than one array-like (list, set, tuple) type",
                            t,
                        ));
                    }
                    arrays.push(m)
                }
                Ty::Dict(..) => {
                    if !dicts.is_empty() {
                        return Err(decoder_err(
                            "TypeError",
                            "Type unions may not contain more than one dict type",
                            t,
                        ));
                    }
                    dicts.push(m)
                }
                Ty::Struct(name) if others.enums.contains_key(name) => {
                    let e = &others.enums[name];
                    let all_ints = e.values.iter().all(|v| v.is_i64() || v.is_u64());
                    let all_strs = e.values.iter().all(|v| v.is_string());
                    if all_ints {
                        if int_enum {
                            return Err(unique("int enum"));
                        }
                        int_enum = true;
                        empty_enum |= e.values.is_empty();
                        for v in &e.values {
                            match v.as_i64() {
                                Some(i) if !ints.contains(&i) => ints.push(i),
                                Some(_) => {}
                                None => big_literal = true,
                            }
                        }
                    } else if all_strs {
                        if str_enum {
                            return Err(unique("str enum"));
                        }
                        str_enum = true;
                        for v in e.values.iter().filter_map(|v| v.as_str()) {
                            if !strs.iter().any(|x| **x == *v) {
                                strs.push(v.into())
                            }
                        }
                    } else {
                        return Err(decoder_err(
                            "TypeError",
                            "Enums must contain either all str or all int values",
                            &format_args!("<enum '{}'>", e.name),
                        ));
                    }
                }
                Ty::Struct(name) => {
                    let sid = self.sid(name)?;
                    let slot = match self.c.structs[sid as usize].record {
                        Record::Struct => None,
                        Record::TypedDict => Some((&mut typeddict, "TypedDict")),
                        Record::Dataclass => Some((&mut dataclass, "dataclass or attrs")),
                        Record::NamedTuple => Some((&mut namedtuple, "NamedTuple")),
                    };
                    match slot {
                        None => {
                            if !structs.contains(&sid) {
                                structs.push(sid)
                            }
                        }
                        Some((slot, kind)) => {
                            if slot.is_some_and(|s| s != sid) {
                                return Err(unique(kind));
                            }
                            *slot = Some(sid);
                        }
                    }
                }
                Ty::Any => {
                    if let Some((meta, shown)) = meta {
                        apply_meta(&mut constr, meta, Kind::Other, shown)?;
                    }
                    // `Any` swallows the union: msgspec stops collecting
                    // there (errors on earlier members still count) and
                    // checks nothing else.
                    n.any = true;
                    n.expected = "any".into();
                    self.c.nodes.push(n);
                    return Ok((self.c.nodes.len() - 1) as NodeId);
                }
                Ty::Union(_) | Ty::Annotated(..) => {}
            }
            if let Some((meta, shown)) = meta {
                apply_meta(&mut constr, meta, kind_of(m), shown)?;
            }
        }
        if !constr.is_empty() {
            n.constr = Some(Box::new(constr));
        }
        if structs.len() > 1 {
            // msgspec walks a set of the structs (in an order that depends
            // on object ids); with a single violation the order does not
            // matter, declaration order is used here.
            let defs: Vec<&StructDef> = structs
                .iter()
                .map(|s| &self.c.structs[*s as usize])
                .collect();
            let first = defs[0];
            for (i, d) in defs.iter().enumerate() {
                if d.tag.is_none() {
                    return Err(decoder_err("TypeError", "If a type union contains multiple Struct types, all Struct types must be tagged (via `tag` or `tag_field` kwarg)", t));
                }
                if i > 0 {
                    if d.array_like != first.array_like {
                        return Err(decoder_err("TypeError", "Type unions may not contain Struct types with `array_like=True` and `array_like=False`", t));
                    }
                    let is_int = |d: &StructDef| matches!(d.tag, Some(TagVal::Int(_)));
                    if is_int(d) != is_int(first) {
                        return Err(decoder_err(
                            "TypeError",
                            "Type unions may not contain Struct types with both `int` and `str` tags",
                            t,
                        ));
                    }
                    if d.tag_field != first.tag_field {
                        return Err(decoder_err("TypeError", "If a type union contains multiple Struct types, all Struct types must have the same `tag_field`", t));
                    }
                }
                if defs[..i].iter().any(|e| e.tag == d.tag) {
                    return Err(decoder_err("TypeError", "If a type union contains multiple Struct types, all Struct types must have unique `tag` values", t));
                }
            }
        }
        if big_literal {
            return Err(big_int());
        }
        let map_structs = structs
            .iter()
            .any(|s| !self.c.structs[*s as usize].array_like);
        let arr_structs = structs
            .iter()
            .any(|s| self.c.structs[*s as usize].array_like);
        // msgspec's `typenode_collect_check_invariants`, in its order.
        let array_likes =
            arrays.len() + usize::from(arr_structs) + usize::from(namedtuple.is_some());
        if array_likes > 1 {
            return Err(decoder_err("TypeError", "Type unions may not contain more than one array-like type (`Struct(array_like=True)`, `list`, `set`, `frozenset`, `tuple`, `NamedTuple`)", t));
        }
        let dict_likes = dicts.len()
            + usize::from(map_structs)
            + usize::from(typeddict.is_some())
            + usize::from(dataclass.is_some());
        if dict_likes > 1 {
            return Err(decoder_err("TypeError", "Type unions may not contain more than one dict-like type (`Struct`, `dict`, `TypedDict`, `dataclass`)", t));
        }
        // An `int` (a `str`) takes in the literals of its kind.
        let int_likes = u32::from(n.flags & INT != 0)
            + u32::from(int_enum)
            + u32::from(lit_ints && n.flags & INT == 0);
        if int_likes > 1 {
            return Err(decoder_err("TypeError", "Type unions may not contain more than one int-like type (`int`, `Enum`, `Literal[int values]`)", t));
        }
        let str_likes = (n.flags & STR_LIKE).count_ones()
            + u32::from(str_enum)
            + u32::from(lit_strs && n.flags & STR == 0);
        if str_likes > 1 {
            return Err(decoder_err("TypeError", "Type unions may not contain more than one str-like type (`str`, `Enum`, `Literal[str values]`, `datetime`, `date`, `time`, `timedelta`, `uuid`, `decimal`, `bytes`, `bytearray`)", t));
        }
        if empty_enum {
            return Err(SpecError::decoder(
                "TypeError",
                "Enum types must have at least one item, {} is invalid".into(),
            ));
        }
        // The standard library's records take the place of a struct.
        if let Some(sid) = namedtuple {
            n.array = ArrayKind::Structs(Sel::One(sid));
        }
        if let Some(sid) = typeddict.or(dataclass) {
            n.object = ObjKind::Structs(Sel::One(sid));
        }
        // Children.
        if let Some(a) = arrays.first() {
            n.array = match a {
                Ty::List(e) => ArrayKind::List(self.node(e)?),
                Ty::VarTuple(e) => ArrayKind::VarTuple(self.node(e)?),
                Ty::Set(e) => ArrayKind::Set {
                    elem: self.node(e)?,
                    frozen: false,
                },
                Ty::FrozenSet(e) => ArrayKind::Set {
                    elem: self.node(e)?,
                    frozen: true,
                },
                Ty::Tuple(items) => ArrayKind::Tuple(
                    items
                        .iter()
                        .map(|i| self.node(i))
                        .collect::<Result<Vec<_>, _>>()?
                        .into(),
                ),
                _ => ArrayKind::No,
            };
        }
        if let Some(Ty::Dict(k, v)) = dicts.first() {
            n.object = ObjKind::Dict(self.node(k)?, self.node(v)?);
        }
        if !structs.is_empty() {
            let sel = if structs.len() == 1 {
                Sel::One(structs[0])
            } else {
                let mut u = TagUnion {
                    tag_field: self.c.structs[structs[0] as usize].tag_field.clone(),
                    strs: Vec::new(),
                    ints: Vec::new(),
                };
                for s in &structs {
                    match &self.c.structs[*s as usize].tag {
                        Some(TagVal::Str(v)) => u.strs.push((v.clone(), *s)),
                        Some(TagVal::Int(i)) => u.ints.push((*i, *s)),
                        None => {}
                    }
                }
                self.c.unions.push(u);
                Sel::Tagged((self.c.unions.len() - 1) as u32)
            };
            if arr_structs {
                n.array = ArrayKind::Structs(sel);
            } else {
                n.object = ObjKind::Structs(sel);
            }
        }
        ints.sort_unstable();
        strs.sort_unstable();
        n.int_lits = ints.into();
        n.str_lits = strs.into();
        // Expected text, in msgspec's fixed order.
        let mut parts: Vec<&str> = Vec::new();
        if n.flags & BOOL != 0 {
            parts.push("bool");
        }
        if n.flags & INT != 0 || !n.int_lits.is_empty() {
            parts.push("int");
        }
        if n.flags & FLOAT != 0 {
            parts.push("float");
        }
        if n.flags & STR != 0 || !n.str_lits.is_empty() {
            parts.push("str");
        }
        if n.flags & BIN_LIKE != 0 {
            parts.push("bytes");
        }
        for (flag, name) in [
            (DATETIME, "datetime"),
            (DATE, "date"),
            (TIME, "time"),
            (TIMEDELTA, "duration"),
            (UUID, "uuid"),
            (DECIMAL, "decimal"),
            (EXT, "ext"),
        ] {
            if n.flags & flag != 0 {
                parts.push(name);
            }
        }
        if !matches!(n.object, ObjKind::No) {
            parts.push("object");
        }
        if !matches!(n.array, ArrayKind::No) {
            parts.push("array");
        }
        if n.flags & NONE != 0 {
            parts.push("null");
        }
        n.expected = parts.join(" | ").into();
        // `msgspec.Raw` alone: msgspec's empty type mask.
        n.raw = members.iter().all(|m| matches!(m, Ty::Raw));
        n.leaf = !n.raw && matches!(n.array, ArrayKind::No) && matches!(n.object, ObjKind::No);
        n.fast = fast_table(&n);
        self.c.nodes.push(n);
        Ok((self.c.nodes.len() - 1) as NodeId)
    }
}

/// The fixed sizes of the scalars a node accepts outright.
fn fast_table(n: &Node) -> Box<[u8; 256]> {
    let mut t = Box::new([0u8; 256]);
    if n.flags & NONE != 0 {
        t[0xc0] = 1;
    }
    if n.flags & BOOL != 0 {
        t[0xc2] = 1;
        t[0xc3] = 1;
    }
    // An int is an int, else a literal, else a float, else a decimal;
    // numbers under constraints take the general path.
    let constrained = n.constr.as_ref().is_some_and(|c| c.numeric());
    let ints = !constrained
        && (n.flags & INT != 0 || (n.flags & (FLOAT | DECIMAL) != 0 && n.int_lits.is_empty()));
    if ints {
        for b in (0x00..=0x7f).chain(0xe0..=0xff) {
            t[b] = 1;
        }
        for (b, size) in [
            (0xcc, 2),
            (0xcd, 3),
            (0xce, 5),
            (0xcf, 9),
            (0xd0, 2),
            (0xd1, 3),
            (0xd2, 5),
            (0xd3, 9),
        ] {
            t[b] = size;
        }
    }
    if n.flags & (FLOAT | DECIMAL) != 0 && !constrained {
        t[0xca] = 5;
        t[0xcb] = 9;
    }
    t
}

/// Parses and compiles a spec with its struct table.
pub(crate) fn compile(spec: &str, table: &serde_json::Value) -> Result<Compiled, SpecError> {
    let (structs, by_name, others) = parse_structs(table)?;
    let root_ast = parse_ty(spec)?;
    let n = structs.len();
    let mut b = Builder {
        c: Compiled {
            structs,
            ..Compiled::default()
        },
        by_name,
        others: std::rc::Rc::new(others),
        scheduled: vec![false; n],
        queue: Vec::new(),
    };
    b.c.root = b.node(&root_ast)?;
    b.c.root_ast = Some(root_ast);
    while let Some(sid) = b.queue.pop() {
        let asts: Vec<Ty> = b.c.structs[sid as usize]
            .fields
            .iter()
            .map(|f| f.ty_ast.clone())
            .collect();
        for (i, a) in asts.iter().enumerate() {
            let id = b.node(a)?;
            b.c.structs[sid as usize].fields[i].ty = id;
        }
    }
    let nodes = &b.c.nodes;
    for s in &mut b.c.structs {
        s.flat = s.fields.len() <= 64 && s.fields.iter().all(|f| nodes[f.ty as usize].leaf);
    }
    for n in &mut b.c.nodes {
        if let (false, ArrayKind::No, ObjKind::Structs(Sel::One(sid))) =
            (n.any, &n.array, &n.object)
        {
            if b.c.structs[*sid as usize].flat {
                n.flat_struct = Some(*sid);
            }
        }
    }
    Ok(b.c)
}
