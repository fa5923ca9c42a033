//! `custom-process`: the profile's `credential_process`, run by credchain
//! itself (not by aws-config, whose provider neither kills an abandoned
//! child nor bounds what it reads).
//!
//! Rules for every child process credchain starts:
//! - it runs through `/bin/sh -c`, as aws-config runs it (botocore splits
//!   the line itself; quote paths with spaces so both agree), in a process
//!   group of its own, with the environment a caller captured (the runtime
//!   never reads `environ`);
//! - when its call is abandoned (timeout, invalidate, shutdown), its whole
//!   process group is killed and the child reaped;
//! - at most [`MAX_CHILDREN`] run at once in the process;
//! - stdout is read up to the output limit, stderr only for its last bytes,
//!   and what reaches a message is scrubbed (see `crate::types::text`);
//! - the child's environment names the profiles whose processes are running
//!   above it ([`GUARD_VARIABLE`]), so a process that runs credchain for the
//!   same profile again is refused instead of recursing; when a wrapper
//!   cleared the environment, the nearest ancestor's starting environment
//!   still holds it.

use std::ffi::OsStr;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::sync::Semaphore;
use zeroize::Zeroizing;

use super::{Detection, Plan};
use crate::chain::context::ChainContext;
use crate::chain::environment::GUARD_VARIABLE;
use crate::chain::process_output::{self, OUTPUT_LIMIT};
use crate::chain::SourceName;
use crate::platform;
use crate::types::credentials::Credentials;
use crate::types::error::{Error, ErrorCode, Result};
use crate::types::text::{escape_name, last_line_scrubbed};

/// The most `credential_process` children alive at once in the process.
pub(crate) const MAX_CHILDREN: usize = 4;

/// How many `credential_process` levels may run inside each other (a
/// process that runs credchain for another profile that has a process...).
pub(crate) const MAX_NESTING: usize = 3;

/// How much of a child's standard error is kept: the end, where the reason
/// usually is.
const STDERR_TAIL: usize = 4096;

/// The process-wide bound on live children.
#[derive(Debug)]
pub struct ChildSlots(Semaphore);

impl Default for ChildSlots {
    fn default() -> Self {
        ChildSlots(Semaphore::new(MAX_CHILDREN))
    }
}

/// Applies when the merged profile has `credential_process`.
pub(super) fn detect(ctx: &ChainContext, profile: &str) -> Result<Detection> {
    match ctx.value_in(profile, "credential_process") {
        Some(command) => Ok(Detection::Configured(Plan::Process {
            profile: profile.to_owned(),
            command: command.to_owned(),
            account_id: ctx.value_in(profile, "aws_account_id").map(str::to_owned),
        })),
        None => Ok(Detection::NotConfigured("the profile has no credential_process".into())),
    }
}

/// Runs the process and parses its answer; the profile's `aws_account_id`
/// fills in a missing `AccountId`.
pub(super) async fn fetch(
    ctx: &ChainContext,
    profile: &str,
    command: &str,
    account_id: Option<String>,
    slots: &ChildSlots,
) -> Result<Credentials> {
    // The variable, else an ancestor's: a wrapper such as `env -i` or
    // `sudo` between a credential_process and credchain clears it.
    let guard =
        ctx.env.get(GUARD_VARIABLE).map(str::to_owned).or_else(|| platform::variable_of_ancestors(GUARD_VARIABLE));
    let above = check_not_looping(guard.as_deref(), profile)?;
    // Waiting for a slot is bounded by the fetch's own deadline.
    let _slot =
        slots.0.acquire().await.map_err(|_| failure(ErrorCode::Internal, "the process slots closed (a bug)".into()))?;
    let stdout = run(ctx, command, &guard_value(&above, profile), profile).await?;
    process_output::parse(&stdout, account_id.as_deref())
}

/// The profiles above this process (from the guard variable), after
/// checking that `profile` is not among them and the nesting is bounded.
fn check_not_looping(guard: Option<&str>, profile: &str) -> Result<Vec<String>> {
    let above: Vec<String> = guard.unwrap_or("").split(',').filter_map(decode_hex).collect();
    if above.iter().any(|p| p == profile) {
        return Err(failure(
            ErrorCode::InvalidConfig,
            format!(
                "the credential_process of profile {p} runs credchain for profile {p} again (a loop); \
                 give credchain a profile whose credentials come from elsewhere",
                p = escape_name(profile)
            ),
        ));
    }
    if above.len() >= MAX_NESTING {
        let chain: Vec<String> = above.iter().map(|p| escape_name(p)).collect();
        return Err(failure(
            ErrorCode::InvalidConfig,
            format!(
                "credential processes nest deeper than {MAX_NESTING} (profiles {} → {})",
                chain.join(" → "),
                escape_name(profile)
            ),
        ));
    }
    Ok(above)
}

