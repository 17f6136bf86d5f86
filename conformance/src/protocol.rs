//! The testee protocol `shuttle-testee/1` (`spec/testee-protocol.md`): the
//! harness and an implementation under test exchange msgpack maps over the
//! testee's stdin/stdout, framed exactly like tractor frames (4-byte
//! little-endian length, then the body).

use std::io::{Read, Write};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_bytes::ByteBuf;

/// Version of the protocol and of the suite, sent in the hello.
pub const SUITE_VERSION: &str = "shuttle-testee/1";

/// Largest response body the harness accepts from a testee.
pub const MAX_RESPONSE: usize = 64 * 1024 * 1024;

/// A msgpack bin (its JSON rendering, as in `spec/PROTOCOL.md#json-rendering`,
/// is `{"$bytes": base64}`).
#[derive(JsonSchema)]
#[allow(dead_code)]
struct Bytes {
    #[serde(rename = "$bytes")]
    bytes: String,
}

/// The harness's messages.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Request {
    /// First message: the suite introduces itself; the testee answers with a [`Hello`].
    Hello {
        /// [`SUITE_VERSION`].
        suite_version: String,
    },
    /// Decode one frame body, then re-encode the decoded message.
    Decode {
        /// Request id, echoed in the response.
        id: u64,
        /// The frame body.
        #[schemars(with = "Bytes")]
        bytes: ByteBuf,
        /// `"dict"` for the older dict dialect (feature `legacy-dict`);
        /// absent for the typed protocol.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        dialect: Option<String>,
    },
    /// Build a message from a msgpack value (keys in any order, defaulted
    /// fields possibly omitted) and encode it.
    Encode {
        /// Request id.
        id: u64,
        /// The message as a msgpack map, tag included.
        #[schemars(with = "serde_json::Value")]
        message: rmpv::Value,
    },
    /// Validate a payload against a payload spec.
    Validate {
        /// Request id.
        id: u64,
        /// Spec in Python annotation syntax.
        spec: String,
        /// Struct table (as in pld-vectors/1), as a msgpack map.
        #[schemars(with = "serde_json::Value")]
        structs: rmpv::Value,
        /// The payload bytes.
        #[schemars(with = "Bytes")]
        payload: ByteBuf,
    },
    /// Check the frames of one channel against the dialog rules.
    Dialog {
        /// Request id.
        id: u64,
        /// `[from, body]` pairs; `from` is `"a"` (connector) or `"b"` (acceptor).
        #[schemars(with = "Vec<(String, Bytes)>")]
        frames: Vec<(String, ByteBuf)>,
    },
}

/// The testee's answer to [`Request::Hello`].
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub struct Hello {
    /// Always `"hello"`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Implementation name.
    pub name: String,
    /// Implementation version.
    pub version: String,
    /// Features it implements, by name: `decode`, `encode`, `payload`,
    /// `dialog`, `dialog-codes`, `legacy-dict`. A name the harness does not
    /// know is reported, not refused.
    pub features: Vec<String>,
}

impl Hello {
    /// The declared features this harness knows, and the names it does not
    /// (a typo, or a feature of a newer harness).
    pub fn features(&self) -> (Vec<Feature>, Vec<&str>) {
        let mut known = Vec::new();
        let mut unknown = Vec::new();
        for name in &self.features {
            match Feature::from_name(name) {
                Some(f) => known.push(f),
                None => unknown.push(name.as_str()),
            }
        }
        (known, unknown)
    }
}

/// What a testee can do. Each case needs the feature of its kind
/// ([`CaseBody::feature`](crate::case::CaseBody::feature)) and any its case
/// file lists; a testee declares its features in its hello.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize, Serialize, JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum Feature {
    /// Decoding frames (`decode` requests).
    Decode,
    /// Encoding messages (`encode` requests).
    Encode,
    /// Payload specs (`payload` requests).
    Payload,
    /// Dialog rules (`dialog` requests).
    Dialog,
    /// A `dialog` answer names the violation code, which is then checked.
    DialogCodes,
    /// Decoding the dict dialect of tractor 0.1.0a5.
    LegacyDict,
}

impl Feature {
    /// Every feature.
    pub const ALL: [Feature; 6] = [
        Feature::Decode,
        Feature::Encode,
        Feature::Payload,
        Feature::Dialog,
        Feature::DialogCodes,
        Feature::LegacyDict,
    ];

