//! A cheap fingerprint of everything a resolution read: the watched
//! environment variables and the identity of every file consulted.
//!
//! The refresher compares fingerprints every few seconds; when they differ,
//! the chain is resolved again. A `stat` per file and one hash of the
//! environment cost microseconds, so static credentials can follow a rotated
//! file without re-parsing it on every call.

use std::path::{Path, PathBuf};

use super::environment::{EnvVars, Environment};
use super::paths::ChainFiles;
use crate::platform::FileIdentity;

/// What identifies one version of a file without reading it.
type FileStamp = FileIdentity;

/// The identity of `path` now; `None` when it cannot be examined.
fn stamp_of(path: &Path) -> Option<FileStamp> {
    std::fs::metadata(path).ok().map(|meta| FileIdentity::of(&meta))
}

/// The fingerprint of one resolution's inputs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fingerprint {
    environment: u64,
    files: Vec<(PathBuf, Option<FileStamp>)>,
    /// Whether the file list is the environment's (recomputed on every
    /// recapture) or a fixed one.
    named_by_environment: bool,
}

impl Fingerprint {
    /// Fingerprints `environment`'s chain variables and the files they
    /// name (expanded from the whole environment: a path may name any
    /// variable), absent ones included, so that a file appearing later, or
    /// a path that now names another file, counts as a change. `stat`s every
    /// file: call it off the runtime's worker.
    pub fn capture(environment: &Environment) -> Self {
        Fingerprint::of_files(&environment.vars, &ChainFiles::of(environment))
    }

    /// [`Fingerprint::capture`] over files already worked out from `env`'s
    /// environment (a resolution reads them too).
    pub fn of_files(env: &EnvVars, files: &ChainFiles) -> Self {
        Fingerprint { named_by_environment: true, ..Fingerprint::over(env, &files.all()) }
    }

    /// Fingerprints `env` and the files at `paths` (for a resolution that
    /// read no file).
    pub fn over(env: &EnvVars, paths: &[PathBuf]) -> Self {
        let files = paths.iter().map(|p| (p.clone(), stamp_of(p))).collect();
        Fingerprint { environment: env.digest(), files, named_by_environment: false }
    }

    /// Takes the fingerprint again, now, under `environment` (a caller's
    /// latest capture: this never reads the process environment).
    pub fn recapture(&self, environment: &Environment) -> Self {
        if self.named_by_environment {
            return Fingerprint::capture(environment);
        }
        let paths: Vec<PathBuf> = self.files.iter().map(|(p, _)| p.clone()).collect();
        Fingerprint::over(&environment.vars, &paths)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rewritten_file_changes_the_fingerprint() {
        let dir = std::env::temp_dir().join(format!("credchain-fp-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("credentials");
        std::fs::write(&file, "a").unwrap();
        let env = EnvVars::default();
        let before = Fingerprint::over(&env, std::slice::from_ref(&file));
        assert_eq!(before, Fingerprint::over(&env, std::slice::from_ref(&file)));
        std::fs::write(&file, "bb").unwrap();
        assert_ne!(before, Fingerprint::over(&env, std::slice::from_ref(&file)));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_variable_inside_a_files_path_changing_changes_the_fingerprint() {
        // AWS_CONFIG_FILE=$CFG/config: the chain's own variables are the same,
        // the file is another.
        let at = |dir: &str| {
            Environment::with_others(&[("AWS_CONFIG_FILE", "$CFG/config"), ("HOME", "/h")], &[("CFG", dir)])
        };
        let before = Fingerprint::capture(&at("/etc/a"));
        assert_eq!(before.recapture(&at("/etc/a")), before);
        assert_ne!(before.recapture(&at("/etc/b")), before);
    }

    #[test]
    fn a_file_appearing_changes_the_fingerprint() {
        let file = std::env::temp_dir().join(format!("credchain-fp-new-{}", std::process::id()));
        let env = EnvVars::default();
        let before = Fingerprint::over(&env, std::slice::from_ref(&file));
        std::fs::write(&file, "x").unwrap();
        assert_ne!(before, Fingerprint::over(&env, std::slice::from_ref(&file)));
        std::fs::remove_file(&file).unwrap();
    }
}
