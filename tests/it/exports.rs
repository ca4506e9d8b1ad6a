//! The standard exports from what a node holds: STIX 2.1 bundles checked
//! against the OASIS STIX 2.1 JSON schemas (vendored under
//! tests/schemas/stix-2.1 with their licence), and HTCDS statistics with
//! small cells suppressed.

use std::path::{Path, PathBuf};

use lintas_core::ids::AgencyId;
use lintas_core::notice::{Handling, NoticeBody, NoticeContent};
use lintas_core::signing::SignedNotice;
use lintas_core::vocab::{Priority, Tlp};
use lintas_export::Holdings;
use lintas_export::statistics::{StatisticsOptions, statistics};
use lintas_export::stix::{StixOptions, bundle};
use lintas_testkit::scenario;
use serde_json::Value;

use crate::support::now;

const SCHEMA_BASE: &str =
    "http://raw.githubusercontent.com/oasis-open/cti-stix2-json-schemas/stix2.1/schemas/";

fn schemas() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas/stix-2.1")
}

/// Serves the schemas' own addresses from the vendored copy: nothing is
/// fetched.
struct Vendored;

impl jsonschema::Retrieve for Vendored {
    fn retrieve(
        &self,
        uri: &jsonschema::Uri<String>,
    ) -> Result<Value, Box<dyn std::error::Error + Send + Sync>> {
        let relative = uri
            .as_str()
            .strip_prefix(SCHEMA_BASE)
            .ok_or_else(|| format!("not a STIX 2.1 schema: {}", uri.as_str()))?;
        let text = std::fs::read_to_string(schemas().join(relative))?;
        Ok(serde_json::from_str(&text)?)
    }
}

fn validator(schema: &str) -> jsonschema::Validator {
    let text =
        std::fs::read_to_string(schemas().join(schema)).unwrap_or_else(|e| panic!("{schema}: {e}"));
    let schema: Value = serde_json::from_str(&text).unwrap();
    jsonschema::options()
        .with_retriever(Vendored)
        .build(&schema)
        .unwrap()
}

/// The schema of a STIX type, where the OASIS repository keeps it.
fn schema_of(kind: &str) -> String {
    ["sdos", "sros", "observables", "common"]
        .iter()
        .map(|dir| format!("{dir}/{kind}.json"))
        .find(|path| schemas().join(path).exists())
        .unwrap_or_else(|| panic!("{kind} is not a STIX 2.1 type"))
}

/// Checks a bundle as the OASIS validator does: each object against the
/// schema of its type, and the bundle itself against bundle.json. (The
/// bundle schema's own list of object schemas leaves out `location`,
/// `note`, `opinion` and `grouping`, whose objects then match both of its
/// custom-object branches, so whole bundles are not checked through it.)
fn assert_valid(bundle: &Value) {
    let mut errors = Vec::new();
    let objects = bundle["objects"].as_array().expect("objects");
    for (i, object) in objects.iter().enumerate() {
        let kind = object["type"].as_str().expect("type");
        let validator = validator(&schema_of(kind));
        errors.extend(
            validator
                .iter_errors(object)
                .map(|e| format!("objects[{i}] ({kind}): {e} at {}", e.instance_path())),
        );
    }
    let mut envelope = bundle.clone();
    // The envelope with one object a bundle's list does name.
    if let Some(marking) = objects.iter().find(|o| o["type"] == "marking-definition") {
        envelope["objects"] = Value::Array(vec![marking.clone()]);
        errors.extend(
            validator("common/bundle.json")
                .iter_errors(&envelope)
                .map(|e| format!("bundle: {e} at {}", e.instance_path())),
        );
    }
    assert!(errors.is_empty(), "not valid STIX 2.1: {errors:#?}");
}

fn me() -> AgencyId {
    AgencyId::parse(lintas_testkit::world::IDN_KEMLU).unwrap()
}

