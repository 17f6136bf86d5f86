//! Why two msgpack encodings differ, in the protocol's terms: the first
//! place (as a path such as `$.pld[2]`) where the two disagree on the kind
//! of value, its encoding width or its content, so that a float64 written
//! as float32, an int written wider than needed, or map keys in another
//! order are named even when both decode to the same-looking value.

use rmp::Marker;

/// One value's header as read from the encoding: its kind (with width),
/// a short rendering of its content, and for a container how many values
/// it holds (`(is_map, values)`, a map's keys and values both counted).
#[derive(Clone, Debug, PartialEq)]
struct Token {
    kind: &'static str,
    content: String,
    children: Option<(bool, u64)>,
}

/// Reads an encoding one value header at a time, keeping the containers it
/// is inside; iterative, so depth costs no stack. The path of the last
/// value read is built only when asked for.
struct Walker<'a> {
    bytes: &'a [u8],
    pos: usize,
    /// Per open container: (is map, values left, index, last str key).
    stack: Vec<(bool, u64, u64, String)>,
    done: bool,
}

impl<'a> Walker<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Walker {
            bytes,
            pos: 0,
            stack: Vec::new(),
            done: false,
        }
    }

    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let b = self.bytes.get(self.pos..self.pos.checked_add(n)?)?;
        self.pos += n;
        Some(b)
    }

    fn len(&mut self, n: usize) -> Option<u64> {
        Some(
            self.take(n)?
                .iter()
                .fold(0u64, |a, &x| a << 8 | u64::from(x)),
        )
    }

    /// The next value's header, or `None` at the end of the value or of
    /// readable input. Call [`Walker::advance`] with it before the next.
    fn next(&mut self) -> Option<Token> {
        if self.done {
            return None;
        }
        let m = *self.bytes.get(self.pos)?;
        self.pos += 1;
        let scalar = |kind, content| {
            Some(Token {
                kind,
                content,
                children: None,
            })
        };
        match Marker::from_u8(m) {
            Marker::FixPos(n) => scalar("positive fixint", n.to_string()),
            Marker::FixNeg(n) => scalar("negative fixint", n.to_string()),
            Marker::Null => scalar("nil", "None".into()),
            Marker::True => scalar("bool", "True".into()),
            Marker::False => scalar("bool", "False".into()),
            Marker::U8 | Marker::U16 | Marker::U32 | Marker::U64 => {
                let (w, kind) = match m {
                    0xcc => (1, "uint8"),
                    0xcd => (2, "uint16"),
                    0xce => (4, "uint32"),
                    _ => (8, "uint64"),
                };
                scalar(kind, self.len(w)?.to_string())
            }
            Marker::I8 | Marker::I16 | Marker::I32 | Marker::I64 => {
                let (w, kind) = match m {
                    0xd0 => (1, "int8"),
                    0xd1 => (2, "int16"),
                    0xd2 => (4, "int32"),
                    _ => (8, "int64"),
                };
                let shift = 64 - 8 * w as u32;
                let v = ((self.len(w)? << shift) as i64) >> shift;
                scalar(kind, v.to_string())
            }
            Marker::F32 => {
                let f = f32::from_bits(self.len(4)? as u32);
                scalar("float32", format!("{f:?}"))
            }
            Marker::F64 => scalar("float64", format!("{:?}", f64::from_bits(self.len(8)?))),
            Marker::FixStr(n) => {
                let b = self.take(n.into())?;
                scalar("fixstr", format!("{:?}", String::from_utf8_lossy(b)))
            }
            Marker::Str8 | Marker::Str16 | Marker::Str32 => {
                let (kind, w) = match m {
                    0xd9 => ("str8", 1),
                    0xda => ("str16", 2),
                    _ => ("str32", 4),
                };
                let n = self.len(w)?;
                let b = self.take(usize::try_from(n).ok()?)?;
                scalar(kind, format!("{:?}", String::from_utf8_lossy(b)))
            }
            Marker::Bin8 | Marker::Bin16 | Marker::Bin32 => {
                let (kind, w) = match m {
                    0xc4 => ("bin8", 1),
                    0xc5 => ("bin16", 2),
                    _ => ("bin32", 4),
                };
                let n = self.len(w)?;
                let b = self.take(usize::try_from(n).ok()?)?;
                scalar(
                    kind,
                    format!("{} bytes {:02x?}", b.len(), &b[..b.len().min(16)]),
                )
            }
            Marker::FixArray(n) => Some(Token {
                kind: "fixarray",
                content: format!("{n} items"),
                children: Some((false, n.into())),
            }),
            Marker::Array16 | Marker::Array32 => {
                let (kind, w) = if m == 0xdc {
                    ("array16", 2)
                } else {
                    ("array32", 4)
                };
                let n = self.len(w)?;
                Some(Token {
                    kind,
                    content: format!("{n} items"),
                    children: Some((false, n)),
                })
            }
            Marker::FixMap(n) => Some(Token {
                kind: "fixmap",
                content: format!("{n} entries"),
                children: Some((true, 2 * u64::from(n))),
            }),
            Marker::Map16 | Marker::Map32 => {
                let (kind, w) = if m == 0xde {
                    ("map16", 2)
                } else {
                    ("map32", 4)
                };
                let n = self.len(w)?;
                Some(Token {
                    kind,
                    content: format!("{n} entries"),
                    children: Some((true, 2 * n)),
                })
            }
            Marker::FixExt1
            | Marker::FixExt2
            | Marker::FixExt4
            | Marker::FixExt8
            | Marker::FixExt16
            | Marker::Ext8
            | Marker::Ext16
            | Marker::Ext32 => {
                let n = match m {
                    0xd4 => 1,
                    0xd5 => 2,
                    0xd6 => 4,
                    0xd7 => 8,
                    0xd8 => 16,
                    0xc7 => self.len(1)?,
                    0xc8 => self.len(2)?,
                    _ => self.len(4)?,
                };
                let t = self.take(1)?[0] as i8;
                let b = self.take(usize::try_from(n).ok()?)?;
                scalar("ext", format!("type {t} with {} bytes", b.len()))
            }
            Marker::Reserved => None,
        }
    }

    /// Moves past the value `t` (entering it when it is a container).
    fn advance(&mut self, t: &Token) {
        if let Some(top) = self.stack.last_mut() {
            if top.0 && top.2 % 2 == 0 {
                top.3 = t.content.trim_matches('"').to_string();
            }
        }
        match t.children {
            Some((is_map, n)) if n > 0 => {
                self.stack.push((is_map, n, 0, String::new()));
                return;
            }
            _ => {}
        }
        // One value of the enclosing container is done; close every
        // container it completes.
        loop {
            match self.stack.last_mut() {
                None => {
                    self.done = true;
                    return;
                }
                Some(top) => {
                    top.1 -= 1;
                    top.2 += 1;
                    if top.1 > 0 {
                        return;
                    }
                }
            }
            self.stack.pop();
        }
    }

    /// Where the last value read sits: `$`, `$.pld[2]`, `${key 0}` for a
    /// map's first key.
    fn path(&self) -> String {
        let mut path = String::from("$");
        for (is_map, _, index, key) in &self.stack {
            match (is_map, index % 2) {
                (true, 0) => path.push_str(&format!("{{key {}}}", index / 2)),
                (true, _) => path.push_str(&format!(".{key}")),
                (false, _) => path.push_str(&format!("[{index}]")),
            }
        }
        path
    }
}

