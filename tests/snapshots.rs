//! Human-readable renderings of one real frame of each message type.

use shuttle::Msg;

use crate::support::current_frames;

#[test]
fn decoded_form_of_one_frame_of_each_type() {
    let frames = current_frames();
    let mut seen = std::collections::BTreeSet::new();
    for (label, f) in &frames {
        let msg = Msg::decode(&f.body).unwrap();
        let t = msg.msg_type();
        // The first frame of each type with a short body keeps snapshots readable.
        if f.body.len() > 2048 || !seen.insert(t) {
            continue;
        }
        insta::with_settings!({ description => label.clone(), omit_expression => true }, {
            insta::assert_debug_snapshot!(format!("decoded_{t}"), msg);
        });
    }
    assert_eq!(seen.len(), 10);
}
