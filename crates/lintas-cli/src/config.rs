//! The node configuration file (TOML). Unknown keys are errors, so a typo
//! is reported rather than ignored.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::Error;

/// `lintas.toml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NodeConfig {
    /// This node's agency id.
    pub(crate) agency: String,
    /// Address to serve on.
    pub(crate) listen: SocketAddr,
    /// Directory for the store file.
    pub(crate) data_dir: PathBuf,
    /// The agency's signing key file.
    pub(crate) signing_key: PathBuf,
    /// The signed roster (SignedRoster protobuf bytes). A newer version
    /// stored by the node wins; an older one is refused.
    pub(crate) roster: PathBuf,
    /// DNS names of case-system client certificates allowed on the agency
    /// API.
    #[serde(default)]
    pub(crate) api_clients: Vec<String>,
    /// TLS files; required unless the plaintext development mode is on.
    #[serde(default)]
    pub(crate) tls: Option<TlsFiles>,
    /// Development only: no TLS, peers name themselves. Logged loudly.
    #[serde(default)]
    pub(crate) insecure_plaintext_for_development: bool,
    /// Endpoint overrides by agency id.
    #[serde(default)]
    pub(crate) peers: BTreeMap<String, String>,
    /// Limits.
    #[serde(default)]
    pub(crate) limits: LimitsConfig,
    /// Delivery pacing.
    #[serde(default)]
    pub(crate) delivery: DeliveryPacing,
    /// Memory for the store's page cache, MiB (32 by default).
    #[serde(default)]
    pub(crate) store_cache_mib: Option<usize>,
    /// Where to serve Prometheus metrics (plain HTTP); off if absent.
    #[serde(default)]
    pub(crate) metrics_listen: Option<SocketAddr>,
    /// A PostgreSQL store shared by the agency's replicas, instead of the
    /// file in `data_dir`.
    #[serde(default)]
    pub(crate) postgres: Option<PostgresStore>,
    /// How often to offer this node's log checkpoint to its peers for
    /// witnessing, in seconds (60 by default; 0 never).
    #[serde(default)]
    pub(crate) witness_every_s: Option<u64>,
    /// Attachment limits.
    #[serde(default)]
    pub(crate) attachments: AttachmentLimits,
    /// Changes to the default disclosure rules.
    #[serde(default)]
    pub(crate) disclosure: DisclosureConfig,
    /// How long personal data is kept.
    #[serde(default)]
    pub(crate) retention: RetentionConfig,
    /// Identifier matching limits.
    #[serde(default)]
    pub(crate) matching: MatchingSettings,
    /// The operator console (off unless given).
    #[serde(default)]
    pub(crate) console: Option<ConsoleSettings>,
}

/// `[console]`: the operator console on the management listener
/// (docs/CONSOLE.md).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ConsoleSettings {
    /// A file holding the console's token (at least 32 characters),
    /// readable only by the node's user.
    pub(crate) token_file: PathBuf,
}

impl ConsoleSettings {
    /// The console, its token read from `token_file`.
    pub(crate) fn console(&self) -> Result<lintas_grpc::console::Console, Error> {
        let token = std::fs::read_to_string(&self.token_file).map_err(|e| {
            format!(
                "console.token_file: cannot read {}: {e}",
                self.token_file.display()
            )
        })?;
        lintas_grpc::console::Console::with_token(&token)
            .map_err(|e| format!("console.token_file {}: {e}", self.token_file.display()).into())
    }
}

/// `[matching]`: what peers may ask of this node's identifier matching
/// (docs/PROTOCOL.md section 14.9).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct MatchingSettings {
    /// Queries each peer agency may make per hour (600 by default).
    pub(crate) queries_per_peer_per_hour: Option<u32>,
    /// Queries a peer may make at once above that rate (60 by default).
    pub(crate) burst: Option<u32>,
    /// How old the tags may get before a query rebuilds them, seconds (60
    /// by default).
    pub(crate) refresh_every_s: Option<u64>,
    /// The most tags of one kind listed in an answer (40000 by default).
    pub(crate) max_tags_per_kind: Option<usize>,
}

