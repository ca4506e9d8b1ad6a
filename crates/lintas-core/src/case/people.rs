//! Victims and suspects.

use serde::{Deserialize, Serialize};

use super::identity::PersonIdentity;
use super::personal::{Contacts, MedicalDetails};
use crate::disclosure::Protected;
use crate::error::{At, ValidationError};
use crate::ids::{Country, Language, Nationality, RecordId};
use crate::pb;
use crate::place::{Handle, Location};
use crate::text::{self, SHORT, Text};
use crate::time::Timestamp;
use crate::vocab::{
    AgeBand, ConsentDecision, ConsentPurpose, ControlMethod, Exploitation, Gender, LegalTreatment,
    MedicalUrgency, NationalityVerification, ReferralOutcome, ReferralReason, ScamType,
    ServiceProvider, SharingBasis, StatusDecidedBy, SupportType, SuspectRole, TraffickingStatus,
    VictimStatus, Vulnerability,
};
use crate::wire;

/// A person's answer to one consent question.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ConsentRecord {
    /// What was asked.
    pub purpose: ConsentPurpose,
    /// The answer.
    pub decision: ConsentDecision,
    /// When.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recorded_at: Option<Timestamp>,
}

impl ConsentRecord {
    /// The answer `decision` to `purpose`.
    pub fn new(purpose: ConsentPurpose, decision: ConsentDecision) -> Self {
        ConsentRecord {
            purpose,
            decision,
            recorded_at: None,
        }
    }
}

impl TryFrom<pb::ConsentRecord> for ConsentRecord {
    type Error = ValidationError;
    fn try_from(c: pb::ConsentRecord) -> Result<Self, Self::Error> {
        Ok(ConsentRecord {
            purpose: ConsentPurpose::from_wire(c.purpose).at("purpose")?,
            decision: ConsentDecision::from_wire(c.decision).at("decision")?,
            recorded_at: Timestamp::optional_from_wire(c.recorded_at.as_ref()).at("recorded_at")?,
        })
    }
}

impl From<ConsentRecord> for pb::ConsentRecord {
    fn from(c: ConsentRecord) -> Self {
        pb::ConsentRecord {
            purpose: c.purpose.to_wire(),
            decision: c.decision.to_wire(),
            recorded_at: c.recorded_at.map(Into::into),
        }
    }
}

/// A referral of a victim to a service (HTCDS referral fields).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Referral {
    /// The organisation's name.
    pub organisation: String,
    /// What kind of organisation.
    pub provider: ServiceProvider,
    /// Services; at least one.
    pub services: Vec<SupportType>,
    /// Why.
    pub reason: ReferralReason,
    /// When.
    pub referred_at: Timestamp,
    /// What became of it.
    pub outcome: ReferralOutcome,
    /// Where.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    /// Details.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<Text>,
}

impl TryFrom<pb::Referral> for Referral {
    type Error = ValidationError;
    fn try_from(r: pb::Referral) -> Result<Self, Self::Error> {
        let services = wire::parse_list(r.services, "services", SupportType::from_wire)?;
        wire::non_empty(&services, "services")?;
        Ok(Referral {
            organisation: text::required(r.organisation, SHORT).at("organisation")?,
            provider: ServiceProvider::from_wire(r.provider).at("provider")?,
            services,
            reason: ReferralReason::from_wire(r.reason).at("reason")?,
            referred_at: Timestamp::from_wire(r.referred_at.as_ref()).at("referred_at")?,
            outcome: ReferralOutcome::from_wire(r.outcome).at("outcome")?,
            location: wire::optional(r.location, "location")?,
            details: Text::optional(r.details).at("details")?,
        })
    }
}

impl From<Referral> for pb::Referral {
    fn from(r: Referral) -> Self {
        pb::Referral {
            organisation: r.organisation,
            provider: r.provider.to_wire(),
            services: r.services.iter().map(|s| s.to_wire()).collect(),
            reason: r.reason.to_wire(),
            referred_at: Some(r.referred_at.into()),
            outcome: r.outcome.to_wire(),
            location: r.location.map(Into::into),
            details: text::text_to_wire(r.details),
        }
    }
}

