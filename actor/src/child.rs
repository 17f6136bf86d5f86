//! A Rust actor as the spawned child of a tractor parent: the child's side
//! of tractor's spawn (`spec/PROTOCOL.md` §5.2).
//!
//! The parent runs the child with `--uid "('NAME', 'UUID')" --parent_addr
//! "(HOST, PORT)"` ([`ChildArgs::parse`] reads them). The child connects
//! to the parent, sends its `Aid`, takes the parent's `SpawnSpec` (its
//! registrars and where to listen), listens, registers, and serves both
//! its listener and the parent's channel. It ends when the parent cancels
//! it (`self.cancel`) or when the parent's channel is lost: a child never
//! outlives its parent.

use std::time::Duration;

use shuttle::{Addr, AddrPort, Int};

use crate::actor::Actor;
use crate::error::Error;
use crate::transport::{Address, Listener};

/// What a parent tells its child on the command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChildArgs {
    /// The child's name (`--uid`, first element).
    pub name: String,
    /// The child's uuid (`--uid`, second element).
    pub uuid: String,
    /// Where the parent listens (`--parent_addr`).
    pub parent: Address,
}

/// What the child takes from the parent's `SpawnSpec`.
#[derive(Debug)]
pub(crate) struct ChildSpec {
    pub(crate) reg_addrs: Vec<Address>,
    pub(crate) bind_addrs: Option<Vec<Address>>,
}

impl ChildSpec {
    pub(crate) fn of(spec: &shuttle::SpawnSpec<'_>) -> ChildSpec {
        ChildSpec {
            reg_addrs: spec.reg_addrs.iter().filter_map(address_of).collect(),
            bind_addrs: spec
                .bind_addrs
                .as_ref()
                .map(|a| a.iter().filter_map(address_of).collect()),
        }
    }
}

fn address_of(a: &Addr<'_>) -> Option<Address> {
    match &a.port {
        AddrPort::Int(Int::U(p)) => {
            let p = u16::try_from(*p).ok()?;
            Some(if a.host.contains(':') {
                Address::Tcp(format!("[{}]:{p}", a.host))
            } else {
                Address::Tcp(format!("{}:{p}", a.host))
            })
        }
        AddrPort::Int(Int::I(_)) => None,
        AddrPort::Str(f) => Some(Address::Uds(
            std::path::PathBuf::from(a.host.as_ref()).join(f.as_ref()),
        )),
    }
}

/// One Python literal of a 2-tuple element: a quoted `str` or an `int`.
#[derive(Debug, PartialEq)]
enum Lit {
    Str(String),
    Int(u64),
}

/// Reads `('a', 'b')` / `("a", 1)` as `ast.literal_eval` would (strings
/// with `\\`, `\'`, `\"`, `\n`, `\t`, `\r`, `\xNN` escapes; non-negative
/// ints).
fn pair(s: &str, what: &str) -> Result<(Lit, Lit), String> {
    let bad =
        |why: &str| format!("{what}: {why} in {s:?} (expected a Python pair such as ('a', 'b'))");
    let body = s
        .trim()
        .strip_prefix('(')
        .and_then(|r| r.strip_suffix(')'))
        .ok_or_else(|| bad("no parentheses"))?;
    let mut chars = body.chars().peekable();
    let mut items = Vec::new();
    loop {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        match chars.peek().copied() {
            None => break,
            Some(q @ ('\'' | '"')) => {
                chars.next();
                let mut out = String::new();
                loop {
                    match chars.next() {
                        None => return Err(bad("an unterminated string")),
                        Some(c) if c == q => break,
                        Some('\\') => match chars.next() {
                            Some('n') => out.push('\n'),
                            Some('t') => out.push('\t'),
                            Some('r') => out.push('\r'),
                            Some('x') => {
                                let hex: String = (0..2).filter_map(|_| chars.next()).collect();
                                let v = u32::from_str_radix(&hex, 16)
                                    .map_err(|_| bad("a bad \\x escape"))?;
                                out.push(char::from_u32(v).ok_or_else(|| bad("a bad \\x escape"))?);
                            }
                            Some(c @ ('\\' | '\'' | '"')) => out.push(c),
                            _ => return Err(bad("an unsupported escape")),
                        },
                        Some(c) => out.push(c),
                    }
                }
                items.push(Lit::Str(out));
            }
            Some(c) if c.is_ascii_digit() => {
                let mut n = String::new();
                while let Some(d) = chars.next_if(|c| c.is_ascii_digit()) {
                    n.push(d);
                }
                items.push(Lit::Int(n.parse().map_err(|_| bad("an int too large"))?));
            }
            Some(_) => return Err(bad("an unexpected character")),
        }
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        match chars.next() {
            None => break,
            Some(',') => {}
            Some(_) => return Err(bad("a missing comma")),
        }
        if items.len() > 2 {
            break;
        }
    }
    match <[Lit; 2]>::try_from(items) {
        Ok([a, b]) => Ok((a, b)),
        Err(_) => Err(bad("not two elements")),
    }
}

