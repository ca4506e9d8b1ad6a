//! `lintas export`: STIX 2.1 bundles and HTCDS statistics of what a node
//! holds, read over the agency API (`ListNotices`) with progress.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand, ValueEnum};
use lintas_core::ids::AgencyId;
use lintas_core::pb;
use lintas_core::signing::SignedNotice;
use lintas_core::time::Timestamp;
use lintas_core::vocab::Tlp;
use lintas_export::statistics::{DEFAULT_MIN_CELL, StatisticsOptions, statistics};
use lintas_export::stix::{StixOptions, bundle};
use lintas_export::{HeldAlert, HeldCase, Holdings};

use crate::Error;
use crate::client::{Connection, connect, status};

/// The exports.
#[derive(Debug, Subcommand)]
pub(crate) enum ExportCommand {
    /// A STIX 2.1 bundle (JSON) of the compounds, suspects, recruitment
    /// channels and financial indicators the node holds, marked TLP 2.0.
    /// Nothing about victims is exported.
    Stix(StixArgs),
    /// Aggregated statistics with HTCDS field names (cases by status and
    /// route; victims by citizenship, gender, age band, exploitation and
    /// route), small cells suppressed.
    Statistics(StatisticsArgs),
}

/// `lintas export stix`.
#[derive(Debug, Args)]
pub(crate) struct StixArgs {
    #[command(flatten)]
    conn: Connection,
    /// Where to write the bundle (default: standard output).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Leave out what came in notices marked stricter than this.
    #[arg(long, value_enum, default_value_t = TlpLimit::AmberStrict)]
    max_tlp: TlpLimit,
    /// Only this agency's own cases and alerts.
    #[arg(long)]
    own: bool,
}

/// `lintas export statistics`.
#[derive(Debug, Args)]
pub(crate) struct StatisticsArgs {
    #[command(flatten)]
    conn: Connection,
    /// Where to write them (default: standard output).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Json)]
    format: Format,
    /// Cells (and totals) below this are shown as suppressed.
    #[arg(long, default_value_t = DEFAULT_MIN_CELL)]
    min_cell: u64,
    /// Count every case record the node holds, not only the cases this
    /// agency opened (a regional sum of such figures counts cases twice).
    #[arg(long)]
    held: bool,
    /// Only cases opened at or after this time (RFC 3339).
    #[arg(long)]
    opened_from: Option<String>,
    /// Only cases opened before this time (RFC 3339).
    #[arg(long)]
    opened_before: Option<String>,
}

/// A TLP level, as on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum TlpLimit {
    /// TLP:CLEAR.
    Clear,
    /// TLP:GREEN.
    Green,
    /// TLP:AMBER.
    Amber,
    /// TLP:AMBER+STRICT.
    #[value(name = "amber+strict")]
    AmberStrict,
    /// TLP:RED.
    Red,
}

impl From<TlpLimit> for Tlp {
    fn from(t: TlpLimit) -> Self {
        match t {
            TlpLimit::Clear => Tlp::Clear,
            TlpLimit::Green => Tlp::Green,
            TlpLimit::Amber => Tlp::Amber,
            TlpLimit::AmberStrict => Tlp::AmberStrict,
            TlpLimit::Red => Tlp::Red,
        }
    }
}

/// A statistics format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    /// One JSON document.
    Json,
    /// CSV: table, unit, field, value, count.
    Csv,
}

pub(crate) async fn run(command: ExportCommand) -> Result<(), Error> {
    match command {
        ExportCommand::Stix(args) => {
            let (agency, cases, alerts) = read_holdings(&args.conn).await?;
            let mut options = StixOptions::default();
            options.max_tlp = args.max_tlp.into();
            options.own_only = args.own;
            let stix = bundle(&agency, &cases, &alerts, options);
            let mut text = serde_json::to_string_pretty(&stix)?;
            text.push('\n');
            write(args.out.as_deref(), text.as_bytes())
        }
        ExportCommand::Statistics(args) => {
            let mut options = StatisticsOptions::default();
            options.min_cell = args.min_cell;
            options.own_only = !args.held;
            options.opened_from = time(args.opened_from.as_deref(), "--opened-from")?;
            options.opened_before = time(args.opened_before.as_deref(), "--opened-before")?;
            // Refuse a bad threshold before reading anything.
            statistics(&[], &options).map_err(|_| {
                format!(
                    "--min-cell: expected 2 or more (1 would suppress nothing), found {}",
                    args.min_cell
                )
            })?;
            let (_, cases, _) = read_holdings(&args.conn).await?;
            let figures = statistics(&cases, &options)?;
            let text = match args.format {
                Format::Json => {
                    let mut text = serde_json::to_string_pretty(&figures)?;
                    text.push('\n');
                    text
                }
                Format::Csv => figures.to_csv()?,
            };
            write(args.out.as_deref(), text.as_bytes())
        }
    }
}

fn time(value: Option<&str>, flag: &str) -> Result<Option<Timestamp>, Error> {
    value
        .map(|v| Timestamp::parse(v).map_err(|e| format!("{flag}: {}", e.problem).into()))
        .transpose()
}

fn write(out: Option<&Path>, bytes: &[u8]) -> Result<(), Error> {
    match out {
        Some(path) => crate::client::write_atomically(path, bytes),
        None => {
            let mut stdout = std::io::stdout().lock();
            stdout.write_all(bytes)?;
            stdout.flush()?;
            Ok(())
        }
    }
}

/// Reads every notice the node holds, page by page, with progress, into
/// the latest record of each case and the alerts.
async fn read_holdings(
    conn: &Connection,
) -> Result<(AgencyId, Vec<HeldCase>, Vec<HeldAlert>), Error> {
    let mut client = connect(conn).await?;
    let mut progress = crate::progress::Progress::counting("reading notices", "notices");
    let mut holdings: Option<Holdings> = None;
    let mut page_token = Vec::new();
    loop {
        let response = client
            .list_notices(pb::ListNoticesRequest {
                page_size: 0,
                page_token,
            })
            .await
            .map_err(status)?
            .into_inner();
        let agency = AgencyId::parse(&response.agency)
            .map_err(|e| format!("the node gave an agency id that is not one: {e}"))?;
        let holdings = holdings.get_or_insert_with(|| Holdings::new(agency));
        let count = response.notices.len() as u64;
        for held in response.notices {
            let envelope =
                SignedNotice::try_from(held.notice.ok_or("a listed notice without its envelope")?)?;
            // The node verified every notice it holds; decoding here is
            // for reading.
            let (id, body) = envelope.open_body()?;
            holdings.add(id, &body);
        }
        progress.advance(count);
        if response.next_page_token.is_empty() {
            break;
        }
        page_token = response.next_page_token;
    }
    progress.finish();
    let holdings = holdings.ok_or("the node answered no page")?;
    let agency = holdings.agency().clone();
    let (cases, alerts) = holdings.finish();
    Ok((agency, cases, alerts))
}
