//! Field mutations of the recorded channels: the same frame with one field
//! changed is rejected at that frame.

use std::borrow::Cow;
use std::collections::HashMap;

use shuttle::dialog::Code;
use shuttle::{Functype, Msg};

use super::{channels, check};

#[test]
fn field_mutations_are_rejected_at_the_mutated_frame() {
    let mut n = [0usize; 4];
    let mut failures = Vec::new();
    for (label, frames) in channels() {
        for (i, (from, body)) in frames.iter().enumerate() {
            let mut msg = Msg::decode(body).unwrap();
            let expect = match &mut msg {
                // An Error with an empty relay_path.
                Msg::Error(e) => {
                    e.relay_path.clear();
                    n[0] += 1;
                    Code::EmptyRelayPath
                }
                // A Start whose uid is not the sender's.
                Msg::Start(s) if n[1] <= n[2] => {
                    s.uid.uuid = Cow::Borrowed("not-the-handshake-uuid");
                    n[1] += 1;
                    Code::StartUidMismatch
                }
                // _cancel_task for a cid never seen; cancel with kwargs.
                Msg::Start(s)
                    if s.ns == "self" && (s.func == "_cancel_task" || s.func == "cancel") =>
                {
                    n[2] += 1;
                    if s.func == "cancel" {
                        s.kwargs = shuttle::StrMap::encode(&HashMap::from([("cid", "x")])).unwrap();
                        Code::BadKwargs
                    } else {
                        s.kwargs =
                            shuttle::StrMap::encode(&HashMap::from([("cid", "nope")])).unwrap();
                        Code::CancelTaskUnknown
                    }
                }
                // Runtime RPC acknowledged as a context.
                Msg::StartAck(a) if a.functype == Functype::AsyncFunc => {
                    let Some(start) =
                        frames[..i]
                            .iter()
                            .find_map(|(_, b)| match Msg::decode(b).unwrap() {
                                Msg::Start(s) if s.cid == a.cid => Some(s.ns == "self"),
                                _ => None,
                            })
                    else {
                        continue;
                    };
                    if !start {
                        continue;
                    }
                    a.functype = Functype::Context;
                    n[3] += 1;
                    Code::FunctypeMismatch
                }
                _ => continue,
            };
            let mut m = frames.clone();
            m[i] = (*from, msg.to_vec().unwrap());
            let r = check(&m, false);
            match r.violations.first() {
                Some(v) if v.frame == Some(i) && v.code == expect => {}
                other => failures.push(format!(
                    "{label} frame {i}: expected {expect}, got {other:?}"
                )),
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(n.iter().all(|&k| k > 0), "{n:?}");
}
