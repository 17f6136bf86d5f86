//! The one-pass validator: walks the payload bytes with the [`Reader`],
//! dispatching on each value's first byte against the compiled node, and
//! reproduces msgspec's verdict and error text. Nothing is allocated on the
//! success path: containers are tracked on an explicit stack (no recursion,
//! so hostile nesting cannot overflow the thread's stack) that is reused
//! between calls on the same thread, and struct field bookkeeping is a bit
//! set for structs of up to 64 fields.
//!
//! This module holds the general walker: the frames of open containers and
//! how each starts, asks for its next child and finishes. `fast` holds the
//! shortcuts (size tables, runs of scalars, flat structs) and `scalar` the
//! general check of one scalar and of struct tags, with msgspec's wording.
//! Values typed `Any` are checked by [`crate::msgpack`].

mod fast;
mod scalar;

use std::borrow::Cow;

use super::compile::{
    ArrayKind, Compiled, NodeId, ObjKind, Record, Sel, StructDef, BYTEARRAY, EXT,
};
use crate::error::{DecodeError, ErrorKind, PathSegment};
use crate::msgpack::{any_fast, check_any, hash_outside_key, Hash, Int, Kind, Reader, Unhashable};

thread_local! {
    /// A container stack kept between validations on this thread, so that
    /// nested payloads do not allocate once the thread is warm.
    static STACK: std::cell::Cell<Vec<Frame>> = const { std::cell::Cell::new(Vec::new()) };
}

/// Runs `f` with an empty container stack: a local one that borrows this
/// thread's kept allocation only when a container must be pushed (flat
/// payloads never touch the thread-local), and gives it back afterwards.
pub(crate) fn with_stack<T>(f: impl FnOnce(&mut Vec<Frame>) -> T) -> T {
    let mut stack = Vec::new();
    let out = f(&mut stack);
    if stack.capacity() > 0 {
        stack.clear();
        STACK.with(|s| s.set(stack));
    }
    out
}

/// Makes sure `stack` has room, taking this thread's kept allocation the
/// first time.
#[inline]
fn reserve(stack: &mut Vec<Frame>) {
    if stack.capacity() == 0 {
        *stack = STACK.with(|s| s.take());
        stack.clear();
    }
}

pub(crate) struct Validator<'a, 'c> {
    pub(crate) r: Reader<'a>,
    pub(crate) c: &'c Compiled,
    pub(crate) max_depth: usize,
    /// Take no shortcut (size tables, flat structs, the `Any` loop): the
    /// reference behaviour the shortcuts are tested against.
    pub(crate) reference: bool,
}

type R<T = ()> = Result<T, DecodeError>;

fn kind_err(r: &Reader<'_>, expected: &str) -> DecodeError {
    match r.peek_kind() {
        Ok(k) => DecodeError::expected(expected.to_string(), k),
        Err(e) => e,
    }
}

/// Byte equality for short struct keys, without a `memcmp` call for the
/// common one- and two-byte names.
#[inline(always)]
fn key_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len()
        && match a.len() {
            0 => true,
            1 => a[0] == b[0],
            2 => a[0] == b[0] && a[1] == b[1],
            n => a[0] == b[0] && a[n - 1] == b[n - 1] && a == b,
        }
}

/// The error for a struct key or tag value of the wrong kind (msgspec
/// spells a found nil `null` there, and the reserved byte `unknown`).
fn key_kind_err(r: &Reader<'_>, expected: &'static str) -> DecodeError {
    match r.peek_kind() {
        Ok(got) => DecodeError::new(ErrorKind::ExpectedKey {
            expected: Cow::Borrowed(expected),
            got,
        }),
        Err(e) if matches!(e.kind(), ErrorKind::ReservedByte { .. }) => DecodeError::new(
            ErrorKind::Other(format!("Expected `{expected}`, got `unknown`")),
        ),
        Err(e) => e,
    }
}

fn utf8(b: &[u8]) -> R<&str> {
    std::str::from_utf8(b).map_err(|e| DecodeError::utf8(b, e, 0))
}

fn field_seg(name: &str) -> PathSegment {
    PathSegment::Field(Cow::Owned(name.to_string()))
}

