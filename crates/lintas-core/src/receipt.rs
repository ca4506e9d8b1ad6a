//! Signed receipts: a recipient's proof that it accepted, delivered, read or
//! acted on a notice, bound to the exact bytes it received.

use prost::Message;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{At, ValidationError};
use crate::ids::{AgencyId, KeyId, NoticeId};
use crate::keys::SigningKey;
use crate::pb;
use crate::signing::{RECEIPT_PAYLOAD_TYPE, SignedNotice, pae};
use crate::text::{self, SHORT, Text};
use crate::time::Timestamp;
use crate::vocab::ReceiptStage;

/// A recipient's statement about a notice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Receipt {
    /// The notice.
    pub notice_id: NoticeId,
    /// SHA-256 of the exact body bytes received, as lower-case hex in JSON.
    #[serde(with = "hex_bytes")]
    pub body_sha256: [u8; 32],
    /// The recipient.
    pub receiver: AgencyId,
    /// The stage reached.
    pub stage: ReceiptStage,
    /// When.
    pub at: Timestamp,
    /// What was done, briefly.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Why the recipient declined or is not competent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<Text>,
    /// The agency to try instead (not competent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refer_to: Option<AgencyId>,
    /// The agencies the notice was forwarded to (forwarded).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub forwarded_to: Vec<AgencyId>,
}

mod hex_bytes {
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(bytes: &[u8; 32], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(bytes))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 32], D::Error> {
        let text = String::deserialize(d)?;
        let mut out = [0u8; 32];
        hex::decode_to_slice(&text, &mut out).map_err(serde::de::Error::custom)?;
        Ok(out)
    }
}

/// SHA-256 of a notice's exact body bytes.
pub fn body_digest(notice: &SignedNotice) -> [u8; 32] {
    Sha256::digest(notice.body_bytes()).into()
}

impl Receipt {
    /// A receipt by `receiver` for `notice` at `stage`.
    pub fn new(
        notice_id: NoticeId,
        notice: &SignedNotice,
        receiver: AgencyId,
        stage: ReceiptStage,
        at: Timestamp,
    ) -> Self {
        Self::for_digest(notice_id, body_digest(notice), receiver, stage, at)
    }

    /// A receipt for a notice known only by its body digest (a holder
    /// that kept the notice's tombstone, not its envelope).
    pub fn for_digest(
        notice_id: NoticeId,
        body_sha256: [u8; 32],
        receiver: AgencyId,
        stage: ReceiptStage,
        at: Timestamp,
    ) -> Self {
        Receipt {
            notice_id,
            body_sha256,
            receiver,
            stage,
            at,
            note: None,
            reason: None,
            refer_to: None,
            forwarded_to: Vec::new(),
        }
    }

    /// Checks the rules that tie the stage to the fields it needs.
    ///
    /// # Errors
    /// The first broken rule, with its field path.
    pub fn validate(&self) -> Result<(), ValidationError> {
        let declines = matches!(
            self.stage,
            ReceiptStage::Declined | ReceiptStage::NotCompetent
        );
        match (declines, &self.reason) {
            (true, None) => {
                return Err(ValidationError::rule(
                    "reason",
                    "required when stage is RECEIPT_STAGE_DECLINED or RECEIPT_STAGE_NOT_COMPETENT",
                ));
            }
            (false, Some(_)) => {
                return Err(ValidationError::rule(
                    "reason",
                    "only for RECEIPT_STAGE_DECLINED and RECEIPT_STAGE_NOT_COMPETENT",
                ));
            }
            _ => {}
        }
        if self.refer_to.is_some() && self.stage != ReceiptStage::NotCompetent {
            return Err(ValidationError::rule(
                "refer_to",
                "only for RECEIPT_STAGE_NOT_COMPETENT",
            ));
        }
        if self.refer_to.as_ref() == Some(&self.receiver) {
            return Err(ValidationError::rule(
                "refer_to",
                "must name another agency than the receiver",
            ));
        }
        let forwarded = self.stage == ReceiptStage::Forwarded;
        if forwarded && self.forwarded_to.is_empty() {
            return Err(ValidationError::missing("forwarded_to"));
        }
        if !forwarded && !self.forwarded_to.is_empty() {
            return Err(ValidationError::rule(
                "forwarded_to",
                "only for RECEIPT_STAGE_FORWARDED",
            ));
        }
        crate::wire::unique(&self.forwarded_to, "forwarded_to", |a| a)?;
        Ok(())
    }
}

