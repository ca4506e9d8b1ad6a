//! The agency API's attachment calls (docs/PROTOCOL.md section 13): a case
//! system uploads a file for notices to name, and gets a verified one.
//! Thin: the engine decides and records custody.

use std::pin::Pin;
use std::sync::Arc;

use lintas_core::pb as wire;
use lintas_core::time::Timestamp;
use tokio_stream::{Stream, StreamExt};
use tonic::{Status, Streaming};

use crate::state::NodeState;
use crate::status;

/// An attachment, piece by piece.
pub(crate) type PieceStream =
    Pin<Box<dyn Stream<Item = Result<wire::AttachmentPiece, Status>> + Send>>;

/// `UploadAttachment`: the file (at most the node's attachment limit, held
/// in memory while it is stored) and its media type.
pub(crate) async fn upload(
    state: &Arc<NodeState>,
    mut pieces: Streaming<wire::AttachmentUpload>,
    who: &str,
) -> Result<wire::AttachmentUploaded, Status> {
    let limit = state.engine.attachment_limit();
    let mut file = Vec::new();
    let mut media_type = String::new();
    while let Some(piece) = pieces.next().await {
        let piece = piece?;
        if media_type.is_empty() {
            media_type = piece.media_type;
        }
        if (file.len() + piece.data.len()) as u64 > limit {
            return Err(status::exhausted(
                format!("a file of more than {limit} bytes"),
                "resource_exhausted",
            ));
        }
        file.extend_from_slice(&piece.data);
    }
    let (sha256, size) = state
        .engine
        .upload_attachment(file, &media_type, who, Timestamp::now())
        .await
        .map_err(|r| status::refused(&r))?;
    Ok(wire::AttachmentUploaded {
        sha256: sha256.to_vec(),
        size,
    })
}

/// `GetAttachment`: a verified attachment in its stored pieces.
pub(crate) async fn get(
    state: &Arc<NodeState>,
    request: wire::GetAttachmentRequest,
    who: &str,
) -> Result<PieceStream, Status> {
    let sha256: [u8; 32] = request.sha256.as_slice().try_into().map_err(|_| {
        status::invalid(
            &lintas_core::ValidationError::invalid(
                "sha256",
                "32 bytes",
                format!("{} bytes", request.sha256.len()),
            ),
            "",
        )
    })?;
    let record = state
        .engine
        .hand_over_attachment(sha256, who, Timestamp::now())
        .await
        .map_err(|r| status::refused(&r))?;
    let pieces = record.size.div_ceil(lintas_node::PIECE_BYTES as u64);
    let engine = state.engine.clone();
    let (size, media_type) = (record.size, record.media_type);
    let stream = tokio_stream::iter(0..pieces).then(move |i| {
        let engine = engine.clone();
        let media_type = if i == 0 {
            media_type.clone()
        } else {
            String::new()
        };
        async move {
            let index = u32::try_from(i).unwrap_or(u32::MAX);
            let data = tokio::task::spawn_blocking(move || engine.attachment_piece(&sha256, index))
                .await
                .map_err(|e| Status::internal(e.to_string()))?
                .map_err(|r| status::refused(&r))?;
            Ok(wire::AttachmentPiece {
                data,
                size: if i == 0 { size } else { 0 },
                media_type,
            })
        }
    });
    Ok(Box::pin(stream))
}
