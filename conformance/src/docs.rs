//! The documentation of `spec/` generated from the JSON Schemas:
//! `messages.md` (rendered from the schemas) and `messages.html` (that
//! Markdown through pulldown-cmark), beside the schema files themselves.
//! `shuttle schema --out spec` writes them; a test keeps the committed
//! copies in step.

use std::fmt::Write as _;

use schemars::Schema;
use serde_json::{Map, Value};

/// The command that rewrites the generated files of `spec/`.
pub const REGENERATE: &str = "cargo run -p shuttle-conformance -- schema --out spec";

/// Every generated file of `spec/`, as `(path relative to spec/, content)`:
/// `schema/<name>.schema.json` for each of the message crate's
/// [`schemas`](shuttle::schema::schemas), `messages.md` and
/// `messages.html`. Deterministic: the same bytes on every run.
pub fn generate() -> Vec<(String, String)> {
    generate_with(Vec::new())
}

/// Like [`generate`], with more schemas after the message crate's own
/// (e.g. the conformance case format): each gets its own
/// `schema/<name>.schema.json` and a section in the rendered documentation.
pub fn generate_with(extra: Vec<(String, Schema)>) -> Vec<(String, String)> {
    let mut all = shuttle::schema::schemas();
    all.extend(extra);
    let mut files = Vec::new();
    for (name, schema) in &all {
        let mut text =
            serde_json::to_string_pretty(schema.as_value()).expect("a schema is plain JSON");
        text.push('\n');
        files.push((format!("schema/{name}.schema.json"), text));
    }
    let doc = document(&all);
    let markdown = render_markdown(&doc);
    files.push(("messages.html".to_owned(), render_html(&markdown)));
    files.push(("messages.md".to_owned(), markdown));
    files
}

// ---------------------------------------------------------------------------
// Documentation rendered from the schemas.

