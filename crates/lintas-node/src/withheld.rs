//! Victims who refused to have their state of nationality notified
//! (ASEAN Convention against Trafficking in Persons, Art. 14(3)). A notice
//! carrying such a victim's record is refused by validation when it is
//! addressed to that state (docs/PROTOCOL.md section 3.3). This module adds
//! what needs memory: the node remembers, per case and victim, the states
//! the latest record it holds withholds them from, and refuses to sign any
//! later notice that names the victim, even by pseudonymous id only, to an
//! agency of those states.

use lintas_core::ValidationError;
use lintas_core::ids::RecordId;
use lintas_core::notice::{NoticeBody, NoticeContent};
use lintas_store::{StoreError, Transaction};

use crate::{Engine, Refusal};

/// (case id, victim id, states withheld from) for each victim record a
/// notice carries; an empty list lifts an earlier restriction.
pub(crate) type Withheld = Vec<(String, String, Vec<String>)>;

/// The victim records `body` carries, with the states each is withheld
/// from.
pub(crate) fn carried(body: &NoticeBody) -> Withheld {
    let Some(case) = &body.case_id else {
        return Vec::new();
    };
    body.content
        .victims()
        .into_iter()
        .map(|v| {
            (
                case.to_string(),
                v.victim_id.to_string(),
                v.withheld_from().iter().map(|c| c.to_string()).collect(),
            )
        })
        .collect()
}

/// Stores what `carried` found, in the transaction that stores the notice.
pub(crate) fn record(txn: &Transaction<'_>, withheld: &Withheld) -> Result<(), StoreError> {
    for (case, victim, states) in withheld {
        txn.withhold(case, victim, states)?;
    }
    Ok(())
}

/// Every victim id a notice's content names.
fn named_victims(content: &NoticeContent) -> Vec<&RecordId> {
    match content {
        NoticeContent::RescueRequest(r) => r.victims.iter().collect(),
        NoticeContent::VictimStatusUpdate(u) => vec![&u.victim_id],
        NoticeContent::TransitWatchRequest(w) => w.victims.iter().collect(),
        NoticeContent::RepatriationPlan(p) => p.victims.iter().collect(),
        NoticeContent::VictimIdentified(v) => vec![&v.victim.victim_id],
        NoticeContent::NationalityVerificationRequest(r) => {
            r.persons.iter().map(|p| &p.victim_id).collect()
        }
        NoticeContent::NationalityVerificationAnswer(a) => {
            a.results.iter().map(|r| &r.victim_id).collect()
        }
        NoticeContent::SightingReport(r) => r.victims.iter().collect(),
        NoticeContent::RepatriationStepReport(r) => r.victims.iter().collect(),
        NoticeContent::CaseUpdate(u) => u.case.victims.iter().map(|v| &v.victim_id).collect(),
        _ => Vec::new(),
    }
}

impl Engine {
    /// Refuses `body` when it names a victim of its case, by record or by
    /// id, whom this node knows to be withheld from a recipient's state,
    /// unless the body itself carries a newer record of that victim that
    /// lifts it.
    pub(crate) fn check_withheld(&self, body: &NoticeBody) -> Result<(), Refusal> {
        let Some(case) = &body.case_id else {
            return Ok(());
        };
        let carried: Vec<&RecordId> = body
            .content
            .victims()
            .iter()
            .map(|v| &v.victim_id)
            .collect();
        for victim in named_victims(&body.content) {
            if carried.contains(&victim) {
                // The record in this notice is the latest word; validation
                // has applied it.
                continue;
            }
            let states = self.store().withheld_from(case.as_str(), victim.as_str())?;
            if let Some(i) = body
                .recipients
                .iter()
                .position(|r| states.iter().any(|s| s == r.state().code()))
            {
                return Err(Refusal::Invalid(
                    ValidationError::rule(
                        "",
                        "names a victim who refused notification of their state of nationality: no agency of that state may receive anything about them",
                    )
                    .within_item("recipients", i),
                ));
            }
        }
        Ok(())
    }
}
