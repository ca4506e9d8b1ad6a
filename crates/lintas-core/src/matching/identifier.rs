//! Identifiers in their normal form (docs/PROTOCOL.md section 14.9.2):
//! two agencies that hold the same phone number, handle, wallet, account
//! or document, written differently, must feed the same bytes to the
//! matching function.

use std::fmt;

use sha3::{Digest, Keccak256};

use crate::error::{At, ValidationError};
use crate::ids::{Country, PhoneNumber};
use crate::vocab::{IdentifierKind, Platform};

/// The longest normal form matched, in bytes.
pub const MAX_NORMAL_FORM_BYTES: usize = 256;

/// An identifier in its normal form.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Identifier {
    kind: IdentifierKind,
    normal: String,
}

impl Identifier {
    /// Normalises what an officer typed: `scope` qualifies `value` per kind
    /// (a handle's platform, a bank account's or a document's country, an
    /// e-wallet's provider; empty for phone numbers and wallets).
    ///
    /// # Errors
    /// When `value` (path `value`) or `scope` (path `scope`) cannot be put
    /// in normal form, or a scope is given where none belongs.
    pub fn parse(kind: IdentifierKind, scope: &str, value: &str) -> Result<Self, ValidationError> {
        let no_scope = || {
            if scope.trim().is_empty() {
                Ok(())
            } else {
                Err(ValidationError::invalid(
                    "scope",
                    "no scope for this kind of identifier",
                    scope,
                ))
            }
        };
        let normal = match kind {
            IdentifierKind::PhoneNumber => {
                no_scope()?;
                phone(value).at("value")?
            }
            IdentifierKind::CryptoWallet => {
                no_scope()?;
                wallet(value).at("value")?
            }
            IdentifierKind::Handle => {
                let platform = platform_scope(scope).at("scope")?;
                format!("{platform}:{}", handle(&platform, value).at("value")?)
            }
            IdentifierKind::BankAccount => {
                let country = country(scope).at("scope")?;
                format!("{country}:{}", account(value).at("value")?)
            }
            IdentifierKind::IdentityDocument => {
                let country = country(scope).at("scope")?;
                format!("{country}:{}", document(value).at("value")?)
            }
            IdentifierKind::EWallet => {
                let provider = name_token(scope).at("scope")?;
                format!("{provider}:{}", e_wallet_account(value).at("value")?)
            }
        };
        Self::new(kind, normal)
    }

    /// A phone number held in a notice.
    pub fn phone_number(number: &PhoneNumber) -> Option<Self> {
        phone(number.as_str())
            .ok()
            .and_then(|n| Self::new(IdentifierKind::PhoneNumber, n).ok())
    }

    /// A handle held in a notice.
    pub fn handle(platform: Platform, platform_name: Option<&str>, value: &str) -> Option<Self> {
        let token = platform_token(platform, platform_name).ok()?;
        let normal = format!("{token}:{}", handle(&token, value).ok()?);
        Self::new(IdentifierKind::Handle, normal).ok()
    }

    /// A crypto-asset wallet held in a notice.
    pub fn crypto_wallet(address: &str) -> Option<Self> {
        Self::new(IdentifierKind::CryptoWallet, wallet(address).ok()?).ok()
    }

    /// A bank account held in a notice.
    pub fn bank_account(country: Country, number: &str) -> Option<Self> {
        let normal = format!("{country}:{}", account(number).ok()?);
        Self::new(IdentifierKind::BankAccount, normal).ok()
    }

    /// An e-wallet account held in a notice.
    pub fn e_wallet(provider: &str, account: &str) -> Option<Self> {
        let normal = format!(
            "{}:{}",
            name_token(provider).ok()?,
            e_wallet_account(account).ok()?
        );
        Self::new(IdentifierKind::EWallet, normal).ok()
    }

    /// An identity document held in a notice.
    pub fn identity_document(issuing_state: Country, number: &str) -> Option<Self> {
        let normal = format!("{issuing_state}:{}", document(number).ok()?);
        Self::new(IdentifierKind::IdentityDocument, normal).ok()
    }

