//! Checkpoints of a node's log and the cosignatures of its witnesses:
//! signed and verified against the roster, every field bound, and a forked
//! log caught by the check a witness makes before cosigning.

use lintas_core::ids::AgencyId;
use lintas_core::pb;
use lintas_core::roster::VerifyError;
use lintas_core::transparency::checkpoint::{
    Checkpoint, SignedCheckpoint, SignedCosignature, WitnessError, check_extension,
};
use lintas_core::transparency::merkle::{self, MemoryTree};
use lintas_testkit::world::{self, IDN_KEMLU, KHM_POLICE, THA_POLICE};

use crate::support::{now, trusted};

fn agency(id: &str) -> AgencyId {
    AgencyId::parse(id).unwrap()
}

fn log_of(entries: &[&[u8]]) -> MemoryTree {
    let mut tree = MemoryTree::new();
    for e in entries {
        tree.push(e);
    }
    tree
}

fn checkpoint_of(tree: &MemoryTree, size: u64) -> Checkpoint {
    Checkpoint {
        origin: agency(IDN_KEMLU),
        size,
        root: merkle::root(tree, size).unwrap(),
        at: now(),
    }
}

#[test]
fn a_signed_checkpoint_verifies_and_binds_every_field() {
    let roster = trusted();
    let tree = log_of(&[b"sent 1", b"received 2", b"receipt 3"]);
    let checkpoint = checkpoint_of(&tree, 3);
    let signed = SignedCheckpoint::sign(&checkpoint, &world::agency_key(IDN_KEMLU));
    assert_eq!(signed.verify(&roster, now()).unwrap(), checkpoint);

    // Round trip through the wire form.
    let wire = pb::SignedLogCheckpoint::from(signed.clone());
    let back = SignedCheckpoint::try_from(wire.clone()).unwrap();
    assert_eq!(back, signed);

    // Any byte of the checkpoint changed: the signature no longer holds.
    for i in 0..wire.checkpoint.len() {
        let mut tampered = wire.clone();
        tampered.checkpoint[i] ^= 0x01;
        let Ok(tampered) = SignedCheckpoint::try_from(tampered) else {
            continue;
        };
        assert!(tampered.verify(&roster, now()).is_err(), "byte {i}");
    }
    // Signed by another agency's key, or claiming another signer.
    let forged = SignedCheckpoint::sign(&checkpoint, &world::agency_key(THA_POLICE));
    assert!(forged.verify(&roster, now()).is_err());
    let mut renamed = wire;
    renamed.signer = THA_POLICE.into();
    let renamed = SignedCheckpoint::try_from(renamed).unwrap();
    assert!(matches!(
        renamed.verify(&roster, now()),
        Err(VerifyError::SignerNotSender { .. })
    ));
}

#[test]
fn a_checkpoint_from_the_future_or_of_an_empty_log_with_a_root_is_refused() {
    let roster = trusted();
    let tree = log_of(&[b"one"]);
    let mut ahead = checkpoint_of(&tree, 1);
    ahead.at = now().plus_seconds(3_600);
    let signed = SignedCheckpoint::sign(&ahead, &world::agency_key(IDN_KEMLU));
    assert!(matches!(
        signed.verify(&roster, now()),
        Err(VerifyError::CreatedInFuture { .. })
    ));
    let mut empty = checkpoint_of(&tree, 1);
    empty.size = 0;
    let signed = SignedCheckpoint::sign(&empty, &world::agency_key(IDN_KEMLU));
    assert!(matches!(
        signed.verify(&roster, now()),
        Err(VerifyError::InvalidBody(_))
    ));
}

#[test]
fn a_cosignature_names_one_checkpoint_and_its_witness() {
    let roster = trusted();
    let tree = log_of(&[b"a", b"b"]);
    let signed = SignedCheckpoint::sign(&checkpoint_of(&tree, 2), &world::agency_key(IDN_KEMLU));
    let cosigned = SignedCosignature::sign(
        &signed,
        &agency(KHM_POLICE),
        now(),
        &world::agency_key(KHM_POLICE),
    );
    let cosignature = cosigned.verify(&signed, &roster, now()).unwrap();
    assert_eq!(cosignature.witness, agency(KHM_POLICE));
    assert_eq!(cosignature.checkpoint_sha256, signed.digest());

    // Not a cosignature of another checkpoint.
    let other = SignedCheckpoint::sign(&checkpoint_of(&tree, 1), &world::agency_key(IDN_KEMLU));
    assert!(matches!(
        cosigned.verify(&other, &roster, now()),
        Err(VerifyError::InvalidBody(_))
    ));
    // A witness cannot cosign in another's name.
    let mut wire = pb::SignedLogCosignature::from(cosigned);
    wire.signer = THA_POLICE.into();
    let renamed = SignedCosignature::try_from(wire).unwrap();
    assert!(renamed.verify(&signed, &roster, now()).is_err());
}

