//! A real tractor program (`conformance/peers/python/interop.py`) calling
//! `shuttle serve` and the Python daemon side by side through tractor's
//! own API (`open_portal`, `run`, `run_from_ns`, `open_stream_from`,
//! `open_context`, `cancel_actor`), over TCP and over a Unix socket. Every
//! check must have the same outcome on both; what `shuttle serve` read and
//! wrote is recorded and must pass `shuttle check`, so the live traffic of
//! tractor's own client is judged by the same rules as the captures.

use super::*;

/// The checks `interop.py` runs; a new one is added there and counted here.
const CHECKS: usize = 36;

fn side_by_side(transport: &str) {
    let Some(t) = tractor() else { return };
    let record = tempfile::tempdir().unwrap();
    let listen = match transport {
        "tcp" => "tcp://127.0.0.1:0".to_string(),
        _ => format!("uds://{}/shuttle-interop.sock", t.runtime_dir().display()),
    };
    let (mut rust, rust_addr) = serve(
        &listen,
        &[
            "--exit-on-cancel",
            "--record",
            record.path().to_str().unwrap(),
        ],
    );
    let py_listen = match transport {
        "tcp" => format!("tcp://127.0.0.1:{}", free_port()),
        _ => format!("uds://{}/python-interop.sock", t.runtime_dir().display()),
    };
    let (mut python, py_addr) = python_peer(t, &py_listen);
    let reports = tempfile::tempdir().unwrap();
    let json = reports.path().join("interop.json");
    let out = t
        .python()
        .args([
            "conformance/peers/python/interop.py",
            "--peer",
            &format!("shuttle={rust_addr}"),
            "--peer",
            &format!("python={py_addr}"),
            "--json",
            json.to_str().unwrap(),
        ])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "interop.py failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
    let last = stdout.lines().last().unwrap_or("");
    assert!(
        last.starts_with(&format!("{CHECKS} same, 0 differ ({CHECKS} checks")),
        "{stdout}"
    );

    // The JSON report holds an outcome per peer for every check, equal.
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let checks = report["checks"].as_array().unwrap();
    assert_eq!(checks.len(), CHECKS);
    for c in checks {
        let outcomes = &c["outcomes"];
        assert_eq!(outcomes["shuttle"], outcomes["python"], "{c}");
        assert!(!outcomes["shuttle"].is_null(), "{c}");
        assert_eq!(c["ok"], true, "{c}");
    }
    // Errors were compared too, not only values.
    assert!(
        checks.iter().any(|c| c["outcomes"]["python"]
            .to_string()
            .contains("ModuleNotExposed")),
        "{report}"
    );

    // `cancel_actor` was the last check: both actors exit by themselves.
    let status = rust.wait_exit(Duration::from_secs(20));
    assert!(
        status.is_some_and(|s| s.success()),
        "shuttle serve did not exit after cancel_actor: {status:?}"
    );
    assert!(
        python.wait_exit(Duration::from_secs(20)).is_some(),
        "the Python daemon did not exit after cancel_actor"
    );

    // What tractor's client sent and shuttle answered passes the checks
    // the captures pass.
    let recorded: Vec<_> = std::fs::read_dir(record.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    assert!(!recorded.is_empty(), "nothing recorded");
    let out = shuttle().arg("check").arg(record.path()).output().unwrap();
    let check = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "shuttle check failed:\n{check}");
    assert!(
        check
            .lines()
            .last()
            .is_some_and(|l| l == format!("{} passed, 0 failed", recorded.len())),
        "{check}"
    );
}

#[test]
fn tractor_calls_shuttle_serve_and_python_alike_over_tcp() {
    side_by_side("tcp");
}

#[test]
fn tractor_calls_shuttle_serve_and_python_alike_over_uds() {
    side_by_side("uds");
}
