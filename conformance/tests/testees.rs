//! The suite against subprocess testees: `shuttle testee` (the built-in
//! over stdio), deliberately broken variants that must fail exactly the
//! expected cases, and hostile ones the harness must survive.

use std::time::Duration;

use shuttle_conformance::case::Suite;
use shuttle_conformance::runner::{
    run_suite, CaseResult, ExpectedFailures, Filter, Outcome, Totals,
};
use shuttle_conformance::testee::{Process, Testee};

fn shuttle_testee(extra: &str) -> String {
    format!("{} testee {extra}", env!("CARGO_BIN_EXE_shuttle"))
}

fn run(cmd: &str, filter: &Filter, timeout: Duration) -> (Vec<CaseResult>, Process) {
    let suite = Suite::embedded().unwrap();
    let mut p = Process::start(cmd, timeout).unwrap();
    let results = run_suite(
        &mut p,
        &suite.cases,
        filter,
        &ExpectedFailures::default(),
        |_| {},
    );
    (results, p)
}

fn failed_ids(results: &[CaseResult]) -> Vec<&str> {
    results
        .iter()
        .filter(|r| r.outcome.is_failure())
        .map(|r| r.id.as_str())
        .collect()
}

#[test]
fn stdio_testee_passes_everything_the_builtin_passes() {
    let (results, p) = run(
        &shuttle_testee(""),
        &Filter::default(),
        Duration::from_secs(10),
    );
    let t = Totals::of(&results);
    assert_eq!(t.failed, 0, "{:?}", failed_ids(&results));
    assert!(t.passed > 4000, "{t:?}");
    assert_eq!(p.restarts(), 0);
    assert_eq!(p.hello().name, "shuttle");
}

fn has_f64(v: &rmpv::Value) -> bool {
    match v {
        rmpv::Value::F64(_) => true,
        rmpv::Value::Array(a) => a.iter().any(has_f64),
        rmpv::Value::Map(m) => m.iter().any(|(k, v)| has_f64(k) || has_f64(v)),
        _ => false,
    }
}

/// The bytes a correct testee answers with for a case expected to succeed.
fn expected_output(case: &shuttle_conformance::case::Case) -> Option<Vec<u8>> {
    use shuttle_conformance::case::CaseBody;
    match &case.body {
        CaseBody::Decode { bytes_b64, expect } if expect.error_class.is_none() => Some(
            expect
                .canonical_b64
                .clone()
                .unwrap_or_else(|| bytes_b64.clone()),
        ),
        CaseBody::Encode { expect_b64, .. } => Some(expect_b64.clone()),
        _ => None,
    }
}

#[test]
fn float32_writer_fails_exactly_the_frames_with_floats() {
    let (results, _) = run(
        &shuttle_testee("--misbehave float32"),
        &Filter::default(),
        Duration::from_secs(10),
    );
    let suite = Suite::embedded().unwrap();
    let mut with_floats = 0;
    for (case, r) in suite.cases.iter().zip(&results) {
        assert_eq!(case.id, r.id);
        let Some(out) = expected_output(case) else {
            continue;
        };
        let floats = has_f64(&rmpv::decode::read_value(&mut &out[..]).unwrap());
        with_floats += floats as usize;
        assert_eq!(r.outcome.is_failure(), floats, "{}: {:?}", r.id, r.outcome);
        if floats {
            let text = r.outcome.failure_text().unwrap();
            assert!(text.contains("differs"), "{}", r.id);
            // The values print alike; the report says why they differ.
            let why = text
                .lines()
                .find(|l| l.trim_start().starts_with("why: at $"));
            assert!(
                why.is_some_and(|w| w.contains("float32") && w.contains("float64")),
                "{}: {text}",
                r.id
            );
        }
    }
    assert!(with_floats > 10, "{with_floats}");
}

#[test]
fn default_dropping_encoder_fails_every_message_with_defaults() {
    let (results, _) = run(
        &shuttle_testee("--misbehave drop-defaults"),
        &Filter::default(),
        Duration::from_secs(10),
    );
    let failed = failed_ids(&results);
    // Every Aid, Start and Error frame carries a defaulted field; no Stop does.
    assert!(failed.iter().any(|id| id.contains("/Aid/")));
    assert!(!failed.iter().any(|id| id.contains("/Stop/")));
    let golden_failed: Vec<&&str> = failed
        .iter()
        .filter(|id| id.starts_with("decode/golden/"))
        .collect();
    // Aid x2, Start, Error x2 among the golden vectors.
    assert_eq!(golden_failed.len(), 5, "{golden_failed:?}");
}

