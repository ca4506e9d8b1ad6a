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

/// The cluster's administrative URL (to its `postgres` database).
fn cluster() -> Result<&'static str, Unavailable> {
    static CLUSTER: OnceLock<Result<String, String>> = OnceLock::new();
    CLUSTER
        .get_or_init(|| {
            if let Ok(url) = std::env::var(CLUSTER_VARIABLE) {
                return Ok(url);
            }
            let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../.ci/postgres");
            let out = Command::new(script)
                .args(["start", "--until", &std::process::id().to_string()])
                .output()
                .map_err(|e| format!("cannot run {script}: {e}"))?;
            if !out.status.success() {
                return Err(format!(
                    "{script} start failed: {}",
                    String::from_utf8_lossy(&out.stderr)
                ));
            }
            let text = String::from_utf8_lossy(&out.stdout);
            text.lines()
                .find_map(|l| l.strip_prefix(&format!("export {CLUSTER_VARIABLE}=")))
                .map(str::to_owned)
                .ok_or_else(|| format!("{script} printed no URL: {text}"))
        })
        .as_deref()
        .map_err(|e| Unavailable(e.clone()))
}

/// A new empty database for one test; returns its URL.
///
/// # Errors
/// No cluster could be started or reached, or `psql` failed.
pub fn database() -> Result<String, Unavailable> {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let admin = cluster()?;
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
    port: String,
}

/// Runs `pg_ctl` on a cluster directory as the cluster's owner.
fn pg_ctl(args: &[&str]) -> Result<(), Unavailable> {
    let root = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout.starts_with(b"0\n"))
        .unwrap_or(false);
    let mut command = if root {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--", "pg_ctl"]);
        c
    } else {
        Command::new("pg_ctl")
    };
    let out = command
        .args(args)
        .output()
        .map_err(|e| Unavailable(format!("cannot run pg_ctl: {e}")))?;
    if !out.status.success() {
        return Err(Unavailable(format!(
            "pg_ctl {args:?} failed: {}",
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
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../.ci/postgres");
        let out = Command::new(script)
            .args(["start", "--until", &std::process::id().to_string()])
            .output()
            .map_err(|e| Unavailable(format!("cannot run {script}: {e}")))?;
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let find = |name: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(&format!("export {name}=")))
                .map(str::to_owned)
                .ok_or_else(|| Unavailable(format!("{script} printed no {name}: {text}")))
        };
        let url = find(CLUSTER_VARIABLE)?;
        let dir = find("LINTAS_TEST_POSTGRES_DIR")?;
        let port = url
            .rsplit_once(':')
            .and_then(|(_, rest)| rest.split('/').next())
            .unwrap_or_default()
            .to_owned();
        Ok(PrivateCluster { url, dir, port })
    }

    /// Stops the server (fast shutdown: connections are cut).
    ///
    /// # Errors
    /// `pg_ctl` failed.
    pub fn stop_server(&self) -> Result<(), Unavailable> {
        pg_ctl(&[
            "--pgdata",
            &format!("{}/data", self.dir),
            "--mode=fast",
            "stop",
        ])
    }

    /// Starts the server again on the same port.
    ///
    /// # Errors
    /// `pg_ctl` failed.
    pub fn start_server(&self) -> Result<(), Unavailable> {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port, self.dir
        );
        pg_ctl(&[
            "--pgdata",
            &format!("{}/data", self.dir),
            "--log",
            &format!("{}/server.log", self.dir),
            "--wait",
            "-o",
            &options,
            "start",
        ])
    }
}

impl Drop for PrivateCluster {
    fn drop(&mut self) {
        let _ = pg_ctl(&[
            "--pgdata",
            &format!("{}/data", self.dir),
            "--mode=immediate",
            "stop",
        ]);
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