    fn new(kind: IdentifierKind, normal: String) -> Result<Self, ValidationError> {
        if normal.len() > MAX_NORMAL_FORM_BYTES {
            return Err(ValidationError::invalid(
                "value",
                "an identifier of at most 256 bytes in normal form",
                &normal,
            ));
        }
        Ok(Identifier { kind, normal })
    }

    /// The kind.
    pub fn kind(&self) -> IdentifierKind {
        self.kind
    }

    /// The normal form, without the kind: `+6281234567890`,
    /// `telegram:hr.recruiter`, `KHM:0012345678`.
    pub fn normal_form(&self) -> &str {
        &self.normal
    }

    /// The bytes fed to the matching function: the kind's token, `:`, and
    /// the normal form, in UTF-8.
    pub fn matching_input(&self) -> Vec<u8> {
        format!("{}:{}", kind_token(self.kind), self.normal).into_bytes()
    }
}

impl fmt::Display for Identifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", kind_token(self.kind), self.normal)
    }
}

/// The token of a kind in the matching input.
pub fn kind_token(kind: IdentifierKind) -> &'static str {
    match kind {
        IdentifierKind::PhoneNumber => "phone",
        IdentifierKind::Handle => "handle",
        IdentifierKind::CryptoWallet => "wallet",
        IdentifierKind::BankAccount => "bank",
        IdentifierKind::EWallet => "ewallet",
        IdentifierKind::IdentityDocument => "document",
    }
}

/// Removes white space and the separators people write numbers with.
fn strip_separators(text: &str, separators: &[char]) -> String {
    text.chars()
        .filter(|c| !c.is_whitespace() && !separators.contains(c))
        .collect()
}

/// E.164: `+` and the digits; `00` as the international prefix becomes `+`.
fn phone(text: &str) -> Result<String, ValidationError> {
    let compact = strip_separators(text, &['-', '.', '(', ')', '/']);
    let compact = match compact.strip_prefix("00") {
        Some(rest) => format!("+{rest}"),
        None => compact,
    };
    if !compact.starts_with('+') {
        return Err(ValidationError::invalid(
            "",
            "a phone number with its country code (+ or 00 first)",
            text,
        ));
    }
    PhoneNumber::parse(&compact)
        .map(|n| n.as_str().to_owned())
        .map_err(|_| {
            ValidationError::invalid(
                "",
                "an E.164 phone number: + then 2-15 digits, not starting with 0",
                text,
            )
        })
}

/// Profile links of the platforms whose links name the account: the
/// platform token and the link's prefix (after the scheme and `www.`).
const PROFILE_LINKS: [(&str, &str); 10] = [
    ("telegram", "t.me/"),
    ("telegram", "telegram.me/"),
    ("facebook", "facebook.com/"),
    ("facebook", "m.facebook.com/"),
    ("instagram", "instagram.com/"),
    ("tiktok", "tiktok.com/"),
    ("twitter", "twitter.com/"),
    ("twitter", "x.com/"),
    ("whatsapp", "wa.me/"),
    ("line", "line.me/ti/p/"),
];

/// A handle: trimmed and lower-cased; a link's scheme, `www.` and
/// trailing `/` dropped; a profile link of the platform (table above)
/// reduced to the account; one leading `@` dropped; on WhatsApp, a
/// number (`+`, `00` or a `wa.me/` link first) in E.164 form. No white
/// space inside.
fn handle(platform: &str, text: &str) -> Result<String, ValidationError> {
    let mut h = text.trim().to_lowercase();
    for scheme in ["https://", "http://"] {
        if let Some(rest) = h.strip_prefix(scheme) {
            h = rest.to_owned();
        }
    }
    if let Some(rest) = h.strip_prefix("www.") {
        h = rest.to_owned();
    }
    let mut h = h.trim_end_matches('/').to_owned();
    let link = PROFILE_LINKS
        .iter()
        .filter(|(token, _)| *token == platform)
        .find_map(|(_, prefix)| h.strip_prefix(prefix))
        .filter(|account| !account.is_empty() && !account.contains('/'))
        .map(|account| {
            if platform == "whatsapp" && account.bytes().all(|b| b.is_ascii_digit()) {
                format!("+{account}")
            } else {
                account.to_owned()
            }
        });
    if let Some(account) = link {
        h = account;
    }
    if platform == "whatsapp" && (h.starts_with('+') || h.starts_with("00")) {
        return phone(&h);
    }
    let h = h.strip_prefix('@').unwrap_or(&h);
    if h.is_empty() || h.contains(char::is_whitespace) {
        return Err(ValidationError::invalid(
            "",
            "a handle without white space inside",
            text,
        ));
    }
    Ok(h.to_owned())
}