/// Says why two encodings differ, naming the first value where they
/// disagree and how: `None` when they are the same bytes.
pub fn why(want: &[u8], got: &[u8]) -> Option<String> {
    if want == got {
        return None;
    }
    let (mut w, mut g) = (Walker::new(want), Walker::new(got));
    loop {
        match (w.next(), g.next()) {
            (Some(a), Some(b)) if a == b => {
                w.advance(&a);
                g.advance(&b);
            }
            (Some(a), Some(b)) => {
                // Both walkers are at the same place: equal so far.
                let path = w.path();
                return Some(
                    if a.content == b.content || same_number(&a.content, &b.content) {
                        format!(
                            "at {path}: the same value {} encoded as {} where {} was expected",
                            a.content, b.kind, a.kind
                        )
                    } else if a.kind != b.kind {
                        format!(
                            "at {path}: expected {} {}, got {} {}",
                            a.kind, a.content, b.kind, b.content
                        )
                    } else {
                        format!("at {path}: expected {}, got {}", a.content, b.content)
                    },
                );
            }
            (Some(a), None) => {
                return Some(format!(
                    "the answer ends (or stops being readable) where {} {} was expected at {}",
                    a.kind,
                    a.content,
                    w.path()
                ))
            }
            (None, Some(b)) => {
                return Some(format!(
                    "the answer goes on with {} {} at {} where the expected value had ended",
                    b.kind,
                    b.content,
                    g.path()
                ))
            }
            (None, None) => return Some(
                "the bytes differ outside any readable value (trailing bytes, or malformed input)"
                    .into(),
            ),
        }
    }
}

