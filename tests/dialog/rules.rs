//! Hand-built channels for the rules the recorded captures cannot reach,
//! one test per area of the rules, and the report's stable serialization.

use shuttle::dialog::{
    check_channel_with, ChannelMachine, ChannelReport, Code, Config, Excuse, Meaning, Quirk, Role,
    Rpc,
};
use shuttle::{Functype, Msg};
use shuttle_conformance::capture::End;

use super::builder::*;
use super::check;

/// `opening()` plus `rest`; returns the report and the index of `rest[0]`.
fn run(rest: Vec<(End, Vec<u8>)>) -> (ChannelReport, usize) {
    let mut f = opening();
    let base = f.len();
    f.extend(rest);
    (check(&f, true), base)
}

fn first(r: &ChannelReport) -> Option<(Option<usize>, Code)> {
    r.violations.first().map(|v| (v.frame, v.code))
}

fn quirks(r: &ChannelReport) -> Vec<Quirk> {
    r.warnings.iter().map(|w| w.quirk).collect()
}

#[test]
fn handshake_rules() {
    // Aids in either order; nothing else needed.
    assert!(check(&[(B, aid(B, false)), (A, aid(A, false))], true).is_ok());
    // Empty connection: nothing to say.
    assert!(check(&[], true).is_ok());
    // A probe: the prober's Aid, the listener's Aid, close.
    let probe = vec![(A, aid(A, true)), (B, aid(B, false))];
    assert!(check(&probe, true).is_ok());
    let mut after = probe.clone();
    after.push((A, start(A, "c", "self", "find_actor")));
    assert_eq!(
        first(&check(&after, true)),
        Some((Some(2), Code::AfterProbe))
    );
    let from_acceptor = vec![(A, aid(A, false)), (B, aid(B, true))];
    assert_eq!(
        first(&check(&from_acceptor, true)),
        Some((Some(1), Code::ProbeFromAcceptor))
    );
    // A probe nobody answers: the prober calls the address "occupied".
    assert!(check(&[(A, aid(A, true))], true).is_ok());
    // Only one Aid at the close: cut off, not wrong (the peer went away).
    let cut = check(&[(A, aid(A, false))], true);
    assert_eq!(first(&cut), None);
    assert_eq!(
        cut.truncated.map(|t| t.to_string()).as_deref(),
        Some("the channel ended inside the handshake, without the Aid of the accepting end (B)")
    );
    // A frame before the sender's own Aid.
    assert_eq!(
        first(&check(&[(A, spawn_spec())], true)),
        Some((Some(0), Code::ExpectedAid))
    );
    // SpawnSpec after the child spoke.
    let mut late = vec![(A, aid(A, false)), (B, aid(B, false))];
    late.push((A, start(A, "c", "self", "register_actor")));
    late.push((B, spawn_spec()));
    assert_eq!(
        first(&check(&late, true)),
        Some((Some(3), Code::SpawnSpecMisplaced))
    );
    // Undecodable bytes are a violation, not a panic.
    let garbage = vec![(A, vec![0xc1]), (A, aid(A, false)), (B, aid(B, false))];
    let r = check(&garbage, true);
    assert_eq!(first(&r), Some((Some(0), Code::Undecodable)));
    assert_eq!(r.violations.len(), 1);
}

