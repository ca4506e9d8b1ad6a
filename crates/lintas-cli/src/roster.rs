//! `lintas roster`: build a roster from JSON, add steward signatures, show
//! one.

use std::path::{Path, PathBuf};

use clap::Subcommand;
use lintas_core::ids::MemberState;
use lintas_core::roster::{Roster, SignedRoster};

use crate::{Error, keyfile};

#[derive(Debug, Subcommand)]
pub(crate) enum RosterCommand {
    /// Encode a roster described in JSON, unsigned, for stewards to sign.
    Build {
        /// The roster as JSON (the `Roster` fields of docs/PROTOCOL.md).
        #[arg(long)]
        spec: PathBuf,
        /// Where to write the encoded SignedRoster.
        #[arg(long)]
        out: PathBuf,
    },
    /// Add a steward's signature to a roster file, in place.
    Sign {
        /// The SignedRoster file.
        #[arg(long)]
        roster: PathBuf,
        /// The steward's key file.
        #[arg(long)]
        key: PathBuf,
        /// The steward's member state (alpha-3), as listed in the roster.
        #[arg(long)]
        state: String,
    },
    /// Print a roster and how many stewards validly signed it, as JSON.
    Show {
        /// The SignedRoster file.
        #[arg(long)]
        roster: PathBuf,
    },
}

pub(crate) fn read(path: &Path) -> Result<SignedRoster, Error> {
    let bytes =
        std::fs::read(path).map_err(|e| format!("cannot read roster {}: {e}", path.display()))?;
    Ok(SignedRoster::decode(&bytes).map_err(|e| format!("roster {}: {e}", path.display()))?)
}

pub(crate) fn write(signed: &SignedRoster, path: &Path) -> Result<(), Error> {
    std::fs::write(path, signed.encode())
        .map_err(|e| format!("cannot write {}: {e}", path.display()).into())
}

pub(crate) fn run(command: RosterCommand) -> Result<(), Error> {
    match command {
        RosterCommand::Build { spec, out } => {
            let text = std::fs::read_to_string(&spec)
                .map_err(|e| format!("cannot read {}: {e}", spec.display()))?;
            let roster: Roster =
                serde_json::from_str(&text).map_err(|e| format!("{}: {e}", spec.display()))?;
            let signed =
                SignedRoster::new(&roster).map_err(|e| format!("{}: {e}", spec.display()))?;
            write(&signed, &out)
        }
        RosterCommand::Sign { roster, key, state } => {
            let mut signed = read(&roster)?;
            let state = MemberState::parse(&state).map_err(|e| format!("--state: {e}"))?;
            let key = keyfile::read(&key)?;
            let listed = signed.roster()?;
            match listed.steward(key.key_id()) {
                Some(s) if s.public_key == key.public_key() && s.state == state => {}
                _ => {
                    return Err(format!(
                        "key {} is not a {state} steward key of this roster",
                        key.key_id()
                    )
                    .into());
                }
            }
            signed.add_signature(state, &key);
            write(&signed, &roster)
        }
        RosterCommand::Show { roster } => {
            let signed = read(&roster)?;
            let body = signed.roster()?;
            let valid = signed.valid_signers(&body.stewards).len();
            let out = serde_json::json!({
                "version": body.version,
                "threshold": body.threshold,
                "valid_signatures": valid,
                "roster": body,
            });
            println!("{}", serde_json::to_string_pretty(&out)?);
            Ok(())
        }
    }
}
