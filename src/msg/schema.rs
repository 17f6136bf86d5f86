//! The JSON Schemas of the messages, generated from the message table
//! (public through [`crate::schema`]).

use std::borrow::Cow;

use schemars::generate::SchemaSettings;
use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde_json::{Map, Value};

use crate::msg::{Addr, AnyMap, BadMsg, Functype, StrMap, Uid};
use crate::{
    Aid, CancelAck, Error, Int, Msg, MsgType, Raw, Return, SpawnSpec, Start, StartAck, Started,
    Stop, Yield,
};

/// The settings every schema here is generated with (draft 2020-12,
/// definitions under `$defs`).
pub fn settings() -> SchemaSettings {
    SchemaSettings::draft2020_12()
}

/// The root schema of `T` with [`settings`], its keys in a readable order
/// (`$schema`, `title`, `description`, ..., `$defs` last).
pub fn schema_for<T: JsonSchema + ?Sized>() -> Schema {
    let schema = settings().into_generator().into_root_schema_for::<T>();
    let Value::Object(obj) = schema.to_value() else {
        unreachable!("a root schema is an object")
    };
    const FIRST: [&str; 4] = ["$schema", "$id", "title", "description"];
    let mut out = Map::new();
    for key in FIRST {
        if let Some(v) = obj.get(key) {
            out.insert(key.to_owned(), v.clone());
        }
    }
    for (k, v) in &obj {
        if !FIRST.contains(&k.as_str()) && k != "$defs" {
            out.insert(k.clone(), v.clone());
        }
    }
    if let Some(defs) = obj.get("$defs") {
        out.insert("$defs".to_owned(), defs.clone());
    }
    Schema::from(out)
}

/// Every schema this crate defines, as `(name, schema)`: one per message
/// (named by its tag) and `Msg` (the tagged union of all ten). The harness
/// writes each to `spec/schema/<name>.schema.json`, with those of its own
/// files (the capture format, reports).
pub fn schemas() -> Vec<(String, Schema)> {
    vec![
        ("Aid".to_owned(), schema_for::<Aid<'static>>()),
        ("SpawnSpec".to_owned(), schema_for::<SpawnSpec<'static>>()),
        ("Start".to_owned(), schema_for::<Start<'static>>()),
        ("StartAck".to_owned(), schema_for::<StartAck<'static>>()),
        ("Started".to_owned(), schema_for::<Started<'static>>()),
        ("Yield".to_owned(), schema_for::<Yield<'static>>()),
        ("Stop".to_owned(), schema_for::<Stop<'static>>()),
        ("Return".to_owned(), schema_for::<Return<'static>>()),
        ("CancelAck".to_owned(), schema_for::<CancelAck<'static>>()),
        ("Error".to_owned(), schema_for::<Error<'static>>()),
        ("Msg".to_owned(), schema_for::<Msg<'static>>()),
    ]
}

// ---------------------------------------------------------------------------
// Schemas of the field types.

fn value_ref(g: &mut SchemaGenerator) -> Value {
    g.subschema_for::<Raw<'static>>().to_value()
}

fn map_form(key: Value, value: Value) -> Value {
    serde_json::json!({
        "type": "object",
        "description": "A map that is not a plain JSON object (non-str or duplicate keys, keys starting with `$`): its entries in wire order.",
        "properties": {
            "$map": {
                "type": "array",
                "items": {
                    "type": "array",
                    "prefixItems": [key, value],
                    "items": false,
                    "minItems": 2
                }
            }
        },
        "required": ["$map"],
        "additionalProperties": false
    })
}

fn plain_object(value: Value) -> Value {
    serde_json::json!({
        "type": "object",
        "propertyNames": { "not": { "pattern": "^\\$" } },
        "additionalProperties": value
    })
}

fn base64_string() -> Value {
    serde_json::json!({ "type": "string", "contentEncoding": "base64" })
}

fn single_key(key: &str, value: Value, description: &str) -> Value {
    serde_json::json!({
        "type": "object",
        "description": description,
        "properties": { key: value },
        "required": [key],
        "additionalProperties": false
    })
}

/// A payload, or any value typed `Any`: the schema `Value`.
impl JsonSchema for Raw<'_> {
    fn schema_name() -> Cow<'static, str> {
        Cow::Borrowed("Value")
    }

    fn json_schema(g: &mut SchemaGenerator) -> Schema {
        let v = value_ref(g);
        json_schema!({
            "description": "Any msgpack value, rendered as JSON (`spec/PROTOCOL.md#json-rendering`).",
            "anyOf": [
                { "type": ["null", "boolean", "number", "string"] },
                { "type": "array", "items": v.clone() },
                plain_object(v.clone()),
                single_key("$bytes", base64_string(), "msgpack bin: the bytes in base64."),
                single_key("$str", base64_string(), "msgpack str that is not valid UTF-8: its bytes in base64."),
                single_key("$float", serde_json::json!({ "enum": ["nan", "inf", "-inf"] }), "A float that JSON cannot write."),
                {
                    "type": "object",
                    "description": "msgpack ext (e.g. the timestamp ext -1): its type code and data in base64.",
                    "properties": {
                        "$ext": { "type": "integer", "minimum": -128, "maximum": 127 },
                        "data": base64_string()
                    },
                    "required": ["$ext", "data"],
                    "additionalProperties": false
                },
                map_form(v.clone(), v),
                single_key("$msgpack", base64_string(), "A payload nested too deep to render: its exact msgpack bytes in base64.")
            ]
        })
    }
}

/// `dict[str, Any]`.
impl JsonSchema for StrMap<'_> {
    fn schema_name() -> Cow<'static, str> {
        Cow::Borrowed("StrMap")
    }

    fn json_schema(g: &mut SchemaGenerator) -> Schema {
        let v = value_ref(g);
        json_schema!({
            "description": "A map with str keys and values of any type (Python `dict[str, Any]`).",
            "anyOf": [plain_object(v.clone()), map_form(serde_json::json!({ "type": "string" }), v)]
        })
    }
}

/// `dict` with keys of any type.
impl JsonSchema for AnyMap<'_> {
    fn schema_name() -> Cow<'static, str> {
        Cow::Borrowed("AnyMap")
    }

    fn json_schema(g: &mut SchemaGenerator) -> Schema {
        let v = value_ref(g);
        json_schema!({
            "description": "A map with keys and values of any type (Python `dict`).",
            "anyOf": [plain_object(v.clone()), map_form(v.clone(), v)]
        })
    }
}

/// The JSON Schema of `dict[str, str]` (`SpawnSpec.enable_modules`), kept
/// in wire order on the Rust side as a list of pairs.
#[derive(Debug)]
pub(crate) struct StrStrMap;

impl JsonSchema for StrStrMap {
    fn schema_name() -> Cow<'static, str> {
        Cow::Borrowed("StrStrMap")
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let s = serde_json::json!({ "type": "string" });
        json_schema!({
            "description": "A map from str to str (Python `dict[str, str]`).",
            "anyOf": [plain_object(s.clone()), map_form(s.clone(), s)]
        })
    }
}

impl JsonSchema for Uid<'_> {
    fn schema_name() -> Cow<'static, str> {
        Cow::Borrowed("Uid")
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "An actor identity `[name, uuid]` (Python `tuple[str, str]`).",
            "type": "array",
            "prefixItems": [
                { "type": "string", "description": "Actor name." },
                { "type": "string", "description": "Actor uuid." }
            ],
            "items": false,
            "minItems": 2
        })
    }
}

