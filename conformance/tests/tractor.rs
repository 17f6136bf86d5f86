//! Against live Python tractor: the replay and robustness cases played
//! against a tractor daemon (`conformance/peers/python/shuttle_peer.py`),
//! and a real tractor program driving `shuttle serve` and that daemon side
//! by side (`conformance/peers/python/interop.py`).
//!
//! These tests need a Python with tractor installed. They find it in
//! `SHUTTLE_TRACTOR_PYTHON`, else in `.venv-tractor/bin/python` at the top
//! of the repository. Without one they skip with a message saying how to
//! install it, except where `SHUTTLE_REQUIRE_TRACTOR=1` (CI) or `CI` is
//! set: then a missing tractor fails the run.

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

#[path = "tractor/actor.rs"]
mod actor;
#[path = "tractor/attack.rs"]
mod attack;
#[path = "tractor/interop.rs"]
mod interop;
#[path = "tractor/record.rs"]
mod record;
#[path = "tractor/replay.rs"]
mod replay;
#[path = "tractor/tree.rs"]
mod tree;

/// How to get a live tractor, printed whenever one is missing.
const INSTALL: &str = "\
install tractor 3690e43a into a Python >= 3.13 venv and point SHUTTLE_TRACTOR_PYTHON at it:
    python3.13 -m venv .venv-tractor
    .venv-tractor/bin/pip install 'tractor @ git+https://github.com/goodboy/tractor@3690e43a' msgspec==0.22.0
(on the project's machines: .venv-tractor/bin/pip install ../shared/vendor/tractor-3690e43a.tar.gz msgspec==0.22.0;
 .ci/run does this)";

pub(crate) fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// The `shuttle` binary under test, run from the top of the repository.
pub(crate) fn shuttle() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_shuttle"));
    c.current_dir(repo());
    c
}

/// A Python with tractor, and a private `XDG_RUNTIME_DIR` for its sockets.
pub(crate) struct Tractor {
    pub(crate) python: PathBuf,
    /// `tractor.__version__`-like line printed by the probe (informational).
    pub(crate) versions: String,
    runtime_dir: tempfile::TempDir,
}

impl Tractor {
    /// A command running `python ARGS...` with the environment a tractor
    /// program needs: the runtime folder, unbuffered output, no colours.
    pub(crate) fn python(&self) -> Command {
        let mut c = Command::new(&self.python);
        c.current_dir(repo())
            .env("XDG_RUNTIME_DIR", self.runtime_dir.path())
            .env("PYTHONUNBUFFERED", "1")
            .env("PYTHON_COLORS", "0")
            .env("NO_COLOR", "1")
            .env_remove("PYTHONPATH");
        c
    }

    /// The folder tractor's Unix sockets go in.
    pub(crate) fn runtime_dir(&self) -> &Path {
        self.runtime_dir.path()
    }
}

fn required() -> bool {
    std::env::var_os("SHUTTLE_REQUIRE_TRACTOR").is_some_and(|v| v != "0")
        || std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "0" && v != "false")
}

fn probe() -> Result<Tractor, String> {
    let python = match std::env::var_os("SHUTTLE_TRACTOR_PYTHON") {
        Some(p) => PathBuf::from(p),
        None => {
            let venv = repo().join(".venv-tractor/bin/python");
            if !venv.exists() {
                return Err(format!(
                    "no live tractor: SHUTTLE_TRACTOR_PYTHON is not set and {} does not exist",
                    venv.display()
                ));
            }
            venv
        }
    };
    let out = Command::new(&python)
        .args([
            "-c",
            "import sys, msgspec, trio, tractor; \
             print(f'python {sys.version.split()[0]}, msgspec {msgspec.__version__}, trio {trio.__version__}')",
        ])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("no live tractor: cannot run {}: {e}", python.display()))?;
    if !out.status.success() {
        return Err(format!(
            "no live tractor: `{} -c 'import tractor'` failed:\n{}",
            python.display(),
            String::from_utf8_lossy(&out.stderr).trim_end()
        ));
    }
    let runtime_dir = tempfile::Builder::new()
        .prefix("shuttle-tractor-")
        .tempdir()
        .map_err(|e| format!("cannot make a runtime folder: {e}"))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(runtime_dir.path(), std::fs::Permissions::from_mode(0o700))
            .map_err(|e| format!("cannot chmod the runtime folder: {e}"))?;
    }
    Ok(Tractor {
        python,
        versions: String::from_utf8_lossy(&out.stdout).trim().to_string(),
        runtime_dir,
    })
}

