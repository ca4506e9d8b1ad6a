//! Ed25519 keys: public keys checked when they enter a roster, and secret
//! signing keys that never print and are wiped from memory on drop.

use std::fmt;

use ed25519_dalek::{Signer, SigningKey as DalekSigningKey, VerifyingKey};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use zeroize::Zeroizing;

use crate::ids::KeyId;

/// Why bytes are not an acceptable public key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// Not 32 bytes.
    #[error("an Ed25519 public key is 32 bytes, found {0}")]
    WrongLength(usize),
    /// Not the encoding of a curve point.
    #[error("the bytes do not encode an Ed25519 curve point")]
    NotAPoint,
    /// A small-order ("weak") point: signatures by it prove nothing.
    #[error("weak (small-order) Ed25519 public key refused")]
    Weak,
    /// A point with a small-order component ("mixed order"): cofactored
    /// and cofactorless verifiers would disagree about its signatures.
    #[error("Ed25519 public key outside the prime-order subgroup refused")]
    MixedOrder,
    /// The system's random number source failed while generating a key.
    #[error("no randomness available to generate a key: {0}")]
    Randomness(String),
}

/// An Ed25519 public key accepted for use: 32 bytes, a valid point, not of
/// small order.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct PublicKey(VerifyingKey);

impl PublicKey {
    /// Checks and wraps 32 public-key bytes.
    ///
    /// # Errors
    /// Wrong length, not a point, or a weak key.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, KeyError> {
        let array: &[u8; 32] = bytes
            .try_into()
            .map_err(|_| KeyError::WrongLength(bytes.len()))?;
        let key = VerifyingKey::from_bytes(array).map_err(|_| KeyError::NotAPoint)?;
        if key.is_weak() {
            return Err(KeyError::Weak);
        }
        let torsion_free = curve25519_dalek::edwards::CompressedEdwardsY(*array)
            .decompress()
            .is_some_and(|point| point.is_torsion_free());
        if !torsion_free {
            return Err(KeyError::MixedOrder);
        }
        Ok(PublicKey(key))
    }

    /// The 32 bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        self.0.as_bytes()
    }

    /// Strictly verifies `signature` over `message`: the rule of
    /// docs/PROTOCOL.md section 5.4 step 5 (RFC 8032 with canonical S, R not
    /// of small order, R's encoding equal to that of `[S]B - [k]A`: the
    /// cofactorless equation). The Ed25519 vectors of
    /// `tests/vectors/lintas-v1.json` show where this differs from other
    /// verifiers.
    pub fn verify_strict(&self, message: &[u8], signature: &[u8]) -> bool {
        let Ok(bytes) = <&[u8; 64]>::try_from(signature) else {
            return false;
        };
        let signature = ed25519_dalek::Signature::from_bytes(bytes);
        self.0.verify_strict(message, &signature).is_ok()
    }

    /// Strictly verifies many signatures at once and says, for each, whether
    /// it verifies: the same answers as [`PublicKey::verify_strict`] one by
    /// one, faster for many.
    ///
    /// Signatures whose `R` is not a canonical encoding of a point of large
    /// order are left to the one-by-one check (which refuses them). The
    /// rest are checked together with ed25519-dalek's batch equation; if the
    /// batch fails, each is checked alone, so one bad signature is named and
    /// refuses only its own item.
    pub(crate) fn verify_strict_many(items: &[(&PublicKey, &[u8], &[u8; 64])]) -> Vec<bool> {
        if items.len() < 2 {
            return items
                .iter()
                .map(|(key, message, signature)| key.verify_strict(message, *signature))
                .collect();
        }
        let mut answers = vec![false; items.len()];
        let mut batch = Vec::with_capacity(items.len());
        for (i, (key, message, signature)) in items.iter().enumerate() {
            if r_is_canonical_large_order(signature) {
                batch.push(i);
            } else {
                answers[i] = key.verify_strict(message, *signature);
            }
        }
        let messages: Vec<&[u8]> = batch.iter().map(|&i| items[i].1).collect();
        let signatures: Vec<ed25519_dalek::Signature> = batch
            .iter()
            .map(|&i| ed25519_dalek::Signature::from_bytes(items[i].2))
            .collect();
        let keys: Vec<VerifyingKey> = batch.iter().map(|&i| items[i].0.0).collect();
        if ed25519_dalek::verify_batch(&messages, &signatures, &keys).is_ok() {
            for &i in &batch {
                answers[i] = true;
            }
        } else {
            for &i in &batch {
                let (key, message, signature) = items[i];
                answers[i] = key.verify_strict(message, signature);
            }
        }
        answers
    }

    /// Lower-case hex of the 32 bytes.
    pub fn to_hex(&self) -> String {
        hex::encode(self.as_bytes())
    }
}

/// Whether a signature's `R` is the canonical encoding of a curve point that
/// is not of small order: what `verify_strict` demands of `R` beyond the
/// equation, checked here so that the batch equation is only asked about
/// signatures that strict verification could accept.
fn r_is_canonical_large_order(signature: &[u8; 64]) -> bool {
    let mut r = [0u8; 32];
    r.copy_from_slice(&signature[..32]);
    // y must be below p = 2^255 - 19 (top bit is the sign of x).
    let y_at_least_p =
        r[0] >= 0xed && r[1..31].iter().all(|b| *b == 0xff) && (r[31] & 0x7f) == 0x7f;
    if y_at_least_p {
        return false;
    }
    match curve25519_dalek::edwards::CompressedEdwardsY(r).decompress() {
        // The other non-canonical encodings (x = 0 with the sign bit set)
        // are of small order.
        Some(point) => !point.is_small_order(),
        None => false,
    }
}

impl PartialOrd for PublicKey {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for PublicKey {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.as_bytes().cmp(other.as_bytes())
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", self.to_hex())
    }
}

