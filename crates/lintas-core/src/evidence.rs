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

pub use report::{LogFinding, NoticeFinding, Problem, ReceiptFinding, Report, RosterFinding};

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

/// A notice as stored, with its log proofs and receipts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvidenceNotice {
    /// The exact `SignedNotice` encoding.
    pub signed_notice: Vec<u8>,
    /// Its entries in nodes' logs.
    pub proofs: Vec<LogProof>,
    /// Its receipts.
    pub receipts: Vec<EvidenceReceipt>,
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
                })
                .collect(),
            manifest: Some(signed),
        }
        .encode_to_vec()
    }
}
