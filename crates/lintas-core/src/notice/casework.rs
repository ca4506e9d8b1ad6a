//! The notices of the work that follows a raid: identifying victims,
//! verifying nationality, sightings at watched checkpoints, repatriation
//! steps reported by the agencies that carry them out, and case updates and
//! closures.

use serde::{Deserialize, Serialize};

use crate::case::{Case, IdentityDocument, PersonIdentity, Victim};
use crate::disclosure::Protected;
use crate::error::{At, ValidationError};
use crate::ids::{AgencyId, Country, NoticeId, RecordId};
use crate::pb;
use crate::place::Location;
use crate::text::{self, Text};
use crate::time::Timestamp;
use crate::vocab::{
    CaseOutcome, CaseStatus, ConsentPurpose, IdentificationBasis, RepatriationStepKind,
    SightingAction, StepStatus, VerificationOutcome,
};
use crate::wire;

use super::Checkpoint;

/// Refuses an event time after the notice was created.
pub(crate) fn not_after_creation(
    at: Timestamp,
    created_at: Timestamp,
    field: &str,
) -> Result<(), ValidationError> {
    if at > created_at {
        return Err(ValidationError::rule(
            field,
            "must not be after the notice's created_at",
        ));
    }
    Ok(())
}

/// A competent authority has identified a person as a (possible) victim.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct VictimIdentified {
    /// The victim record, with the person's consent answers.
    pub victim: Victim,
    /// Who the person is, for the agencies that need it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<Protected<PersonIdentity>>,
    /// The agency that identified the person.
    pub identifying_agency: AgencyId,
    /// How.
    pub basis: IdentificationBasis,
    /// When.
    pub identified_at: Timestamp,
    /// Where.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    /// Note.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<Text>,
}

impl VictimIdentified {
    /// An identification of `victim` by `identifying_agency`.
    pub fn new(
        victim: Victim,
        identifying_agency: AgencyId,
        basis: IdentificationBasis,
        identified_at: Timestamp,
    ) -> Self {
        VictimIdentified {
            victim,
            identity: None,
            identifying_agency,
            basis,
            identified_at,
            location: None,
            note: None,
        }
    }
}

impl TryFrom<pb::VictimIdentified> for VictimIdentified {
    type Error = ValidationError;
    fn try_from(v: pb::VictimIdentified) -> Result<Self, Self::Error> {
        let victim: Victim = wire::required(v.victim, "victim")?;
        for purpose in [
            ConsentPurpose::NotifyStateOfNationality,
            ConsentPurpose::ConsularContact,
        ] {
            if victim.consent(purpose).is_none() {
                return Err(ValidationError::rule(
                    "consents",
                    "a victim-identified notice records the person's answers for CONSENT_PURPOSE_NOTIFY_STATE_OF_NATIONALITY and CONSENT_PURPOSE_CONSULAR_CONTACT",
                )
                .within("victim"));
            }
        }
        Ok(VictimIdentified {
            victim,
            identity: wire::optional(v.identity, "identity")?,
            identifying_agency: AgencyId::from_wire(&v.identifying_agency)
                .at("identifying_agency")?,
            basis: IdentificationBasis::from_wire(v.basis).at("basis")?,
            identified_at: Timestamp::from_wire(v.identified_at.as_ref()).at("identified_at")?,
            location: wire::optional(v.location, "location")?,
            note: Text::optional(v.note).at("note")?,
        })
    }
}

impl From<VictimIdentified> for pb::VictimIdentified {
    fn from(v: VictimIdentified) -> Self {
        pb::VictimIdentified {
            victim: Some(v.victim.into()),
            identity: v.identity.map(Into::into),
            identifying_agency: v.identifying_agency.to_string(),
            basis: v.basis.to_wire(),
            identified_at: Some(v.identified_at.into()),
            location: v.location.map(Into::into),
            note: text::text_to_wire(v.note),
        }
    }
}