impl TryFrom<pb::Receipt> for Receipt {
    type Error = ValidationError;
    fn try_from(r: pb::Receipt) -> Result<Self, Self::Error> {
        let body_sha256 = <[u8; 32]>::try_from(r.body_sha256.as_slice()).map_err(|_| {
            ValidationError::invalid(
                "body_sha256",
                "a SHA-256 digest of 32 bytes",
                format!("{} bytes", r.body_sha256.len()),
            )
        })?;
        let receipt = Receipt {
            notice_id: NoticeId::from_wire(&r.notice_id).at("notice_id")?,
            body_sha256,
            receiver: AgencyId::from_wire(&r.receiver).at("receiver")?,
            stage: ReceiptStage::from_wire(r.stage).at("stage")?,
            at: Timestamp::from_wire(r.at.as_ref()).at("at")?,
            note: text::optional(r.note, SHORT).at("note")?,
            reason: Text::optional(r.reason).at("reason")?,
            refer_to: if r.refer_to.is_empty() {
                None
            } else {
                Some(AgencyId::parse(&r.refer_to).at("refer_to")?)
            },
            forwarded_to: crate::wire::parse_list(r.forwarded_to, "forwarded_to", |a| {
                AgencyId::parse(&a)
            })?,
        };
        receipt.validate()?;
        Ok(receipt)
    }
}

impl From<Receipt> for pb::Receipt {
    fn from(r: Receipt) -> Self {
        pb::Receipt {
            notice_id: r.notice_id.as_bytes().to_vec(),
            body_sha256: r.body_sha256.to_vec(),
            receiver: r.receiver.to_string(),
            stage: r.stage.to_wire(),
            at: Some(r.at.into()),
            note: text::or_empty(r.note),
            reason: text::text_to_wire(r.reason),
            refer_to: r.refer_to.map(|a| a.to_string()).unwrap_or_default(),
            forwarded_to: crate::wire::to_strings(&r.forwarded_to),
        }
    }
}

/// A receipt as it travels: exact bytes, signer, key and signature.
#[derive(Clone, PartialEq, Eq)]
pub struct SignedReceipt {
    receipt: Vec<u8>,
    signer: AgencyId,
    key_id: KeyId,
    signature: [u8; 64],
}

impl std::fmt::Debug for SignedReceipt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignedReceipt")
            .field("signer", &self.signer)
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

impl SignedReceipt {
    /// Signs `receipt` as its receiver.
    ///
    /// # Errors
    /// When the receipt breaks a rule a receiver would check.
    pub fn sign(receipt: &Receipt, key: &SigningKey) -> Result<Self, ValidationError> {
        let wire = pb::Receipt::from(receipt.clone());
        Receipt::try_from(wire.clone())?;
        let bytes = wire.encode_to_vec();
        let message = pae(
            RECEIPT_PAYLOAD_TYPE,
            receipt.receiver.as_str(),
            key.key_id().as_str(),
            &bytes,
        );
        Ok(SignedReceipt {
            signature: key.sign(&message),
            receipt: bytes,
            signer: receipt.receiver.clone(),
            key_id: key.key_id().clone(),
        })
    }

    /// The signer.
    pub fn signer(&self) -> &AgencyId {
        &self.signer
    }

    /// The key id.
    pub fn key_id(&self) -> &KeyId {
        &self.key_id
    }

    /// The signature.
    pub fn signature(&self) -> &[u8; 64] {
        &self.signature
    }

    /// The PAE the signature covers.
    pub fn signed_message(&self) -> Vec<u8> {
        pae(
            RECEIPT_PAYLOAD_TYPE,
            self.signer.as_str(),
            self.key_id.as_str(),
            &self.receipt,
        )
    }

