//! The published test vectors of the transparency log,
//! `tests/vectors/lintas-v1-log.json` (docs/PROTOCOL.md section 10.7).
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
use lintas_core::roster::{SignedRoster, TrustedRoster};
use lintas_core::signing::{CHECKPOINT_PAYLOAD_TYPE, COSIGNATURE_PAYLOAD_TYPE};
use lintas_core::time::Timestamp;
use lintas_core::transparency::checkpoint::{Checkpoint, SignedCheckpoint, SignedCosignature};
use lintas_core::transparency::merkle::{self, MemoryTree};
use lintas_testkit::world::{self, IDN_KEMLU, KHM_POLICE};
use prost::Message;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::vectors::{bytes, check_current, load, spec_pae};

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
    let cosigned_wire = pb::SignedLogCosignature::from(cosigned);
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
    })
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
}

#[test]
fn lintas_core_agrees_with_the_log_vectors() {
    let v = published();
    let main = load();
    let at = Timestamp::parse(v["verify_at"].as_str().unwrap()).unwrap();
    let roster = TrustedRoster::bootstrap(
        SignedRoster::decode(&bytes(&main["roster"], "signed_roster_hex")).unwrap(),
        at,
    )
    .unwrap();
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
}
