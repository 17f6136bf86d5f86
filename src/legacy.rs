//! The older dict dialect of tractor 0.1.0a5 (the only PyPI release) and of
//! tractor's main branch until March 2025 (`spec/PROTOCOL.md#legacy-dict-dialect`).
//!
//! Same framing, but untagged bodies: a bare `[name, uuid]` handshake,
//! `{"cmd": [ns, func, kwargs, uid, cid]}`, `{"functype": .., "cid": ..}`,
//! `{"started"|"yield"|"return": value, "cid": ..}`, `{"stop": true, "cid": ..}`,
//! `{"error": {"tb_str": .., "type_str": ..}, "cid": ..}` and a `nil`
//! end-of-channel sentinel. [`LegacyMsg`] reads and writes these byte for
//! byte (keys in the order 0.1.0a5 writes them); [`translate`] maps a
//! channel's frames to the typed protocol and states what cannot be mapped.
//!
//! ```
//! use shuttle::legacy::LegacyMsg;
//! let body = [0x82, 0xa4, b's', b't', b'o', b'p', 0xc3, 0xa3, b'c', b'i', b'd', 0xa2, b'c', b'1'];
//! let msg = LegacyMsg::decode(&body).unwrap();
//! assert_eq!(msg.cid(), Some("c1"));
//! assert_eq!(msg.to_vec(), body);
//! ```

use std::borrow::Cow;

use crate::dialog::{DecodedFrame, End};
use crate::error::{DecodeError, ErrorKind, PathSegment};
use crate::msg::{AnyMap, StrMap, WireField};
use crate::msgpack::{write, Int, Reader};
use crate::{
    Addr, AddrPort, Aid, CancelAck, Error, Functype, Msg, Raw, Return, SpawnSpec, Start, StartAck,
    Started, Stop, Uid, Yield,
};

/// One message of the dict dialect.
#[derive(Clone, Debug, PartialEq)]
pub enum LegacyMsg<'a> {
    /// `[name, uuid]`: the handshake, both ways.
    Handshake(Uid<'a>),
    /// The parent's first message to a spawned child.
    SpawnSpec(LegacySpawnSpec<'a>),
    /// `{"cmd": [ns, func, kwargs, uid, cid]}`: an RPC request.
    Cmd {
        /// Module path or `"self"`.
        ns: Cow<'a, str>,
        /// Function name.
        func: Cow<'a, str>,
        /// Keyword arguments.
        kwargs: StrMap<'a>,
        /// The caller.
        uid: Uid<'a>,
        /// The dialog id.
        cid: Cow<'a, str>,
    },
    /// `{"functype": .., "cid": ..}`: the first reply.
    Functype {
        /// The endpoint kind.
        functype: Functype,
        /// The dialog.
        cid: Cow<'a, str>,
    },
    /// `{"started": value, "cid": ..}`.
    Started {
        /// The value.
        pld: Raw<'a>,
        /// The dialog.
        cid: Cow<'a, str>,
    },
    /// `{"yield": value, "cid": ..}`.
    Yield {
        /// The value.
        pld: Raw<'a>,
        /// The dialog.
        cid: Cow<'a, str>,
    },
    /// `{"return": value, "cid": ..}` (also the answer of the cancel RPCs).
    Return {
        /// The value.
        pld: Raw<'a>,
        /// The dialog.
        cid: Cow<'a, str>,
    },
    /// `{"stop": true, "cid": ..}`.
    Stop {
        /// The dialog.
        cid: Cow<'a, str>,
    },
    /// `{"error": {"tb_str": .., "type_str": ..}, "cid": ..}`; `cid` absent
    /// for runtime-level errors.
    Error {
        /// Traceback text.
        tb_str: Cow<'a, str>,
        /// Exception class name.
        type_str: Cow<'a, str>,
        /// The dialog, if any.
        cid: Option<Cow<'a, str>>,
    },
    /// `nil`: "close this channel's loop".
    Terminate,
}

/// The 0.1.0a5 spawn message (keys in this order on the wire).
#[derive(Clone, Debug, PartialEq)]
pub struct LegacySpawnSpec<'a> {
    /// `_parent_main_data`.
    pub parent_main_data: AnyMap<'a>,
    /// `enable_modules`: module path to file.
    pub enable_modules: Vec<(Cow<'a, str>, Cow<'a, str>)>,
    /// `_arb_addr`: the arbiter (registrar) address.
    pub arb_addr: Addr<'a>,
    /// `bind_host`.
    pub bind_host: Cow<'a, str>,
    /// `bind_port`.
    pub bind_port: Int,
    /// `_runtime_vars`.
    pub runtime_vars: StrMap<'a>,
}