impl JsonSchema for Addr<'_> {
    fn schema_name() -> Cow<'static, str> {
        Cow::Borrowed("Addr")
    }

    fn json_schema(g: &mut SchemaGenerator) -> Schema {
        let int = g.subschema_for::<Int>().to_value();
        json_schema!({
            "description": "A transport address: `[host, port]` for TCP, `[dir, file]` for UDS (Python `tuple[str, str | int]`).",
            "type": "array",
            "prefixItems": [
                { "type": "string", "description": "TCP host (an IP literal) or UDS directory." },
                { "anyOf": [int, { "type": "string" }], "description": "TCP port or UDS socket file name." }
            ],
            "items": false,
            "minItems": 2
        })
    }
}

impl JsonSchema for Int {
    fn schema_name() -> Cow<'static, str> {
        Cow::Borrowed("Int")
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "An integer in the range msgpack can carry: -2^63 to 2^64-1.",
            "type": "integer",
            "minimum": i64::MIN,
            "maximum": u64::MAX
        })
    }
}

impl JsonSchema for Functype {
    fn schema_name() -> Cow<'static, str> {
        Cow::Borrowed("Functype")
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "The endpoint kind (`spec/PROTOCOL.md#startack`).",
            "type": "string",
            "enum": ["asyncfunc", "asyncgen", "context"]
        })
    }
}

impl JsonSchema for BadMsg<'_> {
    fn schema_name() -> Cow<'static, str> {
        Cow::Borrowed("BadMsg")
    }

    fn json_schema(g: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "The offending payload message of a `MsgTypeError`, nested as a complete tagged message; only `Started`, `Yield` or `Return`.",
            "oneOf": [
                g.subschema_for::<Started<'static>>(),
                g.subschema_for::<Yield<'static>>(),
                g.subschema_for::<Return<'static>>()
            ]
        })
    }
}

