//! Offline exchange (docs/PROTOCOL.md section 12): what waits in the
//! outbox for one peer, written into a signed bundle file; a bundle from a
//! peer imported through the same accept path as a live delivery, its
//! answers applied to the outbox as a live answer would be; and the reply
//! (answers, and what waits here for that peer) written the same way.

use std::collections::BTreeMap;

use lintas_core::ids::AgencyId;
use lintas_core::offline::{OfflineAnswer, OfflineBundle, OfflineItem};
use lintas_core::time::Timestamp;
use lintas_store::OutboxEntry;

use crate::delivery::{EntryResult, judge_answer, prepare};
use crate::transport::{Answer, Outbound};
use crate::{Accepted, Engine, Inbound, Refusal};

/// Items a bundle may carry (a bundle over it is refused whole).
pub const MAX_OFFLINE_ITEMS: usize = 100_000;

/// Items handed to the accept path at a time during an import (as one
/// `DeliverBatch` of the default limit would be).
const IMPORT_CHUNK: usize = 256;

/// A bundle written for a peer.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct OfflineExport {
    /// The signed file.
    pub file: Vec<u8>,
    /// Items (notices and receipts) in it.
    pub items: usize,
    /// Answers in it.
    pub answers: usize,
}

/// What importing a bundle did.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct OfflineImport {
    /// The peer that wrote it.
    pub from: Option<AgencyId>,
    /// Notices accepted now.
    pub accepted: usize,
    /// Notices this node had already (live, or from another bundle).
    pub duplicates: usize,
    /// Receipts recorded.
    pub receipts: usize,
    /// Items refused (each answered with its reason in the reply).
    pub refused: usize,
    /// Answers to this node's earlier bundles applied to its outbox.
    pub answers_applied: usize,
    /// The reply for the peer: answers to every item, and what waits here
    /// for it.
    pub reply: OfflineExport,
}

fn to_offline(item: Outbound) -> Option<OfflineItem> {
    match item {
        Outbound::Notice(n) => Some(OfflineItem::Notice(n)),
        Outbound::Receipt(r) => Some(OfflineItem::Receipt(r)),
    }
}

fn answer_of(result: Result<Accepted, Refusal>) -> OfflineAnswer {
    match result {
        Ok(Accepted::Notice { receipt, duplicate }) => {
            OfflineAnswer::Accepted { receipt, duplicate }
        }
        Ok(_) => OfflineAnswer::ReceiptRecorded,
        Err(refusal) => OfflineAnswer::Refused {
            reason: refusal.reason().to_owned(),
            message: refusal.public_message(),
        },
    }
}

impl Engine {
    /// Writes what waits in the outbox for `peer` (in outbox order, each
    /// case's order kept; expired entries left out) into a signed bundle,
    /// with `answers` to the peer's earlier bundle. The entries stay in the
    /// outbox until their answers come back (live or in the peer's reply):
    /// a notice that also goes live is recognised by the peer as one.
    ///
    /// # Errors
    /// `peer` is this node's own agency or not in the roster, or a store
    /// failure.
    pub fn export_offline(
        &self,
        peer: &AgencyId,
        answers: Vec<(u64, OfflineAnswer)>,
        now: Timestamp,
    ) -> Result<OfflineExport, Refusal> {
        if peer == self.agency() || self.roster().roster().agency(peer).is_none() {
            return Err(Refusal::NotFound(format!(
                "{peer} is not a peer in the roster"
            )));
        }
        let mut entries: Vec<OutboxEntry> = Vec::new();
        let mut after = 0;
        loop {
            let page = self.store().outbox_after(after, 1024)?;
            let Some(last) = page.last() else { break };
            after = last.seq;
            entries.extend(page.into_iter().filter(|e| {
                e.recipient == peer.as_str()
                    && (e.expires_at == 0 || now.unix_seconds() < e.expires_at)
            }));
            if entries.len() > MAX_OFFLINE_ITEMS {
                break;
            }
        }
        entries.truncate(MAX_OFFLINE_ITEMS);
        let notices = self.notices_of(entries.iter())?;
        let items: Vec<(u64, OfflineItem)> = entries
            .iter()
            .filter_map(|e| {
                let (item, _, _) = prepare(e, &notices)?;
                Some((e.seq, to_offline(item)?))
            })
            .collect();
        let (count, answered) = (items.len(), answers.len());
        let file = OfflineBundle {
            from: self.agency().clone(),
            to: peer.clone(),
            created_at: now,
            items,
            answers,
        }
        .seal(&self.inner.key);
        tracing::info!(%peer, items = count, answers = answered, bytes = file.len(), "offline bundle written");
        Ok(OfflineExport {
            file,
            items: count,
            answers: answered,
        })
    }

