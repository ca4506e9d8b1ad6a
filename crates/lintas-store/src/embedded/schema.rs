//! The store's schema version and its migrations, applied in order when a
//! store is opened. A store records the number of migrations applied to it
//! (`schema_version` in the meta table); a store whose version is newer
//! than this build's is refused, never misread.
//!
//! To change the layout, add a function to [`MIGRATIONS`]: it runs once on
//! every existing store, in the same transaction that records the new
//! version, so a crash leaves the store at the old version or the new one.

use redb::{Database, ReadableTable, Table, WriteTransaction};

use super::{
    ACCESS_LOG, ATTACHMENT_CHUNKS, ATTACHMENTS, CASE_TIMELINE, CASES, COSIGNED, COUNTERS, CUSTODY,
    DEAD_LETTERS, DEADLINES, INBOX, LOG_ALARMS, LOG_ENTRIES, LOG_ENTRY_INDEX, LOG_NODES, META,
    NOTICES, OUTBOX, PEERS, QUOTAS, RECEIPTS, SUBMISSIONS, WITHHELD, WITNESSED, case_key,
};
use crate::records::{StoredNotice, decode};
use crate::{StoreError, db};

/// The meta-table key holding the schema version (8 bytes, big-endian).
const VERSION_KEY: &str = "schema_version";

type Migration = fn(&WriteTransaction) -> Result<(), StoreError>;

/// Version 1: every table of the first layout (notices keyed by id, inbox
/// and outbox by sequence, receipts, case index, counters, meta, peer retry
/// state, withheld victims, submissions by idempotency key). Stores made
/// before versioning had all but the last two; creating a table that exists
/// changes nothing.
fn v1_tables(txn: &WriteTransaction) -> Result<(), StoreError> {
    txn.open_table(NOTICES).map_err(db)?;
    txn.open_table(INBOX).map_err(db)?;
    txn.open_table(OUTBOX).map_err(db)?;
    txn.open_table(RECEIPTS).map_err(db)?;
    txn.open_table(CASES).map_err(db)?;
    txn.open_table(COUNTERS).map_err(db)?;
    txn.open_table(META).map_err(db)?;
    txn.open_table(PEERS).map_err(db)?;
    txn.open_table(WITHHELD).map_err(db)?;
    txn.open_table(SUBMISSIONS).map_err(db)?;
    Ok(())
}

/// Version 2: the dead letters, outbox entries a recipient refused for
/// good.
fn v2_dead_letters(txn: &WriteTransaction) -> Result<(), StoreError> {
    txn.open_table(DEAD_LETTERS).map_err(db)?;
    Ok(())
}

/// Version 3: the deadline index, filled from the notices already stored.
fn v3_deadlines(txn: &WriteTransaction) -> Result<(), StoreError> {
    let mut index = txn.open_table(DEADLINES).map_err(db)?;
    let notices = txn.open_table(NOTICES).map_err(db)?;
    for row in notices.iter().map_err(db)? {
        let (id, bytes) = row.map_err(db)?;
        let notice: StoredNotice = decode(bytes.value(), "notice")?;
        if notice.response_deadline != 0 {
            let key = deadline_key(notice.response_deadline, id.value());
            index.insert(key.as_slice(), ()).map_err(db)?;
        }
    }
    Ok(())
}

/// The deadline index key of a notice.
pub(crate) fn deadline_key(deadline: i64, id: &[u8]) -> Vec<u8> {
    let mut key = deadline.max(0).to_be_bytes().to_vec();
    key.extend_from_slice(id);
    key
}

/// The migrations, in order: after applying the first n, a store is at
/// version n.
const MIGRATIONS: &[Migration] = &[
    v1_tables,
    v2_dead_letters,
    v3_deadlines,
    v4_case_timeline,
    v5_quotas,
    v6_log,
    v7_witness,
    v8_attachments,
    v9_access_log,
];

/// Version 9: the access log of personal-data reads.
fn v9_access_log(txn: &WriteTransaction) -> Result<(), StoreError> {
    txn.open_table(ACCESS_LOG).map_err(db)?;
    Ok(())
}

/// Version 8: attachments (records and pieces) and their custody entries.
fn v8_attachments(txn: &WriteTransaction) -> Result<(), StoreError> {
    txn.open_table(ATTACHMENTS).map_err(db)?;
    txn.open_table(ATTACHMENT_CHUNKS).map_err(db)?;
    txn.open_table(CUSTODY).map_err(db)?;
    Ok(())
}

/// Version 7: witnessing (the checkpoints cosigned from peers' logs, the
/// cosignatures gathered for this node's, alarms) and the index of the
/// log's entries by digest (filled when first asked, from the entries
/// stored).
fn v7_witness(txn: &WriteTransaction) -> Result<(), StoreError> {
    txn.open_table(WITNESSED).map_err(db)?;
    txn.open_table(COSIGNED).map_err(db)?;
    txn.open_table(LOG_ALARMS).map_err(db)?;
    txn.open_table(LOG_ENTRY_INDEX).map_err(db)?;
    Ok(())
}

/// Version 6: the transparency log's entries and perfect subtrees.
fn v6_log(txn: &WriteTransaction) -> Result<(), StoreError> {
    txn.open_table(LOG_ENTRIES).map_err(db)?;
    txn.open_table(LOG_NODES).map_err(db)?;
    Ok(())
}

/// Version 5: each peer's daily quota, kept across restarts.
fn v5_quotas(txn: &WriteTransaction) -> Result<(), StoreError> {
    txn.open_table(QUOTAS).map_err(db)?;
    Ok(())
}

