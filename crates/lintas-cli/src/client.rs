//! The case-system commands: submit, tail, timeline, over the agency API
//! with mutual TLS.

use std::path::{Path, PathBuf};

use clap::Args;
use lintas_core::notice::NoticeBody;
use lintas_core::pb;
use lintas_core::signing::SignedNotice;
use lintas_grpc::pki::PemPair;
use lintas_grpc::tls::TlsMaterial;
use tokio_stream::StreamExt;
use tonic::transport::Endpoint;

use crate::Error;

/// How to reach a node's agency API: a client profile, or the flags (which
/// override the profile's values).
#[derive(Debug, Args)]
pub(crate) struct Connection {
    /// A client profile: a file, or a name looked up in LINTAS_PROFILE_DIR
    /// (default ~/.config/lintas/profiles); otherwise LINTAS_PROFILE.
    /// `lintas dev-setup` writes one per case system.
    #[arg(long)]
    profile: Option<String>,
    /// The node, e.g. https://127.0.0.1:50051.
    #[arg(long)]
    node: Option<String>,
    /// The node's TLS name (its roster tls_identity).
    #[arg(long)]
    server_name: Option<String>,
    /// CA certificate (PEM).
    #[arg(long)]
    ca: Option<PathBuf>,
    /// This case system's certificate (PEM).
    #[arg(long)]
    cert: Option<PathBuf>,
    /// This case system's key (PEM).
    #[arg(long)]
    key: Option<PathBuf>,
    /// The officer on whose behalf this runs (a case-system user id,
    /// logged by the node for every read of personal data); otherwise the
    /// profile's, LINTAS_OFFICER, or the login name.
    #[arg(long)]
    officer: Option<String>,
}

impl Connection {
    /// The connection a client profile describes (a name or a path).
    pub(crate) fn for_profile(profile: &str) -> Self {
        Connection {
            profile: Some(profile.to_owned()),
            node: None,
            server_name: None,
            ca: None,
            cert: None,
            key: None,
            officer: None,
        }
    }

    /// The profile's values under the flags given.
    fn resolve(&self) -> Result<crate::profile::Profile, Error> {
        let name = self.profile.clone().or_else(|| {
            std::env::var("LINTAS_PROFILE")
                .ok()
                .filter(|p| !p.is_empty())
        });
        let mut merged = match &name {
            Some(name) => crate::profile::load(name)?,
            None => crate::profile::Profile::default(),
        };
        merged.node = self.node.clone().or(merged.node);
        merged.server_name = self.server_name.clone().or(merged.server_name);
        merged.ca = self.ca.clone().or(merged.ca);
        merged.cert = self.cert.clone().or(merged.cert);
        merged.key = self.key.clone().or(merged.key);
        merged.officer = self.officer.clone().or(merged.officer);
        Ok(merged)
    }
}

/// A value the connection needs, from the flag or the profile.
fn needed<T>(value: Option<T>, flag: &str) -> Result<T, Error> {
    value.ok_or_else(|| {
        format!(
            "--{flag} is required (or --profile NAME, or LINTAS_PROFILE, naming a client profile)"
        )
        .into()
    })
}

fn read(path: &Path) -> Result<String, Error> {
    std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()).into())
}

/// Writes `bytes` to `out` through a `.partial` file beside it, renamed
/// when complete: a broken run leaves no partial file under the name.
pub(crate) fn write_atomically(out: &Path, bytes: &[u8]) -> Result<(), Error> {
    let mut name = out
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(".partial");
    let partial: PathBuf = out.with_file_name(name);
    std::fs::write(&partial, bytes)
        .map_err(|e| format!("cannot write {}: {e}", partial.display()))?;
    std::fs::rename(&partial, out).map_err(|e| {
        format!(
            "cannot move {} to {}: {e}",
            partial.display(),
            out.display()
        )
    })?;
    Ok(())
}

