//! Who a person is: names, birth date, documents, nationalities. Kept
//! apart from victim and suspect records so that it travels only in the
//! notices that need it.

use serde::{Deserialize, Serialize};

use crate::error::{At, ValidationError};
use crate::ids::{Country, Nationality, PhoneNumber, Script};
use crate::pb;
use crate::text::{self, SHORT};
use crate::time::Date;
use crate::vocab::{DocumentType, NameKind, Sex};
use crate::wire;

/// One name, in Latin script and, optionally, in its original script.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PersonName {
    /// Latin-script form.
    pub latin: String,
    /// The name in its original script, with the script's code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub original: Option<(String, Script)>,
    /// What the name is.
    pub kind: NameKind,
}

impl PersonName {
    /// A primary name known only in Latin script.
    pub fn latin(latin: impl Into<String>) -> Self {
        PersonName {
            latin: latin.into(),
            original: None,
            kind: NameKind::Primary,
        }
    }

    /// An alias or nickname known only in Latin script.
    pub fn alias(latin: impl Into<String>) -> Self {
        PersonName {
            kind: NameKind::Alias,
            ..Self::latin(latin)
        }
    }

    /// The same name with its original-script form.
    ///
    /// # Errors
    /// When `script` is not an ISO 15924 code.
    pub fn written(
        mut self,
        original: impl Into<String>,
        script: &str,
    ) -> Result<Self, ValidationError> {
        self.original = Some((original.into(), Script::parse(script).at("script")?));
        Ok(self)
    }
}

impl TryFrom<pb::PersonName> for PersonName {
    type Error = ValidationError;
    fn try_from(n: pb::PersonName) -> Result<Self, Self::Error> {
        let original = text::optional(n.original, SHORT).at("original")?;
        let original = match (original, n.script.is_empty()) {
            (Some(o), false) => Some((o, Script::parse(&n.script).at("script")?)),
            (None, true) => None,
            (Some(_), true) => {
                return Err(ValidationError::rule(
                    "script",
                    "required when original is set",
                ));
            }
            (None, false) => {
                return Err(ValidationError::rule(
                    "script",
                    "must be empty when original is empty",
                ));
            }
        };
        Ok(PersonName {
            latin: text::required(n.latin, SHORT).at("latin")?,
            original,
            kind: NameKind::from_wire(n.kind).at("kind")?,
        })
    }
}

impl From<PersonName> for pb::PersonName {
    fn from(n: PersonName) -> Self {
        let (original, script) = n
            .original
            .map(|(o, s)| (o, s.to_string()))
            .unwrap_or_default();
        pb::PersonName {
            latin: n.latin,
            original,
            script,
            kind: n.kind.to_wire(),
        }
    }
}

/// An identity or travel document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct IdentityDocument {
    /// Kind of document.
    pub document_type: DocumentType,
    /// Number as printed.
    pub number: String,
    /// Issuing state.
    pub issuing_state: Country,
    /// Date of issue.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issued_on: Option<Date>,
    /// Date of expiry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_on: Option<Date>,
    /// Seen by the reporting agency itself.
    #[serde(default)]
    pub seen: bool,
}

impl IdentityDocument {
    /// A document of `document_type` numbered `number`, issued by `issuing_state`.
    pub fn new(
        document_type: DocumentType,
        number: impl Into<String>,
        issuing_state: Country,
    ) -> Self {
        IdentityDocument {
            document_type,
            number: number.into(),
            issuing_state,
            issued_on: None,
            expires_on: None,
            seen: false,
        }
    }
}

