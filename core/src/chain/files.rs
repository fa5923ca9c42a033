//! Every file the chain reads goes through [`read_bounded`]: only regular
//! files, opened without blocking, at most [`FILE_LIMIT`] bytes. A FIFO,
//! a device (`/dev/zero`), a directory or a socket named as a config file
//! is a clear error at once instead of a stall or an endless read.

use crate::platform;
use std::fs::File;
use std::io::{self, Read};
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

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

/// How long a file must have been left alone for a read of it to count as
/// whole: a file rewritten in place (truncated, then written, as editors
/// and `aws configure` do) is empty or half-written in between. Kernel
/// file times may come from the coarse clock (a truncation's did here:
/// up to a tick, 10 ms at 100 Hz, in the past), so this is well above it.
const SETTLED: Duration = Duration::from_millis(25);

/// The pause between reads of a file that is still changing, and how many
/// reads at most (then the last is used: a file rewritten without pause
/// never settles).
const SETTLE_PAUSE: Duration = Duration::from_millis(2);
const SETTLE_READS: u32 = 20;

/// How many reads an empty file needs before it counts as empty: a
/// truncation does not always move the file's times (ext4 here kept them),
/// so only a second look tells a file being rewritten from an empty one.
const EMPTY_READS: u32 = 3;

/// Reads `path` if it is a regular file of at most [`FILE_LIMIT`] bytes,
/// once it has settled: the same file, size and times around the read, and
/// untouched for [`SETTLED`]. Runs on a blocking thread (it may pause).
pub fn read_bounded(path: &Path) -> Result<Vec<u8>, Unreadable> {
    let mut reads = 1;
    loop {
        let (bytes, before) = read_once(path)?;
        let after = std::fs::metadata(path).ok().map(|meta| platform::FileIdentity::of(&meta));
        let settled = is_settled(&before, after.as_ref(), bytes.len()) && (!bytes.is_empty() || reads >= EMPTY_READS);
        if reads >= SETTLE_READS || settled {
            return Ok(bytes);
        }
        reads += 1;
        std::thread::sleep(SETTLE_PAUSE);
    }
}

/// Whether a read of `bytes` bytes saw the whole file: nothing changed it
/// during the read or for [`SETTLED`] before.
fn is_settled(before: &platform::FileIdentity, after: Option<&platform::FileIdentity>, bytes: usize) -> bool {
    let now_ns = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos() as i128);
    let quiet_since = before.modified_ns.max(before.changed_ns);
    after == Some(before) && before.size == bytes as u64 && now_ns - quiet_since >= SETTLED.as_nanos() as i128
}

/// One bounded read, with the file's identity as it was opened.
fn read_once(path: &Path) -> Result<(Vec<u8>, platform::FileIdentity), Unreadable> {
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
    Ok((read_at_most(file, FILE_LIMIT)?, platform::FileIdentity::of(&meta)))
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

    /// Round 3, item 10: a file rewritten in place (truncated, then
    /// written in two pieces a millisecond apart, as a program writing
    /// line by line does) every 60 ms, read meanwhile.
    #[test]
    fn a_file_rewritten_in_place_is_never_read_half_written() {
        let dir = scratch("torn");
        let path = dir.join("credentials");
        let versions = [
            format!("[default]\naws_access_key_id = AKIDOLD\naws_secret_access_key = {}\n", "o".repeat(3000)),
            format!("[default]\naws_access_key_id = AKIDNEW\naws_secret_access_key = {}\n", "n".repeat(5000)),
        ];
        std::fs::write(&path, &versions[0]).unwrap();
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let writer = {
            let (path, versions, stop) = (path.clone(), versions.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut rewrites = 0u64;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    // Truncate, then write: in place, with no atomic rename.
                    let text = versions[(rewrites % 2) as usize].as_bytes();
                    let mut file = File::create(&path).unwrap();
                    std::io::Write::write_all(&mut file, &text[..text.len() / 2]).unwrap();
                    std::thread::sleep(Duration::from_millis(1));
                    std::io::Write::write_all(&mut file, &text[text.len() / 2..]).unwrap();
                    drop(file);
                    rewrites += 1;
                    std::thread::sleep(Duration::from_millis(60));
                }
                rewrites
            })
        };
        let (mut reads, mut torn) = (0, 0);
        let until = std::time::Instant::now() + Duration::from_millis(1500);
        while std::time::Instant::now() < until {
            let bytes = read_bounded(&path).unwrap();
            reads += 1;
            torn += usize::from(!versions.iter().any(|v| v.as_bytes() == bytes.as_slice()));
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let rewrites = writer.join().unwrap();
        eprintln!("{torn} of {reads} reads were half-written ({rewrites} rewrites meanwhile)");
        assert_eq!(torn, 0, "{torn} of {reads} reads returned a half-written file");
        std::fs::remove_dir_all(dir).unwrap();
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
