//! `shuttle check` against hostile files: FIFOs, link loops, huge streams
//! of garbage. It must answer with a clear verdict, in bounded memory and
//! time, and never block.

use std::path::PathBuf;
use std::process::Command;

mod support;

use support::repo;

/// Runs `shuttle check ARGS` under a 1 GiB address-space limit (so that
/// reading a large file whole would fail), killed after 120 s.
fn check(args: &[&str]) -> (i32, String) {
    let line = format!(
        "ulimit -v 1048576; exec timeout -s KILL 120 {} check {}",
        env!("CARGO_BIN_EXE_shuttle"),
        args.iter()
            .map(|a| format!("'{a}'"))
            .collect::<Vec<_>>()
            .join(" ")
    );
    let out = Command::new("sh")
        .args(["-c", &line])
        .current_dir(repo())
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.code().unwrap_or(-1), text)
}

fn capture() -> PathBuf {
    repo().join("fixtures/captures/python-tractor/cancel_actor_midstream.json")
}

#[test]
fn a_fifo_is_refused_not_waited_on() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("pipe.wire");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let (code, out) = check(&[fifo.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("not a regular file (a FIFO)"), "{out}");
    // Met in a folder walk it is skipped, and the rest is checked.
    std::fs::copy(capture(), dir.path().join("c.json")).unwrap();
    let (code, out) = check(&[dir.path().to_str().unwrap()]);
    assert_eq!(code, 0, "{out}");
    assert!(out.trim_end().ends_with("1 passed, 0 failed"), "{out}");
}

#[test]
fn link_loops_end_and_count_each_folder_once() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("d");
    std::fs::create_dir(&d).unwrap();
    std::fs::copy(capture(), d.join("c.json")).unwrap();
    std::os::unix::fs::symlink(".", d.join("self")).unwrap();
    std::os::unix::fs::symlink("..", d.join("up")).unwrap();
    let (code, out) = check(&[d.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}");
    assert!(out.trim_end().ends_with("1 passed, 0 failed"), "{out}");
}

#[test]
fn a_huge_stream_of_garbage_is_read_in_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    // 2 GiB of zero bytes (a sparse file): half a billion empty frames.
    let zeros = dir.path().join("zeros.wire");
    std::fs::File::create(&zeros)
        .unwrap()
        .set_len(2 << 30)
        .unwrap();
    let (code, out) = check(&[zeros.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("FAIL"), "{out}");
    assert!(out.contains("stopped after 1000 problems"), "{out}");
    // Only the first problems are shown, the rest counted.
    assert!(out.contains("... and "), "{out}");
    // A length prefix over the frame limit ends the stream's check.
    let big = dir.path().join("big.wire");
    std::fs::write(&big, [0x00, 0x00, 0x00, 0x10, 0x82]).unwrap();
    let (code, out) = check(&[big.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("frame 0: the length prefix announces 268435456 bytes, over the frame limit"),
        "{out}"
    );
}

#[test]
fn a_json_file_over_the_read_limit_is_refused_before_it_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.json");
    std::fs::File::create(&big)
        .unwrap()
        .set_len(300 << 20)
        .unwrap();
    let (code, out) = check(&[big.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("over the 256 MiB read for a .json file"),
        "{out}"
    );
}
