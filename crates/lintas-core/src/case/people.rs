//! Victims and suspects.

use serde::{Deserialize, Serialize};

use crate::error::{At, ValidationError};
use crate::ids::{Country, Language, PhoneNumber, RecordId};
use crate::pb;
use crate::place::{Handle, Location};
use crate::text::{self, SHORT};
use crate::vocab::{
    AgeBand, Consent, ControlMethod, Exploitation, Gender, LegalTreatment, MedicalUrgency,
    NationalityVerification, ScamType, SuspectRole, TraffickingStatus, VictimStatus, Vulnerability,
};
use crate::wire;

/// A person believed to be a victim, known by a pseudonymous id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Victim {
    /// Pseudonymous id, unique within the case.
    pub victim_id: RecordId,
    /// Claimed or verified nationality (any country).
    pub nationality: Country,
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
    /// Consent to share this person's data.
    pub consent: Consent,
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
    /// Types of exploitation.
    #[serde(default)]
    pub exploitation: Vec<Exploitation>,
    /// Methods of control.
    #[serde(default)]
    pub control_methods: Vec<ControlMethod>,
    /// Scams the person was forced to run.
    #[serde(default)]
    pub forced_scam_types: Vec<ScamType>,
}

impl Victim {
    /// A newly identified person: nationality claimed, age and gender
    /// unknown, consent not yet asked, status identified, treatment under
    /// assessment, possible victim. Set what is known on the result.
    pub fn identified(victim_id: RecordId, nationality: Country) -> Self {
        Victim {
            victim_id,
            nationality,
            nationality_verification: NationalityVerification::Claimed,
            age_band: AgeBand::Unknown,
            gender: Gender::NonSpecifiedUnknown,
            languages: Vec::new(),
            vulnerabilities: Vec::new(),
            medical_urgency: MedicalUrgency::NoneKnown,
            consent: Consent::NotYetAsked,
            last_known_location: None,
            held_in_compound: None,
            status: VictimStatus::Identified,
            legal_treatment: LegalTreatment::UnderAssessment,
            non_punishment: false,
            trafficking_status: TraffickingStatus::PossibleVictim,
            exploitation: Vec::new(),
            control_methods: Vec::new(),
            forced_scam_types: Vec::new(),
        }
    }
}

impl TryFrom<pb::Victim> for Victim {
    type Error = ValidationError;
    fn try_from(v: pb::Victim) -> Result<Self, Self::Error> {
        Ok(Victim {
            victim_id: RecordId::from_wire(&v.victim_id).at("victim_id")?,
            nationality: Country::from_wire(&v.nationality).at("nationality")?,
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
            consent: Consent::from_wire(v.consent).at("consent")?,
            last_known_location: wire::optional(v.last_known_location, "last_known_location")?,
            held_in_compound: optional_record(&v.held_in_compound).at("held_in_compound")?,
            status: VictimStatus::from_wire(v.status).at("status")?,
            legal_treatment: LegalTreatment::from_wire(v.legal_treatment).at("legal_treatment")?,
            non_punishment: v.non_punishment,
            trafficking_status: TraffickingStatus::from_wire(v.trafficking_status)
                .at("trafficking_status")?,
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
        })
    }
}

impl From<Victim> for pb::Victim {
    fn from(v: Victim) -> Self {
        pb::Victim {
            victim_id: v.victim_id.to_string(),
            nationality: v.nationality.to_string(),
            nationality_verification: v.nationality_verification.to_wire(),
            age_band: v.age_band.to_wire(),
            gender: v.gender.to_wire(),
            languages: wire::to_strings(&v.languages),
            vulnerabilities: v.vulnerabilities.iter().map(|x| x.to_wire()).collect(),
            medical_urgency: v.medical_urgency.to_wire(),
            consent: v.consent.to_wire(),
            last_known_location: v.last_known_location.map(Into::into),
            held_in_compound: v
                .held_in_compound
                .map(|c| c.to_string())
                .unwrap_or_default(),
            status: v.status.to_wire(),
            legal_treatment: v.legal_treatment.to_wire(),
            non_punishment: v.non_punishment,
            trafficking_status: v.trafficking_status.to_wire(),
            exploitation: v.exploitation.iter().map(|x| x.to_wire()).collect(),
            control_methods: v.control_methods.iter().map(|x| x.to_wire()).collect(),
            forced_scam_types: v.forced_scam_types.iter().map(|x| x.to_wire()).collect(),
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
    /// Names as known.
    #[serde(default)]
    pub names: Vec<String>,
    /// Aliases.
    #[serde(default)]
    pub aliases: Vec<String>,
    /// Phone numbers.
    #[serde(default)]
    pub phone_numbers: Vec<PhoneNumber>,
    /// Messaging and social-media accounts.
    #[serde(default)]
    pub handles: Vec<Handle>,
    /// Nationalities, when known.
    #[serde(default)]
    pub nationalities: Vec<Country>,
    /// Compounds (of the same case) the suspect is linked to.
    #[serde(default)]
    pub linked_compounds: Vec<RecordId>,
}

impl Suspect {
    /// A suspect with one role and nothing else known yet; add at least one
    /// name, alias, phone number or handle before sending.
    pub fn new(suspect_id: RecordId, role: SuspectRole) -> Self {
        Suspect {
            suspect_id,
            roles: vec![role],
            names: Vec::new(),
            aliases: Vec::new(),
            phone_numbers: Vec::new(),
            handles: Vec::new(),
            nationalities: Vec::new(),
            linked_compounds: Vec::new(),
        }
    }

    /// Checks the rules that relate fields to each other.
    ///
    /// # Errors
    /// No role, or nothing to identify the suspect by.
    pub fn validate(&self) -> Result<(), ValidationError> {
        wire::non_empty(&self.roles, "roles")?;
        if self.names.is_empty()
            && self.aliases.is_empty()
            && self.phone_numbers.is_empty()
            && self.handles.is_empty()
        {
            return Err(ValidationError::rule(
                "names",
                "a suspect needs at least one name, alias, phone number or handle",
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
            names: text::list(s.names, "names", SHORT)?,
            aliases: text::list(s.aliases, "aliases", SHORT)?,
            phone_numbers: wire::parse_list(s.phone_numbers, "phone_numbers", |p| {
                PhoneNumber::parse(&p)
            })?,
            handles: wire::convert_list(s.handles, "handles")?,
            nationalities: wire::parse_list(s.nationalities, "nationalities", |c| {
                Country::parse(&c)
            })?,
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
            names: s.names,
            aliases: s.aliases,
            phone_numbers: wire::to_strings(&s.phone_numbers),
            handles: wire::to_wire_list(s.handles),
            nationalities: wire::to_strings(&s.nationalities),
            linked_compounds: wire::to_strings(&s.linked_compounds),
        }
    }
}
