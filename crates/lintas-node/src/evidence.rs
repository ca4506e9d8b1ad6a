//! Exporting a case's evidence bundle (docs/PROTOCOL.md section 11): the
//! notices and receipts as this node stored them, each with inclusion
//! proofs from this node's log and from the other party's (asked over the
//! transport; a party that cannot be reached is left out, and the report
//! shows which proofs the file holds), the roster versions trusted in
//! turn, sealed with this node's signed manifest.

use lintas_core::custody::CustodyEntry;
use lintas_core::evidence::{
    Bundle, EvidenceAttachment, EvidenceCustody, EvidenceNotice, EvidenceReceipt, LogProof,
};
use lintas_core::ids::{AgencyId, NoticeId};
use lintas_core::signing::SignedNotice;
use lintas_core::time::Timestamp;
use lintas_core::transparency::entry::{LogEntry, LogEntryKind};

use crate::transport::Transport;
use crate::{Engine, Refusal};

/// An exported bundle.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ExportedEvidence {
    /// The file's bytes (an encoded `EvidenceBundle`).
    pub file: Vec<u8>,
    /// How many notices it holds.
    pub notices: usize,
    /// Proofs asked of other nodes that could not be had (unreachable or
    /// refused): "notices[1] from KHM.MOI.ATHP: unreachable", for the
    /// operator.
    pub missing_proofs: Vec<String>,
}

impl Engine {
    /// Exports everything this node holds about `case_id` as an evidence
    /// bundle, asking the other parties' nodes through `transport` for
    /// proofs from their logs.
    ///
    /// # Errors
    /// No notice of that case here (`not_found`), or a store failure.
    pub async fn export_evidence<T: Transport>(
        &self,
        case_id: &str,
        with_attachments: bool,
        transport: &T,
        now: Timestamp,
    ) -> Result<ExportedEvidence, Refusal> {
        let stored = self.store().case_notices(case_id)?;
        if stored.is_empty() {
            return Err(Refusal::NotFound(format!(
                "no notice of case {case_id} here"
            )));
        }
        let mut rosters = self.store().roster_history()?;
        let current = self.roster().signed().encode();
        if rosters.last() != Some(&current) {
            rosters.push(current);
        }
        let mut bundle = Bundle {
            rosters,
            notices: Vec::with_capacity(stored.len()),
        };
        let mut missing = Vec::new();
        let (purged, stored): (Vec<_>, Vec<_>) =
            stored.into_iter().partition(|(_, n)| n.is_purged());
        for (id, _) in purged {
            missing.push(format!(
                "notice {id}: its personal data was removed under the retention rules (its tombstone and PURGED log entry remain)"
            ));
        }
        for (i, (id, notice)) in stored.into_iter().enumerate() {
            let sent = notice.sender == self.agency().as_str();
            // Logs commit to the signed part only (what every holder logs).
            let bytes = lintas_core::signing::logged_bytes(&notice.envelope);
            let envelope = notice.envelope;
            let mut proofs = Vec::new();
            let (own, theirs) = if sent {
                (LogEntryKind::NoticeSent, LogEntryKind::NoticeReceived)
            } else {
                (LogEntryKind::NoticeReceived, LogEntryKind::NoticeSent)
            };
            self.own_proof(&mut proofs, own, id, &bytes, now);
            let others: Vec<String> = if sent {
                notice.recipients.clone()
            } else {
                vec![notice.sender.clone()]
            };
            for other in others {
                let what = format!("notices[{i}] from {other}");
                self.their_proof(
                    transport,
                    &mut proofs,
                    &mut missing,
                    &other,
                    theirs,
                    id,
                    &bytes,
                    what,
                    now,
                )
                .await;
            }
            let mut receipts = Vec::new();
            for (k, (_, receiver, receipt)) in self.store().receipts(&id)?.into_iter().enumerate() {
                let mut receipt_proofs = Vec::new();
                self.own_proof(
                    &mut receipt_proofs,
                    LogEntryKind::Receipt,
                    id,
                    &receipt,
                    now,
                );
                // The other party to a receipt: its signer, or (for one this
                // node signed) the notice's sender.
                let other = if receiver == self.agency().as_str() {
                    notice.sender.clone()
                } else {
                    receiver
                };
                if other != self.agency().as_str() {
                    let what = format!("notices[{i}].receipts[{k}] from {other}");
                    self.their_proof(
                        transport,
                        &mut receipt_proofs,
                        &mut missing,
                        &other,
                        LogEntryKind::Receipt,
                        id,
                        &receipt,
                        what,
                        now,
                    )
                    .await;
                }
                receipts.push(EvidenceReceipt {
                    signed_receipt: receipt,
                    proofs: receipt_proofs,
                });
            }
            let attachments = self.attachments_of(id, &envelope, with_attachments, now)?;
            bundle.notices.push(EvidenceNotice {
                signed_notice: envelope,
                proofs,
                receipts,
                attachments,
            });
        }
        let notices = bundle.notices.len();
        let file = bundle.seal(case_id, self.agency(), now, &self.inner.key);
        tracing::info!(
            case = case_id,
            notices,
            bytes = file.len(),
            missing = missing.len(),
            "evidence bundle exported"
        );
        Ok(ExportedEvidence {
            file,
            notices,
            missing_proofs: missing,
        })
    }

