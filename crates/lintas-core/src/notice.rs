//! Notices: the typed messages agencies exchange, and their handling rules.
//!
//! A [`NoticeBody`] is what a sender writes; signing it (see
//! [`crate::signing`]) fixes its bytes and derives its [`NoticeId`].

mod action;
mod attachment;
mod casework;
mod concerns;
mod kinds;

use serde::{Deserialize, Serialize};

pub use action::{ActionAnswer, ActionRequest, ActionTarget, Target, TargetResult};
pub use attachment::{AttachmentRef, MAX_ATTACHMENT_BYTES, MAX_ATTACHMENTS};
pub use casework::{
    CaseClosure, CaseUpdate, NationalityVerificationAnswer, NationalityVerificationRequest,
    PersonToVerify, RepatriationStepReport, SightingReport, VerificationResult, VictimIdentified,
};
pub use concerns::{Concerns, TargetConcern};
pub use kinds::{
    AssistanceRequest, AssistanceResponse, Checkpoint, CompoundAlert, ModusOperandiAlert,
    RepatriationPlan, RepatriationStep, RescueRequest, SuspectAlert, TransitWatchRequest,
    VictimStatusUpdate, Withdrawal,
};

use crate::case::CaseReference;
use crate::error::{At, ValidationError};
use crate::ids::{AgencyId, CaseId, NoticeId};
use crate::pb;
use crate::pb::notice_body::Kind as PbKind;
use crate::time::Timestamp;
use crate::vocab::{
    ConsentDecision, ConsentPurpose, LegalBasis, NoticeKind, Priority, Purpose, Tlp,
};
use crate::wire;

/// Most recipients of one notice (docs/PROTOCOL.md section 3.1).
pub const MAX_RECIPIENTS: usize = 100;

/// How recipients must handle a notice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Handling {
    /// TLP 2.0 marking.
    pub tlp: Tlp,
    /// Priority.
    pub priority: Priority,
    /// When the sender needs an answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_deadline: Option<Timestamp>,
    /// Whether recipients may forward to agencies not listed.
    pub may_forward: bool,
    /// What the personal data in the notice may be used for: required when
    /// it carries any (docs/PROTOCOL.md section 14.1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purpose: Option<Purpose>,
    /// The legal ground for sharing it: set exactly when `purpose` is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legal_basis: Option<LegalBasis>,
}

impl Handling {
    /// Handling with no deadline and no forwarding.
    pub fn new(tlp: Tlp, priority: Priority) -> Self {
        Handling {
            tlp,
            priority,
            response_deadline: None,
            may_forward: false,
            purpose: None,
            legal_basis: None,
        }
    }

    /// The same handling, stating why personal data is shared and on what
    /// legal ground.
    #[must_use]
    pub fn for_purpose(mut self, purpose: Purpose, legal_basis: LegalBasis) -> Self {
        self.purpose = Some(purpose);
        self.legal_basis = Some(legal_basis);
        self
    }

    /// The same handling, letting recipients forward the notice (refused
    /// under TLP:RED).
    #[must_use]
    pub fn forwardable(mut self) -> Self {
        self.may_forward = true;
        self
    }

    /// The same handling with a response deadline.
    #[must_use]
    pub fn with_deadline(mut self, deadline: Timestamp) -> Self {
        self.response_deadline = Some(deadline);
        self
    }
}

impl TryFrom<pb::Handling> for Handling {
    type Error = ValidationError;
    fn try_from(h: pb::Handling) -> Result<Self, Self::Error> {
        Ok(Handling {
            tlp: Tlp::from_wire(h.tlp).at("tlp")?,
            priority: Priority::from_wire(h.priority).at("priority")?,
            response_deadline: Timestamp::optional_from_wire(h.response_deadline.as_ref())
                .at("response_deadline")?,
            may_forward: h.may_forward,
            purpose: crate::wire::optional_enum(h.purpose, "purpose", Purpose::from_wire)?,
            legal_basis: crate::wire::optional_enum(
                h.legal_basis,
                "legal_basis",
                LegalBasis::from_wire,
            )?,
        })
    }
}

