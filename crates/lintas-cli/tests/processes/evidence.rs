//! `lintas evidence export` from a running node and `lintas evidence
//! verify` of the file with no node at all, as an operator and a court
//! would run them.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use super::{
    IDN, KHM, NodeProcess, attach, connection, get_attachment_from_cambodia, lintas,
    rescue_template, run_ok, submit_from_indonesia, two_nodes, wait_for_cambodias_receipt,
};

#[test]
fn a_case_is_exported_from_a_node_and_verified_offline_and_tampering_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    let dir: PathBuf = tmp.path().to_path_buf();
    // Witness every second, so the logs' checkpoints are cosigned soon.
    let (idn_port, khm_port) = two_nodes(&dir, "witness_every_s = 1");
    let notice = rescue_template(&dir);
    let _indonesia = NodeProcess::start(&dir, IDN);
    let _cambodia = NodeProcess::start(&dir, KHM);

    // Indonesia's case system hands its node a photo, and the notice names
    // it.
    let photo_path = dir.join("photo.jpg");
    let photo: Vec<u8> = (0..700_000u32).map(|i| (i * 7 % 251) as u8).collect();
    std::fs::write(&photo_path, &photo).unwrap();
    let uploaded = attach(&dir, idn_port, &photo_path, "image/jpeg", &notice);
    submit_from_indonesia(&dir, idn_port, &notice);
    let case = lintas_testkit::scenario::CASE_ID;
    wait_for_cambodias_receipt(&dir, idn_port);
    // Cambodia's case system gets the photo once its node verified it.
    let sha = uploaded["sha256"].as_str().unwrap().to_owned();
    let got = get_attachment_from_cambodia(&dir, khm_port, &sha, Duration::from_secs(20));
    assert_eq!(
        got.as_deref(),
        Some(photo.as_slice()),
        "the photo arrived intact"
    );
    // Two witnessing rounds: both logs' latest checkpoints are cosigned.
    std::thread::sleep(Duration::from_millis(2500));

    let file = dir.join("case.evidence");
    let exported: serde_json::Value = serde_json::from_str(&run_ok(
        lintas()
            .args(["evidence", "export"])
            .args(connection(&dir, IDN, idn_port))
            .args(["--case", case, "--with-attachments", "--out"])
            .arg(&file)
            .stderr(Stdio::null()),
    ))
    .unwrap();
    assert_eq!(exported["notices"], 1);
    assert!(!dir.join("case.evidence.partial").exists());

    // Checked with no node running at all.
    drop(_indonesia);
    drop(_cambodia);
    let roster = dir.join("roster.bin");
    let report = run_ok(
        lintas()
            .args(["evidence", "verify"])
            .arg(&file)
            .arg("--roster")
            .arg(&roster),
    );
    assert!(
        report.contains("NOTICE_KIND_RESCUE_REQUEST sent by IDN.KEMLU.PWNI"),
        "{report}"
    );
    assert!(
        report.contains("RECEIPT_STAGE_ACCEPTED by KHM.MOI.ATHP"),
        "{report}"
    );
    assert!(
        report.contains("recorded in KHM.MOI.ATHP's log"),
        "{report}"
    );
    assert!(report.contains("witnessed by IDN.KEMLU.PWNI"), "{report}");
    assert!(
        report.contains("exactly the file the sender named"),
        "{report}"
    );
    assert!(
        report.contains("CUSTODY_EVENT_SERVED by IDN.KEMLU.PWNI (KHM.MOI.ATHP)"),
        "{report}"
    );
    assert!(report.contains("Result: every check passed"), "{report}");
    if std::env::var_os("LINTAS_SHOW_REPORT").is_some() {
        eprintln!("{report}");
    }
    let json: serde_json::Value = serde_json::from_str(&run_ok(
        lintas().args(["evidence", "verify", "--json"]).arg(&file),
    ))
    .unwrap();
    assert_eq!(json["ok"], true);
    assert_eq!(json["notices"][0]["receipts"][0]["verified"], true);

    // One byte of the file changed: named, and the command fails.
    let mut bytes = std::fs::read(&file).unwrap();
    let at = bytes.len() / 3;
    bytes[at] ^= 0x01;
    let tampered = dir.join("tampered.evidence");
    std::fs::write(&tampered, &bytes).unwrap();
    let output = lintas()
        .args(["evidence", "verify", "--json"])
        .arg(&tampered)
        .output()
        .unwrap();
    assert!(!output.status.success());
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["ok"], false);
    assert!(!json["problems"].as_array().unwrap().is_empty(), "{json}");
    assert!(String::from_utf8_lossy(&output.stderr).contains("does not verify"));
}
