//! docs/PROTOCOL.md and the `.proto` files say the same thing: every enum
//! is marked open or closed and the document lists the closed ones; every
//! enum field of the signed messages says whether it is required or
//! optional and the document lists the optional ones; the document's list
//! of descriptive fields is exactly the fields of type `Text`.

use std::collections::BTreeSet;
use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn read(path: &str) -> String {
    std::fs::read_to_string(root().join(path)).unwrap()
}

const SIGNED: [&str; 6] = ["common", "case", "notice", "receipt", "roster", "log"];

struct Field {
    message: String,
    name: String,
    kind: String,
    repeated: bool,
    comment: String,
}

/// Enums (name, comment) and fields of a proto file, with the comment lines
/// right above each.
fn parse(text: &str) -> (Vec<(String, String)>, Vec<Field>) {
    let mut enums = Vec::new();
    let mut fields = Vec::new();
    let mut comment = String::new();
    let mut stack: Vec<(String, bool)> = Vec::new();
    for line in text.lines() {
        let t = line.trim();
        if let Some(c) = t.strip_prefix("//") {
            comment.push_str(c);
            comment.push(' ');
            continue;
        }
        if let Some(rest) = t.strip_prefix("enum ") {
            let name = rest.trim_end_matches('{').trim().to_owned();
            enums.push((name.clone(), comment.clone()));
            stack.push((name, true));
        } else if let Some(rest) = t.strip_prefix("message ") {
            stack.push((rest.trim_end_matches('{').trim().to_owned(), false));
        } else if t.starts_with("oneof ") || t.starts_with("service ") {
            stack.push((String::new(), false));
        } else if t == "}" {
            stack.pop();
        } else if let Some((decl, _)) = t.split_once('=') {
            let parts: Vec<&str> = decl.split_whitespace().collect();
            let in_message = stack.iter().rev().find(|(n, _)| !n.is_empty());
            if let Some((message, false)) = in_message
                && (parts.len() == 2 || (parts.len() == 3 && parts[0] == "repeated"))
            {
                let repeated = parts.len() == 3;
                fields.push(Field {
                    message: message.clone(),
                    kind: parts[parts.len() - 2].to_owned(),
                    name: parts[parts.len() - 1].to_owned(),
                    repeated,
                    comment: comment.clone(),
                });
            }
        }
        comment.clear();
    }
    (enums, fields)
}

fn signed_schema() -> (Vec<(String, String)>, Vec<Field>) {
    let mut enums = Vec::new();
    let mut fields = Vec::new();
    for file in SIGNED {
        let (e, f) = parse(&read(&format!("proto/lintas/v1/{file}.proto")));
        enums.extend(e);
        fields.extend(f);
    }
    (enums, fields)
}

/// The backquoted names in the paragraph of the document that starts with
/// `lead`, up to the next `stop` text.
fn listed(doc: &str, lead: &str, stop: &str) -> Vec<String> {
    let start = doc
        .find(lead)
        .unwrap_or_else(|| panic!("{lead} not in the document"));
    let rest = &doc[start + lead.len()..];
    let end = rest.find(stop).unwrap();
    rest[..end]
        .split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect()
}

fn set(names: Vec<String>) -> BTreeSet<String> {
    names.into_iter().collect()
}

