//! `lintas offline export | import` between two node processes that cannot
//! reach each other: the bundle carried one way, the reply the other, as a
//! border post's operator would.

use std::path::PathBuf;
use std::process::Stdio;

use super::{
    IDN, KHM, NodeProcess, connection, free_port, lintas, rescue_template, run_ok,
    submit_from_indonesia, two_nodes, wait_for_cambodias_receipt,
};

#[test]
fn a_notice_crosses_by_bundle_and_its_receipt_comes_back_by_bundle() {
    let tmp = tempfile::tempdir().unwrap();
    let dir: PathBuf = tmp.path().to_path_buf();
    let (idn_port, khm_port) = two_nodes(&dir, "");
    // No link: each node knows the other at a port nobody listens on.
    let dead = free_port();
    for (agency, other_port) in [(IDN, khm_port), (KHM, idn_port)] {
        let path = dir.join(agency).join("lintas.toml");
        let text = std::fs::read_to_string(&path).unwrap().replace(
            &format!("https://127.0.0.1:{other_port}\""),
            &format!("https://127.0.0.1:{dead}\""),
        );
        std::fs::write(&path, text).unwrap();
    }
    let notice = rescue_template(&dir);
    let _indonesia = NodeProcess::start(&dir, IDN);
    let _cambodia = NodeProcess::start(&dir, KHM);
    submit_from_indonesia(&dir, idn_port, &notice);

    // Indonesia's operator writes the bundle for Cambodia.
    let bundle = dir.join("for-khm.bundle");
    let exported: serde_json::Value = serde_json::from_str(&run_ok(
        lintas()
            .args(["offline", "export"])
            .args(connection(&dir, IDN, idn_port))
            .args(["--peer", KHM, "--out"])
            .arg(&bundle)
            .stderr(Stdio::null()),
    ))
    .unwrap();
    assert_eq!(exported["items"], 1);

    // Cambodia's operator imports it, with progress in plain lines.
    let reply = dir.join("for-idn.bundle");
    let output = lintas()
        .args(["offline", "import"])
        .args(connection(&dir, KHM, khm_port))
        .arg(&bundle)
        .arg("--reply")
        .arg(&reply)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let summary: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(summary["accepted"], 1);
    assert_eq!(summary["reply_answers"], 1);
    let progress = String::from_utf8_lossy(&output.stderr);
    assert!(
        progress.contains("import: 1 of 1 items (100%)"),
        "{progress}"
    );

    // The reply goes back; Indonesia's timeline shows Cambodia's receipt.
    let back = dir.join("for-khm-2.bundle");
    let summary: serde_json::Value = serde_json::from_str(&run_ok(
        lintas()
            .args(["offline", "import"])
            .args(connection(&dir, IDN, idn_port))
            .arg(&reply)
            .arg("--reply")
            .arg(&back)
            .stderr(Stdio::null()),
    ))
    .unwrap();
    assert_eq!(summary["answers_applied"], 1);
    wait_for_cambodias_receipt(&dir, idn_port);

    // A bundle for Indonesia imported on Cambodia is refused whole.
    let output = lintas()
        .args(["offline", "import"])
        .args(connection(&dir, KHM, khm_port))
        .arg(&reply)
        .arg("--reply")
        .arg(dir.join("never.bundle"))
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("not_a_recipient"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(!dir.join("never.bundle").exists());
}
