//! Replay cases (`shuttle-replay/1`, `spec/replay.md`) and how the harness
//! plays them against a live peer.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use shuttle::Msg;

use super::pattern::{Captures, Pattern};
use super::session::{summarize, Session};

/// The format string of a replay case file.
pub const FORMAT: &str = "shuttle-replay/1";

/// One replay case (one file).
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct ReplayCase {
    /// Always [`FORMAT`].
    pub format: String,
    /// Stable id (`replay/portal_run_return`).
    pub id: String,
    /// One line for humans.
    pub title: String,
    /// Where the dialog was recorded.
    pub provenance: BTreeMap<String, String>,
    /// The endpoints (`ns.func`) the peer must serve.
    pub endpoints: Vec<String>,
    /// The harness's frames and the peer's expected frames, in recorded order.
    pub steps: Vec<Step>,
}

/// One step: a frame the harness sends, or a frame the peer must send.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct Step {
    /// What the frame is, for humans and transcripts.
    #[serde(default)]
    pub note: String,
    /// The exact frame body to send (base64).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub send: Option<String>,
    /// The pattern the peer's frame must match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expect: Option<serde_json::Value>,
}

/// A compiled step.
#[derive(Debug)]
enum Compiled {
    Send(Vec<u8>),
    Expect { pattern: Pattern, lane: String },
}

/// Loads every `*.json` replay case in a folder (sorted by file name).
pub fn load_dir(dir: &Path) -> anyhow::Result<Vec<ReplayCase>> {
    let paths = crate::case::json_files(dir)?;
    paths
        .iter()
        .map(|p| {
            parse(&std::fs::read_to_string(p)?).map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))
        })
        .collect()
}

/// Parses one replay case file.
pub fn parse(text: &str) -> anyhow::Result<ReplayCase> {
    let case: ReplayCase = serde_json::from_str(text)?;
    anyhow::ensure!(
        case.format == FORMAT,
        "format is {:?}, not {FORMAT:?}",
        case.format
    );
    compile(&case).map_err(|e| anyhow::anyhow!("{}: {e}", case.id))?;
    Ok(case)
}

/// The replay cases compiled into the binary (`fixtures/replay/`).
pub fn embedded() -> anyhow::Result<Vec<ReplayCase>> {
    super::embedded::FILES
        .iter()
        .map(|(name, text)| parse(text).map_err(|e| anyhow::anyhow!("embedded {name}: {e}")))
        .collect()
}

fn compile(case: &ReplayCase) -> Result<Vec<(Compiled, String)>, String> {
    case.steps
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let c = match (&s.send, &s.expect) {
                (Some(b), None) => Compiled::Send(
                    base64::engine::general_purpose::STANDARD
                        .decode(b)
                        .map_err(|e| format!("step {i}: bad base64: {e}"))?,
                ),
                (None, Some(p)) => {
                    let pattern = Pattern::compile(p).map_err(|e| format!("step {i}: {e}"))?;
                    let lane = pattern.literal_str("cid").unwrap_or("").to_string();
                    Compiled::Expect { pattern, lane }
                }
                _ => return Err(format!("step {i}: needs exactly one of send / expect")),
            };
            Ok((c, s.note.clone()))
        })
        .collect()
}

/// Plays a replay case over an established connection: sends the
/// harness's frames, each only once every peer frame recorded before it
/// has arrived, and matches every peer frame against the earliest pending
/// expectation of its `cid` (strict order within a cid, free across cids).
pub async fn play(
    case: &ReplayCase,
    s: &mut Session,
    step_timeout: Duration,
) -> Result<(), String> {
    let steps = compile(case)?;
    s.send_timeout = step_timeout.max(std::time::Duration::from_secs(1));
    let mut matched = vec![false; steps.len()];
    let mut caps = Captures::new();
    for (i, (step, note)) in steps.iter().enumerate() {
        if let Compiled::Send(body) = step {
            wait_for(&steps, &mut matched, &mut caps, s, step_timeout, |j| j < i).await?;
            let more_expected = steps[i..]
                .iter()
                .any(|(c, _)| matches!(c, Compiled::Expect { .. }));
            if let Err(e) = s.send(body, note).await {
                if more_expected {
                    return Err(format!("could not send {note}: {e}"));
                }
                s.transcript
                    .note(format!("(send failed after the last expected frame: {e})"));
            }
        }
    }
    wait_for(&steps, &mut matched, &mut caps, s, step_timeout, |_| true).await
}

async fn wait_for(
    steps: &[(Compiled, String)],
    matched: &mut [bool],
    caps: &mut Captures,
    s: &mut Session,
    step_timeout: Duration,
    scope: impl Fn(usize) -> bool,
) -> Result<(), String> {
    loop {
        let pending: Vec<usize> = (0..steps.len())
            .filter(|&j| scope(j) && !matched[j] && matches!(steps[j].0, Compiled::Expect { .. }))
            .collect();
        if pending.is_empty() {
            return Ok(());
        }
        // The next expected frame of each cid.
        let waiting = || {
            let mut lanes: Vec<&str> = Vec::new();
            let mut notes = Vec::new();
            for &j in &pending {
                if let Compiled::Expect { lane, .. } = &steps[j].0 {
                    if !lanes.contains(&lane.as_str()) {
                        lanes.push(lane);
                        notes.push(steps[j].1.clone());
                    }
                }
            }
            notes.join("; ")
        };
        let body = match s.recv(step_timeout).await {
            Ok(Some(b)) => b,
            Ok(None) => {
                return Err(format!(
                    "the peer closed the connection while the harness waited for: {}",
                    waiting()
                ))
            }
            Err(e) if e.is_timeout() => {
                return Err(format!(
                    "no frame within {} ms while the harness waited for: {}",
                    step_timeout.as_millis(),
                    waiting()
                ))
            }
            Err(e) => return Err(format!("{e} while the harness waited for: {}", waiting())),
        };
        let msg = match Msg::decode(&body) {
            Ok(m) => m,
            Err(e) => {
                s.transcript.mark_last("undecodable");
                return Err(format!(
                    "the peer sent a frame that does not decode as a message: {e}"
                ));
            }
        };
        let lane = msg.cid().unwrap_or("").to_string();
        let Some(j) = (0..steps.len()).find(|&j| {
            !matched[j] && matches!(&steps[j].0, Compiled::Expect { lane: l, .. } if *l == lane)
        }) else {
            s.transcript.mark_last("unexpected");
            return Err(format!(
                "unexpected frame {} (nothing more is expected for cid {:?}); waiting for: {}",
                summarize(&body),
                lane,
                waiting()
            ));
        };
        let Compiled::Expect { pattern, .. } = &steps[j].0 else {
            unreachable!()
        };
        let value = rmpv::decode::read_value(&mut &body[..])
            .map_err(|e| format!("the peer's frame does not decode: {e}"))?;
        if let Err(e) = pattern.matches(&value, caps) {
            s.transcript.mark_last("MISMATCH");
            return Err(format!(
                "frame {} does not match {}: {e}",
                summarize(&body),
                steps[j].1
            ));
        }
        s.transcript.mark_last("ok");
        matched[j] = true;
    }
}
