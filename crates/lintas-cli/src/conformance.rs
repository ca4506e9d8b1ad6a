//! `lintas conformance`: the protocol's behaviour checks run against any
//! implementation of a node (docs/PROTOCOL.md section 15), the way the
//! eDelivery conformance tests check an AS4 access point. The harness acts
//! as one roster agency, from that agency's node configuration: as a caller
//! of the target's `PeerExchange` (deliveries of every kind, duplicates,
//! batches, refusals), and, given the target's case-system profile, as the
//! target's peer (receiving its deliveries and reporting receipts back).
//!
//! The expected answer to every notice the harness sends is what the
//! reference verifier (`lintas-core`) says of it with the same roster, so a
//! target passes when it agrees with the reference.

mod as_caller;
mod as_peer;
mod expect;
mod flood;
mod history;
mod lookups;
mod refusals;
mod report;
mod rosters;
mod witnessing;

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use lintas_core::ids::AgencyId;
use lintas_core::keys::SigningKey;
use lintas_core::notice::NoticeBody;
use lintas_core::roster::TrustedRoster;
use lintas_core::time::Timestamp;
use lintas_grpc::pki::PemPair;
use lintas_grpc::tls::TlsMaterial;
use tonic::transport::{Channel, Endpoint};

use crate::Error;
use crate::config::NodeConfig;

pub(crate) use report::Report;

/// `lintas conformance`.
#[derive(Debug, Args)]
pub(crate) struct ConformanceArgs {
    /// The node under test, e.g. https://node.example.org:50051.
    #[arg(long)]
    target: String,
    /// Its agency id (default: the roster agency whose endpoint is
    /// --target).
    #[arg(long)]
    target_agency: Option<String>,
    /// The node configuration of the agency the harness acts as: its
    /// agency id, signing key, roster, TLS files and (for the peer checks)
    /// the address its roster endpoint points at. That agency must be in
    /// the target's roster and its own node must not be running.
    #[arg(long)]
    config: PathBuf,
    /// The target's case-system client profile (a name in
    /// LINTAS_PROFILE_DIR or a path): with it the harness also acts as the
    /// target's peer, has the target send it notices and checks them.
    #[arg(long)]
    target_profile: Option<String>,
    /// The target's batch limit (PROTOCOL 9.9).
    #[arg(long, default_value_t = 256)]
    max_batch: usize,
    /// The target's message limit in bytes (PROTOCOL 9.9).
    #[arg(long, default_value_t = 1 << 20)]
    max_message_bytes: usize,
    /// Print one JSON object per check and a summary object.
    #[arg(long)]
    json: bool,
    /// Last, flood the target with up to this many cheap calls until its
    /// rate limit refuses one (PROTOCOL 9.9, `rate_limited`). Off by
    /// default: never flood a production node without its operator.
    #[arg(long, value_name = "CALLS")]
    flood: Option<u64>,
    /// Last, send the target up to this many MiB of large messages until
    /// its daily quota for the harness's agency refuses one (PROTOCOL 9.9,
    /// `quota_exceeded`). Off by default: it uses up the agency's quota at
    /// the target for the day.
    #[arg(long, value_name = "MIB")]
    flood_mib: Option<u64>,
    /// A signing key file of the harness's agency whose key the roster
    /// lists as revoked: with it the harness checks that notices signed
    /// with it are refused (key_revoked).
    #[arg(long, value_name = "FILE")]
    revoked_key: Option<PathBuf>,
    /// A certificate (PEM) from the roster's CA for a name no roster
    /// agency uses, with --stranger-key: with them the harness checks that
    /// the target refuses a caller outside the roster (peer_not_in_roster).
    #[arg(long, value_name = "FILE", requires = "stranger_key")]
    stranger_cert: Option<PathBuf>,
    /// The private key (PEM) of --stranger-cert.
    #[arg(long, value_name = "FILE", requires = "stranger_cert")]
    stranger_key: Option<PathBuf>,
    /// A roster steward's key file (repeatable): with the keys of enough
    /// stewards the harness offers the target a next roster version that
    /// has already expired (roster_expired).
    #[arg(long = "steward-key", value_name = "FILE")]
    steward_keys: Vec<PathBuf>,
    /// The most tags of one kind the target lists in a matching answer
    /// (its `[matching] max_tags_per_kind`): with it the harness gives the
    /// target more phone numbers than that and checks match_set_too_large.
    /// Off by default (40,000 numbers take the target a while to tag).
    #[arg(long, value_name = "N")]
    match_limit: Option<usize>,
    /// The largest attachment the target takes, MiB (its `[attachments]
    /// max_mib`): with it and --target-profile the harness uploads a file
    /// one piece larger and checks resource_exhausted. Off by default.
    #[arg(long, value_name = "MIB")]
    attachment_limit_mib: Option<u64>,
    /// The target's time limit for one request, seconds (the reference:
    /// 30): with it and --target-profile the harness holds an upload open
    /// past it and checks request_timeout. Off by default (it takes that
    /// long).
    #[arg(long, value_name = "SECONDS")]
    request_timeout_s: Option<u64>,
}

