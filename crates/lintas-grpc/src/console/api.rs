//! The console's JSON API: what the page shows, read from the engine.
//! Every answer is a JSON object; a failure is `{"error": "..."}` with a
//! status code that says whose fault it is.

use std::collections::BTreeMap;

use axum::Json;
use axum::Router;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use lintas_core::case::Case;
use lintas_core::ids::{AgencyId, CaseId};
use lintas_core::notice::{Concerns, NoticeContent};
use lintas_core::place::Location;
use lintas_core::receipt::furthest_stages;
use lintas_core::time::Timestamp;
use lintas_core::vocab::{NoticeKind, StateRole};
use lintas_node::{Engine, REFUSAL_BUCKET_SECONDS, Refusal};
use serde_json::{Value, json};

/// Keys that expire within this many days are listed as about to.
const KEY_WARNING_DAYS: i64 = 30;

pub(super) fn routes(engine: Engine) -> Router {
    let e = engine.clone();
    let overview_engine = e.clone();
    let letters = e.clone();
    let retry = e.clone();
    let drop_engine = e.clone();
    let overdue_engine = e.clone();
    Router::new()
        .route(
            "/overview",
            axum::routing::get(move || {
                let engine = overview_engine.clone();
                async move { blocking(move || overview(&engine)).await }
            }),
        )
        .route(
            "/dead-letters",
            axum::routing::get(move || {
                let engine = letters.clone();
                async move { blocking(move || dead_letters(&engine)).await }
            }),
        )
        .route(
            "/dead-letters/{seq}/retry",
            axum::routing::post(move |Path(seq): Path<u64>| {
                let engine = retry.clone();
                async move {
                    answer(
                        engine
                            .retry_dead_letter(seq)
                            .await
                            .map(|()| json!({ "retried": seq })),
                    )
                }
            }),
        )
        .route(
            "/dead-letters/{seq}/drop",
            axum::routing::post(move |Path(seq): Path<u64>| {
                let engine = drop_engine.clone();
                async move {
                    answer(
                        engine
                            .drop_dead_letter(seq)
                            .await
                            .map(|()| json!({ "dropped": seq })),
                    )
                }
            }),
        )
        .route(
            "/overdue",
            axum::routing::get(move || {
                let engine = overdue_engine.clone();
                async move { blocking(move || overdue(&engine)).await }
            }),
        )
        .route(
            "/cases/{case}",
            axum::routing::get(move |Path(case): Path<String>| {
                let engine = engine.clone();
                async move {
                    match CaseId::parse(&case) {
                        Ok(case) => blocking(move || case_view(&engine, &case)).await,
                        Err(e) => failure(StatusCode::BAD_REQUEST, &format!("case: {}", e.problem)),
                    }
                }
            }),
        )
}

