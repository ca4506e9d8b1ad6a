//! `lintas offline export | import`: bundles for a peer without a link
//! (docs/PROTOCOL.md section 12), through the node's agency API, with
//! progress on stderr.

use std::path::Path;

use lintas_core::pb;
use tokio_stream::StreamExt;

use crate::Error;
use crate::client::{Connection, connect, download, status, write_atomically};
use crate::progress::Progress;

/// Pieces a file is uploaded in.
const PIECE_BYTES: usize = 256 * 1024;

/// Writes what waits in the node's outbox for `peer` into `out`.
pub(crate) async fn export(conn: &Connection, peer: &str, out: &Path) -> Result<(), Error> {
    let mut client = connect(conn).await?;
    let mut pieces = client
        .export_offline(pb::ExportOfflineRequest {
            peer: peer.to_owned(),
        })
        .await
        .map_err(status)?
        .into_inner();
    let (file, items) = download(&mut pieces, "offline bundle", |p| {
        (p.data, p.total_bytes, p.items)
    })
    .await?;
    write_atomically(out, &file)?;
    println!(
        "{}",
        serde_json::json!({
            "peer": peer,
            "file": out.display().to_string(),
            "items": items,
            "bytes": file.len(),
        })
    );
    Ok(())
}

/// Imports the bundle in `file` on the node and writes the reply for the
/// peer into `reply`.
pub(crate) async fn import(conn: &Connection, file: &Path, reply: &Path) -> Result<(), Error> {
    let bytes = std::fs::read(file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    let total = bytes.len() as u64;
    let upload: Vec<pb::OfflinePiece> = bytes
        .chunks(PIECE_BYTES)
        .enumerate()
        .map(|(i, data)| pb::OfflinePiece {
            data: data.to_vec(),
            total_bytes: if i == 0 { total } else { 0 },
            items: 0,
        })
        .collect();
    let mut client = connect(conn).await?;
    let mut events = client
        .import_offline(tokio_stream::iter(upload))
        .await
        .map_err(status)?
        .into_inner();
    let mut progress: Option<Progress> = None;
    let mut summary = None;
    let mut answer = Vec::new();
    while let Some(event) = events.next().await {
        match event.map_err(status)?.event {
            Some(pb::import_offline_event::Event::Progress(p)) => {
                let bar = progress.get_or_insert_with(|| Progress::new("import", p.total, "items"));
                bar.advance(p.done.saturating_sub(bar.done()));
            }
            Some(pb::import_offline_event::Event::Summary(s)) => {
                if let Some(bar) = progress.take() {
                    bar.finish();
                }
                summary = Some(s);
            }
            Some(pb::import_offline_event::Event::Reply(data)) => answer.extend_from_slice(&data),
            None => {}
        }
    }
    let summary = summary.ok_or("the node ended the import without a summary")?;
    write_atomically(reply, &answer)?;
    println!(
        "{}",
        serde_json::json!({
            "from": summary.from,
            "accepted": summary.accepted,
            "duplicates": summary.duplicates,
            "receipts": summary.receipts,
            "refused": summary.refused,
            "answers_applied": summary.answers_applied,
            "reply": reply.display().to_string(),
            "reply_items": summary.reply_items,
            "reply_answers": summary.reply_answers,
        })
    );
    Ok(())
}
