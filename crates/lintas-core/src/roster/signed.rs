//! A roster version with its steward signatures.

use std::collections::BTreeSet;

use prost::Message;

use super::{Roster, StewardKey};
use crate::error::{At, ValidationError};
use crate::ids::KeyId;
use crate::keys::{PublicKey, SigningKey};
use crate::pb;
use crate::signing::{ROSTER_PAYLOAD_TYPE, pae};

/// A roster's exact encoded bytes and the steward signatures over them.
///
/// Stewards sign independently: one of them encodes the roster once with
/// [`SignedRoster::new`], the bytes are passed round, and each adds a
/// signature with [`SignedRoster::add_signature`].
#[derive(Clone, PartialEq, Eq)]
pub struct SignedRoster {
    roster: Vec<u8>,
    signatures: Vec<(KeyId, [u8; 64])>,
}

impl std::fmt::Debug for SignedRoster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignedRoster")
            .field("roster_len", &self.roster.len())
            .field(
                "signers",
                &self
                    .signatures
                    .iter()
                    .map(|(k, _)| k.as_str())
                    .collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl SignedRoster {
    /// Encodes a roster for signing, with no signatures yet.
    ///
    /// # Errors
    /// When the roster breaks any rule a receiver checks: stewards must
    /// never sign what every party refuses.
    pub fn new(roster: &Roster) -> Result<Self, ValidationError> {
        let wire = pb::Roster::from(roster.clone());
        Roster::try_from(wire.clone())?;
        Ok(SignedRoster {
            roster: wire.encode_to_vec(),
            signatures: Vec::new(),
        })
    }

    /// Adds a steward's signature. `state` is the steward's member state as
    /// listed in the roster whose stewards will check it.
    pub fn add_signature(&mut self, state: crate::ids::MemberState, key: &SigningKey) {
        let message = pae(
            ROSTER_PAYLOAD_TYPE,
            state.code(),
            key.key_id().as_str(),
            &self.roster,
        );
        self.signatures
            .push((key.key_id().clone(), key.sign(&message)));
    }

    /// Decodes and validates the roster inside (not its signatures).
    ///
    /// # Errors
    /// Bad encoding or an invalid roster.
    pub fn roster(&self) -> Result<Roster, ValidationError> {
        crate::encoding::check(&self.roster, ".lintas.v1.Roster").map_err(|e| match e {
            crate::encoding::EncodingError::Invalid(v) => v,
            crate::encoding::EncodingError::UnknownKind(_) => {
                ValidationError::rule("", "a roster has no notice kinds")
            }
        })?;
        let wire = crate::wire::decode::<pb::Roster>(&self.roster)?;
        Roster::try_from(wire)
    }

    /// The exact roster bytes.
    pub fn roster_bytes(&self) -> &[u8] {
        &self.roster
    }

    /// The signatures, by key id.
    pub fn signatures(&self) -> &[(KeyId, [u8; 64])] {
        &self.signatures
    }

    /// The distinct steward public keys, among `stewards`, with a valid
    /// signature over these bytes. A key that signed twice, or under two
    /// ids, counts once; signatures by keys not in `stewards` and invalid
    /// signatures count for nothing.
    pub fn valid_signers(&self, stewards: &[StewardKey]) -> BTreeSet<PublicKey> {
        let mut signers = BTreeSet::new();
        for (key_id, signature) in &self.signatures {
            let Some(steward) = stewards.iter().find(|s| &s.key_id == key_id) else {
                continue;
            };
            let message = pae(
                ROSTER_PAYLOAD_TYPE,
                steward.state.code(),
                key_id.as_str(),
                &self.roster,
            );
            if steward.public_key.verify_strict(&message, signature) {
                signers.insert(steward.public_key);
            }
        }
        signers
    }

    /// Encodes as protobuf bytes (`lintas.v1.SignedRoster`).
    pub fn encode(&self) -> Vec<u8> {
        pb::SignedRoster::from(self.clone()).encode_to_vec()
    }

    /// Decodes from protobuf bytes.
    ///
    /// # Errors
    /// Bad encoding or a malformed signature entry.
    pub fn decode(bytes: &[u8]) -> Result<Self, ValidationError> {
        let wire = crate::wire::decode::<pb::SignedRoster>(bytes)?;
        SignedRoster::try_from(wire)
    }
}

impl TryFrom<pb::SignedRoster> for SignedRoster {
    type Error = ValidationError;
    fn try_from(s: pb::SignedRoster) -> Result<Self, Self::Error> {
        if s.roster.is_empty() {
            return Err(ValidationError::missing("roster"));
        }
        let signatures = s
            .signatures
            .into_iter()
            .enumerate()
            .map(|(i, sig)| {
                let key_id = KeyId::from_wire(&sig.key_id)
                    .at("key_id")
                    .at_item("signatures", i)?;
                let bytes = crate::wire::signature(&sig.signature).at_item("signatures", i)?;
                Ok((key_id, bytes))
            })
            .collect::<Result<Vec<_>, ValidationError>>()?;
        Ok(SignedRoster {
            roster: s.roster,
            signatures,
        })
    }
}

impl From<SignedRoster> for pb::SignedRoster {
    fn from(s: SignedRoster) -> Self {
        pb::SignedRoster {
            roster: s.roster,
            signatures: s
                .signatures
                .into_iter()
                .map(|(key_id, signature)| pb::RosterSignature {
                    key_id: key_id.to_string(),
                    signature: signature.to_vec(),
                })
                .collect(),
        }
    }
}
