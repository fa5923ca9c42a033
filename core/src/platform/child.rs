//! Linux: the child processes the library starts (`credential_process`),
//! started so that the host cannot see them and they cannot outlive it.
//!
//! Why not `std::process` or `tokio::process`:
//! - tokio installs a `SIGCHLD` handler, replacing a host's `SIG_IGN` (its
//!   own children then stay zombies) and its handler; and a host whose
//!   handler reaps with `waitpid(-1)` takes our children's statuses. So
//!   the library's child is a supervisor started by `clone` with no exit
//!   signal, which the kernel neither signals, nor auto-reaps, nor reports
//!   to a `waitpid` without `__WALL`; it starts the shell as its own child
//!   (`execve` would reset its exit signal to `SIGCHLD`) and exits with
//!   the shell's status. Only we wait for it, with `__WALL`.
//! - the children must die with the host: when the thread that started
//!   the supervisor ends (a runtime worker, alive until the runtime stops;
//!   at the latest when the host exits or is killed), the kernel signals it
//!   (`PR_SET_PDEATHSIG`) and it kills its whole process group, background
//!   processes included; the shell dies with the supervisor the same way.
//!
//! The supervisor (and the shell until `execve`) runs in a copy of a
//! multithreaded process, where another thread may have held any lock: it
//! makes system calls only (no allocation, no lock, nothing that unwinds).

use std::ffi::{c_char, CString, OsStr};
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;
use std::time::Duration;

/// The read end of a child's output pipe, readable asynchronously.
pub type ChildOutput = tokio::net::unix::pipe::Receiver;

/// A child started by [`spawn_shell`]: its process group is killed and the
/// child reaped when this is dropped before [`ShellChild::wait`] returned.
#[derive(Debug)]
pub struct ShellChild {
    pid: libc::pid_t,
    reaped: bool,
    stdout: Option<ChildOutput>,
    stderr: Option<ChildOutput>,
}

/// Runs `line` through `/bin/sh -c`, as aws-config runs a
/// `credential_process`, with exactly `environment`, standard input from
/// `/dev/null`, standard output and error into pipes, in a process group
/// of its own (so that dropping the child reaches everything it started).
/// Must be called inside the library's runtime (the pipes register with
/// its reactor).
pub fn spawn_shell<'a>(
    line: &str,
    environment: impl IntoIterator<Item = (&'a OsStr, &'a OsStr)>,
) -> io::Result<ShellChild> {
    let program = CString::new("/bin/sh")?;
    let argv_strings = [CString::new("sh")?, CString::new("-c")?, CString::new(line)?];
    let env_strings = environment
        .into_iter()
        .map(|(name, value)| CString::new([name.as_bytes(), b"=", value.as_bytes()].concat()))
        .collect::<Result<Vec<_>, _>>()?;
    let argv = null_terminated(&argv_strings);
    let envp = null_terminated(&env_strings);
    let stdin = open_dev_null()?;
    let (stdout_read, stdout_write) = pipe()?;
    let (stderr_read, stderr_write) = pipe()?;
    let plan = ChildPlan {
        program: program.as_ptr(),
        argv: argv.as_ptr(),
        envp: envp.as_ptr(),
        stdio: [stdin.as_raw_fd(), stdout_write.as_raw_fd(), stderr_write.as_raw_fd()],
        // SAFETY: getpid has no preconditions.
        parent: unsafe { libc::getpid() },
    };
    let pid = clone_without_exit_signal()?;
    if pid == 0 {
        // SAFETY: in the child; run_supervisor only makes system calls and
        // never returns.
        unsafe { run_supervisor(&plan) }
    }
    drop((stdin, stdout_write, stderr_write));
    let mut child = ShellChild { pid, reaped: false, stdout: None, stderr: None };
    child.stdout = Some(ChildOutput::from_owned_fd(stdout_read)?);
    child.stderr = Some(ChildOutput::from_owned_fd(stderr_read)?);
    Ok(child)
}

impl ShellChild {
    /// Its standard output, once.
    pub fn take_stdout(&mut self) -> Option<ChildOutput> {
        self.stdout.take()
    }

    /// Its standard error, once.
    pub fn take_stderr(&mut self) -> Option<ChildOutput> {
        self.stderr.take()
    }

    /// Waits until the child (the shell) has exited and reaps it. It
    /// polls, backing off to 20 ms: the kernel sends no signal for such a
    /// child, and a pidfd needs a kernel newer than the wheel's floor.
    pub async fn wait(&mut self) -> io::Result<ExitStatus> {
        let mut pause = Duration::from_millis(1);
        loop {
            if let Some(status) = self.try_wait()? {
                return Ok(status);
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_millis(20));
        }
    }

