//! The ten messages of the shuttle protocol and their msgpack codec.
//!
//! Every message is a msgpack map whose first key is the tag `msg_type`
//! (the class name), followed by every field in declaration order, defaults
//! included (`spec/PROTOCOL.md#messages`). Decoding follows msgspec: keys in
//! any order, the tag anywhere, unknown keys skipped, defaulted fields
//! filled in, any int or str width accepted; wrong types, wrong tuple
//! lengths and unknown tags rejected with msgspec's wording.

use std::borrow::Cow;
use std::fmt;

use crate::error::{DecodeError, EncodeError, ErrorKind};
use crate::msgpack::{write, Int, Reader};
use crate::python::str_repr;
use crate::raw::{EncodePld, Raw};

mod field;
mod json;
#[cfg(feature = "schema")]
pub(crate) mod schema;
pub(crate) use field::WireField;
pub use field::{AnyMap, StrMap};

/// Writes everything that goes message by message from the one list of the
/// ten messages (the invocation below): the tag enum [`MsgType`] with
/// [`MsgType::ALL`], [`MsgType::as_str`], the tag matcher and
/// [`MsgType::is_payload`]; the [`Msg`] enum with its matches and `From`
/// impls; and the decode dispatch. None of these can leave a message out.
///
/// Each message is listed with its kind:
///
/// - `envelope`: a `message!` struct, held as `Msg::Name(Name<'a>)`;
/// - `payload`: a `payload_message!` struct (`cid` and `pld`), generic over
///   its payload and limited by payload specs, held as
///   `Msg::Name(Name<'a, P>)`;
/// - `boxed`: a `message!` struct held as `Msg::Name(Box<Name<'a>>)`, for a
///   large and rare message that would make every `Msg` larger to move.
///
/// [`Msg::cid`] reads each message's field named `cid` (see `message!`).
macro_rules! messages {
    // Each message with the type `Msg` holds it as, by its kind (written
    // out before the enum: a derive cannot see through a macro in a type).
    (@typed [$($done:tt)*] $(#[doc = $doc:literal])* $name:ident: envelope $(, $($rest:tt)*)?) => {
        messages!(@typed [$($done)* [$(#[doc = $doc])* $name: envelope ($name<'a>)]] $($($rest)*)?);
    };
    (@typed [$($done:tt)*] $(#[doc = $doc:literal])* $name:ident: payload $(, $($rest:tt)*)?) => {
        messages!(@typed [$($done)* [$(#[doc = $doc])* $name: payload ($name<'a, P>)]] $($($rest)*)?);
    };
    (@typed [$($done:tt)*] $(#[doc = $doc:literal])* $name:ident: boxed $(, $($rest:tt)*)?) => {
        messages!(@typed [$($done)* [$(#[doc = $doc])* $name: boxed (Box<$name<'a>>)]] $($($rest)*)?);
    };
    (@typed [$($done:tt)*]) => {
        messages!(@emit $($done)*);
    };

    (@emit $([
        $(#[doc = $doc:literal])*
        $name:ident: $kind:ident ($held:ty)
    ])*) => {
        /// The tag of a message: the value of its `msg_type` key.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum MsgType {
            $(
                #[doc = concat!("[`", stringify!($name), "`]")]
                $name,
            )*
        }

        /// Each tag's length and first eight bytes as a word, the key of
        /// the tag matcher.
        #[allow(non_upper_case_globals)]
        mod tag_keys {
            $(
                pub(super) const $name: (usize, u64) = super::tag_key(stringify!($name));
            )*
        }

        impl MsgType {
            /// All ten tags, in the protocol's order.
            pub const ALL: [MsgType; [$(stringify!($name)),*].len()] = [$(MsgType::$name),*];

            /// The tag as written on the wire.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(MsgType::$name => stringify!($name),)*
                }
            }

            /// True for the three messages whose `pld` is limited by a payload spec.
            pub const fn is_payload(self) -> bool {
                match self {
                    $(MsgType::$name => messages!(@is_payload $kind),)*
                }
            }

            /// The tag of `len` (1 to 9) bytes given as its first eight bytes
            /// (little-endian, zero past the end) and its last byte: one word
            /// compare per candidate, the last byte only for nine-byte tags.
            #[inline(always)]
            fn from_word(len: usize, word: u64, last: u8) -> Option<MsgType> {
                Some(match (len, word) {
                    $(
                        tag_keys::$name if tag_tail_is(stringify!($name), last) => MsgType::$name,
                    )*
                    _ => return None,
                })
            }
        }

        /// Any one of the ten messages, generic over the payload of `Started`,
        /// `Yield` and `Return` (raw bytes by default). `Error` is boxed so that
        /// the enum stays small to move.
        #[derive(Clone, Debug, PartialEq)]
        #[allow(missing_docs)]
        #[non_exhaustive]
        pub enum Msg<'a, P = Raw<'a>> {
            $(
                $(#[doc = $doc])*
                $name($held),
            )*
        }

        impl<'a> Msg<'a> {
            /// Decodes the payload of a `Started`, `Yield` or `Return` with `f`,
            /// leaving every other message as it is. This is the static payload
            /// limiter: `msg.try_map_pld(|raw| raw.decode::<Point>())`.
            pub fn try_map_pld<Q, E>(
                self,
                f: impl FnOnce(Raw<'a>) -> Result<Q, E>,
            ) -> Result<Msg<'a, Q>, E> {
                Ok(match self {
                    $(Msg::$name(m) => Msg::$name(messages!(@try_map $kind m, f)),)*
                })
            }
        }

        impl Msg<'_> {
            /// The message rendered as JSON, as described by the union schema
            /// `spec/schema/Msg.schema.json`: wire keys, the tag `msg_type` first,
            /// every field in wire order, payloads with the msgpack-to-JSON mapping
            /// of [`crate::json`] (`spec/PROTOCOL.md#json-rendering`).
            pub fn to_json(&self) -> serde_json::Value {
                match self {
                    $(Msg::$name(m) => m.to_json(),)*
                }
            }
        }

        impl<'a, P> Msg<'a, P> {
            /// The message's tag.
            pub fn msg_type(&self) -> MsgType {
                match self {
                    $(Msg::$name(_) => MsgType::$name,)*
                }
            }

            /// The dialog the message belongs to (`None` for `Aid`, `SpawnSpec` and
            /// runtime-level `Error`s).
            pub fn cid(&self) -> Option<&str> {
                match self {
                    $(Msg::$name(m) => m.dialog_cid(),)*
                }
            }

            /// The `cid` and payload of a payload message; `None` for the others.
            fn payload_parts(&self) -> Option<(&str, &P)> {
                match self {
                    $(Msg::$name(m) => messages!(@payload_parts $kind m),)*
                }
            }
        }

        impl<P: EncodePld> Msg<'_, P> {
            /// Appends the message's msgpack encoding to `out`, byte for byte as
            /// msgspec writes it. Fails only if a typed payload cannot be encoded.
            pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
                match self {
                    $(Msg::$name(m) => messages!(@encode $kind m, out),)*
                }
            }
        }

        $(messages!(@from $kind $name);)*

        /// Decodes one message from the reader, which must then be at its end.
        fn decode_msg<'a>(r: &mut Reader<'a>) -> Result<Msg<'a>, DecodeError> {
            let (tag, n) = read_tag(r, &MsgType::ALL)?;
            // Each arm builds the `Msg` as its last step, straight into the
            // returned value: a message built in a local and then returned is
            // copied (`Start` is 168 bytes).
            match tag {
                $(MsgType::$name => messages!(@decode $kind $name, tag, r, n),)*
            }
        }
    };

    (@is_payload payload) => { true };
    (@is_payload $other:ident) => { false };

    (@try_map payload $m:ident, $f:ident) => { $m.try_map($f)? };
    (@try_map $other:ident $m:ident, $f:ident) => { $m };

    (@payload_parts payload $m:ident) => { Some((&$m.cid, &$m.pld)) };
    (@payload_parts $other:ident $m:ident) => {{
        let _ = $m;
        None
    }};

    (@encode payload $m:ident, $out:ident) => { $m.encode($out) };
    (@encode $other:ident $m:ident, $out:ident) => {{
        $m.encode($out);
        Ok(())
    }};

    (@from envelope $name:ident) => {
        impl<'a> From<$name<'a>> for Msg<'a> {
            fn from(m: $name<'a>) -> Self {
                Msg::$name(m)
            }
        }
    };
    (@from payload $name:ident) => {
        impl<'a, P> From<$name<'a, P>> for Msg<'a, P> {
            fn from(m: $name<'a, P>) -> Self {
                Msg::$name(m)
            }
        }
    };
    (@from boxed $name:ident) => {
        impl<'a> From<$name<'a>> for Msg<'a> {
            fn from(m: $name<'a>) -> Self {
                Msg::$name(Box::new(m))
            }
        }
    };

    (@decode envelope $name:ident, $tag:ident, $r:ident, $n:ident) => {
        done($tag, $name::decode_fields($r, $n), $r).map(Msg::$name)
    };
    (@decode payload $name:ident, $tag:ident, $r:ident, $n:ident) => {
        done($tag, <$name<'a>>::decode_fields($r, $n, false), $r).map(Msg::$name)
    };
    (@decode boxed $name:ident, $tag:ident, $r:ident, $n:ident) => {
        done($tag, $name::decode_fields($r, $n), $r).map(|m| Msg::$name(Box::new(m)))
    };

    ($($list:tt)*) => {
        messages!(@typed [] $($list)*);
    };
}

// The ten messages, in the protocol's order (`MsgType::ALL`). Adding one:
// its line here, its struct below (`message!` or `payload_message!`).
messages! {
    Aid: envelope,
    SpawnSpec: envelope,
    Start: envelope,
    StartAck: envelope,
    Started: payload,
    Yield: payload,
    Stop: envelope,
    Return: payload,
    CancelAck: envelope,
    /// Boxed: by far the largest message, and a rare one.
    Error: boxed,
}

/// A tag's key for [`MsgType::from_word`]: its length and its first eight
/// bytes as a little-endian word. The matcher reads at most nine bytes.
const fn tag_key(tag: &str) -> (usize, u64) {
    let b = tag.as_bytes();
    assert!(
        !b.is_empty() && b.len() <= 9,
        "a tag of more than nine bytes needs a longer key in MsgType::from_word"
    );
    let mut w = 0u64;
    let mut i = 0;
    while i < b.len() && i < 8 {
        w |= (b[i] as u64) << (8 * i);
        i += 1;
    }
    (b.len(), w)
}

/// Whether `last` is the ninth byte of `tag`, which its key leaves out
/// (always true for tags of eight bytes or fewer).
#[inline(always)]
const fn tag_tail_is(tag: &str, last: u8) -> bool {
    let b = tag.as_bytes();
    b.len() <= 8 || b[b.len() - 1] == last
}

impl MsgType {
    /// The tag named by `s` (case-sensitive), if any.
    pub fn from_wire(s: &[u8]) -> Option<MsgType> {
        let (&last, _) = s.split_last()?;
        if s.len() > 9 {
            return None;
        }
        let mut w = [0u8; 8];
        let head = s.len().min(8);
        w[..head].copy_from_slice(&s[..head]);
        MsgType::from_word(s.len(), u64::from_le_bytes(w), last)
    }
}

impl fmt::Display for MsgType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An actor identity on the wire: `[name, uuid]`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Uid<'a> {
    /// Actor name.
    pub name: Cow<'a, str>,
    /// Actor uuid (`str(uuid.uuid4())` for real actors).
    pub uuid: Cow<'a, str>,
}

impl<'a> Uid<'a> {
    /// A uid from its two parts.
    pub fn new(name: impl Into<Cow<'a, str>>, uuid: impl Into<Cow<'a, str>>) -> Self {
        Uid {
            name: name.into(),
            uuid: uuid.into(),
        }
    }

    /// A copy that owns its strings.
    pub fn into_owned(self) -> Uid<'static> {
        Uid::new(self.name.into_owned(), self.uuid.into_owned())
    }
}

impl fmt::Display for Uid<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "('{}', '{}')", self.name, self.uuid)
    }
}

/// The endpoint kind announced by [`StartAck`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Functype {
    /// `asyncfunc`: one `Return` or `Error`.
    AsyncFunc,
    /// `asyncgen`: `Yield`s ended by `Stop` or `Error`.
    AsyncGen,
    /// `context`: `Started`, an optional two-way stream, then `Return` or `Error`.
    Context,
}

impl Functype {
    /// The literal on the wire.
    pub const fn as_str(self) -> &'static str {
        match self {
            Functype::AsyncFunc => "asyncfunc",
            Functype::AsyncGen => "asyncgen",
            Functype::Context => "context",
        }
    }

    /// Parses the wire literal.
    pub fn from_wire(s: &str) -> Option<Functype> {
        match s {
            "asyncfunc" => Some(Functype::AsyncFunc),
            "asyncgen" => Some(Functype::AsyncGen),
            "context" => Some(Functype::Context),
            _ => None,
        }
    }
}

