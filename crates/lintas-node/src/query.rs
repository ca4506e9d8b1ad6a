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

/// A notice as this node holds it, for a listing of everything held.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct HeldNotice {
    /// Its id.
    pub id: NoticeId,
    /// What the node keeps about it.
    pub notice: StoredNotice,
    /// The envelope as held.
    pub envelope: SignedNotice,
}

/// Entries per page when the caller does not say.
pub(crate) const DEFAULT_PAGE_SIZE: usize = 100;
/// Most entries per page.
pub(crate) const MAX_PAGE_SIZE: usize = 500;
/// A timeline page stops growing once its envelopes and receipts reach this
/// many bytes (it always holds at least one entry), so that a page fits a
/// gRPC message of the default 1 MiB limit.
pub(crate) const PAGE_BYTES: usize = 512 * 1024;

/// Which page of a listing to read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Page {
    /// Entries wanted: 0 means [`DEFAULT_PAGE_SIZE`]; more than
    /// [`MAX_PAGE_SIZE`] is refused.
    pub size: usize,
    /// Empty for the first page, else the token the previous page returned.
    pub token: Vec<u8>,
    /// A timeline page stops growing at this many bytes of envelopes and
    /// receipts (it always holds one entry): 0 means [`PAGE_BYTES`]. A
    /// transport sets it under its message limit.
    pub bytes: usize,
}

impl Page {
    pub(crate) fn size(&self) -> Result<usize, Refusal> {
        match self.size {
            0 => Ok(DEFAULT_PAGE_SIZE),
            n if n <= MAX_PAGE_SIZE => Ok(n),
            n => Err(Refusal::Invalid(lintas_core::ValidationError::invalid(
                "page_size",
                "a page size from 1 to 500, or 0 for 100",
                n.to_string(),
            ))),
        }
    }
}

pub(crate) fn bad_token() -> Refusal {
    Refusal::Invalid(lintas_core::ValidationError::invalid(
        "page_token",
        "empty, or the next_page_token of the previous page",
        "a token this node did not issue",
    ))
}