    /// Imports a bundle a peer wrote for this node: checks its signature,
    /// applies its answers to this node's outbox (as live answers would be),
    /// hands its items to the accept path in order (the same checks,
    /// receipts and duplicate recognition as a live delivery), and writes
    /// the reply. `progress` is told (items done, items in all) as it goes.
    ///
    /// # Errors
    /// A bundle that does not open (malformed, bad signature, for another
    /// agency: nothing is imported), too many items, or a store failure.
    pub async fn import_offline(
        &self,
        file: &[u8],
        now: Timestamp,
        mut progress: impl FnMut(usize, usize),
    ) -> Result<OfflineImport, Refusal> {
        let bundle =
            OfflineBundle::open(file, self.agency(), &self.roster(), now).map_err(|e| match e {
                lintas_core::offline::OfflineError::Invalid(v) => Refusal::Invalid(v),
                lintas_core::offline::OfflineError::Signature(v) => Refusal::Rejected(v),
                other => Refusal::NotARecipient(other.to_string()),
            })?;
        if bundle.items.len() > MAX_OFFLINE_ITEMS || bundle.answers.len() > MAX_OFFLINE_ITEMS {
            return Err(Refusal::Invalid(lintas_core::ValidationError::invalid(
                "bundle.items",
                "at most 100000 items and 100000 answers",
                format!(
                    "{} items, {} answers",
                    bundle.items.len(),
                    bundle.answers.len()
                ),
            )));
        }
        let from = bundle.from.clone();
        let total = bundle.items.len();
        let mut outcome = OfflineImport {
            from: Some(from.clone()),
            ..OfflineImport::default()
        };
        outcome.answers_applied = self
            .apply_offline_answers(&from, bundle.answers, now)
            .await?;
        let mut answers = Vec::with_capacity(total);
        let mut done = 0;
        progress(done, total);
        let mut items = bundle.items.into_iter().peekable();
        while items.peek().is_some() {
            let chunk: Vec<(u64, OfflineItem)> = items.by_ref().take(IMPORT_CHUNK).collect();
            let refs: Vec<u64> = chunk.iter().map(|(r, _)| *r).collect();
            let inbound = chunk
                .into_iter()
                .map(|(_, item)| match item {
                    OfflineItem::Notice(n) => Inbound::Notice(n),
                    OfflineItem::Receipt(r) => Inbound::Receipt(r),
                })
                .collect();
            let results = self.receive(&from, inbound, now).await;
            for (r, result) in refs.into_iter().zip(results) {
                match &result {
                    Ok(Accepted::Notice {
                        duplicate: true, ..
                    }) => outcome.duplicates += 1,
                    Ok(Accepted::Notice { .. }) => outcome.accepted += 1,
                    Ok(_) => outcome.receipts += 1,
                    Err(_) => outcome.refused += 1,
                }
                answers.push((r, answer_of(result)));
            }
            done = answers.len();
            progress(done, total);
        }
        outcome.reply = self.export_offline(&from, answers, now)?;
        tracing::info!(
            %from,
            accepted = outcome.accepted,
            duplicates = outcome.duplicates,
            receipts = outcome.receipts,
            refused = outcome.refused,
            answers_applied = outcome.answers_applied,
            "offline bundle imported"
        );
        Ok(outcome)
    }

    /// Applies a peer's answers to this node's outbox entries for it, as
    /// the delivery loop applies live answers. Answers to entries that are
    /// gone (delivered live meanwhile) or are not for that peer change
    /// nothing.
    async fn apply_offline_answers(
        &self,
        peer: &AgencyId,
        answers: Vec<(u64, OfflineAnswer)>,
        now: Timestamp,
    ) -> Result<usize, Refusal> {
        if answers.is_empty() {
            return Ok(0);
        }
        let seqs: Vec<u64> = answers.iter().map(|(s, _)| *s).collect();
        let ours: Vec<u64> = self
            .store()
            .outbox_entries(&seqs)?
            .into_iter()
            .filter(|e| e.recipient == peer.as_str())
            .map(|e| e.seq)
            .collect();
        let mut results: BTreeMap<u64, EntryResult> = BTreeMap::new();
        let ready = self.load_batch(&ours, now, &mut results)?;
        let mut by_seq: BTreeMap<u64, OfflineAnswer> = answers.into_iter().collect();
        let mut receipts = Vec::new();
        let mut applied = 0;
        for entry in ready {
            let Some(answer) = by_seq.remove(&entry.seq) else {
                continue;
            };
            let answer = match answer {
                OfflineAnswer::Accepted { receipt, duplicate } => {
                    Answer::Accepted { receipt, duplicate }
                }
                OfflineAnswer::ReceiptRecorded => Answer::ReceiptRecorded,
                OfflineAnswer::Refused { reason, message } => Answer::Refused { reason, message },
            };
            applied += 1;
            judge_answer(
                entry.seq,
                entry.attempts,
                entry.expects,
                answer,
                &mut results,
                &mut receipts,
            );
        }
        self.check_receipts(peer, receipts, now, &mut results);
        // Only the entries answered are settled; the rest stay queued.
        let settled: Vec<u64> = results.keys().copied().collect();
        self.record_outcomes(peer.as_str(), &settled, results, None, now, false)
            .await;
        Ok(applied)
    }
}
