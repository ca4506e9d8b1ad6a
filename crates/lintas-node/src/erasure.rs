//! Erasure on withdrawal (docs/PROTOCOL.md section 14.7), in one place.
//!
//! When a holder of a notice receives its sender's withdrawal of it, the
//! holder, in the transaction that stores the withdrawal:
//!
//! 1. removes the withdrawn notice's personal data, keeping a tombstone
//!    (as retention does, with a retention period of 0);
//! 2. signs an ERASED receipt for the withdrawn notice and queues it to its
//!    sender;
//! 3. passes the withdrawal on to every agency it had forwarded the notice
//!    to, which accept it from this holder (it delivered them the notice)
//!    and do the same.
//!
//! The sender lists who has and has not confirmed with
//! [`Engine::erasure_status`].

use lintas_core::ids::{AgencyId, NoticeId};
use lintas_core::notice::{NoticeBody, NoticeContent};
use lintas_core::receipt::{Receipt, SignedReceipt};
use lintas_core::retention::Tombstone;
use lintas_core::signing::SignedNotice;
use lintas_core::time::Timestamp;
use lintas_core::vocab::ReceiptStage;
use lintas_store::{Direction, OutboxEntry, OutboxPayload, StoredNotice, Transaction};

use crate::{Engine, Refusal};

/// What a holder does when a withdrawal arrives: decided before the write,
/// applied in the transaction that stores the withdrawal.
#[derive(Debug, Clone)]
pub(crate) struct Erasure {
    withdrawn: NoticeId,
    /// The withdrawn notice's record with its envelope removed; `None` if
    /// retention removed it already.
    purged: Option<StoredNotice>,
    receipt: Vec<u8>,
    report: OutboxEntry,
    relays: Vec<OutboxEntry>,
    /// The files the withdrawn notice named: removed after the write
    /// unless another notice held here names them.
    pub(crate) attachments: Vec<[u8; 32]>,
}

/// Whether someone holding a notice confirmed its erasure.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ErasureConfirmation {
    /// The holder: a recipient, or an agency a recipient forwarded it to.
    pub holder: String,
    /// Whether its signed ERASED receipt arrived.
    pub confirmed: bool,
}

impl Engine {
    /// What this node must do on storing `withdrawal` (its id
    /// `withdrawal_id`), if it holds the notice withdrawn and has not erased
    /// it yet.
    pub(crate) fn erasure_for(
        &self,
        withdrawal_id: NoticeId,
        withdrawal: &NoticeBody,
        now: Timestamp,
    ) -> Option<Box<Erasure>> {
        let NoticeContent::Withdrawal(w) = &withdrawal.content else {
            return None;
        };
        let stored = self.store().notice(&w.withdrawn).ok()??;
        if stored.direction != Direction::Received as i32
            || stored.sender != withdrawal.sender.as_str()
        {
            return None;
        }
        let me = self.agency();
        let erased = ReceiptStage::Erased.to_wire() as u8;
        let receipts = self.store().receipts(&w.withdrawn).ok()?;
        if receipts
            .iter()
            .any(|(stage, receiver, _)| *stage == erased && receiver == me.as_str())
        {
            return None;
        }
        let (purged, body_sha256, attachments) = if stored.is_purged() {
            let digest = Tombstone::decode(&stored.tombstone).ok()?.body_sha256;
            (None, digest, Vec::new())
        } else {
            let envelope = SignedNotice::decode(&stored.envelope).ok()?;
            let (_, body) = envelope.open_body().ok()?;
            let tombstone = Tombstone::of(w.withdrawn, &envelope, &body, now, 0);
            let mut purged = stored.clone();
            purged.envelope = Vec::new();
            purged.tombstone = tombstone.encode();
            let files = body.attachments.iter().map(|a| a.sha256).collect();
            (Some(purged), tombstone.body_sha256, files)
        };
        let receipt = Receipt::for_digest(
            w.withdrawn,
            body_sha256,
            me.clone(),
            ReceiptStage::Erased,
            now,
        );
        let receipt = SignedReceipt::sign(&receipt, &self.inner.key)
            .ok()?
            .encode();
        let entry = |recipient: &str, payload: OutboxPayload| OutboxEntry {
            seq: 0,
            recipient: recipient.to_owned(),
            case_id: stored.case_id.clone(),
            priority: 2,
            attempts: 0,
            next_attempt_ms: 0,
            last_error: String::new(),
            expires_at: withdrawal.expires_at.unix_seconds(),
            payload: Some(payload),
            disclosed: Vec::new(),
        };
        let forwarded = ReceiptStage::Forwarded.to_wire() as u8;
        let relays = receipts
            .iter()
            .filter(|(stage, receiver, _)| *stage == forwarded && receiver == me.as_str())
            .filter_map(|(_, _, bytes)| {
                SignedReceipt::decode(bytes).ok()?.receipt_unverified().ok()
            })
            .flat_map(|r| r.forwarded_to)
            .map(|to| {
                entry(
                    to.as_str(),
                    OutboxPayload::Notice(withdrawal_id.as_bytes().to_vec()),
                )
            })
            .collect();
        Some(Box::new(Erasure {
            withdrawn: w.withdrawn,
            purged,
            report: entry(&stored.sender, OutboxPayload::Receipt(receipt.clone())),
            receipt,
            relays,
            attachments,
        }))
    }

