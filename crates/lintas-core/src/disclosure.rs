//! Selective disclosure, all in one place (docs/PROTOCOL.md section 14).
//!
//! Some parts of a notice are *protected*: a person's identity record, a
//! victim's medical details and contacts. A signed body never carries
//! their values, only a salted commitment to each:
//!
//! ```text
//! commitment = SHA-256( LEN("lintas.v1.disclosure") || "lintas.v1.disclosure"
//!                    || LEN(type) || type
//!                    || LEN(salt) || salt
//!                    || LEN(value) || value )
//! ```
//!
//! with `LEN` as in the PAE (8-byte big-endian length), `type` the
//! protected-part message's full name (e.g. `lintas.v1.ProtectedIdentity`),
//! `salt` 16 random bytes and `value` the encoded protected-part message
//! with only its `value` field set. The signature covers the body, so it
//! covers every commitment; a [`Disclosure`] (commitment, salt, value)
//! travels beside the signature for each part the holder may see. A holder
//! without a disclosure learns nothing from the commitment (the salt is
//! 128 random bits); a holder with one can check it against the signed
//! commitment and show it to anyone who trusts the roster.

use std::collections::BTreeMap;
use std::fmt;

use prost::Message;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};

use crate::case::{Contacts, MedicalDetails, PersonIdentity, Victim};
use crate::error::{At, ValidationError};
use crate::ids::RecordId;
use crate::notice::{NoticeBody, NoticeContent};
use crate::pb;

/// Domain-separation string, the first item of every commitment.
pub const DISCLOSURE_DOMAIN: &str = "lintas.v1.disclosure";
/// Length of a salt, in bytes.
pub const SALT_BYTES: usize = 16;
/// Most disclosures beside one signed notice.
pub const MAX_DISCLOSURES: usize = 64;

/// A salted commitment to a protected part: 32 bytes, shown as hex.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Commitment([u8; 32]);

impl Commitment {
    /// The commitment from its 32 bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Commitment(bytes)
    }

    /// The 32 bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Reads a 32-byte wire field.
    ///
    /// # Errors
    /// Any other length.
    pub fn from_wire(bytes: &[u8]) -> Result<Self, ValidationError> {
        <[u8; 32]>::try_from(bytes).map(Commitment).map_err(|_| {
            ValidationError::invalid(
                "",
                "a commitment of 32 bytes",
                format!("{} bytes", bytes.len()),
            )
        })
    }

    /// Parses 64 hex digits.
    ///
    /// # Errors
    /// When the text is not 64 hex digits.
    pub fn parse(text: &str) -> Result<Self, ValidationError> {
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(text, &mut bytes)
            .map_err(|_| ValidationError::invalid("", "a commitment of 64 hex digits", text))?;
        Ok(Commitment(bytes))
    }
}

impl fmt::Display for Commitment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for Commitment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Commitment({})", hex::encode(self.0))
    }
}

impl Serialize for Commitment {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(self.0))
    }
}

impl<'de> Deserialize<'de> for Commitment {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Commitment::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// What a protected part holds; the disclosure rules of a node speak of
/// these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PartKind {
    /// A person's identity record (names, documents, birth date, phone
    /// numbers, photos).
    Identity,
    /// A victim's medical details.
    Medical,
    /// A victim's contacts.
    Contacts,
}

impl PartKind {
    /// Every kind.
    pub const ALL: [PartKind; 3] = [PartKind::Identity, PartKind::Medical, PartKind::Contacts];

    /// The protected-part message's full name, hashed into commitments.
    pub fn type_name(self) -> &'static str {
        match self {
            PartKind::Identity => "lintas.v1.ProtectedIdentity",
            PartKind::Medical => "lintas.v1.ProtectedMedical",
            PartKind::Contacts => "lintas.v1.ProtectedContacts",
        }
    }

    /// The short name used in configuration: `identity`, `medical`,
    /// `contacts`.
    pub fn name(self) -> &'static str {
        match self {
            PartKind::Identity => "identity",
            PartKind::Medical => "medical",
            PartKind::Contacts => "contacts",
        }
    }

    /// Reads a short name.
    ///
    /// # Errors
    /// Any other text.
    pub fn parse(text: &str) -> Result<Self, ValidationError> {
        PartKind::ALL
            .into_iter()
            .find(|k| k.name() == text)
            .ok_or_else(|| ValidationError::invalid("", "one of identity, medical, contacts", text))
    }
}

