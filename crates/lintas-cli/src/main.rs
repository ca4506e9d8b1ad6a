//! `lintas`: run a Lintas agency node and work with its keys, PKI, roster
//! and inbox from the command line.
//!
//! Exit codes: 0 success, 1 failure (the reason on stderr), 2 bad usage.
#![forbid(unsafe_code)]

mod attachment;
mod bench;
mod client;
mod config;
mod conformance;
mod display;
mod evidence;
mod export;
mod keyfile;
mod node;
mod offline;
mod profile;
mod progress;
mod roster;
mod setup;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Boxed error for command failures: each carries a message that says what
/// failed and on which file or address.
type Error = Box<dyn std::error::Error + Send + Sync>;

#[derive(Debug, Parser)]
#[command(name = "lintas", version, about = "Lintas agency node and tools", long_about = None)]
struct Cli {
    /// Log as JSON lines instead of human-readable text.
    #[arg(long, global = true)]
    log_json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run an agency node.
    Node {
        /// The node's configuration file (TOML).
        #[arg(long)]
        config: PathBuf,
    },
    /// Generate an Ed25519 signing key.
    Keygen {
        /// The key id to list it under in the roster.
        #[arg(long)]
        key_id: String,
        /// Where to write the key (JSON, readable only by its owner).
        #[arg(long)]
        out: PathBuf,
    },
    /// Generate a development PKI: a CA and a certificate per DNS name.
    DevPki {
        /// Directory to write ca.pem and <name>.pem / <name>.key into.
        #[arg(long)]
        out: PathBuf,
        /// DNS names to issue certificates for.
        #[arg(long = "name", required = true)]
        names: Vec<String>,
    },
    /// Build, sign and inspect rosters.
    #[command(subcommand)]
    Roster(roster::RosterCommand),
    /// Set up a development network: keys, PKI, roster and a config per
    /// agency, ready for `lintas node --config`.
    DevSetup(setup::SetupArgs),
    /// Submit a notice (JSON) to be signed and sent by a node.
    Submit {
        #[command(flatten)]
        conn: client::Connection,
        /// The notice body as JSON (sender and sequence are set by the node).
        #[arg(long)]
        notice: PathBuf,
        /// Treat the file as a template: set created_at to now and move
        /// every other time in it (expiry, deadlines, event times) by the
        /// same amount.
        #[arg(long)]
        rebase_times: bool,
        /// A key for this submission: retrying with the same key returns
        /// the first result instead of signing a second notice.
        #[arg(long)]
        idempotency_key: Option<String>,
    },
    /// Stream the inbox of a node, one JSON object per line.
    Tail {
        #[command(flatten)]
        conn: client::Connection,
        /// Start after this cursor.
        #[arg(long, default_value_t = 0)]
        after: u64,
        /// Stop after this many notices.
        #[arg(long)]
        limit: Option<usize>,
        /// JSON lines (the default when the output is not a terminal).
        #[arg(long)]
        json: bool,
    },
    /// Standard exports of what the node holds: a STIX 2.1 bundle, or
    /// HTCDS statistics with small cells suppressed.
    #[command(subcommand)]
    Export(export::ExportCommand),
    /// Run the protocol's behaviour checks against a node (any
    /// implementation), acting as one roster agency: one line per check with
    /// the PROTOCOL section it tests, and a summary.
    Conformance(conformance::ConformanceArgs),
    /// Load-test real nodes on loopback and print throughput, latency, CPU
    /// and memory beside the Ed25519 rates of the same run.
    Bench(bench::BenchArgs),
    /// Notices and receipts a recipient refused for good: list, retry, drop.
    #[command(subcommand)]
    DeadLetters(DeadLettersCommand),
    /// The alarms a node raised while witnessing its peers' logs (a peer's
    /// log that forked): one JSON object each, oldest first, with the
    /// evidence in hex to hand on.
    LogAlarms {
        #[command(flatten)]
        conn: client::Connection,
    },
    /// The node's access log, for a data-protection officer: every read of
    /// personal data through the agency API (who, when, which call, which
    /// notices), one JSON object each, oldest first.
    AccessLog {
        #[command(flatten)]
        conn: client::Connection,
        /// Only records numbered after this one.
        #[arg(long, default_value_t = 0)]
        after: u64,
    },
    /// For a notice this agency withdrew: each holder (recipients and the
    /// agencies they forwarded it to) and whether it confirmed erasing it,
    /// one JSON object each.
    ErasureStatus {
        #[command(flatten)]
        conn: client::Connection,
        /// The withdrawn notice's id (64 hex digits).
        #[arg(long)]
        notice: String,
    },
    /// Erase persons from a case (docs/PROTOCOL.md section 14.7.1): every
    /// notice this agency sent in the case loses their protected parts
    /// (identity, medical details, contacts) at every holder, each of which
    /// confirms. One JSON object per notice: the notice and the withdrawal
    /// to pass to `erasure-status --notice`.
    ErasePersons {
        #[command(flatten)]
        conn: client::Connection,
        /// The case id.
        #[arg(long)]
        case: String,
        /// A person's victim id in the case (repeatable).
        #[arg(long = "person", required = true)]
        persons: Vec<String>,
        /// Why, in English.
        #[arg(long)]
        reason: String,
    },
    /// Ask other agencies whether an identifier is linked to a case they
    /// hold, without telling them the identifier (docs/PROTOCOL.md section
    /// 14.9): one JSON object per agency (hit, no_hit, unreachable,
    /// refused), with whom to contact on a hit.
    FindIdentifier {
        #[command(flatten)]
        conn: client::Connection,
        /// phone, handle, wallet, bank, ewallet or document.
        #[arg(long)]
        kind: String,
        /// The handle's platform (telegram, other/NAME), the bank's or the
        /// document's country (IDN), the e-wallet's provider (gcash).
        #[arg(long, default_value = "")]
        scope: String,
        /// The identifier as written: "+62 812 3456 7890", "@recruiter".
        #[arg(long)]
        value: String,
        /// Ask only this agency (repeatable); every other agency otherwise.
        #[arg(long = "agency")]
        agencies: Vec<String>,
    },
    /// Files that travel beside notices: hand one to the node (its digest
    /// goes in a notice's `attachments`), or get a verified one.
    #[command(subcommand)]
    Attachment(AttachmentCommand),
    /// Evidence bundles of a case: export one from a node, or check one
    /// offline.
    #[command(subcommand)]
    Evidence(EvidenceCommand),
    /// Offline exchange with a peer that has no link (a border post, an
    /// air-gapped system): bundle files carried by hand.
    #[command(subcommand)]
    Offline(OfflineCommand),
    /// Install the next roster version on a running node (no restart).
    InstallRoster {
        #[command(flatten)]
        conn: client::Connection,
        /// The SignedRoster file the stewards published (version + 1).
        #[arg(long)]
        roster: PathBuf,
    },
    /// Show a case's timeline as a node sees it.
    Timeline {
        #[command(flatten)]
        conn: client::Connection,
        /// The case id.
        #[arg(long)]
        case: String,
        /// JSON lines (the default when the output is not a terminal).
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
enum EvidenceCommand {
    /// Write everything the node holds about a case into one file: the
    /// signed notices and receipts as stored, proofs from the nodes' logs,
    /// the roster versions; signed by the node.
    Export {
        #[command(flatten)]
        conn: client::Connection,
        /// The case id.
        #[arg(long)]
        case: String,
        /// Carry the attachments' bytes, not only their digests.
        #[arg(long)]
        with_attachments: bool,
        /// Where to write the bundle.
        #[arg(long)]
        out: PathBuf,
    },
    /// Check a bundle with no node and no network, and print what it
    /// establishes; exits non-zero if anything does not verify.
    Verify {
        /// The bundle file.
        file: PathBuf,
        /// The trust roster obtained independently (a SignedRoster file):
        /// the bundle must hold it byte for byte.
        #[arg(long)]
        roster: Option<PathBuf>,
        /// The report as JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
enum AttachmentCommand {
    /// Hand a file to the node; prints its sha256 and size.
    Upload {
        #[command(flatten)]
        conn: client::Connection,
        /// The file.
        file: PathBuf,
        /// Its IANA media type, e.g. image/jpeg.
        #[arg(long)]
        media_type: String,
    },
    /// Write a verified attachment the node holds into a file.
    Get {
        #[command(flatten)]
        conn: client::Connection,
        /// Its SHA-256, 64 hex digits.
        #[arg(long)]
        sha256: String,
        /// Where to write it.
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
enum OfflineCommand {
    /// Write what waits in the node's outbox for a peer into a signed
    /// bundle file. The entries stay queued until their answers come back.
    Export {
        #[command(flatten)]
        conn: client::Connection,
        /// The peer's agency id.
        #[arg(long)]
        peer: String,
        /// Where to write the bundle.
        #[arg(long)]
        out: PathBuf,
    },
    /// Import a bundle a peer wrote for this node (the same checks as a
    /// live delivery) and write the reply to carry back.
    Import {
        #[command(flatten)]
        conn: client::Connection,
        /// The bundle file.
        file: PathBuf,
        /// Where to write the reply bundle for the peer.
        #[arg(long)]
        reply: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
enum DeadLettersCommand {
    /// One JSON object per dead letter, oldest first.
    List {
        #[command(flatten)]
        conn: client::Connection,
    },
    /// Put a dead letter back in the outbox.
    Retry {
        #[command(flatten)]
        conn: client::Connection,
        /// Its seq, as `list` shows it.
        #[arg(long)]
        seq: u64,
    },
    /// Drop a dead letter for good.
    Drop {
        #[command(flatten)]
        conn: client::Connection,
        /// Its seq, as `list` shows it.
        #[arg(long)]
        seq: u64,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.log_json);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("lintas: error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result: Result<(), Error> = runtime.block_on(async move {
        match cli.command {
            Command::Node { config } => node::run(&config).await,
            Command::Keygen { key_id, out } => keyfile::generate(&key_id, &out),
            Command::DevPki { out, names } => setup::dev_pki(&out, &names),
            Command::Roster(command) => roster::run(command),
            Command::DevSetup(args) => setup::run(&args),
            Command::Submit {
                conn,
                notice,
                rebase_times,
                idempotency_key,
            } => client::submit(&conn, &notice, rebase_times, idempotency_key).await,
            Command::Tail {
                conn,
                after,
                limit,
                json,
            } => client::tail(&conn, after, limit, crate::display::json(json)).await,
            Command::Timeline { conn, case, json } => {
                client::timeline(&conn, &case, crate::display::json(json)).await
            }
            Command::InstallRoster { conn, roster } => client::install_roster(&conn, &roster).await,
            Command::LogAlarms { conn } => client::log_alarms(&conn).await,
            Command::AccessLog { conn, after } => client::access_log(&conn, after).await,
            Command::Export(command) => export::run(command).await,
            Command::Conformance(args) => conformance::run(args).await,
            Command::ErasureStatus { conn, notice } => client::erasure_status(&conn, &notice).await,
            Command::ErasePersons {
                conn,
                case,
                persons,
                reason,
            } => client::erase_persons(&conn, case, persons, &reason).await,
            Command::FindIdentifier {
                conn,
                kind,
                scope,
                value,
                agencies,
            } => client::find_identifier(&conn, &kind, &scope, &value, agencies).await,
            Command::Attachment(AttachmentCommand::Upload {
                conn,
                file,
                media_type,
            }) => attachment::upload(&conn, &file, &media_type).await,
            Command::Attachment(AttachmentCommand::Get { conn, sha256, out }) => {
                attachment::get(&conn, &sha256, &out).await
            }
            Command::Offline(OfflineCommand::Export { conn, peer, out }) => {
                offline::export(&conn, &peer, &out).await
            }
            Command::Offline(OfflineCommand::Import { conn, file, reply }) => {
                offline::import(&conn, &file, &reply).await
            }
            Command::Evidence(EvidenceCommand::Export {
                conn,
                case,
                with_attachments,
                out,
            }) => evidence::export(&conn, &case, with_attachments, &out).await,
            Command::Evidence(EvidenceCommand::Verify { file, roster, json }) => {
                evidence::verify(&file, roster.as_deref(), json)
            }
            Command::DeadLetters(DeadLettersCommand::List { conn }) => {
                client::dead_letters(&conn).await
            }
            Command::DeadLetters(DeadLettersCommand::Retry { conn, seq }) => {
                client::dead_letter(&conn, seq, true).await
            }
            Command::DeadLetters(DeadLettersCommand::Drop { conn, seq }) => {
                client::dead_letter(&conn, seq, false).await
            }
            Command::Bench(args) => bench::run(&args).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("lintas: error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging(json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("LINTAS_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}
