//! Validated identifiers and codes: countries, member states, agencies,
//! cases, records inside a case, keys and notices.
//!
//! Each is a newtype with `parse`, `as_str` and `Display`; holding one
//! means the value has been checked.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::ValidationError;

/// Implements `Display`, `FromStr`, serde and `as_str` for a string newtype
/// whose `parse` validates.
macro_rules! string_id {
    ($name:ident) => {
        impl $name {
            /// The identifier as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl FromStr for $name {
            type Err = ValidationError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = String::deserialize(d)?;
                Self::parse(&text).map_err(serde::de::Error::custom)
            }
        }

        impl $name {
            /// Reads the identifier from a wire field: empty means missing.
            #[allow(dead_code, reason = "not every identifier is a required wire field")]
            pub(crate) fn from_wire(value: &str) -> Result<Self, ValidationError> {
                if value.is_empty() {
                    return Err(ValidationError::missing(""));
                }
                Self::parse(value)
            }
        }
    };
}

/// A country: an ISO 3166-1 alpha-3 code in upper case. Any country, for
/// nationalities and locations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Country(isocountry::CountryCode);

impl Country {
    /// Parses an upper-case ISO 3166-1 alpha-3 code such as `"IDN"`.
    ///
    /// # Errors
    /// When `code` is not an assigned alpha-3 code in upper case.
    pub fn parse(code: &str) -> Result<Self, ValidationError> {
        const EXPECTED: &str = "an ISO 3166-1 alpha-3 country code in upper case";
        if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(ValidationError::invalid("", EXPECTED, code));
        }
        isocountry::CountryCode::for_alpha3(code)
            .map(Country)
            .map_err(|_| ValidationError::invalid("", EXPECTED, code))
    }

    /// Reads an optional wire field: empty means absent.
    pub(crate) fn optional_from_wire(code: &str) -> Result<Option<Self>, ValidationError> {
        if code.is_empty() {
            Ok(None)
        } else {
            Self::parse(code).map(Some)
        }
    }

    /// Reads a required wire field.
    pub(crate) fn from_wire(code: &str) -> Result<Self, ValidationError> {
        if code.is_empty() {
            return Err(ValidationError::missing(""));
        }
        Self::parse(code)
    }

    /// The alpha-3 code.
    pub fn as_str(&self) -> &'static str {
        self.0.alpha3()
    }

    /// The country's English short name.
    pub fn name(&self) -> &'static str {
        self.0.name()
    }

    /// The alpha-2 code (HTCDS uses alpha-2).
    pub fn alpha2(&self) -> &'static str {
        self.0.alpha2()
    }

    /// The ASEAN member state this country is, if it is one.
    pub fn member_state(&self) -> Option<MemberState> {
        MemberState::ALL
            .iter()
            .copied()
            .find(|m| m.code() == self.as_str())
    }
}

impl fmt::Display for Country {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Country {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Country {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Country::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// An ASEAN member state: the parties to the protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum MemberState {
    /// Brunei Darussalam (BRN).
    Brunei,
    /// Cambodia (KHM).
    Cambodia,
    /// Indonesia (IDN).
    Indonesia,
    /// Lao PDR (LAO).
    Laos,
    /// Malaysia (MYS).
    Malaysia,
    /// Myanmar (MMR).
    Myanmar,
    /// Philippines (PHL).
    Philippines,
    /// Singapore (SGP).
    Singapore,
    /// Thailand (THA).
    Thailand,
    /// Viet Nam (VNM).
    VietNam,
    /// Timor-Leste (TLS).
    TimorLeste,
}

impl MemberState {
    /// All eleven member states.
    pub const ALL: [MemberState; 11] = [
        MemberState::Brunei,
        MemberState::Cambodia,
        MemberState::Indonesia,
        MemberState::Laos,
        MemberState::Malaysia,
        MemberState::Myanmar,
        MemberState::Philippines,
        MemberState::Singapore,
        MemberState::Thailand,
        MemberState::VietNam,
        MemberState::TimorLeste,
    ];

