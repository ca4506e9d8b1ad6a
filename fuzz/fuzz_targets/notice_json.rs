//! A notice template as `lintas submit` reads it (JSON), then signed as the
//! node would. Must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lintas_core::notice::NoticeBody;
use lintas_core::signing::encode_notice_body;

fuzz_target!(|bytes: &[u8]| {
    if let Ok(body) = serde_json::from_slice::<NoticeBody>(bytes) {
        let _ = encode_notice_body(&body);
    }
});