/// Which struct field bookkeeping a struct map frame uses.
#[derive(Debug)]
pub(crate) enum Seen {
    Small(u64),
    Big(Vec<bool>),
}

impl Seen {
    fn new(n: usize) -> Seen {
        if n > 64 {
            Seen::Big(vec![false; n])
        } else {
            Seen::Small(0)
        }
    }
    fn set(&mut self, i: usize) {
        match self {
            Seen::Small(b) => *b |= 1 << i,
            Seen::Big(v) => v[i] = true,
        }
    }
    fn get(&self, i: usize) -> bool {
        match self {
            Seen::Small(b) => *b & (1 << i) != 0,
            Seen::Big(v) => v[i],
        }
    }
}

/// An open container on the explicit stack.
#[derive(Debug)]
pub(crate) enum Frame {
    /// list, variadic tuple or set: `done` items read of `len`.
    Seq {
        elem: NodeId,
        len: usize,
        done: usize,
        /// The items are read as keys.
        in_key: bool,
        kind: SeqKind,
        /// The first unhashable item.
        unhashable: Hash,
    },
    /// Fixed tuple.
    Tuple {
        node: NodeId,
        done: usize,
        in_key: bool,
        unhashable: Hash,
    },
    /// dict or `Any` map.
    Map {
        k: NodeId,
        v: NodeId,
        len: usize,
        done: usize,
        at_value: bool,
        key_unhashable: Hash,
    },
    /// A struct in map form: `done` keys read of `len`, `cur` the field
    /// whose value is being read.
    StructMap {
        sid: u32,
        len: usize,
        done: usize,
        cur: usize,
        seen: Seen,
    },
    /// A struct in array form: `rem` items left, `next` the next field.
    StructArr {
        sid: u32,
        rem: usize,
        next: usize,
        tagged: usize,
    },
}

/// Which sequence a [`Frame::Seq`] reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SeqKind {
    List,
    VarTuple,
    Set,
    FrozenSet,
}

/// What starting a value did.
enum Started {
    /// A complete value was read; what makes it unhashable, if anything.
    Done(Hash),
    /// A container was opened.
    Open(Frame),
}

impl Frame {
    /// The path segment of the child being read.
    fn seg(&self, c: &Compiled) -> PathSegment {
        match self {
            Frame::Seq { done, .. } | Frame::Tuple { done, .. } => PathSegment::Index(*done),
            Frame::Map { at_value, .. } => {
                if *at_value {
                    PathSegment::DictValue
                } else {
                    PathSegment::Key
                }
            }
            Frame::StructMap { sid, cur, .. } => {
                field_seg(&c.structs[*sid as usize].fields[*cur].wire)
            }
            Frame::StructArr { next, tagged, .. } => PathSegment::Index(next - 1 + tagged),
        }
    }
}

/// What would make a finished container unhashable in Python.
fn unhashable_of(f: &Frame, c: &Compiled) -> Hash {
    match f {
        Frame::Seq {
            kind, unhashable, ..
        } => match kind {
            SeqKind::List => Some(Unhashable::List),
            SeqKind::Set => Some(Unhashable::Set),
            SeqKind::FrozenSet => None,
            SeqKind::VarTuple => *unhashable,
        },
        Frame::Tuple { unhashable, .. } => *unhashable,
        Frame::Map { .. } => Some(Unhashable::Dict),
        Frame::StructMap { sid, .. } | Frame::StructArr { sid, .. } => struct_hash(c, *sid),
    }
}

/// A leaf node that may hold a value Python cannot hash (a `bytearray`
/// or an `Ext`): inside a key it takes the general path.
fn unhashable_leaf(n: &super::compile::Node) -> bool {
    n.flags & (BYTEARRAY | EXT) != 0
}

/// A struct or dataclass instance is hashable when its class is frozen, a
/// TypedDict never (it is a dict), a NamedTuple always (a tuple). Fields
/// are not looked at: a frozen struct or a NamedTuple holding a list is
/// taken as hashable.
fn struct_hash(c: &Compiled, sid: u32) -> Hash {
    let s = &c.structs[sid as usize];
    match s.record {
        Record::TypedDict => Some(Unhashable::Dict),
        Record::NamedTuple => None,
        Record::Struct | Record::Dataclass => (!s.frozen).then_some(Unhashable::Struct(sid)),
    }
}

