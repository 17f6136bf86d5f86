//! `MsgTypeError`: the `Error` message tractor builds for a payload that
//! violates its dialog's spec (`spec/PROTOCOL.md` §3.5), and a typed view
//! of such an `Error` when one is received.

use std::borrow::Cow;

use super::PldSpec;
use crate::error::{python_str_repr, DecodeError};
use crate::BadMsg;
use crate::{Error, MsgType, Raw, Uid};

/// The class name tractor puts in `src_type_str` / `boxed_type_str`.
pub const MSG_TYPE_ERROR: &str = "MsgTypeError";

/// A payload-spec violation, ready to be packed as an `Error`.
#[derive(Clone, Debug, PartialEq)]
pub struct MsgTypeError {
    /// The offending `Started`/`Yield`/`Return`, shipped whole in `_bad_msg`.
    pub bad_msg: BadMsg<'static>,
    /// The actor that sent the bad payload (receive side: the peer; send
    /// side `Started` check: the callee itself).
    pub src_uid: Uid<'static>,
    /// Actors the error went through, first hop first (at least the actor
    /// that packed it).
    pub relay_path: Vec<Uid<'static>>,
    /// The spec in tractor's `MsgDec.spec_str` form (`PldMsg|NoneType`).
    pub spec_str: String,
    /// Traceback text (free-form; tractor puts the Python traceback here).
    pub tb_str: String,
}

impl MsgTypeError {
    /// The error for `bad_msg` violating `spec`, sent by `src_uid` and
    /// packed by `packer` (`relay_path = [packer]`).
    pub fn new(bad_msg: BadMsg<'_>, spec: &PldSpec, src_uid: Uid<'_>, packer: Uid<'_>) -> Self {
        MsgTypeError {
            bad_msg: owned_bad_msg(bad_msg),
            src_uid: src_uid.into_owned(),
            relay_path: vec![packer.into_owned()],
            spec_str: spec.tractor_spec_str(),
            tb_str: String::new(),
        }
    }

    /// The message kind of the offending message.
    pub fn msg_type(&self) -> MsgType {
        self.bad_msg.msg_type()
    }

    /// tractor's text: ``invalid `<Kind>` msg payload\n\n<repr(value)>\n\nhas
    /// type <type>\n\nand does not match type-spec `<Kind>.pld: <spec>` ``,
    /// the value shown as Python shows it after decoding with `Any`.
    pub fn message(&self) -> String {
        let kind = self.msg_type().as_str();
        let (_, pld) = self.bad_msg.parts();
        let (repr, ty) = python_repr_of(pld);
        format!(
            "invalid `{kind}` msg payload\n\n{repr}\n\nhas type {ty}\n\nand does not match type-spec `{kind}.pld: {}`",
            self.spec_str
        )
    }

    /// The `Error` message: type strs `MsgTypeError`, `cid` of the bad
    /// message, `_bad_msg` = the whole bad message.
    pub fn to_error(&self) -> Error<'static> {
        let (cid, _) = self.bad_msg.parts();
        Error {
            src_uid: self.src_uid.clone(),
            src_type_str: Cow::Borrowed(MSG_TYPE_ERROR),
            boxed_type_str: Cow::Borrowed(MSG_TYPE_ERROR),
            relay_path: self.relay_path.clone(),
            message: Some(Cow::Owned(self.message())),
            tb_str: Cow::Owned(self.tb_str.clone()),
            canceller: None,
            sender: None,
            cid: Some(Cow::Owned(cid.to_string())),
            bad_msg: Some(self.bad_msg.clone()),
            bad_msg_as_dict: None,
        }
    }
}