/// A transport address: `[host, port]` for TCP, `[dir, file]` for UDS
/// (`tuple[str, str | int]`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Addr<'a> {
    /// TCP host (an IP literal) or UDS directory.
    pub host: Cow<'a, str>,
    /// TCP port or UDS file name.
    pub port: AddrPort<'a>,
}

/// The second element of an [`Addr`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AddrPort<'a> {
    /// A TCP port.
    Int(Int),
    /// A UDS socket file name.
    Str(Cow<'a, str>),
}

/// The types a message's `cid` field may have.
trait CidField {
    fn as_cid(&self) -> Option<&str>;
}

impl CidField for Cow<'_, str> {
    fn as_cid(&self) -> Option<&str> {
        Some(self)
    }
}

impl CidField for Option<Cow<'_, str>> {
    fn as_cid(&self) -> Option<&str> {
        self.as_deref()
    }
}

/// Defines an envelope message whose fields all implement `WireField`.
///
/// Each field names its wire key, optionally the default a decoder fills in
/// when the key is missing, and optionally the type whose JSON Schema
/// describes it when its Rust type alone would not. A field named `cid`
/// (a `str`, or `str | None`) is the message's dialog, for [`Msg::cid`].
macro_rules! message {
    (
        $(#[doc = $doc:literal])*
        pub struct $name:ident<'a> = $tag:literal {
            $(
                $(#[doc = $fdoc:literal])*
                pub $field:ident : $fty:ty = $key:literal $(, default $default:expr)? $(, schema $sty:ty)? ;
            )*
        }
    ) => {
        $(#[doc = $doc])*
        #[derive(Clone, Debug, PartialEq)]
        #[non_exhaustive]
        pub struct $name<'a> {
            $( $(#[doc = $fdoc])* pub $field: $fty, )*
        }

        impl<'a> $name<'a> {
            /// The tag (`msg_type`) of this message.
            pub const TAG: MsgType = MsgType::$name;
            /// Its wire keys after the tag, in the order they are written.
            pub const FIELDS: &'static [&'static str] = &[$($key),*];

            #[inline(never)]
            fn decode_fields(r: &mut Reader<'a>, n: usize) -> Result<Self, DecodeError> {
                $( let mut $field: Option<$fty> = None; )*
                // Fast path: the keys in declaration order, as tractor writes them.
                let mut n = n;
                $(
                    if n > 0 && r.eat_key($key) {
                        $field = Some(<$fty as WireField>::decode(r).map_err(|e| e.at_field($key))?);
                        n -= 1;
                    }
                )*
                // Whatever is left, in any order.
                for _ in 0..n {
                    let key = read_key(r)?;
                    $(
                        if key == $key.as_bytes() {
                            $field = Some(<$fty as WireField>::decode(r).map_err(|e| e.at_field($key))?);
                            continue;
                        }
                    )*
                    if key == b"msg_type" {
                        check_repeated_tag(r, $tag)?;
                    } else {
                        r.skip_values(1)?;
                    }
                }
                Ok($name { $( $field: message!(@take $field, $key $(, $default)?), )* })
            }

            /// Appends the message's msgpack encoding to `out`, byte for byte
            /// as msgspec writes it.
            pub fn encode(&self, out: &mut Vec<u8>) {
                write::map_len(out, 1 + Self::FIELDS.len() as u32);
                write::str(out, "msg_type");
                write::str(out, $tag);
                $(
                    write::str(out, $key);
                    WireField::encode(&self.$field, out);
                )*
            }

            /// The message's encoding in a new buffer.
            pub fn to_vec(&self) -> Vec<u8> {
                let mut out = Vec::new();
                self.encode(&mut out);
                out
            }

            /// The dialog: the field named `cid` if the message has one
            /// (read by [`Msg::cid`]).
            #[allow(unreachable_code)]
            fn dialog_cid(&self) -> Option<&str> {
                $( message!(@if_cid $field { return CidField::as_cid(&self.$field); }); )*
                None
            }

            /// The message rendered as JSON: wire keys, the tag first, every
            /// field in wire order (`spec/PROTOCOL.md#json-rendering`).
            pub fn to_json(&self) -> serde_json::Value {
                let mut m = serde_json::Map::new();
                m.insert("msg_type".to_owned(), serde_json::Value::from($tag));
                $( m.insert($key.to_owned(), json::WireJson::wire_json(&self.$field)); )*
                serde_json::Value::Object(m)
            }
        }

        #[cfg(feature = "schema")]
        impl<'a> schemars::JsonSchema for $name<'a> {
            fn schema_name() -> Cow<'static, str> {
                Cow::Borrowed($tag)
            }

            fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
                let fields = vec![$(
                    crate::msg::schema::FieldSpec {
                        key: $key,
                        doc: &[$($fdoc),*],
                        schema: message!(@schema generator, $fty $(, $sty)?),
                        default: message!(@default $fty $(, $default)?),
                    },
                )*];
                crate::msg::schema::message_schema(MsgType::$name, &[$($doc),*], fields)
            }
        }
    };
    (@if_cid cid $set:block) => { $set };
    (@if_cid $other:ident $set:block) => {};
    (@schema $g:ident, $fty:ty) => { $g.subschema_for::<$fty>() };
    (@schema $g:ident, $fty:ty, $sty:ty) => { $g.subschema_for::<$sty>() };
    (@default $fty:ty) => { None };
    (@default $fty:ty, $default:expr) => {
        Some({
            let d: $fty = $default;
            json::WireJson::wire_json(&d)
        })
    };
    (@take $v:ident, $key:literal) => {
        match $v {
            Some(v) => v,
            None => return Err(DecodeError::new(ErrorKind::MissingField(Cow::Borrowed($key)))),
        }
    };
    (@take $v:ident, $key:literal, $default:expr) => {
        match $v {
            Some(v) => v,
            None => $default,
        }
    };
}

