//! The typed contents of each kind of notice.

use serde::{Deserialize, Serialize};

use crate::case::{Case, FinancialIndicator, RecruitmentChannel, ScamCompound, Suspect};
use crate::error::{At, ValidationError};
use crate::ids::{AgencyId, Country, NoticeId, RecordId};
use crate::pb;
use crate::place::Location;
use crate::text::Text;
use crate::text::{self, SHORT};
use crate::time::Timestamp;
use crate::vocab::{
    AssistanceKind, AssistanceOutcome, CheckpointKind, LegalTreatment, RepatriationStepKind,
    RescueAction, ScamType, StepStatus, VictimStatus, WatchAction,
};
use crate::wire;

/// Urgent request to locate and rescue victims.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RescueRequest {
    /// The case as the sender knows it.
    pub case: Case,
    /// Victims of the case to locate or rescue.
    pub victims: Vec<RecordId>,
    /// What is asked.
    pub actions: Vec<RescueAction>,
    /// The situation now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub situation: Option<Text>,
}

impl RescueRequest {
    /// A request about `victims` of `case`.
    pub fn new(case: Case, victims: Vec<RecordId>, actions: Vec<RescueAction>) -> Self {
        RescueRequest {
            case,
            victims,
            actions,
            situation: None,
        }
    }

    fn validate(&self) -> Result<(), ValidationError> {
        self.case.validate().at("case")?;
        wire::non_empty(&self.victims, "victims")?;
        wire::unique(&self.victims, "victims", |v| v)?;
        wire::non_empty(&self.actions, "actions")?;
        for (i, v) in self.victims.iter().enumerate() {
            if self.case.victim(v).is_none() {
                return Err(ValidationError::unknown_reference(
                    "",
                    "the victim_id of a victim in case.victims",
                    v,
                )
                .within_item("victims", i));
            }
        }
        Ok(())
    }
}

impl TryFrom<pb::RescueRequest> for RescueRequest {
    type Error = ValidationError;
    fn try_from(r: pb::RescueRequest) -> Result<Self, Self::Error> {
        let request = RescueRequest {
            case: wire::required(r.case, "case")?,
            victims: wire::parse_list(r.victims, "victims", |v| RecordId::parse(&v))?,
            actions: wire::parse_list(r.actions, "actions", RescueAction::from_wire)?,
            situation: Text::optional(r.situation).at("situation")?,
        };
        request.validate()?;
        Ok(request)
    }
}

impl From<RescueRequest> for pb::RescueRequest {
    fn from(r: RescueRequest) -> Self {
        pb::RescueRequest {
            case: Some(r.case.into()),
            victims: wire::to_strings(&r.victims),
            actions: r.actions.iter().map(|a| a.to_wire()).collect(),
            situation: text::text_to_wire(r.situation),
        }
    }
}

/// A victim's status has changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct VictimStatusUpdate {
    /// The victim (pseudonymous id in the notice's case).
    pub victim_id: RecordId,
    /// New status.
    pub status: VictimStatus,
    /// The status it follows.
    pub previous_status: VictimStatus,
    /// Current legal treatment.
    pub legal_treatment: LegalTreatment,
    /// Non-punishment principle applied.
    pub non_punishment: bool,
    /// Where the person is now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    /// When the change took effect.
    pub effective_at: Timestamp,
    /// Note.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<Text>,
}

impl VictimStatusUpdate {
    /// An update from `previous_status` to `status`.
    pub fn new(
        victim_id: RecordId,
        previous_status: VictimStatus,
        status: VictimStatus,
        legal_treatment: LegalTreatment,
        effective_at: Timestamp,
    ) -> Self {
        VictimStatusUpdate {
            victim_id,
            status,
            previous_status,
            legal_treatment,
            non_punishment: false,
            location: None,
            effective_at,
            note: None,
        }
    }
}