fn holdings_of(bodies: &[NoticeBody]) -> Holdings {
    let mut holdings = Holdings::new(me());
    for body in bodies {
        let (id, _) = SignedNotice::sign(
            body,
            &lintas_testkit::world::agency_key(body.sender.as_str()),
        )
        .unwrap();
        holdings.add(id, body);
    }
    holdings
}

fn objects<'a>(bundle: &'a Value, kind: &str) -> Vec<&'a Value> {
    bundle["objects"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["type"] == kind)
        .collect()
}

#[test]
fn a_stix_bundle_of_every_kind_is_valid_stix_2_1_and_carries_no_victim() {
    let bodies = scenario::one_of_each_kind(now());
    let (cases, alerts) = holdings_of(&bodies).finish();
    let stix = bundle(&me(), &cases, &alerts, StixOptions::default());
    assert_valid(&stix);

    // Every part the issue names is there.
    for kind in [
        "infrastructure",
        "location",
        "threat-actor",
        "identity",
        "indicator",
        "relationship",
        "marking-definition",
    ] {
        assert!(!objects(&stix, kind).is_empty(), "no {kind} in {stix:#}");
    }
    let compound = objects(&stix, "infrastructure")[0];
    assert_eq!(
        compound["name"],
        "Golden Coast Tower compound (invented name)"
    );
    let location = objects(&stix, "location")
        .into_iter()
        .find(|l| l["city"] == "Sihanoukville")
        .expect("the compound's location");
    assert_eq!(location["country"], "KH");
    assert_eq!(location["latitude"], 10.6093);
    let located = objects(&stix, "relationship").into_iter().any(|r| {
        r["source_ref"] == compound["id"]
            && r["relationship_type"] == "located-at"
            && r["target_ref"] == location["id"]
    });
    assert!(located, "the compound is located at its location");

    // The recruiter's Telegram handle, named by the suspect and by the
    // advert (written the same), is one indicator, in normal form, linked
    // to both.
    let telegram: Vec<&Value> = objects(&stix, "indicator")
        .into_iter()
        .filter(|i| {
            i["pattern"]
                .as_str()
                .unwrap()
                .contains("lowongan_cs_bkk_example")
        })
        .collect();
    assert_eq!(telegram.len(), 1, "{telegram:#?}");
    assert_eq!(
        telegram[0]["pattern"],
        "[user-account:account_type = 'telegram' AND user-account:account_login = 'lowongan_cs_bkk_example']"
    );
    let recruiter = objects(&stix, "threat-actor")
        .into_iter()
        .find(|t| t["name"] == "Kak Rina")
        .expect("the recruiter as a threat actor");
    assert_eq!(recruiter["roles"], serde_json::json!(["agent"]));
    let links: Vec<(&str, &str)> = objects(&stix, "relationship")
        .into_iter()
        .filter(|r| r["source_ref"] == telegram[0]["id"])
        .map(|r| {
            (
                r["relationship_type"].as_str().unwrap(),
                r["target_ref"]
                    .as_str()
                    .unwrap()
                    .split("--")
                    .next()
                    .unwrap(),
            )
        })
        .collect();
    assert!(links.contains(&("indicates", "threat-actor")), "{links:?}");
    assert!(links.contains(&("related-to", "identity")), "{links:?}");

    // A suspect alert's recruitment channel is exported from the alert.
    assert!(
        objects(&stix, "identity")
            .iter()
            .any(|i| i["external_references"]
                .as_array()
                .is_some_and(|r| r.iter().any(|r| r["external_id"]
                    .as_str()
                    .unwrap()
                    .starts_with(&format!("{}/notice/", lintas_testkit::world::IDN_POLRI))))),
        "no channel from the police's suspect alert"
    );

    // The money trail: the case's crypto wallet as an indicator.
    assert!(
        objects(&stix, "indicator").iter().any(|i| i["pattern"]
            .as_str()
            .unwrap()
            .starts_with("[x-lintas-identifier:kind = 'wallet'")),
        "no wallet indicator"
    );

    // Marked with the published TLP 2.0 definitions, and only those used.
    let markings: Vec<&str> = objects(&stix, "marking-definition")
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert!(markings.contains(&"TLP:AMBER+STRICT"), "{markings:?}");
    for object in stix["objects"].as_array().unwrap() {
        if let Some(refs) = object["object_marking_refs"].as_array() {
            for r in refs {
                assert!(
                    objects(&stix, "marking-definition")
                        .iter()
                        .any(|m| &m["id"] == r),
                    "{r} is not in the bundle"
                );
            }
        }
    }

    // Nothing about a victim: no victim id, name, phone or the case
    // summary's words.
    let text = stix.to_string();
    let identity = scenario::victim_identity();
    for secret in [
        "V-001".to_owned(),
        "V-002".to_owned(),
        identity.names[0].latin.clone(),
        identity.documents[0].number.clone(),
    ] {
        assert!(!text.contains(&secret), "{secret} is in the bundle");
    }
}