impl TryFrom<pb::IdentityDocument> for IdentityDocument {
    type Error = ValidationError;
    fn try_from(d: pb::IdentityDocument) -> Result<Self, Self::Error> {
        let doc = IdentityDocument {
            document_type: DocumentType::from_wire(d.r#type).at("type")?,
            number: text::required(d.number, SHORT).at("number")?,
            issuing_state: Country::from_wire(&d.issuing_state).at("issuing_state")?,
            issued_on: d
                .issued_on
                .as_ref()
                .map(Date::from_wire)
                .transpose()
                .at("issued_on")?,
            expires_on: d
                .expires_on
                .as_ref()
                .map(Date::from_wire)
                .transpose()
                .at("expires_on")?,
            seen: d.seen,
        };
        if let (Some(issued), Some(expires)) = (doc.issued_on, doc.expires_on)
            && expires < issued
        {
            return Err(ValidationError::rule(
                "expires_on",
                "must not be before issued_on",
            ));
        }
        Ok(doc)
    }
}

impl From<IdentityDocument> for pb::IdentityDocument {
    fn from(d: IdentityDocument) -> Self {
        pb::IdentityDocument {
            r#type: d.document_type.to_wire(),
            number: d.number,
            issuing_state: d.issuing_state.to_string(),
            issued_on: d.issued_on.map(Into::into),
            expires_on: d.expires_on.map(Into::into),
            seen: d.seen,
        }
    }
}

/// A photo, by the SHA-256 of its file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PhotoReference {
    /// SHA-256 of the file, hex in JSON.
    #[serde(with = "hex::serde")]
    pub sha256: [u8; 32],
    /// IANA media type.
    pub media_type: String,
}

impl TryFrom<pb::PhotoReference> for PhotoReference {
    type Error = ValidationError;
    fn try_from(p: pb::PhotoReference) -> Result<Self, Self::Error> {
        let sha256 = <[u8; 32]>::try_from(p.sha256.as_slice()).map_err(|_| {
            ValidationError::invalid(
                "sha256",
                "a SHA-256 digest of 32 bytes",
                format!("{} bytes", p.sha256.len()),
            )
        })?;
        let media_type = text::required(p.media_type, SHORT).at("media_type")?;
        if !media_type.contains('/') || media_type.contains(char::is_whitespace) {
            return Err(ValidationError::invalid(
                "media_type",
                "an IANA media type such as \"image/jpeg\"",
                media_type,
            ));
        }
        Ok(PhotoReference { sha256, media_type })
    }
}

impl From<PhotoReference> for pb::PhotoReference {
    fn from(p: PhotoReference) -> Self {
        pb::PhotoReference {
            sha256: p.sha256.to_vec(),
            media_type: p.media_type,
        }
    }
}

/// Who a person is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PersonIdentity {
    /// Names (at most one primary); with documents and phone numbers, at
    /// least one of the three.
    pub names: Vec<PersonName>,
    /// Date of birth (possibly partial).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub birth_date: Option<Date>,
    /// The birth date is an estimate.
    #[serde(default)]
    pub birth_date_estimated: bool,
    /// Sex as in documents.
    pub sex: Sex,
    /// Nationalities; at least one.
    pub nationalities: Vec<Nationality>,
    /// Documents.
    #[serde(default)]
    pub documents: Vec<IdentityDocument>,
    /// Phone numbers.
    #[serde(default)]
    pub phone_numbers: Vec<PhoneNumber>,
    /// Photos.
    #[serde(default)]
    pub photos: Vec<PhotoReference>,
}

impl PersonIdentity {
    /// An identity with one name and one nationality; add what else is
    /// known on the result.
    pub fn new(name: PersonName, sex: Sex, nationality: Nationality) -> Self {
        PersonIdentity {
            names: vec![name],
            birth_date: None,
            birth_date_estimated: false,
            sex,
            nationalities: vec![nationality],
            documents: Vec::new(),
            phone_numbers: Vec::new(),
            photos: Vec::new(),
        }
    }
}

impl TryFrom<pb::PersonIdentity> for PersonIdentity {
    type Error = ValidationError;
    fn try_from(p: pb::PersonIdentity) -> Result<Self, Self::Error> {
        let names: Vec<PersonName> = wire::convert_list(p.names, "names")?;
        if names.is_empty() && p.documents.is_empty() && p.phone_numbers.is_empty() {
            return Err(ValidationError::rule(
                "names",
                "an identity needs at least one name, document or phone number",
            ));
        }
        if let Some(i) = names
            .iter()
            .enumerate()
            .filter(|(_, n)| n.kind == NameKind::Primary)
            .map(|(i, _)| i)
            .nth(1)
        {
            return Err(
                ValidationError::rule("kind", "at most one name may be NAME_KIND_PRIMARY")
                    .within_item("names", i),
            );
        }
        let photos: Vec<PhotoReference> = wire::convert_list(p.photos, "photos")?;
        wire::unique(&photos, "photos", |p| hex::encode(p.sha256))?;
        if p.birth_date.is_none() && p.birth_date_estimated {
            return Err(ValidationError::rule(
                "birth_date_estimated",
                "must be false when birth_date is absent",
            ));
        }
        Ok(PersonIdentity {
            names,
            birth_date: p
                .birth_date
                .as_ref()
                .map(Date::birth_from_wire)
                .transpose()
                .at("birth_date")?,
            birth_date_estimated: p.birth_date_estimated,
            sex: Sex::from_wire(p.sex).at("sex")?,
            nationalities: Nationality::list(p.nationalities, "nationalities")?,
            documents: wire::convert_list(p.documents, "documents")?,
            phone_numbers: wire::parse_list(p.phone_numbers, "phone_numbers", |n| {
                PhoneNumber::parse(&n)
            })?,
            photos,
        })
    }
}

