//! The matching function: RFC 9497's oblivious PRF, mode OPRF, suite
//! ristretto255-SHA512 (the `voprf` crate). A responder evaluates a blinded
//! identifier under its key without learning it; the asker unblinds the
//! result and compares it with the tags the responder lists.

use rand_core::OsRng;
use sha2::{Digest, Sha256};
use voprf::{BlindedElement, EvaluationElement, OprfClient, OprfServer, Ristretto255};

use crate::error::ValidationError;
use crate::keys::SigningKey;

use super::identifier::Identifier;

/// Bytes of an encoded group element (blinded or evaluated).
pub const ELEMENT_BYTES: usize = 32;
/// Bytes of a tag: the first bytes of the 64-byte PRF output.
pub const TAG_BYTES: usize = 16;
/// The `info` of RFC 9497 DeriveKeyPair for a node's matching key.
pub const KEY_INFO: &str = "lintas.v1.match-key";
/// Domain-separation prefix of the message a node signs to get the seed
/// of its matching key.
pub const KEY_SEED_DOMAIN: &str = "lintas.v1.match-key-seed";

/// One identifier's tag under one node's key.
pub type MatchTag = [u8; TAG_BYTES];

/// A node's matching key (its OPRF private key).
pub struct MatchKey {
    server: OprfServer<Ristretto255>,
}

impl std::fmt::Debug for MatchKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MatchKey(..)")
    }
}

impl MatchKey {
    /// The key RFC 9497 DeriveKeyPair gives for `seed` with info
    /// [`KEY_INFO`].
    pub fn from_seed(seed: &[u8; 32]) -> Self {
        match OprfServer::<Ristretto255>::new_from_seed(seed, KEY_INFO.as_bytes()) {
            Ok(server) => MatchKey { server },
            // DeriveKeyPair fails only for over-long input or after 256
            // zero scalars in a row (probability 2^-2000): never for a
            // 32-byte seed in practice; hash once more if it ever does.
            Err(_) => Self::from_seed(&Sha256::digest(seed).into()),
        }
    }

    /// A node's key, derived from its agency signing key: the seed is
    /// SHA-256 of the key's Ed25519 signature over [`KEY_SEED_DOMAIN`].
    /// Replicas sharing the signing key share the matching key; a new
    /// signing key gives a new matching key (the tags are recomputed).
    pub fn of_signing_key(key: &SigningKey) -> Self {
        let seed: [u8; 32] = Sha256::digest(key.sign(KEY_SEED_DOMAIN.as_bytes())).into();
        Self::from_seed(&seed)
    }

    /// The tag of `identifier` under this key.
    pub fn tag(&self, identifier: &Identifier) -> MatchTag {
        self.server
            .evaluate(&identifier.matching_input())
            // Only over-long input fails; the normal form is bounded.
            .map(|o| first_bytes(&o))
            .unwrap_or_default()
    }

    /// Evaluates a blinded identifier (RFC 9497 BlindEvaluate).
    ///
    /// # Errors
    /// When `blinded` (path `blinded_element`) is not 32 bytes encoding a
    /// ristretto255 element other than the identity.
    pub fn evaluate(&self, blinded: &[u8]) -> Result<[u8; ELEMENT_BYTES], ValidationError> {
        let element = element(blinded, "blinded_element").and_then(|b| {
            BlindedElement::<Ristretto255>::deserialize(&b).map_err(|_| {
                ValidationError::invalid(
                    "blinded_element",
                    "a ristretto255 element other than the identity",
                    hex::encode(b),
                )
            })
        })?;
        let evaluated = self.server.blind_evaluate(&element).serialize();
        let mut out = [0u8; ELEMENT_BYTES];
        out.copy_from_slice(&evaluated);
        Ok(out)
    }
}

fn element(bytes: &[u8], path: &str) -> Result<[u8; ELEMENT_BYTES], ValidationError> {
    bytes
        .try_into()
        .map_err(|_| ValidationError::invalid(path, "32 bytes", format!("{} bytes", bytes.len())))
}

fn first_bytes(output: &[u8]) -> MatchTag {
    let mut tag = [0u8; TAG_BYTES];
    tag.copy_from_slice(&output[..TAG_BYTES]);
    tag
}

/// An identifier blinded for one query to one responder (a fresh blind
/// each time, so that responders comparing notes cannot link queries).
pub struct BlindedIdentifier {
    client: OprfClient<Ristretto255>,
    input: Vec<u8>,
    element: [u8; ELEMENT_BYTES],
}

impl std::fmt::Debug for BlindedIdentifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlindedIdentifier")
            .field("element", &hex::encode(self.element))
            .finish_non_exhaustive()
    }
}

impl BlindedIdentifier {
    /// Blinds `identifier` with a random scalar from the operating
    /// system (RFC 9497 Blind).
    pub fn new(identifier: &Identifier) -> Self {
        let input = identifier.matching_input();
        loop {
            // Blind fails only for an input hashing to the identity
            // (negligible); draw again.
            if let Ok(blinded) = OprfClient::<Ristretto255>::blind(&input, &mut OsRng) {
                let mut element = [0u8; ELEMENT_BYTES];
                element.copy_from_slice(&blinded.message.serialize());
                return BlindedIdentifier {
                    client: blinded.state,
                    input,
                    element,
                };
            }
        }
    }

