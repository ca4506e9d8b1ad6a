//! Checking an evidence bundle offline (docs/PROTOCOL.md section 11.3):
//! no node, no network; the rosters in the file (and, if given, one
//! obtained independently) are the only trust.

use std::collections::{BTreeMap, BTreeSet};

use prost::Message;

use super::BUNDLE_FORMAT;
use super::manifest::changed_ranges;
use super::report::{
    AttachmentFinding, CustodyFinding, LogFinding, NoticeFinding, Problem, ReceiptFinding, Report,
    RosterFinding,
};
use crate::ids::AgencyId;
use crate::pb;
use crate::receipt::{SignedReceipt, body_digest};
use crate::roster::{SignedRoster, TrustedRoster};
use crate::signing::{MANIFEST_PAYLOAD_TYPE, SignedNotice};
use crate::time::Timestamp;
use crate::transparency::checkpoint::Signed;
use crate::transparency::entry::{LogEntry, LogEntryKind};
use crate::transparency::proofs::InclusionProof;

/// The roster versions that verified, by version.
struct Rosters {
    trusted: BTreeMap<u64, TrustedRoster>,
}

impl Rosters {
    /// The version in force at `at`: the newest issued by then, else the
    /// oldest.
    fn at(&self, at: Timestamp) -> Option<&TrustedRoster> {
        self.trusted
            .values()
            .rev()
            .find(|r| r.roster().issued_at <= at)
            .or_else(|| self.trusted.values().next())
    }

    fn newest(&self) -> Option<&TrustedRoster> {
        self.trusted.values().next_back()
    }

    fn name_of(&self, agency: &AgencyId) -> Option<String> {
        self.newest()
            .and_then(|r| r.roster().agency(agency))
            .map(|a| a.name.clone())
    }
}

/// The check's working state.
struct Check {
    report: Report,
    manifest: BTreeMap<String, pb::ItemDigest>,
    listed: BTreeSet<String>,
}

impl Check {
    fn problem(&mut self, path: impl Into<String>, what: impl Into<String>) {
        self.report.problems.push(Problem::new(path, what));
    }

    /// Compares an item with the manifest: a change is a problem with its
    /// byte ranges; returns the ranges (empty if unchanged or unknown).
    fn against_manifest(&mut self, path: &str, bytes: &[u8]) -> Vec<(u64, u64)> {
        self.listed.insert(path.to_owned());
        let Some(digest) = self.manifest.get(path) else {
            if !self.manifest.is_empty() {
                self.problem(
                    path,
                    "not in the exporter's manifest: added to the file after export",
                );
            }
            return Vec::new();
        };
        match changed_ranges(digest, bytes) {
            None => Vec::new(),
            Some(ranges) => {
                let exporter = self.report.exported_by.clone().unwrap_or_default();
                self.report.problems.push(Problem {
                    path: path.to_owned(),
                    what: format!("its bytes differ from what {exporter} exported"),
                    changed_bytes: ranges.clone(),
                });
                ranges
            }
        }
    }

    /// A failure of a signed item, with the changed bytes if the manifest
    /// locates them.
    fn failed(&mut self, path: &str, what: String, changed: Vec<(u64, u64)>) {
        let what = if changed.is_empty() {
            what
        } else {
            format!("{what} (the item was changed after export, see its changed bytes)")
        };
        self.report.problems.push(Problem {
            path: path.to_owned(),
            what,
            changed_bytes: changed,
        });
    }
}

