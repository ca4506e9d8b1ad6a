//! The published test vectors of the transparency log,
//! `tests/vectors/lintas-v1-log.json` (docs/PROTOCOL.md section 10.9).
//!
//! As for the notice vectors: (1) the file, read as another implementation
//! would read it, satisfies the rules of the document, recomputed here with
//! sha2 and ed25519-dalek directly (the tree hash by the RFC's recursive
//! definition, not by lintas-core); (2) lintas-core agrees with it; (3) the
//! file is what the fixtures produce today (`LINTAS_BLESS=1` rewrites it).

use std::path::PathBuf;

use ed25519_dalek::{Signature, SigningKey, Verifier};
use lintas_core::ids::AgencyId;
use lintas_core::pb;
use lintas_core::signing::{CHECKPOINT_PAYLOAD_TYPE, COSIGNATURE_PAYLOAD_TYPE};
use lintas_core::time::Timestamp;
use lintas_core::transparency::checkpoint::{
    Checkpoint, CosignedCheckpoint, SignedCheckpoint, SignedCosignature,
};
use lintas_core::transparency::merkle::{self, MemoryTree};
use lintas_core::transparency::proofs::{ForkEvidence, ForkFinding, InclusionProof};
use lintas_testkit::world::{self, IDN_KEMLU, KHM_POLICE, THA_POLICE};
use prost::Message;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::vectors::{bytes, check_current, load, published_roster_at, spec_pae};

fn path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("vectors/lintas-v1-log.json")
}

fn published() -> Value {
    let text = std::fs::read_to_string(path()).expect("tests/vectors/lintas-v1-log.json");
    serde_json::from_str(&text).expect("vectors are JSON")
}

/// The entries of the Certificate Transparency test vectors (RFC 6962).
const ENTRIES: [&str; 8] = [
    "",
    "00",
    "10",
    "2021",
    "3031",
    "40414243",
    "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
];

const INCLUSION: [(u64, u64); 6] = [(0, 1), (0, 8), (5, 8), (2, 3), (1, 5), (6, 7)];
const CONSISTENCY: [(u64, u64); 6] = [(0, 8), (1, 1), (1, 8), (6, 8), (2, 5), (3, 7)];

fn hexes(v: &Value) -> Vec<Vec<u8>> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|h| hex::decode(h.as_str().unwrap()).unwrap())
        .collect()
}

/// MTH of RFC 6962 section 2.1, by its recursive definition.
fn spec_mth(entries: &[Vec<u8>]) -> [u8; 32] {
    match entries.len() {
        0 => Sha256::digest([]).into(),
        1 => Sha256::new()
            .chain_update([0u8])
            .chain_update(&entries[0])
            .finalize()
            .into(),
        n => {
            let k = 1usize << (usize::BITS - 1 - (n - 1).leading_zeros());
            Sha256::new()
                .chain_update([1u8])
                .chain_update(spec_mth(&entries[..k]))
                .chain_update(spec_mth(&entries[k..]))
                .finalize()
                .into()
        }
    }
}