    /// The attachments a notice names, with this node's custody entries
    /// (and the bytes, if asked and held here whole).
    fn attachments_of(
        &self,
        id: NoticeId,
        notice: &[u8],
        with_data: bool,
        now: Timestamp,
    ) -> Result<Vec<EvidenceAttachment>, Refusal> {
        let named = SignedNotice::decode(notice)
            .ok()
            .and_then(|n| n.open_body().ok())
            .map(|(_, body)| body.attachments)
            .unwrap_or_default();
        let mut out = Vec::with_capacity(named.len());
        for a in named {
            let record = self.store().attachment(&a.sha256)?;
            let data = match record {
                Some(r) if with_data && r.complete => {
                    let pieces =
                        u32::try_from(r.size.div_ceil(crate::PIECE_BYTES as u64)).unwrap_or(0);
                    let mut data = Vec::with_capacity(usize::try_from(r.size).unwrap_or(0));
                    for i in 0..pieces {
                        data.extend_from_slice(&self.attachment_piece(&a.sha256, i)?);
                    }
                    Some(data)
                }
                _ => None,
            };
            let mut custody = Vec::new();
            for entry in self.store().custody(&a.sha256)? {
                let Ok(read) = CustodyEntry::read(&entry) else {
                    continue;
                };
                if read.notice_id.is_some_and(|n| n != id) {
                    continue;
                }
                let logged_id = read.notice_id.unwrap_or(NoticeId::from_bytes([0; 32]));
                let mut proofs = Vec::new();
                self.own_proof(&mut proofs, LogEntryKind::Custody, logged_id, &entry, now);
                custody.push(EvidenceCustody {
                    signed_custody_entry: entry,
                    proofs,
                });
            }
            out.push(EvidenceAttachment {
                sha256: a.sha256,
                data,
                custody,
            });
        }
        Ok(out)
    }

    fn own_proof(
        &self,
        proofs: &mut Vec<LogProof>,
        kind: LogEntryKind,
        id: NoticeId,
        bytes: &[u8],
        now: Timestamp,
    ) {
        let entry = LogEntry::of(kind, id, bytes).encode();
        match self.prove_inclusion(&entry, now) {
            Ok(proof) => proofs.push(LogProof {
                log: self.agency().clone(),
                kind,
                proof,
            }),
            Err(e) => tracing::warn!(notice = %id, error = %e, "no proof from this node's own log"),
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn their_proof<T: Transport>(
        &self,
        transport: &T,
        proofs: &mut Vec<LogProof>,
        missing: &mut Vec<String>,
        other: &str,
        kind: LogEntryKind,
        id: NoticeId,
        bytes: &[u8],
        what: String,
        now: Timestamp,
    ) {
        let Ok(agency) = AgencyId::parse(other) else {
            missing.push(format!("{what}: not an agency id"));
            return;
        };
        let entry = LogEntry::of(kind, id, bytes).encode();
        match transport.prove_inclusion(&agency, entry.clone()).await {
            Ok(Ok(proof)) => match proof.verify(&agency, &entry, &self.roster(), now) {
                Ok(_) => proofs.push(LogProof {
                    log: agency,
                    kind,
                    proof,
                }),
                Err(e) => missing.push(format!("{what}: its proof does not verify: {e}")),
            },
            Ok(Err(refused)) => {
                missing.push(format!("{what}: {}: {}", refused.reason, refused.message))
            }
            Err(unreachable) => missing.push(format!("{what}: unreachable: {unreachable}")),
        }
    }
}