/// One person whose nationality is to be verified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PersonToVerify {
    /// The victim, in the notice's case.
    pub victim_id: RecordId,
    /// What the verifying state needs to find the person (protected).
    pub identity: Protected<PersonIdentity>,
    /// The nationality to verify.
    pub claimed_nationality: Country,
}

impl PersonToVerify {
    /// A person claiming `claimed_nationality`.
    pub fn new(
        victim_id: RecordId,
        identity: PersonIdentity,
        claimed_nationality: Country,
    ) -> Self {
        PersonToVerify {
            victim_id,
            identity: Protected::new(identity),
            claimed_nationality,
        }
    }
}

impl TryFrom<pb::PersonToVerify> for PersonToVerify {
    type Error = ValidationError;
    fn try_from(p: pb::PersonToVerify) -> Result<Self, Self::Error> {
        Ok(PersonToVerify {
            victim_id: RecordId::from_wire(&p.victim_id).at("victim_id")?,
            identity: wire::required(p.identity, "identity")?,
            claimed_nationality: Country::from_wire(&p.claimed_nationality)
                .at("claimed_nationality")?,
        })
    }
}

impl From<PersonToVerify> for pb::PersonToVerify {
    fn from(p: PersonToVerify) -> Self {
        pb::PersonToVerify {
            victim_id: p.victim_id.to_string(),
            identity: Some(p.identity.into()),
            claimed_nationality: p.claimed_nationality.to_string(),
        }
    }
}

/// Ask a state of nationality to verify people and issue travel documents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct NationalityVerificationRequest {
    /// The people; at least one.
    pub persons: Vec<PersonToVerify>,
    /// Travel documents are needed for the return.
    #[serde(default)]
    pub travel_documents_needed: bool,
    /// Note.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<Text>,
}

impl NationalityVerificationRequest {
    /// A request about `persons`.
    pub fn new(persons: Vec<PersonToVerify>, travel_documents_needed: bool) -> Self {
        NationalityVerificationRequest {
            persons,
            travel_documents_needed,
            note: None,
        }
    }

    /// Checks that each claimed nationality is the state of a recipient.
    pub(crate) fn check_recipients(&self, recipients: &[AgencyId]) -> Result<(), ValidationError> {
        for (i, p) in self.persons.iter().enumerate() {
            if !recipients
                .iter()
                .any(|r| r.state().country() == p.claimed_nationality)
            {
                return Err(ValidationError::rule(
                    "claimed_nationality",
                    "must be the state of at least one recipient: ask the state whose nationality is claimed",
                )
                .within_item("persons", i));
            }
        }
        Ok(())
    }
}

impl TryFrom<pb::NationalityVerificationRequest> for NationalityVerificationRequest {
    type Error = ValidationError;
    fn try_from(r: pb::NationalityVerificationRequest) -> Result<Self, Self::Error> {
        let persons: Vec<PersonToVerify> = wire::convert_list(r.persons, "persons")?;
        wire::non_empty(&persons, "persons")?;
        wire::unique(&persons, "persons", |p| &p.victim_id)?;
        Ok(NationalityVerificationRequest {
            persons,
            travel_documents_needed: r.travel_documents_needed,
            note: Text::optional(r.note).at("note")?,
        })
    }
}

impl From<NationalityVerificationRequest> for pb::NationalityVerificationRequest {
    fn from(r: NationalityVerificationRequest) -> Self {
        pb::NationalityVerificationRequest {
            persons: wire::to_wire_list(r.persons),
            travel_documents_needed: r.travel_documents_needed,
            note: text::text_to_wire(r.note),
        }
    }
}

/// The verifying state's finding for one person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct VerificationResult {
    /// The victim, from the request.
    pub victim_id: RecordId,
    /// The finding.
    pub outcome: VerificationOutcome,
    /// A travel document issued (only with a confirmed nationality).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document_issued: Option<IdentityDocument>,
    /// Note.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<Text>,
}