/// Python's name for an unhashable value's type.
fn unhashable_name(c: &Compiled, u: Unhashable) -> String {
    match u {
        Unhashable::Struct(sid) => c.structs[sid as usize].name.to_string(),
        other => other.builtin_name().unwrap_or_default().to_string(),
    }
}

fn with_path(mut e: DecodeError, stack: &[Frame], c: &Compiled) -> DecodeError {
    for f in stack.iter().rev() {
        e = e.at(f.seg(c));
    }
    e
}

impl<'a, 'c> Validator<'a, 'c> {
    /// Validates one value against `root`, iteratively.
    pub(crate) fn run(&mut self, root: NodeId, stack: &mut Vec<Frame>) -> R {
        let c = self.c;
        let mut next: (NodeId, bool) = (root, false);
        loop {
            // Start the next value; a container is run at once as far as
            // its leaves go, and only pushed if it has a nested container.
            let mut completed = match self.start(next.0, next.1, stack.len()) {
                Ok(Started::Done(u)) => u,
                Ok(Started::Open(mut f)) => {
                    if stack.len() >= self.max_depth {
                        return Err(DecodeError::new(ErrorKind::TooDeep {
                            limit: self.max_depth,
                        }));
                    }
                    match self.next_child(&mut f, stack.len() + 1) {
                        Ok(Some(n)) => {
                            reserve(stack);
                            stack.push(f);
                            next = n;
                            continue;
                        }
                        Ok(None) => unhashable_of(&f, c),
                        Err(e) => return Err(with_path(e, stack, c)),
                    }
                }
                Err(e) => return Err(with_path(e, stack, c)),
            };
            // Feed results upwards until some frame wants another child.
            loop {
                let depth = stack.len();
                let Some(top) = stack.last_mut() else {
                    return Ok(());
                };
                let step = self
                    .child_done(top, completed)
                    .and_then(|()| self.next_child(top, depth));
                match step {
                    Ok(Some(n)) => {
                        next = n;
                        break;
                    }
                    Ok(None) => {
                        completed = stack.pop().and_then(|f| unhashable_of(&f, c));
                    }
                    Err(e) => {
                        stack.pop();
                        return Err(with_path(e, stack, c));
                    }
                }
            }
        }
    }

    /// Records a finished child in its frame.
    fn child_done(&mut self, f: &mut Frame, u: Hash) -> R {
        match f {
            Frame::Seq {
                kind: SeqKind::Set | SeqKind::FrozenSet,
                done,
                ..
            } => {
                if let Some(u) = u {
                    return Err(DecodeError::new(ErrorKind::Unhashable(unhashable_name(
                        self.c, u,
                    ))));
                }
                *done += 1;
            }
            Frame::Seq {
                done, unhashable, ..
            }
            | Frame::Tuple {
                done, unhashable, ..
            } => {
                *done += 1;
                *unhashable = unhashable.or(u);
            }
            Frame::Map {
                done,
                at_value,
                key_unhashable,
                ..
            } => {
                if *at_value {
                    *at_value = false;
                    *done += 1;
                    if key_unhashable.is_some() {
                        return Err(DecodeError::new(ErrorKind::UnhashableKey {
                            at: self.r.pos(),
                        }));
                    }
                } else {
                    *at_value = true;
                    *key_unhashable = u;
                }
            }
            Frame::StructMap { .. } | Frame::StructArr { .. } => {}
        }
        Ok(())
    }

