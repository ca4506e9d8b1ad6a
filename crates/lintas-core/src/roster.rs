//! The trust roster: which agencies take part, their keys, what they may
//! issue and how to reach them, signed by a threshold of member-state
//! steward keys (docs/PROTOCOL.md, "Trust roster").

mod signed;
mod trust;

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

pub use signed::SignedRoster;
pub use trust::{MAX_CLOCK_SKEW_SECONDS, RosterError, TrustedRoster, VerifiedNotice, VerifyError};

use crate::error::{At, ValidationError};
use crate::ids::{AgencyId, KeyId, MemberState};
use crate::keys::PublicKey;
use crate::pb;
use crate::place::ContactPoint;
use crate::text::{self, SHORT};
use crate::time::Timestamp;
use crate::vocab::{AgencyKind, NoticeKind};
use crate::wire;

/// A member state's key for signing rosters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StewardKey {
    /// Key id, unique in the roster.
    pub key_id: KeyId,
    /// The state holding the key.
    pub state: MemberState,
    /// The public key.
    pub public_key: PublicKey,
}

/// Reads a public key field.
fn public_key(bytes: &[u8]) -> Result<PublicKey, ValidationError> {
    PublicKey::from_bytes(bytes).map_err(|e| {
        ValidationError::invalid(
            "public_key",
            "an Ed25519 public key of 32 bytes that is a valid point not of small order",
            e.to_string(),
        )
    })
}

impl TryFrom<pb::StewardKey> for StewardKey {
    type Error = ValidationError;
    fn try_from(k: pb::StewardKey) -> Result<Self, Self::Error> {
        Ok(StewardKey {
            key_id: KeyId::from_wire(&k.key_id).at("key_id")?,
            state: MemberState::from_wire(&k.state).at("state")?,
            public_key: public_key(&k.public_key)?,
        })
    }
}

impl From<StewardKey> for pb::StewardKey {
    fn from(k: StewardKey) -> Self {
        pb::StewardKey {
            key_id: k.key_id.to_string(),
            state: k.state.code().to_owned(),
            public_key: k.public_key.as_bytes().to_vec(),
        }
    }
}

/// A key's revocation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revocation {
    /// When it was revoked.
    pub revoked_at: Timestamp,
    /// Why.
    pub reason: String,
}

/// One of an agency's notice-signing keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AgencyKey {
    /// Key id, unique in the roster.
    pub key_id: KeyId,
    /// The public key.
    pub public_key: PublicKey,
    /// First instant notices may be created with it.
    pub valid_from: Timestamp,
    /// Notices created at or after this are refused.
    pub valid_until: Timestamp,
    /// Set when revoked: every notice signed with it is refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revocation: Option<Revocation>,
}

impl AgencyKey {
    /// A key valid over `[valid_from, valid_until)`.
    pub fn new(
        key_id: KeyId,
        public_key: PublicKey,
        valid_from: Timestamp,
        valid_until: Timestamp,
    ) -> Self {
        AgencyKey {
            key_id,
            public_key,
            valid_from,
            valid_until,
            revocation: None,
        }
    }

    /// Whether a notice created at `at` may be signed with this key
    /// (ignoring revocation).
    pub fn valid_at(&self, at: Timestamp) -> bool {
        self.valid_from <= at && at < self.valid_until
    }
}

impl TryFrom<pb::AgencyKey> for AgencyKey {
    type Error = ValidationError;
    fn try_from(k: pb::AgencyKey) -> Result<Self, Self::Error> {
        let key = AgencyKey {
            key_id: KeyId::from_wire(&k.key_id).at("key_id")?,
            public_key: public_key(&k.public_key)?,
            valid_from: Timestamp::from_wire(k.valid_from.as_ref()).at("valid_from")?,
            valid_until: Timestamp::from_wire(k.valid_until.as_ref()).at("valid_until")?,
            revocation: match k.revocation {
                None => None,
                Some(r) => Some(Revocation {
                    revoked_at: Timestamp::from_wire(r.revoked_at.as_ref())
                        .at("revocation.revoked_at")?,
                    reason: text::required(r.reason, SHORT).at("revocation.reason")?,
                }),
            },
        };
        if key.valid_until <= key.valid_from {
            return Err(ValidationError::rule(
                "valid_until",
                "must be after valid_from",
            ));
        }
        Ok(key)
    }
}

impl From<AgencyKey> for pb::AgencyKey {
    fn from(k: AgencyKey) -> Self {
        pb::AgencyKey {
            key_id: k.key_id.to_string(),
            public_key: k.public_key.as_bytes().to_vec(),
            valid_from: Some(k.valid_from.into()),
            valid_until: Some(k.valid_until.into()),
            revocation: k.revocation.map(|r| pb::Revocation {
                revoked_at: Some(r.revoked_at.into()),
                reason: r.reason,
            }),
        }
    }
}

