//! Output for people: a readable table on a terminal, JSON lines for
//! machines (`--json`, or whenever standard output is not a terminal, so
//! scripts and pipes keep getting JSON). Receipt stages always appear in
//! the order they happen, never alphabetically.

use std::io::IsTerminal;

use lintas_core::notice::{Concerns, NoticeBody};
use lintas_core::pb;
use lintas_core::receipt::{Receipt, SignedReceipt, furthest_stages};
use lintas_core::signing::SignedNotice;
use lintas_core::time::Timestamp;
use lintas_core::vocab::NoticeKind;

/// Whether to print JSON lines.
pub(crate) fn json(asked: bool) -> bool {
    asked || !std::io::stdout().is_terminal()
}

/// `2026-12-02 19:48:02` (UTC).
pub(crate) fn when(t: Timestamp) -> String {
    let text = t.to_string();
    text.get(..19).map_or(text.clone(), |s| s.replace('T', " "))
}

fn kind(value: i32) -> String {
    NoticeKind::from_wire(value).map_or_else(|_| "notice".to_owned(), NoticeKind::label)
}

/// Whom or what a notice concerns (victims, suspects, action targets, a
/// compound), as `  about …`, or empty when it names none.
pub(crate) fn concerns(body: &NoticeBody) -> String {
    let about = Concerns::of(&body.content);
    if about.is_empty() {
        String::new()
    } else {
        format!("  about {about}")
    }
}

/// [`concerns`] of a notice as listed, if it can be read.
fn about(notice: Option<pb::SignedNotice>) -> String {
    notice
        .and_then(|n| SignedNotice::try_from(n).ok())
        .and_then(|n| n.open_body().ok())
        .map(|(_, body)| concerns(&body))
        .unwrap_or_default()
}

/// One timeline entry: a line for the notice, then one per recipient with
/// its furthest stage and when.
pub(crate) fn timeline_entry(entry: pb::TimelineEntry) -> String {
    let created = entry
        .created_at
        .and_then(|t| Timestamp::from_unix(t.seconds).ok())
        .map_or_else(|| "?".to_owned(), when);
    let receipts: Vec<Receipt> = entry
        .receipts
        .into_iter()
        .filter_map(|r| SignedReceipt::try_from(r).ok())
        .filter_map(|r| r.receipt_unverified().ok())
        .collect();
    let furthest = furthest_stages(&receipts);
    let mut out = format!(
        "{created}  {} → {}  {}{}",
        entry.sender,
        entry.recipients.join(", "),
        kind(entry.kind),
        about(entry.notice),
    );
    for recipient in &entry.recipients {
        let stage = furthest
            .iter()
            .find(|(a, ..)| a.as_str() == recipient)
            .map_or_else(
                || "no receipt yet".to_owned(),
                |(_, stage, at)| format!("{:<16} {}", stage.label(), when(*at)),
            );
        out.push_str(&format!("\n    {recipient:<24} {stage}"));
    }
    for (agency, stage, at) in &furthest {
        if !entry.recipients.contains(&agency.to_string()) {
            out.push_str(&format!(
                "\n    {:<24} {:<16} {} (forwarded to it)",
                agency.as_str(),
                stage.label(),
                when(*at)
            ));
        }
    }
    out
}

/// One inbox item.
pub(crate) fn inbox_item(cursor: u64, envelope: &SignedNotice) -> String {
    match envelope.open_body() {
        Ok((id, body)) => {
            format!(
                "{cursor:>6}  {}  {} → {}  {}{}  ({}…)",
                when(body.created_at),
                body.sender,
                body.recipients
                    .iter()
                    .map(|r| r.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                body.kind().label(),
                concerns(&body),
                id.to_string().get(..8).unwrap_or_default()
            )
        }
        Err(e) => format!("{cursor:>6}  (unreadable notice: {e})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_timeline_entry_shows_each_recipients_furthest_stage_in_lifecycle_order() {
        use lintas_core::ids::{AgencyId, KeyId, NoticeId};
        use lintas_core::keys::SigningKey;
        use lintas_core::vocab::ReceiptStage;
        let key =
            SigningKey::generate(KeyId::parse("KHM.MOI.ATHP#1").unwrap_or_else(|e| panic!("{e}")))
                .unwrap_or_else(|e| panic!("{e}"));
        let khm = AgencyId::parse("KHM.MOI.ATHP").unwrap_or_else(|e| panic!("{e}"));
        let at = |s: i64| Timestamp::from_unix(1_800_000_000 + s).unwrap_or_else(|e| panic!("{e}"));
        let signed = |stage, s| {
            let r = Receipt::for_digest(
                NoticeId::from_bytes([1; 32]),
                [0; 32],
                khm.clone(),
                stage,
                at(s),
            );
            pb::SignedReceipt::from(SignedReceipt::sign(&r, &key).unwrap_or_else(|e| panic!("{e}")))
        };
        let entry = pb::TimelineEntry {
            notice_id: vec![1; 32],
            kind: NoticeKind::RescueRequest.to_wire(),
            sender: "IDN.KEMLU.PWNI".into(),
            recipients: vec!["KHM.MOI.ATHP".into(), "THA.RTP.ATPD".into()],
            created_at: Some(at(0).into()),
            receipts: vec![
                signed(ReceiptStage::Read, 60),
                signed(ReceiptStage::Accepted, 1),
                signed(ReceiptStage::ActionStarted, 120),
                signed(ReceiptStage::Delivered, 30),
            ],
            ..Default::default()
        };
        let text = timeline_entry(entry);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "2027-01-15 08:00:00  IDN.KEMLU.PWNI → KHM.MOI.ATHP, THA.RTP.ATPD  rescue request"
        );
        assert!(
            lines[1].contains("KHM.MOI.ATHP") && lines[1].contains("action started"),
            "{text}"
        );
        assert!(lines[1].ends_with("2027-01-15 08:02:00"), "{text}");
        assert!(
            lines[2].contains("THA.RTP.ATPD") && lines[2].contains("no receipt yet"),
            "{text}"
        );
    }

    #[test]
    fn a_notice_says_which_victims_suspects_targets_or_compound_it_concerns() {
        let now = lintas_testkit::world::fixed_now();
        let bodies = lintas_testkit::scenario::one_of_each_kind(now);
        let about = |kind: NoticeKind| {
            bodies
                .iter()
                .find(|b| b.kind() == kind)
                .map(concerns)
                .unwrap_or_else(|| panic!("no {kind:?} in the scenario"))
        };
        let rescue = about(NoticeKind::RescueRequest);
        assert!(
            rescue.starts_with("  about victims V-001, V-002; suspects S-01"),
            "{rescue}"
        );
        let freeze = about(NoticeKind::ActionRequest);
        assert!(
            freeze.contains("targets T-01") && freeze.contains("(freeze"),
            "{freeze}"
        );
        let answer = about(NoticeKind::ActionAnswer);
        assert!(answer.contains("targets T-01 done"), "{answer}");
        let compound = about(NoticeKind::CompoundAlert);
        assert!(compound.starts_with("  about compound "), "{compound}");
        let status = about(NoticeKind::VictimStatusUpdate);
        assert_eq!(status, "  about victims V-002");
        assert!(about(NoticeKind::SuspectAlert).contains("suspects "));
        assert_eq!(about(NoticeKind::AssistanceResponse), "");
    }

    #[test]
    fn times_are_short_and_in_utc() {
        let t = Timestamp::from_unix(1_800_000_000).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(when(t), "2027-01-15 08:00:00");
    }
}
