//! [`Value`]: a payload decoded as a dynamic msgpack value, safe to hold,
//! print and drop at any depth the protocol accepts.

use std::ops::Deref;

/// A dynamic msgpack value (Python's view of a payload decoded as `Any`),
/// as returned by [`Raw::to_value`](crate::Raw::to_value).
///
/// It reads as an [`rmpv::Value`] (through `Deref`), the common dynamic
/// value of the Rust msgpack crates. What it adds is safety at depth: a
/// payload may nest [`DEFAULT_MAX_DEPTH`](crate::DEFAULT_MAX_DEPTH) levels,
/// and `rmpv::Value`'s own `Drop` recurses once per level, which overflows
/// a small thread stack (an abort, not a panic). This wrapper drops its
/// tree with a loop, and its `Debug` prints the bounded JSON rendering of
/// [`json`](crate::json).
///
/// Walking the tree is up to the caller: a recursive walk costs stack per
/// level, so bound it or walk with a loop. [`Value::into_rmpv`] gives the
/// plain value back, with rmpv's recursive drop.
///
/// ```
/// use shuttle::Raw;
/// let raw = Raw::from_slice(&[0x92, 0x01, 0xa1, b'x']).unwrap();
/// let v = raw.to_value().unwrap();
/// assert_eq!(v[0].as_u64(), Some(1));
/// assert_eq!(v[1].as_str(), Some("x"));
/// assert_eq!(format!("{v:?}"), r#"Value([1,"x"])"#);
/// ```
pub struct Value(rmpv::Value);

impl Value {
    /// The value as rmpv's type.
    pub fn as_rmpv(&self) -> &rmpv::Value {
        &self.0
    }

    /// The plain `rmpv::Value`. Dropping that recurses once per level of
    /// nesting: keep deep values in [`Value`].
    pub fn into_rmpv(mut self) -> rmpv::Value {
        std::mem::replace(&mut self.0, rmpv::Value::Nil)
    }
}

impl From<rmpv::Value> for Value {
    /// Wraps a value so that dropping it does not recurse.
    fn from(value: rmpv::Value) -> Self {
        Value(value)
    }
}

impl Deref for Value {
    type Target = rmpv::Value;
    fn deref(&self) -> &rmpv::Value {
        &self.0
    }
}

impl PartialEq for Value {
    /// Compares with a loop, not recursion.
    fn eq(&self, other: &Self) -> bool {
        same(&self.0, &other.0)
    }
}

impl PartialEq<rmpv::Value> for Value {
    /// Compares with a loop, not recursion.
    fn eq(&self, other: &rmpv::Value) -> bool {
        same(&self.0, other)
    }
}

/// `a == b`, walked with a loop.
fn same(a: &rmpv::Value, b: &rmpv::Value) -> bool {
    use rmpv::Value as V;
    let mut pending = vec![(a, b)];
    while let Some(pair) = pending.pop() {
        match pair {
            (V::Array(a), V::Array(b)) => {
                if a.len() != b.len() {
                    return false;
                }
                pending.extend(a.iter().zip(b));
            }
            (V::Map(a), V::Map(b)) => {
                if a.len() != b.len() {
                    return false;
                }
                for ((ka, va), (kb, vb)) in a.iter().zip(b) {
                    pending.push((ka, kb));
                    pending.push((va, vb));
                }
            }
            (V::Array(_) | V::Map(_), _) | (_, V::Array(_) | V::Map(_)) => return false,
            (a, b) => {
                if a != b {
                    return false;
                }
            }
        }
    }
    true
}

impl Drop for Value {
    /// Takes the tree apart level by level, so that no drop recurses.
    fn drop(&mut self) {
        let mut pending = Vec::new();
        detach_children(&mut self.0, &mut pending);
        while let Some(mut v) = pending.pop() {
            detach_children(&mut v, &mut pending);
        }
    }
}

/// Moves the non-empty containers under `v` onto `pending`, leaving `v`
/// with children whose drop does not recurse.
fn detach_children(v: &mut rmpv::Value, pending: &mut Vec<rmpv::Value>) {
    use rmpv::Value as V;
    let nested = |x: &V| match x {
        V::Array(a) => !a.is_empty(),
        V::Map(m) => !m.is_empty(),
        _ => false,
    };
    match v {
        V::Array(items) => {
            for x in items.iter_mut().filter(|x| nested(x)) {
                pending.push(std::mem::replace(x, V::Nil));
            }
        }
        V::Map(entries) => {
            for (k, x) in entries.iter_mut() {
                if nested(k) {
                    pending.push(std::mem::replace(k, V::Nil));
                }
                if nested(x) {
                    pending.push(std::mem::replace(x, V::Nil));
                }
            }
        }
        _ => {}
    }
}