    /// The next child a frame wants read, or `None` when it is complete.
    /// `depth`: how many containers are open, `f` included.
    fn next_child(&mut self, f: &mut Frame, depth: usize) -> R<Option<(NodeId, bool)>> {
        let c = self.c;
        match f {
            Frame::Seq {
                elem,
                len,
                done,
                in_key,
                ..
            } => {
                {
                    let id = *elem;
                    let node = &c.nodes[id as usize];
                    if node.leaf && !(*in_key && unhashable_leaf(node)) {
                        let (mut i, n) = (*done, *len);
                        i += self.fast_run(id, n - i);
                        while i < n {
                            if let Err(e) = self.leaf(id) {
                                return Err(e.at_index(i));
                            }
                            i += 1;
                        }
                        *done = i;
                        return Ok(None);
                    }
                    if let (Some(sid), false, false) = (node.flat_struct, *in_key, self.reference) {
                        let (mut i, n) = (*done, *len);
                        while i < n {
                            if let Err(e) = self.flat_value(id, sid, depth) {
                                return Err(e.at_index(i));
                            }
                            i += 1;
                        }
                        *done = i;
                        return Ok(None);
                    }
                }
                Ok((*done < *len).then_some((*elem, *in_key)))
            }
            Frame::Tuple {
                node, done, in_key, ..
            } => {
                let ArrayKind::Tuple(items) = &c.nodes[*node as usize].array else {
                    return Ok(None);
                };
                while let Some(t) = items.get(*done) {
                    let n = &c.nodes[*t as usize];
                    if !n.leaf || (*in_key && unhashable_leaf(n)) {
                        return Ok(Some((*t, *in_key)));
                    }
                    self.leaf(*t).map_err(|e| e.at_index(*done))?;
                    *done += 1;
                }
                Ok(None)
            }
            Frame::Map {
                k,
                v,
                len,
                done,
                at_value,
                ..
            } => {
                if let (kn, vn, false) = (*k, *v, *at_value) {
                    let key = &c.nodes[kn as usize];
                    if key.leaf && !unhashable_leaf(key) && c.nodes[vn as usize].leaf {
                        while *done < *len {
                            self.leaf(kn).map_err(|e| e.at(PathSegment::Key))?;
                            self.leaf(vn).map_err(|e| e.at(PathSegment::DictValue))?;
                            *done += 1;
                        }
                        return Ok(None);
                    }
                }
                Ok(if *at_value {
                    Some((*v, false))
                } else if *done < *len {
                    Some((*k, true))
                } else {
                    None
                })
            }
            Frame::StructMap {
                sid,
                len,
                done,
                cur,
                seen,
            } => {
                let s = &c.structs[*sid as usize];
                while *done < *len {
                    *done += 1;
                    let key = match self.r.str_bytes()? {
                        Some(k) => k,
                        None => return Err(key_kind_err(&self.r, "str").at(PathSegment::Key)),
                    };
                    if let Some(tag) = &s.tag {
                        if key == s.tag_field.as_bytes() {
                            self.check_tag(tag)
                                .map_err(|e| e.at(field_seg(&s.tag_field)))?;
                            continue;
                        }
                    }
                    match s.fields.iter().position(|f| key_eq(f.wire.as_bytes(), key)) {
                        Some(i) => {
                            seen.set(i);
                            let f = &s.fields[i];
                            let node = &c.nodes[f.ty as usize];
                            if node.leaf {
                                self.leaf(f.ty).map_err(|e| e.at(field_seg(&f.wire)))?;
                                continue;
                            }
                            if let (Some(fsid), false) = (node.flat_struct, self.reference) {
                                self.flat_value(f.ty, fsid, depth)
                                    .map_err(|e| e.at(field_seg(&f.wire)))?;
                                continue;
                            }
                            *cur = i;
                            return Ok(Some((f.ty, false)));
                        }
                        None if s.forbid_unknown => {
                            return Err(DecodeError::new(ErrorKind::UnknownField(
                                utf8(key)?.to_string(),
                            )))
                        }
                        None => self.r.skip_nested(depth, self.max_depth)?,
                    }
                }
                missing(s, seen)?;
                Ok(None)
            }
            Frame::StructArr {
                sid,
                rem,
                next,
                tagged,
            } => {
                let s = &c.structs[*sid as usize];
                while *rem > 0 && *next < s.fields.len() {
                    *rem -= 1;
                    *next += 1;
                    let ty = s.fields[*next - 1].ty;
                    if !c.nodes[ty as usize].leaf {
                        return Ok(Some((ty, false)));
                    }
                    self.leaf(ty).map_err(|e| e.at_index(*next - 1 + *tagged))?;
                }
                if *rem > 0 {
                    if s.forbid_unknown {
                        return Err(DecodeError::new(ErrorKind::ArrayLength {
                            bound: "at most ",
                            expected: s.fields.len(),
                            got: s.fields.len() + *rem,
                        }));
                    }
                    for _ in 0..*rem {
                        self.r.skip_nested(depth, self.max_depth)?;
                    }
                    *rem = 0;
                }
                Ok(None)
            }
        }
    }

