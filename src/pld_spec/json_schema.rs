//! JSON Schema export of a compiled spec, and import from a JSON Schema
//! (such as the one `schemars` derives for a Rust type).

use serde_json::{json, Map, Value};

use super::compile::{
    ArrayKind, Compiled, Constraints, NodeId, ObjKind, Sel, TagVal, BIN_LIKE, BOOL, DATE, DATETIME,
    DECIMAL, EXT, FLOAT, INT, NONE, STR, TIME, TIMEDELTA, UUID,
};
use super::parse::rename;
use super::SpecError;

/// JSON Schema (draft 2020-12) of a compiled spec.
pub(crate) fn to_json_schema(c: &Compiled) -> Value {
    let mut root = node_schema(c, c.root);
    let mut defs = Map::new();
    for s in &c.structs {
        // Only structs the spec reaches were compiled (their field types
        // point at real nodes); a struct's first field node is 0 otherwise,
        // which is harmless, but keep the table to what is used.
        let mut props = Map::new();
        let mut required: Vec<Value> = Vec::new();
        if let Some(tag) = &s.tag {
            let v = match tag {
                TagVal::Str(t) => json!(t.as_ref()),
                TagVal::Int(i) => json!(i),
            };
            props.insert(s.tag_field.to_string(), json!({ "const": v }));
            required.push(json!(s.tag_field.as_ref()));
        }
        for f in &s.fields {
            let mut fs = node_schema(c, f.ty);
            if let (Some(d), Value::Object(m)) = (&f.default, &mut fs) {
                m.insert("default".into(), d.clone());
            }
            props.insert(f.wire.to_string(), fs);
            if f.required {
                required.push(json!(f.wire.as_ref()));
            }
        }
        let schema = if s.array_like {
            let mut items: Vec<Value> = Vec::new();
            if let Some((_, v)) = props.iter().next().filter(|_| s.tag.is_some()) {
                items.push(v.clone());
            }
            for f in &s.fields {
                items.push(props.get(f.wire.as_ref()).cloned().unwrap_or(json!({})));
            }
            let mut o = json!({
                "title": s.name.as_ref(),
                "type": "array",
                "prefixItems": items,
                "minItems": usize::from(s.tag.is_some()) + s.nrequired,
            });
            if s.forbid_unknown {
                o["items"] = json!(false);
            }
            o
        } else {
            let mut o = json!({
                "title": s.name.as_ref(),
                "type": "object",
                "properties": props,
                "required": required,
            });
            if s.forbid_unknown {
                o["additionalProperties"] = json!(false);
            }
            o
        };
        defs.insert(s.name.to_string(), schema);
    }
    if let Value::Object(m) = &mut root {
        m.insert(
            "$schema".into(),
            json!("https://json-schema.org/draft/2020-12/schema"),
        );
        if !defs.is_empty() {
            m.insert("$defs".into(), Value::Object(defs));
        }
    }
    root
}

fn sel_refs(c: &Compiled, sel: &Sel) -> Vec<Value> {
    let r = |sid: u32| json!({ "$ref": format!("#/$defs/{}", c.structs[sid as usize].name) });
    match sel {
        Sel::One(sid) => vec![r(*sid)],
        Sel::Tagged(u) => {
            let u = &c.unions[*u as usize];
            u.strs
                .iter()
                .map(|(_, s)| *s)
                .chain(u.ints.iter().map(|(_, s)| *s))
                .map(r)
                .collect()
        }
    }
}

