//! Both ends of a `context` dialog (`started`, a two-way stream, a result)
//! and the caller's end of an `asyncgen` stream.

use serde::de::DeserializeOwned;
use serde::Serialize;
use shuttle::dialog::{Incoming, Meaning};
use shuttle::pld_spec::PldSpec;
use shuttle::{Msg, Raw, Started, Stop, Yield};
use tokio::sync::mpsc;

use crate::driver::{Cmd, Dialog, Inbound};
use crate::error::{Error, RemoteError};

fn encode<T: Serialize + ?Sized>(v: &T) -> Result<Raw<'static>, Error> {
    Raw::encode(v).map_err(|e| Error::Encode(e.to_string()))
}

pub(crate) fn decode<T: DeserializeOwned>(f: &Incoming) -> Result<T, Error> {
    let pld = f
        .pld()
        .ok_or_else(|| Error::Protocol(format!("{:?} carries no payload", f.meaning)))?;
    pld.decode::<T>()
        .map_err(|e| Error::Payload(format!("cannot decode the payload: {e}")))
}

/// The error an `Error` frame carries.
pub(crate) fn remote(f: &Incoming) -> Error {
    match f.msg() {
        Ok(Msg::Error(e)) => {
            let r = Box::new(RemoteError::from_msg(&e));
            if r.boxed_type == "ContextCancelled" {
                Error::Cancelled(r)
            } else {
                Error::Remote(r)
            }
        }
        _ => Error::Protocol("expected an Error".into()),
    }
}

async fn send(cmd: &mpsc::Sender<Cmd>, msg: Msg<'static>) -> Result<(), Error> {
    cmd.send(Cmd::Send(msg))
        .await
        .map_err(|_| Error::ChannelClosed)
}

/// The callee's end of a context: what a context endpoint gets.
///
/// tractor's order: [`started`](Context::started) once, then optionally
/// [`open_stream`](Context::open_stream) and any number of
/// [`send`](Context::send)/[`recv`](Context::recv); the endpoint's return
/// value is the context's result (a stream still open is closed first, with
/// `Stop`, as tractor's `async with ctx.open_stream()` does).
#[derive(Debug)]
pub struct Context {
    cid: String,
    cmd: mpsc::Sender<Cmd>,
    inbox: Option<mpsc::Receiver<Inbound>>,
    stream_open: bool,
    /// The endpoint's payload spec ([`ActorBuilder::pld_spec`](crate::ActorBuilder::pld_spec)).
    spec: Option<PldSpec>,
}

impl Context {
    pub(crate) fn new(
        cid: String,
        cmd: mpsc::Sender<Cmd>,
        inbox: Option<mpsc::Receiver<Inbound>>,
        spec: Option<PldSpec>,
    ) -> Context {
        Context {
            cid,
            cmd,
            inbox,
            stream_open: false,
            spec,
        }
    }

    /// The dialog's cid.
    pub fn cid(&self) -> &str {
        &self.cid
    }

    /// Sends the started value (`ctx.started(value)`). With a payload spec
    /// on the endpoint, a value that breaks it is refused with
    /// [`Error::Payload`] and not sent, as tractor's `started()` does.
    pub async fn started<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        let pld = encode(value)?;
        if let Some(spec) = &self.spec {
            spec.validate(pld.as_bytes()).map_err(|e| {
                Error::Payload(format!(
                    "invalid `Started` msg payload: {e} (the endpoint's spec is `{}`)",
                    spec.spec_str()
                ))
            })?;
        }
        let msg = Msg::from(Started::new(self.cid.clone(), pld));
        send(&self.cmd, msg).await
    }

    /// Opens this side's stream (`ctx.open_stream()`).
    pub async fn open_stream(&mut self) -> Result<(), Error> {
        self.stream_open = true;
        self.cmd
            .send(Cmd::StreamOpened(self.cid.clone()))
            .await
            .map_err(|_| Error::ChannelClosed)
    }

    /// Sends one stream item (`stream.send(value)`).
    pub async fn send<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        let msg = Msg::from(Yield::new(self.cid.clone(), encode(value)?));
        send(&self.cmd, msg).await
    }

    /// The caller's next stream item; `None` once the caller closed its
    /// stream (`Stop`) or the dialog ended.
    pub async fn recv<T: DeserializeOwned>(&mut self) -> Option<Result<T, Error>> {
        let inbox = self.inbox.as_mut()?;
        match inbox.recv().await? {
            Inbound::Frame(f) if f.meaning == Meaning::Yield => Some(decode(&f)),
            Inbound::Rejected(why) => Some(Err(Error::Payload(why))),
            Inbound::Frame(f) => {
                if matches!(f.meaning, Meaning::Stop { .. }) && self.stream_open {
                    // The caller closed the stream: as in tractor, taking
                    // its `Stop` closes this side too, without a `Stop`
                    // back.
                    self.stream_open = false;
                    let _ = self.cmd.send(Cmd::StreamClosed(self.cid.clone())).await;
                }
                None
            }
        }
    }

    /// Closes this side's stream (`Stop`).
    pub async fn close_stream(&mut self) -> Result<(), Error> {
        if !self.stream_open {
            return Ok(());
        }
        self.stream_open = false;
        send(&self.cmd, Msg::from(Stop::new(self.cid.clone()))).await
    }
}

