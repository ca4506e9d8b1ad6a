//! What one leaf of a node's log records (docs/PROTOCOL.md section 10.6):
//! a notice sent or received, or a receipt, named by the SHA-256 of the
//! exact bytes the node stored, so that anyone holding those bytes can
//! show they are in the log.

use prost::Message;
use sha2::{Digest, Sha256};

use super::merkle::Hash;
use crate::error::ValidationError;
use crate::ids::NoticeId;
use crate::pb;

/// What a log entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum LogEntryKind {
    /// A notice this node's agency signed and queued.
    NoticeSent,
    /// A notice this node received, verified and stored.
    NoticeReceived,
    /// A receipt this node signed or received and stored.
    Receipt,
    /// A custody entry this node signed.
    Custody,
    /// The personal data of a notice was removed: the entry names the
    /// tombstone (docs/PROTOCOL.md section 14.6).
    Purged,
}

impl LogEntryKind {
    /// The kind of a wire `LogEntryKind` value; `None` for UNSPECIFIED or
    /// an unknown value.
    pub fn from_wire(value: i32) -> Option<Self> {
        match pb::LogEntryKind::try_from(value) {
            Ok(pb::LogEntryKind::NoticeSent) => Some(LogEntryKind::NoticeSent),
            Ok(pb::LogEntryKind::NoticeReceived) => Some(LogEntryKind::NoticeReceived),
            Ok(pb::LogEntryKind::Receipt) => Some(LogEntryKind::Receipt),
            Ok(pb::LogEntryKind::Custody) => Some(LogEntryKind::Custody),
            Ok(pb::LogEntryKind::Purged) => Some(LogEntryKind::Purged),
            _ => None,
        }
    }
}

/// One entry of a node's log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEntry {
    /// What it records.
    pub kind: LogEntryKind,
    /// The notice concerned.
    pub notice_id: NoticeId,
    /// SHA-256 of the exact stored bytes (the `SignedNotice` or the
    /// `SignedReceipt` encoding).
    pub sha256: Hash,
}

impl LogEntry {
    /// The entry for `stored` (the exact bytes stored) of kind `kind`.
    pub fn of(kind: LogEntryKind, notice_id: NoticeId, stored: &[u8]) -> Self {
        LogEntry {
            kind,
            notice_id,
            sha256: Sha256::digest(stored).into(),
        }
    }

    /// SHA-256 of exact leaf bytes: how a node finds an entry in its log
    /// (docs/PROTOCOL.md section 10.9).
    pub fn digest_of(entry: &[u8]) -> Hash {
        Sha256::digest(entry).into()
    }

    /// The exact leaf bytes.
    pub fn encode(&self) -> Vec<u8> {
        let kind = match self.kind {
            LogEntryKind::NoticeSent => pb::LogEntryKind::NoticeSent,
            LogEntryKind::NoticeReceived => pb::LogEntryKind::NoticeReceived,
            LogEntryKind::Receipt => pb::LogEntryKind::Receipt,
            LogEntryKind::Custody => pb::LogEntryKind::Custody,
            LogEntryKind::Purged => pb::LogEntryKind::Purged,
        };
        pb::LogEntry {
            kind: kind as i32,
            notice_id: self.notice_id.as_bytes().to_vec(),
            sha256: self.sha256.to_vec(),
        }
        .encode_to_vec()
    }

    /// Reads leaf bytes.
    ///
    /// # Errors
    /// Bad encoding, an unknown kind, or a field of the wrong length.
    pub fn decode(bytes: &[u8]) -> Result<Self, ValidationError> {
        let wire = crate::wire::decode::<pb::LogEntry>(bytes)?;
        let kind = match LogEntryKind::from_wire(wire.kind) {
            Some(kind) => kind,
            None => {
                return Err(ValidationError::invalid(
                    "kind",
                    "NOTICE_SENT, NOTICE_RECEIVED, RECEIPT or CUSTODY",
                    wire.kind.to_string(),
                ));
            }
        };
        let notice_id =
            NoticeId::from_bytes(wire.notice_id.as_slice().try_into().map_err(|_| {
                ValidationError::invalid(
                    "notice_id",
                    "32 bytes",
                    format!("{} bytes", wire.notice_id.len()),
                )
            })?);
        let sha256 = wire.sha256.as_slice().try_into().map_err(|_| {
            ValidationError::invalid("sha256", "32 bytes", format!("{} bytes", wire.sha256.len()))
        })?;
        Ok(LogEntry {
            kind,
            notice_id,
            sha256,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_reads_back_and_names_the_exact_bytes() {
        let entry = LogEntry::of(
            LogEntryKind::Receipt,
            NoticeId::from_bytes([7; 32]),
            b"receipt",
        );
        assert_eq!(LogEntry::decode(&entry.encode()), Ok(entry.clone()));
        assert_eq!(entry.sha256, <[u8; 32]>::from(Sha256::digest(b"receipt")));
        assert!(LogEntry::decode(&[0x08, 0x09]).is_err(), "kind 9");
        assert!(
            LogEntry::decode(&[0x08, 0x01, 0x12, 0x01, 0x00]).is_err(),
            "short id"
        );
    }
}