/// Runs a store read off the async threads.
async fn blocking(read: impl FnOnce() -> Result<Value, Refusal> + Send + 'static) -> Response {
    match tokio::task::spawn_blocking(read).await {
        Ok(result) => answer(result),
        Err(e) => failure(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    }
}

fn answer(result: Result<Value, Refusal>) -> Response {
    match result {
        Ok(value) => Json(value).into_response(),
        Err(Refusal::NotFound(what)) => failure(StatusCode::NOT_FOUND, &what),
        Err(Refusal::Invalid(e)) => failure(StatusCode::BAD_REQUEST, &e.to_string()),
        Err(other) => failure(StatusCode::INTERNAL_SERVER_ERROR, &other.to_string()),
    }
}

fn failure(code: StatusCode, message: &str) -> Response {
    (code, Json(json!({ "error": message }))).into_response()
}

fn overview(engine: &Engine) -> Result<Value, Refusal> {
    let now = Timestamp::now();
    let me = engine.agency().clone();
    let (roster, peers) = {
        let trusted = engine.roster();
        let roster = trusted.roster();
        let soon = now.plus_seconds(KEY_WARNING_DAYS * 86_400);
        let mut expiring = Vec::new();
        for agency in roster.agencies.values() {
            for key in &agency.keys {
                if key.revocation.is_none() && key.valid_until <= soon {
                    expiring.push(json!({
                        "agency": agency.agency_id,
                        "key_id": key.key_id.as_str(),
                        "valid_until": key.valid_until,
                        "expired": key.valid_until <= now,
                    }));
                }
            }
        }
        let summary = json!({
            "version": roster.version,
            "issued_at": roster.issued_at,
            "expires_at": roster.expires_at,
            "expires_in_days": (roster.expires_at.unix_seconds() - now.unix_seconds()) / 86_400,
            "agencies": roster.agencies.len(),
            "keys_expiring": expiring,
        });
        let peers: Vec<(AgencyId, String, String)> = roster
            .agencies
            .values()
            .filter(|a| a.agency_id != me)
            .map(|a| (a.agency_id.clone(), a.name.clone(), a.endpoint.clone()))
            .collect();
        (summary, peers)
    };
    let peers: Vec<Value> = peers
        .into_iter()
        .map(|(id, name, endpoint)| {
            let status = engine.peer_status(&id);
            let state = if status.failures == 0 {
                "reachable"
            } else {
                "backing off"
            };
            let by_priority =
                |rank: u32| status.queued_by_priority.get(&rank).copied().unwrap_or(0);
            json!({
                "agency": id,
                "name": name,
                "endpoint": endpoint,
                "state": state,
                "queued": status.queued,
                "queued_by_priority": {
                    "urgent": by_priority(1),
                    "high": by_priority(2),
                    "routine": by_priority(3),
                },
                "in_flight": status.in_flight,
                "failures": status.failures,
                "last_answer": status.last_answer,
                "round_trip_ms": status.round_trip.map(|d| d.as_secs_f64() * 1000.0),
            })
        })
        .collect();
    let metrics = engine.metrics();
    let counts = metrics.counts();
    let refusals: BTreeMap<&str, u64> = metrics.refusals().into_iter().collect();
    let refusal_history: Vec<Value> = metrics
        .refusals_over_time()
        .into_iter()
        .map(|b| json!({ "start": b.start, "counts": b.counts }))
        .collect();
    let receipts: Vec<Value> = metrics
        .receipts()
        .into_iter()
        .map(|r| json!({ "direction": r.direction, "stage": r.stage, "count": r.count }))
        .collect();
    let log_size = engine.store().log_size()?;
    let cosigned = engine
        .cosigned_checkpoint()?
        .map(|(size, c)| json!({ "size": size, "cosignatures": c.cosignatures.len() }));
    let alarms: Vec<Value> = engine
        .log_alarms()?
        .into_iter()
        .map(|a| json!({ "origin": a.origin, "detected_at": a.detected_at, "detail": a.detail }))
        .collect();
    Ok(json!({
        "agency": me,
        "now": now,
        "roster": roster,
        "peers": peers,
        "outbox": engine.outbox_len(),
        "counts": {
            "accepted": counts.accepted,
            "duplicates": counts.duplicates,
            "sent": counts.sent,
            "delivered": counts.delivered,
            "refused_by_peers": counts.refused,
            "dead_letters": counts.dead_letters,
            "unreachable": counts.failed,
        },
        "refusals": refusals,
        "refusal_history": {
            "bucket_seconds": REFUSAL_BUCKET_SECONDS,
            "buckets": refusal_history,
        },
        "receipts": receipts,
        "dead_letters": engine.dead_letters()?.len(),
        "overdue": engine.overdue(now)?.len(),
        "log": { "size": log_size, "cosigned": cosigned, "alarms": alarms },
    }))
}

fn dead_letters(engine: &Engine) -> Result<Value, Refusal> {
    let letters: Vec<Value> = engine
        .dead_letters()?
        .into_iter()
        .map(|d| {
            json!({
                "seq": d.seq,
                "recipient": d.recipient,
                "case_id": d.case_id,
                "notice_id": d.notice_id.map(|id| id.to_string()),
                "error": d.error,
                "refused_at": Timestamp::from_unix(d.refused_at_ms / 1000).ok(),
            })
        })
        .collect();
    Ok(json!({ "dead_letters": letters }))
}

fn overdue(engine: &Engine) -> Result<Value, Refusal> {
    let items: Vec<Value> = engine
        .overdue(Timestamp::now())?
        .into_iter()
        .map(|o| {
            json!({
                "notice_id": o.id.to_string(),
                "kind": NoticeKind::from_wire(o.notice.kind).map(NoticeKind::label).ok(),
                "case_id": o.notice.case_id,
                "sender": o.notice.sender,
                "deadline": Timestamp::from_unix(o.notice.response_deadline).ok(),
                "awaiting": o.awaiting,
            })
        })
        .collect();
    Ok(json!({ "overdue": items }))
}

/// A case's timeline as this node holds it, who holds what stage of each
/// notice, and the places to draw: the states of its route, its
/// compounds and the checkpoints watched.
fn case_view(engine: &Engine, case: &CaseId) -> Result<Value, Refusal> {
    let entries = engine.case_timeline(case)?;
    if entries.is_empty() {
        return Err(Refusal::NotFound(format!(
            "this node holds no notice of case {case}"
        )));
    }
    let mut timeline = Vec::new();
    let mut record: Option<Case> = None;
    let mut places: BTreeMap<String, Value> = BTreeMap::new();
    for entry in entries {
        let receipts: Vec<_> = entry
            .receipts
            .iter()
            .filter_map(|r| r.receipt_unverified().ok())
            .collect();
        let stages: Vec<Value> = furthest_stages(&receipts)
            .into_iter()
            .map(
                |(agency, stage, at)| json!({ "agency": agency, "stage": stage.label(), "at": at }),
            )
            .collect();
        let body = entry.envelope.open_body().ok().map(|(_, b)| b);
        if let Some(body) = &body {
            match &body.content {
                NoticeContent::RescueRequest(r) => record = Some(r.case.clone()),
                NoticeContent::CaseUpdate(u) => record = Some(u.case.clone()),
                NoticeContent::CompoundAlert(a) => {
                    place(
                        &mut places,
                        "compound",
                        &a.compound.name,
                        &a.compound.location,
                    );
                }
                NoticeContent::TransitWatchRequest(t) => {
                    for c in &t.checkpoints {
                        place(&mut places, "checkpoint", &c.name, &c.location);
                    }
                }
                _ => {}
            }
        }
        timeline.push(json!({
            "notice_id": entry.id.to_string(),
            "kind": NoticeKind::from_wire(entry.notice.kind).map(NoticeKind::label).ok(),
            "direction": if entry.notice.direction == lintas_store::Direction::Sent as i32 { "sent" } else { "received" },
            "sender": entry.notice.sender,
            "recipients": entry.notice.recipients,
            "created_at": Timestamp::from_unix(entry.notice.created_at).ok(),
            "concerns": body.as_ref().map(|b| Concerns::of(&b.content)),
            "stages": stages,
        }));
    }
    let mut route = json!({ "origin": [], "transit": [], "destination": [] });
    if let Some(case) = &record {
        for compound in &case.compounds {
            place(&mut places, "compound", &compound.name, &compound.location);
        }
        for (role, key) in [
            (StateRole::Origin, "origin"),
            (StateRole::Transit, "transit"),
            (StateRole::Destination, "destination"),
        ] {
            route[key] = json!(
                case.states_in_role(role)
                    .map(|s| s.code())
                    .collect::<Vec<_>>()
            );
        }
    }
    Ok(json!({
        "case_id": case.to_string(),
        "status": record.as_ref().map(|c| c.status.label()),
        "timeline": timeline,
        "route": route,
        "places": places.into_values().collect::<Vec<_>>(),
    }))
}

/// A place to draw: a compound or checkpoint, with its coordinates when
/// known (else only its country).
fn place(places: &mut BTreeMap<String, Value>, kind: &str, name: &str, at: &Location) {
    places.insert(
        format!("{kind}|{name}"),
        json!({
            "kind": kind,
            "name": name,
            "country": at.country.as_str(),
            "locality": at.locality,
            "lat": at.point.map(|p| p.latitude),
            "lon": at.point.map(|p| p.longitude),
        }),
    );
}