message! {
    /// The identity handshake, first frame of every channel in both
    /// directions (`spec/PROTOCOL.md#aid`).
    pub struct Aid<'a> = "Aid" {
        /// Actor name.
        pub name: Cow<'a, str> = "name";
        /// Actor uuid.
        pub uuid: Cow<'a, str> = "uuid";
        /// OS process id (added 2025).
        pub pid: Option<Int> = "pid", default None;
        /// `true` for a registrar, `false` for a normal actor, `None` in probes and old peers.
        pub is_registrar: Option<bool> = "is_registrar", default None;
        /// A registrar liveness probe: the acceptor answers its `Aid` and closes.
        pub is_probe: bool = "is_probe", default false;
    }
}

message! {
    /// Runtime configuration from a parent to the child it spawned, second
    /// frame of the spawn channel (`spec/PROTOCOL.md#spawnspec`).
    pub struct SpawnSpec<'a> = "SpawnSpec" {
        /// `_parent_main_data`: how the child loads the parent's main module.
        pub parent_main_data: AnyMap<'a> = "_parent_main_data";
        /// `_runtime_vars`: the child's runtime variables.
        pub runtime_vars: StrMap<'a> = "_runtime_vars";
        /// Module path to source file, for every module the child exposes.
        pub enable_modules: Vec<(Cow<'a, str>, Cow<'a, str>)> = "enable_modules", schema crate::msg::schema::StrStrMap;
        /// Registrar addresses.
        pub reg_addrs: Vec<Addr<'a>> = "reg_addrs";
        /// Addresses to bind, or `None` for random ones.
        pub bind_addrs: Option<Vec<Addr<'a>>> = "bind_addrs";
    }
}

