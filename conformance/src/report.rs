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

fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\t' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}

/// The JUnit XML report: one testsuite per case kind.
pub fn junit(testee: &Hello, results: &[CaseResult]) -> String {
    let t = Totals::of(results);
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str(&format!(
        "<testsuites name=\"shuttle conformance: {}\" tests=\"{}\" failures=\"{}\" skipped=\"{}\">\n",
        xml_escape(&testee.name),
        results.len(),
        t.failed,
        t.skipped + t.expected_failures
    ));
    for kind in ["decode", "encode", "payload", "dialog"] {
        let of_kind: Vec<&CaseResult> = results.iter().filter(|r| r.kind == kind).collect();
        if of_kind.is_empty() {
            continue;
        }
        let failures = of_kind
            .iter()
            .filter(|r| r.outcome.is_failure() && !r.expected_failure)
            .count();
        out.push_str(&format!(
            "  <testsuite name=\"{kind}\" tests=\"{}\" failures=\"{failures}\">\n",
            of_kind.len()
        ));
        for r in of_kind {
            out.push_str(&format!(
                "    <testcase classname=\"{kind}\" name=\"{}\" time=\"{:.6}\">",
                xml_escape(&r.id),
                r.micros as f64 / 1e6
            ));
            match &r.outcome {
                Outcome::Passed => {}
                o if o.is_failure() && r.expected_failure => out.push_str(&format!(
                    "<skipped message=\"expected failure: {}\"/>",
                    xml_escape(o.failure_text().unwrap_or(""))
                )),
                o if o.is_failure() => out.push_str(&format!(
                    "<failure message=\"{}\">{}</failure>",
                    xml_escape(o.failure_text().unwrap_or("").lines().next().unwrap_or("")),
                    xml_escape(o.failure_text().unwrap_or(""))
                )),
                Outcome::Skipped(reason) => {
                    out.push_str(&format!("<skipped message=\"{}\"/>", xml_escape(reason)))
                }
                Outcome::NotApplicable(f) => out.push_str(&format!(
                    "<skipped message=\"not applicable: needs {}\"/>",
                    xml_escape(&f.join(", "))
                )),
                _ => {}
            }
            out.push_str("</testcase>\n");
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}
