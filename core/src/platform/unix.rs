//! The Linux side of the platform layer (POSIX calls, and ELF for the
//! loaded copies).

use std::ffi::{c_int, c_void, CStr, CString, OsStr};
use std::fs::{File, FileType, Metadata, OpenOptions};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{DirBuilderExt, FileTypeExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The wall clock in nanoseconds since the Unix epoch, from the kernel's
/// coarse clock (a few milliseconds of resolution, no system call through
/// the vDSO): cheap enough for every call on the hot path. `None` when
/// the clock cannot be read or is before 1970.
#[inline]
pub fn coarse_unix_nanos() -> Option<u64> {
    let mut now = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime writes the timespec it is given.
    if unsafe { libc::clock_gettime(libc::CLOCK_REALTIME_COARSE, &mut now) } != 0 || now.tv_sec < 0 {
        return None;
    }
    Some((now.tv_sec as u64).saturating_mul(1_000_000_000).saturating_add(now.tv_nsec as u64))
}

/// Registers `handler` to run in the child after every `fork()` of the
/// process. It runs in a child that may hold only one thread and any lock a
/// parent thread held: it must only touch atomics.
pub fn on_fork_in_child(handler: extern "C" fn()) {
    // SAFETY: registers a plain function; the caller's contract keeps it
    // async-signal-safe.
    unsafe {
        libc::pthread_atfork(None, None, Some(handler));
    }
}

/// The variables the home directory is found from; the library captures
/// them with the rest of its environment.
pub const HOME_VARIABLES: &[&str] = &["HOME"];

/// The home directory as botocore's `os.path.expanduser` finds it here
/// (`HOME`, when set and not empty), from the captured `variable`s.
pub fn home_directory<'a>(variable: impl Fn(&str) -> Option<&'a str>) -> Option<std::borrow::Cow<'a, str>> {
    variable("HOME").filter(|home| !home.is_empty()).map(std::borrow::Cow::Borrowed)
}

/// What identifies one version of a file without reading it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileIdentity {
    /// The file itself (a replaced file has another).
    pub inode: u64,
    /// Its length in bytes.
    pub size: u64,
    /// Its content's last change, in nanoseconds since the epoch.
    pub modified_ns: i128,
    /// Its metadata's last change, in nanoseconds since the epoch.
    pub changed_ns: i128,
}

impl FileIdentity {
    /// The identity of the file `meta` describes.
    pub fn of(meta: &Metadata) -> FileIdentity {
        FileIdentity {
            inode: meta.ino(),
            size: meta.size(),
            modified_ns: i128::from(meta.mtime()) * 1_000_000_000 + i128::from(meta.mtime_nsec()),
            changed_ns: i128::from(meta.ctime()) * 1_000_000_000 + i128::from(meta.ctime_nsec()),
        }
    }
}

/// Opens `path` for reading without ever blocking in the open itself (a
/// FIFO with no writer would block), without becoming the process's
/// controlling terminal, and closed in children.
pub fn open_for_reading(path: &Path) -> io::Result<File> {
    OpenOptions::new().read(true).custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC | libc::O_NOCTTY).open(path)
}

/// What a file that is not a regular file is, for a message.
pub fn describe_file_type(kind: &FileType) -> &'static str {
    if kind.is_dir() {
        "a directory"
    } else if kind.is_fifo() {
        "a FIFO"
    } else if kind.is_char_device() {
        "a character device"
    } else if kind.is_block_device() {
        "a block device"
    } else if kind.is_socket() {
        "a socket"
    } else {
        "not a regular file"
    }
}

/// The permission bits of a file (`0o7777` at most), as `ls -l` shows them.
pub fn permission_bits(meta: &Metadata) -> u32 {
    meta.permissions().mode() & 0o7777
}

/// Sets the permission bits of `path`.
pub fn set_permission_bits(path: &Path, bits: u32) -> io::Result<()> {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(bits))
}

/// Makes `link` a symbolic link to `original`.
pub fn symlink(original: &Path, link: &Path) -> io::Result<()> {
    std::os::unix::fs::symlink(original, link)
}

/// Whether the file `meta` describes belongs to the user this process runs
/// as.
pub fn owned_by_this_user(meta: &Metadata) -> bool {
    // SAFETY: geteuid cannot fail.
    meta.uid() == unsafe { libc::geteuid() }
}