impl TryFrom<pb::VictimStatusUpdate> for VictimStatusUpdate {
    type Error = ValidationError;
    fn try_from(u: pb::VictimStatusUpdate) -> Result<Self, Self::Error> {
        let update = VictimStatusUpdate {
            victim_id: RecordId::from_wire(&u.victim_id).at("victim_id")?,
            status: VictimStatus::from_wire(u.status).at("status")?,
            previous_status: VictimStatus::from_wire(u.previous_status).at("previous_status")?,
            legal_treatment: LegalTreatment::from_wire(u.legal_treatment).at("legal_treatment")?,
            non_punishment: u.non_punishment,
            location: wire::optional(u.location, "location")?,
            effective_at: Timestamp::from_wire(u.effective_at.as_ref()).at("effective_at")?,
            note: Text::optional(u.note).at("note")?,
        };
        if !update.status.may_follow(update.previous_status) {
            return Err(ValidationError::rule(
                "status",
                "not a step the victim lifecycle allows from previous_status (docs/PROTOCOL.md section 3.3)",
            ));
        }
        if update.legal_treatment == LegalTreatment::Suspect && update.non_punishment {
            return Err(ValidationError::rule(
                "non_punishment",
                "must be false when legal_treatment is LEGAL_TREATMENT_SUSPECT",
            ));
        }
        Ok(update)
    }
}

impl From<VictimStatusUpdate> for pb::VictimStatusUpdate {
    fn from(u: VictimStatusUpdate) -> Self {
        pb::VictimStatusUpdate {
            victim_id: u.victim_id.to_string(),
            status: u.status.to_wire(),
            previous_status: u.previous_status.to_wire(),
            legal_treatment: u.legal_treatment.to_wire(),
            non_punishment: u.non_punishment,
            location: u.location.map(Into::into),
            effective_at: Some(u.effective_at.into()),
            note: text::text_to_wire(u.note),
        }
    }
}

/// Alert about suspects and their money trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SuspectAlert {
    /// Suspects; at least one.
    pub suspects: Vec<Suspect>,
    /// Money trail.
    #[serde(default)]
    pub financial_indicators: Vec<FinancialIndicator>,
    /// Recruitment channels they use.
    #[serde(default)]
    pub recruitment: Vec<RecruitmentChannel>,
    /// Summary.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<Text>,
}

impl SuspectAlert {
    /// An alert about `suspects`.
    pub fn new(suspects: Vec<Suspect>) -> Self {
        SuspectAlert {
            suspects,
            financial_indicators: Vec::new(),
            recruitment: Vec::new(),
            summary: None,
        }
    }

    fn validate(&self) -> Result<(), ValidationError> {
        wire::non_empty(&self.suspects, "suspects")?;
        wire::unique(&self.suspects, "suspects", |s| &s.suspect_id)?;
        for (i, s) in self.suspects.iter().enumerate() {
            s.validate().at_item("suspects", i)?;
        }
        wire::unique(&self.financial_indicators, "financial_indicators", |f| {
            &f.indicator_id
        })?;
        wire::unique(&self.recruitment, "recruitment", |r| &r.channel_id)?;
        for (i, r) in self.recruitment.iter().enumerate() {
            r.validate().at_item("recruitment", i)?;
        }
        Ok(())
    }
}

impl TryFrom<pb::SuspectAlert> for SuspectAlert {
    type Error = ValidationError;
    fn try_from(a: pb::SuspectAlert) -> Result<Self, Self::Error> {
        let alert = SuspectAlert {
            suspects: wire::convert_list(a.suspects, "suspects")?,
            financial_indicators: wire::convert_list(
                a.financial_indicators,
                "financial_indicators",
            )?,
            recruitment: wire::convert_list(a.recruitment, "recruitment")?,
            summary: Text::optional(a.summary).at("summary")?,
        };
        alert.validate()?;
        Ok(alert)
    }
}

impl From<SuspectAlert> for pb::SuspectAlert {
    fn from(a: SuspectAlert) -> Self {
        pb::SuspectAlert {
            suspects: wire::to_wire_list(a.suspects),
            financial_indicators: wire::to_wire_list(a.financial_indicators),
            recruitment: wire::to_wire_list(a.recruitment),
            summary: text::text_to_wire(a.summary),
        }
    }
}

