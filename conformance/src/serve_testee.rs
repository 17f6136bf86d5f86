//! `shuttle testee`: the built-in implementation over stdin/stdout, and
//! deliberately broken variants of it that prove the suite catches them.

use std::io::{BufReader, Write};

use serde_bytes::ByteBuf;
use shuttle::msgpack::write;
use shuttle::MsgType;
use shuttle_conformance::import::is_default;
use shuttle_conformance::protocol::{
    self, Answer, Decoded, Hello, Request, Response, Status, MAX_RESPONSE,
};
use shuttle_conformance::testee::{Builtin, Testee};

/// Arguments of `shuttle testee`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Misbehave on purpose (for testing the suite and the harness).
    #[arg(long, value_enum, hide = true)]
    misbehave: Option<Misbehave>,
    /// Start misbehaving at this request number (crash, hang, garbage, huge,
    /// wrong-id, malformed, exit).
    #[arg(long, default_value_t = 1, hide = true)]
    after: u64,
}

/// Ways to be wrong.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Misbehave {
    /// Writes floats as float32.
    Float32,
    /// Omits fields whose value is the default.
    DropDefaults,
    /// Accepts a float where an int is required.
    AcceptFloatForInt,
    /// Aborts the process.
    Crash,
    /// Stops answering.
    Hang,
    /// Writes bytes that are not a frame of the protocol.
    Garbage,
    /// Announces a 4 GiB response.
    Huge,
    /// Answers with the wrong request id.
    WrongId,
    /// Answers `ok` without the fields the request's kind needs.
    Malformed,
    /// Exits cleanly in the middle of the run.
    Exit,
    /// Declares no features in its hello (so every case is not
    /// applicable).
    NoFeatures,
    /// Answers every request with `skipped`.
    SkipAll,
}

pub fn run(args: &Args) -> anyhow::Result<bool> {
    let stdin = std::io::stdin();
    let mut input = BufReader::new(stdin.lock());
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut builtin = Builtin::default();
    let mut n = 0u64;
    while let Some(body) = protocol::read_frame(&mut input, MAX_RESPONSE)? {
        let req: Request = match rmp_serde::from_slice(&body) {
            Ok(r) => r,
            Err(e) => {
                let resp = Response::error(0, "ProtocolError", format!("unreadable request: {e}"));
                protocol::write_frame(&mut out, &protocol::to_body(&resp))?;
                continue;
            }
        };
        if let Request::Hello { .. } = req {
            let mut hello: Hello = builtin.hello().clone();
            if let Some(m) = args.misbehave {
                hello.name = format!("shuttle (misbehaving: {m:?})");
                if m == Misbehave::NoFeatures {
                    hello.features.clear();
                }
            }
            protocol::write_frame(&mut out, &protocol::to_body(&hello))?;
            continue;
        }
        n += 1;
        let mut resp = builtin
            .call(&req)
            .unwrap_or_else(|_| Response::skipped(0, "unreachable"));
        if let Some(m) = args.misbehave {
            if n >= args.after {
                match m {
                    Misbehave::Crash => std::process::abort(),
                    Misbehave::Hang => loop {
                        std::thread::sleep(std::time::Duration::from_secs(3600));
                    },
                    Misbehave::Exit => return Ok(true),
                    Misbehave::Garbage => {
                        out.write_all(b"\x05\x00\x00\x00\xc1\xc1\xc1\xc1\xc1")?;
                        out.flush()?;
                        continue;
                    }
                    Misbehave::Malformed => {
                        let mut bare = Vec::new();
                        write::value(
                            &mut bare,
                            &rmpv::Value::Map(vec![
                                ("id".into(), resp.id.into()),
                                ("status".into(), "ok".into()),
                            ]),
                        );
                        protocol::write_frame(&mut out, &bare)?;
                        continue;
                    }
                    Misbehave::Huge => {
                        out.write_all(&u32::MAX.to_le_bytes())?;
                        out.write_all(&[0; 64])?;
                        out.flush()?;
                        continue;
                    }
                    Misbehave::WrongId => resp.id += 1,
                    Misbehave::SkipAll => resp = Response::skipped(resp.id, "not today"),
                    _ => {}
                }
            }
            resp = bend(m, &req, resp);
        }
        protocol::write_frame(&mut out, &protocol::to_body(&resp))?;
    }
    Ok(true)
}

/// Applies a wrong-answer misbehaviour to a correct response.
fn bend(m: Misbehave, req: &Request, mut resp: Response) -> Response {
    let rewrite = |resp: &mut Response, f: &dyn Fn(rmpv::Value) -> rmpv::Value| {
        let bytes = match &mut resp.status {
            Status::Ok(Answer::Decode(Decoded { bytes, .. })) => bytes,
            Status::Ok(Answer::Encode(e)) => &mut e.bytes,
            _ => return,
        };
        if let Ok(v) = rmpv::decode::read_value(&mut &bytes[..]) {
            let mut out = Vec::new();
            let _ = rmpv::encode::write_value(&mut out, &f(v));
            *bytes = ByteBuf::from(out);
        }
    };
    match m {
        Misbehave::Float32 => rewrite(&mut resp, &to_float32),
        Misbehave::DropDefaults => rewrite(&mut resp, &|v| match v {
            rmpv::Value::Map(entries) => {
                let t = entries
                    .first()
                    .and_then(|(_, v)| v.as_str())
                    .and_then(|s| MsgType::from_wire(s.as_bytes()));
                rmpv::Value::Map(match t {
                    Some(t) => entries
                        .into_iter()
                        .filter(|(k, v)| !is_default(t, k.as_str().unwrap_or(""), v))
                        .collect(),
                    None => entries,
                })
            }
            v => v,
        }),
        Misbehave::AcceptFloatForInt => {
            let float_for_int = matches!(
                &resp.status,
                Status::Error { text, .. }
                    if text.contains("Expected `int") && text.contains("got `float`")
            );
            if float_for_int {
                if let Request::Decode { id, bytes, .. } = req {
                    let mut canonical = Vec::new();
                    if let Ok(v) = rmpv::decode::read_value(&mut &bytes[..]) {
                        write::value(&mut canonical, &v);
                    }
                    resp = Response::ok(
                        *id,
                        Answer::Decode(Decoded {
                            msg_type: "?".into(),
                            bytes: ByteBuf::from(canonical),
                        }),
                    );
                }
            }
        }
        _ => {}
    }
    resp
}

fn to_float32(v: rmpv::Value) -> rmpv::Value {
    use rmpv::Value;
    match v {
        Value::F64(f) => Value::F32(f as f32),
        Value::Array(a) => Value::Array(a.into_iter().map(to_float32).collect()),
        Value::Map(m) => Value::Map(m.into_iter().map(|(k, v)| (k, to_float32(v))).collect()),
        v => v,
    }
}