impl Serialize for PublicKey {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for PublicKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        let bytes = hex::decode(&text).map_err(serde::de::Error::custom)?;
        PublicKey::from_bytes(&bytes).map_err(serde::de::Error::custom)
    }
}

/// A secret Ed25519 signing key with the id it is listed under in the
/// roster. Its `Debug` shows only the id and public key; the secret is
/// wiped from memory when dropped.
pub struct SigningKey {
    key_id: KeyId,
    secret: DalekSigningKey,
}

impl SigningKey {
    /// A key from a 32-byte secret seed (RFC 8032 private key).
    ///
    /// # Errors
    /// When the derived public key is weak (never for a real seed, but
    /// checked so a signing key is always registrable).
    pub fn from_seed(key_id: KeyId, seed: &Zeroizing<[u8; 32]>) -> Result<Self, KeyError> {
        let secret = DalekSigningKey::from_bytes(seed);
        if secret.verifying_key().is_weak() {
            return Err(KeyError::Weak);
        }
        Ok(SigningKey { key_id, secret })
    }

    /// A fresh key from the operating system's random source.
    ///
    /// # Errors
    /// When no randomness is available.
    pub fn generate(key_id: KeyId) -> Result<Self, KeyError> {
        let mut seed = Zeroizing::new([0u8; 32]);
        getrandom::fill(seed.as_mut()).map_err(|e| KeyError::Randomness(e.to_string()))?;
        Self::from_seed(key_id, &seed)
    }

    /// The key's id in the roster.
    pub fn key_id(&self) -> &KeyId {
        &self.key_id
    }

    /// The public half.
    pub fn public_key(&self) -> PublicKey {
        PublicKey(self.secret.verifying_key())
    }

    /// The 32-byte secret seed, for storing the key; handle with care.
    pub fn seed(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(self.secret.to_bytes())
    }

    /// Signs `message` (always a pre-authentication encoding; see
    /// [`crate::signing`]).
    pub(crate) fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.secret.sign(message).to_bytes()
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("key_id", &self.key_id)
            .field("public_key", &self.public_key())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_answers_match_strict_one_by_one() -> Result<(), KeyError> {
        let keys: Vec<SigningKey> = (0u8..5)
            .map(|i| {
                let id = KeyId::parse(&format!("k{i}")).map_err(|_| KeyError::WrongLength(0))?;
                SigningKey::from_seed(id, &Zeroizing::new([i + 1; 32]))
            })
            .collect::<Result<_, _>>()?;
        let messages: Vec<Vec<u8>> = (0u8..5).map(|i| vec![i; 40]).collect();
        let mut signatures: Vec<[u8; 64]> =
            keys.iter().zip(&messages).map(|(k, m)| k.sign(m)).collect();
        let publics: Vec<PublicKey> = keys.iter().map(SigningKey::public_key).collect();
        let check = |signatures: &[[u8; 64]]| {
            let items: Vec<(&PublicKey, &[u8], &[u8; 64])> = publics
                .iter()
                .zip(&messages)
                .zip(signatures)
                .map(|((k, m), s)| (k, m.as_slice(), s))
                .collect();
            PublicKey::verify_strict_many(&items)
        };
        assert_eq!(check(&signatures), vec![true; 5]);
        // One flipped bit refuses only that one.
        signatures[2][10] ^= 1;
        assert_eq!(check(&signatures), vec![true, true, false, true, true]);
        // S + l (non-canonical S) is refused as strict verification does.
        let good = signatures[3];
        let l: [u8; 32] = [
            0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9,
            0xde, 0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
        ];
        let mut carry = 0u16;
        for i in 0..32 {
            let sum = u16::from(good[32 + i]) + u16::from(l[i]) + carry;
            signatures[3][32 + i] = (sum & 0xff) as u8;
            carry = sum >> 8;
        }
        assert_eq!(check(&signatures), vec![true, true, false, false, true]);
        // A small-order R (the identity) never reaches the batch equation.
        signatures[3] = good;
        signatures[4][..32].copy_from_slice(&{
            let mut identity = [0u8; 32];
            identity[0] = 1;
            identity
        });
        assert_eq!(check(&signatures), vec![true, true, false, true, false]);
        Ok(())
    }

    fn key() -> Result<SigningKey, Box<dyn std::error::Error>> {
        Ok(SigningKey::from_seed(
            KeyId::parse("k1")?,
            &Zeroizing::new([7u8; 32]),
        )?)
    }

    #[test]
    fn debug_never_shows_the_secret() -> Result<(), Box<dyn std::error::Error>> {
        let key = key()?;
        let shown = format!("{key:?}");
        assert!(!shown.contains(&hex::encode([7u8; 32])));
        assert!(shown.contains(&key.public_key().to_hex()));
        Ok(())
    }

    #[test]
    fn weak_and_malformed_keys_are_refused() {
        // The identity point (small order) encodes as 0x01 followed by zeros.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        assert_eq!(PublicKey::from_bytes(&identity), Err(KeyError::Weak));
        assert_eq!(
            PublicKey::from_bytes(&[0u8; 31]),
            Err(KeyError::WrongLength(31))
        );
        // All-zero bytes decode to a small-order point as well.
        assert_eq!(PublicKey::from_bytes(&[0u8; 32]), Err(KeyError::Weak));
    }

    #[test]
    fn strict_verification() -> Result<(), Box<dyn std::error::Error>> {
        let key = key()?;
        let signature = key.sign(b"message");
        assert!(key.public_key().verify_strict(b"message", &signature));
        assert!(!key.public_key().verify_strict(b"messagf", &signature));
        assert!(!key.public_key().verify_strict(b"message", &signature[..63]));
        Ok(())
    }
}