impl MatchingSettings {
    /// The limits these settings give.
    pub(crate) fn config(&self) -> Result<lintas_grpc::MatchingConfig, Error> {
        let defaults = lintas_grpc::MatchingConfig::default();
        let positive = |v: Option<u32>, name: &str, default: u32| match v {
            Some(0) => Err(format!("matching.{name}: expected at least 1, found 0")),
            Some(n) => Ok(n),
            None => Ok(default),
        };
        Ok(lintas_grpc::MatchingConfig {
            queries_per_peer_per_hour: positive(
                self.queries_per_peer_per_hour,
                "queries_per_peer_per_hour",
                defaults.queries_per_peer_per_hour,
            )?,
            burst: positive(self.burst, "burst", defaults.burst)?,
            refresh_every: self
                .refresh_every_s
                .map_or(defaults.refresh_every, std::time::Duration::from_secs),
            max_tags_per_kind: self.max_tags_per_kind.unwrap_or(defaults.max_tags_per_kind),
            ..defaults
        })
    }
}

/// `[retention]`: how long this node keeps the personal data of notices
/// (docs/PROTOCOL.md section 14.6), within the protocol's 30 to 3650 days.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RetentionConfig {
    /// Days for every kind not listed in `days` (730 by default).
    pub(crate) default_days: Option<u32>,
    /// Days per notice kind, by its name, e.g. `rescue_request = 365`.
    #[serde(default)]
    pub(crate) days: BTreeMap<String, u32>,
    /// How often to look for notices past their period, seconds (3600 by
    /// default; 0 never).
    pub(crate) check_every_s: Option<u64>,
}

impl RetentionConfig {
    /// The policy these settings give.
    pub(crate) fn policy(&self) -> Result<lintas_core::retention::RetentionPolicy, Error> {
        use lintas_core::vocab::NoticeKind;
        let mut policy = lintas_core::retention::RetentionPolicy::default();
        if let Some(days) = self.default_days {
            for kind in NoticeKind::ALL {
                policy = policy
                    .with_days(*kind, days)
                    .map_err(|e| format!("retention.default_days: {}", e.problem))?;
            }
        }
        for (name, days) in &self.days {
            let kind: NoticeKind = serde_json::from_value(serde_json::Value::String(name.clone()))
                .ok()
                .filter(|k| !matches!(k, NoticeKind::Unrecognized(_)))
                .ok_or_else(|| {
                    format!(
                        "retention.days.{name}: expected a notice kind name such as rescue_request"
                    )
                })?;
            policy = policy
                .with_days(kind, *days)
                .map_err(|e| format!("retention.days.{name}: {}", e.problem))?;
        }
        Ok(policy)
    }
}

/// `[disclosure]`: which protected parts of this agency's notices each
/// recipient is given (docs/PROTOCOL.md section 14.3). Each
/// `[[disclosure.rule]]` replaces one cell of the default table.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DisclosureConfig {
    #[serde(default)]
    pub(crate) rule: Vec<DisclosureRule>,
}

/// One `[[disclosure.rule]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DisclosureRule {
    /// `origin`, `transit`, `destination` or `uninvolved`.
    pub(crate) role: String,
    /// An agency kind, e.g. `immigration`.
    pub(crate) agency_kind: lintas_core::vocab::AgencyKind,
    /// The parts given: any of `identity`, `medical`, `contacts` (empty:
    /// none).
    pub(crate) parts: Vec<lintas_core::disclosure::PartKind>,
}

impl DisclosureConfig {
    /// The default rules with these changes.
    pub(crate) fn rules(&self) -> Result<lintas_grpc::DisclosureRules, Error> {
        let mut rules = lintas_grpc::DisclosureRules::default();
        for (i, rule) in self.rule.iter().enumerate() {
            let role = lintas_grpc::Role::parse(&rule.role).ok_or_else(|| {
                format!(
                    "disclosure.rule[{i}].role: expected origin, transit, destination or uninvolved, found {:?}",
                    rule.role
                )
            })?;
            if let lintas_core::vocab::AgencyKind::Unrecognized(n) = rule.agency_kind {
                return Err(format!(
                    "disclosure.rule[{i}].agency_kind: expected an agency kind name such as \"immigration\", found {n}"
                )
                .into());
            }
            rules = rules.allow(role, rule.agency_kind, &rule.parts);
        }
        Ok(rules)
    }
}