message! {
    /// Opens a dialog: schedule `ns.func(**kwargs)` in the callee
    /// (`spec/PROTOCOL.md#start`).
    pub struct Start<'a> = "Start" {
        /// The new dialog's id, chosen by the caller.
        pub cid: Cow<'a, str> = "cid";
        /// Module path, or `"self"` for runtime methods.
        pub ns: Cow<'a, str> = "ns";
        /// Function name in `ns`.
        pub func: Cow<'a, str> = "func";
        /// Keyword arguments.
        pub kwargs: StrMap<'a> = "kwargs";
        /// The caller's uid; must equal the channel's handshake uid.
        pub uid: Uid<'a> = "uid";
        /// Informational only; always `"typing.Any"` from tractor.
        pub pld_spec: Cow<'a, str> = "pld_spec", default Cow::Borrowed("typing.Any");
    }
}

message! {
    /// The callee's first reply: the endpoint kind (`spec/PROTOCOL.md#startack`).
    pub struct StartAck<'a> = "StartAck" {
        /// The dialog.
        pub cid: Cow<'a, str> = "cid";
        /// Which grammar the rest of the dialog follows.
        pub functype: Functype = "functype";
    }
}

message! {
    /// End of one side's stream, not of the dialog (`spec/PROTOCOL.md#stop`).
    pub struct Stop<'a> = "Stop" {
        /// The dialog.
        pub cid: Cow<'a, str> = "cid";
    }
}