/// Alert about a scam compound.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CompoundAlert {
    /// The compound.
    pub compound: ScamCompound,
    /// Estimated people held, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub estimated_people_held: Option<u32>,
    /// Nationalities of victims seen there.
    #[serde(default)]
    pub victim_nationalities: Vec<Country>,
    /// Scams run there.
    #[serde(default)]
    pub scam_types: Vec<ScamType>,
    /// Summary.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<Text>,
}

impl CompoundAlert {
    /// An alert about `compound`.
    pub fn new(compound: ScamCompound) -> Self {
        CompoundAlert {
            compound,
            estimated_people_held: None,
            victim_nationalities: Vec::new(),
            scam_types: Vec::new(),
            summary: None,
        }
    }
}

impl TryFrom<pb::CompoundAlert> for CompoundAlert {
    type Error = ValidationError;
    fn try_from(a: pb::CompoundAlert) -> Result<Self, Self::Error> {
        let alert = CompoundAlert {
            compound: wire::required(a.compound, "compound")?,
            estimated_people_held: (a.estimated_people_held > 0).then_some(a.estimated_people_held),
            victim_nationalities: wire::parse_list(
                a.victim_nationalities,
                "victim_nationalities",
                |c| Country::parse(&c),
            )?,
            scam_types: wire::parse_list(a.scam_types, "scam_types", ScamType::from_wire)?,
            summary: Text::optional(a.summary).at("summary")?,
        };
        wire::unique(&alert.victim_nationalities, "victim_nationalities", |c| *c)?;
        Ok(alert)
    }
}

impl From<CompoundAlert> for pb::CompoundAlert {
    fn from(a: CompoundAlert) -> Self {
        pb::CompoundAlert {
            compound: Some(a.compound.into()),
            estimated_people_held: a.estimated_people_held.unwrap_or(0),
            victim_nationalities: wire::to_strings(&a.victim_nationalities),
            scam_types: a.scam_types.iter().map(|s| s.to_wire()).collect(),
            summary: text::text_to_wire(a.summary),
        }
    }
}

/// Prevention alert about a recruitment modus operandi.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ModusOperandiAlert {
    /// Channels; at least one.
    pub channels: Vec<RecruitmentChannel>,
    /// Scams victims are forced into.
    #[serde(default)]
    pub scam_types: Vec<ScamType>,
    /// Nationalities targeted.
    #[serde(default)]
    pub targeted_nationalities: Vec<Country>,
    /// Summary.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<Text>,
    /// Advice for the public or front-line officers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub advice: Option<Text>,
}

impl ModusOperandiAlert {
    /// An alert about `channels`.
    pub fn new(channels: Vec<RecruitmentChannel>) -> Self {
        ModusOperandiAlert {
            channels,
            scam_types: Vec::new(),
            targeted_nationalities: Vec::new(),
            summary: None,
            advice: None,
        }
    }

    fn validate(&self) -> Result<(), ValidationError> {
        wire::non_empty(&self.channels, "channels")?;
        wire::unique(&self.channels, "channels", |c| &c.channel_id)?;
        for (i, c) in self.channels.iter().enumerate() {
            c.validate().at_item("channels", i)?;
        }
        Ok(())
    }
}

impl TryFrom<pb::ModusOperandiAlert> for ModusOperandiAlert {
    type Error = ValidationError;
    fn try_from(a: pb::ModusOperandiAlert) -> Result<Self, Self::Error> {
        let alert = ModusOperandiAlert {
            channels: wire::convert_list(a.channels, "channels")?,
            scam_types: wire::parse_list(a.scam_types, "scam_types", ScamType::from_wire)?,
            targeted_nationalities: wire::parse_list(
                a.targeted_nationalities,
                "targeted_nationalities",
                |c| Country::parse(&c),
            )?,
            summary: Text::optional(a.summary).at("summary")?,
            advice: Text::optional(a.advice).at("advice")?,
        };
        alert.validate()?;
        Ok(alert)
    }
}

