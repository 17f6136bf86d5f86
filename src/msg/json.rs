//! The JSON rendering of envelope fields and messages, and its inverse
//! (`spec/PROTOCOL.md#json-rendering`; the value mapping is
//! [`crate::json`]).

use std::borrow::Cow;

use serde_json::{Map, Value};

use super::{Addr, AddrPort, AnyMap, BadMsg, Functype, Msg, StrMap, Uid};
use crate::json::{invalid, json_to_msgpack, map_to_json, raw_to_json, FromJsonError};
use crate::{Int, Raw};

/// A value that renders itself as JSON, as an envelope field.
pub(crate) trait WireJson {
    fn wire_json(&self) -> Value;
}

impl WireJson for Cow<'_, str> {
    fn wire_json(&self) -> Value {
        Value::String(self.to_string())
    }
}

impl WireJson for bool {
    fn wire_json(&self) -> Value {
        Value::Bool(*self)
    }
}

impl WireJson for Int {
    fn wire_json(&self) -> Value {
        match *self {
            Int::U(u) => Value::from(u),
            Int::I(i) => Value::from(i),
        }
    }
}

impl<T: WireJson> WireJson for Option<T> {
    fn wire_json(&self) -> Value {
        match self {
            Some(v) => v.wire_json(),
            None => Value::Null,
        }
    }
}

impl<T: WireJson> WireJson for Vec<T> {
    fn wire_json(&self) -> Value {
        Value::Array(self.iter().map(WireJson::wire_json).collect())
    }
}

impl WireJson for Uid<'_> {
    fn wire_json(&self) -> Value {
        Value::Array(vec![self.name.wire_json(), self.uuid.wire_json()])
    }
}

impl WireJson for Addr<'_> {
    fn wire_json(&self) -> Value {
        let port = match &self.port {
            AddrPort::Int(i) => i.wire_json(),
            AddrPort::Str(s) => s.wire_json(),
        };
        Value::Array(vec![self.host.wire_json(), port])
    }
}

impl WireJson for Functype {
    fn wire_json(&self) -> Value {
        Value::from(self.as_str())
    }
}

/// `dict[str, str]` in wire order.
impl WireJson for Vec<(Cow<'_, str>, Cow<'_, str>)> {
    fn wire_json(&self) -> Value {
        map_to_json(self.iter().map(|(k, v)| (k.wire_json(), v.wire_json())))
    }
}

impl WireJson for Raw<'_> {
    fn wire_json(&self) -> Value {
        raw_to_json(self)
    }
}

impl WireJson for StrMap<'_> {
    fn wire_json(&self) -> Value {
        raw_to_json(self.raw())
    }
}

impl WireJson for AnyMap<'_> {
    fn wire_json(&self) -> Value {
        raw_to_json(self.raw())
    }
}

impl WireJson for BadMsg<'_> {
    fn wire_json(&self) -> Value {
        let (cid, pld) = self.parts();
        let mut m = Map::new();
        m.insert("msg_type".to_owned(), Value::from(self.msg_type().as_str()));
        m.insert("cid".to_owned(), Value::from(cid));
        m.insert("pld".to_owned(), raw_to_json(pld));
        Value::Object(m)
    }
}

impl Msg<'_> {
    /// The frame body of a message given as JSON ([`Msg::to_json`]'s
    /// form): encoded with [`json_to_msgpack`], then checked to decode as
    /// one of the ten messages.
    ///
    /// ```
    /// let body = shuttle::Msg::msgpack_from_json(&serde_json::json!(
    ///     {"msg_type": "Stop", "cid": "c1"}
    /// )).unwrap();
    /// assert_eq!(hex::encode(&body), "82a86d73675f74797065a453746f70a3636964a26331");
    /// ```
    pub fn msgpack_from_json(value: &Value) -> Result<Vec<u8>, FromJsonError> {
        let mut out = Vec::new();
        json_to_msgpack(value, &mut out)?;
        Msg::decode(&out).map_err(|e| invalid("$", e.to_string()))?;
        Ok(out)
    }
}
