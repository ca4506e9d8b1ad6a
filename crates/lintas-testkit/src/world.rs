//! The development world: agencies, their keys, stewards and the roster.

use lintas_core::Zeroizing;
use lintas_core::ids::{AgencyId, KeyId, MemberState, PhoneNumber};
use lintas_core::keys::SigningKey;
use lintas_core::place::ContactPoint;
use lintas_core::roster::{AgencyKey, Roster, RosterAgency, SignedRoster, StewardKey};
use lintas_core::time::Timestamp;
use lintas_core::vocab::{AgencyKind, NoticeKind};
use sha2::{Digest, Sha256};

/// Indonesia's foreign ministry: Directorate for the Protection of
/// Indonesian Citizens (origin state).
pub const IDN_KEMLU: &str = "IDN.KEMLU.PWNI";
/// Indonesian National Police, criminal investigation (origin state).
pub const IDN_POLRI: &str = "IDN.POLRI.BARESKRIM";
/// Royal Thai Police anti-trafficking division (transit state).
pub const THA_POLICE: &str = "THA.RTP.ATPD";
/// Thai Immigration Bureau (transit state).
pub const THA_IMMIGRATION: &str = "THA.IMM";
/// Cambodian police anti-human-trafficking department (destination state).
pub const KHM_POLICE: &str = "KHM.MOI.ATHP";

/// Indonesia's central authority for mutual legal assistance: Ministry of
/// Law, Directorate General of General Legal Administration.
pub const IDN_CENTRAL: &str = "IDN.KEMENKUM.AHU";
/// Cambodia's central authority for mutual legal assistance: Ministry of
/// Justice.
pub const KHM_CENTRAL: &str = "KHM.MOJ";

/// The fixed "now" of fixtures and test vectors: 2026-11-29T04:00:00Z.
pub fn fixed_now() -> Timestamp {
    // 2026-11-29T04:00:00Z is within the accepted range.
    Timestamp::from_unix(1_795_924_800).unwrap_or_else(|_| Timestamp::now())
}

/// The secret seed of a development key: SHA-256 of
/// `"lintas-testkit:" || key_id`. Public by construction.
pub fn seed_for(key_id: &str) -> Zeroizing<[u8; 32]> {
    let mut hash = Sha256::new();
    hash.update(b"lintas-testkit:");
    hash.update(key_id.as_bytes());
    Zeroizing::new(hash.finalize().into())
}

fn key(key_id: &str) -> SigningKey {
    let id = KeyId::parse(key_id).unwrap_or_else(|e| panic!("fixture key id {key_id}: {e}"));
    SigningKey::from_seed(id, &seed_for(key_id))
        .unwrap_or_else(|e| panic!("fixture key {key_id}: {e}"))
}

fn agency(id: &str) -> AgencyId {
    AgencyId::parse(id).unwrap_or_else(|e| panic!("fixture agency {id}: {e}"))
}

/// The notice-signing key of a development agency (key id `<agency>#1`).
pub fn agency_key(agency_id: &str) -> SigningKey {
    key(&format!("{agency_id}#1"))
}

/// The roster-signing key of a member state's steward (key id
/// `steward.<STATE>`).
pub fn steward_key(state: MemberState) -> SigningKey {
    key(&format!("steward.{}", state.code()))
}

/// The states holding steward keys in the development roster.
pub const STEWARDS: [MemberState; 3] = [
    MemberState::Indonesia,
    MemberState::Thailand,
    MemberState::Cambodia,
];