/// Builds the vector file.
fn generate() -> Value {
    let main = load();
    let verify_at = Timestamp::parse(main["verify_at"].as_str().unwrap()).unwrap();
    let entries: Vec<Vec<u8>> = ENTRIES.iter().map(|e| hex::decode(e).unwrap()).collect();
    let mut tree = MemoryTree::new();
    for e in &entries {
        tree.push(e);
    }
    let roots: Vec<String> = (0..=8)
        .map(|n| hex::encode(merkle::root(&tree, n).unwrap()))
        .collect();
    let inclusion: Vec<Value> = INCLUSION
        .iter()
        .map(|&(index, size)| {
            let proof = merkle::inclusion_proof(&tree, index, size).unwrap();
            json!({"index": index, "size": size, "proof_hex": proof.iter().map(hex::encode).collect::<Vec<_>>()})
        })
        .collect();
    let consistency: Vec<Value> = CONSISTENCY
        .iter()
        .map(|&(old, new)| {
            let proof = merkle::consistency_proof(&tree, old, new).unwrap();
            json!({"old_size": old, "new_size": new, "proof_hex": proof.iter().map(hex::encode).collect::<Vec<_>>()})
        })
        .collect();

    let checkpoint = Checkpoint {
        origin: AgencyId::parse(IDN_KEMLU).unwrap(),
        size: 8,
        root: merkle::root(&tree, 8).unwrap(),
        at: verify_at.plus_seconds(-60),
    };
    let signed = SignedCheckpoint::sign(&checkpoint, &world::agency_key(IDN_KEMLU));
    let signed_wire = pb::SignedLogCheckpoint::from(signed.clone());
    let cosigned = SignedCosignature::sign(
        &signed,
        &AgencyId::parse(KHM_POLICE).unwrap(),
        verify_at.plus_seconds(-30),
        &world::agency_key(KHM_POLICE),
    );
    let cosigned_wire = pb::SignedLogCosignature::from(cosigned.clone());

    // Entry 5 completed with its inclusion proof against the cosigned
    // checkpoint (section 10.8).
    let inclusion_message = pb::LogInclusionProof::from(InclusionProof {
        index: 5,
        proof: merkle::inclusion_proof(&tree, 5, 8).unwrap(),
        checkpoint: CosignedCheckpoint {
            checkpoint: signed.clone(),
            cosignatures: vec![cosigned],
        },
    });

    // Fork evidence (section 10.7): another history of eight entries (the
    // last one changed), signed by the same node.
    let mut other = MemoryTree::new();
    for e in &entries[..7] {
        other.push(e);
    }
    other.push(b"another last entry");
    let sign_other = |size: u64, at: Timestamp| {
        SignedCheckpoint::sign(
            &Checkpoint {
                origin: checkpoint.origin.clone(),
                size,
                root: merkle::root(&other, size).unwrap(),
                at,
            },
            &world::agency_key(IDN_KEMLU),
        )
    };
    let fork_at = verify_at.plus_seconds(-10);
    let two_roots = ForkEvidence {
        origin: checkpoint.origin.clone(),
        earlier: signed.clone(),
        later: sign_other(8, verify_at.plus_seconds(-20)),
        proof: Vec::new(),
        detail: "two checkpoints of 8 entries with different roots".into(),
        detected_at: fork_at,
        shown_by: AgencyId::parse(THA_POLICE).unwrap(),
    };
    // A fork found with a proof: the real checkpoint of 5 was cosigned,
    // then the other history's checkpoint of 8 came with the real proof
    // from 5 to 8, which leads to the real root, not the other's.
    let real5 = SignedCheckpoint::sign(
        &Checkpoint {
            origin: checkpoint.origin.clone(),
            size: 5,
            root: merkle::root(&tree, 5).unwrap(),
            at: verify_at.plus_seconds(-120),
        },
        &world::agency_key(IDN_KEMLU),
    );
    let proof_fails = ForkEvidence {
        origin: checkpoint.origin.clone(),
        earlier: real5,
        later: sign_other(8, verify_at.plus_seconds(-20)),
        proof: merkle::consistency_proof(&tree, 5, 8).unwrap(),
        detail: "the log is not an extension of the checkpoint seen before".into(),
        detected_at: fork_at,
        shown_by: checkpoint.origin.clone(),
    };
    // A custody entry (section 13.4): Cambodia received a file from
    // Indonesia with a notice.
    let custody = lintas_core::custody::CustodyEntry::new(
        Sha256::digest(b"a photo").into(),
        Some(lintas_core::ids::NoticeId::from_bytes([0x42; 32])),
        lintas_core::custody::CustodyEvent::Received,
        AgencyId::parse(KHM_POLICE).unwrap(),
        IDN_KEMLU,
        verify_at.plus_seconds(-45),
        7,
    );
    let custody_signed = custody.sign(&world::agency_key(KHM_POLICE));
    let custody_wire = pb::SignedCustodyEntry::decode(custody_signed.as_slice()).unwrap();
    json!({
        "about": "Lintas protocol v1 transparency log vectors (docs/PROTOCOL.md section 10). The entries are those of the Certificate Transparency test vectors. Verify the checkpoint and cosignature at verify_at against the roster of tests/vectors/lintas-v1.json.",
        "protocol": "lintas/v1",
        "verify_at": verify_at.to_string(),
        "entries_hex": ENTRIES,
        "roots_hex": roots,
        "inclusion": inclusion,
        "consistency": consistency,
        "checkpoint": {
            "origin": checkpoint.origin.as_str(),
            "size": checkpoint.size,
            "root_hex": hex::encode(checkpoint.root),
            "at": checkpoint.at.to_string(),
            "signer": signed_wire.signer,
            "key_id": signed_wire.key_id,
            "checkpoint_hex": hex::encode(&signed_wire.checkpoint),
            "pae_hex": hex::encode(spec_pae(CHECKPOINT_PAYLOAD_TYPE, &signed_wire.signer, &signed_wire.key_id, &signed_wire.checkpoint)),
            "signature_hex": hex::encode(&signed_wire.signature),
            "signed_checkpoint_hex": hex::encode(signed_wire.encode_to_vec()),
        },
        "cosignature": {
            "witness": KHM_POLICE,
            "signer": cosigned_wire.signer,
            "key_id": cosigned_wire.key_id,
            "checkpoint_sha256_hex": hex::encode(signed.digest()),
            "cosignature_hex": hex::encode(&cosigned_wire.cosignature),
            "pae_hex": hex::encode(spec_pae(COSIGNATURE_PAYLOAD_TYPE, &cosigned_wire.signer, &cosigned_wire.key_id, &cosigned_wire.cosignature)),
            "signature_hex": hex::encode(&cosigned_wire.signature),
            "signed_cosignature_hex": hex::encode(cosigned_wire.encode_to_vec()),
        },
        "custody": {
            "event": "CUSTODY_EVENT_RECEIVED",
            "holder": KHM_POLICE,
            "counterparty": IDN_KEMLU,
            "entry_hex": hex::encode(&custody_wire.entry),
            "signer": custody_wire.signer,
            "key_id": custody_wire.key_id,
            "pae_hex": hex::encode(spec_pae(lintas_core::signing::CUSTODY_PAYLOAD_TYPE, &custody_wire.signer, &custody_wire.key_id, &custody_wire.entry)),
            "signature_hex": hex::encode(&custody_wire.signature),
            "signed_custody_entry_hex": hex::encode(&custody_signed),
        },
        "inclusion_proof": {
            "origin": IDN_KEMLU,
            "entry_hex": ENTRIES[5],
            "index": 5,
            "witnesses": [KHM_POLICE],
            "log_inclusion_proof_hex": hex::encode(inclusion_message.encode_to_vec()),
        },
        "fork_evidence": [
            {
                "finding": "TWO_ROOTS_FOR_ONE_SIZE",
                "log_fork_evidence_hex": hex::encode(two_roots.to_bytes()),
            },
            {
                "finding": "PROOF_FAILS",
                "log_fork_evidence_hex": hex::encode(proof_fails.to_bytes()),
            },
        ],
    })
}

