//! The published test vectors in `tests/vectors/lintas-v1.json`.
//!
//! Two checks: (1) the vectors, read as another implementation would read
//! them, satisfy the rules of docs/PROTOCOL.md, computed here from the raw
//! bytes with ed25519-dalek and sha2 directly, not with lintas-core's
//! signing code; (2) lintas-core accepts exactly the accepted notices and
//! refuses each rejected one for the stated reason. A third test checks the
//! file is what the fixtures produce today; run with `LINTAS_BLESS=1` to
//! rewrite it after a deliberate change.

use std::path::PathBuf;

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use lintas_core::ids::{AgencyId, MemberState};
use lintas_core::notice::NoticeBody;
use lintas_core::pb;
use lintas_core::roster::{SignedRoster, TrustedRoster, VerifyError};
use lintas_core::signing::{
    NOTICE_PAYLOAD_TYPE, ROSTER_PAYLOAD_TYPE, SignedNotice, encode_notice_body,
};
use lintas_core::time::Timestamp;
use lintas_core::vocab::NoticeKind;
use lintas_testkit::world;
use prost::Message;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::support::{bodies, raw_envelope};

fn path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("vectors/lintas-v1.json")
}

pub(crate) fn load() -> Value {
    let text = std::fs::read_to_string(path()).expect("tests/vectors/lintas-v1.json");
    serde_json::from_str(&text).expect("vectors are JSON")
}

/// The roster of `tests/vectors/lintas-v1.json`, trusted at `at` (how the
/// log, evidence and offline vectors are checked).
pub(crate) fn published_roster_at(
    at: lintas_core::time::Timestamp,
) -> lintas_core::roster::TrustedRoster {
    lintas_core::roster::TrustedRoster::bootstrap(
        lintas_core::roster::SignedRoster::decode(&bytes(&load()["roster"], "signed_roster_hex"))
            .unwrap(),
        at,
    )
    .unwrap()
}

pub(crate) fn bytes(v: &Value, field: &str) -> Vec<u8> {
    hex::decode(
        v[field]
            .as_str()
            .unwrap_or_else(|| panic!("{field} missing")),
    )
    .unwrap()
}

/// The PAE of docs/PROTOCOL.md, written out independently.
pub(crate) fn spec_pae(payload_type: &str, signer: &str, key_id: &str, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for item in [
        b"lintas/v1".as_slice(),
        payload_type.as_bytes(),
        signer.as_bytes(),
        key_id.as_bytes(),
        body,
    ] {
        out.extend_from_slice(&(item.len() as u64).to_be_bytes());
        out.extend_from_slice(item);
    }
    out
}

fn verifying_key(v: &Value) -> VerifyingKey {
    let seed: [u8; 32] = bytes(v, "seed_hex").try_into().unwrap();
    let key = SigningKey::from_bytes(&seed).verifying_key();
    assert_eq!(
        key.as_bytes().to_vec(),
        bytes(v, "public_key_hex"),
        "{}",
        v["key_id"]
    );
    key
}

fn key_named(vectors: &Value, key_id: &str) -> VerifyingKey {
    let entry = vectors["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["key_id"] == key_id)
        .unwrap_or_else(|| panic!("no key {key_id}"));
    verifying_key(entry)
}

#[test]
fn vectors_follow_the_protocol_document() {
    let vectors = load();
    for key in vectors["keys"].as_array().unwrap() {
        verifying_key(key);
    }
    // Roster signatures.
    let roster = &vectors["roster"];
    let roster_bytes = bytes(roster, "roster_hex");
    for sig in roster["signatures"].as_array().unwrap() {
        let key_id = sig["key_id"].as_str().unwrap();
        let pae = spec_pae(
            ROSTER_PAYLOAD_TYPE,
            sig["state"].as_str().unwrap(),
            key_id,
            &roster_bytes,
        );
        assert_eq!(pae, bytes(sig, "pae_hex"));
        let signature = Signature::from_slice(&bytes(sig, "signature_hex")).unwrap();
        key_named(&vectors, key_id)
            .verify_strict(&pae, &signature)
            .unwrap();
    }
    let envelope = pb::SignedRoster::decode(bytes(roster, "signed_roster_hex").as_slice()).unwrap();
    assert_eq!(envelope.roster, roster_bytes);

    // Notices.
    for notice in vectors["notices"].as_array().unwrap() {
        let body = bytes(notice, "body_hex");
        assert_eq!(
            &body[..2],
            &[0x0A, 0x20],
            "body starts with field 1, 32 bytes"
        );
        let mut hash = Sha256::new();
        hash.update(b"lintas.v1.notice-id\x00");
        hash.update(&body[34..]);
        let id = hash.finalize().to_vec();
        assert_eq!(id, bytes(notice, "notice_id_hex"));
        assert_eq!(&body[2..34], id.as_slice());

        let signer = notice["signer"].as_str().unwrap();
        let key_id = notice["key_id"].as_str().unwrap();
        let pae = spec_pae(NOTICE_PAYLOAD_TYPE, signer, key_id, &body);
        assert_eq!(pae, bytes(notice, "pae_hex"));
        let signature = Signature::from_slice(&bytes(notice, "signature_hex")).unwrap();
        key_named(&vectors, key_id)
            .verify_strict(&pae, &signature)
            .unwrap();
        // Ed25519 is deterministic: the published signature is reproducible.
        let seed: [u8; 32] = bytes(
            vectors["keys"]
                .as_array()
                .unwrap()
                .iter()
                .find(|k| k["key_id"] == key_id)
                .unwrap(),
            "seed_hex",
        )
        .try_into()
        .unwrap();
        assert_eq!(SigningKey::from_bytes(&seed).sign(&pae), signature);

        let wire = pb::SignedNotice::decode(bytes(notice, "signed_notice_hex").as_slice()).unwrap();
        assert_eq!(wire.payload_type, NOTICE_PAYLOAD_TYPE);
        assert_eq!(
            (wire.signer.as_str(), wire.key_id.as_str()),
            (signer, key_id)
        );
        assert_eq!(wire.body, body);
        assert_eq!(wire.signature, signature.to_bytes());
    }
}

fn reason(error: &VerifyError) -> &'static str {
    error.reason()
}

