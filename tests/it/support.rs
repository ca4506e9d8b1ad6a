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