impl From<Handling> for pb::Handling {
    fn from(h: Handling) -> Self {
        pb::Handling {
            tlp: h.tlp.to_wire(),
            priority: h.priority.to_wire(),
            response_deadline: h.response_deadline.map(Into::into),
            may_forward: h.may_forward,
            purpose: h.purpose.map_or(0, Purpose::to_wire),
            legal_basis: h.legal_basis.map_or(0, LegalBasis::to_wire),
        }
    }
}

/// The content of a notice: exactly one typed kind.
// A notice is built once and moved, never held in bulk arrays of contents,
// so the size spread between kinds costs nothing worth a box.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum NoticeContent {
    /// Urgent request to locate and rescue victims.
    RescueRequest(RescueRequest),
    /// A victim's status changed.
    VictimStatusUpdate(VictimStatusUpdate),
    /// Alert about suspects.
    SuspectAlert(SuspectAlert),
    /// Alert about a compound.
    CompoundAlert(CompoundAlert),
    /// Prevention alert about a modus operandi.
    ModusOperandiAlert(ModusOperandiAlert),
    /// Transit watch request.
    TransitWatchRequest(TransitWatchRequest),
    /// Repatriation plan.
    RepatriationPlan(RepatriationPlan),
    /// Mutual-assistance request.
    AssistanceRequest(AssistanceRequest),
    /// Answer to a mutual-assistance request.
    AssistanceResponse(AssistanceResponse),
    /// Withdrawal of an earlier notice.
    Withdrawal(Withdrawal),
    /// A competent authority identified a victim.
    VictimIdentified(VictimIdentified),
    /// Request to verify nationality.
    NationalityVerificationRequest(NationalityVerificationRequest),
    /// Answer to a nationality verification request.
    NationalityVerificationAnswer(NationalityVerificationAnswer),
    /// A sighting at a watched checkpoint.
    SightingReport(SightingReport),
    /// A repatriation step, reported by its responsible agency.
    RepatriationStepReport(RepatriationStepReport),
    /// The sender's case record changed.
    CaseUpdate(CaseUpdate),
    /// The sender closed its case.
    CaseClosure(CaseClosure),
    /// Freeze, preserve, take down or disclose.
    ActionRequest(ActionRequest),
    /// Answer to an action request, per target.
    ActionAnswer(ActionAnswer),
}

impl NoticeContent {
    /// The kind of this content.
    pub fn kind(&self) -> NoticeKind {
        match self {
            NoticeContent::RescueRequest(_) => NoticeKind::RescueRequest,
            NoticeContent::VictimStatusUpdate(_) => NoticeKind::VictimStatusUpdate,
            NoticeContent::SuspectAlert(_) => NoticeKind::SuspectAlert,
            NoticeContent::CompoundAlert(_) => NoticeKind::CompoundAlert,
            NoticeContent::ModusOperandiAlert(_) => NoticeKind::ModusOperandiAlert,
            NoticeContent::TransitWatchRequest(_) => NoticeKind::TransitWatchRequest,
            NoticeContent::RepatriationPlan(_) => NoticeKind::RepatriationPlan,
            NoticeContent::AssistanceRequest(_) => NoticeKind::AssistanceRequest,
            NoticeContent::AssistanceResponse(_) => NoticeKind::AssistanceResponse,
            NoticeContent::Withdrawal(_) => NoticeKind::Withdrawal,
            NoticeContent::VictimIdentified(_) => NoticeKind::VictimIdentified,
            NoticeContent::NationalityVerificationRequest(_) => {
                NoticeKind::NationalityVerificationRequest
            }
            NoticeContent::NationalityVerificationAnswer(_) => {
                NoticeKind::NationalityVerificationAnswer
            }
            NoticeContent::SightingReport(_) => NoticeKind::SightingReport,
            NoticeContent::RepatriationStepReport(_) => NoticeKind::RepatriationStepReport,
            NoticeContent::CaseUpdate(_) => NoticeKind::CaseUpdate,
            NoticeContent::CaseClosure(_) => NoticeKind::CaseClosure,
            NoticeContent::ActionRequest(_) => NoticeKind::ActionRequest,
            NoticeContent::ActionAnswer(_) => NoticeKind::ActionAnswer,
        }
    }

