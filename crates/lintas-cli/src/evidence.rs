//! `lintas evidence export | verify`: a case's evidence bundle from a node,
//! and its offline check (docs/PROTOCOL.md section 11).

use std::path::Path;

use lintas_core::evidence::verify::verify_bundle;
use lintas_core::pb;

use crate::Error;
use crate::client::{Connection, connect, download, status, write_atomically};

/// Streams the bundle of `case` from the node into `out` (written beside
/// it first and renamed, so a broken export leaves no partial file).
pub(crate) async fn export(
    conn: &Connection,
    case: &str,
    with_attachments: bool,
    out: &Path,
) -> Result<(), Error> {
    let mut client = connect(conn).await?;
    let mut pieces = client
        .export_evidence(pb::ExportEvidenceRequest {
            case_id: case.to_owned(),
            with_attachments,
        })
        .await
        .map_err(status)?
        .into_inner();
    let (file, notices) = download(&mut pieces, "evidence", |p| {
        (p.data, p.total_bytes, p.notices)
    })
    .await?;
    write_atomically(out, &file)?;
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
