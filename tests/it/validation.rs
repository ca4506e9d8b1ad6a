//! Every validation rule, each broken once: the error names the field path
//! and the kind of problem.

use lintas_core::notice::NoticeBody;
use lintas_core::pb;
use lintas_core::pb::notice_body::Kind;
use lintas_core::vocab::NoticeKind;
use lintas_core::{Problem, ValidationError};

use crate::support::{bodies, wire};

/// What kind of problem a case expects.
#[derive(Debug, Clone, Copy)]
enum Expect {
    Missing,
    Invalid,
    UnknownEnum,
    Duplicate,
    UnknownReference,
    Rule,
}

fn matches(problem: &Problem, expect: Expect) -> bool {
    matches!(
        (problem, expect),
        (Problem::Missing, Expect::Missing)
            | (Problem::Invalid { .. }, Expect::Invalid)
            | (Problem::UnknownEnumValue { .. }, Expect::UnknownEnum)
            | (Problem::Duplicate { .. }, Expect::Duplicate)
            | (Problem::UnknownReference { .. }, Expect::UnknownReference)
            | (Problem::Rule(_), Expect::Rule)
    )
}

fn base(kind: NoticeKind) -> pb::NoticeBody {
    let body = bodies()
        .into_iter()
        .find(|b| b.kind() == kind)
        .expect("scenario has every kind");
    wire(&body)
}

fn rescue(b: &mut pb::NoticeBody) -> &mut pb::RescueRequest {
    match b.kind.as_mut() {
        Some(Kind::RescueRequest(r)) => r,
        _ => panic!("not a rescue request"),
    }
}

fn case(b: &mut pb::NoticeBody) -> &mut pb::Case {
    rescue(b).case.as_mut().unwrap()
}

fn victim(b: &mut pb::NoticeBody) -> &mut pb::Victim {
    &mut case(b).victims[0]
}

fn watch(b: &mut pb::NoticeBody) -> &mut pb::TransitWatchRequest {
    match b.kind.as_mut() {
        Some(Kind::TransitWatchRequest(w)) => w,
        _ => panic!("not a transit watch"),
    }
}

fn plan(b: &mut pb::NoticeBody) -> &mut pb::RepatriationPlan {
    match b.kind.as_mut() {
        Some(Kind::RepatriationPlan(p)) => p,
        _ => panic!("not a repatriation plan"),
    }
}

fn crypto(b: &mut pb::NoticeBody) -> &mut pb::CryptoWallet {
    match case(b).financial_indicators[0].instrument.as_mut() {
        Some(pb::financial_indicator::Instrument::CryptoWallet(w)) => w,
        _ => panic!("F-01 is a crypto wallet"),
    }
}

fn bank(b: &mut pb::NoticeBody) -> &mut pb::BankAccount {
    match case(b).financial_indicators[1].instrument.as_mut() {
        Some(pb::financial_indicator::Instrument::BankAccount(a)) => a,
        _ => panic!("F-02 is a bank account"),
    }
}

type Mutation = fn(&mut pb::NoticeBody);