/// A person believed to be a victim, known by a pseudonymous id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Victim {
    /// Pseudonymous id, unique within the case.
    pub victim_id: RecordId,
    /// Claimed or verified nationalities; at least one.
    pub nationalities: Vec<Nationality>,
    /// How far the nationality is verified.
    pub nationality_verification: NationalityVerification,
    /// Age band.
    pub age_band: AgeBand,
    /// Gender (HTCDS prs_Gender).
    pub gender: Gender,
    /// Languages spoken.
    #[serde(default)]
    pub languages: Vec<Language>,
    /// Vulnerabilities.
    #[serde(default)]
    pub vulnerabilities: Vec<Vulnerability>,
    /// Medical urgency.
    pub medical_urgency: MedicalUrgency,
    /// The person's answers, per purpose.
    #[serde(default)]
    pub consents: Vec<ConsentRecord>,
    /// The ground on which this record is shared.
    pub sharing_basis: SharingBasis,
    /// Last known location.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_known_location: Option<Location>,
    /// The compound (of the same case) the person is held in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub held_in_compound: Option<RecordId>,
    /// Place in the protection lifecycle.
    pub status: VictimStatus,
    /// Treated as victim or suspect.
    pub legal_treatment: LegalTreatment,
    /// The non-punishment principle is applied to this person.
    pub non_punishment: bool,
    /// HTCDS trafficking status.
    pub trafficking_status: TraffickingStatus,
    /// Who decided the trafficking status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trafficking_status_decided_by: Option<StatusDecidedBy>,
    /// Types of exploitation.
    #[serde(default)]
    pub exploitation: Vec<Exploitation>,
    /// Methods of control.
    #[serde(default)]
    pub control_methods: Vec<ControlMethod>,
    /// Scams the person was forced to run.
    #[serde(default)]
    pub forced_scam_types: Vec<ScamType>,
    /// Referrals to services.
    #[serde(default)]
    pub referrals: Vec<Referral>,
    /// Medical details: protected (docs/PROTOCOL.md section 14).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub medical: Option<Protected<MedicalDetails>>,
    /// Contacts: protected (docs/PROTOCOL.md section 14).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contacts: Option<Protected<Contacts>>,
}

impl Victim {
    /// A newly identified person: nationality claimed, age and gender
    /// unknown, consent not yet asked and the record shared for law
    /// enforcement, status identified, treatment under assessment, possible
    /// victim. Set what is known on the result.
    pub fn identified(victim_id: RecordId, nationality: impl Into<Nationality>) -> Self {
        Victim {
            victim_id,
            nationalities: vec![nationality.into()],
            nationality_verification: NationalityVerification::Claimed,
            age_band: AgeBand::Unknown,
            gender: Gender::NonSpecifiedUnknown,
            languages: Vec::new(),
            vulnerabilities: Vec::new(),
            medical_urgency: MedicalUrgency::NoneKnown,
            consents: Vec::new(),
            sharing_basis: SharingBasis::LawEnforcement,
            last_known_location: None,
            held_in_compound: None,
            status: VictimStatus::Identified,
            legal_treatment: LegalTreatment::UnderAssessment,
            non_punishment: false,
            trafficking_status: TraffickingStatus::PossibleVictim,
            trafficking_status_decided_by: None,
            exploitation: Vec::new(),
            control_methods: Vec::new(),
            forced_scam_types: Vec::new(),
            referrals: Vec::new(),
            medical: None,
            contacts: None,
        }
    }

    /// The person's answer for `purpose`, if recorded.
    pub fn consent(&self, purpose: ConsentPurpose) -> Option<ConsentDecision> {
        self.consents
            .iter()
            .find(|c| c.purpose == purpose)
            .map(|c| c.decision)
    }

    /// Records the answer `decision` for `purpose`, replacing any earlier one.
    pub fn record_consent(&mut self, purpose: ConsentPurpose, decision: ConsentDecision) {
        self.consents.retain(|c| c.purpose != purpose);
        self.consents.push(ConsentRecord::new(purpose, decision));
    }

    /// The countries that must not receive this person's data because they
    /// refused to have their state of nationality notified.
    pub fn withheld_from(&self) -> Vec<Country> {
        if self.consent(ConsentPurpose::NotifyStateOfNationality) == Some(ConsentDecision::Refused)
        {
            self.nationalities
                .iter()
                .filter_map(Nationality::country)
                .collect()
        } else {
            Vec::new()
        }
    }

