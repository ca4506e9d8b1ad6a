//! One store test suite, run against both kinds of store: the embedded
//! file and PostgreSQL (a real server: see `lintas_testkit::postgres`).
//! Each test states a guarantee the node relies on; both stores must keep
//! it the same way. Then what only a shared store does: replicas claiming
//! outbox entries, a dead replica's claims lapsing, numbers handed out in
//! commit order, one notice for one idempotency key across replicas.

use std::sync::Arc;
use std::time::Duration;

use lintas_core::ids::NoticeId;
use lintas_store::{
    Direction, OutboxEntry, OutboxPayload, PeerRetry, PostgresConfig, ReceiveOutcome, Store,
    StoreError, StoredNotice,
};
use sha2::{Digest, Sha256};

type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

/// A store for one test, with what keeps it alive.
struct Fresh {
    store: Store,
    /// The embedded store's directory, or the PostgreSQL database URL.
    _dir: Option<tempfile::TempDir>,
    url: Option<String>,
}

fn embedded() -> Result<Fresh> {
    let dir = tempfile::tempdir()?;
    let store = Store::open(&dir.path().join("node.redb"))?;
    Ok(Fresh {
        store,
        _dir: Some(dir),
        url: None,
    })
}

fn postgres() -> Result<Fresh> {
    let url = lintas_testkit::postgres::database()?;
    let store = Store::connect(&PostgresConfig::new(url.clone(), "replica-a"))?;
    Ok(Fresh {
        store,
        _dir: None,
        url: Some(url),
    })
}

fn id(n: u8) -> NoticeId {
    NoticeId::from_bytes([n; 32])
}

fn notice(case: &str, recipients: &[&str], created_at: i64, deadline: i64) -> StoredNotice {
    StoredNotice {
        envelope: vec![1, 2, 3],
        direction: Direction::Sent as i32,
        case_id: case.into(),
        recipients: recipients.iter().map(|r| r.to_string()).collect(),
        created_at,
        response_deadline: deadline,
        sender: "IDN.KEMLU.PWNI".into(),
        ..Default::default()
    }
}

fn receipt_entry(recipient: &str) -> OutboxEntry {
    OutboxEntry {
        recipient: recipient.into(),
        priority: 3,
        payload: Some(OutboxPayload::Receipt(vec![7, 7])),
        ..Default::default()
    }
}

