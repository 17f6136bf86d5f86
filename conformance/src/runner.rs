//! Runs cases against a testee and judges the answers.

use std::time::{Duration, Instant};

use serde::Serialize;
use serde_bytes::ByteBuf;

use crate::case::{Case, CaseBody, Level};
use crate::protocol::{Answer, Encoded, Feature, Request, Response, Status};
use crate::testee::{Failure, Testee};

/// How a case fared.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(tag = "outcome", content = "detail", rename_all = "kebab-case")]
pub enum Outcome {
    /// The answer matched.
    Passed,
    /// The answer did not match; the text says how.
    Failed(String),
    /// The testee declined the request; the text is its reason.
    Skipped(String),
    /// The testee does not declare the features the case needs.
    NotApplicable(Vec<String>),
    /// The testee exited or wrote garbage.
    Crashed(String),
    /// The testee did not answer in time.
    TimedOut(String),
}

impl Outcome {
    /// True for a failure of any kind (wrong answer, crash, timeout).
    pub fn is_failure(&self) -> bool {
        matches!(
            self,
            Outcome::Failed(_) | Outcome::Crashed(_) | Outcome::TimedOut(_)
        )
    }

    /// The failure text, if any.
    pub fn failure_text(&self) -> Option<&str> {
        match self {
            Outcome::Failed(s) | Outcome::Crashed(s) | Outcome::TimedOut(s) => Some(s),
            _ => None,
        }
    }
}

/// One case's result, with what was exchanged.
#[derive(Clone, Debug, Serialize)]
pub struct CaseResult {
    /// The case id.
    pub id: String,
    /// Its title.
    pub title: String,
    /// Its level.
    pub level: Level,
    /// Its kind.
    pub kind: &'static str,
    /// The section of `spec/` it checks.
    pub section: String,
    /// How it fared.
    #[serde(flatten)]
    pub outcome: Outcome,
    /// Whether the expected-failures list names it.
    pub expected_failure: bool,
    /// Time the testee took.
    pub micros: u64,
    /// The request sent (for failures).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request: Option<Request>,
    /// The response received (for failures).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response: Option<Response>,
}

/// Runs one case.
pub fn run_case(testee: &mut dyn Testee, case: &Case, id: u64) -> CaseResult {
    let mut result = CaseResult {
        id: case.id.clone(),
        title: case.title.clone(),
        level: case.level,
        kind: case.body.kind(),
        section: case.section.clone(),
        outcome: Outcome::Passed,
        expected_failure: false,
        micros: 0,
        request: None,
        response: None,
    };
    let (have, _) = testee.hello().features();
    let codes = have.contains(&Feature::DialogCodes);
    let missing: Vec<String> = std::iter::once(case.body.feature())
        .chain(case.features.iter().copied())
        .filter(|f| !have.contains(f))
        .map(|f| f.as_str().to_string())
        .collect();
    if !missing.is_empty() {
        result.outcome = Outcome::NotApplicable(missing);
        return result;
    }
    let req = request_for(case, id);
    let started = Instant::now();
    let answer = testee.call(&req);
    result.micros = started.elapsed().as_micros() as u64;
    result.outcome = match &answer {
        Err(Failure::TimedOut(d)) => Outcome::TimedOut(format!("no answer within {d:?}")),
        Err(Failure::Crashed(text)) => Outcome::Crashed(text.clone()),
        Ok(Response {
            status: Status::Skipped { reason },
            ..
        }) => Outcome::Skipped(reason.clone()),
        Ok(resp) => judge(case, &resp.status, codes),
    };
    if result.outcome.is_failure() {
        result.request = Some(req);
        result.response = answer.ok();
    }
    result
}

/// The request a case sends.
pub fn request_for(case: &Case, id: u64) -> Request {
    match &case.body {
        CaseBody::Decode { bytes_b64, .. } => Request::Decode {
            id,
            bytes: ByteBuf::from(bytes_b64.clone()),
            dialect: case
                .features
                .contains(&Feature::LegacyDict)
                .then(|| "dict".to_string()),
        },
        CaseBody::Encode { message_b64, .. } => Request::Encode {
            id,
            message: rmpv::decode::read_value(&mut &message_b64[..]).unwrap_or(rmpv::Value::Nil),
        },
        CaseBody::Payload {
            spec,
            structs,
            payload_b64,
            ..
        } => Request::Validate {
            id,
            spec: spec.clone(),
            structs: json_to_value(structs),
            payload: ByteBuf::from(payload_b64.clone()),
        },
        CaseBody::Dialog { frames, .. } => Request::Dialog {
            id,
            frames: frames
                .iter()
                .map(|f| (f.from.clone(), ByteBuf::from(f.bytes_b64.clone())))
                .collect(),
        },
    }
}

