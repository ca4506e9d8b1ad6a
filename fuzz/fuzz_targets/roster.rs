//! A `SignedRoster` as an operator installs it: decoding, the exact-bytes
//! walk, every roster rule, bootstrap and update checks. Must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lintas_core::roster::{SignedRoster, TrustedRoster};
use lintas_testkit::world;

fuzz_target!(|bytes: &[u8]| {
    if let Ok(signed) = SignedRoster::decode(bytes) {
        let _ = signed.roster();
        let _ = TrustedRoster::bootstrap(signed, world::fixed_now());
    }
});
