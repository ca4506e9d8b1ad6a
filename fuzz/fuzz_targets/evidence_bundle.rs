//! An evidence bundle file from anywhere (docs/PROTOCOL.md section 11),
//! checked offline with and without a pinned roster. Must never panic, and
//! must never report a file that does not decode as verified.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lintas_core::evidence::verify::verify_bundle;

fuzz_target!(|bytes: &[u8]| {
    let report = verify_bundle(bytes, None);
    if report.ok {
        // Whatever verified must carry a valid manifest signature.
        assert!(report.manifest_verified);
    }
    let _ = report.to_text();
    let _ = verify_bundle(bytes, Some(bytes));
});
