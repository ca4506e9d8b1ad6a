//! The signing rules, all in one place (docs/PROTOCOL.md, "Signing").
//!
//! 1. A body is encoded once, by its signer. Those exact bytes travel with
//!    the signature; receivers verify them and only then decode them. No one
//!    re-encodes a body to verify it: protobuf encoding is not canonical.
//! 2. The signature covers a pre-authentication encoding (PAE) that binds
//!    the protocol and version, the payload type, the signer, the key id and
//!    the body bytes, each length-prefixed, so no field can be moved into
//!    another and a body cannot be replayed as another payload type.
//! 3. A notice body starts with its id: the bytes `0x0A 0x20` (field 1,
//!    32 bytes) and then SHA-256 over `"lintas.v1.notice-id" || 0x00 ||
//!    rest`, where `rest` is every body byte after those 34. The id is
//!    derived from the content, so any party recognises a duplicate.

use prost::Message;
use sha2::{Digest, Sha256};

use crate::disclosure::{Commitment, Disclosure};
use crate::error::{Problem, ValidationError};
use crate::ids::{AgencyId, KeyId, NoticeId};
use crate::keys::SigningKey;
use crate::notice::NoticeBody;
use crate::pb;

/// First item of every PAE: the protocol and its version.
pub const PROTOCOL: &str = "lintas/v1";
/// Payload type of a signed notice body.
pub const NOTICE_PAYLOAD_TYPE: &str = "lintas.v1.NoticeBody";
/// Payload type of a signed roster.
pub const ROSTER_PAYLOAD_TYPE: &str = "lintas.v1.Roster";
/// Payload type of a signed receipt.
pub const RECEIPT_PAYLOAD_TYPE: &str = "lintas.v1.Receipt";

/// PAE payload type of a transparency log checkpoint.
pub const CHECKPOINT_PAYLOAD_TYPE: &str = "lintas.v1.LogCheckpoint";

/// PAE payload type of a witness's cosignature of a checkpoint.
pub const COSIGNATURE_PAYLOAD_TYPE: &str = "lintas.v1.LogCosignature";
/// The payload type of an evidence bundle's manifest (docs/PROTOCOL.md
/// section 11).
pub const MANIFEST_PAYLOAD_TYPE: &str = "lintas.v1.EvidenceManifest";
/// The payload type of a custody entry (docs/PROTOCOL.md section 13.4).
pub const CUSTODY_PAYLOAD_TYPE: &str = "lintas.v1.CustodyEntry";
/// The payload type of an offline bundle (docs/PROTOCOL.md section 12).
pub const OFFLINE_BUNDLE_PAYLOAD_TYPE: &str = "lintas.v1.OfflineBundle";
/// Domain-separation prefix of the messages whose signatures give a
/// notice's disclosure salts (see [`SignedNotice::sign`]).
pub const SALT_DOMAIN: &str = "lintas.v1.disclosure-salt";
/// Domain-separation prefix of the notice-id hash (followed by one 0x00).
pub const NOTICE_ID_DOMAIN: &str = "lintas.v1.notice-id";
/// The first two bytes of every notice body: tag of field 1
/// (length-delimited) and the length 32.
pub const NOTICE_BODY_PREFIX: [u8; 2] = [0x0A, 0x20];

/// The pre-authentication encoding signed and verified:
///
/// ```text
/// PAE = LEN(PROTOCOL) || PROTOCOL
///    || LEN(payload_type) || payload_type
///    || LEN(signer) || signer
///    || LEN(key_id) || key_id
///    || LEN(body) || body
/// ```
///
/// where `LEN(x)` is the byte length of `x` as an unsigned 64-bit
/// big-endian integer and strings are UTF-8.
pub fn pae(payload_type: &str, signer: &str, key_id: &str, body: &[u8]) -> Vec<u8> {
    let items: [&[u8]; 5] = [
        PROTOCOL.as_bytes(),
        payload_type.as_bytes(),
        signer.as_bytes(),
        key_id.as_bytes(),
        body,
    ];
    let mut out = Vec::with_capacity(items.iter().map(|i| i.len() + 8).sum());
    for item in items {
        out.extend_from_slice(&(item.len() as u64).to_be_bytes());
        out.extend_from_slice(item);
    }
    out
}