/// Creates (or truncates) `path` for writing, readable and writable by
/// this user only, refusing to follow a symbolic link in its place.
pub fn create_private_file(path: &Path) -> io::Result<File> {
    OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).custom_flags(libc::O_NOFOLLOW).open(path)
}

/// Creates the new directory `path`, which only this user may enter;
/// fails if anything exists there.
pub fn create_private_directory(path: &Path) -> io::Result<()> {
    std::fs::DirBuilder::new().mode(0o700).create(path)
}

/// Makes a new directory with an unpredictable name starting with
/// `prefix` in `parent`, which only this user may enter.
pub fn make_private_directory(parent: &Path, prefix: &str) -> io::Result<PathBuf> {
    let template = CString::new(parent.join(format!("{prefix}XXXXXX")).as_os_str().as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "a NUL in the directory's name"))?;
    let mut template = template.into_bytes_with_nul();
    // SAFETY: a NUL-terminated, writable template; mkdtemp makes it 0700.
    let made = unsafe { libc::mkdtemp(template.as_mut_ptr().cast()) };
    if made.is_null() {
        return Err(io::Error::last_os_error());
    }
    template.pop();
    Ok(PathBuf::from(OsStr::from_bytes(&template)))
}

/// Waits for an exclusive advisory lock on `file`; released when the file
/// is closed.
pub fn lock_exclusively(file: &File) -> io::Result<()> {
    // SAFETY: flock on a descriptor the caller owns.
    if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Fills `buffer` from the kernel's random source.
pub fn fill_random(buffer: &mut [u8]) -> io::Result<()> {
    let mut filled = 0;
    while filled < buffer.len() {
        let rest = &mut buffer[filled..];
        // The system call, not glibc's wrapper: that one needs glibc 2.25,
        // and the wheel's floor is 2.17 (the kernel call is older, 3.17).
        // SAFETY: the kernel writes at most rest.len() bytes into rest.
        let got = unsafe { libc::syscall(libc::SYS_getrandom, rest.as_mut_ptr(), rest.len(), 0) };
        if got < 0 {
            let error = io::Error::last_os_error();
            if error.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(error);
        }
        filled += got as usize;
    }
    Ok(())
}

/// The value of `name` in the environment its nearest ancestor process
/// started with (from `/proc/PID/environ`, walking up from the parent;
/// unreadable ancestors are skipped): a marker a process set for its
/// descendants that a wrapper clearing the environment (`env -i`, `sudo`)
/// cannot remove.
pub fn variable_of_ancestors(name: &str) -> Option<String> {
    let wanted = [name.as_bytes(), b"="].concat();
    // SAFETY: getppid has no preconditions.
    let mut pid = unsafe { libc::getppid() };
    for _ in 0..64 {
        if pid <= 1 {
            return None;
        }
        let environ = std::fs::read(format!("/proc/{pid}/environ")).unwrap_or_default();
        let found = environ.split(|&b| b == 0).find_map(|entry| entry.strip_prefix(wanted.as_slice()));
        if let Some(value) = found {
            return String::from_utf8(value.to_vec()).ok();
        }
        pid = parent_of(pid)?;
    }
    None
}

/// The parent of process `pid`, from `/proc/PID/stat` (the field after the
/// state, which follows the last parenthesis: the name may hold any).
fn parent_of(pid: libc::pid_t) -> Option<libc::pid_t> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after_name = &stat[stat.rfind(')')? + 1..];
    after_name.split_whitespace().nth(1)?.parse().ok()
}

/// The process's standard error as it was when captured: log lines go to
/// descriptor 2 only while it is still that file. A host that closed its
/// standard descriptors has whatever it opened next there (a data file,
/// or one of the library's own sockets), which must never get a byte.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StandardError {
    device: u64,
    inode: u64,
}

impl StandardError {
    /// Descriptor 2 now; `None` when it is closed.
    pub fn capture() -> Option<StandardError> {
        // SAFETY: stat is plain data, written by fstat.
        let mut stat: libc::stat = unsafe { std::mem::zeroed() };
        // SAFETY: fstat on a descriptor number; a closed one fails.
        if unsafe { libc::fstat(2, &mut stat) } != 0 {
            return None;
        }
        Some(StandardError { device: stat.st_dev as u64, inode: stat.st_ino as u64 })
    }

