//! Dead letters: outbox entries their recipient refused for good
//! (`refusal::is_permanent`). They leave the outbox, so the rest of their
//! case goes on, and wait here for an operator to look at, retry (after the
//! cause is fixed, e.g. the recipient upgraded) or drop.

use lintas_core::ids::NoticeId;
use lintas_store::{OutboxEntry, OutboxPayload};

use crate::{Engine, Refusal};

/// A notice or receipt its recipient refused for good.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeadLetter {
    /// Its outbox sequence number, the handle to retry or drop it.
    pub seq: u64,
    /// The agency that refused it.
    pub recipient: String,
    /// Its case id (empty if none).
    pub case_id: String,
    /// The notice, when it is a notice (not a receipt report).
    pub notice_id: Option<NoticeId>,
    /// The refusal: reason and message.
    pub error: String,
    /// When the refusal came (Unix milliseconds).
    pub refused_at_ms: i64,
}

impl From<OutboxEntry> for DeadLetter {
    fn from(e: OutboxEntry) -> Self {
        let notice_id = match &e.payload {
            Some(OutboxPayload::Notice(id)) => <[u8; 32]>::try_from(id.as_slice())
                .ok()
                .map(NoticeId::from_bytes),
            _ => None,
        };
        DeadLetter {
            seq: e.seq,
            recipient: e.recipient,
            case_id: e.case_id,
            notice_id,
            error: e.last_error,
            refused_at_ms: e.next_attempt_ms,
        }
    }
}

fn not_found(seq: u64) -> Refusal {
    Refusal::NotFound(format!("no dead letter {seq}"))
}

impl Engine {
    /// The dead letters, oldest first.
    ///
    /// # Errors
    /// Store failure.
    pub fn dead_letters(&self) -> Result<Vec<DeadLetter>, Refusal> {
        Ok(self
            .store()
            .dead_letters()?
            .into_iter()
            .map(DeadLetter::from)
            .collect())
    }

    /// One page of [`Engine::dead_letters`], oldest first; the token is the
    /// last seq of the page (8 bytes, big-endian).
    ///
    /// # Errors
    /// A page size over the limit, a token this node did not issue, a store
    /// failure.
    pub fn dead_letters_page(
        &self,
        page: &crate::Page,
    ) -> Result<(Vec<DeadLetter>, Option<Vec<u8>>), Refusal> {
        let size = page.size()?;
        let after = match page.token.as_slice() {
            [] => 0,
            token => u64::from_be_bytes(
                <[u8; 8]>::try_from(token).map_err(|_| crate::query::bad_token())?,
            ),
        };
        let mut rest: Vec<DeadLetter> = self
            .dead_letters()?
            .into_iter()
            .filter(|d| d.seq > after)
            .collect();
        if rest.len() > size {
            rest.truncate(size);
            let next = rest.last().map(|d| d.seq.to_be_bytes().to_vec());
            return Ok((rest, next));
        }
        Ok((rest, None))
    }

    /// Puts dead letter `seq` back in the outbox as a new entry (attempts
    /// reset; it goes after what its case queued since).
    ///
    /// # Errors
    /// No such dead letter, or a store failure.
    pub async fn retry_dead_letter(&self, seq: u64) -> Result<(), Refusal> {
        let queued = self
            .inner
            .commit
            .write(move |txn| {
                let Some(mut entry) = txn.unbury(seq)? else {
                    return Ok(None);
                };
                entry.seq = 0;
                entry.attempts = 0;
                entry.next_attempt_ms = 0;
                entry.last_error = String::new();
                txn.enqueue(entry).map(Some)
            })
            .await?
            .ok_or_else(|| not_found(seq))?;
        tracing::info!(seq, new_seq = queued.seq, recipient = %queued.recipient, "dead letter queued again");
        self.queue(&[queued]);
        Ok(())
    }

    /// Drops dead letter `seq` for good.
    ///
    /// # Errors
    /// No such dead letter, or a store failure.
    pub async fn drop_dead_letter(&self, seq: u64) -> Result<(), Refusal> {
        let dropped = self.inner.commit.write(move |txn| txn.unbury(seq)).await?;
        match dropped {
            Some(entry) => {
                tracing::info!(seq, recipient = %entry.recipient, "dead letter dropped");
                Ok(())
            }
            None => Err(not_found(seq)),
        }
    }
}