/// Checks `file` (an encoded `EvidenceBundle`) offline. With `pinned`
/// (an encoded `SignedRoster` obtained independently of the file), the
/// file must hold that roster byte for byte. Never fails: everything wrong
/// is a [`Problem`] in the report.
pub fn verify_bundle(file: &[u8], pinned: Option<&[u8]>) -> Report {
    let mut check = Check {
        report: Report::default(),
        manifest: BTreeMap::new(),
        listed: BTreeSet::new(),
    };
    let bundle = match pb::EvidenceBundle::decode(file) {
        Ok(b) => b,
        Err(e) => {
            check.problem("file", format!("not an evidence bundle: {e}"));
            return check.report;
        }
    };
    if bundle.format != BUNDLE_FORMAT {
        check.problem(
            "format",
            format!("expected {BUNDLE_FORMAT:?}, found {:?}", bundle.format),
        );
    }
    let manifest = read_manifest(&mut check, bundle.manifest.as_ref());
    let rosters = read_rosters(&mut check, &bundle.rosters, pinned);
    let exported_at = manifest.as_ref().map(|(m, _)| m.1);
    for (i, notice) in bundle.notices.iter().enumerate() {
        let finding = check_notice(&mut check, &rosters, i, notice, exported_at);
        check.report.notices.push(finding);
    }
    if let Some(((_, at, exporter), signed)) = &manifest {
        check_manifest_signature(&mut check, &rosters, signed, exporter, *at);
    }
    let missing: Vec<String> = check
        .manifest
        .keys()
        .filter(|p| !check.listed.contains(*p))
        .cloned()
        .collect();
    for path in missing {
        check.problem(
            path,
            "listed in the exporter's manifest but missing from the file",
        );
    }
    check.report.ok = check.report.problems.is_empty();
    check.report
}

type ManifestHead = ((String, Timestamp, AgencyId), Signed);

fn read_manifest(
    check: &mut Check,
    signed: Option<&pb::SignedEvidenceManifest>,
) -> Option<ManifestHead> {
    let Some(signed) = signed else {
        check.problem(
            "manifest",
            "missing: the file carries no exporter's manifest",
        );
        return None;
    };
    let parsed = Signed::read(
        signed.manifest.clone(),
        &signed.signer,
        &signed.key_id,
        &signed.signature,
        "manifest",
    );
    let signed_manifest = match parsed {
        Ok(s) => s,
        Err(e) => {
            check.problem("manifest", e.to_string());
            return None;
        }
    };
    let manifest = match pb::EvidenceManifest::decode(signed.manifest.as_slice()) {
        Ok(m) => m,
        Err(e) => {
            check.problem("manifest", format!("unreadable: {e}"));
            return None;
        }
    };
    let exporter = match AgencyId::from_wire(&manifest.exported_by) {
        Ok(a) => a,
        Err(e) => {
            check.problem("manifest.exported_by", e.to_string());
            return None;
        }
    };
    let at = match Timestamp::from_wire(manifest.exported_at.as_ref()) {
        Ok(t) => t,
        Err(e) => {
            check.problem("manifest.exported_at", e.to_string());
            return None;
        }
    };
    check.report.case_id = Some(manifest.case_id.clone());
    check.report.exported_by = Some(exporter.to_string());
    check.report.exported_at = Some(at.to_string());
    for item in manifest.items {
        check.manifest.insert(item.path.clone(), item);
    }
    Some(((manifest.case_id, at, exporter), signed_manifest))
}

fn read_rosters(check: &mut Check, rosters: &[Vec<u8>], pinned: Option<&[u8]>) -> Rosters {
    let mut out = Rosters {
        trusted: BTreeMap::new(),
    };
    let mut previous: Option<TrustedRoster> = None;
    for (i, bytes) in rosters.iter().enumerate() {
        let path = format!("rosters[{i}]");
        let changed = check.against_manifest(&path, bytes);
        let signed = match SignedRoster::decode(bytes) {
            Ok(s) => s,
            Err(e) => {
                check.failed(&path, format!("not a signed roster: {e}"), changed);
                continue;
            }
        };
        let roster = match signed.roster() {
            Ok(r) => r,
            Err(e) => {
                check.failed(&path, format!("invalid roster: {e}"), changed);
                continue;
            }
        };
        let signed_by: Vec<String> = roster
            .stewards
            .iter()
            .filter(|s| signed.signatures().iter().any(|(k, _)| k == &s.key_id))
            .map(|s| format!("{:?} {} {}", s.state, s.key_id, s.public_key.to_hex()))
            .collect();
        let (trusted, trust) = match previous.clone() {
            Some(mut prev) if prev.roster().version + 1 == roster.version => {
                let from = prev.roster().version;
                match prev.update(signed.clone(), roster.issued_at) {
                    Ok(()) => (
                        Ok(prev),
                        format!("signed by the stewards of version {from}"),
                    ),
                    Err(e) => (Err(e.to_string()), String::new()),
                }
            }
            _ => match TrustedRoster::bootstrap(signed.clone(), roster.issued_at) {
                Ok(t) => (
                    Ok(t),
                    if i == 0 {
                        "the first version in the file, trusted on its own stewards' signatures"
                            .to_owned()
                    } else {
                        "not linked to the version before it in the file (versions missing); trusted on its own stewards' signatures".to_owned()
                    },
                ),
                Err(e) => (Err(e.to_string()), String::new()),
            },
        };
        let trust = match trusted {
            Ok(t) => {
                check.report.verified += 1;
                out.trusted.insert(roster.version, t.clone());
                previous = Some(t);
                trust
            }
            Err(e) => {
                check.failed(&path, format!("does not verify: {e}"), changed);
                format!("NOT trusted: {e}")
            }
        };
        check.report.rosters.push(RosterFinding {
            path,
            version: roster.version,
            issued_at: roster.issued_at.to_string(),
            expires_at: roster.expires_at.to_string(),
            signed_by,
            trust,
        });
    }
    if out.trusted.is_empty() {
        check.problem(
            "rosters",
            "no roster in the file verifies: nothing can be checked",
        );
    }
    if let Some(pinned) = pinned {
        if rosters.iter().any(|r| r.as_slice() == pinned) {
            check.report.roster_pinned = true;
        } else {
            check.problem(
                "rosters",
                "the roster given independently is not in the file byte for byte",
            );
        }
    }
    out
}