impl From<ModusOperandiAlert> for pb::ModusOperandiAlert {
    fn from(a: ModusOperandiAlert) -> Self {
        pb::ModusOperandiAlert {
            channels: wire::to_wire_list(a.channels),
            scam_types: a.scam_types.iter().map(|s| s.to_wire()).collect(),
            targeted_nationalities: wire::to_strings(&a.targeted_nationalities),
            summary: text::text_to_wire(a.summary),
            advice: text::text_to_wire(a.advice),
        }
    }
}

/// A border checkpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Checkpoint {
    /// Name.
    pub name: String,
    /// Kind.
    pub kind: CheckpointKind,
    /// Where.
    pub location: Location,
}

impl Checkpoint {
    /// A checkpoint.
    pub fn new(name: impl Into<String>, kind: CheckpointKind, location: Location) -> Self {
        Checkpoint {
            name: name.into(),
            kind,
            location,
        }
    }
}

impl TryFrom<pb::Checkpoint> for Checkpoint {
    type Error = ValidationError;
    fn try_from(c: pb::Checkpoint) -> Result<Self, Self::Error> {
        Ok(Checkpoint {
            name: text::required(c.name, SHORT).at("name")?,
            kind: CheckpointKind::from_wire(c.kind).at("kind")?,
            location: wire::required(c.location, "location")?,
        })
    }
}

impl From<Checkpoint> for pb::Checkpoint {
    fn from(c: Checkpoint) -> Self {
        pb::Checkpoint {
            name: c.name,
            kind: c.kind.to_wire(),
            location: Some(c.location.into()),
        }
    }
}

/// Ask border and transit authorities to watch for persons on a route.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TransitWatchRequest {
    /// Victims (pseudonymous ids of the notice's case) to watch for.
    #[serde(default)]
    pub victims: Vec<RecordId>,
    /// Suspects to watch for.
    #[serde(default)]
    pub suspects: Vec<Suspect>,
    /// Checkpoints; at least one.
    pub checkpoints: Vec<Checkpoint>,
    /// Expected route, in order.
    #[serde(default)]
    pub route: Vec<Location>,
    /// Watch from.
    pub watch_from: Timestamp,
    /// Watch until; after `watch_from`.
    pub watch_until: Timestamp,
    /// What to do.
    pub action: WatchAction,
    /// Descriptions that help officers recognise the group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<Text>,
}

impl TransitWatchRequest {
    /// A watch at `checkpoints` over a period.
    pub fn new(
        checkpoints: Vec<Checkpoint>,
        watch_from: Timestamp,
        watch_until: Timestamp,
        action: WatchAction,
    ) -> Self {
        TransitWatchRequest {
            victims: Vec::new(),
            suspects: Vec::new(),
            checkpoints,
            route: Vec::new(),
            watch_from,
            watch_until,
            action,
            description: None,
        }
    }

    fn validate(&self) -> Result<(), ValidationError> {
        wire::non_empty(&self.checkpoints, "checkpoints")?;
        if self.victims.is_empty() && self.suspects.is_empty() {
            return Err(ValidationError::rule(
                "victims",
                "a watch names at least one victim or suspect",
            ));
        }
        wire::unique(&self.victims, "victims", |v| v)?;
        wire::unique(&self.suspects, "suspects", |s| &s.suspect_id)?;
        for (i, s) in self.suspects.iter().enumerate() {
            s.validate().at_item("suspects", i)?;
        }
        if self.watch_until <= self.watch_from {
            return Err(ValidationError::rule(
                "watch_until",
                "must be after watch_from",
            ));
        }
        Ok(())
    }
}

