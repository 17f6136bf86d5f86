//! Parsing of spec strings (Python annotation syntax) and struct tables.

use std::fmt;

use super::SpecError;

/// A literal member of `Literal[...]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Lit {
    Int(i128),
    Str(String),
}

/// A number in a `msgspec.Meta(...)` argument.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Num {
    Int(i128),
    Float(f64),
}

impl fmt::Display for Num {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Num::Int(i) => write!(f, "{i}"),
            Num::Float(x) => f.write_str(&crate::python::float_repr(*x)),
        }
    }
}

/// The constraints of one or more `msgspec.Meta(...)` annotations, as
/// given (checked as `Meta.__new__` checks them).
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Meta {
    pub(crate) gt: Option<Num>,
    pub(crate) ge: Option<Num>,
    pub(crate) lt: Option<Num>,
    pub(crate) le: Option<Num>,
    pub(crate) multiple_of: Option<Num>,
    pub(crate) pattern: Option<String>,
    pub(crate) min_length: Option<i128>,
    pub(crate) max_length: Option<i128>,
    pub(crate) tz: Option<bool>,
    /// Documentation only (`title`, `description`), kept for the repr.
    pub(crate) doc: Vec<(String, String)>,
}

impl Meta {
    /// Merges another annotation's constraints in, as msgspec does for
    /// several `Meta`s on one type.
    fn update(&mut self, other: Meta, ty: &dyn Fn() -> String) -> Result<(), SpecError> {
        fn set<T>(
            into: &mut Option<T>,
            from: Option<T>,
            name: &str,
            ty: &dyn Fn() -> String,
        ) -> Result<(), SpecError> {
            if let Some(v) = from {
                if into.is_some() {
                    return Err(SpecError::decoder(
                        "TypeError",
                        format!("Multiple `Meta` annotations setting `{name}` found, type `{}` is invalid", ty()),
                    ));
                }
                *into = Some(v);
            }
            Ok(())
        }
        set(&mut self.gt, other.gt, "gt", ty)?;
        set(&mut self.ge, other.ge, "ge", ty)?;
        set(&mut self.lt, other.lt, "lt", ty)?;
        set(&mut self.le, other.le, "le", ty)?;
        set(&mut self.multiple_of, other.multiple_of, "multiple_of", ty)?;
        set(&mut self.pattern, other.pattern, "regex", ty)?;
        set(&mut self.min_length, other.min_length, "min_length", ty)?;
        set(&mut self.max_length, other.max_length, "max_length", ty)?;
        set(&mut self.tz, other.tz, "tz", ty)?;
        if self.gt.is_some() && self.ge.is_some() {
            return Err(SpecError::decoder(
                "TypeError",
                format!("Cannot set both `gt` and `ge` on the same annotated type, type `{}` is invalid", ty()),
            ));
        }
        if self.lt.is_some() && self.le.is_some() {
            return Err(SpecError::decoder(
                "TypeError",
                format!("Cannot set both `lt` and `le` on the same annotated type, type `{}` is invalid", ty()),
            ));
        }
        self.doc.extend(other.doc);
        Ok(())
    }
}

/// `msgspec.Meta(...)` as Python prints it.
impl fmt::Display for Meta {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts: Vec<String> = Vec::new();
        let nums = [
            ("gt", &self.gt),
            ("ge", &self.ge),
            ("lt", &self.lt),
            ("le", &self.le),
            ("multiple_of", &self.multiple_of),
        ];
        for (name, v) in nums {
            if let Some(v) = v {
                parts.push(format!("{name}={v}"));
            }
        }
        if let Some(p) = &self.pattern {
            parts.push(format!("pattern={}", crate::python::str_repr(p)));
        }
        if let Some(v) = self.min_length {
            parts.push(format!("min_length={v}"));
        }
        if let Some(v) = self.max_length {
            parts.push(format!("max_length={v}"));
        }
        if let Some(v) = self.tz {
            parts.push(format!("tz={}", if v { "True" } else { "False" }));
        }
        for (k, v) in &self.doc {
            parts.push(format!("{k}={}", crate::python::str_repr(v)));
        }
        write!(f, "msgspec.Meta({})", parts.join(", "))
    }
}

