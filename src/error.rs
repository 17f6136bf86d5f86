//! Errors, worded the way msgspec words them.
//!
//! A [`DecodeError`] says what was expected, what was found and where:
//! ``Expected `str`, got `bytes` - at `$.cid` ``. When the error happened
//! inside a message whose tag was known, [`DecodeError::msg_type`] names it
//! and the `Display` form is prefixed with it.

use std::borrow::Cow;
use std::fmt;

use rmp::Marker;

/// One step of the path to the value an error is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum PathSegment {
    /// A struct field, by its wire name: `.name`.
    Field(Cow<'static, str>),
    /// An array position: `[i]`.
    Index(usize),
    /// The value of a dict entry: `[...]`.
    DictValue,
    /// The key of a map entry (msgspec renders the rest of the path as
    /// `` `key...` in `$...` ``).
    Key,
}

/// What went wrong, without the location.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub(crate) enum ErrorKind {
    /// The input ended inside a value (msgspec: "Input data was truncated").
    Truncated,
    /// Bytes after the end of the value.
    TrailingBytes {
        /// Offset of the first trailing byte.
        at: usize,
    },
    /// The reserved byte `0xc1`.
    ReservedByte {
        /// Offset of the byte.
        at: usize,
    },
    /// A str whose bytes are not UTF-8 (worded like CPython's codec error).
    InvalidUtf8 {
        /// CPython's text of the error.
        text: String,
    },
    /// A value of the wrong kind.
    Expected {
        /// The expected type, as msgspec spells it (`str`, `int | null`, ...).
        expected: Cow<'static, str>,
        /// The kind found.
        got: Kind,
    },
    /// A map key of the wrong kind where a nil is spelled `null`.
    ExpectedKey {
        /// The expected type.
        expected: Cow<'static, str>,
        /// The kind found.
        got: Kind,
    },
    /// A fixed-length array of the wrong length.
    ArrayLength {
        /// How the bound reads (`""`, `"at least "`, `"at most "`).
        bound: &'static str,
        /// The expected length.
        expected: usize,
        /// The length found.
        got: usize,
    },
    /// A required field is missing.
    MissingField(Cow<'static, str>),
    /// A field that is not allowed.
    UnknownField(String),
    /// A value outside a `Literal` (the value in Python `repr` form).
    InvalidEnum(String),
    /// A tag value that names no known type (Python `repr` form).
    InvalidTag(String),
    /// A map used as a map key (Python cannot hash it).
    UnhashableKey {
        /// Offset of the key.
        at: usize,
    },
    /// Nesting deeper than the configured limit.
    TooDeep {
        /// The limit in force.
        limit: usize,
    },
    /// A Python `ValueError` leaking out of msgspec (e.g. a timestamp
    /// beyond year 9999: `year 10000 is out of range`). Carries no path.
    ValueError(String),
    /// A Python `OverflowError` leaking out of msgspec (a duration whose
    /// day count overflows `timedelta`). Carries no path.
    Overflow(String),
    /// A set item Python cannot hash (`unhashable type: 'dict'`): a
    /// `TypeError` from Python itself. Carries no path.
    Unhashable(String),
    /// Any other message, verbatim.
    Other(String),
}

/// An error while decoding msgpack bytes into a message or a payload.
///
/// One pointer wide (the details are boxed), so that `Result`s on the
/// decoding hot paths stay small; the box is only allocated on error.
#[derive(Clone, PartialEq, Eq)]
pub struct DecodeError(Box<Inner>);

#[derive(Clone, PartialEq, Eq)]
struct Inner {
    kind: ErrorKind,
    /// Innermost segment first; reversed when rendered.
    path_rev: Vec<PathSegment>,
    msg_type: Option<&'static str>,
}

impl fmt::Debug for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DecodeError")
            .field("kind", &self.0.kind)
            .field("path_rev", &self.0.path_rev)
            .field("msg_type", &self.0.msg_type)
            .finish()
    }
}

impl DecodeError {
    /// An error of the given kind at the top level.
    #[cold]
    pub(crate) fn new(kind: ErrorKind) -> Self {
        DecodeError(Box::new(Inner {
            kind,
            path_rev: Vec::new(),
            msg_type: None,
        }))
    }

    pub(crate) fn truncated() -> Self {
        Self::new(ErrorKind::Truncated)
    }

    pub(crate) fn expected(expected: impl Into<Cow<'static, str>>, got: Kind) -> Self {
        Self::new(ErrorKind::Expected {
            expected: expected.into(),
            got,
        })
    }

    pub(crate) fn utf8(bytes: &[u8], e: std::str::Utf8Error, _at: usize) -> Self {
        Self::new(ErrorKind::InvalidUtf8 {
            text: python_utf8_error(bytes, e),
        })
    }

    /// Adds a path segment on the way out (callers wrap inner errors).
    pub(crate) fn at(mut self, seg: PathSegment) -> Self {
        if !self.is_malformed()
            && !matches!(
                self.0.kind,
                ErrorKind::ValueError(_) | ErrorKind::Unhashable(_) | ErrorKind::Overflow(_)
            )
        {
            self.0.path_rev.push(seg);
        }
        self
    }