/// The root an RFC 9162 section 2.1.3.2 inclusion proof leads to.
fn spec_root_from_path(entry: &[u8], index: u64, size: u64, path: &[Vec<u8>]) -> [u8; 32] {
    let (mut f_n, mut s_n) = (index, size - 1);
    let mut r: [u8; 32] = Sha256::new()
        .chain_update([0u8])
        .chain_update(entry)
        .finalize()
        .into();
    for p in path {
        assert!(s_n > 0, "proof too long");
        let node = |l: &[u8], r: &[u8]| -> [u8; 32] {
            Sha256::new()
                .chain_update([1u8])
                .chain_update(l)
                .chain_update(r)
                .finalize()
                .into()
        };
        if f_n & 1 == 1 || f_n == s_n {
            r = node(p, &r);
            if f_n & 1 == 0 {
                while f_n & 1 == 0 && f_n != 0 {
                    f_n >>= 1;
                    s_n >>= 1;
                }
            }
        } else {
            r = node(&r, p);
        }
        f_n >>= 1;
        s_n >>= 1;
    }
    assert_eq!(s_n, 0, "proof too short");
    r
}

#[test]
fn log_vectors_are_current() {
    check_current(&path(), &generate());
}

#[test]
fn the_log_vectors_follow_the_document() {
    let v = published();
    let entries = hexes(&v["entries_hex"]);
    let roots = hexes(&v["roots_hex"]);
    for (size, root) in roots.iter().enumerate() {
        assert_eq!(
            root.as_slice(),
            spec_mth(&entries[..size]),
            "root of {size}"
        );
    }
    // The RFC 6962 test vectors' root of all eight.
    assert_eq!(
        hex::encode(&roots[8]),
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"
    );

    // The checkpoint: its PAE, written out here, signed by the origin's key.
    let keys = load()["keys"].as_array().unwrap().clone();
    let key_of = |key_id: &str| {
        let k = keys.iter().find(|k| k["key_id"] == key_id).unwrap();
        let seed: [u8; 32] = bytes(k, "seed_hex").try_into().unwrap();
        SigningKey::from_bytes(&seed).verifying_key()
    };
    let c = &v["checkpoint"];
    let body = bytes(c, "checkpoint_hex");
    let wire = pb::LogCheckpoint::decode(body.as_slice()).unwrap();
    assert_eq!(wire.origin, c["origin"].as_str().unwrap());
    assert_eq!(wire.size, 8);
    assert_eq!(wire.root, roots[8]);
    let pae = spec_pae(
        CHECKPOINT_PAYLOAD_TYPE,
        c["signer"].as_str().unwrap(),
        c["key_id"].as_str().unwrap(),
        &body,
    );
    assert_eq!(pae, bytes(c, "pae_hex"));
    let signature = Signature::from_slice(&bytes(c, "signature_hex")).unwrap();
    key_of(c["key_id"].as_str().unwrap())
        .verify(&pae, &signature)
        .unwrap();

    // The cosignature names the checkpoint's exact bytes.
    let s = &v["cosignature"];
    let body2 = bytes(s, "cosignature_hex");
    let cosig = pb::LogCosignature::decode(body2.as_slice()).unwrap();
    assert_eq!(cosig.checkpoint_sha256, Sha256::digest(&body).to_vec());
    assert_eq!(cosig.witness, s["witness"].as_str().unwrap());
    let pae2 = spec_pae(
        COSIGNATURE_PAYLOAD_TYPE,
        s["signer"].as_str().unwrap(),
        s["key_id"].as_str().unwrap(),
        &body2,
    );
    assert_eq!(pae2, bytes(s, "pae_hex"));
    let signature2 = Signature::from_slice(&bytes(s, "signature_hex")).unwrap();
    key_of(s["key_id"].as_str().unwrap())
        .verify(&pae2, &signature2)
        .unwrap();

    // The custody entry: its PAE, written out here, signed by the holder.
    let cu = &v["custody"];
    let entry = bytes(cu, "entry_hex");
    let wire_entry = pb::CustodyEntry::decode(entry.as_slice()).unwrap();
    assert_eq!(wire_entry.holder, cu["holder"].as_str().unwrap());
    assert_eq!(wire_entry.event, pb::CustodyEvent::Received as i32);
    let pae3 = spec_pae(
        lintas_core::signing::CUSTODY_PAYLOAD_TYPE,
        cu["signer"].as_str().unwrap(),
        cu["key_id"].as_str().unwrap(),
        &entry,
    );
    assert_eq!(pae3, bytes(cu, "pae_hex"));
    key_of(cu["key_id"].as_str().unwrap())
        .verify(
            &pae3,
            &Signature::from_slice(&bytes(cu, "signature_hex")).unwrap(),
        )
        .unwrap();

    // The inclusion proof message: the path leads from the entry to the
    // checkpoint's root, and it carries the checkpoint and cosignature
    // above, byte for byte.
    let i = &v["inclusion_proof"];
    let message =
        pb::LogInclusionProof::decode(bytes(i, "log_inclusion_proof_hex").as_slice()).unwrap();
    assert_eq!(message.index, 5);
    let cosigned = message.checkpoint.unwrap();
    let carried = cosigned.checkpoint.unwrap();
    assert_eq!(carried.checkpoint, body);
    assert_eq!(carried.signature, bytes(c, "signature_hex"));
    assert_eq!(cosigned.cosignatures[0].cosignature, body2);
    assert_eq!(
        spec_root_from_path(&bytes(i, "entry_hex"), 5, 8, &message.proof).as_slice(),
        roots[8]
    );

    // Fork evidence of two roots for one size: both checkpoints signed by
    // the origin's key, one size, two roots.
    let e = &v["fork_evidence"][0];
    assert_eq!(e["finding"], "TWO_ROOTS_FOR_ONE_SIZE");
    let evidence =
        pb::LogForkEvidence::decode(bytes(e, "log_fork_evidence_hex").as_slice()).unwrap();
    let mut seen = Vec::new();
    for signed in [evidence.earlier.unwrap(), evidence.later.unwrap()] {
        let pae = spec_pae(
            CHECKPOINT_PAYLOAD_TYPE,
            &signed.signer,
            &signed.key_id,
            &signed.checkpoint,
        );
        key_of(&signed.key_id)
            .verify(&pae, &Signature::from_slice(&signed.signature).unwrap())
            .unwrap();
        let c = pb::LogCheckpoint::decode(signed.checkpoint.as_slice()).unwrap();
        assert_eq!(c.origin, evidence.origin);
        seen.push((c.size, c.root));
    }
    assert_eq!(seen[0].0, seen[1].0);
    assert_ne!(seen[0].1, seen[1].1);
}