impl TryFrom<pb::TransitWatchRequest> for TransitWatchRequest {
    type Error = ValidationError;
    fn try_from(w: pb::TransitWatchRequest) -> Result<Self, Self::Error> {
        let watch = TransitWatchRequest {
            victims: wire::parse_list(w.victims, "victims", |v| RecordId::parse(&v))?,
            suspects: wire::convert_list(w.suspects, "suspects")?,
            checkpoints: wire::convert_list(w.checkpoints, "checkpoints")?,
            route: wire::convert_list(w.route, "route")?,
            watch_from: Timestamp::from_wire(w.watch_from.as_ref()).at("watch_from")?,
            watch_until: Timestamp::from_wire(w.watch_until.as_ref()).at("watch_until")?,
            action: WatchAction::from_wire(w.action).at("action")?,
            description: Text::optional(w.description).at("description")?,
        };
        watch.validate()?;
        Ok(watch)
    }
}

impl From<TransitWatchRequest> for pb::TransitWatchRequest {
    fn from(w: TransitWatchRequest) -> Self {
        pb::TransitWatchRequest {
            victims: wire::to_strings(&w.victims),
            suspects: wire::to_wire_list(w.suspects),
            checkpoints: wire::to_wire_list(w.checkpoints),
            route: wire::to_wire_list(w.route),
            watch_from: Some(w.watch_from.into()),
            watch_until: Some(w.watch_until.into()),
            action: w.action.to_wire(),
            description: text::text_to_wire(w.description),
        }
    }
}

/// One step of a repatriation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RepatriationStep {
    /// Kind.
    pub kind: RepatriationStepKind,
    /// Agency responsible.
    pub responsible_agency: AgencyId,
    /// When it is planned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub planned_at: Option<Timestamp>,
    /// Progress.
    pub status: StepStatus,
    /// Where.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    /// Note.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<Text>,
}

impl RepatriationStep {
    /// A planned step.
    pub fn planned(
        kind: RepatriationStepKind,
        responsible_agency: AgencyId,
        planned_at: Option<Timestamp>,
    ) -> Self {
        RepatriationStep {
            kind,
            responsible_agency,
            planned_at,
            status: StepStatus::Planned,
            location: None,
            note: None,
        }
    }
}

impl TryFrom<pb::RepatriationStep> for RepatriationStep {
    type Error = ValidationError;
    fn try_from(s: pb::RepatriationStep) -> Result<Self, Self::Error> {
        Ok(RepatriationStep {
            kind: RepatriationStepKind::from_wire(s.kind).at("kind")?,
            responsible_agency: AgencyId::from_wire(&s.responsible_agency)
                .at("responsible_agency")?,
            planned_at: Timestamp::optional_from_wire(s.planned_at.as_ref()).at("planned_at")?,
            status: StepStatus::from_wire(s.status).at("status")?,
            location: wire::optional(s.location, "location")?,
            note: Text::optional(s.note).at("note")?,
        })
    }
}

impl From<RepatriationStep> for pb::RepatriationStep {
    fn from(s: RepatriationStep) -> Self {
        pb::RepatriationStep {
            kind: s.kind.to_wire(),
            responsible_agency: s.responsible_agency.to_string(),
            planned_at: s.planned_at.map(Into::into),
            status: s.status.to_wire(),
            location: s.location.map(Into::into),
            note: text::text_to_wire(s.note),
        }
    }
}

/// The plan to bring victims home.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RepatriationPlan {
    /// Plan id, unique within the case.
    pub plan_id: RecordId,
    /// Victims; at least one.
    pub victims: Vec<RecordId>,
    /// Steps in the order they happen.
    pub steps: Vec<RepatriationStep>,
}

impl RepatriationPlan {
    /// A plan.
    pub fn new(plan_id: RecordId, victims: Vec<RecordId>, steps: Vec<RepatriationStep>) -> Self {
        RepatriationPlan {
            plan_id,
            victims,
            steps,
        }
    }

