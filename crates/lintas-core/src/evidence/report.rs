//! What the check of an evidence bundle found, for people
//! ([`Report::to_text`]) and machines (serde, `lintas evidence verify
//! --json`).

use std::fmt::Write as _;

use serde::Serialize;

/// The outcome of checking a bundle.
#[derive(Debug, Clone, Default, Serialize)]
#[non_exhaustive]
pub struct Report {
    /// True when every check passed and nothing was found changed.
    pub ok: bool,
    /// The case, as the exporter's manifest states it.
    pub case_id: Option<String>,
    /// The exporting agency.
    pub exported_by: Option<String>,
    /// When it exported.
    pub exported_at: Option<String>,
    /// Whether the exporter's manifest signature verified.
    pub manifest_verified: bool,
    /// The roster versions in the bundle.
    pub rosters: Vec<RosterFinding>,
    /// Whether a roster obtained independently was given and found in the
    /// bundle, byte for byte.
    pub roster_pinned: bool,
    /// The notices, in file order.
    pub notices: Vec<NoticeFinding>,
    /// Everything that failed or was changed, each named by where it is.
    pub problems: Vec<Problem>,
    /// The number of signatures and proofs that verified.
    pub verified: u64,
}

/// One roster version.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct RosterFinding {
    /// Where it is in the file.
    pub path: String,
    /// Its version.
    pub version: u64,
    /// When issued and when it expires.
    pub issued_at: String,
    /// When it expires.
    pub expires_at: String,
    /// The steward keys that signed it, "STATE key_id public-key-hex".
    pub signed_by: Vec<String>,
    /// How it is trusted: "first version in the file (compare its steward
    /// keys with the published roster)", "signed by the stewards of version
    /// N", or why it is not.
    pub trust: String,
}

/// A notice and what was established about it.
#[derive(Debug, Clone, Default, Serialize)]
#[non_exhaustive]
pub struct NoticeFinding {
    /// Where it is in the file.
    pub path: String,
    /// Its id (hex).
    pub id: Option<String>,
    /// Its kind (protocol name).
    pub kind: Option<String>,
    /// The signing agency.
    pub sender: Option<String>,
    /// The sender's name in the roster.
    pub sender_name: Option<String>,
    /// Recipients.
    pub recipients: Vec<String>,
    /// When the sender created it.
    pub created_at: Option<String>,
    /// Whether the sender's signature and every rule verified.
    pub verified: bool,
    /// Nodes' logs holding it.
    pub logged: Vec<LogFinding>,
    /// Its receipts.
    pub receipts: Vec<ReceiptFinding>,
    /// Its attachments.
    pub attachments: Vec<AttachmentFinding>,
    /// Protected parts whose values the bundle discloses, each checked
    /// against the commitment the sender signed (docs/PROTOCOL.md section
    /// 14.4): their paths in the body.
    pub disclosed: Vec<String>,
    /// Protected parts the bundle does not disclose (the exporter was not
    /// given them, or left them out): their paths.
    pub withheld: Vec<String>,
}

/// An attachment and what was established about it.
#[derive(Debug, Clone, Default, Serialize)]
#[non_exhaustive]
pub struct AttachmentFinding {
    /// Where it is in the file.
    pub path: String,
    /// Its SHA-256 (hex), as the notice names it.
    pub sha256: String,
    /// Its media type and size, as the notice states them.
    pub media_type: Option<String>,
    /// Its size in bytes, as the notice states it.
    pub size: Option<u64>,
    /// Whether the file's bytes are in the bundle.
    pub included: bool,
    /// Whether the bytes (when included) are exactly the file the sender
    /// named.
    pub verified: bool,
    /// Its chain of custody at the exporter.
    pub custody: Vec<CustodyFinding>,
}

/// A verified custody entry.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct CustodyFinding {
    /// Where it is in the file.
    pub path: String,
    /// What happened (protocol name).
    pub event: String,
    /// The node that held it (the signer).
    pub holder: String,
    /// From or to whom.
    pub counterparty: String,
    /// When.
    pub at: String,
    /// Nodes' logs holding the entry.
    pub logged: Vec<LogFinding>,
}

/// A receipt and what was established about it.
#[derive(Debug, Clone, Default, Serialize)]
#[non_exhaustive]
pub struct ReceiptFinding {
    /// Where it is in the file.
    pub path: String,
    /// The stage (protocol name).
    pub stage: Option<String>,
    /// The recipient agency that signed it.
    pub receiver: Option<String>,
    /// When.
    pub at: Option<String>,
    /// Whether it verified and names this notice's exact bytes.
    pub verified: bool,
    /// Nodes' logs holding it.
    pub logged: Vec<LogFinding>,
}

/// That a statement is in a node's log, as verified.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct LogFinding {
    /// Whose log.
    pub log: String,
    /// The entry's position.
    pub index: u64,
    /// The size of the checkpoint proven against.
    pub size: u64,
    /// When the log's node signed that checkpoint.
    pub checkpoint_at: String,
    /// Agencies that witnessed (cosigned) that checkpoint.
    pub witnesses: Vec<String>,
}

/// Something that failed or was changed.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[non_exhaustive]
pub struct Problem {
    /// Where: `notices[2]`, `notices[2].receipts[0]`,
    /// `notices[2].proofs[1]`, `rosters[0]`, `manifest`, `file`.
    pub path: String,
    /// What is wrong.
    pub what: String,
    /// The byte ranges of the item changed since export (from the
    /// exporter's manifest), when known: half-open offsets in the item.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub changed_bytes: Vec<(u64, u64)>,
}

