//! Property tests: no input, however malformed, panics a decoder, a
//! validator or the verifier; every failure is an error value.

use std::sync::OnceLock;

use lintas_core::ids::{AgencyId, CaseId, Country, KeyId, NoticeId, PhoneNumber, RecordId};
use lintas_core::notice::NoticeBody;
use lintas_core::pb;
use lintas_core::roster::{Roster, SignedRoster, TrustedRoster};
use lintas_core::signing::{SignedNotice, decode_notice_body};
use lintas_core::time::Timestamp;
use proptest::prelude::*;
use proptest::sample::Index;
use prost::Message;

use crate::support::{bodies, now, sign, trusted};

struct Fixtures {
    envelopes: Vec<Vec<u8>>,
    roster: Vec<u8>,
    trusted: TrustedRoster,
}

fn fixtures() -> &'static Fixtures {
    static FIXTURES: OnceLock<Fixtures> = OnceLock::new();
    FIXTURES.get_or_init(|| Fixtures {
        envelopes: bodies().iter().map(|b| sign(b).encode()).collect(),
        roster: trusted().signed().encode(),
        trusted: trusted(),
    })
}

/// Every decoder and validator, on one input. None may panic.
fn decode_everything(bytes: &[u8]) {
    let f = fixtures();
    if let Ok(envelope) = SignedNotice::decode(bytes) {
        let _ = f.trusted.verify_notice(&envelope, now());
    }
    let _ = decode_notice_body(bytes);
    if let Ok(body) = pb::NoticeBody::decode(bytes) {
        let _ = NoticeBody::from_wire(body);
    }
    if let Ok(signed) = SignedRoster::decode(bytes) {
        let _ = signed.roster();
        let _ = TrustedRoster::bootstrap(signed, now());
    }
    if let Ok(roster) = pb::Roster::decode(bytes) {
        let _ = Roster::try_from(roster);
    }
}

/// Applies byte edits and an optional cut to `original`.
fn mutate(original: &[u8], edits: &[(Index, u8)], cut: Option<Index>) -> Vec<u8> {
    let mut bytes = original.to_vec();
    for (at, value) in edits {
        let i = at.index(bytes.len());
        bytes[i] = *value;
    }
    if let Some(cut) = cut {
        bytes.truncate(cut.index(bytes.len()));
    }
    bytes
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..1024)) {
        decode_everything(&bytes);
    }

    #[test]
    fn mutated_notices_never_panic(
        which in any::<Index>(),
        edits in proptest::collection::vec((any::<Index>(), any::<u8>()), 1..6),
        cut in proptest::option::of(any::<Index>()),
    ) {
        let f = fixtures();
        let original = which.get(&f.envelopes);
        decode_everything(&mutate(original, &edits, cut));
        // Mutate the body inside a well-formed envelope, too: this reaches
        // the verifier's later checks and the body decoder.
        let envelope = SignedNotice::decode(original).unwrap();
        let body = mutate(envelope.body_bytes(), &edits, cut);
        decode_everything(&body);
        let mut wire = pb::SignedNotice::from(envelope);
        wire.body = body;
        let unchanged = wire.body == SignedNotice::decode(original).unwrap().body_bytes();
        if let Ok(changed) = SignedNotice::try_from(wire) {
            let verified = f.trusted.verify_notice(&changed, now());
            prop_assert_eq!(verified.is_ok(), unchanged, "a changed body verified: {:?}", verified.err());
        }
    }

    #[test]
    fn mutated_rosters_never_panic(
        edits in proptest::collection::vec((any::<Index>(), any::<u8>()), 1..6),
        cut in proptest::option::of(any::<Index>()),
    ) {
        decode_everything(&mutate(&fixtures().roster, &edits, cut));
    }

    #[test]
    fn text_parsers_never_panic(text in "\\PC{0,80}") {
        let _ = AgencyId::parse(&text);
        let _ = CaseId::parse(&text);
        let _ = RecordId::parse(&text);
        let _ = KeyId::parse(&text);
        let _ = Country::parse(&text);
        let _ = PhoneNumber::parse(&text);
        let _ = NoticeId::parse(&text);
        let _ = Timestamp::parse(&text);
    }

    #[test]
    fn timestamps_never_panic(seconds in any::<i64>(), nanos in any::<i32>()) {
        let wire = prost_types_timestamp(seconds, nanos);
        let mut body = pb::NoticeBody { created_at: Some(wire), ..Default::default() };
        body.notice_id = vec![0; 32];
        let _ = NoticeBody::from_wire(body);
        if let Ok(t) = Timestamp::new(seconds, nanos.unsigned_abs()) {
            prop_assert_eq!(Timestamp::parse(&t.to_string()).ok(), Some(t));
            let _ = t.plus_seconds(seconds);
        }
    }
}

fn prost_types_timestamp(seconds: i64, nanos: i32) -> prost_types::Timestamp {
    prost_types::Timestamp { seconds, nanos }
}
