//! Live peer mode end to end: `shuttle replay` against `shuttle serve`
//! over TCP and Unix sockets, in both directions, and against peers that
//! misbehave on purpose.

use std::io::{BufRead as _, BufReader};
use std::process::{ChildStdout, Stdio};
use std::time::{Duration, Instant};

use shuttle_conformance::live::{gen, replay};

mod support;

use support::{bin, repo, Proc};

/// Reads lines until one starts with `prefix`; returns the rest of it.
fn wait_line(out: &mut BufReader<ChildStdout>, prefix: &str) -> String {
    let mut line = String::new();
    loop {
        line.clear();
        assert!(out.read_line(&mut line).unwrap() > 0, "no {prefix:?} line");
        if let Some(rest) = line.trim_end().strip_prefix(prefix) {
            return rest.split(' ').next().unwrap().to_string();
        }
    }
}

/// Starts `shuttle serve --listen ADDR` (plus `extra`), returns it and the bound address.
fn serve(listen: &str, extra: &[&str]) -> (Proc, String) {
    let mut child = bin()
        .args(["serve", "--quiet", "--listen", listen])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let addr = wait_line(&mut out, "listening on ");
    (Proc(child), addr)
}

/// Runs `shuttle replay` with `args`; returns exit code and output.
fn replay(args: &[&str]) -> (i32, String) {
    let out = bin().arg("replay").args(args).output().unwrap();
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&out.stderr));
    (out.status.code().unwrap_or(-1), text)
}

fn last_line(text: &str) -> &str {
    text.trim_end().lines().last().unwrap_or("")
}

fn n_replay_cases() -> usize {
    replay::embedded().unwrap().len()
}

