//! Test-only: the shared files in a private temporary folder, and an
//! environment that points every path the chain reads into it, so that a
//! unit test reads neither the user's files nor the process environment.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use super::context::ChainContext;
use super::environment::Environment;
use super::sources::{detect, Detection, Plan};
use super::SourceName;
use crate::types::credentials::Credentials;
use crate::types::error::{Error, Result};

static NEXT: AtomicUsize = AtomicUsize::new(0);

/// A folder of its own (mode 700), removed when dropped.
pub(crate) struct Scratch {
    dir: PathBuf,
}

impl Scratch {
    /// A new, empty folder under the system's temporary folder.
    pub(crate) fn new() -> Scratch {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("credchain-unit-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        chmod(&dir, 0o700);
        Scratch { dir }
    }

    /// The folder.
    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }

    /// The path of `name` in the folder, as text for a variable or a file.
    pub(crate) fn path(&self, name: &str) -> String {
        self.dir.join(name).display().to_string()
    }

    /// Writes `text` to `name` in the folder (creating its parent), mode 600.
    pub(crate) fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        chmod(&path, 0o600);
        path
    }

    /// Writes the shared config file.
    pub(crate) fn config(&self, text: &str) -> PathBuf {
        self.write("config", text)
    }

    /// Writes the shared credentials file.
    pub(crate) fn credentials(&self, text: &str) -> PathBuf {
        self.write("credentials", text)
    }

    /// `HOME`, `AWS_CONFIG_FILE`, `AWS_SHARED_CREDENTIALS_FILE` and
    /// `BOTO_CONFIG` in the folder, instance metadata disabled; then `vars`,
    /// which replace any of those.
    pub(crate) fn env(&self, vars: &[(&'static str, &str)]) -> Environment {
        let defaults = [
            ("HOME", self.dir.display().to_string()),
            ("AWS_CONFIG_FILE", self.path("config")),
            ("AWS_SHARED_CREDENTIALS_FILE", self.path("credentials")),
            ("BOTO_CONFIG", self.path("boto")),
            ("AWS_EC2_METADATA_DISABLED", "true".to_owned()),
        ];
        let mut all: Vec<(&'static str, String)> =
            defaults.into_iter().filter(|(name, _)| !vars.iter().any(|(n, _)| n == name)).collect();
        all.extend(vars.iter().map(|&(name, value)| (name, value.to_owned())));
        let borrowed: Vec<(&'static str, &str)> = all.iter().map(|(n, v)| (*n, v.as_str())).collect();
        Environment::of(&borrowed)
    }

    /// The context for `profile` (`None`: the ambient one) under
    /// [`Scratch::env`]`(vars)`; panics when the files cannot be read.
    pub(crate) fn context(&self, profile: Option<&str>, vars: &[(&'static str, &str)]) -> ChainContext {
        ChainContext::read(profile, &self.env(vars)).1.expect("the shared files should be readable")
    }

    /// What `source` detects in that context.
    pub(crate) fn detect(
        &self,
        source: SourceName,
        profile: Option<&str>,
        vars: &[(&'static str, &str)],
    ) -> Result<Detection> {
        detect(source, &self.context(profile, vars))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Sets the permission bits of `path`.
pub(crate) fn chmod(path: &Path, mode: u32) {
    crate::platform::set_permission_bits(path, mode).unwrap();
}

/// The plan of a source that applies; panics otherwise.
pub(crate) fn plan(detection: Result<Detection>) -> Plan {
    match detection {
        Ok(Detection::Configured(plan)) => plan,
        other => panic!("expected the source to apply, got {other:?}"),
    }
}

/// The credentials a source read offline; panics otherwise.
pub(crate) fn ready(detection: Result<Detection>) -> Credentials {
    match plan(detection) {
        Plan::Ready(credentials) => credentials,
        other => panic!("expected credentials read offline, got {other:?}"),
    }
}

/// Why a source does not apply; panics when it does or is broken.
pub(crate) fn not_configured(detection: Result<Detection>) -> String {
    match detection {
        Ok(Detection::NotConfigured(why)) => why,
        other => panic!("expected the source not to apply, got {other:?}"),
    }
}

/// The error of a broken configuration; panics otherwise.
pub(crate) fn broken(detection: Result<Detection>) -> Error {
    match detection {
        Err(error) => error,
        other => panic!("expected a broken configuration, got {other:?}"),
    }
}