#[test]
fn a_witness_accepts_an_extension_and_catches_a_fork() {
    // What Indonesia's node showed Cambodia: three entries, then five.
    let honest = log_of(&[b"n1", b"n2", b"n3", b"n4", b"n5"]);
    let seen = checkpoint_of(&honest, 3);
    let later = checkpoint_of(&honest, 5);
    let proof = merkle::consistency_proof(&honest, 3, 5).unwrap();
    check_extension(&seen, &later, &proof).unwrap();
    // The same checkpoint again is fine.
    check_extension(&later, &later, &[]).unwrap();

    // What it showed Thailand: the same size, another second entry. When
    // Cambodia is offered that history, no proof reconciles it with what it
    // saw.
    let forked = log_of(&[b"n1", b"n2-rewritten", b"n3", b"n4", b"n5"]);
    let other = checkpoint_of(&forked, 5);
    let fork_proof = merkle::consistency_proof(&forked, 3, 5).unwrap();
    assert!(matches!(
        check_extension(&seen, &other, &fork_proof),
        Err(WitnessError::Inconsistent(_))
    ));
    // Nor can the honest proof be replayed against the forked root.
    assert!(matches!(
        check_extension(&seen, &other, &proof),
        Err(WitnessError::Inconsistent(_))
    ));
    // Two roots for one size.
    let same_size = checkpoint_of(&forked, 3);
    assert!(matches!(
        check_extension(&seen, &same_size, &[]),
        Err(WitnessError::Inconsistent(_))
    ));
    // A log that shrank, or another agency's log.
    assert!(matches!(
        check_extension(&later, &seen, &[]),
        Err(WitnessError::Shrunk {
            seen: 5,
            offered: 3
        })
    ));
    let mut theirs = later.clone();
    theirs.origin = agency(THA_POLICE);
    assert!(matches!(
        check_extension(&seen, &theirs, &proof),
        Err(WitnessError::OtherLog { .. })
    ));
}

#[test]
fn fork_evidence_holds_only_when_it_shows_a_fork() {
    use lintas_core::transparency::proofs::{ForkEvidence, ForkFinding, LogProofError};
    let roster = trusted();
    let key = world::agency_key(IDN_KEMLU);
    let tree = log_of(&[b"a", b"b", b"c", b"d", b"e"]);
    let other = log_of(&[b"a", b"b", b"X", b"d", b"e"]);
    let sign = |t: &MemoryTree, size: u64| SignedCheckpoint::sign(&checkpoint_of(t, size), &key);
    let evidence = |earlier, later, proof| ForkEvidence {
        origin: agency(IDN_KEMLU),
        earlier,
        later,
        proof,
        detail: String::new(),
        detected_at: now(),
        shown_by: agency(THA_POLICE),
    };
    // A proof that verifies: one history, no fork.
    let honest = evidence(
        sign(&tree, 2),
        sign(&tree, 5),
        merkle::consistency_proof(&tree, 2, 5).unwrap(),
    );
    assert!(matches!(
        honest.verify(&roster, now()),
        Err(LogProofError::NotAFork(_))
    ));
    // The two histories share their first two entries: from 2 they agree.
    let shared = evidence(
        sign(&tree, 2),
        sign(&other, 5),
        merkle::consistency_proof(&other, 2, 5).unwrap(),
    );
    assert!(matches!(
        shared.verify(&roster, now()),
        Err(LogProofError::NotAFork(_))
    ));
    // From 3 they do not, whatever proof is given.
    let forked = evidence(
        sign(&tree, 3),
        sign(&other, 5),
        merkle::consistency_proof(&other, 3, 5).unwrap(),
    );
    assert_eq!(forked.verify(&roster, now()), Ok(ForkFinding::ProofFails));
    assert_eq!(
        evidence(sign(&tree, 4), sign(&other, 4), Vec::new()).verify(&roster, now()),
        Ok(ForkFinding::TwoRootsForOneSize)
    );
    assert_eq!(
        evidence(sign(&tree, 4), sign(&tree, 3), Vec::new()).verify(&roster, now()),
        Ok(ForkFinding::Shrunk)
    );
    // Signed by another node: not evidence against this one, and the bad
    // part is named.
    let foreign = SignedCheckpoint::sign(&checkpoint_of(&other, 4), &world::agency_key(THA_POLICE));
    match evidence(sign(&tree, 4), foreign, Vec::new()).verify(&roster, now()) {
        Err(LogProofError::Signature { what, .. }) => assert_eq!(what, "later"),
        other => panic!("{other:?}"),
    }
    // Round trip through the wire form.
    assert_eq!(
        ForkEvidence::from_bytes(&forked.to_bytes()).unwrap(),
        forked
    );
}