    /// Its name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Feature::Decode => "decode",
            Feature::Encode => "encode",
            Feature::Payload => "payload",
            Feature::Dialog => "dialog",
            Feature::DialogCodes => "dialog-codes",
            Feature::LegacyDict => "legacy-dict",
        }
    }

    /// The feature of a name, if this harness knows it.
    pub fn from_name(name: &str) -> Option<Feature> {
        Feature::ALL.into_iter().find(|f| f.as_str() == name)
    }
}

/// The testee's answer to a request.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub struct Response {
    /// The request's id.
    pub id: u64,
    /// `ok`, `error` or `skipped`.
    pub status: String,
    /// `decode`: the tag of the decoded message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub msg_type: Option<String>,
    /// `decode`/`encode`: the encoded bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<Bytes>")]
    pub bytes: Option<ByteBuf>,
    /// `error`: the error class (`ValidationError`, `DecodeError`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class: Option<String>,
    /// `error`: the error text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// `skipped`: why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// `dialog`: whether the channel follows the rules.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accepted: Option<bool>,
    /// `dialog`: index of the first frame breaking them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frame: Option<u64>,
    /// `dialog`: violation code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
}

impl Response {
    /// A successful response.
    pub fn ok(id: u64) -> Self {
        Response {
            id,
            status: "ok".into(),
            ..Default::default()
        }
    }

    /// An error response.
    pub fn error(id: u64, class: impl Into<String>, text: impl Into<String>) -> Self {
        Response {
            id,
            status: "error".into(),
            class: Some(class.into()),
            text: Some(text.into()),
            ..Default::default()
        }
    }

    /// A skipped response.
    pub fn skipped(id: u64, reason: impl Into<String>) -> Self {
        Response {
            id,
            status: "skipped".into(),
            reason: Some(reason.into()),
            ..Default::default()
        }
    }
}

/// Encodes a protocol message as a msgpack map.
pub fn to_body<T: Serialize>(msg: &T) -> Vec<u8> {
    let mut out = Vec::new();
    let mut ser = rmp_serde::Serializer::new(&mut out).with_struct_map();
    // Our own types always serialize.
    let _ = msg.serialize(&mut ser);
    out
}

/// Writes one frame.
pub fn write_frame(w: &mut impl Write, body: &[u8]) -> std::io::Result<()> {
    let mut buf = Vec::with_capacity(shuttle::frame::PREFIX_LEN + body.len());
    shuttle::frame::write_frame(&mut buf, body)
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e.to_string()))?;
    w.write_all(&buf)?;
    w.flush()
}

/// Reads one frame; `Ok(None)` on a clean end of stream. A length above
/// `max` is refused before anything is allocated (by the message crate's
/// [`FrameSplitter`](shuttle::frame::FrameSplitter), which reads the prefix).
pub fn read_frame(r: &mut impl Read, max: usize) -> std::io::Result<Option<Vec<u8>>> {
    use shuttle::frame::{FrameSplitter, Split, PREFIX_LEN};
    let mut prefix = [0u8; PREFIX_LEN];
    let mut got = 0;
    while got < PREFIX_LEN {
        let n = r.read(&mut prefix[got..])?;
        if n == 0 {
            return if got == 0 {
                Ok(None)
            } else {
                Err(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    format!("stream ends inside a length prefix ({got}/{PREFIX_LEN} bytes)"),
                ))
            };
        }
        got += n;
    }
    let len = match FrameSplitter::new(max).split(&prefix) {
        Err(e) => {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                e.to_string(),
            ))
        }
        Ok(Split::Frame { .. }) => 0,
        Ok(Split::NeedMore { at_least }) => at_least,
    };
    let mut body = vec![0u8; len];
    r.read_exact(&mut body).map_err(|e| {
        std::io::Error::new(
            e.kind(),
            format!("stream ends inside a {len}-byte frame: {e}"),
        )
    })?;
    Ok(Some(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_feature_round_trips_by_name_and_through_serde() {
        for f in Feature::ALL {
            assert_eq!(Feature::from_name(f.as_str()), Some(f));
            let json = serde_json::to_string(&f).unwrap();
            assert_eq!(json, format!("\"{}\"", f.as_str()));
        }
        assert_eq!(Feature::from_name("decod"), None);
    }

    #[test]
    fn a_hello_keeps_unknown_feature_names_apart() {
        let hello = Hello {
            kind: "hello".into(),
            name: "t".into(),
            version: "1".into(),
            features: vec!["decode".into(), "decod".into(), "dialog-codes".into()],
        };
        let (known, unknown) = hello.features();
        assert_eq!(known, [Feature::Decode, Feature::DialogCodes]);
        assert_eq!(unknown, ["decod"]);
    }
}