/// The live tractor, or `None` (with a message on stderr) when there is
/// none and none is required. Panics, with the install instructions, when
/// one is required and missing.
pub(crate) fn tractor() -> Option<&'static Tractor> {
    static PROBE: OnceLock<Result<Tractor, String>> = OnceLock::new();
    match PROBE.get_or_init(probe) {
        Ok(t) => Some(t),
        Err(why) if required() => {
            panic!("{why}\n(SHUTTLE_REQUIRE_TRACTOR or CI is set, so this fails)\n{INSTALL}")
        }
        Err(why) => {
            eprintln!("skipped: {why}\n{INSTALL}");
            None
        }
    }
}

/// A child process that is killed when dropped.
pub(crate) struct Proc(pub(crate) Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Proc {
    /// Waits up to `limit` for the process to exit by itself.
    pub(crate) fn wait_exit(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.0.try_wait().unwrap() {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// Spawns `cmd` with stdout piped and waits (at most 60 s) for a line
/// starting with `listening on `; returns the process and the address
/// that line names. Panics with what the process printed otherwise.
pub(crate) fn spawn_listening(mut cmd: Command) -> (Proc, String) {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
    let stdout = child.stdout.take().unwrap();
    let proc = Proc(child);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut lines = BufReader::new(stdout).lines();
        let mut seen = Vec::new();
        for line in lines.by_ref() {
            let Ok(line) = line else { break };
            if let Some(rest) = line.strip_prefix("listening on ") {
                let _ = tx.send(Ok(rest.split(' ').next().unwrap_or("").to_string()));
                // Keep draining so that the process never blocks on stdout.
                for _ in lines.by_ref() {}
                return;
            }
            seen.push(line);
        }
        let _ = tx.send(Err(seen.join("\n")));
    });
    match rx.recv_timeout(Duration::from_secs(60)) {
        Ok(Ok(addr)) => (proc, addr),
        Ok(Err(out)) => panic!("{cmd:?} exited without `listening on`; stdout:\n{out}"),
        Err(_) => panic!("{cmd:?} printed no `listening on` line within 60 s"),
    }
}

/// Starts `shuttle serve --quiet --listen LISTEN EXTRA...`.
pub(crate) fn serve(listen: &str, extra: &[&str]) -> (Proc, String) {
    let mut cmd = shuttle();
    cmd.args(["serve", "--quiet", "--listen", listen])
        .args(extra);
    cmd.stderr(Stdio::null());
    spawn_listening(cmd)
}

/// A free TCP port on the loopback interface (bound, then released).
pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The command line that starts the Python tractor daemon on `listen`.
pub(crate) fn python_peer_command(t: &Tractor, listen: &str) -> String {
    format!(
        "XDG_RUNTIME_DIR={} PYTHONUNBUFFERED=1 PYTHON_COLORS=0 NO_COLOR=1 exec {} conformance/peers/python/shuttle_peer.py --listen {listen}",
        t.runtime_dir().display(),
        t.python.display()
    )
}

/// Starts the Python tractor daemon on `listen` and waits until it serves.
pub(crate) fn python_peer(t: &Tractor, listen: &str) -> (Proc, String) {
    let mut cmd = t.python();
    cmd.args([
        "conformance/peers/python/shuttle_peer.py",
        "--listen",
        listen,
    ]);
    spawn_listening(cmd)
}

#[test]
fn the_live_tractor_is_the_one_the_captures_were_recorded_with() {
    let Some(t) = tractor() else { return };
    let out = t
        .python()
        .args([
            "-c",
            "import importlib.metadata as m; print(m.version('tractor'))",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let version = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(
        version.starts_with("0.1.0a6"),
        "tractor {version} ({}); the captures were recorded with 0.1.0a6.dev0 (3690e43a)",
        t.versions
    );
}
