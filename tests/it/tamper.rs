//! Changing any signed byte, or any part of the envelope the signature
//! binds, is detected.

use lintas_core::pb;
use lintas_core::roster::VerifyError;
use lintas_core::signing::SignedNotice;
use prost::Message;

use crate::support::{add_group_order, bodies, now, raw_envelope, sign, trusted};

#[test]
fn flipping_any_body_byte_is_detected() {
    let roster = trusted();
    // The smallest and the largest notice of the scenario.
    let mut all = bodies();
    all.sort_by_key(|b| sign(b).body_bytes().len());
    for body in [all.first().unwrap(), all.last().unwrap()] {
        let signed = sign(body);
        let mut wire = pb::SignedNotice::from(signed.clone());
        for i in 0..wire.body.len() {
            for flip in [0x01u8, 0x80] {
                wire.body[i] ^= flip;
                let tampered = SignedNotice::try_from(wire.clone()).unwrap();
                let result = roster.verify_notice(&tampered, now());
                assert!(
                    matches!(result, Err(VerifyError::BadSignature { .. })),
                    "byte {i} ^ {flip:#x}: {result:?}"
                );
                wire.body[i] ^= flip;
            }
        }
        // Truncated and extended bodies.
        let mut short = wire.clone();
        short.body.pop();
        let mut long = wire.clone();
        long.body.extend_from_slice(&[0x50, 0x01]);
        for changed in [short, long] {
            let tampered = SignedNotice::try_from(changed).unwrap();
            assert!(roster.verify_notice(&tampered, now()).is_err());
        }
    }
}

#[test]
fn flipping_any_signature_byte_is_detected() {
    let roster = trusted();
    let signed = sign(&bodies()[1]);
    let mut wire = pb::SignedNotice::from(signed);
    for i in 0..64 {
        wire.signature[i] ^= 0x04;
        let tampered = SignedNotice::try_from(wire.clone()).unwrap();
        assert!(matches!(
            roster.verify_notice(&tampered, now()),
            Err(VerifyError::BadSignature { .. })
        ));
        wire.signature[i] ^= 0x04;
    }
}

#[test]
fn a_malleated_signature_is_refused() {
    // Adding the group order L to S gives a signature that lenient
    // verifiers accept; strict verification must not.
    let roster = trusted();
    let signed = sign(&bodies()[1]);
    let mut wire = pb::SignedNotice::from(signed);
    add_group_order(&mut wire.signature);
    let malleated = SignedNotice::try_from(wire).unwrap();
    assert!(matches!(
        roster.verify_notice(&malleated, now()),
        Err(VerifyError::BadSignature { .. })
    ));
}

#[test]
fn the_signature_binds_signer_key_and_payload_type() {
    let roster = trusted();
    let body = &bodies()[0];
    let signed = sign(body);
    let wire = pb::SignedNotice::from(signed);

    // Another agency of the roster claims the notice.
    let mut other_signer = wire.clone();
    other_signer.signer = lintas_testkit::world::IDN_POLRI.into();
    other_signer.key_id = format!("{}#1", lintas_testkit::world::IDN_POLRI);
    let result = roster.verify_notice(&SignedNotice::try_from(other_signer).unwrap(), now());
    assert!(
        matches!(result, Err(VerifyError::BadSignature { .. })),
        "{result:?}"
    );

    // A key id the signer does not have.
    let mut other_key = wire.clone();
    other_key.key_id = "IDN.KEMLU.PWNI#2".into();
    let result = roster.verify_notice(&SignedNotice::try_from(other_key).unwrap(), now());
    assert!(
        matches!(result, Err(VerifyError::UnknownKey { .. })),
        "{result:?}"
    );

    // The same bytes presented as another payload type are refused before
    // any verification.
    let mut other_type = wire.clone();
    other_type.payload_type = "lintas.v1.Roster".into();
    let error = SignedNotice::try_from(other_type).unwrap_err();
    assert_eq!(error.path, "payload_type");
}

#[test]
fn a_body_with_a_forged_id_is_refused_even_when_validly_signed() {
    // The sender signs bytes whose id is not the content's hash: the
    // signature verifies but the id check does not.
    let body = &bodies()[1];
    let key = lintas_testkit::world::agency_key(body.sender.as_str());
    let mut rest = body.to_wire();
    rest.notice_id.clear();
    let mut bytes = vec![0x0A, 0x20];
    bytes.extend_from_slice(&[0x42; 32]);
    bytes.extend_from_slice(&rest.encode_to_vec());
    let wire = raw_envelope(body.sender.as_str(), key.key_id().as_str(), bytes, &key);
    let result = trusted().verify_notice(&SignedNotice::try_from(wire).unwrap(), now());
    assert!(
        matches!(result, Err(VerifyError::IdMismatch { .. })),
        "{result:?}"
    );
}

#[test]
fn a_second_id_field_inside_the_body_is_refused() {
    // Protobuf keeps the last of repeated scalar fields; a body that carries
    // the right id first and another one later must not pass as either.
    let body = &bodies()[1];
    let key = lintas_testkit::world::agency_key(body.sender.as_str());
    let mut rest = body.to_wire().encode_to_vec();
    rest.extend_from_slice(&[0x0A, 0x20]);
    rest.extend_from_slice(&[0x99; 32]);
    let id = lintas_core::signing::notice_id_of(&rest);
    let mut bytes = vec![0x0A, 0x20];
    bytes.extend_from_slice(id.as_bytes());
    bytes.extend_from_slice(&rest);
    let wire = raw_envelope(body.sender.as_str(), key.key_id().as_str(), bytes, &key);
    let result = trusted().verify_notice(&SignedNotice::try_from(wire).unwrap(), now());
    match result {
        Err(VerifyError::InvalidBody(e)) => assert_eq!(e.path, "notice_id"),
        other => panic!("expected an invalid notice_id, got {other:?}"),
    }
}

/// Logs and panics print envelopes with `{:?}`: they name the notice, not
/// what it says about a person.
#[test]
fn the_debug_form_of_a_signed_notice_names_it_without_its_content() {
    let body = bodies()
        .into_iter()
        .find(|b| b.kind() == lintas_core::vocab::NoticeKind::RescueRequest)
        .unwrap();
    let signed = sign(&body);
    let (id, _) = lintas_core::signing::decode_notice_body(signed.body_bytes()).unwrap();
    let shown = format!("{signed:?}");
    assert!(shown.contains(&id.to_string()), "{shown}");
    assert!(shown.contains(body.sender.as_str()), "{shown}");
    assert!(shown.contains(signed.key_id().as_str()), "{shown}");
    assert!(
        shown.contains(&format!("body_len: {}", signed.body_bytes().len())),
        "{shown}"
    );
    // No name, place or free text of the body.
    let json = serde_json::to_value(&body).unwrap();
    let mut texts = Vec::new();
    collect_strings(&json, &mut texts);
    for text in texts.iter().filter(|t| t.len() > 12 && t.contains(' ')) {
        assert!(!shown.contains(text.as_str()), "{text:?} in {shown}");
    }
}

fn collect_strings(value: &serde_json::Value, out: &mut Vec<String>) {
    match value {
        serde_json::Value::String(s) => out.push(s.clone()),
        serde_json::Value::Array(items) => items.iter().for_each(|v| collect_strings(v, out)),
        serde_json::Value::Object(map) => map.values().for_each(|v| collect_strings(v, out)),
        _ => {}
    }
}