/// (kind to start from, mutation, expected path, expected problem)
fn cases() -> Vec<(NoticeKind, Mutation, &'static str, Expect)> {
    use Expect::*;
    use NoticeKind::*;
    vec![
        // The body and its handling.
        (
            RescueRequest,
            |b| b.notice_id = vec![1; 31],
            "notice_id",
            Invalid,
        ),
        (RescueRequest, |b| b.notice_id.clear(), "notice_id", Missing),
        (RescueRequest, |b| b.sender.clear(), "sender", Missing),
        (
            RescueRequest,
            |b| b.sender = "idn.kemlu".into(),
            "sender",
            Invalid,
        ),
        (
            RescueRequest,
            |b| b.sender = "CHN.MPS".into(),
            "sender",
            Invalid,
        ),
        (RescueRequest, |b| b.sequence = 0, "sequence", Invalid),
        (
            RescueRequest,
            |b| b.created_at = None,
            "created_at",
            Missing,
        ),
        (
            RescueRequest,
            |b| b.created_at.as_mut().unwrap().seconds = 0,
            "created_at",
            Invalid,
        ),
        (
            RescueRequest,
            |b| b.created_at.as_mut().unwrap().nanos = -1,
            "created_at",
            Invalid,
        ),
        (
            RescueRequest,
            |b| b.expires_at = b.created_at,
            "expires_at",
            Rule,
        ),
        (
            RescueRequest,
            |b| b.recipients.clear(),
            "recipients",
            Missing,
        ),
        (
            RescueRequest,
            |b| b.recipients.push(b.recipients[0].clone()),
            "recipients[2]",
            Duplicate,
        ),
        (
            RescueRequest,
            |b| b.recipients[1] = "THA".into(),
            "recipients[1]",
            Invalid,
        ),
        (
            RescueRequest,
            |b| b.recipients.push(b.sender.clone()),
            "recipients[2]",
            Rule,
        ),
        (RescueRequest, |b| b.handling = None, "handling", Missing),
        (
            RescueRequest,
            |b| b.handling.as_mut().unwrap().tlp = 0,
            "handling.tlp",
            Missing,
        ),
        (
            RescueRequest,
            |b| b.handling.as_mut().unwrap().tlp = 99,
            "handling.tlp",
            UnknownEnum,
        ),
        (
            RescueRequest,
            |b| b.handling.as_mut().unwrap().priority = 42,
            "handling.priority",
            UnknownEnum,
        ),
        (
            RescueRequest,
            |b| b.handling.as_mut().unwrap().response_deadline = None,
            "handling.response_deadline",
            Rule,
        ),
        (
            RescueRequest,
            |b| b.handling.as_mut().unwrap().response_deadline = b.created_at,
            "handling.response_deadline",
            Rule,
        ),
        (
            RescueRequest,
            |b| {
                let mut late = b.expires_at.unwrap();
                late.seconds += 1;
                b.handling.as_mut().unwrap().response_deadline = Some(late);
            },
            "handling.response_deadline",
            Rule,
        ),
        (
            RescueRequest,
            |b| {
                let h = b.handling.as_mut().unwrap();
                h.tlp = pb::Tlp::Red as i32;
                h.may_forward = true;
            },
            "handling.may_forward",
            Rule,
        ),
        (RescueRequest, |b| b.case_id.clear(), "case_id", Rule),
        (
            RescueRequest,
            |b| b.case_id = "IDN 2026".into(),
            "case_id",
            Invalid,
        ),
        (
            RescueRequest,
            |b| b.case_id = "IDN-OTHER".into(),
            "rescue_request.case.case_id",
            Rule,
        ),
        (
            RescueRequest,
            |b| b.supersedes = vec![1; 33],
            "supersedes",
            Invalid,
        ),
        (RescueRequest, |b| b.kind = None, "kind", Missing),
        (
            Withdrawal,
            |b| b.supersedes = vec![1; 32],
            "supersedes",
            Rule,
        ),
        // The case.
        (
            RescueRequest,
            |b| rescue(b).case = None,
            "rescue_request.case",
            Missing,
        ),
        (
            RescueRequest,
            |b| case(b).originating_agency = "KHM".into(),
            "rescue_request.case.originating_agency",
            Invalid,
        ),
        (
            RescueRequest,
            |b| case(b).opened_at = None,
            "rescue_request.case.opened_at",
            Missing,
        ),
        (
            RescueRequest,
            |b| case(b).status = 0,
            "rescue_request.case.status",
            Missing,
        ),
        (
            RescueRequest,
            |b| case(b).states.clear(),
            "rescue_request.case.states",
            Missing,
        ),
        (
            RescueRequest,
            |b| case(b).states[0].state = "CHN".into(),
            "rescue_request.case.states[0].state",
            Invalid,
        ),
        (
            RescueRequest,
            |b| case(b).states[0].role = 0,
            "rescue_request.case.states[0].role",
            Missing,
        ),
        (
            RescueRequest,
            |b| {
                let first = case(b).states[0].clone();
                case(b).states.push(first);
            },
            "rescue_request.case.states[3]",
            Duplicate,
        ),
        (
            RescueRequest,
            |b| {
                case(b).states.remove(0);
            },
            "rescue_request.case.states",
            Rule,
        ),
        (
            RescueRequest,
            |b| case(b).summary = "x".repeat(9000),
            "rescue_request.case.summary",
            Invalid,
        ),
        // Victims.
        (
            RescueRequest,
            |b| victim(b).victim_id.clear(),
            "rescue_request.case.victims[0].victim_id",
            Missing,
        ),
        (
            RescueRequest,
            |b| victim(b).victim_id = "Siti Aminah".into(),
            "rescue_request.case.victims[0].victim_id",
            Invalid,
        ),
        (
            RescueRequest,
            |b| victim(b).nationality = "XXX".into(),
            "rescue_request.case.victims[0].nationality",
            Invalid,
        ),
        (
            RescueRequest,
            |b| victim(b).nationality = "ID".into(),
            "rescue_request.case.victims[0].nationality",
            Invalid,
        ),
        (
            RescueRequest,
            |b| victim(b).nationality.clear(),
            "rescue_request.case.victims[0].nationality",
            Missing,
        ),
        (
            RescueRequest,
            |b| victim(b).nationality_verification = 9,
            "rescue_request.case.victims[0].nationality_verification",
            UnknownEnum,
        ),
        (
            RescueRequest,
            |b| victim(b).age_band = 0,
            "rescue_request.case.victims[0].age_band",
            Missing,
        ),
        (
            RescueRequest,
            |b| victim(b).gender = 0,
            "rescue_request.case.victims[0].gender",
            Missing,
        ),
        (
            RescueRequest,
            |b| victim(b).languages[1] = "JAV".into(),
            "rescue_request.case.victims[0].languages[1]",
            Invalid,
        ),
        (
            RescueRequest,
            |b| victim(b).vulnerabilities.push(0),
            "rescue_request.case.victims[0].vulnerabilities[0]",
            Missing,
        ),
        (
            RescueRequest,
            |b| victim(b).medical_urgency = 0,
            "rescue_request.case.victims[0].medical_urgency",
            Missing,
        ),
        (
            RescueRequest,
            |b| victim(b).consent = 77,
            "rescue_request.case.victims[0].consent",
            UnknownEnum,
        ),
        (
            RescueRequest,
            |b| victim(b).status = 0,
            "rescue_request.case.victims[0].status",
            Missing,
        ),
        (
            RescueRequest,
            |b| victim(b).legal_treatment = 0,
            "rescue_request.case.victims[0].legal_treatment",
            Missing,
        ),
        (
            RescueRequest,
            |b| victim(b).trafficking_status = 0,
            "rescue_request.case.victims[0].trafficking_status",
            Missing,
        ),
        (
            RescueRequest,
            |b| victim(b).exploitation[1] = 0,
            "rescue_request.case.victims[0].exploitation[1]",
            Missing,
        ),
        (
            RescueRequest,
            |b| victim(b).control_methods[0] = 0,
            "rescue_request.case.victims[0].control_methods[0]",
            Missing,
        ),
        (
            RescueRequest,
            |b| victim(b).forced_scam_types[0] = 0,
            "rescue_request.case.victims[0].forced_scam_types[0]",
            Missing,
        ),
        (
            RescueRequest,
            |b| victim(b).held_in_compound = "C-99".into(),
            "rescue_request.case.victims[0].held_in_compound",
            UnknownReference,
        ),
        (
            RescueRequest,
            |b| victim(b).last_known_location.as_mut().unwrap().country = "XYZ".into(),
            "rescue_request.case.victims[0].last_known_location.country",
            Invalid,
        ),
        (
            RescueRequest,
            |b| {
                victim(b)
                    .last_known_location
                    .as_mut()
                    .unwrap()
                    .point
                    .as_mut()
                    .unwrap()
                    .latitude = 91.0
            },
            "rescue_request.case.victims[0].last_known_location.point.latitude",
            Invalid,
        ),
        (
            RescueRequest,
            |b| {
                victim(b)
                    .last_known_location
                    .as_mut()
                    .unwrap()
                    .point
                    .as_mut()
                    .unwrap()
                    .longitude = f64::NAN
            },
            "rescue_request.case.victims[0].last_known_location.point.longitude",
            Invalid,
        ),
        (
            RescueRequest,
            |b| {
                let v = case(b).victims[0].clone();
                case(b).victims.push(v);
            },
            "rescue_request.case.victims[2]",
            Duplicate,
        ),
        // Suspects.
        (
            RescueRequest,
            |b| case(b).suspects[0].roles.clear(),
            "rescue_request.case.suspects[0].roles",
            Missing,
        ),
        (
            RescueRequest,
            |b| {
                let s = &mut case(b).suspects[0];
                s.aliases.clear();
                s.phone_numbers.clear();
                s.handles.clear();
            },
            "rescue_request.case.suspects[0].names",
            Rule,
        ),
        (
            RescueRequest,
            |b| case(b).suspects[0].phone_numbers[0] = "081200000001".into(),
            "rescue_request.case.suspects[0].phone_numbers[0]",
            Invalid,
        ),
        (
            RescueRequest,
            |b| case(b).suspects[0].aliases[0] = "bell\u{7}".into(),
            "rescue_request.case.suspects[0].aliases[0]",
            Invalid,
        ),
        (
            RescueRequest,
            |b| case(b).suspects[0].nationalities[0] = "idn".into(),
            "rescue_request.case.suspects[0].nationalities[0]",
            Invalid,
        ),
        (
            RescueRequest,
            |b| case(b).suspects[0].handles[0].platform = pb::Platform::Other as i32,
            "rescue_request.case.suspects[0].handles[0].platform_name",
            Rule,
        ),
        (
            RescueRequest,
            |b| case(b).suspects[0].handles[0].handle.clear(),
            "rescue_request.case.suspects[0].handles[0].handle",
            Missing,
        ),
        (
            RescueRequest,
            |b| case(b).suspects[1].linked_compounds[0] = "C-02".into(),
            "rescue_request.case.suspects[1].linked_compounds[0]",
            UnknownReference,
        ),
        // Compounds.
        (
            RescueRequest,
            |b| case(b).compounds[0].location = None,
            "rescue_request.case.compounds[0].location",
            Missing,
        ),
        (
            RescueRequest,
            |b| case(b).compounds[0].name = "  ".into(),
            "rescue_request.case.compounds[0].name",
            Missing,
        ),
        (
            RescueRequest,
            |b| case(b).compounds[0].status = 0,
            "rescue_request.case.compounds[0].status",
            Missing,
        ),
        (
            RescueRequest,
            |b| case(b).compounds[0].relocated_to = "C-02".into(),
            "rescue_request.case.compounds[0].relocated_to",
            Rule,
        ),
        (
            RescueRequest,
            |b| {
                let c = &mut case(b).compounds[0];
                c.status = pb::CompoundStatus::Relocated as i32;
                c.relocated_to = "C-02".into();
            },
            "rescue_request.case.compounds[0].relocated_to",
            UnknownReference,
        ),
        (
            RescueRequest,
            |b| {
                let p = pb::GeoPoint {
                    latitude: 10.0,
                    longitude: 103.0,
                };
                case(b).compounds[0].area = Some(pb::GeoPolygon {
                    vertices: vec![p, p, p],
                });
            },
            "rescue_request.case.compounds[0].area.vertices",
            Rule,
        ),
        // Recruitment.
        (
            RescueRequest,
            |b| case(b).recruitment[0].method = 0,
            "rescue_request.case.recruitment[0].method",
            Missing,
        ),
        (
            RescueRequest,
            |b| case(b).recruitment[0].advert_url = "facebook.com/x".into(),
            "rescue_request.case.recruitment[0].advert_url",
            Invalid,
        ),
        (
            RescueRequest,
            |b| case(b).recruitment[0].platform = pb::Platform::JobSite as i32,
            "rescue_request.case.recruitment[0].platform_name",
            Rule,
        ),
        (
            RescueRequest,
            |b| {
                case(b).recruitment[0]
                    .promised_monthly_salary
                    .as_mut()
                    .unwrap()
                    .amount_minor = -1
            },
            "rescue_request.case.recruitment[0].promised_monthly_salary.amount_minor",
            Invalid,
        ),
        (
            RescueRequest,
            |b| {
                case(b).recruitment[0]
                    .promised_monthly_salary
                    .as_mut()
                    .unwrap()
                    .currency = "rupiah".into()
            },
            "rescue_request.case.recruitment[0].promised_monthly_salary.currency",
            Invalid,
        ),
        // Money trail.
        (
            RescueRequest,
            |b| case(b).financial_indicators[0].instrument = None,
            "rescue_request.case.financial_indicators[0].instrument",
            Missing,
        ),
        (
            RescueRequest,
            |b| case(b).financial_indicators[0].r#use = 0,
            "rescue_request.case.financial_indicators[0].use",
            Missing,
        ),
        (
            RescueRequest,
            |b| crypto(b).address = "T abc".into(),
            "rescue_request.case.financial_indicators[0].crypto_wallet.address",
            Invalid,
        ),
        (
            RescueRequest,
            |b| crypto(b).chain = pb::Chain::Other as i32,
            "rescue_request.case.financial_indicators[0].crypto_wallet.chain_name",
            Rule,
        ),
        (
            RescueRequest,
            |b| bank(b).bic = "BANK".into(),
            "rescue_request.case.financial_indicators[1].bank_account.bic",
            Invalid,
        ),
        (
            RescueRequest,
            |b| bank(b).account_number.clear(),
            "rescue_request.case.financial_indicators[1].bank_account.account_number",
            Missing,
        ),
        (
            RescueRequest,
            |b| bank(b).country = "Indonesia".into(),
            "rescue_request.case.financial_indicators[1].bank_account.country",
            Invalid,
        ),
        // Timeline.
        (
            RescueRequest,
            |b| case(b).timeline[0].occurred_at = None,
            "rescue_request.case.timeline[0].occurred_at",
            Missing,
        ),
        (
            RescueRequest,
            |b| case(b).timeline[0].kind = 0,
            "rescue_request.case.timeline[0].kind",
            Missing,
        ),
        (
            RescueRequest,
            |b| case(b).timeline[2].victims[1] = "V-404".into(),
            "rescue_request.case.timeline[2].victims[1]",
            UnknownReference,
        ),
        // The rescue request itself.
        (
            RescueRequest,
            |b| rescue(b).victims.clear(),
            "rescue_request.victims",
            Missing,
        ),
        (
            RescueRequest,
            |b| rescue(b).victims[1] = "V-404".into(),
            "rescue_request.victims[1]",
            UnknownReference,
        ),
        (
            RescueRequest,
            |b| rescue(b).victims[1] = "V-001".into(),
            "rescue_request.victims[1]",
            Duplicate,
        ),
        (
            RescueRequest,
            |b| rescue(b).actions.clear(),
            "rescue_request.actions",
            Missing,
        ),
        // Other kinds.
        (VictimStatusUpdate, |b| b.case_id.clear(), "case_id", Rule),
        (
            VictimStatusUpdate,
            |b| match b.kind.as_mut() {
                Some(Kind::VictimStatusUpdate(u)) => u.status = 12,
                _ => unreachable!(),
            },
            "victim_status_update.status",
            UnknownEnum,
        ),
        (
            SuspectAlert,
            |b| match b.kind.as_mut() {
                Some(Kind::SuspectAlert(a)) => a.suspects.clear(),
                _ => unreachable!(),
            },
            "suspect_alert.suspects",
            Missing,
        ),
        (
            CompoundAlert,
            |b| match b.kind.as_mut() {
                Some(Kind::CompoundAlert(a)) => a.compound = None,
                _ => unreachable!(),
            },
            "compound_alert.compound",
            Missing,
        ),
        (
            CompoundAlert,
            |b| match b.kind.as_mut() {
                Some(Kind::CompoundAlert(a)) => a.victim_nationalities.push("IDN".into()),
                _ => unreachable!(),
            },
            "compound_alert.victim_nationalities[3]",
            Duplicate,
        ),
        (
            ModusOperandiAlert,
            |b| match b.kind.as_mut() {
                Some(Kind::ModusOperandiAlert(a)) => a.channels.clear(),
                _ => unreachable!(),
            },
            "modus_operandi_alert.channels",
            Missing,
        ),
        (
            TransitWatchRequest,
            |b| watch(b).checkpoints.clear(),
            "transit_watch_request.checkpoints",
            Missing,
        ),
        (
            TransitWatchRequest,
            |b| watch(b).checkpoints[0].location = None,
            "transit_watch_request.checkpoints[0].location",
            Missing,
        ),
        (
            TransitWatchRequest,
            |b| watch(b).watch_until = watch(b).watch_from,
            "transit_watch_request.watch_until",
            Rule,
        ),
        (
            TransitWatchRequest,
            |b| watch(b).suspects.clear(),
            "transit_watch_request.victims",
            Rule,
        ),
        (
            TransitWatchRequest,
            |b| watch(b).action = 0,
            "transit_watch_request.action",
            Missing,
        ),
        (
            RepatriationPlan,
            |b| plan(b).victims.clear(),
            "repatriation_plan.victims",
            Missing,
        ),
        (
            RepatriationPlan,
            |b| plan(b).steps.clear(),
            "repatriation_plan.steps",
            Missing,
        ),
        (
            RepatriationPlan,
            |b| plan(b).steps.swap(0, 1),
            "repatriation_plan.steps[1].kind",
            Rule,
        ),
        (
            RepatriationPlan,
            |b| {
                let first = plan(b).steps[0].clone();
                plan(b).steps.insert(0, first);
            },
            "repatriation_plan.steps[1].kind",
            Duplicate,
        ),
        (
            RepatriationPlan,
            |b| {
                let early = plan(b).steps[0].planned_at;
                plan(b).steps[2].planned_at = early.map(|mut t| {
                    t.seconds -= 1;
                    t
                });
            },
            "repatriation_plan.steps[2].planned_at",
            Rule,
        ),
        (
            RepatriationPlan,
            |b| plan(b).steps[2].responsible_agency = "THA-IMM".into(),
            "repatriation_plan.steps[2].responsible_agency",
            Invalid,
        ),
        (
            AssistanceRequest,
            |b| match b.kind.as_mut() {
                Some(Kind::AssistanceRequest(a)) => a.legal_basis.clear(),
                _ => unreachable!(),
            },
            "assistance_request.legal_basis",
            Missing,
        ),
        (
            AssistanceResponse,
            |b| match b.kind.as_mut() {
                Some(Kind::AssistanceResponse(a)) => a.request.truncate(16),
                _ => unreachable!(),
            },
            "assistance_response.request",
            Invalid,
        ),
        (
            AssistanceResponse,
            |b| match b.kind.as_mut() {
                Some(Kind::AssistanceResponse(a)) => a.outcome = 0,
                _ => unreachable!(),
            },
            "assistance_response.outcome",
            Missing,
        ),
        (
            Withdrawal,
            |b| match b.kind.as_mut() {
                Some(Kind::Withdrawal(w)) => w.reason.clear(),
                _ => unreachable!(),
            },
            "withdrawal.reason",
            Missing,
        ),
    ]
}