fn node_schema(c: &Compiled, id: NodeId) -> Value {
    let n = &c.nodes[id as usize];
    if n.any || n.raw {
        return json!({});
    }
    let mut alts: Vec<Value> = Vec::new();
    for (flag, ty) in [
        (NONE, "null"),
        (BOOL, "boolean"),
        (INT, "integer"),
        (FLOAT, "number"),
        (STR, "string"),
    ] {
        if n.flags & flag != 0 {
            alts.push(json!({ "type": ty }));
        }
    }
    if n.flags & BIN_LIKE != 0 {
        alts.push(json!({"type": "string", "contentEncoding": "base64"}));
    }
    // The str forms, as msgspec's own JSON Schemas write them.
    for (flag, format) in [
        (DATETIME, "date-time"),
        (DATE, "date"),
        (TIME, "time"),
        (TIMEDELTA, "duration"),
        (UUID, "uuid"),
        (DECIMAL, "decimal"),
    ] {
        if n.flags & flag != 0 {
            alts.push(json!({"type": "string", "format": format}));
        }
    }
    if n.flags & EXT != 0 {
        alts.push(json!({"x-msgpack": "ext"}));
    }
    let lits: Vec<Value> = n
        .int_lits
        .iter()
        .map(|i| json!(i))
        .chain(n.str_lits.iter().map(|s| json!(s.as_ref())))
        .collect();
    if !lits.is_empty() {
        alts.push(json!({ "enum": lits }));
    }
    match &n.array {
        ArrayKind::No => {}
        ArrayKind::List(e) | ArrayKind::VarTuple(e) => {
            alts.push(json!({"type": "array", "items": node_schema(c, *e)}))
        }
        ArrayKind::Set { elem, .. } => alts.push(json!({
            "type": "array",
            "items": node_schema(c, *elem),
            "uniqueItems": true,
        })),
        ArrayKind::Tuple(items) => alts.push(json!({
            "type": "array",
            "prefixItems": items.iter().map(|i| node_schema(c, *i)).collect::<Vec<_>>(),
            "items": false,
            "minItems": items.len(),
            "maxItems": items.len(),
        })),
        ArrayKind::Structs(sel) => alts.extend(sel_refs(c, sel)),
    }
    match &n.object {
        ObjKind::No => {}
        ObjKind::Dict(k, v) => {
            let mut o = json!({"type": "object", "additionalProperties": node_schema(c, *v)});
            let ks = node_schema(c, *k);
            if ks != json!({"type": "string"}) {
                o["x-msgpack-key"] = ks;
            }
            alts.push(o);
        }
        ObjKind::Structs(sel) => alts.extend(sel_refs(c, sel)),
    }
    if let Some(cs) = &n.constr {
        for alt in &mut alts {
            constrain(alt, cs);
        }
    }
    if alts.len() == 1 {
        alts.pop().unwrap_or(json!({}))
    } else {
        json!({ "anyOf": alts })
    }
}

/// Adds a node's `msgspec.Meta` constraints to the alternative they bound,
/// in JSON Schema's words (as `msgspec.json.schema` writes them).
fn constrain(alt: &mut Value, cs: &Constraints) {
    let Some(o) = alt.as_object_mut() else {
        return;
    };
    let ty = o.get("type").and_then(Value::as_str).map(str::to_string);
    let (base64, format) = (o.contains_key("contentEncoding"), o.contains_key("format"));
    let mut put = |k: &str, v: Value| {
        o.insert(k.to_string(), v);
    };
    match ty.as_deref() {
        Some("integer") => {
            if let Some(v) = cs.int_min {
                put("minimum", json!(v));
            }
            if let Some(v) = cs.int_max {
                put("maximum", json!(v));
            }
            if let Some(v) = cs.int_multiple_of {
                put("multipleOf", json!(v));
            }
        }
        Some("number") => {
            if let Some(b) = cs.float_min {
                put(
                    if b.strict {
                        "exclusiveMinimum"
                    } else {
                        "minimum"
                    },
                    json!(b.value),
                );
            }
            if let Some(b) = cs.float_max {
                put(
                    if b.strict {
                        "exclusiveMaximum"
                    } else {
                        "maximum"
                    },
                    json!(b.value),
                );
            }
            if let Some(v) = cs.float_multiple_of {
                put("multipleOf", json!(v));
            }
        }
        Some("string") if base64 => {
            // Lengths of the decoded bytes: base64 text is 4/3 as long.
            if let Some(v) = cs.bytes_min {
                put("minLength", json!(v.div_ceil(3) * 4));
            }
            if let Some(v) = cs.bytes_max {
                put("maxLength", json!(v.div_ceil(3) * 4));
            }
        }
        Some("string") if !format => {
            if let Some(v) = cs.str_min {
                put("minLength", json!(v));
            }
            if let Some(v) = cs.str_max {
                put("maxLength", json!(v));
            }
            if let Some((_, p)) = &cs.str_regex {
                put("pattern", json!(p.as_ref()));
            }
        }
        Some("array") => {
            if let Some(v) = cs.array_min {
                put("minItems", json!(v));
            }
            if let Some(v) = cs.array_max {
                put("maxItems", json!(v));
            }
        }
        Some("object") => {
            if let Some(v) = cs.map_min {
                put("minProperties", json!(v));
            }
            if let Some(v) = cs.map_max {
                put("maxProperties", json!(v));
            }
        }
        _ => {}
    }
}

