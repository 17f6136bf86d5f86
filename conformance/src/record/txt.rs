//! The readable rendering of a capture (`NAME.txt` beside `NAME.json`):
//! header lines naming the source, the actors and the channels, then one
//! line per frame, all channels merged by time
//! (`fixtures/captures/FORMAT.md#text-rendering-nametxt`). For people only:
//! the JSON is authoritative.

use std::fmt::Write as _;

use crate::capture::Capture;
use base64::Engine as _;

/// Longest line written; longer ones end in `..`.
const MAX_LINE: usize = 300;
/// Longest string or bytes value shown in full.
const MAX_STR: usize = 30;
/// Most items of a list or map shown.
const MAX_ITEMS: usize = 4;
/// Deepest nesting shown.
const MAX_DEPTH: usize = 4;

/// Renders `capture` as text.
pub fn render(capture: &Capture) -> String {
    let mut out = String::new();
    let src = &capture.source;
    let word = |k: &str| match src.get(k) {
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(serde_json::Value::Null) | None => "None".into(),
        Some(v) => v.to_string(),
    };
    let _ = writeln!(out, "# scenario: {}", capture.scenario);
    let _ = writeln!(
        out,
        "# source: {} {} (commit {}), python {}, msgspec {}",
        word("impl"),
        word("version"),
        word("commit"),
        word("python"),
        word("msgspec")
    );
    let _ = writeln!(out, "# actors:");
    for a in &capture.actors {
        let pid = a.pid.map_or("None".into(), |p| p.to_string());
        let probe = if a.probe {
            " (registry probe identity)"
        } else {
            ""
        };
        let _ = writeln!(out, "#   {:<20} uuid={} pid={pid}{probe}", a.name, a.uuid);
    }
    let name = |uuid: &str| capture.actor_name(uuid).unwrap_or("?").to_string();
    let addr = |ch: &crate::capture::Channel, end: &str| match ch.addrs.get(end) {
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(v) => v.to_string(),
        None => "?".into(),
    };
    let _ = writeln!(out, "# channels (a = connecting end, b = accepting end):");
    for (i, ch) in capture.channels.iter().enumerate() {
        let _ = writeln!(
            out,
            "#   ch{i}: {} {} [{}] -> {} [{}]: {} frames",
            ch.transport,
            name(&ch.a),
            addr(ch, "a"),
            name(&ch.b),
            addr(ch, "b"),
            ch.frames.len()
        );
    }
    let _ = writeln!(
        out,
        "# columns: +ms since first frame | channel | sender -> receiver | msg_type | cid | other fields"
    );
    let mut lines: Vec<(u64, usize, usize)> = Vec::new();
    for (c, ch) in capture.channels.iter().enumerate() {
        for (f, frame) in ch.frames.iter().enumerate() {
            lines.push((frame.t_ns, c, f));
        }
    }
    lines.sort_by_key(|&(t, c, f)| (t, c, f));
    let t0 = lines.first().map_or(0, |l| l.0);
    let engine = base64::engine::general_purpose::STANDARD;
    for (t, c, f) in lines {
        let ch = &capture.channels[c];
        let frame = &ch.frames[f];
        let to = if frame.from == ch.a { &ch.b } else { &ch.a };
        let body = engine.decode(&frame.msgpack_b64).unwrap_or_default();
        let (kind, cid, fields) = describe(&body);
        let ms = format!("+{:.3}ms", (t - t0) as f64 / 1e6);
        let mut line = format!(
            "{ms:>12} ch{c:<2} {} -> {}  {kind:<9} cid={cid:<8} [{}B] {fields}",
            name(&frame.from),
            name(to),
            body.len()
        );
        if line.len() > MAX_LINE {
            let mut end = MAX_LINE - 2;
            while !line.is_char_boundary(end) {
                end -= 1;
            }
            line.truncate(end);
            line.push_str("..");
        }
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// The kind, the short cid and the other fields of a frame.
fn describe(body: &[u8]) -> (String, String, String) {
    let mut reader = std::io::Cursor::new(body);
    let value = match rmpv::decode::read_value_with_max_depth(&mut reader, 1024) {
        Ok(v) => v,
        Err(_) => return ("?".into(), "-".into(), "(not msgpack)".into()),
    };
    let short = |v: &rmpv::Value| v.as_str().map(|s| s.chars().take(8).collect::<String>());
    match &value {
        rmpv::Value::Map(entries) => {
            let tag = entries
                .iter()
                .find(|(k, _)| k.as_str() == Some("msg_type"))
                .and_then(|(_, v)| v.as_str());
            let mut cid = entries
                .iter()
                .find(|(k, _)| k.as_str() == Some("cid"))
                .and_then(|(_, v)| short(v));
            let kind = match tag {
                Some(t) => t.to_string(),
                // The 0.1.0a5 dialect: the first key names the message.
                None => entries
                    .first()
                    .and_then(|(k, _)| k.as_str())
                    .unwrap_or("?")
                    .to_string(),
            };
            if cid.is_none() && kind == "cmd" {
                // {'cmd': [ns, func, kwargs, caller_uid, cid]}
                cid = entries
                    .first()
                    .and_then(|(_, v)| v.as_array())
                    .and_then(|a| a.get(4))
                    .and_then(short);
            }
            let mut fields = Vec::new();
            for (k, v) in entries {
                if matches!(k.as_str(), Some("msg_type" | "cid")) {
                    continue;
                }
                let mut s = String::new();
                match k.as_str() {
                    Some(k) => s.push_str(k),
                    None => repr(k, 0, &mut s),
                }
                s.push('=');
                repr(v, 0, &mut s);
                fields.push(s);
            }
            (kind, cid.unwrap_or_else(|| "-".into()), fields.join(" "))
        }
        rmpv::Value::Array(a) if a.len() == 2 && a.iter().all(|v| v.is_str()) => {
            let mut s = String::new();
            repr(&value, 0, &mut s);
            ("uid".into(), "-".into(), s)
        }
        rmpv::Value::Nil => ("nil".into(), "-".into(), "None".into()),
        other => {
            let mut s = String::new();
            repr(other, 0, &mut s);
            ("?".into(), "-".into(), s)
        }
    }
}

/// A shortened Python `repr` of a value.
fn repr(v: &rmpv::Value, depth: usize, out: &mut String) {
    if depth > MAX_DEPTH {
        out.push_str("..");
        return;
    }
    match v {
        rmpv::Value::Nil => out.push_str("None"),
        rmpv::Value::Boolean(b) => out.push_str(if *b { "True" } else { "False" }),
        rmpv::Value::Integer(i) => {
            let _ = write!(out, "{i}");
        }
        rmpv::Value::F32(f) => {
            let _ = write!(out, "{f:?}");
        }
        rmpv::Value::F64(f) => {
            let _ = write!(out, "{f:?}");
        }
        rmpv::Value::String(s) => {
            let text = s.as_str().map_or_else(
                || String::from_utf8_lossy(s.as_bytes()).into_owned(),
                str::to_string,
            );
            let n = text.chars().count();
            let shown: String = text.chars().take(MAX_STR).collect();
            out.push_str(&shuttle::python::str_repr(&shown));
            if n > MAX_STR {
                let _ = write!(out, "..(+{}ch)", n - MAX_STR);
            }
        }
        rmpv::Value::Binary(b) => {
            if b.len() > 8 {
                let _ = write!(out, "bytes[{}]", b.len());
            }
            out.push_str("b'");
            for &x in b.iter().take(8) {
                match x {
                    b'\\' => out.push_str("\\\\"),
                    b'\'' => out.push_str("\\'"),
                    b'\n' => out.push_str("\\n"),
                    b'\r' => out.push_str("\\r"),
                    b'\t' => out.push_str("\\t"),
                    0x20..=0x7e => out.push(x as char),
                    _ => {
                        let _ = write!(out, "\\x{x:02x}");
                    }
                }
            }
            out.push('\'');
            if b.len() > 8 {
                out.push_str("..");
            }
        }
        rmpv::Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().take(MAX_ITEMS).enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                repr(item, depth + 1, out);
            }
            if items.len() > MAX_ITEMS {
                let _ = write!(out, ", ..(+{})", items.len() - MAX_ITEMS);
            }
            out.push(']');
        }
        rmpv::Value::Map(entries) => {
            out.push('{');
            for (i, (k, val)) in entries.iter().take(MAX_ITEMS).enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                repr(k, depth + 1, out);
                out.push_str(": ");
                repr(val, depth + 1, out);
            }
            if entries.len() > MAX_ITEMS {
                let _ = write!(out, ", ..(+{})", entries.len() - MAX_ITEMS);
            }
            out.push('}');
        }
        rmpv::Value::Ext(code, data) => {
            let _ = write!(out, "Ext({code}, bytes[{}])", data.len());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The deterministic part of every line (headers; each frame's time,
    /// channel, ends, kind, cid and size) is what the recorder that made
    /// the committed fixtures wrote.
    #[test]
    fn agrees_with_the_committed_renderings() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/captures");
        let mut compared = 0;
        for dir in ["python-tractor", "python-tractor-0.1.0a5"] {
            for entry in std::fs::read_dir(root.join(dir)).unwrap() {
                let path = entry.unwrap().path();
                let txt = path.with_extension("txt");
                if path.extension().is_none_or(|e| e != "json") || !txt.exists() {
                    continue;
                }
                let capture =
                    crate::capture::Capture::from_json(&std::fs::read_to_string(&path).unwrap())
                        .unwrap();
                let want = std::fs::read_to_string(&txt).unwrap();
                let got = render(&capture);
                let (want, got): (Vec<&str>, Vec<&str>) =
                    (want.lines().collect(), got.lines().collect());
                assert_eq!(want.len(), got.len(), "{}", txt.display());
                for (w, g) in want.iter().zip(&got) {
                    if w.starts_with('#') {
                        assert_eq!(w, g, "{}", txt.display());
                    } else {
                        let end = w.find("B] ").expect("a size column") + 2;
                        assert_eq!(&w[..end], &g[..end.min(g.len())], "{}", txt.display());
                    }
                }
                compared += 1;
            }
        }
        assert!(compared >= 37, "only {compared} renderings compared");
    }
}