/// A parsed type annotation, before compilation.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Ty {
    Any,
    None,
    Bool,
    Int,
    Float,
    Str,
    Bytes,
    ByteArray,
    MemoryView,
    DateTime,
    Date,
    Time,
    TimeDelta,
    Uuid,
    Decimal,
    /// `msgspec.msgpack.Ext`.
    Ext,
    /// `msgspec.Raw`: any well-formed value, unchecked (alone; in a union
    /// it adds nothing).
    Raw,
    List(Box<Ty>),
    Set(Box<Ty>),
    FrozenSet(Box<Ty>),
    VarTuple(Box<Ty>),
    Tuple(Vec<Ty>),
    Dict(Box<Ty>, Box<Ty>),
    Literal(Vec<Lit>),
    Struct(String),
    Union(Vec<Ty>),
    /// `typing.Annotated[T, msgspec.Meta(...), ...]`, the annotations
    /// merged.
    Annotated(Box<Ty>, Box<Meta>),
}

impl fmt::Display for Lit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Lit::Int(i) => write!(f, "{i}"),
            Lit::Str(s) => f.write_str(&crate::python::str_repr(s)),
        }
    }
}

/// Renders the type the way Python prints it, structs as `pld.Name`
/// (as in msgspec's error texts).
impl fmt::Display for Ty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn join(f: &mut fmt::Formatter<'_>, items: &[Ty], sep: &str) -> fmt::Result {
            for (i, t) in items.iter().enumerate() {
                if i > 0 {
                    f.write_str(sep)?;
                }
                write!(f, "{t}")?;
            }
            Ok(())
        }
        match self {
            Ty::Any => f.write_str("typing.Any"),
            Ty::None => f.write_str("None"),
            Ty::Bool => f.write_str("bool"),
            Ty::Int => f.write_str("int"),
            Ty::Float => f.write_str("float"),
            Ty::Str => f.write_str("str"),
            Ty::Bytes => f.write_str("bytes"),
            Ty::ByteArray => f.write_str("bytearray"),
            Ty::MemoryView => f.write_str("memoryview"),
            Ty::DateTime => f.write_str("datetime.datetime"),
            Ty::Date => f.write_str("datetime.date"),
            Ty::Time => f.write_str("datetime.time"),
            Ty::TimeDelta => f.write_str("datetime.timedelta"),
            Ty::Uuid => f.write_str("uuid.UUID"),
            Ty::Decimal => f.write_str("decimal.Decimal"),
            Ty::Ext => f.write_str("msgspec.msgpack.Ext"),
            Ty::Raw => f.write_str("msgspec.Raw"),
            Ty::List(t) => write!(f, "list[{t}]"),
            Ty::Set(t) => write!(f, "set[{t}]"),
            Ty::FrozenSet(t) => write!(f, "frozenset[{t}]"),
            Ty::VarTuple(t) => write!(f, "tuple[{t}, ...]"),
            Ty::Tuple(ts) if ts.is_empty() => f.write_str("tuple[()]"),
            Ty::Tuple(ts) => {
                f.write_str("tuple[")?;
                join(f, ts, ", ")?;
                f.write_str("]")
            }
            Ty::Dict(k, v) => write!(f, "dict[{k}, {v}]"),
            Ty::Literal(ls) => {
                f.write_str("typing.Literal[")?;
                for (i, l) in ls.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{l}")?;
                }
                f.write_str("]")
            }
            Ty::Struct(n) => write!(f, "pld.{n}"),
            Ty::Union(ts) => join(f, ts, " | "),
            Ty::Annotated(t, m) => write!(f, "typing.Annotated[{t}, {m}]"),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Ident(String),
    Str(String),
    Int(i128),
    Float(f64),
    Eq,
    Open,
    Close,
    LParen,
    RParen,
    Comma,
    Bar,
    Ellipsis,
}

fn syntax(spec: &str, why: impl fmt::Display) -> SpecError {
    SpecError::syntax(format!("cannot parse spec {spec:?}: {why}"))
}

