//! An offline bundle file from a peer (docs/PROTOCOL.md section 12),
//! opened as its addressee and as another agency against the development
//! roster. Must never panic.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use lintas_core::ids::AgencyId;
use lintas_core::offline::OfflineBundle;
use lintas_core::roster::TrustedRoster;
use lintas_core::time::Timestamp;

fn roster() -> &'static TrustedRoster {
    static ROSTER: OnceLock<TrustedRoster> = OnceLock::new();
    ROSTER.get_or_init(lintas_testkit::world::trusted_roster)
}

fuzz_target!(|bytes: &[u8]| {
    let now = Timestamp::now();
    for me in [
        lintas_testkit::world::KHM_POLICE,
        lintas_testkit::world::IDN_KEMLU,
    ] {
        if let Ok(me) = AgencyId::parse(me) {
            let _ = OfflineBundle::open(bytes, &me, roster(), now);
        }
    }
});
