//! `credchain serve`: the credentials cache on the container-credentials
//! protocol, for processes that do not load the library (see
//! `credchain_core::serve` for the server and its bounds).
//!
//! This file is the command around it: the token file, the variables a
//! client needs (`--print-env`), running a command under the server
//! (`--exec`), and signals. SIGTERM, SIGINT and SIGHUP are blocked in
//! every thread and taken by the main thread with `sigtimedwait`, so a
//! signal never interrupts the runtime and reaches the child of `--exec`
//! exactly once.

use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::Duration;

use crate::server::guard::Token;
use crate::server::{path_of, ServeConfig, Server};
use credchain_core::log::{LogLevel, LogSink};
use credchain_core::platform::{self, StopSignal, StopSignals};

use crate::args::Args;
use crate::get::posix_quote;

/// Variables that make an SDK pick another source before the container
/// provider (or another container endpoint): removed from the command of
/// `--exec`, unset by `--print-env`.
const SHADOWING: [&str; 11] = [
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
    "AWS_ROLE_SESSION_NAME",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
];

const FULL_URI: &str = "AWS_CONTAINER_CREDENTIALS_FULL_URI";
const TOKEN_FILE: &str = "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE";
/// How long a stop waits for the server's connections to close.
const STOP_GRACE: Duration = Duration::from_millis(500);

/// The command line, read.
struct Options {
    profiles: Vec<Option<String>>,
    listen: SocketAddr,
    token_file: Option<PathBuf>,
    log_level: LogLevel,
    max_connections: usize,
    print_env: bool,
    exec: Option<Vec<String>>,
    beyond_loopback: bool,
}

fn read_options(mut args: Args) -> Result<Options, String> {
    let exec = args.take_rest("exec");
    if matches!(&exec, Some(command) if command.is_empty()) {
        return Err("--exec needs a command: credchain serve --exec -- COMMAND ARGS...".into());
    }
    let mut profiles = Vec::new();
    while let Some(profile) = args.option("profile")? {
        if profiles.contains(&Some(profile.clone())) {
            return Err(format!("--profile {profile} is given twice"));
        }
        profiles.push(Some(profile));
    }
    if profiles.is_empty() {
        profiles.push(None);
    }
    let listen = match args.option("listen")? {
        Some(text) => {
            text.parse().map_err(|_| format!("--listen {text}: expected ADDRESS:PORT, such as 127.0.0.1:9911"))?
        }
        None => SocketAddr::from(([127, 0, 0, 1], 0)),
    };
    let log_level = match args.option("log-level")? {
        Some(name) => parse_level(&name)?,
        None => LogLevel::Info,
    };
    let max_connections = match args.option("max-connections")? {
        Some(text) => text
            .parse()
            .ok()
            .filter(|n| *n > 0)
            .ok_or(format!("--max-connections {text}: expected a positive number"))?,
        None => 256,
    };
    let options = Options {
        profiles,
        listen,
        token_file: args.option("token-file")?.map(PathBuf::from),
        log_level,
        max_connections,
        print_env: args.flag("print-env"),
        exec,
        beyond_loopback: args.flag("dangerously-listen-beyond-loopback"),
    };
    args.finish()?;
    if options.print_env && options.exec.is_some() {
        return Err("--print-env and --exec exclude each other".into());
    }
    Ok(options)
}

fn parse_level(name: &str) -> Result<LogLevel, String> {
    LogLevel::parse(name).ok_or_else(|| format!("--log-level {name}: use error, warn, info, debug, trace or off"))
}

/// Runs the sub-command; returns the exit code.
pub fn run(args: Args) -> Result<i32, String> {
    let options = read_options(args)?;
    if !options.listen.ip().is_loopback() && !options.beyond_loopback {
        return Err(format!(
            "refusing to listen on {}: credentials are served on loopback only; \
             --dangerously-listen-beyond-loopback overrides this",
            options.listen
        ));
    }
    // Before any other thread exists: every thread inherits the mask.
    let signals = StopSignals::block();
    let sink: LogSink = std::sync::Arc::new(|level: LogLevel, message: &str| {
        eprintln!("credchain serve {}: {message}", level.name());
    });
    credchain_core::set_log_sink(options.log_level, Some(sink));
    let token = Token::generate().map_err(|e| e.message().to_owned())?;
    let token_file = TokenFile::write(options.token_file.as_deref(), &token)?;
    let mut config = ServeConfig::new(options.profiles.clone(), token);
    config.listen = options.listen;
    config.max_connections = options.max_connections;
    config.allow_beyond_loopback = options.beyond_loopback;
    let server = crate::server::start(config).map_err(|e| e.message().to_owned())?;
    let base = format!("http://{}", client_address(server.address()));
    let uri = format!("{base}{}", path_of(options.profiles[0].as_deref()));
    credchain_core::log::info(format_args!(
        "token file {}; profiles: {}",
        token_file.path.display(),
        options.profiles.iter().map(|p| format!("{base}{}", path_of(p.as_deref()))).collect::<Vec<_>>().join(", ")
    ));
    let code = match &options.exec {
        Some(command) => run_command(command, &uri, &token_file.path, &signals)?,
        None => {
            if options.print_env {
                print_env(&uri, &token_file.path, &base, &options.profiles);
            }
            wait_for_stop_signal(&signals);
            0
        }
    };
    stop(server);
    drop(token_file);
    Ok(code)
}

/// The address a client on this host should use: a server listening on
/// every address (`0.0.0.0`, `[::]`) is reached through loopback, the only
/// plain-HTTP host the SDKs accept for this protocol.
fn client_address(listening: SocketAddr) -> SocketAddr {
    match listening.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => SocketAddr::from((Ipv4Addr::LOCALHOST, listening.port())),
        IpAddr::V6(ip) if ip.is_unspecified() => SocketAddr::from((Ipv6Addr::LOCALHOST, listening.port())),
        _ => listening,
    }
}