fn tokenize(spec: &str) -> Result<Vec<Tok>, SpecError> {
    let mut out = Vec::new();
    let b = spec.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        match c {
            b' ' | b'\t' | b'\n' => i += 1,
            b'[' => {
                out.push(Tok::Open);
                i += 1
            }
            b']' => {
                out.push(Tok::Close);
                i += 1
            }
            b'(' => {
                out.push(Tok::LParen);
                i += 1
            }
            b')' => {
                out.push(Tok::RParen);
                i += 1
            }
            b',' => {
                out.push(Tok::Comma);
                i += 1
            }
            b'=' => {
                out.push(Tok::Eq);
                i += 1
            }
            b'|' => {
                out.push(Tok::Bar);
                i += 1
            }
            b'.' if spec[i..].starts_with("...") => {
                out.push(Tok::Ellipsis);
                i += 3
            }
            b'\'' | b'"' => {
                let q = c;
                let start = i + 1;
                let mut j = start;
                while j < b.len() && b[j] != q {
                    if b[j] == b'\\' {
                        return Err(syntax(spec, "escapes in string literals are not supported"));
                    }
                    j += 1;
                }
                if j >= b.len() {
                    return Err(syntax(spec, "unterminated string literal"));
                }
                out.push(Tok::Str(spec[start..j].to_string()));
                i = j + 1;
            }
            b'-' | b'0'..=b'9' => {
                let start = i;
                i += 1;
                while i < b.len() && b[i].is_ascii_digit() {
                    i += 1;
                }
                // A float: a fraction and/or an exponent.
                let frac = b.get(i) == Some(&b'.') && b.get(i + 1).is_some_and(u8::is_ascii_digit);
                let exp = |j: usize| {
                    matches!(b.get(j), Some(b'e' | b'E'))
                        && (b.get(j + 1).is_some_and(u8::is_ascii_digit)
                            || (matches!(b.get(j + 1), Some(b'+' | b'-'))
                                && b.get(j + 2).is_some_and(u8::is_ascii_digit)))
                };
                if frac || exp(i) {
                    if frac {
                        i += 1;
                        while i < b.len() && b[i].is_ascii_digit() {
                            i += 1;
                        }
                    }
                    if exp(i) {
                        i += 2;
                        while i < b.len() && b[i].is_ascii_digit() {
                            i += 1;
                        }
                    }
                    let text = &spec[start..i];
                    match text.parse::<f64>() {
                        Ok(x) if x.is_finite() => out.push(Tok::Float(x)),
                        _ => return Err(syntax(spec, format!("bad number {text:?}"))),
                    }
                    continue;
                }
                let text = &spec[start..i];
                let n: i128 = match text.parse() {
                    Ok(n) => n,
                    // Too large even for i128: still an integer literal,
                    // which msgspec refuses as out of the int64 range.
                    Err(_) if text.len() > 1 => {
                        if text.starts_with('-') {
                            i128::MIN
                        } else {
                            i128::MAX
                        }
                    }
                    Err(_) => return Err(syntax(spec, format!("bad integer {text:?}"))),
                };
                out.push(Tok::Int(n));
            }
            // A raw string, `r'...'`, as Python reads it: backslashes stay
            // (a pattern's `\d`), and one keeps the quote after it from
            // ending the literal.
            b'r' | b'R' if matches!(b.get(i + 1), Some(b'\'' | b'"')) => {
                let q = b[i + 1];
                let start = i + 2;
                let mut j = start;
                while j < b.len() && b[j] != q {
                    j += if b[j] == b'\\' { 2 } else { 1 };
                }
                if j >= b.len() {
                    return Err(syntax(spec, "unterminated string literal"));
                }
                out.push(Tok::Str(spec[start..j].to_string()));
                i = j + 1;
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                let start = i;
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] == b'.')
                {
                    i += 1;
                }
                out.push(Tok::Ident(spec[start..i].to_string()));
            }
            _ => {
                return Err(syntax(
                    spec,
                    format!(
                        "unexpected character {:?}",
                        spec[i..].chars().next().unwrap_or(' ')
                    ),
                ))
            }
        }
    }
    Ok(out)
}

struct Parser<'s> {
    spec: &'s str,
    toks: Vec<Tok>,
    pos: usize,
    depth: usize,
}