/// The platform part of a handle's normal form: the platform's protobuf
/// name without `PLATFORM_`, lower-cased; `/` and the platform's name
/// for platforms that need one; `#` and the number for a platform this
/// version does not know.
fn platform_token(platform: Platform, name: Option<&str>) -> Result<String, ValidationError> {
    let token = match platform {
        Platform::Unrecognized(n) => format!("#{n}"),
        known => known
            .wire_name()
            .trim_start_matches("PLATFORM_")
            .to_ascii_lowercase(),
    };
    if platform.needs_name() {
        let name = name.ok_or_else(|| ValidationError::missing("platform_name"))?;
        Ok(format!("{token}/{}", name_token(name)?))
    } else {
        Ok(token)
    }
}

/// A handle's scope as an officer writes it: `telegram`, `other/olx`.
fn platform_scope(scope: &str) -> Result<String, ValidationError> {
    const EXPECTED: &str = "a platform such as telegram, whatsapp or other/NAME";
    let scope = scope.trim().to_lowercase();
    let (token, name) = match scope.split_once('/') {
        Some((t, n)) => (t, Some(n)),
        None => (scope.as_str(), None),
    };
    let platform = Platform::ALL
        .iter()
        .copied()
        .find(|p| {
            p.wire_name()
                .trim_start_matches("PLATFORM_")
                .eq_ignore_ascii_case(token)
        })
        .ok_or_else(|| ValidationError::invalid("", EXPECTED, &scope))?;
    if name.is_some() && !platform.needs_name() {
        return Err(ValidationError::invalid("", EXPECTED, &scope));
    }
    platform_token(platform, name).map_err(|_| ValidationError::invalid("", EXPECTED, &scope))
}

/// A name used as a token (a provider, a platform's name): lower-cased,
/// white space removed; not empty, no `:`.
fn name_token(text: &str) -> Result<String, ValidationError> {
    let token: String = text
        .to_lowercase()
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    if token.is_empty() || token.contains(':') {
        return Err(ValidationError::invalid(
            "",
            "a name without ':' (white space is ignored)",
            text,
        ));
    }
    Ok(token)
}

fn country(text: &str) -> Result<Country, ValidationError> {
    Country::parse(&text.trim().to_ascii_uppercase())
}

/// Letters and digits in upper case, after dropping separators.
fn alphanumeric(text: &str, expected: &'static str) -> Result<String, ValidationError> {
    let compact = strip_separators(text, &['-', '.', '/']).to_ascii_uppercase();
    if compact.is_empty() || !compact.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(ValidationError::invalid("", expected, text));
    }
    Ok(compact)
}

fn account(text: &str) -> Result<String, ValidationError> {
    alphanumeric(text, "an account number of letters and digits")
}

fn document(text: &str) -> Result<String, ValidationError> {
    alphanumeric(text, "a document number of letters and digits")
}

/// An e-wallet account: a phone number in E.164 when written as one (`+`
/// or `00` first), else lower-cased without white space and `-`.
fn e_wallet_account(text: &str) -> Result<String, ValidationError> {
    let compact = strip_separators(text, &['-']);
    if compact.starts_with('+') || compact.starts_with("00") {
        return phone(text);
    }
    if compact.is_empty() || compact.contains(':') {
        return Err(ValidationError::invalid(
            "",
            "an account name or number without ':'",
            text,
        ));
    }
    Ok(compact.to_lowercase())
}