/// The commitment to `value` (an encoded protected-part message of `kind`
/// with only its value set) under `salt`.
pub fn commitment_of(kind: PartKind, salt: &[u8; SALT_BYTES], value: &[u8]) -> Commitment {
    let mut hash = Sha256::new();
    for item in [
        DISCLOSURE_DOMAIN.as_bytes(),
        kind.type_name().as_bytes(),
        salt.as_slice(),
        value,
    ] {
        hash.update((item.len() as u64).to_be_bytes());
        hash.update(item);
    }
    Commitment(hash.finalize().into())
}

/// The opening of one commitment: what a holder was given of a protected
/// part.
#[derive(Clone, PartialEq, Eq)]
pub struct Disclosure {
    commitment: Commitment,
    salt: [u8; SALT_BYTES],
    value: Vec<u8>,
}

impl Disclosure {
    /// A disclosure as received (checked only when opened against a body).
    pub fn new(commitment: Commitment, salt: [u8; SALT_BYTES], value: Vec<u8>) -> Self {
        Disclosure {
            commitment,
            salt,
            value,
        }
    }

    /// The commitment it opens.
    pub fn commitment(&self) -> Commitment {
        self.commitment
    }

    /// The salt.
    pub fn salt(&self) -> &[u8; SALT_BYTES] {
        &self.salt
    }

    /// The encoded value, exactly as committed.
    pub fn value(&self) -> &[u8] {
        &self.value
    }

    /// Whether it opens a commitment of `kind`.
    pub fn matches(&self, kind: PartKind) -> bool {
        commitment_of(kind, &self.salt, &self.value) == self.commitment
    }
}

impl fmt::Debug for Disclosure {
    // The value is personal data: never in logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Disclosure")
            .field("commitment", &self.commitment)
            .field("value_len", &self.value.len())
            .finish_non_exhaustive()
    }
}

impl TryFrom<pb::Disclosure> for Disclosure {
    type Error = ValidationError;
    fn try_from(d: pb::Disclosure) -> Result<Self, Self::Error> {
        let salt = <[u8; SALT_BYTES]>::try_from(d.salt.as_slice()).map_err(|_| {
            ValidationError::invalid("salt", "16 bytes", format!("{} bytes", d.salt.len()))
        })?;
        if d.value.is_empty() {
            return Err(ValidationError::missing("value"));
        }
        Ok(Disclosure {
            commitment: Commitment::from_wire(&d.commitment).at("commitment")?,
            salt,
            value: d.value,
        })
    }
}

impl From<Disclosure> for pb::Disclosure {
    fn from(d: Disclosure) -> Self {
        pb::Disclosure {
            commitment: d.commitment.0.to_vec(),
            salt: d.salt.to_vec(),
            value: d.value,
        }
    }
}

/// A protected part: its commitment once sealed, its value where known.
///
/// A draft (before signing) holds the value only; a signed body read by a
/// holder holds the commitment, and the value too when the holder was
/// given its disclosure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Protected<T> {
    commitment: Option<Commitment>,
    value: Option<T>,
}

impl<T> Protected<T> {
    /// A draft part holding `value`, sealed when the notice is signed.
    pub fn new(value: T) -> Self {
        Protected {
            commitment: None,
            value: Some(value),
        }
    }

    /// A sealed part whose value this holder was not given.
    pub fn withheld(commitment: Commitment) -> Self {
        Protected {
            commitment: Some(commitment),
            value: None,
        }
    }

    /// The value, if this holder has it.
    pub fn value(&self) -> Option<&T> {
        self.value.as_ref()
    }

    /// The commitment, once sealed.
    pub fn commitment(&self) -> Option<Commitment> {
        self.commitment
    }