#[test]
fn asyncfunc_and_runtime_rpcs() {
    let (r, _) = run(vec![
        (B, start(B, "x", "mod", "f")),
        (A, ack("x", Functype::AsyncFunc)),
        (A, ret("x")),
    ]);
    assert!(
        r.is_ok() && r.warnings.is_empty() && r.open.is_empty(),
        "{r:?}"
    );
    // Error instead of StartAck.
    let (r, _) = run(vec![
        (B, start(B, "x", "mod", "f")),
        (A, error(A, Some("x"), "ModuleNotExposed")),
    ]);
    assert!(
        r.is_ok() && r.warnings.is_empty() && r.open.is_empty(),
        "{r:?}"
    );
    // Return before StartAck.
    let (r, n) = run(vec![(B, start(B, "x", "mod", "f")), (A, ret("x"))]);
    assert_eq!(first(&r), Some((Some(n + 1), Code::ExpectedStartAck)));
    // A Return to a cancel RPC, a CancelAck to an ordinary one.
    let (r, n) = run(vec![
        (B, start(B, "z", "self", "cancel")),
        (A, ack("z", Functype::AsyncFunc)),
        (A, ret("z")),
    ]);
    assert_eq!(first(&r), Some((Some(n + 2), Code::KindMismatch)));
    let (r, n) = run(vec![
        (B, start(B, "x", "mod", "f")),
        (A, ack("x", Functype::AsyncFunc)),
        (A, cancel_ack("x")),
    ]);
    assert_eq!(first(&r), Some((Some(n + 2), Code::KindMismatch)));
    // The caller never streams in an asyncfunc, never sends a plain Error.
    let (r, n) = run(vec![
        (B, start(B, "x", "mod", "f")),
        (A, ack("x", Functype::AsyncFunc)),
        (B, stop("x")),
    ]);
    assert_eq!(first(&r), Some((Some(n + 2), Code::KindMismatch)));
    let (r, n) = run(vec![
        (B, start(B, "x", "mod", "f")),
        (A, ack("x", Functype::AsyncFunc)),
        (B, error(B, Some("x"), "ValueError")),
    ]);
    assert_eq!(first(&r), Some((Some(n + 2), Code::WrongDirection)));
    // Registrar calls from the child on its own channel: asyncfunc only.
    let (r, n) = run(vec![
        (A, start(A, "r", "self", "register_actor")),
        (B, ack("r", Functype::AsyncGen)),
    ]);
    assert_eq!(first(&r), Some((Some(n + 1), Code::FunctypeMismatch)));
    // Errors: relay_path must end with the sender; a runtime-level error is a quirk.
    let (r, _) = run(vec![(A, error(A, None, "InternalError"))]);
    assert!(r.is_ok());
    assert_eq!(quirks(&r), vec![Quirk::ErrorWithoutCid]);
}

#[test]
fn asyncgen_dialogs() {
    let ok = vec![
        (B, start(B, "g", "mod", "gen")),
        (A, ack("g", Functype::AsyncGen)),
        (A, yld("g")),
        (A, yld("g")),
        (A, stop("g")),
        (B, cancel_task(B, "t", "g")),
        (A, ack("t", Functype::AsyncFunc)),
        (A, cancel_ack("t")),
    ];
    let (r, _) = run(ok.clone());
    assert!(r.is_ok());
    assert_eq!(quirks(&r), vec![Quirk::RedundantCancelTask]);
    // Early exit by the caller: Stop, cancel, then the callee's Stop; a Yield
    // in flight after the caller's Stop is a quirk.
    let early = vec![
        (B, start(B, "g", "mod", "gen")),
        (A, ack("g", Functype::AsyncGen)),
        (A, yld("g")),
        (B, stop("g")),
        (A, yld("g")),
        (B, cancel_task(B, "t", "g")),
        (A, ack("t", Functype::AsyncFunc)),
        (A, stop("g")),
        (A, cancel_ack("t")),
    ];
    let (r, _) = run(early);
    assert!(r.is_ok(), "{r:?}");
    assert_eq!(quirks(&r), vec![Quirk::YieldAfterPeerStop]);
    // A legacy stream cancelled without its Stop: open, excused.
    let legacy = vec![
        (B, start(B, "g", "mod", "gen")),
        (A, ack("g", Functype::AsyncGen)),
        (B, cancel_task(B, "t", "g")),
        (A, ack("t", Functype::AsyncFunc)),
        (A, cancel_ack("t")),
    ];
    let (r, _) = run(legacy);
    assert!(r.is_ok() && r.warnings.is_empty());
    assert_eq!(r.open.len(), 1);
    assert_eq!(r.open[0].excuse, Some(Excuse::TaskCancelled));
    // Return in an asyncgen; Started in an asyncgen.
    let (r, n) = run(vec![
        (B, start(B, "g", "m", "f")),
        (A, ack("g", Functype::AsyncGen)),
        (A, ret("g")),
    ]);
    assert_eq!(first(&r), Some((Some(n + 2), Code::KindMismatch)));
    let (r, n) = run(vec![
        (B, start(B, "g", "m", "f")),
        (A, ack("g", Functype::AsyncGen)),
        (A, started("g")),
    ]);
    assert_eq!(first(&r), Some((Some(n + 2), Code::KindMismatch)));
}