/// Where a JSON Schema comes from, for the `format`s whose reading differs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Origin {
    /// Any JSON Schema (`PldSpec::from_schema`): every `format` msgspec's
    /// own schemas write is read as msgspec's type.
    Any,
    /// The `schemars` schema of a Rust type (`TypedSpec`): string
    /// `format`s stay `str`. The crates that write them take forms msgspec
    /// refuses (jiff's `Span` as `duration`: years, months, "1h 30m";
    /// chrono's leap second `23:59:60`; braced or `urn:uuid:` UUIDs), so
    /// msgspec's types would refuse payloads the Rust type reads.
    #[cfg_attr(not(feature = "schema"), allow(dead_code))]
    Rust,
}

/// Converts a JSON Schema into a spec string and a struct table.
pub(crate) fn from_json_schema(
    schema: &Value,
    origin: Origin,
) -> Result<(String, Value), SpecError> {
    let mut cx = Cx {
        root: schema,
        structs: Map::new(),
        anon: 0,
        depth: 0,
        origin,
    };
    let spec = cx.conv(schema, None)?;
    Ok((spec, Value::Object(cx.structs)))
}

struct Cx<'s> {
    root: &'s Value,
    structs: Map<String, Value>,
    anon: usize,
    depth: usize,
    origin: Origin,
}

fn bad(why: impl std::fmt::Display) -> SpecError {
    SpecError::syntax(format!("unsupported JSON Schema: {why}"))
}

fn lit(v: &Value) -> Result<String, SpecError> {
    match v {
        Value::String(s) if !s.contains(['\'', '\\']) => Ok(format!("'{s}'")),
        Value::Number(n) if n.is_i64() || n.is_u64() => Ok(n.to_string()),
        other => Err(bad(format!("literal {other} (only strings and integers)"))),
    }
}

fn sanitize(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if s.starts_with(|c: char| c.is_ascii_digit()) || s.is_empty() {
        format!("S{s}")
    } else {
        s
    }
}

impl<'s> Cx<'s> {
    fn conv(&mut self, s: &'s Value, name: Option<&str>) -> Result<String, SpecError> {
        self.depth += 1;
        if self.depth > 64 {
            return Err(bad("nesting too deep"));
        }
        let r = self.conv_inner(s, name);
        self.depth -= 1;
        r
    }