    /// The blinded element to send.
    pub fn element(&self) -> [u8; ELEMENT_BYTES] {
        self.element
    }

    /// Unblinds the responder's answer (RFC 9497 Finalize): the
    /// identifier's tag under the responder's key.
    ///
    /// # Errors
    /// When `evaluated` (path `evaluated_element`) is not a valid element.
    pub fn finish(&self, evaluated: &[u8]) -> Result<MatchTag, ValidationError> {
        let invalid = |b: &[u8]| {
            ValidationError::invalid(
                "evaluated_element",
                "a ristretto255 element other than the identity",
                hex::encode(b),
            )
        };
        let bytes = element(evaluated, "evaluated_element")?;
        let element =
            EvaluationElement::<Ristretto255>::deserialize(&bytes).map_err(|_| invalid(&bytes))?;
        let output = self
            .client
            .finalize(&self.input, &element)
            .map_err(|_| invalid(&bytes))?;
        Ok(first_bytes(&output))
    }
}

/// Encodes tags for an answer: ascending, without repeats, concatenated.
pub fn encode_tags(tags: impl IntoIterator<Item = MatchTag>) -> Vec<u8> {
    let mut sorted: Vec<MatchTag> = tags.into_iter().collect();
    sorted.sort_unstable();
    sorted.dedup();
    sorted.concat()
}

/// Whether `tag` is among the encoded `tags` of an answer.
///
/// # Errors
/// When `tags` (path `tags`) is not a whole number of tags in strictly
/// ascending order.
pub fn tags_contain(tags: &[u8], tag: &MatchTag) -> Result<bool, ValidationError> {
    if !tags.len().is_multiple_of(TAG_BYTES) {
        return Err(ValidationError::invalid(
            "tags",
            "a whole number of 16-byte tags",
            format!("{} bytes", tags.len()),
        ));
    }
    let list: Vec<&[u8]> = tags.chunks_exact(TAG_BYTES).collect();
    if list.windows(2).any(|w| w[0] >= w[1]) {
        return Err(ValidationError::rule(
            "tags",
            "tags must be in strictly ascending byte order",
        ));
    }
    Ok(list.binary_search(&tag.as_slice()).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vocab::IdentifierKind;

    fn id(value: &str) -> Identifier {
        Identifier::parse(IdentifierKind::PhoneNumber, "", value).unwrap()
    }

    #[test]
    fn a_blinded_query_finds_the_responders_tag_and_only_it() {
        let responder = MatchKey::from_seed(&[7; 32]);
        let held = [id("+855120000001"), id("+6281234567890")];
        let tags = encode_tags(held.iter().map(|i| responder.tag(i)));
        assert_eq!(tags.len(), 2 * TAG_BYTES);

        let query = BlindedIdentifier::new(&id("+62 812 3456 7890"));
        let answer = responder.evaluate(&query.element()).unwrap();
        let tag = query.finish(&answer).unwrap();
        assert!(tags_contain(&tags, &tag).unwrap());

        let miss = BlindedIdentifier::new(&id("+6281234567891"));
        let tag = miss
            .finish(&responder.evaluate(&miss.element()).unwrap())
            .unwrap();
        assert!(!tags_contain(&tags, &tag).unwrap());

        // Another responder's key gives other tags.
        let other = MatchKey::from_seed(&[8; 32]);
        let again = BlindedIdentifier::new(&id("+6281234567890"));
        let tag = again
            .finish(&other.evaluate(&again.element()).unwrap())
            .unwrap();
        assert!(!tags_contain(&tags, &tag).unwrap());
    }

    #[test]
    fn two_blinds_of_one_identifier_differ() {
        let a = BlindedIdentifier::new(&id("+6281234567890"));
        let b = BlindedIdentifier::new(&id("+6281234567890"));
        assert_ne!(a.element(), b.element());
    }

    #[test]
    fn bad_elements_and_tag_lists_are_refused_by_path() {
        let key = MatchKey::from_seed(&[7; 32]);
        assert_eq!(key.evaluate(&[1; 31]).unwrap_err().path, "blinded_element");
        // The identity and a non-canonical encoding.
        assert_eq!(key.evaluate(&[0; 32]).unwrap_err().path, "blinded_element");
        assert_eq!(
            key.evaluate(&[0xff; 32]).unwrap_err().path,
            "blinded_element"
        );
        let query = BlindedIdentifier::new(&id("+6281234567890"));
        assert_eq!(
            query.finish(&[0; 32]).unwrap_err().path,
            "evaluated_element"
        );
        assert_eq!(tags_contain(&[0; 17], &[0; 16]).unwrap_err().path, "tags");
        let unsorted = [[2u8; 16], [1u8; 16]].concat();
        assert_eq!(tags_contain(&unsorted, &[1; 16]).unwrap_err().path, "tags");
        let repeated = [[1u8; 16], [1u8; 16]].concat();
        assert!(tags_contain(&repeated, &[1; 16]).is_err());
    }
}