/// `[attachments]`: files that travel beside notices.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AttachmentLimits {
    /// The largest file taken, MiB (256 by default).
    pub(crate) max_mib: Option<u64>,
    /// What one peer's notices may make this node fetch per day, MiB
    /// (4096 by default).
    pub(crate) peer_mib_per_day: Option<u32>,
}

/// `[postgres]`: the store shared by the agency's replicas.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PostgresStore {
    /// libpq connection settings (URL or `key=value` pairs).
    pub(crate) url: String,
    /// This replica's name, unique among the agency's replicas.
    pub(crate) replica: String,
    /// How long a claim on an outbox entry lasts (seconds, 15 by default).
    pub(crate) lease_seconds: Option<u64>,
    /// How often to look for the other replicas' work (milliseconds, 1000
    /// by default).
    pub(crate) poll_ms: Option<u64>,
    /// PEM file of the CA of the database server's certificate, for
    /// `sslmode=require` in `url` (TLS to the database).
    pub(crate) ca_file: Option<PathBuf>,
}

/// PEM files.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TlsFiles {
    pub(crate) ca: PathBuf,
    pub(crate) cert: PathBuf,
    pub(crate) key: PathBuf,
}

/// Optional limits.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LimitsConfig {
    pub(crate) max_message_bytes: Option<usize>,
    pub(crate) peer_requests_per_second: Option<u32>,
    pub(crate) peer_burst: Option<u32>,
    pub(crate) max_batch_items: Option<u32>,
    pub(crate) peer_kib_per_day: Option<u32>,
    pub(crate) max_connections: Option<usize>,
    pub(crate) max_connections_per_address: Option<usize>,
    pub(crate) tls_handshake_timeout_ms: Option<u64>,
    pub(crate) idle_timeout_s: Option<u64>,
}

/// Optional delivery pacing.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DeliveryPacing {
    /// Batches in flight to one peer.
    pub(crate) window: Option<usize>,
    /// Entries per batch.
    pub(crate) batch_entries: Option<usize>,
    /// Longest wait between probes of a peer that is down (milliseconds).
    pub(crate) max_backoff_ms: Option<u64>,
}

impl NodeConfig {
    /// Reads a config; relative paths are relative to the file's directory.
    pub(crate) fn load(path: &Path) -> Result<Self, Error> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read config {}: {e}", path.display()))?;
        let mut config: NodeConfig =
            toml::from_str(&text).map_err(|e| format!("config {}: {e}", path.display()))?;
        let base = path.parent().unwrap_or(Path::new("."));
        match (&config.tls, config.insecure_plaintext_for_development) {
            (None, false) => {
                return Err(format!(
                    "config {}: [tls] is required (plaintext only with insecure_plaintext_for_development = true, for development)",
                    path.display()
                )
                .into());
            }
            (Some(_), true) => {
                return Err(format!(
                    "config {}: choose [tls] or insecure_plaintext_for_development, not both",
                    path.display()
                )
                .into());
            }
            _ => {}
        }
        if config.console.is_some() && config.metrics_listen.is_none() {
            return Err(format!(
                "config {}: [console] is served on the management listener: set metrics_listen",
                path.display()
            )
            .into());
        }
        let mut paths = vec![
            &mut config.data_dir,
            &mut config.signing_key,
            &mut config.roster,
        ];
        if let Some(tls) = config.tls.as_mut() {
            paths.extend([&mut tls.ca, &mut tls.cert, &mut tls.key]);
        }
        if let Some(ca) = config.postgres.as_mut().and_then(|p| p.ca_file.as_mut()) {
            paths.push(ca);
        }
        if let Some(console) = config.console.as_mut() {
            paths.push(&mut console.token_file);
        }
        for p in paths {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        }
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(text: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("lintas.toml");
        std::fs::write(&path, text).unwrap_or_else(|e| panic!("{e}"));
        (dir, path)
    }

