//! `shuttle check`: decode every frame of captures and wire streams,
//! re-encode it and compare the bytes.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use shuttle::msgpack::write;
use shuttle::Msg;
use shuttle_conformance::capture::{Capture, End};

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
    /// Report the quirks of real tractor dialogs (`spec/quirks.md`: frames
    /// that cross, races inside tractor such as `yield-after-stop` and
    /// `duplicate-stop`) as problems, not only the violations of the
    /// dialog rules.
    #[arg(long)]
    strict: bool,
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
    Fail(Problems),
    /// Not something `check` reads (an index, another format): why.
    Ignored(String),
}

/// Problems found in one file: the first [`Problems::SHOWN`] kept
/// verbatim, the rest only counted, so that memory does not grow with a
/// file full of problems.
#[derive(Debug, Default)]
struct Problems {
    shown: Vec<String>,
    total: usize,
    /// Why the file was not read to its end, if it was not.
    stopped: Option<String>,
}

impl Problems {
    /// Problems kept verbatim per file.
    const SHOWN: usize = 20;
    /// A `.wire` stream is abandoned after this many problems (a file of
    /// garbage would otherwise be read to its end, frame by frame).
    const GIVE_UP: usize = 1000;

    fn push(&mut self, p: impl Into<String>) {
        self.total += 1;
        if self.shown.len() < Self::SHOWN {
            self.shown.push(p.into());
        }
    }

    fn one(p: impl Into<String>) -> Problems {
        let mut ps = Problems::default();
        ps.push(p);
        ps
    }

    fn is_empty(&self) -> bool {
        self.total == 0
    }
}