/// Receives a file streamed in pieces, with progress: `parts` gives each
/// piece's bytes, and (in the first) the total size and a count the node
/// reports with it. Returns the file and that count.
pub(crate) async fn download<P>(
    pieces: &mut tonic::Streaming<P>,
    label: &str,
    parts: impl Fn(P) -> (Vec<u8>, u64, u32),
) -> Result<(Vec<u8>, u32), Error> {
    let mut file = Vec::new();
    let mut progress: Option<crate::progress::Progress> = None;
    let mut count = 0;
    while let Some(piece) = pieces.next().await {
        let (data, total, n) = parts(piece.map_err(status)?);
        let bar = progress.get_or_insert_with(|| {
            count = n;
            file.reserve(usize::try_from(total).unwrap_or(0).min(1 << 30));
            crate::progress::Progress::new(label, total, "bytes")
        });
        bar.advance(data.len() as u64);
        file.extend_from_slice(&data);
    }
    if let Some(bar) = progress {
        bar.finish();
    }
    Ok((file, count))
}

pub(crate) async fn connect(conn: &Connection) -> Result<lintas_grpc::AgencyClient, Error> {
    let conn = conn.resolve()?;
    let node = needed(conn.node, "node")?;
    let server_name = needed(conn.server_name, "server-name")?;
    let (ca, cert, key) = (
        needed(conn.ca, "ca")?,
        needed(conn.cert, "cert")?,
        needed(conn.key, "key")?,
    );
    let officer = conn
        .officer
        .or_else(|| std::env::var("LINTAS_OFFICER").ok())
        .or_else(|| std::env::var("USER").ok())
        .ok_or("--officer is required (or LINTAS_OFFICER, or a login name in USER)")?;
    let officer =
        lintas_grpc::Officer::new(&officer).map_err(|e| format!("--officer: {}", e.problem))?;
    let tls = TlsMaterial {
        ca_pem: read(&ca)?,
        identity: PemPair {
            cert: read(&cert)?,
            key: read(&key)?,
        },
    };
    let channel = Endpoint::from_shared(node.clone())?
        .tls_config(tls.client_config(&server_name))?
        .connect()
        .await
        .map_err(|e| format!("cannot connect to {node}: {e}"))?;
    Ok(lintas_grpc::agency_client(channel, officer))
}

pub(crate) fn status(e: tonic::Status) -> Error {
    let field = e
        .metadata()
        .get("lintas-field")
        .and_then(|v| v.to_str().ok())
        .map(|f| format!(" [field {f}]"))
        .unwrap_or_default();
    let reason = e
        .metadata()
        .get("lintas-reason")
        .and_then(|v| v.to_str().ok())
        .map(|r| format!(" ({r})"))
        .unwrap_or_default();
    format!("{:?}{reason}: {}{field}", e.code(), e.message()).into()
}

pub(crate) async fn submit(
    conn: &Connection,
    notice: &Path,
    rebase_times: bool,
    idempotency_key: Option<String>,
) -> Result<(), Error> {
    let text = read(notice)?;
    let mut json: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", notice.display()))?;
    if rebase_times {
        rebase(&mut json, lintas_core::time::Timestamp::now())
            .map_err(|e| format!("{}: {e}", notice.display()))?;
    }
    let body: NoticeBody =
        serde_json::from_value(json).map_err(|e| format!("{}: {e}", notice.display()))?;
    let mut draft = body.to_wire();
    draft.sender.clear();
    draft.sequence = 0;
    let mut client = connect(conn).await?;
    let response = client
        .submit_notice(pb::SubmitNoticeRequest {
            draft: Some(draft),
            idempotency_key: idempotency_key.unwrap_or_default(),
        })
        .await
        .map_err(status)?
        .into_inner();
    println!(
        "{}",
        serde_json::json!({
            "notice_id": hex::encode(&response.notice_id),
            "sequence": response.sequence,
        })
    );
    Ok(())
}