    fn conv_inner(&mut self, s: &'s Value, name: Option<&str>) -> Result<String, SpecError> {
        let o = match s {
            Value::Bool(true) => return Ok("Any".into()),
            Value::Object(o) => o,
            other => return Err(bad(format!("schema {other}"))),
        };
        if let Some(Value::String(r)) = o.get("$ref") {
            let root_name = self
                .root
                .get("title")
                .and_then(|t| t.as_str())
                .unwrap_or("Root");
            let (key, target) = if r == "#" {
                (root_name, self.root)
            } else {
                let key = r
                    .strip_prefix("#/$defs/")
                    .or_else(|| r.strip_prefix("#/definitions/"))
                    .ok_or_else(|| bad(format!("$ref {r}")))?;
                let target = self
                    .root
                    .get("$defs")
                    .or_else(|| self.root.get("definitions"))
                    .and_then(|d| d.get(key))
                    .ok_or_else(|| bad(format!("dangling $ref {r}")))?;
                (key, target)
            };
            let sname = sanitize(key);
            if is_struct(target) {
                if !self.structs.contains_key(&sname) {
                    self.structs.insert(sname.clone(), json!({"fields": []}));
                    let def = self.struct_def(target)?;
                    self.structs.insert(sname.clone(), def);
                }
                return Ok(sname);
            }
            return self.conv(target, Some(&sname));
        }
        if let Some(c) = o.get("const") {
            return Ok(match c {
                Value::Null => "None".into(),
                Value::Bool(_) => "bool".into(),
                v => format!("Literal[{}]", lit(v)?),
            });
        }
        if let Some(Value::Array(vals)) = o.get("enum") {
            let mut parts = Vec::new();
            let mut lits = Vec::new();
            for v in vals {
                match v {
                    Value::Null => parts.push("None".to_string()),
                    Value::Bool(_) => parts.push("bool".to_string()),
                    v => lits.push(lit(v)?),
                }
            }
            if !lits.is_empty() {
                parts.insert(0, format!("Literal[{}]", lits.join(", ")));
            }
            return Ok(join(parts));
        }
        for key in ["anyOf", "oneOf"] {
            if let Some(Value::Array(alts)) = o.get(key) {
                let mut parts = Vec::new();
                for a in alts {
                    parts.push(self.conv(a, None)?);
                }
                // Several untagged structs (serde's externally tagged or
                // untagged enums) cannot be told apart by msgspec's rules:
                // accept any string-keyed map for them instead.
                let untagged: Vec<usize> = parts
                    .iter()
                    .enumerate()
                    .filter(|(_, p)| {
                        self.structs
                            .get(p.as_str())
                            .is_some_and(|d| d.get("tag").is_none())
                    })
                    .map(|(i, _)| i)
                    .collect();
                let maps = untagged.len() + parts.iter().filter(|p| p.starts_with("dict[")).count();
                if untagged.len() > 1 || (maps > 1 && !untagged.is_empty()) {
                    let mut i = 0;
                    parts.retain(|p| {
                        let keep = !untagged.contains(&i) && !p.starts_with("dict[");
                        i += 1;
                        keep
                    });
                    parts.push("dict[str, Any]".into());
                }
                return Ok(join(parts));
            }
        }
        if let Some(Value::Array(all)) = o.get("allOf") {
            if all.len() == 1 {
                return self.conv(&all[0], name);
            }
            return Err(bad("allOf with several schemas"));
        }
        let types: Vec<&str> = match o.get("type") {
            None => return Ok("Any".into()),
            Some(Value::String(t)) => vec![t.as_str()],
            Some(Value::Array(ts)) => ts.iter().filter_map(|t| t.as_str()).collect(),
            Some(other) => return Err(bad(format!("type {other}"))),
        };
        let mut parts = Vec::new();
        for t in types {
            parts.push(match t {
                "null" => "None".to_string(),
                "boolean" => "bool".into(),
                "integer" => annotated("int", int_meta(o)),
                "number" => annotated("float", float_meta(o)),
                "string" => self.string(o),
                "array" => {
                    if let Some(Value::Array(prefix)) = o.get("prefixItems") {
                        let items: Vec<String> = prefix
                            .iter()
                            .map(|p| self.conv(p, None))
                            .collect::<Result<_, _>>()?;
                        if items.is_empty() {
                            "tuple[()]".into()
                        } else {
                            format!("tuple[{}]", items.join(", "))
                        }
                    } else {
                        let item = match o.get("items") {
                            Some(i) => self.conv(i, None)?,
                            None => "Any".into(),
                        };
                        // A Rust set: msgspec's set needs hashable items,
                        // a list of anything else stays a list.
                        let unique = o.get("uniqueItems") == Some(&Value::Bool(true))
                            && o.get("items").is_some_and(|i| self.hashable(i, 0));
                        let kind = if unique { "set" } else { "list" };
                        annotated(&format!("{kind}[{item}]"), length_meta(o, "Items"))
                    }
                }
                "object" => {
                    if o.contains_key("properties") {
                        self.anon += 1;
                        let sname = sanitize(
                            o.get("title")
                                .and_then(|t| t.as_str())
                                .or(name)
                                .unwrap_or(&format!("Anon{}", self.anon)),
                        );
                        if !self.structs.contains_key(&sname) {
                            self.structs.insert(sname.clone(), json!({"fields": []}));
                            let def = self.struct_def(s)?;
                            self.structs.insert(sname.clone(), def);
                        }
                        sname
                    } else {
                        let v = match o.get("additionalProperties") {
                            Some(ap) if ap.is_object() => self.conv(ap, None)?,
                            _ => "Any".into(),
                        };
                        annotated(&format!("dict[str, {v}]"), length_meta(o, "Properties"))
                    }
                }
                other => return Err(bad(format!("type {other:?}"))),
            });
        }
        Ok(join(parts))
    }

