//! The `shuttle` command, run as a user runs it.

mod support;

use support::{repo, shuttle};

#[test]
fn check_passes_every_fixture() {
    let (code, out) = shuttle(&["check", "fixtures/"]);
    assert_eq!(code, 0, "{out}");
    let last = out.lines().last().unwrap();
    let passed: usize = last.split(' ').next().unwrap().parse().unwrap();
    assert!(passed >= 39, "{last}");
    assert!(last.ends_with(" passed, 0 failed"), "{last}");
}

#[test]
fn check_fails_a_stream_with_a_non_canonical_frame() {
    let dir = std::env::temp_dir().join(format!("shuttle-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // A valid Stop, then the same Stop with a str8 header for its cid:
    // msgspec accepts it but would re-encode it with a fixstr.
    let good = b"\x82\xa8msg_type\xa4Stop\xa3cid\xa2c1";
    let odd = b"\x82\xa8msg_type\xa4Stop\xa3cid\xd9\x02c1";
    let mut wire = Vec::new();
    for body in [&good[..], &odd[..]] {
        wire.extend_from_slice(&(body.len() as u32).to_le_bytes());
        wire.extend_from_slice(body);
    }
    let path = dir.join("odd.wire");
    std::fs::write(&path, &wire).unwrap();
    let (code, out) = shuttle(&["check", "-v", path.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("frame 1: Stop cid=c1: re-encoding differs"),
        "{out}"
    );
    assert!(out.contains("#0    Stop cid=c1 [22B]"), "{out}");
    assert!(out.trim_end().ends_with("0 passed, 1 failed"), "{out}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn check_reports_a_missing_path() {
    let (code, out) = shuttle(&["check", "no/such/place"]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("no such file or folder"), "{out}");
}

#[test]
fn committed_cases_are_what_import_makes_of_the_fixtures() {
    let dir = std::env::temp_dir().join(format!("shuttle-import-{}", std::process::id()));
    let (code, out) = shuttle(&[
        "import",
        "fixtures/captures",
        "fixtures/vectors",
        "fixtures/golden",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}");
    // Every file import writes is compiled into the binary.
    let embedded: Vec<&str> = shuttle_conformance::case::EMBEDDED
        .iter()
        .map(|(n, _)| *n)
        .collect();
    let written: Vec<&str> = shuttle_conformance::import::FILES
        .iter()
        .map(|(n, _)| *n)
        .collect();
    assert_eq!(embedded, written);
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap();
        let fresh = std::fs::read_to_string(&path).unwrap();
        let committed =
            std::fs::read_to_string(repo().join("fixtures/cases").join(name)).unwrap_or_default();
        assert!(
            fresh == committed,
            "fixtures/cases/{} is stale: regenerate with\n  cargo run -p shuttle-conformance -- import fixtures/captures fixtures/vectors fixtures/golden --out fixtures/cases",
            name.to_string_lossy()
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn run_lists_filters_and_reports() {
    let dir = std::env::temp_dir().join(format!("shuttle-run-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (code, out) = shuttle(&["run", "--list", "--run", "decode/golden/*"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.trim_end().ends_with("12 cases"), "{out}");
    // An expected-failures entry for a passing case is itself a failure.
    let xfail = dir.join("xfail.txt");
    std::fs::write(&xfail, "# comment\ndecode/golden/00-*\n").unwrap();
    let json = dir.join("report.json");
    let junit = dir.join("report.xml");
    let (code, out) = shuttle(&[
        "run",
        "--run",
        "decode/golden/*",
        "--expected-failures",
        xfail.to_str().unwrap(),
        "--json",
        json.to_str().unwrap(),
        "--junit",
        junit.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("remove it from the list"), "{out}");
    assert!(
        out.trim_end().ends_with("11 passed, 1 failed, 0 skipped"),
        "{out}"
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(report["totals"]["failed"], 1);
    assert_eq!(report["results"].as_array().unwrap().len(), 12);
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(
        xml.contains("<failure message=\"passed, but is listed"),
        "{xml}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn committed_spec_files_are_what_shuttle_schema_writes() {
    let spec = repo().join("spec");
    let files = shuttle_conformance::spec_files();
    let mut stale = Vec::new();
    for (name, content) in &files {
        match std::fs::read_to_string(spec.join(name)) {
            Ok(on_disk) if &on_disk == content => {}
            Ok(_) => stale.push(format!("{name} differs")),
            Err(e) => stale.push(format!("{name}: {e}")),
        }
    }
    for entry in std::fs::read_dir(spec.join("schema")).unwrap() {
        let name = format!("schema/{}", entry.unwrap().file_name().to_string_lossy());
        if !files.iter().any(|(n, _)| *n == name) {
            stale.push(format!("{name} is not generated any more"));
        }
    }
    assert!(
        stale.is_empty(),
        "spec/ is stale: {stale:?}\nregenerate with `{}`",
        shuttle_conformance::docs::REGENERATE
    );
    // The case files and the testee messages validate against their schemas.
    let schema = |n: &str| -> serde_json::Value {
        serde_json::from_str(
            &std::fs::read_to_string(spec.join(format!("schema/{n}.schema.json"))).unwrap(),
        )
        .unwrap()
    };
    let cases = jsonschema::validator_for(&schema("CaseFile")).unwrap();
    for entry in std::fs::read_dir(repo().join("fixtures/cases")).unwrap() {
        let path = entry.unwrap().path();
        let doc: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let errors: Vec<String> = cases
            .iter_errors(&doc)
            .take(3)
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "{}: {errors:?}", path.display());
    }
    let mut broken: serde_json::Value =
        serde_json::json!({"format": "shuttle-cases/1", "cases": [{"id": "x"}]});
    assert!(!cases.is_valid(&broken));
    broken["cases"] = serde_json::json!([]);
    assert!(cases.is_valid(&broken));
    // The built-in testee's answers, in the JSON rendering, fit the
    // response schema; a response without its status's fields does not.
    let responses = jsonschema::validator_for(&schema("TesteeResponse")).unwrap();
    use shuttle_conformance::testee::Testee as _;
    let mut builtin = shuttle_conformance::testee::Builtin::default();
    let suite = shuttle_conformance::case::Suite::embedded().unwrap();
    let mut kinds = std::collections::BTreeSet::new();
    for (i, case) in suite.cases.iter().enumerate().step_by(7) {
        let req = shuttle_conformance::runner::request_for(case, i as u64);
        let resp = builtin.call(&req).unwrap();
        let wire = shuttle_conformance::protocol::to_body(&resp);
        let value = rmpv::decode::read_value(&mut &wire[..]).unwrap();
        let doc = shuttle::json::value_to_json(&value);
        let errors: Vec<String> = responses
            .iter_errors(&doc)
            .take(3)
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "{}: {doc}: {errors:?}", case.id);
        kinds.insert(format!("{} {}", case.body.kind(), doc["status"]));
    }
    assert!(kinds.len() >= 6, "{kinds:?}");
    for broken in [
        serde_json::json!({"id": 1, "status": "error", "class": "DecodeError"}),
        serde_json::json!({"id": 1, "status": "skipped"}),
        serde_json::json!({"id": 1, "status": "fine"}),
        serde_json::json!({"status": "ok"}),
    ] {
        assert!(!responses.is_valid(&broken), "{broken}");
    }
}

#[test]
fn check_payload_reports_a_vector_msgspec_would_not_agree_with() {
    let dir = std::env::temp_dir().join(format!("shuttle-pld-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let text = std::fs::read_to_string(repo().join("fixtures/vectors/pld-vectors.json")).unwrap();
    // Claim msgspec accepted an int where `None` is required.
    let bent = text.replacen(
        r#""payload_b64": "AA==", "ok": false, "error_type": "ValidationError", "error": "Expected `null`, got `int`""#,
        r#""payload_b64": "AA==", "ok": true, "decoded_type": "NoneType", "decoded": null, "decoded_repr": "None""#,
        1,
    );
    assert_ne!(bent, text);
    let path = dir.join("bent.json");
    std::fs::write(&path, bent).unwrap();
    let (code, out) = shuttle(&["check", "--only", "payload", path.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(
            "none-posfixint-0: msgspec says ok; ours ValidationError: Expected `null`, got `int`"
        ),
        "{out}"
    );
    let (code, out) = shuttle(&[
        "check",
        "--only",
        "payload",
        "fixtures/captures/python-tractor/typed_pld_bad_yield.json",
    ]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("3 payload verdicts agree"), "{out}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn check_strict_reports_the_quirks_of_real_tractor_as_problems() {
    let file = "fixtures/captures/python-tractor-0.1.0a5/stream_from_asyncgen.json";
    let (code, out) = shuttle(&["check", file]);
    assert_eq!(code, 0, "{out}");
    let (code, out) = shuttle(&["check", "--strict", file]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(
            "quirk redundant-cancel-task (spec/quirks.md#redundant-cancel-task) (--strict)"
        ),
        "{out}"
    );
}
