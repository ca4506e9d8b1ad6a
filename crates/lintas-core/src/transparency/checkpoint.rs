//! Checkpoints of a node's log, and the cosignatures of the peers that
//! witness them (docs/PROTOCOL.md section 10). Both are signed statements
//! in the manner of notices and receipts: the exact encoded message, its
//! signer and key, and an Ed25519 signature over the pre-authentication
//! encoding with its own payload type.

use prost::Message;
use sha2::{Digest, Sha256};

use super::merkle::{self, Hash};
use crate::error::{At, ValidationError};
use crate::ids::{AgencyId, KeyId};
use crate::keys::SigningKey;
use crate::pb;
use crate::roster::{TrustedRoster, VerifyError};
use crate::signing::{CHECKPOINT_PAYLOAD_TYPE, COSIGNATURE_PAYLOAD_TYPE, pae};
use crate::time::Timestamp;

/// What a node's log held at one moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The agency whose node keeps the log.
    pub origin: AgencyId,
    /// Number of entries.
    pub size: u64,
    /// RFC 6962 root of the first `size` entries.
    pub root: Hash,
    /// When the node signed it.
    pub at: Timestamp,
}

/// A witness's statement that it checked a checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cosignature {
    /// SHA-256 of the exact encoded checkpoint.
    pub checkpoint_sha256: Hash,
    /// The witnessing agency.
    pub witness: AgencyId,
    /// When it checked.
    pub at: Timestamp,
}

fn hash32(bytes: &[u8], field: &str) -> Result<Hash, ValidationError> {
    bytes
        .try_into()
        .map_err(|_| ValidationError::invalid(field, "32 bytes", format!("{} bytes", bytes.len())))
}

impl TryFrom<pb::LogCheckpoint> for Checkpoint {
    type Error = ValidationError;
    fn try_from(c: pb::LogCheckpoint) -> Result<Self, Self::Error> {
        let checkpoint = Checkpoint {
            origin: AgencyId::from_wire(&c.origin).at("origin")?,
            size: c.size,
            root: hash32(&c.root, "root")?,
            at: Timestamp::from_wire(c.at.as_ref()).at("at")?,
        };
        if checkpoint.size == 0 && checkpoint.root != merkle::EMPTY_ROOT {
            return Err(ValidationError::rule(
                "root",
                "the root of an empty log is SHA-256 of nothing",
            ));
        }
        Ok(checkpoint)
    }
}

impl From<&Checkpoint> for pb::LogCheckpoint {
    fn from(c: &Checkpoint) -> Self {
        pb::LogCheckpoint {
            origin: c.origin.to_string(),
            size: c.size,
            root: c.root.to_vec(),
            at: Some(c.at.into()),
        }
    }
}

impl TryFrom<pb::LogCosignature> for Cosignature {
    type Error = ValidationError;
    fn try_from(c: pb::LogCosignature) -> Result<Self, Self::Error> {
        Ok(Cosignature {
            checkpoint_sha256: hash32(&c.checkpoint_sha256, "checkpoint_sha256")?,
            witness: AgencyId::from_wire(&c.witness).at("witness")?,
            at: Timestamp::from_wire(c.at.as_ref()).at("at")?,
        })
    }
}

impl From<&Cosignature> for pb::LogCosignature {
    fn from(c: &Cosignature) -> Self {
        pb::LogCosignature {
            checkpoint_sha256: c.checkpoint_sha256.to_vec(),
            witness: c.witness.to_string(),
            at: Some(c.at.into()),
        }
    }
}

/// Exact bytes, signer, key and signature: how checkpoints and
/// cosignatures travel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Signed {
    pub(crate) bytes: Vec<u8>,
    pub(crate) signer: AgencyId,
    pub(crate) key_id: KeyId,
    pub(crate) signature: [u8; 64],
}

impl Signed {
    pub(crate) fn sign(
        payload_type: &str,
        bytes: Vec<u8>,
        signer: &AgencyId,
        key: &SigningKey,
    ) -> Self {
        let message = pae(payload_type, signer.as_str(), key.key_id().as_str(), &bytes);
        Signed {
            signature: key.sign(&message),
            bytes,
            signer: signer.clone(),
            key_id: key.key_id().clone(),
        }
    }