/// A wallet address: `0x` and 40 hex digits lower-cased (a mixed-case one
/// must carry a valid EIP-55 checksum); a bech32 address (`bc1`, `tb1`,
/// `ltc1`) lower-cased (mixed case refused); any other address as written
/// (base58 addresses are case-sensitive).
fn wallet(text: &str) -> Result<String, ValidationError> {
    let address = text.trim();
    if address.is_empty() || address.contains(char::is_whitespace) {
        return Err(ValidationError::invalid(
            "",
            "a wallet address without white space",
            text,
        ));
    }
    if let Some(hex) = address
        .strip_prefix("0x")
        .or_else(|| address.strip_prefix("0X"))
        && hex.len() == 40
        && hex.bytes().all(|b| b.is_ascii_hexdigit())
    {
        let mixed = hex.bytes().any(|b| b.is_ascii_uppercase())
            && hex.bytes().any(|b| b.is_ascii_lowercase());
        if mixed && !eip55_valid(hex) {
            return Err(ValidationError::invalid(
                "",
                "an address whose mixed case is a valid EIP-55 checksum",
                text,
            ));
        }
        return Ok(format!("0x{}", hex.to_ascii_lowercase()));
    }
    let lower = address.to_ascii_lowercase();
    if ["bc1", "tb1", "ltc1"].iter().any(|p| lower.starts_with(p)) {
        if address != lower && address != address.to_ascii_uppercase() {
            return Err(ValidationError::invalid(
                "",
                "a bech32 address in one case",
                text,
            ));
        }
        return Ok(lower);
    }
    Ok(address.to_owned())
}