    /// Writes `bytes` to descriptor 2 if it is still the captured file;
    /// errors are dropped (a log line is never worth a failure, nor a
    /// panic as `eprintln!` raises on a socket that refuses it).
    pub fn write(&self, mut bytes: &[u8]) {
        if StandardError::capture() != Some(*self) {
            return;
        }
        while !bytes.is_empty() {
            // SAFETY: writes from a valid slice.
            let written = unsafe { libc::write(2, bytes.as_ptr().cast(), bytes.len()) };
            if written > 0 {
                bytes = &bytes[written as usize..];
            } else if written == 0 || io::Error::last_os_error().kind() != io::ErrorKind::Interrupted {
                return;
            }
        }
    }
}

/// Whether `error` says the process ran out of something the system gives
/// it (descriptors, processes or threads, kernel memory), rather than that
/// something was wrong with what was asked.
pub fn is_exhaustion(error: &io::Error) -> bool {
    matches!(error.raw_os_error(), Some(libc::EMFILE | libc::ENFILE | libc::ENOMEM | libc::EAGAIN | libc::ENOBUFS))
}

/// The signals that stop `credchain serve` (and that it forwards to the
/// command it runs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopSignal {
    /// SIGTERM.
    Terminate,
    /// SIGINT (Ctrl-C).
    Interrupt,
    /// SIGHUP (the terminal went away).
    HangUp,
}

impl StopSignal {
    /// The signal's number, for messages and exit statuses.
    pub fn number(self) -> i32 {
        match self {
            StopSignal::Terminate => libc::SIGTERM,
            StopSignal::Interrupt => libc::SIGINT,
            StopSignal::HangUp => libc::SIGHUP,
        }
    }

    fn from_number(number: c_int) -> Option<StopSignal> {
        [StopSignal::Terminate, StopSignal::Interrupt, StopSignal::HangUp].into_iter().find(|s| s.number() == number)
    }

    /// Sends this signal to the process `pid` (a child of this process).
    pub fn send_to(self, pid: u32) {
        if let Ok(pid) = libc::pid_t::try_from(pid) {
            // SAFETY: kill(2) on the caller's own child.
            unsafe { libc::kill(pid, self.number()) };
        }
    }
}

/// The stop signals, taken synchronously by one thread instead of by a
/// handler.
pub struct StopSignals {
    set: libc::sigset_t,
}

impl StopSignals {
    /// Blocks the stop signals in the calling thread. Called before any
    /// other thread exists, every thread inherits the mask and only
    /// [`StopSignals::next`] sees them.
    pub fn block() -> StopSignals {
        // SAFETY: sigset_t is plain data, initialised by sigemptyset.
        let set = unsafe {
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            for signal in [libc::SIGTERM, libc::SIGINT, libc::SIGHUP] {
                libc::sigaddset(&mut set, signal);
            }
            set
        };
        // SAFETY: a valid set; the old mask is not needed.
        unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) };
        StopSignals { set }
    }

    /// The next stop signal within `wait`, if any.
    pub fn next(&self, wait: Duration) -> Option<StopSignal> {
        let timeout =
            libc::timespec { tv_sec: wait.as_secs() as libc::time_t, tv_nsec: wait.subsec_nanos() as libc::c_long };
        // SAFETY: a valid set and timeout; no siginfo wanted.
        let signal = unsafe { libc::sigtimedwait(&self.set, std::ptr::null_mut(), &timeout) };
        StopSignal::from_number(signal)
    }

    /// Makes `command`'s process start with no signal blocked (a child
    /// inherits the mask, and a program that cannot be stopped by SIGTERM
    /// would be a surprise).
    pub fn unblocked_in(command: &mut std::process::Command) {
        use std::os::unix::process::CommandExt;
        // SAFETY: the closure only calls sigprocmask, which is
        // async-signal-safe.
        unsafe {
            command.pre_exec(|| {
                let mut none: libc::sigset_t = std::mem::zeroed();
                libc::sigemptyset(&mut none);
                libc::sigprocmask(libc::SIG_SETMASK, &none, std::ptr::null_mut());
                Ok(())
            });
        }
    }
}