/// Builds a payload message from its value and cid.
type PayloadCtor<'a> = fn(Raw<'a>, Cow<'a, str>) -> LegacyMsg<'a>;

const SPAWN_KEYS: [&str; 6] = [
    "_parent_main_data",
    "enable_modules",
    "_arb_addr",
    "bind_host",
    "bind_port",
    "_runtime_vars",
];

fn other(text: impl Into<String>) -> DecodeError {
    DecodeError::new(ErrorKind::Other(text.into()))
}

fn missing(key: &'static str) -> DecodeError {
    DecodeError::new(ErrorKind::MissingField(Cow::Borrowed(key)))
}

impl<'a> LegacyMsg<'a> {
    /// Decodes one frame body of the dict dialect.
    pub fn decode(body: &'a [u8]) -> Result<LegacyMsg<'a>, DecodeError> {
        let mut r = Reader::new(body);
        let msg = Self::read(&mut r)?;
        r.finish()?;
        Ok(msg)
    }

    fn read(r: &mut Reader<'a>) -> Result<LegacyMsg<'a>, DecodeError> {
        if r.nil()? {
            return Ok(LegacyMsg::Terminate);
        }
        if r.peek_kind()? == crate::msgpack::Kind::Array {
            return Uid::decode(r).map(LegacyMsg::Handshake);
        }
        let n = r
            .map_len()?
            .ok_or_else(|| r.expected("object | array | null"))?;
        // Read the entries by key; values are decoded by what the first key says.
        let mut first: Option<&'a [u8]> = None;
        let mut entries: Vec<(&'a [u8], Reader<'a>)> = Vec::with_capacity(n.min(8));
        for _ in 0..n {
            let key = r
                .str_bytes()?
                .ok_or_else(|| r.expected("str").at(PathSegment::Key))?;
            first.get_or_insert(key);
            entries.push((key, r.clone()));
            r.skip_values(1)?;
        }
        let get = |k: &'static str| -> Result<Reader<'a>, DecodeError> {
            entries
                .iter()
                .rev()
                .find(|(key, _)| *key == k.as_bytes())
                .map(|(_, v)| v.clone())
                .ok_or_else(|| missing(k))
        };
        let cid = |k: &'static str| -> Result<Cow<'a, str>, DecodeError> {
            let mut v = get(k)?;
            v.str().map(Cow::Borrowed).map_err(|e| e.at_field(k))
        };
        const KINDS: [&[u8]; 8] = [
            b"cmd",
            b"functype",
            b"started",
            b"yield",
            b"return",
            b"stop",
            b"error",
            b"_parent_main_data",
        ];
        let kind = entries
            .iter()
            .map(|(k, _)| *k)
            .find(|k| KINDS.contains(k))
            .or(first)
            .ok_or_else(|| other("empty map: not a message of the dict dialect"))?;
        let expect_keys = |keys: &[&str]| -> Result<(), DecodeError> {
            if entries.len() == keys.len()
                && entries
                    .iter()
                    .zip(keys)
                    .all(|((k, _), want)| *k == want.as_bytes())
            {
                Ok(())
            } else {
                Err(other(format!("expected the keys {keys:?} in this order")))
            }
        };
        Ok(match kind {
            b"cmd" => {
                expect_keys(&["cmd"])?;
                let mut v = get("cmd")?;
                let at = |e: DecodeError, i| e.at_index(i).at_field("cmd");
                match v.array_len()? {
                    Some(5) => {}
                    Some(m) => {
                        return Err(DecodeError::new(ErrorKind::ArrayLength {
                            bound: "",
                            expected: 5,
                            got: m,
                        })
                        .at_field("cmd"))
                    }
                    None => return Err(v.expected("array").at_field("cmd")),
                }
                let ns = v.str().map_err(|e| at(e, 0))?;
                let func = v.str().map_err(|e| at(e, 1))?;
                let kwargs = StrMap::decode(&mut v).map_err(|e| at(e, 2))?;
                let uid = Uid::decode(&mut v).map_err(|e| at(e, 3))?;
                let cid = v.str().map_err(|e| at(e, 4))?;
                LegacyMsg::Cmd {
                    ns: Cow::Borrowed(ns),
                    func: Cow::Borrowed(func),
                    kwargs,
                    uid,
                    cid: Cow::Borrowed(cid),
                }
            }
            b"functype" => {
                expect_keys(&["functype", "cid"])?;
                let mut v = get("functype")?;
                LegacyMsg::Functype {
                    functype: Functype::decode(&mut v).map_err(|e| e.at_field("functype"))?,
                    cid: cid("cid")?,
                }
            }
            b"started" | b"yield" | b"return" => {
                let (name, make): (&'static str, PayloadCtor<'a>) = match kind {
                    b"started" => ("started", |pld, cid| LegacyMsg::Started { pld, cid }),
                    b"yield" => ("yield", |pld, cid| LegacyMsg::Yield { pld, cid }),
                    _ => ("return", |pld, cid| LegacyMsg::Return { pld, cid }),
                };
                expect_keys(&[name, "cid"])?;
                let mut v = get(name)?;
                let pld = Raw::from_checked(v.raw()?);
                make(pld, cid("cid")?)
            }
            b"stop" => {
                expect_keys(&["stop", "cid"])?;
                let mut v = get("stop")?;
                if v.bool()? != Some(true) {
                    return Err(other("`stop` must be true").at_field("stop"));
                }
                LegacyMsg::Stop { cid: cid("cid")? }
            }
            b"error" => {
                let with_cid = entries.len() == 2;
                expect_keys(if with_cid {
                    &["error", "cid"]
                } else {
                    &["error"]
                })?;
                let mut v = get("error")?;
                let m = v
                    .map_len()?
                    .ok_or_else(|| v.expected("object").at_field("error"))?;
                let (mut tb, mut ty) = (None, None);
                for i in 0..m {
                    let want = ["tb_str", "type_str"].get(i).copied().unwrap_or("");
                    if !v.eat_key(want) {
                        return Err(other(
                            "expected the keys [\"tb_str\", \"type_str\"] in this order",
                        )
                        .at_field("error"));
                    }
                    let s = v.str().map_err(|e| e.at_field(want).at_field("error"))?;
                    if i == 0 {
                        tb = Some(s);
                    } else {
                        ty = Some(s);
                    }
                }
                LegacyMsg::Error {
                    tb_str: Cow::Borrowed(tb.ok_or_else(|| missing("tb_str"))?),
                    type_str: Cow::Borrowed(ty.ok_or_else(|| missing("type_str"))?),
                    cid: if with_cid { Some(cid("cid")?) } else { None },
                }
            }
            b"_parent_main_data" => {
                expect_keys(&SPAWN_KEYS)?;
                let field = |k: &'static str| get(k);
                LegacyMsg::SpawnSpec(LegacySpawnSpec {
                    parent_main_data: AnyMap::decode(&mut field("_parent_main_data")?)
                        .map_err(|e| e.at_field("_parent_main_data"))?,
                    enable_modules: WireField::decode(&mut field("enable_modules")?)
                        .map_err(|e| e.at_field("enable_modules"))?,
                    arb_addr: Addr::decode(&mut field("_arb_addr")?)
                        .map_err(|e| e.at_field("_arb_addr"))?,
                    bind_host: Cow::decode(&mut field("bind_host")?)
                        .map_err(|e| e.at_field("bind_host"))?,
                    bind_port: Int::decode(&mut field("bind_port")?)
                        .map_err(|e| e.at_field("bind_port"))?,
                    runtime_vars: StrMap::decode(&mut field("_runtime_vars")?)
                        .map_err(|e| e.at_field("_runtime_vars"))?,
                })
            }
            other_key => {
                return Err(other(format!(
                    "unknown message of the dict dialect (first key {:?})",
                    String::from_utf8_lossy(other_key)
                )))
            }
        })
    }

    /// The dialog this message belongs to.
    pub fn cid(&self) -> Option<&str> {
        match self {
            LegacyMsg::Cmd { cid, .. }
            | LegacyMsg::Functype { cid, .. }
            | LegacyMsg::Started { cid, .. }
            | LegacyMsg::Yield { cid, .. }
            | LegacyMsg::Return { cid, .. }
            | LegacyMsg::Stop { cid } => Some(cid),
            LegacyMsg::Error { cid, .. } => cid.as_deref(),
            _ => None,
        }
    }

    /// A short name for the kind of message (`cmd`, `yield`, `handshake`, ...).
    pub fn kind(&self) -> &'static str {
        match self {
            LegacyMsg::Handshake(_) => "handshake",
            LegacyMsg::SpawnSpec(_) => "spawnspec",
            LegacyMsg::Cmd { .. } => "cmd",
            LegacyMsg::Functype { .. } => "functype",
            LegacyMsg::Started { .. } => "started",
            LegacyMsg::Yield { .. } => "yield",
            LegacyMsg::Return { .. } => "return",
            LegacyMsg::Stop { .. } => "stop",
            LegacyMsg::Error { .. } => "error",
            LegacyMsg::Terminate => "terminate",
        }
    }

    /// Appends the message's encoding, as 0.1.0a5 writes it.
    pub fn encode(&self, out: &mut Vec<u8>) {
        let pair = |out: &mut Vec<u8>, key: &str, pld: &Raw<'_>, cid: &str| {
            write::map_len(out, 2);
            write::str(out, key);
            out.extend_from_slice(pld.as_bytes());
            write::str(out, "cid");
            write::str(out, cid);
        };
        match self {
            LegacyMsg::Handshake(uid) => uid.encode(out),
            LegacyMsg::SpawnSpec(s) => {
                write::map_len(out, 6);
                write::str(out, SPAWN_KEYS[0]);
                s.parent_main_data.encode(out);
                write::str(out, SPAWN_KEYS[1]);
                s.enable_modules.encode(out);
                write::str(out, SPAWN_KEYS[2]);
                s.arb_addr.encode(out);
                write::str(out, SPAWN_KEYS[3]);
                write::str(out, &s.bind_host);
                write::str(out, SPAWN_KEYS[4]);
                s.bind_port.encode(out);
                write::str(out, SPAWN_KEYS[5]);
                s.runtime_vars.encode(out);
            }
            LegacyMsg::Cmd {
                ns,
                func,
                kwargs,
                uid,
                cid,
            } => {
                write::map_len(out, 1);
                write::str(out, "cmd");
                write::array_len(out, 5);
                write::str(out, ns);
                write::str(out, func);
                kwargs.encode(out);
                uid.encode(out);
                write::str(out, cid);
            }
            LegacyMsg::Functype { functype, cid } => {
                write::map_len(out, 2);
                write::str(out, "functype");
                write::str(out, functype.as_str());
                write::str(out, "cid");
                write::str(out, cid);
            }
            LegacyMsg::Started { pld, cid } => pair(out, "started", pld, cid),
            LegacyMsg::Yield { pld, cid } => pair(out, "yield", pld, cid),
            LegacyMsg::Return { pld, cid } => pair(out, "return", pld, cid),
            LegacyMsg::Stop { cid } => {
                write::map_len(out, 2);
                write::str(out, "stop");
                write::bool(out, true);
                write::str(out, "cid");
                write::str(out, cid);
            }
            LegacyMsg::Error {
                tb_str,
                type_str,
                cid,
            } => {
                write::map_len(out, if cid.is_some() { 2 } else { 1 });
                write::str(out, "error");
                write::map_len(out, 2);
                write::str(out, "tb_str");
                write::str(out, tb_str);
                write::str(out, "type_str");
                write::str(out, type_str);
                if let Some(cid) = cid {
                    write::str(out, "cid");
                    write::str(out, cid);
                }
            }
            LegacyMsg::Terminate => write::nil(out),
        }
    }