/// The caller's end of a context ([`Portal::open_context`](crate::Portal::open_context)).
#[derive(Debug)]
pub struct CallerContext {
    d: Dialog,
    /// The frame that ended the dialog, met while reading the stream.
    end: Option<Incoming>,
    stream_open: bool,
}

impl CallerContext {
    pub(crate) fn new(d: Dialog) -> CallerContext {
        CallerContext {
            d,
            end: None,
            stream_open: false,
        }
    }

    /// The dialog's cid.
    pub fn cid(&self) -> &str {
        &self.d.cid
    }

    /// Opens this side's stream (`ctx.open_stream()`; nothing is sent).
    pub fn open_stream(&mut self) {
        self.stream_open = true;
    }

    /// Sends one stream item.
    pub async fn send<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        let msg = Msg::from(Yield::new(self.d.cid.clone(), encode(value)?));
        send(&self.d.cmd, msg).await
    }

    /// The callee's next stream item; `None` once it closed its stream or
    /// the dialog ended (its result or error then comes from
    /// [`result`](CallerContext::result)).
    pub async fn recv<T: DeserializeOwned>(&mut self) -> Option<Result<T, Error>> {
        if self.end.is_some() {
            return None;
        }
        match self.d.next().await {
            Ok(f) if f.meaning == Meaning::Yield => Some(decode(&f)),
            Ok(f) if matches!(f.meaning, Meaning::Stop { .. }) => None,
            Ok(f) => {
                self.end = Some(f);
                None
            }
            Err(e) => Some(Err(e)),
        }
    }

    /// Closes this side's stream (`Stop`).
    pub async fn close_stream(&mut self) -> Result<(), Error> {
        if !self.stream_open {
            return Ok(());
        }
        self.stream_open = false;
        send(&self.d.cmd, Msg::from(Stop::new(self.d.cid.clone()))).await
    }

    /// Closes this side's stream if open, then waits for the context's
    /// result (`ctx.wait_for_result()`), skipping stream items still in
    /// flight.
    pub async fn result<R: DeserializeOwned>(mut self) -> Result<R, Error> {
        self.close_stream().await?;
        loop {
            let f = match self.end.take() {
                Some(f) => f,
                None => self.d.next().await?,
            };
            match f.meaning {
                Meaning::Return => return decode(&f),
                Meaning::Error => return Err(remote(&f)),
                _ => continue,
            }
        }
    }

    /// Cancels the context (`ctx.cancel()`: a `self._cancel_task`
    /// request); the callee answers with `ContextCancelled`, which
    /// [`result`](CallerContext::result) then returns as
    /// [`Error::Cancelled`].
    pub async fn cancel(&mut self) -> Result<(), Error> {
        self.d
            .cmd
            .send(Cmd::CancelTask(self.d.cid.clone()))
            .await
            .map_err(|_| Error::ChannelClosed)
    }
}

/// The caller's end of an `asyncgen` stream
/// ([`Portal::open_stream_from`](crate::Portal::open_stream_from)).
/// Dropped before the stream ended, it cancels the remote task, as
/// tractor's `open_stream_from` does when its consumer breaks early.
#[derive(Debug)]
pub struct RecvStream {
    d: Dialog,
    done: bool,
}

impl RecvStream {
    pub(crate) fn new(d: Dialog) -> RecvStream {
        RecvStream { d, done: false }
    }

    /// The next item; `None` at the end of the stream; an error if the
    /// remote generator raised.
    pub async fn recv<T: DeserializeOwned>(&mut self) -> Option<Result<T, Error>> {
        if self.done {
            return None;
        }
        match self.d.next().await {
            Ok(f) if f.meaning == Meaning::Yield => Some(decode(&f)),
            Ok(f) if f.meaning == Meaning::Error => {
                self.done = true;
                Some(Err(remote(&f)))
            }
            Ok(_) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

impl Drop for RecvStream {
    fn drop(&mut self) {
        if !self.done {
            let _ = self.d.cmd.try_send(Cmd::CancelTask(self.d.cid.clone()));
        }
    }
}