/// Largest encoded notice body, in bytes (256 KiB): docs/PROTOCOL.md
/// section 3.4. Larger bodies are refused before they are decoded.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// The notice id of a body whose bytes after the 34-byte id prefix are
/// `rest`.
pub fn notice_id_of(rest: &[u8]) -> NoticeId {
    let mut hash = Sha256::new();
    hash.update(NOTICE_ID_DOMAIN.as_bytes());
    hash.update([0u8]);
    hash.update(rest);
    NoticeId::from_bytes(hash.finalize().into())
}

/// Encodes a notice body the way the protocol prescribes: its wire form
/// without the id, hashed to the id, with the id field put in front.
/// Returns the id and the exact bytes to sign.
///
/// # Errors
/// When the body breaks any rule a receiver would check: a signer must
/// never sign what every receiver refuses.
pub fn encode_notice_body(body: &NoticeBody) -> Result<(NoticeId, Vec<u8>), ValidationError> {
    crate::disclosure::check_sealed(body)?;
    let wire = body.to_wire();
    // Run the receiver's own checks on exactly what will be sent.
    let mut probe = wire.clone();
    probe.notice_id = vec![0; 32];
    NoticeBody::from_wire(probe)?;

    let rest = wire.encode_to_vec();
    if rest.len() + 34 > MAX_BODY_BYTES {
        return Err(ValidationError::invalid(
            "",
            "a notice body of at most 262144 bytes",
            format!("{} bytes", rest.len() + 34),
        ));
    }
    let id = notice_id_of(&rest);
    let mut bytes = Vec::with_capacity(34 + rest.len());
    bytes.extend_from_slice(&NOTICE_BODY_PREFIX);
    bytes.extend_from_slice(id.as_bytes());
    bytes.extend_from_slice(&rest);
    Ok((id, bytes))
}

/// Reads signed body bytes: checks the id prefix and that the id is the
/// hash of the rest, decodes, checks the decoded id is the same (a second
/// field 1 later in the bytes would change it), then validates.
///
/// # Errors
/// [`BodyError::IdMismatch`] when the id is not the content's hash;
/// [`BodyError::Invalid`] for a bad encoding or an invalid field.
pub fn decode_notice_body(bytes: &[u8]) -> Result<(NoticeId, NoticeBody), BodyError> {
    if bytes.len() > MAX_BODY_BYTES {
        return Err(BodyError::Invalid(ValidationError::invalid(
            "",
            "a notice body of at most 262144 bytes",
            format!("{} bytes", bytes.len()),
        )));
    }
    if bytes.len() < 34 || bytes[..2] != NOTICE_BODY_PREFIX {
        return Err(BodyError::Invalid(ValidationError::rule(
            "notice_id",
            "the body must start with field 1 holding the 32-byte notice id",
        )));
    }
    let claimed = NoticeId::from_wire(&bytes[2..34]).map_err(BodyError::Invalid)?;
    let computed = notice_id_of(&bytes[34..]);
    if claimed != computed {
        return Err(BodyError::IdMismatch { claimed, computed });
    }
    check_body_encoding(bytes)?;
    let wire = pb::NoticeBody::decode(bytes).map_err(|e| {
        BodyError::Invalid(ValidationError::new("", Problem::Decode(e.to_string())))
    })?;
    if wire.notice_id.as_slice() != claimed.as_bytes() {
        return Err(BodyError::Invalid(ValidationError::rule(
            "notice_id",
            "the notice id field appears more than once",
        )));
    }
    let (id, body) = NoticeBody::from_wire(wire).map_err(BodyError::Invalid)?;
    crate::disclosure::check_sealed(&body).map_err(BodyError::Invalid)?;
    Ok((id, body))
}