fn words(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn every_enum_is_marked_and_the_closed_ones_are_listed() {
    let (enums, _) = signed_schema();
    let (node_enums, _) = parse(&read("proto/lintas/v1/node.proto"));
    let mut closed = BTreeSet::new();
    let mut unmarked = Vec::new();
    for (name, comment) in enums.iter().chain(&node_enums) {
        let comment = words(comment);
        let open = comment.contains("Open enum");
        let is_closed = comment.contains("Closed enum");
        if open == is_closed {
            unmarked.push(name.clone());
        }
        if is_closed {
            closed.insert(name.clone());
        }
    }
    assert!(
        unmarked.is_empty(),
        "not marked open or closed: {unmarked:?}"
    );
    let doc = read("docs/PROTOCOL.md");
    assert_eq!(
        set(listed(
            &doc,
            "The closed enums are:",
            "Every other enum is open."
        )),
        closed
    );
}

#[test]
fn every_enum_field_says_required_or_optional_and_the_optional_ones_are_listed() {
    let (enums, fields) = signed_schema();
    let names: BTreeSet<&str> = enums.iter().map(|(n, _)| n.as_str()).collect();
    let mut optional = BTreeSet::new();
    let mut silent = Vec::new();
    for f in fields
        .iter()
        .filter(|f| !f.repeated && names.contains(f.kind.as_str()))
    {
        let c = f.comment.to_lowercase();
        let says_optional = c.contains("optional");
        if !(says_optional || c.contains("required")) {
            silent.push(format!("{}.{}", f.message, f.name));
        }
        if says_optional {
            optional.insert(format!("{}.{}", f.message, f.name));
        }
    }
    assert!(silent.is_empty(), "say required or optional: {silent:?}");
    let doc = read("docs/PROTOCOL.md");
    assert_eq!(
        set(listed(
            &doc,
            "The optional enum fields are",
            "other enum field is required"
        )),
        optional
    );
}

#[test]
fn the_descriptive_fields_are_the_text_fields() {
    let (_, fields) = signed_schema();
    let texts: BTreeSet<String> = fields
        .iter()
        .filter(|f| f.kind == "Text")
        .map(|f| format!("{}.{}", f.message, f.name))
        .collect();
    let doc = read("docs/PROTOCOL.md");
    // The document names fields as `Message.field`, and later fields of the
    // same message as `.field`.
    let mut documented = BTreeSet::new();
    let mut message = String::new();
    for name in listed(
        &doc,
        "The descriptive fields are:",
        "(and `AcknowledgeRequest",
    ) {
        if let Some(field) = name.strip_prefix('.') {
            documented.insert(format!("{message}.{field}"));
        } else if let Some((m, _)) = name.split_once('.') {
            message = m.to_owned();
            documented.insert(name);
        }
    }
    assert_eq!(documented, texts);
}

/// String fields whose form section 2 gives (ids, codes, numbers, URLs),
/// so they are neither name-like nor descriptive.
const FORMS: &[&str] = &[
    "CaseReference.agency",
    "CaseReference.case_id",
    "ContactPoint.phone",
    "ContactPoint.email",
    "Location.country",
    "Money.currency",
    "StateInvolvement.state",
    "Case.case_id",
    "Case.originating_agency",
    "Victim.victim_id",
    "Victim.nationalities",
    "Victim.languages",
    "Victim.held_in_compound",
    "PersonName.script",
    "IdentityDocument.issuing_state",
    "PersonIdentity.nationalities",
    "PersonIdentity.phone_numbers",
    "Contact.phone_numbers",
    "Suspect.suspect_id",
    "Suspect.linked_compounds",
    "ScamCompound.compound_id",
    "ScamCompound.relocated_to",
    "RecruitmentChannel.channel_id",
    "RecruitmentChannel.advert_url",
    "BankAccount.country",
    "BankAccount.bic",
    "EWallet.country",
    "FinancialIndicator.indicator_id",
    "TimelineEvent.victims",
    "SignedNotice.payload_type",
    "SignedNotice.signer",
    "SignedNotice.key_id",
    "NoticeBody.sender",
    "Tombstone.sender",
    "NoticeBody.recipients",
    "NoticeBody.case_id",
    "RescueRequest.victims",
    "Withdrawal.persons",
    "VictimStatusUpdate.victim_id",
    "CompoundAlert.victim_nationalities",
    "ModusOperandiAlert.targeted_nationalities",
    "TransitWatchRequest.victims",
    "RepatriationStep.responsible_agency",
    "RepatriationPlan.plan_id",
    "RepatriationPlan.victims",
    "VictimIdentified.identifying_agency",
    "PersonToVerify.victim_id",
    "PersonToVerify.claimed_nationality",
    "VerificationResult.victim_id",
    "SightingReport.victims",
    "SightingReport.suspects",
    "RepatriationStepReport.victims",
    "CaseClosure.referred_to",
    "ActionTarget.target_id",
    "ActionTarget.phone_number",
    "TargetResult.target_id",
    "Receipt.receiver",
    "Receipt.refer_to",
    "Receipt.forwarded_to",
    "SignedReceipt.signer",
    "SignedReceipt.key_id",
    "LogCheckpoint.origin",
    "SignedLogCheckpoint.signer",
    "SignedLogCheckpoint.key_id",
    "LogCosignature.witness",
    "LogForkEvidence.origin",
    "Attachment.captured_by",
    "CustodyEntry.holder",
    "SignedCustodyEntry.signer",
    "SignedCustodyEntry.key_id",
    "Attachment.shows_record",
    "LogForkEvidence.shown_by",
    "SignedLogCosignature.signer",
    "SignedLogCosignature.key_id",
    "RosterSignature.key_id",
    "StewardKey.key_id",
    "StewardKey.state",
    "RosterAgency.agency_id",
    "RosterAgency.endpoint",
    "RosterAgency.tls_identity",
    "AgencyKey.key_id",
];

#[test]
fn every_string_field_is_classified_and_the_name_like_ones_are_listed() {
    let (_, fields) = signed_schema();
    let strings: BTreeSet<String> = fields
        .iter()
        .filter(|f| f.kind == "string")
        .map(|f| format!("{}.{}", f.message, f.name))
        .collect();
    let doc = read("docs/PROTOCOL.md");
    let mut name_like = BTreeSet::new();
    let mut message = String::new();
    for name in listed(&doc, "namely", "One plain string is descriptive") {
        if let Some(field) = name.strip_prefix('.') {
            name_like.insert(format!("{message}.{field}"));
        } else if let Some((m, _)) = name.split_once('.') {
            message = m.to_owned();
            name_like.insert(name);
        }
    }
    let descriptive = [
        "Location.address",
        "Text.text",
        "Text.language",
        "Translation.text",
        "Translation.language",
        "LogForkEvidence.detail",
    ];
    let mut classified: BTreeSet<String> = name_like.clone();
    classified.extend(FORMS.iter().map(|s| (*s).to_owned()));
    classified.extend(descriptive.iter().map(|s| (*s).to_owned()));
    let unclassified: Vec<_> = strings.difference(&classified).collect();
    let unknown: Vec<_> = name_like.difference(&strings).collect();
    assert!(
        unclassified.is_empty() && unknown.is_empty(),
        "string fields neither name-like (docs/PROTOCOL.md 2.3) nor a form of section 2: {unclassified:?}; listed but not string fields: {unknown:?}"
    );
}

/// Every reason of the status table (section 9.8) is what some test
/// expects from a node or from the code that makes the status: a quoted
/// reason in a test file, or in the test module of a source file.
#[test]
fn every_refusal_reason_in_the_status_table_is_provoked_by_a_test() {
    let doc = read("docs/PROTOCOL.md");
    let table = doc
        .split("### 9.8 Status codes")
        .nth(1)
        .and_then(|rest| rest.split("\n\n").nth(2))
        .unwrap_or_default();
    let mut reasons = BTreeSet::new();
    for row in table.lines().filter(|l| l.starts_with("| `")) {
        let reasons_cell = row.split('|').nth(2).unwrap_or_default();
        for piece in reasons_cell.split('`').skip(1).step_by(2) {
            if piece.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
                reasons.insert(piece.to_owned());
            }
        }
    }
    assert!(reasons.len() > 40, "the table was not found: {reasons:?}");

    // Test code: tests/, crates/*/tests/, and what follows #[cfg(test)]
    // in crates/*/src.
    let mut tests = String::new();
    let mut stack = vec![root().join("tests"), root().join("crates")];
    while let Some(path) = stack.pop() {
        if path.is_dir() {
            for entry in std::fs::read_dir(&path).unwrap() {
                stack.push(entry.unwrap().path());
            }
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path).unwrap();
            let in_src = path.components().any(|c| c.as_os_str() == "src");
            let test_part = if in_src {
                text.split_once("#[cfg(test)]").map_or("", |(_, t)| t)
            } else {
                &text
            };
            tests.push_str(test_part);
        }
    }
    let untested: Vec<&String> = reasons
        .iter()
        .filter(|r| !tests.contains(&format!("\"{r}\"")))
        .collect();
    assert!(
        untested.is_empty(),
        "reasons in PROTOCOL.md 9.8 no test expects: {untested:?}"
    );
}