    /// Adds a field segment.
    pub(crate) fn at_field(self, name: &'static str) -> Self {
        self.at(PathSegment::Field(Cow::Borrowed(name)))
    }

    /// Adds an array index segment.
    pub(crate) fn at_index(self, i: usize) -> Self {
        self.at(PathSegment::Index(i))
    }

    /// Records the message type the error happened in.
    pub(crate) fn in_msg(mut self, msg_type: &'static str) -> Self {
        self.0.msg_type.get_or_insert(msg_type);
        self
    }

    /// What went wrong.
    pub(crate) fn kind(&self) -> &ErrorKind {
        &self.0.kind
    }

    /// The message type whose decoding failed, when its tag was known.
    pub fn msg_type(&self) -> Option<&'static str> {
        self.0.msg_type
    }

    /// The path, outermost first.
    pub(crate) fn path(&self) -> impl Iterator<Item = &PathSegment> {
        self.0.path_rev.iter().rev()
    }

    /// True for errors about the msgpack encoding itself (truncation,
    /// reserved bytes, trailing bytes, invalid UTF-8), as opposed to a
    /// well-formed value of the wrong type. msgspec raises `DecodeError`
    /// (or Python's `UnicodeDecodeError`) for these, `ValidationError`
    /// for the rest.
    pub fn is_malformed(&self) -> bool {
        matches!(
            self.0.kind,
            ErrorKind::Truncated
                | ErrorKind::TrailingBytes { .. }
                | ErrorKind::ReservedByte { .. }
                | ErrorKind::InvalidUtf8 { .. }
                | ErrorKind::UnhashableKey { .. }
                | ErrorKind::TooDeep { .. }
        )
    }

    /// The name of the Python exception msgspec raises for this error:
    /// `DecodeError`, `ValidationError`, `UnicodeDecodeError` or
    /// `RecursionError`.
    pub fn python_type(&self) -> &'static str {
        match self.0.kind {
            ErrorKind::InvalidUtf8 { .. } => "UnicodeDecodeError",
            ErrorKind::TooDeep { .. } => "RecursionError",
            ErrorKind::ValueError(_) => "ValueError",
            ErrorKind::Unhashable(_) => "TypeError",
            ErrorKind::Overflow(_) => "OverflowError",
            _ if self.is_malformed() => "DecodeError",
            _ => "ValidationError",
        }
    }

    /// The path rendered as msgspec renders it (`$.a[1][...]`, or
    /// `` key` in `$ `` form for map keys), or `None` at the top level.
    pub fn path_string(&self) -> Option<String> {
        if self.0.path_rev.is_empty() {
            return None;
        }
        let segs: Vec<&PathSegment> = self.path().collect();
        let render = |root: &str, segs: &[&PathSegment]| {
            let mut s = String::from(root);
            for seg in segs {
                match seg {
                    PathSegment::Field(name) => {
                        s.push('.');
                        s.push_str(name);
                    }
                    PathSegment::Index(i) => {
                        s.push('[');
                        s.push_str(&i.to_string());
                        s.push(']');
                    }
                    PathSegment::DictValue => s.push_str("[...]"),
                    PathSegment::Key => {}
                }
            }
            s
        };
        // Each map key starts a new rendering, innermost first:
        // `key` in `key[2]` in `$` for a key inside an array used as a key.
        let mut parts: Vec<String> = segs
            .split(|s| matches!(s, PathSegment::Key))
            .enumerate()
            .map(|(i, g)| render(if i == 0 { "$" } else { "key" }, g))
            .collect();
        parts.reverse();
        Some(parts.join("` in `"))
    }

    /// The text msgspec gives for this error, byte for byte where msgspec
    /// has a rule for it (without the message-type prefix).
    pub fn msgspec_text(&self) -> String {
        let base = match &self.0.kind {
            ErrorKind::Truncated => "Input data was truncated".to_string(),
            ErrorKind::TrailingBytes { at } => {
                format!("MessagePack data is malformed: trailing characters (byte {at})")
            }
            ErrorKind::ReservedByte { at } => {
                format!("MessagePack data is malformed: invalid opcode '\\xc1' (byte {at})")
            }
            ErrorKind::InvalidUtf8 { text } => text.clone(),
            ErrorKind::UnhashableKey { at } => {
                format!("MessagePack data is malformed: map keys must be hashable (byte {at})")
            }
            ErrorKind::Expected { expected, got } => {
                format!("Expected `{expected}`, got `{}`", got.found_name())
            }
            ErrorKind::ExpectedKey { expected, got } => {
                format!("Expected `{expected}`, got `{}`", got.expected_name())
            }
            ErrorKind::ArrayLength {
                bound,
                expected,
                got,
            } => format!("Expected `array` of {bound}length {expected}, got {got}"),
            ErrorKind::MissingField(f) => format!("Object missing required field `{f}`"),
            ErrorKind::UnknownField(f) => format!("Object contains unknown field `{f}`"),
            ErrorKind::InvalidEnum(v) => format!("Invalid enum value {v}"),
            ErrorKind::InvalidTag(v) => format!("Invalid value {v}"),
            ErrorKind::TooDeep { .. } => {
                "maximum recursion depth exceeded while deserializing an object".to_string()
            }
            ErrorKind::ValueError(s) | ErrorKind::Other(s) | ErrorKind::Overflow(s) => s.clone(),
            ErrorKind::Unhashable(name) => format!("unhashable type: '{name}'"),
        };
        match self.path_string() {
            Some(p) => format!("{base} - at `{p}`"),
            None => base,
        }
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(t) = self.0.msg_type {
            write!(f, "invalid `{t}`: ")?;
        }
        f.write_str(&self.msgspec_text())
    }
}