    /// Reads the wire form: exactly one of a 32-byte commitment (signed
    /// body) or a value (draft, disclosure) is set.
    fn from_parts(
        commitment: Vec<u8>,
        value: Option<Result<T, ValidationError>>,
    ) -> Result<Self, ValidationError> {
        match (commitment.is_empty(), value) {
            (true, None) => Err(ValidationError::rule(
                "",
                "a protected part needs its commitment (in a signed body) or its value (in a draft)",
            )),
            (false, Some(_)) => Err(ValidationError::rule(
                "value",
                "a protected part carries its commitment or its value, never both",
            )),
            (false, None) => Ok(Protected::withheld(
                Commitment::from_wire(&commitment).at("commitment")?,
            )),
            (true, Some(value)) => Ok(Protected::new(value.at("value")?)),
        }
    }

    /// The wire commitment: set once sealed.
    fn wire_commitment(&self) -> Vec<u8> {
        self.commitment.map(|c| c.0.to_vec()).unwrap_or_default()
    }

    /// The value for the wire: only in a draft (a sealed part sends its
    /// commitment only).
    fn wire_value(self) -> Option<T> {
        if self.commitment.is_some() {
            None
        } else {
            self.value
        }
    }
}

/// How a protected part looks in JSON: a draft's value as it is; a sealed
/// part as `{"commitment": "<hex>", "value": …}`, without `value` when this
/// holder was not given it.
#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum Json<T> {
    Sealed {
        commitment: Commitment,
        #[serde(skip_serializing_if = "Option::is_none")]
        value: Option<T>,
    },
    Draft(T),
}

impl<T: Serialize + Clone> Serialize for Protected<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match (&self.value, self.commitment) {
            (value, Some(commitment)) => Json::Sealed {
                commitment,
                value: value.clone(),
            }
            .serialize(s),
            (Some(value), None) => value.serialize(s),
            (None, None) => s.serialize_none(),
        }
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Protected<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(match Json::<T>::deserialize(d)? {
            Json::Sealed { commitment, value } => Protected {
                commitment: Some(commitment),
                value,
            },
            Json::Draft(value) => Protected::new(value),
        })
    }
}

impl TryFrom<pb::ProtectedIdentity> for Protected<PersonIdentity> {
    type Error = ValidationError;
    fn try_from(p: pb::ProtectedIdentity) -> Result<Self, Self::Error> {
        Protected::from_parts(p.commitment, p.value.map(PersonIdentity::try_from))
    }
}

impl From<Protected<PersonIdentity>> for pb::ProtectedIdentity {
    fn from(p: Protected<PersonIdentity>) -> Self {
        pb::ProtectedIdentity {
            commitment: p.wire_commitment(),
            value: p.wire_value().map(Into::into),
        }
    }
}

impl TryFrom<pb::ProtectedMedical> for Protected<MedicalDetails> {
    type Error = ValidationError;
    fn try_from(p: pb::ProtectedMedical) -> Result<Self, Self::Error> {
        Protected::from_parts(p.commitment, p.value.map(MedicalDetails::try_from))
    }
}

impl From<Protected<MedicalDetails>> for pb::ProtectedMedical {
    fn from(p: Protected<MedicalDetails>) -> Self {
        pb::ProtectedMedical {
            commitment: p.wire_commitment(),
            value: p.wire_value().map(Into::into),
        }
    }
}

impl TryFrom<pb::ProtectedContacts> for Protected<Contacts> {
    type Error = ValidationError;
    fn try_from(p: pb::ProtectedContacts) -> Result<Self, Self::Error> {
        let value = (!p.value.is_empty()).then(|| Contacts::from_wire(p.value));
        Protected::from_parts(p.commitment, value)
    }
}

impl From<Protected<Contacts>> for pb::ProtectedContacts {
    fn from(p: Protected<Contacts>) -> Self {
        pb::ProtectedContacts {
            commitment: p.wire_commitment(),
            value: p
                .wire_value()
                .map(|c| c.0)
                .map(wire_list)
                .unwrap_or_default(),
        }
    }
}

fn wire_list(list: Vec<crate::case::Contact>) -> Vec<pb::Contact> {
    list.into_iter().map(Into::into).collect()
}

