//! A `SignedReceipt` as a recipient reports it: decoding, the exact-bytes
//! walk, the stage rules. Must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lintas_core::receipt::SignedReceipt;

fuzz_target!(|bytes: &[u8]| {
    if let Ok(signed) = SignedReceipt::decode(bytes) {
        let _ = signed.receipt_unverified();
    }
});
