//! Generating replay cases from captures (`shuttle import-replay`).
//!
//! For each scenario in [`SCENARIOS`], channel 0 (the spawn channel: end
//! `b` is `root`, the caller; end `a` the child daemon, the callee) becomes
//! one case: root's frames are sent (except the `SpawnSpec`), the child's
//! frames are expected through patterns where runs legitimately differ.

use std::path::Path;

use crate::capture::{Capture, End};
use rmpv::Value;
use serde_json::json;
use shuttle::{Msg, MsgType};

use super::pattern::literal_json;
use super::replay::{ReplayCase, Step, FORMAT};
use super::session::summarize;

/// The recorded scenarios turned into replay cases: those whose channel 0
/// is a plain caller/callee dialog with endpoints `shuttle serve` has.
/// (Not here: `uds_transport`, `payload_ext_types`,
/// `typed_pld_bad_started` and `typed_pld_started_send_side_check` reuse
/// endpoint names (`echo`, `child`) with other behaviour; `stream_overrun`
/// depends on buffer sizes; `grandchild_error_relay` and the `discovery_*`
/// scenarios need more than one peer.)
pub const SCENARIOS: &[&str] = &[
    "cancel_actor_midstream",
    "ctx_cancel_from_caller",
    "ctx_error_after_started",
    "ctx_error_before_started",
    "ctx_started_return",
    "ctx_stream_callee_stops",
    "ctx_stream_caller_stops",
    "multiplexed_contexts",
    "payload_bytes_1mib",
    "payload_containers",
    "payload_namespace_path",
    "payload_scalars",
    "portal_run_error",
    "portal_run_module_not_exposed",
    "portal_run_return",
    "run_in_actor_result",
    "spawn_teardown",
    "stream_from_asyncgen",
    "stream_from_asyncgen_error",
    "typed_pld_bad_yield",
    "typed_pld_valid",
];

/// Builds the replay case of every scenario in [`SCENARIOS`] found among
/// the captures in `dir`: `(file name, case)`. A folder holding none of
/// them is an error.
pub fn build(dir: &Path) -> anyhow::Result<Vec<(String, ReplayCase)>> {
    let found: Vec<_> = SCENARIOS
        .iter()
        .map(|s| dir.join(format!("{s}.json")))
        .filter(|p| p.exists())
        .collect();
    if found.is_empty() {
        anyhow::bail!(
            "{}: none of the replayed scenarios ({}, ...) is in this folder; name capture files to import others",
            dir.display(),
            SCENARIOS[..3].join(", ")
        );
    }
    found.iter().map(|p| build_file(p)).collect()
}

