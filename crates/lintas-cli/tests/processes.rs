//! `lintas` as separate processes: `dev-setup`, `node`, `submit`, `tail`,
//! `timeline`, with nodes killed (SIGKILL) and restarted mid-delivery.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

#[path = "processes/attachments.rs"]
mod attachments;
#[path = "processes/evidence.rs"]
mod evidence;
#[path = "processes/faults.rs"]
mod faults;
#[path = "processes/floods.rs"]
mod floods;
#[path = "processes/offline.rs"]
mod offline;

const IDN: &str = "IDN.KEMLU.PWNI";
const KHM: &str = "KHM.MOI.ATHP";

fn lintas() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_lintas"));
    command.env("LINTAS_LOG", "error");
    command
}

/// A node process, killed when dropped.
struct NodeProcess(Child);

impl Drop for NodeProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl NodeProcess {
    fn start(dir: &Path, agency: &str) -> NodeProcess {
        NodeProcess::start_config(&dir.join(agency).join("lintas.toml"))
    }

    /// Starts `lintas node --config config` and waits until it listens.
    fn start_config(config: &Path) -> NodeProcess {
        let mut child = lintas()
            .args(["node", "--config"])
            .arg(config)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).unwrap();
        assert!(
            line.starts_with("listening on"),
            "node {} did not start: {line:?}",
            config.display()
        );
        NodeProcess(child)
    }

    /// The process id.
    fn pid(&self) -> u32 {
        self.0.id()
    }

    /// SIGKILL: no graceful shutdown, as in a crash or power loss.
    fn kill(mut self) {
        self.0.kill().unwrap();
        self.0.wait().unwrap();
    }
}

/// `lintas dev-setup` in `dir` for Indonesia's foreign ministry and the
/// `others`, with roster ports from 1 (tests rewrite them).
fn dev_setup(dir: &Path, others: &[&str]) {
    let mut command = lintas();
    command
        .args(["dev-setup", "--dir"])
        .arg(dir)
        .args(["--agency", &format!("{IDN}:foreign_ministry")]);
    for agency in others {
        command.args(["--agency", agency]);
    }
    let status = command
        .args(["--base-port", "1"])
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
}

