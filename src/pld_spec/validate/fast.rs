//! The validator's shortcuts: a size table per node for scalars accepted
//! outright, runs of them, and structs whose fields are all scalars
//! checked in one loop without a frame. [`Validator::leaf`] falls back to
//! the general scalar check; with `reference` set every shortcut is off.

use super::{field_seg, key_eq, key_kind_err, missing, utf8, Seen, Validator, R};
use crate::error::{DecodeError, ErrorKind, PathSegment};
use crate::pld_spec::compile::{NodeId, StructDef};

impl Validator<'_, '_> {
    /// Validates one value that is not a container against node `id` (a
    /// container found here is reported as the wrong kind).
    #[inline(always)]
    pub(super) fn leaf(&mut self, id: NodeId) -> R {
        let n = &self.c.nodes[id as usize];
        if self.reference {
            return self.leaf_slow(id).map(drop);
        }
        if let Some(&b) = self.r.buf().get(self.r.pos()) {
            let size = n.fast[b as usize];
            if size != 0 {
                return self.r.skip_bytes(size as usize);
            }
        }
        self.leaf_slow(id).map(drop)
    }

    /// Skips up to `count` consecutive values that node `id` accepts
    /// outright (fixed-size scalars), returning how many were skipped.
    #[inline]
    pub(super) fn fast_run(&mut self, id: NodeId, count: usize) -> usize {
        if self.reference {
            return 0;
        }
        let fast: &[u8; 256] = &self.c.nodes[id as usize].fast;
        let buf = self.r.buf();
        let start = self.r.pos();
        let mut pos = start;
        let mut i = 0;
        'outer: while i < count {
            // Runs of one-byte values in a loop of their own: the next
            // position depends on a predicted branch, not on the loads.
            while i < count {
                match buf.get(pos) {
                    Some(&b) if fast[b as usize] == 1 => {
                        pos += 1;
                        i += 1;
                    }
                    Some(_) => break,
                    None => break 'outer,
                }
            }
            if i == count {
                break;
            }
            let t = fast[buf[pos] as usize] as usize;
            if t == 0 || t > buf.len() - pos {
                break;
            }
            pos += t;
            i += 1;
        }
        // In bounds: every step was checked against the buffer's length.
        let _ = self.r.skip_bytes(pos - start);
        i
    }

    /// A value of a node whose only container is flat struct `sid`, inside
    /// `depth` open containers (not a map key).
    #[inline]
    pub(super) fn flat_value(&mut self, id: NodeId, sid: u32, depth: usize) -> R {
        match self.r.buf().get(self.r.pos()) {
            Some(0x80..=0x8f | 0xde | 0xdf) => {
                let len = self.r.map_header()?.unwrap_or(0);
                let s = &self.c.structs[sid as usize];
                if len == 0 {
                    return missing(s, &Seen::Small(0));
                }
                if depth >= self.max_depth {
                    return Err(DecodeError::new(ErrorKind::TooDeep {
                        limit: self.max_depth,
                    }));
                }
                self.flat_struct_map(s, len, depth + 1)
            }
            _ => self.leaf(id),
        }
    }

    /// Validates a whole payload whose spec's only container is a flat
    /// struct.
    #[inline]
    pub(crate) fn flat_root(&mut self, id: NodeId, sid: u32) -> R {
        self.flat_value(id, sid, 0)
    }

    /// Validates a whole payload whose spec is a leaf node.
    #[inline]
    pub(crate) fn leaf_root(&mut self, id: NodeId) -> R {
        self.leaf(id)
    }

    /// A struct in map form whose fields are all leaves: one loop, no
    /// frame. Same rules as the `StructMap` frame.
    pub(super) fn flat_struct_map(&mut self, s: &StructDef, len: usize, depth: usize) -> R {
        let mut seen: u64 = 0;
        let mut hint = 0usize;
        for _ in 0..len {
            let key = match self.r.str_bytes_fast()? {
                Some(k) => k,
                None => return Err(key_kind_err(&self.r, "str").at(PathSegment::Key)),
            };
            // Keys usually come in declaration order: try the next field first.
            let i = match s.fields.get(hint) {
                Some(f) if key_eq(f.wire.as_bytes(), key) => Some(hint),
                _ => s.fields.iter().position(|f| key_eq(f.wire.as_bytes(), key)),
            };
            match i {
                Some(i) => {
                    seen |= 1 << i;
                    hint = i + 1;
                    let f = &s.fields[i];
                    if let Err(e) = self.leaf(f.ty) {
                        return Err(e.at(field_seg(&f.wire)));
                    }
                }
                None => {
                    if let Some(tag) = &s.tag {
                        if key == s.tag_field.as_bytes() {
                            self.check_tag(tag)
                                .map_err(|e| e.at(field_seg(&s.tag_field)))?;
                            continue;
                        }
                    }
                    if s.forbid_unknown {
                        return Err(DecodeError::new(ErrorKind::UnknownField(
                            utf8(key)?.to_string(),
                        )));
                    }
                    self.r.skip_nested(depth, self.max_depth)?;
                }
            }
        }
        missing(s, &Seen::Small(seen))
    }
}
