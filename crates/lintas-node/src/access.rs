//! The access log (docs/PROTOCOL.md section 14.8): every read of personal
//! data through the agency API, with the officer who asked, kept by the
//! node and exported for a data-protection officer.

use lintas_core::ValidationError;
use lintas_core::ids::NoticeId;
use lintas_core::pb;
use lintas_core::time::Timestamp;
use prost::Message;

use crate::{Engine, Refusal};

/// The longest officer id, in bytes.
pub const MAX_OFFICER_BYTES: usize = 128;

/// Most records one page of the access log holds.
pub const MAX_ACCESS_PAGE: usize = 1000;

/// Checks an officer id as a case system passes it: 1 to 128 characters
/// from `A-Z a-z 0-9 . _ - @ : / +`.
///
/// # Errors
/// Empty, too long, or another character.
pub fn check_officer(officer: &str) -> Result<(), ValidationError> {
    let ok = !officer.is_empty()
        && officer.len() <= MAX_OFFICER_BYTES
        && officer
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-@:/+".contains(c));
    if ok {
        Ok(())
    } else {
        Err(ValidationError::invalid(
            "lintas-officer",
            "an officer id of 1-128 characters from A-Z a-z 0-9 . _ - @ : / +",
            officer,
        ))
    }
}

/// One read of personal data.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AccessRecord {
    /// When.
    pub at: Timestamp,
    /// The officer (checked with [`check_officer`]).
    pub officer: String,
    /// The case-system client.
    pub case_system: String,
    /// The agency API call.
    pub call: &'static str,
    /// The case asked about.
    pub case_id: Option<String>,
    /// The notices whose personal data was returned.
    pub notices: Vec<NoticeId>,
    /// The attachments returned.
    pub attachments: Vec<[u8; 32]>,
}

impl AccessRecord {
    /// A read by `officer` through `case_system`'s call `call`, at `at`.
    pub fn new(at: Timestamp, officer: &str, case_system: &str, call: &'static str) -> Self {
        AccessRecord {
            at,
            officer: officer.to_owned(),
            case_system: case_system.to_owned(),
            call,
            case_id: None,
            notices: Vec::new(),
            attachments: Vec::new(),
        }
    }

    fn encode(&self) -> Vec<u8> {
        pb::AccessRecord {
            number: 0,
            at: Some(self.at.into()),
            officer: self.officer.clone(),
            case_system: self.case_system.clone(),
            call: self.call.to_owned(),
            case_id: self.case_id.clone().unwrap_or_default(),
            notice_ids: self.notices.iter().map(|n| n.as_bytes().to_vec()).collect(),
            attachments: self.attachments.iter().map(|a| a.to_vec()).collect(),
        }
        .encode_to_vec()
    }
}

impl Engine {
    /// Appends `record` to the access log, durably; returns its number.
    ///
    /// # Errors
    /// Store failure: the caller must then not hand out what was read.
    pub async fn record_access(&self, record: AccessRecord) -> Result<u64, Refusal> {
        let bytes = record.encode();
        Ok(self
            .inner
            .commit
            .write(move |txn| txn.record_access(&bytes))
            .await?)
    }

    /// Up to `limit` (at most [`MAX_ACCESS_PAGE`]) access records numbered
    /// after `after`, oldest first, each with its number.
    ///
    /// # Errors
    /// Store failure or a damaged record.
    pub fn access_log(&self, after: u64, limit: usize) -> Result<Vec<pb::AccessRecord>, Refusal> {
        let limit = if limit == 0 {
            MAX_ACCESS_PAGE
        } else {
            limit.min(MAX_ACCESS_PAGE)
        };
        self.store()
            .access_log(after, limit)?
            .into_iter()
            .map(|(number, bytes)| {
                let mut record = pb::AccessRecord::decode(bytes.as_slice()).map_err(|e| {
                    Refusal::Store(lintas_store::StoreError::Corrupt {
                        what: format!("access record {number}"),
                        detail: e.to_string(),
                    })
                })?;
                record.number = number;
                Ok(record)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn officer_ids_are_short_plain_identifiers() {
        for good in ["budi.s", "officer-17", "kemlu/pwni:budi@unit", "A+B"] {
            assert!(check_officer(good).is_ok(), "{good}");
        }
        for bad in ["", "has space", "semi;colon", &"x".repeat(129), "nl\n"] {
            let error = check_officer(bad).unwrap_err();
            assert_eq!(error.path, "lintas-officer", "{bad:?}");
        }
    }
}
