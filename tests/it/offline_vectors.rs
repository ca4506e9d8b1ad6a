//! The published offline bundle vectors, `tests/vectors/lintas-v1-offline.json`
//! (docs/PROTOCOL.md section 12.4): a bundle from the notice vectors' first
//! sender to its first recipient carrying that notice, and the reply with
//! the recipient's ACCEPTED receipt as the answer.
//!
//! (1) The file follows the document, checked with ed25519-dalek over a PAE
//! written out here; (2) lintas-core opens both; (3) the file is what the
//! fixtures produce (`LINTAS_BLESS=1` rewrites it).

use std::path::PathBuf;

use ed25519_dalek::{Signature, SigningKey, Verifier};
use lintas_core::offline::{OfflineAnswer, OfflineBundle, OfflineItem};
use lintas_core::pb;
use lintas_core::receipt::{Receipt, SignedReceipt};
use lintas_core::signing::{OFFLINE_BUNDLE_PAYLOAD_TYPE, SignedNotice};
use lintas_core::time::Timestamp;
use lintas_core::vocab::ReceiptStage;
use lintas_testkit::world;
use prost::Message;
use serde_json::{Value, json};

use crate::vectors::{bytes, check_current, load, published_roster_at, spec_pae};

fn path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("vectors/lintas-v1-offline.json")
}

fn published() -> Value {
    let text = std::fs::read_to_string(path()).expect("tests/vectors/lintas-v1-offline.json");
    serde_json::from_str(&text).expect("vectors are JSON")
}

fn generate() -> Value {
    let main = load();
    let verify_at = Timestamp::parse(main["verify_at"].as_str().unwrap()).unwrap();
    let notice_bytes = bytes(&main["notices"][0], "signed_notice_hex");
    let notice = SignedNotice::decode(&notice_bytes).unwrap();
    let (id, body) = lintas_core::signing::decode_notice_body(notice.body_bytes()).unwrap();
    let (from, to) = (body.sender.clone(), body.recipients[0].clone());
    let bundle = OfflineBundle {
        from: from.clone(),
        to: to.clone(),
        created_at: verify_at.plus_seconds(-600),
        items: vec![(41, OfflineItem::Notice(notice.clone()))],
        answers: Vec::new(),
    }
    .seal(&world::agency_key(from.as_str()));
    let receipt = SignedReceipt::sign(
        &Receipt::new(
            id,
            &notice,
            to.clone(),
            ReceiptStage::Accepted,
            verify_at.plus_seconds(-300),
        ),
        &world::agency_key(to.as_str()),
    )
    .unwrap();
    let reply = OfflineBundle {
        from: to.clone(),
        to: from.clone(),
        created_at: verify_at.plus_seconds(-300),
        items: Vec::new(),
        answers: vec![(
            41,
            OfflineAnswer::Accepted {
                receipt,
                duplicate: false,
            },
        )],
    }
    .seal(&world::agency_key(to.as_str()));
    json!({
        "about": "Lintas protocol v1 offline bundle vectors (docs/PROTOCOL.md section 12). Open each at verify_at, as its `to`, with the roster of tests/vectors/lintas-v1.json.",
        "protocol": "lintas/v1",
        "verify_at": verify_at.to_string(),
        "bundle": {
            "from": from.as_str(),
            "to": to.as_str(),
            "item_ref": 41,
            "notice_id_hex": hex::encode(id.as_bytes()),
            "signed_offline_bundle_hex": hex::encode(&bundle),
        },
        "reply": {
            "from": to.as_str(),
            "to": from.as_str(),
            "answer_ref": 41,
            "signed_offline_bundle_hex": hex::encode(&reply),
        },
    })
}

#[test]
fn offline_vectors_are_current() {
    check_current(&path(), &generate());
}

#[test]
fn the_offline_vectors_follow_the_document() {
    let v = published();
    let keys = load()["keys"].as_array().unwrap().clone();
    for which in ["bundle", "reply"] {
        let b = &v[which];
        let signed =
            pb::SignedOfflineBundle::decode(bytes(b, "signed_offline_bundle_hex").as_slice())
                .unwrap();
        let bundle = pb::OfflineBundle::decode(signed.bundle.as_slice()).unwrap();
        assert_eq!(bundle.format, "lintas.v1.OfflineBundle");
        assert_eq!(bundle.from, b["from"].as_str().unwrap());
        assert_eq!(bundle.to, b["to"].as_str().unwrap());
        assert_eq!(signed.signer, bundle.from);
        let k = keys.iter().find(|k| k["key_id"] == signed.key_id).unwrap();
        let seed: [u8; 32] = bytes(k, "seed_hex").try_into().unwrap();
        let pae = spec_pae(
            OFFLINE_BUNDLE_PAYLOAD_TYPE,
            &signed.signer,
            &signed.key_id,
            &signed.bundle,
        );
        SigningKey::from_bytes(&seed)
            .verifying_key()
            .verify(&pae, &Signature::from_slice(&signed.signature).unwrap())
            .unwrap();
        if which == "bundle" {
            assert_eq!(bundle.items[0].r#ref, 41);
            let item = bundle.items[0].item.clone().unwrap().item.unwrap();
            let pb::batch_item::Item::Notice(n) = item else {
                panic!("a notice")
            };
            assert_eq!(
                n.encode_to_vec(),
                bytes(&load()["notices"][0], "signed_notice_hex")
            );
        } else {
            assert_eq!(bundle.answers[0].r#ref, 41);
        }
    }
}

#[test]
fn lintas_core_opens_the_offline_vectors() {
    let v = published();
    let at = Timestamp::parse(v["verify_at"].as_str().unwrap()).unwrap();
    let roster = published_roster_at(at);
    let to = lintas_core::ids::AgencyId::parse(v["bundle"]["to"].as_str().unwrap()).unwrap();
    let from = lintas_core::ids::AgencyId::parse(v["bundle"]["from"].as_str().unwrap()).unwrap();
    let bundle = OfflineBundle::open(
        &bytes(&v["bundle"], "signed_offline_bundle_hex"),
        &to,
        &roster,
        at,
    )
    .unwrap();
    assert_eq!(bundle.items.len(), 1);
    let reply = OfflineBundle::open(
        &bytes(&v["reply"], "signed_offline_bundle_hex"),
        &from,
        &roster,
        at,
    )
    .unwrap();
    let OfflineAnswer::Accepted { receipt, .. } = &reply.answers[0].1 else {
        panic!("an ACCEPTED receipt")
    };
    assert_eq!(
        roster
            .verify_receipt(receipt, at)
            .unwrap()
            .notice_id
            .to_string(),
        v["bundle"]["notice_id_hex"].as_str().unwrap()
    );
    // Opened as the wrong agency, or with a byte changed: refused.
    assert!(
        OfflineBundle::open(
            &bytes(&v["bundle"], "signed_offline_bundle_hex"),
            &from,
            &roster,
            at
        )
        .is_err()
    );
    let mut tampered = bytes(&v["bundle"], "signed_offline_bundle_hex");
    let last = tampered.len() - 1;
    tampered[last] ^= 1;
    assert!(OfflineBundle::open(&tampered, &to, &roster, at).is_err());
}