impl std::error::Error for DecodeError {}

/// CPython's text for a failed `bytes.decode('utf-8')`.
fn python_utf8_error(bytes: &[u8], e: std::str::Utf8Error) -> String {
    let pos = e.valid_up_to();
    let byte = bytes.get(pos).copied().unwrap_or(0);
    match e.error_len() {
        None => {
            let end = bytes.len() - 1;
            if end == pos {
                format!(
                    "'utf-8' codec can't decode byte 0x{byte:02x} in position {pos}: unexpected end of data"
                )
            } else {
                format!(
                    "'utf-8' codec can't decode bytes in position {pos}-{end}: unexpected end of data"
                )
            }
        }
        Some(len) => {
            let reason = if (0xc2..=0xf4).contains(&byte) {
                "invalid continuation byte"
            } else {
                "invalid start byte"
            };
            // CPython, like Rust, reports the maximal invalid subpart: a
            // lead byte with the valid continuations that followed it.
            if len > 1 {
                let end = pos + len - 1;
                format!("'utf-8' codec can't decode bytes in position {pos}-{end}: {reason}")
            } else {
                format!("'utf-8' codec can't decode byte 0x{byte:02x} in position {pos}: {reason}")
            }
        }
    }
}

/// An error while encoding a message.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// A payload could not be serialized.
    #[error("payload cannot be encoded: {0}")]
    Payload(String),
    /// A body too large for the 4-byte length prefix.
    #[error("frame body of {0} bytes does not fit a u32 length prefix")]
    FrameTooLarge(usize),
}

/// The kind of a msgpack value, named as msgspec names it in errors.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Kind {
    /// `nil`
    Nil,
    /// `true` / `false`
    Bool,
    /// any integer width
    Int,
    /// float32 or float64
    Float,
    /// any str width
    Str,
    /// any bin width
    Bytes,
    /// any array width
    Array,
    /// any map width (msgspec says `object`)
    Object,
    /// any ext, including the timestamp ext `-1`
    Ext,
}

impl Kind {
    /// msgspec's name for the kind where it is *expected* (`null`, `int`, `object`, ...).
    pub(crate) fn expected_name(self) -> &'static str {
        match self {
            Kind::Nil => "null",
            Kind::Bool => "bool",
            Kind::Int => "int",
            Kind::Float => "float",
            Kind::Str => "str",
            Kind::Bytes => "bytes",
            Kind::Array => "array",
            Kind::Object => "object",
            Kind::Ext => "ext",
        }
    }

    /// msgspec's name for the kind where it was *found*: like
    /// [`Kind::expected_name`] except that nil is spelled `None`.
    pub(crate) fn found_name(self) -> &'static str {
        match self {
            Kind::Nil => "None",
            other => other.expected_name(),
        }
    }

    /// The kind of the value starting with byte `b`, or `None` for the
    /// reserved byte `0xc1`.
    #[inline]
    pub(crate) fn of_byte(b: u8) -> Option<Kind> {
        Some(match Marker::from_u8(b) {
            Marker::FixPos(_) | Marker::FixNeg(_) => Kind::Int,
            Marker::U8 | Marker::U16 | Marker::U32 | Marker::U64 => Kind::Int,
            Marker::I8 | Marker::I16 | Marker::I32 | Marker::I64 => Kind::Int,
            Marker::Null => Kind::Nil,
            Marker::True | Marker::False => Kind::Bool,
            Marker::F32 | Marker::F64 => Kind::Float,
            Marker::FixStr(_) | Marker::Str8 | Marker::Str16 | Marker::Str32 => Kind::Str,
            Marker::Bin8 | Marker::Bin16 | Marker::Bin32 => Kind::Bytes,
            Marker::FixArray(_) | Marker::Array16 | Marker::Array32 => Kind::Array,
            Marker::FixMap(_) | Marker::Map16 | Marker::Map32 => Kind::Object,
            Marker::FixExt1
            | Marker::FixExt2
            | Marker::FixExt4
            | Marker::FixExt8
            | Marker::FixExt16
            | Marker::Ext8
            | Marker::Ext16
            | Marker::Ext32 => Kind::Ext,
            Marker::Reserved => return None,
        })
    }
}