impl MsgTypeError {
    /// The `Error` a callee ships when its task died from this (receive-side)
    /// error (§3.5 D): `src_uid` is the callee, which also appears twice in
    /// `relay_path` (once from the local packing, once from re-shipping),
    /// and the detailed text is replaced by `remote task raised a
    /// 'MsgTypeError'\n`; `_bad_msg` still carries the offending message.
    pub fn to_reshipped_error(&self, callee: Uid<'_>) -> Error<'static> {
        let callee = callee.into_owned();
        let mut e = self.to_error();
        e.src_uid = callee.clone();
        e.relay_path = vec![callee.clone(), callee];
        e.message = Some(Cow::Borrowed("remote task raised a 'MsgTypeError'\n"));
        e
    }
}

/// Checks the payload of a `Started`, `Yield` or `Return` against `spec`;
/// `None` for every other message (never limited).
pub fn validate_msg(msg: &crate::Msg<'_>, spec: &PldSpec) -> Option<Result<(), DecodeError>> {
    let pld = match msg {
        crate::Msg::Started(m) => &m.pld,
        crate::Msg::Yield(m) => &m.pld,
        crate::Msg::Return(m) => &m.pld,
        _ => return None,
    };
    Some(spec.validate(pld.as_bytes()))
}

fn owned_bad_msg(m: BadMsg<'_>) -> BadMsg<'static> {
    match m {
        BadMsg::Started(s) => {
            BadMsg::Started(crate::Started::new(s.cid.into_owned(), s.pld.into_owned()))
        }
        BadMsg::Yield(s) => {
            BadMsg::Yield(crate::Yield::new(s.cid.into_owned(), s.pld.into_owned()))
        }
        BadMsg::Return(s) => {
            BadMsg::Return(crate::Return::new(s.cid.into_owned(), s.pld.into_owned()))
        }
    }
}

/// A received `Error` whose `boxed_type_str` is `MsgTypeError`.
#[derive(Clone, Copy, Debug)]
pub struct MsgTypeErrorView<'e, 'a> {
    error: &'e Error<'a>,
}

impl<'e, 'a> MsgTypeErrorView<'e, 'a> {
    /// The view, if `error` is a `MsgTypeError`.
    pub fn from_error(error: &'e Error<'a>) -> Option<Self> {
        (error.boxed_type_str == MSG_TYPE_ERROR).then_some(MsgTypeErrorView { error })
    }

    /// The whole `Error`.
    pub fn error(&self) -> &'e Error<'a> {
        self.error
    }

    /// The offending message, when shipped (`_bad_msg`).
    pub fn bad_msg(&self) -> Option<&'e BadMsg<'a>> {
        self.error.bad_msg.as_ref()
    }

    /// The kind of the offending message (Python's `expected_msg_type`).
    pub fn expected_msg_type(&self) -> Option<MsgType> {
        self.bad_msg().map(|m| m.msg_type())
    }

    /// The offending payload.
    pub fn payload(&self) -> Option<&'e Raw<'a>> {
        self.bad_msg().map(|m| m.parts().1)
    }

    /// The dialog.
    pub fn cid(&self) -> Option<&'e str> {
        self.error.cid.as_deref()
    }

    /// The actor that sent the bad payload.
    pub fn src_uid(&self) -> &'e Uid<'a> {
        &self.error.src_uid
    }

    /// The relay path.
    pub fn relay_path(&self) -> &'e [Uid<'a>] {
        &self.error.relay_path
    }

    /// True for an MTE re-shipped by a callee whose task died from it
    /// (§3.5 D: the detailed text is gone from `message`).
    pub fn is_reshipped(&self) -> bool {
        self.error
            .message
            .as_deref()
            .is_some_and(|m| m.starts_with("remote task raised"))
    }

    /// The spec named in the message (`PldMsg|NoneType`), when present.
    pub fn spec_str(&self) -> Option<&'e str> {
        let m = self.error.message.as_deref()?;
        let start = m.rfind("type-spec `")? + "type-spec `".len();
        let rest = &m[start..];
        let rest = &rest[rest.find(": ")? + 2..];
        rest.strip_suffix('`')
    }

    /// Checks the shipped payload against `spec` again (e.g. to confirm a
    /// peer's complaint): `None` when no `_bad_msg` was shipped.
    pub fn revalidate(&self, spec: &PldSpec) -> Option<Result<(), DecodeError>> {
        self.payload().map(|p| spec.validate(p.as_bytes()))
    }
}

/// Python's `repr()` and `type()` of a payload decoded as `Any`.
pub fn python_repr_of(pld: &Raw<'_>) -> (String, &'static str) {
    match pld.to_value() {
        Ok(v) => {
            let ty = match v.as_rmpv() {
                rmpv::Value::Nil => "<class 'NoneType'>",
                rmpv::Value::Boolean(_) => "<class 'bool'>",
                rmpv::Value::Integer(_) => "<class 'int'>",
                rmpv::Value::F32(_) | rmpv::Value::F64(_) => "<class 'float'>",
                rmpv::Value::String(_) => "<class 'str'>",
                rmpv::Value::Binary(_) => "<class 'bytes'>",
                rmpv::Value::Array(_) => "<class 'list'>",
                rmpv::Value::Map(_) => "<class 'dict'>",
                rmpv::Value::Ext(-1, _) => "<class 'datetime.datetime'>",
                rmpv::Value::Ext(..) => "<class 'msgspec.msgpack.Ext'>",
            };
            let mut s = String::new();
            repr(&v, false, &mut s);
            (s, ty)
        }
        Err(_) => ("<undecodable>".into(), "<class 'msgspec.Raw'>"),
    }
}

