//! Chain of custody of attachments (docs/PROTOCOL.md section 13.4): each
//! node that takes, serves or hands over a file signs an entry (who, when,
//! which digest, from or to whom) and appends it to its log.

use prost::Message;

use crate::error::{At, ValidationError};
use crate::ids::{AgencyId, NoticeId};
use crate::keys::SigningKey;
use crate::pb;
use crate::roster::{TrustedRoster, VerifyError};
use crate::signing::CUSTODY_PAYLOAD_TYPE;
use crate::time::Timestamp;
use crate::transparency::checkpoint::Signed;

/// What happened to a file at a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub enum CustodyEvent {
    /// The agency's case system handed it to its node.
    Uploaded,
    /// Fetched from a peer and verified.
    Received,
    /// Served whole to a peer.
    Served,
    /// Handed to the agency's case system.
    HandedOver,
}

impl CustodyEvent {
    fn to_wire(self) -> pb::CustodyEvent {
        match self {
            CustodyEvent::Uploaded => pb::CustodyEvent::Uploaded,
            CustodyEvent::Received => pb::CustodyEvent::Received,
            CustodyEvent::Served => pb::CustodyEvent::Served,
            CustodyEvent::HandedOver => pb::CustodyEvent::HandedOver,
        }
    }

    /// The protocol's name.
    pub fn wire_name(self) -> &'static str {
        self.to_wire().as_str_name()
    }
}

/// One link of a chain of custody.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CustodyEntry {
    /// SHA-256 of the file.
    pub sha256: [u8; 32],
    /// The notice it travels with (none for an upload).
    pub notice_id: Option<NoticeId>,
    /// What happened.
    pub event: CustodyEvent,
    /// The node's agency (the signer).
    pub holder: AgencyId,
    /// From or to whom: an agency id, or a case system's TLS identity.
    pub counterparty: String,
    /// When.
    pub at: Timestamp,
    /// The file's size.
    pub size: u64,
}

impl CustodyEntry {
    /// An entry.
    pub fn new(
        sha256: [u8; 32],
        notice_id: Option<NoticeId>,
        event: CustodyEvent,
        holder: AgencyId,
        counterparty: impl Into<String>,
        at: Timestamp,
        size: u64,
    ) -> Self {
        CustodyEntry {
            sha256,
            notice_id,
            event,
            holder,
            counterparty: counterparty.into(),
            at,
            size,
        }
    }

    /// Signs it as its holder: the exact `SignedCustodyEntry` bytes.
    pub fn sign(&self, key: &SigningKey) -> Vec<u8> {
        let wire = pb::CustodyEntry {
            sha256: self.sha256.to_vec(),
            notice_id: self
                .notice_id
                .map(|n| n.as_bytes().to_vec())
                .unwrap_or_default(),
            event: self.event.to_wire() as i32,
            holder: self.holder.to_string(),
            counterparty: self.counterparty.clone(),
            at: Some(self.at.into()),
            size: self.size,
        };
        let signed = Signed::sign(
            CUSTODY_PAYLOAD_TYPE,
            wire.encode_to_vec(),
            &self.holder,
            key,
        );
        pb::SignedCustodyEntry {
            entry: signed.bytes,
            signer: signed.signer.to_string(),
            key_id: signed.key_id.to_string(),
            signature: signed.signature.to_vec(),
        }
        .encode_to_vec()
    }

    /// Reads and verifies signed entry bytes: the signer is the holder,
    /// with a key the roster gives it, valid at `at`.
    ///
    /// # Errors
    /// A malformed field (with its path) or a signature that fails.
    pub fn verify(
        signed: &[u8],
        roster: &TrustedRoster,
        now: Timestamp,
    ) -> Result<CustodyEntry, VerifyError> {
        let entry = Self::read(signed).map_err(VerifyError::InvalidBody)?;
        let outer = crate::wire::decode::<pb::SignedCustodyEntry>(signed)
            .map_err(VerifyError::InvalidBody)?;
        let signed = Signed::read(
            outer.entry,
            &outer.signer,
            &outer.key_id,
            &outer.signature,
            "entry",
        )
        .map_err(VerifyError::InvalidBody)?;
        signed.verify(CUSTODY_PAYLOAD_TYPE, &entry.holder, entry.at, roster, now)?;
        Ok(entry)
    }

    /// Reads signed entry bytes without checking the signature.
    ///
    /// # Errors
    /// A malformed field, with its path.
    pub fn read(signed: &[u8]) -> Result<CustodyEntry, ValidationError> {
        let outer = crate::wire::decode::<pb::SignedCustodyEntry>(signed)?;
        let e = crate::wire::decode::<pb::CustodyEntry>(&outer.entry).at("entry")?;
        let sha256 = <[u8; 32]>::try_from(e.sha256.as_slice()).map_err(|_| {
            ValidationError::invalid(
                "entry.sha256",
                "32 bytes",
                format!("{} bytes", e.sha256.len()),
            )
        })?;
        let event = match pb::CustodyEvent::try_from(e.event) {
            Ok(pb::CustodyEvent::Uploaded) => CustodyEvent::Uploaded,
            Ok(pb::CustodyEvent::Received) => CustodyEvent::Received,
            Ok(pb::CustodyEvent::Served) => CustodyEvent::Served,
            Ok(pb::CustodyEvent::HandedOver) => CustodyEvent::HandedOver,
            _ => {
                return Err(ValidationError::invalid(
                    "entry.event",
                    "UPLOADED, RECEIVED, SERVED or HANDED_OVER",
                    e.event.to_string(),
                ));
            }
        };
        Ok(CustodyEntry {
            sha256,
            notice_id: NoticeId::optional_from_wire(&e.notice_id).at("entry.notice_id")?,
            event,
            holder: AgencyId::from_wire(&e.holder).at("entry.holder")?,
            counterparty: crate::text::required(e.counterparty, crate::text::SHORT)
                .at("entry.counterparty")?,
            at: Timestamp::from_wire(e.at.as_ref()).at("entry.at")?,
            size: e.size,
        })
    }
}