/// `dev-setup` for Indonesia and Cambodia, on free ports (dev-setup gives
/// consecutive ones from 1: rewritten), with `extra` appended to both
/// configs' top level. Returns their ports.
fn two_nodes(dir: &Path, extra: &str) -> (u16, u16) {
    let (idn_port, khm_port) = (free_port(), free_port());
    dev_setup(dir, &[KHM]);
    for agency in [IDN, KHM] {
        let path = dir.join(agency).join("lintas.toml");
        let text = std::fs::read_to_string(&path).unwrap();
        let text = text
            .replace("127.0.0.1:1\"", &format!("127.0.0.1:{idn_port}\""))
            .replace("127.0.0.1:2\"", &format!("127.0.0.1:{khm_port}\""));
        // Roster endpoints still say ports 1 and 2: point peers at the real
        // ones.
        let text = format!(
            "{extra}\n{text}\n[peers]\n\"{IDN}\" = \"https://127.0.0.1:{idn_port}\"\n\"{KHM}\" = \"https://127.0.0.1:{khm_port}\"\n"
        );
        std::fs::write(&path, text).unwrap();
        // The client profiles dev-setup wrote: the same ports.
        let profile = dir.join("profiles").join(format!("{agency}.toml"));
        let text = std::fs::read_to_string(&profile)
            .unwrap()
            .replace("127.0.0.1:1\"", &format!("127.0.0.1:{idn_port}\""))
            .replace("127.0.0.1:2\"", &format!("127.0.0.1:{khm_port}\""));
        std::fs::write(&profile, text).unwrap();
    }
    (idn_port, khm_port)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn dns(agency: &str) -> String {
    let mut labels: Vec<String> = agency.split('.').map(str::to_lowercase).collect();
    labels.reverse();
    format!("{}.lintas.test", labels.join("."))
}

fn connection(dir: &Path, agency: &str, port: u16) -> Vec<String> {
    let pki = dir.join("pki");
    let client = format!("casesys.{}", dns(agency));
    vec![
        "--node".into(),
        format!("https://127.0.0.1:{port}"),
        "--server-name".into(),
        dns(agency),
        "--ca".into(),
        pki.join("ca.pem").display().to_string(),
        "--cert".into(),
        pki.join(format!("{client}.pem")).display().to_string(),
        "--key".into(),
        pki.join(format!("{client}.key")).display().to_string(),
        "--officer".into(),
        "process.test".into(),
    ]
}

/// Runs `lintas tail` for at most `wait` and returns the lines it printed.
fn tail(
    dir: &Path,
    agency: &str,
    port: u16,
    limit: usize,
    wait: Duration,
) -> Vec<serde_json::Value> {
    let mut child = lintas()
        .arg("tail")
        .args(connection(dir, agency, port))
        .args(["--limit", &limit.to_string()])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while start.elapsed() < wait {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let output = child.wait_with_output().unwrap();
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn notices_survive_killed_nodes_and_reach_the_case_system_once() {
    let tmp = tempfile::tempdir().unwrap();
    let dir: PathBuf = tmp.path().to_path_buf();
    let (idn_port, khm_port) = two_nodes(&dir, "");

    let notice = rescue_template(&dir);

    // Indonesia is up, Cambodia is down: the notice waits in the outbox.
    let indonesia = NodeProcess::start(&dir, IDN);
    let submitted: serde_json::Value =
        serde_json::from_str(&submit_from_indonesia(&dir, idn_port, &notice)).unwrap();
    let id = submitted["notice_id"].as_str().unwrap().to_owned();

    // Indonesia's node is killed mid-delivery and comes back.
    std::thread::sleep(Duration::from_millis(300));
    indonesia.kill();
    let _indonesia = NodeProcess::start(&dir, IDN);

    // Cambodia comes up; the notice arrives once.
    let cambodia = NodeProcess::start(&dir, KHM);
    let got = tail(&dir, KHM, khm_port, 1, Duration::from_secs(20));
    assert_eq!(got.len(), 1, "the notice reached Cambodia");
    assert_eq!(got[0]["notice_id"], id.as_str());
    assert_eq!(got[0]["cursor"], 1);

    // Cambodia's node is killed and restarted: its case system, reading
    // from the start, still sees the notice exactly once.
    cambodia.kill();
    let _cambodia = NodeProcess::start(&dir, KHM);
    let again = tail(&dir, KHM, khm_port, 5, Duration::from_secs(2));
    assert_eq!(again.len(), 1, "exactly once after restart");

    // Indonesia's timeline shows Cambodia's ACCEPTED receipt.
    let timeline = wait_for_cambodias_receipt(&dir, idn_port);
    assert!(timeline.contains(&id));
}

/// A rescue request template addressed to Cambodia only, in `dir`.
fn rescue_template(dir: &Path) -> PathBuf {
    let now = lintas_core::time::Timestamp::now();
    let mut body = lintas_testkit::scenario::rescue_request(now);
    body.recipients = vec![lintas_core::ids::AgencyId::parse(KHM).unwrap()];
    let notice = dir.join("rescue.json");
    std::fs::write(&notice, serde_json::to_string_pretty(&body).unwrap()).unwrap();
    notice
}

/// Hands `file` to Indonesia's node with `lintas attachment upload` and
/// names it in the notice template `notice`; returns the upload's answer
/// (`sha256`, `size`).
fn attach(
    dir: &Path,
    idn_port: u16,
    file: &Path,
    media_type: &str,
    notice: &Path,
) -> serde_json::Value {
    let uploaded: serde_json::Value = serde_json::from_str(&run_ok(
        lintas()
            .args(["attachment", "upload"])
            .args(connection(dir, IDN, idn_port))
            .arg(file)
            .args(["--media-type", media_type])
            .stderr(Stdio::null()),
    ))
    .unwrap();
    let mut template: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(notice).unwrap()).unwrap();
    let created = template["created_at"].clone();
    template["attachments"] = serde_json::json!([{
        "sha256": uploaded["sha256"],
        "media_type": media_type,
        "size": uploaded["size"],
        "captured_at": created,
        "captured_by": IDN,
    }]);
    std::fs::write(notice, template.to_string()).unwrap();
    uploaded
}

/// Runs `lintas attachment get` against Cambodia's node until it hands the
/// file over (its node has fetched and verified it) or `wait` passes;
/// returns the file's bytes, or `None` if it never came.
fn get_attachment_from_cambodia(
    dir: &Path,
    khm_port: u16,
    sha256: &str,
    wait: Duration,
) -> Option<Vec<u8>> {
    let out = dir.join(format!("{sha256}.got"));
    let start = Instant::now();
    while start.elapsed() < wait {
        let status = lintas()
            .args(["attachment", "get"])
            .args(connection(dir, KHM, khm_port))
            .args(["--sha256", sha256, "--out"])
            .arg(&out)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .unwrap();
        if status.success() {
            return Some(std::fs::read(&out).unwrap());
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    None
}

/// Polls Indonesia's case timeline until Cambodia's receipt is in it (20 s
/// at most) and returns it.
fn wait_for_cambodias_receipt(dir: &Path, idn_port: u16) -> String {
    let start = Instant::now();
    loop {
        let text = run_ok(
            lintas()
                .arg("timeline")
                .args(connection(dir, IDN, idn_port))
                .args(["--case", lintas_testkit::scenario::CASE_ID]),
        );
        if text.contains("\"receiver\":\"KHM.MOI.ATHP\"") {
            return text;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "no receipt in the timeline: {text}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn client_profiles_replace_the_tls_flags_which_still_override_them() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_path_buf();
    let (idn_port, _khm_port) = two_nodes(&dir, "");
    let _indonesia = NodeProcess::start(&dir, IDN);
    let notice = rescue_template(&dir);
    submit_from_indonesia(&dir, idn_port, &notice);
    let case = lintas_testkit::scenario::CASE_ID;
    // Profiles carry no officer here: the environment names one.
    let officer_lintas = || {
        let mut command = lintas();
        command.env("LINTAS_OFFICER", "process.test");
        command
    };
    // By name, from LINTAS_PROFILE_DIR; by path; from LINTAS_PROFILE.
    let by_name = run_ok(
        officer_lintas()
            .env("LINTAS_PROFILE_DIR", dir.join("profiles"))
            .args(["timeline", "--profile", IDN, "--case", case]),
    );
    let by_path = run_ok(
        officer_lintas()
            .arg("timeline")
            .arg("--profile")
            .arg(dir.join("profiles").join(format!("{IDN}.toml")))
            .args(["--case", case]),
    );
    let by_env = run_ok(
        officer_lintas()
            .env(
                "LINTAS_PROFILE",
                dir.join("profiles").join(format!("{IDN}.toml")),
            )
            .args(["timeline", "--case", case]),
    );
    assert!(
        by_name.contains("\"kind\":\"NOTICE_KIND_RESCUE_REQUEST\""),
        "{by_name}"
    );
    assert_eq!(by_name, by_path);
    assert_eq!(by_name, by_env);
    // A flag overrides the profile: a wrong port fails to connect.
    let output = officer_lintas()
        .env("LINTAS_PROFILE_DIR", dir.join("profiles"))
        .args(["timeline", "--profile", IDN, "--case", case])
        .args(["--node", "https://127.0.0.1:1"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    // No profile and no flags: the error says what to give.
    let output = officer_lintas()
        .env_remove("LINTAS_PROFILE")
        .args(["timeline", "--case", case])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("--node is required") && stderr.contains("--profile"),
        "{stderr}"
    );
    let output = officer_lintas()
        .env("LINTAS_PROFILE_DIR", dir.join("profiles"))
        .args(["timeline", "--profile", "NOBODY", "--case", case])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("NOBODY.toml"), "{stderr}");
}

#[test]
fn an_identifier_is_found_from_the_command_line_without_being_sent() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_path_buf();
    let (_, khm_port, _nodes) = both_nodes_with_the_rescue_request(&dir);
    // Cambodia asks about the case's TRON wallet and a number nobody has.
    let ask = |kind: &str, value: &str| -> serde_json::Value {
        let out = run_ok(
            lintas()
                .arg("find-identifier")
                .args(connection(&dir, KHM, khm_port))
                .args(["--kind", kind, "--value", value, "--agency", IDN]),
        );
        serde_json::from_str(out.lines().next().unwrap_or_default()).unwrap()
    };
    let hit = ask("wallet", "TLintasExampleWa11etAddre55000001");
    assert_eq!(hit["agency"], IDN, "{hit}");
    assert_eq!(hit["outcome"], "hit", "{hit}");
    assert!(
        hit["contact"]["phone"].as_str().unwrap().starts_with('+'),
        "{hit}"
    );
    let miss = ask("phone", "+62 812 9999 1111");
    assert_eq!(miss["outcome"], "no_hit", "{miss}");
    assert_eq!(miss["identifier"], "+6281299991111");

    let output = lintas()
        .arg("find-identifier")
        .args(connection(&dir, KHM, khm_port))
        .args(["--kind", "phone", "--value", "0812 9999 1111"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("--value") && stderr.contains("country code"),
        "{stderr}"
    );
}

#[test]
fn exports_give_a_stix_bundle_and_suppressed_statistics() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_path_buf();
    let (idn_port, khm_port, _nodes) = both_nodes_with_the_rescue_request(&dir);
    wait_for_cambodias_receipt(&dir, idn_port);

    // Cambodia's bundle holds Indonesia's compound and recruiter, with
    // Indonesia's case as their source; with --own it holds nothing of
    // theirs.
    let bundle_of = |agency: &str, port: u16, extra: &[&str]| -> serde_json::Value {
        let out = dir.join(format!("{agency}.stix.json"));
        run_ok(
            lintas()
                .args(["export", "stix"])
                .args(connection(&dir, agency, port))
                .arg("--out")
                .arg(&out)
                .args(extra),
        );
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap()
    };
    let held = bundle_of(KHM, khm_port, &[]);
    assert_eq!(held["type"], "bundle");
    let kinds: Vec<&str> = held["objects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["type"].as_str().unwrap())
        .collect();
    for kind in ["infrastructure", "location", "threat-actor", "indicator"] {
        assert!(kinds.contains(&kind), "no {kind}: {kinds:?}");
    }
    let text = held.to_string();
    assert!(
        text.contains("IDN.KEMLU.PWNI/IDN-KEMLU-2026-0417"),
        "{text}"
    );
    assert!(!text.contains("V-001"), "a victim in the bundle: {text}");
    let own = bundle_of(KHM, khm_port, &["--own"]);
    let kinds: Vec<&str> = own["objects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["identity"], "Cambodia holds no case of its own");
    // The same holdings give the same bundle.
    assert_eq!(bundle_of(KHM, khm_port, &[]), held);

    // Statistics: Indonesia's own case, two victims, shown at a threshold
    // of 2; at the default of 5 they are suppressed.
    let csv = run_ok(
        lintas()
            .args(["export", "statistics", "--format", "csv", "--min-cell", "2"])
            .args(connection(&dir, IDN, idn_port)),
    );
    assert!(
        csv.contains("victims_by_gender,victims,prs_Gender,(total),2\n"),
        "{csv}"
    );
    assert!(
        csv.contains("cases_by_status,cases,cas_Status,(total),suppressed\n"),
        "{csv}"
    );
    let json: serde_json::Value = serde_json::from_str(&run_ok(
        lintas()
            .args(["export", "statistics"])
            .args(connection(&dir, IDN, idn_port)),
    ))
    .unwrap();
    assert_eq!(json["min_cell"], 5);
    assert_eq!(json["cases_counted"], "own");
    for table in json["tables"].as_array().unwrap() {
        assert_eq!(table["total"], serde_json::Value::Null, "{table}");
    }
    // Cambodia counts nothing as its own, and Indonesia's case with --held.
    let csv = run_ok(
        lintas()
            .args([
                "export",
                "statistics",
                "--format",
                "csv",
                "--min-cell",
                "2",
                "--held",
            ])
            .args(connection(&dir, KHM, khm_port)),
    );
    assert!(
        csv.contains("victims_by_citizenship,victims,prs_Citizenship,(total),2\n"),
        "{csv}"
    );

    // Reading for an export is in the access log, by officer.
    let log = run_ok(
        lintas()
            .arg("access-log")
            .args(connection(&dir, KHM, khm_port)),
    );
    assert!(log.contains("\"ListNotices\""), "{log}");

    // A threshold of 1 is refused before anything is read.
    let output = lintas()
        .args(["export", "statistics", "--min-cell", "1"])
        .args(connection(&dir, IDN, idn_port))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("--min-cell: expected 2 or more"),
        "{stderr}"
    );
}

#[test]
fn the_conformance_harness_passes_the_reference_node_and_catches_a_deviation() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_path_buf();
    // Indonesia's node offers its log's checkpoint every second, for the
    // harness to offer back (not_log_origin).
    let (idn_port, _) = two_nodes(&dir, "");
    // Indonesia's node is the target; the harness is Cambodia's police
    // (whose own node stays down: the harness takes its place).
    let _indonesia = NodeProcess::start(&dir, IDN);
    let harness = |extra: &[&str]| {
        lintas()
            .arg("conformance")
            .arg("--target")
            .arg(format!("https://127.0.0.1:{idn_port}"))
            .args(["--target-agency", IDN, "--config"])
            .arg(dir.join(KHM).join("lintas.toml"))
            .args(["--target-profile"])
            .arg(dir.join("profiles").join(format!("{IDN}.toml")))
            .env("LINTAS_OFFICER", "conformance.test")
            .args(extra)
            .output()
            .unwrap()
    };
    let output = harness(&["--json"]);
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let (summary, checks) = lines.split_last().unwrap();
    assert_eq!(summary["summary"]["failed"], 0, "{stdout}");
    assert_eq!(summary["summary"]["checks"], checks.len(), "{stdout}");
    let checked = |section: &str, words: &str| {
        checks.iter().any(|c| {
            c["section"] == section
                && c["passed"] == true
                && c["check"].as_str().unwrap().contains(words)
        })
    };
    // Every part the harness is for: transport, every kind delivered with
    // its receipt, duplicates, batches, refusals, history rules, and the
    // target's own deliveries to the harness.
    for (section, words) in [
        ("9.1", "without a certificate"),
        ("9.3", "deliver a rescue request"),
        ("9.3", "deliver an action answer"),
        ("5.4", "invalid_body"),
        ("5.4", "key_not_valid_at_creation"),
        ("5.6", "not_asked"),
        ("5.6", "not_in_referenced"),
        ("5.6", "not_responsible"),
        ("9.4", "sender_not_peer"),
        ("5.4", "unknown_sender"),
        ("9.7", "not_an_api_client"),
        ("14.9", "is a hit"),
        ("14.9", "is no hit"),
        ("13.2", "not_entitled"),
        ("10.5", "trust on first use"),
        ("10.5", "log_inconsistent"),
        ("2.2", "unsupported_kind"),
        ("9.7", "not_found"),
        ("9.7", "not_forwardable"),
        ("9.4", "receipt_digest_mismatch"),
        ("6.4", "roster_rollback"),
        ("6.4", "roster_threshold_not_met"),
        ("6.4", "roster_invalid"),
        ("9.3", "a duplicate"),
        ("9.5", "item by item"),
        ("9.5", "batch_too_large"),
        ("5.4", "bad_signature"),
        ("5.4", "id_mismatch"),
        ("5.4", "signer_not_sender"),
        ("5.4", "expired"),
        ("5.6", "wrong_kind_referenced"),
        ("9.8", "undecodable"),
        ("9.6", "delivers a notice to its recipient"),
        ("9.6", "ACCEPTED receipt"),
        ("9.4", "later stage"),
        ("9.6", "retried"),
    ] {
        assert!(
            checked(section, words),
            "no passed check {section} {words}: {stdout}"
        );
    }
    assert!(checks.len() >= 40, "{stdout}");

    // A target whose batch limit is not the one the harness is told of
    // fails that check, and the run fails.
    let output = harness(&["--max-batch", "100"]);
    assert_eq!(output.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let failed: Vec<&str> = stdout.lines().filter(|l| l.starts_with("FAIL")).collect();
    assert_eq!(failed.len(), 1, "{stdout}");
    assert!(
        failed[0].contains("§9.5") && failed[0].contains("batch_too_large"),
        "{stdout}"
    );
    assert!(
        stdout.contains("checks: ") && stdout.contains(" 1 failed"),
        "{stdout}"
    );
}

/// One HTTP/1.1 request; the status code and the body.
fn http(port: u16, method: &str, path: &str, token: Option<&str>) -> (u16, String) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: lintas\r\n{auth}Content-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

#[test]
fn the_operator_console_needs_its_token_and_reports_what_the_node_holds() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_path_buf();
    let management = free_port();
    let (idn_port, _) = two_nodes(&dir, "");
    let token = "k3y-for-the-console-of-indonesia-0123456789";
    std::fs::write(dir.join(IDN).join("console.token"), format!("{token}\n")).unwrap();
    let config = dir.join(IDN).join("lintas.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        format!("metrics_listen = \"127.0.0.1:{management}\"\n{text}\n[console]\ntoken_file = \"console.token\"\n"),
    )
    .unwrap();
    let _indonesia = NodeProcess::start(&dir, IDN);
    // Cambodia's node is down: the notice waits in the outbox.
    let notice = rescue_template(&dir);
    submit_from_indonesia(&dir, idn_port, &notice);

    // The page and its files, without a token (they hold no data).
    let (status, page) = http(management, "GET", "/console/", None);
    assert_eq!(status, 200);
    assert!(page.contains("Lintas operator console"), "{page}");
    for asset in [
        "/console/app.js",
        "/console/app.css",
        "/console/i18n/id.json",
        "/console/region.json",
    ] {
        assert_eq!(http(management, "GET", asset, None).0, 200, "{asset}");
    }
    assert_eq!(http(management, "GET", "/console/nothing.js", None).0, 404);

    // The API: nothing without the token or with another one.
    for wrong in [None, Some("k3y-for-the-console-of-indonesia-012345678X")] {
        let (status, body) = http(management, "GET", "/console/api/overview", wrong);
        assert_eq!(status, 401, "{body}");
        assert!(!body.contains(IDN), "{body}");
    }
    let json = |path: &str| -> serde_json::Value {
        let (status, body) = http(management, "GET", path, Some(token));
        assert_eq!(status, 200, "{path}: {body}");
        serde_json::from_str(&body).unwrap()
    };
    let overview = json("/console/api/overview");
    assert_eq!(overview["agency"], IDN);
    assert_eq!(overview["counts"]["sent"], 1, "{overview}");
    assert_eq!(overview["outbox"], 1, "{overview}");
    assert_eq!(overview["roster"]["version"], 1);
    let peers = overview["peers"].as_array().unwrap();
    let khm = |overview: &serde_json::Value| -> serde_json::Value {
        overview["peers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["agency"] == KHM)
            .cloned()
            .unwrap_or_else(|| panic!("no {KHM} in {overview}"))
    };
    let cambodia = khm(&overview);
    assert_eq!(
        cambodia["queued"].as_u64().unwrap() + cambodia["in_flight"].as_u64().unwrap(),
        1,
        "{overview}"
    );
    // The rescue request is urgent; Cambodia has never answered.
    assert_eq!(
        cambodia["queued_by_priority"],
        serde_json::json!({ "urgent": 1, "high": 0, "routine": 0 })
    );
    assert!(cambodia["last_answer"].is_null() && cambodia["round_trip_ms"].is_null());
    assert_eq!(overview["refusal_history"]["bucket_seconds"], 600);
    assert_eq!(overview["receipts"], serde_json::json!([]), "{overview}");
    assert_eq!(peers.len(), 1);
    assert_eq!(
        json("/console/api/dead-letters")["dead_letters"],
        serde_json::json!([])
    );

    // The case: its notice, the route, the compound with its place, and
    // nothing about who the victims are.
    let case = json(&format!(
        "/console/api/cases/{}",
        lintas_testkit::scenario::CASE_ID
    ));
    assert_eq!(case["timeline"].as_array().unwrap().len(), 1, "{case}");
    assert_eq!(case["timeline"][0]["kind"], "rescue request");
    assert_eq!(
        case["timeline"][0]["concerns"]["victims"][0], "V-001",
        "{case}"
    );
    assert_eq!(case["route"]["origin"], serde_json::json!(["IDN"]));
    let compound = &case["places"][0];
    assert_eq!(
        (compound["kind"].as_str(), compound["country"].as_str()),
        (Some("compound"), Some("KHM"))
    );
    assert!(compound["lat"].is_f64(), "{case}");
    let identity = lintas_testkit::scenario::victim_identity();
    assert!(
        !case.to_string().contains(&identity.names[0].latin),
        "{case}"
    );

    // Cambodia comes up: the delivery is answered, with its receipt.
    let _cambodia = NodeProcess::start(&dir, KHM);
    wait_for_cambodias_receipt(&dir, idn_port);
    let overview = json("/console/api/overview");
    let cambodia = khm(&overview);
    assert_eq!(cambodia["state"], "reachable", "{overview}");
    assert_eq!(cambodia["queued"], 0, "{overview}");
    assert!(
        cambodia["round_trip_ms"].as_f64().unwrap() > 0.0,
        "{overview}"
    );
    let answered = cambodia["last_answer"].as_str().unwrap();
    assert!(answered.starts_with("20"), "{overview}");
    assert_eq!(
        overview["receipts"],
        serde_json::json!([{ "direction": "received", "stage": "accepted", "count": 1 }])
    );

    // Unknown things are 404s; the dead-letter actions need the token.
    for (method, path, token, status) in [
        ("GET", "/console/api/cases/NO-SUCH-1", Some(token), 404),
        (
            "POST",
            "/console/api/dead-letters/999/retry",
            Some(token),
            404,
        ),
        ("POST", "/console/api/dead-letters/999/drop", None, 401),
    ] {
        assert_eq!(
            http(management, method, path, token).0,
            status,
            "{method} {path}"
        );
    }

    // A console without a management listener: the node does not start.
    let lonely = dir.join("lonely.toml");
    std::fs::write(
        &lonely,
        text.replace("data_dir = \"data\"", "data_dir = \"data2\"")
            + "\n[console]\ntoken_file = \"console.token\"\n",
    )
    .unwrap();
    let output = lintas()
        .args(["node", "--config"])
        .arg(&lonely)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("metrics_listen"), "{stderr}");
}

#[test]
fn usage_errors_and_bad_files_are_reported() {
    let output = lintas().arg("node").output().unwrap();
    assert_eq!(
        output.status.code(),
        Some(2),
        "missing --config is a usage error"
    );
    let tmp = tempfile::tempdir().unwrap();
    let config = tmp.path().join("lintas.toml");
    std::fs::write(
        &config,
        "agency = \"IDN.KEMLU.PWNI\"\nlisten = \"127.0.0.1:0\"\ntypo = 1\n",
    )
    .unwrap();
    let output = lintas()
        .args(["node", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("typo"), "unknown keys are named: {stderr}");
}

/// Indonesia's and Cambodia's nodes running, and the rescue request
/// submitted from Indonesia to Cambodia: their ports, and the nodes (which
/// stop when dropped).
fn both_nodes_with_the_rescue_request(dir: &Path) -> (u16, u16, [NodeProcess; 2]) {
    let (idn_port, khm_port) = two_nodes(dir, "");
    let nodes = [NodeProcess::start(dir, IDN), NodeProcess::start(dir, KHM)];
    let notice = rescue_template(dir);
    submit_from_indonesia(dir, idn_port, &notice);
    (idn_port, khm_port, nodes)
}

/// Submits the notice template at `notice` to Indonesia's node (times
/// rebased to now); its answer as printed.
fn submit_from_indonesia(dir: &Path, idn_port: u16, notice: &Path) -> String {
    run_ok(
        lintas()
            .arg("submit")
            .args(connection(dir, IDN, idn_port))
            .arg("--notice")
            .arg(notice)
            .arg("--rebase-times"),
    )
}

fn run_ok(command: &mut Command) -> String {
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn rosters_are_built_and_signed_steward_by_steward() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    run_ok(lintas().args(["dev-setup", "--dir"]).arg(dir).args([
        "--agency",
        IDN,
        "--agency",
        KHM,
        "--agency",
        "THA.RTP.ATPD",
    ]));
    // Version 2 of the roster dev-setup wrote, built and signed afresh.
    let mut roster: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("roster.json")).unwrap()).unwrap();
    roster["version"] = 2.into();
    let spec = dir.join("v2.json");
    std::fs::write(&spec, roster.to_string()).unwrap();
    let out = dir.join("v2.bin");
    run_ok(
        lintas()
            .args(["roster", "build", "--spec"])
            .arg(&spec)
            .arg("--out")
            .arg(&out),
    );
    let show = |path: &Path| -> serde_json::Value {
        serde_json::from_str(&run_ok(
            lintas().args(["roster", "show", "--roster"]).arg(path),
        ))
        .unwrap()
    };
    assert_eq!(show(&out)["valid_signatures"], 0);
    for state in ["IDN", "KHM"] {
        run_ok(
            lintas()
                .args(["roster", "sign", "--roster"])
                .arg(&out)
                .arg("--key")
                .arg(dir.join(format!("stewards/{state}.json")))
                .args(["--state", state]),
        );
    }
    let shown = show(&out);
    assert_eq!(
        (
            shown["version"].as_u64(),
            shown["valid_signatures"].as_u64()
        ),
        (Some(2), Some(2))
    );
    assert_eq!(shown["threshold"], 2);

    // A steward key signing under another state's name is refused.
    let output = lintas()
        .args(["roster", "sign", "--roster"])
        .arg(&out)
        .arg("--key")
        .arg(dir.join("stewards/THA.json"))
        .args(["--state", "IDN"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("not a IDN steward key"));

    // An invalid spec names the field.
    roster["threshold"] = 9.into();
    std::fs::write(&spec, roster.to_string()).unwrap();
    let output = lintas()
        .args(["roster", "build", "--spec"])
        .arg(&spec)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("threshold"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    // keygen prints the public key it wrote.
    let key = dir.join("k.json");
    let public = run_ok(
        lintas()
            .args(["keygen", "--key-id", "IDN.KEMLU.PWNI#2", "--out"])
            .arg(&key),
    );
    let file: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&key).unwrap()).unwrap();
    assert_eq!(file["public_key_hex"], public.trim());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
}

#[test]
fn the_load_generator_reports_what_it_measured() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_ok(lintas().args([
        "bench",
        "--quick",
        "--json",
        "--scenario",
        "steady",
        "--scenario",
        "backlog",
        "--dir",
        dir.path().to_str().unwrap(),
    ]));
    let report: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    for key in [
        "notices_per_s",
        "verify_strict_per_s",
        "sign_per_s",
        "ratio",
        "p50_ms",
        "p99_ms",
        "p999_ms",
        "rss_peak_mib",
        "cpu_us_per_notice",
    ] {
        let value = report[key]
            .as_f64()
            .unwrap_or_else(|| panic!("{key} in {report}"));
        assert!(value > 0.0, "{key} = {value}");
    }
    let rate = report["notices_per_s"].as_f64().unwrap();
    let verify = report["verify_strict_per_s"].as_f64().unwrap();
    assert!((report["ratio"].as_f64().unwrap() - rate / verify).abs() < 0.01);
    let backlog = &report["scenarios"]["backlog"];
    assert_eq!(backlog["queued"], 5000);
    assert_eq!(backlog["urgent_was_first"], true, "{backlog}");
    assert!(backlog["drain_notices_per_s"].as_f64().unwrap() > 0.0);
}