/// Largest `.json` file read (it is read whole; a capture's frames are
/// inside it). `.wire` streams are read frame by frame, whatever their size.
const MAX_JSON_FILE: u64 = 256 << 20;

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
                crate::outln!("FAIL  {}  {} problem(s)", path.display(), problems.total);
                for p in &problems.shown {
                    crate::outln!("      {p}");
                }
                if problems.total > problems.shown.len() {
                    crate::outln!(
                        "      ... and {} more",
                        problems.total - problems.shown.len()
                    );
                }
                if let Some(why) = &problems.stopped {
                    crate::outln!("      {why}");
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
            "nothing checked: none of the {} file(s) is a tractor-capture capture, a \
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
    // Only regular files are read: a FIFO or a device would block or
    // never end.
    match std::fs::metadata(path) {
        Ok(m) if m.is_file() => {}
        Ok(m) => {
            let what = file_kind(&m);
            return if args.paths.iter().any(|p| p == path) {
                Outcome::Fail(Problems::one(format!(
                    "not a regular file ({what}): check reads files and folders only"
                )))
            } else {
                Outcome::Ignored(format!("not a regular file ({what})"))
            };
        }
        Err(e) => return Outcome::Fail(Problems::one(format!("cannot read: {e}"))),
    }
    match ext {
        "wire" if args.only.is_some_and(|o| o != Only::Codec) => {
            Outcome::Ignored("a .wire stream has only the codec check".into())
        }
        "wire" => match std::fs::File::open(path) {
            Ok(file) => check_wire(file, args.verbose, log),
            Err(e) => Outcome::Fail(Problems::one(format!("cannot read: {e}"))),
        },
        "json" => {
            let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
            if size > MAX_JSON_FILE {
                return Outcome::Fail(Problems::one(format!(
                    "{size} bytes: over the {} MiB read for a .json file (a capture's frames are inside it; stream a large recording as .wire instead)",
                    MAX_JSON_FILE >> 20
                )));
            }
            let text = match std::fs::read_to_string(path) {
                Ok(t) => t,
                Err(e) => return Outcome::Fail(Problems::one(format!("cannot read: {e}"))),
            };
            let head: serde_json::Value = match serde_json::from_str(&text) {
                Ok(v) => v,
                Err(e) => return Outcome::Fail(Problems::one(format!("not JSON: {e}"))),
            };
            match head.get("format").and_then(|f| f.as_str()) {
                Some(f)
                    if shuttle_conformance::capture::is_format(f)
                        && head.get("channels").is_some() =>
                {
                    match Capture::from_json(&text) {
                        Ok(cap) => check_capture(&cap, args, log),
                        Err(e) => Outcome::Fail(Problems::one(e.to_string())),
                    }
                }
                Some(shuttle_conformance::vectors::FORMAT)
                    if args.only.is_none_or(|o| o == Only::Payload) =>
                {
                    check_vectors(&text, args.verbose, log)
                }
                Some(shuttle_conformance::vectors::FORMAT) => {
                    Outcome::Ignored("a pld-vectors/1 file has only the payload check".into())
                }
                Some(f) if shuttle_conformance::capture::is_format(f) => {
                    Outcome::Ignored(format!("says format {f:?} but has no \"channels\""))
                }
                Some(other) => Outcome::Ignored(format!(
                    "JSON of format {other:?}, not {:?} or {:?}",
                    shuttle_conformance::capture::FORMAT,
                    shuttle_conformance::vectors::FORMAT
                )),
                None => Outcome::Ignored(format!(
                    "JSON without a \"format\" field, not a {:?} capture or {:?} file",
                    shuttle_conformance::capture::FORMAT,
                    shuttle_conformance::vectors::FORMAT
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
            let raw = shuttle::Raw::from_slice(body).map_err(|e| e.to_string())?;
            let v = raw.to_value().map_err(|e| e.to_string())?;
            let mut out = Vec::new();
            write::value(&mut out, &v);
            let what = match v.as_rmpv() {
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
    let mut problems = Problems::default();
    let mut frames = 0;
    let mut dialogs_checked = 0;
    let mut truncated = 0;
    let mut dialects = std::collections::BTreeSet::new();
    for (ci, ch) in cap.channels.iter().enumerate() {
        let decoded = match cap.channel_frames(ci) {
            Ok(d) => d,
            Err(e) => {
                problems.push(e.to_string());
                continue;
            }
        };
        // Frames in a capture obey the wire's frame limit.
        let max = shuttle::frame::DEFAULT_MAX_FRAME;
        for (fi, f) in decoded.iter().enumerate() {
            if f.body.len() > max {
                problems.push(format!(
                    "ch{ci} frame {fi}: {} bytes, over the frame limit of {} bytes",
                    f.body.len(),
                    max
                ));
            }
        }
        let dialect = Dialect::detect(decoded.first().map(|f| f.body.as_slice()));
        dialects.insert(format!("{dialect:?}").to_lowercase());
        if run(Only::Dialog) {
            dialogs_checked += 1;
            let (violations, cut) = dialog_violations(&decoded, dialect, args.strict);
            for v in violations {
                problems.push(format!("ch{ci} {v}"));
            }
            if let Some(cut) = cut {
                truncated += 1;
                if verbose {
                    let _ = writeln!(log, "      ch{ci} truncated: {cut}");
                }
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
    // Without recorded verdicts (a capture made by `shuttle record
    // --pld-specs`) the specs are applied and the rejections counted:
    // there is nothing to compare them with.
    let mut applied_only: Option<(usize, usize)> = None;
    if run(Only::Payload) && !cap.pld_specs.is_empty() {
        match shuttle_conformance::capture::check_capture(cap) {
            Ok(checks) if cap.pld_verdicts.is_none() => {
                let rejected = checks
                    .iter()
                    .filter(|c| {
                        c.got
                            .as_ref()
                            .is_some_and(|v| v.get("ok") == Some(&serde_json::Value::Bool(false)))
                    })
                    .count();
                applied_only = Some((checks.len(), rejected));
            }
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
            checks.push(match truncated {
                0 => format!("{dialogs_checked} channels follow the dialog rules"),
                n => format!(
                    "{dialogs_checked} channels follow the dialog rules ({n} cut off in the handshake)"
                ),
            });
        }
        if payloads_checked > 0 {
            checks.push(format!("{payloads_checked} payload verdicts agree"));
        }
        if let Some((n, rejected)) = applied_only {
            checks.push(format!(
                "payload specs applied to {n} payloads, {rejected} rejected (no recorded verdicts to compare)"
            ));
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

/// Checks a `.wire` stream frame by frame as it is read: memory is bounded
/// by the largest frame (at most the frame limit), not by the file.
fn check_wire(file: std::fs::File, verbose: bool, log: &mut String) -> Outcome {
    use std::io::Read as _;
    // A stream holds one direction of a channel: only the codec applies.
    let max = shuttle::frame::DEFAULT_MAX_FRAME;
    let mut r = std::io::BufReader::with_capacity(1 << 16, file);
    let mut problems = Problems::default();
    let mut dialect = None;
    let mut body = Vec::new();
    let mut n = 0usize;
    for i in 0usize.. {
        if problems.total >= Problems::GIVE_UP {
            problems.stopped = Some(format!(
                "stopped after {} problems, at frame {i}; the rest of the stream was not read",
                Problems::GIVE_UP
            ));
            break;
        }
        let mut prefix = [0u8; 4];
        let got = match read_up_to(&mut r, &mut prefix) {
            Ok(got) => got,
            Err(e) => {
                problems.push(format!("frame {i}: read failed: {e}"));
                break;
            }
        };
        match got {
            0 => break,
            4 => {}
            got => {
                problems.push(format!(
                    "frame {i}: the stream ends inside a length prefix ({got} of 4 bytes)"
                ));
                break;
            }
        }
        let len = u32::from_le_bytes(prefix) as usize;
        if len > max {
            // Nothing after it can be framed: stop here.
            problems.push(format!(
                "frame {i}: the length prefix announces {len} bytes, over the frame limit of {max} bytes"
            ));
            break;
        }
        body.clear();
        match (&mut r).take(len as u64).read_to_end(&mut body) {
            Ok(got) if got == len => {}
            Ok(got) => {
                problems.push(format!(
                    "frame {i}: the stream ends inside the body ({got} of {len} bytes)"
                ));
                break;
            }
            Err(e) => {
                problems.push(format!("frame {i}: read failed: {e}"));
                break;
            }
        }
        n += 1;
        let d = *dialect.get_or_insert_with(|| Dialect::detect(Some(&body)));
        match round_trip(&body, d) {
            Ok(what) => {
                if verbose {
                    let _ = writeln!(log, "      #{i:<4} {what} [{}B]", body.len());
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

/// Reads until `buf` is full or the stream ends; how many bytes came.
fn read_up_to(r: &mut impl std::io::Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match r.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(k) => got += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

/// What kind of file system object a non-regular file is.
fn file_kind(m: &std::fs::Metadata) -> &'static str {
    use std::os::unix::fs::FileTypeExt as _;
    let t = m.file_type();
    if t.is_fifo() {
        "a FIFO"
    } else if t.is_socket() {
        "a socket"
    } else if t.is_block_device() || t.is_char_device() {
        "a device"
    } else if t.is_dir() {
        "a folder"
    } else {
        "not a file"
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

/// Every file under the given paths (folders recursively, following
/// links to folders but never into a folder already walked, so that a link
/// loop ends), sorted.
fn collect_files(paths: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    use std::os::unix::fs::MetadataExt as _;
    let mut out = Vec::new();
    let mut walked = std::collections::HashSet::new();
    for p in paths {
        if p.is_dir() {
            let mut stack = vec![p.clone()];
            while let Some(dir) = stack.pop() {
                let meta = std::fs::metadata(&dir)
                    .map_err(|e| anyhow::anyhow!("{}: {e}", dir.display()))?;
                if !walked.insert((meta.dev(), meta.ino())) {
                    continue;
                }
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
        } else if p.symlink_metadata().is_ok() {
            out.push(p.clone());
        } else {
            anyhow::bail!("{}: no such file or folder", p.display());
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// The dialog rules over one channel: the violations (and, with `strict`,
/// the quirks) as lines, and how the channel was cut off, if it was. The
/// dict dialect is checked through its translation to the typed protocol.
fn dialog_violations(
    frames: &[shuttle_conformance::capture::DecodedFrame],
    dialect: Dialect,
    strict: bool,
) -> (Vec<String>, Option<String>) {
    use shuttle::dialog::check_channel;
    let report = match dialect {
        Dialect::Typed => {
            let input: Vec<(End, &[u8])> =
                frames.iter().map(|f| (f.from, f.body.as_slice())).collect();
            check_channel(&input, strict)
        }
        Dialect::Dict => {
            let translated = match shuttle::legacy::translate_channel(frames) {
                Ok(t) => t,
                Err((i, e)) => {
                    return (
                        vec![format!("frame {i}: not a message of the dict dialect: {e}")],
                        None,
                    )
                }
            };
            let typed: Vec<(End, Vec<u8>)> = translated
                .into_iter()
                .filter_map(|(from, t)| Some((from, t.msg?.to_vec().ok()?)))
                .collect();
            let input: Vec<(End, &[u8])> = typed.iter().map(|(e, b)| (*e, b.as_slice())).collect();
            check_channel(&input, strict)
        }
    };
    let quirks = report.warnings.iter().map(|w| format!("{w} (--strict)"));
    let lines = report
        .violations
        .iter()
        .map(|v| v.to_string())
        .chain(quirks)
        .collect();
    (lines, report.truncated.map(|t| t.to_string()))
}

/// Every case of a pld-vectors/1 file against msgspec's verdict and text.
fn check_vectors(text: &str, verbose: bool, log: &mut String) -> Outcome {
    use shuttle_conformance::vectors;
    let file = match vectors::VectorFile::from_json(text) {
        Ok(f) => f,
        Err(e) => return Outcome::Fail(Problems::one(e.to_string())),
    };
    let report = vectors::run(&file);
    if verbose {
        for o in report.cases.iter().chain(&report.invalid_specs) {
            let mark = if o.agrees { "agree" } else { "DIFF " };
            let _ = writeln!(log, "      {mark} {}  {}", o.id, o.got);
        }
    }
    let mut problems = Problems::default();
    for o in report.disagreements() {
        problems.push(format!(
            "{}: msgspec says {}; ours {}",
            o.id, o.expected, o.got
        ));
    }
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