/// What the harness knows and holds: its own agency, key and TLS
/// identity, the roster, and the target.
pub(crate) struct Harness {
    pub(crate) me: AgencyId,
    pub(crate) key: SigningKey,
    pub(crate) roster: TrustedRoster,
    pub(crate) target: AgencyId,
    pub(crate) target_url: String,
    pub(crate) target_tls_name: String,
    pub(crate) tls: TlsMaterial,
    pub(crate) listen: std::net::SocketAddr,
    pub(crate) max_batch: usize,
    pub(crate) max_message_bytes: usize,
    /// A notice the harness delivered that its recipient may not forward.
    pub(crate) unforwardable: Option<lintas_core::ids::NoticeId>,
    /// A key of the harness's agency that the roster lists as revoked.
    pub(crate) revoked: Option<SigningKey>,
    /// A certificate and key from the roster's CA for no roster agency.
    pub(crate) stranger: Option<PemPair>,
    /// Roster stewards' keys.
    pub(crate) stewards: Vec<SigningKey>,
    /// The target's `max_tags_per_kind`, when given.
    pub(crate) match_limit: Option<usize>,
    /// The target's largest attachment in MiB, when given.
    pub(crate) attachment_limit_mib: Option<u64>,
    /// The target's request time limit, when given.
    pub(crate) request_timeout: Option<Duration>,
    /// The next sequence number to sign with: from the clock, so that runs
    /// one after another never reuse one.
    sequence: u64,
}

impl Harness {
    fn load(args: &ConformanceArgs) -> Result<Self, Error> {
        let config = NodeConfig::load(&args.config)?;
        let me = AgencyId::parse(&config.agency)
            .map_err(|e| format!("{}: agency: {}", args.config.display(), e.problem))?;
        let key = crate::keyfile::read(&config.signing_key)?;
        let roster =
            TrustedRoster::bootstrap(crate::roster::read(&config.roster)?, Timestamp::now())
                .map_err(|e| format!("roster {}: {e}", config.roster.display()))?;
        let tls_files = config
            .tls
            .as_ref()
            .ok_or("the harness needs the [tls] files of its agency's configuration")?;
        let read = |p: &PathBuf| {
            std::fs::read_to_string(p).map_err(|e| format!("cannot read {}: {e}", p.display()))
        };
        let tls = TlsMaterial {
            ca_pem: read(&tls_files.ca)?,
            identity: PemPair {
                cert: read(&tls_files.cert)?,
                key: read(&tls_files.key)?,
            },
        };
        let target_url = args.target.trim_end_matches('/').to_owned();
        let target = match &args.target_agency {
            Some(id) => {
                AgencyId::parse(id).map_err(|e| format!("--target-agency: {}", e.problem))?
            }
            None => roster
                .roster()
                .agencies
                .values()
                .find(|a| a.endpoint.trim_end_matches('/') == target_url)
                .map(|a| a.agency_id.clone())
                .ok_or_else(|| {
                    format!("no roster agency has the endpoint {target_url}: give --target-agency")
                })?,
        };
        let entry = roster
            .roster()
            .agency(&target)
            .ok_or_else(|| format!("--target-agency: {target} is not in the roster"))?;
        if !roster.roster().agencies.contains_key(&me) {
            return Err(format!("{me} (the harness's agency) is not in the roster").into());
        }
        let sequence = u64::try_from(Timestamp::now().unix_seconds()).unwrap_or(1) * 1000;
        Ok(Harness {
            target_tls_name: entry.tls_identity.clone(),
            me,
            key,
            roster,
            target,
            target_url,
            tls,
            listen: config.listen,
            max_batch: args.max_batch,
            max_message_bytes: args.max_message_bytes,
            unforwardable: None,
            revoked: args
                .revoked_key
                .as_deref()
                .map(crate::keyfile::read)
                .transpose()?,
            stranger: match (&args.stranger_cert, &args.stranger_key) {
                (Some(cert), Some(key)) => Some(PemPair {
                    cert: read(cert)?,
                    key: read(key)?,
                }),
                _ => None,
            },
            match_limit: args.match_limit,
            attachment_limit_mib: args.attachment_limit_mib,
            request_timeout: args.request_timeout_s.map(Duration::from_secs),
            stewards: args
                .steward_keys
                .iter()
                .map(|p| crate::keyfile::read(p))
                .collect::<Result<_, _>>()?,
            sequence,
        })
    }

    /// A fresh sequence number.
    pub(crate) fn next_sequence(&mut self) -> u64 {
        self.sequence += 1;
        self.sequence
    }

    /// A channel to the target, with the harness's certificate or none.
    pub(crate) async fn channel(&self, with_certificate: bool) -> Result<Channel, Error> {
        let tls = if with_certificate {
            self.tls.client_config(&self.target_tls_name)
        } else {
            tonic::transport::ClientTlsConfig::new()
                .ca_certificate(tonic::transport::Certificate::from_pem(&self.tls.ca_pem))
                .domain_name(self.target_tls_name.clone())
        };
        self.connect(tls).await
    }

