//! The PostgreSQL store, for agencies that run several node replicas: they
//! share one database, and with it the inbox, outbox, receipts, cursors and
//! sequence numbers.
//!
//! How replicas share the work:
//! - **Numbers** (inbox cursors, outbox sequence, the agency's notice
//!   sequence) come from `lintas_counters`, each handed out under the
//!   counter row's lock, which the handing transaction holds until it
//!   commits: a number becomes visible only after every smaller one, so a
//!   reader that has seen cursor n has seen everything up to n.
//! - **Outbox**: a replica sends an entry only while it holds a claim on
//!   it ([`crate::Store::claim`]): the rows are locked `FOR UPDATE SKIP
//!   LOCKED` and marked with the replica's name and the end of the lease.
//!   A replica that dies holds its entries until the lease ends; then any
//!   other replica takes them.
//! - **Duplicates**: two replicas receiving one notice at once both insert
//!   it; the key refuses the second, whose transaction is retried and then
//!   finds the first. Two submissions with one idempotency key wait on each
//!   other through an advisory lock on the key.
//!
//! Connection settings are libpq's (a URL such as
//! `postgres://lintas@db.internal:5432/lintas?sslmode=require` or
//! `host=… user=… sslmode=require`). With `sslmode=require` the connection
//! is TLS (rustls), and the server's certificate must chain to the CA in
//! [`PostgresConfig::ca_file`] and name the host connected to; without it,
//! plain TCP or a Unix socket, for a database on the agency's own host or
//! network. `sslmode=prefer` (libpq's default, which falls back to plain
//! TCP when the server says no) is taken as plain TCP, never as TLS that a
//! machine in the middle could turn off.
//!
//! Calls block the calling thread, like the embedded store's: the node
//! makes them from its writer thread and from blocking tasks. The
//! connections themselves run on a small runtime the store owns.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use lintas_core::ids::NoticeId;
use tokio_postgres::{Client, NoTls};

use crate::StoreError;
use crate::records::{AttachmentRecord, OutboxEntry, PeerQuota, PeerRetry, StoredNotice, decode};
use crate::store::{Backend, Claimed, InboxEntry};
use crate::transaction::Transaction;

mod changes;
mod connection;
pub mod schema;

use changes::PgChanges;
use connection::Connection;

/// How to reach the database and how this replica behaves among the
/// others.
#[derive(Debug, Clone)]
pub struct PostgresConfig {
    /// libpq connection settings: `postgres://user@host:port/database` or
    /// `host=… port=… user=… dbname=…`.
    pub url: String,
    /// This replica's name among the agency's replicas (it marks the
    /// outbox entries it queues and holds). Two running replicas must not
    /// share one.
    pub replica: String,
    /// How long a claim on an outbox entry lasts: a replica that dies
    /// holds its entries this long before another sends them.
    pub lease: Duration,
    /// Longest wait for a connection to the database.
    pub connect_timeout: Duration,
    /// PEM file of the CA that issued the database server's certificate;
    /// required with `sslmode=require`, refused without it.
    pub ca_file: Option<std::path::PathBuf>,
}

impl PostgresConfig {
    /// Settings for `url` as replica `replica`, with a 15-second lease and
    /// a 10-second connect timeout.
    pub fn new(url: impl Into<String>, replica: impl Into<String>) -> Self {
        PostgresConfig {
            url: url.into(),
            replica: replica.into(),
            lease: Duration::from_secs(15),
            connect_timeout: Duration::from_secs(10),
            ca_file: None,
        }
    }

    /// The connection settings without a password, for messages.
    fn shown(&self) -> String {
        match self.url.parse::<tokio_postgres::Config>() {
            Ok(c) => {
                let hosts: Vec<String> = c
                    .get_hosts()
                    .iter()
                    .map(|h| match h {
                        tokio_postgres::config::Host::Tcp(name) => name.clone(),
                        tokio_postgres::config::Host::Unix(path) => path.display().to_string(),
                    })
                    .collect();
                format!(
                    "postgres database {} on {} (port {})",
                    c.get_dbname().unwrap_or("(default)"),
                    hosts.join(","),
                    c.get_ports()
                        .iter()
                        .map(u16::to_string)
                        .collect::<Vec<_>>()
                        .join(",")
                )
            }
            Err(_) => "postgres database".to_owned(),
        }
    }
}

/// Waits for `future` on the calling thread. The connections are driven by
/// the store's own runtime, so this works from any thread, also one that
/// is running other asynchronous work.
pub(crate) fn block<F: Future>(future: F) -> F::Output {
    futures_executor::block_on(future)
}

