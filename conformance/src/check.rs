//! `shuttle check`: decode every frame of captures and wire streams,
//! re-encode it and compare the bytes.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use shuttle::capture::{Capture, End};
use shuttle::frame::FrameSplitter;
use shuttle::msgpack::{write, Reader};
use shuttle::Msg;

/// Arguments of `shuttle check`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Files or folders (searched recursively): `*.json` captures or vector
    /// files, `*.wire` streams. Other files are ignored.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Run only this check.
    #[arg(long, value_enum)]
    only: Option<Only>,
    /// Print every frame as it is decoded.
    #[arg(short, long)]
    verbose: bool,
}

/// The checks `shuttle check` can run.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Only {
    /// Byte-exact decode and re-encode of every frame.
    Codec,
    /// The dialog rules over every channel (the dict dialect through its
    /// translation to the typed protocol).
    Dialog,
    /// Payload specs: a typed capture's `pld_specs` applied to its payloads
    /// and compared with its `pld_verdicts`; every case of a pld-vectors/1
    /// file compared with msgspec's verdict and error text.
    Payload,
}

/// What one file turned out to be, and how it fared.
enum Outcome {
    Pass(String),
    Fail(Vec<String>),
    /// Not something `check` reads (an index, another format): why.
    Ignored(String),
}

/// Runs `shuttle check`: `Ok(false)` when a file has a problem; an error
/// (exit status 2) when nothing named could be checked at all.
pub fn run(args: &Args) -> anyhow::Result<bool> {
    let files = collect_files(&args.paths)?;
    let (mut passed, mut failed) = (0usize, 0usize);
    let mut ignored = Vec::new();
    for path in &files {
        let mut log = String::new();
        let outcome = check_file(path, args, &mut log);
        crate::out!("{log}");
        match outcome {
            Outcome::Pass(summary) => {
                passed += 1;
                crate::outln!("ok    {}  {summary}", path.display());
            }
            Outcome::Fail(problems) => {
                failed += 1;
                crate::outln!("FAIL  {}  {} problem(s)", path.display(), problems.len());
                for p in problems.iter().take(20) {
                    crate::outln!("      {p}");
                }
                if problems.len() > 20 {
                    crate::outln!("      ... and {} more", problems.len() - 20);
                }
            }
            Outcome::Ignored(why) => {
                // A file named on the command line is reported; files met in
                // a folder walk (indexes, READMEs) are skipped silently.
                if args.paths.contains(path) {
                    crate::outln!("skip  {}  {why}", path.display());
                }
                ignored.push((path, why));
            }
        }
    }
    if passed + failed == 0 {
        let shown: Vec<String> = ignored
            .iter()
            .take(5)
            .map(|(p, why)| format!("\n  {}: {why}", p.display()))
            .collect();
        anyhow::bail!(
            "nothing checked: none of the {} file(s) is a tractor-capture/1 capture, a \
             pld-vectors/1 file or a .wire stream{}{}{}",
            files.len(),
            args.only
                .map(|o| format!(" that --only {} reads", format!("{o:?}").to_lowercase()))
                .unwrap_or_default(),
            shown.concat(),
            if ignored.len() > 5 { "\n  ..." } else { "" }
        );
    }
    crate::outln!("{passed} passed, {failed} failed");
    Ok(failed == 0)
}

fn check_file(path: &Path, args: &Args, log: &mut String) -> Outcome {
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    match ext {
        "wire" if args.only.is_some_and(|o| o != Only::Codec) => {
            Outcome::Ignored("a .wire stream has only the codec check".into())
        }
        "wire" => match std::fs::read(path) {
            Ok(bytes) => check_wire(&bytes, args.verbose, log),
            Err(e) => Outcome::Fail(vec![format!("cannot read: {e}")]),
        },
        "json" => {
            let text = match std::fs::read_to_string(path) {
                Ok(t) => t,
                Err(e) => return Outcome::Fail(vec![format!("cannot read: {e}")]),
            };
            let head: serde_json::Value = match serde_json::from_str(&text) {
                Ok(v) => v,
                Err(e) => return Outcome::Fail(vec![format!("not JSON: {e}")]),
            };
            match head.get("format").and_then(|f| f.as_str()) {
                Some(shuttle::capture::FORMAT) if head.get("channels").is_some() => {
                    match Capture::from_json(&text) {
                        Ok(cap) => check_capture(&cap, args, log),
                        Err(e) => Outcome::Fail(vec![e.to_string()]),
                    }
                }
                Some(shuttle::pld_spec::vectors::FORMAT)
                    if args.only.is_none_or(|o| o == Only::Payload) =>
                {
                    check_vectors(&text, args.verbose, log)
                }
                Some(shuttle::pld_spec::vectors::FORMAT) => {
                    Outcome::Ignored("a pld-vectors/1 file has only the payload check".into())
                }
                Some(shuttle::capture::FORMAT) => Outcome::Ignored(format!(
                    "says format {:?} but has no \"channels\"",
                    shuttle::capture::FORMAT
                )),
                Some(other) => Outcome::Ignored(format!(
                    "JSON of format {other:?}, not {:?} or {:?}",
                    shuttle::capture::FORMAT,
                    shuttle::pld_spec::vectors::FORMAT
                )),
                None => Outcome::Ignored(format!(
                    "JSON without a \"format\" field, not a {:?} capture or {:?} file",
                    shuttle::capture::FORMAT,
                    shuttle::pld_spec::vectors::FORMAT
                )),
            }
        }
        _ => Outcome::Ignored("neither .json nor .wire".into()),
    }
}

