//! Every file the chain reads goes through [`read_bounded`]: only regular
//! files, opened without blocking, at most [`FILE_LIMIT`] bytes. A FIFO,
//! a device (`/dev/zero`), a directory or a socket named as a config file
//! is a clear error at once instead of a stall or an endless read.

use crate::platform;
use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

/// The largest file the chain reads. AWS config files with hundreds of
/// profiles are tens of kilobytes.
pub(crate) const FILE_LIMIT: u64 = 4 * 1024 * 1024;

/// Why a file could not be used.
#[derive(Debug, PartialEq, Eq)]
pub enum Unreadable {
    /// It does not exist (or cannot be opened); botocore treats that as an
    /// empty file.
    Missing,
    /// It exists but is no regular file, is too large, or reading it failed;
    /// the text says which, fit for a message.
    Refused(String),
    /// It could not be opened because the process is out of descriptors
    /// (or the kernel of memory): not the file's fault; the text says so.
    Exhausted(String),
}

/// Reads `path` if it is a regular file of at most [`FILE_LIMIT`] bytes.
pub fn read_bounded(path: &Path) -> Result<Vec<u8>, Unreadable> {
    // O_NONBLOCK: opening a FIFO for reading with no writer would otherwise
    // block; the type check below then refuses it.
    let file = platform::open_for_reading(path).map_err(unopenable)?;
    let meta = file.metadata().map_err(|e| Unreadable::Refused(format!("cannot be examined ({e})")))?;
    let kind = meta.file_type();
    if !kind.is_file() {
        return Err(Unreadable::Refused(format!(
            "is not a regular file (it is {})",
            platform::describe_file_type(&kind)
        )));
    }
    if meta.len() > FILE_LIMIT {
        return Err(Unreadable::Refused(format!("is larger than {} MiB", FILE_LIMIT / (1024 * 1024))));
    }
    read_at_most(file, FILE_LIMIT)
}

/// Why a file could not be opened. Only a file that is not there (or a path
/// through something that is not a folder) is missing; a file that is
/// there but cannot be opened (no permission, a symbolic-link loop, no
/// descriptor left) is refused with the system's words: counting it as
/// absent would let the chain serve another source's keys, or say "not
/// found" for a profile the file defines.
fn unopenable(error: io::Error) -> Unreadable {
    match error.kind() {
        io::ErrorKind::NotFound | io::ErrorKind::NotADirectory => Unreadable::Missing,
        _ if platform::is_exhaustion(&error) => Unreadable::Exhausted(format!("cannot be opened ({error})")),
        _ => Unreadable::Refused(format!("cannot be opened ({error})")),
    }
}

/// Reads to the end, refusing a file that grew past `limit` meanwhile.
fn read_at_most(file: File, limit: u64) -> Result<Vec<u8>, Unreadable> {
    let mut bytes = Vec::new();
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e: io::Error| Unreadable::Refused(format!("cannot be read ({e})")))?;
    if bytes.len() as u64 > limit {
        return Err(Unreadable::Refused(format!("is larger than {} MiB", limit / (1024 * 1024))));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("credchain-files-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn a_regular_file_is_read() {
        let dir = scratch("regular");
        std::fs::write(dir.join("config"), "[default]\n").unwrap();
        assert_eq!(read_bounded(&dir.join("config")).unwrap(), b"[default]\n");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_missing_file_is_missing() {
        assert_eq!(read_bounded(Path::new("/nonexistent/credchain/config")), Err(Unreadable::Missing));
    }

    #[test]
    fn a_path_through_a_file_is_missing() {
        let dir = scratch("through-a-file");
        std::fs::write(dir.join("file"), "x").unwrap();
        assert!(matches!(read_bounded(&dir.join("file").join("credentials")), Err(Unreadable::Missing)));
    }

    #[test]
    fn a_symbolic_link_loop_is_refused_not_missing() {
        let dir = scratch("loop");
        platform::symlink(&dir.join("b"), &dir.join("a")).unwrap();
        platform::symlink(&dir.join("a"), &dir.join("b")).unwrap();
        match read_bounded(&dir.join("a")) {
            Err(Unreadable::Refused(why)) => {
                assert_eq!(why, "cannot be opened (Too many levels of symbolic links (os error 40))")
            }
            other => panic!("{:?}", other.map(|_| ())),
        }
    }

    #[test]
    fn a_fifo_is_refused_at_once() {
        let dir = scratch("fifo");
        let fifo = dir.join("config");
        assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
        assert_eq!(read_bounded(&fifo), Err(Unreadable::Refused("is not a regular file (it is a FIFO)".into())));
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn dev_zero_is_refused_without_reading() {
        assert_eq!(
            read_bounded(Path::new("/dev/zero")),
            Err(Unreadable::Refused("is not a regular file (it is a character device)".into()))
        );
    }

    #[test]
    fn a_directory_is_refused() {
        let dir = scratch("dir");
        assert_eq!(read_bounded(&dir), Err(Unreadable::Refused("is not a regular file (it is a directory)".into())));
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_file_past_the_limit_is_refused() {
        let dir = scratch("large");
        let path = dir.join("config");
        let file = File::create(&path).unwrap();
        file.set_len(FILE_LIMIT + 1).unwrap();
        assert_eq!(read_bounded(&path), Err(Unreadable::Refused("is larger than 4 MiB".into())));
        std::fs::remove_dir_all(dir).unwrap();
    }
}