#[test]
fn lintas_core_agrees_with_the_vectors() {
    let vectors = load();
    let at = Timestamp::parse(vectors["verify_at"].as_str().unwrap()).unwrap();
    let signed = SignedRoster::decode(&bytes(&vectors["roster"], "signed_roster_hex")).unwrap();
    let trusted = TrustedRoster::bootstrap(signed, at).unwrap();
    for notice in vectors["notices"].as_array().unwrap() {
        let envelope = SignedNotice::decode(&bytes(notice, "signed_notice_hex")).unwrap();
        let verified = trusted
            .verify_notice(&envelope, at)
            .unwrap_or_else(|e| panic!("{} refused: {e}", notice["name"]));
        assert_eq!(
            verified.id.as_bytes().to_vec(),
            bytes(notice, "notice_id_hex")
        );
        let json: NoticeBody = serde_json::from_value(notice["body_json"].clone()).unwrap();
        assert_eq!(verified.body, json);
    }
    let rejected = vectors["rejected"].as_array().unwrap();
    assert!(rejected.len() >= 8);
    for case in rejected {
        let name = case["name"].as_str().unwrap();
        let result = SignedNotice::decode(&bytes(case, "signed_notice_hex"))
            .map_err(|e| format!("malformed: {e}"))
            .and_then(|n| {
                trusted
                    .verify_notice(&n, at)
                    .map_err(|e| reason(&e).to_owned())
            });
        match result {
            Ok(_) => panic!("{name} was accepted"),
            Err(got) => assert_eq!(got, case["reason"].as_str().unwrap(), "{name}"),
        }
    }
}

#[test]
fn vectors_are_current() {
    check_current(&path(), &generate());
}

/// Fails if the published file at `path` is not `fresh`; with
/// `LINTAS_BLESS` set, rewrites it instead.
pub(crate) fn check_current(path: &std::path::Path, fresh: &Value) {
    let fresh = serde_json::to_string_pretty(fresh).unwrap() + "\n";
    if std::env::var_os("LINTAS_BLESS").is_some() {
        std::fs::write(path, &fresh).unwrap();
        return;
    }
    let published = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        published == fresh,
        "{} differs from what the fixtures produce; if the change is deliberate, rerun with \
         LINTAS_BLESS=1 and review the diff",
        path.display()
    );
}

