//! PostgreSQL for tests: a fresh database per test in a throwaway cluster.
//!
//! The cluster is the one named by `LINTAS_TEST_POSTGRES` (a URL, as
//! `.ci/postgres start` exports it), or else one this process starts with
//! the same script and that stops when the process ends. Each call to
//! [`database`] creates a new, empty database in it.

use std::process::Command;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

/// The environment variable naming a running test cluster.
pub const CLUSTER_VARIABLE: &str = "LINTAS_TEST_POSTGRES";

/// Why no test database could be made.
#[derive(Debug)]
pub struct Unavailable(pub String);

impl std::fmt::Display for Unavailable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "no test PostgreSQL: {}", self.0)
    }
}

impl std::error::Error for Unavailable {}

/// The script that makes throwaway clusters.
const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../.ci/postgres");

/// Starts a cluster that removes itself when this process ends; returns
/// its URL and directory.
fn start_cluster() -> Result<(String, String), Unavailable> {
    let out = Command::new(SCRIPT)
        .args(["start", "--until", &std::process::id().to_string()])
        .output()
        .map_err(|e| Unavailable(format!("cannot run {SCRIPT}: {e}")))?;
    if !out.status.success() {
        return Err(Unavailable(format!(
            "{SCRIPT} start failed: {}",
            String::from_utf8_lossy(&out.stderr)
        )));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let find = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("export {name}=")))
            .map(str::to_owned)
            .ok_or_else(|| Unavailable(format!("{SCRIPT} printed no {name}: {text}")))
    };
    Ok((find(CLUSTER_VARIABLE)?, find("LINTAS_TEST_POSTGRES_DIR")?))
}

/// The cluster's administrative URL (to its `postgres` database).
fn cluster() -> Result<&'static str, Unavailable> {
    static CLUSTER: OnceLock<Result<String, String>> = OnceLock::new();
    CLUSTER
        .get_or_init(|| match std::env::var(CLUSTER_VARIABLE) {
            Ok(url) => Ok(url),
            Err(_) => start_cluster().map(|(url, _)| url).map_err(|e| e.0),
        })
        .as_deref()
        .map_err(|e| Unavailable(e.clone()))
}

/// Drops the databases earlier test processes made and left behind (on a
/// cluster that outlives them, as a developer's `LINTAS_TEST_POSTGRES`
/// does, they would otherwise pile up: about 8 MB each). A database is
/// left while the process that made it (its name says which) still runs.
fn sweep(admin: &str) {
    // Whether a process runs is read from /proc: elsewhere, sweep nothing.
    if !std::path::Path::new("/proc/self").exists() {
        return;
    }
    let Ok(out) = Command::new("psql")
        .args([admin, "-At", "-c"])
        .arg("SELECT datname FROM pg_database WHERE datname LIKE 'lintas\\_test\\_%'")
        .output()
    else {
        return;
    };
    for name in String::from_utf8_lossy(&out.stdout).lines() {
        let pid = name
            .strip_prefix("lintas_test_")
            .and_then(|rest| rest.split('_').next())
            .and_then(|pid| pid.parse::<u32>().ok());
        let alive = pid.is_some_and(|pid| std::path::Path::new(&format!("/proc/{pid}")).exists());
        if pid.is_some() && !alive {
            let _ = Command::new("psql")
                .args([admin, "-q", "-c"])
                .arg(format!("DROP DATABASE IF EXISTS {name}"))
                .output();
        }
    }
}

/// A new empty database for one test; returns its URL.
///
/// # Errors
/// No cluster could be started or reached, or `psql` failed.
pub fn database() -> Result<String, Unavailable> {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    static SWEPT: OnceLock<()> = OnceLock::new();
    let admin = cluster()?;
    SWEPT.get_or_init(|| sweep(admin));
    let name = format!(
        "lintas_test_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::SeqCst)
    );
    let out = Command::new("psql")
        .args([admin, "-v", "ON_ERROR_STOP=1", "-q", "-c"])
        .arg(format!("CREATE DATABASE {name}"))
        .output()
        .map_err(|e| Unavailable(format!("cannot run psql: {e}")))?;
    if !out.status.success() {
        return Err(Unavailable(format!(
            "CREATE DATABASE failed: {}",
            String::from_utf8_lossy(&out.stderr)
        )));
    }
    let base = admin.rsplit_once('/').map_or(admin, |(base, _)| base);
    Ok(format!("{base}/{name}"))
}

/// A cluster of its own for one test that stops and starts the server
/// (the shared cluster must stay up for the other tests). Removed when
/// dropped.
#[derive(Debug)]
pub struct PrivateCluster {
    /// The URL of its `postgres` database.
    pub url: String,
    dir: String,
}

/// Runs `.ci/postgres` with `args`.
fn script(args: &[&str]) -> Result<(), Unavailable> {
    let out = Command::new(SCRIPT)
        .args(args)
        .output()
        .map_err(|e| Unavailable(format!("cannot run {SCRIPT}: {e}")))?;
    if !out.status.success() {
        return Err(Unavailable(format!(
            "{SCRIPT} {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        )));
    }
    Ok(())
}

impl PrivateCluster {
    /// Starts a new cluster.
    ///
    /// # Errors
    /// The cluster could not be made or started.
    pub fn start() -> Result<Self, Unavailable> {
        let (url, dir) = start_cluster()?;
        Ok(PrivateCluster { url, dir })
    }

    /// Stops the server (fast shutdown: connections are cut).
    ///
    /// # Errors
    /// The script failed.
    pub fn stop_server(&self) -> Result<(), Unavailable> {
        script(&["pause", &self.dir])
    }

    /// Restarts the server serving TLS with `cert` and `key` (PEM) and
    /// refusing connections without TLS.
    ///
    /// # Errors
    /// The files could not be written or the script failed.
    pub fn serve_tls(&self, cert: &str, key: &str) -> Result<(), Unavailable> {
        let cert_path = format!("{}/tls-server.crt", self.dir);
        let key_path = format!("{}/tls-server.key", self.dir);
        for (path, pem) in [(&cert_path, cert), (&key_path, key)] {
            std::fs::write(path, pem)
                .map_err(|e| Unavailable(format!("cannot write {path}: {e}")))?;
        }
        script(&["tls", &self.dir, &cert_path, &key_path])
    }

    /// Starts the server again on the same port.
    ///
    /// # Errors
    /// The script failed.
    pub fn start_server(&self) -> Result<(), Unavailable> {
        script(&["resume", &self.dir])
    }
}

impl Drop for PrivateCluster {
    fn drop(&mut self) {
        let _ = script(&["pause", &self.dir]);
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