    /// The ISO 3166-1 alpha-3 code.
    pub fn code(self) -> &'static str {
        match self {
            MemberState::Brunei => "BRN",
            MemberState::Cambodia => "KHM",
            MemberState::Indonesia => "IDN",
            MemberState::Laos => "LAO",
            MemberState::Malaysia => "MYS",
            MemberState::Myanmar => "MMR",
            MemberState::Philippines => "PHL",
            MemberState::Singapore => "SGP",
            MemberState::Thailand => "THA",
            MemberState::VietNam => "VNM",
            MemberState::TimorLeste => "TLS",
        }
    }

    /// Parses the alpha-3 code of a member state.
    ///
    /// # Errors
    /// When `code` is not the upper-case alpha-3 code of a member state.
    pub fn parse(code: &str) -> Result<Self, ValidationError> {
        MemberState::ALL
            .iter()
            .copied()
            .find(|m| m.code() == code)
            .ok_or_else(|| {
                ValidationError::invalid(
                    "",
                    "the ISO 3166-1 alpha-3 code of an ASEAN member state",
                    code,
                )
            })
    }

    pub(crate) fn from_wire(code: &str) -> Result<Self, ValidationError> {
        if code.is_empty() {
            return Err(ValidationError::missing(""));
        }
        Self::parse(code)
    }

    /// The state as a [`Country`].
    pub fn country(self) -> Country {
        match isocountry::CountryCode::for_alpha3(self.code()) {
            Ok(code) => Country(code),
            // Every member state's code is in the ISO table; this arm is
            // never taken but keeps the function total.
            Err(_) => Country(isocountry::CountryCode::IDN),
        }
    }
}

impl fmt::Display for MemberState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl TryFrom<String> for MemberState {
    type Error = ValidationError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        MemberState::parse(&value)
    }
}

impl From<MemberState> for String {
    fn from(value: MemberState) -> Self {
        value.code().to_owned()
    }
}

/// An agency: `<STATE>.<NAME>[.<NAME>...]`, e.g. `IDN.KEMLU.PWNI`. The
/// prefix is the member state's alpha-3 code; each further segment is 1-32
/// of `A-Z`, `0-9` and `-`; at most 64 characters in all.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AgencyId(String);

string_id!(AgencyId);

impl AgencyId {
    const EXPECTED: &'static str = "an agency id <STATE>.<NAME>, STATE an ASEAN member's alpha-3 code, NAME segments of A-Z 0-9 -";

    /// Parses and checks an agency id.
    ///
    /// # Errors
    /// When the text is not of the form above.
    pub fn parse(text: &str) -> Result<Self, ValidationError> {
        let invalid = || ValidationError::invalid("", Self::EXPECTED, text);
        if text.len() > 64 {
            return Err(invalid());
        }
        let mut segments = text.split('.');
        let state = segments.next().ok_or_else(invalid)?;
        MemberState::parse(state).map_err(|_| invalid())?;
        let mut named = 0;
        for segment in segments {
            let ok = (1..=32).contains(&segment.len())
                && segment
                    .bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-');
            if !ok {
                return Err(invalid());
            }
            named += 1;
        }
        if named == 0 {
            return Err(invalid());
        }
        Ok(AgencyId(text.to_owned()))
    }

    /// The member state the agency belongs to.
    pub fn state(&self) -> MemberState {
        // `parse` checked the prefix; fall back defensively rather than
        // panic if that ever changes.
        self.0
            .split('.')
            .next()
            .and_then(|s| MemberState::parse(s).ok())
            .unwrap_or(MemberState::Indonesia)
    }
}

/// Checks `text` is 1..=max bytes of the allowed characters.
fn is_token(text: &str, max: usize, extra: &[u8]) -> bool {
    (1..=max).contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || extra.contains(&b))
}

/// A case id chosen by the originating agency: 1-128 of `A-Z a-z 0-9 . _ -
/// / :`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CaseId(String);

string_id!(CaseId);

impl CaseId {
    /// Parses and checks a case id.
    ///
    /// # Errors
    /// When the text is empty, too long or has other characters.
    pub fn parse(text: &str) -> Result<Self, ValidationError> {
        if is_token(text, 128, b"._-/:") {
            Ok(CaseId(text.to_owned()))
        } else {
            Err(ValidationError::invalid(
                "",
                "a case id of 1-128 characters A-Z a-z 0-9 . _ - / :",
                text,
            ))
        }
    }
}