    /// A channel to the target presenting `identity` instead of the
    /// harness's certificate.
    pub(crate) async fn channel_as(&self, identity: &PemPair) -> Result<Channel, Error> {
        let tls = TlsMaterial {
            ca_pem: self.tls.ca_pem.clone(),
            identity: identity.clone(),
        };
        self.connect(tls.client_config(&self.target_tls_name)).await
    }

    async fn connect(&self, tls: tonic::transport::ClientTlsConfig) -> Result<Channel, Error> {
        Ok(Endpoint::from_shared(self.target_url.clone())?
            .tls_config(tls)?
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(30))
            .connect()
            .await?)
    }

    /// A template of `kind` (examples/notices), times moved to now, from
    /// the harness to the target.
    pub(crate) fn notice(&mut self, kind: &str) -> Result<NoticeBody, Error> {
        let mut body = template(kind, Timestamp::now())?;
        body.sender = self.me.clone();
        body.recipients = vec![self.target.clone()];
        body.sequence = self.next_sequence();
        // A sender's own reference is its case id, never a reference.
        let me = self.me.clone();
        body.references.retain(|r| r.agency != me);
        Ok(body)
    }
}

/// The published templates of every kind, built into the command so that
/// the harness needs nothing beside the agency's own files.
const TEMPLATES: &[(&str, &str)] = &[
    (
        "rescue_request",
        include_str!("../../../examples/notices/rescue_request.json"),
    ),
    (
        "victim_status_update",
        include_str!("../../../examples/notices/victim_status_update.json"),
    ),
    (
        "suspect_alert",
        include_str!("../../../examples/notices/suspect_alert.json"),
    ),
    (
        "compound_alert",
        include_str!("../../../examples/notices/compound_alert.json"),
    ),
    (
        "modus_operandi_alert",
        include_str!("../../../examples/notices/modus_operandi_alert.json"),
    ),
    (
        "transit_watch_request",
        include_str!("../../../examples/notices/transit_watch_request.json"),
    ),
    (
        "repatriation_plan",
        include_str!("../../../examples/notices/repatriation_plan.json"),
    ),
    (
        "assistance_request",
        include_str!("../../../examples/notices/assistance_request.json"),
    ),
    (
        "assistance_response",
        include_str!("../../../examples/notices/assistance_response.json"),
    ),
    (
        "withdrawal",
        include_str!("../../../examples/notices/withdrawal.json"),
    ),
    (
        "victim_identified",
        include_str!("../../../examples/notices/victim_identified.json"),
    ),
    (
        "nationality_verification_request",
        include_str!("../../../examples/notices/nationality_verification_request.json"),
    ),
    (
        "nationality_verification_answer",
        include_str!("../../../examples/notices/nationality_verification_answer.json"),
    ),
    (
        "sighting_report",
        include_str!("../../../examples/notices/sighting_report.json"),
    ),
    (
        "repatriation_step_report",
        include_str!("../../../examples/notices/repatriation_step_report.json"),
    ),
    (
        "case_update",
        include_str!("../../../examples/notices/case_update.json"),
    ),
    (
        "case_closure",
        include_str!("../../../examples/notices/case_closure.json"),
    ),
    (
        "action_request",
        include_str!("../../../examples/notices/action_request.json"),
    ),
    (
        "action_answer",
        include_str!("../../../examples/notices/action_answer.json"),
    ),
];

/// The template of `kind` with its times moved so that it is created at
/// `now`.
pub(crate) fn template(kind: &str, now: Timestamp) -> Result<NoticeBody, Error> {
    let text = TEMPLATES
        .iter()
        .find(|(k, _)| *k == kind)
        .map(|(_, t)| *t)
        .ok_or_else(|| format!("no template of kind {kind}"))?;
    let mut json: serde_json::Value = serde_json::from_str(text)?;
    crate::client::rebase(&mut json, now)?;
    Ok(serde_json::from_value(json)?)
}

/// Every template kind, in the order the templates list them.
pub(crate) fn kinds() -> impl Iterator<Item = &'static str> {
    TEMPLATES.iter().map(|(k, _)| *k)
}

/// Runs every check and prints the report; fails when one failed.
pub(crate) async fn run(args: ConformanceArgs) -> Result<(), Error> {
    let mut harness = Harness::load(&args)?;
    let mut report = Report::new(args.json);
    as_caller::run(&mut harness, &mut report).await;
    if let Some(profile) = &args.target_profile {
        as_peer::run(&mut harness, profile, &mut report).await;
    }
    match args.flood {
        Some(calls) => flood::run(&harness, calls, &mut report).await,
        None => report.skip(
            "9.9",
            "calls beyond the agency's rate are refused (rate_limited)",
            "no flood without --flood CALLS",
        ),
    }
    match args.flood_mib {
        Some(mib) => flood::quota(&harness, mib, &mut report).await,
        None => report.skip(
            "9.9",
            "messages beyond the agency's daily quota are refused (quota_exceeded)",
            "no flood without --flood-mib MIB",
        ),
    }
    report.finish()
}
