//! Transparency log messages from a peer: a `SignedLogCheckpoint`, a
//! `SignedLogCosignature`, a `LogEntry`, a `LogInclusionProof` and a
//! `LogForkEvidence`, decoded and verified against the development roster,
//! and a consistency proof checked between two checkpoints. Must never
//! panic.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use lintas_core::pb;
use lintas_core::roster::TrustedRoster;
use lintas_core::time::Timestamp;
use lintas_core::transparency::checkpoint::{SignedCheckpoint, SignedCosignature, check_extension};
use lintas_core::transparency::entry::LogEntry;
use lintas_core::transparency::proofs::{ForkEvidence, InclusionProof};
use prost::Message;

fn roster() -> &'static TrustedRoster {
    static ROSTER: OnceLock<TrustedRoster> = OnceLock::new();
    ROSTER.get_or_init(|| {
        let now = Timestamp::now();
        let signed = lintas_testkit::world::sign_roster(
            &lintas_testkit::world::roster(1, now.plus_seconds(-3600)),
            &[
                lintas_core::ids::MemberState::Indonesia,
                lintas_core::ids::MemberState::Thailand,
            ],
        );
        TrustedRoster::bootstrap(signed, now).expect("the development roster")
    })
}

fuzz_target!(|bytes: &[u8]| {
    let _ = LogEntry::decode(bytes);
    let now = Timestamp::now();
    let checkpoint = pb::SignedLogCheckpoint::decode(bytes)
        .ok()
        .and_then(|w| SignedCheckpoint::try_from(w).ok());
    if let Some(signed) = &checkpoint {
        let _ = signed.verify(roster(), now);
        if let Ok(c) = signed.checkpoint_unverified() {
            // The input's own bytes as a proof between two sizes of it.
            let proof: Vec<[u8; 32]> = bytes
                .chunks_exact(32)
                .take(64)
                .map(|c| c.try_into().unwrap_or([0; 32]))
                .collect();
            let mut smaller = c.clone();
            smaller.size = c.size / 2;
            let _ = check_extension(&smaller, &c, &proof);
        }
    }
    if let Ok(wire) = pb::SignedLogCosignature::decode(bytes)
        && let Ok(cosignature) = SignedCosignature::try_from(wire)
        && let Some(signed) = &checkpoint
    {
        let _ = cosignature.verify(signed, roster(), now);
    }
    if let Ok(wire) = pb::LogInclusionProof::decode(bytes)
        && let Ok(proof) = InclusionProof::try_from(wire)
    {
        let origin = proof.checkpoint.checkpoint.signer().clone();
        let _ = proof.verify(&origin, bytes, roster(), now);
    }
    if let Ok(evidence) = ForkEvidence::from_bytes(bytes) {
        let _ = evidence.verify(roster(), now);
    }
});