/// The id of a record inside a case (victim, suspect, compound, channel,
/// financial indicator, plan): 1-64 of `A-Z a-z 0-9 . _ -`. Victim ids are
/// pseudonyms, never names.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RecordId(String);

string_id!(RecordId);

impl RecordId {
    /// Parses and checks a record id.
    ///
    /// # Errors
    /// When the text is empty, too long or has other characters.
    pub fn parse(text: &str) -> Result<Self, ValidationError> {
        if is_token(text, 64, b"._-") {
            Ok(RecordId(text.to_owned()))
        } else {
            Err(ValidationError::invalid(
                "",
                "a record id of 1-64 characters A-Z a-z 0-9 . _ -",
                text,
            ))
        }
    }
}

/// The id of a signing key in the roster: 1-64 of `A-Z a-z 0-9 . _ - : #`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KeyId(String);

string_id!(KeyId);

impl KeyId {
    /// Parses and checks a key id.
    ///
    /// # Errors
    /// When the text is empty, too long or has other characters.
    pub fn parse(text: &str) -> Result<Self, ValidationError> {
        if is_token(text, 64, b"._-:#") {
            Ok(KeyId(text.to_owned()))
        } else {
            Err(ValidationError::invalid(
                "",
                "a key id of 1-64 characters A-Z a-z 0-9 . _ - : #",
                text,
            ))
        }
    }
}

/// A language: ISO 639-2 or 639-3 three-letter code in lower case.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Language(String);

string_id!(Language);

impl Language {
    /// Parses a three-letter lower-case language code such as `"ind"`.
    ///
    /// # Errors
    /// When the text is not three lower-case ASCII letters.
    pub fn parse(text: &str) -> Result<Self, ValidationError> {
        if text.len() == 3 && text.bytes().all(|b| b.is_ascii_lowercase()) {
            Ok(Language(text.to_owned()))
        } else {
            Err(ValidationError::invalid(
                "",
                "an ISO 639-2/639-3 three-letter language code in lower case",
                text,
            ))
        }
    }
}

/// A BCP 47 language tag (RFC 5646), checked for form only, e.g. `"km"`,
/// `"id"`, `"zh-Hans"`. Compared without regard to case.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LanguageTag(String);

string_id!(LanguageTag);

impl LanguageTag {
    /// Parses a tag.
    ///
    /// # Errors
    /// When the text is not a well-formed RFC 5646 language tag.
    pub fn parse(text: &str) -> Result<Self, ValidationError> {
        match oxilangtag::LanguageTag::parse(text) {
            Ok(_) if text.len() <= 64 => Ok(LanguageTag(text.to_owned())),
            _ => Err(ValidationError::invalid(
                "",
                "a well-formed BCP 47 language tag of at most 64 characters, e.g. \"km\" or \"zh-Hans\"",
                text,
            )),
        }
    }

    /// `"en"`.
    pub fn english() -> Self {
        LanguageTag("en".to_owned())
    }
}

/// A script: an ISO 15924 four-letter code, first letter upper case, the
/// rest lower case (`"Khmr"`, `"Latn"`), checked for form only.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Script(String);

string_id!(Script);

impl Script {
    /// Parses a script code.
    ///
    /// # Errors
    /// When the text is not of the form `Xxxx`.
    pub fn parse(text: &str) -> Result<Self, ValidationError> {
        let b = text.as_bytes();
        if b.len() == 4 && b[0].is_ascii_uppercase() && b[1..].iter().all(u8::is_ascii_lowercase) {
            Ok(Script(text.to_owned()))
        } else {
            Err(ValidationError::invalid(
                "",
                "an ISO 15924 script code such as \"Khmr\"",
                text,
            ))
        }
    }
}

/// A nationality: a country, or one of the ICAO 9303 codes for people
/// without one that can be named.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Nationality {
    /// A national of this country.
    Country(Country),
    /// `XXA`: stateless person (1954 Convention).
    Stateless,
    /// `XXB`: refugee (1951 Convention).
    Refugee,
    /// `XXC`: refugee other than under the 1951 Convention.
    OtherRefugee,
    /// `XXX`: nationality not known.
    Unknown,
}