    /// Reads a scalar completely, or a container header (opening a frame).
    /// `depth`: how many containers are open around the value.
    fn start(&mut self, id: NodeId, in_key: bool, depth: usize) -> R<Started> {
        let c = self.c;
        let n = &c.nodes[id as usize];
        if n.any {
            return self.start_any(in_key, depth);
        }
        if n.raw {
            // msgspec skips a Raw value without checking its contents or
            // its depth.
            self.r.skip_values(1)?;
            return Ok(Started::Done(None));
        }
        match self.r.peek_byte()? {
            0x90..=0x9f | 0xdc | 0xdd => self.start_array(id, in_key),
            0x80..=0x8f | 0xde | 0xdf => self.start_map(id, depth),
            _ if in_key && unhashable_leaf(n) => Ok(Started::Done(self.leaf_slow(id)?)),
            _ => {
                self.leaf(id)?;
                Ok(Started::Done(None))
            }
        }
    }

    fn start_array(&mut self, id: NodeId, in_key: bool) -> R<Started> {
        let c = self.c;
        let n = &c.nodes[id as usize];
        let len = self.r.array_header()?.unwrap_or(0);
        if let Some(c) = &n.constr {
            scalar::check_len(len, c.array_min, c.array_max, "array")?;
        }
        if matches!(n.array, ArrayKind::No) {
            return Err(DecodeError::expected(n.expected.to_string(), Kind::Array));
        }
        Ok(match &n.array {
            ArrayKind::List(e) | ArrayKind::VarTuple(e) | ArrayKind::Set { elem: e, .. } => {
                let (kind, items_in_key) = match n.array {
                    ArrayKind::List(_) => (SeqKind::List, false),
                    // msgspec reads a tuple of more than 16 items as a
                    // list first: its items are not read as keys.
                    ArrayKind::VarTuple(_) => (SeqKind::VarTuple, in_key && len <= 16),
                    ArrayKind::Set { frozen: false, .. } => (SeqKind::Set, true),
                    _ => (SeqKind::FrozenSet, true),
                };
                let f = Frame::Seq {
                    elem: *e,
                    len,
                    done: 0,
                    in_key: items_in_key,
                    kind,
                    unhashable: None,
                };
                if len == 0 {
                    Started::Done(unhashable_of(&f, c))
                } else {
                    Started::Open(f)
                }
            }
            ArrayKind::Tuple(items) => {
                if len != items.len() {
                    return Err(DecodeError::new(ErrorKind::ArrayLength {
                        bound: "",
                        expected: items.len(),
                        got: len,
                    }));
                }
                if len == 0 {
                    Started::Done(None)
                } else {
                    Started::Open(Frame::Tuple {
                        node: id,
                        done: 0,
                        in_key,
                        unhashable: None,
                    })
                }
            }
            ArrayKind::Structs(Sel::One(sid)) => self.start_struct_array(*sid, len, false)?,
            ArrayKind::Structs(Sel::Tagged(u)) => {
                if len == 0 {
                    return Err(DecodeError::new(ErrorKind::ArrayLength {
                        bound: "at least ",
                        expected: 1,
                        got: 0,
                    }));
                }
                let sid = self
                    .lookup_tag_in(&c.unions[*u as usize])
                    .map_err(|e| e.at_index(0))?;
                self.start_struct_array(sid, len, true)?
            }
            ArrayKind::No => Started::Done(None),
        })
    }

    fn start_struct_array(&mut self, sid: u32, len: usize, tag_read: bool) -> R<Started> {
        let s = &self.c.structs[sid as usize];
        let tagged = usize::from(s.tag.is_some());
        let nrequired = tagged + s.nrequired;
        if s.record == Record::NamedTuple && !(nrequired..=s.fields.len()).contains(&len) {
            let n = s.fields.len();
            let want = if nrequired == n {
                n.to_string()
            } else {
                format!("{nrequired} to {n}")
            };
            return Err(DecodeError::new(ErrorKind::Other(format!(
                "Expected `array` of length {want}, got {len}"
            ))));
        }
        if len < nrequired {
            return Err(DecodeError::new(ErrorKind::ArrayLength {
                bound: "at least ",
                expected: nrequired,
                got: len,
            }));
        }
        if let Some(tag) = &s.tag {
            if !tag_read {
                self.check_tag(tag).map_err(|e| e.at_index(0))?;
            }
        }
        if len == 0 {
            return Ok(Started::Done(struct_hash(self.c, sid)));
        }
        Ok(Started::Open(Frame::StructArr {
            sid,
            rem: len - tagged,
            next: 0,
            tagged,
        }))
    }