#[test]
fn tractor_stream_races_are_quirks_not_violations() {
    // In these channels A is the callee (it acks) and B the caller.
    let head = || {
        vec![
            (B, start(B, "c", "m", "ctx")),
            (A, ack("c", Functype::Context)),
            (A, started("c")),
        ]
    };
    // yield-after-stop (test_local_task_fanout_from_stream): the callee's
    // sibling task closes the stream while another sends one more Yield.
    let mut f = head();
    f.extend([
        (A, yld("c")),
        (A, stop("c")),
        (A, yld("c")),
        (B, stop("c")),
        (A, ret("c")),
    ]);
    let (r, n) = run(f);
    assert!(r.is_ok(), "{:?}", r.violations);
    assert_eq!(quirks(&r), vec![Quirk::YieldAfterStop]);
    assert_eq!(r.warnings[0].frame, Some(n + 5));
    // The same race on the caller's side.
    let mut f = head();
    f.extend([(B, stop("c")), (B, yld("c")), (A, stop("c")), (A, ret("c"))]);
    let (r, n) = run(f);
    assert!(r.is_ok(), "{:?}", r.violations);
    assert_eq!(quirks(&r), vec![Quirk::YieldAfterStop]);
    assert_eq!(r.warnings[0].frame, Some(n + 4));
    // duplicate-stop (test_inter_peer_cancellation): aclose() entered
    // twice sends the same Stop twice, from either end.
    for twice in [B, A] {
        let mut f = head();
        f.extend([(twice, stop("c")), (twice, stop("c"))]);
        f.extend([(twice.peer(), stop("c")), (A, ret("c"))]);
        let (r, n) = run(f);
        assert!(r.is_ok(), "{twice:?}: {:?}", r.violations);
        assert_eq!(quirks(&r), vec![Quirk::DuplicateStop], "{twice:?}");
        assert_eq!(r.warnings[0].frame, Some(n + 4));
    }
    // An asyncgen's Stop ends the dialog: a Yield after it is no race.
    let (r, n) = run(vec![
        (B, start(B, "g", "m", "gen")),
        (A, ack("g", Functype::AsyncGen)),
        (A, yld("g")),
        (A, stop("g")),
        (A, yld("g")),
    ]);
    assert_eq!(first(&r), Some((Some(n + 4), Code::AfterEnd)));
}

#[test]
fn context_dialogs_and_their_quirks() {
    let head = || {
        vec![
            (B, start(B, "c", "m", "ctx")),
            (A, ack("c", Functype::Context)),
            (A, started("c")),
        ]
    };
    // A Return while the callee's stream is open and nobody stopped.
    let mut f = head();
    f.extend([(A, yld("c")), (A, ret("c"))]);
    let (r, _) = run(f);
    assert!(r.is_ok());
    assert_eq!(quirks(&r), vec![Quirk::ReturnDuringStream]);
    // Return without Started.
    let (r, _) = run(vec![
        (B, start(B, "c", "m", "ctx")),
        (A, ack("c", Functype::Context)),
        (A, ret("c")),
    ]);
    assert!(r.is_ok());
    assert_eq!(quirks(&r), vec![Quirk::ReturnWithoutStarted]);
    // Yields crossing the callee's Stop; caller Yield after the end.
    let mut f = head();
    f.extend([
        (A, stop("c")),
        (B, yld("c")),
        (A, ret("c")),
        (B, yld("c")),
        (B, stop("c")),
    ]);
    let (r, _) = run(f);
    assert!(r.is_ok(), "{r:?}");
    assert_eq!(
        quirks(&r),
        vec![
            Quirk::YieldAfterPeerStop,
            Quirk::StreamAfterEnd,
            Quirk::StopAfterEnd
        ]
    );
    // StreamOverrun both ways, not terminal; Stop then Error.
    let mut f = head();
    f.extend([
        (B, yld("c")),
        (A, error(A, Some("c"), "StreamOverrun")),
        (A, yld("c")),
        (B, error(B, Some("c"), "StreamOverrun")),
        (A, stop("c")),
        (A, error(A, Some("c"), "RuntimeError")),
    ]);
    let (r, _) = run(f);
    assert!(
        r.is_ok() && r.warnings.is_empty() && r.open.is_empty(),
        "{r:?}"
    );
    // A caller Yield before Started; a caller Stop before StartAck.
    let (r, n) = run(vec![
        (B, start(B, "c", "m", "ctx")),
        (A, ack("c", Functype::Context)),
        (B, yld("c")),
    ]);
    assert_eq!(first(&r), Some((Some(n + 2), Code::BeforeStarted)));
    let (r, n) = run(vec![(B, start(B, "c", "m", "ctx")), (B, stop("c"))]);
    assert_eq!(first(&r), Some((Some(n + 1), Code::CallerBeforeAck)));
    // An open context at the close with nothing excusing it: a quirk.
    let (r, _) = run(head());
    assert!(r.is_ok());
    assert_eq!(quirks(&r), vec![Quirk::DialogOpenAtClose]);
    assert_eq!(r.open[0].excuse, None);
}