/// The exact-bytes rules of docs/PROTOCOL.md section 2.2 on encoded
/// notice body bytes, without decoding them: well formed, no singular field
/// twice and no second oneof member at any depth, no notice kind this
/// version does not define. [`decode_notice_body`] applies it first.
///
/// # Errors
/// [`BodyError::Invalid`] naming the field, or
/// [`BodyError::UnsupportedKind`].
pub fn check_body_encoding(bytes: &[u8]) -> Result<(), BodyError> {
    crate::encoding::check(bytes, ".lintas.v1.NoticeBody").map_err(|e| match e {
        crate::encoding::EncodingError::UnknownKind(field) => BodyError::UnsupportedKind(field),
        crate::encoding::EncodingError::Invalid(v) => BodyError::Invalid(v),
    })
}

/// The bytes a node's transparency log commits to for a stored notice
/// envelope (docs/PROTOCOL.md section 10.2): the `SignedNotice` encoding
/// with its disclosures removed, fields 1-5 in field order. Every holder of
/// a notice logs the same bytes whatever it was disclosed, and removing
/// disclosures later (retention, erasure) leaves the log entry true. Bytes
/// that are not a `SignedNotice` are returned unchanged.
pub fn logged_bytes(envelope: &[u8]) -> Vec<u8> {
    match pb::SignedNotice::decode(envelope) {
        Ok(mut notice) => {
            notice.disclosures.clear();
            notice.encode_to_vec()
        }
        Err(_) => envelope.to_vec(),
    }
}

/// Why signed body bytes could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BodyError {
    /// The id in the body is not the hash of its content.
    #[error("notice id {claimed} does not match the content, whose id is {computed}")]
    IdMismatch {
        /// The id the body carries.
        claimed: NoticeId,
        /// The id of the content.
        computed: NoticeId,
    },
    /// The body is not a valid notice.
    #[error("invalid notice body: {0}")]
    Invalid(#[source] ValidationError),
    /// The body is a notice of a kind this version does not define (its
    /// kind is NoticeBody field `0`): a newer peer's notice.
    #[error("notice of a kind this node does not implement (NoticeBody field {0})")]
    UnsupportedKind(u32),
}

/// A signed notice as it travels and is stored: the exact body bytes, who
/// signed them with which key, and the signature. Holding one says nothing
/// about whether it verifies; see [`crate::roster::TrustedRoster::verify_notice`].
#[derive(Clone, PartialEq, Eq)]
pub struct SignedNotice {
    signer: AgencyId,
    key_id: KeyId,
    body: Vec<u8>,
    signature: [u8; 64],
    disclosures: Vec<Disclosure>,
}

impl SignedNotice {
    /// Signs `body` with `key` as the body's sender. Its protected parts
    /// are sealed first (docs/PROTOCOL.md section 14): the signed bytes
    /// carry their commitments, and the returned envelope carries every
    /// disclosure (the sender holds the whole notice; see [`Self::view`]).
    ///
    /// Salts are derived from the key and the draft, so signing the same
    /// draft twice gives the same notice: salt `i` is the first 16 bytes of
    /// SHA-256 over the key's Ed25519 signature of
    /// `"lintas.v1.disclosure-salt" || 0x00 || draft || i (8 bytes BE)`,
    /// where `draft` is the encoded draft body. Nobody without the key can
    /// predict them.
    ///
    /// # Errors
    /// When the body breaks a rule a receiver would check.
    pub fn sign(
        body: &NoticeBody,
        key: &SigningKey,
    ) -> Result<(NoticeId, SignedNotice), ValidationError> {
        let mut sealed = body.clone();
        let disclosures = if crate::disclosure::parts(body).is_empty() {
            Vec::new()
        } else {
            let draft = body.to_wire().encode_to_vec();
            let mut counter = 0u64;
            crate::disclosure::seal(&mut sealed, &mut || {
                let mut message = Vec::with_capacity(draft.len() + 40);
                message.extend_from_slice(SALT_DOMAIN.as_bytes());
                message.push(0);
                message.extend_from_slice(&draft);
                message.extend_from_slice(&counter.to_be_bytes());
                counter += 1;
                let digest = Sha256::digest(key.sign(&message));
                let mut salt = [0u8; crate::disclosure::SALT_BYTES];
                salt.copy_from_slice(&digest[..crate::disclosure::SALT_BYTES]);
                salt
            })
        };
        let body = &sealed;
        let (id, bytes) = encode_notice_body(body)?;
        let signer = body.sender.clone();
        let message = pae(
            NOTICE_PAYLOAD_TYPE,
            signer.as_str(),
            key.key_id().as_str(),
            &bytes,
        );
        let signature = key.sign(&message);
        Ok((
            id,
            SignedNotice {
                signer,
                key_id: key.key_id().clone(),
                body: bytes,
                signature,
                disclosures,
            },
        ))
    }

