//! Witnessing (PROTOCOL 10.5), as the target's witness is called: the
//! harness offers checkpoints of a log of its own agency's (made up for
//! the run: an empty log, then one entry) and checks that the target
//! cosigns it on first use, cosigns an extension, refuses too much gossip,
//! and refuses a second history of the same size (`log_inconsistent`).
//!
//! The last check leaves evidence and an alarm about the harness's agency
//! on the target: run it against a test node.

use lintas_core::pb;
use lintas_core::time::Timestamp;
use lintas_core::transparency::checkpoint::{Checkpoint, SignedCheckpoint, SignedCosignature};
use lintas_core::transparency::merkle::{EMPTY_ROOT, Hash, leaf_hash};
use lintas_grpc::pb::peer_exchange_client::PeerExchangeClient;
use pb::witness_checkpoint_response::Answer;
use tonic::Code;
use tonic::transport::Channel;

use super::expect::{Outcome, expect_refusal};
use super::{Harness, Report};

/// The witnessing checks, in order (each builds on the one before).
pub(crate) async fn run(h: &Harness, peer: &mut PeerExchangeClient<Channel>, report: &mut Report) {
    let empty = checkpoint(h, 0, EMPTY_ROOT);
    let first = "a first checkpoint of the caller's log is cosigned (trust on first use)";
    match offer(peer, &empty, 0, Vec::new()).await {
        Ok(Answer::KnownSize(size)) => {
            report.skip(
                "10.5",
                first,
                &format!(
                    "the target already keeps a checkpoint of {}'s log (size {size}): witnessing is checked only against a target that keeps none",
                    h.me
                ),
            );
            return;
        }
        other => report.check("10.5", first, cosigned(h, &empty, other)),
    }

    // Two gossiped checkpoints of one log: one per roster agency at most.
    let gossip: Vec<pb::SignedLogCheckpoint> = vec![empty.clone().into(), empty.clone().into()];
    report.check(
        "10.5",
        "two gossiped checkpoints of one agency's log (invalid_argument)",
        expect_refusal(
            peer.witness_checkpoint(request(&empty, 0, Vec::new(), gossip))
                .await,
            Code::InvalidArgument,
            "invalid_argument",
            Some("gossip"),
        ),
    );

    // One entry: from the empty log, the consistency proof is empty.
    let one = checkpoint(h, 1, leaf_hash(b"lintas conformance entry one"));
    let answer = offer(peer, &one, 0, Vec::new()).await;
    report.check(
        "10.5",
        "an extension of the cosigned log is cosigned",
        cosigned(h, &one, answer),
    );

    // Another entry at the same size: a second history.
    let fork = checkpoint(h, 1, leaf_hash(b"lintas conformance entry one, rewritten"));
    report.check(
        "10.5",
        "another history of the same size (log_inconsistent)",
        expect_refusal(
            peer.witness_checkpoint(request(&fork, 1, Vec::new(), Vec::new()))
                .await,
            Code::FailedPrecondition,
            "log_inconsistent",
            None,
        ),
    );
}

fn checkpoint(h: &Harness, size: u64, root: Hash) -> SignedCheckpoint {
    SignedCheckpoint::sign(
        &Checkpoint {
            origin: h.me.clone(),
            size,
            root,
            at: Timestamp::now(),
        },
        &h.key,
    )
}

fn request(
    checkpoint: &SignedCheckpoint,
    old_size: u64,
    proof: Vec<Hash>,
    gossip: Vec<pb::SignedLogCheckpoint>,
) -> pb::WitnessCheckpointRequest {
    pb::WitnessCheckpointRequest {
        checkpoint: Some(checkpoint.clone().into()),
        old_size,
        consistency_proof: proof.into_iter().map(|h| h.to_vec()).collect(),
        gossip,
    }
}

/// Offers `checkpoint`; the answer, or why there is none.
async fn offer(
    peer: &mut PeerExchangeClient<Channel>,
    checkpoint: &SignedCheckpoint,
    old_size: u64,
    proof: Vec<Hash>,
) -> Result<Answer, String> {
    peer.witness_checkpoint(request(checkpoint, old_size, proof, Vec::new()))
        .await
        .map_err(|s| super::expect::refused(&s))?
        .into_inner()
        .answer
        .ok_or_else(|| "an answer with neither cosignature nor known_size".to_owned())
}

/// Whether `answer` is a cosignature of `checkpoint` by the target that
/// verifies against the roster.
fn cosigned(h: &Harness, checkpoint: &SignedCheckpoint, answer: Result<Answer, String>) -> Outcome {
    match answer? {
        Answer::KnownSize(size) => Err(format!("known_size {size} instead of a cosignature")),
        Answer::Cosignature(wire) => {
            let signed = SignedCosignature::try_from(wire).map_err(|e| e.to_string())?;
            let cosignature = signed
                .verify(checkpoint, &h.roster, Timestamp::now())
                .map_err(|e| format!("the cosignature does not verify: {e}"))?;
            if cosignature.witness != h.target {
                return Err(format!(
                    "cosigned by {}, not the target",
                    cosignature.witness
                ));
            }
            Ok(format!("cosigned by {}, verifies", cosignature.witness))
        }
    }
}