/// The union of the ten messages, told apart by the `const` of `msg_type`.
impl JsonSchema for Msg<'_> {
    fn schema_name() -> Cow<'static, str> {
        Cow::Borrowed("Msg")
    }

    fn json_schema(g: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "One frame body: any of the ten messages, told apart by the value of `msg_type` (`spec/PROTOCOL.md#messages`).",
            "oneOf": [
                g.subschema_for::<Aid<'static>>(),
                g.subschema_for::<SpawnSpec<'static>>(),
                g.subschema_for::<Start<'static>>(),
                g.subschema_for::<StartAck<'static>>(),
                g.subschema_for::<Started<'static>>(),
                g.subschema_for::<Yield<'static>>(),
                g.subschema_for::<Stop<'static>>(),
                g.subschema_for::<Return<'static>>(),
                g.subschema_for::<CancelAck<'static>>(),
                g.subschema_for::<Error<'static>>()
            ]
        })
    }
}

// ---------------------------------------------------------------------------
// Message schemas.

/// One field of a message, as the `message!` macro describes it.
pub(crate) struct FieldSpec {
    /// The wire key.
    pub(crate) key: &'static str,
    /// The field's doc comment, line by line.
    pub(crate) doc: &'static [&'static str],
    /// The schema of its value.
    pub(crate) schema: Schema,
    /// The value a decoder fills in when the key is missing, as JSON.
    pub(crate) default: Option<Value>,
}