/// Builds the vector file from the development fixtures.
fn generate() -> Value {
    let now = world::fixed_now();
    let roster = world::roster(1, now.plus_seconds(-3600));
    let stewards = [MemberState::Indonesia, MemberState::Thailand];
    let signed_roster = world::sign_roster(&roster, &stewards);

    let mut keys = Vec::new();
    for state in world::STEWARDS {
        let k = world::steward_key(state);
        keys.push(json!({
            "key_id": k.key_id().as_str(),
            "steward_state": state.code(),
            "seed_hex": hex::encode(*k.seed()),
            "public_key_hex": k.public_key().to_hex(),
        }));
    }
    for (agency, ..) in world::agencies() {
        let k = world::agency_key(agency.as_str());
        keys.push(json!({
            "key_id": k.key_id().as_str(),
            "agency": agency.as_str(),
            "seed_hex": hex::encode(*k.seed()),
            "public_key_hex": k.public_key().to_hex(),
        }));
    }

    let roster_signatures: Vec<Value> = signed_roster
        .signatures()
        .iter()
        .zip(stewards)
        .map(|((key_id, signature), state)| {
            json!({
                "key_id": key_id.as_str(),
                "state": state.code(),
                "pae_hex": hex::encode(lintas_core::signing::pae(
                    ROSTER_PAYLOAD_TYPE, state.code(), key_id.as_str(), signed_roster.roster_bytes())),
                "signature_hex": hex::encode(signature),
            })
        })
        .collect();

    let all = bodies();
    let pick = |kind: NoticeKind| all.iter().find(|b| b.kind() == kind).unwrap().clone();
    // One notice of every kind, named by its oneof field; the first two keep
    // the names earlier versions of this file used.
    let mut named = vec![
        (
            "victim_status_update".to_owned(),
            pick(NoticeKind::VictimStatusUpdate),
        ),
        ("rescue_request".to_owned(), pick(NoticeKind::RescueRequest)),
    ];
    for body in &all {
        let name = body
            .kind()
            .wire_name()
            .trim_start_matches("NOTICE_KIND_")
            .to_lowercase();
        if !named.iter().any(|(n, _)| *n == name) {
            named.push((name, body.clone()));
        }
    }
    let notices: Vec<Value> = named
        .into_iter()
        .map(|(name, body)| {
            let key = world::agency_key(body.sender.as_str());
            let (id, signed) = SignedNotice::sign(&body, &key).unwrap();
            json!({
                "name": name,
                "signer": signed.signer().as_str(),
                "key_id": signed.key_id().as_str(),
                "body_hex": hex::encode(signed.body_bytes()),
                "notice_id_hex": id.to_string(),
                "pae_hex": hex::encode(signed.signed_message()),
                "signature_hex": hex::encode(signed.signature()),
                "signed_notice_hex": hex::encode(signed.encode()),
                // As a holder of every disclosure reads it: sealed parts
                // show their commitments beside their values.
                "body_json": serde_json::to_value(signed.open_body().unwrap().1).unwrap(),
            })
        })
        .collect();

    json!({
        "about": "Lintas protocol v1 test vectors. Keys are derived from public seeds: never use them outside tests. Verify every notice at verify_at against the roster, which is version 1 signed by the Indonesian and Thai stewards (threshold 2 of 3). See docs/PROTOCOL.md.",
        "protocol": "lintas/v1",
        "verify_at": now.to_string(),
        "keys": keys,
        "roster": {
            "roster_hex": hex::encode(signed_roster.roster_bytes()),
            "signed_roster_hex": hex::encode(signed_roster.encode()),
            "signatures": roster_signatures,
        },
        "notices": notices,
        "rejected": rejected(&all, now),
        "ed25519": crate::ed25519::vectors(),
    })
}

