//! Reports of a run: JSON (everything, with the exchanged frames and a diff
//! for each failure) and JUnit XML for CI systems.

use serde::Serialize;

use crate::protocol::Hello;
use crate::runner::{CaseResult, Outcome, Totals};

/// The JSON report.
#[derive(Debug, Serialize)]
pub struct Report<'a> {
    /// Always `shuttle-report/1`.
    pub format: &'static str,
    /// The testee's hello.
    pub testee: &'a Hello,
    /// Totals.
    pub totals: Totals,
    /// Every case run.
    pub results: &'a [CaseResult],
}

/// The JSON report as text.
pub fn json(testee: &Hello, results: &[CaseResult]) -> String {
    let report = Report {
        format: "shuttle-report/1",
        testee,
        totals: Totals::of(results),
        results,
    };
    serde_json::to_string_pretty(&report).unwrap_or_default()
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
