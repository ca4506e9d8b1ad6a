//! Receiving from a peer: notices and receipts that arrive together are
//! verified together (batch signature verification) and stored together
//! (one durable transaction), and each still gets its own answer.
//!
//! The steps for a notice (docs/PROTOCOL.md, section 9.3):
//! 1. a duplicate (same id, same envelope bytes) delivered by a party
//!    entitled to it is answered with the original ACCEPTED receipt;
//! 2. verification against the trusted roster;
//! 3. the delivering peer must be the sender, or a recipient relaying a
//!    notice that may be forwarded; the notice must be addressed to us;
//! 4. the history rules;
//! 5. stored with its signed ACCEPTED receipt and inbox entry, durably,
//!    before anything is answered.
//!
//! For a receipt (section 9.4): verified; its signer must be the peer; it
//! must be for a notice sent from here to that peer, over the same bytes.

use lintas_core::ids::{AgencyId, NoticeId};
use lintas_core::notice::AttachmentRef;
use lintas_core::receipt::{Receipt, SignedReceipt, body_digest};
use lintas_core::roster::VerifiedNotice;
use lintas_core::signing::SignedNotice;
use lintas_core::time::Timestamp;
use lintas_core::vocab::ReceiptStage;
use lintas_store::{Direction, ReceiveOutcome, StoreError, StoredNotice};
use tracing::{info, warn};

use crate::engine::stored;
use crate::withheld::Withheld;
use crate::{Engine, Refusal};

/// Something a peer hands this node.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Inbound {
    /// A signed notice to accept.
    Notice(SignedNotice),
    /// A later-stage receipt for a notice this node sent.
    Receipt(SignedReceipt),
}

/// The answer to one accepted [`Inbound`] item.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Accepted {
    /// The notice is stored; this is the signed ACCEPTED receipt (the
    /// original one for a duplicate).
    Notice {
        /// The receipt.
        receipt: SignedReceipt,
        /// Whether the notice had been received before.
        duplicate: bool,
    },
    /// The receipt is recorded.
    Receipt,
}

/// What is done with each item once the checks are over.
enum Plan {
    Refused(Refusal),
    Duplicate(SignedReceipt),
    Store {
        id: NoticeId,
        record: Box<StoredNotice>,
        receipt: Box<SignedReceipt>,
        withheld: Withheld,
        attachments: Vec<AttachmentRef>,
        erasure: Option<Box<crate::erasure::Erasure>>,
    },
    Receipt {
        id: NoticeId,
        stage: u8,
        receiver: String,
        bytes: Vec<u8>,
    },
}

impl Engine {
    /// Receives what `peer` (an agency authenticated by the transport)
    /// delivers: the answers come in the same order as the items, and the
    /// accepted ones are stored in that order (inbox cursors follow it).
    pub async fn receive(
        &self,
        peer: &AgencyId,
        items: Vec<Inbound>,
        now: Timestamp,
    ) -> Vec<Result<Accepted, Refusal>> {
        self.inner.metrics.batches_received.inc();
        if self
            .scheduler()
            .heard_from(peer.as_str(), tokio::time::Instant::now())
        {
            self.inner.outbox_wake.notify_one();
        }
        // Verifying a batch and reading the store for duplicates and history
        // is blocking work: it runs off the async runtime.
        let count = items.len();
        let planner = self.clone();
        let caller = peer.clone();
        let plans = tokio::task::spawn_blocking(move || planner.plan(&caller, items, now))
            .await
            .unwrap_or_else(|_| {
                (0..count)
                    .map(|_| Plan::Refused(Refusal::Store(StoreError::GroupAborted)))
                    .collect()
            });
        self.store_plans(peer, plans.into_iter().enumerate().collect())
            .await
    }