/// A notice whose response deadline passed without a response.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Overdue {
    /// Its id.
    pub id: NoticeId,
    /// What the node keeps about it.
    pub notice: StoredNotice,
    /// Recipients (of a sent notice) or this agency (for a received one)
    /// that have not responded (action started or completed, declined, not
    /// competent).
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
                if !n.is_purged()
                    && (n.sender == peer.as_str()
                        || n.recipients.iter().any(|r| r == peer.as_str())) =>
            {
                // A peer gets the parts it was given, never more.
                let given = crate::delivery::commitments(&n.given_to(peer.as_str()));
                SignedNotice::decode(&n.envelope)
                    .map(|envelope| envelope.view(&given))
                    .map_err(|e| unreadable(&id, e))
            }
            _ => Err(Refusal::NotEntitled {
                peer: peer.to_string(),
                id: id.to_string(),
            }),
        }
    }

    /// What each agency this node passed notice `id` to was given of its
    /// protected parts (docs/PROTOCOL.md section 14.3), as recorded when it
    /// was queued: for a notice this node signed, each recipient (a
    /// recipient given nothing has an empty list); for one it received, each
    /// agency it forwarded it to. (agency, commitments) pairs.
    ///
    /// # Errors
    /// No notice `id` here, or a store failure.
    pub fn disclosed_to(
        &self,
        id: NoticeId,
    ) -> Result<Vec<(String, Vec<lintas_core::disclosure::Commitment>)>, Refusal> {
        let notice = self
            .store()
            .notice(&id)?
            .ok_or_else(|| Refusal::NotFound(format!("no notice {id} here")))?;
        if notice.direction == lintas_store::Direction::Sent as i32 {
            return Ok(notice
                .recipients
                .iter()
                .map(|r| (r.clone(), crate::delivery::commitments(&notice.given_to(r))))
                .collect());
        }
        Ok(notice
            .given
            .iter()
            .map(|g| {
                (
                    g.recipient.clone(),
                    crate::delivery::commitments(&g.commitments),
                )
            })
            .collect())
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
        self.store()
            .case_notices(case.as_str())?
            .into_iter()
            // A notice whose personal data was removed has no envelope
            // left to show (its tombstone is in the store and the log).
            .filter(|(_, notice)| !notice.is_purged())
            .map(|(id, notice)| self.timeline_entry(id, notice))
            .collect()
    }

    /// A stored notice of a case with its envelope and receipts.
    fn timeline_entry(&self, id: NoticeId, notice: StoredNotice) -> Result<TimelineEntry, Refusal> {
        let receipts = self
            .store()
            .receipts(&id)?
            .into_iter()
            .filter_map(|(_, _, bytes)| SignedReceipt::decode(&bytes).ok())
            .collect();
        let envelope = SignedNotice::decode(&notice.envelope).map_err(|e| unreadable(&id, e))?;
        Ok(TimelineEntry {
            id,
            notice,
            envelope,
            receipts,
        })
    }

    /// Who still owes `notice` a response: its recipients that have not
    /// sent one (a sent notice), or this agency (a received one).
    fn awaiting(&self, id: &NoticeId, notice: &StoredNotice) -> Result<Vec<String>, Refusal> {
        let me = self.agency().to_string();
        let done: BTreeSet<String> = self
            .store()
            .receipts(id)?
            .into_iter()
            .filter(|(stage, _, _)| {
                ReceiptStage::from_wire(i32::from(*stage)).is_ok_and(ReceiptStage::is_response)
            })
            .map(|(_, receiver, _)| receiver)
            .collect();
        Ok(if notice.direction == Direction::Sent as i32 {
            notice
                .recipients
                .iter()
                .filter(|r| !done.contains(*r))
                .cloned()
                .collect()
        } else if done.contains(&me) {
            Vec::new()
        } else {
            vec![me]
        })
    }

    /// Every notice whose response deadline has passed at `now` without a
    /// response (action started or completed, declined, not competent) from
    /// everyone who owes one, in deadline order (all pages of
    /// [`Engine::overdue_page`]).
    ///
    /// # Errors
    /// Store failure.
    pub fn overdue(&self, now: Timestamp) -> Result<Vec<Overdue>, Refusal> {
        let mut out = Vec::new();
        let mut page = Page {
            size: MAX_PAGE_SIZE,
            ..Page::default()
        };
        loop {
            let (items, next) = self.overdue_page(now, &page)?;
            out.extend(items);
            match next {
                Some(token) => page.token = token,
                None => return Ok(out),
            }
        }
    }

    /// One page of a case's timeline: entries after `page.token`, at most
    /// `page.size` of them and about [`PAGE_BYTES`], and the token of the
    /// next page (`None` on the last).
    ///
    /// # Errors
    /// A page size over the limit, a token this node did not issue, a store
    /// failure.
    pub fn case_timeline_page(
        &self,
        case: &CaseId,
        page: &Page,
    ) -> Result<(Vec<TimelineEntry>, Option<Vec<u8>>), Refusal> {
        let size = page.size()?;
        if !page.token.is_empty() && page.token.len() != 44 {
            return Err(bad_token());
        }
        let budget = if page.bytes == 0 {
            PAGE_BYTES
        } else {
            page.bytes
        };
        // Read from the case's creation-order index, one entry more than
        // the page takes, so that only this page is loaded.
        let rows = self
            .store()
            .case_page(case.as_str(), &page.token, size.saturating_add(1))?;
        let mut out: Vec<TimelineEntry> = Vec::new();
        let mut last: Option<Vec<u8>> = None;
        let mut bytes = 0usize;
        for (position, id, notice) in rows {
            if notice.is_purged() {
                // Nothing left to show; the page moves past it.
                if out.len() < size {
                    last = Some(position);
                }
                continue;
            }
            let entry = self.timeline_entry(id, notice)?;
            let cost = entry.notice.envelope.len()
                + entry
                    .receipts
                    .iter()
                    .map(|r| r.encode().len())
                    .sum::<usize>();
            if out.len() == size || (!out.is_empty() && bytes + cost > budget) {
                return Ok((out, last));
            }
            bytes += cost;
            out.push(entry);
            last = Some(position);
        }
        Ok((out, None))
    }

    /// One page of every notice this node holds, sent or received, in
    /// notice-id order: `page.size` of them and at most `page.bytes` of
    /// envelopes (always one). Purged notices are skipped. The token is the
    /// last notice id of the page.
    ///
    /// # Errors
    /// As [`Engine::case_timeline_page`].
    pub fn notices_page(&self, page: &Page) -> Result<(Vec<HeldNotice>, Option<Vec<u8>>), Refusal> {
        let size = page.size()?;
        let after = match page.token.len() {
            0 => None,
            32 => {
                let mut id = [0u8; 32];
                id.copy_from_slice(&page.token);
                Some(NoticeId::from_bytes(id))
            }
            _ => return Err(bad_token()),
        };
        let budget = if page.bytes == 0 {
            PAGE_BYTES
        } else {
            page.bytes
        };
        let mut out: Vec<HeldNotice> = Vec::new();
        let mut bytes = 0usize;
        let mut cursor = after;
        loop {
            let rows = self
                .store()
                .notices_after(cursor.as_ref(), size.saturating_add(1))?;
            let exhausted = rows.len() <= size;
            for (id, notice) in rows {
                if notice.is_purged() {
                    cursor = Some(id);
                    continue;
                }
                let cost = notice.envelope.len();
                if out.len() == size || (!out.is_empty() && bytes + cost > budget) {
                    return Ok((out, cursor.map(|c| c.as_bytes().to_vec())));
                }
                let envelope =
                    SignedNotice::decode(&notice.envelope).map_err(|e| unreadable(&id, e))?;
                bytes += cost;
                out.push(HeldNotice {
                    id,
                    notice,
                    envelope,
                });
                cursor = Some(id);
            }
            if exhausted {
                return Ok((out, None));
            }
        }
    }

    /// One page of [`Engine::overdue`]: notices whose deadline passed, in
    /// (deadline, id) order, read from the deadline index only (so the cost
    /// does not grow with the notices that have no deadline, and a page
    /// never loads more than it returns plus those it skips as answered).
    ///
    /// # Errors
    /// As [`Engine::case_timeline_page`].
    pub fn overdue_page(
        &self,
        now: Timestamp,
        page: &Page,
    ) -> Result<(Vec<Overdue>, Option<Vec<u8>>), Refusal> {
        let size = page.size()?;
        if !page.token.is_empty() && page.token.len() != 40 {
            return Err(bad_token());
        }
        let mut out = Vec::new();
        let mut after = page.token.clone();
        loop {
            let chunk = self
                .store()
                .deadlines_until(now.unix_seconds(), &after, size)?;
            let exhausted = chunk.len() < size;
            for (key, id, notice) in chunk {
                after = key;
                let awaiting = self.awaiting(&id, &notice)?;
                if !awaiting.is_empty() {
                    out.push(Overdue {
                        id,
                        notice,
                        awaiting,
                    });
                    if out.len() == size {
                        // More may follow: the caller asks with this token.
                        return Ok((out, Some(after)));
                    }
                }
            }
            if exhausted {
                return Ok((out, None));
            }
        }
    }

    /// The delivery state of `peer`.
    pub fn peer_status(&self, peer: &AgencyId) -> crate::PeerStatus {
        self.scheduler().status(peer.as_str())
    }
}
