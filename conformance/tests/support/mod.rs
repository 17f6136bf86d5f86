//! What the harness's test binaries share: the repository, the `shuttle`
//! binary under test, and child processes that never outlive a test.
//! (Each test file is its own binary; each uses what it needs of this.)
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command};

/// The top of the repository.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// The `shuttle` binary under test, run from the top of the repository.
pub fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_shuttle"));
    c.current_dir(repo());
    c
}

/// Runs `shuttle ARGS`; returns its exit code and stdout then stderr.
pub fn shuttle(args: &[&str]) -> (i32, String) {
    let out = bin().args(args).output().unwrap();
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&out.stderr));
    (out.status.code().unwrap_or(-1), text)
}

/// A child process that is killed when dropped.
pub struct Proc(pub Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