#[test]
fn float_for_int_acceptor_fails_exactly_the_float_for_int_cases() {
    let (results, _) = run(
        &shuttle_testee("--misbehave accept-float-for-int"),
        &Filter::default(),
        Duration::from_secs(10),
    );
    let failed = failed_ids(&results);
    assert!(!failed.is_empty());
    for id in &failed {
        assert!(id.ends_with("/pid-float"), "{id}");
    }
    let expected = results
        .iter()
        .filter(|r| r.id.ends_with("/pid-float"))
        .count();
    assert_eq!(failed.len(), expected);
}

fn golden_only() -> Filter {
    Filter::from_globs(&["decode/golden/*".into()], &[]).unwrap()
}

#[test]
fn harness_survives_hostile_testees() {
    for (mode, expect) in [
        ("crash", "Crashed"),
        ("garbage", "Crashed"),
        ("huge", "Crashed"),
        ("wrong-id", "Crashed"),
        ("malformed", "Crashed"),
        ("exit", "Crashed"),
        ("hang", "TimedOut"),
    ] {
        let (results, p) = run(
            &shuttle_testee(&format!("--misbehave {mode} --after 3")),
            &golden_only(),
            Duration::from_millis(300),
        );
        assert_eq!(results.len(), 12, "{mode}: the run finishes");
        // Each (re)started testee answers two requests, then fails the
        // third; it is restarted and the run goes on.
        for (i, r) in results.iter().enumerate() {
            if i % 3 == 2 {
                let got = format!("{:?}", r.outcome);
                assert!(got.starts_with(expect), "{mode}: {}: {got}", r.id);
            } else {
                assert_eq!(r.outcome, Outcome::Passed, "{mode}: {}", r.id);
            }
        }
        let detail = results[2].outcome.failure_text().unwrap().to_string();
        match mode {
            "huge" => assert!(detail.contains("exceeds the maximum"), "{detail}"),
            "wrong-id" => assert!(
                detail.contains("answered request 4 while request 3"),
                "{detail}"
            ),
            "malformed" => assert!(
                detail.contains(
                    "unreadable response to request 3 (decode): missing field `msg_type`"
                ),
                "{detail}"
            ),
            "garbage" => assert!(
                detail.contains("unreadable response") || detail.contains("garbage"),
                "{detail}"
            ),
            _ => {}
        }
        assert_eq!(p.restarts(), 3, "{mode}");
    }
}

#[test]
fn a_testee_that_does_not_start_is_a_clear_error() {
    let err = Process::start("exit 3", Duration::from_millis(500)).unwrap_err();
    assert!(err.to_string().contains("did not start"), "{err}");
    let err = Process::start("exec 1>&-; sleep 30", Duration::from_secs(20)).unwrap_err();
    assert!(err.to_string().contains("closed its stdout"), "{err}");
    // The hello waits as long as asked, not a hidden ten seconds.
    let err = Process::start_with(
        "sleep 30",
        Duration::from_millis(300),
        Duration::from_millis(300),
    )
    .unwrap_err();
    assert!(err.to_string().contains("no hello within 300 ms"), "{err}");
}

/// Whether the Python side (msgspec from PyPI) is available; in CI it must be.
fn python_msgspec() -> bool {
    let ok = std::process::Command::new("python3")
        .args(["-c", "import msgspec"])
        .status()
        .is_ok_and(|s| s.success());
    if !ok && std::env::var_os("CI").is_some() {
        panic!("CI must install msgspec (conformance/requirements.txt)");
    }
    ok
}

fn python_testee() -> String {
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    format!(
        "python3 {}",
        repo.join("testees/python/testee.py").display()
    )
}

#[test]
fn python_msgspec_testee_passes_the_suite() {
    if !python_msgspec() {
        eprintln!("skipped: python3 with msgspec is not available");
        return;
    }
    let (results, p) = run(
        &python_testee(),
        &Filter::default(),
        Duration::from_secs(20),
    );
    let t = Totals::of(&results);
    assert_eq!(t.failed, 0, "{:?}", failed_ids(&results));
    assert_eq!(p.hello().name, "python-msgspec");
    assert!(t.passed > 5000, "{t:?}");
}