    pub(crate) fn read(
        bytes: Vec<u8>,
        signer: &str,
        key_id: &str,
        signature: &[u8],
        what: &str,
    ) -> Result<Self, ValidationError> {
        if bytes.is_empty() {
            return Err(ValidationError::missing(what));
        }
        Ok(Signed {
            bytes,
            signer: AgencyId::from_wire(signer).at("signer")?,
            key_id: KeyId::from_wire(key_id).at("key_id")?,
            signature: crate::wire::signature(signature)?,
        })
    }

    pub(crate) fn verify(
        &self,
        payload_type: &str,
        named: &AgencyId,
        at: Timestamp,
        roster: &TrustedRoster,
        now: Timestamp,
    ) -> Result<(), VerifyError> {
        if named != &self.signer {
            return Err(VerifyError::SignerNotSender {
                signer: self.signer.clone(),
                sender: named.clone(),
            });
        }
        let message = pae(
            payload_type,
            self.signer.as_str(),
            self.key_id.as_str(),
            &self.bytes,
        );
        roster.verify_statement(
            &self.signer,
            &self.key_id,
            &message,
            &self.signature,
            at,
            now,
        )
    }
}

/// A checkpoint with its node's signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedCheckpoint(Signed);

impl SignedCheckpoint {
    /// Signs `checkpoint` as its origin's node.
    pub fn sign(checkpoint: &Checkpoint, key: &SigningKey) -> Self {
        let bytes = pb::LogCheckpoint::from(checkpoint).encode_to_vec();
        SignedCheckpoint(Signed::sign(
            CHECKPOINT_PAYLOAD_TYPE,
            bytes,
            &checkpoint.origin,
            key,
        ))
    }

    /// The checkpoint, read without checking the signature.
    ///
    /// # Errors
    /// Bad encoding or an invalid field.
    pub fn checkpoint_unverified(&self) -> Result<Checkpoint, ValidationError> {
        Checkpoint::try_from(crate::wire::decode::<pb::LogCheckpoint>(&self.0.bytes)?)
    }

    /// SHA-256 of the exact checkpoint bytes: what a cosignature names.
    pub fn digest(&self) -> Hash {
        Sha256::digest(&self.0.bytes).into()
    }

    /// The signer.
    pub fn signer(&self) -> &AgencyId {
        &self.0.signer
    }

    /// Verifies the signature against the roster and returns the
    /// checkpoint: the signer is the origin, its key valid when it signed.
    ///
    /// # Errors
    /// A bad field, or the first roster or signature check that fails.
    pub fn verify(
        &self,
        roster: &TrustedRoster,
        now: Timestamp,
    ) -> Result<Checkpoint, VerifyError> {
        let checkpoint = self
            .checkpoint_unverified()
            .map_err(VerifyError::InvalidBody)?;
        self.0.verify(
            CHECKPOINT_PAYLOAD_TYPE,
            &checkpoint.origin,
            checkpoint.at,
            roster,
            now,
        )?;
        Ok(checkpoint)
    }
}

impl TryFrom<pb::SignedLogCheckpoint> for SignedCheckpoint {
    type Error = ValidationError;
    fn try_from(s: pb::SignedLogCheckpoint) -> Result<Self, Self::Error> {
        Signed::read(
            s.checkpoint,
            &s.signer,
            &s.key_id,
            &s.signature,
            "checkpoint",
        )
        .map(SignedCheckpoint)
    }
}

impl From<SignedCheckpoint> for pb::SignedLogCheckpoint {
    fn from(s: SignedCheckpoint) -> Self {
        pb::SignedLogCheckpoint {
            checkpoint: s.0.bytes,
            signer: s.0.signer.to_string(),
            key_id: s.0.key_id.to_string(),
            signature: s.0.signature.to_vec(),
        }
    }
}

/// A cosignature with its witness's signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedCosignature(Signed);

