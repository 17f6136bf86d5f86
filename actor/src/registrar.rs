//! The registrar: the name registry of a tractor tree, served as
//! tractor's `Registrar` actor serves it, and a registered member's side
//! (registering with a registrar, and leaving it).
//!
//! A registrar answers the `Aid` handshake with `is_registrar: true`
//! (what `open_root_actor(registry_addrs=...)` probes for) and serves
//! these runtime methods, called with `ns = "self"`:
//!
//! | method | keyword arguments | result |
//! |---|---|---|
//! | `register_actor` | `uid: [name, uuid]`, `addr` | `None` |
//! | `unregister_actor` | `uid: [name, uuid]` | `None` |
//! | `find_actor` | `name` | the addresses of the first actor whose name or uuid is `name`, or `None` |
//! | `wait_for_actor` | `name` | the addresses of every actor named `name`, once there is one |
//! | `get_registry` | none | `{"name.uuid": [addr, ...], ...}` |
//! | `delete_addr` | `addr` | the uid that held `addr` (then forgotten if it has no other), or `None` |
//!
//! An address is what tractor's `Address.unwrap()` gives, kept as sent:
//! `[host, port]` for TCP, `[folder, file]` for a Unix socket.

use std::sync::{Arc, Mutex};

use rmpv::Value;
use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use crate::actor::ActorBuilder;
use crate::error::{EndpointError, Error};
use crate::portal::Portal;

/// Actors a registrar keeps at most (the oldest registrations stay; a
/// registration beyond this is refused with an error).
pub const MAX_REGISTERED: usize = 65_536;
/// Addresses kept at most per actor.
pub const MAX_ADDRS: usize = 16;

/// A registered actor: its uid and the addresses it listens on, in the
/// order registered.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    /// The actor's name.
    pub name: String,
    /// The actor's uuid.
    pub uuid: String,
    /// Its addresses, as `Address.unwrap()` gives them.
    pub addrs: Vec<Value>,
}

#[derive(Default)]
struct State {
    /// In registration order, as the Python registrar's dict keeps it.
    entries: Vec<Entry>,
}

/// The registry a registrar actor serves (see the module docs). Cloning it
/// is cheap; every clone sees the same registry.
#[derive(Clone)]
pub struct Registry {
    state: Arc<Mutex<State>>,
    /// Bumped on every registration, waking `wait_for_actor` callers.
    changed: watch::Sender<u64>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("entries", &self.entries().len())
            .finish()
    }
}

impl Default for Registry {
    fn default() -> Self {
        Registry {
            state: Arc::default(),
            changed: watch::channel(0).0,
        }
    }
}

#[derive(Deserialize)]
struct RegisterArgs {
    uid: (String, String),
    addr: Value,
}

#[derive(Deserialize)]
struct UidArgs {
    uid: (String, String),
}

#[derive(Deserialize)]
struct NameArgs {
    name: String,
}

#[derive(Deserialize)]
struct AddrArgs {
    addr: Value,
}

#[derive(Serialize)]
struct RegisterCall<'a> {
    uid: (&'a str, &'a str),
    addr: &'a Value,
}

#[derive(Serialize)]
struct UnregisterCall<'a> {
    uid: (&'a str, &'a str),
}

#[derive(Serialize)]
struct FindCall<'a> {
    name: &'a str,
}

