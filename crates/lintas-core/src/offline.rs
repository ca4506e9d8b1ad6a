//! Offline bundles (docs/PROTOCOL.md section 12): what a node hands a peer
//! without a link, as one signed file, and the peer's answers coming back
//! the same way. This module reads, writes, signs and opens them; the node
//! engine decides what goes in and what an import does.

use prost::Message;

use crate::error::{At, ValidationError};
use crate::ids::AgencyId;
use crate::keys::SigningKey;
use crate::pb;
use crate::receipt::SignedReceipt;
use crate::roster::{TrustedRoster, VerifyError};
use crate::signing::{OFFLINE_BUNDLE_PAYLOAD_TYPE, SignedNotice};
use crate::time::Timestamp;
use crate::transparency::checkpoint::Signed;

/// The `format` of an offline bundle.
pub const OFFLINE_FORMAT: &str = "lintas.v1.OfflineBundle";

/// Something a node hands a peer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OfflineItem {
    /// A notice for the peer to accept.
    Notice(SignedNotice),
    /// A receipt for a notice the peer sent.
    Receipt(SignedReceipt),
}

/// A node's answer to one item of an earlier bundle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OfflineAnswer {
    /// Accepted (or accepted before): the signed receipt.
    Accepted {
        /// The receipt.
        receipt: SignedReceipt,
        /// Whether it had the notice already.
        duplicate: bool,
    },
    /// The receipt was recorded.
    ReceiptRecorded,
    /// Refused, with the protocol's reason.
    Refused {
        /// `lintas-reason`.
        reason: String,
        /// For people.
        message: String,
    },
}

/// An offline bundle's content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfflineBundle {
    /// The writing node's agency.
    pub from: AgencyId,
    /// The agency it is for.
    pub to: AgencyId,
    /// When written.
    pub created_at: Timestamp,
    /// Items with the writer's references, in outbox order.
    pub items: Vec<(u64, OfflineItem)>,
    /// Answers to the items of earlier bundles the other way, by their
    /// references.
    pub answers: Vec<(u64, OfflineAnswer)>,
}

/// Why a bundle cannot be opened.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OfflineError {
    /// Not a bundle, or a malformed field (with its path).
    #[error("{0}")]
    Invalid(#[from] ValidationError),
    /// The writer's signature does not verify.
    #[error("the bundle's signature: {0}")]
    Signature(#[from] VerifyError),
    /// Written for another agency.
    #[error("the bundle is for {to}, not {me}")]
    NotForMe {
        /// Its addressee.
        to: AgencyId,
        /// This node's agency.
        me: AgencyId,
    },
}

impl OfflineError {
    /// The protocol's reason for refusing the import.
    pub fn reason(&self) -> &'static str {
        match self {
            OfflineError::Invalid(_) => "invalid_argument",
            OfflineError::Signature(e) => e.reason(),
            OfflineError::NotForMe { .. } => "not_a_recipient",
        }
    }
}

fn item_to_wire(item: OfflineItem) -> pb::BatchItem {
    pb::BatchItem {
        item: Some(match item {
            OfflineItem::Notice(n) => pb::batch_item::Item::Notice(n.into()),
            OfflineItem::Receipt(r) => pb::batch_item::Item::Receipt(r.into()),
        }),
    }
}

fn answer_to_wire(answer: OfflineAnswer) -> pb::BatchAnswer {
    pb::BatchAnswer {
        answer: Some(match answer {
            OfflineAnswer::Accepted { receipt, duplicate } => {
                pb::batch_answer::Answer::Delivered(pb::DeliverResponse {
                    receipt: Some(receipt.into()),
                    duplicate,
                })
            }
            OfflineAnswer::ReceiptRecorded => {
                pb::batch_answer::Answer::ReceiptRecorded(pb::ReportReceiptResponse {})
            }
            OfflineAnswer::Refused { reason, message } => {
                pb::batch_answer::Answer::Refused(pb::BatchRefusal {
                    code: 0,
                    reason,
                    message,
                    field: String::new(),
                })
            }
        }),
    }
}

fn item_from_wire(item: pb::BatchItem) -> Result<OfflineItem, ValidationError> {
    match item.item {
        Some(pb::batch_item::Item::Notice(n)) => SignedNotice::try_from(n)
            .map(OfflineItem::Notice)
            .at("notice"),
        Some(pb::batch_item::Item::Receipt(r)) => SignedReceipt::try_from(r)
            .map(OfflineItem::Receipt)
            .at("receipt"),
        None => Err(ValidationError::missing("item")),
    }
}