impl SignedCosignature {
    /// Cosigns `checkpoint` as `witness` at `at`. Only after checking it:
    /// see [`check_extension`].
    pub fn sign(
        checkpoint: &SignedCheckpoint,
        witness: &AgencyId,
        at: Timestamp,
        key: &SigningKey,
    ) -> Self {
        let cosignature = Cosignature {
            checkpoint_sha256: checkpoint.digest(),
            witness: witness.clone(),
            at,
        };
        let bytes = pb::LogCosignature::from(&cosignature).encode_to_vec();
        SignedCosignature(Signed::sign(COSIGNATURE_PAYLOAD_TYPE, bytes, witness, key))
    }

    /// Verifies the cosignature against the roster, and that it is of
    /// `checkpoint`.
    ///
    /// # Errors
    /// A bad field, another checkpoint, or the first roster or signature
    /// check that fails.
    pub fn verify(
        &self,
        checkpoint: &SignedCheckpoint,
        roster: &TrustedRoster,
        now: Timestamp,
    ) -> Result<Cosignature, VerifyError> {
        let wire = crate::wire::decode::<pb::LogCosignature>(&self.0.bytes)
            .map_err(VerifyError::InvalidBody)?;
        let cosignature = Cosignature::try_from(wire).map_err(VerifyError::InvalidBody)?;
        if cosignature.checkpoint_sha256 != checkpoint.digest() {
            return Err(VerifyError::InvalidBody(ValidationError::rule(
                "checkpoint_sha256",
                "the cosignature is of another checkpoint",
            )));
        }
        self.0.verify(
            COSIGNATURE_PAYLOAD_TYPE,
            &cosignature.witness,
            cosignature.at,
            roster,
            now,
        )?;
        Ok(cosignature)
    }
}

impl TryFrom<pb::SignedLogCosignature> for SignedCosignature {
    type Error = ValidationError;
    fn try_from(s: pb::SignedLogCosignature) -> Result<Self, Self::Error> {
        Signed::read(
            s.cosignature,
            &s.signer,
            &s.key_id,
            &s.signature,
            "cosignature",
        )
        .map(SignedCosignature)
    }
}

impl From<SignedCosignature> for pb::SignedLogCosignature {
    fn from(s: SignedCosignature) -> Self {
        pb::SignedLogCosignature {
            cosignature: s.0.bytes,
            signer: s.0.signer.to_string(),
            key_id: s.0.key_id.to_string(),
            signature: s.0.signature.to_vec(),
        }
    }
}

/// Why a witness refuses to cosign a checkpoint.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WitnessError {
    /// Not the log this witness was following.
    #[error("checkpoint of {found}'s log, expected {expected}'s")]
    OtherLog {
        /// The log followed.
        expected: AgencyId,
        /// The log of the checkpoint.
        found: AgencyId,
    },
    /// The log shrank: a checkpoint smaller than one already seen.
    #[error("the log went back from {seen} entries to {offered}")]
    Shrunk {
        /// Size already seen.
        seen: u64,
        /// Size offered.
        offered: u64,
    },
    /// The log's history differs from what this witness saw before: the
    /// proof does not lead from the earlier root to the new one (or two
    /// roots for one size). Evidence of a fork: keep both checkpoints.
    #[error("the log is not an extension of the checkpoint seen before: {0}")]
    Inconsistent(String),
}

/// What a witness checks before cosigning `offered`: it is of the same log
/// as `seen` (the last checkpoint it cosigned from that log), no smaller,
/// and `proof` shows the log of `seen` is a prefix of the log of `offered`.
///
/// # Errors
/// [`WitnessError`]: the log is another, shrank, or forked.
pub fn check_extension(
    seen: &Checkpoint,
    offered: &Checkpoint,
    proof: &[Hash],
) -> Result<(), WitnessError> {
    if seen.origin != offered.origin {
        return Err(WitnessError::OtherLog {
            expected: seen.origin.clone(),
            found: offered.origin.clone(),
        });
    }
    if offered.size < seen.size {
        return Err(WitnessError::Shrunk {
            seen: seen.size,
            offered: offered.size,
        });
    }
    merkle::verify_consistency(seen.size, &seen.root, offered.size, &offered.root, proof)
        .map_err(|e| WitnessError::Inconsistent(e.to_string()))
}

