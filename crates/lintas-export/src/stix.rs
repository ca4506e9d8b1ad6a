//! STIX 2.1 bundles (docs/EXPORTS.md): scam compounds as infrastructure
//! located at a location, suspects as threat actors, recruitment channels
//! as identities, and the handles, advert links and financial accounts
//! they use as indicators, each marked with the TLP 2.0 level of the
//! notices it came from. Ids are UUIDv5 over what the object is, so the same
//! holdings always give the same bundle and the same handle seen in two
//! cases is one indicator.
//!
//! Victims are never exported: nothing about a victim becomes a STIX
//! object.

mod objects;
mod tlp;

use std::collections::{BTreeMap, BTreeSet};

use lintas_core::ids::AgencyId;
use lintas_core::time::Timestamp;
use lintas_core::vocab::Tlp;
use serde_json::{Map, Value, json};

use crate::holdings::{HeldAlert, HeldCase, Source};

pub use tlp::{TLP_2_EXTENSION, marking_definition, marking_id};

/// The namespace of every id Lintas derives (UUIDv5): ids are
/// `TYPE--uuid5(LINTAS_STIX_NAMESPACE, "TYPE|" + what the object is)`.
pub const LINTAS_STIX_NAMESPACE: uuid::Uuid = uuid::uuid!("15c9aa8a-5517-4d71-815c-88d94b1914e8");

/// What goes into a bundle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct StixOptions {
    /// Objects from notices marked stricter than this are left out (with
    /// the relationships that name them). Default `AMBER+STRICT`: `RED`
    /// is for named recipients and stays out unless asked for.
    pub max_tlp: Tlp,
    /// Only the exporting agency's own cases and alerts.
    pub own_only: bool,
}

impl Default for StixOptions {
    fn default() -> Self {
        StixOptions {
            max_tlp: Tlp::AmberStrict,
            own_only: false,
        }
    }
}

/// `TYPE--uuid5(namespace, "TYPE|name")`.
pub fn stix_id(kind: &str, name: &str) -> String {
    let uuid = uuid::Uuid::new_v5(&LINTAS_STIX_NAMESPACE, format!("{kind}|{name}").as_bytes());
    format!("{kind}--{uuid}")
}

/// A STIX timestamp: UTC, to the millisecond, as the specification asks
/// for `created` and `modified`.
pub fn stix_time(t: Timestamp) -> String {
    let millis = i128::from(t.unix_seconds()) * 1000 + i128::from(t.subsec_nanos() / 1_000_000);
    let Ok(at) = time::OffsetDateTime::from_unix_timestamp_nanos(millis * 1_000_000) else {
        return "1970-01-01T00:00:00.000Z".into();
    };
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second(),
        at.millisecond()
    )
}

/// One object being built: merged when two sources describe the same one.
#[derive(Debug, Clone)]
pub(crate) struct Draft {
    pub(crate) properties: Map<String, Value>,
    pub(crate) tlp: Tlp,
    pub(crate) created: Timestamp,
    pub(crate) modified: Timestamp,
    pub(crate) sources: BTreeSet<String>,
    /// Ids this object refers to (a relationship's ends): it goes when one
    /// of them is left out.
    pub(crate) refers_to: Vec<String>,
}

/// The objects of a bundle, by id.
#[derive(Debug, Default)]
pub(crate) struct Objects {
    drafts: BTreeMap<String, Draft>,
}

/// Where and when a part was recorded, and under which marking.
#[derive(Debug, Clone)]
pub(crate) struct Origin {
    pub(crate) source: Source,
    pub(crate) tlp: Tlp,
    pub(crate) first_seen: Timestamp,
    pub(crate) last_seen: Timestamp,
}

impl Objects {
    /// Adds an object (`type` and `id` in `properties`), or merges it into
    /// the one with its id: strictest marking, earliest `created`, latest
    /// `modified`, every source; the first description is kept.
    pub(crate) fn add(
        &mut self,
        id: &str,
        properties: Map<String, Value>,
        origin: &Origin,
        refers_to: Vec<String>,
    ) {
        let source = origin.source.key();
        match self.drafts.get_mut(id) {
            Some(d) => {
                d.tlp = d.tlp.max(origin.tlp);
                d.created = d.created.min(origin.first_seen);
                d.modified = d.modified.max(origin.last_seen);
                d.sources.insert(source);
            }
            None => {
                self.drafts.insert(
                    id.to_owned(),
                    Draft {
                        properties,
                        tlp: origin.tlp,
                        created: origin.first_seen,
                        modified: origin.last_seen,
                        sources: BTreeSet::from([source]),
                        refers_to,
                    },
                );
            }
        }
    }

