//! `lintas dev-pki` and `lintas dev-setup`: development material only.
//! Production agencies use their state's PKI and their own key ceremonies.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use clap::Args;
use lintas_core::ids::{AgencyId, KeyId, MemberState, PhoneNumber};
use lintas_core::keys::SigningKey;
use lintas_core::place::ContactPoint;
use lintas_core::roster::{AgencyKey, Roster, RosterAgency, SignedRoster, StewardKey};
use lintas_core::time::Timestamp;
use lintas_core::vocab::{AgencyKind, NoticeKind};
use lintas_grpc::pki::DevCa;

use crate::{Error, keyfile};

/// The DNS name a development node of `agency` uses:
/// `IDN.KEMLU.PWNI` -> `pwni.kemlu.idn.lintas.test`.
pub(crate) fn dns_name(agency: &AgencyId) -> String {
    let mut labels: Vec<String> = agency.as_str().split('.').map(str::to_lowercase).collect();
    labels.reverse();
    format!("{}.lintas.test", labels.join("."))
}

/// The DNS name of an agency's development case-system client.
pub(crate) fn case_system_name(agency: &AgencyId) -> String {
    format!("casesys.{}", dns_name(agency))
}

fn write(path: &Path, text: &str) -> Result<(), Error> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()).into())
}

/// The DNS name of the development certificate no roster agency uses.
const STRANGER: &str = "stranger.lintas.test";

/// `lintas dev-pki`.
pub(crate) fn dev_pki(out: &Path, names: &[String]) -> Result<(), Error> {
    let ca = DevCa::new("Lintas development CA")?;
    write(&out.join("ca.pem"), &ca.cert_pem())?;
    for name in names {
        let pair = ca.issue(name)?;
        write(&out.join(format!("{name}.pem")), &pair.cert)?;
        write(&out.join(format!("{name}.key")), &pair.key)?;
    }
    Ok(())
}

#[derive(Debug, Args)]
pub(crate) struct SetupArgs {
    /// Directory to create everything in.
    #[arg(long)]
    dir: PathBuf,
    /// Agencies as ID[:KIND], KIND one of police, foreign_ministry,
    /// immigration, social_welfare, prosecution,
    /// financial_intelligence_unit, labour_protection,
    /// communications_regulator, central_authority (default police).
    #[arg(long = "agency", required = true)]
    agencies: Vec<String>,
    /// First port; agencies listen on consecutive ports on 127.0.0.1.
    #[arg(long, default_value_t = 50051)]
    base_port: u16,
}

fn kind(text: &str) -> Result<AgencyKind, Error> {
    Ok(
        serde_json::from_value(serde_json::Value::String(text.to_owned()))
            .map_err(|_| format!("unknown agency kind {text:?}"))?,
    )
}

/// `lintas dev-setup`.
pub(crate) fn run(args: &SetupArgs) -> Result<(), Error> {
    let mut agencies = Vec::new();
    for (i, spec) in args.agencies.iter().enumerate() {
        let (id, kind) = match spec.split_once(':') {
            Some((id, k)) => (AgencyId::parse(id)?, kind(k)?),
            None => (AgencyId::parse(spec)?, AgencyKind::Police),
        };
        let port = args
            .base_port
            .checked_add(u16::try_from(i)?)
            .ok_or("port out of range")?;
        agencies.push((id, kind, port));
    }
    create(&args.dir, &agencies, "")?;
    println!("development network in {}:", args.dir.display());
    for (id, _, port) in &agencies {
        println!(
            "  {id}: lintas node --config {}/{id}/lintas.toml (port {port})",
            args.dir.display()
        );
    }
    println!(
        "client profiles: export LINTAS_PROFILE_DIR={}/profiles, then e.g. lintas tail --profile {}",
        args.dir.display(),
        agencies
            .first()
            .map(|(id, ..)| id.as_str())
            .unwrap_or("AGENCY")
    );
    Ok(())
}