    /// The wire field name of this kind, used in error paths.
    fn field(&self) -> &'static str {
        match self {
            NoticeContent::RescueRequest(_) => "rescue_request",
            NoticeContent::VictimStatusUpdate(_) => "victim_status_update",
            NoticeContent::SuspectAlert(_) => "suspect_alert",
            NoticeContent::CompoundAlert(_) => "compound_alert",
            NoticeContent::ModusOperandiAlert(_) => "modus_operandi_alert",
            NoticeContent::TransitWatchRequest(_) => "transit_watch_request",
            NoticeContent::RepatriationPlan(_) => "repatriation_plan",
            NoticeContent::AssistanceRequest(_) => "assistance_request",
            NoticeContent::AssistanceResponse(_) => "assistance_response",
            NoticeContent::Withdrawal(_) => "withdrawal",
            NoticeContent::VictimIdentified(_) => "victim_identified",
            NoticeContent::NationalityVerificationRequest(_) => "nationality_verification_request",
            NoticeContent::NationalityVerificationAnswer(_) => "nationality_verification_answer",
            NoticeContent::SightingReport(_) => "sighting_report",
            NoticeContent::RepatriationStepReport(_) => "repatriation_step_report",
            NoticeContent::CaseUpdate(_) => "case_update",
            NoticeContent::CaseClosure(_) => "case_closure",
            NoticeContent::ActionRequest(_) => "action_request",
            NoticeContent::ActionAnswer(_) => "action_answer",
        }
    }

    /// The victim records this content carries.
    pub fn victims(&self) -> Vec<&crate::case::Victim> {
        match self {
            NoticeContent::RescueRequest(r) => r.case.victims.iter().collect(),
            NoticeContent::CaseUpdate(u) => u.case.victims.iter().collect(),
            NoticeContent::VictimIdentified(v) => vec![&v.victim],
            _ => Vec::new(),
        }
    }

    /// Whether this content carries personal data: a victim record, a
    /// person's identity (a victim's or a suspect's) or a protected part.
    pub fn carries_personal_data(&self) -> bool {
        let identified =
            |suspects: &[crate::case::Suspect]| suspects.iter().any(|s| s.identity.is_some());
        !self.victims().is_empty()
            || match self {
                NoticeContent::RescueRequest(r) => identified(&r.case.suspects),
                NoticeContent::CaseUpdate(u) => identified(&u.case.suspects),
                NoticeContent::SuspectAlert(a) => identified(&a.suspects),
                NoticeContent::TransitWatchRequest(t) => identified(&t.suspects),
                NoticeContent::VictimIdentified(v) => v.identity.is_some(),
                NoticeContent::NationalityVerificationRequest(_) => true,
                _ => false,
            }
    }

    /// Whether a notice of this kind must name a case.
    fn needs_case(&self) -> bool {
        !matches!(
            self,
            NoticeContent::CompoundAlert(_)
                | NoticeContent::ModusOperandiAlert(_)
                | NoticeContent::SuspectAlert(_)
        )
    }
}