fn stop(server: Server) {
    server.stop(STOP_GRACE);
    credchain_core::set_log_sink(LogLevel::Off, None);
}

/// The shell lines a client needs: the endpoint, the token file, and the
/// variables that would shadow them unset.
fn print_env(uri: &str, token_file: &Path, base: &str, profiles: &[Option<String>]) {
    let mut out = String::new();
    out += &format!("export {FULL_URI}={}\n", posix_quote(uri));
    out += &format!("export {TOKEN_FILE}={}\n", posix_quote(&token_file.to_string_lossy()));
    out += &format!("unset {}\n", SHADOWING.join(" "));
    if profiles.len() > 1 {
        for profile in profiles {
            let name = profile.as_deref().unwrap_or("(default)");
            out += &format!("# profile {name}: {base}{}\n", path_of(profile.as_deref()));
        }
    }
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(out.as_bytes()).and_then(|_| stdout.flush());
}

/// Runs `command` with the server's variables, forwarding stop signals, and
/// returns its exit code (128 + N when signal N ended it).
fn run_command(command: &[String], uri: &str, token_file: &Path, signals: &StopSignals) -> Result<i32, String> {
    let removed: Vec<&str> = SHADOWING.iter().copied().filter(|name| std::env::var_os(name).is_some()).collect();
    if !removed.is_empty() {
        eprintln!("credchain serve: removed from the command's environment: {}", removed.join(", "));
    }
    let mut child =
        spawn_command(command, uri, token_file, &removed).map_err(|e| format!("cannot run {}: {e}", command[0]))?;
    let status = loop {
        if let Some(signal) = signals.next(Duration::from_millis(100)) {
            signal.send_to(child.id());
        }
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) => {}
            Err(e) => return Err(format!("waiting for {} failed: {e}", command[0])),
        }
    };
    Ok(platform::exit_code(status))
}

fn spawn_command(command: &[String], uri: &str, token_file: &Path, removed: &[&str]) -> std::io::Result<Child> {
    let mut builder = Command::new(&command[0]);
    builder.args(&command[1..]).env(FULL_URI, uri).env(TOKEN_FILE, token_file);
    for name in removed {
        builder.env_remove(name);
    }
    StopSignals::unblocked_in(&mut builder);
    builder.spawn()
}

/// Waits for SIGTERM or SIGINT (SIGHUP is logged and ignored).
fn wait_for_stop_signal(signals: &StopSignals) {
    loop {
        match signals.next(Duration::from_secs(3600)) {
            Some(StopSignal::HangUp) => {
                credchain_core::log::info(format_args!("ignoring SIGHUP; SIGTERM or SIGINT stops the server"))
            }
            Some(signal) => {
                credchain_core::log::info(format_args!("stopping on signal {}", signal.number()));
                return;
            }
            None => {}
        }
    }
}

/// The token's file, removed at exit when credchain chose its place.
struct TokenFile {
    path: PathBuf,
    /// The private directory made for it, when no path was given.
    made_directory: Option<PathBuf>,
}

impl TokenFile {
    /// Writes the token to `path`, or to a new private directory. An
    /// existing file is used only when it is a regular file of this user
    /// that nobody else may read or write: a file someone else prepared
    /// would let them read the token.
    fn write(path: Option<&Path>, token: &Token) -> Result<TokenFile, String> {
        let (path, made_directory) = match path {
            Some(path) => (path.to_path_buf(), None),
            None => {
                let directory = private_directory()?;
                (directory.join("token"), Some(directory))
            }
        };
        if let Ok(existing) = std::fs::symlink_metadata(&path) {
            check_existing_token_file(&path, &existing)?;
        }
        let mut file = platform::create_private_file(&path)
            .map_err(|e| format!("cannot write the token file {}: {e}", path.display()))?;
        file.write_all(token.expose().as_bytes())
            .map_err(|e| format!("cannot write the token file {}: {e}", path.display()))?;
        Ok(TokenFile { path, made_directory })
    }
}

fn check_existing_token_file(path: &Path, existing: &std::fs::Metadata) -> Result<(), String> {
    let shown = path.display();
    if existing.file_type().is_symlink() {
        return Err(format!("refusing the token file {shown}: it is a symbolic link"));
    }
    if !existing.is_file() {
        return Err(format!("refusing the token file {shown}: it is not a regular file"));
    }
    if !platform::owned_by_this_user(existing) {
        return Err(format!("refusing the token file {shown}: it belongs to another user"));
    }
    let mode = platform::permission_bits(existing);
    if mode & 0o077 != 0 {
        return Err(format!(
            "refusing the token file {shown}: its mode {:o} lets others read or write it (chmod 600 it, or remove it)",
            mode & 0o777
        ));
    }
    Ok(())
}

/// A new directory only this user can enter, under `XDG_RUNTIME_DIR`,
/// `TMPDIR` or `/tmp`.
fn private_directory() -> Result<PathBuf, String> {
    let parent = ["XDG_RUNTIME_DIR", "TMPDIR"]
        .iter()
        .filter_map(std::env::var_os)
        .map(PathBuf::from)
        .find(|p| p.is_dir())
        .unwrap_or_else(|| PathBuf::from("/tmp"));
    platform::make_private_directory(&parent, "credchain-serve-")
        .map_err(|e| format!("cannot make a private directory in {}: {e}", parent.display()))
}

impl Drop for TokenFile {
    fn drop(&mut self) {
        if let Some(directory) = &self.made_directory {
            let _ = std::fs::remove_file(&self.path);
            let _ = std::fs::remove_dir(directory);
        }
    }
}