#[test]
fn the_same_holdings_give_the_same_bytes_in_any_order() {
    let mut bodies = scenario::one_of_each_kind(now());
    let first = {
        let (cases, alerts) = holdings_of(&bodies).finish();
        serde_json::to_string(&bundle(&me(), &cases, &alerts, StixOptions::default())).unwrap()
    };
    bodies.reverse();
    let (cases, alerts) = holdings_of(&bodies).finish();
    let again =
        serde_json::to_string(&bundle(&me(), &cases, &alerts, StixOptions::default())).unwrap();
    assert_eq!(first, again);
}

#[test]
fn red_stays_out_unless_asked_and_withdrawn_notices_never_count() {
    // A compound alert marked RED.
    let mut bodies = scenario::one_of_each_kind(now());
    let red = bodies
        .iter_mut()
        .find(|b| matches!(b.content, NoticeContent::CompoundAlert(_)))
        .unwrap();
    red.handling = Handling::new(Tlp::Red, Priority::High);
    if let NoticeContent::CompoundAlert(alert) = &mut red.content {
        alert.compound.name = "Red-marked compound".into();
    }
    let (cases, alerts) = holdings_of(&bodies).finish();
    let default = bundle(&me(), &cases, &alerts, StixOptions::default());
    assert!(!default.to_string().contains("Red-marked compound"));
    assert!(!default.to_string().contains("TLP:RED"));
    let mut options = StixOptions::default();
    options.max_tlp = Tlp::Red;
    let all = bundle(&me(), &cases, &alerts, options);
    assert_valid(&all);
    assert!(all.to_string().contains("Red-marked compound"));
    assert!(all.to_string().contains("TLP:RED"));
    let mut options = StixOptions::default();
    options.max_tlp = Tlp::Green;
    let green = bundle(&me(), &cases, &alerts, options);
    assert_valid(&green);
    for object in green["objects"].as_array().unwrap() {
        if let Some(refs) = object["object_marking_refs"].as_array() {
            assert!(
                refs.iter()
                    .all(|r| r == lintas_export::stix::marking_id(Tlp::Green)
                        || r == lintas_export::stix::marking_id(Tlp::Clear)),
                "{object}"
            );
        }
    }

    // The scenario's transit watch request was withdrawn (its suspects
    // never reach an export); without the withdrawal they do.
    let watch_suspects = |bodies: &[NoticeBody]| {
        let (_, alerts) = holdings_of(bodies).finish();
        alerts.iter().filter(|a| !a.suspects.is_empty()).count()
    };
    let all_bodies = scenario::one_of_each_kind(now());
    let without_withdrawal: Vec<NoticeBody> = all_bodies
        .iter()
        .filter(|b| !matches!(b.content, NoticeContent::Withdrawal(_)))
        .cloned()
        .collect();
    assert_eq!(
        watch_suspects(&without_withdrawal),
        watch_suspects(&all_bodies) + 1
    );
}

