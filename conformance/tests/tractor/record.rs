//! `shuttle record` against live tractor programs
//! (`conformance/peers/python/scenarios.py`): each recording passes
//! `shuttle check` and has, channel by channel, the same messages in the
//! same order from each end as the committed capture of the same scenario
//! (uuids, pids, ports and timings differ between runs; the dialogs do
//! not). Programs that crash, kill a child or send a frame over the limit
//! leave a valid capture and say what happened.

use super::*;

use shuttle_conformance::capture::Capture;

/// What one run of `shuttle record` left.
struct Recorded {
    dir: tempfile::TempDir,
    json: PathBuf,
    code: Option<i32>,
    stderr: String,
}

impl Recorded {
    fn capture(&self) -> Capture {
        Capture::from_json(&std::fs::read_to_string(&self.json).unwrap()).unwrap()
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Records `scenarios.py SCENARIO` with `extra` options.
fn record(t: &Tractor, scenario: &str, extra: &[&str]) -> Recorded {
    record_at(t, scenario, extra, free_port())
}

/// A 0700 folder `run` in `dir`, for a tractor program's `XDG_RUNTIME_DIR`.
fn runtime_dir_in(dir: &Path) -> PathBuf {
    use std::os::unix::fs::PermissionsExt as _;
    let runtime = dir.join("run");
    std::fs::create_dir(&runtime).unwrap();
    std::fs::set_permissions(&runtime, std::fs::Permissions::from_mode(0o700)).unwrap();
    runtime
}

/// tractor's source archive (`TRACTOR_ARCHIVE`, else the one beside the
/// repository), or `None` with a note when there is none and none is
/// required; a missing archive fails where tractor is required.
fn tractor_archive() -> Option<PathBuf> {
    let archive = std::env::var_os("TRACTOR_ARCHIVE")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("../shared/vendor/tractor-3690e43a.tar.gz"));
    if archive.exists() {
        return Some(archive);
    }
    assert!(
        !required(),
        "tractor's source archive {} is missing (set TRACTOR_ARCHIVE)",
        archive.display()
    );
    eprintln!(
        "skipped: no tractor source archive at {}",
        archive.display()
    );
    None
}

/// The same, with the root's registrar (and listener) at `port`.
fn record_at(t: &Tractor, scenario: &str, extra: &[&str], port: u16) -> Recorded {
    let dir = tempfile::tempdir().unwrap();
    let runtime = runtime_dir_in(dir.path());
    let json = dir.path().join(format!("{scenario}.json"));
    let out = shuttle()
        .arg("record")
        .arg("-o")
        .arg(&json)
        .args(["--timeout-s", "90"])
        .args(extra)
        .arg("--")
        .arg(&t.python)
        .arg(repo().join("conformance/peers/python/scenarios.py"))
        .arg(scenario)
        .env("XDG_RUNTIME_DIR", &runtime)
        .env("SHUTTLE_SCENARIO_REGISTRY", format!("127.0.0.1:{port}"))
        .env("PYTHONUNBUFFERED", "1")
        .env("NO_COLOR", "1")
        .env_remove("PYTHONPATH")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        json.exists() && json.with_extension("txt").exists(),
        "{scenario}: no capture written:\n{stderr}"
    );
    Recorded {
        dir,
        json,
        code: out.status.code(),
        stderr,
    }
}