impl Nationality {
    /// Parses an alpha-3 country code or `XXA`, `XXB`, `XXC`, `XXX`.
    ///
    /// # Errors
    /// When the text is neither.
    pub fn parse(code: &str) -> Result<Self, ValidationError> {
        match code {
            "XXA" => Ok(Nationality::Stateless),
            "XXB" => Ok(Nationality::Refugee),
            "XXC" => Ok(Nationality::OtherRefugee),
            "XXX" => Ok(Nationality::Unknown),
            _ => Country::parse(code).map(Nationality::Country).map_err(|_| {
                ValidationError::invalid(
                    "",
                    "an ISO 3166-1 alpha-3 country code, or XXA, XXB, XXC or XXX (ICAO 9303)",
                    code,
                )
            }),
        }
    }

    /// The code.
    pub fn as_str(&self) -> &'static str {
        match self {
            Nationality::Country(c) => c.as_str(),
            Nationality::Stateless => "XXA",
            Nationality::Refugee => "XXB",
            Nationality::OtherRefugee => "XXC",
            Nationality::Unknown => "XXX",
        }
    }

    /// The country, when the nationality is one.
    pub fn country(&self) -> Option<Country> {
        match self {
            Nationality::Country(c) => Some(*c),
            _ => None,
        }
    }

    /// Reads a list of nationalities: at least one, no duplicates, and the
    /// codes for "stateless" and "unknown" only on their own.
    pub(crate) fn list(values: Vec<String>, field: &str) -> Result<Vec<Self>, ValidationError> {
        let list = crate::wire::parse_list(values, field, |c| Nationality::parse(&c))?;
        crate::wire::non_empty(&list, field)?;
        crate::wire::unique(&list, field, |n| n.as_str())?;
        if list.len() > 1
            && let Some(i) = list
                .iter()
                .position(|n| matches!(n, Nationality::Stateless | Nationality::Unknown))
        {
            return Err(ValidationError::rule(
                "",
                "XXA (stateless) and XXX (unknown) cannot be combined with other nationalities",
            )
            .within_item(field, i));
        }
        Ok(list)
    }
}

impl fmt::Display for Nationality {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Nationality {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Nationality {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Nationality::parse(&text).map_err(serde::de::Error::custom)
    }
}

impl From<Country> for Nationality {
    fn from(c: Country) -> Self {
        Nationality::Country(c)
    }
}

/// A currency: an ISO 4217 alphabetic code or a crypto-asset ticker, 3 to
/// 10 of A-Z and 0-9 (checked by form only).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Currency(String);

string_id!(Currency);

impl Currency {
    /// Parses a code such as `"USD"`.
    ///
    /// # Errors
    /// When the text is not 3 to 10 upper-case ASCII letters and digits.
    pub fn parse(text: &str) -> Result<Self, ValidationError> {
        if (3..=10).contains(&text.len())
            && text
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        {
            Ok(Currency(text.to_owned()))
        } else {
            Err(ValidationError::invalid(
                "",
                "a currency code or asset ticker of 3 to 10 of A-Z and 0-9",
                text,
            ))
        }
    }
}

/// A phone number in E.164 form: `+` then 2-15 digits, the first not 0.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PhoneNumber(String);

string_id!(PhoneNumber);

impl PhoneNumber {
    /// Parses an E.164 number such as `"+6281234567890"`.
    ///
    /// # Errors
    /// When the text is not in E.164 form.
    pub fn parse(text: &str) -> Result<Self, ValidationError> {
        let digits = text.strip_prefix('+').unwrap_or("");
        let ok = (2..=15).contains(&digits.len())
            && digits.bytes().all(|b| b.is_ascii_digit())
            && !digits.starts_with('0');
        if ok {
            Ok(PhoneNumber(text.to_owned()))
        } else {
            Err(ValidationError::invalid(
                "",
                "an E.164 phone number: + then 2-15 digits, not starting with 0",
                text,
            ))
        }
    }
}

/// A notice id: SHA-256 over the notice's content (docs/PROTOCOL.md), shown
/// as 64 lower-case hex digits.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NoticeId([u8; 32]);

impl NoticeId {
    /// The id from its 32 bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        NoticeId(bytes)
    }

