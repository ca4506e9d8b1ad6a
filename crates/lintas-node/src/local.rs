//! What the agency's own case system asks of its node: sign and send a
//! notice, acknowledge a received one (a signed receipt goes back to its
//! sender), answer a mutual-assistance request.

use lintas_core::ValidationError;
use lintas_core::ids::{AgencyId, NoticeId};
use lintas_core::notice::{AssistanceResponse, Handling, NoticeBody, NoticeContent};
use lintas_core::receipt::{Receipt, SignedReceipt};
use lintas_core::signing::SignedNotice;
use lintas_core::text::Text;
use lintas_core::time::Timestamp;
use lintas_core::vocab::{AssistanceOutcome, NoticeKind, Priority, ReceiptStage, Tlp};
use lintas_store::{Direction, OutboxEntry, OutboxPayload, StoreError, StoredNotice};
use tracing::info;

use crate::engine::stored;
use crate::{Engine, Refusal};

/// Outbox priority of a notice: lower goes first.
pub(crate) fn priority_rank(priority: Priority) -> u32 {
    match priority {
        Priority::Urgent => 1,
        Priority::High => 2,
        Priority::Routine => 3,
    }
}

/// A notice this node signed and queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Submitted {
    /// Its id.
    pub id: NoticeId,
    /// Its sequence number.
    pub sequence: u64,
}

impl Engine {
    /// Signs `body` as this node's agency with the next sequence number and
    /// queues it to every recipient, durably. The sender and sequence in
    /// `body` are replaced. It is checked against the roster as a recipient
    /// would check it, so a notice every recipient would refuse is never
    /// queued.
    ///
    /// # Errors
    /// An invalid body, a refusal by the roster's rules or the history
    /// rules, or a store failure.
    pub async fn submit(&self, body: NoticeBody, now: Timestamp) -> Result<Submitted, Refusal> {
        self.submit_once(body, None, now).await
    }

    /// As [`Engine::submit`], at most once per idempotency key: a later
    /// call with the same key (a case system retrying after a lost answer
    /// or a node restart) returns the first submission's id and sequence
    /// number and signs nothing, whatever its body says. A key is 1-128
    /// characters from `A-Z a-z 0-9 . _ - / :`.
    ///
    /// # Errors
    /// A malformed key (field `idempotency_key`), or as
    /// [`Engine::submit`].
    pub async fn submit_once(
        &self,
        mut body: NoticeBody,
        idempotency_key: Option<&str>,
        now: Timestamp,
    ) -> Result<Submitted, Refusal> {
        let key = idempotency_key.map(check_key).transpose()?;
        if let Some(key) = &key
            && let Some((id, sequence)) = self.store().submission(key)?
        {
            return Ok(Submitted {
                id: NoticeId::from_bytes(id),
                sequence,
            });
        }
        body.sender = self.agency().clone();
        self.check_withheld(&body).map_err(|r| match r {
            Refusal::Invalid(e) => Refusal::Invalid(e.within("draft")),
            other => other,
        })?;
        self.check_attachments(&body)?;
        let sequence = self.next_sequence().await?;
        body.sequence = sequence;
        let (id, signed) =
            SignedNotice::sign(&body, &self.inner.key).map_err(|e| Refusal::invalid(e, "draft"))?;
        let verified = self
            .roster()
            .check_own_notice(&signed, &self.inner.key, now)?;
        self.check_history(&verified.body)?;
        let priority = priority_rank(body.handling.priority);
        let mut record = stored(&verified, Direction::Sent, self.agency(), now);
        record.given = self.views(&verified.body, &verified.body.recipients);
        let withheld = crate::withheld::carried(&verified.body);
        // A person's erasure: the sender's own copy loses their parts too,
        // in the same transaction (docs/PROTOCOL.md section 14.7.1).
        let own_copy = match &verified.body.content {
            lintas_core::notice::NoticeContent::Withdrawal(w) if w.is_partial() => self
                .store()
                .notice(&w.withdrawn)?
                .filter(|n| n.direction == lintas_store::Direction::Sent as i32)
                .and_then(|n| crate::erasure::redacted(&n, &w.persons))
                .map(|record| (w.withdrawn, record)),
            _ => None,
        };
        let outcome = self
            .inner
            .commit
            .write(move |txn| {
                txn.note_sequence(sequence)?;
                if let Some(key) = &key {
                    // A retry that raced this call past the first check.
                    if let Some(first) = txn.submission(key)? {
                        return Ok(Err(first));
                    }
                    txn.record_submission(key, &id, sequence)?;
                }
                crate::withheld::record(txn, &withheld)?;
                if let Some((withdrawn, redacted)) = &own_copy {
                    txn.redact(withdrawn, redacted)?;
                }
                txn.record_sent(&id, &record, priority).map(Ok)
            })
            .await?;
        let queued = match outcome {
            Ok(queued) => queued,
            Err((first, first_sequence)) => {
                return Ok(Submitted {
                    id: NoticeId::from_bytes(first),
                    sequence: first_sequence,
                });
            }
        };
        info!(notice = %id, kind = body.kind().wire_name(), sequence, recipients = body.recipients.len(), "notice signed and queued");
        self.inner.metrics.notices_sent.inc();
        self.queue(&queued);
        Ok(Submitted { id, sequence })
    }

