//! What one party hands another to show something about a node's log
//! (docs/PROTOCOL.md sections 10.7 and 10.8): that an entry is in it (an
//! inclusion proof against a signed checkpoint), or that the node showed
//! two histories (fork evidence).

use super::checkpoint::{Checkpoint, CosignedCheckpoint, SignedCheckpoint};
use super::merkle::{self, Hash};
use crate::error::{At, ValidationError};
use crate::ids::AgencyId;
use crate::pb;
use crate::roster::{TrustedRoster, VerifyError};
use crate::time::Timestamp;

/// Why a proof or a piece of evidence does not hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LogProofError {
    /// A signature that does not verify, named by field path.
    #[error("{what}: {source}")]
    Signature {
        /// Which signed statement (`checkpoint`, `cosignatures[1]`, …).
        what: String,
        /// Why.
        source: VerifyError,
    },
    /// The hashes do not lead where they should.
    #[error("{what}: {detail}")]
    Proof {
        /// Which proof.
        what: String,
        /// What did not match.
        detail: String,
    },
    /// Fork evidence that does not show a fork: the two checkpoints may
    /// both describe one history.
    #[error("not evidence of a fork: {0}")]
    NotAFork(String),
}

fn hashes(raw: Vec<Vec<u8>>, field: &str) -> Result<Vec<Hash>, ValidationError> {
    raw.into_iter()
        .enumerate()
        .map(|(i, h)| {
            Hash::try_from(h.as_slice())
                .map_err(|_| ValidationError::invalid("", "32 bytes", format!("{} bytes", h.len())))
                .at_item(field, i)
        })
        .collect()
}

/// That an entry is leaf `index` of a node's log, as of a signed
/// checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InclusionProof {
    /// The leaf's position (from 0).
    pub index: u64,
    /// RFC 6962 PATH from the leaf up.
    pub proof: Vec<Hash>,
    /// The checkpoint proven against, with its cosignatures.
    pub checkpoint: CosignedCheckpoint,
}

impl InclusionProof {
    /// Checks that `entry` (the exact encoded `LogEntry`) is in the log of
    /// `origin` as of the checkpoint, whose signature and cosignatures must
    /// verify. Returns the checkpoint and the witnesses that cosigned it.
    ///
    /// # Errors
    /// The first signature that fails, a checkpoint of another log, or a
    /// proof that does not lead to the checkpoint's root.
    pub fn verify(
        &self,
        origin: &AgencyId,
        entry: &[u8],
        roster: &TrustedRoster,
        now: Timestamp,
    ) -> Result<(Checkpoint, Vec<AgencyId>), LogProofError> {
        let (checkpoint, witnesses) = self
            .checkpoint
            .verify(roster, now)
            .map_err(|(what, source)| LogProofError::Signature { what, source })?;
        if &checkpoint.origin != origin {
            return Err(LogProofError::Proof {
                what: "checkpoint.origin".into(),
                detail: format!(
                    "a checkpoint of {}'s log, not {origin}'s",
                    checkpoint.origin
                ),
            });
        }
        merkle::verify_inclusion(
            entry,
            self.index,
            checkpoint.size,
            &self.proof,
            &checkpoint.root,
        )
        .map_err(|e| LogProofError::Proof {
            what: "proof".into(),
            detail: e.to_string(),
        })?;
        Ok((checkpoint, witnesses))
    }
}

impl TryFrom<pb::LogInclusionProof> for InclusionProof {
    type Error = ValidationError;
    fn try_from(p: pb::LogInclusionProof) -> Result<Self, Self::Error> {
        Ok(InclusionProof {
            index: p.index,
            proof: hashes(p.proof, "proof")?,
            checkpoint: p
                .checkpoint
                .ok_or_else(|| ValidationError::missing("checkpoint"))
                .and_then(|c| CosignedCheckpoint::try_from(c).at("checkpoint"))?,
        })
    }
}

impl From<InclusionProof> for pb::LogInclusionProof {
    fn from(p: InclusionProof) -> Self {
        pb::LogInclusionProof {
            index: p.index,
            proof: p.proof.iter().map(|h| h.to_vec()).collect(),
            checkpoint: Some(p.checkpoint.into()),
        }
    }
}

/// The longest note fork evidence carries (docs/PROTOCOL.md section 2.3).
const MAX_DETAIL_BYTES: usize = 8192;

/// How two checkpoints of one log relate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparison {
    /// One size, one root: the same history.
    Same,
    /// One size, two roots: a fork, proven by the two signed checkpoints.
    Fork,
    /// Different sizes: the node must prove the smaller a prefix of the
    /// larger.
    NeedsProof {
        /// The smaller size.
        old_size: u64,
        /// The larger size.
        new_size: u64,
    },
}

/// How `a` and `b`, two checkpoints of one log, relate.
pub fn compare(a: &Checkpoint, b: &Checkpoint) -> Comparison {
    if a.size == b.size {
        if a.root == b.root {
            Comparison::Same
        } else {
            Comparison::Fork
        }
    } else {
        Comparison::NeedsProof {
            old_size: a.size.min(b.size),
            new_size: a.size.max(b.size),
        }
    }
}