/// JSON to a msgpack value (the struct tables of payload cases: plain
/// JSON), through rmpv's serde support.
pub fn json_to_value(v: &serde_json::Value) -> rmpv::Value {
    // A JSON value always serializes.
    rmpv::ext::to_value(v).unwrap_or(rmpv::Value::Nil)
}

fn judge(case: &Case, status: &Status, codes: bool) -> Outcome {
    // What the testee did: an answer, or an error (class, text).
    let answer = match status {
        Status::Ok(a) => Ok(a),
        Status::Error { class, text } => Err((class.as_str(), text.as_str())),
        Status::Skipped { reason } => return Outcome::Skipped(reason.clone()),
    };
    let got_error = |(class, text): (&str, &str)| format!("{class}: {text}");
    let wrong_kind = |a: &Answer| {
        Outcome::Failed(format!(
            "answered a {} case with the answer to a {} request",
            case.body.kind(),
            a.kind().as_str()
        ))
    };
    match &case.body {
        CaseBody::Decode { bytes_b64, expect } => match (&expect.error_class, answer) {
            (None, Ok(Answer::Decode(d))) => {
                let want = expect.canonical_b64.as_deref().unwrap_or(bytes_b64);
                if Some(d.msg_type.as_str()) != expect.msg_type.as_deref() {
                    Outcome::Failed(format!(
                        "decoded as {:?}, expected {:?}",
                        Some(&d.msg_type),
                        expect.msg_type
                    ))
                } else if d.bytes[..] != want[..] {
                    Outcome::Failed(format!(
                        "re-encoding differs\n{}",
                        bytes_diff(want, &d.bytes)
                    ))
                } else {
                    Outcome::Passed
                }
            }
            (_, Ok(a @ (Answer::Encode(_) | Answer::Validate(_) | Answer::Dialog(_)))) => {
                wrong_kind(a)
            }
            (None, Err(e)) => Outcome::Failed(format!(
                "rejected a valid {} frame: {}",
                expect.msg_type.as_deref().unwrap_or("?"),
                got_error(e)
            )),
            (Some(class), Ok(Answer::Decode(_))) => Outcome::Failed(format!(
                "accepted a frame that must be rejected with {class}: {}",
                expect.error_text.as_deref().unwrap_or("")
            )),
            (Some(class), Err(e)) => {
                if e.0 == class {
                    Outcome::Passed
                } else {
                    Outcome::Failed(format!(
                        "rejected with {}, expected {class}: {}",
                        got_error(e),
                        expect.error_text.as_deref().unwrap_or("")
                    ))
                }
            }
        },
        CaseBody::Encode { expect_b64, .. } => match answer {
            Err(e) => Outcome::Failed(format!("could not encode: {}", got_error(e))),
            Ok(Answer::Encode(Encoded { bytes, .. })) => {
                if bytes[..] != expect_b64[..] {
                    Outcome::Failed(format!(
                        "encoding differs\n{}",
                        bytes_diff(expect_b64, bytes)
                    ))
                } else {
                    Outcome::Passed
                }
            }
            Ok(a) => wrong_kind(a),
        },
        CaseBody::Payload { expect, .. } => match (expect.ok, answer) {
            (_, Ok(a @ (Answer::Decode(_) | Answer::Encode(_) | Answer::Dialog(_)))) => {
                wrong_kind(a)
            }
            (true, Ok(Answer::Validate(_))) => Outcome::Passed,
            (true, Err(e)) => {
                Outcome::Failed(format!("rejected a valid payload: {}", got_error(e)))
            }
            (false, Ok(Answer::Validate(_))) => Outcome::Failed(format!(
                "accepted a payload msgspec rejects with {}: {}",
                expect.error_class.as_deref().unwrap_or("?"),
                expect.error_text.as_deref().unwrap_or("")
            )),
            (false, Err(e)) => {
                let class = expect.error_class.as_deref().unwrap_or("");
                // Errors that come from the Python runtime, not from
                // msgspec's rules, only need to be rejected.
                let exact = matches!(class, "ValidationError" | "DecodeError");
                if !exact {
                    Outcome::Passed
                } else if e.0 != class || Some(e.1) != expect.error_text.as_deref() {
                    Outcome::Failed(format!(
                        "error differs\n  expected: {class}: {}\n  got:      {}",
                        expect.error_text.as_deref().unwrap_or(""),
                        got_error(e)
                    ))
                } else {
                    Outcome::Passed
                }
            }
        },
        CaseBody::Dialog { expect, .. } => {
            let verdict = match answer {
                Ok(Answer::Dialog(v)) => Some(v),
                Ok(a) => return wrong_kind(a),
                Err(_) => None,
            };
            let accepted = verdict.is_some_and(|v| v.accepted);
            let frame = verdict.and_then(|v| v.frame);
            let code = verdict.and_then(|v| v.code.as_deref()).unwrap_or("");
            match (expect.accepted, accepted) {
                (true, true) => Outcome::Passed,
                (true, false) => {
                    let text = match answer {
                        Ok(_) => verdict.and_then(|v| v.text.as_deref()).unwrap_or(""),
                        Err((_, text)) => text,
                    };
                    Outcome::Failed(format!(
                        "rejected a legal channel at frame {frame:?}: {code} {text}"
                    ))
                }
                (false, true) => Outcome::Failed(format!(
                    "accepted a channel that breaks the rules at frame {:?} ({})",
                    expect.frame,
                    expect.code.as_deref().unwrap_or("")
                )),
                (false, false) => {
                    let frame_ok = frame.map(|f| f as usize) == expect.frame;
                    let code_ok =
                        !codes || verdict.and_then(|v| v.code.as_deref()) == expect.code.as_deref();
                    if frame_ok && code_ok {
                        Outcome::Passed
                    } else {
                        Outcome::Failed(format!(
                            "rejected at frame {frame:?} ({code}), expected frame {:?} ({})",
                            expect.frame,
                            expect.code.as_deref().unwrap_or("")
                        ))
                    }
                }
            }
        }
    }
}