impl From<PersonIdentity> for pb::PersonIdentity {
    fn from(p: PersonIdentity) -> Self {
        pb::PersonIdentity {
            names: wire::to_wire_list(p.names),
            birth_date: p.birth_date.map(Into::into),
            birth_date_estimated: p.birth_date_estimated,
            sex: p.sex.to_wire(),
            nationalities: wire::to_strings(&p.nationalities),
            documents: wire::to_wire_list(p.documents),
            phone_numbers: wire::to_strings(&p.phone_numbers),
            photos: wire::to_wire_list(p.photos),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity() -> pb::PersonIdentity {
        pb::PersonIdentity::from(PersonIdentity::new(
            PersonName::latin("Sok Dara")
                .written("សុខ ដារា", "Khmr")
                .unwrap_or_else(|_| PersonName::latin("Sok Dara")),
            Sex::Female,
            Nationality::parse("KHM").unwrap_or(Nationality::Unknown),
        ))
    }

    fn path(p: pb::PersonIdentity) -> Result<PersonIdentity, String> {
        PersonIdentity::try_from(p).map_err(|e| e.path)
    }

    #[test]
    fn identity_rules() {
        assert!(path(identity()).is_ok());

        let mut p = identity();
        p.names.clear();
        assert_eq!(path(p), Err("names".into()));
        let mut p = identity();
        p.names.clear();
        p.phone_numbers.push("+855120000001".into());
        assert!(path(p).is_ok(), "a suspect known only by a phone number");

        let mut p = identity();
        p.names.push(p.names[0].clone());
        assert_eq!(path(p), Err("names[1].kind".into()));

        let mut p = identity();
        p.names[0].script.clear();
        assert_eq!(path(p), Err("names[0].script".into()));

        let mut p = identity();
        p.names[0].script = "khmr".into();
        assert_eq!(path(p), Err("names[0].script".into()));

        let mut p = identity();
        p.nationalities = vec!["XXA".into(), "KHM".into()];
        assert_eq!(path(p), Err("nationalities[0]".into()));

        let mut p = identity();
        p.nationalities = vec!["KHM".into(), "THA".into(), "XXB".into()];
        assert!(
            path(p).is_ok(),
            "dual nationals and refugees are expressible"
        );

        let mut p = identity();
        p.nationalities = vec!["ZZZ".into()];
        assert_eq!(path(p), Err("nationalities[0]".into()));

        let mut p = identity();
        p.birth_date_estimated = true;
        assert_eq!(path(p), Err("birth_date_estimated".into()));

        let mut p = identity();
        p.sex = 0;
        assert_eq!(path(p), Err("sex".into()));

        let mut p = identity();
        p.documents.push(pb::IdentityDocument {
            r#type: DocumentType::Passport.to_wire(),
            number: "N1234567".into(),
            issuing_state: "KHM".into(),
            issued_on: Some(pb::Date {
                year: 2024,
                month: 3,
                day: 1,
            }),
            expires_on: Some(pb::Date {
                year: 2020,
                month: 3,
                day: 1,
            }),
            seen: true,
        });
        assert_eq!(path(p), Err("documents[0].expires_on".into()));

        let mut p = identity();
        p.photos = vec![
            pb::PhotoReference {
                sha256: vec![7; 32],
                media_type: "image/jpeg".into(),
            },
            pb::PhotoReference {
                sha256: vec![7; 32],
                media_type: "image/png".into(),
            },
        ];
        assert_eq!(path(p), Err("photos[1]".into()));

        let mut p = identity();
        p.photos = vec![pb::PhotoReference {
            sha256: vec![7; 31],
            media_type: "image/jpeg".into(),
        }];
        assert_eq!(path(p), Err("photos[0].sha256".into()));
    }
}