    /// Decodes the receipt inside without checking the signature.
    ///
    /// # Errors
    /// Bad encoding or invalid fields.
    pub fn receipt_unverified(&self) -> Result<Receipt, ValidationError> {
        crate::encoding::check(&self.receipt, ".lintas.v1.Receipt").map_err(|e| match e {
            crate::encoding::EncodingError::Invalid(v) => v,
            crate::encoding::EncodingError::UnknownKind(_) => {
                ValidationError::rule("", "a receipt has no notice kinds")
            }
        })?;
        let wire = crate::wire::decode::<pb::Receipt>(&self.receipt)?;
        Receipt::try_from(wire)
    }

    /// Encodes as protobuf bytes.
    pub fn encode(&self) -> Vec<u8> {
        pb::SignedReceipt::from(self.clone()).encode_to_vec()
    }

    /// Decodes from protobuf bytes.
    ///
    /// # Errors
    /// Bad encoding or malformed fields.
    pub fn decode(bytes: &[u8]) -> Result<Self, ValidationError> {
        let wire = crate::wire::decode::<pb::SignedReceipt>(bytes)?;
        SignedReceipt::try_from(wire)
    }
}

impl TryFrom<pb::SignedReceipt> for SignedReceipt {
    type Error = ValidationError;
    fn try_from(s: pb::SignedReceipt) -> Result<Self, Self::Error> {
        let signature = crate::wire::signature(&s.signature)?;
        if s.receipt.is_empty() {
            return Err(ValidationError::missing("receipt"));
        }
        Ok(SignedReceipt {
            receipt: s.receipt,
            signer: AgencyId::from_wire(&s.signer).at("signer")?,
            key_id: KeyId::from_wire(&s.key_id).at("key_id")?,
            signature,
        })
    }
}

impl From<SignedReceipt> for pb::SignedReceipt {
    fn from(s: SignedReceipt) -> Self {
        pb::SignedReceipt {
            receipt: s.receipt,
            signer: s.signer.to_string(),
            key_id: s.key_id.to_string(),
            signature: s.signature.to_vec(),
        }
    }
}