fn check_manifest_signature(
    check: &mut Check,
    rosters: &Rosters,
    signed: &Signed,
    exporter: &AgencyId,
    at: Timestamp,
) {
    let Some(roster) = rosters.at(at).or(rosters.newest()) else {
        return;
    };
    match signed.verify(MANIFEST_PAYLOAD_TYPE, exporter, at, roster, at) {
        Ok(()) => {
            check.report.manifest_verified = true;
            check.report.verified += 1;
        }
        Err(e) => check.problem(
            "manifest",
            format!("the exporter's signature does not verify: {e}"),
        ),
    }
}

fn check_notice(
    check: &mut Check,
    rosters: &Rosters,
    i: usize,
    notice: &pb::EvidenceNotice,
    exported_at: Option<Timestamp>,
) -> NoticeFinding {
    let path = format!("notices[{i}]");
    let mut finding = NoticeFinding {
        path: path.clone(),
        ..NoticeFinding::default()
    };
    let changed = check.against_manifest(&path, &notice.signed_notice);
    let signed = match SignedNotice::decode(&notice.signed_notice) {
        Ok(s) => s,
        Err(e) => {
            check.failed(&path, format!("not a signed notice: {e}"), changed);
            list_receipts(check, &path, notice);
            return finding;
        }
    };
    finding.sender = Some(signed.signer().to_string());
    finding.sender_name = rosters.name_of(signed.signer());
    // The id the content hashes to; if the body no longer decodes, the id
    // it claims (its receipts and proofs are still checked on their own).
    let mut named: Vec<crate::notice::AttachmentRef> = Vec::new();
    let (id, body_ok) = match signed.open_body() {
        Ok((id, body)) => {
            named.clone_from(&body.attachments);
            finding.id = Some(id.to_string());
            finding.kind = Some(body.kind().wire_name().to_owned());
            finding.recipients = body.recipients.iter().map(ToString::to_string).collect();
            finding.created_at = Some(body.created_at.to_string());
            for part in crate::disclosure::parts(&body) {
                if part.disclosed {
                    finding.disclosed.push(part.path);
                } else {
                    finding.withheld.push(part.path);
                }
            }
            check_case(check, &path, &body);
            verify_signed_notice(
                check,
                rosters,
                &path,
                &signed,
                id,
                body.created_at,
                &changed,
                &mut finding,
            );
            (Some(id), finding.verified)
        }
        Err(e) => {
            check.failed(
                &path,
                format!("its body does not decode: {e}"),
                changed.clone(),
            );
            (signed.claimed_id(), false)
        }
    };
    let Some(id) = id else {
        list_receipts(check, &path, notice);
        return finding;
    };
    let entry_kind = |p: &pb::LogProof| LogEntryKind::from_wire(p.kind);
    for (j, proof) in notice.proofs.iter().enumerate() {
        let proof_path = format!("{path}.proofs[{j}]");
        match entry_kind(proof) {
            Some(kind @ (LogEntryKind::NoticeSent | LogEntryKind::NoticeReceived)) => {
                let entry = LogEntry::of(
                    kind,
                    id,
                    &crate::signing::logged_bytes(&notice.signed_notice),
                )
                .encode();
                if let Some(l) =
                    check_proof(check, rosters, &proof_path, proof, &entry, exported_at)
                {
                    finding.logged.push(l);
                }
            }
            _ => check.problem(
                format!("{proof_path}.kind"),
                "a notice is logged as NOTICE_SENT or NOTICE_RECEIVED",
            ),
        }
    }
    // A receipt is held to the notice's bytes only when the notice itself
    // is intact (otherwise the notice's problem is the one to name).
    let digest = body_ok.then(|| body_digest(&signed));
    for (k, receipt) in notice.receipts.iter().enumerate() {
        let r = check_receipt(
            check,
            rosters,
            &path,
            k,
            receipt,
            id,
            digest.as_ref(),
            exported_at,
        );
        finding.receipts.push(r);
    }
    for (j, attachment) in notice.attachments.iter().enumerate() {
        let a = check_attachment(
            check,
            rosters,
            &path,
            j,
            attachment,
            id,
            &named,
            body_ok,
            exported_at,
        );
        finding.attachments.push(a);
    }
    finding
}