    /// A `"type": "string"` schema: one of msgspec's str-encoded types when
    /// its `format` names one, else `str` with its length and pattern.
    fn string(&self, o: &Map<String, Value>) -> String {
        let format = o
            .get("format")
            .and_then(Value::as_str)
            .filter(|_| self.origin == Origin::Any);
        match format {
            Some("date-time") => return "datetime.datetime".into(),
            Some("date") => return "datetime.date".into(),
            Some("time") => return "datetime.time".into(),
            Some("duration") => return "datetime.timedelta".into(),
            Some("uuid") => return "uuid.UUID".into(),
            Some("decimal") => return "decimal.Decimal".into(),
            _ => {}
        }
        let mut meta = length_meta(o, "Length");
        if let Some(p) = o.get("pattern").and_then(Value::as_str).and_then(raw_str) {
            meta.push(format!("pattern={p}"));
        }
        annotated("str", meta)
    }

    /// Whether the items a schema describes are hashable in Python, so
    /// that msgspec can read them into a `set` (scalars, their unions and
    /// tuples of them; not lists, dicts or structs, which are not frozen).
    fn hashable(&self, s: &Value, depth: usize) -> bool {
        let Some(o) = s.as_object() else {
            return false;
        };
        if depth > 16 {
            return false;
        }
        if let Some(Value::String(r)) = o.get("$ref") {
            let target = r
                .strip_prefix("#/$defs/")
                .or_else(|| r.strip_prefix("#/definitions/"))
                .and_then(|key| {
                    self.root
                        .get("$defs")
                        .or_else(|| self.root.get("definitions"))
                        .and_then(|d| d.get(key))
                });
            return target.is_some_and(|t| !is_struct(t) && self.hashable(t, depth + 1));
        }
        if o.contains_key("const") || o.contains_key("enum") {
            return true;
        }
        for key in ["anyOf", "oneOf", "allOf"] {
            if let Some(Value::Array(alts)) = o.get(key) {
                return alts.iter().all(|a| self.hashable(a, depth + 1));
            }
        }
        let types: Vec<&str> = match o.get("type") {
            Some(Value::String(t)) => vec![t.as_str()],
            Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
            _ => return false,
        };
        types.iter().all(|t| match *t {
            "null" | "boolean" | "integer" | "number" | "string" => true,
            "array" => match o.get("prefixItems") {
                Some(Value::Array(items)) => items.iter().all(|i| self.hashable(i, depth + 1)),
                _ => false,
            },
            _ => false,
        })
    }

    /// A struct table entry from an object schema with `properties`.
    fn struct_def(&mut self, s: &'s Value) -> Result<Value, SpecError> {
        let props = s
            .get("properties")
            .and_then(|p| p.as_object())
            .ok_or_else(|| bad("struct without properties"))?;
        let required: Vec<&str> = s
            .get("required")
            .and_then(|r| r.as_array())
            .map(|r| r.iter().filter_map(|x| x.as_str()).collect())
            .unwrap_or_default();
        let mut req_fields = Vec::new();
        let mut opt_fields = Vec::new();
        let mut def = Map::new();
        for (pname, ps) in props {
            let is_req = required.contains(&pname.as_str());
            // A required property with a constant string is a serde tag.
            if let (true, Some(Value::String(tag))) = (is_req, ps.get("const")) {
                if !def.contains_key("tag") {
                    def.insert("tag".into(), json!(tag));
                    def.insert("tag_field".into(), json!(pname));
                    continue;
                }
            }
            let ty = self.conv(ps, None)?;
            if is_req {
                req_fields.push(json!([pname, ty]));
            } else {
                let d = match ps.get("default") {
                    Some(
                        d @ (Value::Null | Value::Bool(_) | Value::Number(_) | Value::String(_)),
                    ) => d.clone(),
                    Some(Value::Array(a)) if a.is_empty() => json!([]),
                    Some(Value::Object(m)) if m.is_empty() => json!({}),
                    _ => Value::Null,
                };
                opt_fields.push(json!([pname, ty, d]));
            }
        }
        req_fields.extend(opt_fields);
        def.insert("fields".into(), Value::Array(req_fields));
        if s.get("additionalProperties") == Some(&Value::Bool(false)) {
            def.insert("forbid_unknown_fields".into(), json!(true));
        }
        let _ = rename;
        Ok(Value::Object(def))
    }
}