#[test]
fn lintas_core_agrees_with_the_log_vectors() {
    let v = published();
    let at = Timestamp::parse(v["verify_at"].as_str().unwrap()).unwrap();
    let roster = published_roster_at(at);
    let entries = hexes(&v["entries_hex"]);
    let roots = hexes(&v["roots_hex"]);
    let root = |n: u64| -> [u8; 32] { roots[n as usize].as_slice().try_into().unwrap() };
    for case in v["inclusion"].as_array().unwrap() {
        let (index, size) = (
            case["index"].as_u64().unwrap(),
            case["size"].as_u64().unwrap(),
        );
        let proof: Vec<[u8; 32]> = hexes(&case["proof_hex"])
            .iter()
            .map(|h| h.as_slice().try_into().unwrap())
            .collect();
        merkle::verify_inclusion(&entries[index as usize], index, size, &proof, &root(size))
            .unwrap_or_else(|e| panic!("leaf {index} of {size}: {e}"));
    }
    for case in v["consistency"].as_array().unwrap() {
        let (old, new) = (
            case["old_size"].as_u64().unwrap(),
            case["new_size"].as_u64().unwrap(),
        );
        let proof: Vec<[u8; 32]> = hexes(&case["proof_hex"])
            .iter()
            .map(|h| h.as_slice().try_into().unwrap())
            .collect();
        merkle::verify_consistency(old, &root(old), new, &root(new), &proof)
            .unwrap_or_else(|e| panic!("{old} to {new}: {e}"));
    }
    let signed = SignedCheckpoint::try_from(
        pb::SignedLogCheckpoint::decode(
            bytes(&v["checkpoint"], "signed_checkpoint_hex").as_slice(),
        )
        .unwrap(),
    )
    .unwrap();
    let checkpoint = signed.verify(&roster, at).unwrap();
    assert_eq!(checkpoint.root, root(8));
    let cosigned = SignedCosignature::try_from(
        pb::SignedLogCosignature::decode(
            bytes(&v["cosignature"], "signed_cosignature_hex").as_slice(),
        )
        .unwrap(),
    )
    .unwrap();
    cosigned.verify(&signed, &roster, at).unwrap();

    let entry = lintas_core::custody::CustodyEntry::verify(
        &bytes(&v["custody"], "signed_custody_entry_hex"),
        &roster,
        at,
    )
    .unwrap();
    assert_eq!(entry.counterparty, IDN_KEMLU);

    let i = &v["inclusion_proof"];
    let proof = InclusionProof::try_from(
        pb::LogInclusionProof::decode(bytes(i, "log_inclusion_proof_hex").as_slice()).unwrap(),
    )
    .unwrap();
    let (_, witnesses) = proof
        .verify(
            &AgencyId::parse(IDN_KEMLU).unwrap(),
            &bytes(i, "entry_hex"),
            &roster,
            at,
        )
        .unwrap();
    assert_eq!(witnesses, vec![AgencyId::parse(KHM_POLICE).unwrap()]);
    for (e, finding) in v["fork_evidence"]
        .as_array()
        .unwrap()
        .iter()
        .zip([ForkFinding::TwoRootsForOneSize, ForkFinding::ProofFails])
    {
        let evidence = ForkEvidence::from_bytes(&bytes(e, "log_fork_evidence_hex")).unwrap();
        assert_eq!(evidence.verify(&roster, at).unwrap(), finding);
    }
}
