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

/// The kind of a request other than the hello. It decides what an `ok`
/// answer holds, and a response does not name it: it is read with
/// [`Response::parse`], given the kind of the request it answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// [`Request::Decode`].
    Decode,
    /// [`Request::Encode`].
    Encode,
    /// [`Request::Validate`].
    Validate,
    /// [`Request::Dialog`].
    Dialog,
}

impl Kind {
    /// Its name on the wire (the request's `type`).
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Decode => "decode",
            Kind::Encode => "encode",
            Kind::Validate => "validate",
            Kind::Dialog => "dialog",
        }
    }
}

impl Request {
    /// The request's id (0 for the hello, which has none).
    pub fn id(&self) -> u64 {
        match self {
            Request::Hello { .. } => 0,
            Request::Decode { id, .. }
            | Request::Encode { id, .. }
            | Request::Validate { id, .. }
            | Request::Dialog { id, .. } => *id,
        }
    }

    /// Its kind; `None` for the hello, which is answered with a [`Hello`].
    pub fn kind(&self) -> Option<Kind> {
        match self {
            Request::Hello { .. } => None,
            Request::Decode { .. } => Some(Kind::Decode),
            Request::Encode { .. } => Some(Kind::Encode),
            Request::Validate { .. } => Some(Kind::Validate),
            Request::Dialog { .. } => Some(Kind::Dialog),
        }
    }
}

/// The testee's answer to a request: one flat map, `id`, `status`, then the
/// fields of that status; for `ok`, those of the request's kind, which the
/// response does not name (the harness reads it knowing the request).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Response {
    /// The request's id.
    pub id: u64,
    /// How the testee fared, with what it answered.
    #[serde(flatten)]
    pub status: Status,
}

/// The `status` of a response, with its fields.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(tag = "status", rename_all = "lowercase")]
pub enum Status<A = Answer> {
    /// The request was carried out; what it answers depends on its kind
    /// (in a `Response`, any `Answer`; while one is read, one kind's).
    Ok(A),
    /// The testee refused the input.
    Error {
        /// The error class (`ValidationError` for a value of the wrong
        /// shape, `DecodeError` for malformed msgpack, or the class the
        /// implementation raised).
        class: String,
        /// The error text.
        text: String,
    },
    /// The testee declined the request.
    Skipped {
        /// Why.
        reason: String,
    },
}

/// What an `ok` response holds, by the kind of the request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum Answer {
    /// To a `decode` request.
    Decode(Decoded),
    /// To an `encode` request.
    Encode(Encoded),
    /// To a `validate` request.
    Validate(Validated),
    /// To a `dialog` request.
    Dialog(Verdict),
}

impl Answer {
    /// The kind of request it answers.
    pub fn kind(&self) -> Kind {
        match self {
            Answer::Decode(_) => Kind::Decode,
            Answer::Encode(_) => Kind::Encode,
            Answer::Validate(_) => Kind::Validate,
            Answer::Dialog(_) => Kind::Dialog,
        }
    }
}

/// A decoded frame, re-encoded.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub struct Decoded {
    /// The tag of the decoded message (for the dict dialect, the suite's
    /// name of its kind).
    pub msg_type: String,
    /// The re-encoding.
    #[schemars(with = "Bytes")]
    pub bytes: ByteBuf,
}

/// An encoded message.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub struct Encoded {
    /// The tag of the message built (informative: not judged).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub msg_type: Option<String>,
    /// The encoding.
    #[schemars(with = "Bytes")]
    pub bytes: ByteBuf,
}

/// A payload that conforms to its spec: no fields.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub struct Validated {}

/// Whether a channel follows the dialog rules.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub struct Verdict {
    /// True when it does.
    pub accepted: bool,
    /// When it does not: the index of the first frame breaking them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frame: Option<u64>,
    /// When it does not: the violation code (judged for testees declaring
    /// `dialog-codes`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// When it does not: a description of the violation (informative).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

/// A response as read for one kind of request.
#[derive(Deserialize)]
struct Wire<A> {
    id: u64,
    #[serde(flatten)]
    status: Status<A>,
}

