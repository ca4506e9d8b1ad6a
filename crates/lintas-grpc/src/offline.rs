//! The agency API's offline bundle calls (docs/PROTOCOL.md section 12):
//! export what waits for a peer, and import a peer's bundle with progress
//! and the reply streamed back. Thin: the engine decides.

use std::pin::Pin;
use std::sync::Arc;

use lintas_core::ids::AgencyId;
use lintas_core::pb as wire;
use lintas_core::time::Timestamp;
use tokio_stream::{Stream, StreamExt};
use tonic::{Status, Streaming};

use crate::state::NodeState;
use crate::status;

/// Pieces files are streamed in.
pub(crate) const PIECE_BYTES: usize = 256 * 1024;

/// An offline bundle, piece by piece.
pub(crate) type OfflineStream =
    Pin<Box<dyn Stream<Item = Result<wire::OfflinePiece, Status>> + Send>>;

/// An import's progress, summary and reply.
pub(crate) type ImportStream =
    Pin<Box<dyn Stream<Item = Result<wire::ImportOfflineEvent, Status>> + Send>>;

fn pieces(file: &[u8], items: usize) -> Vec<Result<wire::OfflinePiece, Status>> {
    let total = file.len() as u64;
    let mut out: Vec<Result<wire::OfflinePiece, Status>> = file
        .chunks(PIECE_BYTES)
        .enumerate()
        .map(|(i, data)| {
            Ok(wire::OfflinePiece {
                data: data.to_vec(),
                total_bytes: if i == 0 { total } else { 0 },
                items: if i == 0 {
                    u32::try_from(items).unwrap_or(u32::MAX)
                } else {
                    0
                },
            })
        })
        .collect();
    if out.is_empty() {
        out.push(Ok(wire::OfflinePiece::default()));
    }
    out
}

/// `ExportOffline`.
pub(crate) async fn export(
    state: &Arc<NodeState>,
    request: wire::ExportOfflineRequest,
) -> Result<OfflineStream, Status> {
    let peer = AgencyId::parse(&request.peer).map_err(|e| status::invalid(&e, "peer"))?;
    let exported = state
        .read(move |e| e.export_offline(&peer, Vec::new(), Timestamp::now()))
        .await?;
    Ok(Box::pin(tokio_stream::iter(pieces(
        &exported.file,
        exported.items,
    ))))
}

/// `ImportOffline`: reads the whole file (at most the configured size),
/// imports it, and streams progress, the summary and the reply.
pub(crate) async fn import(
    state: &Arc<NodeState>,
    mut upload: Streaming<wire::OfflinePiece>,
) -> Result<ImportStream, Status> {
    let limit = state.limits.max_offline_bundle_bytes;
    let mut file = Vec::new();
    while let Some(piece) = upload.next().await {
        let piece = piece?;
        if file.len() + piece.data.len() > limit {
            return Err(status::exhausted(
                format!("an offline bundle of more than {limit} bytes"),
                "resource_exhausted",
            ));
        }
        file.extend_from_slice(&piece.data);
    }
    let (events, received) =
        tokio::sync::mpsc::channel::<Result<wire::ImportOfflineEvent, Status>>(64);
    let engine = state.engine.clone();
    tokio::spawn(async move {
        let progress = events.clone();
        let outcome = engine
            .import_offline(&file, Timestamp::now(), move |done, total| {
                // Progress is best effort: a slow reader misses some.
                let _ = progress.try_send(Ok(wire::ImportOfflineEvent {
                    event: Some(wire::import_offline_event::Event::Progress(
                        wire::ImportProgress {
                            done: done as u64,
                            total: total as u64,
                        },
                    )),
                }));
            })
            .await;
        let imported = match outcome {
            Ok(i) => i,
            Err(refusal) => {
                let _ = events.send(Err(status::refused(&refusal))).await;
                return;
            }
        };
        let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        let summary = wire::ImportSummary {
            from: imported.from.map(|a| a.to_string()).unwrap_or_default(),
            accepted: count(imported.accepted),
            duplicates: count(imported.duplicates),
            receipts: count(imported.receipts),
            refused: count(imported.refused),
            answers_applied: count(imported.answers_applied),
            reply_items: count(imported.reply.items),
            reply_answers: count(imported.reply.answers),
            reply_bytes: imported.reply.file.len() as u64,
        };
        let event = |e| Ok(wire::ImportOfflineEvent { event: Some(e) });
        if events
            .send(event(wire::import_offline_event::Event::Summary(summary)))
            .await
            .is_err()
        {
            return;
        }
        for piece in imported.reply.file.chunks(PIECE_BYTES) {
            if events
                .send(event(wire::import_offline_event::Event::Reply(
                    piece.to_vec(),
                )))
                .await
                .is_err()
            {
                return;
            }
        }
    });
    Ok(Box::pin(tokio_stream::wrappers::ReceiverStream::new(
        received,
    )))
}