impl VerificationResult {
    /// A finding for `victim_id`.
    pub fn new(victim_id: RecordId, outcome: VerificationOutcome) -> Self {
        VerificationResult {
            victim_id,
            outcome,
            document_issued: None,
            note: None,
        }
    }
}

impl TryFrom<pb::VerificationResult> for VerificationResult {
    type Error = ValidationError;
    fn try_from(r: pb::VerificationResult) -> Result<Self, Self::Error> {
        let result = VerificationResult {
            victim_id: RecordId::from_wire(&r.victim_id).at("victim_id")?,
            outcome: VerificationOutcome::from_wire(r.outcome).at("outcome")?,
            document_issued: wire::optional(r.document_issued, "document_issued")?,
            note: Text::optional(r.note).at("note")?,
        };
        if result.document_issued.is_some() && result.outcome != VerificationOutcome::Confirmed {
            return Err(ValidationError::rule(
                "document_issued",
                "only with outcome VERIFICATION_OUTCOME_CONFIRMED",
            ));
        }
        Ok(result)
    }
}

impl From<VerificationResult> for pb::VerificationResult {
    fn from(r: VerificationResult) -> Self {
        pb::VerificationResult {
            victim_id: r.victim_id.to_string(),
            outcome: r.outcome.to_wire(),
            document_issued: r.document_issued.map(Into::into),
            note: text::text_to_wire(r.note),
        }
    }
}

/// The answer to a nationality verification request, per person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct NationalityVerificationAnswer {
    /// The request answered.
    pub request: NoticeId,
    /// One result per person; at least one.
    pub results: Vec<VerificationResult>,
}

impl NationalityVerificationAnswer {
    /// An answer to `request`.
    pub fn new(request: NoticeId, results: Vec<VerificationResult>) -> Self {
        NationalityVerificationAnswer { request, results }
    }
}

impl TryFrom<pb::NationalityVerificationAnswer> for NationalityVerificationAnswer {
    type Error = ValidationError;
    fn try_from(a: pb::NationalityVerificationAnswer) -> Result<Self, Self::Error> {
        let results: Vec<VerificationResult> = wire::convert_list(a.results, "results")?;
        wire::non_empty(&results, "results")?;
        wire::unique(&results, "results", |r| &r.victim_id)?;
        Ok(NationalityVerificationAnswer {
            request: NoticeId::from_wire(&a.request).at("request")?,
            results,
        })
    }
}

impl From<NationalityVerificationAnswer> for pb::NationalityVerificationAnswer {
    fn from(a: NationalityVerificationAnswer) -> Self {
        pb::NationalityVerificationAnswer {
            request: a.request.as_bytes().to_vec(),
            results: wire::to_wire_list(a.results),
        }
    }
}

/// A checkpoint saw people a transit watch asked it to look for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SightingReport {
    /// The transit watch request answered.
    pub watch: NoticeId,
    /// When.
    pub seen_at: Timestamp,
    /// Where.
    pub checkpoint: Checkpoint,
    /// Victims of the watch seen.
    #[serde(default)]
    pub victims: Vec<RecordId>,
    /// Suspects of the watch seen.
    #[serde(default)]
    pub suspects: Vec<RecordId>,
    /// What the checkpoint did.
    pub action_taken: SightingAction,
    /// Where they were heading.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub heading_to: Option<Location>,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<Text>,
}

impl SightingReport {
    /// A sighting for `watch`; add the victims or suspects seen.
    pub fn new(
        watch: NoticeId,
        seen_at: Timestamp,
        checkpoint: Checkpoint,
        action_taken: SightingAction,
    ) -> Self {
        SightingReport {
            watch,
            seen_at,
            checkpoint,
            victims: Vec::new(),
            suspects: Vec::new(),
            action_taken,
            heading_to: None,
            description: None,
        }
    }
}