/// Deepest bracket nesting accepted in a spec string.
const MAX_SPEC_NESTING: usize = 64;

impl Parser<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }
    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }
    fn expect(&mut self, t: Tok, what: &str) -> Result<(), SpecError> {
        match self.next() {
            Some(ref got) if *got == t => Ok(()),
            other => Err(syntax(
                self.spec,
                format!("expected {what}, found {other:?}"),
            )),
        }
    }

    fn union(&mut self) -> Result<Ty, SpecError> {
        let mut terms = vec![self.term()?];
        while self.peek() == Some(&Tok::Bar) {
            self.pos += 1;
            terms.push(self.term()?);
        }
        Ok(if terms.len() == 1 {
            terms.pop().unwrap_or(Ty::Any)
        } else {
            Ty::Union(terms)
        })
    }

    fn args(&mut self) -> Result<Vec<Ty>, SpecError> {
        self.depth += 1;
        if self.depth > MAX_SPEC_NESTING {
            return Err(syntax(self.spec, "nesting too deep"));
        }
        self.expect(Tok::Open, "`[`")?;
        let mut out = vec![self.union()?];
        while self.peek() == Some(&Tok::Comma) {
            self.pos += 1;
            out.push(self.union()?);
        }
        self.expect(Tok::Close, "`]`")?;
        self.depth -= 1;
        Ok(out)
    }

    /// One metadata item of `Annotated[...]`: `msgspec.Meta(...)`, checked
    /// as `Meta.__new__` checks its arguments; a string (documentation,
    /// ignored by msgspec) gives `None`.
    fn meta(&mut self) -> Result<Option<Meta>, SpecError> {
        match self.next() {
            Some(Tok::Str(_)) => return Ok(None),
            Some(Tok::Ident(n)) if n == "msgspec.Meta" || n == "Meta" => {}
            other => {
                return Err(syntax(
                    self.spec,
                    format!(
                        "expected `msgspec.Meta(...)` or a string in Annotated, found {other:?}"
                    ),
                ))
            }
        }
        self.expect(Tok::LParen, "`(`")?;
        let mut args: Vec<(String, Tok)> = Vec::new();
        while self.peek() != Some(&Tok::RParen) {
            let name = match self.next() {
                Some(Tok::Ident(n)) => n,
                other => {
                    return Err(syntax(
                        self.spec,
                        format!("expected a keyword, found {other:?}"),
                    ))
                }
            };
            self.expect(Tok::Eq, "`=`")?;
            let value = match self.next() {
                Some(t @ (Tok::Int(_) | Tok::Float(_) | Tok::Str(_) | Tok::Ident(_))) => t,
                other => {
                    return Err(syntax(
                        self.spec,
                        format!("expected a value for `{name}`, found {other:?}"),
                    ))
                }
            };
            if args.iter().any(|(n, _)| *n == name) {
                return Err(syntax(self.spec, format!("keyword `{name}` repeated")));
            }
            args.push((name, value));
            if self.peek() == Some(&Tok::Comma) {
                self.pos += 1;
            } else {
                break;
            }
        }
        self.expect(Tok::RParen, "`)`")?;
        meta_new(self.spec, args).map(Some)
    }

    fn term(&mut self) -> Result<Ty, SpecError> {
        let name = match self.next() {
            Some(Tok::Ident(n)) => n,
            other => {
                return Err(syntax(
                    self.spec,
                    format!("expected a type, found {other:?}"),
                ))
            }
        };
        let bare = name.strip_prefix("typing.").unwrap_or(&name);
        Ok(match bare {
            "Any" => Ty::Any,
            "None" | "NoneType" => Ty::None,
            "bool" => Ty::Bool,
            "int" => Ty::Int,
            "float" => Ty::Float,
            "str" => Ty::Str,
            "bytes" => Ty::Bytes,
            "bytearray" => Ty::ByteArray,
            "memoryview" => Ty::MemoryView,
            "datetime.datetime" => Ty::DateTime,
            "datetime.date" => Ty::Date,
            "datetime.time" => Ty::Time,
            "datetime.timedelta" => Ty::TimeDelta,
            "uuid.UUID" => Ty::Uuid,
            "decimal.Decimal" => Ty::Decimal,
            "msgspec.msgpack.Ext" => Ty::Ext,
            "msgspec.Raw" => Ty::Raw,
            "set" | "Set" if self.peek() != Some(&Tok::Open) => Ty::Set(Box::new(Ty::Any)),
            "frozenset" | "FrozenSet" if self.peek() != Some(&Tok::Open) => {
                Ty::FrozenSet(Box::new(Ty::Any))
            }
            "set" | "Set" | "frozenset" | "FrozenSet" => {
                let mut a = self.args()?;
                if a.len() != 1 {
                    return Err(syntax(self.spec, format!("{bare} takes one argument")));
                }
                let e = Box::new(a.remove(0));
                if bare.eq_ignore_ascii_case("set") {
                    Ty::Set(e)
                } else {
                    Ty::FrozenSet(e)
                }
            }
            // Bare, as Python allows: `list` is `list[Any]`, `dict` is
            // `dict[Any, Any]`, `tuple` is `tuple[Any, ...]`.
            "list" | "List" if self.peek() != Some(&Tok::Open) => Ty::List(Box::new(Ty::Any)),
            "dict" | "Dict" if self.peek() != Some(&Tok::Open) => {
                Ty::Dict(Box::new(Ty::Any), Box::new(Ty::Any))
            }
            "tuple" | "Tuple" if self.peek() != Some(&Tok::Open) => Ty::VarTuple(Box::new(Ty::Any)),
            "list" | "List" => {
                let mut a = self.args()?;
                if a.len() != 1 {
                    return Err(syntax(self.spec, "list takes one argument"));
                }
                Ty::List(Box::new(a.remove(0)))
            }
            "dict" | "Dict" => {
                let mut a = self.args()?;
                if a.len() != 2 {
                    return Err(syntax(self.spec, "dict takes two arguments"));
                }
                let v = a.remove(1);
                Ty::Dict(Box::new(a.remove(0)), Box::new(v))
            }
            "Optional" => {
                let mut a = self.args()?;
                if a.len() != 1 {
                    return Err(syntax(self.spec, "Optional takes one argument"));
                }
                Ty::Union(vec![a.remove(0), Ty::None])
            }
            "Union" => Ty::Union(self.args()?),
            "tuple" | "Tuple" => {
                self.depth += 1;
                if self.depth > MAX_SPEC_NESTING {
                    return Err(syntax(self.spec, "nesting too deep"));
                }
                self.expect(Tok::Open, "`[`")?;
                if self.peek() == Some(&Tok::LParen) {
                    self.pos += 1;
                    self.expect(Tok::RParen, "`)`")?;
                    self.expect(Tok::Close, "`]`")?;
                    self.depth -= 1;
                    return Ok(Ty::Tuple(Vec::new()));
                }
                let mut items = vec![self.union()?];
                let mut var = false;
                while self.peek() == Some(&Tok::Comma) {
                    self.pos += 1;
                    if self.peek() == Some(&Tok::Ellipsis) {
                        self.pos += 1;
                        var = true;
                        break;
                    }
                    items.push(self.union()?);
                }
                self.expect(Tok::Close, "`]`")?;
                self.depth -= 1;
                if var {
                    if items.len() != 1 {
                        return Err(syntax(self.spec, "`...` needs exactly one element type"));
                    }
                    Ty::VarTuple(Box::new(items.remove(0)))
                } else {
                    Ty::Tuple(items)
                }
            }
            "Annotated" => {
                self.depth += 1;
                if self.depth > MAX_SPEC_NESTING {
                    return Err(syntax(self.spec, "nesting too deep"));
                }
                self.expect(Tok::Open, "`[`")?;
                let inner = self.union()?;
                // Python flattens nested Annotated, its metadata first.
                let (inner, mut meta) = match inner {
                    Ty::Annotated(t, m) => (*t, *m),
                    t => (t, Meta::default()),
                };
                let mut metas = Vec::new();
                while self.peek() == Some(&Tok::Comma) {
                    self.pos += 1;
                    if let Some(m) = self.meta()? {
                        metas.push(m);
                    }
                }
                self.expect(Tok::Close, "`]`")?;
                self.depth -= 1;
                if metas.is_empty() && meta == Meta::default() {
                    return Ok(inner);
                }
                let shown = {
                    let all: Vec<String> = std::iter::once(meta.clone())
                        .filter(|m| *m != Meta::default())
                        .chain(metas.iter().cloned())
                        .map(|m| m.to_string())
                        .collect();
                    let inner = inner.clone();
                    move || format!("typing.Annotated[{inner}, {}]", all.join(", "))
                };
                for m in metas {
                    meta.update(m, &shown)?;
                }
                Ty::Annotated(Box::new(inner), Box::new(meta))
            }
            "Literal" => {
                self.expect(Tok::Open, "`[`")?;
                let mut lits = Vec::new();
                loop {
                    match self.next() {
                        Some(Tok::Str(s)) => lits.push(Lit::Str(s)),
                        Some(Tok::Int(i)) => lits.push(Lit::Int(i)),
                        other => {
                            return Err(syntax(
                                self.spec,
                                format!("expected a literal, found {other:?}"),
                            ))
                        }
                    }
                    match self.next() {
                        Some(Tok::Comma) => continue,
                        Some(Tok::Close) => break,
                        other => {
                            return Err(syntax(
                                self.spec,
                                format!("expected `,` or `]`, found {other:?}"),
                            ))
                        }
                    }
                }
                Ty::Literal(lits)
            }
            _ => Ty::Struct(name.strip_prefix("pld.").unwrap_or(&name).to_string()),
        })
    }
}

