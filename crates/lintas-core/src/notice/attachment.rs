//! Attachments: files that travel beside a notice, referenced by digest
//! (docs/PROTOCOL.md section 13).

use serde::{Deserialize, Serialize};

use crate::error::{At, ValidationError};
use crate::ids::{AgencyId, RecordId};
use crate::pb;
use crate::text::{self, SHORT};
use crate::time::Timestamp;

/// The most attachments one notice references.
pub const MAX_ATTACHMENTS: usize = 32;

/// The largest attachment the protocol allows (4 GiB); nodes set their own
/// lower limit.
pub const MAX_ATTACHMENT_BYTES: u64 = 1 << 32;

/// A file that travels beside a notice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AttachmentRef {
    /// SHA-256 of the file's exact bytes (hex in JSON).
    #[serde(with = "hex::serde")]
    pub sha256: [u8; 32],
    /// IANA media type.
    pub media_type: String,
    /// Size in bytes.
    pub size: u64,
    /// When it was captured.
    pub captured_at: Timestamp,
    /// The agency that captured it.
    pub captured_by: AgencyId,
    /// For a photo of a person: the record it shows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shows_record: Option<RecordId>,
}

impl AttachmentRef {
    /// A reference to a file of `size` bytes with digest `sha256`.
    pub fn new(
        sha256: [u8; 32],
        media_type: impl Into<String>,
        size: u64,
        captured_at: Timestamp,
        captured_by: AgencyId,
    ) -> Self {
        AttachmentRef {
            sha256,
            media_type: media_type.into(),
            size,
            captured_at,
            captured_by,
            shows_record: None,
        }
    }
}

impl TryFrom<pb::Attachment> for AttachmentRef {
    type Error = ValidationError;
    fn try_from(a: pb::Attachment) -> Result<Self, Self::Error> {
        let sha256 = <[u8; 32]>::try_from(a.sha256.as_slice()).map_err(|_| {
            ValidationError::invalid(
                "sha256",
                "a SHA-256 digest of 32 bytes",
                format!("{} bytes", a.sha256.len()),
            )
        })?;
        let media_type = text::required(a.media_type, SHORT).at("media_type")?;
        if !media_type.contains('/') || media_type.contains(char::is_whitespace) {
            return Err(ValidationError::invalid(
                "media_type",
                "an IANA media type such as \"image/jpeg\"",
                media_type,
            ));
        }
        if a.size == 0 || a.size > MAX_ATTACHMENT_BYTES {
            return Err(ValidationError::invalid(
                "size",
                "1 to 4294967296 bytes",
                a.size.to_string(),
            ));
        }
        Ok(AttachmentRef {
            sha256,
            media_type,
            size: a.size,
            captured_at: Timestamp::from_wire(a.captured_at.as_ref()).at("captured_at")?,
            captured_by: AgencyId::from_wire(&a.captured_by).at("captured_by")?,
            shows_record: if a.shows_record.is_empty() {
                None
            } else {
                Some(RecordId::parse(&a.shows_record).at("shows_record")?)
            },
        })
    }
}

impl From<AttachmentRef> for pb::Attachment {
    fn from(a: AttachmentRef) -> Self {
        pb::Attachment {
            sha256: a.sha256.to_vec(),
            media_type: a.media_type,
            size: a.size,
            captured_at: Some(a.captured_at.into()),
            captured_by: a.captured_by.to_string(),
            shows_record: a.shows_record.map(|r| r.to_string()).unwrap_or_default(),
        }
    }
}