    fn try_wait(&mut self) -> io::Result<Option<ExitStatus>> {
        if self.reaped {
            return Err(io::Error::other("the child was reaped already"));
        }
        let status = reap(self.pid, libc::WNOHANG)?;
        if status.is_some() {
            self.reaped = true;
        }
        Ok(status)
    }
}

impl Drop for ShellChild {
    fn drop(&mut self) {
        if self.reaped {
            return;
        }
        // Not reaped, so the id is still ours: kill the group, then the
        // child (in case it left its group), and reap it. SIGKILL ends it
        // at once; a child stuck in the kernel is left a zombie rather
        // than block a runtime thread.
        // SAFETY: signals our own, unreaped child and its group.
        unsafe {
            libc::kill(-self.pid, libc::SIGKILL);
            libc::kill(self.pid, libc::SIGKILL);
        }
        for _ in 0..100 {
            if !matches!(reap(self.pid, libc::WNOHANG), Ok(None)) {
                return;
            }
            std::thread::sleep(Duration::from_micros(200));
        }
    }
}

/// `waitpid` for our child, with `__WALL` (it sends no exit signal, so a
/// plain wait does not see it; `waitid` takes `__WALL` only since Linux
/// 4.7). `Ok(None)`: still running.
fn reap(pid: libc::pid_t, flags: libc::c_int) -> io::Result<Option<ExitStatus>> {
    loop {
        let mut status: libc::c_int = 0;
        // SAFETY: waits for our own child only, writing into `status`.
        let done = unsafe { libc::waitpid(pid, &mut status, libc::__WALL | flags) };
        match done {
            0 => return Ok(None),
            d if d > 0 => return Ok(Some(ExitStatus::from_raw(status))),
            _ => {
                let error = io::Error::last_os_error();
                if error.kind() != io::ErrorKind::Interrupted {
                    return Err(error);
                }
            }
        }
    }
}

/// What the child needs, prepared in the parent: after `clone` it must
/// not allocate.
struct ChildPlan {
    program: *const c_char,
    argv: *const *const c_char,
    envp: *const *const c_char,
    stdio: [RawFd; 3],
    parent: libc::pid_t,
}

/// In the child of the library (the supervisor): standard descriptors,
/// own group; then the shell as its own child, waited for, its status
/// passed on as this process's exit code (a signal N as 128 + N). When the
/// thread that started it ends (the host exited or was killed), the kernel
/// signals it, and it kills its whole group, background processes
/// included. Never returns.
///
/// Why a supervisor: `execve` resets a process's exit signal to `SIGCHLD`,
/// so the shell itself would be seen by the host's `SIGCHLD` handling; the
/// supervisor never executes anything and keeps the exit signal of none.
///
/// # Safety
/// Only in the child of [`clone_without_exit_signal`], with a plan whose
/// pointers were valid in the parent at the moment of the clone.
unsafe fn run_supervisor(plan: &ChildPlan) -> ! {
    // SAFETY: system calls on the child's own descriptors and signal
    // state; the plan's strings are the parent's, copied with its memory.
    unsafe {
        for (target, &source) in plan.stdio.iter().enumerate() {
            // The sources are above 2 (see `above_standard`), so no dup2
            // overwrites a source still to be used.
            if libc::dup2(source, target as RawFd) < 0 {
                libc::_exit(127);
            }
        }
        libc::setpgid(0, 0);
        // Every signal blocked: the host's handlers are copies of host code
        // that must not run here, and the two that matter are taken below
        // with sigwaitinfo (a blocked SIGCHLD is queued, not ignored).
        let mut all: libc::sigset_t = std::mem::zeroed();
        libc::sigfillset(&mut all);
        libc::sigprocmask(libc::SIG_SETMASK, &all, std::ptr::null_mut());
        die_with_parent(plan.parent, PARENT_GONE);
        // A host's SIG_IGN would make the kernel reap the shell unseen.
        libc::signal(libc::SIGCHLD, libc::SIG_DFL);
        // Not getpid(): glibc before 2.25 caches it, and no libc fork ran.
        let supervisor = libc::syscall(libc::SYS_getpid) as libc::pid_t;
        let shell = libc::syscall(libc::SYS_clone, libc::SIGCHLD as libc::c_ulong, 0 as libc::c_ulong);
        if shell == 0 {
            run_shell(plan, supervisor);
        }
        if shell < 0 {
            libc::_exit(127);
        }
        // The shell holds the pipes now; their end-of-file is its.
        for fd in 0..3 {
            libc::close(fd);
        }
        let mut awaited: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut awaited);
        libc::sigaddset(&mut awaited, libc::SIGCHLD);
        libc::sigaddset(&mut awaited, PARENT_GONE);
        loop {
            let signal = libc::sigwaitinfo(&awaited, std::ptr::null_mut());
            if signal == PARENT_GONE {
                // The whole group, this process last.
                libc::kill(0, libc::SIGKILL);
            }
            let mut status: libc::c_int = 0;
            if signal == libc::SIGCHLD && libc::waitpid(shell as libc::pid_t, &mut status, libc::WNOHANG) > 0 {
                let code =
                    if libc::WIFEXITED(status) { libc::WEXITSTATUS(status) } else { 128 + libc::WTERMSIG(status) };
                libc::_exit(code);
            }
        }
    }
}