/// Python's name for the type of a `Meta` argument, for its errors.
fn py_type(t: &Tok) -> &'static str {
    match t {
        Tok::Int(_) => "int",
        Tok::Float(_) => "float",
        Tok::Str(_) => "str",
        Tok::Ident(n) if n == "True" || n == "False" => "bool",
        Tok::Ident(n) if n == "None" => "NoneType",
        _ => "object",
    }
}

/// `msgspec.Meta(**args)`: the arguments checked in `Meta.__new__`'s order,
/// with its errors.
fn meta_new(spec: &str, args: Vec<(String, Tok)>) -> Result<Meta, SpecError> {
    let mut m = Meta::default();
    let get = |name: &str| {
        args.iter()
            .find(|(n, _)| n == name)
            .map(|(_, t)| t)
            .filter(|t| !matches!(t, Tok::Ident(n) if n == "None"))
    };
    for (name, _) in &args {
        const KNOWN: [&str; 14] = [
            "gt",
            "ge",
            "lt",
            "le",
            "multiple_of",
            "pattern",
            "min_length",
            "max_length",
            "tz",
            "title",
            "description",
            "examples",
            "extra_json_schema",
            "extra",
        ];
        if !KNOWN.contains(&name.as_str()) {
            return Err(SpecError::definition(
                "TypeError",
                format!("'{name}' is an invalid keyword argument for Meta.__new__()"),
            ));
        }
        if matches!(name.as_str(), "examples" | "extra_json_schema" | "extra") {
            return Err(syntax(
                spec,
                format!("`Meta({name}=...)` is not supported in spec strings"),
            ));
        }
    }
    let num = |name: &str, positive: bool| -> Result<Option<Num>, SpecError> {
        let Some(t) = get(name) else { return Ok(None) };
        let n = match t {
            Tok::Int(i) => Num::Int(*i),
            Tok::Float(x) => Num::Float(*x),
            other => {
                return Err(SpecError::definition(
                    "TypeError",
                    format!("`{name}` must be an int or float, got {}", py_type(other)),
                ))
            }
        };
        let non_positive = match n {
            Num::Int(i) => i <= 0,
            Num::Float(x) => x <= 0.0,
        };
        if positive && non_positive {
            return Err(SpecError::definition(
                "ValueError",
                format!("`{name}` must be > 0"),
            ));
        }
        Ok(Some(n))
    };
    m.gt = num("gt", false)?;
    m.ge = num("ge", false)?;
    m.lt = num("lt", false)?;
    m.le = num("le", false)?;
    m.multiple_of = num("multiple_of", true)?;
    let string = |name: &str| -> Result<Option<String>, SpecError> {
        match get(name) {
            None => Ok(None),
            Some(Tok::Str(s)) => Ok(Some(s.clone())),
            Some(other) => Err(SpecError::definition(
                "TypeError",
                format!("`{name}` must be a str, got {}", py_type(other)),
            )),
        }
    };
    m.pattern = string("pattern")?;
    let length = |name: &str| -> Result<Option<i128>, SpecError> {
        match get(name) {
            None => Ok(None),
            Some(Tok::Int(i)) if *i >= 0 => Ok(Some(*i)),
            Some(Tok::Int(i)) => Err(SpecError::definition(
                "ValueError",
                format!("`{name}` must be >= 0, got {i}"),
            )),
            Some(other) => Err(SpecError::definition(
                "TypeError",
                format!("`{name}` must be an int, got {}", py_type(other)),
            )),
        }
    };
    m.min_length = length("min_length")?;
    m.max_length = length("max_length")?;
    m.tz = match get("tz") {
        None => None,
        Some(Tok::Ident(n)) if n == "True" => Some(true),
        Some(Tok::Ident(n)) if n == "False" => Some(false),
        Some(other) => {
            return Err(SpecError::definition(
                "TypeError",
                format!("`tz` must be a bool, got {}", py_type(other)),
            ))
        }
    };
    if m.gt.is_some() && m.ge.is_some() {
        return Err(SpecError::definition(
            "ValueError",
            "Cannot specify both `gt` and `ge`".into(),
        ));
    }
    if m.lt.is_some() && m.le.is_some() {
        return Err(SpecError::definition(
            "ValueError",
            "Cannot specify both `lt` and `le`".into(),
        ));
    }
    let numeric = m.gt.is_some()
        || m.ge.is_some()
        || m.lt.is_some()
        || m.le.is_some()
        || m.multiple_of.is_some();
    let other =
        m.pattern.is_some() || m.min_length.is_some() || m.max_length.is_some() || m.tz.is_some();
    if numeric && other {
        return Err(SpecError::definition(
            "ValueError",
            "Cannot mix numeric constraints (gt, lt, ...) with non-numeric constraints (pattern, min_length, max_length, tz)".into(),
        ));
    }
    for name in ["title", "description"] {
        if let Some(s) = string(name)? {
            m.doc.push((name.to_string(), s));
        }
    }
    if let Some(p) = &m.pattern {
        super::regex::compile(p).map_err(|why| SpecError::definition("re.error", why))?;
    }
    Ok(m)
}

