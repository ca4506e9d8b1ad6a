//! Every validation rule, each broken once: the error names the field path
//! and the kind of problem.

use lintas_core::notice::{NoticeBody, NoticeContent};
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
    TooMany,
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
            | (Problem::TooMany { .. }, Expect::TooMany)
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

fn identity(b: &mut pb::NoticeBody) -> &mut pb::PersonIdentity {
    case(b).suspects[0].identity.as_mut().unwrap()
}

/// The content of a body of a given kind, for the new casework kinds.
macro_rules! content {
    ($b:expr, $variant:ident) => {
        match $b.kind.as_mut() {
            Some(Kind::$variant(k)) => k,
            _ => panic!(concat!("not a ", stringify!($variant))),
        }
    };
}

fn ts(seconds: i64) -> Option<prost_types::Timestamp> {
    Some(prost_types::Timestamp { seconds, nanos: 0 })
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
        // Purpose and legal basis (section 14.1).
        (
            RescueRequest,
            |b| b.handling.as_mut().unwrap().purpose = 0,
            "handling.purpose",
            Rule,
        ),
        (
            RescueRequest,
            |b| b.handling.as_mut().unwrap().legal_basis = 0,
            "handling.legal_basis",
            Rule,
        ),
        (
            RescueRequest,
            |b| {
                let h = b.handling.as_mut().unwrap();
                h.purpose = 0;
                h.legal_basis = 0;
            },
            "handling.purpose",
            Rule,
        ),
        (
            RescueRequest,
            |b| b.handling.as_mut().unwrap().tlp = pb::Tlp::Clear as i32,
            "handling.tlp",
            Rule,
        ),
        (
            RescueRequest,
            |b| {
                b.handling.as_mut().unwrap().legal_basis = pb::LegalBasis::Consent as i32;
                victim(b).consents.clear();
                victim(b).sharing_basis = pb::SharingBasis::VitalInterest as i32;
            },
            "handling.legal_basis",
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
            |b| case(b).summary.as_mut().unwrap().text = "x".repeat(9000),
            "rescue_request.case.summary.text",
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
            |b| victim(b).nationalities[0] = "XXZ".into(),
            "rescue_request.case.victims[0].nationalities[0]",
            Invalid,
        ),
        (
            RescueRequest,
            |b| victim(b).nationalities[0] = "ID".into(),
            "rescue_request.case.victims[0].nationalities[0]",
            Invalid,
        ),
        (
            RescueRequest,
            |b| victim(b).nationalities.clear(),
            "rescue_request.case.victims[0].nationalities",
            Missing,
        ),
        (
            RescueRequest,
            |b| victim(b).nationalities = vec!["XXA".into(), "IDN".into()],
            "rescue_request.case.victims[0].nationalities[0]",
            Rule,
        ),
        (
            RescueRequest,
            |b| victim(b).nationalities = vec!["IDN".into(), "IDN".into()],
            "rescue_request.case.victims[0].nationalities[1]",
            Duplicate,
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
            |b| victim(b).consents[0].decision = 77,
            "rescue_request.case.victims[0].consents[0].decision",
            UnknownEnum,
        ),
        (
            RescueRequest,
            |b| {
                let first = victim(b).consents[0];
                victim(b).consents.push(first);
            },
            "rescue_request.case.victims[0].consents[2]",
            Duplicate,
        ),
        (
            RescueRequest,
            |b| victim(b).sharing_basis = 0,
            "rescue_request.case.victims[0].sharing_basis",
            Missing,
        ),
        (
            RescueRequest,
            |b| victim(b).consents[0].decision = pb::ConsentDecision::Refused as i32,
            "rescue_request.case.victims[0].sharing_basis",
            Rule,
        ),
        (
            RescueRequest,
            |b| victim(b).legal_treatment = pb::LegalTreatment::Suspect as i32,
            "rescue_request.case.victims[0].non_punishment",
            Rule,
        ),
        (
            RescueRequest,
            |b| {
                victim(b)
                    .vulnerabilities
                    .push(pb::Vulnerability::Child as i32)
            },
            "rescue_request.case.victims[0].vulnerabilities[0]",
            Rule,
        ),
        (
            RescueRequest,
            |b| victim(b).languages = vec!["ind".into(); 1001],
            "rescue_request.case.victims[0].languages",
            TooMany,
        ),
        (
            RescueRequest,
            |b| {
                victim(b).referrals.push(pb::Referral {
                    organisation: "Shelter".into(),
                    provider: 1,
                    services: vec![],
                    reason: 1,
                    referred_at: Some(prost_types::Timestamp {
                        seconds: 1_795_000_000,
                        nanos: 0,
                    }),
                    outcome: 1,
                    ..Default::default()
                })
            },
            "rescue_request.case.victims[0].referrals[0].services",
            Missing,
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
                s.identity = None;
                s.handles.clear();
            },
            "rescue_request.case.suspects[0].identity",
            Rule,
        ),
        (
            RescueRequest,
            |b| identity(b).phone_numbers[0] = "081200000001".into(),
            "rescue_request.case.suspects[0].identity.phone_numbers[0]",
            Invalid,
        ),
        (
            RescueRequest,
            |b| identity(b).names[0].latin = "bell\u{7}".into(),
            "rescue_request.case.suspects[0].identity.names[0].latin",
            Invalid,
        ),
        (
            RescueRequest,
            |b| identity(b).names[0].latin = "Kak\u{200B}Rina".into(),
            "rescue_request.case.suspects[0].identity.names[0].latin",
            Invalid,
        ),
        (
            RescueRequest,
            |b| identity(b).nationalities[0] = "idn".into(),
            "rescue_request.case.suspects[0].identity.nationalities[0]",
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
            |b| case(b).recruitment[0].advert_url = "https://".into(),
            "rescue_request.case.recruitment[0].advert_url",
            Invalid,
        ),
        (
            RescueRequest,
            |b| {
                case(b).recruitment[0]
                    .advert_text
                    .as_mut()
                    .unwrap()
                    .translations[0]
                    .language = "id".into()
            },
            "rescue_request.case.recruitment[0].advert_text.translations[0].language",
            Rule,
        ),
        (
            RescueRequest,
            |b| {
                case(b).recruitment[0]
                    .advert_text
                    .as_mut()
                    .unwrap()
                    .language = "indonesian!".into()
            },
            "rescue_request.case.recruitment[0].advert_text.language",
            Invalid,
        ),
        (
            RescueRequest,
            |b| {
                case(b).recruitment[0]
                    .promised_monthly_salary
                    .as_mut()
                    .unwrap()
                    .decimals = 19
            },
            "rescue_request.case.recruitment[0].promised_monthly_salary.decimals",
            Invalid,
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
            |b| {
                // Back in time across a step without planned_at.
                let early = plan(b).steps[0].planned_at;
                plan(b).steps[1].planned_at = None;
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
                Some(Kind::Withdrawal(w)) => w.reason = None,
                _ => unreachable!(),
            },
            "withdrawal.reason",
            Missing,
        ),
        (
            Withdrawal,
            |b| match b.kind.as_mut() {
                Some(Kind::Withdrawal(w)) => w.persons = vec!["V-001".into(), "V-001".into()],
                _ => unreachable!(),
            },
            "withdrawal.persons[1]",
            Duplicate,
        ),
        (
            Withdrawal,
            |b| match b.kind.as_mut() {
                Some(Kind::Withdrawal(w)) => w.persons = vec!["V 001".into()],
                _ => unreachable!(),
            },
            "withdrawal.persons[0]",
            Invalid,
        ),
        (
            CaseUpdate,
            |b| {
                b.recipients = (0..101).map(|i| format!("KHM.AGENCY{i}")).collect();
            },
            "recipients",
            TooMany,
        ),
        // Text and handling.
        (
            RescueRequest,
            |b| rescue(b).situation.as_mut().unwrap().text = "call \u{202E}3210".into(),
            "rescue_request.situation.text",
            Invalid,
        ),
        (
            RescueRequest,
            |b| rescue(b).situation.as_mut().unwrap().language.clear(),
            "rescue_request.situation.language",
            Missing,
        ),
        (
            CaseUpdate,
            |b| {
                b.handling.as_mut().unwrap().tlp = pb::Tlp::AmberStrict as i32;
                b.handling.as_mut().unwrap().may_forward = true;
            },
            "handling.may_forward",
            Rule,
        ),
        (
            CaseUpdate,
            |b| {
                let first = b.references[0].clone();
                b.references.push(first);
            },
            "references[1]",
            Duplicate,
        ),
        (
            CaseUpdate,
            |b| b.references[0].agency = "IDN.KEMLU.PWNI".into(),
            "references[0].agency",
            Rule,
        ),
        (
            CaseUpdate,
            |b| b.references[0].case_id = "no spaces allowed".into(),
            "references[0].case_id",
            Invalid,
        ),
        // Victim status lifecycle.
        (
            VictimStatusUpdate,
            |b| content!(b, VictimStatusUpdate).previous_status = 0,
            "victim_status_update.previous_status",
            Missing,
        ),
        (
            VictimStatusUpdate,
            |b| content!(b, VictimStatusUpdate).previous_status = pb::VictimStatus::Deceased as i32,
            "victim_status_update.status",
            Rule,
        ),
        (
            VictimStatusUpdate,
            |b| {
                content!(b, VictimStatusUpdate).legal_treatment = pb::LegalTreatment::Suspect as i32
            },
            "victim_status_update.non_punishment",
            Rule,
        ),
        (
            VictimStatusUpdate,
            |b| content!(b, VictimStatusUpdate).effective_at = ts(4_000_000_000),
            "victim_status_update.effective_at",
            Rule,
        ),
        // Mutual legal assistance.
        (
            AssistanceRequest,
            |b| content!(b, AssistanceRequest).requesting_authority.clear(),
            "assistance_request.requesting_authority",
            Missing,
        ),
        (
            AssistanceRequest,
            |b| content!(b, AssistanceRequest).facts = None,
            "assistance_request.facts",
            Missing,
        ),
        (
            AssistanceRequest,
            |b| content!(b, AssistanceRequest).time_limit = ts(1_000_000_000),
            "assistance_request.time_limit",
            Rule,
        ),
        // Victim identified.
        (
            VictimIdentified,
            |b| {
                content!(b, VictimIdentified)
                    .victim
                    .as_mut()
                    .unwrap()
                    .consents
                    .retain(|c| c.purpose != pb::ConsentPurpose::ConsularContact as i32)
            },
            "victim_identified.victim.consents",
            Rule,
        ),
        (
            VictimIdentified,
            |b| {
                for c in &mut content!(b, VictimIdentified)
                    .victim
                    .as_mut()
                    .unwrap()
                    .consents
                {
                    if c.purpose == pb::ConsentPurpose::NotifyStateOfNationality as i32 {
                        c.decision = pb::ConsentDecision::Refused as i32;
                    }
                }
            },
            "recipients[0]",
            Rule,
        ),
        (
            VictimIdentified,
            |b| content!(b, VictimIdentified).identifying_agency.clear(),
            "victim_identified.identifying_agency",
            Missing,
        ),
        (
            VictimIdentified,
            |b| content!(b, VictimIdentified).basis = 0,
            "victim_identified.basis",
            Missing,
        ),
        (
            VictimIdentified,
            |b| content!(b, VictimIdentified).identified_at = ts(4_000_000_000),
            "victim_identified.identified_at",
            Rule,
        ),
        (
            VictimIdentified,
            |b| {
                let identity = content!(b, VictimIdentified)
                    .identity
                    .as_mut()
                    .and_then(|p| p.value.as_mut())
                    .unwrap();
                identity.names.clear();
                identity.documents.clear();
                identity.phone_numbers.clear();
            },
            "victim_identified.identity.value.names",
            Rule,
        ),
        (
            VictimIdentified,
            |b| {
                content!(b, VictimIdentified)
                    .identity
                    .as_mut()
                    .and_then(|p| p.value.as_mut())
                    .unwrap()
                    .birth_date = Some(pb::Date {
                    year: 1998,
                    month: 2,
                    day: 30,
                })
            },
            "victim_identified.identity.value.birth_date.day",
            Invalid,
        ),
        (
            VictimIdentified,
            |b| {
                content!(b, VictimIdentified)
                    .identity
                    .as_mut()
                    .and_then(|p| p.value.as_mut())
                    .unwrap()
                    .documents[0]
                    .issuing_state = "Indonesia".into()
            },
            "victim_identified.identity.value.documents[0].issuing_state",
            Invalid,
        ),
        // Protected parts (sections 3.3 and 14.2).
        (
            VictimIdentified,
            |b| {
                let medical = content!(b, VictimIdentified)
                    .victim
                    .as_mut()
                    .unwrap()
                    .medical
                    .as_mut()
                    .unwrap();
                medical.commitment = vec![1; 32];
            },
            "victim_identified.victim.medical.value",
            Rule,
        ),
        (
            VictimIdentified,
            |b| {
                content!(b, VictimIdentified).identity = Some(pb::ProtectedIdentity::default());
            },
            "victim_identified.identity",
            Rule,
        ),
        (
            VictimIdentified,
            |b| {
                content!(b, VictimIdentified)
                    .victim
                    .as_mut()
                    .unwrap()
                    .medical
                    .as_mut()
                    .unwrap()
                    .commitment = vec![1; 31];
                content!(b, VictimIdentified)
                    .victim
                    .as_mut()
                    .unwrap()
                    .medical
                    .as_mut()
                    .unwrap()
                    .value = None;
            },
            "victim_identified.victim.medical.commitment",
            Invalid,
        ),
        (
            VictimIdentified,
            |b| {
                content!(b, VictimIdentified)
                    .victim
                    .as_mut()
                    .unwrap()
                    .contacts
                    .as_mut()
                    .unwrap()
                    .value[0]
                    .name
                    .clear()
            },
            "victim_identified.victim.contacts.value[0].name",
            Rule,
        ),
        (
            VictimIdentified,
            |b| {
                let contact = &mut content!(b, VictimIdentified)
                    .victim
                    .as_mut()
                    .unwrap()
                    .contacts
                    .as_mut()
                    .unwrap()
                    .value[0];
                contact.phone_numbers.clear();
                contact.handles.clear();
            },
            "victim_identified.victim.contacts.value[0].phone_numbers",
            Rule,
        ),
        (
            VictimIdentified,
            |b| {
                content!(b, VictimIdentified)
                    .victim
                    .as_mut()
                    .unwrap()
                    .medical
                    .as_mut()
                    .unwrap()
                    .value
                    .as_mut()
                    .unwrap()
                    .history = None
            },
            "victim_identified.victim.medical.value.history",
            Missing,
        ),
        // Nationality verification.
        (
            NationalityVerificationRequest,
            |b| content!(b, NationalityVerificationRequest).persons.clear(),
            "nationality_verification_request.persons",
            Missing,
        ),
        (
            NationalityVerificationRequest,
            |b| {
                content!(b, NationalityVerificationRequest).persons[0].claimed_nationality =
                    "THA".into()
            },
            "nationality_verification_request.persons[0].claimed_nationality",
            Rule,
        ),
        (
            NationalityVerificationRequest,
            |b| content!(b, NationalityVerificationRequest).persons[0].identity = None,
            "nationality_verification_request.persons[0].identity",
            Missing,
        ),
        (
            NationalityVerificationRequest,
            |b| {
                let first = content!(b, NationalityVerificationRequest).persons[0].clone();
                content!(b, NationalityVerificationRequest)
                    .persons
                    .push(first);
            },
            "nationality_verification_request.persons[1]",
            Duplicate,
        ),
        (
            NationalityVerificationAnswer,
            |b| content!(b, NationalityVerificationAnswer).results.clear(),
            "nationality_verification_answer.results",
            Missing,
        ),
        (
            NationalityVerificationAnswer,
            |b| {
                content!(b, NationalityVerificationAnswer).results[0].outcome =
                    pb::VerificationOutcome::NotANational as i32
            },
            "nationality_verification_answer.results[0].document_issued",
            Rule,
        ),
        (
            NationalityVerificationAnswer,
            |b| content!(b, NationalityVerificationAnswer).request = vec![1; 31],
            "nationality_verification_answer.request",
            Invalid,
        ),
        // Sightings.
        (
            SightingReport,
            |b| content!(b, SightingReport).suspects.clear(),
            "sighting_report.victims",
            Rule,
        ),
        (
            SightingReport,
            |b| content!(b, SightingReport).seen_at = None,
            "sighting_report.seen_at",
            Missing,
        ),
        (
            SightingReport,
            |b| content!(b, SightingReport).action_taken = 0,
            "sighting_report.action_taken",
            Missing,
        ),
        (
            SightingReport,
            |b| content!(b, SightingReport).checkpoint = None,
            "sighting_report.checkpoint",
            Missing,
        ),
        // Repatriation step reports.
        (
            RepatriationStepReport,
            |b| content!(b, RepatriationStepReport).kind = 0,
            "repatriation_step_report.kind",
            Missing,
        ),
        (
            RepatriationStepReport,
            |b| content!(b, RepatriationStepReport).status = 99,
            "repatriation_step_report.status",
            UnknownEnum,
        ),
        (
            RepatriationStepReport,
            |b| content!(b, RepatriationStepReport).victims = vec!["V-002".into(), "V-002".into()],
            "repatriation_step_report.victims[1]",
            Duplicate,
        ),
        (
            RepatriationStepReport,
            |b| content!(b, RepatriationStepReport).at = ts(4_000_000_000),
            "repatriation_step_report.at",
            Rule,
        ),
        // Case update and closure.
        (
            CaseUpdate,
            |b| content!(b, CaseUpdate).case.as_mut().unwrap().case_id = "OTHER-CASE".into(),
            "case_update.case.case_id",
            Rule,
        ),
        (
            CaseUpdate,
            |b| content!(b, CaseUpdate).changes = None,
            "case_update.changes",
            Missing,
        ),
        (
            CaseClosure,
            |b| content!(b, CaseClosure).status = pb::CaseStatus::Active as i32,
            "case_closure.status",
            Invalid,
        ),
        (
            CaseClosure,
            |b| content!(b, CaseClosure).outcomes.clear(),
            "case_closure.outcomes",
            Missing,
        ),
        (
            CaseClosure,
            |b| content!(b, CaseClosure).referred_to = "KHM.MOI.ATHP".into(),
            "case_closure.referred_to",
            Rule,
        ),
        (
            CaseClosure,
            |b| content!(b, CaseClosure).status = pb::CaseStatus::ClosedReferred as i32,
            "case_closure.referred_to",
            Rule,
        ),
        (
            CaseClosure,
            |b| content!(b, CaseClosure).reason = None,
            "case_closure.reason",
            Missing,
        ),
        (
            CaseClosure,
            |b| content!(b, CaseClosure).closed_at = ts(4_000_000_000),
            "case_closure.closed_at",
            Rule,
        ),
        // Action requests and answers.
        (
            ActionRequest,
            |b| content!(b, ActionRequest).targets.clear(),
            "action_request.targets",
            Missing,
        ),
        (
            ActionRequest,
            |b| {
                content!(b, ActionRequest).targets[0].target = Some(
                    pb::action_target::Target::PhoneNumber("+6281200000001".into()),
                )
            },
            "action_request.targets[0].target",
            Rule,
        ),
        (
            ActionRequest,
            |b| content!(b, ActionRequest).targets[0].target = None,
            "action_request.targets[0].target",
            Missing,
        ),
        (
            ActionRequest,
            |b| {
                let first = content!(b, ActionRequest).targets[0].clone();
                content!(b, ActionRequest).targets.push(first);
            },
            "action_request.targets[1]",
            Duplicate,
        ),
        (
            ActionRequest,
            |b| {
                let t = &mut content!(b, ActionRequest).targets[0];
                t.period_from = ts(1_795_000_000);
                t.period_until = ts(1_794_000_000);
            },
            "action_request.targets[0].period_until",
            Rule,
        ),
        (
            ActionRequest,
            |b| content!(b, ActionRequest).deadline = ts(4_000_000_000),
            "action_request.deadline",
            Rule,
        ),
        (
            ActionRequest,
            |b| content!(b, ActionRequest).legal_basis.clear(),
            "action_request.legal_basis",
            Missing,
        ),
        (
            ActionRequest,
            |b| content!(b, ActionRequest).grounds = None,
            "action_request.grounds",
            Missing,
        ),
        (
            ActionAnswer,
            |b| content!(b, ActionAnswer).results[0].outcome = pb::TargetOutcome::NotFound as i32,
            "action_answer.results[0].amount",
            Rule,
        ),
        (
            ActionAnswer,
            |b| {
                let r = &mut content!(b, ActionAnswer).results[0];
                r.outcome = pb::TargetOutcome::Refused as i32;
                r.amount = None;
            },
            "action_answer.results[0].note",
            Rule,
        ),
        (
            ActionAnswer,
            |b| {
                let first = content!(b, ActionAnswer).results[0].clone();
                content!(b, ActionAnswer).results.push(first);
            },
            "action_answer.results[1]",
            Duplicate,
        ),
        (
            ActionAnswer,
            |b| content!(b, ActionAnswer).results[0].done_at = ts(4_000_000_000),
            "action_answer.results[0].done_at",
            Rule,
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
    victim(&mut body).nationalities[0] = "XXZ".into();
    let error = NoticeBody::from_wire(body).unwrap_err();
    assert_eq!(
        error.to_string(),
        "rescue_request.case.victims[0].nationalities[0]: expected an ISO 3166-1 alpha-3 country code, or XXA, XXB, XXC or XXX (ICAO 9303), found \"XXZ\""
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

#[test]
fn optional_enums_left_at_zero_are_accepted() {
    let mut body = base(NoticeKind::RescueRequest);
    case(&mut body).recruitment[0].method = 0;
    case(&mut body).recruitment[0].platform = 0;
    case(&mut body).financial_indicators[0].r#use = 0;
    victim(&mut body).trafficking_status_decided_by = 0;
    let (_, notice) = NoticeBody::from_wire(body).unwrap();
    let lintas_core::notice::NoticeContent::RescueRequest(r) = notice.content else {
        panic!("kind changed")
    };
    assert_eq!(r.case.recruitment[0].method, None);
    assert_eq!(r.case.financial_indicators[0].usage, None);
}

#[test]
fn stateless_refugee_and_dual_nationals_are_expressible() {
    for list in [
        vec!["XXA"],
        vec!["XXX"],
        vec!["MMR", "XXB"],
        vec!["THA", "KHM"],
    ] {
        let mut body = base(NoticeKind::RescueRequest);
        victim(&mut body).nationalities = list.iter().map(|s| (*s).to_owned()).collect();
        NoticeBody::from_wire(body).unwrap_or_else(|e| panic!("{list:?}: {e}"));
    }
}

#[test]
fn every_status_step_in_the_lifecycle_table_is_accepted_and_no_other() {
    use lintas_core::vocab::VictimStatus;
    let mut allowed = 0;
    for &from in VictimStatus::ALL {
        for &to in VictimStatus::ALL {
            let mut body = base(NoticeKind::VictimStatusUpdate);
            let update = content!(body, VictimStatusUpdate);
            update.previous_status = from.to_wire();
            update.status = to.to_wire();
            let accepted = NoticeBody::from_wire(body).is_ok();
            assert_eq!(accepted, to.may_follow(from), "{from:?} -> {to:?}");
            allowed += usize::from(accepted);
        }
    }
    // The table of docs/PROTOCOL.md section 3.3: 54 steps plus staying put
    // (every status but DECEASED).
    assert_eq!(allowed, 54 + 10);
}

#[test]
fn a_notice_over_256_kib_is_neither_signed_nor_read() {
    use lintas_core::signing::{MAX_BODY_BYTES, SignedNotice, decode_notice_body};
    let mut body = bodies()
        .into_iter()
        .find(|b| b.kind() == NoticeKind::ModusOperandiAlert)
        .unwrap();
    let lintas_core::notice::NoticeContent::ModusOperandiAlert(alert) = &mut body.content else {
        panic!("kind changed")
    };
    let template = alert.channels[0].clone();
    alert.channels = (0..40)
        .map(|i| {
            let mut channel = template.clone();
            channel.channel_id = lintas_core::ids::RecordId::parse(&format!("R-{i}")).unwrap();
            channel.advert_text = Some(lintas_core::text::Text::en("x".repeat(8000)));
            channel
        })
        .collect();
    let key = lintas_testkit::world::agency_key(body.sender.as_str());
    let error = SignedNotice::sign(&body, &key).unwrap_err();
    assert!(error.to_string().contains("262144"), "{error}");

    // A body of exactly the limit is signed and read; one byte more is not.
    let NoticeContent::ModusOperandiAlert(alert) = &mut body.content else {
        panic!("kind changed")
    };
    alert.channels.truncate(32);
    let mut grow = 0;
    let exact = loop {
        let (_, bytes) = lintas_core::signing::encode_notice_body(&body).unwrap();
        let missing = MAX_BODY_BYTES - bytes.len();
        if missing == 0 {
            break bytes;
        }
        let NoticeContent::ModusOperandiAlert(alert) = &mut body.content else {
            panic!("kind changed")
        };
        let text = alert.channels[grow % 32].advert_text.as_mut().unwrap();
        let grown = format!("{}{}", text.text, "y".repeat(missing.min(150)));
        *text = lintas_core::text::Text::en(grown);
        grow += 1;
    };
    assert_eq!(exact.len(), 262_144);
    let (_, signed) = SignedNotice::sign(&body, &key).unwrap();
    assert_eq!(signed.body_bytes().len(), MAX_BODY_BYTES);
    decode_notice_body(signed.body_bytes()).unwrap();
    let NoticeContent::ModusOperandiAlert(alert) = &mut body.content else {
        panic!("kind changed")
    };
    let text = alert.channels[0].advert_text.as_mut().unwrap();
    *text = lintas_core::text::Text::en(format!("{}z", text.text));
    let error = SignedNotice::sign(&body, &key).unwrap_err();
    assert!(error.to_string().contains("262145 bytes"), "{error}");

    // Bytes over the limit are refused before any decoding; bytes at the
    // limit reach the id check.
    let mut bytes = vec![0x0A, 0x20];
    bytes.resize(MAX_BODY_BYTES + 1, 0);
    let error = decode_notice_body(&bytes).unwrap_err();
    assert!(error.to_string().contains("262144"), "{error}");
    bytes.truncate(MAX_BODY_BYTES);
    let error = decode_notice_body(&bytes).unwrap_err();
    assert!(
        matches!(error, lintas_core::signing::BodyError::IdMismatch { .. }),
        "{error}"
    );
}
