//! Turning recorded captures, golden vectors and payload vectors into
//! conformance cases (`shuttle import`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::capture::{Capture, End};
use base64::Engine as _;
use rmpv::Value;
use shuttle::msgpack::write;
use shuttle::{Msg, MsgType};

use crate::case::{
    Case, CaseBody, CaseFile, DecodeExpect, DialogExpect, DialogFrame, Level, PayloadExpect,
    Provenance, FORMAT,
};

/// The case files `import` writes, by name.
pub const FILES: &[(&str, &str)] = &[
    ("decode-recorded.json", "Every recorded frame decodes and re-encodes byte-identically."),
    ("decode-synthetic.json", "Frames derived from recorded ones: msgspec's leniency (accepted, canonical re-encoding) and strictness (rejected, with the error class)."),
    ("encode.json", "Messages given as values (keys shuffled, defaults omitted) encode to the exact recorded or golden bytes."),
    ("payload.json", "Payload-spec verdicts decided by msgspec, and the verdicts recorded in typed captures."),
    ("dialog.json", "Recorded channels follow the dialog rules."),
    ("dialog-mutated.json", "Recorded channels with one frame dropped, repeated, redirected or re-labelled: rejected at the first frame that breaks a rule (as the reference dialog machine decides), or legal."),
    ("legacy-dict.json", "Frames of the older dict dialect (tractor 0.1.0a5) decode and re-encode byte for byte."),
];

/// Collected cases, by file name.
#[derive(Default)]
struct Out {
    files: BTreeMap<&'static str, Vec<Case>>,
}

impl Out {
    fn push(&mut self, file: &'static str, case: Case) {
        self.files.entry(file).or_default().push(case);
    }
}