/// Builds the replay case of one capture from its first channel (end `b`
/// the caller, as on a recording's spawn channel): `(file name, case)`.
pub fn build_file(path: &Path) -> anyhow::Result<(String, ReplayCase)> {
    let text =
        std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    let cap = Capture::from_json(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    let case = case_of(&cap).map_err(|e| anyhow::anyhow!("{}: {e:#}", path.display()))?;
    Ok((format!("{}.json", cap.scenario), case))
}

/// The text of a case file: the header pretty-printed, one step per line.
pub fn to_text(case: &ReplayCase) -> String {
    let mut out = String::from("{\n");
    let field = |k: &str, v: serde_json::Value| format!(" {}: {},\n", json!(k), v);
    out += &field("format", json!(case.format));
    out += &field("id", json!(case.id));
    out += &field("title", json!(case.title));
    out += &field("provenance", json!(case.provenance));
    out += &field("endpoints", json!(case.endpoints));
    out += " \"steps\": [\n";
    for (i, s) in case.steps.iter().enumerate() {
        let sep = if i + 1 == case.steps.len() { "" } else { "," };
        out += &format!(
            "  {}{sep}\n",
            serde_json::to_string(s).expect("a step serializes")
        );
    }
    out += " ]\n}\n";
    out
}

struct Ids {
    name: String,
    uuid: String,
}

fn case_of(cap: &Capture) -> anyhow::Result<ReplayCase> {
    let ch = cap
        .channels
        .first()
        .ok_or_else(|| anyhow::anyhow!("{}: no channels", cap.scenario))?;
    let frames = cap.channel_frames(0)?;
    let ids = Ids {
        name: cap.actor_name(&ch.a).unwrap_or("?").to_string(),
        uuid: ch.a.clone(),
    };
    let mut sends_first = Vec::new();
    let mut steps = Vec::new();
    let mut endpoints: Vec<String> = Vec::new();
    for f in &frames {
        let msg = Msg::decode(&f.body)?;
        match (f.from, &msg) {
            (End::B, Msg::SpawnSpec(_)) => {}
            (End::B, m) => {
                if let Msg::Start(s) = m {
                    let ep = format!("{}.{}", s.ns, s.func);
                    if !endpoints.contains(&ep) {
                        endpoints.push(ep);
                    }
                }
                let step = Step {
                    note: summarize(&f.body),
                    send: Some(base64::Engine::encode(
                        &base64::engine::general_purpose::STANDARD,
                        &f.body,
                    )),
                    expect: None,
                };
                // The handshake is symmetric: the harness sends its Aid
                // right away rather than after the peer's.
                if m.msg_type() == MsgType::Aid {
                    sends_first.push(step);
                } else {
                    steps.push(step);
                }
            }
            (End::A, m) => {
                let v = rmpv::decode::read_value(&mut &f.body[..])?;
                steps.push(Step {
                    note: format!("peer: {}", summarize(&f.body)),
                    send: None,
                    expect: Some(pattern(&v, m.msg_type(), &ids)),
                });
            }
        }
    }
    sends_first.extend(steps);
    let source = &cap.source;
    let mut provenance = std::collections::BTreeMap::new();
    for key in ["impl", "version", "commit"] {
        if let Some(v) = source.get(key).and_then(|v| v.as_str()) {
            provenance.insert(key.to_string(), v.to_string());
        }
    }
    provenance.insert("scenario".into(), cap.scenario.clone());
    provenance.insert("channel".into(), "0".into());
    let first_sentence = cap
        .description
        .split(". ")
        .next()
        .unwrap_or("")
        .trim_end_matches('.')
        .to_string();
    Ok(ReplayCase {
        format: FORMAT.into(),
        id: format!("replay/{}", cap.scenario),
        title: first_sentence,
        provenance,
        endpoints,
        steps: sends_first,
    })
}

fn same_as(name: &str, inner: serde_json::Value) -> serde_json::Value {
    json!({"$": "same-as", "name": name, "match": inner})
}

/// The pattern for a peer frame.
fn pattern(v: &Value, t: MsgType, ids: &Ids) -> serde_json::Value {
    let Value::Map(entries) = v else {
        return literal_json(v);
    };
    let get = |k: &str| {
        entries
            .iter()
            .find(|(ek, _)| ek.as_str() == Some(k))
            .map(|(_, v)| v)
    };
    let src_type = get("src_type_str").and_then(|v| v.as_str()).unwrap_or("");
    let boxed = get("boxed_type_str").and_then(|v| v.as_str()).unwrap_or("");
    let mut o = serde_json::Map::new();
    for (k, fv) in entries {
        let k = k.as_str().unwrap_or("").to_string();
        let p = match (t, k.as_str()) {
            (MsgType::Aid, "name") => same_as("peer_name", json!({"$": "regex", "re": "^.+$"})),
            (MsgType::Aid, "uuid") => same_as("peer_uuid", json!({"$": "uuid"})),
            (MsgType::Aid, "pid" | "is_registrar") => json!({"$": "any"}),
            (MsgType::Error, "tb_str") => tb_pattern(src_type, fv.as_str().unwrap_or("")),
            (MsgType::Error, "message") if boxed == "ContextCancelled" => json!({"$": "any"}),
            (_, "pld") => literal_json(fv),
            _ => generic(fv, ids),
        };
        o.insert(k, p);
    }
    serde_json::Value::Object(o)
}

/// Literal, except that the peer's uid `[name, uuid]` becomes `same-as`.
fn generic(v: &Value, ids: &Ids) -> serde_json::Value {
    match v {
        Value::Array(a)
            if a.len() == 2
                && a[0].as_str() == Some(ids.name.as_str())
                && a[1].as_str() == Some(ids.uuid.as_str()) =>
        {
            json!([
                {"$": "same-as", "name": "peer_name"},
                {"$": "same-as", "name": "peer_uuid"}
            ])
        }
        Value::Array(a) => serde_json::Value::Array(a.iter().map(|x| generic(x, ids)).collect()),
        other => literal_json(other),
    }
}

/// Traceback text matches loosely: the line naming the exception must be
/// there (class, optionally module-qualified, and its text), nothing else.
fn tb_pattern(src_type: &str, tb: &str) -> serde_json::Value {
    let line = tb.lines().rev().find_map(|l| {
        let (head, rest) = l.split_once(": ")?;
        let class = head.rsplit('.').next()?;
        (class == src_type && !head.contains(' ')).then_some(rest)
    });
    match line {
        Some(rest) if src_type != "ContextCancelled" => {
            let text = regex::escape(rest).replace("'__mp_main__'", "'[^']*'");
            json!({"$": "regex", "re": format!("(?m)^([\\w.]+\\.)?{}: {text}$", regex::escape(src_type))})
        }
        _ => json!({"$": "any"}),
    }
}
