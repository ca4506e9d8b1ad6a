//! Signed body bytes as a receiver reads them: the exact-bytes walk,
//! decoding and every validation rule. The fuzzer cannot forge the content
//! hash, so the target writes the right id prefix over the first 34 bytes
//! itself, and every input reaches the rules. Must never panic; what it
//! accepts must encode again to the same content.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lintas_core::signing::{decode_notice_body, encode_notice_body, notice_id_of};

fuzz_target!(|data: &[u8]| {
    let mut bytes = data.to_vec();
    if bytes.len() >= 34 {
        let id = notice_id_of(&bytes[34..]);
        bytes[0] = 0x0A;
        bytes[1] = 0x20;
        bytes[2..34].copy_from_slice(id.as_bytes());
    }
    if let Ok((_, body)) = decode_notice_body(&bytes) {
        let (_, again) = encode_notice_body(&body).expect("an accepted body re-encodes");
        let (_, reread) = decode_notice_body(&again).expect("a re-encoded body reads back");
        assert_eq!(reread, body);
    }
});
