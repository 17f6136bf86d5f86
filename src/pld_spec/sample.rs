//! Random payloads that conform to a spec (for property tests and fuzzing),
//! with random, often non-minimal, encodings.

use super::compile::{
    ArrayKind, Compiled, NodeId, ObjKind, Record, Sel, TagVal, BOOL, BYTEARRAY, BYTES, DATE,
    DATETIME, DECIMAL, EXT, FLOAT, INT, MEMORYVIEW, NONE, STR, TIME, TIMEDELTA, UUID,
};
use crate::msgpack::write;

/// Beyond this depth the sampler picks the smallest alternatives.
const SOFT_DEPTH: usize = 4;
/// Beyond this depth containers are emitted empty where possible.
const HARD_DEPTH: usize = 12;

pub(crate) struct Sampler<'c, 'r> {
    pub(crate) c: &'c Compiled,
    pub(crate) rng: &'r mut dyn FnMut() -> u64,
    /// Replace the n-th typed (non-`Any`, non-key) value with an ext.
    pub(crate) poison: Option<usize>,
    pub(crate) typed_seen: usize,
    pub(crate) poisoned: bool,
}

impl Sampler<'_, '_> {
    fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            (self.rng)() % n
        }
    }

    fn coin(&mut self) -> bool {
        self.below(2) == 0
    }

    fn str(&mut self, out: &mut Vec<u8>, s: &str) {
        match self.below(4) {
            0 if s.len() < 256 => {
                out.push(0xd9);
                out.push(s.len() as u8);
                out.extend_from_slice(s.as_bytes());
            }
            1 if s.len() < 65536 => {
                out.push(0xda);
                out.extend_from_slice(&(s.len() as u16).to_be_bytes());
                out.extend_from_slice(s.as_bytes());
            }
            _ => write::str(out, s),
        }
    }

    fn int(&mut self, out: &mut Vec<u8>, v: i64) {
        match self.below(3) {
            0 => {
                out.push(0xd3);
                out.extend_from_slice(&v.to_be_bytes());
            }
            1 if v >= 0 => {
                out.push(0xcf);
                out.extend_from_slice(&(v as u64).to_be_bytes());
            }
            _ => write::int(out, v),
        }
    }

    fn array_len(&mut self, out: &mut Vec<u8>, n: usize) {
        if self.coin() {
            out.push(0xdc);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        } else {
            write::array_len(out, n as u32);
        }
    }

    fn map_len(&mut self, out: &mut Vec<u8>, n: usize) {
        if self.coin() {
            out.push(0xdf);
            out.extend_from_slice(&(n as u32).to_be_bytes());
        } else {
            write::map_len(out, n as u32);
        }
    }

    fn text(&mut self) -> String {
        const WORDS: &[&str] = &["", "a", "x", "été", "🙂", "hello world", "type", "k1"];
        WORDS[self.below(WORDS.len() as u64) as usize].to_string()
    }

    /// A value typed `Any` (hashable when `in_key`).
    fn any(&mut self, out: &mut Vec<u8>, depth: usize, in_key: bool) {
        let choices = if depth > SOFT_DEPTH { 6 } else { 8 };
        match self.below(choices) {
            0 => write::nil(out),
            1 => write::bool(out, self.coin()),
            2 => {
                let v = (self.rng)() as i64;
                self.int(out, v)
            }
            3 => write::f64(out, (self.below(1000) as f64) / 8.0),
            4 => {
                let s = self.text();
                self.str(out, &s)
            }
            5 => write::bin(out, &[0, 1, 0xff]),
            6 => {
                let n = self.below(3) as usize;
                self.array_len(out, n);
                for _ in 0..n {
                    self.any(out, depth + 1, in_key);
                }
            }
            _ if in_key => write::nil(out),
            _ => {
                let n = self.below(3) as usize;
                self.map_len(out, n);
                for i in 0..n {
                    self.str(out, &format!("k{i}"));
                    self.any(out, depth + 1, false);
                }
            }
        }
    }

    /// A value conforming to node `id`.
    pub(crate) fn node(&mut self, out: &mut Vec<u8>, id: NodeId, depth: usize, in_key: bool) {
        let c = self.c;
        let n = &c.nodes[id as usize];
        if n.any || n.raw {
            return self.any(out, depth, in_key);
        }
        // Positions that take an ext are never poisoned.
        if !in_key && n.flags & EXT == 0 {
            if self.poison == Some(self.typed_seen) && !self.poisoned {
                self.poisoned = true;
                self.typed_seen += 1;
                out.extend_from_slice(&[0xd4, 0x01, 0x00]);
                return;
            }
            self.typed_seen += 1;
        }
        // Alternatives, scalars first (they end recursion).
        let mut alts: Vec<u8> = Vec::with_capacity(10);
        for (k, flag) in [
            (0, NONE),
            (1, BOOL),
            (2, INT),
            (3, FLOAT),
            (4, STR),
            (5, BYTES),
        ] {
            if n.flags & flag != 0 {
                alts.push(k);
            }
        }
        if !n.int_lits.is_empty() {
            alts.push(6);
        }
        if !n.str_lits.is_empty() {
            alts.push(7);
        }
        for (k, flag) in [
            (12, DATETIME),
            (13, DATE),
            (14, TIME),
            (15, TIMEDELTA),
            (16, UUID),
            (17, DECIMAL),
            (18, MEMORYVIEW),
        ] {
            if n.flags & flag != 0 {
                alts.push(k);
            }
        }
        // Unhashable: never inside a key or a set.
        for (k, flag) in [(10, BYTEARRAY), (11, EXT)] {
            if n.flags & flag != 0 && !in_key {
                alts.push(k);
            }
        }
        let scalars = alts.len();
        let hashable_array = match &n.array {
            ArrayKind::List(_) | ArrayKind::Set { frozen: false, .. } => false,
            // A NamedTuple is a tuple; a struct instance is not hashable.
            ArrayKind::Structs(Sel::One(sid)) => {
                c.structs[*sid as usize].record == Record::NamedTuple
            }
            ArrayKind::Structs(_) => false,
            _ => true,
        };
        if !matches!(n.array, ArrayKind::No) && (!in_key || hashable_array) {
            alts.push(8);
        }
        if !matches!(n.object, ObjKind::No) && !in_key {
            alts.push(9);
        }
        let pick = if depth > SOFT_DEPTH && scalars > 0 {
            alts[self.below(scalars as u64) as usize]
        } else if alts.is_empty() {
            return write::nil(out);
        } else {
            alts[self.below(alts.len() as u64) as usize]
        };
        match pick {
            0 => write::nil(out),
            1 => write::bool(out, self.coin()),
            2 => {
                let v = (self.rng)() as i64 >> self.below(60);
                self.int(out, v)
            }
            3 => {
                if self.coin() {
                    let v = self.below(100) as i64 - 50;
                    self.int(out, v)
                } else {
                    write::f64(out, self.below(1 << 20) as f64 / 3.0)
                }
            }
            4 => {
                let s = self.text();
                self.str(out, &s)
            }
            5 => write::bin(out, b"\x00bytes\xff"),
            6 => {
                let v = n.int_lits[self.below(n.int_lits.len() as u64) as usize];
                self.int(out, v)
            }
            7 => {
                let s = n.str_lits[self.below(n.str_lits.len() as u64) as usize].clone();
                self.str(out, &s)
            }
            8 => self.array(out, id, depth, in_key),
            9 => self.object(out, id, depth),
            10 | 18 => write::bin(out, b"\x00view\xff"),
            11 => out.extend_from_slice(&[0xd5, 0x05, b'a', b'b']),
            12 => {
                if self.coin() {
                    self.str(out, "2024-02-29T23:59:59.123456+05:30")
                } else {
                    // A timestamp ext, 32-bit seconds.
                    out.extend_from_slice(&[0xd6, 0xff, 0x65, 0x00, 0x00, 0x00])
                }
            }
            13 => self.str(out, "2024-02-29"),
            14 => self.str(out, "23:59:59.5Z"),
            15 => self.str(out, "-P1DT2H3M4.5S"),
            16 => {
                if self.coin() {
                    self.str(out, "12345678-1234-5678-1234-567812345678")
                } else {
                    write::bin(out, b"0123456789abcdef")
                }
            }
            _ => {
                if n.flags & (INT | FLOAT) == 0 && n.int_lits.is_empty() && self.coin() {
                    write::f64(out, 2.5)
                } else {
                    self.str(out, "-1.5e3")
                }
            }
        }
    }

    fn count(&mut self, depth: usize) -> usize {
        if depth >= HARD_DEPTH {
            0
        } else if depth > SOFT_DEPTH {
            self.below(2) as usize
        } else {
            self.below(4) as usize
        }
    }

    fn array(&mut self, out: &mut Vec<u8>, id: NodeId, depth: usize, in_key: bool) {
        let c = self.c;
        match &c.nodes[id as usize].array {
            ArrayKind::List(e) | ArrayKind::VarTuple(e) => {
                let k = self.count(depth);
                self.array_len(out, k);
                for _ in 0..k {
                    self.node(out, *e, depth + 1, in_key);
                }
            }
            ArrayKind::Set { elem, .. } => {
                let k = self.count(depth);
                self.array_len(out, k);
                for _ in 0..k {
                    self.node(out, *elem, depth + 1, true);
                }
            }
            ArrayKind::Tuple(items) => {
                self.array_len(out, items.len());
                for i in items.iter() {
                    self.node(out, *i, depth + 1, in_key);
                }
            }
            ArrayKind::Structs(sel) => {
                let sid = self.pick_struct(sel);
                let s = &c.structs[sid as usize];
                let nopt = s.fields.len() - s.nrequired;
                let k = s.nrequired + self.below(nopt as u64 + 1) as usize;
                self.array_len(out, usize::from(s.tag.is_some()) + k);
                if let Some(tag) = &s.tag {
                    self.tag(out, tag);
                }
                for f in &s.fields[..k] {
                    self.node(out, f.ty, depth + 1, false);
                }
            }
            ArrayKind::No => write::nil(out),
        }
    }

    fn pick_struct(&mut self, sel: &Sel) -> u32 {
        match sel {
            Sel::One(sid) => *sid,
            Sel::Tagged(u) => {
                let u = &self.c.unions[*u as usize];
                let all: Vec<u32> = u
                    .strs
                    .iter()
                    .map(|(_, s)| *s)
                    .chain(u.ints.iter().map(|(_, s)| *s))
                    .collect();
                all[self.below(all.len() as u64) as usize]
            }
        }
    }

    fn tag(&mut self, out: &mut Vec<u8>, tag: &TagVal) {
        match tag {
            TagVal::Str(t) => self.str(out, t),
            TagVal::Int(i) => self.int(out, *i),
        }
    }

    fn object(&mut self, out: &mut Vec<u8>, id: NodeId, depth: usize) {
        let c = self.c;
        match &c.nodes[id as usize].object {
            ObjKind::Dict(k, v) => {
                let n = self.count(depth);
                self.map_len(out, n);
                for _ in 0..n {
                    self.node(out, *k, depth + 1, true);
                    self.node(out, *v, depth + 1, false);
                }
            }
            ObjKind::Structs(sel) => {
                let tagged_union = matches!(sel, Sel::Tagged(_));
                let sid = self.pick_struct(sel);
                let s = &c.structs[sid as usize];
                let mut keys: Vec<Option<usize>> = Vec::new();
                for (i, f) in s.fields.iter().enumerate() {
                    if f.required || (depth < SOFT_DEPTH && self.coin()) {
                        keys.push(Some(i));
                    }
                }
                if s.tag.is_some() && (tagged_union || self.coin()) {
                    keys.push(None);
                }
                // Shuffle.
                for i in (1..keys.len()).rev() {
                    let j = self.below(i as u64 + 1) as usize;
                    keys.swap(i, j);
                }
                self.map_len(out, keys.len());
                for k in keys {
                    match k {
                        None => {
                            let (field, tag) = (s.tag_field.clone(), s.tag.clone());
                            self.str(out, &field);
                            if let Some(tag) = tag {
                                self.tag(out, &tag);
                            }
                        }
                        Some(i) => {
                            let f = &s.fields[i];
                            self.str(out, &f.wire);
                            self.node(out, f.ty, depth + 1, false);
                        }
                    }
                }
            }
            ObjKind::No => write::nil(out),
        }
    }
}
