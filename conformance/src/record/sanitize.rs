//! `shuttle record --sanitize`: machine paths, the home folder and the host
//! name replaced by neutral ones inside every frame, so that a capture can
//! be committed.
//!
//! Strings are replaced inside the msgpack, not in the bytes: each changed
//! string is written again with the smallest str header for its new length,
//! as msgspec writes it, and every other byte is left alone, so a sanitized
//! frame still round-trips byte for byte through msgspec.

use crate::capture::Capture;
use base64::Engine as _;

/// What to replace by what. Longer texts are replaced first.
#[derive(Clone, Debug, Default)]
pub struct Rules {
    pairs: Vec<(String, String)>,
}

impl Rules {
    /// Adds a replacement. Empty texts, `/`, and texts shorter than 4
    /// characters (which would hit words like actor names) are ignored.
    pub fn add(&mut self, from: &str, to: &str) {
        let from = from.trim_end_matches('/');
        if from.chars().count() < 4 || from == to || self.pairs.iter().any(|(f, _)| f == from) {
            return;
        }
        self.pairs.push((from.to_string(), to.to_string()));
        self.pairs
            .sort_by(|a, b| b.0.len().cmp(&a.0.len()).then(a.0.cmp(&b.0)));
    }

    /// The replacements, longest first.
    pub fn pairs(&self) -> &[(String, String)] {
        &self.pairs
    }

    /// `text` with every replacement made, in one pass (a replaced part is
    /// not looked at again).
    pub fn apply(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        'outer: while !rest.is_empty() {
            for (from, to) in &self.pairs {
                if let Some(after) = rest.strip_prefix(from.as_str()) {
                    out.push_str(to);
                    rest = after;
                    continue 'outer;
                }
            }
            let ch = rest.chars().next().expect("not empty");
            out.push(ch);
            rest = &rest[ch.len_utf8()..];
        }
        out
    }

    /// One msgpack value with every string sanitized; `None` when nothing
    /// changed.
    pub fn body(&self, body: &[u8]) -> Option<Vec<u8>> {
        let mut out = Vec::with_capacity(body.len());
        let mut copied = 0;
        let mut changed = false;
        let mut walk = shuttle::msgpack::headers(body);
        for h in walk.by_ref() {
            let is_str = matches!(h.marker, 0xa0..=0xbf | 0xd9..=0xdb);
            if !is_str {
                continue;
            }
            let start = h.offset + h.header_len;
            let Some(end) = usize::try_from(h.body_len)
                .ok()
                .and_then(|n| start.checked_add(n))
                .filter(|&e| e <= body.len())
            else {
                break;
            };
            let Ok(text) = std::str::from_utf8(&body[start..end]) else {
                continue;
            };
            let new = self.apply(text);
            if new == text {
                continue;
            }
            out.extend_from_slice(&body[copied..h.offset]);
            shuttle::msgpack::write::str(&mut out, &new);
            copied = end;
            changed = true;
        }
        if !changed {
            return None;
        }
        out.extend_from_slice(&body[copied..]);
        Some(out)
    }

    /// Sanitizes every frame, the socket names and the description of a
    /// capture. Returns how many frames changed.
    pub fn capture(&self, capture: &mut Capture) -> usize {
        let engine = base64::engine::general_purpose::STANDARD;
        let mut changed = 0;
        capture.description = self.apply(&capture.description);
        for ch in &mut capture.channels {
            for v in ch.addrs.values_mut() {
                if let serde_json::Value::String(s) = v {
                    *s = self.apply(s);
                }
            }
            for frame in &mut ch.frames {
                let Ok(body) = engine.decode(&frame.msgpack_b64) else {
                    continue;
                };
                if let Some(new) = self.body(&body) {
                    frame.msgpack_b64 = engine.encode(new);
                    changed += 1;
                }
            }
        }
        changed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_rewritten_with_their_smallest_header() {
        let mut rules = Rules::default();
        rules.add("/home/alice/project", "/srv/app");
        rules.add("/home/alice", "/home/user");
        // {"a": "/home/alice/project/x.py", "b": [1, "/home/alice/.cache"], "root": "root"}
        let long = "/home/alice/project/".to_string() + &"x".repeat(19) + ".py";
        let mut body = Vec::new();
        shuttle::msgpack::write::map_len(&mut body, 3);
        shuttle::msgpack::write::str(&mut body, "a");
        shuttle::msgpack::write::str(&mut body, &long);
        shuttle::msgpack::write::str(&mut body, "b");
        shuttle::msgpack::write::array_len(&mut body, 2);
        shuttle::msgpack::write::int(&mut body, 1);
        shuttle::msgpack::write::str(&mut body, "/home/alice/.cache");
        shuttle::msgpack::write::str(&mut body, "root");
        shuttle::msgpack::write::str(&mut body, "root");
        assert_eq!(body[3], 0xd9, "42 characters take a str8 header");
        let out = rules.body(&body).expect("changed");
        let mut want = Vec::new();
        shuttle::msgpack::write::map_len(&mut want, 3);
        shuttle::msgpack::write::str(&mut want, "a");
        shuttle::msgpack::write::str(
            &mut want,
            &("/srv/app/".to_string() + &"x".repeat(19) + ".py"),
        );
        shuttle::msgpack::write::str(&mut want, "b");
        shuttle::msgpack::write::array_len(&mut want, 2);
        shuttle::msgpack::write::int(&mut want, 1);
        shuttle::msgpack::write::str(&mut want, "/home/user/.cache");
        shuttle::msgpack::write::str(&mut want, "root");
        shuttle::msgpack::write::str(&mut want, "root");
        assert_eq!(out, want);
        assert_eq!(out[3], 0xbf, "31 characters fit a fixstr");
        assert_eq!(rules.body(&want), None, "nothing left to replace");
    }

    #[test]
    fn short_words_are_never_replaced() {
        let mut rules = Rules::default();
        rules.add("vm", "host");
        rules.add("/", "/x");
        assert!(rules.pairs().is_empty());
        assert_eq!(rules.apply("vm root /"), "vm root /");
    }

    #[test]
    fn a_cut_body_is_left_as_it_is_after_the_cut() {
        let mut rules = Rules::default();
        rules.add("/home/alice", "/home/user");
        let mut body = Vec::new();
        shuttle::msgpack::write::array_len(&mut body, 2);
        shuttle::msgpack::write::str(&mut body, "/home/alice/a");
        shuttle::msgpack::write::str(&mut body, "/home/alice/b");
        body.truncate(body.len() - 3);
        let out = rules.body(&body).expect("the first string changed");
        assert!(out.ends_with(&body[16..]), "the cut tail is copied");
    }
}
