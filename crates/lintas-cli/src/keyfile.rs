//! Signing keys on disk: JSON with the key id, the secret seed and the
//! public key, written readable by its owner only.

use std::path::Path;

use lintas_core::Zeroizing;
use lintas_core::ids::KeyId;
use lintas_core::keys::SigningKey;
use serde::{Deserialize, Serialize};

use crate::Error;

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyFile {
    key_id: String,
    seed_hex: String,
    public_key_hex: String,
}

/// Writes `key` to `path` (mode 0600 on Unix).
pub(crate) fn write(key: &SigningKey, path: &Path) -> Result<(), Error> {
    let file = KeyFile {
        key_id: key.key_id().to_string(),
        seed_hex: hex::encode(*key.seed()),
        public_key_hex: key.public_key().to_hex(),
    };
    let text = Zeroizing::new(serde_json::to_string_pretty(&file)?);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(path, text.as_bytes())
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(())
}

/// Reads a key written by [`write`].
pub(crate) fn read(path: &Path) -> Result<SigningKey, Error> {
    let text = Zeroizing::new(
        std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read key {}: {e}", path.display()))?,
    );
    let file: KeyFile =
        serde_json::from_str(&text).map_err(|e| format!("key file {}: {e}", path.display()))?;
    let mut seed = Zeroizing::new([0u8; 32]);
    hex::decode_to_slice(&file.seed_hex, seed.as_mut())
        .map_err(|e| format!("key file {}: seed_hex: {e}", path.display()))?;
    let key = SigningKey::from_seed(KeyId::parse(&file.key_id)?, &seed)?;
    if key.public_key().to_hex() != file.public_key_hex {
        return Err(format!(
            "key file {}: public_key_hex does not match the seed",
            path.display()
        )
        .into());
    }
    Ok(key)
}

/// `lintas keygen`.
pub(crate) fn generate(key_id: &str, out: &Path) -> Result<(), Error> {
    let key = SigningKey::generate(KeyId::parse(key_id)?)?;
    write(&key, out)?;
    println!("{}", key.public_key().to_hex());
    Ok(())
}