/// An attachment: named by the notice, its bytes (if carried) exactly the
/// file named, its custody entries signed and logged.
#[allow(clippy::too_many_arguments)]
fn check_attachment(
    check: &mut Check,
    rosters: &Rosters,
    notice_path: &str,
    j: usize,
    attachment: &pb::EvidenceAttachment,
    id: crate::ids::NoticeId,
    named: &[crate::notice::AttachmentRef],
    body_ok: bool,
    exported_at: Option<Timestamp>,
) -> AttachmentFinding {
    use sha2::{Digest, Sha256};
    let path = format!("{notice_path}.attachments[{j}]");
    let mut finding = AttachmentFinding {
        path: path.clone(),
        sha256: hex::encode(&attachment.sha256),
        included: !attachment.data.is_empty(),
        ..AttachmentFinding::default()
    };
    let reference = named
        .iter()
        .find(|a| a.sha256.as_slice() == attachment.sha256.as_slice());
    if let Some(r) = reference {
        finding.media_type = Some(r.media_type.clone());
        finding.size = Some(r.size);
    } else if body_ok {
        check.problem(
            format!("{path}.sha256"),
            "not an attachment the notice names",
        );
    }
    if finding.included {
        let changed = check.against_manifest(&path, &attachment.data);
        let digest: [u8; 32] = Sha256::digest(&attachment.data).into();
        if digest.as_slice() == attachment.sha256.as_slice() && reference.is_some() {
            finding.verified = true;
            check.report.verified += 1;
        } else if reference.is_some() || !body_ok {
            check.failed(
                &path,
                format!(
                    "its bytes hash to {}, not to the digest the sender signed ({})",
                    hex::encode(digest),
                    hex::encode(&attachment.sha256)
                ),
                changed,
            );
        }
    }
    for (k, custody) in attachment.custody.iter().enumerate() {
        let custody_path = format!("{path}.custody[{k}]");
        if let Some(c) = check_custody(
            check,
            rosters,
            &custody_path,
            custody,
            &attachment.sha256,
            id,
            exported_at,
        ) {
            finding.custody.push(c);
        }
    }
    finding
}