    /// Adds queued outbox entries to the schedule and wakes the delivery
    /// loop.
    pub(crate) fn queue(&self, entries: &[OutboxEntry]) {
        if entries.is_empty() {
            return;
        }
        let len = {
            let mut scheduler = self.scheduler();
            for entry in entries {
                scheduler.enqueue(entry);
            }
            scheduler.len()
        };
        self.inner
            .metrics
            .outbox_entries
            .set(i64::try_from(len).unwrap_or(i64::MAX));
        self.inner.outbox_wake.notify_one();
    }

    /// A notice this node received, decoded.
    pub(crate) fn received(
        &self,
        id: NoticeId,
    ) -> Result<(StoredNotice, SignedNotice, NoticeBody), Refusal> {
        let notice = self
            .store()
            .notice(&id)?
            .filter(|n| n.direction == Direction::Received as i32)
            .ok_or_else(|| Refusal::NotFound(format!("no received notice {id}")))?;
        if notice.is_purged() {
            return Err(Refusal::NotFound(format!(
                "notice {id}: its personal data was removed under the retention rules"
            )));
        }
        let unreadable = |detail: String| {
            Refusal::Store(StoreError::Corrupt {
                what: format!("notice {id}"),
                detail,
            })
        };
        let envelope =
            SignedNotice::decode(&notice.envelope).map_err(|e| unreadable(e.to_string()))?;
        let (_, body) = envelope
            .open_body()
            .map_err(|e| unreadable(e.to_string()))?;
        Ok((notice, envelope, body))
    }

    /// Records that the case system reached `stage` for a received notice
    /// (see [`Engine::acknowledge_with`]), with an optional note.
    ///
    /// # Errors
    /// As [`Engine::acknowledge_with`].
    pub async fn acknowledge(
        &self,
        id: NoticeId,
        stage: ReceiptStage,
        note: Option<String>,
        now: Timestamp,
    ) -> Result<SignedReceipt, Refusal> {
        let mut ack = Acknowledgement::new(stage);
        ack.note = note;
        self.acknowledge_with(id, ack, now).await
    }