message! {
    /// The result of the runtime cancel RPCs `self.cancel` and
    /// `self._cancel_task`; its `pld` is always a real bool and never limited
    /// (`spec/PROTOCOL.md#cancelack`).
    pub struct CancelAck<'a> = "CancelAck" {
        /// The cancel request's own dialog.
        pub cid: Cow<'a, str> = "cid";
        /// Always `true` from tractor.
        pub pld: bool = "pld";
    }
}

message! {
    /// A boxed remote exception (`spec/PROTOCOL.md#error`).
    pub struct Error<'a> = "Error" {
        /// The actor where the original exception was raised.
        pub src_uid: Uid<'a> = "src_uid";
        /// Class name of the original exception.
        pub src_type_str: Cow<'a, str> = "src_type_str";
        /// Class name of the exception boxed at this hop.
        pub boxed_type_str: Cow<'a, str> = "boxed_type_str";
        /// Uids that packed this error, source first, sender last.
        pub relay_path: Vec<Uid<'a>> = "relay_path";
        /// Short message (often `""`).
        pub message: Option<Cow<'a, str>> = "message", default None;
        /// Formatted traceback text.
        pub tb_str: Cow<'a, str> = "tb_str", default Cow::Borrowed("");
        /// `ContextCancelled`: who requested the cancel.
        pub canceller: Option<Uid<'a>> = "canceller", default None;
        /// `StreamOverrun`: the peer that overran the reporter.
        pub sender: Option<Uid<'a>> = "sender", default None;
        /// The dialog, or `None` for a runtime-level error.
        pub cid: Option<Cow<'a, str>> = "cid", default None;
        /// `MsgTypeError`: the offending payload message, nested as a full tagged map.
        pub bad_msg: Option<BadMsg<'a>> = "_bad_msg", default None;
        /// `MsgTypeError`: generic form of an undecodable message.
        pub bad_msg_as_dict: Option<AnyMap<'a>> = "_bad_msg_as_dict", default None;
    }
}

// Constructors: the fields the protocol requires; every defaulted field
// starts at its wire default (as a decoder fills it in when the key is
// missing) and is a public field to set afterwards. The message structs are
// `#[non_exhaustive]`: tractor adds fields (as it did to `Aid`), and a new
// defaulted field then breaks no caller.

impl<'a> Aid<'a> {
    /// An `Aid` with no pid, registrar flag or probe flag.
    pub fn new(name: impl Into<Cow<'a, str>>, uuid: impl Into<Cow<'a, str>>) -> Self {
        Aid {
            name: name.into(),
            uuid: uuid.into(),
            pid: None,
            is_registrar: None,
            is_probe: false,
        }
    }

    /// The uid this handshake announces.
    pub fn uid(&self) -> Uid<'a> {
        Uid::new(self.name.clone(), self.uuid.clone())
    }
}

impl<'a> SpawnSpec<'a> {
    /// A `SpawnSpec` from its five fields (all required).
    pub fn new(
        parent_main_data: AnyMap<'a>,
        runtime_vars: StrMap<'a>,
        enable_modules: Vec<(Cow<'a, str>, Cow<'a, str>)>,
        reg_addrs: Vec<Addr<'a>>,
        bind_addrs: Option<Vec<Addr<'a>>>,
    ) -> Self {
        SpawnSpec {
            parent_main_data,
            runtime_vars,
            enable_modules,
            reg_addrs,
            bind_addrs,
        }
    }
}

impl<'a> Start<'a> {
    /// A `Start` of `ns.func(**kwargs)` by `uid`, with tractor's
    /// `pld_spec` text `"typing.Any"`.
    pub fn new(
        cid: impl Into<Cow<'a, str>>,
        ns: impl Into<Cow<'a, str>>,
        func: impl Into<Cow<'a, str>>,
        kwargs: StrMap<'a>,
        uid: Uid<'a>,
    ) -> Self {
        Start {
            cid: cid.into(),
            ns: ns.into(),
            func: func.into(),
            kwargs,
            uid,
            pld_spec: Cow::Borrowed("typing.Any"),
        }
    }
}

impl<'a> StartAck<'a> {
    /// The callee's answer to `Start{cid}`: its endpoint kind.
    pub fn new(cid: impl Into<Cow<'a, str>>, functype: Functype) -> Self {
        StartAck {
            cid: cid.into(),
            functype,
        }
    }
}

impl<'a> Stop<'a> {
    /// End of this side's stream on dialog `cid`.
    pub fn new(cid: impl Into<Cow<'a, str>>) -> Self {
        Stop { cid: cid.into() }
    }
}

