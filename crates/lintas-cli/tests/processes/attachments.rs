//! A 50 MB attachment between two node processes whose link is cut again
//! and again (a proxy in front of the sender's node cuts every connection
//! after 0.5 to 2 s): the recipient's case system gets it intact.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use lintas_testkit::proxy::{FaultyProxy, ProxyFaults};

use super::{
    IDN, KHM, NodeProcess, attach, connection, get_attachment_from_cambodia, lintas,
    rescue_template, run_ok, submit_from_indonesia, two_nodes,
};

#[test]
fn a_50_mb_attachment_arrives_intact_through_a_link_that_keeps_breaking() {
    let tmp = tempfile::tempdir().unwrap();
    let dir: PathBuf = tmp.path().to_path_buf();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (idn_port, khm_port) = two_nodes(&dir, "");
    // Cambodia reaches Indonesia only through the proxy.
    let proxy = runtime
        .block_on(FaultyProxy::start(
            vec![format!("127.0.0.1:{idn_port}").parse().unwrap()],
            ProxyFaults::cutting(500, 2_000),
        ))
        .unwrap();
    let path = dir.join(KHM).join("lintas.toml");
    let text = std::fs::read_to_string(&path).unwrap().replace(
        &format!("\"{IDN}\" = \"https://127.0.0.1:{idn_port}\""),
        &format!("\"{IDN}\" = \"https://{}\"", proxy.addr()),
    );
    std::fs::write(&path, text).unwrap();
    let _indonesia = NodeProcess::start(&dir, IDN);
    let _cambodia = NodeProcess::start(&dir, KHM);

    let photo_path = dir.join("scan.bin");
    let mut rng = fastrand::Rng::with_seed(50);
    let scan: Vec<u8> = (0..50 * 1024 * 1024).map(|_| rng.u8(..)).collect();
    std::fs::write(&photo_path, &scan).unwrap();
    let notice = rescue_template(&dir);
    let uploaded = attach(
        &dir,
        idn_port,
        &photo_path,
        "application/octet-stream",
        &notice,
    );
    submit_from_indonesia(&dir, idn_port, &notice);

    let start = Instant::now();
    let sha = uploaded["sha256"].as_str().unwrap().to_owned();
    let got = get_attachment_from_cambodia(&dir, khm_port, &sha, Duration::from_secs(240));
    let got = got.unwrap_or_else(|| panic!("the scan never arrived ({} cuts)", proxy.cuts()));
    assert!(got == scan, "intact");
    assert!(proxy.cuts() >= 1, "the link was cut while it travelled");
    // The hand-over is in Cambodia's access log, with the officer the
    // command ran for (docs/PROTOCOL.md section 14.8).
    let log = run_ok(
        lintas()
            .arg("access-log")
            .args(connection(&dir, KHM, khm_port)),
    );
    let read: Vec<serde_json::Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .filter(|r: &serde_json::Value| r["call"] == "GetAttachment")
        .collect();
    assert!(!read.is_empty(), "{log}");
    assert!(
        read.iter()
            .all(|r| r["officer"] == "process.test" && r["attachments"][0] == sha.as_str()),
        "{log}"
    );
    eprintln!(
        "50 MB across {} cuts in {:.1} s",
        proxy.cuts(),
        start.elapsed().as_secs_f64()
    );
}