/// The signal the kernel sends the supervisor when the thread that
/// started it ends.
const PARENT_GONE: libc::c_int = libc::SIGTERM;

/// In the supervisor's child: default signal state, then the shell.
///
/// # Safety
/// As [`run_supervisor`].
unsafe fn run_shell(plan: &ChildPlan, supervisor: libc::pid_t) -> ! {
    // SAFETY: as in run_supervisor.
    unsafe {
        die_with_parent(supervisor, libc::SIGKILL);
        let mut none: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut none);
        // Hosts ignore these (Python and Rust programs ignore SIGPIPE); a
        // shell that inherits an ignored SIGCHLD cannot wait for its own.
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        libc::signal(libc::SIGCHLD, libc::SIG_DFL);
        libc::sigprocmask(libc::SIG_SETMASK, &none, std::ptr::null_mut());
        libc::execve(plan.program, plan.argv, plan.envp);
        let message = b"credchain: could not run /bin/sh\n";
        libc::write(2, message.as_ptr().cast(), message.len());
        libc::_exit(127)
    }
}

/// Asks the kernel to send `signal` to this process when the thread that
/// started it ends, and exits if that happened already.
///
/// # Safety
/// In a child of [`spawn_shell`] only (system calls).
unsafe fn die_with_parent(parent: libc::pid_t, signal: libc::c_int) {
    // SAFETY: prctl and getppid on the calling process.
    unsafe {
        libc::prctl(libc::PR_SET_PDEATHSIG, signal);
        if libc::getppid() != parent {
            libc::_exit(127);
        }
    }
}

/// `clone` with no exit signal and no flags: a copy of the process, like
/// `fork` (whose libc wrapper would also run the host's fork handlers),
/// that the kernel never reports with `SIGCHLD`.
fn clone_without_exit_signal() -> io::Result<libc::pid_t> {
    // SAFETY: flags 0 and a null stack: the child continues on a copy of
    // this stack, as after fork; the caller runs only system calls there.
    let pid = unsafe { libc::syscall(libc::SYS_clone, 0 as libc::c_ulong, 0 as libc::c_ulong) };
    if pid < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(pid as libc::pid_t)
}

fn null_terminated(strings: &[CString]) -> Vec<*const c_char> {
    strings.iter().map(|s| s.as_ptr()).chain([std::ptr::null()]).collect()
}

fn open_dev_null() -> io::Result<OwnedFd> {
    // SAFETY: a constant path; the result is checked.
    let fd = unsafe { libc::open(c"/dev/null".as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: a new descriptor, owned here.
    above_standard(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// A close-on-exec pipe (read end non-blocking), both ends above 2.
fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0 as RawFd; 2];
    // SAFETY: pipe2 writes two descriptors into the array.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: two new descriptors, owned here.
    let (read, write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    let read = above_standard(read)?;
    // SAFETY: sets a flag on our own descriptor.
    unsafe { libc::fcntl(read.as_raw_fd(), libc::F_SETFL, libc::O_NONBLOCK) };
    Ok((read, above_standard(write)?))
}

/// `fd`, moved above 0, 1 and 2 when a host that closed its standard
/// descriptors let it land there: the child's `dup2` onto 0–2 must not
/// overwrite a descriptor it still has to copy.
fn above_standard(fd: OwnedFd) -> io::Result<OwnedFd> {
    if fd.as_raw_fd() > 2 {
        return Ok(fd);
    }
    // SAFETY: duplicates our own descriptor to the lowest free one >= 3.
    let moved = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_DUPFD_CLOEXEC, 3) };
    if moved < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: a new descriptor, owned here.
    Ok(unsafe { OwnedFd::from_raw_fd(moved) })
}
