//! The built-in testee: this crate's own `shuttle`, in process.

use serde_bytes::ByteBuf;
use shuttle::{msgpack::write, Msg};

use crate::protocol::{
    Answer, Decoded, Encoded, Feature, Hello, Request, Response, Validated, Verdict,
};

use super::{Failure, Testee};

/// The `shuttle` crate answering requests directly.
#[derive(Debug)]
pub struct Builtin {
    hello: Hello,
}

impl Default for Builtin {
    fn default() -> Self {
        Builtin {
            hello: Hello {
                kind: "hello".into(),
                name: "shuttle".into(),
                version: env!("CARGO_PKG_VERSION").into(),
                features: Feature::ALL
                    .iter()
                    .map(|f| f.as_str().to_string())
                    .collect(),
            },
        }
    }
}

impl Testee for Builtin {
    fn hello(&self) -> &Hello {
        &self.hello
    }

    fn call(&mut self, req: &Request) -> Result<Response, Failure> {
        Ok(answer(req))
    }
}

/// The built-in answer to one request (also what `shuttle testee` sends).
pub fn answer(req: &Request) -> Response {
    match req {
        Request::Hello { .. } => Response::skipped(0, "hello is answered with a Hello"),
        Request::Decode {
            id,
            bytes,
            dialect: Some(d),
        } if d == "dict" => legacy(*id, bytes),
        Request::Decode { id, bytes, .. } => decode(*id, bytes),
        Request::Encode { id, message } => {
            let mut body = Vec::new();
            write::value(&mut body, message);
            match Msg::decode(&body) {
                Ok(msg) => match msg.to_vec() {
                    Ok(bytes) => Response::ok(
                        *id,
                        Answer::Encode(Encoded {
                            msg_type: Some(msg.msg_type().to_string()),
                            bytes: ByteBuf::from(bytes),
                        }),
                    ),
                    Err(e) => Response::error(*id, "EncodeError", e.to_string()),
                },
                Err(e) => Response::error(*id, e.python_type(), e.to_string()),
            }
        }
        Request::Validate {
            id,
            spec,
            structs,
            payload,
        } => validate(*id, spec, structs, payload),
        Request::Dialog { id, frames } => dialog(*id, frames),
    }
}

fn decode(id: u64, bytes: &[u8]) -> Response {
    let msg = match Msg::decode(bytes) {
        Ok(msg) => msg,
        Err(e) => return Response::error(id, e.python_type(), e.msgspec_text()),
    };
    match msg.to_vec() {
        Ok(bytes) => Response::ok(
            id,
            Answer::Decode(Decoded {
                msg_type: msg.msg_type().to_string(),
                bytes: ByteBuf::from(bytes),
            }),
        ),
        Err(e) => Response::error(id, "EncodeError", e.to_string()),
    }
}

fn dialog(id: u64, frames: &[(String, ByteBuf)]) -> Response {
    use shuttle::dialog::{check_channel, End};
    let mut input = Vec::with_capacity(frames.len());
    for (from, body) in frames {
        let end = match from.as_str() {
            "a" => End::A,
            "b" => End::B,
            other => {
                return Response::error(
                    id,
                    "ProtocolError",
                    format!("frame sender {other:?} is neither \"a\" nor \"b\""),
                )
            }
        };
        input.push((end, &body[..]));
    }
    let report = check_channel(&input, false);
    let verdict = match report.violations.first() {
        None => Verdict {
            accepted: true,
            frame: None,
            code: None,
            text: None,
        },
        Some(v) => Verdict {
            accepted: false,
            frame: Some(v.frame.unwrap_or(frames.len()) as u64),
            code: Some(v.code.as_str().to_string()),
            text: Some(v.to_string()),
        },
    };
    Response::ok(id, Answer::Dialog(verdict))
}

fn legacy(id: u64, bytes: &[u8]) -> Response {
    match shuttle::legacy::LegacyMsg::decode(bytes) {
        Ok(msg) => Response::ok(
            id,
            Answer::Decode(Decoded {
                msg_type: msg.kind().to_string(),
                bytes: ByteBuf::from(msg.to_vec()),
            }),
        ),
        Err(e) => Response::error(id, e.python_type(), e.msgspec_text()),
    }
}

fn validate(id: u64, spec: &str, structs: &rmpv::Value, payload: &[u8]) -> Response {
    let structs = value_to_json(structs);
    let spec = match shuttle::pld_spec::PldSpec::parse(spec, &structs) {
        Ok(s) => s,
        Err(e) => {
            let why = format!("spec refused: {}: {}", e.error_type(), e.reason());
            return Response::skipped(id, why);
        }
    };
    match spec.validate(payload) {
        Ok(()) => Response::ok(id, Answer::Validate(Validated {})),
        Err(e) => Response::error(id, e.python_type(), e.msgspec_text()),
    }
}

/// The struct table of a validate request back to JSON (it came from
/// JSON), through rmpv's serde support; what JSON cannot hold is null.
fn value_to_json(v: &rmpv::Value) -> serde_json::Value {
    rmpv::ext::from_value(v.clone()).unwrap_or(serde_json::Value::Null)
}