impl TryFrom<PbKind> for NoticeContent {
    type Error = ValidationError;
    fn try_from(kind: PbKind) -> Result<Self, Self::Error> {
        Ok(match kind {
            PbKind::RescueRequest(k) => {
                NoticeContent::RescueRequest(k.try_into().at("rescue_request")?)
            }
            PbKind::VictimStatusUpdate(k) => {
                NoticeContent::VictimStatusUpdate(k.try_into().at("victim_status_update")?)
            }
            PbKind::SuspectAlert(k) => {
                NoticeContent::SuspectAlert(k.try_into().at("suspect_alert")?)
            }
            PbKind::CompoundAlert(k) => {
                NoticeContent::CompoundAlert(k.try_into().at("compound_alert")?)
            }
            PbKind::ModusOperandiAlert(k) => {
                NoticeContent::ModusOperandiAlert(k.try_into().at("modus_operandi_alert")?)
            }
            PbKind::TransitWatchRequest(k) => {
                NoticeContent::TransitWatchRequest(k.try_into().at("transit_watch_request")?)
            }
            PbKind::RepatriationPlan(k) => {
                NoticeContent::RepatriationPlan(k.try_into().at("repatriation_plan")?)
            }
            PbKind::AssistanceRequest(k) => {
                NoticeContent::AssistanceRequest(k.try_into().at("assistance_request")?)
            }
            PbKind::AssistanceResponse(k) => {
                NoticeContent::AssistanceResponse(k.try_into().at("assistance_response")?)
            }
            PbKind::Withdrawal(k) => NoticeContent::Withdrawal(k.try_into().at("withdrawal")?),
            PbKind::VictimIdentified(k) => {
                NoticeContent::VictimIdentified(k.try_into().at("victim_identified")?)
            }
            PbKind::NationalityVerificationRequest(k) => {
                NoticeContent::NationalityVerificationRequest(
                    k.try_into().at("nationality_verification_request")?,
                )
            }
            PbKind::NationalityVerificationAnswer(k) => {
                NoticeContent::NationalityVerificationAnswer(
                    k.try_into().at("nationality_verification_answer")?,
                )
            }
            PbKind::SightingReport(k) => {
                NoticeContent::SightingReport(k.try_into().at("sighting_report")?)
            }
            PbKind::RepatriationStepReport(k) => {
                NoticeContent::RepatriationStepReport(k.try_into().at("repatriation_step_report")?)
            }
            PbKind::CaseUpdate(k) => NoticeContent::CaseUpdate(k.try_into().at("case_update")?),
            PbKind::CaseClosure(k) => NoticeContent::CaseClosure(k.try_into().at("case_closure")?),
            PbKind::ActionRequest(k) => {
                NoticeContent::ActionRequest(k.try_into().at("action_request")?)
            }
            PbKind::ActionAnswer(k) => {
                NoticeContent::ActionAnswer(k.try_into().at("action_answer")?)
            }
        })
    }
}

impl From<NoticeContent> for PbKind {
    fn from(content: NoticeContent) -> Self {
        match content {
            NoticeContent::RescueRequest(k) => PbKind::RescueRequest(k.into()),
            NoticeContent::VictimStatusUpdate(k) => PbKind::VictimStatusUpdate(k.into()),
            NoticeContent::SuspectAlert(k) => PbKind::SuspectAlert(k.into()),
            NoticeContent::CompoundAlert(k) => PbKind::CompoundAlert(k.into()),
            NoticeContent::ModusOperandiAlert(k) => PbKind::ModusOperandiAlert(k.into()),
            NoticeContent::TransitWatchRequest(k) => PbKind::TransitWatchRequest(k.into()),
            NoticeContent::RepatriationPlan(k) => PbKind::RepatriationPlan(k.into()),
            NoticeContent::AssistanceRequest(k) => PbKind::AssistanceRequest(k.into()),
            NoticeContent::AssistanceResponse(k) => PbKind::AssistanceResponse(k.into()),
            NoticeContent::Withdrawal(k) => PbKind::Withdrawal(k.into()),
            NoticeContent::VictimIdentified(k) => PbKind::VictimIdentified(k.into()),
            NoticeContent::NationalityVerificationRequest(k) => {
                PbKind::NationalityVerificationRequest(k.into())
            }
            NoticeContent::NationalityVerificationAnswer(k) => {
                PbKind::NationalityVerificationAnswer(k.into())
            }
            NoticeContent::SightingReport(k) => PbKind::SightingReport(k.into()),
            NoticeContent::RepatriationStepReport(k) => PbKind::RepatriationStepReport(k.into()),
            NoticeContent::CaseUpdate(k) => PbKind::CaseUpdate(k.into()),
            NoticeContent::CaseClosure(k) => PbKind::CaseClosure(k.into()),
            NoticeContent::ActionRequest(k) => PbKind::ActionRequest(k.into()),
            NoticeContent::ActionAnswer(k) => PbKind::ActionAnswer(k.into()),
        }
    }
}