fn answer_from_wire(answer: pb::BatchAnswer) -> Result<OfflineAnswer, ValidationError> {
    match answer.answer {
        Some(pb::batch_answer::Answer::Delivered(d)) => {
            let receipt = d
                .receipt
                .ok_or_else(|| ValidationError::missing("receipt"))
                .and_then(SignedReceipt::try_from)
                .at("delivered")?;
            Ok(OfflineAnswer::Accepted {
                receipt,
                duplicate: d.duplicate,
            })
        }
        Some(pb::batch_answer::Answer::ReceiptRecorded(_)) => Ok(OfflineAnswer::ReceiptRecorded),
        Some(pb::batch_answer::Answer::Refused(r)) => Ok(OfflineAnswer::Refused {
            reason: r.reason,
            message: r.message,
        }),
        None => Err(ValidationError::missing("answer")),
    }
}

impl OfflineBundle {
    /// The signed file, signed by `from` with `key`.
    pub fn seal(self, key: &SigningKey) -> Vec<u8> {
        let from = self.from.clone();
        let wire = pb::OfflineBundle {
            format: OFFLINE_FORMAT.to_owned(),
            from: self.from.to_string(),
            to: self.to.to_string(),
            created_at: Some(self.created_at.into()),
            items: self
                .items
                .into_iter()
                .map(|(r#ref, item)| pb::OfflineItem {
                    r#ref,
                    item: Some(item_to_wire(item)),
                })
                .collect(),
            answers: self
                .answers
                .into_iter()
                .map(|(r#ref, answer)| pb::OfflineAnswer {
                    r#ref,
                    answer: Some(answer_to_wire(answer)),
                })
                .collect(),
        };
        let signed = Signed::sign(
            OFFLINE_BUNDLE_PAYLOAD_TYPE,
            wire.encode_to_vec(),
            &from,
            key,
        );
        pb::SignedOfflineBundle {
            bundle: signed.bytes,
            signer: signed.signer.to_string(),
            key_id: signed.key_id.to_string(),
            signature: signed.signature.to_vec(),
        }
        .encode_to_vec()
    }

    /// Opens a file written for `me`: decodes it, checks every field, and
    /// verifies the writer's signature (the writer is its `from`, with a key
    /// the roster gives it, valid at `created_at`).
    ///
    /// # Errors
    /// [`OfflineError`]: malformed (with the field path), a signature that
    /// does not verify, or a bundle for another agency.
    pub fn open(
        file: &[u8],
        me: &AgencyId,
        roster: &TrustedRoster,
        now: Timestamp,
    ) -> Result<OfflineBundle, OfflineError> {
        let signed = crate::wire::decode::<pb::SignedOfflineBundle>(file)?;
        let outer = Signed::read(
            signed.bundle,
            &signed.signer,
            &signed.key_id,
            &signed.signature,
            "bundle",
        )?;
        let wire = crate::wire::decode::<pb::OfflineBundle>(&outer.bytes).at("bundle")?;
        if wire.format != OFFLINE_FORMAT {
            return Err(ValidationError::invalid(
                "bundle.format",
                "\"lintas.v1.OfflineBundle\"",
                &wire.format,
            )
            .into());
        }
        let from = AgencyId::from_wire(&wire.from).at("bundle.from")?;
        let to = AgencyId::from_wire(&wire.to).at("bundle.to")?;
        let created_at = Timestamp::from_wire(wire.created_at.as_ref()).at("bundle.created_at")?;
        outer.verify(OFFLINE_BUNDLE_PAYLOAD_TYPE, &from, created_at, roster, now)?;
        if &to != me {
            return Err(OfflineError::NotForMe { to, me: me.clone() });
        }
        let items = wire
            .items
            .into_iter()
            .enumerate()
            .map(|(i, it)| {
                it.item
                    .ok_or_else(|| ValidationError::missing("item"))
                    .and_then(item_from_wire)
                    .map(|item| (it.r#ref, item))
                    .at_item("bundle.items", i)
            })
            .collect::<Result<_, _>>()?;
        let answers = wire
            .answers
            .into_iter()
            .enumerate()
            .map(|(i, a)| {
                a.answer
                    .ok_or_else(|| ValidationError::missing("answer"))
                    .and_then(answer_from_wire)
                    .map(|answer| (a.r#ref, answer))
                    .at_item("bundle.answers", i)
            })
            .collect::<Result<_, _>>()?;
        Ok(OfflineBundle {
            from,
            to,
            created_at,
            items,
            answers,
        })
    }
}