/// `typing.Annotated[base, msgspec.Meta(...)]`, or `base` alone.
fn annotated(base: &str, meta: Vec<String>) -> String {
    if meta.is_empty() {
        base.to_string()
    } else {
        format!(
            "typing.Annotated[{base}, msgspec.Meta({})]",
            meta.join(", ")
        )
    }
}

/// A JSON number as an integer, rounded towards the allowed side (`up`
/// for a lower bound), saturating far outside the msgpack range.
fn int_bound(v: &Value, up: bool) -> Option<i128> {
    let n = v.as_number()?;
    if let Some(i) = n.as_i64() {
        return Some(i.into());
    }
    if let Some(u) = n.as_u64() {
        return Some(u.into());
    }
    let x = n.as_f64()?;
    let r = if up { x.ceil() } else { x.floor() };
    // `as` saturates: i128's range holds every msgpack integer.
    Some(r as i128)
}

/// Integer bounds implied by the `format`s `schemars` and OpenAPI write
/// (for `i32`, `u32`, `isize`, `usize` and the 64-bit types: `schemars`
/// writes `minimum`/`maximum` only for 8- and 16-bit integers).
fn format_bounds(format: Option<&str>) -> (Option<i128>, Option<i128>) {
    match format {
        Some("int8") => (Some(i8::MIN.into()), Some(i8::MAX.into())),
        Some("int16") => (Some(i16::MIN.into()), Some(i16::MAX.into())),
        Some("int32") => (Some(i32::MIN.into()), Some(i32::MAX.into())),
        Some("int64") => (Some(i64::MIN.into()), Some(i64::MAX.into())),
        Some("int") => (Some(isize::MIN as i128), Some(isize::MAX as i128)),
        Some("uint8") => (Some(0), Some(u8::MAX.into())),
        Some("uint16") => (Some(0), Some(u16::MAX.into())),
        Some("uint32") => (Some(0), Some(u32::MAX.into())),
        Some("uint64") | Some("uint128") => (Some(0), None),
        Some("uint") => (Some(0), Some(usize::MAX as i128)),
        _ => (None, None),
    }
}

/// The `msgspec.Meta` arguments of an integer schema: its bounds (JSON
/// Schema's, its `format`'s, the tightest of them) as `ge`/`le`, and an
/// integral `multipleOf`. Bounds msgpack's integers (int64 and uint64) can
/// never reach are left out; so are bounds msgspec cannot express, those
/// outside int64 (a `maximum` between 2**63 and 2**64 - 2).
fn int_meta(o: &Map<String, Value>) -> Vec<String> {
    let (mut lo, mut hi) = format_bounds(o.get("format").and_then(Value::as_str));
    let tighten = |b: &mut Option<i128>, v: Option<i128>, lower: bool| {
        if let Some(v) = v {
            *b = Some(match *b {
                Some(old) if lower => old.max(v),
                Some(old) => old.min(v),
                None => v,
            });
        }
    };
    // Draft 4 spells an exclusive bound as a flag on `minimum`/`maximum`.
    let flag = |k: &str| o.get(k) == Some(&Value::Bool(true));
    let min = o.get("minimum").and_then(|v| int_bound(v, true));
    let max = o.get("maximum").and_then(|v| int_bound(v, false));
    let excl = |k: &str, up: bool| {
        let v = o.get(k)?;
        let r = int_bound(v, up)?;
        // An integral bound excludes itself; a fractional one is rounded.
        let integral = v.as_f64().is_some_and(|x| x.fract() == 0.0);
        Some(match (integral, up) {
            (true, true) => r.saturating_add(1),
            (true, false) => r.saturating_sub(1),
            _ => r,
        })
    };
    let (min, max) = (
        if flag("exclusiveMinimum") {
            min.map(|m| m.saturating_add(1))
        } else {
            min
        },
        if flag("exclusiveMaximum") {
            max.map(|m| m.saturating_sub(1))
        } else {
            max
        },
    );
    tighten(&mut lo, min, true);
    tighten(&mut lo, excl("exclusiveMinimum", true), true);
    tighten(&mut hi, max, false);
    tighten(&mut hi, excl("exclusiveMaximum", false), false);
    let (i64_min, i64_max) = (i128::from(i64::MIN), i128::from(i64::MAX));
    let mut meta = Vec::new();
    if let Some(lo) = lo.filter(|l| (i64_min + 1..=i64_max).contains(l)) {
        meta.push(format!("ge={lo}"));
    }
    if let Some(hi) = hi.filter(|h| (i64_min..=i64_max).contains(h)) {
        meta.push(format!("le={hi}"));
    }
    if let Some(m) = o.get("multipleOf").and_then(Value::as_number) {
        if let Some(m) = m.as_i64().filter(|m| *m > 1) {
            meta.push(format!("multiple_of={m}"));
        }
    }
    meta
}