/// Builds the case files from captures (`tractor-capture/1`), payload
/// vector files (`pld-vectors/1`) and golden vector files
/// (`golden_vectors.txt`); folders are searched recursively.
pub fn build(inputs: &[PathBuf]) -> anyhow::Result<Vec<(String, CaseFile)>> {
    let mut files = Vec::new();
    for p in inputs {
        collect(p, &mut files)?;
    }
    files.sort();
    let mut out = Out::default();
    let mut imported = 0usize;
    for path in &files {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let read = || {
            std::fs::read_to_string(path)
                .map_err(|e| anyhow::anyhow!("{}: cannot read: {e}", path.display()))
        };
        // Why a file is not imported; an error for a file named on the
        // command line, silence for one met in a folder.
        let skipped = if name.ends_with(".txt") && name.contains("golden") {
            golden(&read()?, &mut out).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
            None
        } else if !name.ends_with(".json") {
            Some("neither a .json file nor golden_vectors.txt".to_string())
        } else {
            let text = read()?;
            let head: serde_json::Value = serde_json::from_str(&text)
                .map_err(|e| anyhow::anyhow!("{}: not JSON: {e}", path.display()))?;
            match head.get("format").and_then(|f| f.as_str()) {
                Some(f) if crate::capture::is_format(f) && head.get("channels").is_some() => {
                    let cap = Capture::from_json(&text)
                        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
                    capture(&cap, &mut out)
                        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
                    None
                }
                Some("pld-vectors/1") => {
                    vectors(&head, name, &mut out)
                        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
                    None
                }
                Some(other) => Some(format!("JSON of format {other:?}")),
                None => Some("JSON without a \"format\" field".to_string()),
            }
        };
        match skipped {
            None => imported += 1,
            Some(why) if inputs.contains(path) => anyhow::bail!(
                "{}: nothing to import: {why}; import takes {:?} captures, \
                 pld-vectors/1 files and golden_vectors.txt",
                path.display(),
                crate::capture::FORMAT
            ),
            Some(_) => {}
        }
    }
    anyhow::ensure!(
        imported > 0,
        "nothing to import: no capture, pld-vectors/1 file or golden_vectors.txt in {}",
        inputs
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    Ok(FILES
        .iter()
        .map(|(name, description)| {
            let cases = out.files.remove(name).unwrap_or_default();
            (
                name.to_string(),
                CaseFile {
                    format: FORMAT.into(),
                    description: description.to_string(),
                    cases,
                },
            )
        })
        .collect())
}

fn collect(p: &Path, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    if p.is_dir() {
        for e in std::fs::read_dir(p)? {
            collect(&e?.path(), out)?;
        }
    } else {
        anyhow::ensure!(p.exists(), "{}: no such file or folder", p.display());
        out.push(p.to_path_buf());
    }
    Ok(())
}

fn spec_anchor(t: MsgType) -> String {
    format!("PROTOCOL.md#{}", t.as_str().to_lowercase())
}

fn b64(b: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(b)
}

fn recorded(cap: &Capture) -> Provenance {
    let s = |k: &str| {
        cap.source
            .get(k)
            .and_then(|v| v.as_str())
            .map(str::to_string)
    };
    Provenance {
        source: "recorded".into(),
        implementation: s("impl"),
        version: s("version"),
        scenario: Some(cap.scenario.clone()),
    }
}

fn capture(cap: &Capture, out: &mut Out) -> anyhow::Result<()> {
    let prov = recorded(cap);
    let scenario = &cap.scenario;
    let mut encoded_types = std::collections::BTreeSet::new();
    for ci in 0..cap.channels.len() {
        let frames = cap.channel_frames(ci)?;
        if frames
            .first()
            .is_some_and(|f| matches!(f.body.first(), Some(0x90..=0x9f)))
        {
            legacy_channel(cap, ci, &frames, &prov, out)?;
            continue;
        }
        let ch = &cap.channels[ci];
        let name = |e: End| {
            let uuid = if e == End::A { &ch.a } else { &ch.b };
            cap.actor_name(uuid).unwrap_or("?").to_string()
        };
        for (fi, f) in frames.iter().enumerate() {
            let msg = Msg::decode(&f.body)
                .map_err(|e| anyhow::anyhow!("{scenario} ch{ci} frame {fi}: {e}"))?;
            let t = msg.msg_type();
            let who = format!("{} -> {}", name(f.from), name(f.from.peer()));
            out.push(
                "decode-recorded.json",
                Case {
                    id: format!("decode/recorded/{scenario}/ch{ci}/{fi}"),
                    title: format!("{t} frame {fi} of channel {ci} ({who}) round-trips"),
                    level: Level::Required,
                    section: spec_anchor(t),
                    features: vec![],
                    provenance: prov.clone(),
                    body: CaseBody::Decode {
                        bytes_b64: f.body.clone(),
                        expect: DecodeExpect {
                            msg_type: Some(t.to_string()),
                            ..Default::default()
                        },
                    },
                },
            );
            // One encode case per message type and scenario, and synthetic
            // decode cases from the first frame of each type.
            if cap.scenario != "payload_ext_types"
                && f.body.len() <= 4096
                && encoded_types.insert(t)
            {
                let value = rmpv::decode::read_value(&mut &f.body[..])?;
                out.push(
                    "encode.json",
                    encode_case(
                        format!("encode/recorded/{scenario}/{t}"),
                        format!("{t} (as in {scenario} ch{ci} frame {fi}) encodes exactly"),
                        &value,
                        &f.body,
                        prov.clone(),
                    ),
                );
                synthetic(&format!("{scenario}/{t}"), &value, t, &prov, out);
            }
        }
        out.push(
            "dialog.json",
            Case {
                id: format!("dialog/recorded/{scenario}/ch{ci}"),
                title: format!(
                    "channel {ci} of {scenario} ({} -> {}) follows the dialog rules",
                    name(End::A),
                    name(End::B)
                ),
                level: Level::Required,
                section: "PROTOCOL.md#dialogs".into(),
                features: vec![],
                provenance: prov.clone(),
                body: CaseBody::Dialog {
                    frames: frames
                        .iter()
                        .map(|f| DialogFrame {
                            from: if f.from == End::A { "a" } else { "b" }.into(),
                            bytes_b64: f.body.clone(),
                        })
                        .collect(),
                    expect: DialogExpect {
                        accepted: true,
                        ..Default::default()
                    },
                },
            },
        );
    }
    if let Some(frames) = cap
        .channel_frames(0)
        .ok()
        .filter(|f| f.iter().map(|x| x.body.len()).sum::<usize>() < 64 * 1024)
    {
        if !frames
            .first()
            .is_some_and(|f| matches!(f.body.first(), Some(0x90..=0x9f)))
        {
            mutations(scenario, &frames, &prov, out);
        }
    }
    capture_verdicts(cap, &prov, out)
}

/// Decode cases for one channel of the dict dialect.
fn legacy_channel(
    cap: &Capture,
    ci: usize,
    frames: &[crate::capture::DecodedFrame],
    prov: &Provenance,
    out: &mut Out,
) -> anyhow::Result<()> {
    for (fi, f) in frames.iter().enumerate() {
        let msg = shuttle::legacy::LegacyMsg::decode(&f.body)
            .map_err(|e| anyhow::anyhow!("{} ch{ci} frame {fi}: {e}", cap.scenario))?;
        out.push(
            "legacy-dict.json",
            Case {
                id: format!("decode/legacy-dict/{}/ch{ci}/{fi}", cap.scenario),
                title: format!(
                    "dict-dialect `{}` frame {fi} of channel {ci} round-trips",
                    msg.kind()
                ),
                level: Level::Recommended,
                section: "PROTOCOL.md#legacy-dict-dialect".into(),
                features: vec![crate::protocol::Feature::LegacyDict],
                provenance: prov.clone(),
                body: CaseBody::Decode {
                    bytes_b64: f.body.clone(),
                    expect: DecodeExpect {
                        msg_type: Some(msg.kind().to_string()),
                        ..Default::default()
                    },
                },
            },
        );
    }
    Ok(())
}

/// One mutated channel: its name, what was done, the frames.
type Mutation = (String, String, Vec<(End, Vec<u8>)>);

/// Systematic mutations of a recorded channel, each judged by the
/// reference dialog machine.
fn mutations(
    scenario: &str,
    frames: &[crate::capture::DecodedFrame],
    recorded: &Provenance,
    out: &mut Out,
) {
    let base: Vec<(End, Vec<u8>)> = frames.iter().map(|f| (f.from, f.body.clone())).collect();
    let types: Vec<Option<MsgType>> = base
        .iter()
        .map(|(_, b)| Msg::decode(b).ok().map(|m| m.msg_type()))
        .collect();
    let first = |t: MsgType| types.iter().position(|x| *x == Some(t));
    let mut muts: Vec<Mutation> = Vec::new();
    for t in [
        MsgType::StartAck,
        MsgType::Started,
        MsgType::Stop,
        MsgType::Return,
        MsgType::CancelAck,
        MsgType::Yield,
    ] {
        if let Some(i) = first(t) {
            let mut m = base.clone();
            m.insert(i + 1, m[i].clone());
            muts.push((
                format!("repeat-first-{t}"),
                format!("the first {t} sent twice"),
                m,
            ));
            let mut m = base.clone();
            m.remove(i);
            muts.push((
                format!("drop-first-{t}"),
                format!("the first {t} dropped"),
                m,
            ));
        }
    }
    if let Some(i) = first(MsgType::Start) {
        let mut m = base.clone();
        m[i].0 = m[i].0.peer();
        muts.push((
            "flip-first-Start".into(),
            "the first Start sent by the other end".into(),
            m,
        ));
    }
    if let Some(i) = first(MsgType::Yield) {
        if let Ok(Msg::Yield(mut y)) = Msg::decode(&base[i].1) {
            y.cid = "00000000-0000-4000-8000-000000000000".into();
            let mut m = base.clone();
            m[i].1 = Msg::Yield(y).to_vec().unwrap_or_default();
            muts.push((
                "relabel-first-Yield".into(),
                "the first Yield on an unknown cid".into(),
                m,
            ));
        }
    }
    if let Some(i) = first(MsgType::StartAck) {
        if let Ok(Msg::StartAck(mut a)) = Msg::decode(&base[i].1) {
            a.functype = match a.functype {
                shuttle::Functype::Context => shuttle::Functype::AsyncFunc,
                _ => shuttle::Functype::Context,
            };
            let mut m = base.clone();
            m[i].1 = Msg::from(a).to_vec().unwrap_or_default();
            muts.push((
                "functype-first-StartAck".into(),
                "the first StartAck announcing another endpoint kind".into(),
                m,
            ));
        }
    }
    let prov = Provenance {
        source: "synthetic".into(),
        scenario: recorded.scenario.clone(),
        ..Default::default()
    };
    for (name, what, m) in muts {
        let input: Vec<(End, &[u8])> = m.iter().map(|(e, b)| (*e, b.as_slice())).collect();
        let report = shuttle::dialog::check_channel(&input, false);
        let expect = match report.violations.first() {
            None => DialogExpect {
                accepted: true,
                ..Default::default()
            },
            Some(v) => DialogExpect {
                accepted: false,
                frame: Some(v.frame.unwrap_or(m.len())),
                code: Some(v.code.as_str().to_string()),
            },
        };
        let verdict = match &expect.code {
            Some(code) => format!("rejected ({code})"),
            None => "still legal".to_string(),
        };
        out.push(
            "dialog-mutated.json",
            Case {
                id: format!("dialog/mutated/{scenario}/ch0/{name}"),
                title: format!("channel 0 of {scenario} with {what}: {verdict}"),
                level: Level::Required,
                section: "PROTOCOL.md#dialogs".into(),
                features: vec![],
                provenance: prov.clone(),
                body: CaseBody::Dialog {
                    frames: m
                        .iter()
                        .map(|(e, b)| DialogFrame {
                            from: if *e == End::A { "a" } else { "b" }.into(),
                            bytes_b64: b.clone(),
                        })
                        .collect(),
                    expect,
                },
            },
        );
    }
}

/// Payload cases from the verdicts a typed capture recorded.
fn capture_verdicts(cap: &Capture, prov: &Provenance, out: &mut Out) -> anyhow::Result<()> {
    let Some(serde_json::Value::Array(verdicts)) = &cap.pld_verdicts else {
        return Ok(());
    };
    for v in verdicts {
        let ci = v["channel"].as_u64().unwrap_or(0) as usize;
        let fi = v["frame"].as_u64().unwrap_or(0) as usize;
        let frames = cap.channel_frames(ci)?;
        let Some(frame) = frames.get(fi) else {
            continue;
        };
        let Ok(msg) = Msg::decode(&frame.body) else {
            continue;
        };
        let cid = msg.cid().unwrap_or("").to_string();
        // The dialog's endpoint, from its Start on the same channel.
        let endpoint = frames.iter().find_map(|f| match Msg::decode(&f.body) {
            Ok(Msg::Start(s)) if s.cid == cid => Some((s.ns.to_string(), s.func.to_string())),
            _ => None,
        });
        let Some((ns, func)) = endpoint else { continue };
        let Some(spec) = cap
            .pld_specs
            .iter()
            .find(|s| s["ns"] == ns.as_str() && s["func"] == func.as_str())
        else {
            continue;
        };
        let pld = match &msg {
            Msg::Started(m) => m.pld.as_bytes().to_vec(),
            Msg::Yield(m) => m.pld.as_bytes().to_vec(),
            Msg::Return(m) => m.pld.as_bytes().to_vec(),
            _ => continue,
        };
        let ok = v["ok"].as_bool().unwrap_or(true);
        out.push(
            "payload.json",
            Case {
                id: format!("payload/recorded/{}/ch{ci}/{fi}", cap.scenario),
                title: format!(
                    "{} payload of {ns}.{func} (spec `{}`) as tractor judged it",
                    msg.msg_type(),
                    spec["spec"].as_str().unwrap_or("")
                ),
                level: Level::Required,
                section: "PROTOCOL.md#payload-limiting".into(),
                features: vec![],
                provenance: prov.clone(),
                body: CaseBody::Payload {
                    spec: spec["spec"].as_str().unwrap_or("Any").to_string(),
                    structs: spec
                        .get("structs")
                        .cloned()
                        .unwrap_or(serde_json::json!({})),
                    payload_b64: pld,
                    expect: PayloadExpect {
                        ok,
                        error_class: (!ok).then(|| "ValidationError".to_string()),
                        error_text: v["error"].as_str().map(str::to_string),
                    },
                },
            },
        );
    }
    Ok(())
}

/// The default of a field that has one (`None` for required fields), as
/// the message crate's table gives it (through the `default` of each
/// property in its JSON Schemas).
pub fn default_of(t: MsgType, key: &str) -> Option<Value> {
    static DEFAULTS: std::sync::OnceLock<std::collections::BTreeMap<(MsgType, String), Value>> =
        std::sync::OnceLock::new();
    let defaults = DEFAULTS.get_or_init(|| {
        let mut all = std::collections::BTreeMap::new();
        for (name, schema) in shuttle::schema::schemas() {
            let Some(t) = MsgType::from_wire(name.as_bytes()) else {
                continue;
            };
            let props = schema
                .as_value()
                .get("properties")
                .and_then(|p| p.as_object());
            for (k, prop) in props.into_iter().flatten() {
                if let Some(d) = prop.get("default") {
                    // A JSON value always converts.
                    let v = rmpv::ext::to_value(d).unwrap_or(Value::Nil);
                    all.insert((t, k.clone()), v);
                }
            }
        }
        all
    });
    defaults.get(&(t, key.to_string())).cloned()
}

/// Whether a field's value equals its default (so it may be omitted).
pub fn is_default(t: MsgType, key: &str, v: &Value) -> bool {
    default_of(t, key).as_ref() == Some(v)
}

fn to_bytes(v: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    write::value(&mut out, v);
    out
}

/// An encode case: the message's entries reversed (tag last), defaulted
/// fields dropped.
fn encode_case(id: String, title: String, value: &Value, expect: &[u8], prov: Provenance) -> Case {
    let msg_type = MsgType::from_wire(
        value
            .as_map()
            .and_then(|m| m.first())
            .and_then(|(_, v)| v.as_str())
            .unwrap_or("")
            .as_bytes(),
    );
    let mut entries: Vec<(Value, Value)> = value.as_map().cloned().unwrap_or_default();
    entries.reverse();
    if let Some(t) = msg_type {
        entries.retain(|(k, v)| !is_default(t, k.as_str().unwrap_or(""), v));
    }
    Case {
        id,
        title,
        level: Level::Required,
        section: "PROTOCOL.md#encoding".into(),
        features: vec![],
        provenance: prov,
        body: CaseBody::Encode {
            message_b64: to_bytes(&Value::Map(entries)),
            expect_b64: expect.to_vec(),
        },
    }
}

/// Decode cases derived from one real frame: lenient forms that must be
/// accepted (and re-encoded canonically), and broken ones that must be
/// rejected.
fn synthetic(base: &str, value: &Value, t: MsgType, recorded: &Provenance, out: &mut Out) {
    let canonical = to_bytes(value);
    let entries = value.as_map().cloned().unwrap_or_default();
    let prov = Provenance {
        source: "synthetic".into(),
        scenario: recorded.scenario.clone(),
        ..Default::default()
    };
    let mut accept = |name: &str, title: String, level: Level, m: Vec<(Value, Value)>| {
        out.push(
            "decode-synthetic.json",
            Case {
                id: format!("decode/lenient/{base}/{name}"),
                title,
                level,
                section: "PROTOCOL.md#decoding".into(),
                features: vec![],
                provenance: prov.clone(),
                body: CaseBody::Decode {
                    bytes_b64: to_bytes(&Value::Map(m)),
                    expect: DecodeExpect {
                        msg_type: Some(t.to_string()),
                        canonical_b64: Some(canonical.clone()),
                        ..Default::default()
                    },
                },
            },
        );
    };
    let mut reversed = entries.clone();
    reversed.reverse();
    accept(
        "tag-last",
        format!("{t} with its keys reversed (tag last) is accepted"),
        Level::Required,
        reversed,
    );
    let mut extra = entries.clone();
    extra.insert(
        1,
        (
            Value::from("x_future_field"),
            Value::Array(vec![Value::from(1), Value::from("two")]),
        ),
    );
    accept(
        "unknown-key",
        format!("{t} with an unknown key is accepted and the key ignored"),
        Level::Required,
        extra,
    );
    let defaults: Vec<(Value, Value)> = entries
        .iter()
        .filter(|(k, v)| !is_default(t, k.as_str().unwrap_or(""), v))
        .cloned()
        .collect();
    if defaults.len() != entries.len() {
        accept(
            "defaults-omitted",
            format!("{t} without its defaulted fields is accepted, defaults filled in"),
            Level::Required,
            defaults,
        );
    }
    // Non-minimal header for the tag value: str8 instead of fixstr.
    let mut wide = Vec::new();
    write::map_len(&mut wide, entries.len() as u32);
    for (i, (k, v)) in entries.iter().enumerate() {
        write::value(&mut wide, k);
        if i == 0 {
            let s = v.as_str().unwrap_or("");
            wide.push(0xd9);
            wide.push(s.len() as u8);
            wide.extend_from_slice(s.as_bytes());
        } else {
            write::value(&mut wide, v);
        }
    }
    out.push(
        "decode-synthetic.json",
        Case {
            id: format!("decode/lenient/{base}/str8-tag"),
            title: format!("{t} whose tag is written as a str8 is accepted"),
            level: Level::Recommended,
            section: "PROTOCOL.md#decoding".into(),
            features: vec![],
            provenance: prov.clone(),
            body: CaseBody::Decode {
                bytes_b64: wide,
                expect: DecodeExpect {
                    msg_type: Some(t.to_string()),
                    canonical_b64: Some(canonical.clone()),
                    ..Default::default()
                },
            },
        },
    );
    // Every field with a value of the wrong type: a float and a bin are
    // wrong for every envelope field (a raw payload excepted).
    for (i, (k, _)) in entries.iter().enumerate().skip(1) {
        let key = k.as_str().unwrap_or("");
        if key == "pld" && t.is_payload() {
            continue;
        }
        for (wname, wrong) in [
            ("float", Value::F64(1.5)),
            ("bin", Value::Binary(vec![0x01])),
        ] {
            let mut m = entries.clone();
            m[i].1 = wrong;
            let bytes = to_bytes(&Value::Map(m));
            let err = Msg::decode(&bytes).err();
            reject(
                out,
                &prov,
                format!("decode/strict/{base}/{key}-{wname}"),
                format!("{t} with a {wname} for `{key}` is rejected"),
                bytes,
                err,
            );
        }
        let mut m = entries.clone();
        m.remove(i);
        if default_of(t, key).is_none() {
            let bytes = to_bytes(&Value::Map(m));
            let err = Msg::decode(&bytes).err();
            reject(
                out,
                &prov,
                format!("decode/strict/{base}/{key}-missing"),
                format!("{t} without its required field `{key}` is rejected"),
                bytes,
                err,
            );
        }
    }
    let mut unknown = entries.clone();
    unknown[0].1 = Value::from(format!("{t}X"));
    let bytes = to_bytes(&Value::Map(unknown));
    let err = Msg::decode(&bytes).err();
    reject(
        out,
        &prov,
        format!("decode/strict/{base}/unknown-tag"),
        format!("{t} with its tag misspelt is rejected"),
        bytes,
        err,
    );
    let mut truncated = canonical.clone();
    truncated.truncate(canonical.len() / 2);
    let err = Msg::decode(&truncated).err();
    reject(
        out,
        &prov,
        format!("decode/strict/{base}/truncated"),
        format!("{t} cut in half is rejected as malformed"),
        truncated,
        err,
    );
}

fn reject(
    out: &mut Out,
    prov: &Provenance,
    id: String,
    title: String,
    bytes: Vec<u8>,
    err: Option<shuttle::DecodeError>,
) {
    let Some(err) = err else { return };
    out.push(
        "decode-synthetic.json",
        Case {
            id,
            title,
            level: Level::Required,
            section: "PROTOCOL.md#decoding".into(),
            features: vec![],
            provenance: prov.clone(),
            body: CaseBody::Decode {
                bytes_b64: bytes,
                expect: DecodeExpect {
                    error_class: Some(
                        if err.is_malformed() {
                            "DecodeError"
                        } else {
                            "ValidationError"
                        }
                        .into(),
                    ),
                    error_text: Some(err.msgspec_text()),
                    ..Default::default()
                },
            },
        },
    );
}

/// The golden vectors: `### Name (N bytes)`, a JSON line, a hex line.
fn golden(text: &str, out: &mut Out) -> anyhow::Result<()> {
    let prov = Provenance {
        source: "msgspec".into(),
        implementation: Some("python-tractor".into()),
        version: Some("0.1.0a6dev0".into()),
        scenario: Some("golden_vectors.txt".into()),
    };
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    for (n, chunk) in lines.chunks(3).enumerate() {
        let [head, _json, hexed] = chunk else {
            continue;
        };
        let name = head
            .trim_start_matches("### ")
            .split(' ')
            .next()
            .unwrap_or("?");
        let bytes: Vec<u8> = (0..hexed.trim().len() / 2)
            .map(|i| u8::from_str_radix(&hexed.trim()[2 * i..2 * i + 2], 16))
            .collect::<Result<_, _>>()?;
        let t = Msg::decode(&bytes)
            .map_err(|e| anyhow::anyhow!("golden {name}: {e}"))?
            .msg_type();
        out.push(
            "decode-recorded.json",
            Case {
                id: format!("decode/golden/{n:02}-{name}"),
                title: format!("golden {name} ({} bytes) round-trips", bytes.len()),
                level: Level::Required,
                section: spec_anchor(t),
                features: vec![],
                provenance: prov.clone(),
                body: CaseBody::Decode {
                    bytes_b64: bytes.clone(),
                    expect: DecodeExpect {
                        msg_type: Some(t.to_string()),
                        ..Default::default()
                    },
                },
            },
        );
        let value = rmpv::decode::read_value(&mut &bytes[..])?;
        out.push(
            "encode.json",
            encode_case(
                format!("encode/golden/{n:02}-{name}"),
                format!("golden {name} encodes exactly"),
                &value,
                &bytes,
                prov.clone(),
            ),
        );
    }
    Ok(())
}

/// Payload cases from a pld-vectors/1 document.
fn vectors(doc: &serde_json::Value, file: &str, out: &mut Out) -> anyhow::Result<()> {
    let src = &doc["source"];
    let prov = Provenance {
        source: "msgspec".into(),
        implementation: src["impl"].as_str().map(str::to_string),
        version: src["version"].as_str().map(str::to_string),
        scenario: Some(file.to_string()),
    };
    for c in doc["cases"].as_array().into_iter().flatten() {
        let id = c["id"].as_str().unwrap_or("?");
        let payload = base64::engine::general_purpose::STANDARD
            .decode(c["payload_b64"].as_str().unwrap_or(""))
            .map_err(|e| anyhow::anyhow!("{file} {id}: {e}"))?;
        let ok = c["ok"].as_bool().unwrap_or(false);
        out.push(
            "payload.json",
            Case {
                id: format!("payload/{}/{id}", c["group"].as_str().unwrap_or("misc")),
                title: format!(
                    "payload {} against `{}`: {}",
                    b64(&payload).chars().take(24).collect::<String>(),
                    c["spec"].as_str().unwrap_or(""),
                    if ok {
                        "accepted".to_string()
                    } else {
                        format!("rejected ({})", c["error_type"].as_str().unwrap_or(""))
                    }
                ),
                level: Level::Required,
                section: "PROTOCOL.md#payload-limiting".into(),
                features: vec![],
                provenance: prov.clone(),
                body: CaseBody::Payload {
                    spec: c["spec"].as_str().unwrap_or("").to_string(),
                    structs: c.get("structs").cloned().unwrap_or(serde_json::json!({})),
                    payload_b64: payload,
                    expect: PayloadExpect {
                        ok,
                        error_class: c["error_type"].as_str().map(str::to_string),
                        error_text: c["error"].as_str().map(str::to_string),
                    },
                },
            },
        );
    }
    Ok(())
}

#[cfg(test)]
mod default_tests {
    use super::*;

    #[test]
    fn defaults_come_from_the_message_table() {
        assert_eq!(
            default_of(MsgType::Aid, "is_probe"),
            Some(Value::Boolean(false))
        );
        assert_eq!(default_of(MsgType::Aid, "pid"), Some(Value::Nil));
        assert_eq!(
            default_of(MsgType::Start, "pld_spec"),
            Some(Value::from("typing.Any"))
        );
        assert_eq!(default_of(MsgType::Error, "tb_str"), Some(Value::from("")));
        assert_eq!(
            default_of(MsgType::Error, "_bad_msg_as_dict"),
            Some(Value::Nil)
        );
        // Required fields have none.
        assert_eq!(default_of(MsgType::Start, "cid"), None);
        assert_eq!(default_of(MsgType::Aid, "name"), None);
    }
}
