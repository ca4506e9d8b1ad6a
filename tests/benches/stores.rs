//! The two stores side by side: what a received notice (notice, inbox
//! entry, receipt in one transaction) and a sent one (notice and one
//! outbox entry) cost in the embedded file and in PostgreSQL, one change
//! per transaction and in groups of 64 as the node's group commit makes
//! them. Figures are per change and as a ratio of the embedded store's in
//! the same run.
//!
//! PostgreSQL is the test cluster (`LINTAS_TEST_POSTGRES`, or one started
//! with `.ci/postgres`; fsync is off there, so its figures are an upper
//! bound for a durable server).
//!
//! Run: `cargo bench -p lintas-integration --bench stores`

use std::time::Instant;

use lintas_core::ids::NoticeId;
use lintas_store::{Direction, PostgresConfig, Store, StoredNotice};

fn record(n: u32) -> StoredNotice {
    StoredNotice {
        envelope: vec![0x5a; 1200],
        direction: Direction::Received as i32,
        case_id: format!("CASE-{}", n % 50),
        sender: "KHM.MOI.ATHP".into(),
        recipients: vec!["IDN.KEMLU.PWNI".into()],
        created_at: 1_790_000_000 + i64::from(n),
        ..Default::default()
    }
}

fn id(tag: u8, n: u32) -> NoticeId {
    let mut bytes = [tag; 32];
    bytes[..4].copy_from_slice(&n.to_be_bytes());
    NoticeId::from_bytes(bytes)
}

/// Microseconds per change: `count` changes in transactions of `group`.
fn run(store: &Store, tag: u8, count: u32, group: u32) -> f64 {
    let start = Instant::now();
    let mut n = 0;
    while n < count {
        let first = n;
        let result = store.write(|t| {
            for i in first..(first + group).min(count) {
                if tag.is_multiple_of(2) {
                    t.record_received(&id(tag, i), &record(i), "KHM.MOI.ATHP", 1, &[7; 180])?;
                } else {
                    t.record_sent(&id(tag, i), &record(i), 3)?;
                }
            }
            Ok(())
        });
        if let Err(e) = result {
            eprintln!("store write failed: {e}");
            std::process::exit(1);
        }
        n = (first + group).min(count);
    }
    start.elapsed().as_secs_f64() * 1e6 / f64::from(count)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let embedded = Store::open(&dir.path().join("bench.redb"))?;
    let url = lintas_testkit::postgres::database()?;
    let postgres = Store::connect(&PostgresConfig::new(url, "bench"))?;
    println!(
        "{:<44} {:>12} {:>12} {:>8}",
        "per change", "embedded", "postgres", "ratio"
    );
    // Even tags record received notices, odd ones sent notices; each run
    // has its own ids.
    for (what, tags) in [("received notice", [2u8, 4]), ("sent notice", [1, 3])] {
        for ((group, count), tag) in [(1u32, 500u32), (64, 5_000)].into_iter().zip(tags) {
            let e = run(&embedded, tag, count, group);
            let p = run(&postgres, tag, count, group);
            println!(
                "{:<44} {:>9.1} µs {:>9.1} µs {:>7.2}×",
                format!("{what}, {group} per transaction"),
                e,
                p,
                p / e
            );
        }
    }
    let start = Instant::now();
    let rounds: u32 = 2_000;
    for i in 0..rounds {
        let _ = postgres.inbox_after(u64::from(i % 100), 10)?;
    }
    let p = start.elapsed().as_secs_f64() * 1e6 / f64::from(rounds);
    let start = Instant::now();
    for i in 0..rounds {
        let _ = embedded.inbox_after(u64::from(i % 100), 10)?;
    }
    let e = start.elapsed().as_secs_f64() * 1e6 / f64::from(rounds);
    println!(
        "{:<44} {:>9.1} µs {:>9.1} µs {:>7.2}×",
        "inbox page of 10",
        e,
        p,
        p / e
    );
    Ok(())
}