impl Registry {
    /// A snapshot of the registered actors, in registration order.
    pub fn entries(&self) -> Vec<Entry> {
        self.lock().entries.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the entries torn:
        // every change below is a single push, remove or retain.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// `register_actor(uid, addr)`: adds `addr` to the actor's addresses;
    /// an address another uid held is taken from it (an actor restarted
    /// on the same address), as tractor's registrar does.
    pub fn register(&self, name: &str, uuid: &str, addr: Value) -> Result<(), EndpointError> {
        {
            let mut st = self.lock();
            if let Some(i) = st
                .entries
                .iter()
                .position(|e| (e.name != name || e.uuid != uuid) && e.addrs.contains(&addr))
            {
                st.entries[i].addrs.retain(|a| *a != addr);
                if st.entries[i].addrs.is_empty() {
                    st.entries.remove(i);
                }
            }
            match st
                .entries
                .iter_mut()
                .find(|e| e.name == name && e.uuid == uuid)
            {
                Some(e) => {
                    if !e.addrs.contains(&addr) {
                        if e.addrs.len() >= MAX_ADDRS {
                            return Err(EndpointError::new(
                                "ValueError",
                                format!("('{name}', '{uuid}') has {MAX_ADDRS} addresses registered already"),
                            ));
                        }
                        e.addrs.push(addr);
                    }
                }
                None => {
                    if st.entries.len() >= MAX_REGISTERED {
                        return Err(EndpointError::new(
                            "ValueError",
                            format!("the registry is full ({MAX_REGISTERED} actors)"),
                        ));
                    }
                    st.entries.push(Entry {
                        name: name.into(),
                        uuid: uuid.into(),
                        addrs: vec![addr],
                    });
                }
            }
        }
        self.changed.send_modify(|n| *n = n.wrapping_add(1));
        Ok(())
    }

    /// `unregister_actor(uid)`: forgets the actor; whether it was there.
    pub fn unregister(&self, name: &str, uuid: &str) -> bool {
        let mut st = self.lock();
        let before = st.entries.len();
        st.entries.retain(|e| e.name != name || e.uuid != uuid);
        st.entries.len() != before
    }

    /// `find_actor(name)`: the addresses of the first registered actor
    /// whose name or uuid is `name` (Python's `name in uid`), or `None`.
    pub fn find(&self, name: &str) -> Option<Vec<Value>> {
        self.lock()
            .entries
            .iter()
            .find(|e| e.name == name || e.uuid == name)
            .map(|e| e.addrs.clone())
            .filter(|a| !a.is_empty())
    }

    fn named(&self, name: &str) -> Vec<Value> {
        self.lock()
            .entries
            .iter()
            .filter(|e| e.name == name)
            .flat_map(|e| e.addrs.iter().cloned())
            .collect()
    }

    /// `wait_for_actor(name)`: the addresses of every actor named `name`,
    /// waiting until one registers.
    pub async fn wait_for(&self, name: &str) -> Vec<Value> {
        let mut changed = self.changed.subscribe();
        loop {
            changed.borrow_and_update();
            let addrs = self.named(name);
            if !addrs.is_empty() {
                return addrs;
            }
            if changed.changed().await.is_err() {
                // Never: `self` holds the sender.
                return addrs;
            }
        }
    }

    /// `get_registry()`: `{"name.uuid": addrs}` in registration order.
    pub fn snapshot(&self) -> Value {
        Value::Map(
            self.lock()
                .entries
                .iter()
                .map(|e| {
                    (
                        Value::from(format!("{}.{}", e.name, e.uuid)),
                        Value::Array(e.addrs.clone()),
                    )
                })
                .collect(),
        )
    }

    /// `delete_addr(addr)`: takes `addr` from the actor that holds it
    /// (forgetting the actor when it has no other address); that
    /// actor's uid, or `None`.
    pub fn delete_addr(&self, addr: &Value) -> Option<(String, String)> {
        let mut st = self.lock();
        let i = st.entries.iter().position(|e| e.addrs.contains(addr))?;
        let e = &mut st.entries[i];
        e.addrs.retain(|a| a != addr);
        let uid = (e.name.clone(), e.uuid.clone());
        if e.addrs.is_empty() {
            st.entries.remove(i);
        }
        Some(uid)
    }

    /// Adds the registrar's methods (`ns = "self"`) to `b`.
    pub(crate) fn serve_on(&self, b: ActorBuilder) -> ActorBuilder {
        let (r1, r2, r3, r4, r5, r6) = (
            self.clone(),
            self.clone(),
            self.clone(),
            self.clone(),
            self.clone(),
            self.clone(),
        );
        b.func("self", "register_actor", move |a: RegisterArgs| {
            let r = r1.clone();
            async move { r.register(&a.uid.0, &a.uid.1, a.addr) }
        })
        .func("self", "unregister_actor", move |a: UidArgs| {
            let r = r2.clone();
            async move {
                r.unregister(&a.uid.0, &a.uid.1);
                Ok::<_, EndpointError>(())
            }
        })
        .func("self", "find_actor", move |a: NameArgs| {
            let r = r3.clone();
            async move { Ok::<_, EndpointError>(r.find(&a.name)) }
        })
        .func("self", "wait_for_actor", move |a: NameArgs| {
            let r = r4.clone();
            async move { Ok::<_, EndpointError>(r.wait_for(&a.name).await) }
        })
        .func("self", "get_registry", move |_: crate::NoArgs| {
            let r = r5.clone();
            async move { Ok::<_, EndpointError>(r.snapshot()) }
        })
        .func("self", "delete_addr", move |a: AddrArgs| {
            let r = r6.clone();
            async move { Ok::<_, EndpointError>(r.delete_addr(&a.addr)) }
        })
    }
}

impl Portal {
    /// Registers `uid` as listening on `addr` with the registrar at the
    /// other end (`register_actor`, as a tractor actor does at start-up
    /// for each of its listening addresses). `addr` is the unwrapped
    /// address: [`Address::unwrapped`](crate::Address::unwrapped).
    pub async fn register_actor(&self, uid: &shuttle::Uid<'_>, addr: &Value) -> Result<(), Error> {
        self.run_from_ns::<_, Value>(
            "self",
            "register_actor",
            &RegisterCall {
                uid: (&uid.name, &uid.uuid),
                addr,
            },
        )
        .await
        .map(|_| ())
    }