    /// Checks every item; nothing is written.
    fn plan(&self, peer: &AgencyId, items: Vec<Inbound>, now: Timestamp) -> Vec<Plan> {
        let mut plans: Vec<Option<Plan>> = items.iter().map(|_| None).collect();
        let mut notices = Vec::new();
        let mut notice_at = Vec::new();
        let mut receipts = Vec::new();
        let mut receipt_at = Vec::new();
        for (i, item) in items.into_iter().enumerate() {
            match item {
                Inbound::Notice(n) => match self.duplicate_answer(peer, &n) {
                    Ok(Some(receipt)) => plans[i] = Some(Plan::Duplicate(receipt)),
                    Ok(None) => {
                        notices.push(n);
                        notice_at.push(i);
                    }
                    Err(e) => plans[i] = Some(Plan::Refused(e)),
                },
                Inbound::Receipt(r) => {
                    receipts.push(r);
                    receipt_at.push(i);
                }
            }
        }
        if !notices.is_empty() {
            let verified = self.roster().verify_notices(&notices, now);
            for (i, result) in notice_at.into_iter().zip(verified) {
                plans[i] = Some(match result {
                    Ok(v) => self.authorise_notice(peer, v, now),
                    Err(e) => Plan::Refused(Refusal::Rejected(e)),
                });
            }
        }
        if !receipts.is_empty() {
            let verified = self.roster().verify_receipts(&receipts, now);
            for ((i, signed), result) in receipt_at.into_iter().zip(receipts).zip(verified) {
                plans[i] = Some(match result {
                    Ok(r) => self.authorise_receipt(peer, &signed, r),
                    Err(e) => Plan::Refused(Refusal::Rejected(e)),
                });
            }
        }
        plans
            .into_iter()
            .map(|p| p.unwrap_or(Plan::Refused(Refusal::Store(StoreError::GroupAborted))))
            .collect()
    }

    /// The original receipt, if this exact notice was accepted before and
    /// `peer` is entitled to it.
    fn duplicate_answer(
        &self,
        peer: &AgencyId,
        notice: &SignedNotice,
    ) -> Result<Option<SignedReceipt>, Refusal> {
        let Some(claimed) = notice.claimed_id() else {
            return Ok(None);
        };
        let Some(existing) = self.store().notice(&claimed)? else {
            return Ok(None);
        };
        let entitled = existing.sender == peer.as_str()
            || existing.recipients.iter().any(|r| r == peer.as_str());
        if !entitled || existing.direction != Direction::Received as i32 {
            return Ok(None);
        }
        if existing.envelope != notice.encode() {
            return Ok(None);
        }
        let me = self.agency().as_str();
        let accepted = ReceiptStage::Accepted.to_wire() as u8;
        let original = self
            .store()
            .receipts(&claimed)?
            .into_iter()
            .find(|(stage, receiver, _)| *stage == accepted && receiver == me);
        match original {
            Some((_, _, bytes)) => SignedReceipt::decode(&bytes).map(Some).map_err(|e| {
                Refusal::Store(StoreError::Corrupt {
                    what: format!("receipt of {claimed}"),
                    detail: e.to_string(),
                })
            }),
            None => Ok(None),
        }
    }

    fn authorise_notice(&self, peer: &AgencyId, verified: VerifiedNotice, now: Timestamp) -> Plan {
        let me = self.agency();
        let body = &verified.body;
        let relayed = &body.sender != peer;
        if relayed
            && !(body.handling.may_forward && body.recipients.contains(peer))
            && !self.relayed_withdrawal(peer, body)
        {
            return Plan::Refused(Refusal::SenderNotPeer {
                what: "notice",
                signer: body.sender.to_string(),
                peer: peer.to_string(),
            });
        }
        if &body.sender == me {
            // Our own notice relayed back to us: nothing to accept, and not
            // a damaged store either.
            return Plan::Refused(Refusal::NotARecipient(format!(
                "notice {} was sent by {me} itself",
                verified.id
            )));
        }
        if !body.recipients.contains(me) && !relayed {
            return Plan::Refused(Refusal::NotARecipient(format!(
                "notice {} is not addressed to {me}",
                verified.id
            )));
        }
        // Only once the caller is entitled to deliver it: these checks look
        // at other notices.
        if let Err(e) = self.check_history(body) {
            return Plan::Refused(e.into());
        }
        let mut receipt = Receipt::new(
            verified.id,
            &verified.envelope,
            me.clone(),
            ReceiptStage::Accepted,
            now,
        );
        receipt.note = relayed.then(|| format!("forwarded by {peer}"));
        match SignedReceipt::sign(&receipt, &self.inner.key) {
            Ok(receipt) => Plan::Store {
                id: verified.id,
                record: Box::new(stored(&verified, Direction::Received, peer, now)),
                receipt: Box::new(receipt),
                withheld: crate::withheld::carried(&verified.body),
                attachments: verified.body.attachments.clone(),
                erasure: self.erasure_for(verified.id, &verified.envelope, &verified.body, now),
            },
            Err(e) => Plan::Refused(Refusal::invalid(e, "receipt")),
        }
    }