/// Runs each named suite function against both stores.
macro_rules! suite {
    ($($name:ident),* $(,)?) => {
        mod embedded {
            $( #[test] fn $name() -> super::Result { super::$name(super::embedded()?) } )*
        }
        mod postgres {
            $( #[test] fn $name() -> super::Result { super::$name(super::postgres()?) } )*
        }
    };
}

suite!(
    a_new_store_is_at_the_current_schema_version,
    a_sent_notice_queues_one_entry_per_recipient_once,
    a_received_notice_enters_the_inbox_once_with_its_receipt,
    the_inbox_is_read_in_cursor_order_page_by_page,
    receipts_are_kept_once_per_stage_and_receiver_in_order,
    delivery_removes_the_entry_with_its_receipt,
    a_refused_attempt_is_rescheduled,
    a_permanent_refusal_moves_the_entry_to_the_dead_letters_and_back,
    a_case_timeline_is_paged_in_creation_order,
    overdue_notices_are_paged_in_deadline_order,
    withheld_victims_are_remembered_and_released,
    submissions_are_found_by_idempotency_key,
    sequence_numbers_only_increase,
    peer_backoff_is_kept_and_cleared,
    a_peer_quota_is_charged_refilled_and_kept,
    the_transparency_log_appends_and_proves,
    notices_and_receipts_enter_the_log_once_as_they_are_stored,
    witnessing_records_are_kept,
    attachments_are_kept_in_pieces_with_their_custody,
    the_roster_is_kept,
    a_failed_change_writes_nothing,
    the_outbox_reads_in_pages,
    an_injected_disk_fault_fails_writes_until_recovered,
    a_purged_notice_keeps_its_indexes_and_logs_its_tombstone,
);

fn a_purged_notice_keeps_its_indexes_and_logs_its_tombstone(f: Fresh) -> Result {
    use lintas_core::transparency::entry::{LogEntry, LogEntryKind};
    for n in 1..=3 {
        f.store
            .record_sent(&id(n), &notice("C1", &["KHM.A"], i64::from(n), 0), 3)?;
    }
    // Walked a page at a time, in id order.
    let first: Vec<NoticeId> = f
        .store
        .notices_after(None, 2)?
        .into_iter()
        .map(|(i, _)| i)
        .collect();
    assert_eq!(first, vec![id(1), id(2)]);
    let rest: Vec<NoticeId> = f
        .store
        .notices_after(Some(&id(2)), 2)?
        .into_iter()
        .map(|(i, _)| i)
        .collect();
    assert_eq!(rest, vec![id(3)]);
    assert!(f.store.notices_after(Some(&id(3)), 2)?.is_empty());

    let before = f.store.log_size()?;
    let mut purged = f.store.notice(&id(2))?.ok_or("stored")?;
    purged.envelope.clear();
    purged.tombstone = b"tombstone".to_vec();
    f.store.write(|t| t.purge(&id(2), &purged))?;
    let read = f.store.notice(&id(2))?.ok_or("still indexed")?;
    assert!(read.is_purged() && read.envelope.is_empty());
    assert_eq!(read.case_id, "C1");
    assert_eq!(f.store.case_notices("C1")?.len(), 3, "the case index stays");
    assert_eq!(f.store.log_size()?, before + 1);
    let entry = f.store.log_entry(before)?.ok_or("logged")?;
    assert_eq!(
        LogEntry::decode(&entry)?,
        LogEntry::of(LogEntryKind::Purged, id(2), b"tombstone")
    );
    f.store.compact()?;
    assert!(f.store.notice(&id(2))?.ok_or("kept")?.is_purged());
    assert_eq!(
        f.store.notice(&id(1))?.ok_or("kept")?.envelope,
        vec![1, 2, 3]
    );
    Ok(())
}

fn a_new_store_is_at_the_current_schema_version(f: Fresh) -> Result {
    let expected = if f.url.is_some() {
        lintas_store::schema::POSTGRES_VERSION
    } else {
        lintas_store::schema::CURRENT_VERSION
    };
    assert_eq!(f.store.schema_version()?, expected);
    assert_eq!(f.store.last_inbox_cursor()?, 0);
    assert_eq!(f.store.last_sequence()?, 0);
    assert!(f.store.outbox()?.is_empty());
    assert!(f.store.roster()?.is_none());
    Ok(())
}

fn a_sent_notice_queues_one_entry_per_recipient_once(f: Fresh) -> Result {
    let n = notice("C1", &["KHM.MOI.AHT", "THA.RTP.CIB"], 100, 0);
    let queued = f.store.record_sent(&id(1), &n, 1)?;
    assert_eq!(queued.len(), 2);
    assert_eq!(queued[0].recipient, "KHM.MOI.AHT");
    assert!(queued[0].seq < queued[1].seq);
    assert_eq!(queued[0].priority, 1);
    // The same id again changes nothing.
    assert!(f.store.record_sent(&id(1), &n, 1)?.is_empty());
    assert_eq!(f.store.outbox()?, queued);
    assert_eq!(f.store.notice(&id(1))?, Some(n));
    assert_eq!(f.store.notice(&id(2))?, None);
    let both = f.store.notices(&[id(2), id(1)])?;
    assert!(both[0].is_none() && both[1].is_some());
    Ok(())
}

fn a_received_notice_enters_the_inbox_once_with_its_receipt(f: Fresh) -> Result {
    let mut n = notice("C1", &["KHM.MOI.AHT"], 100, 0);
    n.direction = Direction::Received as i32;
    let first = f
        .store
        .record_received(&id(9), &n, "KHM.MOI.AHT", 1, b"receipt")?;
    assert_eq!(first, ReceiveOutcome::New { cursor: 1 });
    let again = f
        .store
        .record_received(&id(9), &n, "KHM.MOI.AHT", 1, b"other")?;
    assert_eq!(
        again,
        ReceiveOutcome::Duplicate {
            receipt: b"receipt".to_vec()
        }
    );
    let inbox = f.store.inbox_after(0, 10)?;
    assert_eq!(inbox.len(), 1);
    assert_eq!(inbox[0].cursor, 1);
    assert_eq!(inbox[0].id, id(9));
    assert_eq!(inbox[0].notice.inbox_cursor, 1);
    assert_eq!(f.store.last_inbox_cursor()?, 1);
    Ok(())
}

fn the_inbox_is_read_in_cursor_order_page_by_page(f: Fresh) -> Result {
    for n in 1..=7u8 {
        let record = notice("", &["KHM.MOI.AHT"], i64::from(n), 0);
        f.store
            .record_received(&id(n), &record, "KHM.MOI.AHT", 1, &[n])?;
    }
    let first = f.store.inbox_after(0, 3)?;
    let cursors: Vec<u64> = first.iter().map(|e| e.cursor).collect();
    assert_eq!(cursors, [1, 2, 3]);
    let rest = f.store.inbox_after(3, 100)?;
    let ids: Vec<NoticeId> = rest.iter().map(|e| e.id).collect();
    assert_eq!(ids, [id(4), id(5), id(6), id(7)]);
    assert!(f.store.inbox_after(7, 100)?.is_empty());
    Ok(())
}

fn receipts_are_kept_once_per_stage_and_receiver_in_order(f: Fresh) -> Result {
    f.store
        .record_sent(&id(1), &notice("C1", &["KHM.A", "THA.B"], 1, 0), 3)?;
    assert!(f.store.store_receipt(&id(1), 3, "THA.B", b"read-b", None)?);
    assert!(
        f.store
            .store_receipt(&id(1), 2, "THA.B", b"deliv-b", None)?
    );
    assert!(
        f.store
            .store_receipt(&id(1), 2, "KHM.A", b"deliv-a", Some(receipt_entry("IDN.X")))?
    );
    // Known: not stored again, and nothing queued.
    assert!(
        !f.store
            .store_receipt(&id(1), 2, "KHM.A", b"other", Some(receipt_entry("IDN.X")))?
    );
    let got = f.store.receipts(&id(1))?;
    assert_eq!(
        got,
        vec![
            (2, "KHM.A".to_owned(), b"deliv-a".to_vec()),
            (2, "THA.B".to_owned(), b"deliv-b".to_vec()),
            (3, "THA.B".to_owned(), b"read-b".to_vec()),
        ]
    );
    // Two deliveries of the notice plus one queued report.
    assert_eq!(f.store.outbox()?.len(), 3);
    assert!(f.store.receipts(&id(2))?.is_empty());
    Ok(())
}

fn delivery_removes_the_entry_with_its_receipt(f: Fresh) -> Result {
    let queued = f
        .store
        .record_sent(&id(1), &notice("C1", &["KHM.A", "THA.B"], 1, 0), 3)?;
    f.store
        .complete(queued[0].seq, Some((&id(1), 1, "KHM.A", b"accepted")))?;
    let left = f.store.outbox()?;
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].recipient, "THA.B");
    assert_eq!(f.store.receipts(&id(1))?.len(), 1);
    // Completing it again (another replica did) is no error.
    f.store.complete(queued[0].seq, None)?;
    assert!(f.store.outbox_entries(&[queued[0].seq])?.is_empty());
    assert_eq!(f.store.outbox_entries(&[queued[1].seq])?.len(), 1);
    Ok(())
}