impl SignedCosignature {
    /// The witness that signed it.
    pub fn witness(&self) -> &AgencyId {
        &self.0.signer
    }
}

/// A checkpoint with the cosignatures gathered for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CosignedCheckpoint {
    /// The checkpoint, signed by its log's node.
    pub checkpoint: SignedCheckpoint,
    /// Witnesses' cosignatures of it.
    pub cosignatures: Vec<SignedCosignature>,
}

impl CosignedCheckpoint {
    /// Verifies the checkpoint and every cosignature, and returns the
    /// checkpoint with the witnesses that cosigned it (each once; a
    /// cosignature by the log's own node is not a witness's).
    ///
    /// # Errors
    /// The first signature that fails, named: `checkpoint` or
    /// `cosignatures[i]`.
    pub fn verify(
        &self,
        roster: &TrustedRoster,
        now: Timestamp,
    ) -> Result<(Checkpoint, Vec<AgencyId>), (String, VerifyError)> {
        let checkpoint = self
            .checkpoint
            .verify(roster, now)
            .map_err(|e| ("checkpoint".to_owned(), e))?;
        let mut witnesses: Vec<AgencyId> = Vec::new();
        for (i, cosignature) in self.cosignatures.iter().enumerate() {
            let c = cosignature
                .verify(&self.checkpoint, roster, now)
                .map_err(|e| (format!("cosignatures[{i}]"), e))?;
            if c.witness != checkpoint.origin && !witnesses.contains(&c.witness) {
                witnesses.push(c.witness);
            }
        }
        Ok((checkpoint, witnesses))
    }
}

impl TryFrom<pb::CosignedLogCheckpoint> for CosignedCheckpoint {
    type Error = ValidationError;
    fn try_from(c: pb::CosignedLogCheckpoint) -> Result<Self, Self::Error> {
        let checkpoint = c
            .checkpoint
            .ok_or_else(|| ValidationError::missing("checkpoint"))
            .and_then(|s| SignedCheckpoint::try_from(s).at("checkpoint"))?;
        let cosignatures = c
            .cosignatures
            .into_iter()
            .enumerate()
            .map(|(i, s)| SignedCosignature::try_from(s).at_item("cosignatures", i))
            .collect::<Result<_, _>>()?;
        Ok(CosignedCheckpoint {
            checkpoint,
            cosignatures,
        })
    }
}

impl From<CosignedCheckpoint> for pb::CosignedLogCheckpoint {
    fn from(c: CosignedCheckpoint) -> Self {
        pb::CosignedLogCheckpoint {
            checkpoint: Some(c.checkpoint.into()),
            cosignatures: c.cosignatures.into_iter().map(Into::into).collect(),
        }
    }
}

impl SignedCheckpoint {
    /// The encoded `SignedLogCheckpoint`.
    pub fn to_bytes(&self) -> Vec<u8> {
        pb::SignedLogCheckpoint::from(self.clone()).encode_to_vec()
    }

    /// Reads an encoded `SignedLogCheckpoint` (signature not checked).
    ///
    /// # Errors
    /// Bad encoding or a malformed field.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, ValidationError> {
        crate::wire::decode::<pb::SignedLogCheckpoint>(bytes).and_then(Self::try_from)
    }
}

impl CosignedCheckpoint {
    /// The encoded `CosignedLogCheckpoint`.
    pub fn to_bytes(&self) -> Vec<u8> {
        pb::CosignedLogCheckpoint::from(self.clone()).encode_to_vec()
    }

    /// Reads an encoded `CosignedLogCheckpoint` (signatures not checked).
    ///
    /// # Errors
    /// Bad encoding or a malformed field.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, ValidationError> {
        crate::wire::decode::<pb::CosignedLogCheckpoint>(bytes).and_then(Self::try_from)
    }
}