    /// Records how the case system has handled a received notice
    /// (delivered, read, action started or completed, declined, not
    /// competent) and queues the signed receipt to its sender.
    /// Acknowledging a stage again returns a new receipt but queues nothing
    /// more.
    ///
    /// # Errors
    /// ACCEPTED or FORWARDED (the node signs those itself), a reason missing
    /// for DECLINED or NOT_COMPETENT (or given for another stage), an unknown
    /// notice, or a store failure.
    pub async fn acknowledge_with(
        &self,
        id: NoticeId,
        ack: Acknowledgement,
        now: Timestamp,
    ) -> Result<SignedReceipt, Refusal> {
        let stage = ack.stage;
        if !stage.reported_by_case_system() {
            return Err(Refusal::Invalid(ValidationError::rule(
                "stage",
                "the node itself signs ACCEPTED and FORWARDED; acknowledge DELIVERED, READ, ACTION_STARTED, ACTION_COMPLETED, DECLINED or NOT_COMPETENT",
            )));
        }
        let (stored, envelope, body) = self.received(id)?;
        let mut receipt = Receipt::new(id, &envelope, self.agency().clone(), stage, now);
        receipt.note = ack.note;
        receipt.reason = ack.reason;
        receipt.refer_to = ack.refer_to;
        receipt.validate().map_err(|e| Refusal::invalid(e, ""))?;
        let signed =
            SignedReceipt::sign(&receipt, &self.inner.key).map_err(|e| Refusal::invalid(e, ""))?;
        let bytes = signed.encode();
        let report = OutboxEntry {
            seq: 0,
            recipient: body.sender.to_string(),
            case_id: stored.case_id.clone(),
            priority: 2,
            attempts: 0,
            next_attempt_ms: 0,
            last_error: String::new(),
            expires_at: body.expires_at.unix_seconds(),
            payload: Some(OutboxPayload::Receipt(bytes.clone())),
            disclosed: Vec::new(),
        };
        let receiver = self.agency().to_string();
        let stage_byte = stage.to_wire() as u8;
        let queued = self
            .inner
            .commit
            .write(move |txn| {
                txn.store_receipt(&id, stage_byte, &receiver, &bytes, Some(report.clone()))
            })
            .await?;
        self.inner.metrics.count_receipt("given", stage);
        if let Some(Some(entry)) = queued {
            info!(notice = %id, stage = stage.wire_name(), "acknowledged; receipt queued for the sender");
            self.queue(&[entry]);
        }
        Ok(signed)
    }

    /// Answers a received mutual-assistance request with a signed
    /// assistance response to its sender (same case; the request's TLP
    /// unless `tlp` is given).
    ///
    /// # Errors
    /// Not a received assistance request, or as [`Engine::submit`].
    pub async fn answer_assistance(
        &self,
        request: NoticeId,
        outcome: AssistanceOutcome,
        answer: Text,
        tlp: Option<Tlp>,
        now: Timestamp,
    ) -> Result<Submitted, Refusal> {
        let (_, _, asked) = self.received(request)?;
        if asked.kind() != NoticeKind::AssistanceRequest {
            return Err(Refusal::Invalid(ValidationError::rule(
                "request",
                "is not a mutual-assistance request",
            )));
        }
        let mut body = NoticeBody::new(
            self.agency().clone(),
            0,
            now,
            now.plus_seconds(30 * 86_400),
            vec![asked.sender.clone()],
            Handling::new(tlp.unwrap_or(asked.handling.tlp), Priority::High),
            NoticeContent::AssistanceResponse(AssistanceResponse::new(request, outcome, answer)),
        );
        body.case_id = asked.case_id.clone();
        self.submit(body, now).await
    }
}

