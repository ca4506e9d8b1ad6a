//! The notice templates in `examples/notices/`, used with
//! `lintas submit --rebase-times`, stay valid notices.

use std::path::PathBuf;

use lintas_core::notice::NoticeBody;
use lintas_core::signing::SignedNotice;
use lintas_core::vocab::NoticeKind;
use lintas_testkit::{scenario, world};

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/notices")
}

#[test]
fn notice_templates_are_valid_notices() {
    if std::env::var_os("LINTAS_BLESS").is_some() {
        for body in scenario::one_of_each_kind(world::fixed_now()) {
            let name = format!(
                "{}.json",
                body.kind()
                    .wire_name()
                    .trim_start_matches("NOTICE_KIND_")
                    .to_lowercase()
            );
            std::fs::write(
                dir().join(name),
                serde_json::to_string_pretty(&body).unwrap() + "\n",
            )
            .unwrap();
        }
    }
    let mut seen = 0;
    for entry in std::fs::read_dir(dir()).unwrap() {
        let path = entry.unwrap().path();
        let body: NoticeBody = serde_json::from_str(&std::fs::read_to_string(&path).unwrap())
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        SignedNotice::sign(&body, &world::agency_key(body.sender.as_str()))
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        seen += 1;
    }
    // One template per kind.
    assert_eq!(seen, NoticeKind::ALL.len());
}