fn rejected(all: &[NoticeBody], now: Timestamp) -> Vec<Value> {
    let update = all
        .iter()
        .find(|b| b.kind() == NoticeKind::VictimStatusUpdate)
        .unwrap()
        .clone();
    let key = world::agency_key(update.sender.as_str());
    let good = pb::SignedNotice::from(SignedNotice::sign(&update, &key).unwrap().1);
    let mut cases: Vec<(&str, &str, pb::SignedNotice)> = Vec::new();

    let mut tampered = good.clone();
    let last = tampered.body.len() - 1;
    tampered.body[last] ^= 0x01;
    cases.push(("tampered_body_byte", "bad_signature", tampered));

    let mut claimed = good.clone();
    claimed.signer = world::THA_POLICE.into();
    claimed.key_id = format!("{}#1", world::THA_POLICE);
    cases.push(("signer_field_replaced", "bad_signature", claimed));

    let mut malleated = good.clone();
    crate::support::add_group_order(&mut malleated.signature);
    cases.push(("signature_s_plus_group_order", "bad_signature", malleated));

    let mut unknown_key = good.clone();
    unknown_key.key_id = format!("{}#9", update.sender);
    cases.push(("unknown_key_id", "unknown_key", unknown_key));

    let mut forged_id = good.body.clone();
    forged_id[2..34].copy_from_slice(&[0x42; 32]);
    cases.push((
        "notice_id_not_content_hash",
        "id_mismatch",
        raw_envelope(&good.signer, &good.key_id, forged_id, &key),
    ));

    let police = world::agency_key(world::IDN_POLRI);
    cases.push((
        "signed_by_another_agency_than_the_sender",
        "signer_not_sender",
        raw_envelope(
            world::IDN_POLRI,
            police.key_id().as_str(),
            good.body.clone(),
            &police,
        ),
    ));

    let mut rescue = all
        .iter()
        .find(|b| b.kind() == NoticeKind::RescueRequest)
        .unwrap()
        .clone();
    rescue.sender = AgencyId::parse(world::THA_IMMIGRATION).unwrap();
    let immigration = world::agency_key(world::THA_IMMIGRATION);
    cases.push((
        "kind_not_permitted_to_sender",
        "kind_not_permitted",
        SignedNotice::sign(&rescue, &immigration).unwrap().1.into(),
    ));

    let mut stale = update.clone();
    stale.created_at = now.plus_seconds(-20 * 3600);
    stale.expires_at = now.plus_seconds(-3600);
    if let lintas_core::notice::NoticeContent::VictimStatusUpdate(u) = &mut stale.content {
        u.effective_at = stale.created_at;
    }
    cases.push((
        "expired",
        "expired",
        SignedNotice::sign(&stale, &key).unwrap().1.into(),
    ));

    let mut early = update.clone();
    early.created_at = now.plus_seconds(3600);
    early.expires_at = now.plus_seconds(86_400);
    cases.push((
        "created_in_the_future",
        "created_in_future",
        SignedNotice::sign(&early, &key).unwrap().1.into(),
    ));

    let mut stranger = update.clone();
    stranger
        .recipients
        .push(AgencyId::parse("MYS.PDRM.D3").unwrap());
    cases.push((
        "recipient_not_in_roster",
        "unknown_recipient",
        SignedNotice::sign(&stranger, &key).unwrap().1.into(),
    ));

    let bad_body = {
        let (_, mut body) = encode_notice_body(&all[1]).unwrap();
        body.extend_from_slice(&[0x18, 0x00]); // sequence = 0 appended: last value wins
        let rest = body[34..].to_vec();
        let id = lintas_core::signing::notice_id_of(&rest);
        body[2..34].copy_from_slice(id.as_bytes());
        body
    };
    cases.push((
        "sequence_encoded_twice",
        "invalid_body",
        raw_envelope(&good.signer, &good.key_id, bad_body, &key),
    ));

    // Re-hashes `extra` appended to a valid body and signs it, as a buggy
    // or hostile peer could.
    let appended = |extra: &[u8]| {
        let (_, mut body) = encode_notice_body(&update).unwrap();
        body.extend_from_slice(extra);
        let id = lintas_core::signing::notice_id_of(&body[34..]);
        body[2..34].copy_from_slice(id.as_bytes());
        raw_envelope(&good.signer, &good.key_id, body, &key)
    };
    // NoticeBody field 60 (a kind of a later version), empty message.
    cases.push((
        "kind_from_a_newer_version",
        "unsupported_kind",
        appended(&[0xE2, 0x03, 0x00]),
    ));
    // A second kind (withdrawal, field 29, empty) after the status update.
    cases.push((
        "two_kinds_set",
        "invalid_body",
        appended(&[0xEA, 0x01, 0x00]),
    ));
    // handling.tlp encoded a second time inside a second handling field.
    cases.push((
        "handling_encoded_twice",
        "invalid_body",
        appended(&[0x3A, 0x02, 0x08, 0x05]),
    ));

    let mut strict = update.clone();
    strict.handling.tlp = lintas_core::vocab::Tlp::AmberStrict;
    strict.handling.may_forward = true;
    let (_, strict_body) = {
        let mut wire = strict.to_wire();
        let rest = wire.encode_to_vec();
        let id = lintas_core::signing::notice_id_of(&rest);
        wire.notice_id = id.as_bytes().to_vec();
        (id, wire.encode_to_vec())
    };
    cases.push((
        "amber_strict_marked_forwardable",
        "invalid_body",
        raw_envelope(&good.signer, &good.key_id, strict_body, &key),
    ));

    let mut mla = all
        .iter()
        .find(|b| b.kind() == NoticeKind::AssistanceRequest)
        .unwrap()
        .clone();
    mla.sender = AgencyId::parse(world::IDN_POLRI).unwrap();
    cases.push((
        "assistance_request_outside_central_authorities",
        "not_central_authority",
        SignedNotice::sign(&mla, &police).unwrap().1.into(),
    ));

    cases
        .into_iter()
        .map(|(name, reason, envelope)| {
            json!({
                "name": name,
                "reason": reason,
                "signed_notice_hex": hex::encode(envelope.encode_to_vec()),
            })
        })
        .collect()
}
