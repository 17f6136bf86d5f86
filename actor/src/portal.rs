//! The caller's side: a portal to a remote actor.

use serde::de::DeserializeOwned;
use serde::Serialize;
use shuttle::dialog::Meaning;
use shuttle::pld_spec::PldSpec;
use shuttle::{StrMap, Uid};
use tokio::sync::oneshot;

use crate::context::{decode, remote, CallerContext, RecvStream};
use crate::driver::{ChannelHandle, Cmd, Dialog};
use crate::error::Error;

/// A portal to a remote actor (tractor's `Portal`), over one channel.
/// Cloning it is cheap; every clone calls over the same channel.
#[derive(Clone, Debug)]
pub struct Portal {
    chan: ChannelHandle,
}

impl Portal {
    pub(crate) fn new(chan: ChannelHandle) -> Portal {
        Portal { chan }
    }

    /// The remote actor's uid, from its handshake.
    pub fn peer(&self) -> &Uid<'static> {
        &self.chan.peer
    }

    /// Resolves once the channel has ended (the peer closed it, it failed,
    /// or either actor was cancelled).
    pub async fn closed(&self) {
        self.chan.cmd.closed().await
    }

    /// Closes the channel, as leaving tractor's `open_portal` block does
    /// with the channel it opened, and waits (at most the handshake
    /// timeout) until it has ended. Every clone of the portal is closed.
    pub async fn close(&self) {
        if self.chan.cmd.send(Cmd::Close).await.is_ok() {
            let _ = tokio::time::timeout(std::time::Duration::from_secs(5), self.closed()).await;
        }
    }

    /// Whether the channel has ended.
    pub fn is_closed(&self) -> bool {
        self.chan.cmd.is_closed()
    }

    async fn start<A: Serialize + ?Sized>(
        &self,
        ns: &str,
        func: &str,
        kwargs: &A,
        spec: Option<PldSpec>,
    ) -> Result<Dialog, Error> {
        let kwargs = StrMap::encode(kwargs).map_err(|e| Error::Encode(e.to_string()))?;
        let (reply, rx) = oneshot::channel();
        self.chan
            .cmd
            .send(Cmd::Start {
                ns: ns.into(),
                func: func.into(),
                kwargs,
                spec,
                reply,
            })
            .await
            .map_err(|_| Error::ChannelClosed)?;
        rx.await.map_err(|_| Error::ChannelClosed)?
    }

    /// Waits for the `StartAck`: `Ok` once the callee runs the endpoint,
    /// or the error it answered instead.
    async fn acked(d: &mut Dialog) -> Result<(), Error> {
        let f = d.next().await?;
        match f.meaning {
            Meaning::Ack(_) => Ok(()),
            Meaning::Error => Err(remote(&f)),
            other => Err(Error::Protocol(format!("expected StartAck, got {other:?}"))),
        }
    }

    /// Calls the async function `ns.func(**kwargs)` and returns its result
    /// (`Portal.run_from_ns`). `kwargs` must serialize as a map.
    pub async fn run_from_ns<A, R>(&self, ns: &str, func: &str, kwargs: &A) -> Result<R, Error>
    where
        A: Serialize + ?Sized,
        R: DeserializeOwned,
    {
        let mut d = self.start(ns, func, kwargs, None).await?;
        Self::acked(&mut d).await?;
        let f = d.next().await?;
        match f.meaning {
            Meaning::Return => decode(&f),
            Meaning::Error => Err(remote(&f)),
            other => Err(Error::Protocol(format!("expected Return, got {other:?}"))),
        }
    }

    /// Opens the stream of the async generator `ns.func(**kwargs)`
    /// (`Portal.open_stream_from`).
    pub async fn open_stream_from<A>(
        &self,
        ns: &str,
        func: &str,
        kwargs: &A,
    ) -> Result<RecvStream, Error>
    where
        A: Serialize + ?Sized,
    {
        let mut d = self.start(ns, func, kwargs, None).await?;
        Self::acked(&mut d).await?;
        Ok(RecvStream::new(d))
    }

    /// Opens the context `ns.func(**kwargs)` and waits for its started
    /// value (`Portal.open_context`).
    pub async fn open_context<A, T>(
        &self,
        ns: &str,
        func: &str,
        kwargs: &A,
    ) -> Result<(CallerContext, T), Error>
    where
        A: Serialize + ?Sized,
        T: DeserializeOwned,
    {
        self.open_context_with(ns, func, kwargs, None).await
    }

    /// [`open_context`](Portal::open_context) with the callee's payloads
    /// limited to `spec` (as `pld_spec=` limits them in tractor): a payload
    /// that breaks it fails as [`Error::Payload`] with msgspec's text.
    pub async fn open_context_with<A, T>(
        &self,
        ns: &str,
        func: &str,
        kwargs: &A,
        spec: Option<PldSpec>,
    ) -> Result<(CallerContext, T), Error>
    where
        A: Serialize + ?Sized,
        T: DeserializeOwned,
    {
        let mut d = self.start(ns, func, kwargs, spec).await?;
        Self::acked(&mut d).await?;
        let f = d.next().await?;
        match f.meaning {
            Meaning::Started => {
                let first = decode(&f)?;
                Ok((CallerContext::new(d), first))
            }
            Meaning::Error => Err(remote(&f)),
            other => Err(Error::Protocol(format!("expected Started, got {other:?}"))),
        }
    }

    /// Cancels the remote actor (`Portal.cancel_actor()`: `self.cancel`);
    /// true when it acknowledged.
    pub async fn cancel_actor(&self) -> Result<bool, Error> {
        let mut d = self
            .start("self", "cancel", &crate::NoArgs {}, None)
            .await?;
        loop {
            let f = d.next().await?;
            match f.meaning {
                Meaning::Ack(_) => continue,
                Meaning::CancelAck => {
                    return match f.msg() {
                        Ok(shuttle::Msg::CancelAck(a)) => Ok(a.pld),
                        _ => Ok(true),
                    }
                }
                Meaning::Error => return Err(remote(&f)),
                _ => continue,
            }
        }
    }
}