fn a_refused_attempt_is_rescheduled(f: Fresh) -> Result {
    let queued = f
        .store
        .record_sent(&id(1), &notice("C1", &["KHM.A"], 1, 0), 3)?;
    let long = "x".repeat(2000);
    f.store.reschedule(queued[0].seq, 3, 123_456, &long)?;
    let entry = &f.store.outbox_entries(&[queued[0].seq])?[0];
    assert_eq!(entry.attempts, 3);
    assert_eq!(entry.next_attempt_ms, 123_456);
    assert_eq!(entry.last_error.len(), 512, "errors are kept short");
    // An entry that is gone is not an error.
    f.store.reschedule(999, 1, 1, "gone")?;
    Ok(())
}

fn a_permanent_refusal_moves_the_entry_to_the_dead_letters_and_back(f: Fresh) -> Result {
    let queued = f
        .store
        .record_sent(&id(1), &notice("C1", &["KHM.A"], 1, 0), 3)?;
    let seq = queued[0].seq;
    f.store
        .write(|t| t.bury(seq, 5_000, "not_own_notice: refused"))?;
    assert!(f.store.outbox()?.is_empty());
    let dead = f.store.dead_letters()?;
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].last_error, "not_own_notice: refused");
    assert_eq!(dead[0].next_attempt_ms, 5_000);
    // Burying again (already moved) changes nothing.
    f.store.write(|t| t.bury(seq, 6_000, "again"))?;
    assert_eq!(f.store.dead_letters()?.len(), 1);
    let back = f.store.write(|t| {
        let entry = t.unbury(seq)?;
        entry.map(|e| t.enqueue(e)).transpose()
    })?;
    let back = back.ok_or("the dead letter was not found")?;
    assert!(back.seq > seq, "a retried dead letter is queued anew");
    assert!(f.store.dead_letters()?.is_empty());
    assert_eq!(f.store.outbox()?.len(), 1);
    assert!(f.store.write(|t| t.unbury(seq))?.is_none());
    Ok(())
}

fn a_case_timeline_is_paged_in_creation_order(f: Fresh) -> Result {
    // Stored out of order; two at the same second differ by nanoseconds.
    for (n, at, nanos) in [(3u8, 30, 0u32), (1, 10, 0), (2, 20, 5), (4, 20, 1)] {
        let mut record = notice("C-TL", &["KHM.A"], at, 0);
        record.created_at_nanos = nanos;
        f.store.record_sent(&id(n), &record, 3)?;
    }
    f.store
        .record_sent(&id(9), &notice("C-OTHER", &["KHM.A"], 15, 0), 3)?;
    f.store
        .record_sent(&id(8), &notice("", &["KHM.A"], 15, 0), 3)?;
    let first = f.store.case_page("C-TL", &[], 2)?;
    let ids: Vec<NoticeId> = first.iter().map(|(_, i, _)| *i).collect();
    assert_eq!(ids, [id(1), id(4)]);
    let after = first[1].0.clone();
    assert_eq!(after.len(), 44);
    let rest = f.store.case_page("C-TL", &after, 10)?;
    let ids: Vec<NoticeId> = rest.iter().map(|(_, i, _)| *i).collect();
    assert_eq!(ids, [id(2), id(3)]);
    assert_eq!(f.store.case_notices("C-TL")?.len(), 4);
    assert!(f.store.case_page("", &[], 10)?.is_empty());
    assert!(f.store.case_page("C-NONE", &[], 10)?.is_empty());
    Ok(())
}

fn overdue_notices_are_paged_in_deadline_order(f: Fresh) -> Result {
    for (n, deadline) in [(1u8, 300), (2, 100), (3, 0), (4, 200), (5, 900)] {
        f.store
            .record_sent(&id(n), &notice("C1", &["KHM.A"], 1, deadline), 3)?;
    }
    let first = f.store.deadlines_until(300, &[], 2)?;
    let ids: Vec<NoticeId> = first.iter().map(|(_, i, _)| *i).collect();
    assert_eq!(ids, [id(2), id(4)]);
    assert_eq!(first[0].0.len(), 40);
    let rest = f.store.deadlines_until(300, &first[1].0, 10)?;
    let ids: Vec<NoticeId> = rest.iter().map(|(_, i, _)| *i).collect();
    assert_eq!(ids, [id(1)]);
    assert!(f.store.deadlines_until(50, &[], 10)?.is_empty());
    assert_eq!(f.store.all_notices()?.len(), 5);
    Ok(())
}

fn withheld_victims_are_remembered_and_released(f: Fresh) -> Result {
    let states = vec!["IDN".to_owned(), "PHL".to_owned()];
    f.store.write(|t| t.withhold("C1", "V1", &states))?;
    assert_eq!(f.store.withheld_from("C1", "V1")?, states);
    assert!(f.store.withheld_from("C1", "V2")?.is_empty());
    assert!(f.store.withheld_from("C2", "V1")?.is_empty());
    f.store.write(|t| t.withhold("C1", "V1", &[]))?;
    assert!(f.store.withheld_from("C1", "V1")?.is_empty());
    Ok(())
}

fn submissions_are_found_by_idempotency_key(f: Fresh) -> Result {
    assert!(f.store.submission("case-system/42")?.is_none());
    f.store
        .write(|t| t.record_submission("case-system/42", &id(5), 17))?;
    assert_eq!(f.store.submission("case-system/42")?, Some(([5; 32], 17)));
    assert_eq!(
        f.store.write(|t| t.submission("case-system/42"))?,
        Some(([5; 32], 17))
    );
    Ok(())
}

fn sequence_numbers_only_increase(f: Fresh) -> Result {
    assert_eq!(f.store.reserve_sequence()?, 1);
    assert_eq!(f.store.reserve_sequence()?, 2);
    f.store.write(|t| t.note_sequence(10))?;
    f.store.write(|t| t.note_sequence(4))?;
    assert_eq!(f.store.last_sequence()?, 10);
    assert_eq!(f.store.reserve_sequence()?, 11);
    Ok(())
}