impl<'a> CancelAck<'a> {
    /// The result of a cancel request `cid` (`true` from tractor).
    pub fn new(cid: impl Into<Cow<'a, str>>, pld: bool) -> Self {
        CancelAck {
            cid: cid.into(),
            pld,
        }
    }
}

impl<'a> Error<'a> {
    /// An error raised in `src_uid` as `src_type_str`, boxed as
    /// `boxed_type_str`, packed by each uid of `relay_path` (source first);
    /// no `cid` (a runtime-level error) until one is set, an empty
    /// traceback, no message, canceller, sender or bad message.
    pub fn new(
        src_uid: Uid<'a>,
        src_type_str: impl Into<Cow<'a, str>>,
        boxed_type_str: impl Into<Cow<'a, str>>,
        relay_path: Vec<Uid<'a>>,
    ) -> Self {
        Error {
            src_uid,
            src_type_str: src_type_str.into(),
            boxed_type_str: boxed_type_str.into(),
            relay_path,
            message: None,
            tb_str: Cow::Borrowed(""),
            canceller: None,
            sender: None,
            cid: None,
            bad_msg: None,
            bad_msg_as_dict: None,
        }
    }
}

/// Defines a payload message (`cid` + `pld`), generic over the payload.
macro_rules! payload_message {
    ($(#[doc = $doc:literal])* $name:ident) => {
        $(#[doc = $doc])*
        #[derive(Clone, Debug, PartialEq)]
        #[non_exhaustive]
        pub struct $name<'a, P = Raw<'a>> {
            /// The dialog.
            pub cid: Cow<'a, str>,
            /// The payload: [`Raw`] bytes by default, or any decoded type.
            pub pld: P,
        }

        impl<'a, P> $name<'a, P> {
            /// The tag (`msg_type`) of this message.
            pub const TAG: MsgType = MsgType::$name;
            /// Its wire keys after the tag, in the order they are written.
            pub const FIELDS: &'static [&'static str] = &["cid", "pld"];

            /// A message on dialog `cid` carrying `pld`.
            pub fn new(cid: impl Into<Cow<'a, str>>, pld: P) -> Self {
                $name { cid: cid.into(), pld }
            }

            /// The dialog, for [`Msg::cid`].
            fn dialog_cid(&self) -> Option<&str> {
                Some(&self.cid)
            }

            /// The same message with its payload mapped.
            pub fn map<Q>(self, f: impl FnOnce(P) -> Q) -> $name<'a, Q> {
                $name { cid: self.cid, pld: f(self.pld) }
            }

            /// The same message with its payload mapped by a fallible function.
            pub fn try_map<Q, E>(self, f: impl FnOnce(P) -> Result<Q, E>) -> Result<$name<'a, Q>, E> {
                Ok($name { cid: self.cid, pld: f(self.pld)? })
            }
        }

        impl<'a> $name<'a> {
            #[inline(never)]
            fn decode_fields(r: &mut Reader<'a>, n: usize, any: bool) -> Result<Self, DecodeError> {
                let (cid, pld) = decode_payload_fields(r, n, MsgType::$name, any)?;
                Ok($name { cid, pld })
            }

            /// The message rendered as JSON: wire keys, the tag first, the
            /// payload with the msgpack-to-JSON mapping of
            /// `spec/PROTOCOL.md#json-rendering`.
            pub fn to_json(&self) -> serde_json::Value {
                let mut m = serde_json::Map::new();
                m.insert("msg_type".to_owned(), serde_json::Value::from(MsgType::$name.as_str()));
                m.insert("cid".to_owned(), serde_json::Value::from(self.cid.as_ref()));
                m.insert("pld".to_owned(), crate::json::raw_to_json(&self.pld));
                serde_json::Value::Object(m)
            }
        }

        #[cfg(feature = "schema")]
        impl<'a> schemars::JsonSchema for $name<'a> {
            fn schema_name() -> Cow<'static, str> {
                Cow::Borrowed(MsgType::$name.as_str())
            }

            fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
                crate::msg::schema::payload_message_schema(generator, MsgType::$name, &[$($doc),*])
            }
        }

        impl<'a, P: EncodePld> $name<'a, P> {
            /// Appends the message's msgpack encoding to `out`, byte for byte
            /// as msgspec writes it.
            pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
                encode_payload_msg(out, MsgType::$name, &self.cid, &self.pld)
            }

            /// The message's encoding in a new buffer. Fails only if a typed
            /// payload cannot be encoded.
            pub fn to_vec(&self) -> Result<Vec<u8>, EncodeError> {
                let mut out = Vec::new();
                self.encode(&mut out)?;
                Ok(out)
            }
        }
    };
}

payload_message! {
    /// `Context.started(value)`: the first value of a context endpoint
    /// (`spec/PROTOCOL.md#started`).
    Started
}
payload_message! {
    /// One stream item, either direction (`spec/PROTOCOL.md#yield`).
    Yield
}
payload_message! {
    /// The final result of a dialog (`spec/PROTOCOL.md#return`).
    Return
}