impl ChildArgs {
    /// Reads `--uid` and `--parent_addr` (each as `--flag VALUE` or
    /// `--flag=VALUE`) from a child's arguments; other arguments are
    /// ignored (`--loglevel L` among them).
    ///
    /// ```
    /// use shuttle_actor::{Address, ChildArgs};
    /// let a = ChildArgs::parse(["--uid", "('kid', 'u-1')", "--parent_addr", "('127.0.0.1', 4000)"]).unwrap();
    /// assert_eq!(a.name, "kid");
    /// assert_eq!(a.parent, "tcp://127.0.0.1:4000".parse::<Address>().unwrap());
    /// ```
    pub fn parse<I, S>(args: I) -> Result<ChildArgs, String>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let args: Vec<String> = args.into_iter().map(|s| s.as_ref().to_string()).collect();
        let value = |flag: &str| -> Option<String> {
            let eq = format!("{flag}=");
            args.iter().enumerate().find_map(|(i, a)| {
                if a == flag {
                    args.get(i + 1).cloned()
                } else {
                    a.strip_prefix(&eq).map(str::to_string)
                }
            })
        };
        let uid = value("--uid").ok_or("missing --uid \"('NAME', 'UUID')\"")?;
        let parent = value("--parent_addr").ok_or("missing --parent_addr \"(HOST, PORT)\"")?;
        let (name, uuid) = match pair(&uid, "--uid")? {
            (Lit::Str(n), Lit::Str(u)) => (n, u),
            _ => return Err(format!("--uid: expected two strings, got {uid:?}")),
        };
        let parent = match pair(&parent, "--parent_addr")? {
            (Lit::Str(h), Lit::Int(p)) => {
                let p = u16::try_from(p).map_err(|_| format!("--parent_addr: bad port {p}"))?;
                if h.contains(':') {
                    Address::Tcp(format!("[{h}]:{p}"))
                } else {
                    Address::Tcp(format!("{h}:{p}"))
                }
            }
            (Lit::Str(d), Lit::Str(f)) => Address::Uds(std::path::PathBuf::from(d).join(f)),
            _ => {
                return Err(format!(
                    "--parent_addr: expected (HOST, PORT) or (DIR, FILE), got {parent:?}"
                ))
            }
        };
        Ok(ChildArgs { name, uuid, parent })
    }
}

impl Actor {
    /// Runs the actor as the spawned child of the parent at `parent` (its
    /// uid must be the one the parent gave, see
    /// [`ActorBuilder::uuid`](crate::ActorBuilder::uuid)): connects, takes
    /// the `SpawnSpec`, listens (on its `bind_addrs`, else on a free port
    /// of the parent's transport), registers with its registrars, and
    /// serves until cancelled, or until the parent's channel is lost, when
    /// it cancels itself: a child does not outlive its parent.
    pub async fn serve_as_child(&self, parent: &Address) -> Result<(), Error> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        // Calls wait until registered (serve_registered sets it again).
        self.inner.ready.send_replace(false);
        *self
            .inner
            .spawn_spec
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = Some(tx);
        let portal = self.connect(parent).await?;
        let spec = tokio::time::timeout(self.inner.limits.channel.handshake_timeout, rx)
            .await
            .map_err(|_| Error::Spawn(format!("no SpawnSpec from the parent at {parent}")))?
            .map_err(|_| {
                Error::Spawn(format!(
                    "the parent at {parent} closed before its SpawnSpec"
                ))
            })?;
        let bind = match spec.bind_addrs.as_ref().and_then(|a| a.first()) {
            Some(a) => a.clone(),
            None => match parent {
                Address::Tcp(_) => Address::Tcp("127.0.0.1:0".into()),
                Address::Uds(p) => Address::Uds(p.with_file_name(format!(
                    "{}@{}.sock",
                    self.inner.uid.name,
                    std::process::id()
                ))),
            },
        };
        let listener = Listener::bind(&bind).await?;
        // Parent loss: the channel to it ends without a `self.cancel`.
        let me = self.clone();
        let watch = tokio::spawn(async move {
            portal.closed().await;
            if !me.is_cancelled() {
                tracing::debug!("the parent's channel is gone: cancelling");
                me.cancel();
            }
        });
        let served = self.serve_registered(listener, &spec.reg_addrs).await;
        // A cancelled child's channels close: give the watcher a moment.
        let _ = tokio::time::timeout(Duration::from_secs(1), watch).await;
        served.map_err(Error::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_command_line_a_tractor_parent_writes() {
        let a = ChildArgs::parse([
            "--uid",
            "('kid', '0b1c-2')",
            "--parent_addr",
            "('127.0.0.1', 41119)",
            "--loglevel",
            "info",
        ])
        .unwrap();
        assert_eq!(
            a,
            ChildArgs {
                name: "kid".into(),
                uuid: "0b1c-2".into(),
                parent: "tcp://127.0.0.1:41119".parse().unwrap(),
            }
        );
        let a = ChildArgs::parse([
            "--uid=(\"it's\", 'u')",
            "--parent_addr",
            "('/run/x', 'p.sock')",
        ])
        .unwrap();
        assert_eq!(a.name, "it's");
        assert_eq!(a.parent, "uds:///run/x/p.sock".parse().unwrap());
        for (bad, why) in [
            (vec!["--parent_addr", "('h', 1)"], "missing --uid"),
            (
                vec!["--uid", "('a')", "--parent_addr", "('h', 1)"],
                "not two elements",
            ),
            (
                vec!["--uid", "('a', 'b'", "--parent_addr", "('h', 1)"],
                "no parentheses",
            ),
            (
                vec!["--uid", "('a, 'b')", "--parent_addr", "('h', 1)"],
                "--uid",
            ),
            (
                vec!["--uid", "('a', 'b')", "--parent_addr", "('h', 70000)"],
                "bad port",
            ),
        ] {
            let e = ChildArgs::parse(&bad).unwrap_err();
            assert!(e.contains(why), "{bad:?}: {e}");
        }
    }
}