fn peer_backoff_is_kept_and_cleared(f: Fresh) -> Result {
    let retry = PeerRetry {
        failures: 4,
        retry_at_ms: 99,
        last_error: "connection refused".into(),
    };
    f.store
        .write(|t| t.set_peer_retry("THA.RTP.CIB", Some(&retry)))?;
    assert_eq!(
        f.store.peer_retries()?,
        vec![("THA.RTP.CIB".to_owned(), retry)]
    );
    f.store.write(|t| t.set_peer_retry("THA.RTP.CIB", None))?;
    assert!(f.store.peer_retries()?.is_empty());
    Ok(())
}

fn a_peer_quota_is_charged_refilled_and_kept(f: Fresh) -> Result {
    let settle = |used: f64, now: i64| {
        f.store
            .write(|t| t.settle_quota("THA.RTP.ATPD", used, 1_000.0, 0.5, now))
    };
    // A peer never seen starts full.
    assert_eq!(settle(100.0, 10_000)?.available_kib, 900.0);
    assert_eq!(settle(50.0, 10_000)?.available_kib, 850.0);
    // 100 ms later, 50 KiB refilled; never beyond the capacity.
    assert_eq!(settle(0.0, 10_100)?.available_kib, 900.0);
    assert_eq!(settle(0.0, 20_000)?.available_kib, 1_000.0);
    // A clock gone back refills nothing and does not move the time back.
    let back = settle(10.0, 5_000)?;
    assert_eq!((back.available_kib, back.at_ms), (990.0, 20_000));
    // Overdrawn by replicas settling together: negative, and it stays so
    // until refilled.
    assert_eq!(settle(1_500.0, 20_000)?.available_kib, -510.0);
    assert_eq!(
        f.store.quotas()?,
        vec![(
            "THA.RTP.ATPD".to_owned(),
            lintas_store::PeerQuota {
                available_kib: -510.0,
                at_ms: 20_000
            }
        )]
    );
    Ok(())
}

fn attachments_are_kept_in_pieces_with_their_custody(f: Fresh) -> Result {
    use lintas_store::AttachmentRecord;
    let (a, b) = ([1u8; 32], [2u8; 32]);
    assert_eq!(f.store.attachment(&a)?, None);
    let fetching = AttachmentRecord {
        size: 10,
        fetch_from: "KHM.MOI.ATHP".into(),
        notice_id: vec![7; 32],
        ..AttachmentRecord::default()
    };
    f.store.write(|t| {
        t.put_attachment(&a, &fetching)?;
        t.put_attachment_chunk(&a, 0, b"first")?;
        t.put_attachment_chunk(&a, 1, b"second")?;
        t.put_attachment(
            &b,
            &AttachmentRecord {
                size: 3,
                received: 3,
                complete: true,
                ..AttachmentRecord::default()
            },
        )?;
        t.put_attachment_chunk(&b, 0, b"abc")?;
        t.add_custody(&b, None, b"uploaded")?;
        t.add_custody(&b, Some(&id(7)), b"served")
    })?;
    assert_eq!(f.store.attachment(&a)?, Some(fetching.clone()));
    assert_eq!(f.store.attachment_chunk(&a, 1)?, Some(b"second".to_vec()));
    assert_eq!(f.store.attachment_chunk(&a, 2)?, None);
    // Only the incomplete one with a peer to fetch from is to fetch.
    let to_fetch = f.store.attachments_to_fetch()?;
    assert_eq!(to_fetch, vec![(a, fetching)]);
    assert_eq!(
        f.store.custody(&b)?,
        vec![b"uploaded".to_vec(), b"served".to_vec()]
    );
    assert!(f.store.custody(&a)?.is_empty());
    // Each custody entry is in the log, as the SHA-256 of its bytes.
    assert_eq!(f.store.log_size()?, 2);
    // Removing one takes every piece with it, and nothing of the other.
    f.store.write(|t| t.remove_attachment(&a))?;
    assert_eq!(f.store.attachment(&a)?, None);
    assert_eq!(f.store.attachment_chunk(&a, 0)?, None);
    assert_eq!(f.store.attachment_chunk(&b, 0)?, Some(b"abc".to_vec()));
    Ok(())
}

fn witnessing_records_are_kept(f: Fresh) -> Result {
    assert!(f.store.witnessed_logs()?.is_empty());
    assert!(f.store.cosigned()?.is_empty());
    assert!(f.store.log_alarms()?.is_empty());
    f.store.write(|t| {
        assert_eq!(t.witnessed("THA-POLICE")?, None);
        t.set_witnessed("THA-POLICE", b"first")?;
        t.set_witnessed("KHM-POLICE", b"other")?;
        t.set_witnessed("THA-POLICE", b"second")
    })?;
    assert_eq!(
        f.store.write(|t| t.witnessed("THA-POLICE"))?,
        Some(b"second".to_vec())
    );
    assert_eq!(
        f.store.witnessed_logs()?,
        vec![
            ("KHM-POLICE".to_owned(), b"other".to_vec()),
            ("THA-POLICE".to_owned(), b"second".to_vec())
        ]
    );
    // A witness's latest cosigned checkpoint: a smaller one never replaces
    // a larger.
    f.store.write(|t| {
        t.record_cosigned("THA-POLICE", 5, b"five")?;
        t.record_cosigned("THA-POLICE", 9, b"nine")?;
        t.record_cosigned("THA-POLICE", 7, b"seven")?;
        t.record_cosigned("KHM-POLICE", 3, b"three")
    })?;
    assert_eq!(
        f.store.cosigned()?,
        vec![
            ("KHM-POLICE".to_owned(), 3, b"three".to_vec()),
            ("THA-POLICE".to_owned(), 9, b"nine".to_vec())
        ]
    );
    let numbers = f.store.write(|t| {
        Ok((
            t.raise_log_alarm(b"fork one")?,
            t.raise_log_alarm(b"fork two")?,
        ))
    })?;
    assert!(numbers.0 < numbers.1);
    assert_eq!(
        f.store.log_alarms()?,
        vec![
            (numbers.0, b"fork one".to_vec()),
            (numbers.1, b"fork two".to_vec())
        ]
    );
    Ok(())
}