/// A readable difference between two encodings: the first differing
/// offset, why they differ (`diff::why`: the first value that disagrees,
/// by path, and how), both hex dumps around it, and both values decoded.
///
/// (Not a sequence diff such as the `similar` crate computes: two msgpack
/// encodings of one message differ from their first differing byte on, as
/// every later offset shifts, so the first difference and the value it
/// falls in are what explain them.)
pub fn bytes_diff(want: &[u8], got: &[u8]) -> String {
    let at = want
        .iter()
        .zip(got)
        .position(|(a, b)| a != b)
        .unwrap_or(want.len().min(got.len()));
    let window = |b: &[u8]| {
        let start = at.saturating_sub(8);
        let end = (at + 24).min(b.len());
        let hex: String = b[start.min(end)..end]
            .iter()
            .map(|x| format!("{x:02x}"))
            .collect();
        format!(
            "{}{hex}{}",
            if start > 0 { "..." } else { "" },
            if end < b.len() { "..." } else { "" }
        )
    };
    let show = |b: &[u8]| match rmpv::decode::read_value(&mut &b[..]) {
        Ok(v) => {
            let s = v.to_string();
            if s.len() > 300 {
                format!(
                    "{}...",
                    &s[..s.char_indices().nth(300).map_or(s.len(), |(i, _)| i)]
                )
            } else {
                s
            }
        }
        Err(e) => format!("<undecodable: {e}>"),
    };
    let why = crate::diff::why(want, got).unwrap_or_default();
    format!(
        "  first difference at byte {at} (expected {} bytes, got {})\n  why: {why}\n  expected: {}\n  got:      {}\n  expected value: {}\n  got value:      {}",
        want.len(),
        got.len(),
        window(want),
        window(got),
        show(want),
        show(got)
    )
}

/// Selects, runs and tallies a suite.
#[derive(Debug, Default)]
pub struct Filter {
    /// Run only ids matching one of these (all when empty).
    run: Vec<Selector>,
    /// Skip ids matching one of these.
    skip: Vec<Selector>,
}

impl Filter {
    /// A filter from `--run` and `--skip` values. A value with a glob
    /// metacharacter (`*`, `?`, `[`) is a glob over the whole id; a value
    /// without one selects that id and every id below it, as a path does:
    /// `decode/golden` selects `decode/golden/0001` (but not
    /// `decode/golden_extra`).
    pub fn from_globs(run: &[String], skip: &[String]) -> anyhow::Result<Filter> {
        let pats = |v: &[String]| -> anyhow::Result<Vec<Selector>> {
            v.iter().map(|g| selector(g)).collect()
        };
        Ok(Filter {
            run: pats(run)?,
            skip: pats(skip)?,
        })
    }

