//! The processes the harness starts (testees, peers) and everything they
//! start in turn: each carries a marker in its environment, so that none
//! outlives the harness, whether the harness kills it, restarts it or is
//! itself ended by a signal, and even when a descendant left the process
//! group with `setsid()`.

use std::sync::atomic::{AtomicU64, Ordering};

/// The environment variable every started process carries (and passes on
/// to what it starts): `PID-N`, the harness's pid and the process's number.
pub const MARKER: &str = "SHUTTLE_CHILD";

static STARTED: AtomicU64 = AtomicU64::new(0);

/// Set once [`kill_all`] has begun: a process started after that (the run
/// restarting a testee it just lost) is killed as soon as it is noted.
static ENDING: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// A fresh marker value for the next process started.
pub fn next_marker() -> String {
    format!(
        "{}-{}",
        std::process::id(),
        STARTED.fetch_add(1, Ordering::Relaxed)
    )
}

/// Kills (SIGKILL) every process whose environment holds `MARKER=value`
/// where value is `marker`, or starts with it when `marker` ends in `-`.
/// Returns how many were signalled. Reads `/proc`; elsewhere a no-op.
pub fn kill_marked(marker: &str) -> usize {
    let want = format!("{MARKER}={marker}");
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return 0;
    };
    let me = std::process::id();
    let mut n = 0;
    for e in dir.flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        if pid == me {
            continue;
        }
        let Ok(env) = std::fs::read(format!("/proc/{pid}/environ")) else {
            continue;
        };
        let marked = env.split(|&b| b == 0).any(|var| {
            if want.ends_with('-') {
                var.starts_with(want.as_bytes())
            } else {
                var == want.as_bytes()
            }
        });
        if let (true, Ok(pid)) = (marked, i32::try_from(pid)) {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGKILL,
            );
            n += 1;
        }
    }
    n
}

/// The process groups of the processes started and not yet ended (a
/// process may hide its environment, as `setproctitle` does: its group is
/// still known).
static GROUPS: std::sync::Mutex<Vec<i32>> = std::sync::Mutex::new(Vec::new());

/// Notes the process group (led by `pid`) of a process just started.
pub fn started_group(pid: u32) {
    if let Ok(pid) = i32::try_from(pid) {
        GROUPS.lock().unwrap_or_else(|e| e.into_inner()).push(pid);
        if ENDING.load(Ordering::SeqCst) {
            let _ = nix::sys::signal::killpg(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
    }
}

/// Forgets a process group once it was killed or has ended.
pub fn ended_group(pid: u32) {
    if let Ok(pid) = i32::try_from(pid) {
        GROUPS
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|g| *g != pid);
    }
}

/// Kills every process this harness started and everything they started:
/// every process group noted by [`started_group`], and every process with
/// this harness's marker.
pub fn kill_all() -> usize {
    ENDING.store(true, Ordering::SeqCst);
    let groups = std::mem::take(&mut *GROUPS.lock().unwrap_or_else(|e| e.into_inner()));
    for g in &groups {
        let _ = nix::sys::signal::killpg(
            nix::unistd::Pid::from_raw(*g),
            nix::sys::signal::Signal::SIGKILL,
        );
    }
    let mine = format!("{}-", std::process::id());
    let mut n = groups.len() + kill_marked(&mine);
    // A descendant that was still being forked (setsid forks before it
    // execs) shows up a moment later: look once more.
    std::thread::sleep(std::time::Duration::from_millis(50));
    n += kill_marked(&mine);
    n
}

/// Ends the harness on SIGINT, SIGTERM or SIGHUP the way it ends by
/// itself: every process it started is killed first (they run in their own
/// process groups, so a terminal's Ctrl-C does not reach them), then the
/// harness exits with 128 + the signal's number.
pub fn kill_all_on_signal() {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP]) else {
        return;
    };
    std::thread::spawn(move || {
        if let Some(sig) = signals.forever().next() {
            kill_all();
            std::process::exit(128 + sig);
        }
    });
}