/// The signed content of a notice, without its id (which is derived from
/// the encoded content when it is signed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct NoticeBody {
    /// The sending agency.
    pub sender: AgencyId,
    /// Per-sender sequence number, from 1.
    pub sequence: u64,
    /// When the notice was created.
    pub created_at: Timestamp,
    /// After this the notice must not be acted on or delivered.
    pub expires_at: Timestamp,
    /// Recipients.
    pub recipients: Vec<AgencyId>,
    /// Handling rules.
    pub handling: Handling,
    /// The case this notice is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case_id: Option<CaseId>,
    /// The earlier notice this one replaces.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supersedes: Option<NoticeId>,
    /// Other agencies' references for the same matter.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub references: Vec<CaseReference>,
    /// Files that travel beside the notice.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<AttachmentRef>,
    /// The typed content.
    pub content: NoticeContent,
}

impl NoticeBody {
    /// A notice body; set `case_id` and `supersedes` on the result as needed.
    pub fn new(
        sender: AgencyId,
        sequence: u64,
        created_at: Timestamp,
        expires_at: Timestamp,
        recipients: Vec<AgencyId>,
        handling: Handling,
        content: NoticeContent,
    ) -> Self {
        NoticeBody {
            sender,
            sequence,
            created_at,
            expires_at,
            recipients,
            handling,
            case_id: None,
            supersedes: None,
            references: Vec::new(),
            attachments: Vec::new(),
            content,
        }
    }

    /// The same body about `case_id`.
    #[must_use]
    pub fn about_case(mut self, case_id: CaseId) -> Self {
        self.case_id = Some(case_id);
        self
    }

    /// The kind of notice.
    pub fn kind(&self) -> NoticeKind {
        self.content.kind()
    }

    /// Checks the rules that relate the body's fields to each other.
    ///
    /// # Errors
    /// The first broken rule, with its field path.
    fn validate(&self) -> Result<(), ValidationError> {
        if self.sequence == 0 {
            return Err(ValidationError::invalid(
                "sequence",
                "a sequence number of 1 or more",
                "0",
            ));
        }
        if self.expires_at <= self.created_at {
            return Err(ValidationError::rule(
                "expires_at",
                "must be after created_at",
            ));
        }
        wire::non_empty(&self.recipients, "recipients")?;
        wire::unique(&self.recipients, "recipients", |r| r)?;
        if let Some(i) = self.recipients.iter().position(|r| r == &self.sender) {
            return Err(
                ValidationError::rule("", "the sender cannot be a recipient")
                    .within_item("recipients", i),
            );
        }
        let handling = &self.handling;
        match handling.response_deadline {
            None if handling.priority == Priority::Urgent => {
                return Err(ValidationError::rule(
                    "handling.response_deadline",
                    "required when priority is PRIORITY_URGENT",
                ));
            }
            Some(deadline) if deadline <= self.created_at => {
                return Err(ValidationError::rule(
                    "handling.response_deadline",
                    "must be after created_at",
                ));
            }
            Some(deadline) if deadline > self.expires_at => {
                return Err(ValidationError::rule(
                    "handling.response_deadline",
                    "must not be after expires_at",
                ));
            }
            _ => {}
        }
        if matches!(handling.tlp, Tlp::Red | Tlp::AmberStrict) && handling.may_forward {
            return Err(ValidationError::rule(
                "handling.may_forward",
                "must be false under TLP_RED and TLP_AMBER_STRICT",
            ));
        }
        self.check_purpose()?;
        wire::unique(&self.references, "references", |r| &r.agency)?;
        if let Some(i) = self.references.iter().position(|r| r.agency == self.sender) {
            return Err(ValidationError::rule(
                "agency",
                "the sender's own reference is case_id, not a reference",
            )
            .within_item("references", i));
        }
        for (i, a) in self.attachments.iter().enumerate() {
            if self.attachments[..i].iter().any(|b| b.sha256 == a.sha256) {
                return Err(ValidationError::rule("sha256", "a file attached twice")
                    .within_item("attachments", i));
            }
        }
        if let Some(i) = self
            .attachments
            .iter()
            .position(|a| a.captured_at > self.created_at)
        {
            return Err(ValidationError::rule(
                "captured_at",
                "must not be after the notice's created_at",
            )
            .within_item("attachments", i));
        }
        self.check_withheld()?;
        if self.content.needs_case() && self.case_id.is_none() {
            return Err(ValidationError::rule(
                "case_id",
                "required for this kind of notice",
            ));
        }
        match &self.content {
            NoticeContent::RescueRequest(r) if Some(&r.case.case_id) != self.case_id.as_ref() => {
                return Err(ValidationError::rule(
                    "case.case_id",
                    "must equal the notice's case_id",
                )
                .within(self.content.field()));
            }
            NoticeContent::Withdrawal(_) if self.supersedes.is_some() => {
                return Err(ValidationError::rule(
                    "supersedes",
                    "a withdrawal cannot supersede a notice; it withdraws one",
                ));
            }
            _ => {}
        }
        self.check_content_times()
            .and_then(|()| self.check_content_against_body())
            .map_err(|e| e.within(self.content.field()))
    }