    /// Whether a case id is selected.
    pub fn selects(&self, id: &str) -> bool {
        (self.run.is_empty() || self.run.iter().any(|p| p.matches(id)))
            && !self.skip.iter().any(|p| p.matches(id))
    }
}

/// One `--run`/`--skip` value (see [`Filter::from_globs`]).
#[derive(Debug, Clone)]
enum Selector {
    /// A value with `*`, `?` or `[`: a glob over the whole id.
    Glob(glob::Pattern),
    /// A value without: the id itself or any id under it (`decode/golden`
    /// selects `decode/golden/0001`, not `decode/golden_extra`).
    Path(String),
}

impl Selector {
    fn matches(&self, id: &str) -> bool {
        match self {
            Selector::Glob(p) => p.matches(id),
            Selector::Path(prefix) => id.strip_prefix(prefix.as_str()).is_some_and(|rest| {
                rest.is_empty() || rest.starts_with('/') || prefix.ends_with('/')
            }),
        }
    }
}

fn selector(value: &str) -> anyhow::Result<Selector> {
    if value.contains(['*', '?', '[']) {
        glob::Pattern::new(value).map(Selector::Glob).map_err(|e| {
            anyhow::anyhow!("bad glob {value:?}: {e} (quote it so that the shell leaves it alone)")
        })
    } else {
        Ok(Selector::Path(value.to_string()))
    }
}

/// An expected-failures list: id globs, each with an optional text the
/// failure must contain.
#[derive(Debug, Default)]
pub struct ExpectedFailures {
    entries: Vec<(glob::Pattern, Option<String>)>,
}

impl ExpectedFailures {
    /// Reads and parses an expected-failures file; every error names the
    /// file and says what was wrong with it.
    pub fn load(path: &std::path::Path) -> anyhow::Result<Self> {
        let bytes = std::fs::read(path).map_err(|e| {
            anyhow::anyhow!("--expected-failures {}: cannot read: {e}", path.display())
        })?;
        let text = String::from_utf8(bytes).map_err(|e| {
            anyhow::anyhow!(
                "--expected-failures {}: not a text file (invalid UTF-8 at byte {}); \
                 it lists one `GLOB [TEXT]` per line",
                path.display(),
                e.utf8_error().valid_up_to()
            )
        })?;
        Self::parse(&text)
            .map_err(|e| anyhow::anyhow!("--expected-failures {}: {e}", path.display()))
    }

    /// The list `--expected-failures` names, if any, loaded and checked
    /// against the selected case ids: an entry that matches none of them
    /// (a typo, or a renamed case) is an error. `None`: an empty list.
    pub fn for_selection(path: Option<&std::path::Path>, ids: &[&str]) -> anyhow::Result<Self> {
        let Some(path) = path else {
            return Ok(Self::default());
        };
        let expected = Self::load(path)?;
        let unmatched = expected.unmatched(ids);
        anyhow::ensure!(
            unmatched.is_empty(),
            "--expected-failures {}: no selected case matches {} (a typo, or a renamed \
             case? `--list` lists them)",
            path.display(),
            unmatched.join(", ")
        );
        Ok(expected)
    }