impl<A> Status<A> {
    /// The same status, an `ok` answer passed through `f`.
    pub fn map<B>(self, f: impl FnOnce(A) -> B) -> Status<B> {
        match self {
            Status::Ok(a) => Status::Ok(f(a)),
            Status::Error { class, text } => Status::Error { class, text },
            Status::Skipped { reason } => Status::Skipped { reason },
        }
    }
}

impl Response {
    /// A successful response.
    pub fn ok(id: u64, answer: Answer) -> Self {
        Response {
            id,
            status: Status::Ok(answer),
        }
    }

    /// An error response.
    pub fn error(id: u64, class: impl Into<String>, text: impl Into<String>) -> Self {
        Response {
            id,
            status: Status::Error {
                class: class.into(),
                text: text.into(),
            },
        }
    }

    /// A skipped response.
    pub fn skipped(id: u64, reason: impl Into<String>) -> Self {
        Response {
            id,
            status: Status::Skipped {
                reason: reason.into(),
            },
        }
    }

    /// Reads a response (a msgpack map) to a request of `kind`: the fields
    /// its status needs must be there with the right types (`ok` to a
    /// `decode` needs `msg_type` and `bytes`, ...); fields it does not
    /// know are ignored. The error says what is missing or wrong.
    pub fn parse(kind: Kind, body: &[u8]) -> Result<Response, String> {
        fn read<A: serde::de::DeserializeOwned>(
            body: &[u8],
            f: impl FnOnce(A) -> Answer,
        ) -> Result<Response, String> {
            let w: Wire<A> = rmp_serde::from_slice(body).map_err(|e| e.to_string())?;
            Ok(Response {
                id: w.id,
                status: w.status.map(f),
            })
        }
        match kind {
            Kind::Decode => read(body, Answer::Decode),
            Kind::Encode => read(body, Answer::Encode),
            Kind::Validate => read(body, Answer::Validate),
            Kind::Dialog => read(body, Answer::Dialog),
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

    fn body(v: serde_json::Value) -> Vec<u8> {
        // JSON strings stand for bins under the key `bytes`, as a testee
        // writes them.
        let mut value = rmpv::ext::to_value(&v).unwrap();
        if let rmpv::Value::Map(entries) = &mut value {
            for (k, v) in entries {
                if k.as_str() == Some("bytes") {
                    *v = rmpv::Value::Binary(v.as_str().unwrap().as_bytes().to_vec());
                }
            }
        }
        let mut out = Vec::new();
        rmpv::encode::write_value(&mut out, &value).unwrap();
        out
    }

    #[test]
    fn each_kind_reads_its_own_ok_answer() {
        use serde_json::json;
        let r = Response::parse(
            Kind::Decode,
            &body(json!({"id": 3, "status": "ok", "msg_type": "Stop", "bytes": "ab"})),
        )
        .unwrap();
        assert_eq!(
            r,
            Response::ok(
                3,
                Answer::Decode(Decoded {
                    msg_type: "Stop".into(),
                    bytes: ByteBuf::from(b"ab".to_vec())
                })
            )
        );
        // The Python testee names the type of an encoded message too.
        let r = Response::parse(
            Kind::Encode,
            &body(json!({"id": 4, "status": "ok", "msg_type": "Stop", "bytes": "x"})),
        )
        .unwrap();
        assert!(
            matches!(r.status, Status::Ok(Answer::Encode(Encoded { ref bytes, .. })) if bytes[..] == b"x"[..])
        );
        let r = Response::parse(Kind::Validate, &body(json!({"id": 5, "status": "ok"}))).unwrap();
        assert_eq!(r, Response::ok(5, Answer::Validate(Validated {})));
        let r = Response::parse(
            Kind::Dialog,
            &body(json!({"id": 6, "status": "ok", "accepted": false, "frame": 2, "code": "x"})),
        )
        .unwrap();
        let Status::Ok(Answer::Dialog(v)) = r.status else {
            panic!("{r:?}")
        };
        assert_eq!(
            (v.accepted, v.frame, v.code.as_deref()),
            (false, Some(2), Some("x"))
        );
        let r = Response::parse(
            Kind::Dialog,
            &body(json!({"id": 7, "status": "error", "class": "DecodeError", "text": "t"})),
        )
        .unwrap();
        assert_eq!(r, Response::error(7, "DecodeError", "t"));
        let r = Response::parse(
            Kind::Decode,
            &body(json!({"id": 8, "status": "skipped", "reason": "no"})),
        )
        .unwrap();
        assert_eq!(r, Response::skipped(8, "no"));
    }

    #[test]
    fn a_response_written_is_read_back_the_same_with_the_same_keys() {
        let cases = [
            Response::ok(
                1,
                Answer::Decode(Decoded {
                    msg_type: "Stop".into(),
                    bytes: ByteBuf::from(vec![0x80]),
                }),
            ),
            Response::ok(
                2,
                Answer::Encode(Encoded {
                    msg_type: Some("Stop".into()),
                    bytes: ByteBuf::from(vec![0x80]),
                }),
            ),
            Response::ok(3, Answer::Validate(Validated {})),
            Response::ok(
                4,
                Answer::Dialog(Verdict {
                    accepted: false,
                    frame: Some(1),
                    code: Some("c".into()),
                    text: Some("t".into()),
                }),
            ),
            Response::error(5, "ValidationError", "t"),
            Response::skipped(6, "r"),
        ];
        let keys = [
            &["id", "status", "msg_type", "bytes"][..],
            &["id", "status", "msg_type", "bytes"],
            &["id", "status"],
            &["id", "status", "accepted", "frame", "code", "text"],
            &["id", "status", "class", "text"],
            &["id", "status", "reason"],
        ];
        for (resp, keys) in cases.iter().zip(keys) {
            let wire = to_body(resp);
            let rmpv::Value::Map(m) = rmpv::decode::read_value(&mut &wire[..]).unwrap() else {
                panic!("not a map")
            };
            let got: Vec<&str> = m.iter().filter_map(|(k, _)| k.as_str()).collect();
            assert_eq!(got, keys, "{resp:?}");
            let Status::Ok(a) = &resp.status else {
                assert_eq!(&Response::parse(Kind::Decode, &wire).unwrap(), resp);
                continue;
            };
            assert_eq!(&Response::parse(a.kind(), &wire).unwrap(), resp);
        }
    }

    #[test]
    fn a_malformed_response_says_what_is_wrong() {
        use serde_json::json;
        let err = |kind, v| Response::parse(kind, &body(v)).unwrap_err();
        let e = err(
            Kind::Decode,
            json!({"id": 1, "status": "ok", "bytes": "ab"}),
        );
        assert!(e.contains("missing field `msg_type`"), "{e}");
        let e = err(Kind::Encode, json!({"id": 1, "status": "ok"}));
        assert!(e.contains("missing field `bytes`"), "{e}");
        let e = err(Kind::Dialog, json!({"id": 1, "status": "ok"}));
        assert!(e.contains("missing field `accepted`"), "{e}");
        let e = err(Kind::Validate, json!({"id": 1, "status": "fine"}));
        assert!(e.contains("unknown variant `fine`"), "{e}");
        let e = err(Kind::Validate, json!({"id": 1}));
        assert!(e.contains("missing field `status`"), "{e}");
        let e = err(Kind::Validate, json!({"status": "ok"}));
        assert!(e.contains("missing field `id`"), "{e}");
        let e = err(
            Kind::Decode,
            json!({"id": 1, "status": "error", "class": "X"}),
        );
        assert!(e.contains("missing field `text`"), "{e}");
        let e = err(
            Kind::Dialog,
            json!({"id": 1, "status": "ok", "accepted": "yes"}),
        );
        assert!(e.contains("invalid type"), "{e}");
        let e = Response::parse(Kind::Decode, b"\xc1").unwrap_err();
        assert!(!e.is_empty());
        let e = Response::parse(Kind::Decode, b"").unwrap_err();
        assert!(!e.is_empty());
    }
}