impl Engine {
    /// Forwards a received notice, unchanged, to agencies that are not
    /// among its recipients (docs/PROTOCOL.md section 5.5), and tells its
    /// sender with a signed FORWARDED receipt naming them. Only a notice
    /// whose sender allowed it (`may_forward`, never under TLP_RED or
    /// TLP_AMBER_STRICT) may be forwarded.
    ///
    /// # Errors
    /// A notice that may not be forwarded, an agency that is not in the
    /// roster or already has it, an expired or unknown notice, a store
    /// failure.
    pub async fn forward(
        &self,
        id: NoticeId,
        to: Vec<AgencyId>,
        now: Timestamp,
    ) -> Result<SignedReceipt, Refusal> {
        let (stored, envelope, body) = self.received(id)?;
        if !body.handling.may_forward {
            return Err(Refusal::NotForwardable(format!(
                "{} marked notice {id} {} without may_forward",
                body.sender,
                body.handling.tlp.wire_name()
            )));
        }
        if now >= body.expires_at {
            return Err(Refusal::NotForwardable(format!("notice {id} has expired")));
        }
        if to.is_empty() {
            return Err(Refusal::Invalid(ValidationError::missing("to")));
        }
        let forwarded = ReceiptStage::Forwarded.to_wire() as u8;
        let me = self.agency().to_string();
        if self
            .store()
            .receipts(&id)?
            .iter()
            .any(|(stage, receiver, _)| *stage == forwarded && *receiver == me)
        {
            return Err(Refusal::NotForwardable(format!(
                "notice {id} was already forwarded by {me}: a recipient forwards a notice once, to every agency at once"
            )));
        }
        for (i, agency) in to.iter().enumerate() {
            let problem = if self.roster().roster().agency(agency).is_none() {
                Some("is not an agency in the roster")
            } else if agency == &body.sender
                || agency == self.agency()
                || body.recipients.contains(agency)
            {
                Some("already has the notice: its sender, a recipient or this agency")
            } else if to[..i].contains(agency) {
                Some("is named twice")
            } else {
                None
            };
            if let Some(problem) = problem {
                return Err(Refusal::Invalid(
                    ValidationError::rule("", problem).within_item("to", i),
                ));
            }
        }
        let mut receipt = Receipt::new(
            id,
            &envelope,
            self.agency().clone(),
            ReceiptStage::Forwarded,
            now,
        );
        receipt.forwarded_to = to.clone();
        let signed =
            SignedReceipt::sign(&receipt, &self.inner.key).map_err(|e| Refusal::invalid(e, ""))?;
        let bytes = signed.encode();
        let entry = |recipient: String, payload: OutboxPayload, priority: u32| OutboxEntry {
            seq: 0,
            recipient,
            case_id: stored.case_id.clone(),
            priority,
            attempts: 0,
            next_attempt_ms: 0,
            last_error: String::new(),
            expires_at: body.expires_at.unix_seconds(),
            payload: Some(payload),
            disclosed: Vec::new(),
        };
        let priority = priority_rank(body.handling.priority);
        // The forwarder passes on what its own rules allow, of what it was
        // given.
        let views = self.views(&body, &to);
        let given = views.clone();
        let copies: Vec<OutboxEntry> = views
            .into_iter()
            .map(|view| OutboxEntry {
                disclosed: view.commitments,
                ..entry(
                    view.recipient,
                    OutboxPayload::Notice(id.as_bytes().to_vec()),
                    priority,
                )
            })
            .collect();
        let report = entry(
            body.sender.to_string(),
            OutboxPayload::Receipt(bytes.clone()),
            2,
        );
        let receiver = self.agency().to_string();
        let stage_byte = ReceiptStage::Forwarded.to_wire() as u8;
        let queued = self
            .inner
            .commit
            .write(move |txn| {
                let mut queued = Vec::with_capacity(copies.len() + 1);
                for copy in &copies {
                    queued.push(txn.enqueue(copy.clone())?);
                }
                txn.record_given(&id, &given)?;
                if let Some(Some(r)) =
                    txn.store_receipt(&id, stage_byte, &receiver, &bytes, Some(report.clone()))?
                {
                    queued.push(r);
                }
                Ok(queued)
            })
            .await?;
        self.inner
            .metrics
            .count_receipt("given", ReceiptStage::Forwarded);
        info!(notice = %id, to = to.len(), "forwarded; the sender is told");
        self.queue(&queued);
        Ok(signed)
    }
}

/// Checks an idempotency key's form.
fn check_key(key: &str) -> Result<String, Refusal> {
    let ok = (1..=128).contains(&key.len())
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-/:".contains(&b));
    if ok {
        Ok(key.to_owned())
    } else {
        Err(Refusal::Invalid(ValidationError::invalid(
            "idempotency_key",
            "1-128 characters from A-Z a-z 0-9 . _ - / :",
            key,
        )))
    }
}

/// What a case system reports about a received notice.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Acknowledgement {
    /// The stage reached.
    pub stage: ReceiptStage,
    /// A short note.
    pub note: Option<String>,
    /// Why (required for declined and not competent).
    pub reason: Option<Text>,
    /// The agency to try instead (not competent).
    pub refer_to: Option<AgencyId>,
}

impl Acknowledgement {
    /// `stage` with nothing else.
    pub fn new(stage: ReceiptStage) -> Self {
        Acknowledgement {
            stage,
            note: None,
            reason: None,
            refer_to: None,
        }
    }

    /// A refusal to act, with the reason.
    pub fn declined(reason: Text) -> Self {
        Acknowledgement {
            reason: Some(reason),
            ..Self::new(ReceiptStage::Declined)
        }
    }

    /// Not this agency's competence, with the reason and, if known, the
    /// agency to try.
    pub fn not_competent(reason: Text, refer_to: Option<AgencyId>) -> Self {
        Acknowledgement {
            reason: Some(reason),
            refer_to,
            ..Self::new(ReceiptStage::NotCompetent)
        }
    }
}
