//! The personal details of a victim that travel only as protected parts
//! (docs/PROTOCOL.md section 14): medical details and contacts.

use serde::{Deserialize, Serialize};

use crate::error::{At, ValidationError};
use crate::ids::PhoneNumber;
use crate::pb;
use crate::place::Handle;
use crate::text::{self, Text};
use crate::vocab::ContactRelation;
use crate::wire;

/// Most contacts in one protected part.
pub const MAX_CONTACTS: usize = 16;

/// Medical details of a victim, beyond the urgency every holder sees.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct MedicalDetails {
    /// Health, injuries and treatment so far.
    pub history: Text,
    /// The person needs continuing treatment or medication on the way home.
    #[serde(default)]
    pub needs_continuing_treatment: bool,
}

impl MedicalDetails {
    /// Details with `history` and no continuing treatment.
    pub fn new(history: Text) -> Self {
        MedicalDetails {
            history,
            needs_continuing_treatment: false,
        }
    }
}

impl TryFrom<pb::MedicalDetails> for MedicalDetails {
    type Error = ValidationError;
    fn try_from(m: pb::MedicalDetails) -> Result<Self, Self::Error> {
        Ok(MedicalDetails {
            history: text::required_text(m.history).at("history")?,
            needs_continuing_treatment: m.needs_continuing_treatment,
        })
    }
}

impl From<MedicalDetails> for pb::MedicalDetails {
    fn from(m: MedicalDetails) -> Self {
        pb::MedicalDetails {
            history: Some(m.history.into()),
            needs_continuing_treatment: m.needs_continuing_treatment,
        }
    }
}

/// Someone through whom a person can be reached.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Contact {
    /// How the contact relates to the person.
    pub relation: ContactRelation,
    /// The contact's name (optional for the person themself).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Phone numbers.
    #[serde(default)]
    pub phone_numbers: Vec<PhoneNumber>,
    /// Messaging accounts.
    #[serde(default)]
    pub handles: Vec<Handle>,
}

impl Contact {
    /// A contact reached on `phone`.
    pub fn by_phone(relation: ContactRelation, name: Option<String>, phone: PhoneNumber) -> Self {
        Contact {
            relation,
            name,
            phone_numbers: vec![phone],
            handles: Vec::new(),
        }
    }
}

impl TryFrom<pb::Contact> for Contact {
    type Error = ValidationError;
    fn try_from(c: pb::Contact) -> Result<Self, Self::Error> {
        let relation = ContactRelation::from_wire(c.relation).at("relation")?;
        let name = text::optional(c.name, text::SHORT).at("name")?;
        if name.is_none() && relation != ContactRelation::Myself {
            return Err(ValidationError::rule(
                "name",
                "required unless relation is CONTACT_RELATION_SELF",
            ));
        }
        if c.phone_numbers.is_empty() && c.handles.is_empty() {
            return Err(ValidationError::rule(
                "phone_numbers",
                "a contact needs at least one phone number or handle",
            ));
        }
        wire::bounded(&c.phone_numbers, "phone_numbers")?;
        wire::bounded(&c.handles, "handles")?;
        Ok(Contact {
            relation,
            name,
            phone_numbers: wire::parse_list(c.phone_numbers, "phone_numbers", |n| {
                PhoneNumber::parse(&n)
            })?,
            handles: wire::convert_list(c.handles, "handles")?,
        })
    }
}

impl From<Contact> for pb::Contact {
    fn from(c: Contact) -> Self {
        pb::Contact {
            relation: c.relation.to_wire(),
            name: text::or_empty(c.name),
            phone_numbers: wire::to_strings(&c.phone_numbers),
            handles: wire::to_wire_list(c.handles),
        }
    }
}

/// The contacts of one person: 1 to [`MAX_CONTACTS`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Contacts(pub Vec<Contact>);

impl Contacts {
    /// Checks and converts a wire list.
    pub(crate) fn from_wire(list: Vec<pb::Contact>) -> Result<Self, ValidationError> {
        wire::non_empty(&list, "")?;
        wire::at_most(&list, "", MAX_CONTACTS)?;
        Ok(Contacts(wire::convert_list(list, "")?))
    }
}