    /// Checks the rules that relate the record's fields to each other.
    ///
    /// # Errors
    /// The first broken rule, with its field path.
    pub fn validate(&self) -> Result<(), ValidationError> {
        wire::unique(&self.consents, "consents", |c| c.purpose.to_wire())?;
        if self.legal_treatment == LegalTreatment::Suspect && self.non_punishment {
            return Err(ValidationError::rule(
                "non_punishment",
                "must be false when legal_treatment is LEGAL_TREATMENT_SUSPECT",
            ));
        }
        if let Some(i) = self
            .vulnerabilities
            .iter()
            .position(|v| *v == Vulnerability::Child)
            && !self.age_band.is_child()
        {
            return Err(ValidationError::rule(
                "",
                "VULNERABILITY_CHILD needs age_band AGE_BAND_UNDER_12 or AGE_BAND_12_TO_17",
            )
            .within_item("vulnerabilities", i));
        }
        if self.sharing_basis == SharingBasis::Consent
            && self.consent(ConsentPurpose::ShareWithAgencies) != Some(ConsentDecision::Given)
        {
            return Err(ValidationError::rule(
                "sharing_basis",
                "SHARING_BASIS_CONSENT needs a consent record for CONSENT_PURPOSE_SHARE_WITH_AGENCIES with decision GIVEN",
            ));
        }
        Ok(())
    }
}

impl TryFrom<pb::Victim> for Victim {
    type Error = ValidationError;
    fn try_from(v: pb::Victim) -> Result<Self, Self::Error> {
        let victim = Victim {
            victim_id: RecordId::from_wire(&v.victim_id).at("victim_id")?,
            nationalities: Nationality::list(v.nationalities, "nationalities")?,
            nationality_verification: NationalityVerification::from_wire(
                v.nationality_verification,
            )
            .at("nationality_verification")?,
            age_band: AgeBand::from_wire(v.age_band).at("age_band")?,
            gender: Gender::from_wire(v.gender).at("gender")?,
            languages: wire::parse_list(v.languages, "languages", |l| Language::parse(&l))?,
            vulnerabilities: wire::parse_list(
                v.vulnerabilities,
                "vulnerabilities",
                Vulnerability::from_wire,
            )?,
            medical_urgency: MedicalUrgency::from_wire(v.medical_urgency).at("medical_urgency")?,
            consents: wire::convert_list(v.consents, "consents")?,
            sharing_basis: SharingBasis::from_wire(v.sharing_basis).at("sharing_basis")?,
            last_known_location: wire::optional(v.last_known_location, "last_known_location")?,
            held_in_compound: optional_record(&v.held_in_compound).at("held_in_compound")?,
            status: VictimStatus::from_wire(v.status).at("status")?,
            legal_treatment: LegalTreatment::from_wire(v.legal_treatment).at("legal_treatment")?,
            non_punishment: v.non_punishment,
            trafficking_status: TraffickingStatus::from_wire(v.trafficking_status)
                .at("trafficking_status")?,
            trafficking_status_decided_by: wire::optional_enum(
                v.trafficking_status_decided_by,
                "trafficking_status_decided_by",
                StatusDecidedBy::from_wire,
            )?,
            exploitation: wire::parse_list(
                v.exploitation,
                "exploitation",
                Exploitation::from_wire,
            )?,
            control_methods: wire::parse_list(
                v.control_methods,
                "control_methods",
                ControlMethod::from_wire,
            )?,
            forced_scam_types: wire::parse_list(
                v.forced_scam_types,
                "forced_scam_types",
                ScamType::from_wire,
            )?,
            referrals: wire::convert_list(v.referrals, "referrals")?,
            medical: wire::optional(v.medical, "medical")?,
            contacts: wire::optional(v.contacts, "contacts")?,
        };
        victim.validate()?;
        Ok(victim)
    }
}