#[test]
fn every_rule_names_the_field_and_the_problem() {
    let mut failures = Vec::new();
    for (i, (kind, mutate, path, expect)) in cases().into_iter().enumerate() {
        if path.is_empty() {
            continue;
        }
        let mut body = base(kind);
        mutate(&mut body);
        match NoticeBody::from_wire(body) {
            Ok(_) => failures.push(format!("case {i} ({path}): accepted")),
            Err(ValidationError {
                path: got, problem, ..
            }) => {
                if got != path || !matches(&problem, expect) {
                    failures.push(format!(
                        "case {i}: expected {expect:?} at {path}, got {problem:?} at {got}"
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_unmutated_bases_are_valid() {
    for kind in NoticeKind::ALL {
        NoticeBody::from_wire(base(*kind)).unwrap();
    }
}

#[test]
fn messages_say_what_was_expected_and_found() {
    let mut body = base(NoticeKind::RescueRequest);
    victim(&mut body).nationality = "XXX".into();
    let error = NoticeBody::from_wire(body).unwrap_err();
    assert_eq!(
        error.to_string(),
        "rescue_request.case.victims[0].nationality: expected an ISO 3166-1 alpha-3 country code in upper case, found \"XXX\""
    );
}

#[test]
fn open_enums_keep_values_from_newer_peers() {
    let mut body = base(NoticeKind::RescueRequest);
    case(&mut body).suspects[0].handles[0].platform = 250;
    let (_, notice) = NoticeBody::from_wire(body).unwrap();
    let lintas_core::notice::NoticeContent::RescueRequest(r) = notice.content else {
        panic!("kind changed")
    };
    assert_eq!(
        r.case.suspects[0].handles[0].platform,
        lintas_core::vocab::Platform::Unrecognized(250)
    );
}

#[test]
fn signing_refuses_what_receivers_would_refuse() {
    let mut body = bodies().remove(0);
    body.recipients.push(body.sender.clone());
    let key = lintas_testkit::world::agency_key(body.sender.as_str());
    let error = lintas_core::signing::SignedNotice::sign(&body, &key).unwrap_err();
    assert_eq!(error.path, "recipients[2]");
}