    /// Purpose limitation (docs/PROTOCOL.md section 14.1): personal data
    /// travels with a stated purpose and legal basis, never as TLP:CLEAR,
    /// and on consent only when every victim carried consented.
    fn check_purpose(&self) -> Result<(), ValidationError> {
        let handling = &self.handling;
        match (handling.purpose, handling.legal_basis) {
            (Some(_), None) => {
                return Err(ValidationError::rule(
                    "handling.legal_basis",
                    "required when handling.purpose is set",
                ));
            }
            (None, Some(_)) => {
                return Err(ValidationError::rule(
                    "handling.purpose",
                    "required when handling.legal_basis is set",
                ));
            }
            _ => {}
        }
        if self.content.carries_personal_data() {
            if handling.purpose.is_none() {
                return Err(ValidationError::rule(
                    "handling.purpose",
                    "required when the notice carries personal data (a victim record, a person's identity or a protected part), with handling.legal_basis",
                ));
            }
            if handling.tlp == Tlp::Clear {
                return Err(ValidationError::rule(
                    "handling.tlp",
                    "a notice carrying personal data cannot be TLP_CLEAR",
                ));
            }
        }
        if handling.legal_basis == Some(LegalBasis::Consent)
            && self.content.victims().iter().any(|v| {
                v.consent(ConsentPurpose::ShareWithAgencies) != Some(ConsentDecision::Given)
            })
        {
            return Err(ValidationError::rule(
                "handling.legal_basis",
                "LEGAL_BASIS_CONSENT needs every victim carried to have consented to CONSENT_PURPOSE_SHARE_WITH_AGENCIES",
            ));
        }
        Ok(())
    }

    /// Refuses a notice that carries a victim's record to a state the victim
    /// asked not to notify (docs/PROTOCOL.md section 3.3, consent).
    fn check_withheld(&self) -> Result<(), ValidationError> {
        for victim in self.content.victims() {
            let withheld = victim.withheld_from();
            if let Some(i) = self
                .recipients
                .iter()
                .position(|r| withheld.contains(&r.state().country()))
            {
                return Err(ValidationError::rule(
                    "",
                    "a victim carried in this notice refused notification of their state of nationality: no agency of that state may receive it",
                )
                .within_item("recipients", i));
            }
        }
        Ok(())
    }

    /// Event times in the content are not after the notice was created.
    fn check_content_times(&self) -> Result<(), ValidationError> {
        let created = self.created_at;
        match &self.content {
            NoticeContent::VictimStatusUpdate(u) => {
                casework::not_after_creation(u.effective_at, created, "effective_at")
            }
            NoticeContent::VictimIdentified(v) => {
                casework::not_after_creation(v.identified_at, created, "identified_at")
            }
            NoticeContent::SightingReport(r) => {
                casework::not_after_creation(r.seen_at, created, "seen_at")
            }
            NoticeContent::RepatriationStepReport(r) => {
                casework::not_after_creation(r.at, created, "at")
            }
            NoticeContent::CaseClosure(c) => {
                casework::not_after_creation(c.closed_at, created, "closed_at")
            }
            NoticeContent::ActionAnswer(a) => {
                for (i, r) in a.results.iter().enumerate() {
                    if let Some(done) = r.done_at {
                        casework::not_after_creation(done, created, "done_at")
                            .map_err(|e| e.within_item("results", i))?;
                    }
                }
                Ok(())
            }
            NoticeContent::AssistanceRequest(a) => match a.time_limit {
                Some(limit) if limit <= created => Err(ValidationError::rule(
                    "time_limit",
                    "must be after the notice's created_at",
                )),
                _ => Ok(()),
            },
            _ => Ok(()),
        }
    }

