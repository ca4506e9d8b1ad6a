//! The roster updates a node refuses (PROTOCOL 6.3 and 6.4), through the
//! target's agency API (`InstallRoster`, with `--target-profile`): the
//! roster it trusts offered again, versions that skip or go back in time,
//! a next version without the stewards' signatures, bytes that are not a
//! roster. Each is refused and leaves the target's roster as it was, so
//! these checks are safe against a node in service.
//!
//! The harness takes the target's roster to be the one in its own
//! configuration (the same version).

use lintas_core::pb;
use lintas_core::roster::{Roster, SignedRoster};
use lintas_core::time::Timestamp;
use lintas_grpc::AgencyClient;

use super::expect::{Outcome, expect_refusal};
use super::{Harness, Report};

/// The refusals of 6.3 and 6.4 the harness can provoke without the
/// stewards' keys.
pub(crate) async fn run(h: &Harness, case_system: &mut AgencyClient, report: &mut Report) {
    let trusted = h.roster.roster().clone();
    let now = Timestamp::now();
    let n = trusted.version;

    let outcome = install(
        case_system,
        Ok(h.roster.signed().clone().into()),
        "roster_rollback",
    )
    .await;
    report.check(
        "6.4",
        &format!("the trusted version {n} offered again (roster_rollback)"),
        outcome,
    );

    let gap = unsigned(&trusted, n + 2, now);
    report.check(
        "6.4",
        &format!("version {} after {n} (roster_version_gap)", n + 2),
        install(case_system, gap, "roster_version_gap").await,
    );

    let before = unsigned(&trusted, n + 1, trusted.issued_at.plus_seconds(-86_400));
    report.check(
        "6.4",
        "the next version issued a day before the trusted one (roster_issued_before_trusted)",
        install(case_system, before, "roster_issued_before_trusted").await,
    );

    let unsigned_next = unsigned(&trusted, n + 1, now);
    report.check(
        "6.4",
        "the next version without the stewards' signatures (roster_threshold_not_met)",
        install(case_system, unsigned_next, "roster_threshold_not_met").await,
    );

    let check = "the next version, signed by the stewards, already expired (roster_expired)";
    if h.stewards.is_empty() {
        report.skip("6.4", check, "no --steward-key given");
    } else {
        let expired = signed_expired(h, &trusted, now);
        report.check(
            "6.4",
            check,
            install(case_system, expired, "roster_expired").await,
        );
    }

    let garbage = Ok(pb::SignedRoster {
        roster: vec![0xff; 16],
        signatures: Vec::new(),
    });
    report.check(
        "6.4",
        "bytes that are not a roster (roster_invalid)",
        install(case_system, garbage, "roster_invalid").await,
    );
}

/// `trusted` as version `version`, issued at `issued_at`, expiring as
/// long after as the trusted one did, with no signature.
fn unsigned(
    trusted: &Roster,
    version: u64,
    issued_at: Timestamp,
) -> Result<pb::SignedRoster, String> {
    let mut roster = trusted.clone();
    let lifetime = trusted.expires_at.unix_seconds() - trusted.issued_at.unix_seconds();
    roster.version = version;
    roster.issued_at = issued_at;
    roster.expires_at = issued_at.plus_seconds(lifetime);
    SignedRoster::new(&roster)
        .map(Into::into)
        .map_err(|e| format!("could not build the roster: {e}"))
}

/// `trusted` as the next version, issued with it and expired a second
/// later, signed by every steward key the harness was given.
fn signed_expired(
    h: &Harness,
    trusted: &Roster,
    now: Timestamp,
) -> Result<pb::SignedRoster, String> {
    let mut roster = trusted.clone();
    roster.version = trusted.version + 1;
    roster.expires_at = trusted.issued_at.plus_seconds(1);
    if roster.expires_at >= now {
        return Err("the trusted roster was issued less than a second ago".into());
    }
    let mut signed =
        SignedRoster::new(&roster).map_err(|e| format!("could not build the roster: {e}"))?;
    for key in &h.stewards {
        let state = trusted
            .steward(key.key_id())
            .filter(|s| s.public_key == key.public_key())
            .map(|s| s.state)
            .ok_or_else(|| format!("{} is not a steward key of the roster", key.key_id()))?;
        signed.add_signature(state, key);
    }
    Ok(signed.into())
}

/// Offers `roster` to the target's node, expecting the refusal `reason`
/// with the code PROTOCOL 9.8 gives it.
async fn install(
    case_system: &mut AgencyClient,
    roster: Result<pb::SignedRoster, String>,
    reason: &str,
) -> Outcome {
    let roster = roster?;
    let answer = case_system
        .install_roster(pb::InstallRosterRequest {
            roster: Some(roster),
        })
        .await;
    expect_refusal(answer, super::expect::code_of(reason), reason, None)
}
