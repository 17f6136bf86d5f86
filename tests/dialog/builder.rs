//! Builders of the frames of hand-built channels: each message as tractor
//! writes it, between a child (end A) and its parent (end B).

use std::borrow::Cow;
use std::collections::HashMap;

use shuttle::{
    Aid, AnyMap, CancelAck, Error, Functype, Msg, Raw, Return, SpawnSpec, Start, StartAck, Started,
    Stop, StrMap, Uid, Yield,
};
use shuttle_conformance::capture::End;

pub(super) const A: End = End::A;
pub(super) const B: End = End::B;

pub(super) const CHILD: (&str, &str) = ("child", "aaaa");
pub(super) const PARENT: (&str, &str) = ("root", "bbbb");

pub(super) fn uid(e: End) -> Uid<'static> {
    let (n, u) = if e == End::A { CHILD } else { PARENT };
    Uid::new(n, u)
}

pub(super) fn aid(e: End, probe: bool) -> Vec<u8> {
    let u = uid(e);
    Msg::from({
        let mut m = Aid::new(u.name, u.uuid);
        m.is_registrar = if probe { None } else { Some(e == End::B) };
        m.is_probe = probe;
        m
    })
    .to_vec()
    .unwrap()
}

pub(super) fn spawn_spec() -> Vec<u8> {
    Msg::from(SpawnSpec::new(
        AnyMap::empty(),
        StrMap::empty(),
        vec![],
        vec![],
        None,
    ))
    .to_vec()
    .unwrap()
}

pub(super) fn start(from: End, cid: &str, ns: &str, func: &str) -> Vec<u8> {
    start_kw(from, cid, ns, func, StrMap::empty())
}

pub(super) fn start_kw(
    from: End,
    cid: &str,
    ns: &str,
    func: &str,
    kwargs: StrMap<'static>,
) -> Vec<u8> {
    Msg::from({
        let mut m = Start::new(
            Cow::Owned(cid.into()),
            Cow::Owned(ns.into()),
            Cow::Owned(func.into()),
            kwargs,
            uid(from),
        );
        m.pld_spec = Cow::Borrowed("typing.Any");
        m
    })
    .to_vec()
    .unwrap()
}

pub(super) fn cancel_task(from: End, cid: &str, target: &str) -> Vec<u8> {
    let kw = StrMap::encode(&HashMap::from([("cid", target)])).unwrap();
    start_kw(from, cid, "self", "_cancel_task", kw)
}

pub(super) fn ack(cid: &str, ft: Functype) -> Vec<u8> {
    Msg::from(StartAck::new(Cow::Owned(cid.into()), ft))
        .to_vec()
        .unwrap()
}

pub(super) fn started(cid: &str) -> Vec<u8> {
    Msg::from(Started::new(cid.to_owned(), Raw::nil()))
        .to_vec()
        .unwrap()
}
pub(super) fn yld(cid: &str) -> Vec<u8> {
    Msg::from(Yield::new(cid.to_owned(), Raw::nil()))
        .to_vec()
        .unwrap()
}
pub(super) fn ret(cid: &str) -> Vec<u8> {
    Msg::from(Return::new(cid.to_owned(), Raw::nil()))
        .to_vec()
        .unwrap()
}
pub(super) fn stop(cid: &str) -> Vec<u8> {
    Msg::from(Stop::new(Cow::Owned(cid.into())))
        .to_vec()
        .unwrap()
}
pub(super) fn cancel_ack(cid: &str) -> Vec<u8> {
    Msg::from(CancelAck::new(Cow::Owned(cid.into()), true))
        .to_vec()
        .unwrap()
}

/// An error sent by `from` on `cid` (or runtime-level with `None`).
pub(super) fn error(from: End, cid: Option<&str>, boxed: &str) -> Vec<u8> {
    let me = uid(from);
    let peer = uid(from.peer());
    Msg::from({
        let mut m = Error::new(
            me.clone(),
            Cow::Owned(boxed.into()),
            Cow::Owned(boxed.into()),
            vec![me],
        );
        m.message = Some(Cow::Borrowed(""));
        m.tb_str = Cow::Borrowed("");
        m.canceller = (boxed == "ContextCancelled").then(|| peer.clone());
        m.sender = (boxed == "StreamOverrun").then_some(peer);
        m.cid = cid.map(|c| Cow::Owned(c.to_owned()));
        m
    })
    .to_vec()
    .unwrap()
}

/// A spawn channel's opening: child Aid, parent Aid, SpawnSpec.
pub(super) fn opening() -> Vec<(End, Vec<u8>)> {
    vec![
        (End::A, aid(End::A, false)),
        (End::B, aid(End::B, false)),
        (End::B, spawn_spec()),
    ]
}