fn join_doc(doc: &[&str]) -> String {
    doc.iter()
        .map(|l| l.trim())
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The schema of a payload message (`cid`, `pld`).
pub(crate) fn payload_message_schema(
    g: &mut SchemaGenerator,
    tag: MsgType,
    doc: &[&str],
) -> Schema {
    let fields = vec![
        FieldSpec {
            key: "cid",
            doc: &["The dialog."],
            schema: g.subschema_for::<Cow<'static, str>>(),
            default: None,
        },
        FieldSpec {
            key: "pld",
            doc: &["The payload: any msgpack value, `nil` included (`spec/PROTOCOL.md#payload-limiting`)."],
            schema: g.subschema_for::<Raw<'static>>(),
            default: None,
        },
    ];
    message_schema(tag, doc, fields)
}

/// The schema of one message from its fields.
pub(crate) fn message_schema(tag: MsgType, doc: &[&str], fields: Vec<FieldSpec>) -> Schema {
    let mut properties = Map::new();
    properties.insert(
        "msg_type".to_owned(),
        serde_json::json!({
            "description": "The tag: the message's class name, always the first key.",
            "const": tag.as_str()
        }),
    );
    let mut order = vec![Value::from("msg_type")];
    let mut required_on_decode = vec![Value::from("msg_type")];
    for f in fields {
        let mut prop = match f.schema.to_value() {
            Value::Object(m) => m,
            other => {
                let mut m = Map::new();
                m.insert("allOf".to_owned(), Value::Array(vec![other]));
                m
            }
        };
        prop.insert("description".to_owned(), Value::from(join_doc(f.doc)));
        match f.default {
            Some(d) => {
                prop.insert("default".to_owned(), d);
            }
            None => required_on_decode.push(Value::from(f.key)),
        }
        properties.insert(f.key.to_owned(), Value::Object(prop));
        order.push(Value::from(f.key));
    }
    let (examples, hexes): (Vec<Value>, Vec<Value>) = examples(tag)
        .iter()
        .map(|hex| {
            let bytes = unhex(hex);
            let msg = Msg::decode(&bytes).expect("the examples are valid messages");
            (msg.to_json(), Value::from(*hex))
        })
        .unzip();
    let mut out = Map::new();
    out.insert("description".to_owned(), Value::from(join_doc(doc)));
    out.insert("type".to_owned(), Value::from("object"));
    out.insert("properties".to_owned(), Value::Object(properties));
    out.insert("required".to_owned(), Value::Array(order.clone()));
    out.insert("additionalProperties".to_owned(), Value::Bool(false));
    out.insert("x-wire-order".to_owned(), Value::Array(order));
    out.insert(
        "x-required-on-decode".to_owned(),
        Value::Array(required_on_decode),
    );
    out.insert("examples".to_owned(), Value::Array(examples));
    out.insert("x-msgpack-examples".to_owned(), Value::Array(hexes));
    Schema::from(out)
}

/// The example bodies of each message, in hex: the golden vectors of
/// `fixtures/golden/golden_vectors.txt`.
pub fn examples(tag: MsgType) -> &'static [&'static str] {
    match tag {
        MsgType::Aid => &["86a86d73675f74797065a3416964a46e616d65a4726f6f74a475756964d92438663965306331612d303030302d343030302d383030302d303030303030303030303031a3706964cd04d2ac69735f726567697374726172c3a869735f70726f6265c2"],
        MsgType::SpawnSpec => &["86a86d73675f74797065a9537061776e53706563b15f706172656e745f6d61696e5f6461746181b3696e69745f6d61696e5f66726f6d5f70617468ac2f6170702f6d61696e2e7079ad5f72756e74696d655f766172738aa85f69735f726f6f74c2ad5f726f6f745f6d61696c626f7892a93132372e302e302e31cd0650ab5f726f6f745f61646472739192a93132372e302e302e31cd0650ac5f656e61626c655f7470747391a3746370af5f72656769737472795f61646472739192a93132372e302e302e31cd0650ab5f64656275675f6d6f6465c2ac7265706c5f66697874757265c2ad7573655f677265656e6261636bc2ae7573655f737461636b73636f7065c2b05f69735f696e6665637465645f61696fc2ae656e61626c655f6d6f64756c657381a85f5f6d61696e5f5fac2f6170702f6d61696e2e7079a97265675f61646472739192a93132372e302e302e31cd0650aa62696e645f6164647273c0"],
        MsgType::Start => &["87a86d73675f74797065a55374617274a3636964d92435623163376135322d303030302d343030302d383030302d303030303030303030303061a26e73a96d79706b672e6d6f64a466756e63a3616464a66b776172677382a17801a17902a375696492a4726f6f74d92438663965306331612d303030302d343030302d383030302d303030303030303030303031a8706c645f73706563aa747970696e672e416e79"],
        MsgType::StartAck => &["83a86d73675f74797065a8537461727441636ba3636964d92435623163376135322d303030302d343030302d383030302d303030303030303030303061a866756e6374797065a7636f6e74657874"],
        MsgType::Started => &["83a86d73675f74797065a753746172746564a3636964d92435623163376135322d303030302d343030302d383030302d303030303030303030303061a3706c6481a57265616479c3"],
        MsgType::Yield => &["83a86d73675f74797065a55969656c64a3636964d92435623163376135322d303030302d343030302d383030302d303030303030303030303061a3706c649501cb4004000000000000a57468726565c40104c0"],
        MsgType::Stop => &["82a86d73675f74797065a453746f70a3636964d92435623163376135322d303030302d343030302d383030302d303030303030303030303061"],
        MsgType::Return => &["83a86d73675f74797065a652657475726ea3636964d92435623163376135322d303030302d343030302d383030302d303030303030303030303061a3706c64a4646f6e65"],
        MsgType::CancelAck => &["83a86d73675f74797065a943616e63656c41636ba3636964d92435623163376135322d303030302d343030302d383030302d303030303030303030303061a3706c64c3"],
        MsgType::Error => &[
            "8ca86d73675f74797065a54572726f72a77372635f75696492a56368696c64d92438663965306331612d303030302d343030302d383030302d303030303030303030303032ac7372635f747970655f737472b0436f6e7465787443616e63656c6c6564ae626f7865645f747970655f737472b0436f6e7465787443616e63656c6c6564aa72656c61795f706174689192a56368696c64d92438663965306331612d303030302d343030302d383030302d303030303030303030303032a76d657373616765a963616e63656c6c6564a674625f737472ad54726163656261636b2e2e2e0aa963616e63656c6c657292a4726f6f74d92438663965306331612d303030302d343030302d383030302d303030303030303030303031a673656e646572c0a3636964d92435623163376135322d303030302d343030302d383030302d303030303030303030303061a85f6261645f6d7367c0b05f6261645f6d73675f61735f64696374c0",
            "8ca86d73675f74797065a54572726f72a77372635f75696492a56368696c64d92438663965306331612d303030302d343030302d383030302d303030303030303030303032ac7372635f747970655f737472ac4d7367547970654572726f72ae626f7865645f747970655f737472ac4d7367547970654572726f72aa72656c61795f706174689192a56368696c64d92438663965306331612d303030302d343030302d383030302d303030303030303030303032a76d657373616765bb696e76616c696420605969656c6460206d7367207061796c6f6164a674625f737472a0a963616e63656c6c6572c0a673656e646572c0a3636964d92435623163376135322d303030302d343030302d383030302d303030303030303030303061a85f6261645f6d736783a86d73675f74797065a55969656c64a3636964d92435623163376135322d303030302d343030302d383030302d303030303030303030303061a3706c64a178b05f6261645f6d73675f61735f64696374c0",
        ],
    }
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).expect("hex"))
        .collect()
}