    /// The 32 bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Parses 64 hex digits.
    ///
    /// # Errors
    /// When the text is not 64 hex digits.
    pub fn parse(text: &str) -> Result<Self, ValidationError> {
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(text, &mut bytes)
            .map_err(|_| ValidationError::invalid("", "a notice id of 64 hex digits", text))?;
        Ok(NoticeId(bytes))
    }

    /// Reads a required 32-byte wire field.
    pub(crate) fn from_wire(bytes: &[u8]) -> Result<Self, ValidationError> {
        if bytes.is_empty() {
            return Err(ValidationError::missing(""));
        }
        <[u8; 32]>::try_from(bytes).map(NoticeId).map_err(|_| {
            ValidationError::invalid(
                "",
                "a notice id of 32 bytes",
                format!("{} bytes", bytes.len()),
            )
        })
    }

    /// 32 bytes as a notice id; `None` for any other length (a stored
    /// reference that may be empty).
    pub fn optional_from_bytes(bytes: &[u8]) -> Option<Self> {
        <[u8; 32]>::try_from(bytes).ok().map(NoticeId)
    }

    /// Reads an optional 32-byte wire field: empty means absent.
    pub(crate) fn optional_from_wire(bytes: &[u8]) -> Result<Option<Self>, ValidationError> {
        if bytes.is_empty() {
            Ok(None)
        } else {
            Self::from_wire(bytes).map(Some)
        }
    }
}

impl fmt::Display for NoticeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for NoticeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NoticeId({})", hex::encode(self.0))
    }
}

impl FromStr for NoticeId {
    type Err = ValidationError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for NoticeId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(self.0))
    }
}

impl<'de> Deserialize<'de> for NoticeId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        NoticeId::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn countries_are_any_iso_alpha3_code() {
        assert_eq!(Country::parse("IDN").map(|c| c.alpha2()), Ok("ID"));
        assert!(
            Country::parse("CHN").is_ok(),
            "victims come from outside ASEAN too"
        );
        for bad in ["idn", "ID", "XXX", "", "IDNN", "ÍDN"] {
            assert!(Country::parse(bad).is_err(), "{bad:?} accepted");
        }
        assert_eq!(
            Country::parse("KHM").ok().and_then(|c| c.member_state()),
            Some(MemberState::Cambodia)
        );
        assert_eq!(
            Country::parse("CHN").ok().and_then(|c| c.member_state()),
            None
        );
    }

    #[test]
    fn every_member_state_is_a_country() {
        for state in MemberState::ALL {
            assert_eq!(state.country().as_str(), state.code());
            assert_eq!(MemberState::parse(state.code()), Ok(state));
        }
        assert!(MemberState::parse("CHN").is_err());
    }

    #[test]
    fn agency_ids_bind_a_member_state() {
        let id = AgencyId::parse("IDN.KEMLU.PWNI");
        assert_eq!(id.as_ref().map(AgencyId::state), Ok(MemberState::Indonesia));
        for bad in [
            "IDN",
            "IDN.",
            "CHN.MPS",
            "idn.polri",
            "IDN.po lri",
            "IDN..X",
            "THA.RTP.",
            &format!("IDN.{}", "A".repeat(33)),
        ] {
            assert!(AgencyId::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn small_ids_and_codes() {
        assert!(CaseId::parse("IDN-2026/000123").is_ok());
        assert!(CaseId::parse("has space").is_err());
        assert!(RecordId::parse("V-001").is_ok());
        assert!(RecordId::parse("V/001").is_err());
        assert!(KeyId::parse("IDN.KEMLU.PWNI#2026").is_ok());
        assert!(Language::parse("ind").is_ok());
        assert!(Language::parse("IND").is_err());
        assert!(Currency::parse("USD").is_ok());
        assert!(Currency::parse("usd").is_err());
        assert!(PhoneNumber::parse("+6281234567890").is_ok());
        for bad in ["6281234", "+0812", "+62 812", "+1234567890123456", "+"] {
            assert!(PhoneNumber::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn notice_ids_round_trip_as_hex() {
        let id = NoticeId::from_bytes([0xab; 32]);
        assert_eq!(NoticeId::parse(&id.to_string()), Ok(id));
        assert!(NoticeId::parse("abcd").is_err());
        assert!(NoticeId::from_wire(&[1; 31]).is_err());
        assert!(NoticeId::from_wire(&[]).is_err());
    }
}