#[test]
fn statistics_use_htcds_names_and_suppress_small_cells() {
    // Six cases of the scenario's kind opened by Indonesia, each with its
    // two victims (V-001 Indonesian woman 18-24, V-002 ...), and one case
    // Cambodia opened, which Indonesia does not count as its own.
    let mut bodies = Vec::new();
    for n in 0..6 {
        let mut body = scenario::rescue_request(now().plus_seconds(n));
        if let NoticeContent::RescueRequest(r) = &mut body.content {
            r.case.case_id = lintas_core::ids::CaseId::parse(&format!("IDN-2026-{n:04}")).unwrap();
        }
        body.case_id = Some(lintas_core::ids::CaseId::parse(&format!("IDN-2026-{n:04}")).unwrap());
        body.sequence = 100 + n as u64;
        bodies.push(body);
    }
    let (cases, _) = holdings_of(&bodies).finish();
    assert_eq!(cases.len(), 6);
    let figures = statistics(&cases, &StatisticsOptions::default()).unwrap();
    let table = |name: &str| figures.tables.iter().find(|t| t.table == name).unwrap();
    assert_eq!(table("cases_by_status").total, Some(6));
    assert_eq!(table("cases_by_status").field, "cas_Status");
    assert_eq!(table("victims_by_gender").total, Some(12));
    // Every figure shown is at least 5; those under it are withheld.
    for t in &figures.tables {
        for cell in &t.cells {
            assert!(cell.count.is_none_or(|n| n >= 5), "{} {:?}", t.table, cell);
        }
    }
    let csv = figures.to_csv().unwrap();
    assert!(csv.starts_with("table,unit,field,value,count\n"), "{csv}");
    assert!(
        csv.contains("victims_by_gender,victims,prs_Gender,(total),12"),
        "{csv}"
    );
    let json = serde_json::to_value(&figures).unwrap();
    assert_eq!(json["standard"], "HTCDS v2.0");
    assert_eq!(json["min_cell"], 5);

    // At a threshold of 13 nothing about 12 victims is shown.
    let mut strict = StatisticsOptions::default();
    strict.min_cell = 13;
    let figures = statistics(&cases, &strict).unwrap();
    for t in figures.tables.iter().filter(|t| t.unit == "victims") {
        assert_eq!(t.total, None, "{}", t.table);
        assert!(t.cells.iter().all(|c| c.count.is_none()), "{}", t.table);
    }
}

/// The schema check is not vacuous: a bundle with a broken object, or a
/// broken envelope, fails it.
#[test]
fn the_schema_check_catches_what_stix_forbids() {
    let bodies = scenario::one_of_each_kind(now());
    let (cases, alerts) = holdings_of(&bodies).finish();
    let good = bundle(&me(), &cases, &alerts, StixOptions::default());
    type Breakage = (&'static str, fn(&mut Value));
    let breakages: [Breakage; 4] = [
        ("an indicator without a pattern", |b| {
            let objects = b["objects"].as_array_mut().unwrap();
            let i = objects
                .iter()
                .position(|o| o["type"] == "indicator")
                .unwrap();
            objects[i].as_object_mut().unwrap().remove("pattern");
        }),
        ("a location at latitude 100", |b| {
            let objects = b["objects"].as_array_mut().unwrap();
            let i = objects
                .iter()
                .position(|o| o["type"] == "location" && o.get("latitude").is_some())
                .unwrap();
            objects[i]["latitude"] = serde_json::json!(100.0);
        }),
        ("a created time without milliseconds' Z", |b| {
            b["objects"][0]["created"] = serde_json::json!("2026-11-29 04:00");
        }),
        ("a bundle id of another type", |b| {
            b["id"] = serde_json::json!("report--6ba7b810-9dad-51d1-80b4-00c04fd430c8");
        }),
    ];
    for (what, breakage) in breakages {
        let mut broken = good.clone();
        breakage(&mut broken);
        let caught = std::panic::catch_unwind(|| assert_valid(&broken)).is_err();
        assert!(caught, "{what} passed the schema check");
    }
}