    const BASE: &str = "agency = \"IDN.KEMLU.PWNI\"\nlisten = \"127.0.0.1:1\"\n\
        data_dir = \"data\"\nsigning_key = \"k.json\"\nroster = \"r.bin\"\n";

    #[test]
    fn pacing_cache_and_batch_limits_are_read() {
        let (_dir, path) = write(&format!(
            "{BASE}store_cache_mib = 64\n\
             [tls]\nca = \"ca.pem\"\ncert = \"c.pem\"\nkey = \"c.key\"\n\
             [limits]\nmax_batch_items = 32\n\
             [delivery]\nwindow = 2\nbatch_entries = 16\nmax_backoff_ms = 500\n"
        ));
        let config = NodeConfig::load(&path).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(config.store_cache_mib, Some(64));
        assert_eq!(config.limits.max_batch_items, Some(32));
        assert_eq!(config.delivery.window, Some(2));
        assert_eq!(config.delivery.batch_entries, Some(16));
        assert_eq!(config.delivery.max_backoff_ms, Some(500));
    }

    #[test]
    fn a_misspelt_pacing_key_is_an_error_naming_it() {
        let (_dir, path) = write(&format!(
            "{BASE}[tls]\nca = \"ca.pem\"\ncert = \"c.pem\"\nkey = \"c.key\"\n\
             [delivery]\nwindows = 2\n"
        ));
        let error = NodeConfig::load(&path).map(|_| ()).unwrap_err().to_string();
        assert!(error.contains("windows"), "{error}");
    }

    #[test]
    fn a_shared_postgres_store_is_read() {
        let (_dir, path) = write(&format!(
            "{BASE}[tls]\nca = \"ca.pem\"\ncert = \"c.pem\"\nkey = \"c.key\"\n\
             [postgres]\nurl = \"postgres://lintas@db.internal/lintas?sslmode=require\"\n\
             replica = \"idn-1\"\nlease_seconds = 20\npoll_ms = 500\nca_file = \"db-ca.pem\"\n"
        ));
        let config = NodeConfig::load(&path).unwrap_or_else(|e| panic!("{e}"));
        let pg = config.postgres.unwrap_or_else(|| panic!("no [postgres]"));
        assert_eq!(
            pg.url,
            "postgres://lintas@db.internal/lintas?sslmode=require"
        );
        // Relative to the configuration file, like every path in it.
        assert_eq!(
            pg.ca_file,
            Some(path.parent().unwrap_or(&path).join("db-ca.pem"))
        );
        assert_eq!(pg.replica, "idn-1");
        assert_eq!(pg.lease_seconds, Some(20));
        assert_eq!(pg.poll_ms, Some(500));
        let (_dir, path) = write(&format!(
            "{BASE}[tls]\nca = \"ca.pem\"\ncert = \"c.pem\"\nkey = \"c.key\"\n\
             [postgres]\nurl = \"postgres://db\"\n"
        ));
        let error = NodeConfig::load(&path).map(|_| ()).unwrap_err().to_string();
        assert!(error.contains("replica"), "{error}");
    }