/// The payload message carried in [`Error::bad_msg`]: only `Started`,
/// `Yield` or `Return` may appear there; its `pld` is decoded as `Any`.
#[derive(Clone, Debug, PartialEq)]
pub enum BadMsg<'a> {
    /// A bad `Started`.
    Started(Started<'a>),
    /// A bad `Yield`.
    Yield(Yield<'a>),
    /// A bad `Return`.
    Return(Return<'a>),
}

impl<'a> BadMsg<'a> {
    /// The nested message's tag.
    pub fn msg_type(&self) -> MsgType {
        match self {
            BadMsg::Started(_) => MsgType::Started,
            BadMsg::Yield(_) => MsgType::Yield,
            BadMsg::Return(_) => MsgType::Return,
        }
    }

    /// The nested message's `cid` and payload.
    pub fn parts(&self) -> (&str, &Raw<'a>) {
        match self {
            BadMsg::Started(m) => (&m.cid, &m.pld),
            BadMsg::Yield(m) => (&m.cid, &m.pld),
            BadMsg::Return(m) => (&m.cid, &m.pld),
        }
    }
}

impl<'a> WireField<'a> for BadMsg<'a> {
    const EXPECTED: &'static str = "object";
    fn decode(r: &mut Reader<'a>) -> Result<Self, DecodeError> {
        const ALLOWED: &[MsgType] = &[MsgType::Started, MsgType::Yield, MsgType::Return];
        let (tag, n) = read_tag(r, ALLOWED)?;
        Ok(match tag {
            MsgType::Started => BadMsg::Started(<Started<'a>>::decode_fields(r, n, true)?),
            MsgType::Yield => BadMsg::Yield(<Yield<'a>>::decode_fields(r, n, true)?),
            _ => BadMsg::Return(<Return<'a>>::decode_fields(r, n, true)?),
        })
    }
    fn encode(&self, out: &mut Vec<u8>) {
        let (cid, pld) = self.parts();
        // Raw payloads cannot fail to encode.
        let _ = encode_payload_msg(out, self.msg_type(), cid, pld);
    }
}

impl<'a> Msg<'a> {
    /// Decodes one frame body (exactly one msgpack map, nothing after it).
    /// Payloads are borrowed from `body` as [`Raw`] bytes.
    pub fn decode(body: &'a [u8]) -> Result<Msg<'a>, DecodeError> {
        // A tail call: the message is built where it is returned, not
        // moved (`Start` is 168 bytes, and every move is a copy).
        decode_msg(&mut Reader::new(body))
    }
}

impl<P: EncodePld> Msg<'_, P> {
    /// The message's encoding in a new buffer.
    pub fn to_vec(&self) -> Result<Vec<u8>, EncodeError> {
        let mut out = Vec::new();
        self.encode(&mut out)?;
        Ok(out)
    }
}
/// A decoded message must end the input; an error names the message.
#[inline(always)]
fn done<T>(
    tag: MsgType,
    decoded: Result<T, DecodeError>,
    r: &Reader<'_>,
) -> Result<T, DecodeError> {
    match decoded {
        Ok(_) if r.remaining() > 0 => {
            Err(DecodeError::new(ErrorKind::TrailingBytes { at: r.pos() }))
        }
        Ok(m) => Ok(m),
        Err(e) => Err(e.in_msg(tag.as_str())),
    }
}

/// Reads the map header and finds the tag. When the tag is the first key
/// (as tractor always writes it), it is consumed and the count of entries
/// left is returned; otherwise the map is scanned for it and the reader is
/// left at the first entry, with the full count (the tag entry is then
/// re-checked and skipped by the field loop).
#[inline(always)]
fn read_tag<'a>(r: &mut Reader<'a>, allowed: &[MsgType]) -> Result<(MsgType, usize), DecodeError> {
    match read_tag_fast(r, allowed) {
        Some(found) => Ok(found),
        None => read_tag_slow(r, allowed),
    }
}

#[inline(never)]
fn read_tag_slow<'a>(
    r: &mut Reader<'a>,
    allowed: &[MsgType],
) -> Result<(MsgType, usize), DecodeError> {
    let n = r.map_len()?.ok_or_else(|| r.expected("object"))?;
    let entries = r.clone();
    if n > 0 && r.eat_key("msg_type") {
        return Ok((read_tag_value(r, allowed)?, n - 1));
    }
    let mut scan = entries;
    for _ in 0..n {
        if read_key(&mut scan)? == b"msg_type" {
            return Ok((read_tag_value(&mut scan, allowed)?, n));
        }
        scan.skip_values(1)?;
    }
    Err(DecodeError::new(ErrorKind::MissingField(Cow::Borrowed(
        "msg_type",
    ))))
}

/// The tag as tractor writes it, in one look: a fixmap whose first key is
/// the fixstr `msg_type` and whose first value is a fixstr naming an
/// allowed tag. `None` (consuming nothing) for anything else, which the
/// general path then reads or words an error for.
#[inline(always)]
fn read_tag_fast(r: &mut Reader<'_>, allowed: &[MsgType]) -> Option<(MsgType, usize)> {
    let at = r.pos();
    let b = r.buf().get(at..)?;
    let head = b.get(..11)?;
    if head[0] & 0xf0 != 0x80 || head[1..10] != *b"\xa8msg_type" || head[10] & 0xe0 != 0xa0 {
        return None;
    }
    let n = (head[0] & 0x0f) as usize;
    let len = (head[10] & 0x1f) as usize;
    let end = 11 + len;
    let tag = match b.get(11..19) {
        // One word compare: the tag's first eight bytes (masked to its
        // length) and, for the two nine-byte tags, the last byte.
        Some(w) if (1..=9).contains(&len) && b.len() >= end => {
            let mut a = [0u8; 8];
            a.copy_from_slice(w);
            let word = u64::from_le_bytes(a) & (u64::MAX >> (64 - 8 * len.min(8)));
            MsgType::from_word(len, word, b[end - 1])?
        }
        _ => MsgType::from_wire(b.get(11..end)?)?,
    };
    // The entry count is checked against the input as `map_len` does.
    if n == 0
        || n * 2 > b.len() - 1
        || !(allowed.len() == MsgType::ALL.len() || allowed.contains(&tag))
    {
        return None;
    }
    r.skip_to(at + end);
    Some((tag, n - 1))
}

fn read_tag_value(r: &mut Reader<'_>, allowed: &[MsgType]) -> Result<MsgType, DecodeError> {
    let at = r.pos();
    // A known tag is ASCII: UTF-8 needs checking only to word an error.
    if let Some(t) = r.str_bytes()?.and_then(MsgType::from_wire) {
        if allowed.len() == MsgType::ALL.len() || allowed.contains(&t) {
            return Ok(t);
        }
    }
    let mut again = Reader::new(r.buf());
    again.skip_to(at);
    let s = again.str().map_err(|e| e.at_field("msg_type"))?;
    Err(DecodeError::new(ErrorKind::InvalidTag(str_repr(s))).at_field("msg_type"))
}

/// A tag key met again inside the fields must repeat the chosen tag.
fn check_repeated_tag(r: &mut Reader<'_>, tag: &str) -> Result<(), DecodeError> {
    let s = r.str().map_err(|e| e.at_field("msg_type"))?;
    if s == tag {
        Ok(())
    } else {
        Err(DecodeError::new(ErrorKind::InvalidTag(str_repr(s))).at_field("msg_type"))
    }
}

/// Reads a struct key: any str (invalid UTF-8 is just an unknown key);
/// anything else is ``Expected `str`, got ... - at `key` in `$` ``.
#[inline]
fn read_key<'a>(r: &mut Reader<'a>) -> Result<&'a [u8], DecodeError> {
    match r.str_bytes()? {
        Some(k) => Ok(k),
        None => {
            let kind = r.peek_kind()?;
            Err(DecodeError::new(ErrorKind::ExpectedKey {
                expected: Cow::Borrowed("str"),
                got: kind,
            })
            .at(crate::error::PathSegment::Key))
        }
    }
}

