//! The case: one agency's record of a trafficking situation, as shared in
//! notices.

mod compound;
mod finance;
mod identity;
mod people;
mod personal;
mod recruitment;

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

pub use compound::ScamCompound;
pub use finance::{FinancialIndicator, Instrument};
pub use identity::{IdentityDocument, PersonIdentity, PersonName, PhotoReference};
pub use people::{ConsentRecord, Referral, Suspect, Victim};
pub use personal::{Contact, Contacts, MAX_CONTACTS, MedicalDetails};
pub use recruitment::RecruitmentChannel;

use crate::error::{At, ValidationError};
use crate::ids::{AgencyId, CaseId, MemberState, RecordId};
use crate::pb;
use crate::place::Location;
use crate::text;
use crate::text::Text;
use crate::time::Timestamp;
use crate::vocab::{CaseStatus, EventKind, StateRole};
use crate::wire;

/// A member state and the role it plays in a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct StateInvolvement {
    /// The state.
    pub state: MemberState,
    /// Its role.
    pub role: StateRole,
}

impl TryFrom<pb::StateInvolvement> for StateInvolvement {
    type Error = ValidationError;
    fn try_from(s: pb::StateInvolvement) -> Result<Self, Self::Error> {
        Ok(StateInvolvement {
            state: MemberState::from_wire(&s.state).at("state")?,
            role: StateRole::from_wire(s.role).at("role")?,
        })
    }
}

impl From<StateInvolvement> for pb::StateInvolvement {
    fn from(s: StateInvolvement) -> Self {
        pb::StateInvolvement {
            state: s.state.code().to_owned(),
            role: s.role.to_wire(),
        }
    }
}

/// One entry of a case's timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TimelineEvent {
    /// When.
    pub occurred_at: Timestamp,
    /// What.
    pub kind: EventKind,
    /// Where.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<Text>,
    /// Victims (of the same case) involved.
    #[serde(default)]
    pub victims: Vec<RecordId>,
}

impl TimelineEvent {
    /// An event.
    pub fn new(occurred_at: Timestamp, kind: EventKind) -> Self {
        TimelineEvent {
            occurred_at,
            kind,
            location: None,
            description: None,
            victims: Vec::new(),
        }
    }
}

impl TryFrom<pb::TimelineEvent> for TimelineEvent {
    type Error = ValidationError;
    fn try_from(e: pb::TimelineEvent) -> Result<Self, Self::Error> {
        Ok(TimelineEvent {
            occurred_at: Timestamp::from_wire(e.occurred_at.as_ref()).at("occurred_at")?,
            kind: EventKind::from_wire(e.kind).at("kind")?,
            location: wire::optional(e.location, "location")?,
            description: Text::optional(e.description).at("description")?,
            victims: wire::parse_list(e.victims, "victims", |v| RecordId::parse(&v))?,
        })
    }
}

impl From<TimelineEvent> for pb::TimelineEvent {
    fn from(e: TimelineEvent) -> Self {
        pb::TimelineEvent {
            occurred_at: Some(e.occurred_at.into()),
            kind: e.kind.to_wire(),
            location: e.location.map(Into::into),
            description: text::text_to_wire(e.description),
            victims: wire::to_strings(&e.victims),
        }
    }
}

/// A trafficking case as the originating agency knows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Case {
    /// Case id chosen by the originating agency.
    pub case_id: CaseId,
    /// The agency that opened the case.
    pub originating_agency: AgencyId,
    /// When the case was opened.
    pub opened_at: Timestamp,
    /// Case status.
    pub status: CaseStatus,
    /// States involved and their roles; the originating agency's state is
    /// among them.
    pub states: Vec<StateInvolvement>,
    /// Victims.
    #[serde(default)]
    pub victims: Vec<Victim>,
    /// Suspects.
    #[serde(default)]
    pub suspects: Vec<Suspect>,
    /// Scam compounds.
    #[serde(default)]
    pub compounds: Vec<ScamCompound>,
    /// Recruitment channels.
    #[serde(default)]
    pub recruitment: Vec<RecruitmentChannel>,
    /// Financial indicators.
    #[serde(default)]
    pub financial_indicators: Vec<FinancialIndicator>,
    /// Timeline.
    #[serde(default)]
    pub timeline: Vec<TimelineEvent>,
    /// Short factual summary.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<Text>,
}

impl Case {
    /// An active case with the originating agency's state in `role`.
    pub fn open(
        case_id: CaseId,
        originating_agency: AgencyId,
        opened_at: Timestamp,
        role: StateRole,
    ) -> Self {
        let state = originating_agency.state();
        Case {
            case_id,
            originating_agency,
            opened_at,
            status: CaseStatus::Active,
            states: vec![StateInvolvement { state, role }],
            victims: Vec::new(),
            suspects: Vec::new(),
            compounds: Vec::new(),
            recruitment: Vec::new(),
            financial_indicators: Vec::new(),
            timeline: Vec::new(),
            summary: None,
        }
    }

    /// The victim with this id.
    pub fn victim(&self, id: &RecordId) -> Option<&Victim> {
        self.victims.iter().find(|v| &v.victim_id == id)
    }