/// `shuttle check FILE` passes.
fn assert_checks(path: &Path) {
    let out = shuttle().arg("check").arg(path).output().unwrap();
    assert!(
        out.status.success(),
        "shuttle check {}:\n{}{}",
        path.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Per channel: the transport, the two ends' names and the messages each
/// end sent, in order (a `Start` with its function); sorted.
type Shape = Vec<(String, String, String, Vec<String>, Vec<String>)>;

fn shape(c: &Capture) -> Shape {
    let mut out = Vec::new();
    for (i, ch) in c.channels.iter().enumerate() {
        let mut by_a = Vec::new();
        let mut by_b = Vec::new();
        for f in c.channel_frames(i).unwrap() {
            let word = match shuttle::Msg::decode(&f.body) {
                Ok(shuttle::Msg::Start(s)) => format!("Start:{}", s.func),
                Ok(m) => m.msg_type().as_str().to_string(),
                Err(e) => format!("undecodable: {e}"),
            };
            match f.from {
                shuttle_conformance::capture::End::A => by_a.push(word),
                shuttle_conformance::capture::End::B => by_b.push(word),
            }
        }
        let name = |u: &str| c.actor_name(u).unwrap_or("?").to_string();
        out.push((ch.transport.clone(), name(&ch.a), name(&ch.b), by_a, by_b));
    }
    out.sort();
    out
}

fn agrees_with_fixture(scenario: &str) {
    let Some(t) = tractor() else { return };
    let fixture = repo().join(format!("fixtures/captures/python-tractor/{scenario}.json"));
    // Typed scenarios: the fixture's payload specs, which `shuttle check`
    // then applies to the live payloads.
    let specs = ["--pld-specs", fixture.to_str().unwrap()];
    let typed = scenario.starts_with("typed_pld");
    let r = record(t, scenario, if typed { &specs } else { &[] });
    if typed {
        assert!(!r.capture().pld_specs.is_empty());
        // The payloads tractor rejected on receipt are the ones the specs
        // reject (a Started the sender refused never went out).
        let rejected = match scenario {
            "typed_pld_bad_started" | "typed_pld_bad_yield" | "typed_pld_types" => 1,
            _ => 0,
        };
        let out = shuttle().arg("check").arg(&r.json).output().unwrap();
        let said = String::from_utf8_lossy(&out.stdout);
        assert!(
            said.contains(&format!(", {rejected} rejected (no recorded verdicts")),
            "{said}"
        );
    }
    assert_eq!(r.code, Some(0), "{scenario}:\n{}", r.stderr);
    assert_checks(&r.json);
    let want = Capture::from_json(&std::fs::read_to_string(fixture).unwrap()).unwrap();
    assert_eq!(
        shape(&r.capture()),
        shape(&want),
        "{scenario}:\n{}",
        r.stderr
    );
}

#[test]
fn record_portal_run_return() {
    agrees_with_fixture("portal_run_return");
}

#[test]
fn record_stream_from_asyncgen() {
    agrees_with_fixture("stream_from_asyncgen");
}

#[test]
fn record_ctx_stream_caller_stops() {
    agrees_with_fixture("ctx_stream_caller_stops");
}

#[test]
fn record_ctx_cancel_from_caller() {
    agrees_with_fixture("ctx_cancel_from_caller");
}

#[test]
fn record_portal_run_error() {
    agrees_with_fixture("portal_run_error");
}

#[test]
fn record_grandchild_error_relay() {
    agrees_with_fixture("grandchild_error_relay");
}

#[test]
fn record_uds_transport() {
    agrees_with_fixture("uds_transport");
}

#[test]
fn record_spawn_teardown() {
    agrees_with_fixture("spawn_teardown");
}

#[test]
fn record_ctx_started_return() {
    agrees_with_fixture("ctx_started_return");
}

#[test]
fn record_ctx_stream_callee_stops() {
    agrees_with_fixture("ctx_stream_callee_stops");
}

#[test]
fn record_ctx_error_after_started() {
    agrees_with_fixture("ctx_error_after_started");
}

#[test]
fn record_ctx_error_before_started() {
    agrees_with_fixture("ctx_error_before_started");
}

#[test]
fn record_multiplexed_contexts() {
    agrees_with_fixture("multiplexed_contexts");
}

#[test]
fn record_portal_run_module_not_exposed() {
    agrees_with_fixture("portal_run_module_not_exposed");
}

#[test]
fn record_run_in_actor_result() {
    agrees_with_fixture("run_in_actor_result");
}

#[test]
fn record_stream_from_asyncgen_error() {
    agrees_with_fixture("stream_from_asyncgen_error");
}

#[test]
fn record_cancel_actor_midstream() {
    agrees_with_fixture("cancel_actor_midstream");
}

#[test]
fn record_payload_bytes_1mib() {
    agrees_with_fixture("payload_bytes_1mib");
}

#[test]
fn record_stream_overrun() {
    agrees_with_fixture("stream_overrun");
}

#[test]
fn record_discovery_find_actor() {
    agrees_with_fixture("discovery_find_actor");
}

#[test]
fn record_payload_scalars() {
    agrees_with_fixture("payload_scalars");
}

#[test]
fn record_payload_containers() {
    agrees_with_fixture("payload_containers");
}

#[test]
fn record_payload_ext_types() {
    agrees_with_fixture("payload_ext_types");
}

#[test]
fn record_discovery_external_registrar() {
    agrees_with_fixture("discovery_external_registrar");
}

#[test]
fn record_payload_namespace_path() {
    agrees_with_fixture("payload_namespace_path");
}

/// Every committed scenario has its program.
#[test]
fn every_committed_scenario_is_played() {
    let dir = repo().join("fixtures/captures/python-tractor");
    let program =
        std::fs::read_to_string(repo().join("conformance/peers/python/scenarios.py")).unwrap();
    let mut n = 0;
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        let stem = p.file_stem().unwrap().to_str().unwrap().to_string();
        if p.extension().is_some_and(|e| e == "json") && stem != "index" {
            assert!(
                program.contains(&format!("async def {stem}():")),
                "no program for {stem}"
            );
            let this = std::fs::read_to_string(repo().join("conformance/tests/tractor/record.rs"))
                .unwrap();
            assert!(
                this.contains(&format!("agrees_with_fixture(\"{stem}\")")),
                "{stem} is not recorded"
            );
            n += 1;
        }
    }
    assert_eq!(n, 30);
}

#[test]
fn record_typed_pld_valid() {
    agrees_with_fixture("typed_pld_valid");
}

#[test]
fn record_typed_pld_bad_started() {
    agrees_with_fixture("typed_pld_bad_started");
}

#[test]
fn record_typed_pld_bad_yield() {
    agrees_with_fixture("typed_pld_bad_yield");
}

/// A spec of datetime, UUID, set, Decimal and `Meta`-constrained fields:
/// shuttle's verdicts on the live payloads are msgspec's (one rejected).
#[test]
fn record_typed_pld_types() {
    agrees_with_fixture("typed_pld_types");
}

#[test]
fn record_typed_pld_started_send_side_check() {
    agrees_with_fixture("typed_pld_started_send_side_check");
}

#[test]
fn record_a_crashing_program() {
    let Some(t) = tractor() else { return };
    let r = record(t, "crash", &[]);
    assert_eq!(r.code, Some(1), "the program's exit status:\n{}", r.stderr);
    assert!(r.stderr.contains("exited with status 1"), "{}", r.stderr);
    assert!(
        r.stderr.contains("the program crashes on purpose"),
        "{}",
        r.stderr
    );
    assert_checks(&r.json);
    let c = r.capture();
    let returns = shape(&c)
        .iter()
        .flat_map(|s| s.4.iter().chain(&s.3))
        .filter(|m| *m == "Return")
        .count();
    assert!(
        returns >= 1,
        "the call before the crash is recorded: {:?}",
        shape(&c)
    );
}

#[test]
fn record_a_frame_over_the_limit() {
    let Some(t) = tractor() else { return };
    let r = record(t, "huge_frame", &[]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert!(
        r.stderr
            .contains("announces 73400388 bytes, over the limit of 67108864 bytes"),
        "{}",
        r.stderr
    );
    assert_checks(&r.json);
    // Everything before the huge frame is there.
    let s = shape(&r.capture());
    assert!(
        s.iter()
            .any(|c| c.1 == "big" && c.3.contains(&"StartAck".to_string())),
        "{s:?}"
    );
}

#[test]
fn record_a_child_killed_while_streaming() {
    let Some(t) = tractor() else { return };
    let r = record(t, "killed_child", &[]);
    // Whether the root notices the lost child before it ends is a race.
    assert!(matches!(r.code, Some(0 | 1)), "{:?}\n{}", r.code, r.stderr);
    assert_checks(&r.json);
    let s = shape(&r.capture());
    let yields = s
        .iter()
        .filter(|c| c.1 == "blobber")
        .flat_map(|c| &c.3)
        .filter(|m| *m == "Yield")
        .count();
    assert!(yields >= 3, "{s:?}");
}

#[test]
fn record_sanitized_leaves_no_machine_path() {
    let Some(t) = tractor() else { return };
    let r = record(t, "portal_run_error", &["--sanitize"]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert_checks(&r.json);
    let c = r.capture();
    let repo_dir = repo().display().to_string();
    let prefix = t
        .python
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .display()
        .to_string();
    let runtime = r.dir.path().join("run").display().to_string();
    let mut texts = String::new();
    for i in 0..c.channels.len() {
        for f in c.channel_frames(i).unwrap() {
            texts.push_str(&String::from_utf8_lossy(&f.body));
        }
    }
    for path in [&repo_dir, &prefix, &runtime] {
        assert!(!texts.contains(path.as_str()), "{path} is still in a frame");
    }
    assert!(
        texts.contains("/srv/app/"),
        "the traceback names the program as /srv/app/..."
    );
    assert!(r.stderr.contains("--sanitize replaces"), "{}", r.stderr);
}

#[test]
fn record_then_reassemble_a_log_cut_mid_record() {
    let Some(t) = tractor() else { return };
    let logs = tempfile::tempdir().unwrap();
    let keep = logs.path().join("logs");
    let r = record(
        t,
        "portal_run_return",
        &["--keep-logs", keep.to_str().unwrap()],
    );
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let whole = r.capture();
    // The child's log (the one not of the root process) loses the second
    // half of its last frame: as if the child were killed while logging it.
    let mut child_log = None;
    for e in std::fs::read_dir(&keep).unwrap() {
        let p = e.unwrap().path();
        let bytes = std::fs::read(&p).unwrap();
        // A child runs `python -m tractor._child`.
        if String::from_utf8_lossy(&bytes).contains("tractor/_child.py\"") {
            child_log = Some((p, bytes));
        }
    }
    let (path, bytes) = child_log.expect("a child's log");
    let last_send = last_record(&bytes, b'S');
    std::fs::write(&path, &bytes[..last_send + 17 + 10]).unwrap();
    let out = logs.path().join("cut.json");
    let o = shuttle()
        .args(["record", "-o"])
        .arg(&out)
        .arg("--from-logs")
        .arg(&keep)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("the log ends inside a record"), "{stderr}");
    assert_checks(&out);
    let cut = Capture::from_json(&std::fs::read_to_string(&out).unwrap()).unwrap();
    // The frame whose log record was cut is known from its receiver's copy.
    let frames = |c: &Capture| c.channels.iter().map(|c| c.frames.len()).sum::<usize>();
    assert_eq!(frames(&cut), frames(&whole), "{stderr}");
    assert!(
        cut.channels
            .iter()
            .flat_map(|c| &c.frames)
            .any(|f| f.recv_copy),
        "{stderr}"
    );
}

/// The offset of the last record of `kind` in a tap log.
fn last_record(bytes: &[u8], kind: u8) -> usize {
    let mut at = shuttle_conformance::record::tap::MAGIC.len();
    let mut found = None;
    while at + 17 <= bytes.len() {
        let len = u32::from_le_bytes(bytes[at + 13..at + 17].try_into().unwrap()) as usize;
        if bytes[at] == kind {
            found = Some(at);
        }
        at += 17 + len;
    }
    found.expect("a record of that kind")
}

/// A Python with tractor 0.1.0a5 (`SHUTTLE_TRACTOR_A5_PYTHON`, else
/// `.venv-tractor-a5/bin/python`), or `None` when there is none and none is
/// required (`.ci/run` installs one).
fn legacy_python() -> Option<PathBuf> {
    let python = std::env::var_os("SHUTTLE_TRACTOR_A5_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join(".venv-tractor-a5/bin/python"));
    let ok = Command::new(&python)
        .args(["-c", "import tractor, msgspec"])
        .output()
        .is_ok_and(|o| o.status.success());
    match (ok, required()) {
        (true, _) => Some(python),
        (false, true) => panic!(
            "no tractor 0.1.0a5 at {} (SHUTTLE_REQUIRE_TRACTOR or CI is set, so this fails); install it:\n    \
             python3.10 -m venv .venv-tractor-a5\n    \
             .venv-tractor-a5/bin/pip install --no-deps -r conformance/peers/python/requirements-a5.txt",
            python.display()
        ),
        (false, false) => {
            eprintln!("skipped: no tractor 0.1.0a5 at {}", python.display());
            None
        }
    }
}

/// Per channel, the kinds each end sent in the dict dialect: a map's first
/// key (`cmd` with its function), `uid` for the handshake, `nil`.
fn legacy_shape(c: &Capture) -> Shape {
    let mut out = Vec::new();
    for (i, ch) in c.channels.iter().enumerate() {
        let mut by = (Vec::new(), Vec::new());
        for f in c.channel_frames(i).unwrap() {
            let v = rmpv::decode::read_value(&mut f.body.as_slice()).unwrap();
            let word = match &v {
                rmpv::Value::Map(m) => {
                    let key = m[0].0.as_str().unwrap_or("?").to_string();
                    match (key.as_str(), m[0].1.as_array().and_then(|a| a.get(1))) {
                        ("cmd", Some(func)) => format!("cmd:{}", func.as_str().unwrap_or("?")),
                        _ => key,
                    }
                }
                rmpv::Value::Array(_) => "uid".into(),
                rmpv::Value::Nil => "nil".into(),
                other => format!("{other}"),
            };
            match f.from {
                shuttle_conformance::capture::End::A => by.0.push(word),
                shuttle_conformance::capture::End::B => by.1.push(word),
            }
        }
        let name = |u: &str| c.actor_name(u).unwrap_or("?").to_string();
        out.push((ch.transport.clone(), name(&ch.a), name(&ch.b), by.0, by.1));
    }
    out.sort();
    out
}

/// The dict dialect is recorded as it is: the tap wraps tractor
/// 0.1.0a5's transport too.
#[test]
fn record_legacy_programs() {
    let Some(python) = legacy_python() else {
        return;
    };
    let scenarios = [
        "portal_run_return",
        "stream_from_asyncgen",
        "spawn_teardown",
        "portal_run_error",
        "ctx_cancel_from_caller",
        "ctx_started_return",
        "ctx_stream_caller_stops",
        "payload_scalars",
    ];
    // Every committed 0.1.0a5 capture has its program.
    let committed = std::fs::read_dir(repo().join("fixtures/captures/python-tractor-0.1.0a5"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json") && !p.ends_with("index.json"))
        .count();
    assert_eq!(committed, scenarios.len());
    for scenario in scenarios {
        let dir = tempfile::tempdir().unwrap();
        let json = dir.path().join(format!("{scenario}.json"));
        let out = shuttle()
            .arg("record")
            .arg("-o")
            .arg(&json)
            .args(["--timeout-s", "90", "--"])
            .arg(&python)
            .arg(repo().join("conformance/peers/python/legacy_scenarios.py"))
            .arg(scenario)
            .env(
                "SHUTTLE_SCENARIO_REGISTRY",
                format!("127.0.0.1:{}", free_port()),
            )
            .env_remove("PYTHONPATH")
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{scenario}:\n{stderr}");
        let check = shuttle().arg("check").arg(&json).output().unwrap();
        let said = String::from_utf8_lossy(&check.stdout);
        assert!(
            check.status.success() && said.contains("dict dialect"),
            "{said}"
        );
        let got = Capture::from_json(&std::fs::read_to_string(&json).unwrap()).unwrap();
        let fixture = repo().join(format!(
            "fixtures/captures/python-tractor-0.1.0a5/{scenario}.json"
        ));
        let want = Capture::from_json(&std::fs::read_to_string(fixture).unwrap()).unwrap();
        assert_eq!(
            legacy_shape(&got),
            legacy_shape(&want),
            "{scenario}:\n{stderr}"
        );
    }
}

/// The path from a program to tests: record, check, import as cases and
/// run them, import as replay cases and replay them against `shuttle
/// serve` (which has the endpoints the scenario calls).
#[test]
fn record_check_import_run_and_replay() {
    let Some(t) = tractor() else { return };
    let r = record(t, "ctx_stream_caller_stops", &["--sanitize"]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert_checks(&r.json);
    let dir = r.dir.path();
    let run = |args: &[&std::ffi::OsStr]| {
        let o = shuttle().args(args).output().unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        assert!(o.status.success(), "shuttle {args:?}:\n{text}");
        text
    };
    let os = |s: &str| std::ffi::OsString::from(s);
    let cases = dir.join("cases");
    run(&[
        &os("import"),
        &os("--out"),
        cases.as_os_str(),
        r.json.as_os_str(),
    ]);
    let said = run(&[&os("run"), &os("--suite"), cases.as_os_str()]);
    assert!(said.contains(" 0 failed"), "{said}");
    let replay = dir.join("replay");
    run(&[
        &os("import-replay"),
        &os("--out"),
        replay.as_os_str(),
        r.json.as_os_str(),
    ]);
    let port = free_port();
    let serve = format!(
        "{} serve --listen tcp://127.0.0.1:{port}",
        env!("CARGO_BIN_EXE_shuttle")
    );
    let said = run(&[
        &os("replay"),
        &os("--suite"),
        replay.as_os_str(),
        &os("--skip"),
        &os("robust"),
        &os("--connect"),
        &os(&format!("tcp://127.0.0.1:{port}")),
        &os("--peer-command"),
        &os(&serve),
    ]);
    assert!(said.contains("1 passed, 0 failed"), "{said}");
}

/// A packet capture taken while the tap records gives the same frames:
/// `tcpdump -i lo` around a recorded program, then `shuttle record
/// --pcap`. (tcpdump: skipped when missing, unless
/// SHUTTLE_REQUIRE_TCPDUMP=1, as in CI.)
#[test]
fn record_a_pcap_alongside_the_tap() {
    let Some(t) = tractor() else { return };
    let port = free_port();
    let dir = tempfile::tempdir().unwrap();
    let pcap = dir.path().join("lo.pcap");
    let spawned = Command::new("tcpdump")
        .args(["-i", "lo", "-w"])
        .arg(&pcap)
        .args(["-U", "--immediate-mode", "-B", "65536", "-Z", "root"])
        .args(["tcp", "port", &port.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn();
    let child = match spawned {
        Ok(c) => c,
        Err(e) if std::env::var("SHUTTLE_REQUIRE_TCPDUMP").as_deref() != Ok("1") => {
            eprintln!("skipped: cannot run tcpdump: {e}");
            return;
        }
        Err(e) => panic!("SHUTTLE_REQUIRE_TCPDUMP=1, but tcpdump cannot run: {e}"),
    };
    let mut tcpdump = Proc(child);
    let mut stderr = BufReader::new(tcpdump.0.stderr.take().unwrap());
    let mut said = String::new();
    while !said.contains("listening on") {
        let mut line = String::new();
        if stderr.read_line(&mut line).unwrap() == 0 {
            panic!("tcpdump ended before capturing: {said}");
        }
        said.push_str(&line);
    }
    let drain = std::thread::spawn(move || {
        let mut rest = String::new();
        let _ = std::io::Read::read_to_string(&mut stderr, &mut rest);
        rest
    });
    let r = record_at(t, "ctx_stream_caller_stops", &[], port);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    std::thread::sleep(Duration::from_millis(300));
    nix_kill(tcpdump.0.id(), "TERM");
    tcpdump
        .wait_exit(Duration::from_secs(10))
        .expect("tcpdump ends on SIGTERM");
    let said = said + &drain.join().unwrap();
    let from_pcap = dir.path().join("from-pcap.json");
    let o = shuttle()
        .args(["record", "--pcap"])
        .arg(&pcap)
        .arg("-o")
        .arg(&from_pcap)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{stderr}");
    assert_checks(&from_pcap);
    let a = r.capture();
    let b = Capture::from_json(&std::fs::read_to_string(&from_pcap).unwrap()).unwrap();
    // Channel by channel (by socket names), the same bodies from each end
    // in the same order; the ends named alike. (How the two directions
    // interleave is not compared: frames both ends send at once, such as
    // the two `Aid`s, are merged by send time from the tap and by arrival
    // from the wire, and either order is true.)
    let frames = |c: &Capture| {
        let mut v: Vec<_> = c
            .channels
            .iter()
            .enumerate()
            .map(|(i, ch)| {
                let mut bodies: [Vec<Vec<u8>>; 2] = Default::default();
                for f in c.channel_frames(i).unwrap() {
                    let end = usize::from(f.from == shuttle_conformance::capture::End::B);
                    bodies[end].push(f.body);
                }
                let name = |u: &str| c.actor_name(u).unwrap_or("?").to_string();
                (
                    ch.addrs.get("a").cloned(),
                    ch.addrs.get("b").cloned(),
                    name(&ch.a),
                    name(&ch.b),
                    bodies,
                )
            })
            .collect();
        v.sort_by(|x, y| format!("{:?}{:?}", x.0, x.1).cmp(&format!("{:?}{:?}", y.0, y.1)));
        v
    };
    let (fa, fb) = (frames(&a), frames(&b));
    let fb: Vec<_> = fb
        .into_iter()
        .filter(|c| c.4.iter().any(|d| !d.is_empty()))
        .collect();
    assert_eq!(
        fa.len(),
        fb.len(),
        "channels: tap {} pcap {} ({} bytes of pcap)\n{stderr}\n{}\ntcpdump: {said}",
        fa.len(),
        fb.len(),
        std::fs::metadata(&pcap).map_or(0, |m| m.len()),
        r.stderr
    );
    assert!(fa.len() >= 3);
    for (x, y) in fa.iter().zip(&fb) {
        assert_eq!(x, y, "a channel differs between the tap and the pcap");
    }
}

fn nix_kill(pid: u32, signal: &str) {
    let _ = Command::new("kill")
        .args([&format!("-{signal}"), &pid.to_string()])
        .status();
}

/// tractor's own test suite, the subset CI runs, recorded one capture per
/// test (`conformance/tools/record_tractor_suite.py --subset`): every
/// capture passes `shuttle check` (the quirks of real tractor are
/// warnings, as without `--strict`).
#[test]
fn record_tractor_suite_subset() {
    let Some(t) = tractor() else { return };
    let Some(archive) = tractor_archive() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new("python3")
        .arg(repo().join("conformance/tools/record_tractor_suite.py"))
        .args(["--subset", "--out"])
        .arg(dir.path())
        .arg("--archive")
        .arg(&archive)
        .arg("--python")
        .arg(&t.python)
        .arg("--shuttle")
        .arg(env!("CARGO_BIN_EXE_shuttle"))
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{said}");
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("summary.json")).unwrap())
            .unwrap();
    let captures = summary["captures"].as_u64().unwrap();
    assert!(captures >= 80, "only {captures} tests recorded:\n{said}");
    assert!(
        summary["check"].as_str().unwrap().ends_with(" 0 failed"),
        "{said}"
    );
    // A self-connection (test_local over Unix sockets) is among them, its
    // two ends told apart.
    let selfish = std::fs::read_dir(dir.path().join("run1"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .map(|p| Capture::from_json(&std::fs::read_to_string(p).unwrap()).unwrap())
        .flat_map(|c| c.channels)
        .filter(|ch| ch.a == ch.b && !ch.frames.is_empty())
        .count();
    assert!(selfish >= 1, "{said}");
}

/// The README's example: tractor's own `examples/full_fledged_streaming_service.py`
/// (from the source archive) recorded and checked.
#[test]
fn record_a_tractor_example_program() {
    let Some(t) = tractor() else { return };
    let Some(archive) = tractor_archive() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let example = "examples/full_fledged_streaming_service.py";
    let untar = Command::new("tar")
        .arg("xzf")
        .arg(&archive)
        .arg("-C")
        .arg(dir.path())
        .arg(example)
        .status()
        .unwrap();
    assert!(untar.success());
    let runtime = runtime_dir_in(dir.path());
    let json = dir.path().join("stream.json");
    let out = shuttle()
        .args(["record", "--sanitize", "--timeout-s", "90", "-o"])
        .arg(&json)
        .arg("--")
        .arg(&t.python)
        .arg(dir.path().join(example))
        .env("XDG_RUNTIME_DIR", &runtime)
        .env_remove("PYTHONPATH")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("4 process(es) recorded"), "{stderr}");
    assert_checks(&json);
    // (The example's root uses tractor's default registrar address; when
    // another program of the test run holds it, the root registers there,
    // and that registrar's identities appear too.)
    let c = Capture::from_json(&std::fs::read_to_string(&json).unwrap()).unwrap();
    for name in ["aggregator", "root", "streamer_1", "streamer_2"] {
        assert!(
            c.actors.iter().any(|a| a.name == name),
            "{name}: {:?}",
            c.actors
        );
    }
    let streamed = c
        .channels
        .iter()
        .filter(|ch| ch.frames.len() > 1000)
        .count();
    assert!(streamed >= 2, "the two streams of 1,000 items each");
}
