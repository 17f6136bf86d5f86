//! The peer `shuttle replay --connect` talks to: an address, and
//! optionally the command that runs the peer (`--peer-command`), which the
//! harness starts, restarts whenever it has exited (a tractor actor exits
//! after `self.cancel`, or dies of a hostile frame), and watches, so that a
//! death is reported with the case that caused it and the last lines the
//! peer wrote to stderr.

use std::collections::VecDeque;
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::AsyncBufReadExt as _;

use super::transport::{self, Address, Conn};

/// Lines of the peer's stderr kept (the last ones).
const TAIL_LINES: usize = 12;
/// Longest stderr line kept, in bytes.
const LINE_BYTES: usize = 300;
/// How long a peer that failed a case is given to exit, so that its death
/// is attributed to that case and not the next one.
const DEATH_GRACE: Duration = Duration::from_secs(3);

/// A peer started from a shell command.
struct Process {
    command: String,
    child: Option<tokio::process::Child>,
    tail: Arc<Mutex<VecDeque<String>>>,
    starts: usize,
}

/// The peer of a replay run.
pub struct Peer {
    addr: Address,
    process: Option<Process>,
}

impl std::fmt::Debug for Peer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Peer")
            .field("addr", &self.addr)
            .field("command", &self.process.as_ref().map(|p| &p.command))
            .finish()
    }
}

impl Peer {
    /// A peer that runs by itself at `addr`.
    pub fn at(addr: Address) -> Peer {
        Peer {
            addr,
            process: None,
        }
    }

    /// A peer the harness runs with `sh -c COMMAND`, listening at `addr`.
    pub fn spawned(addr: Address, command: String) -> Peer {
        Peer {
            addr,
            process: Some(Process {
                command,
                child: None,
                tail: Arc::default(),
                starts: 0,
            }),
        }
    }

    /// The address.
    pub fn addr(&self) -> &Address {
        &self.addr
    }

    /// The process id of the running peer command (the leader of its
    /// process group), when the harness runs it.
    pub fn pid(&self) -> Option<u32> {
        self.process.as_ref()?.child.as_ref()?.id()
    }

    /// How many times the peer command was started.
    pub fn starts(&self) -> usize {
        self.process.as_ref().map_or(0, |p| p.starts)
    }

    /// Starts the peer command if it is not running.
    pub fn ensure_running(&mut self) -> std::io::Result<()> {
        let Some(p) = &mut self.process else {
            return Ok(());
        };
        if let Some(child) = &mut p.child {
            if child.try_wait()?.is_none() {
                return Ok(());
            }
        }
        let mut cmd = tokio::process::Command::new("sh");
        cmd.arg("-c")
            .arg(&p.command)
            .env(crate::children::MARKER, crate::children::next_marker())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .process_group(0);
        let mut child = cmd.spawn().map_err(|e| {
            std::io::Error::new(e.kind(), format!("cannot run --peer-command: {e}"))
        })?;
        if let Some(pid) = child.id() {
            crate::children::started_group(pid);
        }
        let tail = Arc::new(Mutex::new(VecDeque::new()));
        if let Some(stderr) = child.stderr.take() {
            let tail = tail.clone();
            tokio::spawn(async move {
                let mut lines = tokio::io::BufReader::new(stderr).split(b'\n');
                while let Ok(Some(line)) = lines.next_segment().await {
                    let mut line = strip_ansi(&String::from_utf8_lossy(&line))
                        .trim_end()
                        .to_string();
                    if line.is_empty() {
                        continue;
                    }
                    if line.len() > LINE_BYTES {
                        let mut cut = LINE_BYTES;
                        while !line.is_char_boundary(cut) {
                            cut -= 1;
                        }
                        line.truncate(cut);
                        line.push_str(" ...");
                    }
                    let mut t = tail.lock().unwrap_or_else(|e| e.into_inner());
                    if t.len() == TAIL_LINES {
                        t.pop_front();
                    }
                    t.push_back(line);
                }
            });
        }
        p.child = Some(child);
        p.tail = tail;
        p.starts += 1;
        Ok(())
    }

    /// Connects, retrying a refused connection (and restarting the peer
    /// command when it has exited) until `timeout` has passed.
    pub async fn connect(&mut self, timeout: Duration) -> std::io::Result<Conn> {
        let deadline = Instant::now() + timeout;
        loop {
            self.ensure_running()?;
            let left = deadline.saturating_duration_since(Instant::now());
            match tokio::time::timeout(left, transport::connect(&self.addr)).await {
                Ok(Ok(c)) => return Ok(c),
                Ok(Err(e)) if Instant::now() >= deadline => return Err(e),
                Ok(Err(_)) => tokio::time::sleep(Duration::from_millis(25)).await,
                Err(_) => {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        "connect timed out",
                    ))
                }
            }
        }
    }

    /// After a case: when it failed and the peer command is run by the
    /// harness, waits a little for the peer to exit and, if it did, says
    /// how and what it last wrote to stderr. `None` when the peer runs on
    /// (or is not the harness's to watch).
    pub async fn death(&mut self, failed: bool) -> Option<String> {
        if !failed {
            return None;
        }
        let p = self.process.as_mut()?;
        let child = p.child.as_mut()?;
        let status: ExitStatus = tokio::time::timeout(DEATH_GRACE, child.wait())
            .await
            .ok()?
            .ok()?;
        // The reader may still hold the last lines.
        tokio::time::sleep(Duration::from_millis(50)).await;
        let tail = p.tail.lock().unwrap_or_else(|e| e.into_inner());
        let mut out = format!("the peer process exited ({status})");
        if tail.is_empty() {
            out.push_str(" and wrote nothing to stderr");
        } else {
            out.push_str("; the last lines of its stderr:");
            for l in tail.iter() {
                out.push_str("\n    ");
                out.push_str(l);
            }
        }
        Some(out)
    }

    /// Stops the peer command (its whole process group).
    pub async fn stop(&mut self) {
        let Some(p) = &mut self.process else { return };
        if let Some(mut child) = p.child.take() {
            if let Some(pid) = child.id() {
                crate::children::ended_group(pid);
                let _ = nix::sys::signal::killpg(
                    nix::unistd::Pid::from_raw(pid as i32),
                    nix::sys::signal::Signal::SIGKILL,
                );
            }
            let _ = child.kill().await;
        }
    }
}

/// `text` without ANSI escape sequences (tractor's log lines are coloured
/// even on a pipe).
fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\u{1b}' {
            out.push(c);
            continue;
        }
        // CSI: ESC [ parameters... final byte in @..~; other escapes: one char.
        if chars.next() == Some('[') {
            for c in chars.by_ref() {
                if ('@'..='~').contains(&c) {
                    break;
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn ansi_sequences_are_stripped() {
        assert_eq!(
            super::strip_ansi("\u{1b}[1;35mRuntimeError\u{1b}[0m: \u{1b}[35mboom\u{1b}[0m"),
            "RuntimeError: boom"
        );
        assert_eq!(super::strip_ansi("plain"), "plain");
    }
}