fn the_transparency_log_appends_and_proves(f: Fresh) -> Result {
    use lintas_core::transparency::merkle::{self, MemoryTree};
    assert_eq!(f.store.log_size()?, 0);
    assert_eq!(merkle::root(&f.store, 0)?, merkle::EMPTY_ROOT);
    let entries: Vec<Vec<u8>> = (0u8..21).map(|i| vec![i; usize::from(i) + 1]).collect();
    let mut memory = MemoryTree::new();
    // One, two or three appends per transaction.
    for chunk in entries
        .chunks(3)
        .flat_map(|c| c.chunks(if c.len() == 3 { 2 } else { 1 }))
    {
        let indices = f.store.write(|t| {
            chunk
                .iter()
                .map(|e| t.append_log(e))
                .collect::<std::result::Result<Vec<_>, _>>()
        })?;
        for (e, i) in chunk.iter().zip(indices) {
            assert_eq!(i, memory.push(e));
        }
    }
    // A failed transaction appends nothing.
    let failed: std::result::Result<(), StoreError> = f.store.write(|t| {
        t.append_log(b"never")?;
        Err(StoreError::GroupAborted)
    });
    assert!(failed.is_err());
    assert_eq!(f.store.log_size()?, 21);
    assert_eq!(f.store.log_entry(20)?, Some(entries[20].clone()));
    assert_eq!(f.store.log_entry(21)?, None);
    // Each entry is found by the SHA-256 of its bytes; the failed one not.
    for (i, e) in entries.iter().enumerate() {
        let digest: [u8; 32] = Sha256::digest(e).into();
        assert_eq!(f.store.log_index_of(&digest)?, Some(i as u64));
    }
    let never: [u8; 32] = Sha256::digest(b"never").into();
    assert_eq!(f.store.log_index_of(&never)?, None);
    // An entry appended after a lookup is found as well.
    f.store.write(|t| t.append_log(b"later"))?;
    let later: [u8; 32] = Sha256::digest(b"later").into();
    assert_eq!(f.store.log_index_of(&later)?, Some(21));
    memory.push(b"later");
    let entries: Vec<Vec<u8>> = entries.into_iter().chain([b"later".to_vec()]).collect();
    for size in 0..=22u64 {
        let root = merkle::root(&f.store, size)?;
        assert_eq!(root, merkle::root(&memory, size)?, "size {size}");
        for index in 0..size {
            let proof = merkle::inclusion_proof(&f.store, index, size)?;
            merkle::verify_inclusion(&entries[index as usize], index, size, &proof, &root)?;
        }
        let proof = merkle::consistency_proof(&f.store, size / 2, size)?;
        merkle::verify_consistency(
            size / 2,
            &merkle::root(&memory, size / 2)?,
            size,
            &root,
            &proof,
        )?;
    }
    Ok(())
}

fn notices_and_receipts_enter_the_log_once_as_they_are_stored(f: Fresh) -> Result {
    use lintas_core::transparency::entry::{LogEntry, LogEntryKind};
    let sent = notice("C1", &["KHM.A"], 1, 0);
    let queued = f.store.record_sent(&id(1), &sent, 3)?;
    f.store.record_sent(&id(1), &sent, 3)?;
    let mut received = notice("C1", &["IDN.X"], 2, 0);
    received.direction = Direction::Received as i32;
    received.envelope = vec![9, 9, 9];
    f.store
        .record_received(&id(2), &received, "IDN.X", 1, b"accepted")?;
    f.store
        .record_received(&id(2), &received, "IDN.X", 1, b"accepted")?;
    f.store.store_receipt(&id(2), 3, "IDN.X", b"read", None)?;
    f.store.store_receipt(&id(2), 3, "IDN.X", b"read", None)?;
    f.store
        .write(|t| t.complete(queued[0].seq, Some((&id(1), 1, "KHM.A", b"their receipt"))))?;
    let expected = [
        LogEntry::of(LogEntryKind::NoticeSent, id(1), &sent.envelope),
        LogEntry::of(LogEntryKind::NoticeReceived, id(2), &received.envelope),
        LogEntry::of(LogEntryKind::Receipt, id(2), b"accepted"),
        LogEntry::of(LogEntryKind::Receipt, id(2), b"read"),
        LogEntry::of(LogEntryKind::Receipt, id(1), b"their receipt"),
    ];
    assert_eq!(f.store.log_size()?, expected.len() as u64, "each once");
    for (i, e) in expected.iter().enumerate() {
        let stored = f.store.log_entry(i as u64)?.ok_or("missing entry")?;
        assert_eq!(LogEntry::decode(&stored)?, *e, "entry {i}");
    }
    Ok(())
}

fn the_roster_is_kept(f: Fresh) -> Result {
    f.store.save_roster(b"version 1")?;
    f.store.save_roster(b"version 1")?;
    f.store.save_roster(b"version 2")?;
    assert_eq!(
        f.store.roster_history()?,
        vec![b"version 1".to_vec(), b"version 2".to_vec()],
        "each version once, in turn"
    );
    assert_eq!(f.store.roster()?, Some(b"version 2".to_vec()));
    Ok(())
}