/// Writes a development network for `agencies` (id, kind, port) into
/// `dir`; `extra` is appended to every node's config.
pub(crate) fn create(
    dir: &Path,
    agencies: &[(AgencyId, AgencyKind, u16)],
    extra: &str,
) -> Result<(), Error> {
    let now = Timestamp::now();

    // Stewards: one key per member state present; a majority must sign.
    let states: BTreeSet<MemberState> = agencies.iter().map(|(id, ..)| id.state()).collect();
    let mut stewards = Vec::new();
    let mut steward_keys = Vec::new();
    for state in &states {
        let key = SigningKey::generate(KeyId::parse(&format!("steward.{state}"))?)?;
        keyfile::write(&key, &dir.join(format!("stewards/{state}.json")))?;
        stewards.push(StewardKey {
            key_id: key.key_id().clone(),
            state: *state,
            public_key: key.public_key(),
        });
        steward_keys.push((*state, key));
    }

    let ca = DevCa::new("Lintas development CA")?;
    write(&dir.join("pki/ca.pem"), &ca.cert_pem())?;
    // A certificate of this CA that no roster agency is: for checking that
    // nodes refuse strangers (lintas conformance --stranger-cert).
    let stranger = ca.issue(STRANGER)?;
    write(&dir.join(format!("pki/{STRANGER}.pem")), &stranger.cert)?;
    write(&dir.join(format!("pki/{STRANGER}.key")), &stranger.key)?;
    let mut entries = Vec::new();
    for (i, (id, kind, port)) in agencies.iter().enumerate() {
        let key = SigningKey::generate(KeyId::parse(&format!("{id}#1"))?)?;
        keyfile::write(&key, &dir.join(format!("keys/{id}.json")))?;
        let name = dns_name(id);
        for dns in [name.clone(), case_system_name(id)] {
            let pair = ca.issue(&dns)?;
            write(&dir.join(format!("pki/{dns}.pem")), &pair.cert)?;
            write(&dir.join(format!("pki/{dns}.key")), &pair.key)?;
        }
        let phone = PhoneNumber::parse(&format!("+65600{i:05}"))?;
        let mut entry = RosterAgency::new(
            id.clone(),
            *kind,
            format!("{id} (development)"),
            ContactPoint::new("Duty officer", phone, true),
            format!("https://127.0.0.1:{port}"),
            name.clone(),
        );
        entry.may_issue.extend(NoticeKind::ALL.iter().copied());
        entry.keys.push(AgencyKey::new(
            key.key_id().clone(),
            key.public_key(),
            now.plus_seconds(-86_400),
            now.plus_seconds(2 * 365 * 86_400),
        ));
        entries.push(entry);

        let config = format!(
            "# Development node for {id}.\n\
             agency = \"{id}\"\n\
             listen = \"127.0.0.1:{port}\"\n\
             data_dir = \"data\"\n\
             signing_key = \"../keys/{id}.json\"\n\
             roster = \"../roster.bin\"\n\
             api_clients = [\"{client}\"]\n\n\
             [tls]\n\
             ca = \"../pki/ca.pem\"\n\
             cert = \"../pki/{name}.pem\"\n\
             key = \"../pki/{name}.key\"\n{extra}",
            client = case_system_name(id),
        );
        write(&dir.join(format!("{id}/lintas.toml")), &config)?;
        let client = case_system_name(id);
        crate::profile::write(
            &dir.join(format!("profiles/{id}.toml")),
            &format!("Client profile of {id}'s case system on the development network."),
            &crate::profile::Profile {
                node: Some(format!("https://127.0.0.1:{port}")),
                server_name: Some(name.clone()),
                ca: Some("../pki/ca.pem".into()),
                cert: Some(format!("../pki/{client}.pem").into()),
                key: Some(format!("../pki/{client}.key").into()),
                officer: None,
            },
        )?;
    }
    let threshold = u32::try_from(stewards.len() / 2 + 1)?;
    let roster = Roster::new(
        1,
        now.plus_seconds(-60),
        now.plus_seconds(365 * 86_400),
        threshold,
        stewards,
        entries,
    );
    let mut signed = SignedRoster::new(&roster)?;
    for (state, key) in &steward_keys {
        signed.add_signature(*state, key);
    }
    std::fs::write(dir.join("roster.bin"), signed.encode())?;
    write(
        &dir.join("roster.json"),
        &serde_json::to_string_pretty(&roster)?,
    )?;
    Ok(())
}