#[inline(always)]
fn decode_payload_fields<'a>(
    r: &mut Reader<'a>,
    n: usize,
    tag: MsgType,
    any: bool,
) -> Result<(Cow<'a, str>, Raw<'a>), DecodeError> {
    let mut cid = None;
    let mut pld = None;
    let mut n = n;
    // Fast path: `cid` then `pld`, as tractor writes them.
    if n >= 2 && r.eat_key("cid") {
        cid = Some(r.str().map_err(|e| e.at_field("cid"))?);
        n -= 1;
        if r.eat_key("pld") {
            let bytes = if any {
                crate::msgpack::any_value(r)
            } else {
                r.raw()
            };
            pld = Some(Raw::from_checked(bytes.map_err(|e| e.at_field("pld"))?));
            n -= 1;
        }
    }
    for _ in 0..n {
        let key = read_key(r)?;
        match key {
            b"cid" => cid = Some(r.str().map_err(|e| e.at_field("cid"))?),
            b"pld" => {
                let bytes = if any {
                    crate::msgpack::any_value(r)
                } else {
                    r.raw()
                };
                pld = Some(Raw::from_checked(bytes.map_err(|e| e.at_field("pld"))?));
            }
            b"msg_type" => check_repeated_tag(r, tag.as_str())?,
            _ => r.skip_values(1)?,
        }
    }
    let cid = cid.ok_or_else(|| DecodeError::new(ErrorKind::MissingField(Cow::Borrowed("cid"))))?;
    let pld = pld.ok_or_else(|| DecodeError::new(ErrorKind::MissingField(Cow::Borrowed("pld"))))?;
    Ok((Cow::Borrowed(cid), pld))
}

fn encode_payload_msg<P: EncodePld + ?Sized>(
    out: &mut Vec<u8>,
    tag: MsgType,
    cid: &str,
    pld: &P,
) -> Result<(), EncodeError> {
    let start = out.len();
    write_payload_head(out, tag, cid);
    pld.encode_pld(out).inspect_err(|_| out.truncate(start))
}

/// A payload message's encoding up to its payload (the `pld` key included).
fn write_payload_head(out: &mut Vec<u8>, tag: MsgType, cid: &str) {
    write::map_len(out, 3);
    write::str(out, "msg_type");
    write::str(out, tag.as_str());
    write::str(out, "cid");
    write::str(out, cid);
    write::str(out, "pld");
}

impl<'a> Msg<'a> {
    /// The message's encoding split for a vectored write: everything before
    /// a raw payload is appended to `head`, and the payload's bytes, which
    /// follow `head` on the wire, are returned borrowed rather than copied
    /// (empty for the messages without a payload, which go whole into
    /// `head`). Used by [`crate::frame::write_frame_vectored`].
    pub fn encode_split<'s>(&'s self, head: &mut Vec<u8>) -> &'s [u8] {
        let Some((cid, pld)) = self.payload_parts() else {
            // Envelope fields cannot fail to encode.
            let _ = self.encode(head);
            return &[];
        };
        write_payload_head(head, self.msg_type(), cid);
        pld.as_bytes()
    }
}