/// One custody entry of an attachment: signed by its holder, of this file,
/// in the holder's log.
fn check_custody(
    check: &mut Check,
    rosters: &Rosters,
    path: &str,
    custody: &pb::EvidenceCustody,
    sha256: &[u8],
    id: crate::ids::NoticeId,
    exported_at: Option<Timestamp>,
) -> Option<CustodyFinding> {
    use crate::custody::CustodyEntry;
    let changed = check.against_manifest(path, &custody.signed_custody_entry);
    let entry = match CustodyEntry::read(&custody.signed_custody_entry) {
        Ok(e) => e,
        Err(e) => {
            check.failed(path, format!("not a custody entry: {e}"), changed);
            return None;
        }
    };
    if entry.sha256.as_slice() != sha256 {
        check.failed(path, "an entry for another file".into(), changed);
        return None;
    }
    if entry.notice_id.is_some_and(|n| n != id) {
        check.problem(
            path,
            "an entry for the file as it travelled with another notice",
        );
    }
    match rosters
        .at(entry.at)
        .map(|roster| CustodyEntry::verify(&custody.signed_custody_entry, roster, entry.at))
    {
        Some(Ok(_)) => check.report.verified += 1,
        Some(Err(e)) => {
            check.failed(
                path,
                format!("does not verify ({}): {e}", e.reason()),
                changed,
            );
            return None;
        }
        None => {
            check.failed(path, "no roster to check it with".into(), changed);
            return None;
        }
    }
    let logged_id = entry
        .notice_id
        .unwrap_or(crate::ids::NoticeId::from_bytes([0; 32]));
    let leaf = LogEntry::of(
        LogEntryKind::Custody,
        logged_id,
        &custody.signed_custody_entry,
    )
    .encode();
    let mut logged = Vec::new();
    for (p, proof) in custody.proofs.iter().enumerate() {
        let proof_path = format!("{path}.proofs[{p}]");
        if LogEntryKind::from_wire(proof.kind) != Some(LogEntryKind::Custody) {
            check.problem(
                format!("{proof_path}.kind"),
                "a custody entry is logged as CUSTODY",
            );
            continue;
        }
        if let Some(l) = check_proof(check, rosters, &proof_path, proof, &leaf, exported_at) {
            logged.push(l);
        }
    }
    Some(CustodyFinding {
        path: path.to_owned(),
        event: entry.event.wire_name().to_owned(),
        holder: entry.holder.to_string(),
        counterparty: entry.counterparty,
        at: entry.at.to_string(),
        logged,
    })
}

/// Marks a notice's receipts and attachments as seen (for the manifest's completeness)
/// when the notice is too damaged to check them against.
fn list_receipts(check: &mut Check, path: &str, notice: &pb::EvidenceNotice) {
    for (k, r) in notice.receipts.iter().enumerate() {
        let receipt_path = format!("{path}.receipts[{k}]");
        check.against_manifest(&receipt_path, &r.signed_receipt);
    }
    for (j, a) in notice.attachments.iter().enumerate() {
        let attachment_path = format!("{path}.attachments[{j}]");
        if !a.data.is_empty() {
            check.against_manifest(&attachment_path, &a.data);
        }
        for (k, c) in a.custody.iter().enumerate() {
            check.against_manifest(
                &format!("{attachment_path}.custody[{k}]"),
                &c.signed_custody_entry,
            );
        }
    }
}

/// A notice of another case than the bundle's.
fn check_case(check: &mut Check, path: &str, body: &crate::notice::NoticeBody) {
    let Some(case) = check.report.case_id.clone() else {
        return;
    };
    let of = body.case_id.as_ref().map(ToString::to_string);
    if of.as_deref() != Some(case.as_str()) {
        check.problem(
            path,
            format!(
                "of case {}, not of the bundle's case {case}",
                of.unwrap_or_else(|| "(none)".into())
            ),
        );
    }
}

/// The sender's signature and every rule, with the roster in force when
/// the notice was created.
#[allow(clippy::too_many_arguments)]
fn verify_signed_notice(
    check: &mut Check,
    rosters: &Rosters,
    path: &str,
    signed: &SignedNotice,
    id: crate::ids::NoticeId,
    created_at: Timestamp,
    changed: &[(u64, u64)],
    finding: &mut NoticeFinding,
) {
    match rosters.at(created_at) {
        Some(roster) => match roster.verify_notice(signed, created_at) {
            Ok(_) => {
                finding.verified = true;
                check.report.verified += 1;
            }
            Err(e) => check.failed(
                path,
                format!("notice {id} does not verify ({}): {e}", e.reason()),
                changed.to_vec(),
            ),
        },
        None => check.failed(path, "no roster to check it with".into(), changed.to_vec()),
    }
}

