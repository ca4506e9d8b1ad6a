//! A damaged store file, and damaged store records. The input patches a
//! valid store file (built once, holding notices sent and received,
//! receipts, outbox entries, a dead letter, a peer's retry, a submission
//! and a roster): each 5 bytes are an offset (4, little-endian, modulo the
//! file's size) and a byte to XOR there. The store must then refuse to
//! open, or open and answer every read with data or an error: never panic.
//! The input is also decoded as each kind of store record.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use lintas_core::ids::NoticeId;
use lintas_store::{Direction, OutboxEntry, PeerRetry, StoredNotice};
use lintas_store::Store;
use prost::Message;

fn scratch(name: &str) -> PathBuf {
    let dir = if std::path::Path::new("/dev/shm").is_dir() {
        PathBuf::from("/dev/shm")
    } else {
        std::env::temp_dir()
    };
    dir.join(format!("lintas-fuzz-{}-{name}.redb", std::process::id()))
}

/// The valid store file the inputs damage.
fn image() -> &'static [u8] {
    static IMAGE: OnceLock<Vec<u8>> = OnceLock::new();
    IMAGE.get_or_init(|| {
        let path = scratch("image");
        let _ = std::fs::remove_file(&path);
        let store = Store::open(&path).expect("a new store");
        for i in 0u8..12 {
            let id = NoticeId::from_bytes([i; 32]);
            let notice = StoredNotice {
                envelope: vec![i; 200],
                direction: if i % 2 == 0 { Direction::Sent } else { Direction::Received } as i32,
                stored_at: 1_700_000_000 + i64::from(i),
                case_id: format!("CASE-{}", i % 3),
                kind: 2,
                sender: "IDN.KEMLU.PWNI".into(),
                recipients: vec!["KHM.MOI.ATHP".into(), "THA.RTP.ATPD".into()],
                created_at: 1_700_000_000,
                response_deadline: 1_700_000_600 + i64::from(i),
                expires_at: 1_800_000_000,
                ..Default::default()
            };
            store
                .write(|t| {
                    if i % 2 == 0 {
                        let queued = t.record_sent(&id, &notice, 2)?;
                        if let Some(first) = queued.first() {
                            t.reschedule(first.seq, 3, 1_700_000_100_000, "peer unreachable")?;
                        }
                        if i == 4 {
                            if let Some(last) = queued.last() {
                                t.bury(last.seq, 1_700_000_200_000, "not_own_notice")?;
                            }
                        }
                        t.record_submission(&format!("key-{i}"), &id, u64::from(i))?;
                    } else {
                        t.record_received(&id, &notice, "KHM.MOI.ATHP", 1, &[0xAB; 100])?;
                        t.store_receipt(&id, 3, "KHM.MOI.ATHP", &[0xCD; 100], None)?;
                    }
                    Ok(())
                })
                .expect("a write to a new store");
        }
        store
            .write(|t| {
                t.set_peer_retry(
                    "KHM.MOI.ATHP",
                    Some(&PeerRetry {
                        failures: 2,
                        retry_at_ms: 1_700_000_300_000,
                        last_error: "connection refused".into(),
                    }),
                )?;
                for i in 0u8..5 {
                    t.append_log(&[i; 40])?;
                }
                t.save_roster(&[0x11; 300])
            })
            .expect("a write to a new store");
        store.close();
        drop(store);
        let bytes = std::fs::read(&path).expect("the image");
        let _ = std::fs::remove_file(&path);
        bytes
    })
}

/// Every read a node makes at start-up and while serving.
fn read_everything(store: &Store) {
    let _ = store.schema_version();
    let _ = store.last_sequence();
    let _ = store.last_inbox_cursor();
    let _ = store.outbox();
    let _ = store.outbox_after(0, 100);
    let _ = store.dead_letters();
    let _ = store.peer_retries();
    let _ = store.roster();
    let _ = store.inbox_after(0, 100);
    let _ = store.deadlines_until(i64::MAX, &[], 100);
    let _ = store.submission("key-0");
    let _ = store.withheld_from("CASE-0", "V-1");
    for case in ["CASE-0", "CASE-1", "CASE-2"] {
        let _ = store.case_notices(case);
    }
    if let Ok(all) = store.all_notices() {
        for (id, _) in all.iter().take(20) {
            let _ = store.notice(id);
            let _ = store.receipts(id);
        }
    }
    if let Ok(size) = store.log_size() {
        let size = size.min(64);
        let _ = store.log_entry(0);
        let _ = lintas_core::transparency::merkle::root(store, size);
        if size > 0 {
            let _ = lintas_core::transparency::merkle::inclusion_proof(store, 0, size);
        }
    }
    // A write, as the node's first after start-up.
    let _ = store.write(|t| t.reserve_sequence());
}

fuzz_target!(
    init: {
        // The store turns a panic inside the database library into an
        // error (a damaged page); libFuzzer's hook would abort on it first.
        // A panic that escapes the store still aborts the run, after the
        // target returns to libFuzzer.
        // LINTAS_FUZZ_TRACE=1 shows every panic with its backtrace.
        let trace = std::env::var_os("LINTAS_FUZZ_TRACE").is_some();
        std::panic::set_hook(Box::new(move |info| {
            if trace {
                eprintln!("PANIC {info}\n{}", std::backtrace::Backtrace::force_capture());
            }
        }));
    },
    |data: &[u8]| {
    let _ = StoredNotice::decode(data);
    let _ = OutboxEntry::decode(data);
    let _ = PeerRetry::decode(data);

    let mut file = image().to_vec();
    for patch in data.chunks_exact(5) {
        let offset = u32::from_le_bytes([patch[0], patch[1], patch[2], patch[3]]) as usize;
        let at = offset % file.len();
        file[at] ^= patch[4];
    }
    let path = scratch("damaged");
    if std::fs::write(&path, &file).is_err() {
        return;
    }
    if let Ok(store) = Store::open(&path) {
        read_everything(&store);
    }
    let _ = std::fs::remove_file(&path);
});