    /// The disclosures carried beside the signature.
    pub fn disclosures(&self) -> &[Disclosure] {
        &self.disclosures
    }

    /// The same signed notice carrying only the disclosures of `keep`: the
    /// view of a holder given those parts. Its signature still verifies.
    pub fn view(&self, keep: &[Commitment]) -> SignedNotice {
        let mut view = self.clone();
        view.disclosures.retain(|d| keep.contains(&d.commitment()));
        view
    }

    /// The same signed notice with `disclosures` beside it instead (checked
    /// when the body is opened).
    #[must_use]
    pub fn with_disclosures(mut self, disclosures: Vec<Disclosure>) -> SignedNotice {
        self.disclosures = disclosures;
        self
    }

    /// Decodes the body (as [`decode_notice_body`]) and opens the protected
    /// parts this envelope's disclosures disclose. Does not check the
    /// signature: see [`crate::roster::TrustedRoster::verify_notice`].
    ///
    /// # Errors
    /// As [`decode_notice_body`]; a disclosure that does not open a
    /// commitment of the body, or whose value is invalid, is
    /// [`BodyError::Invalid`] at `disclosures[i]`.
    pub fn open_body(&self) -> Result<(NoticeId, NoticeBody), BodyError> {
        let (id, mut body) = decode_notice_body(&self.body)?;
        crate::disclosure::open(&mut body, &self.disclosures).map_err(BodyError::Invalid)?;
        Ok((id, body))
    }

    /// The agency that says it signed.
    pub fn signer(&self) -> &AgencyId {
        &self.signer
    }

    /// The key it says it used.
    pub fn key_id(&self) -> &KeyId {
        &self.key_id
    }

    /// The exact signed body bytes.
    pub fn body_bytes(&self) -> &[u8] {
        &self.body
    }

    /// The signature.
    pub fn signature(&self) -> &[u8; 64] {
        &self.signature
    }

    /// The PAE this notice's signature must cover.
    pub fn signed_message(&self) -> Vec<u8> {
        pae(
            NOTICE_PAYLOAD_TYPE,
            self.signer.as_str(),
            self.key_id.as_str(),
            &self.body,
        )
    }

    /// The notice id the body claims (checked only on verification).
    pub fn claimed_id(&self) -> Option<NoticeId> {
        self.body
            .get(2..34)
            .and_then(|b| <[u8; 32]>::try_from(b).ok())
            .map(NoticeId::from_bytes)
    }

    /// Encodes the envelope as protobuf bytes.
    pub fn encode(&self) -> Vec<u8> {
        pb::SignedNotice::from(self.clone()).encode_to_vec()
    }