/// EIP-55: a letter is upper case exactly when the matching nibble of
/// Keccak-256 over the lower-case hex is 8 or more.
fn eip55_valid(hex: &str) -> bool {
    let lower = hex.to_ascii_lowercase();
    let digest = Keccak256::digest(lower.as_bytes());
    hex.bytes().enumerate().all(|(i, b)| {
        let nibble = (digest[i / 2] >> (if i % 2 == 0 { 4 } else { 0 })) & 0x0f;
        if b.is_ascii_digit() {
            true
        } else if nibble >= 8 {
            b.is_ascii_uppercase()
        } else {
            b.is_ascii_lowercase()
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn normal(kind: IdentifierKind, scope: &str, value: &str) -> String {
        Identifier::parse(kind, scope, value)
            .unwrap()
            .matching_input()
            .iter()
            .map(|&b| b as char)
            .collect()
    }

    #[test]
    fn phone_numbers_written_differently_meet() {
        for written in [
            "+62 812-3456-7890",
            "0062 812 3456 7890",
            "+62 (812) 3456.7890",
            "+6281234567890",
        ] {
            assert_eq!(
                normal(IdentifierKind::PhoneNumber, "", written),
                "phone:+6281234567890"
            );
        }
        let e = Identifier::parse(IdentifierKind::PhoneNumber, "", "0812 3456 7890").unwrap_err();
        assert_eq!(e.path, "value");
        assert!(e.to_string().contains("country code"), "{e}");
        let e = Identifier::parse(IdentifierKind::PhoneNumber, "IDN", "+6281").unwrap_err();
        assert_eq!(e.path, "scope");
    }

    #[test]
    fn handles_ignore_case_at_signs_and_url_forms() {
        let k = IdentifierKind::Handle;
        assert_eq!(
            normal(k, "Telegram", "@HR.Recruiter"),
            "handle:telegram:hr.recruiter"
        );
        assert_eq!(
            normal(k, "telegram", "https://www.T.me/Boss/"),
            "handle:telegram:boss"
        );
        assert_eq!(
            normal(k, "tiktok", "https://www.tiktok.com/@Boss"),
            "handle:tiktok:boss"
        );
        // Another platform's link, or a link to a post, stays a link.
        assert_eq!(
            normal(k, "facebook", "https://t.me/Boss"),
            "handle:facebook:t.me/boss"
        );
        assert_eq!(
            normal(k, "telegram", "t.me/boss/123"),
            "handle:telegram:t.me/boss/123"
        );
        // WhatsApp accounts are phone numbers.
        for written in [
            "https://wa.me/6281234567890",
            "+62 812-3456-7890",
            "0062 81234567890",
        ] {
            assert_eq!(
                normal(k, "whatsapp", written),
                "handle:whatsapp:+6281234567890",
                "{written}"
            );
        }
        assert_eq!(normal(k, "4sale", "x"), "handle:4sale:x");
        assert_eq!(
            normal(k, "other/O LX", "Seller1"),
            "handle:other/olx:seller1"
        );
        assert_eq!(
            Identifier::handle(Platform::JobSite, Some("JobStreet"), "@Agent")
                .unwrap()
                .normal_form(),
            "job_site/jobstreet:agent"
        );
        assert_eq!(
            Identifier::handle(Platform::Unrecognized(99), None, "a")
                .unwrap()
                .normal_form(),
            "#99:a"
        );
        for (scope, value, path) in [
            ("telegram", "two words", "value"),
            ("myspace", "x", "scope"),
            ("telegram/x", "x", "scope"),
            ("other", "x", "scope"),
        ] {
            let e = Identifier::parse(k, scope, value).unwrap_err();
            assert_eq!(e.path, path, "{scope} {value}: {e}");
        }
    }

    #[test]
    fn wallets_follow_their_chains_case_rules() {
        let k = IdentifierKind::CryptoWallet;
        // The EIP-55 example address, checksummed and not.
        let checksummed = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed";
        let lower = "wallet:0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed";
        assert_eq!(normal(k, "", checksummed), lower);
        assert_eq!(normal(k, "", &checksummed.to_ascii_lowercase()), lower);
        assert_eq!(
            normal(
                k,
                "",
                &format!("0x{}", checksummed[2..].to_ascii_uppercase())
            ),
            lower
        );
        let typo = "0x5AAeb6053F3E94C9b9A09f33669435E7Ef1BeAed";
        assert!(
            Identifier::parse(k, "", typo)
                .unwrap_err()
                .to_string()
                .contains("EIP-55")
        );
        assert_eq!(
            normal(k, "", "BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4"),
            "wallet:bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"
        );
        assert!(Identifier::parse(k, "", "bc1QW508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4").is_err());
        // Base58 (TRON, as used for USDT) is case-sensitive: kept.
        let tron = "TQn9Y2khEsLJW1ChVWFMSMeRDow5KcbLSE";
        assert_eq!(normal(k, "", tron), format!("wallet:{tron}"));
    }

    #[test]
    fn accounts_and_documents_drop_separators_and_take_a_country() {
        assert_eq!(
            normal(IdentifierKind::BankAccount, "khm", "0012-345 678"),
            "bank:KHM:0012345678"
        );
        assert_eq!(
            normal(IdentifierKind::IdentityDocument, "IDN", "x 1234567"),
            "document:IDN:X1234567"
        );
        assert_eq!(
            normal(IdentifierKind::EWallet, "GCash", "+63 917 123 4567"),
            "ewallet:gcash:+639171234567"
        );
        // A number written without its country code stays as written.
        assert_eq!(
            normal(IdentifierKind::EWallet, "gcash", "0917-123-4567"),
            "ewallet:gcash:09171234567"
        );
        assert_eq!(
            normal(IdentifierKind::EWallet, "True Money", "Shop-Agent"),
            "ewallet:truemoney:shopagent"
        );
        let e = Identifier::parse(IdentifierKind::BankAccount, "XXX", "1").unwrap_err();
        assert_eq!(e.path, "scope");
        let e = Identifier::parse(IdentifierKind::IdentityDocument, "IDN", "X#1").unwrap_err();
        assert_eq!(e.path, "value");
    }
}
