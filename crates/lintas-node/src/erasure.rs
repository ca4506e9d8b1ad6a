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

use lintas_core::disclosure::parts;
use lintas_core::ids::CaseId;
use lintas_core::ids::{AgencyId, NoticeId, RecordId};
use lintas_core::notice::{Handling, NoticeBody, NoticeContent, Withdrawal};
use lintas_core::receipt::{Receipt, SignedReceipt};
use lintas_core::retention::Tombstone;
use lintas_core::signing::SignedNotice;
use lintas_core::text::Text;
use lintas_core::time::Timestamp;
use lintas_core::vocab::ReceiptStage;
use lintas_core::vocab::{Priority, Tlp};
use lintas_store::{Direction, OutboxEntry, OutboxPayload, StoredNotice, Transaction};

use crate::{Engine, Refusal};

/// What a holder does when a withdrawal arrives: decided before the write,
/// applied in the transaction that stores the withdrawal.
#[derive(Debug, Clone)]
pub(crate) struct Erasure {
    withdrawn: NoticeId,
    /// What becomes of the withdrawn notice's record.
    change: Change,
    /// The notice the ERASED receipt is for: the withdrawn notice, or for
    /// a person's erasure the withdrawal itself.
    confirmed: NoticeId,
    receipt: Vec<u8>,
    report: OutboxEntry,
    relays: Vec<OutboxEntry>,
    /// The files the withdrawn notice named: removed after the write
    /// unless another notice held here names them.
    pub(crate) attachments: Vec<[u8; 32]>,
}

/// One notice a person's erasure removed parts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PersonErasure {
    /// The notice the persons' parts were erased from.
    pub notice: NoticeId,
    /// The withdrawal that erases them (its erasure status lists the
    /// holders' confirmations).
    pub withdrawal: NoticeId,
}

