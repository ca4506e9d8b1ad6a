//! Reading what the node holds: a notice for a peer entitled to it, a
//! case's timeline, overdue deadlines, receipts.

use std::collections::BTreeSet;

use lintas_core::ids::{AgencyId, CaseId, NoticeId};
use lintas_core::receipt::SignedReceipt;
use lintas_core::signing::SignedNotice;
use lintas_core::time::Timestamp;
use lintas_core::vocab::ReceiptStage;
use lintas_store::{Direction, StoreError, StoredNotice};

use crate::{Engine, Refusal};

/// One notice of a case's timeline.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct TimelineEntry {
    /// Its id.
    pub id: NoticeId,
    /// What the node keeps about it.
    pub notice: StoredNotice,
    /// The envelope exactly as signed.
    pub envelope: SignedNotice,
    /// Receipts known for it, from every recipient.
    pub receipts: Vec<SignedReceipt>,
}

/// A notice whose response deadline passed without an ACTIONED receipt.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Overdue {
    /// Its id.
    pub id: NoticeId,
    /// What the node keeps about it.
    pub notice: StoredNotice,
    /// Recipients (of a sent notice) or this agency (for a received one)
    /// that have not reached ACTIONED.
    pub awaiting: Vec<String>,
}

fn unreadable(id: &NoticeId, e: impl std::fmt::Display) -> Refusal {
    Refusal::Store(StoreError::Corrupt {
        what: format!("notice {id}"),
        detail: e.to_string(),
    })
}

impl Engine {
    /// A notice for `peer`, served only to its sender and recipients. An
    /// absent notice and one `peer` is not entitled to get the same
    /// refusal, so nobody can probe which notices exist.
    ///
    /// # Errors
    /// Not entitled or absent, or a store failure.
    pub fn fetch(&self, peer: &AgencyId, id: NoticeId) -> Result<SignedNotice, Refusal> {
        let notice = self.store().notice(&id)?;
        match notice {
            Some(n)
                if n.sender == peer.as_str() || n.recipients.iter().any(|r| r == peer.as_str()) =>
            {
                SignedNotice::decode(&n.envelope).map_err(|e| unreadable(&id, e))
            }
            _ => Err(Refusal::NotEntitled {
                peer: peer.to_string(),
                id: id.to_string(),
            }),
        }
    }

    /// Receipts stored for a notice: (stage, receiver, SignedReceipt bytes).
    ///
    /// # Errors
    /// Store failure.
    pub fn receipts(&self, id: &NoticeId) -> Result<Vec<(u8, String, Vec<u8>)>, StoreError> {
        self.store().receipts(id)
    }

    /// Everything this node sent or received about a case, in creation-time
    /// order.
    ///
    /// # Errors
    /// Store failure or a damaged record.
    pub fn case_timeline(&self, case: &CaseId) -> Result<Vec<TimelineEntry>, Refusal> {
        let mut entries = Vec::new();
        for (id, notice) in self.store().case_notices(case.as_str())? {
            let receipts = self
                .store()
                .receipts(&id)?
                .into_iter()
                .filter_map(|(_, _, bytes)| SignedReceipt::decode(&bytes).ok())
                .collect();
            let envelope =
                SignedNotice::decode(&notice.envelope).map_err(|e| unreadable(&id, e))?;
            entries.push(TimelineEntry {
                id,
                notice,
                envelope,
                receipts,
            });
        }
        entries.sort_by_key(|e| {
            (
                e.notice.created_at,
                e.notice.created_at_nanos,
                *e.id.as_bytes(),
            )
        });
        Ok(entries)
    }

    /// Notices whose response deadline has passed at `now` without an
    /// ACTIONED receipt from everyone who owes one.
    ///
    /// # Errors
    /// Store failure.
    pub fn overdue(&self, now: Timestamp) -> Result<Vec<Overdue>, Refusal> {
        let now = now.unix_seconds();
        let me = self.agency().to_string();
        let actioned = ReceiptStage::Actioned.to_wire() as u8;
        let mut out = Vec::new();
        for (id, notice) in self.store().all_notices()? {
            if notice.response_deadline == 0 || notice.response_deadline > now {
                continue;
            }
            let done: BTreeSet<String> = self
                .store()
                .receipts(&id)?
                .into_iter()
                .filter(|(stage, _, _)| *stage >= actioned)
                .map(|(_, receiver, _)| receiver)
                .collect();
            let awaiting: Vec<String> = if notice.direction == Direction::Sent as i32 {
                notice
                    .recipients
                    .iter()
                    .filter(|r| !done.contains(*r))
                    .cloned()
                    .collect()
            } else if done.contains(&me) {
                Vec::new()
            } else {
                vec![me.clone()]
            };
            if !awaiting.is_empty() {
                out.push(Overdue {
                    id,
                    notice,
                    awaiting,
                });
            }
        }
        Ok(out)
    }

    /// The delivery state of `peer`.
    pub fn peer_status(&self, peer: &AgencyId) -> crate::PeerStatus {
        self.scheduler().status(peer.as_str())
    }
}