/// One block of the rendered documentation. Inline text may hold `code`
/// spans; a code span naming `spec/PROTOCOL.md#anchor` becomes a link.
enum Block {
    Heading(u8, String, String),
    Para(String),
    List(Vec<String>),
    Table(Vec<&'static str>, Vec<Vec<String>>),
    Code(String),
}

fn document(all: &[(String, Schema)]) -> Vec<Block> {
    let mut doc = vec![
        Block::Heading(1, "messages".into(), "Shuttle messages".into()),
        Block::Para(format!(
            "Generated from the JSON Schemas in `schema/` by `shuttle schema`; do not edit by hand (regenerate with `{REGENERATE}`). The normative text is `spec/PROTOCOL.md#messages`."
        )),
        Block::Para("Every frame body is one msgpack map: the tag `msg_type` first, then every field in the order below, defaults included, with the smallest msgpack header for each value. A decoder accepts the keys in any order, ignores unknown keys and fills in the default of a missing defaulted key. The JSON shown is the rendering of `spec/PROTOCOL.md#json-rendering`, which the schemas describe.".into()),
    ];
    let mut contents = Vec::new();
    for (name, _) in all {
        contents.push(format!("[{name}](#{})", anchor(name)));
    }
    doc.push(Block::Heading(2, "contents".into(), "Contents".into()));
    doc.push(Block::List(contents));
    let mut shared: Vec<(String, Value)> = Vec::new();
    for (name, schema) in all {
        let obj = schema.as_value();
        doc.push(Block::Heading(2, anchor(name), name.clone()));
        if let Some(d) = obj.get("description").and_then(Value::as_str) {
            doc.push(Block::Para(d.to_owned()));
        }
        doc.push(Block::Para(format!("Schema: `schema/{name}.schema.json`.")));
        if obj.get("x-wire-order").is_some() {
            message_blocks(&mut doc, obj);
        } else if let Some(one_of) = obj.get("oneOf").and_then(Value::as_array) {
            let items = one_of
                .iter()
                .map(|s| {
                    let label = type_label(s);
                    format!("[{label}](#{})", anchor(&label))
                })
                .collect();
            doc.push(Block::Para("One of:".into()));
            doc.push(Block::List(items));
        } else if obj.get("properties").is_some() {
            doc.push(object_table(obj));
        }
        if let Some(defs) = obj.get("$defs").and_then(Value::as_object) {
            for (def, s) in defs {
                if s.get("x-wire-order").is_some() || shared.iter().any(|(n, _)| n == def) {
                    continue;
                }
                if s.get("properties").is_some() {
                    doc.push(Block::Heading(
                        3,
                        anchor(&format!("{name}-{def}")),
                        format!("{name}: {def}"),
                    ));
                    if let Some(d) = s.get("description").and_then(Value::as_str) {
                        doc.push(Block::Para(d.to_owned()));
                    }
                    doc.push(object_table(s));
                } else {
                    shared.push((def.clone(), s.clone()));
                }
            }
        }
    }
    doc.push(Block::Heading(2, "types".into(), "Shared types".into()));
    doc.push(Block::Para(
        "The field types named in the tables above, as found under `$defs` in the schema files."
            .into(),
    ));
    for (name, s) in shared {
        doc.push(Block::Heading(
            3,
            anchor(&format!("type-{name}")),
            name.clone(),
        ));
        if let Some(d) = s.get("description").and_then(Value::as_str) {
            doc.push(Block::Para(d.to_owned()));
        }
        let s: Map<String, Value> = s
            .as_object()
            .into_iter()
            .flatten()
            .filter(|(k, _)| *k != "description")
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        doc.push(Block::Code(
            serde_json::to_string_pretty(&s).expect("plain JSON"),
        ));
    }
    doc
}

fn anchor(name: &str) -> String {
    name.to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect()
}

fn message_blocks(doc: &mut Vec<Block>, obj: &Value) {
    let props = obj["properties"].as_object().cloned().unwrap_or_default();
    let order: Vec<&str> = obj["x-wire-order"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    doc.push(Block::Para(format!(
        "{} map entries on the wire, in this order:",
        order.len()
    )));
    let mut rows = Vec::new();
    for (i, key) in order.iter().enumerate() {
        let p = &props[*key];
        let default = match p.get("default") {
            Some(d) => format!("`{d}`"),
            None if *key == "msg_type" => "tag".to_owned(),
            None => "required".to_owned(),
        };
        rows.push(vec![
            i.to_string(),
            format!("`{key}`"),
            format!("`{}`", type_label(p)),
            default,
            p.get("description")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned(),
        ]);
    }
    doc.push(Block::Table(
        vec!["#", "wire key", "type", "if missing on decode", "meaning"],
        rows,
    ));
    let examples = obj["examples"].as_array().cloned().unwrap_or_default();
    let hexes = obj["x-msgpack-examples"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    for (json, hex_text) in examples.iter().zip(hexes.iter()) {
        let bytes = unhex(hex_text.as_str().unwrap_or(""));
        doc.push(Block::Para(format!(
            "Example ({} bytes; on the wire after the length prefix `{}`):",
            bytes.len(),
            hex(&(bytes.len() as u32).to_le_bytes())
        )));
        doc.push(Block::Code(
            serde_json::to_string_pretty(json).expect("plain JSON"),
        ));
        doc.push(Block::Code(annotate(&bytes, json)));
    }
}

/// The bytes of a message, one line per key and per value.
fn annotate(bytes: &[u8], json: &Value) -> String {
    let mut out = String::new();
    let mut cur = std::io::Cursor::new(bytes);
    let Ok(n) = rmp::decode::read_map_len(&mut cur) else {
        return hex(bytes);
    };
    let mut line = |lines: Vec<String>, note: String| {
        for (i, l) in lines.iter().enumerate() {
            if i == 0 {
                let _ = writeln!(out, "{l:<w$}  {note}", w = 2 * DUMP_WIDTH + 1);
            } else {
                let _ = writeln!(out, "{l}");
            }
        }
    };
    let at = |cur: &std::io::Cursor<&[u8]>| cur.position() as usize;
    line(split_hex(&bytes[..at(&cur)]), format!("map, {n} entries"));
    for _ in 0..n {
        let k0 = at(&cur);
        let Ok(key) = rmpv::decode::read_value(&mut cur) else {
            break;
        };
        let v0 = at(&cur);
        if rmpv::decode::read_value(&mut cur).is_err() {
            break;
        }
        let v1 = at(&cur);
        let key = key.as_str().map(str::to_owned).unwrap_or_default();
        line(split_hex(&bytes[k0..v0]), format!("key {key:?}"));
        let mut shown = json.get(&key).map(Value::to_string).unwrap_or_default();
        if shown.chars().count() > 48 {
            shown = shown.chars().take(45).collect::<String>() + "...";
        }
        line(split_hex(&bytes[v0..v1]), format!("  = {shown}"));
    }
    out.trim_end().to_owned()
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len() / 2)
        .filter_map(|i| u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok())
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// Bytes per line in the annotated dumps.
const DUMP_WIDTH: usize = 32;

/// The hex of one msgpack value with a space after its header (the marker
/// byte and any length or ext-type bytes), e.g. `a3 636964`, wrapped at
/// [`DUMP_WIDTH`] bytes with the continuation lines aligned on the body.
fn split_hex(value: &[u8]) -> Vec<String> {
    let Some(&marker) = value.first() else {
        return vec![String::new()];
    };
    let header = match marker {
        0xc4 | 0xd9 | 0xd4..=0xd8 => 2,
        0xc5 | 0xc7 | 0xda | 0xdc | 0xde => 3,
        0xc8 => 4,
        0xc6 | 0xdb | 0xdd | 0xdf => 5,
        0xc9 => 6,
        _ => 1,
    }
    .min(value.len());
    let (head, body) = value.split_at(header);
    if body.is_empty() {
        return vec![hex(head)];
    }
    let indent = " ".repeat(2 * header + 1);
    body.chunks(DUMP_WIDTH - header)
        .enumerate()
        .map(|(i, chunk)| {
            if i == 0 {
                format!("{} {}", hex(head), hex(chunk))
            } else {
                format!("{indent}{}", hex(chunk))
            }
        })
        .collect()
}

/// A short type name for a property schema.
fn type_label(s: &Value) -> String {
    if let Some(r) = s.get("$ref").and_then(Value::as_str) {
        return r.rsplit('/').next().unwrap_or(r).to_owned();
    }
    if let Some(c) = s.get("const") {
        return c.to_string();
    }
    if let Some(e) = s.get("enum").and_then(Value::as_array) {
        return e
            .iter()
            .map(Value::to_string)
            .collect::<Vec<_>>()
            .join(" | ");
    }
    for key in ["anyOf", "oneOf", "allOf"] {
        if let Some(a) = s.get(key).and_then(Value::as_array) {
            let sep = if key == "allOf" { " & " } else { " | " };
            return a.iter().map(type_label).collect::<Vec<_>>().join(sep);
        }
    }
    match s.get("type") {
        Some(Value::String(t)) if t == "array" => {
            if let Some(p) = s.get("prefixItems").and_then(Value::as_array) {
                format!(
                    "[{}]",
                    p.iter().map(type_label).collect::<Vec<_>>().join(", ")
                )
            } else if let Some(i) = s.get("items") {
                format!("array of {}", type_label(i))
            } else {
                "array".to_owned()
            }
        }
        Some(Value::String(t)) => t.clone(),
        Some(Value::Array(ts)) => ts
            .iter()
            .map(|t| match (t.as_str(), s.get("items")) {
                (Some("array"), Some(i)) => format!("array of {}", type_label(i)),
                (t, _) => t.unwrap_or("?").to_owned(),
            })
            .collect::<Vec<_>>()
            .join(" | "),
        _ => "any".to_owned(),
    }
}

fn object_table(s: &Value) -> Block {
    let required: Vec<&str> = s
        .get("required")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let mut rows = Vec::new();
    if let Some(props) = s.get("properties").and_then(Value::as_object) {
        for (key, p) in props {
            let presence = if required.contains(&key.as_str()) {
                "required".to_owned()
            } else {
                match p.get("default") {
                    Some(d) => format!("optional, default `{d}`"),
                    None => "optional".to_owned(),
                }
            };
            rows.push(vec![
                format!("`{key}`"),
                format!("`{}`", type_label(p)),
                presence,
                p.get("description")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned(),
            ]);
        }
    }
    Block::Table(vec!["key", "type", "presence", "meaning"], rows)
}

/// Splits inline text into (is_code, text) runs.
fn inline_runs(text: &str) -> Vec<(bool, &str)> {
    text.split('`')
        .enumerate()
        .map(|(i, t)| (i % 2 == 1, t))
        .collect()
}

fn protocol_link(code: &str) -> Option<&str> {
    code.strip_prefix("spec/")
        .filter(|rest| rest.starts_with("PROTOCOL.md#"))
}

fn md_inline(text: &str, in_table: bool) -> String {
    let mut out = String::new();
    for (code, t) in inline_runs(text) {
        let t = if in_table {
            t.replace('|', "\\|")
        } else {
            t.to_owned()
        };
        if code {
            match protocol_link(&t) {
                Some(link) => {
                    let _ = write!(out, "[`{link}`]({link})");
                }
                None => {
                    let _ = write!(out, "`{t}`");
                }
            }
        } else {
            out.push_str(&t.replace('\n', " "));
        }
    }
    out
}

fn render_markdown(doc: &[Block]) -> String {
    let mut out = String::new();
    for block in doc {
        match block {
            Block::Heading(level, id, text) => {
                let _ = writeln!(
                    out,
                    "{} <a id=\"{id}\"></a>{}\n",
                    "#".repeat(*level as usize),
                    md_inline(text, false)
                );
            }
            Block::Para(text) => {
                let _ = writeln!(out, "{}\n", md_inline(text, false));
            }
            Block::List(items) => {
                for item in items {
                    let _ = writeln!(out, "- {}", md_inline(item, false));
                }
                out.push('\n');
            }
            Block::Table(headers, rows) => {
                let _ = writeln!(out, "| {} |", headers.join(" | "));
                let _ = writeln!(out, "|{}", "---|".repeat(headers.len()));
                for row in rows {
                    let cells: Vec<String> = row.iter().map(|c| md_inline(c, true)).collect();
                    let _ = writeln!(out, "| {} |", cells.join(" | "));
                }
                out.push('\n');
            }
            Block::Code(text) => {
                let _ = writeln!(out, "```\n{text}\n```\n");
            }
        }
    }
    out.trim_end().to_owned() + "\n"
}

const CSS: &str = "body{font-family:system-ui,sans-serif;max-width:72rem;margin:2rem auto;padding:0 1rem;line-height:1.5;color:#1d1d1f}\
code,pre{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.9em}\
pre{background:#f5f5f7;padding:.75rem;overflow-x:auto;border-radius:4px}\
table{border-collapse:collapse;margin:1rem 0}th,td{border:1px solid #d2d2d7;padding:.3rem .5rem;vertical-align:top;text-align:left}\
th{background:#f5f5f7}h2{border-bottom:1px solid #d2d2d7;padding-bottom:.2rem;margin-top:2.5rem}a{color:#0066cc}";

/// `messages.html`: the Markdown rendered by pulldown-cmark (tables on),
/// in a page with a style sheet.
fn render_html(markdown: &str) -> String {
    let parser = pulldown_cmark::Parser::new_ext(markdown, pulldown_cmark::Options::ENABLE_TABLES);
    let mut body = String::new();
    pulldown_cmark::html::push_html(&mut body, parser);
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>Shuttle messages</title>\n<style>{CSS}</style>\n</head>\n<body>\n{body}</body>\n</html>\n"
    )
}

#[cfg(test)]
mod tests {
    use super::hex;

    #[test]
    fn rendered_docs_cover_every_message_with_its_bytes() {
        let files = crate::spec_files();
        let md = &files.iter().find(|(n, _)| n == "messages.md").unwrap().1;
        let html = &files.iter().find(|(n, _)| n == "messages.html").unwrap().1;
        for tag in shuttle::MsgType::ALL {
            assert!(
                md.contains(&format!(
                    "<a id=\"{}\"></a>{tag}",
                    tag.as_str().to_ascii_lowercase()
                )),
                "{tag}"
            );
            assert!(
                html.contains(&format!("id=\"{}\"", tag.as_str().to_ascii_lowercase())),
                "{tag}"
            );
            // The annotated bytes show the tag's own msgpack str.
            let tag_str = format!(
                "{:02x} {}",
                0xa0 + tag.as_str().len(),
                hex(tag.as_str().as_bytes())
            );
            assert!(
                md.contains(&format!("\n{tag_str} ")),
                "{tag}: no annotated bytes"
            );
            assert!(
                html.contains(&format!("\n{tag_str} ")),
                "{tag}: no annotated bytes"
            );
        }
        assert!(html.starts_with("<!DOCTYPE html>"));
        assert!(
            !html.contains("<script") && !html.contains("<link") && !html.contains("src=\""),
            "self-contained"
        );
    }
}
