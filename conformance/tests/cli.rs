//! The `shuttle` command, run as a user runs it.

use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn shuttle(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_shuttle"))
        .args(args)
        .current_dir(repo())
        .output()
        .unwrap();
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&out.stderr));
    (out.status.code().unwrap_or(-1), text)
}

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