/// Each receiver's furthest stage among `receipts`, with when it was
/// reached, in receiver order. Stages count in lifecycle order: ACCEPTED,
/// DELIVERED, READ, ACTION_STARTED, ACTION_COMPLETED, then DECLINED or
/// NOT_COMPETENT (which end a receiver's handling), then ERASED; FORWARDED
/// is an event beside the lifecycle and never a receiver's furthest stage.
pub fn furthest_stages(receipts: &[Receipt]) -> Vec<(AgencyId, ReceiptStage, Timestamp)> {
    let mut furthest: std::collections::BTreeMap<&AgencyId, (ReceiptStage, Timestamp)> =
        std::collections::BTreeMap::new();
    for r in receipts
        .iter()
        .filter(|r| r.stage != ReceiptStage::Forwarded)
    {
        let entry = furthest.entry(&r.receiver).or_insert((r.stage, r.at));
        if r.stage.to_wire() > entry.0.to_wire() {
            *entry = (r.stage, r.at);
        }
    }
    furthest
        .into_iter()
        .map(|(a, (s, t))| (a.clone(), s, t))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::AgencyId;

    fn wire(stage: ReceiptStage) -> pb::Receipt {
        pb::Receipt {
            notice_id: vec![1; 32],
            body_sha256: vec![2; 32],
            receiver: "KHM.MOI.ATHP".into(),
            stage: stage.to_wire(),
            at: Some(prost_types::Timestamp {
                seconds: 1_795_924_800,
                nanos: 0,
            }),
            ..Default::default()
        }
    }

    fn reason() -> Option<pb::Text> {
        Some(pb::Text {
            text: "Not our jurisdiction: the compound is in Koh Kong".into(),
            language: "en".into(),
            translations: vec![],
        })
    }

    fn path(r: pb::Receipt) -> Result<Receipt, String> {
        Receipt::try_from(r).map_err(|e| e.path)
    }

    #[test]
    fn stages_carry_what_they_need_and_nothing_else() {
        for stage in ReceiptStage::ALL {
            let r = wire(*stage);
            let needs_reason = matches!(stage, ReceiptStage::Declined | ReceiptStage::NotCompetent);
            let needs_list = *stage == ReceiptStage::Forwarded;
            match (needs_reason, needs_list) {
                (true, _) => assert_eq!(path(r), Err("reason".into()), "{stage:?}"),
                (_, true) => assert_eq!(path(r), Err("forwarded_to".into()), "{stage:?}"),
                _ => assert!(path(r).is_ok(), "{stage:?}"),
            }
        }

        let mut declined = wire(ReceiptStage::Declined);
        declined.reason = reason();
        assert!(path(declined.clone()).is_ok());
        declined.refer_to = "KHM.MOI.KOHKONG".into();
        assert_eq!(path(declined), Err("refer_to".into()));

        let mut not_competent = wire(ReceiptStage::NotCompetent);
        not_competent.reason = reason();
        not_competent.refer_to = "KHM.MOI.KOHKONG".into();
        assert!(path(not_competent.clone()).is_ok());
        not_competent.refer_to = "KHM.MOI.ATHP".into();
        assert_eq!(path(not_competent), Err("refer_to".into()));

        let mut read = wire(ReceiptStage::Read);
        read.reason = reason();
        assert_eq!(path(read), Err("reason".into()));

        let mut forwarded = wire(ReceiptStage::Forwarded);
        forwarded.forwarded_to = vec!["THA.IMM".into(), "THA.IMM".into()];
        assert_eq!(path(forwarded.clone()), Err("forwarded_to[1]".into()));
        forwarded.forwarded_to.pop();
        let ok = path(forwarded).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            ok.forwarded_to,
            vec![AgencyId::parse("THA.IMM").unwrap_or_else(|e| panic!("{e}"))]
        );

        let mut accepted = wire(ReceiptStage::Accepted);
        accepted.forwarded_to = vec!["THA.IMM".into()];
        assert_eq!(path(accepted), Err("forwarded_to".into()));
    }

    #[test]
    fn a_receipt_encoding_a_singular_field_twice_is_refused() {
        let mut bytes = pb::Receipt::from(
            Receipt::try_from(wire(ReceiptStage::Read)).unwrap_or_else(|e| panic!("{e}")),
        )
        .encode_to_vec();
        bytes.extend_from_slice(&[0x20, 0x04]); // stage again: ACTION_STARTED
        let signed = SignedReceipt {
            receipt: bytes,
            signer: AgencyId::parse("KHM.MOI.ATHP").unwrap_or_else(|e| panic!("{e}")),
            key_id: KeyId::parse("KHM.MOI.ATHP#1").unwrap_or_else(|e| panic!("{e}")),
            signature: [0; 64],
        };
        assert_eq!(
            signed.receipt_unverified().map_err(|e| e.path),
            Err("stage".into())
        );
    }

    #[test]
    fn furthest_stages_follow_the_lifecycle_not_the_alphabet() {
        let at = |s: i64| Timestamp::from_unix(1_800_000_000 + s).unwrap_or_else(|e| panic!("{e}"));
        let khm = AgencyId::parse("KHM.MOI.ATHP").unwrap_or_else(|e| panic!("{e}"));
        let tha = AgencyId::parse("THA.RTP.ATPD").unwrap_or_else(|e| panic!("{e}"));
        let id = NoticeId::from_bytes([1; 32]);
        let r =
            |who: &AgencyId, stage, s| Receipt::for_digest(id, [0; 32], who.clone(), stage, at(s));
        let receipts = [
            r(&khm, ReceiptStage::Read, 3),
            r(&khm, ReceiptStage::Accepted, 1),
            r(&khm, ReceiptStage::ActionCompleted, 9),
            r(&khm, ReceiptStage::Forwarded, 10),
            r(&khm, ReceiptStage::Delivered, 2),
            r(&tha, ReceiptStage::Accepted, 1),
            r(&tha, ReceiptStage::Declined, 5),
        ];
        assert_eq!(
            furthest_stages(&receipts),
            vec![
                (khm.clone(), ReceiptStage::ActionCompleted, at(9)),
                (tha.clone(), ReceiptStage::Declined, at(5)),
            ]
        );
    }
}