/// An agency taking part.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RosterAgency {
    /// Agency id; its prefix is the agency's state.
    pub agency_id: AgencyId,
    /// Kind of agency.
    pub kind: AgencyKind,
    /// Display name.
    pub name: String,
    /// 24/7 contact point.
    pub contact: ContactPoint,
    /// Kinds of notice it may issue.
    pub may_issue: BTreeSet<NoticeKind>,
    /// Its signing keys.
    pub keys: Vec<AgencyKey>,
    /// Its node's gRPC endpoint, `https://host:port`.
    pub endpoint: String,
    /// The DNS name in its node's TLS certificate.
    pub tls_identity: String,
}

impl RosterAgency {
    /// An agency entry with no keys and no kinds yet: push at least one of
    /// each into `keys` and `may_issue`.
    pub fn new(
        agency_id: AgencyId,
        kind: AgencyKind,
        name: impl Into<String>,
        contact: ContactPoint,
        endpoint: impl Into<String>,
        tls_identity: impl Into<String>,
    ) -> Self {
        RosterAgency {
            agency_id,
            kind,
            name: name.into(),
            contact,
            may_issue: BTreeSet::new(),
            keys: Vec::new(),
            endpoint: endpoint.into(),
            tls_identity: tls_identity.into(),
        }
    }

    /// The agency's member state.
    pub fn state(&self) -> MemberState {
        self.agency_id.state()
    }

    /// The key with this id.
    pub fn key(&self, key_id: &KeyId) -> Option<&AgencyKey> {
        self.keys.iter().find(|k| &k.key_id == key_id)
    }
}

/// Checks a DNS name as used in certificates: labels of a-z, 0-9 and '-',
/// separated by dots, at most 253 bytes.
fn is_dns_name(name: &str) -> bool {
    name.len() <= 253
        && name.split('.').all(|label| {
            (1..=63).contains(&label.len())
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        })
}

impl TryFrom<pb::RosterAgency> for RosterAgency {
    type Error = ValidationError;
    fn try_from(a: pb::RosterAgency) -> Result<Self, Self::Error> {
        let may_issue = wire::parse_list(a.may_issue, "may_issue", NoticeKind::from_wire)?;
        wire::non_empty(&may_issue, "may_issue")?;
        wire::unique(&may_issue, "may_issue", |k| k.to_wire())?;
        let keys: Vec<AgencyKey> = wire::convert_list(a.keys, "keys")?;
        wire::non_empty(&keys, "keys")?;
        let endpoint = text::required(a.endpoint, SHORT).at("endpoint")?;
        let host_port = endpoint.strip_prefix("https://").unwrap_or("");
        let port_ok = host_port.rsplit_once(':').is_some_and(|(host, port)| {
            !host.is_empty() && port.parse::<u16>().is_ok_and(|p| p > 0)
        });
        if !port_ok || host_port.contains(['/', ' ']) {
            return Err(ValidationError::invalid(
                "endpoint",
                "https://host:port",
                endpoint,
            ));
        }
        let tls_identity = text::required(a.tls_identity, SHORT).at("tls_identity")?;
        if !is_dns_name(&tls_identity) {
            return Err(ValidationError::invalid(
                "tls_identity",
                "a lower-case DNS name such as node.kemlu.go.id",
                tls_identity,
            ));
        }
        Ok(RosterAgency {
            agency_id: AgencyId::from_wire(&a.agency_id).at("agency_id")?,
            kind: AgencyKind::from_wire(a.kind).at("kind")?,
            name: text::required(a.name, SHORT).at("name")?,
            contact: wire::required(a.contact, "contact")?,
            may_issue: may_issue.into_iter().collect(),
            keys,
            endpoint,
            tls_identity,
        })
    }
}

impl From<RosterAgency> for pb::RosterAgency {
    fn from(a: RosterAgency) -> Self {
        pb::RosterAgency {
            agency_id: a.agency_id.to_string(),
            kind: a.kind.to_wire(),
            name: a.name,
            contact: Some(a.contact.into()),
            may_issue: a.may_issue.iter().map(|k| k.to_wire()).collect(),
            keys: wire::to_wire_list(a.keys),
            endpoint: a.endpoint,
            tls_identity: a.tls_identity,
        }
    }
}

/// One version of the roster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Roster {
    /// Version, from 1.
    pub version: u64,
    /// When issued.
    pub issued_at: Timestamp,
    /// When it stops being valid.
    pub expires_at: Timestamp,
    /// How many distinct steward keys must sign.
    pub threshold: u32,
    /// Steward keys.
    pub stewards: Vec<StewardKey>,
    /// Agencies, by id.
    pub agencies: BTreeMap<AgencyId, RosterAgency>,
}

