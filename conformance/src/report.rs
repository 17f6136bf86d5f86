//! Reports of a run: JSON (`shuttle-report/2`: every case's outcome, and
//! for each failure the request, the response and the diff; schema in
//! `spec/schema/RunReport.schema.json`) and JUnit XML for CI systems.

use serde::Serialize;

use crate::case::Level;
use crate::protocol::Hello;
use crate::runner::{CaseResult, Outcome, Totals};

/// The format name of the JSON report; its schema is
/// `spec/schema/RunReport.schema.json`.
pub const FORMAT: &str = "shuttle-report/2";

/// The JSON report of `shuttle run --json` (`shuttle-report/2`).
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct Report {
    /// Always `shuttle-report/2`.
    pub format: String,
    /// The testee's hello.
    pub testee: Hello,
    /// Totals.
    pub totals: Totals,
    /// Every case run, in order.
    pub results: Vec<CaseReport>,
}

/// One case in the JSON report.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct CaseReport {
    /// The case id.
    pub id: String,
    /// Its title.
    pub title: String,
    /// Its level.
    pub level: Level,
    /// Its kind (`decode`, `encode`, `payload`, `dialog`).
    pub kind: String,
    /// The section of `spec/` it checks.
    pub section: String,
    /// How it fared (`passed`, `failed`, `skipped`, `not-applicable`,
    /// `crashed`, `timed-out`) and, but for `passed`, why.
    #[serde(flatten)]
    pub outcome: Outcome,
    /// Whether the expected-failures list names it.
    pub expected_failure: bool,
    /// Time the testee took, in microseconds.
    pub micros: u64,
    /// For a failure: the request sent, as the testee protocol's msgpack
    /// map in the JSON rendering of `spec/PROTOCOL.md#json-rendering`
    /// (bytes as `{"$bytes": base64}`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request: Option<serde_json::Value>,
    /// For a failure: the response received, rendered the same way.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response: Option<serde_json::Value>,
}

/// A testee-protocol message in the project's JSON rendering: written as
/// msgpack (bytes as bin), then rendered as any msgpack value is.
fn rendered<T: Serialize>(message: &T) -> Option<serde_json::Value> {
    let bytes = rmp_serde::to_vec_named(message).ok()?;
    let value = rmpv::decode::read_value(&mut &bytes[..]).ok()?;
    Some(shuttle::json::value_to_json(&value))
}

/// The JSON report.
pub fn report(testee: &Hello, results: &[CaseResult]) -> Report {
    Report {
        format: FORMAT.into(),
        testee: testee.clone(),
        totals: Totals::of(results),
        results: results
            .iter()
            .map(|r| CaseReport {
                id: r.id.clone(),
                title: r.title.clone(),
                level: r.level,
                kind: r.kind.into(),
                section: r.section.clone(),
                outcome: r.outcome.clone(),
                expected_failure: r.expected_failure,
                micros: r.micros,
                request: r.request.as_ref().and_then(rendered),
                response: r.response.as_ref().and_then(rendered),
            })
            .collect(),
    }
}

/// The JSON report as text.
pub fn json(testee: &Hello, results: &[CaseResult]) -> String {
    serde_json::to_string_pretty(&report(testee, results)).unwrap_or_default()
}

/// The JUnit XML report (written by quick-junit): one `testsuite` per
/// case kind, one `testcase` per case with `classname` the case id without
/// its last part (`decode/golden` for `decode/golden/aid`), times on every
/// level; a wrong answer is a `failure`, a crash or timeout an `error`,
/// each with `type` the outcome and the diff as its text; expected
/// failures, skipped and not-applicable cases are `skipped`, the reason as
/// its text. The file validates against Jenkins' junit-4.xsd (a test
/// checks it).
pub fn junit(testee: &Hello, results: &[CaseResult]) -> String {
    use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
    let secs = |micros: u64| std::time::Duration::from_micros(micros);
    let mut report = Report::new(format!("shuttle conformance: {}", testee.name));
    let mut kinds: Vec<&str> = results.iter().map(|r| r.kind).collect();
    kinds.sort_unstable();
    kinds.dedup();
    let mut total = 0u64;
    for kind in kinds {
        let mut suite = TestSuite::new(kind);
        let mut suite_micros = 0u64;
        for r in results.iter().filter(|r| r.kind == kind) {
            let status = match &r.outcome {
                Outcome::Passed => TestCaseStatus::success(),
                o if o.is_failure() && r.expected_failure => skipped(format!(
                    "expected failure: {}",
                    first_line(o.failure_text().unwrap_or(""))
                )),
                o if o.is_failure() => {
                    let (kind, ty) = match o {
                        Outcome::Crashed(_) => (NonSuccessKind::Error, "crashed"),
                        Outcome::TimedOut(_) => (NonSuccessKind::Error, "timed out"),
                        _ => (NonSuccessKind::Failure, "failed"),
                    };
                    let text = o.failure_text().unwrap_or("");
                    let mut s = TestCaseStatus::non_success(kind);
                    s.set_type(ty)
                        .set_message(first_line(text))
                        .set_description(text);
                    s
                }
                Outcome::Skipped(reason) => skipped(format!("skipped by the testee: {reason}")),
                Outcome::NotApplicable(f) => {
                    skipped(format!("not applicable: needs {}", f.join(", ")))
                }
                _ => TestCaseStatus::success(),
            };
            let mut case = TestCase::new(r.id.as_str(), status);
            let classname = r.id.rsplit_once('/').map_or(r.id.as_str(), |(c, _)| c);
            case.set_classname(classname).set_time(secs(r.micros));
            if let Some(text) = r.outcome.failure_text() {
                if !r.expected_failure {
                    case.set_system_out(text);
                }
            }
            suite_micros += r.micros;
            suite.add_test_case(case);
        }
        suite.set_time(secs(suite_micros));
        // quick-junit counts skipped cases as `disabled`; the common JUnit
        // schema and most CI readers look for `skipped` too.
        suite
            .extra
            .insert("skipped".into(), suite.disabled.to_string().into());
        total += suite_micros;
        report.add_test_suite(suite);
    }
    report.set_time(secs(total));
    report
        .to_string()
        .unwrap_or_else(|e| format!("<!-- the JUnit report could not be written: {e} -->\n"))
}

/// A skipped case, its reason as the element's text: the common JUnit
/// schema (Jenkins' junit-4.xsd) allows `skipped` no attributes.
fn skipped(why: String) -> quick_junit::TestCaseStatus {
    let mut s = quick_junit::TestCaseStatus::skipped();
    s.set_description(why);
    s
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or("")
}
