//! Stale handle values: a million create/close cycles, and no closed value
//! ever reaches a newer object.

use std::collections::HashSet;

use mx::sys;
use mx::Status;

#[test]
fn a_million_cycles_never_reuse_a_live_or_recent_value() {
    let keep = sys::event_create(0).unwrap();
    let keep_koid = sys::object_get_info_handle_basic(keep).unwrap().koid;
    let mut seen = HashSet::with_capacity(1 << 20);
    let mut recent = Vec::with_capacity(1000);
    for i in 0..1_000_000u32 {
        let h = sys::event_create(0).unwrap();
        assert!(h > 0);
        assert!(seen.insert(h), "cycle {i}: value {h:#x} came back");
        assert_ne!(h, keep);
        sys::handle_close(h).unwrap();
        recent.push(h);
        if recent.len() == 1000 {
            for stale in recent.drain(..) {
                assert_eq!(
                    sys::object_signal(stale, mx::Signals::NONE, mx::Signals::USER_0),
                    Err(Status::BAD_HANDLE)
                );
            }
        }
    }
    // The long-lived handle still names its own object.
    assert_eq!(
        sys::object_get_info_handle_basic(keep).unwrap().koid,
        keep_koid
    );
    sys::handle_close(keep).unwrap();
}
