//! A cheap fingerprint of everything a resolution read: the watched
//! environment variables and the identity of every file consulted.
//!
//! The refresher compares fingerprints every few seconds; when they differ,
//! the chain is resolved again. A `stat` per file and one hash of the
//! environment cost microseconds, so static credentials can follow a rotated
//! file without re-parsing it on every call.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use super::environment::EnvVars;

/// What identifies one version of a file without reading it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct FileStamp {
    inode: u64,
    size: u64,
    modified_ns: i128,
    changed_ns: i128,
}

impl FileStamp {
    fn of(path: &Path) -> Option<FileStamp> {
        let meta = std::fs::metadata(path).ok()?;
        Some(FileStamp {
            inode: meta.ino(),
            size: meta.size(),
            modified_ns: i128::from(meta.mtime()) * 1_000_000_000 + i128::from(meta.mtime_nsec()),
            changed_ns: i128::from(meta.ctime()) * 1_000_000_000 + i128::from(meta.ctime_nsec()),
        })
    }
}

/// The fingerprint of one resolution's inputs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fingerprint {
    environment: u64,
    files: Vec<(PathBuf, Option<FileStamp>)>,
}

impl Fingerprint {
    /// Fingerprints `env` and the files at `paths`, absent ones included, so
    /// that a file appearing later also counts as a change.
    pub fn capture(env: &EnvVars, paths: &[PathBuf]) -> Self {
        Fingerprint { environment: env.digest(), files: paths.iter().map(|p| (p.clone(), FileStamp::of(p))).collect() }
    }

    /// Takes the same fingerprint again, now, over the same files, with
    /// `env` as the environment (a caller's latest capture: this never reads
    /// the process environment). `stat`s every file: call it off the
    /// runtime's worker.
    pub fn recapture(&self, env: &EnvVars) -> Self {
        let paths: Vec<PathBuf> = self.files.iter().map(|(p, _)| p.clone()).collect();
        // The file list itself depends on the environment (AWS_CONFIG_FILE,
        // HOME...); a changed environment is already a difference, so the
        // old list is good enough to compare with.
        Fingerprint::capture(env, &paths)
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
        let before = Fingerprint::capture(&env, std::slice::from_ref(&file));
        assert_eq!(before, Fingerprint::capture(&env, std::slice::from_ref(&file)));
        std::fs::write(&file, "bb").unwrap();
        assert_ne!(before, Fingerprint::capture(&env, std::slice::from_ref(&file)));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_file_appearing_changes_the_fingerprint() {
        let file = std::env::temp_dir().join(format!("credchain-fp-new-{}", std::process::id()));
        let env = EnvVars::default();
        let before = Fingerprint::capture(&env, std::slice::from_ref(&file));
        std::fs::write(&file, "x").unwrap();
        assert_ne!(before, Fingerprint::capture(&env, std::slice::from_ref(&file)));
        std::fs::remove_file(&file).unwrap();
    }
}
