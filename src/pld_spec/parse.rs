//! Parsing of spec strings (Python annotation syntax) and struct tables.

use std::fmt;

use super::SpecError;

/// A literal member of `Literal[...]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Lit {
    Int(i128),
    Str(String),
}

/// A parsed type annotation, before compilation.
#[derive(Clone, Debug, PartialEq, Eq)]
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
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Ident(String),
    Str(String),
    Int(i128),
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