impl Problem {
    pub(crate) fn new(path: impl Into<String>, what: impl Into<String>) -> Self {
        Problem {
            path: path.into(),
            what: what.into(),
            changed_bytes: Vec::new(),
        }
    }
}

fn or_unknown(v: &Option<String>) -> &str {
    v.as_deref().unwrap_or("(unreadable)")
}

fn logged_lines(out: &mut String, indent: &str, logged: &[LogFinding]) {
    for l in logged {
        let witnesses = if l.witnesses.is_empty() {
            "not yet witnessed by other agencies".to_owned()
        } else {
            format!("witnessed by {}", l.witnesses.join(", "))
        };
        let _ = writeln!(
            out,
            "{indent}recorded in {}'s log as entry {} of {} (checkpoint signed {}, {witnesses})",
            l.log, l.index, l.size, l.checkpoint_at
        );
    }
}

impl Report {
    /// The report for people: who sent what to whom and when, who received
    /// and acted on it, what each signature and proof establishes, and every
    /// problem named by where it is.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "Evidence bundle for case {}, exported by {} at {}.",
            or_unknown(&self.case_id),
            or_unknown(&self.exported_by),
            or_unknown(&self.exported_at)
        );
        let _ = writeln!(
            out,
            "The exporter's signature over the list of what the file holds: {}.",
            if self.manifest_verified {
                "valid"
            } else {
                "NOT VALID"
            }
        );
        let _ = writeln!(out, "\nTrust roster (who may sign, with which keys):");
        for r in &self.rosters {
            let _ = writeln!(
                out,
                "  {}: version {}, issued {}, expires {}; {}.",
                r.path, r.version, r.issued_at, r.expires_at, r.trust
            );
            for s in &r.signed_by {
                let _ = writeln!(out, "    signed by steward {s}");
            }
        }
        let _ = writeln!(
            out,
            "  {}",
            if self.roster_pinned {
                "The roster given to this check independently is in the bundle, byte for byte."
            } else {
                "No roster was given independently: compare the steward keys above with the roster published by the member states."
            }
        );
        for n in &self.notices {
            let _ = writeln!(
                out,
                "\n{}: {} sent by {}{} to {} at {}.",
                n.path,
                or_unknown(&n.kind),
                or_unknown(&n.sender),
                n.sender_name
                    .as_ref()
                    .map(|s| format!(" ({s})"))
                    .unwrap_or_default(),
                if n.recipients.is_empty() {
                    "(unreadable)".to_owned()
                } else {
                    n.recipients.join(", ")
                },
                or_unknown(&n.created_at)
            );
            if let Some(id) = &n.id {
                let _ = writeln!(out, "  Notice id {id}.");
            }
            let _ = writeln!(
                out,
                "  {}",
                if n.verified {
                    "The sender's signature is valid with a key the roster gave it at that time, and the notice is exactly what it signed."
                } else {
                    "The notice does NOT verify: see the problems below."
                }
            );
            if !n.disclosed.is_empty() {
                let _ = writeln!(
                    out,
                    "  Protected parts disclosed, each exactly what the sender committed to: {}.",
                    n.disclosed.join(", ")
                );
            }
            if !n.withheld.is_empty() {
                let _ = writeln!(
                    out,
                    "  Protected parts not disclosed in this bundle: {}.",
                    n.withheld.join(", ")
                );
            }
            logged_lines(&mut out, "  ", &n.logged);
            for r in &n.receipts {
                let _ = writeln!(
                    out,
                    "  {}: {} by {} at {}: {}",
                    r.path,
                    or_unknown(&r.stage),
                    or_unknown(&r.receiver),
                    or_unknown(&r.at),
                    if r.verified {
                        "signed by the recipient, naming this notice's exact bytes."
                    } else {
                        "does NOT verify: see the problems below."
                    }
                );
                logged_lines(&mut out, "    ", &r.logged);
            }
            for a in &n.attachments {
                let _ = writeln!(
                    out,
                    "  {}: attachment {} ({}, {} bytes): {}",
                    a.path,
                    a.sha256,
                    a.media_type.as_deref().unwrap_or("(unknown type)"),
                    a.size.map_or_else(|| "?".to_owned(), |s| s.to_string()),
                    match (a.included, a.verified) {
                        (true, true) =>
                            "the file in this bundle is exactly the file the sender named.",
                        (true, false) =>
                            "the file in this bundle is NOT the file the sender named: see the problems below.",
                        (false, _) => "only its digest is in this bundle.",
                    }
                );
                for c in &a.custody {
                    let _ = writeln!(
                        out,
                        "    {}: {} by {} ({}) at {}, signed by {}",
                        c.path, c.event, c.holder, c.counterparty, c.at, c.holder
                    );
                    logged_lines(&mut out, "      ", &c.logged);
                }
            }
        }
        let _ = writeln!(out);
        if self.problems.is_empty() {
            let _ = writeln!(
                out,
                "Result: every check passed ({} signatures and proofs verified); nothing in the file was changed after export.",
                self.verified
            );
        } else {
            let _ = writeln!(
                out,
                "Result: {} PROBLEM(S) ({} signatures and proofs verified):",
                self.problems.len(),
                self.verified
            );
            for p in &self.problems {
                let ranges = if p.changed_bytes.is_empty() {
                    String::new()
                } else {
                    format!(
                        " [changed bytes: {}]",
                        p.changed_bytes
                            .iter()
                            .map(|(a, b)| format!("{a}..{b}"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                };
                let _ = writeln!(out, "  {}: {}{ranges}", p.path, p.what);
            }
        }
        out
    }
}