/// What an erasure does to the withdrawn notice's record.
#[derive(Debug, Clone)]
enum Change {
    /// Nothing left to remove (retention removed it, or this holder was
    /// given none of the persons' parts).
    Nothing,
    /// The whole envelope goes; a tombstone stays.
    Purge(StoredNotice),
    /// The named persons' disclosures go; the notice stays.
    Redact(StoredNotice),
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
        withdrawal_envelope: &SignedNotice,
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
        if !w.is_partial()
            && receipts
                .iter()
                .any(|(stage, receiver, _)| *stage == erased && receiver == me.as_str())
        {
            return None;
        }
        let (change, confirmed, digest, attachments) = if w.is_partial() {
            let change = redacted(&stored, &w.persons).map_or(Change::Nothing, Change::Redact);
            let digest = lintas_core::receipt::body_digest(withdrawal_envelope);
            (change, withdrawal_id, digest, Vec::new())
        } else if stored.is_purged() {
            let digest = Tombstone::decode(&stored.tombstone).ok()?.body_sha256;
            (Change::Nothing, w.withdrawn, digest, Vec::new())
        } else {
            let envelope = SignedNotice::decode(&stored.envelope).ok()?;
            let (_, body) = envelope.open_body().ok()?;
            let tombstone = Tombstone::of(w.withdrawn, &envelope, &body, now, 0);
            let mut purged = stored.clone();
            purged.envelope = Vec::new();
            purged.tombstone = tombstone.encode();
            let files = body.attachments.iter().map(|a| a.sha256).collect();
            (
                Change::Purge(purged),
                w.withdrawn,
                tombstone.body_sha256,
                files,
            )
        };
        let receipt = Receipt::for_digest(confirmed, digest, me.clone(), ReceiptStage::Erased, now);
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
            change,
            confirmed,
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
        match &erasure.change {
            Change::Nothing => {}
            Change::Purge(record) => txn.purge(&erasure.withdrawn, record)?,
            Change::Redact(record) => txn.redact(&erasure.withdrawn, record)?,
        }
        let mut queued = Vec::with_capacity(erasure.relays.len() + 1);
        if let Some(Some(report)) = txn.store_receipt(
            &erasure.confirmed,
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

    /// Erases `persons` (victim ids) from case `case`: for every notice
    /// this agency sent in the case that holds a protected part of one of
    /// them, submits a withdrawal naming them (docs/PROTOCOL.md section
    /// 14.7.1), addressed to that notice's recipients; each holder removes
    /// those parts and confirms, and this node's own copy loses them too.
    /// Returns each erased notice with its withdrawal, for
    /// [`Engine::erasure_status`].
    ///
    /// # Errors
    /// No persons, or none of this agency's notices in the case holds a
    /// part of theirs (`not_found`); store failure; as [`Engine::submit`].
    pub async fn erase_persons(
        &self,
        case: &CaseId,
        persons: &[RecordId],
        reason: Text,
        now: Timestamp,
    ) -> Result<Vec<PersonErasure>, Refusal> {
        if persons.is_empty() {
            return Err(Refusal::Invalid(lintas_core::ValidationError::missing(
                "persons",
            )));
        }
        let mut targets = Vec::new();
        for (id, stored) in self.store().case_notices(case.as_str())? {
            if stored.direction != Direction::Sent as i32 || stored.is_purged() {
                continue;
            }
            let Some((_, body)) = SignedNotice::decode(&stored.envelope)
                .ok()
                .and_then(|e| e.open_body().ok())
            else {
                continue;
            };
            let concerned = parts(&body)
                .iter()
                .any(|p| p.victim_id.as_ref().is_some_and(|v| persons.contains(v)));
            if concerned {
                targets.push((id, body.recipients.clone()));
            }
        }
        if targets.is_empty() {
            return Err(Refusal::NotFound(format!(
                "no notice this agency sent in case {case} holds a protected part of {}",
                persons
                    .iter()
                    .map(RecordId::as_str)
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        let mut erased = Vec::with_capacity(targets.len());
        for (notice, recipients) in targets {
            let mut body = NoticeBody::new(
                self.agency().clone(),
                0,
                now,
                now.plus_seconds(30 * 86_400),
                recipients,
                Handling::new(Tlp::AmberStrict, Priority::High),
                NoticeContent::Withdrawal(Withdrawal::of_persons(
                    notice,
                    persons.to_vec(),
                    reason.clone(),
                )),
            );
            body.case_id = Some(case.clone());
            let withdrawal = self.submit(body, now).await?.id;
            erased.push(PersonErasure { notice, withdrawal });
        }
        // This node's own copies lost the parts: give the space back.
        self.after_erasure(std::collections::BTreeSet::new());
        Ok(erased)
    }

    /// Whether `notice`, sent from here, is a person's erasure and `peer`
    /// holds the notice it erases from (a recipient forwarded it there):
    /// such a holder confirms the erasure straight to this node.
    pub(crate) fn holds_erased_persons(&self, notice: &StoredNotice, peer: &AgencyId) -> bool {
        persons_erased_from(notice).is_some_and(|t| {
            self.forwarded_holders(&t)
                .is_ok_and(|h| h.iter().any(|a| a == peer.as_str()))
        })
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
    /// ERASED receipt. For a person's erasure (a withdrawal naming
    /// persons), `id` is that withdrawal: the holders of the notice it
    /// erases from, and their receipts for the withdrawal.
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
        // For a person's erasure: those the erased notice was forwarded to.
        let held = persons_erased_from(&notice).unwrap_or(id);
        for h in self.forwarded_holders(&held)? {
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

/// `stored` without the disclosures of `persons`' protected parts, if it
/// has any (`None` when there is nothing of theirs to remove).
pub(crate) fn redacted(stored: &StoredNotice, persons: &[RecordId]) -> Option<StoredNotice> {
    if stored.is_purged() {
        return None;
    }
    let envelope = SignedNotice::decode(&stored.envelope).ok()?;
    let (_, body) = envelope.open_body().ok()?;
    let theirs: Vec<_> = parts(&body)
        .into_iter()
        .filter(|p| p.disclosed && p.victim_id.as_ref().is_some_and(|v| persons.contains(v)))
        .filter_map(|p| p.commitment)
        .collect();
    if theirs.is_empty() {
        return None;
    }
    let keep: Vec<_> = envelope
        .disclosures()
        .iter()
        .map(|d| d.commitment())
        .filter(|c| !theirs.contains(c))
        .collect();
    let mut record = stored.clone();
    record.envelope = envelope.view(&keep).encode();
    Some(record)
}

/// The notice a person's erasure `notice` (a withdrawal naming persons,
/// sent or received) erases from.
fn persons_erased_from(notice: &StoredNotice) -> Option<NoticeId> {
    if notice.kind != lintas_core::vocab::NoticeKind::Withdrawal.to_wire() {
        return None;
    }
    let (_, body) = SignedNotice::decode(&notice.envelope)
        .ok()?
        .open_body()
        .ok()?;
    match body.content {
        NoticeContent::Withdrawal(w) if w.is_partial() => Some(w.withdrawn),
        _ => None,
    }
}