pub(crate) async fn tail(
    conn: &Connection,
    after: u64,
    limit: Option<usize>,
    json: bool,
) -> Result<(), Error> {
    let mut client = connect(conn).await?;
    let mut stream = client
        .subscribe_inbox(pb::SubscribeInboxRequest {
            after_cursor: after,
        })
        .await
        .map_err(status)?
        .into_inner();
    let mut seen = 0;
    while let Some(item) = stream.next().await {
        let item = item.map_err(status)?;
        let envelope = SignedNotice::try_from(item.notice.ok_or("inbox item without notice")?)?;
        if json {
            // The node verified it on arrival; decoding here is for display.
            let (id, body) = envelope.open_body()?;
            println!(
                "{}",
                serde_json::json!({ "cursor": item.cursor, "notice_id": id, "body": body })
            );
        } else {
            println!("{}", crate::display::inbox_item(item.cursor, &envelope));
        }
        seen += 1;
        if limit.is_some_and(|l| seen >= l) {
            break;
        }
    }
    Ok(())
}

pub(crate) async fn timeline(conn: &Connection, case: &str, json: bool) -> Result<(), Error> {
    let mut client = connect(conn).await?;
    let mut page_token = Vec::new();
    loop {
        let response = client
            .get_case_timeline(pb::GetCaseTimelineRequest {
                case_id: case.to_owned(),
                page_size: 0,
                page_token,
            })
            .await
            .map_err(status)?
            .into_inner();
        for entry in response.entries {
            if !json {
                println!("{}", crate::display::timeline_entry(entry));
                continue;
            }
            let mut receipts: Vec<lintas_core::receipt::Receipt> = entry
                .receipts
                .into_iter()
                .filter_map(|r| lintas_core::receipt::SignedReceipt::try_from(r).ok())
                .filter_map(|r| r.receipt_unverified().ok())
                .collect();
            // In the order they happen: by time, then lifecycle order.
            receipts.sort_by_key(|r| (r.at, r.stage.to_wire()));
            let receipts: Vec<serde_json::Value> = receipts
                .into_iter()
                .map(
                    |r| serde_json::json!({ "receiver": r.receiver, "stage": r.stage, "at": r.at }),
                )
                .collect();
            println!(
                "{}",
                serde_json::json!({
                    "notice_id": hex::encode(&entry.notice_id),
                    "kind": pb::NoticeKind::try_from(entry.kind).map(|k| k.as_str_name()).unwrap_or("?"),
                    "direction": pb::Direction::try_from(entry.direction).map(|d| d.as_str_name()).unwrap_or("?"),
                    "sender": entry.sender,
                    "recipients": entry.recipients,
                    "receipts": receipts,
                })
            );
        }
        if response.next_page_token.is_empty() {
            return Ok(());
        }
        page_token = response.next_page_token;
    }
}

pub(crate) async fn install_roster(conn: &Connection, path: &Path) -> Result<(), Error> {
    let signed = crate::roster::read(path)?;
    let mut client = connect(conn).await?;
    let response = client
        .install_roster(pb::InstallRosterRequest {
            roster: Some(signed.into()),
        })
        .await
        .map_err(status)?
        .into_inner();
    println!(
        "{}",
        serde_json::json!({ "roster_version": response.version })
    );
    Ok(())
}