/// The TLS connector for `sslmode=require`, trusting only the CA in
/// `ca_file`; `None` for plain connections.
fn tls(
    config: &PostgresConfig,
    pg: &tokio_postgres::Config,
) -> Result<Option<tokio_postgres_rustls::MakeRustlsConnect>, StoreError> {
    use rustls_pki_types::CertificateDer;
    use rustls_pki_types::pem::PemObject;
    use tokio_postgres::config::SslMode;
    let require = matches!(pg.get_ssl_mode(), SslMode::Require);
    let ca_file = match (&config.ca_file, require) {
        (None, false) => return Ok(None),
        (None, true) => {
            return Err(StoreError::Config(
                "sslmode=require needs the CA of the database server's certificate ([postgres] ca_file)".into(),
            ));
        }
        (Some(path), false) => {
            return Err(StoreError::Config(format!(
                "[postgres] ca_file {} is set but the connection settings do not say sslmode=require: add it, so that the connection cannot fall back to plain TCP",
                path.display()
            )));
        }
        (Some(path), true) => path,
    };
    let shown = ca_file.display();
    let mut roots = rustls::RootCertStore::empty();
    let certs = CertificateDer::pem_file_iter(ca_file)
        .map_err(|e| StoreError::Config(format!("ca_file {shown}: {e}")))?;
    for cert in certs {
        let cert = cert.map_err(|e| StoreError::Config(format!("ca_file {shown}: {e}")))?;
        roots
            .add(cert)
            .map_err(|e| StoreError::Config(format!("ca_file {shown}: {e}")))?;
    }
    if roots.is_empty() {
        return Err(StoreError::Config(format!(
            "ca_file {shown}: no certificate in it"
        )));
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let client = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| StoreError::Config(format!("TLS to the database: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Some(tokio_postgres_rustls::MakeRustlsConnect::new(client)))
}

/// A store in a PostgreSQL database.
pub(crate) struct Postgres {
    config: PostgresConfig,
    pg: tokio_postgres::Config,
    /// TLS to the database, with `sslmode=require`.
    tls: Option<tokio_postgres_rustls::MakeRustlsConnect>,
    /// Drives the connections; shut down in the background on drop (a
    /// store may be dropped inside another runtime).
    runtime: Option<tokio::runtime::Runtime>,
    /// The connection for write transactions (one at a time per replica;
    /// the node's group commit batches its changes).
    writer: Mutex<Option<Connection>>,
    /// The connection for reads (concurrent reads are pipelined on it).
    reader: Mutex<Option<Arc<Connection>>>,
    closed: AtomicBool,
    failing: AtomicBool,
    injected_fault: AtomicBool,
}

impl std::fmt::Debug for Postgres {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Postgres")
            .field("database", &self.config.shown())
            .field("replica", &self.config.replica)
            .finish_non_exhaustive()
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// Whether a database error means the database cannot take writes now (a
/// lost connection, a full disk, a server shutting down), as opposed to a
/// refused statement.
fn is_outage(e: &tokio_postgres::Error) -> bool {
    if e.is_closed() {
        return true;
    }
    match e.code() {
        // Connection exceptions (08), insufficient resources (53: disk
        // full, out of memory), operator intervention (57: shutdown), system
        // errors (58: I/O).
        Some(code) => ["08", "53", "57", "58"]
            .iter()
            .any(|class| code.code().starts_with(class)),
        // No SQLSTATE: the connection or the socket failed.
        None => true,
    }
}

impl Postgres {
    pub(crate) fn connect(config: &PostgresConfig) -> Result<Self, StoreError> {
        let mut pg: tokio_postgres::Config =
            config.url.parse().map_err(|e: tokio_postgres::Error| {
                StoreError::Config(format!("postgres connection settings: {e}"))
            })?;
        pg.connect_timeout(config.connect_timeout);
        if pg.get_application_name().is_none() {
            pg.application_name(format!("lintas {}", config.replica));
        }
        if config.replica.is_empty() || config.replica.len() > 128 {
            return Err(StoreError::Config(format!(
                "replica name must be 1-128 characters, found {}",
                config.replica.len()
            )));
        }
        let tls = tls(config, &pg)?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("lintas-postgres")
            .enable_all()
            .build()
            .map_err(|e| StoreError::Config(format!("cannot start the database runtime: {e}")))?;
        let store = Postgres {
            config: config.clone(),
            pg,
            tls,
            runtime: Some(runtime),
            writer: Mutex::new(None),
            reader: Mutex::new(None),
            closed: AtomicBool::new(false),
            failing: AtomicBool::new(false),
            injected_fault: AtomicBool::new(false),
        };
        let shown = config.shown();
        let mut writer = store.open_connection()?;
        let txn = block(writer.transaction())?;
        schema::migrate(&txn, &shown)?;
        block(txn.commit())?;
        *store.writer.lock().unwrap_or_else(|e| e.into_inner()) = Some(Connection::new(writer));
        Ok(store)
    }

    /// Opens a connection, driven by the store's runtime.
    fn open_connection(&self) -> Result<Client, StoreError> {
        let runtime = self.runtime.as_ref().ok_or(StoreError::Closed)?;
        let pg = self.pg.clone();
        let tls = self.tls.clone();
        // A failed connection shows in the next call on its client
        // (`is_closed`), which opens another.
        let connecting = runtime.spawn(async move {
            match tls {
                Some(tls) => {
                    let (client, connection) = pg.connect(tls).await?;
                    tokio::spawn(connection);
                    Ok::<_, tokio_postgres::Error>(client)
                }
                None => {
                    let (client, connection) = pg.connect(NoTls).await?;
                    tokio::spawn(connection);
                    Ok(client)
                }
            }
        });
        match block(connecting) {
            Ok(connected) => connected.map_err(|e| self.failed(e.into())),
            Err(_) => Err(StoreError::Closed),
        }
    }

    /// Marks the store failing when `e` is an outage.
    fn failed(&self, e: StoreError) -> StoreError {
        if let StoreError::Postgres(pg) = &e
            && is_outage(pg)
        {
            self.failing.store(true, Ordering::SeqCst);
        }
        e
    }

    /// The reading connection, opened again if it was lost.
    fn reader(&self) -> Result<Arc<Connection>, StoreError> {
        if self.closed.load(Ordering::SeqCst) {
            return Err(StoreError::Closed);
        }
        let mut slot = self.reader.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(client) = slot.as_ref()
            && !client.is_closed()
        {
            return Ok(Arc::clone(client));
        }
        let client = Arc::new(Connection::new(self.open_connection()?));
        *slot = Some(Arc::clone(&client));
        Ok(client)
    }

    /// Runs one read on the reading connection.
    fn read<T>(
        &self,
        f: impl AsyncFnOnce(&Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let client = self.reader()?;
        block(f(&client)).map_err(|e| self.failed(e))
    }

    /// Runs `f` in a transaction on the writing connection (opened again
    /// if it was lost) and commits.
    fn in_transaction(
        &self,
        f: &mut dyn FnMut(
            &tokio_postgres::Transaction<'_>,
            &connection::Prepared,
        ) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        if self.closed.load(Ordering::SeqCst) {
            return Err(StoreError::Closed);
        }
        if self.injected_fault.load(Ordering::SeqCst) {
            self.failing.store(true, Ordering::SeqCst);
            return Err(StoreError::Config(
                "injected fault: the database refuses writes (disk full)".into(),
            ));
        }
        let mut slot = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        if slot.as_ref().is_none_or(Connection::is_closed) {
            *slot = None;
            *slot = Some(Connection::new(self.open_connection()?));
        }
        let Some(Connection { client, prepared }) = slot.as_mut() else {
            return Err(StoreError::Closed);
        };
        let txn = block(client.transaction()).map_err(|e| self.failed(e.into()))?;
        f(&txn, prepared).map_err(|e| self.failed(e))?;
        block(txn.commit()).map_err(|e| self.failed(e.into()))
    }
}

/// Converts a stored 64-bit number.
pub(crate) fn to_u64(v: i64, what: &str) -> Result<u64, StoreError> {
    u64::try_from(v).map_err(|_| StoreError::Corrupt {
        what: what.to_owned(),
        detail: format!("negative value {v}"),
    })
}

/// Converts a number to store.
pub(crate) fn to_i64(v: u64, what: &str) -> Result<i64, StoreError> {
    i64::try_from(v).map_err(|_| StoreError::Corrupt {
        what: what.to_owned(),
        detail: format!("{v} is beyond what the database stores"),
    })
}

fn limit(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn id_of(bytes: &[u8], what: &str) -> Result<NoticeId, StoreError> {
    <[u8; 32]>::try_from(bytes)
        .map(NoticeId::from_bytes)
        .map_err(|_| StoreError::Corrupt {
            what: what.to_owned(),
            detail: format!("notice id of {} bytes", bytes.len()),
        })
}

/// The position of a notice in its case's timeline (the embedded store's
/// index key after the case id): seconds, nanoseconds, id.
fn timeline_position(created_at: i64, nanos: i32, id: &[u8]) -> Vec<u8> {
    let mut key = Vec::with_capacity(44);
    key.extend_from_slice(&created_at.max(0).to_be_bytes());
    key.extend_from_slice(&nanos.to_be_bytes());
    key.extend_from_slice(id);
    key
}

/// Splits a 44-byte timeline position or a 40-byte deadline key: (number,
/// nanoseconds if any, id).
fn split_position(after: &[u8], with_nanos: bool) -> Option<(i64, i32, Vec<u8>)> {
    let secs = i64::from_be_bytes(after.get(..8)?.try_into().ok()?);
    if with_nanos {
        let nanos = i32::from_be_bytes(after.get(8..12)?.try_into().ok()?);
        Some((secs, nanos, after.get(12..)?.to_vec()))
    } else {
        Some((secs, 0, after.get(8..)?.to_vec()))
    }
}

impl Backend for Postgres {
    fn write(
        &self,
        changes: &mut dyn FnMut(&Transaction<'_>) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let replica = self.config.replica.as_str();
        self.in_transaction(&mut |txn, prepared| {
            let open = PgChanges::new(txn, prepared, replica);
            changes(&Transaction::new(&open))?;
            open.finish()
        })
    }

    fn schema_version(&self) -> Result<u64, StoreError> {
        self.read(async |c| {
            let row = c
                .query_opt(
                    "SELECT value FROM lintas_meta WHERE name = 'schema_version'",
                    &[],
                )
                .await?;
            row.map_or(Ok(0), |r| schema::decode_version(&r))
        })
    }

    fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
        self.writer.lock().unwrap_or_else(|e| e.into_inner()).take();
        self.reader.lock().unwrap_or_else(|e| e.into_inner()).take();
    }

    fn is_failing(&self) -> bool {
        self.failing.load(Ordering::SeqCst)
    }

    fn recover(&self) -> Result<(), StoreError> {
        if self.injected_fault.load(Ordering::SeqCst) {
            return Err(StoreError::Config(
                "injected fault: the database refuses writes (disk full)".into(),
            ));
        }
        // A write that reaches the disk: a commit with no change writes
        // nothing.
        self.in_transaction(&mut |txn, _| {
            block(txn.execute(
                "INSERT INTO lintas_meta (name, value) VALUES ('write_probe', $1)
                 ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value",
                &[&crate::unix_seconds().to_be_bytes().as_slice()],
            ))?;
            Ok(())
        })?;
        self.failing.store(false, Ordering::SeqCst);
        Ok(())
    }

    fn inject_disk_full(&self, on: bool) {
        self.injected_fault.store(on, Ordering::SeqCst);
    }

    fn shared(&self) -> bool {
        true
    }

    fn claim(&self, seqs: &[u64], now_ms: i64) -> Result<Claimed, StoreError> {
        let wanted = seqs
            .iter()
            .map(|s| to_i64(*s, "outbox sequence"))
            .collect::<Result<Vec<i64>, _>>()?;
        let replica = self.config.replica.clone();
        let lease = i64::try_from(self.config.lease.as_millis()).unwrap_or(i64::MAX);
        self.read(async |c| {
            // Rows another transaction holds right now are skipped, not
            // waited for; free rows (unclaimed, ours, or with a lapsed
            // lease) become ours until the lease ends. Leases run on the
            // database's clock, so replicas' clocks need not agree.
            let claimed = c
                .query(
                    "WITH free AS (
                         SELECT seq FROM lintas_outbox
                         WHERE seq = ANY($1)
                           AND (claimed_by IS NULL OR claimed_by = $2
                                OR claim_until <= (extract(epoch FROM now()) * 1000)::bigint)
                         FOR UPDATE SKIP LOCKED)
                     UPDATE lintas_outbox o
                     SET claimed_by = $2,
                         claim_until = (extract(epoch FROM now()) * 1000)::bigint + $3
                     FROM free WHERE o.seq = free.seq
                     RETURNING o.entry",
                    &[&wanted, &replica, &lease],
                )
                .await?;
            let mut out = Claimed::default();
            for row in claimed {
                let bytes: Vec<u8> = row.try_get(0)?;
                out.entries.push(decode(&bytes, "outbox entry")?);
            }
            let got: std::collections::BTreeSet<u64> = out.entries.iter().map(|e| e.seq).collect();
            let rest: Vec<i64> = wanted
                .iter()
                .copied()
                .filter(|s| u64::try_from(*s).is_ok_and(|s| !got.contains(&s)))
                .collect();
            if !rest.is_empty() {
                for row in c
                    .query(
                        "SELECT seq, claim_until - (extract(epoch FROM now()) * 1000)::bigint
                         FROM lintas_outbox WHERE seq = ANY($1)",
                        &[&rest],
                    )
                    .await?
                {
                    let seq = to_u64(row.try_get(0)?, "outbox sequence")?;
                    let left: i64 = row.try_get(1)?;
                    // Held by another replica: when its lease ends (never
                    // later than one lease from now). Held by a transaction
                    // at this instant: look again soon.
                    let again = if left > 0 {
                        now_ms.saturating_add(left.min(lease))
                    } else {
                        now_ms.saturating_add(lease / 10)
                    };
                    out.busy.push((seq, again));
                }
            }
            Ok(out)
        })
    }

    fn outbox_from_others(
        &self,
        after: u64,
        limit_n: usize,
    ) -> Result<Vec<OutboxEntry>, StoreError> {
        let after = to_i64(after, "outbox sequence")?;
        let replica = self.config.replica.clone();
        self.read(async |c| {
            let rows = c
                .query(
                    "SELECT entry FROM lintas_outbox WHERE seq > $1 AND created_by <> $2
                     ORDER BY seq LIMIT $3",
                    &[&after, &replica, &limit(limit_n)],
                )
                .await?;
            rows.iter()
                .map(|r| decode(r.try_get::<_, &[u8]>(0)?, "outbox entry"))
                .collect()
        })
    }

    fn last_sequence(&self) -> Result<u64, StoreError> {
        self.read(async |c| counter(c, "sequence").await)
    }

    fn last_inbox_cursor(&self) -> Result<u64, StoreError> {
        self.read(async |c| counter(c, "inbox").await)
    }

    fn notices(&self, ids: &[NoticeId]) -> Result<Vec<Option<StoredNotice>>, StoreError> {
        let keys: Vec<&[u8]> = ids.iter().map(|id| id.as_bytes().as_slice()).collect();
        let found = self.read(async |c| {
            let rows = c
                .query(
                    "SELECT id, record FROM lintas_notices WHERE id = ANY($1)",
                    &[&keys],
                )
                .await?;
            let mut found = std::collections::BTreeMap::new();
            for row in rows {
                let id = id_of(row.try_get(0)?, "notice key")?;
                let record: StoredNotice =
                    decode(row.try_get::<_, &[u8]>(1)?, &format!("notice {id}"))?;
                found.insert(id, record);
            }
            Ok(found)
        })?;
        Ok(ids.iter().map(|id| found.get(id).cloned()).collect())
    }

    fn outbox_entries(&self, seqs: &[u64]) -> Result<Vec<OutboxEntry>, StoreError> {
        let wanted = seqs
            .iter()
            .map(|s| to_i64(*s, "outbox sequence"))
            .collect::<Result<Vec<i64>, _>>()?;
        let mut entries: Vec<OutboxEntry> = self.read(async |c| {
            let rows = c
                .query(
                    "SELECT entry FROM lintas_outbox WHERE seq = ANY($1)",
                    &[&wanted],
                )
                .await?;
            rows.iter()
                .map(|r| decode(r.try_get::<_, &[u8]>(0)?, "outbox entry"))
                .collect()
        })?;
        let order: std::collections::BTreeMap<u64, usize> =
            seqs.iter().enumerate().map(|(i, s)| (*s, i)).collect();
        entries.sort_by_key(|e| order.get(&e.seq).copied().unwrap_or(usize::MAX));
        Ok(entries)
    }

    fn log_size(&self) -> Result<u64, StoreError> {
        self.read(async |c| {
            let row = c
                .query_opt("SELECT value FROM lintas_counters WHERE name = 'log'", &[])
                .await?;
            match row {
                Some(r) => to_u64(r.try_get(0)?, "log"),
                None => Ok(0),
            }
        })
    }

    fn log_entry(&self, index: u64) -> Result<Option<Vec<u8>>, StoreError> {
        let idx = to_i64(index, "log index")?;
        self.read(async |c| {
            let row = c
                .query_opt(
                    "SELECT entry FROM lintas_log_entries WHERE idx = $1",
                    &[&idx],
                )
                .await?;
            Ok(row.map(|r| r.try_get::<_, Vec<u8>>(0)).transpose()?)
        })
    }

    fn log_node(&self, level: u8, index: u64) -> Result<Option<[u8; 32]>, StoreError> {
        let idx = to_i64(index, "log index")?;
        self.read(async |c| {
            let row = c
                .query_opt(
                    "SELECT hash FROM lintas_log_nodes WHERE level = $1 AND idx = $2",
                    &[&i16::from(level), &idx],
                )
                .await?;
            match row {
                Some(r) => Ok(Some(crate::records::hash32(r.try_get(0)?, "log node")?)),
                None => Ok(None),
            }
        })
    }

    fn log_index_of(&self, entry_sha256: &[u8; 32]) -> Result<Option<u64>, StoreError> {
        let digest = entry_sha256.to_vec();
        self.read(async |c| {
            let row = c
                .query_opt(
                    "SELECT idx FROM lintas_log_entries WHERE sha256(entry) = $1 ORDER BY idx LIMIT 1",
                    &[&digest],
                )
                .await?;
            row.map(|r| to_u64(r.try_get(0)?, "log index")).transpose()
        })
    }

    fn witnessed_logs(&self) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        self.read(async |c| {
            let rows = c
                .query(
                    "SELECT origin, checkpoint FROM lintas_witnessed ORDER BY origin",
                    &[],
                )
                .await?;
            rows.iter()
                .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
                .collect()
        })
    }

    fn cosigned(&self) -> Result<Vec<(String, u64, Vec<u8>)>, StoreError> {
        self.read(async |c| {
            let rows = c
                .query(
                    "SELECT witness, size, cosigned FROM lintas_cosigned ORDER BY witness",
                    &[],
                )
                .await?;
            rows.iter()
                .map(|r| {
                    Ok((
                        r.try_get(0)?,
                        to_u64(r.try_get(1)?, "log size")?,
                        r.try_get(2)?,
                    ))
                })
                .collect()
        })
    }

    fn attachment(&self, sha256: &[u8; 32]) -> Result<Option<AttachmentRecord>, StoreError> {
        let key = sha256.to_vec();
        self.read(async |c| {
            let row = c
                .query_opt(
                    "SELECT record FROM lintas_attachments WHERE sha256 = $1",
                    &[&key],
                )
                .await?;
            match row {
                Some(r) => Ok(Some(decode(r.try_get(0)?, "attachment")?)),
                None => Ok(None),
            }
        })
    }

    fn attachment_chunk(
        &self,
        sha256: &[u8; 32],
        index: u32,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let key = sha256.to_vec();
        let Ok(idx) = i32::try_from(index) else {
            return Ok(None);
        };
        self.read(async |c| {
            let row = c
                .query_opt(
                    "SELECT data FROM lintas_attachment_chunks WHERE sha256 = $1 AND idx = $2",
                    &[&key, &idx],
                )
                .await?;
            Ok(row.map(|r| r.try_get::<_, Vec<u8>>(0)).transpose()?)
        })
    }

    fn attachments_to_fetch(&self) -> Result<Vec<([u8; 32], AttachmentRecord)>, StoreError> {
        self.read(async |c| {
            let rows = c
                .query(
                    "SELECT sha256, record FROM lintas_attachments ORDER BY sha256",
                    &[],
                )
                .await?;
            let mut out = Vec::new();
            for r in &rows {
                let record: AttachmentRecord = decode(r.try_get(1)?, "attachment")?;
                if !record.complete && !record.fetch_from.is_empty() {
                    out.push((
                        crate::records::hash32(r.try_get(0)?, "attachment key")?,
                        record,
                    ));
                }
            }
            Ok(out)
        })
    }

    fn custody(&self, sha256: &[u8; 32]) -> Result<Vec<Vec<u8>>, StoreError> {
        let key = sha256.to_vec();
        self.read(async |c| {
            let rows = c
                .query(
                    "SELECT entry FROM lintas_custody WHERE sha256 = $1 ORDER BY seq",
                    &[&key],
                )
                .await?;
            rows.iter().map(|r| Ok(r.try_get(0)?)).collect()
        })
    }

    fn access_log(&self, after: u64, limit: usize) -> Result<Vec<(u64, Vec<u8>)>, StoreError> {
        let after = i64::try_from(after).unwrap_or(i64::MAX);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.read(async |c| {
            let rows = c
                .query(
                    "SELECT seq, record FROM lintas_access_log WHERE seq > $1 ORDER BY seq LIMIT $2",
                    &[&after, &limit],
                )
                .await?;
            rows.iter()
                .map(|r| Ok((to_u64(r.try_get(0)?, "access record")?, r.try_get(1)?)))
                .collect()
        })
    }

    fn log_alarms(&self) -> Result<Vec<(u64, Vec<u8>)>, StoreError> {
        self.read(async |c| {
            let rows = c
                .query(
                    "SELECT seq, evidence FROM lintas_log_alarms ORDER BY seq",
                    &[],
                )
                .await?;
            rows.iter()
                .map(|r| Ok((to_u64(r.try_get(0)?, "log alarm")?, r.try_get(1)?)))
                .collect()
        })
    }

    fn quotas(&self) -> Result<Vec<(String, PeerQuota)>, StoreError> {
        self.read(async |c| {
            let rows = c
                .query(
                    "SELECT peer, available_kib, at_ms FROM lintas_peer_quotas ORDER BY peer",
                    &[],
                )
                .await?;
            rows.iter()
                .map(|r| {
                    Ok((
                        r.try_get::<_, String>(0)?,
                        PeerQuota {
                            available_kib: r.try_get(1)?,
                            at_ms: r.try_get(2)?,
                        },
                    ))
                })
                .collect()
        })
    }

    fn peer_retries(&self) -> Result<Vec<(String, PeerRetry)>, StoreError> {
        self.read(async |c| {
            let rows = c
                .query("SELECT peer, retry FROM lintas_peers ORDER BY peer", &[])
                .await?;
            rows.iter()
                .map(|r| {
                    Ok((
                        r.try_get::<_, String>(0)?,
                        decode(r.try_get::<_, &[u8]>(1)?, "peer retry")?,
                    ))
                })
                .collect()
        })
    }

    fn inbox_after(&self, after: u64, limit_n: usize) -> Result<Vec<InboxEntry>, StoreError> {
        let after = to_i64(after, "inbox cursor")?;
        self.read(async |c| {
            let rows = c
                .query(
                    "SELECT i.cursor, i.notice_id, n.record FROM lintas_inbox i
                     JOIN lintas_notices n ON n.id = i.notice_id
                     WHERE i.cursor > $1 ORDER BY i.cursor LIMIT $2",
                    &[&after, &limit(limit_n)],
                )
                .await?;
            rows.iter()
                .map(|r| {
                    Ok(InboxEntry {
                        cursor: to_u64(r.try_get(0)?, "inbox cursor")?,
                        id: id_of(r.try_get(1)?, "inbox entry")?,
                        notice: decode(r.try_get::<_, &[u8]>(2)?, "inbox notice")?,
                    })
                })
                .collect()
        })
    }

    fn case_page(
        &self,
        case_id: &str,
        after: &[u8],
        limit_n: usize,
    ) -> Result<Vec<(Vec<u8>, NoticeId, StoredNotice)>, StoreError> {
        let start = if after.is_empty() {
            None
        } else {
            Some(
                split_position(after, true).ok_or_else(|| StoreError::Corrupt {
                    what: "timeline position".into(),
                    detail: format!("{} bytes, expected 44", after.len()),
                })?,
            )
        };
        let case_id = case_id.to_owned();
        self.read(async |c| {
            let rows = match &start {
                None => {
                    c.query(
                        "SELECT created_at, created_nanos, id, record FROM lintas_notices
                         WHERE case_id = $1 AND case_id <> ''
                         ORDER BY created_at, created_nanos, id LIMIT $2",
                        &[&case_id, &limit(limit_n)],
                    )
                    .await?
                }
                Some((secs, nanos, id)) => {
                    c.query(
                        "SELECT created_at, created_nanos, id, record FROM lintas_notices
                         WHERE case_id = $1 AND case_id <> ''
                           AND (created_at, created_nanos, id) > ($2, $3, $4)
                         ORDER BY created_at, created_nanos, id LIMIT $5",
                        &[&case_id, secs, nanos, id, &limit(limit_n)],
                    )
                    .await?
                }
            };
            rows.iter()
                .map(|r| {
                    let raw: &[u8] = r.try_get(2)?;
                    let id = id_of(raw, "case timeline key")?;
                    Ok((
                        timeline_position(r.try_get(0)?, r.try_get(1)?, raw),
                        id,
                        decode(r.try_get::<_, &[u8]>(3)?, "case notice")?,
                    ))
                })
                .collect()
        })
    }

    fn notices_after(
        &self,
        after: Option<&NoticeId>,
        limit: usize,
    ) -> Result<Vec<(NoticeId, StoredNotice)>, StoreError> {
        let after: Vec<u8> = after.map(|a| a.as_bytes().to_vec()).unwrap_or_default();
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.read(async |c| {
            let rows = c
                .query(
                    "SELECT id, record FROM lintas_notices WHERE id > $1 ORDER BY id LIMIT $2",
                    &[&after, &limit],
                )
                .await?;
            rows.iter()
                .map(|r| {
                    Ok((
                        id_of(r.try_get(0)?, "notice key")?,
                        decode(r.try_get::<_, &[u8]>(1)?, "notice")?,
                    ))
                })
                .collect()
        })
    }

    fn compact(&self) -> Result<(), StoreError> {
        self.read(async |c| {
            c.client.batch_execute("VACUUM lintas_notices").await?;
            Ok(())
        })
    }

    fn all_notices(&self) -> Result<Vec<(NoticeId, StoredNotice)>, StoreError> {
        self.read(async |c| {
            let rows = c
                .query("SELECT id, record FROM lintas_notices ORDER BY id", &[])
                .await?;
            rows.iter()
                .map(|r| {
                    Ok((
                        id_of(r.try_get(0)?, "notice key")?,
                        decode(r.try_get::<_, &[u8]>(1)?, "notice")?,
                    ))
                })
                .collect()
        })
    }

    fn deadlines_until(
        &self,
        until: i64,
        after: &[u8],
        limit_n: usize,
    ) -> Result<Vec<(Vec<u8>, NoticeId, StoredNotice)>, StoreError> {
        let start = if after.is_empty() {
            (i64::MIN, Vec::new())
        } else {
            let (secs, _, id) =
                split_position(after, false).ok_or_else(|| StoreError::Corrupt {
                    what: "deadline position".into(),
                    detail: format!("{} bytes, expected 40", after.len()),
                })?;
            (secs, id)
        };
        self.read(async |c| {
            let rows = c
                .query(
                    "SELECT greatest(response_deadline, 0), id, record FROM lintas_notices
                     WHERE response_deadline <> 0 AND greatest(response_deadline, 0) <= $1
                       AND (greatest(response_deadline, 0), id) > ($2, $3)
                     ORDER BY greatest(response_deadline, 0), id LIMIT $4",
                    &[&until.max(0), &start.0, &start.1, &limit(limit_n)],
                )
                .await?;
            rows.iter()
                .map(|r| {
                    let deadline: i64 = r.try_get(0)?;
                    let raw: &[u8] = r.try_get(1)?;
                    let mut key = deadline.to_be_bytes().to_vec();
                    key.extend_from_slice(raw);
                    Ok((
                        key,
                        id_of(raw, "deadline key")?,
                        decode(r.try_get::<_, &[u8]>(2)?, "notice")?,
                    ))
                })
                .collect()
        })
    }

    fn receipts(&self, id: &NoticeId) -> Result<Vec<(u8, String, Vec<u8>)>, StoreError> {
        let key = id.as_bytes().to_vec();
        self.read(async |c| {
            let rows = c
                .query(
                    "SELECT stage, receiver, receipt FROM lintas_receipts
                     WHERE notice_id = $1 ORDER BY stage, receiver",
                    &[&key],
                )
                .await?;
            rows.iter()
                .map(|r| {
                    let stage: i16 = r.try_get(0)?;
                    let stage = u8::try_from(stage).map_err(|_| StoreError::Corrupt {
                        what: "receipt".into(),
                        detail: format!("stage {stage}"),
                    })?;
                    Ok((stage, r.try_get(1)?, r.try_get(2)?))
                })
                .collect()
        })
    }

    fn outbox_after(&self, after: u64, limit_n: usize) -> Result<Vec<OutboxEntry>, StoreError> {
        let after = to_i64(after, "outbox sequence")?;
        self.read(async |c| {
            let rows = c
                .query(
                    "SELECT entry FROM lintas_outbox WHERE seq > $1 ORDER BY seq LIMIT $2",
                    &[&after, &limit(limit_n)],
                )
                .await?;
            rows.iter()
                .map(|r| decode(r.try_get::<_, &[u8]>(0)?, "outbox entry"))
                .collect()
        })
    }

    fn withheld_from(&self, case_id: &str, victim_id: &str) -> Result<Vec<String>, StoreError> {
        let (case_id, victim_id) = (case_id.to_owned(), victim_id.to_owned());
        self.read(async |c| {
            let row = c
                .query_opt(
                    "SELECT states FROM lintas_withheld WHERE case_id = $1 AND victim_id = $2",
                    &[&case_id, &victim_id],
                )
                .await?;
            Ok(match row {
                Some(r) => r
                    .try_get::<_, &str>(0)?
                    .split(',')
                    .map(str::to_owned)
                    .collect(),
                None => Vec::new(),
            })
        })
    }

    fn submission(&self, key: &str) -> Result<Option<([u8; 32], u64)>, StoreError> {
        let key = key.to_owned();
        self.read(async |c| {
            let row = c
                .query_opt(
                    "SELECT notice_id, sequence FROM lintas_submissions WHERE key = $1",
                    &[&key],
                )
                .await?;
            row.map(|r| changes::submission_row(&r)).transpose()
        })
    }

    fn dead_letters(&self) -> Result<Vec<OutboxEntry>, StoreError> {
        self.read(async |c| {
            let rows = c
                .query("SELECT entry FROM lintas_dead_letters ORDER BY seq", &[])
                .await?;
            rows.iter()
                .map(|r| decode(r.try_get::<_, &[u8]>(0)?, "dead letter"))
                .collect()
        })
    }

    fn roster(&self) -> Result<Option<Vec<u8>>, StoreError> {
        self.read(async |c| {
            let row = c
                .query_opt("SELECT value FROM lintas_meta WHERE name = 'roster'", &[])
                .await?;
            Ok(row.map(|r| r.try_get(0)).transpose()?)
        })
    }

    fn roster_history(&self) -> Result<Vec<Vec<u8>>, StoreError> {
        self.read(async |c| {
            let rows = c
                .query(
                    "SELECT value FROM lintas_meta WHERE name LIKE 'roster/%' ORDER BY name",
                    &[],
                )
                .await?;
            rows.iter().map(|r| Ok(r.try_get(0)?)).collect()
        })
    }
}

/// The current value of a counter (0 before its first use).
async fn counter(c: &Connection, name: &'static str) -> Result<u64, StoreError> {
    let row = c
        .query_opt(
            "SELECT value FROM lintas_counters WHERE name = $1",
            &[&name],
        )
        .await?;
    match row {
        Some(r) => to_u64(r.try_get(0)?, name),
        None => Ok(0),
    }
}