/// msgspec itself words every envelope error exactly as the suite does.
#[test]
fn msgspec_agrees_with_the_suite_on_error_texts() {
    use shuttle_conformance::case::CaseBody;
    use shuttle_conformance::protocol::Status;
    use shuttle_conformance::runner::request_for;
    if !python_msgspec() {
        eprintln!("skipped: python3 with msgspec is not available");
        return;
    }
    let suite = Suite::embedded().unwrap();
    let mut p = Process::start(&python_testee(), Duration::from_secs(20)).unwrap();
    let mut compared = 0;
    let mut differ = Vec::new();
    for (i, case) in suite.cases.iter().enumerate() {
        let CaseBody::Decode { expect, .. } = &case.body else {
            continue;
        };
        let (Some(class), Some(text)) = (&expect.error_class, &expect.error_text) else {
            continue;
        };
        let resp = p.call(&request_for(case, i as u64 + 1)).unwrap();
        compared += 1;
        match &resp.status {
            Status::Error { class: c, text: t } if c == class && t == text => {}
            got => differ.push(format!(
                "{}: suite {class}: {text} / msgspec {got:?}",
                case.id
            )),
        }
    }
    assert!(compared > 1000, "{compared}");
    assert!(
        differ.is_empty(),
        "{} of {compared} differ:\n{}",
        differ.len(),
        differ.join("\n")
    );
}

/// Pids of live processes whose environment marks them as started by the
/// harness process `harness` (`SHUTTLE_CHILD=PID-N`).
fn marked_by(harness: u32) -> Vec<u32> {
    let want = format!("{}={harness}-", shuttle_conformance::children::MARKER);
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            // Zombies are gone already, only not yet reaped by init.
            let zombie = stat
                .rsplit_once(')')
                .is_some_and(|(_, r)| r.trim_start().starts_with('Z'));
            !zombie
                && std::fs::read(format!("/proc/{pid}/environ")).is_ok_and(|env| {
                    env.split(|&b| b == 0)
                        .any(|v| v.starts_with(want.as_bytes()))
                })
        })
        .collect()
}

fn wait_until(limit: Duration, mut f: impl FnMut() -> bool) -> bool {
    let end = std::time::Instant::now() + limit;
    while std::time::Instant::now() < end {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    f()
}

#[test]
fn no_testee_or_escaped_descendant_outlives_a_run_ended_by_a_signal() {
    // The testee starts a child that leaves its process group (setsid),
    // then hangs: the run is waiting on it when it is terminated.
    let testee = format!(
        "setsid sleep 300 & exec {} testee --misbehave hang --after 0",
        env!("CARGO_BIN_EXE_shuttle")
    );
    for signal in [
        nix::sys::signal::Signal::SIGTERM,
        nix::sys::signal::Signal::SIGINT,
    ] {
        let mut run = std::process::Command::new(env!("CARGO_BIN_EXE_shuttle"))
            .args([
                "run",
                "--run",
                "decode/golden",
                "--timeout-ms",
                "60000",
                "--testee",
                &testee,
            ])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let harness = run.id();
        // Both the testee and its escaped child are up (the child has
        // become `sleep`: until then `setsid` may still be forking it).
        let cmdline = |pid: &u32| std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        let up = || {
            let pids = marked_by(harness);
            pids.iter().any(|p| cmdline(p).starts_with(b"sleep\0"))
                && pids
                    .iter()
                    .any(|p| String::from_utf8_lossy(&cmdline(p)).contains("testee"))
        };
        assert!(
            wait_until(Duration::from_secs(20), up),
            "{:?}",
            marked_by(harness)
        );
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(harness as i32), signal).unwrap();
        let status = run.wait().unwrap();
        assert_eq!(status.code(), Some(128 + signal as i32), "{signal}");
        let left = marked_by(harness);
        assert!(
            wait_until(Duration::from_secs(5), || marked_by(harness).is_empty()),
            "{signal}: processes left behind: {left:?}"
        );
    }
}

#[test]
fn restarted_testees_leave_no_escaped_descendants() {
    let testee = format!(
        "setsid sleep 300 </dev/null >/dev/null 2>&1 & exec {} testee --misbehave crash --after 2",
        env!("CARGO_BIN_EXE_shuttle")
    );
    let run = std::process::Command::new(env!("CARGO_BIN_EXE_shuttle"))
        .args(["run", "--run", "decode/golden", "--testee", &testee])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let harness = run.id();
    let out = run.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("closed its stdout (signal: 6 (SIGABRT))"),
        "{text}"
    );
    // The run is over: nothing it started is left, though every testee
    // it restarted had started a child outside its process group.
    let stray = marked_by(harness);
    assert!(stray.is_empty(), "escaped children left behind: {stray:?}");
}