    /// Decodes an envelope from protobuf bytes (structure only; verify it
    /// against a roster before trusting it).
    ///
    /// # Errors
    /// Bad encoding or a malformed envelope field.
    pub fn decode(bytes: &[u8]) -> Result<Self, ValidationError> {
        let wire = crate::wire::decode::<pb::SignedNotice>(bytes)?;
        SignedNotice::try_from(wire)
    }
}

impl std::fmt::Debug for SignedNotice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignedNotice")
            .field("claimed_id", &self.claimed_id())
            .field("signer", &self.signer)
            .field("key_id", &self.key_id)
            .field("body_len", &self.body.len())
            .field("disclosures", &self.disclosures.len())
            .finish_non_exhaustive()
    }
}

impl TryFrom<pb::SignedNotice> for SignedNotice {
    type Error = ValidationError;
    fn try_from(s: pb::SignedNotice) -> Result<Self, Self::Error> {
        use crate::error::At;
        if s.payload_type != NOTICE_PAYLOAD_TYPE {
            return Err(ValidationError::invalid(
                "payload_type",
                "\"lintas.v1.NoticeBody\"",
                &s.payload_type,
            ));
        }
        let signature = crate::wire::signature(&s.signature)?;
        if s.body.is_empty() {
            return Err(ValidationError::missing("body"));
        }
        Ok(SignedNotice {
            signer: AgencyId::from_wire(&s.signer).at("signer")?,
            key_id: KeyId::from_wire(&s.key_id).at("key_id")?,
            body: s.body,
            signature,
            disclosures: crate::wire::at_most(
                &s.disclosures,
                "disclosures",
                crate::disclosure::MAX_DISCLOSURES,
            )
            .and_then(|()| crate::wire::convert_list(s.disclosures, "disclosures"))?,
        })
    }
}

impl From<SignedNotice> for pb::SignedNotice {
    fn from(s: SignedNotice) -> Self {
        pb::SignedNotice {
            payload_type: NOTICE_PAYLOAD_TYPE.to_owned(),
            signer: s.signer.to_string(),
            key_id: s.key_id.to_string(),
            body: s.body,
            signature: s.signature.to_vec(),
            disclosures: s.disclosures.into_iter().map(Into::into).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pae_is_length_prefixed_and_binds_every_item() {
        let a = pae("t", "IDN.X", "k", b"body");
        let mut expected = Vec::new();
        for item in [&b"lintas/v1"[..], b"t", b"IDN.X", b"k", b"body"] {
            expected.extend_from_slice(&(item.len() as u64).to_be_bytes());
            expected.extend_from_slice(item);
        }
        assert_eq!(a, expected);
        // Moving a byte from one item to the next changes the encoding.
        assert_ne!(pae("t", "IDN.Xk", "", b"body"), a);
        assert_ne!(pae("t", "IDN.X", "kb", b"ody"), a);
    }

    #[test]
    fn body_without_id_prefix_is_refused() {
        assert!(matches!(
            decode_notice_body(&[0x12, 0x00]),
            Err(BodyError::Invalid(_))
        ));
        let mut forged = vec![0x0A, 0x20];
        forged.extend_from_slice(&[0u8; 32]);
        assert!(matches!(
            decode_notice_body(&forged),
            Err(BodyError::IdMismatch { .. })
        ));
        // Shorter than the prefix and id, even with the right first bytes.
        for short in [&[][..], &[0x0A], &[0x0A, 0x20, 1, 2, 3]] {
            assert!(matches!(
                decode_notice_body(short),
                Err(BodyError::Invalid(_))
            ));
        }
        // Long enough, but field 1 is not first.
        let mut wrong = vec![0x12, 0x20];
        wrong.extend_from_slice(&[0u8; 40]);
        assert!(matches!(
            decode_notice_body(&wrong),
            Err(BodyError::Invalid(_))
        ));
    }

    #[test]
    fn the_body_limit_is_256_kib() {
        // PROTOCOL.md section 3.4 states the number; implementations check
        // themselves against it.
        assert_eq!(MAX_BODY_BYTES, 262_144);
    }
}