    /// Rules that relate the content to the body's other fields.
    fn check_content_against_body(&self) -> Result<(), ValidationError> {
        match &self.content {
            NoticeContent::CaseUpdate(u) if Some(&u.case.case_id) != self.case_id.as_ref() => Err(
                ValidationError::rule("case.case_id", "must equal the notice's case_id"),
            ),
            NoticeContent::NationalityVerificationRequest(r) => {
                r.check_recipients(&self.recipients)
            }
            NoticeContent::ActionRequest(r) => {
                if r.deadline <= self.created_at {
                    Err(ValidationError::rule(
                        "deadline",
                        "must be after the notice's created_at",
                    ))
                } else if r.deadline > self.expires_at {
                    Err(ValidationError::rule(
                        "deadline",
                        "must not be after the notice's expires_at",
                    ))
                } else {
                    Ok(())
                }
            }
            _ => Ok(()),
        }
    }

    /// Converts a decoded wire body: every field checked, every rule
    /// applied. Returns the notice id the body carries with the body.
    ///
    /// # Errors
    /// The first invalid field, with its path.
    pub fn from_wire(body: pb::NoticeBody) -> Result<(NoticeId, NoticeBody), ValidationError> {
        let id = NoticeId::from_wire(&body.notice_id).at("notice_id")?;
        let content = body
            .kind
            .ok_or_else(|| ValidationError::missing("kind"))
            .and_then(NoticeContent::try_from)?;
        let notice = NoticeBody {
            sender: AgencyId::from_wire(&body.sender).at("sender")?,
            sequence: body.sequence,
            created_at: Timestamp::from_wire(body.created_at.as_ref()).at("created_at")?,
            expires_at: Timestamp::from_wire(body.expires_at.as_ref()).at("expires_at")?,
            recipients: wire::at_most(&body.recipients, "recipients", MAX_RECIPIENTS).and_then(
                |()| wire::parse_list(body.recipients, "recipients", |r| AgencyId::from_wire(&r)),
            )?,
            handling: wire::required(body.handling, "handling")?,
            case_id: if body.case_id.is_empty() {
                None
            } else {
                Some(CaseId::parse(&body.case_id).at("case_id")?)
            },
            supersedes: NoticeId::optional_from_wire(&body.supersedes).at("supersedes")?,
            references: wire::convert_list(body.references, "references")?,
            attachments: wire::at_most(&body.attachments, "attachments", MAX_ATTACHMENTS)
                .and_then(|()| wire::convert_list(body.attachments, "attachments"))?,
            content,
        };
        notice.validate()?;
        Ok((id, notice))
    }

    /// The wire form, with the notice id field left empty (signing fills
    /// it in).
    pub fn to_wire(&self) -> pb::NoticeBody {
        let body = self.clone();
        pb::NoticeBody {
            notice_id: Vec::new(),
            sender: body.sender.to_string(),
            sequence: body.sequence,
            created_at: Some(body.created_at.into()),
            expires_at: Some(body.expires_at.into()),
            recipients: wire::to_strings(&body.recipients),
            handling: Some(body.handling.into()),
            case_id: body.case_id.map(|c| c.to_string()).unwrap_or_default(),
            supersedes: body
                .supersedes
                .map(|s| s.as_bytes().to_vec())
                .unwrap_or_default(),
            references: wire::to_wire_list(body.references),
            attachments: wire::to_wire_list(body.attachments),
            kind: Some(body.content.into()),
        }
    }
}