    /// Applies `erasure` in `txn`; returns the outbox entries it queued.
    pub(crate) fn apply_erasure(
        txn: &Transaction<'_>,
        me: &str,
        erasure: &Erasure,
    ) -> Result<Vec<OutboxEntry>, lintas_store::StoreError> {
        if let Some(purged) = &erasure.purged {
            txn.purge(&erasure.withdrawn, purged)?;
        }
        let mut queued = Vec::with_capacity(erasure.relays.len() + 1);
        if let Some(Some(report)) = txn.store_receipt(
            &erasure.withdrawn,
            ReceiptStage::Erased.to_wire() as u8,
            me,
            &erasure.receipt,
            Some(erasure.report.clone()),
        )? {
            queued.push(report);
        }
        for relay in &erasure.relays {
            queued.push(txn.enqueue(relay.clone())?);
        }
        Ok(queued)
    }

    /// Whether a withdrawal relayed by `peer` (not its sender) may be
    /// accepted: `peer` delivered this node the withdrawn notice (it
    /// forwarded it here), so it passes the withdrawal on.
    pub(crate) fn relayed_withdrawal(&self, peer: &AgencyId, body: &NoticeBody) -> bool {
        let NoticeContent::Withdrawal(w) = &body.content else {
            return false;
        };
        matches!(
            self.store().notice(&w.withdrawn),
            Ok(Some(n)) if n.direction == Direction::Received as i32
                && n.delivered_by == peer.as_str()
                && n.sender == body.sender.as_str()
        )
    }

    /// The agencies holding notice `id`, which this node sent, beyond its
    /// recipients: those its recipients forwarded it to (from their signed
    /// FORWARDED receipts).
    pub(crate) fn forwarded_holders(&self, id: &NoticeId) -> Result<Vec<String>, Refusal> {
        let forwarded = ReceiptStage::Forwarded.to_wire() as u8;
        let mut holders = Vec::new();
        for (_, _, bytes) in self
            .store()
            .receipts(id)?
            .into_iter()
            .filter(|(stage, _, _)| *stage == forwarded)
        {
            if let Ok(r) = SignedReceipt::decode(&bytes).and_then(|s| s.receipt_unverified()) {
                for to in r.forwarded_to {
                    if !holders.contains(&to.to_string()) {
                        holders.push(to.to_string());
                    }
                }
            }
        }
        Ok(holders)
    }

    /// For notice `id`, which this node's agency sent (and withdrew): every
    /// agency holding it (its recipients, then those they forwarded it
    /// to) and whether that agency confirmed the erasure with a signed
    /// ERASED receipt.
    ///
    /// # Errors
    /// No notice `id` sent from here, or a store failure.
    pub fn erasure_status(&self, id: NoticeId) -> Result<Vec<ErasureConfirmation>, Refusal> {
        let notice = self
            .store()
            .notice(&id)?
            .filter(|n| n.direction == Direction::Sent as i32)
            .ok_or_else(|| Refusal::NotFound(format!("no notice {id} sent by this node")))?;
        let erased = ReceiptStage::Erased.to_wire() as u8;
        let confirmed: Vec<String> = self
            .store()
            .receipts(&id)?
            .into_iter()
            .filter(|(stage, _, _)| *stage == erased)
            .map(|(_, receiver, _)| receiver)
            .collect();
        let mut holders = notice.recipients.clone();
        for h in self.forwarded_holders(&id)? {
            if !holders.contains(&h) {
                holders.push(h);
            }
        }
        Ok(holders
            .into_iter()
            .map(|holder| ErasureConfirmation {
                confirmed: confirmed.contains(&holder),
                holder,
            })
            .collect())
    }
}