/// `0.5` and `0.5` written at different widths, or ints equal as numbers.
fn same_number(a: &str, b: &str) -> bool {
    matches!((a.parse::<f64>(), b.parse::<f64>()), (Ok(x), Ok(y)) if x == y)
}

#[cfg(test)]
mod tests {
    use super::why;

    fn enc(v: &rmpv::Value) -> Vec<u8> {
        let mut out = Vec::new();
        rmpv::encode::write_value(&mut out, v).unwrap();
        out
    }

    #[test]
    fn float_width_is_named_at_its_path() {
        use rmpv::Value as V;
        let want = enc(&V::Map(vec![
            (V::from("cid"), V::from("1")),
            (V::from("pld"), V::Array(vec![V::from(1), V::F64(0.5)])),
        ]));
        let got = enc(&V::Map(vec![
            (V::from("cid"), V::from("1")),
            (V::from("pld"), V::Array(vec![V::from(1), V::F32(0.5)])),
        ]));
        assert_eq!(
            why(&want, &got).unwrap(),
            "at $.pld[1]: the same value 0.5 encoded as float32 where float64 was expected"
        );
    }

    #[test]
    fn int_width_key_order_and_values_are_told_apart() {
        // 7 as positive fixint vs uint8.
        assert_eq!(
            why(&[0x07], &[0xcc, 0x07]).unwrap(),
            "at $: the same value 7 encoded as uint8 where positive fixint was expected"
        );
        // Keys in another order: the first key differs.
        let want = [0x82, 0xa1, b'a', 0x01, 0xa1, b'b', 0x02];
        let got = [0x82, 0xa1, b'b', 0x02, 0xa1, b'a', 0x01];
        assert_eq!(
            why(&want, &got).unwrap(),
            "at ${key 0}: expected \"a\", got \"b\""
        );
        // A different value of the same kind.
        assert_eq!(
            why(&[0x92, 0x01, 0x02], &[0x92, 0x01, 0x03]).unwrap(),
            "at $[1]: expected 2, got 3"
        );
        // Fewer items.
        assert!(why(&[0x92, 0x01, 0x02], &[0x91, 0x01])
            .unwrap()
            .starts_with("at $: expected"));
        assert_eq!(why(&[0x01], &[0x01]), None);
    }

    #[test]
    fn malformed_and_deep_input_does_not_panic() {
        let deep: Vec<u8> = std::iter::repeat_n(0x91, 100_000).chain([0xc0]).collect();
        assert!(why(&deep, &[0xc1]).is_some());
        assert!(why(&[0xdd, 0xff, 0xff, 0xff, 0xff], &[0x90]).is_some());
        assert!(why(&[0xd9], &[0xd9, 0x05]).is_some());
    }
}
