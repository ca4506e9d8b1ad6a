//! Evidence bundles (docs/PROTOCOL.md section 11): one file with what a
//! node holds about a case, in the exact bytes it stored, the inclusion
//! proofs of those bytes in the nodes' logs with their cosigned
//! checkpoints, and the roster versions that let anyone check all of it
//! offline; the exporter signs a manifest of the file so that a change is
//! located to its bytes.
//!
//! - [`Bundle`]: what an exporting node gathers, sealed into the file;
//! - [`manifest`]: the signed manifest and locating changed bytes;
//! - [`verify`](verify::verify_bundle): the offline check, giving a
//!   [`Report`] for people (`Report::to_text`) or machines (serde).
//!
//! Checking a file offline and reading the report (tests/it/evidence.rs
//! exports real cases and tampers with them):
//!
//! ```
//! use lintas_core::evidence::verify::verify_bundle;
//!
//! let report = verify_bundle(b"not a bundle", None);
//! assert!(!report.ok);
//! assert_eq!(report.problems[0].path, "file");
//! println!("{}", report.to_text()); // for people
//! let json = serde_json::to_string(&report)?; // for machines
//! # assert!(json.contains("\"ok\":false"));
//! # Ok::<(), serde_json::Error>(())
//! ```

pub mod manifest;
mod report;
pub mod verify;

use prost::Message;

use crate::ids::AgencyId;
use crate::keys::SigningKey;
use crate::pb;
use crate::time::Timestamp;
use crate::transparency::entry::LogEntryKind;
use crate::transparency::proofs::InclusionProof;

pub use report::{
    AttachmentFinding, CustodyFinding, LogFinding, NoticeFinding, Problem, ReceiptFinding, Report,
    RosterFinding,
};

/// The `format` of an evidence bundle.
pub const BUNDLE_FORMAT: &str = "lintas.v1.EvidenceBundle";

/// That an entry is in one node's log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogProof {
    /// Whose log.
    pub log: AgencyId,
    /// The entry's kind (the entry is rebuilt from the statement's bytes).
    pub kind: LogEntryKind,
    /// The proof with its checkpoint.
    pub proof: InclusionProof,
}

/// A receipt as stored, with its log proofs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvidenceReceipt {
    /// The exact `SignedReceipt` encoding.
    pub signed_receipt: Vec<u8>,
    /// Its `RECEIPT` entries in nodes' logs.
    pub proofs: Vec<LogProof>,
}

/// A custody entry as signed, with its log proofs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvidenceCustody {
    /// The exact `SignedCustodyEntry` encoding.
    pub signed_custody_entry: Vec<u8>,
    /// Its `CUSTODY` entry in the holder's log.
    pub proofs: Vec<LogProof>,
}

/// An attachment a notice names: its digest, maybe its bytes, and the
/// exporter's custody entries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvidenceAttachment {
    /// SHA-256 of the file.
    pub sha256: [u8; 32],
    /// The file, when exported with attachments.
    pub data: Option<Vec<u8>>,
    /// Custody entries, oldest first.
    pub custody: Vec<EvidenceCustody>,
}

/// A notice as stored, with its log proofs and receipts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvidenceNotice {
    /// The exact `SignedNotice` encoding.
    pub signed_notice: Vec<u8>,
    /// Its entries in nodes' logs.
    pub proofs: Vec<LogProof>,
    /// Its receipts.
    pub receipts: Vec<EvidenceReceipt>,
    /// Its attachments.
    pub attachments: Vec<EvidenceAttachment>,
}

/// What an exporting node gathered about a case.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Bundle {
    /// Exact `SignedRoster` encodings, oldest version first.
    pub rosters: Vec<Vec<u8>>,
    /// The case's notices.
    pub notices: Vec<EvidenceNotice>,
}

fn kind_to_wire(kind: LogEntryKind) -> pb::LogEntryKind {
    match kind {
        LogEntryKind::NoticeSent => pb::LogEntryKind::NoticeSent,
        LogEntryKind::NoticeReceived => pb::LogEntryKind::NoticeReceived,
        LogEntryKind::Receipt => pb::LogEntryKind::Receipt,
        LogEntryKind::Custody => pb::LogEntryKind::Custody,
        LogEntryKind::Purged => pb::LogEntryKind::Purged,
    }
}

fn proofs_to_wire(proofs: Vec<LogProof>) -> Vec<pb::LogProof> {
    proofs
        .into_iter()
        .map(|p| pb::LogProof {
            log: p.log.to_string(),
            kind: kind_to_wire(p.kind) as i32,
            proof: Some(p.proof.into()),
        })
        .collect()
}

impl Bundle {
    /// The file: the bundle with a manifest of every item signed by
    /// `exporter` (with `key`) at `at`, for case `case_id`.
    pub fn seal(
        self,
        case_id: &str,
        exporter: &AgencyId,
        at: Timestamp,
        key: &SigningKey,
    ) -> Vec<u8> {
        let mut items = Vec::new();
        for (i, r) in self.rosters.iter().enumerate() {
            items.push(manifest::digest_of(format!("rosters[{i}]"), r));
        }
        for (i, n) in self.notices.iter().enumerate() {
            items.push(manifest::digest_of(
                format!("notices[{i}]"),
                &n.signed_notice,
            ));
            for (k, r) in n.receipts.iter().enumerate() {
                items.push(manifest::digest_of(
                    format!("notices[{i}].receipts[{k}]"),
                    &r.signed_receipt,
                ));
            }
            for (j, a) in n.attachments.iter().enumerate() {
                if let Some(data) = &a.data {
                    items.push(manifest::digest_of(
                        format!("notices[{i}].attachments[{j}]"),
                        data,
                    ));
                }
                for (k, c) in a.custody.iter().enumerate() {
                    items.push(manifest::digest_of(
                        format!("notices[{i}].attachments[{j}].custody[{k}]"),
                        &c.signed_custody_entry,
                    ));
                }
            }
        }
        let manifest = pb::EvidenceManifest {
            case_id: case_id.to_owned(),
            exported_by: exporter.to_string(),
            exported_at: Some(at.into()),
            items,
        };
        let signed = manifest::sign(&manifest, exporter, key);
        pb::EvidenceBundle {
            format: BUNDLE_FORMAT.to_owned(),
            rosters: self.rosters,
            notices: self
                .notices
                .into_iter()
                .map(|n| pb::EvidenceNotice {
                    signed_notice: n.signed_notice,
                    proofs: proofs_to_wire(n.proofs),
                    receipts: n
                        .receipts
                        .into_iter()
                        .map(|r| pb::EvidenceReceipt {
                            signed_receipt: r.signed_receipt,
                            proofs: proofs_to_wire(r.proofs),
                        })
                        .collect(),
                    attachments: n
                        .attachments
                        .into_iter()
                        .map(|a| pb::EvidenceAttachment {
                            sha256: a.sha256.to_vec(),
                            data: a.data.unwrap_or_default(),
                            custody: a
                                .custody
                                .into_iter()
                                .map(|c| pb::EvidenceCustody {
                                    signed_custody_entry: c.signed_custody_entry,
                                    proofs: proofs_to_wire(c.proofs),
                                })
                                .collect(),
                        })
                        .collect(),
                })
                .collect(),
            manifest: Some(signed),
        }
        .encode_to_vec()
    }
}