/// One protected part inside a body, borrowed for sealing or opening.
enum Slot<'a> {
    Identity(&'a mut Protected<PersonIdentity>),
    Medical(&'a mut Protected<MedicalDetails>),
    Contacts(&'a mut Protected<Contacts>),
}

impl Slot<'_> {
    fn kind(&self) -> PartKind {
        match self {
            Slot::Identity(_) => PartKind::Identity,
            Slot::Medical(_) => PartKind::Medical,
            Slot::Contacts(_) => PartKind::Contacts,
        }
    }

    fn commitment(&self) -> Option<Commitment> {
        match self {
            Slot::Identity(p) => p.commitment,
            Slot::Medical(p) => p.commitment,
            Slot::Contacts(p) => p.commitment,
        }
    }

    fn has_value(&self) -> bool {
        match self {
            Slot::Identity(p) => p.value.is_some(),
            Slot::Medical(p) => p.value.is_some(),
            Slot::Contacts(p) => p.value.is_some(),
        }
    }

    /// The encoded protected-part message with only the value set.
    fn encoded_value(&self) -> Option<Vec<u8>> {
        match self {
            Slot::Identity(p) => p.value.clone().map(|v| {
                pb::ProtectedIdentity {
                    commitment: Vec::new(),
                    value: Some(v.into()),
                }
                .encode_to_vec()
            }),
            Slot::Medical(p) => p.value.clone().map(|v| {
                pb::ProtectedMedical {
                    commitment: Vec::new(),
                    value: Some(v.into()),
                }
                .encode_to_vec()
            }),
            Slot::Contacts(p) => p.value.clone().map(|v| {
                pb::ProtectedContacts {
                    commitment: Vec::new(),
                    value: wire_list(v.0),
                }
                .encode_to_vec()
            }),
        }
    }

    fn clear_commitment(&mut self) {
        match self {
            Slot::Identity(p) => p.commitment = None,
            Slot::Medical(p) => p.commitment = None,
            Slot::Contacts(p) => p.commitment = None,
        }
    }

    fn set_commitment(&mut self, c: Commitment) {
        match self {
            Slot::Identity(p) => p.commitment = Some(c),
            Slot::Medical(p) => p.commitment = Some(c),
            Slot::Contacts(p) => p.commitment = Some(c),
        }
    }

    /// Decodes a disclosed value of this slot's kind and puts it in place.
    fn open(&mut self, value: &[u8]) -> Result<(), ValidationError> {
        let only_value = |commitment: &[u8]| {
            if commitment.is_empty() {
                Ok(())
            } else {
                Err(ValidationError::rule(
                    "commitment",
                    "a disclosed value must not carry a commitment",
                ))
            }
        };
        match self {
            Slot::Identity(p) => {
                let w = crate::wire::decode::<pb::ProtectedIdentity>(value)?;
                only_value(&w.commitment)?;
                p.value = Some(crate::wire::required(w.value, "value")?);
            }
            Slot::Medical(p) => {
                let w = crate::wire::decode::<pb::ProtectedMedical>(value)?;
                only_value(&w.commitment)?;
                p.value = Some(crate::wire::required(w.value, "value")?);
            }
            Slot::Contacts(p) => {
                let w = crate::wire::decode::<pb::ProtectedContacts>(value)?;
                only_value(&w.commitment)?;
                p.value = Some(Contacts::from_wire(w.value).map_err(|e| e.within("value"))?);
            }
        }
        Ok(())
    }
}

/// A protected part as a holder sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PartInfo {
    /// Field path in the body, e.g. `victim_identified.identity`.
    pub path: String,
    /// What it holds.
    pub kind: PartKind,
    /// The victim it concerns, where the schema says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub victim_id: Option<RecordId>,
    /// Its commitment, once sealed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commitment: Option<Commitment>,
    /// Whether this holder has the value.
    pub disclosed: bool,
}