/// Parses one spec string into its syntax tree.
pub(crate) fn parse_ty(spec: &str) -> Result<Ty, SpecError> {
    let mut p = Parser {
        spec,
        toks: tokenize(spec)?,
        pos: 0,
        depth: 0,
    };
    let t = p.union()?;
    if p.pos != p.toks.len() {
        return Err(syntax(spec, "unexpected text after the type"));
    }
    Ok(t)
}

/// msgspec's `rename=` conventions applied to one field name.
pub(crate) fn rename(name: &str, how: &str) -> Option<String> {
    fn cap(p: &str) -> String {
        let mut c = p.chars();
        match c.next() {
            Some(f) => f.to_uppercase().collect::<String>() + &c.as_str().to_lowercase(),
            None => String::new(),
        }
    }
    let trimmed = name.trim_start_matches('_');
    let prefix = &name[..name.len() - trimmed.len()];
    let parts: Vec<&str> = trimmed.split('_').filter(|p| !p.is_empty()).collect();
    Some(match how {
        "camel" => {
            let mut s = prefix.to_string();
            for (i, p) in parts.iter().enumerate() {
                if i == 0 {
                    s.push_str(p);
                } else {
                    s.push_str(&cap(p));
                }
            }
            s
        }
        "pascal" => {
            let mut s = prefix.to_string();
            for p in &parts {
                s.push_str(&cap(p));
            }
            s
        }
        "kebab" => name.trim_matches('_').replace('_', "-"),
        "lower" => name.to_lowercase(),
        "upper" => name.to_uppercase(),
        _ => return None,
    })
}