    fn start_map(&mut self, id: NodeId, depth: usize) -> R<Started> {
        let c = self.c;
        let n = &c.nodes[id as usize];
        let len = self.r.map_header()?.unwrap_or(0);
        if let Some(c) = &n.constr {
            scalar::check_len(len, c.map_min, c.map_max, "object")?;
        }
        if matches!(n.object, ObjKind::No) {
            return Err(DecodeError::expected(n.expected.to_string(), Kind::Object));
        }
        let sid = match &n.object {
            ObjKind::Dict(k, v) => {
                return Ok(if len == 0 {
                    Started::Done(Some(Unhashable::Dict))
                } else {
                    Started::Open(Frame::Map {
                        k: *k,
                        v: *v,
                        len,
                        done: 0,
                        at_value: false,
                        key_unhashable: None,
                    })
                })
            }
            ObjKind::Structs(Sel::One(sid)) => *sid,
            ObjKind::Structs(Sel::Tagged(u)) => {
                let u = &c.unions[*u as usize];
                let mut scan = self.r.clone();
                let mut found = None;
                for _ in 0..len {
                    let Some(key) = scan.str_bytes()? else {
                        return Err(key_kind_err(&scan, "str").at(PathSegment::Key));
                    };
                    if key == u.tag_field.as_bytes() {
                        std::mem::swap(&mut self.r, &mut scan);
                        let sid = self.lookup_tag_in(u);
                        std::mem::swap(&mut self.r, &mut scan);
                        found = Some(sid.map_err(|e| e.at(field_seg(&u.tag_field)))?);
                        break;
                    }
                    scan.skip_nested(depth + 1, self.max_depth)?;
                }
                match found {
                    Some(sid) => sid,
                    None => {
                        return Err(DecodeError::new(ErrorKind::MissingField(Cow::Owned(
                            u.tag_field.to_string(),
                        ))))
                    }
                }
            }
            ObjKind::No => return Ok(Started::Done(None)),
        };
        let s = &c.structs[sid as usize];
        if len == 0 {
            missing(s, &Seen::new(0))?;
            return Ok(Started::Done(struct_hash(c, sid)));
        }
        if s.flat && !self.reference {
            if depth >= self.max_depth {
                return Err(DecodeError::new(ErrorKind::TooDeep {
                    limit: self.max_depth,
                }));
            }
            self.flat_struct_map(s, len, depth + 1)?;
            return Ok(Started::Done(struct_hash(c, sid)));
        }
        Ok(Started::Open(Frame::StructMap {
            sid,
            len,
            done: 0,
            cur: 0,
            seen: Seen::new(s.fields.len()),
        }))
    }

    /// A value typed `Any`, first by the one-loop check (no frames, no
    /// paths); if that finds anything wrong, again from the same place by
    /// the exact check, which words the error.
    #[inline]
    fn start_any(&mut self, in_key: bool, depth: usize) -> R<Started> {
        if !in_key && !self.reference {
            // Outside a key its header says what makes the value
            // unhashable (asked of an item of a long tuple in a key).
            let hash = hash_outside_key(&self.r);
            if any_fast::<false>(&mut self.r, depth, self.max_depth) {
                return Ok(Started::Done(hash));
            }
        }
        check_any(&mut self.r, in_key, depth, self.max_depth).map(Started::Done)
    }
}

fn missing(s: &StructDef, seen: &Seen) -> R {
    for (i, f) in s.fields.iter().enumerate() {
        if f.required && !seen.get(i) {
            return Err(DecodeError::new(ErrorKind::MissingField(Cow::Owned(
                f.wire.to_string(),
            ))));
        }
    }
    Ok(())
}

fn int_text(v: Int) -> String {
    match v {
        Int::U(u) => u.to_string(),
        Int::I(i) => i.to_string(),
    }
}
