//! The protected parts in the published vectors, checked the way
//! docs/PROTOCOL.md section 14.5 tells another implementation to: every
//! commitment recomputed with SHA-256 alone from the document's formula
//! and found in the signed body, then lintas-core opening, withholding and
//! refusing a changed value.

use lintas_core::disclosure::parts;
use lintas_core::pb;
use lintas_core::roster::{SignedRoster, TrustedRoster};
use lintas_core::signing::SignedNotice;
use lintas_core::time::Timestamp;
use prost::Message;
use serde_json::Value;
use sha2::{Digest, Sha256};

fn load() -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("vectors/lintas-v1.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn bytes(v: &Value, field: &str) -> Vec<u8> {
    hex::decode(v[field].as_str().unwrap()).unwrap()
}

/// The commitment of 14.2, written from the document.
fn commitment(type_name: &str, salt: &[u8], value: &[u8]) -> Vec<u8> {
    let mut hash = Sha256::new();
    for item in [
        b"lintas.v1.disclosure".as_slice(),
        type_name.as_bytes(),
        salt,
        value,
    ] {
        hash.update((item.len() as u64).to_be_bytes());
        hash.update(item);
    }
    hash.finalize().to_vec()
}

const TYPES: [&str; 3] = [
    "lintas.v1.ProtectedIdentity",
    "lintas.v1.ProtectedMedical",
    "lintas.v1.ProtectedContacts",
];

#[test]
fn the_vectors_protected_parts_follow_the_document() {
    let vectors = load();
    let at = Timestamp::parse(vectors["verify_at"].as_str().unwrap()).unwrap();
    let roster = TrustedRoster::bootstrap(
        SignedRoster::decode(&bytes(&vectors["roster"], "signed_roster_hex")).unwrap(),
        at,
    )
    .unwrap();
    let mut opened = 0;
    for notice in vectors["notices"].as_array().unwrap() {
        let raw = bytes(notice, "signed_notice_hex");
        let wire = pb::SignedNotice::decode(raw.as_slice()).unwrap();
        for d in &wire.disclosures {
            assert_eq!(d.salt.len(), 16);
            // Exactly one part type gives the commitment, and the
            // commitment is inside the signed bytes.
            let matching: Vec<&str> = TYPES
                .into_iter()
                .filter(|t| commitment(t, &d.salt, &d.value) == d.commitment)
                .collect();
            assert_eq!(matching.len(), 1, "{}", notice["name"]);
            assert!(
                wire.body.windows(32).any(|w| w == d.commitment.as_slice()),
                "{}",
                notice["name"]
            );
            opened += 1;
        }
        if wire.disclosures.is_empty() {
            continue;
        }
        let envelope = SignedNotice::decode(&raw).unwrap();
        let full = roster.verify_notice(&envelope, at).unwrap();
        assert!(parts(&full.body).iter().all(|p| p.disclosed));

        // Without its first disclosure the notice still verifies, with
        // that part withheld and the others open.
        let mut fewer = wire.clone();
        let removed = fewer.disclosures.remove(0);
        let view = roster
            .verify_notice(&SignedNotice::try_from(fewer).unwrap(), at)
            .unwrap();
        for part in parts(&view.body) {
            let is_removed =
                part.commitment.map(|c| c.as_bytes().to_vec()) == Some(removed.commitment.clone());
            assert_eq!(part.disclosed, !is_removed, "{}", part.path);
        }

        // One changed byte of a value is refused where the document says.
        for i in 0..wire.disclosures.len() {
            let mut changed = wire.clone();
            let value = &mut changed.disclosures[i].value;
            let last = value.len() - 1;
            value[last] ^= 0x01;
            let error = roster
                .verify_notice(&SignedNotice::try_from(changed).unwrap(), at)
                .unwrap_err();
            assert_eq!(error.reason(), "invalid_body");
            assert!(
                error
                    .to_string()
                    .contains(&format!("disclosures[{i}].value")),
                "{error}"
            );
        }
    }
    // victim_identified (3 parts) and nationality_verification_request (1).
    assert!(opened >= 4, "{opened}");
}

/// A body signed with a protected part's value inside (or two parts with
/// one commitment) is refused, naming the part: signers seal, receivers
/// check.
#[test]
fn a_signed_body_with_an_unsealed_or_repeated_part_is_refused() {
    use lintas_core::signing::{NOTICE_BODY_PREFIX, notice_id_of};
    let now = lintas_testkit::world::fixed_now();
    let roster = lintas_testkit::world::trusted_roster();
    let body = lintas_testkit::scenario::one_of_each_kind(now)
        .into_iter()
        .find(|b| b.kind() == lintas_core::vocab::NoticeKind::VictimIdentified)
        .unwrap();
    let sender = body.sender.to_string();
    let key = lintas_testkit::world::agency_key(&sender);
    let signed_over = |wire: pb::NoticeBody| {
        let rest = wire.encode_to_vec();
        let mut bytes = NOTICE_BODY_PREFIX.to_vec();
        bytes.extend_from_slice(notice_id_of(&rest).as_bytes());
        bytes.extend_from_slice(&rest);
        let envelope = crate::support::raw_envelope(&sender, &format!("{sender}#1"), bytes, &key);
        roster
            .verify_notice(&SignedNotice::try_from(envelope).unwrap(), now)
            .unwrap_err()
    };
    // The draft's wire form: values, no commitments.
    let error = signed_over(body.to_wire());
    assert_eq!(error.reason(), "invalid_body");
    assert!(
        error
            .to_string()
            .contains("victim_identified.victim.medical"),
        "{error}"
    );
    // Sealed properly but with the same commitment twice.
    let (_, signed) = SignedNotice::sign(&body, &key).unwrap();
    let mut wire = pb::NoticeBody::decode(signed.body_bytes()).unwrap();
    wire.notice_id.clear();
    let Some(pb::notice_body::Kind::VictimIdentified(v)) = wire.kind.as_mut() else {
        panic!("not a victim identification");
    };
    let medical = v
        .victim
        .as_ref()
        .unwrap()
        .medical
        .clone()
        .unwrap()
        .commitment;
    v.identity.as_mut().unwrap().commitment = medical;
    let error = signed_over(wire);
    assert!(
        error
            .to_string()
            .contains("victim_identified.identity.commitment"),
        "{error}"
    );
}