/// The guard variable for a child of `profile`'s process: the profiles
/// above, then this one, hex-encoded (names may hold any character).
fn guard_value(above: &[String], profile: &str) -> String {
    above.iter().map(String::as_str).chain([profile]).map(encode_hex).collect::<Vec<_>>().join(",")
}

fn encode_hex(text: &str) -> String {
    text.bytes().map(|b| format!("{b:02x}")).collect()
}

fn decode_hex(hex: &str) -> Option<String> {
    if hex.is_empty() || !hex.len().is_multiple_of(2) {
        return None;
    }
    let bytes: Option<Vec<u8>> =
        (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok()).collect();
    String::from_utf8(bytes?).ok()
}

/// Starts the child, reads its output and waits for it. If this future is
/// dropped before the child finished (the fetch timed out or was
/// abandoned), the child's process group is killed and the child reaped.
async fn run(ctx: &ChainContext, command: &str, guard: &str, profile: &str) -> Result<Zeroizing<Vec<u8>>> {
    let inherited = ctx.child_env.0.iter().filter(|(name, _)| name != GUARD_VARIABLE);
    let environment = inherited
        .map(|(name, value)| (name.as_os_str(), value.as_os_str()))
        .chain([(OsStr::new(GUARD_VARIABLE), OsStr::new(guard))]);
    let mut child = platform::spawn_shell(command, environment).map_err(|e| {
        let code = if platform::is_exhaustion(&e) { ErrorCode::Exhausted } else { ErrorCode::SourceFailed };
        failure(code, format!("the credential_process of profile {} could not start: {e}", escape_name(profile)))
    })?;
    let (Some(stdout), Some(stderr)) = (child.take_stdout(), child.take_stderr()) else {
        return Err(failure(ErrorCode::Internal, "the child's pipes are missing (a bug)".into()));
    };
    let mut out = Zeroizing::new(Vec::with_capacity(4096));
    let mut err = Vec::new();
    let status = read_until_exit(&mut child, stdout, stderr, &mut out, &mut err).await?;
    if !status.success() {
        let code = status.code().map_or_else(|| "a signal".to_owned(), |c| format!("status {c}"));
        let said = last_line_scrubbed(&err);
        let said = if said.is_empty() { "nothing on stderr".to_owned() } else { said };
        return Err(failure(
            ErrorCode::SourceFailed,
            format!("the credential_process of profile {} exited with {code}: {said}", escape_name(profile)),
        ));
    }
    Ok(out)
}

/// How long the pipes are still read after the child exited without
/// closing them: what it wrote before exiting is in the pipe already.
const READ_AFTER_EXIT: Duration = Duration::from_millis(100);

/// Reads both pipes and waits for the child. The child's exit, not the
/// pipes' end-of-file, ends the read: a process the host forked meanwhile
/// (a prefork server does exactly this) holds copies of the pipes' write
/// ends, and their end-of-file would come only when that process exits.
async fn read_until_exit(
    child: &mut platform::ShellChild,
    stdout: platform::ChildOutput,
    stderr: platform::ChildOutput,
    out: &mut Vec<u8>,
    err: &mut Vec<u8>,
) -> Result<std::process::ExitStatus> {
    let reading =
        async { tokio::try_join!(read_limited(stdout, OUTPUT_LIMIT, out), read_tail(stderr, STDERR_TAIL, err)) };
    tokio::pin!(reading);
    let (read, status) = tokio::select! {
        read = &mut reading => (read, None),
        status = child.wait() => {
            let read = tokio::time::timeout(READ_AFTER_EXIT, &mut reading).await.unwrap_or(Ok(((), ())));
            (read, Some(status))
        }
    };
    read.map_err(|e| match e.kind() {
        std::io::ErrorKind::FileTooLarge => {
            failure(ErrorCode::SourceFailed, format!("the output is larger than {} KiB", OUTPUT_LIMIT / 1024))
        }
        _ => failure(ErrorCode::SourceFailed, format!("reading the output failed: {e}")),
    })?;
    let status = match status {
        Some(status) => status,
        None => child.wait().await,
    };
    status.map_err(|e| {
        failure(
            ErrorCode::SourceFailed,
            format!(
                "the credential_process's exit status was lost ({e}): another part of the process \
                 reaped it (waitpid with __WALL)"
            ),
        )
    })
}

