//! Retention of personal data (docs/PROTOCOL.md section 14.6): how long a
//! node keeps the personal data of a notice, and the tombstone it keeps
//! afterwards so that its log and the notice's receipts still check.

use prost::Message;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::error::{At, ValidationError};
use crate::ids::{AgencyId, NoticeId};
use crate::notice::NoticeBody;
use crate::pb;
use crate::signing::{SignedNotice, logged_bytes};
use crate::time::Timestamp;
use crate::transparency::entry::{LogEntry, LogEntryKind};
use crate::vocab::NoticeKind;

/// The shortest retention period a node may set, in days.
pub const MIN_RETENTION_DAYS: u32 = 30;
/// The longest retention period a node may set, in days (ten years).
pub const MAX_RETENTION_DAYS: u32 = 3650;
/// The retention period of every kind unless the node sets another.
pub const DEFAULT_RETENTION_DAYS: u32 = 730;

/// Columns: one per notice kind wire value.
const KINDS: usize = 32;

/// How long a node keeps the personal data of each kind of notice. Small
/// and `Copy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetentionPolicy {
    days: [u32; KINDS],
}

impl Default for RetentionPolicy {
    fn default() -> Self {
        RetentionPolicy {
            days: [DEFAULT_RETENTION_DAYS; KINDS],
        }
    }
}

impl RetentionPolicy {
    /// The same policy keeping notices of `kind` for `days`.
    ///
    /// # Errors
    /// `days` outside [`MIN_RETENTION_DAYS`]..=[`MAX_RETENTION_DAYS`].
    pub fn with_days(mut self, kind: NoticeKind, days: u32) -> Result<Self, ValidationError> {
        if !(MIN_RETENTION_DAYS..=MAX_RETENTION_DAYS).contains(&days) {
            return Err(ValidationError::invalid(
                "days",
                "a retention period of 30 to 3650 days",
                days.to_string(),
            ));
        }
        if let Some(slot) = Self::column(kind).and_then(|c| self.days.get_mut(c)) {
            *slot = days;
        }
        Ok(self)
    }

    /// The retention period of `kind`, in days.
    pub fn days(&self, kind: NoticeKind) -> u32 {
        Self::column(kind)
            .and_then(|c| self.days.get(c).copied())
            .unwrap_or(DEFAULT_RETENTION_DAYS)
    }

    fn column(kind: NoticeKind) -> Option<usize> {
        usize::try_from(kind.to_wire()).ok().filter(|c| *c < KINDS)
    }

    /// When the personal data of `body` is due for removal: its retention
    /// period after creation, but never before the notice expires.
    pub fn purge_at(&self, body: &NoticeBody) -> Timestamp {
        let days = i64::from(self.days(body.kind()));
        let end = body.created_at.plus_seconds(days * 86_400);
        end.max(body.expires_at)
    }

    /// Whether `body` carries personal data whose period has run out at
    /// `now`.
    pub fn is_due(&self, body: &NoticeBody, now: Timestamp) -> bool {
        body.content.carries_personal_data() && now >= self.purge_at(body)
    }
}

/// What a node keeps of a notice whose personal data it removed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Tombstone {
    /// The notice.
    pub notice_id: NoticeId,
    /// Its kind.
    pub kind: NoticeKind,
    /// Its sender.
    pub sender: AgencyId,
    /// When it was created.
    pub created_at: Timestamp,
    /// SHA-256 of what the node's log committed to for it.
    #[serde(with = "hex_32")]
    pub logged_sha256: [u8; 32],
    /// SHA-256 of the signed body, as its receipts name it.
    #[serde(with = "hex_32")]
    pub body_sha256: [u8; 32],
    /// Protected parts removed with it.
    pub disclosures_removed: u32,
    /// When.
    pub purged_at: Timestamp,
    /// The retention period that ran out (days), 0 for an erasure.
    pub retention_days: u32,
}

mod hex_32 {
    use serde::Serializer;
    pub(super) fn serialize<S: Serializer>(bytes: &[u8; 32], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(bytes))
    }
}