/// How a channel's bodies are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Dialect {
    /// `msg_type`-tagged maps (tractor since 2025-03).
    Typed,
    /// Untagged dicts with a bare `[name, uuid]` handshake (tractor 0.1.0a5).
    Dict,
}

impl Dialect {
    /// The dict dialect opens with a bare `[name, uuid]` array.
    fn detect(first_body: Option<&[u8]>) -> Dialect {
        match first_body.and_then(|b| b.first()) {
            Some(0x90..=0x9f | 0xdc | 0xdd) => Dialect::Dict,
            _ => Dialect::Typed,
        }
    }
}

/// Decodes and re-encodes one body; returns a one-line description.
fn round_trip(body: &[u8], dialect: Dialect) -> Result<String, String> {
    let (again, what) = match dialect {
        Dialect::Typed => {
            let msg = Msg::decode(body).map_err(|e| e.to_string())?;
            let what = match msg.cid() {
                Some(cid) => format!("{} cid={}", msg.msg_type(), short(cid)),
                None => msg.msg_type().to_string(),
            };
            (msg.to_vec().map_err(|e| e.to_string())?, what)
        }
        Dialect::Dict => {
            // Untyped, as tractor 0.1.0a5 decodes it: any msgpack value,
            // re-encoded canonically.
            let mut r = Reader::new(body);
            shuttle::pld_spec::PldSpec::any_value(&mut r).map_err(|e| e.to_string())?;
            r.finish().map_err(|e| e.to_string())?;
            let v = rmpv::decode::read_value(&mut &body[..]).map_err(|e| e.to_string())?;
            let mut out = Vec::new();
            write::value(&mut out, &v);
            let what = match &v {
                rmpv::Value::Map(m) => m
                    .first()
                    .and_then(|(k, _)| k.as_str())
                    .unwrap_or("map")
                    .to_string(),
                rmpv::Value::Array(_) => "handshake".to_string(),
                rmpv::Value::Nil => "nil".to_string(),
                other => format!("{other}"),
            };
            (out, format!("dict {what}"))
        }
    };
    if again == body {
        Ok(what)
    } else {
        Err(format!(
            "{what}: re-encoding differs\n        in:  {}\n        out: {}",
            hex(body),
            hex(&again)
        ))
    }
}

fn check_capture(cap: &Capture, args: &Args, log: &mut String) -> Outcome {
    let verbose = args.verbose;
    let run = |c: Only| args.only.is_none_or(|o| o == c);
    let mut problems = Vec::new();
    let mut frames = 0;
    let mut dialogs_checked = 0;
    let mut dialects = std::collections::BTreeSet::new();
    for (ci, ch) in cap.channels.iter().enumerate() {
        let decoded = match cap.channel_frames(ci) {
            Ok(d) => d,
            Err(e) => {
                problems.push(e.to_string());
                continue;
            }
        };
        let dialect = Dialect::detect(decoded.first().map(|f| f.body.as_slice()));
        dialects.insert(format!("{dialect:?}").to_lowercase());
        if run(Only::Dialog) {
            dialogs_checked += 1;
            for v in dialog_violations(&decoded, dialect) {
                problems.push(format!("ch{ci} {v}"));
            }
        }
        if !run(Only::Codec) {
            frames += decoded.len();
            continue;
        }
        for (fi, f) in decoded.iter().enumerate() {
            frames += 1;
            let (from, to) = match f.from {
                End::A => (&ch.a, &ch.b),
                End::B => (&ch.b, &ch.a),
            };
            let name = |u: &str| cap.actor_name(u).unwrap_or("?").to_string();
            match round_trip(&f.body, dialect) {
                Ok(what) => {
                    if verbose {
                        let _ = writeln!(
                            log,
                            "      ch{ci} #{fi:<3} {} -> {}  {what} [{}B]",
                            name(from),
                            name(to),
                            f.body.len()
                        );
                    }
                }
                Err(e) => problems.push(format!("ch{ci} frame {fi}: {e}")),
            }
        }
    }
    let mut payloads_checked = 0;
    if run(Only::Payload) && !cap.pld_specs.is_empty() {
        match shuttle::pld_spec::check_capture(cap) {
            Ok(checks) => {
                for c in &checks {
                    payloads_checked += 1;
                    if !c.agrees() {
                        problems.push(format!(
                            "ch{} frame {}: payload verdict differs: recorded {}, ours {}",
                            c.channel,
                            c.frame,
                            c.expected.as_ref().map_or("none".into(), |v| v.to_string()),
                            c.got.as_ref().map_or("none".into(), |v| v.to_string()),
                        ));
                    }
                }
            }
            Err(e) => problems.push(format!("payload specs: {e}")),
        }
    }
    if problems.is_empty() {
        let mut checks = Vec::new();
        if run(Only::Codec) {
            checks.push("byte-identical".to_string());
        }
        if run(Only::Dialog) {
            checks.push(format!(
                "{dialogs_checked} channels follow the dialog rules"
            ));
        }
        if payloads_checked > 0 {
            checks.push(format!("{payloads_checked} payload verdicts agree"));
        }
        if checks.is_empty() {
            // `--only payload` on a capture without payload specs.
            return Outcome::Ignored("a capture without payload specs (pld_specs)".into());
        }
        Outcome::Pass(format!(
            "{} channels, {frames} frames, {} dialect: {}",
            cap.channels.len(),
            dialects.into_iter().collect::<Vec<_>>().join("+"),
            checks.join(", ")
        ))
    } else {
        Outcome::Fail(problems)
    }
}