/// Python's `repr()` of `v`, written with a loop (a payload may nest
/// [`DEFAULT_MAX_DEPTH`](crate::DEFAULT_MAX_DEPTH) levels). Inside a map
/// key, lists are tuples, as msgspec decodes them there.
fn repr(v: &rmpv::Value, in_key: bool, out: &mut String) {
    enum Step<'v> {
        Value(&'v rmpv::Value, bool),
        Text(&'static str),
    }
    let mut pending = vec![Step::Value(v, in_key)];
    while let Some(step) = pending.pop() {
        let (v, in_key) = match step {
            Step::Text(t) => {
                out.push_str(t);
                continue;
            }
            Step::Value(v, in_key) => (v, in_key),
        };
        match v {
            rmpv::Value::Nil => out.push_str("None"),
            rmpv::Value::Boolean(b) => out.push_str(if *b { "True" } else { "False" }),
            rmpv::Value::Integer(i) => out.push_str(&i.to_string()),
            rmpv::Value::F32(f) => out.push_str(&python_float(*f as f64)),
            rmpv::Value::F64(f) => out.push_str(&python_float(*f)),
            rmpv::Value::String(s) => match s.as_str() {
                Some(s) => out.push_str(&python_str_repr(s)),
                None => out.push_str(&python_bytes_repr(s.as_bytes())),
            },
            rmpv::Value::Binary(b) => out.push_str(&python_bytes_repr(b)),
            rmpv::Value::Array(a) => {
                let (open, close) = if in_key { ("(", ")") } else { ("[", "]") };
                out.push_str(open);
                // Pushed in reverse: the last pushed is written first.
                pending.push(Step::Text(close));
                if in_key && a.len() == 1 {
                    pending.push(Step::Text(","));
                }
                for (i, x) in a.iter().enumerate().rev() {
                    pending.push(Step::Value(x, in_key));
                    if i > 0 {
                        pending.push(Step::Text(", "));
                    }
                }
            }
            rmpv::Value::Map(m) => {
                out.push('{');
                pending.push(Step::Text("}"));
                for (i, (k, x)) in m.iter().enumerate().rev() {
                    pending.push(Step::Value(x, false));
                    pending.push(Step::Text(": "));
                    pending.push(Step::Value(k, true));
                    if i > 0 {
                        pending.push(Step::Text(", "));
                    }
                }
            }
            rmpv::Value::Ext(-1, data) => match datetime_repr(data) {
                Some(d) => out.push_str(&d),
                None => out.push_str(&format!("Ext(-1, {})", python_bytes_repr(data))),
            },
            rmpv::Value::Ext(code, data) => {
                out.push_str(&format!("Ext({code}, {})", python_bytes_repr(data)));
            }
        }
    }
}

/// Python's `repr()` of a float.
pub fn python_float(v: f64) -> String {
    if v.is_nan() {
        return "nan".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "inf".into() } else { "-inf".into() };
    }
    let e = format!("{v:e}");
    let (mant, exp) = e.split_once('e').unwrap_or((&e, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if (-4..16).contains(&exp) {
        let s = format!("{v}");
        if s.contains('.') {
            s
        } else {
            format!("{s}.0")
        }
    } else {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{mant}e{sign}{:02}", exp.abs())
    }
}

/// Python's `repr()` of a bytes object.
pub fn python_bytes_repr(b: &[u8]) -> String {
    let quote = if b.contains(&b'\'') && !b.contains(&b'"') {
        '"'
    } else {
        '\''
    };
    let mut s = String::from("b");
    s.push(quote);
    for &c in b {
        match c {
            b'\\' => s.push_str("\\\\"),
            b'\t' => s.push_str("\\t"),
            b'\n' => s.push_str("\\n"),
            b'\r' => s.push_str("\\r"),
            c if c as char == quote => {
                s.push('\\');
                s.push(quote);
            }
            0x20..=0x7e => s.push(c as char),
            c => s.push_str(&format!("\\x{c:02x}")),
        }
    }
    s.push(quote);
    s
}

/// Python's `repr()` of the UTC `datetime` msgspec builds from a msgpack
/// timestamp body (rounded to microseconds), or `None` if it has none.
fn datetime_repr(data: &[u8]) -> Option<String> {
    super::validate::check_timestamp(data).ok()?;
    let (secs, nanos): (i64, u32) = match data.len() {
        4 => (u32::from_be_bytes(data.try_into().ok()?) as i64, 0),
        8 => {
            let v = u64::from_be_bytes(data.try_into().ok()?);
            ((v & 0x3_ffff_ffff) as i64, (v >> 34) as u32)
        }
        _ => (
            i64::from_be_bytes(data[4..12].try_into().ok()?),
            u32::from_be_bytes(data[..4].try_into().ok()?),
        ),
    };
    let mut micros = (nanos + 500) / 1000;
    let mut secs = secs;
    if micros == 1_000_000 {
        micros = 0;
        secs += 1;
    }
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let (h, m, s) = (sod / 3600, sod % 3600 / 60, sod % 60);
    let mut out = format!("datetime.datetime({year}, {month}, {day}, {h}, {m}");
    if s != 0 || micros != 0 {
        out.push_str(&format!(", {s}"));
    }
    if micros != 0 {
        out.push_str(&format!(", {micros}"));
    }
    out.push_str(", tzinfo=datetime.timezone.utc)");
    Some(out)
}
