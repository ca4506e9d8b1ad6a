//! The published evidence bundle vector, `tests/vectors/lintas-v1-evidence.json`
//! (docs/PROTOCOL.md section 11.4): one bundle built from the notice
//! vectors' first notice, a receipt, both parties' logs and checkpoints,
//! and tampered copies with the problem each must be reported as.
//!
//! (1) The file satisfies the document, recomputed here with sha2 and
//! ed25519-dalek directly (manifest digests, pieces and signature); (2)
//! lintas-core's verifier agrees, and names each tampering as published;
//! (3) the file is what the fixtures produce (`LINTAS_BLESS=1` rewrites it).

use std::path::PathBuf;

use ed25519_dalek::{Signature, SigningKey, Verifier};
use lintas_core::evidence::verify::verify_bundle;
use lintas_core::evidence::{Bundle, EvidenceNotice, EvidenceReceipt, LogProof};
use lintas_core::ids::AgencyId;
use lintas_core::pb;
use lintas_core::receipt::{Receipt, SignedReceipt};
use lintas_core::signing::{MANIFEST_PAYLOAD_TYPE, SignedNotice};
use lintas_core::time::Timestamp;
use lintas_core::transparency::checkpoint::{
    Checkpoint, CosignedCheckpoint, SignedCheckpoint, SignedCosignature,
};
use lintas_core::transparency::entry::{LogEntry, LogEntryKind};
use lintas_core::transparency::merkle::{self, MemoryTree};
use lintas_core::transparency::proofs::InclusionProof;
use lintas_core::vocab::ReceiptStage;
use lintas_testkit::world;
use prost::Message;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::vectors::{bytes, check_current, load, spec_pae};

fn path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("vectors/lintas-v1-evidence.json")
}

fn published() -> Value {
    let text = std::fs::read_to_string(path()).expect("tests/vectors/lintas-v1-evidence.json");
    serde_json::from_str(&text).expect("vectors are JSON")
}

/// One party's log holding `entries`, with a checkpoint signed by `origin`
/// at `at` and cosigned by `witness` a second later; the proof of entry
/// `index`.
fn logged(
    origin: &AgencyId,
    witness: &AgencyId,
    entries: &[Vec<u8>],
    index: u64,
    at: Timestamp,
) -> InclusionProof {
    let mut tree = MemoryTree::new();
    for e in entries {
        tree.push(e);
    }
    let size = tree.size();
    let checkpoint = SignedCheckpoint::sign(
        &Checkpoint {
            origin: origin.clone(),
            size,
            root: merkle::root(&tree, size).unwrap(),
            at,
        },
        &world::agency_key(origin.as_str()),
    );
    let cosignature = SignedCosignature::sign(
        &checkpoint,
        witness,
        at.plus_seconds(1),
        &world::agency_key(witness.as_str()),
    );
    InclusionProof {
        index,
        proof: merkle::inclusion_proof(&tree, index, size).unwrap(),
        checkpoint: CosignedCheckpoint {
            checkpoint,
            cosignatures: vec![cosignature],
        },
    }
}

/// Builds the vector file.
fn generate() -> Value {
    let main = load();
    let verify_at = Timestamp::parse(main["verify_at"].as_str().unwrap()).unwrap();
    let first = &main["notices"][0];
    let notice_bytes = bytes(first, "signed_notice_hex");
    let notice = SignedNotice::decode(&notice_bytes).unwrap();
    let (id, body) = lintas_core::signing::decode_notice_body(notice.body_bytes()).unwrap();
    let sender = body.sender.clone();
    let recipient = body.recipients[0].clone();
    let receipt = SignedReceipt::sign(
        &Receipt::new(
            id,
            &notice,
            recipient.clone(),
            ReceiptStage::Accepted,
            body.created_at.plus_seconds(60),
        ),
        &world::agency_key(recipient.as_str()),
    )
    .unwrap()
    .encode();
    let entry = |kind, bytes: &[u8]| LogEntry::of(kind, id, bytes).encode();
    let logs_at = verify_at.plus_seconds(-120);
    let sender_log = [
        entry(LogEntryKind::NoticeSent, &notice_bytes),
        entry(LogEntryKind::Receipt, &receipt),
    ];
    let recipient_log = [
        entry(LogEntryKind::NoticeReceived, &notice_bytes),
        entry(LogEntryKind::Receipt, &receipt),
    ];
    let proof = |log: &AgencyId, other: &AgencyId, entries: &[Vec<u8>], index, kind| LogProof {
        log: log.clone(),
        kind,
        proof: logged(log, other, entries, index, logs_at),
    };
    let bundle = Bundle {
        rosters: vec![bytes(&main["roster"], "signed_roster_hex")],
        notices: vec![EvidenceNotice {
            signed_notice: notice_bytes.clone(),
            proofs: vec![
                proof(
                    &sender,
                    &recipient,
                    &sender_log,
                    0,
                    LogEntryKind::NoticeSent,
                ),
                proof(
                    &recipient,
                    &sender,
                    &recipient_log,
                    0,
                    LogEntryKind::NoticeReceived,
                ),
            ],
            receipts: vec![EvidenceReceipt {
                signed_receipt: receipt,
                proofs: vec![
                    proof(
                        &recipient,
                        &sender,
                        &recipient_log,
                        1,
                        LogEntryKind::Receipt,
                    ),
                    proof(&sender, &recipient, &sender_log, 1, LogEntryKind::Receipt),
                ],
            }],
            attachments: Vec::new(),
        }],
    };
    let case = body
        .case_id
        .as_ref()
        .map(ToString::to_string)
        .unwrap_or_default();
    let file = bundle.seal(
        &case,
        &sender,
        verify_at.plus_seconds(-60),
        &world::agency_key(sender.as_str()),
    );
    let tamper = |change: &dyn Fn(&mut pb::EvidenceBundle)| {
        let mut b = pb::EvidenceBundle::decode(file.as_slice()).unwrap();
        change(&mut b);
        hex::encode(b.encode_to_vec())
    };
    let tampered = vec![
        json!({
            "what": "the last byte of the notice (its signature) flipped",
            "problem_path": "notices[0]",
            "bundle_hex": tamper(&|b| { let n = &mut b.notices[0].signed_notice; let l = n.len() - 1; n[l] ^= 1; }),
        }),
        json!({
            "what": "the receipt's last byte flipped",
            "problem_path": "notices[0].receipts[0]",
            "bundle_hex": tamper(&|b| { let r = &mut b.notices[0].receipts[0].signed_receipt; let l = r.len() - 1; r[l] ^= 1; }),
        }),
        json!({
            "what": "a hash of the recipient's inclusion proof flipped",
            "problem_path": "notices[0].proofs[1].proof",
            "bundle_hex": tamper(&|b| { b.notices[0].proofs[1].proof.as_mut().unwrap().proof[0][0] ^= 1; }),
        }),
        json!({
            "what": "the receipt removed",
            "problem_path": "notices[0].receipts[0]",
            "bundle_hex": tamper(&|b| { b.notices[0].receipts.clear(); }),
        }),
    ];
    json!({
        "about": "Lintas protocol v1 evidence bundle vector (docs/PROTOCOL.md section 11). Built from the first notice of tests/vectors/lintas-v1.json; verify at verify_at with that file's roster given as the trusted one.",
        "protocol": "lintas/v1",
        "verify_at": verify_at.to_string(),
        "case_id": case,
        "exported_by": sender.as_str(),
        "notice_id_hex": hex::encode(id.as_bytes()),
        "bundle_hex": hex::encode(&file),
        "tampered": tampered,
    })
}