/// Evidence that a node's log forked: two checkpoints it signed that do not
/// describe one append-only history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForkEvidence {
    /// The node whose log forked.
    pub origin: AgencyId,
    /// The checkpoint the witness held.
    pub earlier: SignedCheckpoint,
    /// The checkpoint that does not extend it.
    pub later: SignedCheckpoint,
    /// The consistency proof offered between them (empty if none).
    pub proof: Vec<Hash>,
    /// What failed, for people.
    pub detail: String,
    /// When the witness found it.
    pub detected_at: Timestamp,
    /// Who showed the witness `later`: the origin, or a witness passing on
    /// what it saw.
    pub shown_by: AgencyId,
}

/// What fork evidence establishes once checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ForkFinding {
    /// Two signed checkpoints of one size with different roots: proof by
    /// themselves.
    TwoRootsForOneSize,
    /// The later checkpoint is smaller than the earlier: the log shrank.
    Shrunk,
    /// The node's own consistency proof between its two checkpoints does
    /// not verify (and the node could not give one that does).
    ProofFails,
}

impl ForkEvidence {
    /// Checks the evidence offline: both checkpoints are signed by the
    /// origin's node (keys valid in `roster`), and they cannot both describe
    /// one history with the proof given.
    ///
    /// # Errors
    /// A signature that fails, checkpoints of another log, or checkpoints
    /// the proof shows consistent (no fork).
    pub fn verify(
        &self,
        roster: &TrustedRoster,
        now: Timestamp,
    ) -> Result<ForkFinding, LogProofError> {
        let earlier =
            self.earlier
                .verify(roster, now)
                .map_err(|source| LogProofError::Signature {
                    what: "earlier".into(),
                    source,
                })?;
        let later = self
            .later
            .verify(roster, now)
            .map_err(|source| LogProofError::Signature {
                what: "later".into(),
                source,
            })?;
        for (field, c) in [("earlier", &earlier), ("later", &later)] {
            if c.origin != self.origin {
                return Err(LogProofError::NotAFork(format!(
                    "{field} is a checkpoint of {}'s log, not {}'s",
                    c.origin, self.origin
                )));
            }
        }
        match compare(&earlier, &later) {
            Comparison::Same => Err(LogProofError::NotAFork(
                "one size and one root: the same history".into(),
            )),
            Comparison::Fork => Ok(ForkFinding::TwoRootsForOneSize),
            Comparison::NeedsProof { .. } if later.size < earlier.size => Ok(ForkFinding::Shrunk),
            Comparison::NeedsProof { .. } => match merkle::verify_consistency(
                earlier.size,
                &earlier.root,
                later.size,
                &later.root,
                &self.proof,
            ) {
                Ok(()) => Err(LogProofError::NotAFork(
                    "the proof shows the later checkpoint extends the earlier".into(),
                )),
                Err(_) => Ok(ForkFinding::ProofFails),
            },
        }
    }
}

impl TryFrom<pb::LogForkEvidence> for ForkEvidence {
    type Error = ValidationError;
    fn try_from(e: pb::LogForkEvidence) -> Result<Self, Self::Error> {
        let signed = |c: Option<pb::SignedLogCheckpoint>, field: &str| {
            c.ok_or_else(|| ValidationError::missing(field))
                .and_then(|c| SignedCheckpoint::try_from(c).at(field))
        };
        if e.detail.len() > MAX_DETAIL_BYTES {
            return Err(ValidationError::invalid(
                "detail",
                "at most 8192 bytes",
                format!("{} bytes", e.detail.len()),
            ));
        }
        Ok(ForkEvidence {
            origin: AgencyId::from_wire(&e.origin).at("origin")?,
            earlier: signed(e.earlier, "earlier")?,
            later: signed(e.later, "later")?,
            proof: hashes(e.consistency_proof, "consistency_proof")?,
            detail: e.detail,
            detected_at: Timestamp::from_wire(e.detected_at.as_ref()).at("detected_at")?,
            shown_by: AgencyId::from_wire(&e.shown_by).at("shown_by")?,
        })
    }
}

impl From<ForkEvidence> for pb::LogForkEvidence {
    fn from(e: ForkEvidence) -> Self {
        pb::LogForkEvidence {
            origin: e.origin.to_string(),
            earlier: Some(e.earlier.into()),
            later: Some(e.later.into()),
            consistency_proof: e.proof.iter().map(|h| h.to_vec()).collect(),
            detail: e.detail,
            detected_at: Some(e.detected_at.into()),
            shown_by: e.shown_by.to_string(),
        }
    }
}

/// Reads 32-byte hashes from the wire (`field[i]` on error).
///
/// # Errors
/// A hash that is not 32 bytes.
pub fn read_hashes(raw: Vec<Vec<u8>>, field: &str) -> Result<Vec<Hash>, ValidationError> {
    hashes(raw, field)
}

impl ForkEvidence {
    /// The encoded `LogForkEvidence`.
    pub fn to_bytes(&self) -> Vec<u8> {
        use prost::Message;
        pb::LogForkEvidence::from(self.clone()).encode_to_vec()
    }

    /// Reads an encoded `LogForkEvidence` (signatures not checked: see
    /// [`ForkEvidence::verify`]).
    ///
    /// # Errors
    /// Bad encoding or a malformed field.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, ValidationError> {
        crate::wire::decode::<pb::LogForkEvidence>(bytes).and_then(Self::try_from)
    }
}
