//! A `SignedNotice` as a peer delivers it, verified against the development
//! roster: envelope decoding, batch-capable signature checks and every rule
//! after them. Must never panic, and nothing random may verify.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use lintas_core::ids::MemberState;
use lintas_core::roster::TrustedRoster;
use lintas_core::signing::SignedNotice;
use lintas_testkit::world;

fn roster() -> &'static TrustedRoster {
    static ROSTER: OnceLock<TrustedRoster> = OnceLock::new();
    ROSTER.get_or_init(|| {
        let now = world::fixed_now();
        let signed = world::sign_roster(
            &world::roster(1, now.plus_seconds(-3600)),
            &[MemberState::Indonesia, MemberState::Thailand],
        );
        TrustedRoster::bootstrap(signed, now).expect("the development roster is trusted")
    })
}

fuzz_target!(|bytes: &[u8]| {
    if let Ok(notice) = SignedNotice::decode(bytes) {
        let _ = roster().verify_notice(&notice, world::fixed_now());
        let _ = roster().verify_notices(&[notice.clone(), notice], world::fixed_now());
    }
});