/// A finite JSON number as Python source (an int or a float literal).
fn py_num(v: &Value) -> Option<String> {
    let n = v.as_number()?;
    if n.is_i64() || n.is_u64() {
        return Some(n.to_string());
    }
    n.as_f64()
        .filter(|x| x.is_finite())
        .map(crate::python::float_repr)
}

/// The `msgspec.Meta` arguments of a number schema: its bounds (the
/// tighter when both an inclusive and an exclusive one are given) and a
/// positive `multipleOf`.
fn float_meta(o: &Map<String, Value>) -> Vec<String> {
    let num = |k: &str| o.get(k).filter(|v| v.as_f64().is_some());
    let flag = |k: &str| o.get(k) == Some(&Value::Bool(true));
    let mut meta = Vec::new();
    for (incl, excl, lower) in [
        ("minimum", "exclusiveMinimum", true),
        ("maximum", "exclusiveMaximum", false),
    ] {
        let (i, x) = (num(incl), num(excl));
        let strict = match (i, x) {
            (Some(_), None) => flag(excl),
            (None, Some(_)) => true,
            (Some(i), Some(x)) => {
                let (i, x) = (i.as_f64().unwrap_or(0.0), x.as_f64().unwrap_or(0.0));
                if lower {
                    x >= i
                } else {
                    x <= i
                }
            }
            (None, None) => continue,
        };
        let v = if strict && x.is_some() { x } else { i };
        let Some(v) = v.and_then(py_num) else {
            continue;
        };
        let name = match (lower, strict) {
            (true, false) => "ge",
            (true, true) => "gt",
            (false, false) => "le",
            (false, true) => "lt",
        };
        meta.push(format!("{name}={v}"));
    }
    if let Some(m) = o
        .get("multipleOf")
        .filter(|m| m.as_f64().is_some_and(|m| m > 0.0))
    {
        if let Some(m) = py_num(m) {
            meta.push(format!("multiple_of={m}"));
        }
    }
    meta
}

/// `min_length`/`max_length` from `min{what}`/`max{what}` (`Length`,
/// `Items`, `Properties`), when they are integers msgspec takes.
fn length_meta(o: &Map<String, Value>, what: &str) -> Vec<String> {
    let mut meta = Vec::new();
    for (key, arg) in [("min", "min_length"), ("max", "max_length")] {
        let n = o
            .get(&format!("{key}{what}"))
            .and_then(Value::as_u64)
            .filter(|n| i64::try_from(*n).is_ok());
        // A minimum of 0 is no constraint.
        if let Some(n) = n.filter(|n| key == "max" || *n > 0) {
            meta.push(format!("{arg}={n}"));
        }
    }
    meta
}

/// A `pattern` as a Python raw string literal, when it can be one and the
/// regex engine takes it (else it is left out: validation is then looser,
/// never stricter, than the schema).
fn raw_str(p: &str) -> Option<String> {
    let q = if !p.contains('\'') {
        '\''
    } else if !p.contains('"') {
        '"'
    } else {
        return None;
    };
    // A raw string cannot end in an odd backslash, nor hold a quote
    // escaped with one (the backslash would stay in the pattern).
    let trailing = p.len() - p.trim_end_matches('\\').len();
    if trailing % 2 == 1 {
        return None;
    }
    super::regex::compile(p).ok()?;
    Some(format!("r{q}{p}{q}"))
}

fn is_struct(s: &Value) -> bool {
    s.get("properties").is_some_and(|p| p.is_object())
}

fn join(mut parts: Vec<String>) -> String {
    let mut seen = Vec::new();
    parts.retain(|p| {
        if seen.contains(p) {
            false
        } else {
            seen.push(p.clone());
            true
        }
    });
    if parts.is_empty() {
        "Any".into()
    } else {
        parts.join(" | ")
    }
}