    fn validate(&self) -> Result<(), ValidationError> {
        wire::non_empty(&self.victims, "victims")?;
        wire::unique(&self.victims, "victims", |v| v)?;
        wire::non_empty(&self.steps, "steps")?;
        let mut previous: Option<&RepatriationStep> = None;
        // The latest planned_at of the steps so far that have one: steps
        // without planned_at are skipped when comparing.
        let mut last_planned: Option<Timestamp> = None;
        for (i, step) in self.steps.iter().enumerate() {
            if let Some(prev) = previous {
                if step.kind < prev.kind {
                    return Err(ValidationError::rule(
                        "kind",
                        "steps must be in order: nationality verification, travel document, transit handover, arrival, referral",
                    )
                    .within_item("steps", i));
                }
                if step.kind == prev.kind && step.kind != RepatriationStepKind::TransitHandover {
                    return Err(ValidationError::duplicate("kind", step.kind.wire_name())
                        .within_item("steps", i));
                }
            }
            if let (Some(a), Some(b)) = (last_planned, step.planned_at)
                && b < a
            {
                return Err(ValidationError::rule(
                    "planned_at",
                    "must not be before the planned_at of an earlier step",
                )
                .within_item("steps", i));
            }
            last_planned = step.planned_at.or(last_planned);
            previous = Some(step);
        }
        Ok(())
    }
}

impl TryFrom<pb::RepatriationPlan> for RepatriationPlan {
    type Error = ValidationError;
    fn try_from(p: pb::RepatriationPlan) -> Result<Self, Self::Error> {
        let plan = RepatriationPlan {
            plan_id: RecordId::from_wire(&p.plan_id).at("plan_id")?,
            victims: wire::parse_list(p.victims, "victims", |v| RecordId::parse(&v))?,
            steps: wire::convert_list(p.steps, "steps")?,
        };
        plan.validate()?;
        Ok(plan)
    }
}

impl From<RepatriationPlan> for pb::RepatriationPlan {
    fn from(p: RepatriationPlan) -> Self {
        pb::RepatriationPlan {
            plan_id: p.plan_id.to_string(),
            victims: wire::to_strings(&p.victims),
            steps: wire::to_wire_list(p.steps),
        }
    }
}

/// A request for mutual legal assistance (ASEAN MLA Treaty, Art. 6),
/// between central authorities.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AssistanceRequest {
    /// Kind.
    pub kind: AssistanceKind,
    /// Treaty, MoU or law.
    pub legal_basis: String,
    /// What is asked.
    pub description: Text,
    /// The authority conducting the investigation or proceedings.
    pub requesting_authority: String,
    /// Summary of the facts and offences.
    pub facts: Text,
    /// Purpose and nature of the proceedings.
    pub purpose: Text,
    /// Confidentiality asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidentiality: Option<Text>,
    /// When the answer is needed by.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_limit: Option<Timestamp>,
}

impl AssistanceRequest {
    /// A request; set `confidentiality` and `time_limit` on the result as
    /// needed.
    pub fn new(
        kind: AssistanceKind,
        legal_basis: impl Into<String>,
        requesting_authority: impl Into<String>,
        description: Text,
        facts: Text,
        purpose: Text,
    ) -> Self {
        AssistanceRequest {
            kind,
            legal_basis: legal_basis.into(),
            description,
            requesting_authority: requesting_authority.into(),
            facts,
            purpose,
            confidentiality: None,
            time_limit: None,
        }
    }
}

impl TryFrom<pb::AssistanceRequest> for AssistanceRequest {
    type Error = ValidationError;
    fn try_from(a: pb::AssistanceRequest) -> Result<Self, Self::Error> {
        Ok(AssistanceRequest {
            kind: AssistanceKind::from_wire(a.kind).at("kind")?,
            legal_basis: text::required(a.legal_basis, SHORT).at("legal_basis")?,
            description: text::required_text(a.description).at("description")?,
            requesting_authority: text::required(a.requesting_authority, SHORT)
                .at("requesting_authority")?,
            facts: text::required_text(a.facts).at("facts")?,
            purpose: text::required_text(a.purpose).at("purpose")?,
            confidentiality: Text::optional(a.confidentiality).at("confidentiality")?,
            time_limit: Timestamp::optional_from_wire(a.time_limit.as_ref()).at("time_limit")?,
        })
    }
}