    /// Parses the file: one `GLOB [message]` per line, `#` comments.
    pub fn parse(text: &str) -> anyhow::Result<Self> {
        let mut entries = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (glob, msg) = match line.split_once(char::is_whitespace) {
                Some((g, m)) => (g, Some(m.trim().to_string())),
                None => (line, None),
            };
            let pat = glob::Pattern::new(glob)
                .map_err(|e| anyhow::anyhow!("line {}: bad glob {glob:?}: {e}", n + 1))?;
            entries.push((pat, msg));
        }
        Ok(ExpectedFailures { entries })
    }

    /// How the list judges a case: `failure` is its failure text (`None`
    /// when it did not fail), `passed` whether it passed (a case may do
    /// neither: skipped).
    pub fn judge(&self, id: &str, failure: Option<&str>, passed: bool) -> Listed {
        let Some((_, msg)) = self.entries.iter().find(|(p, _)| p.matches(id)) else {
            return Listed::No;
        };
        match failure {
            Some(text) => match msg {
                Some(m) if !text.contains(m.as_str()) => Listed::Otherwise(format!(
                    "failed, but not as the expected-failures list says ({m:?}): {text}"
                )),
                _ => Listed::AsExpected,
            },
            None if passed => Listed::Otherwise(
                "passed, but is listed as an expected failure: remove it from the list".into(),
            ),
            None => Listed::No,
        }
    }

    /// The entries (as written) that match none of `ids`.
    pub fn unmatched(&self, ids: &[&str]) -> Vec<String> {
        self.entries
            .iter()
            .filter(|(p, _)| !ids.iter().any(|id| p.matches(id)))
            .map(|(p, _)| p.as_str().to_string())
            .collect()
    }

    /// Applies the list to a result: an expected failure is marked as such;
    /// a listed case that passed, or failed differently, becomes a failure.
    pub fn apply(&self, r: &mut CaseResult) {
        let failure = r.outcome.failure_text().map(str::to_owned);
        match self.judge(&r.id, failure.as_deref(), r.outcome == Outcome::Passed) {
            Listed::No => {}
            Listed::AsExpected => r.expected_failure = true,
            Listed::Otherwise(why) => r.outcome = Outcome::Failed(why),
        }
    }
}

/// What an expected-failures list makes of a case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Listed {
    /// The list does not name it.
    No,
    /// Listed, and it failed as the list says.
    AsExpected,
    /// Listed, but it passed or failed otherwise: why that is a failure.
    Otherwise(String),
}

/// Totals of a run.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Totals {
    /// Cases that passed.
    pub passed: usize,
    /// Cases that failed unexpectedly (wrong answer, crash, timeout).
    pub failed: usize,
    /// Failures the expected-failures list names.
    pub expected_failures: usize,
    /// Skipped by the testee or not applicable to it.
    pub skipped: usize,
}

impl Totals {
    /// Tallies results.
    pub fn of(results: &[CaseResult]) -> Totals {
        let mut t = Totals::default();
        for r in results {
            match &r.outcome {
                Outcome::Passed => t.passed += 1,
                o if o.is_failure() && r.expected_failure => t.expected_failures += 1,
                o if o.is_failure() => t.failed += 1,
                _ => t.skipped += 1,
            }
        }
        t
    }
}

/// Runs every selected case in order, calling `progress` after each.
pub fn run_suite(
    testee: &mut dyn Testee,
    cases: &[Case],
    filter: &Filter,
    expected: &ExpectedFailures,
    mut progress: impl FnMut(&CaseResult),
) -> Vec<CaseResult> {
    run_suite_while(testee, cases, filter, expected, |r| {
        progress(r);
        true
    })
}

/// Like [`run_suite`], but stops after the case for which `progress`
/// returns `false` (e.g. when the reader of the output has gone away).
pub fn run_suite_while(
    testee: &mut dyn Testee,
    cases: &[Case],
    filter: &Filter,
    expected: &ExpectedFailures,
    mut progress: impl FnMut(&CaseResult) -> bool,
) -> Vec<CaseResult> {
    let mut out = Vec::new();
    for (i, case) in cases.iter().filter(|c| filter.selects(&c.id)).enumerate() {
        let mut r = run_case(testee, case, i as u64 + 1);
        expected.apply(&mut r);
        let go_on = progress(&r);
        out.push(r);
        if !go_on {
            break;
        }
    }
    out
}

/// Default per-request timeout for subprocess testees.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

#[cfg(test)]
mod selector_tests {
    use super::Filter;

    #[test]
    fn an_id_selects_itself_and_what_is_below_it_a_glob_the_whole_id() {
        let f = Filter::from_globs(&["decode/golden".into()], &[]).unwrap();
        assert!(f.selects("decode/golden"));
        assert!(f.selects("decode/golden/0001"));
        assert!(!f.selects("decode/golden_extra"));
        assert!(!f.selects("decode/gold"));
        let f = Filter::from_globs(&["decode/g*".into()], &["decode/golden/0001".into()]).unwrap();
        assert!(f.selects("decode/golden_extra"));
        assert!(f.selects("decode/golden/0002"));
        assert!(!f.selects("decode/golden/0001"));
        assert!(!f.selects("encode/golden"));
        let err = Filter::from_globs(&["decode/[".into()], &[]).unwrap_err();
        assert!(err.to_string().contains("bad glob \"decode/[\""), "{err}");
    }
}
