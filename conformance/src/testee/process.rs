//! A testee run as a subprocess, spoken to over its stdin/stdout.

use std::io::{BufReader, Read};
use std::os::unix::process::CommandExt as _;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::protocol::{self, Hello, Request, Response, MAX_RESPONSE, SUITE_VERSION};

use super::{Failure, Testee};

/// How long a testee has to answer its hello by default (an interpreter
/// may take a while to start): `shuttle run --start-timeout-ms`.
pub const DEFAULT_START_TIMEOUT: Duration = Duration::from_secs(10);

/// What the reader thread saw on the testee's stdout.
type Incoming = Result<Vec<u8>, String>;

/// A running testee process, restarted after a crash or a timeout.
#[derive(Debug)]
pub struct Process {
    command: String,
    timeout: Duration,
    start_timeout: Duration,
    hello: Hello,
    running: Option<Running>,
    restarts: usize,
}

#[derive(Debug)]
struct Running {
    child: Child,
    /// The value of its [`crate::children::MARKER`] variable.
    marker: String,
    stdin: ChildStdin,
    frames: Receiver<Incoming>,
    stderr_tail: Arc<Mutex<Vec<u8>>>,
}

impl Running {
    /// Kills the testee and everything it started: its process group (the
    /// command runs under `sh -c`, which may leave children behind), and
    /// every process carrying its marker in its environment, which
    /// finds descendants that left the group with `setsid()`.
    fn kill(&mut self) {
        crate::children::ended_group(self.child.id());
        if let Ok(pid) = i32::try_from(self.child.id()) {
            let _ = nix::sys::signal::killpg(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
        let _ = self.child.kill();
        crate::children::kill_marked(&self.marker);
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.kill();
        let _ = self.child.wait();
    }
}

impl Process {
    /// Starts `command` (run by `sh -c`) and exchanges hellos, giving the
    /// hello [`DEFAULT_START_TIMEOUT`] or `timeout`, whichever is longer;
    /// every later request gets `timeout`.
    pub fn start(command: &str, timeout: Duration) -> anyhow::Result<Process> {
        Process::start_with(command, timeout, timeout.max(DEFAULT_START_TIMEOUT))
    }

    /// Starts `command` as [`Process::start`] does, waiting `start_timeout`
    /// for its hello (at start and at every restart).
    pub fn start_with(
        command: &str,
        timeout: Duration,
        start_timeout: Duration,
    ) -> anyhow::Result<Process> {
        let (running, hello) = spawn(command, start_timeout)
            .map_err(|e| anyhow::anyhow!("testee `{command}` did not start: {e}"))?;
        Ok(Process {
            command: command.to_string(),
            timeout,
            start_timeout,
            hello,
            running: Some(running),
            restarts: 0,
        })
    }

    /// How many times the testee was restarted.
    pub fn restarts(&self) -> usize {
        self.restarts
    }

    fn fail(&mut self, what: String) -> Failure {
        let tail = self.running.take().map(|mut r| {
            let _ = r.child.kill();
            let status = r.child.wait().ok();
            let tail = r.stderr_tail.lock().map(|t| t.clone()).unwrap_or_default();
            (status, tail)
        });
        let mut text = what;
        if let Some((status, tail)) = tail {
            if let Some(s) = status {
                text.push_str(&format!(" ({s})"));
            }
            let tail = String::from_utf8_lossy(&tail);
            if !tail.trim().is_empty() {
                text.push_str(&format!("; stderr: {}", tail.trim()));
            }
        }
        Failure::Crashed(text)
    }
}

impl Testee for Process {
    fn hello(&self) -> &Hello {
        &self.hello
    }

    fn call(&mut self, req: &Request) -> Result<Response, Failure> {
        let Some(kind) = req.kind() else {
            return Err(Failure::Crashed(
                "a hello is exchanged when the testee starts, not sent as a call".into(),
            ));
        };
        if self.running.is_none() {
            match spawn(&self.command, self.start_timeout) {
                Ok((r, _)) => {
                    self.restarts += 1;
                    self.running = Some(r);
                }
                Err(e) => return Err(Failure::Crashed(format!("restart failed: {e}"))),
            }
        }
        let want_id = req.id();
        let running = self.running.as_mut().expect("started above");
        if let Err(e) = protocol::write_frame(&mut running.stdin, &protocol::to_body(req)) {
            return Err(self.fail(format!("could not write the request: {e}")));
        }
        match running.frames.recv_timeout(self.timeout) {
            Ok(Ok(body)) => match Response::parse(kind, &body) {
                Ok(resp) if resp.id == want_id => Ok(resp),
                Ok(resp) => Err(self.fail(format!(
                    "answered request {} while request {want_id} was pending",
                    resp.id
                ))),
                Err(e) => Err(self.fail(format!(
                    "unreadable response to request {want_id} ({}): {e}",
                    kind.as_str()
                ))),
            },
            Ok(Err(e)) => Err(self.fail(e)),
            Err(RecvTimeoutError::Timeout) => {
                self.running = None; // killed on drop
                Err(Failure::TimedOut(self.timeout))
            }
            Err(RecvTimeoutError::Disconnected) => Err(self.fail("stdout closed".into())),
        }
    }
}

/// Starts the testee. Its stdout is read on a thread of its own, which
/// hands each frame over a channel, so that waiting for an answer has a
/// timeout (`recv_timeout`) and a testee that stops mid-frame cannot block
/// the run; a crate such as wait-timeout only times the wait for a
/// process's exit, which is not what is waited for here.
fn spawn(command: &str, timeout: Duration) -> Result<(Running, Hello), String> {
    let marker = crate::children::next_marker();
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(command)
        .env(crate::children::MARKER, &marker)
        .process_group(0)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    crate::children::started_group(child.id());
    let stdin = child.stdin.take().ok_or("no stdin")?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let stderr = child.stderr.take().ok_or("no stderr")?;
    let (tx, frames) = mpsc::channel::<Incoming>();
    std::thread::spawn(move || {
        let mut r = BufReader::new(stdout);
        loop {
            match protocol::read_frame(&mut r, MAX_RESPONSE) {
                Ok(Some(body)) => {
                    if tx.send(Ok(body)).is_err() {
                        return;
                    }
                }
                Ok(None) => {
                    let _ = tx.send(Err("closed its stdout".into()));
                    return;
                }
                Err(e) => {
                    let _ = tx.send(Err(format!("garbage on stdout: {e}")));
                    return;
                }
            }
        }
    });
    let stderr_tail = Arc::new(Mutex::new(Vec::new()));
    let tail = stderr_tail.clone();
    std::thread::spawn(move || {
        let mut r = BufReader::new(stderr);
        let mut buf = [0u8; 4096];
        while let Ok(n) = r.read(&mut buf) {
            if n == 0 {
                break;
            }
            if let Ok(mut t) = tail.lock() {
                t.extend_from_slice(&buf[..n]);
                let excess = t.len().saturating_sub(2048);
                t.drain(..excess);
            }
        }
    });
    let mut running = Running {
        child,
        marker,
        stdin,
        frames,
        stderr_tail,
    };
    let hello = Request::Hello {
        suite_version: SUITE_VERSION.into(),
    };
    protocol::write_frame(&mut running.stdin, &protocol::to_body(&hello))
        .map_err(|e| format!("could not send hello: {e}"))?;
    match running.frames.recv_timeout(timeout) {
        Ok(Ok(body)) => {
            let h: Hello =
                rmp_serde::from_slice(&body).map_err(|e| format!("unreadable hello: {e}"))?;
            Ok((running, h))
        }
        Ok(Err(e)) => {
            // Give the stderr reader a moment to collect the last words.
            std::thread::sleep(Duration::from_millis(50));
            let tail = running
                .stderr_tail
                .lock()
                .map(|t| t.clone())
                .unwrap_or_default();
            let tail = String::from_utf8_lossy(&tail);
            Err(format!("{e} before its hello; stderr: {}", tail.trim()))
        }
        Err(_) => Err(format!(
            "no hello within {} ms (--start-timeout-ms)",
            timeout.as_millis()
        )),
    }
}