impl Tombstone {
    /// The tombstone of notice `id` (held as `envelope`, with body `body`)
    /// removed at `purged_at` after `retention_days`.
    pub fn of(
        id: NoticeId,
        envelope: &SignedNotice,
        body: &NoticeBody,
        purged_at: Timestamp,
        retention_days: u32,
    ) -> Self {
        Tombstone {
            notice_id: id,
            kind: body.kind(),
            sender: body.sender.clone(),
            created_at: body.created_at,
            logged_sha256: Sha256::digest(logged_bytes(&envelope.encode())).into(),
            body_sha256: Sha256::digest(envelope.body_bytes()).into(),
            disclosures_removed: u32::try_from(envelope.disclosures().len()).unwrap_or(u32::MAX),
            purged_at,
            retention_days,
        }
    }

    /// Whether `entry` is the log entry of the notice this tombstone stands
    /// for (its NOTICE_SENT or NOTICE_RECEIVED entry).
    pub fn matches(&self, entry: &LogEntry) -> bool {
        matches!(
            entry.kind,
            LogEntryKind::NoticeSent | LogEntryKind::NoticeReceived
        ) && entry.notice_id == self.notice_id
            && entry.sha256 == self.logged_sha256
    }

    /// The exact encoding (what the PURGED log entry's digest is over).
    pub fn encode(&self) -> Vec<u8> {
        pb::Tombstone {
            notice_id: self.notice_id.as_bytes().to_vec(),
            kind: self.kind.to_wire(),
            sender: self.sender.to_string(),
            created_at: Some(self.created_at.into()),
            logged_sha256: self.logged_sha256.to_vec(),
            body_sha256: self.body_sha256.to_vec(),
            disclosures_removed: self.disclosures_removed,
            purged_at: Some(self.purged_at.into()),
            retention_days: self.retention_days,
        }
        .encode_to_vec()
    }

    /// Reads an encoded tombstone.
    ///
    /// # Errors
    /// A field that is missing or malformed, by path.
    pub fn decode(bytes: &[u8]) -> Result<Self, ValidationError> {
        let t = crate::wire::decode::<pb::Tombstone>(bytes)?;
        let digest = |b: &[u8], field: &str| {
            <[u8; 32]>::try_from(b).map_err(|_| {
                ValidationError::invalid(field, "32 bytes", format!("{} bytes", b.len()))
            })
        };
        Ok(Tombstone {
            notice_id: NoticeId::optional_from_bytes(&t.notice_id).ok_or_else(|| {
                ValidationError::invalid(
                    "notice_id",
                    "32 bytes",
                    format!("{} bytes", t.notice_id.len()),
                )
            })?,
            kind: NoticeKind::from_wire(t.kind).at("kind")?,
            sender: AgencyId::from_wire(&t.sender).at("sender")?,
            created_at: Timestamp::from_wire(t.created_at.as_ref()).at("created_at")?,
            logged_sha256: digest(&t.logged_sha256, "logged_sha256")?,
            body_sha256: digest(&t.body_sha256, "body_sha256")?,
            disclosures_removed: t.disclosures_removed,
            purged_at: Timestamp::from_wire(t.purged_at.as_ref()).at("purged_at")?,
            retention_days: t.retention_days,
        })
    }

    /// The PURGED log entry recording it.
    pub fn log_entry(&self) -> LogEntry {
        LogEntry::of(LogEntryKind::Purged, self.notice_id, &self.encode())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_stay_within_the_protocols_limits() {
        let policy = RetentionPolicy::default();
        assert_eq!(policy.days(NoticeKind::RescueRequest), 730);
        let policy = policy.with_days(NoticeKind::RescueRequest, 30).unwrap();
        assert_eq!(policy.days(NoticeKind::RescueRequest), 30);
        assert_eq!(policy.days(NoticeKind::CaseUpdate), 730);
        for bad in [0, 29, 3651] {
            let error = policy.with_days(NoticeKind::CaseUpdate, bad).unwrap_err();
            assert_eq!(error.path, "days", "{error}");
        }
        assert!(policy.with_days(NoticeKind::CaseUpdate, 3650).is_ok());
    }
}
