//! `lintas attachment upload | get`: files that travel beside notices
//! (docs/PROTOCOL.md section 13), through the node's agency API.

use std::path::Path;

use lintas_core::pb;

use crate::Error;
use crate::client::{Connection, connect, download, status, write_atomically};

/// Pieces a file is uploaded in.
const PIECE_BYTES: usize = 256 * 1024;

/// Hands `file` to the node and prints its digest and size, for a notice's
/// `attachments`.
pub(crate) async fn upload(conn: &Connection, file: &Path, media_type: &str) -> Result<(), Error> {
    let bytes = std::fs::read(file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    let mut progress = crate::progress::Progress::new("upload", bytes.len() as u64, "bytes");
    let pieces: Vec<pb::AttachmentUpload> = bytes
        .chunks(PIECE_BYTES)
        .enumerate()
        .map(|(i, data)| pb::AttachmentUpload {
            data: data.to_vec(),
            media_type: if i == 0 {
                media_type.to_owned()
            } else {
                String::new()
            },
        })
        .collect();
    let mut client = connect(conn).await?;
    let uploaded = client
        .upload_attachment(tokio_stream::iter(pieces))
        .await
        .map_err(status)?
        .into_inner();
    progress.advance(bytes.len() as u64);
    progress.finish();
    println!(
        "{}",
        serde_json::json!({
            "sha256": hex::encode(&uploaded.sha256),
            "size": uploaded.size,
            "media_type": media_type,
        })
    );
    Ok(())
}

/// Writes the verified attachment `sha256` (hex) into `out`.
pub(crate) async fn get(conn: &Connection, sha256: &str, out: &Path) -> Result<(), Error> {
    let digest = hex::decode(sha256)
        .ok()
        .filter(|d| d.len() == 32)
        .ok_or_else(|| format!("--sha256: expected 64 hex digits, found {sha256:?}"))?;
    let mut client = connect(conn).await?;
    let mut pieces = client
        .get_attachment(pb::GetAttachmentRequest { sha256: digest })
        .await
        .map_err(status)?
        .into_inner();
    let (file, _) = download(&mut pieces, "attachment", |p| (p.data, p.size, 0)).await?;
    write_atomically(out, &file)?;
    println!(
        "{}",
        serde_json::json!({ "sha256": sha256, "file": out.display().to_string(), "bytes": file.len() })
    );
    Ok(())
}
