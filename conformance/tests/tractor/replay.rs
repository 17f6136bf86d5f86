//! `shuttle replay` against the Python tractor daemon
//! (`conformance/peers/python/shuttle_peer.py`), run by the harness with
//! `--peer-command` so that it is restarted after every case that ends it.

use super::*;

const EXPECTED: &str = "conformance/peers/python/expected-failures.txt";

/// Runs every replay and robustness case against the Python daemon on
/// `listen`; checks that every replay case passes and that the robustness
/// cases fail exactly as the expected-failures list says.
fn replay_all_against_python(t: &Tractor, listen: &str) {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("python-report.json");
    let out = shuttle()
        .args([
            "replay",
            "--connect",
            listen,
            "--peer-command",
            &python_peer_command(t, listen),
            "--expected-failures",
            EXPECTED,
            "--timeout-ms",
            "15000",
            "--json",
            json.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{text}");
    let n_replay = shuttle_conformance::live::replay::embedded().unwrap().len();
    let n_robust = shuttle_conformance::live::robust::CASES.len();
    let listed = std::fs::read_to_string(repo().join(EXPECTED))
        .unwrap()
        .lines()
        .filter(|l| l.starts_with("robust/"))
        .count();
    assert_eq!(
        text.trim_end().lines().last().unwrap(),
        format!(
            "{} passed, 0 failed, 0 skipped, {listed} failed as expected",
            n_replay + n_robust - listed
        ),
        "{text}"
    );
    // One verdict per case, every death attributed to its own case: each
    // expected failure names the exception the peer died of.
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let results = report["results"].as_array().unwrap();
    assert_eq!(results.len(), n_replay + n_robust);
    for r in results {
        let id = r["id"].as_str().unwrap();
        if r["expected_failure"] == true {
            let detail = r["detail"].as_str().unwrap();
            assert!(detail.contains("PEER DIED"), "{id}: {detail}");
            assert!(
                detail.contains("the peer process exited (exit status: 1)"),
                "{id}: {detail}"
            );
        } else {
            assert_eq!(r["outcome"], "passed", "{id}: {r}");
        }
    }
    // The peer is restarted after every replay case (each ends with
    // `self.cancel`) and after every robustness case that killed it.
    let starts: usize = text
        .lines()
        .find_map(|l| l.strip_prefix("(the peer command was started "))
        .and_then(|l| l.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no start count in:\n{text}"));
    assert!(starts >= n_replay + listed, "{starts} starts\n{text}");
}

#[test]
fn every_case_against_python_tractor_over_tcp() {
    let Some(t) = tractor() else { return };
    replay_all_against_python(t, &format!("tcp://127.0.0.1:{}", free_port()));
}

#[test]
fn every_case_against_python_tractor_over_unix_sockets() {
    let Some(t) = tractor() else { return };
    let sock = t.runtime_dir().join("replay-peer.sock");
    replay_all_against_python(t, &format!("uds://{}", sock.display()));
}

#[test]
fn the_python_daemon_exits_after_self_cancel() {
    // A tractor root actor closes its listener on `self.cancel` but stays
    // in its own nursery unless the daemon waits for the cancel to
    // complete; a restart loop then hangs after the first case.
    let Some(t) = tractor() else { return };
    let listen = format!("tcp://127.0.0.1:{}", free_port());
    let (mut peer, addr) = python_peer(t, &listen);
    let out = shuttle()
        .args([
            "replay",
            "--connect",
            &addr,
            "--run",
            "replay/portal_run_return",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let status = peer.wait_exit(Duration::from_secs(15));
    assert!(
        status.is_some_and(|s| s.success()),
        "the daemon did not exit (cleanly) after self.cancel: {status:?}"
    );
}
