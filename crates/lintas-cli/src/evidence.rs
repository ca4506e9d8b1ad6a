//! `lintas evidence export | verify`: a case's evidence bundle from a node,
//! and its offline check (docs/PROTOCOL.md section 11).

use std::path::{Path, PathBuf};

use lintas_core::evidence::verify::verify_bundle;
use lintas_core::pb;
use tokio_stream::StreamExt;

use crate::Error;
use crate::client::{Connection, connect, status};
use crate::progress::Progress;

/// Streams the bundle of `case` from the node into `out` (written beside
/// it first and renamed, so a broken export leaves no partial file).
pub(crate) async fn export(conn: &Connection, case: &str, out: &Path) -> Result<(), Error> {
    let mut client = connect(conn).await?;
    let mut pieces = client
        .export_evidence(pb::ExportEvidenceRequest {
            case_id: case.to_owned(),
        })
        .await
        .map_err(status)?
        .into_inner();
    let mut file = Vec::new();
    let mut progress: Option<Progress> = None;
    let mut notices = 0;
    while let Some(piece) = pieces.next().await {
        let piece = piece.map_err(status)?;
        if progress.is_none() {
            notices = piece.notices;
            progress = Some(Progress::new("evidence", piece.total_bytes, "bytes"));
            file.reserve(usize::try_from(piece.total_bytes).unwrap_or(0).min(1 << 30));
        }
        if let Some(p) = progress.as_mut() {
            p.advance(piece.data.len() as u64);
        }
        file.extend_from_slice(&piece.data);
    }
    if let Some(p) = progress {
        p.finish();
    }
    let partial = partial_path(out);
    std::fs::write(&partial, &file)
        .map_err(|e| format!("cannot write {}: {e}", partial.display()))?;
    std::fs::rename(&partial, out).map_err(|e| {
        format!(
            "cannot move {} to {}: {e}",
            partial.display(),
            out.display()
        )
    })?;
    println!(
        "{}",
        serde_json::json!({
            "case_id": case,
            "file": out.display().to_string(),
            "notices": notices,
            "bytes": file.len(),
        })
    );
    Ok(())
}

fn partial_path(out: &Path) -> PathBuf {
    let mut name = out
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(".partial");
    out.with_file_name(name)
}

/// Checks `file` offline and prints the report (text, or JSON with
/// `json`); fails when anything does not verify.
pub(crate) fn verify(file: &Path, roster: Option<&Path>, json: bool) -> Result<(), Error> {
    let bytes = std::fs::read(file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    let pinned = match roster {
        Some(path) => {
            Some(std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?)
        }
        None => None,
    };
    let report = verify_bundle(&bytes, pinned.as_deref());
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", report.to_text());
    }
    if report.ok {
        Ok(())
    } else {
        Err(format!(
            "{} does not verify: {} problem(s)",
            file.display(),
            report.problems.len()
        )
        .into())
    }
}