fn a_failed_change_writes_nothing(f: Fresh) -> Result {
    let failed: std::result::Result<(), StoreError> = f.store.write(|t| {
        t.record_sent(&id(1), &notice("C1", &["KHM.A"], 1, 0), 3)?;
        t.save_roster(b"never")?;
        Err(StoreError::GroupAborted)
    });
    assert!(matches!(failed, Err(StoreError::GroupAborted)));
    assert!(f.store.notice(&id(1))?.is_none());
    assert!(f.store.outbox()?.is_empty());
    assert!(f.store.roster()?.is_none());
    // The store goes on working, and its counters did not move.
    let queued = f
        .store
        .record_sent(&id(1), &notice("C1", &["KHM.A"], 1, 0), 3)?;
    assert_eq!(queued[0].seq, 1);
    Ok(())
}

fn the_outbox_reads_in_pages(f: Fresh) -> Result {
    let recipients: Vec<String> = (0..50).map(|i| format!("KHM.R{i}")).collect();
    let names: Vec<&str> = recipients.iter().map(String::as_str).collect();
    f.store
        .record_sent(&id(1), &notice("C1", &names, 1, 0), 3)?;
    let first = f.store.outbox_after(0, 20)?;
    assert_eq!(first.len(), 20);
    let rest = f.store.outbox_after(first[19].seq, 100)?;
    assert_eq!(rest.len(), 30);
    assert_eq!(f.store.outbox()?.len(), 50);
    Ok(())
}

fn an_injected_disk_fault_fails_writes_until_recovered(f: Fresh) -> Result {
    f.store.inject_disk_full(true);
    assert!(f.store.save_roster(b"r").is_err());
    assert!(f.store.is_failing());
    assert!(f.store.recover().is_err());
    f.store.inject_disk_full(false);
    f.store.recover()?;
    assert!(!f.store.is_failing());
    f.store.save_roster(b"r")?;
    assert_eq!(f.store.roster()?, Some(b"r".to_vec()));
    Ok(())
}

// ---- What only a shared store does -----------------------------------

