//! Watching the frames of an actor's channels.

/// Which way a frame went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// The peer sent it; this actor read it.
    Received,
    /// This actor sent it.
    Sent,
}

/// Sees every frame body of every channel an actor serves or opens, in the
/// order the channel's task read and wrote them (causal order: a reply is
/// sent only after its request was read): for recording (`shuttle serve
/// --record`), metrics or tracing.
///
/// The methods run on the channel's task, so they must return quickly and
/// never block; a tap that needs I/O hands the bytes to its own task.
///
/// ```
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// use shuttle_actor::{Actor, Direction, Tap};
///
/// #[derive(Default)]
/// struct Count(AtomicUsize);
///
/// impl Tap for Count {
///     fn frame(&self, _channel: u64, dir: Direction, body: &[u8]) {
///         if dir == Direction::Received {
///             self.0.fetch_add(body.len(), Ordering::Relaxed);
///         }
///     }
/// }
///
/// let actor = Actor::builder("watched").tap(Count::default()).build();
/// # let _ = actor;
/// ```
pub trait Tap: Send + Sync + 'static {
    /// A channel opened. `channel` is unique within the actor;
    /// `accepted` is true when the peer connected to this actor, false
    /// when this actor connected ([`Actor::connect`](crate::Actor::connect)).
    fn opened(&self, channel: u64, accepted: bool) {
        let _ = (channel, accepted);
    }

    /// One frame body (without its length prefix), as read or as sent.
    fn frame(&self, channel: u64, dir: Direction, body: &[u8]);

    /// The channel ended: no more frames will be seen for it.
    fn closed(&self, channel: u64) {
        let _ = channel;
    }
}