fn check_wire(bytes: &[u8], verbose: bool, log: &mut String) -> Outcome {
    // A stream holds one direction of a channel: only the codec applies.
    let mut problems = Vec::new();
    let mut dialect = None;
    let mut n = 0;
    for (i, frame) in FrameSplitter::default().frames(bytes).enumerate() {
        match frame {
            Ok(body) => {
                n += 1;
                let d = *dialect.get_or_insert_with(|| Dialect::detect(Some(body)));
                match round_trip(body, d) {
                    Ok(what) => {
                        if verbose {
                            let _ = writeln!(log, "      #{i:<4} {what} [{}B]", body.len());
                        }
                    }
                    Err(e) => problems.push(format!("frame {i}: {e}")),
                }
            }
            Err(e) => problems.push(format!("frame {i}: {e}")),
        }
    }
    if problems.is_empty() {
        Outcome::Pass(format!("{n} frames: byte-identical"))
    } else {
        Outcome::Fail(problems)
    }
}

fn short(cid: &str) -> &str {
    cid.get(..8).unwrap_or(cid)
}

fn hex(b: &[u8]) -> String {
    let shown = &b[..b.len().min(96)];
    let mut s: String = shown.iter().map(|x| format!("{x:02x}")).collect();
    if b.len() > shown.len() {
        s.push_str("...");
    }
    s
}

/// Every file under the given paths (folders recursively), sorted.
fn collect_files(paths: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut stack = vec![p.clone()];
            while let Some(dir) = stack.pop() {
                for entry in std::fs::read_dir(&dir)
                    .map_err(|e| anyhow::anyhow!("{}: {e}", dir.display()))?
                {
                    let path = entry?.path();
                    if path.is_dir() {
                        stack.push(path);
                    } else {
                        out.push(path);
                    }
                }
            }
        } else if p.exists() {
            out.push(p.clone());
        } else {
            anyhow::bail!("{}: no such file or folder", p.display());
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// The dialog rules over one channel; the dict dialect is checked through
/// its translation to the typed protocol.
fn dialog_violations(frames: &[shuttle::capture::DecodedFrame], dialect: Dialect) -> Vec<String> {
    use shuttle::dialog::check_channel;
    let report = match dialect {
        Dialect::Typed => {
            let input: Vec<(End, &[u8])> =
                frames.iter().map(|f| (f.from, f.body.as_slice())).collect();
            check_channel(&input, false)
        }
        Dialect::Dict => {
            let translated = match shuttle::legacy::translate_channel(frames) {
                Ok(t) => t,
                Err((i, e)) => {
                    return vec![format!("frame {i}: not a message of the dict dialect: {e}")]
                }
            };
            let typed: Vec<(End, Vec<u8>)> = translated
                .into_iter()
                .filter_map(|(from, t)| Some((from, t.msg?.to_vec().ok()?)))
                .collect();
            let input: Vec<(End, &[u8])> = typed.iter().map(|(e, b)| (*e, b.as_slice())).collect();
            check_channel(&input, false)
        }
    };
    report.violations.iter().map(|v| v.to_string()).collect()
}

/// Every case of a pld-vectors/1 file against msgspec's verdict and text.
fn check_vectors(text: &str, verbose: bool, log: &mut String) -> Outcome {
    use shuttle::pld_spec::vectors;
    let file = match vectors::VectorFile::from_json(text) {
        Ok(f) => f,
        Err(e) => return Outcome::Fail(vec![e.to_string()]),
    };
    let report = vectors::run(&file);
    if verbose {
        for o in report.cases.iter().chain(&report.invalid_specs) {
            let mark = if o.agrees { "agree" } else { "DIFF " };
            let _ = writeln!(log, "      {mark} {}  {}", o.id, o.got);
        }
    }
    let problems: Vec<String> = report
        .disagreements()
        .map(|o| format!("{}: msgspec says {}; ours {}", o.id, o.expected, o.got))
        .collect();
    if problems.is_empty() {
        Outcome::Pass(format!(
            "{} cases and {} invalid specs: verdict and error text agree with msgspec",
            report.cases.len(),
            report.invalid_specs.len()
        ))
    } else {
        Outcome::Fail(problems)
    }
}