#[test]
fn every_replay_case_passes_against_serve_over_tcp() {
    let (_peer, addr) = serve("tcp://127.0.0.1:0", &[]);
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("report.json");
    let (code, out) = replay(&[
        "--connect",
        &addr,
        "--run",
        "replay/*",
        "--timeout-ms",
        "5000",
        "--json",
        json.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}");
    let n = n_replay_cases();
    assert_eq!(
        last_line(&out),
        format!("{n} passed, 0 failed, 0 skipped"),
        "{out}"
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(report["totals"]["passed"], n);
    assert_eq!(report["results"][0]["outcome"], "passed");
    assert!(report["results"][0]["transcript"].as_array().unwrap().len() > 3);
}

#[test]
fn every_replay_case_passes_against_serve_over_unix_sockets() {
    let dir = tempfile::tempdir().unwrap();
    let sock = format!("uds://{}", dir.path().join("peer.sock").display());
    let (_peer, addr) = serve(&sock, &[]);
    assert_eq!(addr, sock);
    let (code, out) = replay(&["--connect", &addr, "--run", "replay/*"]);
    assert_eq!(code, 0, "{out}");
    let n = n_replay_cases();
    assert_eq!(
        last_line(&out),
        format!("{n} passed, 0 failed, 0 skipped"),
        "{out}"
    );
}

#[test]
fn robustness_cases_pass_and_serve_survives_them() {
    let dir = tempfile::tempdir().unwrap();
    for listen in [
        "tcp://127.0.0.1:0".to_string(),
        format!("uds://{}", dir.path().join("robust.sock").display()),
    ] {
        let (mut peer, addr) = serve(&listen, &[]);
        let (code, out) = replay(&[
            "--connect",
            &addr,
            "--run",
            "robust/*",
            "--timeout-ms",
            "3000",
        ]);
        assert_eq!(code, 0, "{out}");
        assert_eq!(last_line(&out), "12 passed, 0 failed, 0 skipped", "{out}");
        assert!(peer.0.try_wait().unwrap().is_none(), "serve exited");
        // And it still serves a whole dialog afterwards.
        let (code, out) = replay(&["--connect", &addr, "--run", "replay/multiplexed_contexts"]);
        assert_eq!(code, 0, "{out}");
    }
}

#[test]
fn listen_mode_plays_the_parent_for_a_connecting_peer() {
    let dir = tempfile::tempdir().unwrap();
    for listen in [
        "tcp://127.0.0.1:0".to_string(),
        format!("uds://{}", dir.path().join("harness.sock").display()),
    ] {
        let mut harness = bin()
            .args(["replay", "--listen", &listen, "--timeout-ms", "5000"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut out = BufReader::new(harness.stdout.take().unwrap());
        let addr = wait_line(&mut out, "listening on ");
        let _peer = Proc(
            bin()
                .args(["serve", "--quiet", "--connect", &addr])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap(),
        );
        let mut rest = String::new();
        std::io::Read::read_to_string(&mut out, &mut rest).unwrap();
        let status = harness.wait().unwrap();
        assert!(status.success(), "{rest}");
        let n = n_replay_cases();
        assert_eq!(
            last_line(&rest),
            format!("{n} passed, 0 failed, 12 skipped"),
            "{rest}"
        );
        assert!(
            rest.contains("skip  robust/non-map  (robustness cases need --connect)"),
            "{rest}"
        );
    }
}

#[test]
fn a_wrong_answer_fails_the_right_cases_with_a_transcript() {
    let (_peer, addr) = serve("tcp://127.0.0.1:0", &["--misbehave", "wrong-add"]);
    let (code, out) = replay(&[
        "--connect",
        &addr,
        "--timeout-ms",
        "2000",
        "--run",
        "replay/portal_run_return",
        "--run",
        "replay/ctx_started_return",
        "--run",
        "robust/legacy-nil",
    ]);
    assert_eq!(code, 1, "{out}");
    assert_eq!(last_line(&out), "1 passed, 2 failed, 0 skipped", "{out}");
    assert!(out.contains("ok    replay/ctx_started_return"), "{out}");
    assert!(out.contains("FAIL  replay/portal_run_return"), "{out}");
    assert!(out.contains("at $.pld: expected 7, got 8"), "{out}");
    assert!(
        out.contains("<- Return cid=4038e43d-07a1-462d-a1df-66b86b6a2d9d pld=8   [MISMATCH]"),
        "{out}"
    );
    assert!(
        out.contains("-> Start cid=4038e43d-07a1-462d-a1df-66b86b6a2d9d __main__.add(x=3, y=4)"),
        "{out}"
    );
    assert!(
        out.contains("channel B answered wrongly: add(x=20, y=22) returned 43, not 42"),
        "{out}"
    );
}

#[test]
fn a_silent_peer_times_out_and_the_run_finishes() {
    let (_peer, addr) = serve("tcp://127.0.0.1:0", &["--misbehave", "hang"]);
    let started = Instant::now();
    let (code, out) = replay(&[
        "--connect",
        &addr,
        "--timeout-ms",
        "500",
        "--run",
        "replay/portal_run_return",
        "--run",
        "replay/stream_from_asyncgen",
        "--run",
        "robust/non-map",
    ]);
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(code, 1, "{out}");
    assert_eq!(last_line(&out), "0 passed, 3 failed, 0 skipped", "{out}");
    assert!(
        out.contains(
            "no frame within 500 ms while the harness waited for: peer: StartAck cid=4038e43d"
        ),
        "{out}"
    );
    assert!(out.contains("PEER DIED or stopped serving"), "{out}");
}

#[test]
fn a_peer_that_dies_is_reported_as_dead() {
    let (mut peer, addr) = serve("tcp://127.0.0.1:0", &["--misbehave", "die-on-garbage"]);
    let (code, out) = replay(&[
        "--connect",
        &addr,
        "--timeout-ms",
        "500",
        "--run",
        "robust/non-map",
        "--run",
        "robust/no-msg-type",
    ]);
    assert_eq!(code, 1, "{out}");
    let deadline = Instant::now() + Duration::from_secs(5);
    while peer.0.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "the peer should have exited");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(out.contains("FAIL  robust/non-map"), "{out}");
    assert!(out.contains("PEER DIED or stopped serving: after the hostile input on channel A, channel B failed: the peer closed the channel"), "{out}");
    assert!(out.contains("FAIL  robust/no-msg-type"), "{out}");
    // Refused, or reset while the process was going away.
    assert!(out.contains("PEER DIED? c"), "{out}");
    assert_eq!(last_line(&out), "0 passed, 2 failed, 0 skipped", "{out}");
}

#[test]
fn committed_replay_cases_are_what_import_replay_makes_of_the_captures() {
    let built = gen::build(&repo().join("fixtures/captures/python-tractor")).unwrap();
    let dir = repo().join("fixtures/replay");
    let mut committed: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".json"))
        .collect();
    committed.sort();
    let names: Vec<String> = built.iter().map(|(n, _)| n.clone()).collect();
    assert_eq!(
        names, committed,
        "fixtures/replay holds other files than import-replay writes"
    );
    for (name, case) in &built {
        let fresh = gen::to_text(case);
        let old = std::fs::read_to_string(dir.join(name)).unwrap();
        assert!(
            fresh == old,
            "fixtures/replay/{name} is stale: regenerate with\n  cargo run -p shuttle-conformance -- import-replay fixtures/captures/python-tractor --out fixtures/replay"
        );
    }
    // The binary embeds exactly these files.
    let embedded: Vec<String> = replay::embedded()
        .unwrap()
        .iter()
        .map(|c| c.id.clone())
        .collect();
    let ids: Vec<String> = built.iter().map(|(_, c)| c.id.clone()).collect();
    assert_eq!(embedded, ids);
}

#[test]
fn replay_lists_cases_and_rejects_bad_addresses() {
    let (code, out) = replay(&["--list"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(
        last_line(&out),
        format!("{} cases", n_replay_cases() + 12),
        "{out}"
    );
    let (code, out) = replay(&["--list", "--suite", "fixtures/replay", "--run", "replay/*"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(
        last_line(&out),
        format!("{} cases", n_replay_cases()),
        "{out}"
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("bad.json"), r#"{"format": "shuttle-replay/1", "id": "x", "title": "", "provenance": {}, "endpoints": [], "steps": [{"expect": {"$": "regex", "re": "("}}]}"#).unwrap();
    let (code, out) = replay(&["--list", "--suite", dir.path().to_str().unwrap()]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("bad.json: x: step 0: bad regex"), "{out}");
    let (code, out) = replay(&["--connect", "http://x"]);
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains("expected tcp://HOST:PORT or uds:///PATH"),
        "{out}"
    );
}

/// Reads one frame body from a blocking stream.
fn read_frame(s: &mut std::net::TcpStream) -> Option<Vec<u8>> {
    use std::io::Read as _;
    let mut len = [0u8; 4];
    s.read_exact(&mut len).ok()?;
    let mut body = vec![0u8; u32::from_le_bytes(len) as usize];
    s.read_exact(&mut body).ok()?;
    Some(body)
}

#[test]
fn serve_answers_a_registrar_probe_and_closes() {
    use std::io::Write as _;
    let (_peer, addr) = serve("tcp://127.0.0.1:0", &[]);
    let mut s = std::net::TcpStream::connect(addr.strip_prefix("tcp://").unwrap()).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut probe = shuttle::Aid::new("registry-probe", "00000000-0000-4000-8000-000000000001");
    probe.is_probe = true;
    let probe = probe.to_vec();
    let mut frame = Vec::new();
    shuttle::frame::write_frame(&mut frame, &probe).unwrap();
    s.write_all(&frame).unwrap();
    let body = read_frame(&mut s).expect("the peer's Aid");
    match shuttle::Msg::decode(&body).unwrap() {
        shuttle::Msg::Aid(a) => {
            assert_eq!(a.name, "shuttle");
            assert_eq!(a.is_registrar, Some(false));
            assert!(!a.is_probe);
        }
        other => panic!("not an Aid: {other:?}"),
    }
    assert!(read_frame(&mut s).is_none(), "the channel should be closed");
}

mod ordering {
    //! The harness's ordering rules, against a scripted peer: strict within
    //! a cid, free across cids.

    use std::time::Duration;

    use base64::Engine as _;
    use shuttle::{Functype, Msg, Raw, Return, StartAck};
    use shuttle_conformance::live::replay::{self, ReplayCase, Step};
    use shuttle_conformance::live::session::Session;
    use shuttle_conformance::live::transport::{self, Address, FrameReader, Listener};

    fn ack(cid: &str) -> Vec<u8> {
        Msg::from(StartAck::new(cid, Functype::AsyncFunc))
            .to_vec()
            .unwrap()
    }

    fn ret(cid: &str, v: i64) -> Vec<u8> {
        Msg::Return(Return::new(cid, Raw::encode(&v).unwrap()))
            .to_vec()
            .unwrap()
    }

    fn case() -> ReplayCase {
        let b64 = |b: Vec<u8>| base64::engine::general_purpose::STANDARD.encode(b);
        let send = |cid: &str| Step {
            note: format!("Stop {cid} (stands in for a request)"),
            send: Some(b64(Msg::from(shuttle::Stop::new(cid)).to_vec().unwrap())),
            expect: None,
        };
        let expect = |p: serde_json::Value| Step {
            note: format!("peer: {p}"),
            send: None,
            expect: Some(p),
        };
        ReplayCase {
            format: replay::FORMAT.into(),
            id: "replay/synthetic".into(),
            title: "two dialogs".into(),
            provenance: Default::default(),
            endpoints: vec![],
            steps: vec![
                send("a"),
                send("b"),
                expect(
                    serde_json::json!({"msg_type": "StartAck", "cid": "a", "functype": "asyncfunc"}),
                ),
                expect(serde_json::json!({"msg_type": "Return", "cid": "a", "pld": 1})),
                expect(
                    serde_json::json!({"msg_type": "StartAck", "cid": "b", "functype": "asyncfunc"}),
                ),
                expect(serde_json::json!({"msg_type": "Return", "cid": "b", "pld": 2})),
            ],
        }
    }

    /// Plays the case against a peer that reads two frames and then sends `answers`.
    fn play_against(answers: Vec<Vec<u8>>) -> Result<(), String> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = Listener::bind(&Address::Tcp("127.0.0.1:0".into()))
                .await
                .unwrap();
            let addr = listener.local_addr();
            let peer = tokio::spawn(async move {
                let mut conn = transport::accept(&listener).await.unwrap();
                let mut reader = FrameReader::new(conn.read, 1 << 20);
                reader.next().await.unwrap();
                reader.next().await.unwrap();
                for a in answers {
                    transport::write_frame(&mut conn.write, &a).await.unwrap();
                }
                // Keep the connection open until the harness is done.
                let _ = reader.next().await;
            });
            let mut s = Session::new(transport::connect(&addr).await.unwrap());
            let r = replay::play(&case(), &mut s, Duration::from_millis(500)).await;
            drop(s);
            let _ = peer.await;
            r
        })
    }

    #[test]
    fn dialogs_may_interleave_in_any_order_across_cids() {
        play_against(vec![ack("b"), ack("a"), ret("b", 2), ret("a", 1)]).unwrap();
        play_against(vec![ack("a"), ret("a", 1), ack("b"), ret("b", 2)]).unwrap();
    }

    #[test]
    fn order_within_a_cid_is_strict() {
        let e = play_against(vec![ret("a", 1), ack("a"), ack("b"), ret("b", 2)]).unwrap_err();
        assert!(
            e.contains("does not match peer: {\"msg_type\":\"StartAck\""),
            "{e}"
        );
        assert!(
            e.contains("at $.msg_type: expected \"StartAck\", got \"Return\""),
            "{e}"
        );
    }

    #[test]
    fn an_extra_frame_or_a_missing_one_fails() {
        let e = play_against(vec![ack("a"), ret("a", 1), ret("a", 1)]).unwrap_err();
        assert!(e.contains("unexpected frame Return cid=a"), "{e}");
        let e = play_against(vec![ack("a"), ret("a", 1), ack("b")]).unwrap_err();
        assert!(e.contains("no frame within 500 ms"), "{e}");
        assert!(
            e.contains("waited for: peer: {\"msg_type\":\"Return\",\"cid\":\"b\""),
            "{e}"
        );
    }
}

#[test]
fn the_python_peer_defines_every_endpoint_the_cases_call() {
    let source =
        std::fs::read_to_string(repo().join("conformance/peers/python/shuttle_peer.py")).unwrap();
    let defined: Vec<&str> = source
        .lines()
        .filter_map(|l| l.strip_prefix("async def "))
        .filter_map(|l| l.split('(').next())
        .collect();
    for case in replay::embedded().unwrap() {
        for ep in &case.endpoints {
            let Some(func) = ep.strip_prefix("__main__.") else {
                continue;
            };
            if func == "no_such_function" {
                continue; // the case checks that it is missing
            }
            assert!(
                defined.contains(&func),
                "{}: shuttle_peer.py has no endpoint {func}",
                case.id
            );
        }
    }
    assert!(!defined.contains(&"no_such_function"));
}

#[test]
fn a_peer_that_exits_after_each_cancel_is_waited_for_between_cases() {
    // What a Python tractor actor run in a restart loop does: exit after
    // `self.cancel`, come back on the same address.
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    let dir = tempfile::tempdir().unwrap();
    let sock = format!("uds://{}", dir.path().join("restarting.sock").display());
    let stop = Arc::new(AtomicBool::new(false));
    let (first_tx, first_rx) = std::sync::mpsc::channel();
    let restarts = {
        let (stop, sock) = (stop.clone(), sock.clone());
        std::thread::spawn(move || {
            let mut starts = 0;
            while !stop.load(Ordering::SeqCst) {
                let (mut peer, _) = serve(&sock, &["--exit-on-cancel"]);
                starts += 1;
                let _ = first_tx.send(());
                while !stop.load(Ordering::SeqCst) && peer.0.try_wait().unwrap().is_none() {
                    std::thread::sleep(Duration::from_millis(5));
                }
            }
            starts
        })
    };
    first_rx.recv().unwrap();
    let (code, out) = replay(&[
        "--connect",
        &sock,
        "--run",
        "replay/*",
        "--timeout-ms",
        "5000",
    ]);
    stop.store(true, Ordering::SeqCst);
    let starts = restarts.join().unwrap();
    assert_eq!(code, 0, "{out}");
    let n = n_replay_cases();
    assert_eq!(
        last_line(&out),
        format!("{n} passed, 0 failed, 0 skipped"),
        "{out}"
    );
    assert!(starts > n, "the peer started {starts} times for {n} cases");
}

#[test]
fn robustness_cases_wait_for_a_peer_restarted_after_each_death() {
    // A peer that dies of every undecodable frame and comes back after a
    // while, as a Python tractor actor run in a restart loop does: every
    // case must get its own verdict (the peer died of it), not "connection
    // refused" because the previous case killed it.
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    let dir = tempfile::tempdir().unwrap();
    let sock = format!("uds://{}", dir.path().join("dying.sock").display());
    let stop = Arc::new(AtomicBool::new(false));
    let (first_tx, first_rx) = std::sync::mpsc::channel();
    let restarts = {
        let (stop, sock) = (stop.clone(), sock.clone());
        std::thread::spawn(move || {
            let mut starts = 0;
            while !stop.load(Ordering::SeqCst) {
                let (mut peer, _) = serve(&sock, &["--misbehave", "die-on-garbage"]);
                starts += 1;
                let _ = first_tx.send(());
                while !stop.load(Ordering::SeqCst) && peer.0.try_wait().unwrap().is_none() {
                    std::thread::sleep(Duration::from_millis(5));
                }
                // A slow start, like a Python actor's.
                std::thread::sleep(Duration::from_millis(400));
            }
            starts
        })
    };
    first_rx.recv().unwrap();
    let dying = [
        "robust/non-map",
        "robust/no-msg-type",
        "robust/five-undecodable",
    ];
    let mut args = vec!["--connect", &sock, "--timeout-ms", "5000"];
    for id in dying {
        args.extend(["--run", id]);
    }
    let (code, out) = replay(&args);
    stop.store(true, Ordering::SeqCst);
    let starts = restarts.join().unwrap();
    assert_eq!(code, 1, "{out}");
    for id in dying {
        let at = out
            .find(&format!("FAIL  {id}"))
            .unwrap_or_else(|| panic!("{id}: {out}"));
        let verdict = out[at..].lines().nth(1).unwrap();
        assert!(
            verdict.contains("PEER DIED or stopped serving: after the hostile input on channel A"),
            "{id}: {verdict}\n{out}"
        );
    }
    assert_eq!(last_line(&out), "0 passed, 3 failed, 0 skipped", "{out}");
    assert!(starts >= 3, "{starts} starts");
}

#[test]
fn a_peer_command_is_restarted_and_its_death_reported_with_its_case() {
    let dir = tempfile::tempdir().unwrap();
    let sock = format!("uds://{}", dir.path().join("spawned.sock").display());
    let command = format!(
        "exec {} serve --listen {sock} --misbehave die-on-garbage",
        env!("CARGO_BIN_EXE_shuttle")
    );
    let expected = dir.path().join("expected.txt");
    std::fs::write(
        &expected,
        "# shuttle serve --misbehave die-on-garbage exits on these\n\
         robust/non-map    rejected a 4-byte frame\n\
         robust/no-msg-type  exit status: 3\n",
    )
    .unwrap();
    let (code, out) = replay(&[
        "--connect",
        &sock,
        "--peer-command",
        &command,
        "--timeout-ms",
        "5000",
        "--run",
        "robust/non-map",
        "--run",
        "robust/no-msg-type",
        "--run",
        "replay/portal_run_return",
        "--expected-failures",
        expected.to_str().unwrap(),
        "-v",
    ]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("xfail robust/non-map"), "{out}");
    assert!(
        out.contains("the peer process exited (exit status: 3); the last lines of its stderr:"),
        "{out}"
    );
    assert!(
        out.contains("(the peer command was started 2 times)"),
        "{out}"
    );
    assert_eq!(
        last_line(&out),
        "1 passed, 0 failed, 0 skipped, 2 failed as expected",
        "{out}"
    );
    // An entry matching no selected case is refused before anything runs.
    std::fs::write(&expected, "robust/no-such-case\n").unwrap();
    let (code, out) = replay(&[
        "--connect",
        &sock,
        "--run",
        "robust/non-map",
        "--expected-failures",
        expected.to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains("no selected case matches robust/no-such-case"),
        "{out}"
    );
}

#[test]
fn serve_records_every_channel_as_a_capture_that_check_passes() {
    let dir = tempfile::tempdir().unwrap();
    let rec = dir.path().join("recorded");
    let (_peer, addr) = serve("tcp://127.0.0.1:0", &["--record", rec.to_str().unwrap()]);
    let (code, out) = replay(&["--connect", &addr, "--run", "replay/*"]);
    assert_eq!(code, 0, "{out}");
    let n = n_replay_cases();
    // Each channel is written when it ends; the last one may still be going.
    let deadline = Instant::now() + Duration::from_secs(10);
    let count = || {
        std::fs::read_dir(&rec)
            .unwrap()
            .filter(|e| e.as_ref().unwrap().path().extension() == Some("json".as_ref()))
            .count()
    };
    while count() < n {
        assert!(Instant::now() < deadline, "{} of {n} recordings", count());
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = bin()
        .args(["check", rec.to_str().unwrap()])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert_eq!(last_line(&text), format!("{n} passed, 0 failed"), "{text}");
    assert!(text.contains("byte-identical"), "{text}");
    assert!(text.contains("follow the dialog rules"), "{text}");
}