impl TryFrom<pb::SightingReport> for SightingReport {
    type Error = ValidationError;
    fn try_from(s: pb::SightingReport) -> Result<Self, Self::Error> {
        let report = SightingReport {
            watch: NoticeId::from_wire(&s.watch).at("watch")?,
            seen_at: Timestamp::from_wire(s.seen_at.as_ref()).at("seen_at")?,
            checkpoint: wire::required(s.checkpoint, "checkpoint")?,
            victims: wire::parse_list(s.victims, "victims", |v| RecordId::parse(&v))?,
            suspects: wire::parse_list(s.suspects, "suspects", |v| RecordId::parse(&v))?,
            action_taken: SightingAction::from_wire(s.action_taken).at("action_taken")?,
            heading_to: wire::optional(s.heading_to, "heading_to")?,
            description: Text::optional(s.description).at("description")?,
        };
        wire::unique(&report.victims, "victims", |v| v)?;
        wire::unique(&report.suspects, "suspects", |v| v)?;
        if report.victims.is_empty() && report.suspects.is_empty() {
            return Err(ValidationError::rule(
                "victims",
                "a sighting names at least one victim or suspect of the watch",
            ));
        }
        Ok(report)
    }
}

impl From<SightingReport> for pb::SightingReport {
    fn from(s: SightingReport) -> Self {
        pb::SightingReport {
            watch: s.watch.as_bytes().to_vec(),
            seen_at: Some(s.seen_at.into()),
            checkpoint: Some(s.checkpoint.into()),
            victims: wire::to_strings(&s.victims),
            suspects: wire::to_strings(&s.suspects),
            action_taken: s.action_taken.to_wire(),
            heading_to: s.heading_to.map(Into::into),
            description: text::text_to_wire(s.description),
        }
    }
}

/// The agency responsible for a repatriation step reports it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RepatriationStepReport {
    /// The plan.
    pub plan: NoticeId,
    /// Index of the step in the plan, from 0.
    pub step: u32,
    /// The step's kind, as in the plan.
    pub kind: RepatriationStepKind,
    /// Status reached.
    pub status: StepStatus,
    /// When.
    pub at: Timestamp,
    /// Victims of the plan this report covers; empty means all.
    #[serde(default)]
    pub victims: Vec<RecordId>,
    /// Where.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    /// Note.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<Text>,
}

impl RepatriationStepReport {
    /// A report on step `step` (of kind `kind`) of `plan`.
    pub fn new(
        plan: NoticeId,
        step: u32,
        kind: RepatriationStepKind,
        status: StepStatus,
        at: Timestamp,
    ) -> Self {
        RepatriationStepReport {
            plan,
            step,
            kind,
            status,
            at,
            victims: Vec::new(),
            location: None,
            note: None,
        }
    }
}

impl TryFrom<pb::RepatriationStepReport> for RepatriationStepReport {
    type Error = ValidationError;
    fn try_from(r: pb::RepatriationStepReport) -> Result<Self, Self::Error> {
        let report = RepatriationStepReport {
            plan: NoticeId::from_wire(&r.plan).at("plan")?,
            step: r.step,
            kind: RepatriationStepKind::from_wire(r.kind).at("kind")?,
            status: StepStatus::from_wire(r.status).at("status")?,
            at: Timestamp::from_wire(r.at.as_ref()).at("at")?,
            victims: wire::parse_list(r.victims, "victims", |v| RecordId::parse(&v))?,
            location: wire::optional(r.location, "location")?,
            note: Text::optional(r.note).at("note")?,
        };
        wire::unique(&report.victims, "victims", |v| v)?;
        Ok(report)
    }
}

impl From<RepatriationStepReport> for pb::RepatriationStepReport {
    fn from(r: RepatriationStepReport) -> Self {
        pb::RepatriationStepReport {
            plan: r.plan.as_bytes().to_vec(),
            step: r.step,
            kind: r.kind.to_wire(),
            status: r.status.to_wire(),
            at: Some(r.at.into()),
            victims: wire::to_strings(&r.victims),
            location: r.location.map(Into::into),
            note: text::text_to_wire(r.note),
        }
    }
}