#[allow(clippy::too_many_arguments)]
fn check_receipt(
    check: &mut Check,
    rosters: &Rosters,
    notice_path: &str,
    k: usize,
    receipt: &pb::EvidenceReceipt,
    id: crate::ids::NoticeId,
    digest: Option<&[u8; 32]>,
    exported_at: Option<Timestamp>,
) -> ReceiptFinding {
    let path = format!("{notice_path}.receipts[{k}]");
    let mut finding = ReceiptFinding {
        path: path.clone(),
        ..ReceiptFinding::default()
    };
    let changed = check.against_manifest(&path, &receipt.signed_receipt);
    let signed = match SignedReceipt::decode(&receipt.signed_receipt) {
        Ok(s) => s,
        Err(e) => {
            check.failed(&path, format!("not a signed receipt: {e}"), changed);
            return finding;
        }
    };
    let unverified = match signed.receipt_unverified() {
        Ok(r) => r,
        Err(e) => {
            check.failed(&path, format!("unreadable receipt: {e}"), changed);
            return finding;
        }
    };
    finding.stage = Some(unverified.stage.wire_name().to_owned());
    finding.receiver = Some(unverified.receiver.to_string());
    finding.at = Some(unverified.at.to_string());
    match rosters.at(unverified.at) {
        Some(roster) => match roster.verify_receipt(&signed, unverified.at) {
            Ok(r) if r.notice_id != id => check.failed(
                &path,
                format!("a receipt for notice {}, not for {id}", r.notice_id),
                changed,
            ),
            Ok(r) if digest.is_some_and(|d| &r.body_sha256 != d) => check.failed(
                &path,
                format!(
                    "names body SHA-256 {}, but the notice's body hashes to {}",
                    hex::encode(r.body_sha256),
                    digest.map(hex::encode).unwrap_or_default()
                ),
                changed,
            ),
            Ok(_) => {
                finding.verified = true;
                check.report.verified += 1;
            }
            Err(e) => check.failed(
                &path,
                format!("does not verify ({}): {e}", e.reason()),
                changed,
            ),
        },
        None => check.failed(&path, "no roster to check it with".into(), changed),
    }
    for (j, proof) in receipt.proofs.iter().enumerate() {
        let proof_path = format!("{path}.proofs[{j}]");
        if LogEntryKind::from_wire(proof.kind) != Some(LogEntryKind::Receipt) {
            check.problem(
                format!("{proof_path}.kind"),
                "a receipt is logged as RECEIPT",
            );
            continue;
        }
        let entry = LogEntry::of(LogEntryKind::Receipt, id, &receipt.signed_receipt).encode();
        if let Some(l) = check_proof(check, rosters, &proof_path, proof, &entry, exported_at) {
            finding.logged.push(l);
        }
    }
    finding
}

/// Checks one log proof of `entry`; a failure is a problem named by the
/// part that failed.
fn check_proof(
    check: &mut Check,
    rosters: &Rosters,
    path: &str,
    proof: &pb::LogProof,
    entry: &[u8],
    exported_at: Option<Timestamp>,
) -> Option<LogFinding> {
    let log = match AgencyId::from_wire(&proof.log) {
        Ok(a) => a,
        Err(e) => {
            check.problem(format!("{path}.log"), e.to_string());
            return None;
        }
    };
    let inclusion = match proof
        .proof
        .clone()
        .ok_or_else(|| crate::ValidationError::missing("proof"))
        .and_then(InclusionProof::try_from)
    {
        Ok(p) => p,
        Err(e) => {
            check.problem(format!("{path}.proof"), e.to_string());
            return None;
        }
    };
    let at = inclusion
        .checkpoint
        .checkpoint
        .checkpoint_unverified()
        .map(|c| c.at)
        .ok();
    // Checkpoints are checked as of the export (or their own time): their
    // cosignatures came before it.
    let now = exported_at.or(at).unwrap_or_else(Timestamp::now);
    let roster = rosters.at(at.unwrap_or(now)).or(rosters.newest())?;
    match inclusion.verify(&log, entry, roster, now) {
        Ok((checkpoint, witnesses)) => {
            check.report.verified += 1;
            Some(LogFinding {
                log: log.to_string(),
                index: inclusion.index,
                size: checkpoint.size,
                checkpoint_at: checkpoint.at.to_string(),
                witnesses: witnesses.iter().map(ToString::to_string).collect(),
            })
        }
        Err(e) => {
            check.problem(
                format!("{path}.proof"),
                format!("the proof that {log}'s log holds this does not hold: {e}"),
            );
            None
        }
    }
}