/// Version 4: a case's notices indexed in creation order (so a timeline
/// page reads only its entries), built from the notices stored; the old
/// `cases` index (by notice id) goes.
fn v4_case_timeline(txn: &WriteTransaction) -> Result<(), StoreError> {
    let mut index = txn.open_table(CASE_TIMELINE).map_err(db)?;
    let notices = txn.open_table(NOTICES).map_err(db)?;
    for row in notices.iter().map_err(db)? {
        let (id, bytes) = row.map_err(db)?;
        let notice: StoredNotice = decode(bytes.value(), "notice")?;
        if !notice.case_id.is_empty() {
            let key = case_key(&notice.case_id, &notice, id.value());
            index.insert(key.as_slice(), ()).map_err(db)?;
        }
    }
    drop(index);
    drop(notices);
    txn.delete_table(CASES).map_err(db)?;
    Ok(())
}

/// The schema version this build writes.
pub(crate) const CURRENT_VERSION: u64 = MIGRATIONS.len() as u64;

/// Reads the version from the meta table (0 when absent).
pub(crate) fn read_version(
    meta: &impl ReadableTable<&'static str, &'static [u8]>,
) -> Result<u64, StoreError> {
    let Some(value) = meta.get(VERSION_KEY).map_err(db)? else {
        return Ok(0);
    };
    let bytes: [u8; 8] = value.value().try_into().map_err(|_| StoreError::Corrupt {
        what: "schema version".into(),
        detail: format!("{} bytes, expected 8", value.value().len()),
    })?;
    Ok(u64::from_be_bytes(bytes))
}

fn write_version(
    meta: &mut Table<'_, &'static str, &'static [u8]>,
    version: u64,
) -> Result<(), StoreError> {
    meta.insert(VERSION_KEY, version.to_be_bytes().as_slice())
        .map_err(db)?;
    Ok(())
}

/// Brings the store at `path` to [`CURRENT_VERSION`], or refuses a newer
/// one. A store without a version that already held data predates
/// versioning: it has the version 1 layout.
pub(crate) fn migrate(database: &Database, path: &str) -> Result<(), StoreError> {
    let txn = database.begin_write().map_err(db)?;
    let found = {
        let meta = txn.open_table(META).map_err(db)?;
        read_version(&meta)?
    };
    if found > CURRENT_VERSION {
        return Err(StoreError::TooNew {
            path: path.to_owned(),
            found,
            supported: CURRENT_VERSION,
        });
    }
    for migration in MIGRATIONS
        .iter()
        .skip(usize::try_from(found).unwrap_or(usize::MAX))
    {
        migration(&txn)?;
    }
    if found != CURRENT_VERSION {
        let mut meta = txn.open_table(META).map_err(db)?;
        write_version(&mut meta, CURRENT_VERSION)?;
    }
    txn.commit().map_err(db)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Store;

    #[test]
    fn a_new_store_is_at_the_current_version_and_reopens() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("node.redb");
        let store = Store::open(&path).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(store.schema_version().ok(), Some(CURRENT_VERSION));
        store.close();
        let again = Store::open(&path).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(again.schema_version().ok(), Some(CURRENT_VERSION));
    }

    #[test]
    fn an_empty_file_is_refused_not_taken_as_a_new_store() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("node.redb");
        std::fs::write(&path, b"").unwrap_or_else(|e| panic!("{e}"));
        match Store::open(&path) {
            Err(StoreError::NotAStore { why, .. }) => assert!(why.contains("empty"), "{why}"),
            other => panic!("expected NotAStore, got {other:?}"),
        }
        // And it is left as it was.
        assert_eq!(std::fs::metadata(&path).map(|m| m.len()).ok(), Some(0));
    }

    #[test]
    fn a_file_that_is_not_a_database_is_refused() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("node.redb");
        std::fs::write(&path, vec![0x5A; 4096]).unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(
            Store::open(&path),
            Err(StoreError::NotAStore { .. })
        ));
    }

    #[test]
    fn a_store_from_a_newer_version_is_refused() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("node.redb");
        {
            let database = redb::Database::create(&path).unwrap_or_else(|e| panic!("{e}"));
            let txn = database.begin_write().unwrap_or_else(|e| panic!("{e}"));
            {
                let mut meta = txn.open_table(META).unwrap_or_else(|e| panic!("{e}"));
                write_version(&mut meta, CURRENT_VERSION + 1).unwrap_or_else(|e| panic!("{e}"));
            }
            txn.commit().unwrap_or_else(|e| panic!("{e}"));
        }
        match Store::open(&path) {
            Err(e @ StoreError::TooNew { .. }) => {
                assert!(e.to_string().contains("newer Lintas"), "{e}");
            }
            other => panic!("expected TooNew, got {other:?}"),
        }
    }

    #[test]
    fn a_store_from_before_versioning_is_migrated() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("node.redb");
        {
            let database = redb::Database::create(&path).unwrap_or_else(|e| panic!("{e}"));
            let txn = database.begin_write().unwrap_or_else(|e| panic!("{e}"));
            {
                let mut meta = txn.open_table(META).unwrap_or_else(|e| panic!("{e}"));
                meta.insert("roster", b"old".as_slice())
                    .unwrap_or_else(|e| panic!("{e}"));
            }
            txn.commit().unwrap_or_else(|e| panic!("{e}"));
        }
        let store = Store::open(&path).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(store.schema_version().ok(), Some(CURRENT_VERSION));
        assert_eq!(store.roster().ok().flatten(), Some(b"old".to_vec()));
    }
}