    fn authorise_receipt(&self, peer: &AgencyId, signed: &SignedReceipt, receipt: Receipt) -> Plan {
        if signed.signer() != peer {
            return Plan::Refused(Refusal::SenderNotPeer {
                what: "receipt",
                signer: signed.signer().to_string(),
                peer: peer.to_string(),
            });
        }
        let id = receipt.notice_id;
        // An absent notice and one the peer was not sent get the same
        // answer, so that nobody can probe which notices exist.
        let not_yours = || {
            Plan::Refused(Refusal::NotARecipient(format!(
                "{peer} is not a recipient of a notice {id} sent from here"
            )))
        };
        let notice = match self.store().notice(&id) {
            Ok(Some(n)) => n,
            Ok(None) => return not_yours(),
            Err(e) => return Plan::Refused(e.into()),
        };
        let holder = notice.recipients.iter().any(|r| r == peer.as_str())
            || self
                .forwarded_holders(&id)
                .is_ok_and(|h| h.iter().any(|a| a == peer.as_str()))
            || self.holds_erased_persons(&notice, peer);
        if notice.direction != Direction::Sent as i32 || !holder {
            return not_yours();
        }
        let digest = if notice.is_purged() {
            lintas_core::retention::Tombstone::decode(&notice.tombstone)
                .map(|t| t.body_sha256)
                .map_err(|e| e.to_string())
        } else {
            SignedNotice::decode(&notice.envelope)
                .map(|e| body_digest(&e))
                .map_err(|e| e.to_string())
        };
        match digest {
            Ok(digest) if digest == receipt.body_sha256 => Plan::Receipt {
                id,
                stage: receipt.stage.to_wire() as u8,
                receiver: peer.to_string(),
                bytes: signed.encode(),
            },
            Ok(_) => Plan::Refused(Refusal::ReceiptDigestMismatch),
            Err(e) => Plan::Refused(Refusal::Store(StoreError::Corrupt {
                what: format!("notice {id}"),
                detail: e.to_string(),
            })),
        }
    }