#[test]
fn evidence_vectors_are_current() {
    check_current(&path(), &generate());
}

#[test]
fn the_evidence_vector_follows_the_document() {
    let v = published();
    let file = bytes(&v, "bundle_hex");
    let bundle = pb::EvidenceBundle::decode(file.as_slice()).unwrap();
    assert_eq!(bundle.format, "lintas.v1.EvidenceBundle");
    let signed = bundle.manifest.clone().unwrap();
    let manifest = pb::EvidenceManifest::decode(signed.manifest.as_slice()).unwrap();
    assert_eq!(manifest.exported_by, v["exported_by"].as_str().unwrap());
    assert_eq!(manifest.case_id, v["case_id"].as_str().unwrap());
    // Every item listed in file order, with its digest, pieces and size.
    let items: Vec<(&str, &[u8])> = vec![
        ("rosters[0]", bundle.rosters[0].as_slice()),
        ("notices[0]", bundle.notices[0].signed_notice.as_slice()),
        (
            "notices[0].receipts[0]",
            bundle.notices[0].receipts[0].signed_receipt.as_slice(),
        ),
    ];
    assert_eq!(manifest.items.len(), items.len());
    for ((path, bytes), item) in items.iter().zip(&manifest.items) {
        assert_eq!(item.path, *path);
        assert_eq!(item.sha256, Sha256::digest(bytes).to_vec());
        assert_eq!(item.size, bytes.len() as u64);
        let pieces: Vec<Vec<u8>> = bytes
            .chunks(256)
            .map(|c| Sha256::digest(c).to_vec())
            .collect();
        assert_eq!(item.chunk_sha256, pieces, "{path}");
    }
    // The exporter's signature over the PAE, written out here.
    let keys = load()["keys"].as_array().unwrap().clone();
    let k = keys.iter().find(|k| k["key_id"] == signed.key_id).unwrap();
    let seed: [u8; 32] = bytes(k, "seed_hex").try_into().unwrap();
    let pae = spec_pae(
        MANIFEST_PAYLOAD_TYPE,
        &signed.signer,
        &signed.key_id,
        &signed.manifest,
    );
    SigningKey::from_bytes(&seed)
        .verifying_key()
        .verify(&pae, &Signature::from_slice(&signed.signature).unwrap())
        .unwrap();
}

#[test]
fn lintas_core_agrees_with_the_evidence_vector() {
    let v = published();
    let pinned = bytes(&load()["roster"], "signed_roster_hex");
    let report = verify_bundle(&bytes(&v, "bundle_hex"), Some(&pinned));
    assert!(report.ok, "{}", report.to_text());
    assert_eq!(report.notices[0].id.as_deref(), v["notice_id_hex"].as_str());
    assert_eq!(report.notices[0].logged.len(), 2);
    assert_eq!(report.notices[0].receipts[0].logged.len(), 2);
    for t in v["tampered"].as_array().unwrap() {
        let report = verify_bundle(&bytes(t, "bundle_hex"), Some(&pinned));
        assert!(!report.ok, "{}", t["what"]);
        assert!(
            report
                .problems
                .iter()
                .any(|p| p.path == t["problem_path"].as_str().unwrap()),
            "{}: {:?}",
            t["what"],
            report.problems
        );
    }
}