    /// A relationship `source_ref` → `target_ref`.
    pub(crate) fn relate(&mut self, from: &str, kind: &str, to: &str, origin: &Origin) {
        let id = stix_id("relationship", &format!("{from}|{kind}|{to}"));
        let mut p = Map::new();
        p.insert("type".into(), json!("relationship"));
        p.insert("id".into(), json!(id));
        p.insert("relationship_type".into(), json!(kind));
        p.insert("source_ref".into(), json!(from));
        p.insert("target_ref".into(), json!(to));
        self.add(&id, p, origin, vec![from.to_owned(), to.to_owned()]);
    }

    fn into_bundle(self, producer: &AgencyId, max_tlp: Tlp) -> Value {
        let producer_id = stix_id("identity", &format!("agency|{producer}"));
        // Leave out what is marked above the limit, then whatever refers
        // to something left out (until nothing more goes).
        let mut kept: BTreeMap<String, Draft> = self
            .drafts
            .into_iter()
            .filter(|(_, d)| d.tlp <= max_tlp)
            .collect();
        loop {
            let gone: Vec<String> = kept
                .iter()
                .filter(|(_, d)| d.refers_to.iter().any(|r| !kept.contains_key(r)))
                .map(|(id, _)| id.clone())
                .collect();
            if gone.is_empty() {
                break;
            }
            for id in gone {
                kept.remove(&id);
            }
        }
        let mut levels = BTreeSet::new();
        let mut earliest: Option<Timestamp> = None;
        let mut objects: Vec<Value> = Vec::with_capacity(kept.len() + 6);
        for (_, d) in kept {
            levels.insert(d.tlp);
            earliest = Some(earliest.map_or(d.created, |e| e.min(d.created)));
            let mut p = d.properties;
            p.insert("spec_version".into(), json!("2.1"));
            p.insert("created_by_ref".into(), json!(producer_id));
            p.insert("created".into(), json!(stix_time(d.created)));
            p.insert("modified".into(), json!(stix_time(d.modified)));
            p.insert("object_marking_refs".into(), json!([marking_id(d.tlp)]));
            let references: Vec<Value> = d
                .sources
                .iter()
                .map(|s| json!({"source_name": "lintas", "external_id": s}))
                .collect();
            p.insert("external_references".into(), Value::Array(references));
            objects.push(Value::Object(p));
        }
        // The producer's identity dates from its first object (the epoch
        // for an empty bundle), so that it too is the same every time.
        let at = earliest.map_or_else(|| "1970-01-01T00:00:00.000Z".to_owned(), stix_time);
        objects.push(json!({
            "type": "identity",
            "spec_version": "2.1",
            "id": producer_id,
            "created": at,
            "modified": at,
            "name": producer.to_string(),
            "identity_class": "organization",
            "description": format!("The Lintas node of agency {producer}, which exported this bundle."),
        }));
        for level in levels {
            objects.push(marking_definition(level));
        }
        objects.sort_by(|a, b| a["id"].as_str().cmp(&b["id"].as_str()));
        let ids: Vec<&str> = objects.iter().filter_map(|o| o["id"].as_str()).collect();
        json!({
            "type": "bundle",
            "id": stix_id("bundle", &ids.join(",")),
            "objects": objects,
        })
    }
}

/// The STIX 2.1 bundle of what a node holds, exported by `producer`.
///
/// The same holdings and options always give the same bytes (objects in id
/// order, ids derived from content, times from the notices).
pub fn bundle(
    producer: &AgencyId,
    cases: &[HeldCase],
    alerts: &[HeldAlert],
    options: StixOptions,
) -> Value {
    let mut objects = Objects::default();
    for held in cases.iter().filter(|c| c.own || !options.own_only) {
        let origin = Origin {
            source: Source::Case {
                agency: held.case.originating_agency.clone(),
                case: held.case.case_id.clone(),
            },
            tlp: held.tlp,
            first_seen: held.first_seen,
            last_seen: held.last_seen,
        };
        let case = &held.case;
        objects::add_parts(
            &mut objects,
            &origin,
            &case.compounds,
            &case.suspects,
            &case.recruitment,
            &case.financial_indicators,
        );
    }
    for alert in alerts.iter().filter(|a| a.own || !options.own_only) {
        let origin = Origin {
            source: alert.source.clone(),
            tlp: alert.tlp,
            first_seen: alert.created_at,
            last_seen: alert.created_at,
        };
        objects::add_parts(
            &mut objects,
            &origin,
            &alert.compounds,
            &alert.suspects,
            &alert.recruitment,
            &alert.financial_indicators,
        );
    }
    objects.into_bundle(producer, options.max_tlp)
}
