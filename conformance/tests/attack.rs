//! Resource attacks against `shuttle serve` (an actor on `shuttle-actor`):
//! every attack of `shuttle attack` is survived within its budget, a
//! second `serve` cannot take over a live server's Unix socket, and a
//! stderr nobody reads never stops the server.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

mod support;

use support::{bin, Proc};

/// Starts `shuttle serve --listen ADDR EXTRA...` with the given stderr;
/// returns it once it printed its address.
fn serve(listen: &str, extra: &[&str], stderr: Stdio) -> (Proc, String) {
    let mut child = bin()
        .args(["serve", "--listen", listen])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    let addr = line
        .trim_end()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("no address: {line:?}"))
        .to_string();
    (Proc(child), addr)
}

fn frame(body: &[u8]) -> Vec<u8> {
    let mut out = (body.len() as u32).to_le_bytes().to_vec();
    out.extend_from_slice(body);
    out
}

fn read_frame(s: &mut impl std::io::Read) -> Option<Vec<u8>> {
    let mut len = [0u8; 4];
    s.read_exact(&mut len).ok()?;
    let mut body = vec![0; u32::from_le_bytes(len) as usize];
    s.read_exact(&mut body).ok()?;
    Some(body)
}

/// Connects over a Unix socket, exchanges `Aid`s and calls `add(20, 22)`:
/// whether 42 came back.
fn add_over_unix(path: &Path) -> bool {
    let Ok(mut s) = std::os::unix::net::UnixStream::connect(path) else {
        return false;
    };
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let uid = shuttle::Uid::new("t", "00000000-0000-4000-8000-000000000001");
    let aid = shuttle::Aid::new("t", "00000000-0000-4000-8000-000000000001").to_vec();
    let kwargs = shuttle::StrMap::encode(&rmpv::Value::Map(vec![
        ("x".into(), 20.into()),
        ("y".into(), 22.into()),
    ]))
    .unwrap();
    let start = shuttle::Start::new("c1", "__main__", "add", kwargs, uid).to_vec();
    if s.write_all(&frame(&aid)).is_err() || s.write_all(&frame(&start)).is_err() {
        return false;
    }
    while let Some(body) = read_frame(&mut s) {
        if let Ok(shuttle::Msg::Return(r)) = shuttle::Msg::decode(&body) {
            return r.pld.to_value().ok().and_then(|v| v.as_u64()) == Some(42);
        }
    }
    false
}

#[test]
fn serve_survives_every_resource_attack_within_its_budget() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("tcp://127.0.0.1:{port}");
    let serve = format!(
        "exec {} serve --quiet --listen {addr}",
        env!("CARGO_BIN_EXE_shuttle")
    );
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("attack.json");
    let out = bin()
        .args(["attack", "--connect", &addr, "--peer-command", &serve])
        .args(["--json", json.to_str().unwrap()])
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    let n = shuttle_conformance::live::attack::CASES.len();
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains(&format!("{n} survived, 0 degraded, 0 died")),
        "{text}"
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    for r in report["results"].as_array().unwrap() {
        let m = &r["report"];
        // The memory was observed (the harness runs the peer), so the
        // memory budget was really judged, and the probe was answered.
        assert!(m["rss_peak_mib"].is_number(), "{r}");
        assert!(m["probes"].as_u64().unwrap() > 0, "{r}");
    }
    // The amplified arguments were refused before being decoded.
    let amp = report["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "attack/arg-amplification")
        .unwrap();
    assert!(
        amp["report"]["steps"][0]
            .as_str()
            .unwrap()
            .contains("answered: Ok(\"Error"),
        "{amp}"
    );
}

#[test]
fn a_second_serve_cannot_take_over_a_live_unix_socket() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("serve.sock");
    let listen = format!("uds://{}", path.display());
    let (_first, _) = serve(&listen, &["--quiet"], Stdio::null());
    assert!(add_over_unix(&path));
    let second = bin()
        .args(["serve", "--quiet", "--listen", &listen])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&second.stderr);
    assert!(!second.status.success(), "{err}");
    assert!(err.contains(&format!("cannot listen on {listen}")), "{err}");
    assert!(err.contains("in use"), "{err}");
    // The first server still owns its socket.
    assert!(add_over_unix(&path));
}

#[test]
fn a_stale_unix_socket_file_is_taken_over() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("stale.sock");
    drop(std::os::unix::net::UnixListener::bind(&path).unwrap());
    assert!(path.exists());
    let (_serve, _) = serve(
        &format!("uds://{}", path.display()),
        &["--quiet"],
        Stdio::null(),
    );
    assert!(add_over_unix(&path));
}

#[test]
fn a_stderr_nobody_reads_never_stops_serve() {
    // `--record` logs a line per channel; with stderr a pipe nobody
    // reads, a blocking write would stop the whole server once the pipe's
    // 64 KiB are full (about 700 lines here).
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("s.sock");
    let rec = dir.path().join("rec");
    let (mut proc, _) = serve(
        &format!("uds://{}", sock.display()),
        &[
            "--record",
            rec.to_str().unwrap(),
            "--name",
            &"n".repeat(200),
        ],
        Stdio::piped(),
    );
    for _ in 0..1500 {
        assert!(add_over_unix(&sock), "serve stopped answering");
    }
    // It logged, and what it could not write was dropped, not waited for.
    let mut err = proc.0.stderr.take().unwrap();
    let mut some = vec![0; 4096];
    let n = err.read(&mut some).unwrap();
    assert!(String::from_utf8_lossy(&some[..n]).contains("recorded "));
}