    /// The states playing `role`.
    pub fn states_in_role(&self, role: StateRole) -> impl Iterator<Item = MemberState> + '_ {
        self.states
            .iter()
            .filter(move |s| s.role == role)
            .map(|s| s.state)
    }

    /// Checks every rule that relates the case's parts to each other: ids
    /// unique, references resolve, the originating state is involved.
    ///
    /// # Errors
    /// The first broken rule, with its field path.
    pub fn validate(&self) -> Result<(), ValidationError> {
        wire::non_empty(&self.states, "states")?;
        wire::unique(&self.states, "states", |s| {
            format!("{} {}", s.state, s.role.wire_name())
        })?;
        let origin_state = self.originating_agency.state();
        if !self.states.iter().any(|s| s.state == origin_state) {
            return Err(ValidationError::rule(
                "states",
                "the originating agency's state must be one of the states involved",
            ));
        }
        wire::unique(&self.victims, "victims", |v| &v.victim_id)?;
        wire::unique(&self.suspects, "suspects", |s| &s.suspect_id)?;
        wire::unique(&self.compounds, "compounds", |c| &c.compound_id)?;
        wire::unique(&self.recruitment, "recruitment", |r| &r.channel_id)?;
        wire::unique(&self.financial_indicators, "financial_indicators", |f| {
            &f.indicator_id
        })?;

        let compounds: BTreeSet<&RecordId> =
            self.compounds.iter().map(|c| &c.compound_id).collect();
        let victims: BTreeSet<&RecordId> = self.victims.iter().map(|v| &v.victim_id).collect();
        const COMPOUND: &str = "the compound_id of a compound in this case";
        const VICTIM: &str = "the victim_id of a victim in this case";

        for (i, victim) in self.victims.iter().enumerate() {
            if let Some(c) = &victim.held_in_compound
                && !compounds.contains(c)
            {
                return Err(
                    ValidationError::unknown_reference("held_in_compound", COMPOUND, c)
                        .within_item("victims", i),
                );
            }
        }
        for (i, suspect) in self.suspects.iter().enumerate() {
            suspect.validate().at_item("suspects", i)?;
            for (j, c) in suspect.linked_compounds.iter().enumerate() {
                if !compounds.contains(c) {
                    return Err(ValidationError::unknown_reference("", COMPOUND, c)
                        .within_item("linked_compounds", j)
                        .within_item("suspects", i));
                }
            }
        }
        for (i, compound) in self.compounds.iter().enumerate() {
            compound.validate().at_item("compounds", i)?;
            if let Some(to) = &compound.relocated_to
                && !compounds.contains(to)
            {
                return Err(
                    ValidationError::unknown_reference("relocated_to", COMPOUND, to)
                        .within_item("compounds", i),
                );
            }
        }
        for (i, channel) in self.recruitment.iter().enumerate() {
            channel.validate().at_item("recruitment", i)?;
        }
        for (i, event) in self.timeline.iter().enumerate() {
            for (j, v) in event.victims.iter().enumerate() {
                if !victims.contains(v) {
                    return Err(ValidationError::unknown_reference("", VICTIM, v)
                        .within_item("victims", j)
                        .within_item("timeline", i));
                }
            }
        }
        Ok(())
    }
}

impl TryFrom<pb::Case> for Case {
    type Error = ValidationError;
    fn try_from(c: pb::Case) -> Result<Self, Self::Error> {
        let case = Case {
            case_id: CaseId::from_wire(&c.case_id).at("case_id")?,
            originating_agency: AgencyId::from_wire(&c.originating_agency)
                .at("originating_agency")?,
            opened_at: Timestamp::from_wire(c.opened_at.as_ref()).at("opened_at")?,
            status: CaseStatus::from_wire(c.status).at("status")?,
            states: wire::convert_list(c.states, "states")?,
            victims: wire::convert_list(c.victims, "victims")?,
            suspects: wire::convert_list(c.suspects, "suspects")?,
            compounds: wire::convert_list(c.compounds, "compounds")?,
            recruitment: wire::convert_list(c.recruitment, "recruitment")?,
            financial_indicators: wire::convert_list(
                c.financial_indicators,
                "financial_indicators",
            )?,
            timeline: wire::convert_list(c.timeline, "timeline")?,
            summary: Text::optional(c.summary).at("summary")?,
        };
        case.validate()?;
        Ok(case)
    }
}

impl From<Case> for pb::Case {
    fn from(c: Case) -> Self {
        pb::Case {
            case_id: c.case_id.to_string(),
            originating_agency: c.originating_agency.to_string(),
            opened_at: Some(c.opened_at.into()),
            status: c.status.to_wire(),
            states: wire::to_wire_list(c.states),
            victims: wire::to_wire_list(c.victims),
            suspects: wire::to_wire_list(c.suspects),
            compounds: wire::to_wire_list(c.compounds),
            recruitment: wire::to_wire_list(c.recruitment),
            financial_indicators: wire::to_wire_list(c.financial_indicators),
            timeline: wire::to_wire_list(c.timeline),
            summary: text::text_to_wire(c.summary),
        }
    }
}

/// Another agency's reference for the same matter ("your reference").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CaseReference {
    /// The agency that holds the case.
    pub agency: AgencyId,
    /// That agency's case id.
    pub case_id: CaseId,
}

impl CaseReference {
    /// `agency`'s case `case_id`.
    pub fn new(agency: AgencyId, case_id: CaseId) -> Self {
        CaseReference { agency, case_id }
    }
}

impl TryFrom<pb::CaseReference> for CaseReference {
    type Error = ValidationError;
    fn try_from(r: pb::CaseReference) -> Result<Self, Self::Error> {
        Ok(CaseReference {
            agency: AgencyId::from_wire(&r.agency).at("agency")?,
            case_id: CaseId::from_wire(&r.case_id).at("case_id")?,
        })
    }
}

impl From<CaseReference> for pb::CaseReference {
    fn from(r: CaseReference) -> Self {
        pb::CaseReference {
            agency: r.agency.to_string(),
            case_id: r.case_id.to_string(),
        }
    }
}