impl From<AssistanceRequest> for pb::AssistanceRequest {
    fn from(a: AssistanceRequest) -> Self {
        pb::AssistanceRequest {
            kind: a.kind.to_wire(),
            legal_basis: a.legal_basis,
            description: Some(a.description.into()),
            requesting_authority: a.requesting_authority,
            facts: Some(a.facts.into()),
            purpose: Some(a.purpose.into()),
            confidentiality: text::text_to_wire(a.confidentiality),
            time_limit: a.time_limit.map(Into::into),
        }
    }
}

/// The answer to a mutual-assistance request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AssistanceResponse {
    /// The request answered.
    pub request: NoticeId,
    /// Outcome.
    pub outcome: AssistanceOutcome,
    /// Answer.
    pub answer: Text,
}

impl AssistanceResponse {
    /// A response.
    pub fn new(request: NoticeId, outcome: AssistanceOutcome, answer: Text) -> Self {
        AssistanceResponse {
            request,
            outcome,
            answer,
        }
    }
}

impl TryFrom<pb::AssistanceResponse> for AssistanceResponse {
    type Error = ValidationError;
    fn try_from(a: pb::AssistanceResponse) -> Result<Self, Self::Error> {
        Ok(AssistanceResponse {
            request: NoticeId::from_wire(&a.request).at("request")?,
            outcome: AssistanceOutcome::from_wire(a.outcome).at("outcome")?,
            answer: text::required_text(a.answer).at("answer")?,
        })
    }
}

impl From<AssistanceResponse> for pb::AssistanceResponse {
    fn from(a: AssistanceResponse) -> Self {
        pb::AssistanceResponse {
            request: a.request.as_bytes().to_vec(),
            outcome: a.outcome.to_wire(),
            answer: Some(a.answer.into()),
        }
    }
}

/// Cancels an earlier notice by the same sender.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Withdrawal {
    /// The withdrawn notice.
    pub withdrawn: NoticeId,
    /// Why.
    pub reason: Text,
    /// Empty for a whole withdrawal; else the persons (victim ids) whose
    /// protected parts are erased from the notice, which stays.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub persons: Vec<RecordId>,
}

impl Withdrawal {
    /// A withdrawal of the whole notice.
    pub fn new(withdrawn: NoticeId, reason: Text) -> Self {
        Withdrawal {
            withdrawn,
            reason,
            persons: Vec::new(),
        }
    }

    /// The erasure of `persons`' protected parts from notice `withdrawn`
    /// (docs/PROTOCOL.md section 14.7.1); the notice stays.
    pub fn of_persons(withdrawn: NoticeId, persons: Vec<RecordId>, reason: Text) -> Self {
        Withdrawal {
            withdrawn,
            reason,
            persons,
        }
    }

    /// Whether only some persons' data is erased.
    pub fn is_partial(&self) -> bool {
        !self.persons.is_empty()
    }
}

impl TryFrom<pb::Withdrawal> for Withdrawal {
    type Error = ValidationError;
    fn try_from(w: pb::Withdrawal) -> Result<Self, Self::Error> {
        let persons = wire::parse_list(w.persons, "persons", |p| RecordId::from_wire(&p))?;
        for (i, p) in persons.iter().enumerate() {
            if persons[..i].contains(p) {
                return Err(ValidationError::duplicate("", p.as_str()).within_item("persons", i));
            }
        }
        Ok(Withdrawal {
            withdrawn: NoticeId::from_wire(&w.withdrawn).at("withdrawn")?,
            reason: text::required_text(w.reason).at("reason")?,
            persons,
        })
    }
}

impl From<Withdrawal> for pb::Withdrawal {
    fn from(w: Withdrawal) -> Self {
        pb::Withdrawal {
            withdrawn: w.withdrawn.as_bytes().to_vec(),
            reason: Some(w.reason.into()),
            persons: w.persons.iter().map(|p| p.as_str().to_owned()).collect(),
        }
    }
}
