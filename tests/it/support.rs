//! Shared helpers.

use lintas_core::ids::MemberState;
use lintas_core::notice::NoticeBody;
use lintas_core::pb;
use lintas_core::roster::TrustedRoster;
use lintas_core::signing::SignedNotice;
use lintas_core::time::Timestamp;
use lintas_testkit::{scenario, world};

pub(crate) fn now() -> Timestamp {
    world::fixed_now()
}

/// The development roster, version 1, trusted at `now()`.
pub(crate) fn trusted() -> TrustedRoster {
    let roster = world::roster(1, now().plus_seconds(-3600));
    let signed = world::sign_roster(&roster, &[MemberState::Indonesia, MemberState::Thailand]);
    TrustedRoster::bootstrap(signed, now()).unwrap()
}

/// One valid body of each kind.
pub(crate) fn bodies() -> Vec<NoticeBody> {
    scenario::one_of_each_kind(now())
}

/// Signs `body` with its sender's development key.
pub(crate) fn sign(body: &NoticeBody) -> SignedNotice {
    let key = world::agency_key(body.sender.as_str());
    SignedNotice::sign(body, &key).unwrap().1
}

/// The wire form of `body` as a receiver decodes it (id field filled).
pub(crate) fn wire(body: &NoticeBody) -> pb::NoticeBody {
    let mut wire = body.to_wire();
    wire.notice_id = vec![7; 32];
    wire
}

/// Adds the Ed25519 group order L to a signature's S half: the classic
/// malleation that lenient verifiers accept and strict ones refuse.
pub(crate) fn add_group_order(signature: &mut [u8]) {
    const L: [u8; 32] = [
        0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde,
        0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
    ];
    let mut carry = 0u16;
    for (s, l) in signature[32..64].iter_mut().zip(L) {
        let sum = u16::from(*s) + u16::from(l) + carry;
        *s = sum as u8;
        carry = sum >> 8;
    }
}

/// An envelope signed over arbitrary body bytes, as a misbehaving or buggy
/// peer could produce: signed directly with ed25519-dalek, bypassing the
/// checks lintas-core's signer makes.
pub(crate) fn raw_envelope(
    signer: &str,
    key_id: &str,
    body: Vec<u8>,
    key: &lintas_core::keys::SigningKey,
) -> pb::SignedNotice {
    use ed25519_dalek::Signer;
    let signing = lintas_core::signing::NOTICE_PAYLOAD_TYPE;
    let message = lintas_core::signing::pae(signing, signer, key_id, &body);
    let dalek = ed25519_dalek::SigningKey::from_bytes(&key.seed());
    pb::SignedNotice {
        payload_type: signing.into(),
        signer: signer.into(),
        key_id: key_id.into(),
        body,
        signature: dalek.sign(&message).to_bytes().to_vec(),
        disclosures: Vec::new(),
    }
}

/// An agency id of the fixtures.
pub(crate) fn agency(id: &str) -> lintas_core::ids::AgencyId {
    lintas_core::ids::AgencyId::parse(id).unwrap()
}