/// The sender's case record has changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CaseUpdate {
    /// The whole current record.
    pub case: Case,
    /// What changed.
    pub changes: Text,
}

impl CaseUpdate {
    /// An update of `case`.
    pub fn new(case: Case, changes: Text) -> Self {
        CaseUpdate { case, changes }
    }
}

impl TryFrom<pb::CaseUpdate> for CaseUpdate {
    type Error = ValidationError;
    fn try_from(u: pb::CaseUpdate) -> Result<Self, Self::Error> {
        let case: Case = wire::required(u.case, "case")?;
        case.validate().at("case")?;
        Ok(CaseUpdate {
            case,
            changes: text::required_text(u.changes).at("changes")?,
        })
    }
}

impl From<CaseUpdate> for pb::CaseUpdate {
    fn from(u: CaseUpdate) -> Self {
        pb::CaseUpdate {
            case: Some(u.case.into()),
            changes: Some(u.changes.into()),
        }
    }
}

/// The sender closes its case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CaseClosure {
    /// Closed, or closed and referred.
    pub status: CaseStatus,
    /// How it ended; at least one.
    pub outcomes: Vec<CaseOutcome>,
    /// When.
    pub closed_at: Timestamp,
    /// Why (HTCDS cas_ReasonForCaseClosure).
    pub reason: Text,
    /// The agency the case was handed to (with closed-referred).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub referred_to: Option<AgencyId>,
}

impl CaseClosure {
    /// A closure with `outcomes`.
    pub fn new(outcomes: Vec<CaseOutcome>, closed_at: Timestamp, reason: Text) -> Self {
        CaseClosure {
            status: CaseStatus::Closed,
            outcomes,
            closed_at,
            reason,
            referred_to: None,
        }
    }
}

impl TryFrom<pb::CaseClosure> for CaseClosure {
    type Error = ValidationError;
    fn try_from(c: pb::CaseClosure) -> Result<Self, Self::Error> {
        let status = CaseStatus::from_wire(c.status).at("status")?;
        if !matches!(status, CaseStatus::Closed | CaseStatus::ClosedReferred) {
            return Err(ValidationError::invalid(
                "status",
                "CASE_STATUS_CLOSED or CASE_STATUS_CLOSED_REFERRED",
                status.wire_name(),
            ));
        }
        let outcomes = wire::parse_list(c.outcomes, "outcomes", CaseOutcome::from_wire)?;
        wire::non_empty(&outcomes, "outcomes")?;
        wire::unique(&outcomes, "outcomes", |o| o.to_wire())?;
        let referred_to = if c.referred_to.is_empty() {
            None
        } else {
            Some(AgencyId::parse(&c.referred_to).at("referred_to")?)
        };
        match (status, &referred_to) {
            (CaseStatus::ClosedReferred, None) => {
                return Err(ValidationError::rule(
                    "referred_to",
                    "required when status is CASE_STATUS_CLOSED_REFERRED",
                ));
            }
            (CaseStatus::Closed, Some(_)) => {
                return Err(ValidationError::rule(
                    "referred_to",
                    "must be empty unless status is CASE_STATUS_CLOSED_REFERRED",
                ));
            }
            _ => {}
        }
        Ok(CaseClosure {
            status,
            outcomes,
            closed_at: Timestamp::from_wire(c.closed_at.as_ref()).at("closed_at")?,
            reason: text::required_text(c.reason).at("reason")?,
            referred_to,
        })
    }
}

impl From<CaseClosure> for pb::CaseClosure {
    fn from(c: CaseClosure) -> Self {
        pb::CaseClosure {
            status: c.status.to_wire(),
            outcomes: c.outcomes.iter().map(|o| o.to_wire()).collect(),
            closed_at: Some(c.closed_at.into()),
            reason: Some(c.reason.into()),
            referred_to: c.referred_to.map(|a| a.to_string()).unwrap_or_default(),
        }
    }
}