/// Calls `f` with every protected part of `body`, in a fixed order (the
/// order of the fields in the body), with its path and victim id.
fn visit(body: &mut NoticeBody, f: &mut dyn FnMut(String, Option<RecordId>, Slot<'_>)) {
    let victim =
        |path: String, v: &mut Victim, f: &mut dyn FnMut(String, Option<RecordId>, Slot<'_>)| {
            let id = v.victim_id.clone();
            if let Some(m) = v.medical.as_mut() {
                f(
                    format!("{path}.medical"),
                    Some(id.clone()),
                    Slot::Medical(m),
                );
            }
            if let Some(c) = v.contacts.as_mut() {
                f(format!("{path}.contacts"), Some(id), Slot::Contacts(c));
            }
        };
    match &mut body.content {
        NoticeContent::RescueRequest(r) => {
            for (i, v) in r.case.victims.iter_mut().enumerate() {
                victim(format!("rescue_request.case.victims[{i}]"), v, f);
            }
        }
        NoticeContent::CaseUpdate(u) => {
            for (i, v) in u.case.victims.iter_mut().enumerate() {
                victim(format!("case_update.case.victims[{i}]"), v, f);
            }
        }
        NoticeContent::VictimIdentified(v) => {
            victim("victim_identified.victim".to_owned(), &mut v.victim, f);
            let id = v.victim.victim_id.clone();
            if let Some(identity) = v.identity.as_mut() {
                f(
                    "victim_identified.identity".to_owned(),
                    Some(id),
                    Slot::Identity(identity),
                );
            }
        }
        NoticeContent::NationalityVerificationRequest(r) => {
            for (i, p) in r.persons.iter_mut().enumerate() {
                f(
                    format!("nationality_verification_request.persons[{i}].identity"),
                    Some(p.victim_id.clone()),
                    Slot::Identity(&mut p.identity),
                );
            }
        }
        _ => {}
    }
}

/// Whether `body` has any protected part (cheap: no copy, no paths).
fn has_parts(body: &NoticeBody) -> bool {
    let victim = |v: &Victim| v.medical.is_some() || v.contacts.is_some();
    match &body.content {
        NoticeContent::RescueRequest(r) => r.case.victims.iter().any(victim),
        NoticeContent::CaseUpdate(u) => u.case.victims.iter().any(victim),
        NoticeContent::VictimIdentified(v) => victim(&v.victim) || v.identity.is_some(),
        NoticeContent::NationalityVerificationRequest(r) => !r.persons.is_empty(),
        _ => false,
    }
}

/// The protected parts of `body`, in body order.
pub fn parts(body: &NoticeBody) -> Vec<PartInfo> {
    if !has_parts(body) {
        return Vec::new();
    }
    let mut copy = body.clone();
    let mut out = Vec::new();
    visit(&mut copy, &mut |path, victim_id, slot| {
        out.push(PartInfo {
            path,
            kind: slot.kind(),
            victim_id,
            commitment: slot.commitment(),
            disclosed: slot.has_value(),
        });
    });
    out
}

/// Seals every unsealed protected part of a draft: draws a salt from
/// `salt`, commits to the encoded value and keeps the value. Returns the
/// disclosures of the parts it sealed, in body order.
pub fn seal(body: &mut NoticeBody, salt: &mut dyn FnMut() -> [u8; SALT_BYTES]) -> Vec<Disclosure> {
    let mut out = Vec::new();
    visit(body, &mut |_, _, mut slot| {
        if slot.commitment().is_some() {
            return;
        }
        if let Some(value) = slot.encoded_value() {
            let salt = salt();
            let commitment = commitment_of(slot.kind(), &salt, &value);
            slot.set_commitment(commitment);
            out.push(Disclosure {
                commitment,
                salt,
                value,
            });
        }
    });
    out
}

/// The draft a sealed body was made from, as far as this holder can tell:
/// every part it holds the value of loses its commitment (so the result
/// signs again as a new draft); withheld parts stay as they are.
pub fn draft_of(body: &NoticeBody) -> NoticeBody {
    let mut draft = body.clone();
    visit(&mut draft, &mut |_, _, mut slot| {
        if slot.has_value() {
            slot.clear_commitment();
        }
    });
    draft
}

/// Checks what a signed body must be: every protected part sealed (a
/// commitment, no value) and no commitment used twice.
///
/// # Errors
/// The first part that breaks a rule, by path.
pub fn check_sealed(body: &NoticeBody) -> Result<(), ValidationError> {
    let mut seen = BTreeMap::new();
    for part in parts(body) {
        let Some(c) = part.commitment else {
            return Err(ValidationError::rule(
                &part.path,
                "a protected part in a signed body carries its commitment, not its value",
            ));
        };
        if seen.insert(c, ()).is_some() {
            return Err(ValidationError::duplicate(
                &format!("{}.commitment", part.path),
                c.to_string(),
            ));
        }
    }
    Ok(())
}

/// Opens the parts of a sealed `body` that `disclosures` disclose: each
/// disclosure must open a commitment of the body (matching its kind) and
/// decode to a valid value. Parts without a disclosure stay withheld.
///
/// # Errors
/// The first bad disclosure, as `disclosures[i]…`.
pub fn open(body: &mut NoticeBody, disclosures: &[Disclosure]) -> Result<(), ValidationError> {
    if disclosures.is_empty() {
        return Ok(());
    }
    crate::wire::at_most(disclosures, "disclosures", MAX_DISCLOSURES)?;
    let mut by_commitment = BTreeMap::new();
    for (i, d) in disclosures.iter().enumerate() {
        if by_commitment.insert(d.commitment, i).is_some() {
            return Err(
                ValidationError::duplicate("commitment", d.commitment.to_string())
                    .within_item("disclosures", i),
            );
        }
    }
    let mut result = Ok(());
    let mut used = 0;
    visit(body, &mut |_, _, mut slot| {
        let Some(c) = slot.commitment() else { return };
        let Some(&i) = by_commitment.get(&c) else {
            return;
        };
        used += 1;
        let d = &disclosures[i];
        let outcome = if !d.matches(slot.kind()) {
            Err(ValidationError::rule(
                "value",
                "the salt and value do not match the commitment",
            ))
        } else {
            slot.open(&d.value).map_err(|e| e.within("value"))
        };
        if let (Ok(()), Err(e)) = (&result, outcome) {
            result = Err(e.within_item("disclosures", i));
        }
    });
    result?;
    if used != disclosures.len() {
        let found: Vec<Commitment> = parts(body).iter().filter_map(|p| p.commitment).collect();
        if let Some(i) = disclosures
            .iter()
            .position(|d| !found.contains(&d.commitment))
        {
            return Err(ValidationError::unknown_reference(
                "commitment",
                "a commitment of a protected part in this notice",
                d_hex(&disclosures[i]),
            )
            .within_item("disclosures", i));
        }
    }
    Ok(())
}

fn d_hex(d: &Disclosure) -> String {
    d.commitment.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case::PersonName;
    use crate::ids::{AgencyId, CaseId, Country};
    use crate::notice::{Handling, NationalityVerificationRequest, PersonToVerify};
    use crate::text::Text;
    use crate::time::Timestamp;
    use crate::vocab::{LegalBasis, Priority, Purpose, Sex, Tlp};

    /// A nationality verification request for two people: two identity
    /// parts.
    fn two_identities() -> NoticeBody {
        let person = |id: &str, name: &str| {
            PersonToVerify::new(
                RecordId::parse(id).unwrap(),
                PersonIdentity::new(
                    PersonName::latin(name),
                    Sex::Female,
                    Country::parse("IDN").unwrap().into(),
                ),
                Country::parse("IDN").unwrap(),
            )
        };
        let now = Timestamp::parse("2026-11-29T04:00:00Z").unwrap();
        NoticeBody::new(
            AgencyId::parse("KHM.MOI.ATHP").unwrap(),
            1,
            now,
            now.plus_seconds(86_400),
            vec![AgencyId::parse("IDN.KEMLU.PWNI").unwrap()],
            Handling::new(Tlp::Amber, Priority::High)
                .for_purpose(Purpose::Repatriation, LegalBasis::PublicTask),
            NoticeContent::NationalityVerificationRequest(NationalityVerificationRequest::new(
                vec![person("V-1", "Siti"), person("V-2", "Ayu")],
                true,
            )),
        )
        .about_case(CaseId::parse("C-1").unwrap())
    }

    fn salts() -> impl FnMut() -> [u8; SALT_BYTES] {
        let mut n = 0u8;
        move || {
            n += 1;
            [n; SALT_BYTES]
        }
    }

    fn names(body: &NoticeBody) -> Vec<Option<String>> {
        match &body.content {
            NoticeContent::NationalityVerificationRequest(r) => r
                .persons
                .iter()
                .map(|p| p.identity.value().map(|i| i.names[0].latin.clone()))
                .collect(),
            _ => Vec::new(),
        }
    }

    #[test]
    fn sealing_commits_to_each_part_and_opening_restores_only_what_is_disclosed() {
        let draft = two_identities();
        assert!(check_sealed(&draft).is_err(), "a draft is not sealed");
        let mut sealed = draft.clone();
        let disclosures = seal(&mut sealed, &mut salts());
        assert_eq!(disclosures.len(), 2);
        check_sealed(&sealed).unwrap();
        assert_eq!(draft_of(&sealed), draft);
        // What a holder reads from the signed bytes: commitments only.
        let mut received = sealed.clone();
        visit(&mut received, &mut |_, _, mut slot| {
            if let Slot::Identity(p) = &mut slot {
                p.value = None;
            }
        });
        let info = parts(&received);
        assert_eq!(info.len(), 2);
        assert!(
            info.iter()
                .all(|p| !p.disclosed && p.kind == PartKind::Identity)
        );
        assert_eq!(
            info.iter().map(|p| p.commitment).collect::<Vec<_>>(),
            disclosures
                .iter()
                .map(|d| Some(d.commitment()))
                .collect::<Vec<_>>()
        );
        // Given only the second part.
        let mut view = received.clone();
        open(&mut view, &disclosures[1..]).unwrap();
        assert_eq!(names(&view), vec![None, Some("Ayu".to_owned())]);
        // Given both.
        let mut full = received.clone();
        open(&mut full, &disclosures).unwrap();
        assert_eq!(
            names(&full),
            vec![Some("Siti".to_owned()), Some("Ayu".to_owned())]
        );
    }

    #[test]
    fn a_bad_disclosure_is_refused_by_its_index() {
        let mut sealed = two_identities();
        let disclosures = seal(&mut sealed, &mut salts());
        let withheld = || {
            let mut b = sealed.clone();
            visit(&mut b, &mut |_, _, mut slot| {
                if let Slot::Identity(p) = &mut slot {
                    p.value = None;
                }
            });
            b
        };
        let refused = |given: Vec<Disclosure>| open(&mut withheld(), &given).unwrap_err().path;
        // A changed value, a changed salt.
        let mut value = disclosures[1].clone();
        let last = value.value.len() - 1;
        value.value[last] ^= 1;
        assert_eq!(
            refused(vec![disclosures[0].clone(), value]),
            "disclosures[1].value"
        );
        let mut salt = disclosures[0].clone();
        salt.salt[0] ^= 1;
        assert_eq!(refused(vec![salt]), "disclosures[0].value");
        // The same commitment twice; one the body does not have.
        assert_eq!(
            refused(vec![disclosures[0].clone(), disclosures[0].clone()]),
            "disclosures[1].commitment"
        );
        let stranger = Disclosure::new(Commitment::from_bytes([7; 32]), [1; 16], vec![1]);
        assert_eq!(
            refused(vec![disclosures[0].clone(), stranger]),
            "disclosures[1].commitment"
        );
        // A value that matches its commitment but is not a valid identity.
        let bad = pb::ProtectedIdentity {
            commitment: Vec::new(),
            value: Some(pb::PersonIdentity::default()),
        }
        .encode_to_vec();
        let mut body = two_identities();
        let salt = [9; SALT_BYTES];
        let c = commitment_of(PartKind::Identity, &salt, &bad);
        if let NoticeContent::NationalityVerificationRequest(r) = &mut body.content {
            r.persons[0].identity = Protected::withheld(c);
            r.persons[1].identity = Protected::withheld(Commitment::from_bytes([8; 32]));
        }
        let error = open(&mut body, &[Disclosure::new(c, salt, bad)]).unwrap_err();
        assert!(
            error.path.starts_with("disclosures[0].value.value"),
            "{error}"
        );
        // Two parts with one commitment.
        let mut twice = sealed.clone();
        if let NoticeContent::NationalityVerificationRequest(r) = &mut twice.content {
            let c = r.persons[0].identity.commitment();
            r.persons[1].identity.commitment = c;
        }
        assert_eq!(
            check_sealed(&twice).unwrap_err().path,
            "nationality_verification_request.persons[1].identity.commitment"
        );
    }

    #[test]
    fn a_commitment_binds_the_type_salt_and_value_each_length_prefixed() {
        let salt = [7u8; SALT_BYTES];
        let c = commitment_of(PartKind::Medical, &salt, b"value");
        let mut expected = Sha256::new();
        for item in [
            &b"lintas.v1.disclosure"[..],
            b"lintas.v1.ProtectedMedical",
            &salt,
            b"value",
        ] {
            expected.update((item.len() as u64).to_be_bytes());
            expected.update(item);
        }
        assert_eq!(c.as_bytes(), &<[u8; 32]>::from(expected.finalize()));
        assert_ne!(commitment_of(PartKind::Contacts, &salt, b"value"), c);
        assert_ne!(commitment_of(PartKind::Medical, &[8; 16], b"value"), c);
        assert_ne!(commitment_of(PartKind::Medical, &salt, b"valuf"), c);
        let d = Disclosure::new(c, salt, b"value".to_vec());
        assert!(d.matches(PartKind::Medical));
        assert!(!d.matches(PartKind::Identity));
        // The value never shows in debug output (logs).
        assert!(!format!("{d:?}").contains("value\""));
    }

    #[test]
    fn a_disclosure_needs_a_16_byte_salt_32_byte_commitment_and_a_value() {
        let good = pb::Disclosure {
            commitment: vec![1; 32],
            salt: vec![2; 16],
            value: vec![3],
        };
        assert!(Disclosure::try_from(good.clone()).is_ok());
        for (bad, path) in [
            (
                pb::Disclosure {
                    salt: vec![2; 15],
                    ..good.clone()
                },
                "salt",
            ),
            (
                pb::Disclosure {
                    commitment: vec![1; 31],
                    ..good.clone()
                },
                "commitment",
            ),
            (
                pb::Disclosure {
                    value: Vec::new(),
                    ..good.clone()
                },
                "value",
            ),
        ] {
            let error = Disclosure::try_from(bad).unwrap_err();
            assert_eq!(error.path, path, "{error}");
        }
    }

    #[test]
    fn json_shows_a_draft_as_its_value_and_a_withheld_part_by_commitment() {
        let medical = MedicalDetails::new(Text::en("fever"));
        let draft = Protected::new(medical.clone());
        let json = serde_json::to_value(&draft).unwrap();
        assert_eq!(json["history"]["text"], "fever");
        let back: Protected<MedicalDetails> = serde_json::from_value(json).unwrap();
        assert_eq!(back, draft);

        let c = Commitment::from_bytes([9; 32]);
        let withheld = Protected::<MedicalDetails>::withheld(c);
        let json = serde_json::to_value(&withheld).unwrap();
        assert_eq!(json, serde_json::json!({ "commitment": c.to_string() }));
        let back: Protected<MedicalDetails> = serde_json::from_value(json).unwrap();
        assert_eq!(back, withheld);
        assert!(back.value().is_none());
    }

    #[test]
    fn the_wire_form_holds_a_commitment_or_a_value_never_both_or_neither() {
        let value = pb::MedicalDetails {
            history: Some(Text::en("fever").into()),
            needs_continuing_treatment: false,
        };
        let both = pb::ProtectedMedical {
            commitment: vec![1; 32],
            value: Some(value.clone()),
        };
        assert_eq!(
            Protected::<MedicalDetails>::try_from(both)
                .unwrap_err()
                .path,
            "value"
        );
        let neither = pb::ProtectedMedical::default();
        assert!(Protected::<MedicalDetails>::try_from(neither).is_err());
        let sealed = pb::ProtectedMedical {
            commitment: vec![1; 32],
            value: None,
        };
        let part = Protected::<MedicalDetails>::try_from(sealed.clone()).unwrap();
        assert_eq!(pb::ProtectedMedical::from(part), sealed);
        let short = pb::ProtectedMedical {
            commitment: vec![1; 31],
            value: None,
        };
        assert_eq!(
            Protected::<MedicalDetails>::try_from(short)
                .unwrap_err()
                .path,
            "commitment"
        );
    }
}
