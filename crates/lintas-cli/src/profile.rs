//! Client profiles: which node a case system talks to and with which
//! certificates, kept in a small TOML file so that commands take
//! `--profile NAME` instead of five TLS flags (the flags still work, and
//! override the profile's values).
//!
//! `--profile` (or `LINTAS_PROFILE`) names a file: a path to it, or a name
//! looked up as `NAME.toml` in `LINTAS_PROFILE_DIR` (by default
//! `~/.config/lintas/profiles`). Relative paths inside a profile are
//! relative to the profile's own directory. `lintas dev-setup` writes one
//! per case system into `DIR/profiles/`.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::Error;

/// One profile file.
#[derive(Debug, Default, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Profile {
    /// The node, e.g. `https://127.0.0.1:50051`.
    pub(crate) node: Option<String>,
    /// The node's TLS name (its roster tls_identity).
    pub(crate) server_name: Option<String>,
    /// CA certificate (PEM).
    pub(crate) ca: Option<PathBuf>,
    /// The case system's certificate (PEM).
    pub(crate) cert: Option<PathBuf>,
    /// The case system's key (PEM).
    pub(crate) key: Option<PathBuf>,
    /// The officer commands run for, unless `--officer` says otherwise.
    pub(crate) officer: Option<String>,
}

/// The file `name` refers to.
pub(crate) fn path_of(name: &str) -> Result<PathBuf, Error> {
    let direct = PathBuf::from(name);
    if direct.is_file() || name.contains('/') || name.ends_with(".toml") {
        return Ok(direct);
    }
    let dir = match std::env::var_os("LINTAS_PROFILE_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => std::env::var_os("HOME")
            .map(|home| PathBuf::from(home).join(".config/lintas/profiles"))
            .ok_or("--profile: no LINTAS_PROFILE_DIR and no HOME to look in")?,
    };
    Ok(dir.join(format!("{name}.toml")))
}

/// Reads the profile `name` refers to, with its paths made relative to
/// where the command runs.
pub(crate) fn load(name: &str) -> Result<Profile, Error> {
    let path = path_of(name)?;
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("--profile {name}: cannot read {}: {e}", path.display()))?;
    let mut profile: Profile =
        toml::from_str(&text).map_err(|e| format!("profile {}: {e}", path.display()))?;
    let base = path.parent().unwrap_or(Path::new(""));
    for file in [&mut profile.ca, &mut profile.cert, &mut profile.key]
        .into_iter()
        .flatten()
    {
        if file.is_relative() {
            *file = base.join(&*file);
        }
    }
    Ok(profile)
}

/// Writes `profile` to `path` (paths in it as given).
pub(crate) fn write(path: &Path, about: &str, profile: &Profile) -> Result<(), Error> {
    let text = format!("# {about}\n{}", toml::to_string(profile)?);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()).into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_profile_resolves_its_paths_next_to_itself_and_refuses_unknown_keys() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("profiles/IDN.KEMLU.PWNI.toml");
        let profile = Profile {
            node: Some("https://127.0.0.1:50051".into()),
            server_name: Some("pwni.kemlu.idn.lintas.test".into()),
            ca: Some("../pki/ca.pem".into()),
            cert: Some("../pki/c.pem".into()),
            key: Some("/abs/c.key".into()),
            officer: None,
        };
        write(&path, "test", &profile).unwrap_or_else(|e| panic!("{e}"));
        let read = load(path.to_str().unwrap_or_default()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(read.node, profile.node);
        assert_eq!(read.ca, Some(dir.path().join("profiles/../pki/ca.pem")));
        assert_eq!(read.key, Some(PathBuf::from("/abs/c.key")));

        std::fs::write(&path, "node = \"x\"\nnodes = 1\n").unwrap_or_else(|e| panic!("{e}"));
        let error = load(path.to_str().unwrap_or_default())
            .map(|_| ())
            .unwrap_err()
            .to_string();
        assert!(error.contains("nodes"), "{error}");
        let error = load(dir.path().join("missing.toml").to_str().unwrap_or_default())
            .map(|_| ())
            .unwrap_err()
            .to_string();
        assert!(error.contains("cannot read"), "{error}");
    }
}
