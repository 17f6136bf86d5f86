//! Logging for the long-running live commands (`serve`): a line never
//! blocks the caller and never panics. Lines go through a bounded queue to
//! a writer thread; when the queue is full, or more than [`PER_SECOND`]
//! lines come in one second, lines are dropped and counted, and the count
//! is reported with the next line that gets through. A stderr that nobody
//! reads stalls only the writer thread; a closed stderr is ignored.
//!
//! (A small queue and counter rather than a logging framework: the two
//! properties needed, never blocking and a rate limit that says what it
//! dropped, are a few lines here, and `serve` logs only plain lines.)

use std::io::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, SyncSender, TrySendError};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// Most lines written per second; the rest are counted and dropped.
pub const PER_SECOND: u32 = 50;
/// Lines queued for the writer thread before new ones are dropped.
const QUEUE: usize = 256;

struct Logger {
    tx: SyncSender<String>,
    /// (start of the current one-second window, lines let through in it).
    window: Mutex<(Instant, u32)>,
    dropped: AtomicU64,
}

fn logger() -> &'static Logger {
    static LOGGER: OnceLock<Logger> = OnceLock::new();
    LOGGER.get_or_init(|| {
        let (tx, rx) = sync_channel::<String>(QUEUE);
        // If the thread cannot start, lines queue up to QUEUE and are then
        // dropped: still never blocking.
        let _ = std::thread::Builder::new()
            .name("shuttle-log".into())
            .spawn(move || {
                let mut err = std::io::stderr();
                for line in rx {
                    let _ = writeln!(err, "{line}");
                }
            });
        Logger {
            tx,
            window: Mutex::new((Instant::now(), 0)),
            dropped: AtomicU64::new(0),
        }
    })
}

/// Logs one line to stderr without blocking; returns whether it was
/// queued (false: dropped by the rate limit or a full queue).
pub fn line(text: impl Into<String>) -> bool {
    let l = logger();
    {
        let mut w = l.window.lock().unwrap_or_else(|e| e.into_inner());
        if w.0.elapsed() >= Duration::from_secs(1) {
            *w = (Instant::now(), 0);
        }
        if w.1 >= PER_SECOND {
            l.dropped.fetch_add(1, Ordering::Relaxed);
            return false;
        }
        w.1 += 1;
    }
    let mut text = text.into();
    let dropped = l.dropped.swap(0, Ordering::Relaxed);
    if dropped > 0 {
        text = format!("({dropped} log lines dropped) {text}");
    }
    match l.tx.try_send(text) {
        Ok(()) => true,
        Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
            l.dropped.fetch_add(dropped + 1, Ordering::Relaxed);
            false
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_flood_is_cut_to_the_rate_limit_and_never_blocks() {
        // Far more lines than the limit, in well under a second: at most
        // one second's worth get through (two if the window turns over).
        let t = std::time::Instant::now();
        let through = (0..10_000)
            .filter(|i| super::line(format!("flood line {i}")))
            .count();
        assert!(
            through <= 2 * super::PER_SECOND as usize,
            "{through} lines let through"
        );
        assert!(through > 0);
        assert!(t.elapsed() < std::time::Duration::from_secs(30));
    }
}
