//! Every notice kind survives domain -> wire -> bytes -> verify -> domain,
//! and JSON export and import, unchanged.

use lintas_core::notice::NoticeBody;
use lintas_core::signing::SignedNotice;
use lintas_core::vocab::NoticeKind;

use crate::support::{bodies, now, sign, trusted, wire};

#[test]
fn the_scenario_has_every_kind() {
    let kinds: Vec<NoticeKind> = bodies().iter().map(NoticeBody::kind).collect();
    for kind in NoticeKind::ALL {
        assert!(kinds.contains(kind), "no {kind:?} in the scenario");
    }
}

#[test]
fn every_kind_round_trips_through_the_wire() {
    for body in bodies() {
        let (_, back) = NoticeBody::from_wire(wire(&body)).unwrap();
        assert_eq!(
            back,
            body,
            "{:?} changed through the wire form",
            body.kind()
        );
    }
}

#[test]
fn every_kind_signs_and_verifies_to_the_same_body() {
    let roster = trusted();
    for body in bodies() {
        let signed = sign(&body);
        let received = SignedNotice::decode(&signed.encode()).unwrap();
        assert_eq!(received, signed);
        let verified = roster
            .verify_notice(&received, now())
            .unwrap_or_else(|e| panic!("{:?} refused: {e}", body.kind()));
        // The sender holds every disclosure: the sealed body opens to the
        // draft it was made from.
        assert_eq!(lintas_core::disclosure::draft_of(&verified.body), body);
        assert_eq!(Some(verified.id), signed.claimed_id());
    }
}

#[test]
fn every_kind_round_trips_through_json() {
    for body in bodies() {
        let json = serde_json::to_string(&body).unwrap();
        let back: NoticeBody = serde_json::from_str(&json).unwrap();
        assert_eq!(back, body, "{:?} changed through JSON", body.kind());
    }
}

#[test]
fn notice_ids_are_content_derived() {
    let body = &bodies()[0];
    let first = sign(body);
    let again = sign(body);
    assert_eq!(
        first.claimed_id(),
        again.claimed_id(),
        "same content, same id"
    );
    let mut other = body.clone();
    other.sequence += 1;
    assert_ne!(sign(&other).claimed_id(), first.claimed_id());
}