/// Treats a notice (as JSON) as a template: moves every time in it (RFC 3339
/// strings: created_at, expires_at, deadlines, event times, watch periods)
/// by the same amount, so that created_at is `now` and every time keeps its
/// distance from it. Dates (birth, document) are not times and stay.
pub(crate) fn rebase(
    json: &mut serde_json::Value,
    now: lintas_core::time::Timestamp,
) -> Result<(), Error> {
    use lintas_core::time::Timestamp;
    let created = json
        .get("created_at")
        .and_then(|v| v.as_str())
        .ok_or("the notice has no created_at")?;
    let shift = now.unix_seconds() - Timestamp::parse(created)?.unix_seconds();
    fn walk(value: &mut serde_json::Value, shift: i64) {
        match value {
            serde_json::Value::String(text) => {
                if text.len() >= 20
                    && text.as_bytes().get(10) == Some(&b'T')
                    && let Ok(t) = Timestamp::parse(text)
                {
                    *text = t.plus_seconds(shift).to_string();
                }
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(|v| walk(v, shift)),
            serde_json::Value::Object(fields) => fields.values_mut().for_each(|v| walk(v, shift)),
            _ => {}
        }
    }
    walk(json, shift);
    Ok(())
}

pub(crate) async fn dead_letters(conn: &Connection) -> Result<(), Error> {
    let mut client = connect(conn).await?;
    let mut page_token = Vec::new();
    loop {
        let page = client
            .list_dead_letters(pb::ListDeadLettersRequest {
                page_size: 0,
                page_token,
            })
            .await
            .map_err(status)?
            .into_inner();
        for d in page.dead_letters {
            println!(
                "{}",
                serde_json::json!({
                    "seq": d.seq,
                    "recipient": d.recipient,
                    "case_id": d.case_id,
                    "notice_id": hex::encode(&d.notice_id),
                    "error": d.error,
                    "refused_at": d.refused_at.map(|t| t.seconds),
                })
            );
        }
        if page.next_page_token.is_empty() {
            return Ok(());
        }
        page_token = page.next_page_token;
    }
}

pub(crate) async fn access_log(conn: &Connection, mut after: u64) -> Result<(), Error> {
    let mut client = connect(conn).await?;
    loop {
        let records = client
            .list_access_log(pb::ListAccessLogRequest {
                after,
                page_size: 1000,
            })
            .await
            .map_err(status)?
            .into_inner()
            .records;
        let Some(last) = records.last() else {
            return Ok(());
        };
        after = last.number;
        for r in records {
            let at =
                r.at.and_then(|t| lintas_core::time::Timestamp::from_unix(t.seconds).ok())
                    .map(|t| t.to_string());
            println!(
                "{}",
                serde_json::json!({
                    "number": r.number,
                    "at": at,
                    "officer": r.officer,
                    "case_system": r.case_system,
                    "call": r.call,
                    "case_id": r.case_id,
                    "notices": r.notice_ids.iter().map(hex::encode).collect::<Vec<_>>(),
                    "attachments": r.attachments.iter().map(hex::encode).collect::<Vec<_>>(),
                })
            );
        }
    }
}

pub(crate) async fn erasure_status(conn: &Connection, notice: &str) -> Result<(), Error> {
    let id = lintas_core::ids::NoticeId::parse(notice)
        .map_err(|e| format!("--notice: {}", e.problem))?;
    let mut client = connect(conn).await?;
    let holders = client
        .get_erasure_status(pb::GetErasureStatusRequest {
            notice_id: id.as_bytes().to_vec(),
        })
        .await
        .map_err(status)?
        .into_inner()
        .holders;
    for h in holders {
        println!(
            "{}",
            serde_json::json!({ "holder": h.holder, "confirmed": h.confirmed })
        );
    }
    Ok(())
}

pub(crate) async fn erase_persons(
    conn: &Connection,
    case: String,
    persons: Vec<String>,
    reason: &str,
) -> Result<(), Error> {
    let reason = lintas_core::text::Text::en(reason);
    let mut client = connect(conn).await?;
    let erasures = client
        .erase_persons(pb::ErasePersonsRequest {
            case_id: case,
            persons,
            reason: Some(reason.into()),
        })
        .await
        .map_err(status)?
        .into_inner()
        .erasures;
    for e in erasures {
        println!(
            "{}",
            serde_json::json!({
                "notice": hex::encode(&e.notice_id),
                "withdrawal": hex::encode(&e.withdrawal_id),
            })
        );
    }
    Ok(())
}

pub(crate) async fn find_identifier(
    conn: &Connection,
    kind: &str,
    scope: &str,
    value: &str,
    agencies: Vec<String>,
) -> Result<(), Error> {
    use lintas_core::matching::{Identifier, kind_token};
    use lintas_core::vocab::IdentifierKind;
    let kind = IdentifierKind::ALL
        .iter()
        .copied()
        .find(|k| kind_token(*k) == kind)
        .ok_or_else(|| {
            format!(
                "--kind: expected phone, handle, wallet, bank, ewallet or document, found {kind:?}"
            )
        })?;
    // Checked here too, so that a typing mistake is named by its flag.
    Identifier::parse(kind, scope, value).map_err(|e| {
        format!(
            "--{}: {}",
            if e.path == "scope" { "scope" } else { "value" },
            e.problem
        )
    })?;
    let mut client = connect(conn).await?;
    let answer = client
        .find_identifier(pb::FindIdentifierRequest {
            kind: kind.to_wire(),
            scope: scope.to_owned(),
            value: value.to_owned(),
            agencies,
        })
        .await
        .map_err(status)?
        .into_inner();
    for a in answer.answers {
        let outcome = pb::MatchOutcome::try_from(a.outcome)
            .map(|o| {
                o.as_str_name()
                    .trim_start_matches("MATCH_OUTCOME_")
                    .to_ascii_lowercase()
            })
            .unwrap_or_else(|_| a.outcome.to_string());
        let mut line = serde_json::json!({
            "agency": a.agency,
            "identifier": answer.normal_form,
            "outcome": outcome,
        });
        if let Some(c) = a.contact {
            line["contact"] = serde_json::json!({
                "name": c.name, "phone": c.phone, "email": c.email,
                "around_the_clock": c.around_the_clock,
            });
        }
        if !a.reason.is_empty() {
            line["reason"] = a.reason.into();
        }
        if !a.message.is_empty() {
            line["message"] = a.message.into();
        }
        println!("{line}");
    }
    Ok(())
}

pub(crate) async fn log_alarms(conn: &Connection) -> Result<(), Error> {
    use lintas_core::transparency::checkpoint::SignedCheckpoint;
    use prost::Message;
    let mut client = connect(conn).await?;
    let alarms = client
        .list_log_alarms(pb::ListLogAlarmsRequest {})
        .await
        .map_err(status)?
        .into_inner()
        .alarms;
    let describe = |c: &Option<pb::SignedLogCheckpoint>| {
        c.clone()
            .and_then(|c| SignedCheckpoint::try_from(c).ok())
            .and_then(|c| c.checkpoint_unverified().ok())
            .map(|c| serde_json::json!({"size": c.size, "root": hex::encode(c.root), "at": c.at.to_string()}))
    };
    for a in alarms {
        println!(
            "{}",
            serde_json::json!({
                "origin": a.origin,
                "shown_by": a.shown_by,
                "detail": a.detail,
                "detected_at": a.detected_at.map(|t| t.seconds),
                "earlier": describe(&a.earlier),
                "later": describe(&a.later),
                "evidence_hex": hex::encode(a.encode_to_vec()),
            })
        );
    }
    Ok(())
}

pub(crate) async fn dead_letter(conn: &Connection, seq: u64, retry: bool) -> Result<(), Error> {
    let mut client = connect(conn).await?;
    let request = pb::DeadLetterRequest { seq };
    if retry {
        client.retry_dead_letter(request).await.map_err(status)?;
    } else {
        client.drop_dead_letter(request).await.map_err(status)?;
    }
    let done = if retry { "queued again" } else { "dropped" };
    println!("{}", serde_json::json!({ "seq": seq, "done": done }));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_stays_valid_when_rebased_to_a_later_day() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/notices");
        let later = lintas_core::time::Timestamp::now().plus_seconds(90 * 86_400);
        let mut seen = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let mut json: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
            rebase(&mut json, later).unwrap();
            let body: NoticeBody = serde_json::from_value(json).unwrap();
            assert_eq!(body.created_at.unix_seconds(), later.unix_seconds());
            let key = lintas_testkit::world::agency_key(body.sender.as_str());
            lintas_core::signing::SignedNotice::sign(&body, &key)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            seen += 1;
        }
        assert!(seen >= 19);
    }
}