/// The exit status of a child as a shell reports it: its code, or 128 + N
/// when signal N ended it.
pub fn exit_code(status: std::process::ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    status.code().unwrap_or_else(|| 128 + status.signal().unwrap_or(0))
}

/// An object loaded into the process that defines a symbol.
#[derive(Clone, Debug)]
pub struct LoadedObject {
    /// The file it was loaded from (the program's own path for the
    /// program itself).
    pub path: String,
    /// The symbol's address in this process.
    pub address: usize,
}

/// Every loaded object that defines `symbol`, in load order (the order
/// every caller in the process sees alike). Only reads memory: it never
/// asks the loader to look a name up, which would change the loader's own
/// bookkeeping of the host's libraries.
pub fn loaded_objects_exporting(symbol: &CStr) -> Vec<LoadedObject> {
    let mut walk = Walk { symbol: symbol.to_bytes(), found: Vec::new() };
    // SAFETY: the callback reads the loaded objects' own memory while the
    // loader keeps them mapped (for the duration of the walk) and makes no
    // loader call.
    unsafe { libc::dl_iterate_phdr(Some(visit), (&mut walk as *mut Walk).cast()) };
    walk.found
}

/// The state of one [`loaded_objects_exporting`] walk.
struct Walk<'a> {
    symbol: &'a [u8],
    found: Vec<LoadedObject>,
}

/// `dl_iterate_phdr`'s callback.
unsafe extern "C" fn visit(info: *mut libc::dl_phdr_info, _size: usize, data: *mut c_void) -> c_int {
    // SAFETY: `data` is the walk of `loaded_objects_exporting`; `info` is
    // valid for the call.
    let (walk, info) = unsafe { (&mut *(data as *mut Walk), &*info) };
    // SAFETY: the object is mapped for the duration of the callback.
    if let Some(address) = unsafe { super::elf::find_symbol(info, walk.symbol) } {
        // SAFETY: as above; the name is the loader's NUL-terminated string.
        let name = if info.dlpi_name.is_null() { c"" } else { unsafe { CStr::from_ptr(info.dlpi_name) } };
        let path = if name.is_empty() { own_program() } else { name.to_string_lossy().into_owned() };
        walk.found.push(LoadedObject { path, address });
    }
    0
}

/// The main program's path (an object the loader names with "").
fn own_program() -> String {
    std::env::current_exe().map(|p| p.display().to_string()).unwrap_or_else(|_| "(the program)".to_owned())
}

/// Keeps the loaded object `path` loaded for the life of the process.
pub fn pin_loaded_object(path: &str) {
    let Ok(path) = CString::new(path) else { return };
    // SAFETY: RTLD_NOLOAD | RTLD_NODELETE marks the loaded object as never
    // to be unloaded; the handle's reference is released at once.
    let handle = unsafe { libc::dlopen(path.as_ptr(), libc::RTLD_NOLOAD | libc::RTLD_NODELETE | libc::RTLD_LAZY) };
    if !handle.is_null() {
        // SAFETY: balances the dlopen above; NODELETE stays.
        unsafe { libc::dlclose(handle) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn libc_functions_are_found_where_the_loader_finds_them() {
        let found: Vec<usize> = loaded_objects_exporting(c"getpid").iter().map(|o| o.address).collect();
        let getpid = libc::getpid as *const () as usize;
        assert!(found.contains(&getpid), "{found:x?} vs {getpid:x}");
    }

    #[test]
    fn a_name_no_object_defines_is_found_nowhere() {
        assert!(loaded_objects_exporting(c"credchain_no_such_symbol_anywhere").is_empty());
    }

    #[test]
    fn a_private_directory_is_new_and_closed_to_others() {
        let made = make_private_directory(&std::env::temp_dir(), "credchain-platform-").unwrap();
        let meta = std::fs::metadata(&made).unwrap();
        assert_eq!(permission_bits(&meta), 0o700);
        assert!(owned_by_this_user(&meta));
        assert!(made.file_name().unwrap().to_str().unwrap().starts_with("credchain-platform-"));
        std::fs::remove_dir(made).unwrap();
    }

    #[test]
    fn random_bytes_are_not_all_zero() {
        let mut bytes = [0u8; 32];
        fill_random(&mut bytes).unwrap();
        assert_ne!(bytes, [0u8; 32]);
    }
}