/// Two replicas of one agency on one database.
fn replicas(lease: Duration) -> Result<(Store, Store, String)> {
    let url = lintas_testkit::postgres::database()?;
    let mut a = PostgresConfig::new(url.clone(), "replica-a");
    a.lease = lease;
    let mut b = PostgresConfig::new(url.clone(), "replica-b");
    b.lease = lease;
    Ok((Store::connect(&a)?, Store::connect(&b)?, url))
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

#[test]
fn an_outbox_entry_is_held_by_one_replica_at_a_time() -> Result {
    let (a, b, _) = replicas(Duration::from_secs(60))?;
    assert!(a.is_shared() && b.is_shared());
    let queued = a.record_sent(&id(1), &notice("C1", &["KHM.A", "THA.B"], 1, 0), 3)?;
    let seqs: Vec<u64> = queued.iter().map(|e| e.seq).collect();
    let now = now_ms();
    let got_a = a.claim(&seqs[..1], now)?;
    assert_eq!(got_a.entries.len(), 1);
    // B may not take what A holds; it learns when to look again.
    let got_b = b.claim(&seqs, now)?;
    assert_eq!(got_b.entries.len(), 1);
    assert_eq!(got_b.entries[0].seq, seqs[1]);
    assert_eq!(got_b.busy.len(), 1);
    assert_eq!(got_b.busy[0].0, seqs[0]);
    assert!(got_b.busy[0].1 > now && got_b.busy[0].1 <= now + 60_000);
    // A holder claims again (renews) freely.
    assert_eq!(a.claim(&seqs[..1], now)?.entries.len(), 1);
    // Once A delivers, the entry is gone for everyone.
    a.complete(seqs[0], None)?;
    let after = b.claim(&seqs[..1], now)?;
    assert!(after.entries.is_empty() && after.busy.is_empty());
    Ok(())
}

#[test]
fn a_dead_replicas_claims_lapse_after_the_lease() -> Result {
    let (a, b, _) = replicas(Duration::from_millis(400))?;
    let queued = a.record_sent(&id(1), &notice("C1", &["KHM.A"], 1, 0), 3)?;
    let seq = queued[0].seq;
    assert_eq!(a.claim(&[seq], now_ms())?.entries.len(), 1);
    drop(a); // the replica dies holding its claim
    assert_eq!(b.claim(&[seq], now_ms())?.busy.len(), 1);
    std::thread::sleep(Duration::from_millis(500));
    let taken = b.claim(&[seq], now_ms())?;
    assert_eq!(taken.entries.len(), 1, "the lease lapsed: {taken:?}");
    Ok(())
}

#[test]
fn a_refused_entry_is_released_for_any_replica() -> Result {
    let (a, b, _) = replicas(Duration::from_secs(60))?;
    let queued = a.record_sent(&id(1), &notice("C1", &["KHM.A"], 1, 0), 3)?;
    let seq = queued[0].seq;
    assert_eq!(a.claim(&[seq], now_ms())?.entries.len(), 1);
    a.reschedule(seq, 1, now_ms(), "unavailable")?;
    let taken = b.claim(&[seq], now_ms())?;
    assert_eq!(taken.entries.len(), 1);
    assert_eq!(taken.entries[0].attempts, 1, "B sees A's attempts");
    Ok(())
}

#[test]
fn replicas_see_the_work_the_others_queued() -> Result {
    let (a, b, _) = replicas(Duration::from_secs(60))?;
    a.record_sent(&id(1), &notice("C1", &["KHM.A", "THA.B"], 1, 0), 3)?;
    b.record_sent(&id(2), &notice("C1", &["KHM.A"], 2, 0), 3)?;
    let seen_by_b = b.outbox_from_others(0, 100)?;
    assert_eq!(seen_by_b.len(), 2);
    let seen_by_a = a.outbox_from_others(0, 100)?;
    assert_eq!(seen_by_a.len(), 1);
    assert_eq!(seen_by_a[0].seq, 3);
    assert!(a.outbox_from_others(3, 100)?.is_empty());
    // Inbox, receipts and notices are shared too.
    let mut n = notice("C2", &["IDN.X"], 5, 0);
    n.direction = Direction::Received as i32;
    a.record_received(&id(3), &n, "IDN.X", 1, b"r")?;
    assert_eq!(b.last_inbox_cursor()?, 1);
    assert_eq!(
        b.record_received(&id(3), &n, "IDN.X", 1, b"again")?,
        ReceiveOutcome::Duplicate {
            receipt: b"r".to_vec()
        }
    );
    Ok(())
}

#[test]
fn numbers_are_unique_and_visible_in_order_across_replicas() -> Result {
    let (a, b, _) = replicas(Duration::from_secs(60))?;
    let (a, b) = (Arc::new(a), Arc::new(b));
    let mut threads = Vec::new();
    for (store, offset) in [(a.clone(), 0u8), (b.clone(), 100u8)] {
        threads.push(std::thread::spawn(
            move || -> std::result::Result<Vec<u64>, String> {
                let mut got = Vec::new();
                for i in 0..40u8 {
                    let mut n = notice("C-RACE", &["IDN.X"], 1, 0);
                    n.direction = Direction::Received as i32;
                    match store.record_received(&id(offset + i), &n, "IDN.X", 1, b"r") {
                        Ok(ReceiveOutcome::New { cursor }) => got.push(cursor),
                        other => return Err(format!("{other:?}")),
                    }
                    got.push(store.reserve_sequence().map_err(|e| e.to_string())? + 1_000_000);
                }
                Ok(got)
            },
        ));
    }
    let mut cursors = Vec::new();
    let mut sequences = Vec::new();
    for t in threads {
        for v in t.join().map_err(|_| "thread panicked")?? {
            if v > 1_000_000 {
                sequences.push(v);
            } else {
                cursors.push(v);
            }
        }
    }
    cursors.sort_unstable();
    sequences.sort_unstable();
    assert_eq!(
        cursors,
        (1..=80).collect::<Vec<u64>>(),
        "no cursor twice, no gap"
    );
    assert_eq!(sequences, (1_000_001..=1_000_080).collect::<Vec<u64>>());
    // Every cursor a reader can see has everything below it visible.
    let inbox = a.inbox_after(0, 1000)?;
    assert_eq!(inbox.len(), 80);
    Ok(())
}

#[test]
fn replicas_charging_one_peer_at_once_each_count() -> Result {
    let (a, b, _) = replicas(Duration::from_secs(60))?;
    let (a, b) = (Arc::new(a), Arc::new(b));
    let mut threads = Vec::new();
    for store in [a.clone(), b.clone()] {
        threads.push(std::thread::spawn(
            move || -> std::result::Result<(), String> {
                for _ in 0..40 {
                    store
                        .write(|t| t.settle_quota("KHM.MOI.ATHP", 1.0, 1_000.0, 0.0, 1_000))
                        .map_err(|e| e.to_string())?;
                }
                Ok(())
            },
        ));
    }
    for t in threads {
        t.join().map_err(|_| "thread panicked")??;
    }
    let quotas = b.quotas()?;
    assert_eq!(quotas.len(), 1);
    assert_eq!(quotas[0].1.available_kib, 920.0, "80 charges of 1 KiB");
    Ok(())
}

#[test]
fn replicas_append_to_one_log() -> Result {
    use lintas_core::transparency::merkle::{self, MemoryTree};
    let (a, b, _) = replicas(Duration::from_secs(60))?;
    let (a, b) = (Arc::new(a), Arc::new(b));
    let mut threads = Vec::new();
    for (store, who) in [(a.clone(), b'a'), (b.clone(), b'b')] {
        threads.push(std::thread::spawn(
            move || -> std::result::Result<(), String> {
                for i in 0..30u8 {
                    store
                        .write(|t| t.append_log(&[who, i]))
                        .map_err(|e| e.to_string())?;
                }
                Ok(())
            },
        ));
    }
    for t in threads {
        t.join().map_err(|_| "thread panicked")??;
    }
    // One log of 60 entries, in the order the appends committed; the tree
    // either replica reads is the tree of those entries.
    assert_eq!(a.log_size()?, 60);
    let mut memory = MemoryTree::new();
    for i in 0..60 {
        let entry = b.log_entry(i)?.ok_or("a gap in the log")?;
        memory.push(&entry);
    }
    assert_eq!(merkle::root(&*a, 60)?, merkle::root(&memory, 60)?);
    assert_eq!(merkle::root(&*b, 60)?, merkle::root(&memory, 60)?);
    Ok(())
}

#[test]
fn one_idempotency_key_makes_one_submission_across_replicas() -> Result {
    let (a, b, _) = replicas(Duration::from_secs(60))?;
    let (a, b) = (Arc::new(a), Arc::new(b));
    let barrier = Arc::new(std::sync::Barrier::new(2));
    let mut threads = Vec::new();
    for (store, n) in [(a.clone(), 1u8), (b.clone(), 2u8)] {
        let barrier = Arc::clone(&barrier);
        threads.push(std::thread::spawn(move || {
            barrier.wait();
            store.write(|t| {
                if let Some(first) = t.submission("cs/77")? {
                    return Ok(first);
                }
                // Hold the key a moment, as a slow signer would.
                std::thread::sleep(Duration::from_millis(100));
                t.record_submission("cs/77", &id(n), u64::from(n))?;
                Ok(([n; 32], u64::from(n)))
            })
        }));
    }
    let results: Vec<_> = threads
        .into_iter()
        .map(|t| t.join().map_err(|_| "thread panicked"))
        .collect::<std::result::Result<_, _>>()?;
    let a_got = results[0].as_ref().map_err(|e| e.to_string())?;
    let b_got = results[1].as_ref().map_err(|e| e.to_string())?;
    assert_eq!(
        a_got, b_got,
        "both replicas answer with the first submission"
    );
    Ok(())
}

#[test]
fn a_database_of_another_application_or_a_newer_version_is_refused() -> Result {
    let url = lintas_testkit::postgres::database()?;
    let config = PostgresConfig::new(url.clone(), "replica-a");
    {
        let store = Store::connect(&config)?;
        store.close();
    }
    // Pretend a newer Lintas migrated it.
    run_sql(
        &url,
        "UPDATE lintas_meta SET value = '\\x00000000000003e7'::bytea WHERE name = 'schema_version'",
    )?;
    match Store::connect(&config) {
        Err(StoreError::TooNew { found: 999, .. }) => {}
        other => return Err(format!("expected TooNew, got {other:?}").into()),
    }
    // Tables named like ours but no version: not ours.
    let other = lintas_testkit::postgres::database()?;
    run_sql(&other, "CREATE TABLE lintas_outbox (x int)")?;
    match Store::connect(&PostgresConfig::new(other, "replica-a")) {
        Err(StoreError::NotAStore { why, .. }) => assert!(why.contains("no schema version")),
        other => return Err(format!("expected NotAStore, got {other:?}").into()),
    }
    Ok(())
}

#[test]
fn an_unreachable_database_is_a_clear_error() {
    let mut config = PostgresConfig::new("postgres://lintas@127.0.0.1:1/none", "replica-a");
    config.connect_timeout = Duration::from_secs(2);
    let err = Store::connect(&config)
        .map(|_| ())
        .map_err(|e| e.to_string());
    assert!(
        matches!(&err, Err(e) if e.contains("database error")),
        "{err:?}"
    );
    let bad = Store::connect(&PostgresConfig::new("port=notanumber", "r"))
        .map(|_| ())
        .map_err(|e| e.to_string());
    assert!(
        matches!(&bad, Err(e) if e.contains("connection settings")),
        "{bad:?}"
    );
}

/// Runs one statement with psql.
fn run_sql(url: &str, sql: &str) -> Result {
    let out = std::process::Command::new("psql")
        .args([url, "-v", "ON_ERROR_STOP=1", "-q", "-c", sql])
        .output()?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned().into());
    }
    Ok(())
}