    #[test]
    fn disclosure_rules_change_cells_of_the_defaults_and_bad_names_are_errors() {
        use lintas_core::disclosure::PartKind;
        use lintas_core::vocab::AgencyKind;
        let (_dir, path) = write(&format!(
            "{BASE}[tls]\nca = \"ca.pem\"\ncert = \"c.pem\"\nkey = \"c.key\"\n\
             [[disclosure.rule]]\nrole = \"transit\"\nagency_kind = \"immigration\"\nparts = [\"identity\"]\n\
             [[disclosure.rule]]\nrole = \"origin\"\nagency_kind = \"police\"\nparts = []\n"
        ));
        let config = NodeConfig::load(&path).unwrap_or_else(|e| panic!("{e}"));
        let rules = config.disclosure.rules().unwrap_or_else(|e| panic!("{e}"));
        let role = |r| lintas_grpc::Role::parse(r).unwrap_or_else(|| panic!("{r}"));
        assert_eq!(
            rules.parts(role("transit"), AgencyKind::Immigration),
            vec![PartKind::Identity]
        );
        assert!(rules.parts(role("origin"), AgencyKind::Police).is_empty());
        // Untouched cells keep their defaults.
        assert_eq!(
            rules.parts(role("origin"), AgencyKind::ForeignMinistry),
            PartKind::ALL.to_vec()
        );
        for (bad, named) in [
            (
                "role = \"sideways\"\nagency_kind = \"police\"\nparts = []",
                "role",
            ),
            (
                "role = \"origin\"\nagency_kind = \"navy\"\nparts = []",
                "navy",
            ),
            (
                "role = \"origin\"\nagency_kind = \"police\"\nparts = [\"dna\"]",
                "dna",
            ),
        ] {
            let (_dir, path) = write(&format!(
                "{BASE}[tls]\nca = \"ca.pem\"\ncert = \"c.pem\"\nkey = \"c.key\"\n\
                 [[disclosure.rule]]\n{bad}\n"
            ));
            let error = NodeConfig::load(&path)
                .map_err(|e| e.to_string())
                .and_then(|c| c.disclosure.rules().map_err(|e| e.to_string()))
                .map(|_| ())
                .unwrap_err();
            assert!(error.contains(named), "{error}");
        }
    }

    #[test]
    fn retention_periods_are_read_within_the_protocols_limits() {
        use lintas_core::vocab::NoticeKind;
        let (_dir, path) = write(&format!(
            "{BASE}[tls]\nca = \"ca.pem\"\ncert = \"c.pem\"\nkey = \"c.key\"\n\
             [retention]\ndefault_days = 365\ncheck_every_s = 60\n\
             [retention.days]\nrescue_request = 90\n"
        ));
        let config = NodeConfig::load(&path).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(config.retention.check_every_s, Some(60));
        let policy = config.retention.policy().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(policy.days(NoticeKind::RescueRequest), 90);
        assert_eq!(policy.days(NoticeKind::CaseUpdate), 365);
        for (bad, named) in [
            ("default_days = 10", "retention.default_days"),
            (
                "[retention.days]\ncase_update = 4000",
                "retention.days.case_update",
            ),
            ("[retention.days]\nrescue = 100", "retention.days.rescue"),
        ] {
            let (_dir, path) = write(&format!(
                "{BASE}[tls]\nca = \"ca.pem\"\ncert = \"c.pem\"\nkey = \"c.key\"\n[retention]\n{bad}\n"
            ));
            let error = NodeConfig::load(&path)
                .map_err(|e| e.to_string())
                .and_then(|c| c.retention.policy().map(|_| ()).map_err(|e| e.to_string()))
                .unwrap_err();
            assert!(error.contains(named), "{error}");
        }
    }

    #[test]
    fn matching_limits_are_read_and_a_zero_budget_is_refused() {
        let (_dir, path) = write(&format!(
            "{BASE}[tls]\nca = \"ca.pem\"\ncert = \"c.pem\"\nkey = \"c.key\"\n\
             [matching]\nqueries_per_peer_per_hour = 30\nburst = 5\nrefresh_every_s = 0\n"
        ));
        let config = NodeConfig::load(&path).unwrap_or_else(|e| panic!("{e}"));
        let matching = config.matching.config().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (matching.queries_per_peer_per_hour, matching.burst),
            (30, 5)
        );
        assert_eq!(matching.refresh_every, std::time::Duration::ZERO);
        assert_eq!(matching.max_tags_per_kind, 40_000);
        for (bad, named) in [
            (
                "queries_per_peer_per_hour = 0",
                "matching.queries_per_peer_per_hour",
            ),
            ("burst = 0", "matching.burst"),
            ("per_hour = 3", "per_hour"),
        ] {
            let (_dir, path) = write(&format!(
                "{BASE}[tls]\nca = \"ca.pem\"\ncert = \"c.pem\"\nkey = \"c.key\"\n[matching]\n{bad}\n"
            ));
            let error = NodeConfig::load(&path)
                .map_err(|e| e.to_string())
                .and_then(|c| c.matching.config().map(|_| ()).map_err(|e| e.to_string()))
                .unwrap_err();
            assert!(error.contains(named), "{error}");
        }
    }
}
