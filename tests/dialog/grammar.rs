//! Property tests: channels generated from the grammar, the dialogs as the
//! reference implementation produces them interleaved at random, are
//! accepted with only the quirks their races allow; arbitrary frame
//! sequences never panic the machine.

use proptest::prelude::*;
use shuttle::dialog::Quirk;
use shuttle::Functype;
use shuttle_conformance::capture::End;

use super::builder::*;
use super::check;

/// One dialog (with its cancel request, if any), as the reference
/// implementation produces it.
#[derive(Clone, Debug)]
enum Unit {
    /// `Start`, `Error` without `StartAck`.
    FailBeforeAck,
    /// `asyncfunc`: `Return` or `Error`.
    AsyncFunc { ok: bool },
    /// A registrar/discovery call.
    Runtime { func: &'static str },
    /// `asyncgen`: `n` Yields, then `Stop` or `Error` and the always-sent
    /// `_cancel_task`; or an early exit by the caller after `m` Yields.
    AsyncGen {
        n: usize,
        err: bool,
        early: Option<usize>,
    },
    /// `context`.
    Context {
        fail_before_started: bool,
        /// Directions of the streamed Yields (true = caller).
        yields: Vec<bool>,
        callee_stops: bool,
        caller_stops: bool,
        caller_stops_first: bool,
        overruns: usize,
        ending: CtxEnd,
    },
}

#[derive(Clone, Copy, Debug)]
enum CtxEnd {
    Return,
    Error,
    /// The caller cancels: `_cancel_task`, ctxc, `CancelAck`.
    Cancelled,
}

fn unit() -> impl Strategy<Value = Unit> {
    prop_oneof![
        Just(Unit::FailBeforeAck),
        any::<bool>().prop_map(|ok| Unit::AsyncFunc { ok }),
        prop_oneof![
            Just("register_actor"),
            Just("unregister_actor"),
            Just("find_actor"),
            Just("wait_for_actor"),
            Just("get_registry")
        ]
        .prop_map(|func| Unit::Runtime { func }),
        (0..5usize, any::<bool>(), proptest::option::of(0..5usize)).prop_map(|(n, err, early)| {
            Unit::AsyncGen {
                n,
                err,
                early: early.map(|m| m.min(n)),
            }
        }),
        (
            any::<bool>(),
            proptest::collection::vec(any::<bool>(), 0..8),
            any::<bool>(),
            any::<bool>(),
            any::<bool>(),
            0..3usize,
            prop_oneof![
                Just(CtxEnd::Return),
                Just(CtxEnd::Error),
                Just(CtxEnd::Cancelled)
            ],
        )
            .prop_map(
                |(
                    fail_before_started,
                    yields,
                    callee_stops,
                    caller_stops,
                    caller_stops_first,
                    overruns,
                    ending,
                )| {
                    Unit::Context {
                        fail_before_started,
                        yields,
                        callee_stops,
                        caller_stops,
                        caller_stops_first,
                        overruns,
                        ending,
                    }
                }
            ),
    ]
}

/// The unit's frames in causal order, with caller `c` and cids derived
/// from `k`; and the quirks it may legitimately show.
fn unit_frames(u: &Unit, c: End, k: usize) -> (Vec<(End, Vec<u8>)>, Vec<Quirk>) {
    let e = c.peer();
    let x = format!("x{k}");
    let t = format!("t{k}");
    let x = x.as_str();
    let mut f = Vec::new();
    let mut q = Vec::new();
    let cancel = |f: &mut Vec<(End, Vec<u8>)>, end_frames: Vec<(End, Vec<u8>)>| {
        f.push((c, cancel_task(c, &t, x)));
        f.push((e, ack(&t, Functype::AsyncFunc)));
        f.extend(end_frames);
        f.push((e, cancel_ack(&t)));
    };
    match u {
        Unit::FailBeforeAck => {
            f.push((c, start(c, x, "mod", "missing")));
            f.push((e, error(e, Some(x), "ModuleNotExposed")));
        }
        Unit::AsyncFunc { ok } => {
            f.push((c, start(c, x, "mod", "f")));
            f.push((e, ack(x, Functype::AsyncFunc)));
            f.push((
                e,
                if *ok {
                    ret(x)
                } else {
                    error(e, Some(x), "ValueError")
                },
            ));
        }
        Unit::Runtime { func } => {
            f.push((c, start(c, x, "self", func)));
            f.push((e, ack(x, Functype::AsyncFunc)));
            f.push((e, ret(x)));
        }
        Unit::AsyncGen { n, err, early } => {
            f.push((c, start(c, x, "mod", "gen")));
            f.push((e, ack(x, Functype::AsyncGen)));
            match early {
                Some(m) => {
                    f.extend((0..*m).map(|_| (e, yld(x))));
                    f.push((c, stop(x)));
                    cancel(&mut f, vec![(e, stop(x))]);
                }
                None => {
                    f.extend((0..*n).map(|_| (e, yld(x))));
                    f.push((
                        e,
                        if *err {
                            error(e, Some(x), "IndexError")
                        } else {
                            stop(x)
                        },
                    ));
                    cancel(&mut f, vec![]);
                    q.push(Quirk::RedundantCancelTask);
                }
            }
        }
        Unit::Context {
            fail_before_started,
            yields,
            callee_stops,
            caller_stops,
            caller_stops_first,
            overruns,
            ending,
        } => {
            f.push((c, start(c, x, "mod", "ctx")));
            f.push((e, ack(x, Functype::Context)));
            if *fail_before_started {
                f.push((e, error(e, Some(x), "KeyError")));
                return (f, q);
            }
            f.push((e, started(x)));
            for &from_caller in yields {
                f.push((if from_caller { c } else { e }, yld(x)));
            }
            if yields.iter().any(|&y| y) {
                f.extend((0..*overruns).map(|_| (e, error(e, Some(x), "StreamOverrun"))));
            }
            let callee_yielded = yields.iter().any(|&y| !y);
            let callee_stops = *callee_stops || (callee_yielded && !caller_stops);
            let stops = match (callee_stops, *caller_stops, caller_stops_first) {
                (true, true, true) => vec![c, e],
                (true, true, false) => vec![e, c],
                (true, false, _) => vec![e],
                (false, true, _) => vec![c],
                (false, false, _) => vec![],
            };
            f.extend(stops.into_iter().map(|s| (s, stop(x))));
            match ending {
                CtxEnd::Return => f.push((e, ret(x))),
                CtxEnd::Error => f.push((e, error(e, Some(x), "RuntimeError"))),
                CtxEnd::Cancelled => {
                    cancel(&mut f, vec![(e, error(e, Some(x), "ContextCancelled"))])
                }
            }
        }
    }
    (f, q)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn channels_generated_from_the_grammar_are_accepted(
        b_first in any::<bool>(),
        spawn in any::<bool>(),
        units in proptest::collection::vec((unit(), any::<bool>()), 0..6),
        order in proptest::collection::vec(any::<u8>(), 0..200),
        cancel_end in proptest::option::of(any::<bool>()),
    ) {
        let mut frames = if b_first {
            vec![(B, aid(B, false)), (A, aid(A, false))]
        } else {
            vec![(A, aid(A, false)), (B, aid(B, false))]
        };
        if spawn {
            frames.push((B, spawn_spec()));
        }
        let mut allowed = Vec::new();
        let mut queues: Vec<std::collections::VecDeque<(End, Vec<u8>)>> = Vec::new();
        for (k, (u, a_calls)) in units.iter().enumerate() {
            let (f, q) = unit_frames(u, if *a_calls { A } else { B }, k);
            queues.push(f.into());
            allowed.extend(q);
        }
        // Interleave the dialogs, each in its own order.
        let mut picks = order.iter().cycle();
        while queues.iter().any(|q| !q.is_empty()) {
            let live: Vec<usize> = (0..queues.len()).filter(|&i| !queues[i].is_empty()).collect();
            let pick = live[*picks.next().unwrap_or(&0) as usize % live.len()];
            frames.push(queues[pick].pop_front().unwrap());
        }
        if let Some(a_cancels) = cancel_end {
            let (c, e) = if a_cancels { (A, B) } else { (B, A) };
            frames.push((c, start(c, "z", "self", "cancel")));
            frames.push((e, ack("z", shuttle::Functype::AsyncFunc)));
            frames.push((e, cancel_ack("z")));
        }
        let r = check(&frames, true);
        prop_assert!(r.is_ok(), "{:?}", r.violations);
        prop_assert!(r.open.is_empty(), "{:?}", r.open);
        for w in &r.warnings {
            prop_assert!(allowed.contains(&w.quirk), "unexpected {}", w);
        }
        prop_assert!(check(&frames, false).warnings.is_empty());
    }

    /// Arbitrary frame sequences (real message kinds with random cids and
    /// directions, plus garbage): never a panic, every frame judged once.
    #[test]
    fn arbitrary_sequences_never_panic(
        steps in proptest::collection::vec((0..14u8, any::<bool>(), 0..4u8), 0..80),
    ) {
        let mut frames = Vec::new();
        for (kind, a, c) in steps {
            let from = if a { A } else { B };
            let cid = format!("c{c}");
            let body = match kind {
                0 => aid(from, c == 0),
                1 => spawn_spec(),
                2 => start(from, &cid, "m", "f"),
                3 => start(from, &cid, "self", "cancel"),
                4 => cancel_task(from, &cid, "c1"),
                5 => ack(&cid, [shuttle::Functype::AsyncFunc, shuttle::Functype::AsyncGen, shuttle::Functype::Context][c as usize % 3]),
                6 => started(&cid),
                7 => yld(&cid),
                8 => stop(&cid),
                9 => ret(&cid),
                10 => cancel_ack(&cid),
                11 => error(from, Some(&cid), if c % 2 == 0 { "StreamOverrun" } else { "ValueError" }),
                12 => error(from, None, "InternalError"),
                _ => vec![0xc1, c],
            };
            frames.push((from, body));
        }
        let r = check(&frames, true);
        prop_assert_eq!(r.frames, frames.len());
        prop_assert!(r.violations.iter().all(|v| v.frame.is_none_or(|i| i < frames.len())));
        prop_assert!(r.violations.iter().filter(|v| v.frame.is_some()).count() <= frames.len());
    }
}