#[test]
fn the_store_fails_while_the_database_is_down_and_recovers_when_it_is_back() -> Result {
    let cluster = lintas_testkit::postgres::PrivateCluster::start()?;
    let store = Store::connect(&PostgresConfig::new(cluster.url.clone(), "replica-a"))?;
    let queued = store.record_sent(&id(1), &notice("C1", &["KHM.A"], 1, 0), 3)?;
    cluster.stop_server()?;
    // Writes and reads fail with an error, and the store says it is failing.
    assert!(
        store
            .record_sent(&id(2), &notice("C1", &["KHM.A"], 2, 0), 3)
            .is_err()
    );
    assert!(store.is_failing());
    assert!(store.outbox().is_err());
    assert!(store.recover().is_err(), "recovery cannot succeed yet");
    cluster.start_server()?;
    store.recover()?;
    assert!(!store.is_failing());
    // Nothing committed was lost; the failed write wrote nothing.
    assert_eq!(store.outbox()?, queued);
    assert!(store.notice(&id(2))?.is_none());
    store.record_sent(&id(2), &notice("C1", &["KHM.A"], 2, 0), 3)?;
    assert_eq!(store.outbox()?.len(), 2);
    Ok(())
}

#[test]
fn the_connection_to_the_database_can_be_tls_and_then_only_tls() -> Result {
    use lintas_grpc::pki::DevCa;
    let cluster = lintas_testkit::postgres::PrivateCluster::start()?;
    let ca = DevCa::new("Database test CA")?;
    let server = ca.issue("localhost")?;
    cluster.serve_tls(&server.cert, &server.key)?;
    let dir = tempfile::tempdir()?;
    let ca_file = dir.path().join("db-ca.pem");
    std::fs::write(&ca_file, ca.cert_pem())?;
    let url = cluster.url.replace("127.0.0.1", "localhost");
    let tls_url = format!("{url}?sslmode=require");

    // TLS, verified against the CA: the server refuses anything else, so a
    // store that works is a store on TLS.
    let mut config = PostgresConfig::new(tls_url.clone(), "replica-a");
    config.ca_file = Some(ca_file.clone());
    let store = Store::connect(&config)?;
    store.record_sent(&id(1), &notice("C1", &["KHM.A"], 1, 0), 3)?;
    assert_eq!(store.outbox()?.len(), 1);

    // Without TLS the server refuses the connection.
    let plain = Store::connect(&PostgresConfig::new(url.clone(), "replica-b"));
    assert!(plain.is_err(), "a plain connection was accepted");

    // sslmode=require without a CA, or a CA without sslmode=require, is a
    // configuration error before any connection.
    let mut no_ca = PostgresConfig::new(tls_url.clone(), "replica-b");
    no_ca.ca_file = None;
    match Store::connect(&no_ca) {
        Err(StoreError::Config(why)) => assert!(why.contains("ca_file"), "{why}"),
        other => panic!("expected a configuration error, got {other:?}"),
    }
    let mut no_mode = PostgresConfig::new(url, "replica-b");
    no_mode.ca_file = Some(ca_file);
    match Store::connect(&no_mode) {
        Err(StoreError::Config(why)) => assert!(why.contains("sslmode=require"), "{why}"),
        other => panic!("expected a configuration error, got {other:?}"),
    }

    // A server certificate from another CA is refused.
    let other_ca = DevCa::new("Someone else's CA")?;
    let other_file = dir.path().join("other-ca.pem");
    std::fs::write(&other_file, other_ca.cert_pem())?;
    let mut wrong = PostgresConfig::new(tls_url, "replica-b");
    wrong.ca_file = Some(other_file);
    assert!(
        Store::connect(&wrong).is_err(),
        "an unknown server was trusted"
    );
    Ok(())
}
