//! Why two msgpack encodings differ, in the protocol's terms: the first
//! place (as a path such as `$.pld[2]`) where the two disagree on the kind
//! of value, its encoding width or its content, so that a float64 written
//! as float32, an int written wider than needed, or map keys in another
//! order are named even when both decode to the same-looking value.

/// One value's header as read from the encoding: its kind (with width),
/// a short rendering of its content, and for a container how many values
/// it holds (`(is_map, values)`, a map's keys and values both counted).
#[derive(Clone, Debug, PartialEq)]
struct Token {
    kind: &'static str,
    content: String,
    children: Option<(bool, u64)>,
}

/// Reads an encoding one value header at a time (the message crate's
/// [`headers`](shuttle::msgpack::headers) walker), keeping the containers
/// it is inside for the path of the last value read, built only when asked
/// for.
struct Walker<'a> {
    bytes: &'a [u8],
    headers: shuttle::msgpack::Headers<'a>,
    /// Per open container: (is map, values left, index, last str key).
    stack: Vec<(bool, u64, u64, String)>,
    done: bool,
}

/// The name of a value's encoding, by its marker byte.
fn kind_of(marker: u8) -> &'static str {
    match marker {
        0x00..=0x7f => "positive fixint",
        0xe0..=0xff => "negative fixint",
        0xc0 => "nil",
        0xc2 | 0xc3 => "bool",
        0xcc => "uint8",
        0xcd => "uint16",
        0xce => "uint32",
        0xcf => "uint64",
        0xd0 => "int8",
        0xd1 => "int16",
        0xd2 => "int32",
        0xd3 => "int64",
        0xca => "float32",
        0xcb => "float64",
        0xa0..=0xbf => "fixstr",
        0xd9 => "str8",
        0xda => "str16",
        0xdb => "str32",
        0xc4 => "bin8",
        0xc5 => "bin16",
        0xc6 => "bin32",
        0x90..=0x9f => "fixarray",
        0xdc => "array16",
        0xdd => "array32",
        0x80..=0x8f => "fixmap",
        0xde => "map16",
        0xdf => "map32",
        _ => "ext",
    }
}

impl<'a> Walker<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Walker {
            bytes,
            headers: shuttle::msgpack::headers(bytes),
            stack: Vec::new(),
            done: false,
        }
    }

    /// The next value's header, or `None` at the end of the value or of
    /// readable input. Call [`Walker::advance`] with it before the next.
    fn next(&mut self) -> Option<Token> {
        if self.done {
            return None;
        }
        let h = self.headers.next()?;
        let start = h.offset + h.header_len;
        let body = self
            .bytes
            .get(start..start.checked_add(usize::try_from(h.body_len).ok()?)?)?;
        let be = || body.iter().fold(0u64, |a, &x| a << 8 | u64::from(x));
        let kind = kind_of(h.marker);
        let (content, children) = match h.marker {
            0x00..=0x7f => (h.marker.to_string(), None),
            0xcc..=0xcf => (be().to_string(), None),
            0xe0..=0xff => ((h.marker as i8).to_string(), None),
            0xd0..=0xd3 => {
                let shift = 64 - 8 * body.len() as u32;
                (((be() << shift) as i64 >> shift).to_string(), None)
            }
            0xc0 => ("None".into(), None),
            0xc2 => ("False".into(), None),
            0xc3 => ("True".into(), None),
            0xca => (format!("{:?}", f32::from_bits(be() as u32)), None),
            0xcb => (format!("{:?}", f64::from_bits(be())), None),
            0xa0..=0xbf | 0xd9..=0xdb => (format!("{:?}", String::from_utf8_lossy(body)), None),
            0xc4..=0xc6 => (
                format!("{} bytes {:02x?}", body.len(), &body[..body.len().min(16)]),
                None,
            ),
            0x90..=0x9f | 0xdc | 0xdd => (format!("{} items", h.items), Some((false, h.items))),
            0x80..=0x8f | 0xde | 0xdf => {
                (format!("{} entries", h.items / 2), Some((true, h.items)))
            }
            _ => {
                let t = self.bytes.get(h.offset + h.header_len - 1).copied()? as i8;
                (format!("type {t} with {} bytes", body.len()), None)
            }
        };
        Some(Token {
            kind,
            content,
            children,
        })
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