/// Development agencies: id, kind, display name, DNS name, kinds issued.
pub fn agencies() -> Vec<(
    AgencyId,
    AgencyKind,
    &'static str,
    &'static str,
    Vec<NoticeKind>,
)> {
    use NoticeKind::*;
    let everything = NoticeKind::ALL.to_vec();
    vec![
        (
            agency(IDN_KEMLU),
            AgencyKind::ForeignMinistry,
            "Directorate for the Protection of Indonesian Citizens, Ministry of Foreign Affairs",
            "pwni.kemlu.lintas.test",
            everything.clone(),
        ),
        (
            agency(IDN_POLRI),
            AgencyKind::Police,
            "Criminal Investigation Agency, Indonesian National Police",
            "bareskrim.polri.lintas.test",
            everything.clone(),
        ),
        (
            agency(THA_POLICE),
            AgencyKind::Police,
            "Anti-Trafficking in Persons Division, Royal Thai Police",
            "atpd.rtp.lintas.test",
            everything.clone(),
        ),
        (
            agency(THA_IMMIGRATION),
            AgencyKind::Immigration,
            "Immigration Bureau, Royal Thai Police",
            "imm.lintas.test",
            vec![
                VictimStatusUpdate,
                SuspectAlert,
                TransitWatchRequest,
                SightingReport,
                RepatriationStepReport,
                Withdrawal,
            ],
        ),
        (
            agency(KHM_POLICE),
            AgencyKind::Police,
            "Anti-Human Trafficking and Juvenile Protection Department, Ministry of Interior",
            "athp.moi.lintas.test",
            everything.clone(),
        ),
        (
            agency(IDN_CENTRAL),
            AgencyKind::CentralAuthority,
            "Central Authority for Mutual Legal Assistance, Ministry of Law",
            "ahu.kemenkum.lintas.test",
            vec![AssistanceRequest, AssistanceResponse, Withdrawal],
        ),
        (
            agency(KHM_CENTRAL),
            AgencyKind::CentralAuthority,
            "Central Authority for Mutual Legal Assistance, Ministry of Justice",
            "moj.lintas.test",
            vec![AssistanceRequest, AssistanceResponse, Withdrawal],
        ),
    ]
}

/// The development roster, version `version`, issued at `issued_at`, valid
/// for a year, with every agency's key valid from a day before issue for
/// two years, endpoints on `127.0.0.1` (port 0: set real ones for nodes),
/// and a threshold of 2 of the 3 stewards.
pub fn roster(version: u64, issued_at: Timestamp) -> Roster {
    let stewards = STEWARDS
        .iter()
        .map(|state| {
            let k = steward_key(*state);
            StewardKey {
                key_id: k.key_id().clone(),
                state: *state,
                public_key: k.public_key(),
            }
        })
        .collect();
    let mut entries = Vec::new();
    for (i, (id, kind, name, dns, may_issue)) in agencies().into_iter().enumerate() {
        let signing = agency_key(id.as_str());
        let phone = PhoneNumber::parse(&format!("+6621000{i:04}"))
            .unwrap_or_else(|e| panic!("fixture phone: {e}"));
        let mut entry = RosterAgency::new(
            id,
            kind,
            name,
            ContactPoint::new("Duty officer", phone, true),
            format!("https://127.0.0.1:{}", 50_051 + i),
            dns,
        );
        entry.may_issue.extend(may_issue);
        entry.keys.push(AgencyKey::new(
            signing.key_id().clone(),
            signing.public_key(),
            issued_at.plus_seconds(-86_400),
            issued_at.plus_seconds(2 * 365 * 86_400),
        ));
        entries.push(entry);
    }
    Roster::new(
        version,
        issued_at,
        issued_at.plus_seconds(365 * 86_400),
        2,
        stewards,
        entries,
    )
}

/// `roster` encoded and signed by the stewards of `signers`.
pub fn sign_roster(roster: &Roster, signers: &[MemberState]) -> SignedRoster {
    let mut signed =
        SignedRoster::new(roster).unwrap_or_else(|e| panic!("fixture roster invalid: {e}"));
    for state in signers {
        signed.add_signature(*state, &steward_key(*state));
    }
    signed
}

/// The development roster, version 1, issued an hour ago, signed by two
/// stewards and trusted now.
///
/// # Panics
/// Never for the fixture (a panic would be a bug in the testkit).
pub fn trusted_roster() -> lintas_core::roster::TrustedRoster {
    let now = Timestamp::now();
    let signed = sign_roster(
        &roster(1, now.plus_seconds(-3600)),
        &[MemberState::Indonesia, MemberState::Cambodia],
    );
    lintas_core::roster::TrustedRoster::bootstrap(signed, now)
        .unwrap_or_else(|e| panic!("fixture roster not trusted: {e}"))
}
