//! Live peer mode: the harness plays one side of recorded dialogs against
//! a running actor over TCP or Unix sockets (`shuttle replay`), checks that
//! hostile frames do not take the actor down, and ships a reference actor
//! built on the message crate (`shuttle serve`). See `spec/replay.md`.
//!
//! * [`transport`]: addresses and tractor's framing over tokio streams;
//! * [`pattern`]: the matchers of the replay format;
//! * [`replay`]: replay cases and how they are played;
//! * [`peer`]: the peer a replay talks to, and the command that runs it;
//! * [`robust`]: the robustness cases;
//! * [`gen`]: generating replay cases from captures;
//! * [`serve`]: the reference actor;
//! * [`record`]: recording a channel as a capture (`serve --record`);
//! * [`cli`]: the `replay` and `import-replay` commands.

pub mod attack;
pub mod cli;
mod embedded;
pub mod gen;
pub mod log;
pub mod pattern;
pub mod peer;
pub mod record;
pub mod replay;
pub mod robust;
pub mod serve;
pub mod session;
pub mod transport;