    /// Forgets `uid` at the registrar at the other end
    /// (`unregister_actor`, as a tractor actor does on exit).
    pub async fn unregister_actor(&self, uid: &shuttle::Uid<'_>) -> Result<(), Error> {
        self.run_from_ns::<_, Value>(
            "self",
            "unregister_actor",
            &UnregisterCall {
                uid: (&uid.name, &uid.uuid),
            },
        )
        .await
        .map(|_| ())
    }

    /// Asks the registrar at the other end for the addresses of an actor
    /// named `name` (`find_actor`); `None` when none is registered.
    pub async fn find_actor(&self, name: &str) -> Result<Option<Vec<Value>>, Error> {
        self.run_from_ns("self", "find_actor", &FindCall { name })
            .await
    }

    /// Waits, at the registrar at the other end, until an actor named
    /// `name` is registered; its addresses (`wait_for_actor`).
    pub async fn wait_for_actor(&self, name: &str) -> Result<Vec<Value>, Error> {
        self.run_from_ns("self", "wait_for_actor", &FindCall { name })
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tcp(port: u16) -> Value {
        Value::Array(vec!["127.0.0.1".into(), port.into()])
    }

    #[test]
    fn registers_finds_and_forgets_as_tractors_registrar_does() {
        let r = Registry::default();
        r.register("a", "u1", tcp(1)).unwrap();
        r.register("a", "u1", tcp(1)).unwrap(); // no duplicate
        r.register("b", "u2", tcp(2)).unwrap();
        assert_eq!(r.find("a"), Some(vec![tcp(1)]));
        assert_eq!(r.find("u2"), Some(vec![tcp(2)])); // `name in uid`
        assert_eq!(r.find("c"), None);
        assert_eq!(
            r.snapshot(),
            Value::Map(vec![
                ("a.u1".into(), Value::Array(vec![tcp(1)])),
                ("b.u2".into(), Value::Array(vec![tcp(2)])),
            ])
        );
        // Another uid on the same address takes it over.
        r.register("a", "u3", tcp(1)).unwrap();
        assert_eq!(r.entries().len(), 2);
        assert_eq!(r.entries()[1].uuid, "u3");
        assert_eq!(r.delete_addr(&tcp(2)), Some(("b".into(), "u2".into())));
        assert_eq!(r.delete_addr(&tcp(2)), None);
        assert!(r.unregister("a", "u3"));
        assert!(!r.unregister("a", "u3"));
        assert!(r.entries().is_empty());
    }

    #[test]
    fn a_full_registry_refuses_with_an_error() {
        let r = Registry::default();
        for p in 0..MAX_ADDRS as u16 {
            r.register("a", "u", tcp(p)).unwrap();
        }
        let e = r.register("a", "u", tcp(999)).unwrap_err();
        assert!(e.to_string().contains("16 addresses"), "{e}");
    }

    #[tokio::test]
    async fn wait_for_returns_once_the_name_registers() {
        let r = Registry::default();
        let waiter = tokio::spawn({
            let r = r.clone();
            async move { r.wait_for("late").await }
        });
        tokio::task::yield_now().await;
        r.register("other", "u0", tcp(5)).unwrap();
        r.register("late", "u1", tcp(7)).unwrap();
        assert_eq!(waiter.await.unwrap(), vec![tcp(7)]);
    }
}