/// Reads at most `limit` bytes into `bytes`; more is an error of kind
/// `FileTooLarge`, returned at once (the child is then killed rather than
/// waited for, as it may be blocked writing the rest).
async fn read_limited(pipe: impl AsyncRead + Unpin, limit: usize, bytes: &mut Vec<u8>) -> std::io::Result<()> {
    pipe.take(limit as u64 + 1).read_to_end(bytes).await?;
    if bytes.len() > limit {
        return Err(std::io::ErrorKind::FileTooLarge.into());
    }
    Ok(())
}

/// Reads to the end, keeping only the last `keep` bytes, so that a child
/// that writes megabytes of diagnostics neither blocks on a full pipe nor
/// fills memory.
async fn read_tail(mut pipe: impl AsyncRead + Unpin, keep: usize, tail: &mut Vec<u8>) -> std::io::Result<()> {
    let mut chunk = [0u8; 8192];
    loop {
        let n = pipe.read(&mut chunk).await?;
        if n == 0 {
            return Ok(());
        }
        tail.extend_from_slice(&chunk[..n]);
        if tail.len() > keep {
            tail.drain(..tail.len() - keep);
        }
    }
}

fn failure(code: ErrorCode, message: String) -> Error {
    Error::from_source(code, SourceName::CustomProcess.as_str(), message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_guard_round_trips_any_profile_name() {
        let value = guard_value(&["prod db".to_owned()], "ünïcode,comma");
        let back = check_not_looping(Some(&value), "other").unwrap();
        assert_eq!(back, vec!["prod db".to_owned(), "ünïcode,comma".to_owned()]);
    }

    #[test]
    fn a_profile_already_above_is_a_loop() {
        let value = guard_value(&[], "SAME");
        let error = check_not_looping(Some(&value), "SAME").unwrap_err();
        assert_eq!(error.code(), ErrorCode::InvalidConfig);
        assert_eq!(
            error.message(),
            "custom-process: the credential_process of profile SAME runs credchain for profile SAME again (a loop); \
             give credchain a profile whose credentials come from elsewhere"
        );
    }

    #[test]
    fn nesting_is_bounded() {
        let value = guard_value(&["a".into(), "b".into()], "c");
        let error = check_not_looping(Some(&value), "d").unwrap_err();
        assert_eq!(error.message(), "custom-process: credential processes nest deeper than 3 (profiles a → b → c → d)");
    }

    #[test]
    fn a_garbled_guard_is_ignored() {
        assert_eq!(check_not_looping(Some("zz,1,"), "p").unwrap(), Vec::<String>::new());
        assert_eq!(check_not_looping(None, "p").unwrap(), Vec::<String>::new());
    }
}

#[cfg(test)]
mod detection_tests {
    use crate::chain::sources::Plan;
    use crate::chain::testing::{not_configured, plan, Scratch};
    use crate::chain::SourceName;

    fn process_plan(scratch: &Scratch) -> (String, Option<String>) {
        match plan(scratch.detect(SourceName::CustomProcess, None, &[])) {
            Plan::Process { command, account_id, .. } => (command, account_id),
            other => panic!("expected a Process plan, got {other:?}"),
        }
    }

    #[test]
    fn a_credential_process_applies_with_the_profiles_account_id() {
        let scratch = Scratch::new();
        scratch.config("[default]\ncredential_process = /opt/bin/creds --json\naws_account_id = 111122223333\n");
        assert_eq!(process_plan(&scratch), ("/opt/bin/creds --json".to_owned(), Some("111122223333".to_owned())));
    }

    #[test]
    fn the_credentials_files_credential_process_wins_over_the_configs() {
        // botocore merges the credentials file's section over the config's.
        let scratch = Scratch::new();
        scratch.config("[default]\ncredential_process = /from/config\n");
        scratch.credentials("[default]\ncredential_process = /from/credentials\n");
        assert_eq!(process_plan(&scratch), ("/from/credentials".to_owned(), None));
    }

    #[test]
    fn a_profile_without_credential_process_does_not_apply() {
        let scratch = Scratch::new();
        scratch.config("[default]\naws_account_id = 111122223333\n");
        let why = not_configured(scratch.detect(SourceName::CustomProcess, None, &[]));
        assert_eq!(why, "the profile has no credential_process");
    }
}