#[test]
fn cancellation_rules() {
    // Actor cancel mid-stream: ctxc, CancelAck, then the caller's late Stop.
    let f = vec![
        (B, start(B, "c", "m", "ctx")),
        (A, ack("c", Functype::Context)),
        (A, started("c")),
        (A, yld("c")),
        (B, start(B, "z", "self", "cancel")),
        (A, ack("z", Functype::AsyncFunc)),
        (A, stop("c")),
        (A, error(A, Some("c"), "ContextCancelled")),
        (A, cancel_ack("z")),
        (B, stop("c")),
        (B, start(B, "z2", "self", "cancel")),
    ];
    let (r, _) = run(f.clone());
    assert!(r.is_ok(), "{r:?}");
    assert_eq!(
        quirks(&r),
        vec![
            Quirk::StopAfterEnd,
            Quirk::SentToCancelledActor,
            Quirk::SentToCancelledActor,
            Quirk::RedundantActorCancel
        ]
    );
    assert_eq!(r.open.len(), 1);
    assert_eq!(r.open[0].excuse, Some(Excuse::NeverRead));
    // Anything from the callee after its CancelAck; an answer to an unread Start.
    let mut g = f[..9].to_vec();
    g.push((A, yld("c")));
    let (r, n) = run(g);
    assert_eq!(first(&r), Some((Some(n + 9), Code::AfterEnd)));
    let mut g = f[..5].to_vec();
    g.extend([
        (A, ack("z", Functype::AsyncFunc)),
        (A, cancel_ack("z")),
        (A, yld("c")),
    ]);
    let (r, n) = run(g);
    assert_eq!(first(&r), Some((Some(n + 7), Code::AfterActorCancel)));
    let mut g = f.clone();
    g.push((A, ack("z2", Functype::AsyncFunc)));
    let (r, n) = run(g);
    assert_eq!(first(&r), Some((Some(n + 11), Code::ReplyToUnread)));
    // Dialogs open when the actor was cancelled are excused.
    let g = vec![
        (B, start(B, "x", "m", "slow")),
        (A, ack("x", Functype::AsyncFunc)),
        (B, start(B, "z", "self", "cancel")),
        (A, ack("z", Functype::AsyncFunc)),
        (A, cancel_ack("z")),
    ];
    let (r, _) = run(g);
    assert!(r.is_ok() && r.warnings.is_empty());
    assert_eq!(r.open[0].excuse, Some(Excuse::ActorCancelled));
    // _cancel_task: unknown cid, someone else's dialog, bad kwargs.
    let (r, n) = run(vec![(B, cancel_task(B, "t", "nope"))]);
    assert_eq!(first(&r), Some((Some(n), Code::CancelTaskUnknown)));
    let (r, n) = run(vec![
        (B, start(B, "x", "m", "f")),
        (A, cancel_task(A, "t", "x")),
    ]);
    assert_eq!(first(&r), Some((Some(n + 1), Code::CancelTaskForeign)));
    let (r, n) = run(vec![(B, start(B, "t", "self", "_cancel_task"))]);
    assert_eq!(first(&r), Some((Some(n), Code::BadKwargs)));
}