impl Roster {
    /// A roster version. Every rule is checked when it is signed
    /// ([`SignedRoster::new`]).
    pub fn new(
        version: u64,
        issued_at: Timestamp,
        expires_at: Timestamp,
        threshold: u32,
        stewards: Vec<StewardKey>,
        agencies: impl IntoIterator<Item = RosterAgency>,
    ) -> Self {
        Roster {
            version,
            issued_at,
            expires_at,
            threshold,
            stewards,
            agencies: agencies
                .into_iter()
                .map(|a| (a.agency_id.clone(), a))
                .collect(),
        }
    }

    /// The agency with this id.
    pub fn agency(&self, id: &AgencyId) -> Option<&RosterAgency> {
        self.agencies.get(id)
    }

    /// The agency whose node presents this TLS identity.
    pub fn agency_by_tls_identity(&self, name: &str) -> Option<&RosterAgency> {
        self.agencies.values().find(|a| a.tls_identity == name)
    }

    /// The steward key with this id.
    pub fn steward(&self, key_id: &KeyId) -> Option<&StewardKey> {
        self.stewards.iter().find(|s| &s.key_id == key_id)
    }

    /// Checks the rules that relate the roster's parts.
    ///
    /// # Errors
    /// The first broken rule, with its field path.
    pub fn validate(&self) -> Result<(), ValidationError> {
        if self.version == 0 {
            return Err(ValidationError::invalid(
                "version",
                "a version of 1 or more",
                "0",
            ));
        }
        if self.expires_at <= self.issued_at {
            return Err(ValidationError::rule(
                "expires_at",
                "must be after issued_at",
            ));
        }
        wire::non_empty(&self.stewards, "stewards")?;
        let steward_count = u32::try_from(self.stewards.len()).unwrap_or(u32::MAX);
        if self.threshold == 0 || self.threshold > steward_count {
            return Err(ValidationError::invalid(
                "threshold",
                "a threshold from 1 to the number of stewards",
                self.threshold.to_string(),
            ));
        }
        // Key ids and public keys are unique across the whole roster, so a
        // key can never be counted twice or stand for two parties.
        let mut key_ids = BTreeSet::new();
        let mut public_keys = BTreeSet::new();
        for (i, s) in self.stewards.iter().enumerate() {
            if !key_ids.insert(&s.key_id) {
                return Err(ValidationError::duplicate("key_id", s.key_id.as_str())
                    .within_item("stewards", i));
            }
            if !public_keys.insert(s.public_key) {
                return Err(
                    ValidationError::duplicate("public_key", s.public_key.to_hex())
                        .within_item("stewards", i),
                );
            }
        }
        let mut tls = BTreeSet::new();
        for (id, agency) in &self.agencies {
            let at = format!("agencies[{id}]");
            if &agency.agency_id != id {
                return Err(
                    ValidationError::rule("agency_id", "must match the map key").within(&at)
                );
            }
            if !tls.insert(agency.tls_identity.as_str()) {
                return Err(
                    ValidationError::duplicate("tls_identity", &agency.tls_identity).within(&at),
                );
            }
            for (j, k) in agency.keys.iter().enumerate() {
                if !key_ids.insert(&k.key_id) {
                    return Err(ValidationError::duplicate("key_id", k.key_id.as_str())
                        .within_item("keys", j)
                        .within(&at));
                }
                if !public_keys.insert(k.public_key) {
                    return Err(
                        ValidationError::duplicate("public_key", k.public_key.to_hex())
                            .within_item("keys", j)
                            .within(&at),
                    );
                }
            }
        }
        Ok(())
    }
}

impl TryFrom<pb::Roster> for Roster {
    type Error = ValidationError;
    fn try_from(r: pb::Roster) -> Result<Self, Self::Error> {
        let mut agencies = BTreeMap::new();
        for (i, a) in r.agencies.into_iter().enumerate() {
            let agency = RosterAgency::try_from(a).at_item("agencies", i)?;
            let id = agency.agency_id.clone();
            if agencies.insert(id.clone(), agency).is_some() {
                return Err(
                    ValidationError::duplicate("agency_id", id.as_str()).within_item("agencies", i)
                );
            }
        }
        let roster = Roster {
            version: r.version,
            issued_at: Timestamp::from_wire(r.issued_at.as_ref()).at("issued_at")?,
            expires_at: Timestamp::from_wire(r.expires_at.as_ref()).at("expires_at")?,
            threshold: r.threshold,
            stewards: wire::convert_list(r.stewards, "stewards")?,
            agencies,
        };
        roster.validate()?;
        Ok(roster)
    }
}

impl From<Roster> for pb::Roster {
    fn from(r: Roster) -> Self {
        pb::Roster {
            version: r.version,
            issued_at: Some(r.issued_at.into()),
            expires_at: Some(r.expires_at.into()),
            threshold: r.threshold,
            stewards: wire::to_wire_list(r.stewards),
            agencies: r.agencies.into_values().map(Into::into).collect(),
        }
    }
}
