//! `MsgTypeError`: the `Error` message tractor builds for a payload that
//! violates its dialog's spec (`spec/PROTOCOL.md` §3.5), and a typed view
//! of such an `Error` when one is received.

use std::borrow::Cow;

use super::PldSpec;
use crate::error::DecodeError;
use crate::python::payload_repr;
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
        let (repr, ty) = payload_repr(pld);
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
