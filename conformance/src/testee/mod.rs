//! Implementations under test: the built-in one (this crate's own
//! `shuttle`, in process) and any program speaking the testee protocol.

use crate::protocol::{Hello, Request, Response};

mod builtin;
mod process;

pub use builtin::Builtin;
pub use process::{Process, DEFAULT_START_TIMEOUT};

/// What went wrong with a testee, as opposed to a wrong answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Failure {
    /// It did not answer in time (it is restarted).
    TimedOut(std::time::Duration),
    /// It exited, or its answer was not a readable response (it is
    /// restarted). The text says what happened.
    Crashed(String),
}

/// An implementation the suite can question.
pub trait Testee {
    /// Its introduction (name, version, features).
    fn hello(&self) -> &Hello;
    /// Answers one request.
    fn call(&mut self, req: &Request) -> Result<Response, Failure>;
}