#[test]
fn the_machine_is_bounded_and_reports_meanings() {
    let mut f = opening();
    for k in 0..5 {
        f.push((B, start(B, &format!("x{k}"), "m", "f")));
    }
    let refs: Vec<(End, &[u8])> = f.iter().map(|(e, b)| (*e, b.as_slice())).collect();
    let config = Config {
        max_open_dialogs: 4,
        max_ended_dialogs: 1,
    };
    let r = check_channel_with(&refs, false, config);
    assert_eq!(first(&r), Some((Some(7), Code::TooManyDialogs)));
    // Ended dialogs are forgotten beyond the bound: a late frame is then unknown.
    let mut m = ChannelMachine::new(config);
    let feed = |m: &mut ChannelMachine, from: End, b: &[u8]| {
        m.handle_frame(from, &Msg::decode(b).unwrap())
    };
    for (e, b) in opening() {
        feed(&mut m, e, &b).unwrap();
    }
    let acc = feed(&mut m, B, &start(B, "x", "m", "f")).unwrap();
    assert_eq!(
        acc.meaning,
        Meaning::Open(Rpc::App {
            ns: "m".into(),
            func: "f".into()
        })
    );
    assert_eq!(acc.role, Some(Role::Caller));
    let acc = feed(&mut m, A, &ack("x", Functype::AsyncFunc)).unwrap();
    assert_eq!(
        (acc.meaning, acc.role),
        (Meaning::Ack(Functype::AsyncFunc), Some(Role::Callee))
    );
    assert_eq!(feed(&mut m, A, &ret("x")).unwrap().meaning, Meaning::Return);
    assert_eq!(m.open_dialogs(), 0);
    for c in ["y", "w"] {
        feed(&mut m, B, &start(B, c, "m", "f")).unwrap();
        feed(&mut m, A, &error(A, Some(c), "ModuleNotExposed")).unwrap();
    }
    let v = feed(&mut m, B, &stop("x")).unwrap_err();
    assert_eq!(v.code, Code::UnknownCid);
    assert!(m.is_spawn_channel());
    let close = m.handle_close();
    assert!(close.open.is_empty() && close.violations.is_empty());
}

#[test]
fn codes_and_quirks_are_stable_and_documented() {
    let doc =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/spec/quirks.md")).unwrap();
    for q in Quirk::ALL {
        assert_eq!(Quirk::from_str_id(q.as_str()), Some(*q));
        assert!(
            doc.contains(&format!("<a id=\"{}\"></a>", q.anchor())),
            "{q} undocumented"
        );
    }
    let doc =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/spec/dialog.md")).unwrap();
    for c in Code::ALL {
        assert_eq!(Code::from_str_id(c.as_str()), Some(*c));
        assert!(
            doc.contains(&format!("`{c}`")),
            "{c} undocumented in spec/dialog.md"
        );
    }
}

#[test]
fn reports_serialize_to_json_with_stable_names() {
    let (r, _) = run(vec![
        (B, start(B, "c", "m", "ctx")),
        (A, ack("c", Functype::Context)),
        (A, started("c")),
        (A, started("c")),
    ]);
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(
        json,
        serde_json::json!({
            "frames": 7,
            "violations": [{"code": "dialog.duplicate-started", "frame": 6, "cid": "c", "reason": "a second Started"}],
            "warnings": [{"quirk": "dialog-open-at-close", "frame": null, "cid": "c"}],
            "open": [{"cid": "c", "caller": "b", "rpc": {"kind": "app", "ns": "m", "func": "ctx"},
                      "functype": "context", "start_frame": 3, "excuse": null}],
        })
    );
    assert_eq!(
        r.violations[0].to_string(),
        "frame 6 cid=c: dialog.duplicate-started: a second Started"
    );
}