    /// Writes every accepted item in one group transaction and answers.
    async fn store_plans(
        &self,
        peer: &AgencyId,
        plans: Vec<(usize, Plan)>,
    ) -> Vec<Result<Accepted, Refusal>> {
        let me = self.agency().to_string();
        let accepted_stage = ReceiptStage::Accepted.to_wire() as u8;
        let mut answers: Vec<Option<Result<Accepted, Refusal>>> =
            plans.iter().map(|_| None).collect();
        let mut writes = Vec::new();
        for (i, plan) in plans {
            match plan {
                Plan::Refused(refusal) => {
                    warn!(%peer, reason = refusal.reason(), error = %refusal, "refused");
                    self.count_refusal(refusal.reason());
                    answers[i] = Some(Err(refusal));
                }
                Plan::Duplicate(receipt) => {
                    self.inner.metrics.notices_duplicate.inc();
                    answers[i] = Some(Ok(Accepted::Notice {
                        receipt,
                        duplicate: true,
                    }));
                }
                write => writes.push((i, write)),
            }
        }
        if writes.is_empty() {
            return answers
                .into_iter()
                .map(UnwrapAnswer::unwrap_or_default_refusal)
                .collect();
        }
        let wants_attachments = writes
            .iter()
            .any(|(_, p)| matches!(p, Plan::Store { attachments, .. } if !attachments.is_empty()));
        let erased_files: std::collections::BTreeSet<[u8; 32]> = writes
            .iter()
            .filter_map(|(_, p)| match p {
                Plan::Store {
                    erasure: Some(e), ..
                } => Some(e.attachments.iter().copied()),
                _ => None,
            })
            .flatten()
            .collect();
        let records: Vec<_> = writes
            .iter()
            .map(|(_, plan)| match plan {
                Plan::Store {
                    id,
                    record,
                    receipt,
                    withheld,
                    attachments,
                    erasure,
                } => WriteItem::Notice(
                    *id,
                    record.clone(),
                    receipt.encode(),
                    withheld.clone(),
                    attachments.clone(),
                    erasure.clone(),
                ),
                Plan::Receipt {
                    id,
                    stage,
                    receiver,
                    bytes,
                } => WriteItem::Receipt(*id, *stage, receiver.clone(), bytes.clone()),
                _ => WriteItem::Nothing,
            })
            .collect();
        let result = self
            .inner
            .commit
            .write(move |txn| {
                let mut outcomes = Vec::with_capacity(records.len());
                let mut queued = Vec::new();
                for record in &records {
                    outcomes.push(match record {
                        WriteItem::Notice(id, notice, receipt, withheld, attachments, erasure) => {
                            let outcome =
                                txn.record_received(id, notice, &me, accepted_stage, receipt)?;
                            crate::withheld::record(txn, withheld)?;
                            if matches!(outcome, ReceiveOutcome::New { .. }) {
                                Engine::want_attachments(txn, id, &notice.sender, attachments)?;
                                if let Some(erasure) = erasure {
                                    queued.extend(Engine::apply_erasure(txn, &me, erasure)?);
                                }
                            }
                            Some(outcome)
                        }
                        WriteItem::Receipt(id, stage, receiver, bytes) => {
                            txn.store_receipt(id, *stage, receiver, bytes, None)?;
                            None
                        }
                        WriteItem::Nothing => None,
                    });
                }
                Ok((outcomes, queued))
            })
            .await;
        if wants_attachments && result.is_ok() {
            self.inner.attachment_wake.notify_one();
        }
        match result {
            Ok((outcomes, queued)) => {
                if !queued.is_empty() {
                    info!(
                        entries = queued.len(),
                        "withdrawn notice erased; its sender is told"
                    );
                    self.queue(&queued);
                    self.after_erasure(erased_files);
                }
                let mut newest = None;
                for ((i, plan), outcome) in writes.into_iter().zip(outcomes) {
                    answers[i] = Some(match (plan, outcome) {
                        (
                            Plan::Store {
                                id,
                                receipt,
                                erasure,
                                ..
                            },
                            Some(ReceiveOutcome::New { cursor }),
                        ) => {
                            info!(notice = %id, %peer, cursor, "notice accepted");
                            let metrics = &self.inner.metrics;
                            metrics.notices_accepted.inc();
                            metrics.count_receipt("given", ReceiptStage::Accepted);
                            if erasure.is_some() {
                                metrics.count_receipt("given", ReceiptStage::Erased);
                            }
                            newest = Some(cursor);
                            Ok(Accepted::Notice {
                                receipt: *receipt,
                                duplicate: false,
                            })
                        }
                        (Plan::Store { id, .. }, Some(ReceiveOutcome::Duplicate { receipt })) => {
                            self.inner.metrics.notices_duplicate.inc();
                            SignedReceipt::decode(&receipt)
                                .map(|receipt| Accepted::Notice {
                                    receipt,
                                    duplicate: true,
                                })
                                .map_err(|e| {
                                    Refusal::Store(StoreError::Corrupt {
                                        what: format!("receipt of {id}"),
                                        detail: e.to_string(),
                                    })
                                })
                        }
                        (
                            Plan::Receipt {
                                id, stage, bytes, ..
                            },
                            _,
                        ) => {
                            info!(notice = %id, %peer, "receipt recorded");
                            if let (Ok(receipt), Ok(stage)) = (
                                SignedReceipt::decode(&bytes),
                                ReceiptStage::from_wire(i32::from(stage)),
                            ) {
                                self.publish_receipt(crate::ReceiptEvent {
                                    notice_id: id,
                                    receiver: peer.to_string(),
                                    stage,
                                    receipt,
                                });
                            }
                            Ok(Accepted::Receipt)
                        }
                        _ => Err(Refusal::Store(StoreError::GroupAborted)),
                    });
                }
                if let Some(cursor) = newest {
                    self.inner.inbox.send_if_modified(|c| {
                        let moved = cursor > *c;
                        *c = (*c).max(cursor);
                        moved
                    });
                }
            }
            Err(e) => {
                // Logged where it happened (the group commit).
                tracing::debug!(error = %e, "store failure while receiving");
                let e = std::sync::Arc::new(e);
                for (i, _) in writes {
                    answers[i] = Some(Err(Refusal::Store(StoreError::Shared(e.clone()))));
                }
            }
        }
        answers
            .into_iter()
            .map(UnwrapAnswer::unwrap_or_default_refusal)
            .collect()
    }
}

enum WriteItem {
    Notice(
        NoticeId,
        Box<StoredNotice>,
        Vec<u8>,
        Withheld,
        Vec<AttachmentRef>,
        Option<Box<crate::erasure::Erasure>>,
    ),
    Receipt(NoticeId, u8, String, Vec<u8>),
    Nothing,
}

trait UnwrapAnswer {
    fn unwrap_or_default_refusal(self) -> Result<Accepted, Refusal>;
}

impl UnwrapAnswer for Option<Result<Accepted, Refusal>> {
    fn unwrap_or_default_refusal(self) -> Result<Accepted, Refusal> {
        self.unwrap_or(Err(Refusal::Store(StoreError::GroupAborted)))
    }
}