    /// The encoding in a new buffer.
    pub fn to_vec(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode(&mut out);
        out
    }
}

/// What became of one frame of the dict dialect in the typed protocol.
#[derive(Clone, Debug, PartialEq)]
pub struct Translated<'a> {
    /// The typed message, or `None` when there is no typed equivalent.
    pub msg: Option<Msg<'a>>,
    /// What the translation could not carry over (empty when lossless).
    pub losses: Vec<&'static str>,
}

/// The loss stated when a 0.1.0a5 end repeats `stop` on a dialog: its
/// callee answers the caller's `stop` with one and sends another when its
/// own stream closes (`spec/quirks.md#legacy-repeated-stop`).
pub const REPEATED_STOP: &str =
    "0.1.0a5 repeats `stop` on a dialog; the repeat has no typed equivalent (a typed end sends Stop once)";

/// Translates the frames of one channel of the dict dialect, in order, with
/// the end that sent each. The channel's
/// handshakes supply the uids that typed `Error`s need; each `Cmd` tells
/// which `return`s answer the cancel RPCs (they become `CancelAck`).
pub fn translate<'a>(frames: &[(End, LegacyMsg<'a>)]) -> Vec<Translated<'a>> {
    let mut uids: [Option<Uid<'a>>; 2] = [None, None];
    let mut cancel_rpcs: Vec<Cow<'a, str>> = Vec::new();
    let mut stopped: Vec<(usize, Cow<'a, str>)> = Vec::new();
    frames
        .iter()
        .map(|(from, msg)| {
            let me = usize::from(*from == End::B);
            let mut losses = Vec::new();
            let typed = match msg.clone() {
                LegacyMsg::Handshake(uid) => {
                    uids[me] = Some(uid.clone());
                    losses.push("the handshake carries no pid, is_registrar or is_probe");
                    Some(Msg::Aid(Aid {
                        name: uid.name,
                        uuid: uid.uuid,
                        pid: None,
                        is_registrar: None,
                        is_probe: false,
                    }))
                }
                LegacyMsg::SpawnSpec(s) => Some(Msg::SpawnSpec(SpawnSpec {
                    parent_main_data: s.parent_main_data,
                    runtime_vars: s.runtime_vars,
                    enable_modules: s.enable_modules,
                    reg_addrs: vec![s.arb_addr],
                    bind_addrs: Some(vec![Addr {
                        host: s.bind_host,
                        port: AddrPort::Int(s.bind_port),
                    }]),
                })),
                LegacyMsg::Cmd {
                    ns,
                    func,
                    kwargs,
                    uid,
                    cid,
                } => {
                    if ns == "self" && (func == "cancel" || func == "_cancel_task") {
                        cancel_rpcs.push(cid.clone());
                    }
                    Some(Msg::Start(Start {
                        cid,
                        ns,
                        func,
                        kwargs,
                        uid,
                        pld_spec: Cow::Borrowed("typing.Any"),
                    }))
                }
                LegacyMsg::Functype { functype, cid } => {
                    Some(Msg::StartAck(StartAck { cid, functype }))
                }
                LegacyMsg::Started { pld, cid } => Some(Msg::Started(Started { cid, pld })),
                LegacyMsg::Yield { pld, cid } => Some(Msg::Yield(Yield { cid, pld })),
                LegacyMsg::Return { pld, cid } if cancel_rpcs.contains(&cid) => {
                    if pld.as_bytes() != [0xc3] {
                        losses.push("a cancel RPC's `return` value becomes `CancelAck.pld = true`");
                    }
                    Some(Msg::CancelAck(CancelAck { cid, pld: true }))
                }
                LegacyMsg::Return { pld, cid } => Some(Msg::Return(Return { cid, pld })),
                LegacyMsg::Stop { cid } if stopped.contains(&(me, cid.clone())) => {
                    losses.push(REPEATED_STOP);
                    None
                }
                LegacyMsg::Stop { cid } => {
                    stopped.push((me, cid.clone()));
                    Some(Msg::Stop(Stop { cid }))
                }
                LegacyMsg::Error {
                    tb_str,
                    type_str,
                    cid,
                } => {
                    losses.push("the error names no source actor: the sender stands in for src_uid and relay_path");
                    if type_str == "ContextCancelled" {
                        losses.push("a ContextCancelled error names no canceller");
                    }
                    let sender = uids[me]
                        .clone()
                        .unwrap_or_else(|| Uid::new("unknown", "unknown"));
                    Some(Msg::from(Error {
                        src_uid: sender.clone(),
                        src_type_str: type_str.clone(),
                        boxed_type_str: type_str,
                        relay_path: vec![sender],
                        message: None,
                        tb_str,
                        canceller: None,
                        sender: None,
                        cid,
                        bad_msg: None,
                        bad_msg_as_dict: None,
                    }))
                }
                LegacyMsg::Terminate => {
                    losses.push("the nil end-of-channel sentinel has no typed equivalent: a typed peer closes the socket");
                    None
                }
            };
            Translated { msg: typed, losses }
        })
        .collect()
}

/// Decodes and translates one recorded channel of the dict dialect: each
/// frame's sender with what became of it. Fails with the index of the
/// first frame that is not a message of the dialect.
pub fn translate_channel(
    frames: &[DecodedFrame],
) -> Result<Vec<(End, Translated<'_>)>, (usize, DecodeError)> {
    let decoded = frames
        .iter()
        .enumerate()
        .map(|(i, f)| {
            LegacyMsg::decode(&f.body)
                .map(|m| (f.from, m))
                .map_err(|e| (i, e))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(frames
        .iter()
        .map(|f| f.from)
        .zip(translate(&decoded))
        .collect())
}

/// Translates a typed message into the dict dialect, where a mapping exists.
/// `None` for messages the dict dialect cannot carry.
pub fn from_typed<'a>(msg: &Msg<'a>) -> Option<LegacyMsg<'a>> {
    Some(match msg.clone() {
        Msg::Aid(a) => LegacyMsg::Handshake(a.uid()),
        Msg::Start(s) => LegacyMsg::Cmd {
            ns: s.ns,
            func: s.func,
            kwargs: s.kwargs,
            uid: s.uid,
            cid: s.cid,
        },
        Msg::StartAck(s) => LegacyMsg::Functype {
            functype: s.functype,
            cid: s.cid,
        },
        Msg::Started(m) => LegacyMsg::Started {
            pld: m.pld,
            cid: m.cid,
        },
        Msg::Yield(m) => LegacyMsg::Yield {
            pld: m.pld,
            cid: m.cid,
        },
        Msg::Return(m) => LegacyMsg::Return {
            pld: m.pld,
            cid: m.cid,
        },
        Msg::CancelAck(m) => LegacyMsg::Return {
            pld: if m.pld {
                Raw::from_checked(&[0xc3])
            } else {
                Raw::from_checked(&[0xc2])
            },
            cid: m.cid,
        },
        Msg::Stop(m) => LegacyMsg::Stop { cid: m.cid },
        Msg::Error(e) => LegacyMsg::Error {
            tb_str: e.tb_str,
            type_str: e.boxed_type_str,
            cid: e.cid,
        },
        Msg::SpawnSpec(s) => {
            let arb_addr = s.reg_addrs.into_iter().next()?;
            let bind = s.bind_addrs.and_then(|b| b.into_iter().next());
            let (bind_host, bind_port) = match bind {
                Some(Addr {
                    host,
                    port: AddrPort::Int(p),
                }) => (host, p),
                _ => (Cow::Borrowed("127.0.0.1"), Int::U(0)),
            };
            LegacyMsg::SpawnSpec(LegacySpawnSpec {
                parent_main_data: s.parent_main_data,
                enable_modules: s.enable_modules,
                arb_addr,
                bind_host,
                bind_port,
                runtime_vars: s.runtime_vars,
            })
        }
    })
}