impl From<Victim> for pb::Victim {
    fn from(v: Victim) -> Self {
        pb::Victim {
            victim_id: v.victim_id.to_string(),
            nationalities: wire::to_strings(&v.nationalities),
            nationality_verification: v.nationality_verification.to_wire(),
            age_band: v.age_band.to_wire(),
            gender: v.gender.to_wire(),
            languages: wire::to_strings(&v.languages),
            vulnerabilities: v.vulnerabilities.iter().map(|x| x.to_wire()).collect(),
            medical_urgency: v.medical_urgency.to_wire(),
            consents: wire::to_wire_list(v.consents),
            sharing_basis: v.sharing_basis.to_wire(),
            last_known_location: v.last_known_location.map(Into::into),
            held_in_compound: v
                .held_in_compound
                .map(|c| c.to_string())
                .unwrap_or_default(),
            status: v.status.to_wire(),
            legal_treatment: v.legal_treatment.to_wire(),
            non_punishment: v.non_punishment,
            trafficking_status: v.trafficking_status.to_wire(),
            trafficking_status_decided_by: v
                .trafficking_status_decided_by
                .map(|d| d.to_wire())
                .unwrap_or(0),
            exploitation: v.exploitation.iter().map(|x| x.to_wire()).collect(),
            control_methods: v.control_methods.iter().map(|x| x.to_wire()).collect(),
            forced_scam_types: v.forced_scam_types.iter().map(|x| x.to_wire()).collect(),
            referrals: wire::to_wire_list(v.referrals),
            medical: v.medical.map(Into::into),
            contacts: v.contacts.map(Into::into),
        }
    }
}

/// Reads an optional record id: empty means absent.
pub(crate) fn optional_record(value: &str) -> Result<Option<RecordId>, ValidationError> {
    if value.is_empty() {
        Ok(None)
    } else {
        RecordId::parse(value).map(Some)
    }
}

/// A suspect, recruiter or other perpetrator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Suspect {
    /// Id unique within the case.
    pub suspect_id: RecordId,
    /// Roles; at least one.
    pub roles: Vec<SuspectRole>,
    /// Who the suspect is, as far as known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<PersonIdentity>,
    /// Messaging and social-media accounts.
    #[serde(default)]
    pub handles: Vec<Handle>,
    /// Compounds (of the same case) the suspect is linked to.
    #[serde(default)]
    pub linked_compounds: Vec<RecordId>,
}

impl Suspect {
    /// A suspect with one role and nothing else known yet; add an identity
    /// or a handle before sending.
    pub fn new(suspect_id: RecordId, role: SuspectRole) -> Self {
        Suspect {
            suspect_id,
            roles: vec![role],
            identity: None,
            handles: Vec::new(),
            linked_compounds: Vec::new(),
        }
    }

    /// Checks the rules that relate fields to each other.
    ///
    /// # Errors
    /// No role, or nothing to identify the suspect by.
    pub fn validate(&self) -> Result<(), ValidationError> {
        wire::non_empty(&self.roles, "roles")?;
        if self.identity.is_none() && self.handles.is_empty() {
            return Err(ValidationError::rule(
                "identity",
                "a suspect needs an identity (a name or phone number) or at least one handle",
            ));
        }
        Ok(())
    }
}

impl TryFrom<pb::Suspect> for Suspect {
    type Error = ValidationError;
    fn try_from(s: pb::Suspect) -> Result<Self, Self::Error> {
        let suspect = Suspect {
            suspect_id: RecordId::from_wire(&s.suspect_id).at("suspect_id")?,
            roles: wire::parse_list(s.roles, "roles", SuspectRole::from_wire)?,
            identity: wire::optional(s.identity, "identity")?,
            handles: wire::convert_list(s.handles, "handles")?,
            linked_compounds: wire::parse_list(s.linked_compounds, "linked_compounds", |c| {
                RecordId::parse(&c)
            })?,
        };
        suspect.validate()?;
        Ok(suspect)
    }
}

impl From<Suspect> for pb::Suspect {
    fn from(s: Suspect) -> Self {
        pb::Suspect {
            suspect_id: s.suspect_id.to_string(),
            roles: s.roles.iter().map(|r| r.to_wire()).collect(),
            identity: s.identity.map(Into::into),
            handles: wire::to_wire_list(s.handles),
            linked_compounds: wire::to_strings(&s.linked_compounds),
        }
    }
}
