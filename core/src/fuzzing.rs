//! Thin entries into the library's parsers for the cargo-fuzz targets in
//! `fuzz/` (`scripts/fuzz`). Only built with the `fuzzing` feature; not part
//! of the API.
//!
//! Every entry drives the code that runs in production: the profile files
//! are written to disk and read by [`ChainContext::read`] and every source's
//! `detect`; container and IMDS answers come from a loopback HTTP server and
//! go through aws-config's real providers. Nothing here executes a
//! `credential_process` (detection only plans it) or reaches beyond
//! 127.0.0.1: [`isolate`] empties HOME and disables IMDS before anything
//! else runs.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, Once, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::chain::environment::Environment;
use crate::chain::sources::{self, Services};
use crate::chain::{ChainContext, Detection, ORDER};
use crate::token::{self, RegionSources, SigningCredentials};

/// A scratch directory for the process: HOME, and the files targets write.
pub fn scratch() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("credchain-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(dir.join(".aws")).expect("a scratch directory");
        dir
    })
}

/// Makes the process's environment harmless before the first input: no
/// AWS_*, BOTO_* or CREDCHAIN_* variable of the caller, an empty HOME, IMDS
/// disabled, then `extra`. Called once, first thing, while the process has
/// one thread.
pub fn isolate(extra: &[(&str, &str)]) {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        for (name, _) in std::env::vars_os() {
            let name = name.to_string_lossy().into_owned();
            if name.starts_with("AWS_") || name.starts_with("BOTO_") || name.starts_with("CREDCHAIN_") {
                std::env::remove_var(name);
            }
        }
        let home = scratch();
        std::env::set_var("HOME", home);
        std::env::set_var("AWS_EC2_METADATA_DISABLED", "true");
        std::env::set_var("BOTO_CONFIG", home.join("boto.cfg"));
        for (name, value) in extra {
            std::env::set_var(name, value);
        }
    });
}

/// `data` is up to four files separated by NUL bytes: the config file, the
/// credentials file, the EC2 CLI credential file (`AWS_CREDENTIAL_FILE`)
/// and the Boto2 config. They are written to disk and read as a resolution
/// reads them; then every source decides whether it applies, for no
/// profile, `default` and `p` (a named one). Nothing is fetched.
pub fn profile_files(data: &[u8]) {
    let home = scratch();
    let config = home.join("config");
    let credentials = home.join("credentials");
    let ec2 = home.join("ec2-credentials");
    isolate(&[
        ("AWS_CONFIG_FILE", config.to_str().unwrap()),
        ("AWS_SHARED_CREDENTIALS_FILE", credentials.to_str().unwrap()),
        ("AWS_CREDENTIAL_FILE", ec2.to_str().unwrap()),
    ]);
    let mut parts = data.splitn(4, |&b| b == 0);
    for path in [&config, &credentials, &ec2, &home.join("boto.cfg")] {
        std::fs::write(path, parts.next().unwrap_or_default()).expect("a scratch file");
    }
    let environment = Environment::capture();
    for profile in [None, Some("default"), Some("p")] {
        let (_inputs, context) = ChainContext::read(profile, &environment);
        let Ok(context) = context else { continue };
        let _ = crate::chain::check_profile_exists(&context);
        let _ = context.region();
        for source in ORDER {
            match sources::detect(source, &context) {
                Ok(Detection::Configured(plan)) => drop(plan),
                Ok(Detection::NotConfigured(_)) | Err(_) => {}
            }
        }
    }
    // The legacy parsers once more, on the raw text (what detection reads
    // through them, without its preconditions).
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = crate::chain::ini::parse_ini(text);
        let _ = crate::chain::ini::parse_key_values(text);
    }
}

/// A `credential_process`'s standard output, as the process source parses
/// it, with and without the profile's `aws_account_id`.
pub fn process_output(data: &[u8]) {
    let _ = crate::chain::process_output::parse(data, None);
    let _ = crate::chain::process_output::parse(data, Some("123456789012"));
}

/// The token functions' arguments: `data` is `host NUL user NUL region NUL`
/// then two bytes of port, one of flags and eight of signing time. Signs
/// RDS and DSQL tokens with fixed credentials, infers the region from the
/// host name and resolves it as the C ABI does.
pub fn token_arguments(data: &[u8]) {
    let mut parts = data.splitn(4, |&b| b == 0);
    let host = String::from_utf8_lossy(parts.next().unwrap_or_default()).into_owned();
    let user = String::from_utf8_lossy(parts.next().unwrap_or_default()).into_owned();
    let region = String::from_utf8_lossy(parts.next().unwrap_or_default()).into_owned();
    let tail = parts.next().unwrap_or_default();
    let byte = |i: usize| tail.get(i).copied().unwrap_or(0);
    let port = u16::from_le_bytes([byte(0), byte(1)]);
    let flags = byte(2);
    let seconds = i64::from_le_bytes(std::array::from_fn(|i| byte(3 + i)));

    let _ = token::region_from_hostname(&host);
    let sources = RegionSources {
        explicit: (flags & 1 != 0).then_some(region.as_str()),
        aws_region: (flags & 2 != 0).then_some(region.as_str()),
        aws_default_region: None,
        profile_region: (flags & 4 != 0).then_some(region.as_str()),
    };
    let resolved = token::resolve_region(&host, &sources);
    let signing_region = resolved.as_ref().map(|r| r.region.as_str()).unwrap_or(region.as_str());
    let at = match token::signing_time_from_unix(seconds) {
        Ok(Some(at)) => at,
        _ => UNIX_EPOCH + Duration::from_secs(1_700_000_000),
    };
    let credentials = SigningCredentials {
        access_key_id: "AKIDEXAMPLE",
        secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        session_token: (flags & 8 != 0).then_some("session-token"),
    };
    if let Ok(signed) = token::rds_token(&credentials, &host, port, &user, signing_region, at) {
        check_token(signed.as_str(), &host);
    }
    if let Ok(signed) = token::dsql_token(&credentials, &host, signing_region, flags & 16 != 0, at) {
        check_token(signed.as_str(), &host);
    }
}

/// A signed token starts with the host it was signed for and carries no
/// byte a connection string could trip on.
fn check_token(token: &str, host: &str) {
    assert!(token.starts_with(host), "token does not start with its host");
    assert!(!token.bytes().any(|b| b.is_ascii_control() || b == b' '), "token with a control byte or space");
}

/// What the loopback server answers: an HTTP status and a body.
#[derive(Default)]
struct Answer {
    status: u16,
    body: Vec<u8>,
}

/// A loopback HTTP/1.1 server on 127.0.0.1 that answers every request with
/// the current fuzz input, except IMDS's token and role-name requests.
struct LoopbackServer {
    port: u16,
    answer: Arc<Mutex<Answer>>,
}

impl LoopbackServer {
    fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        let port = listener.local_addr().expect("its address").port();
        let answer = Arc::new(Mutex::new(Answer::default()));
        let shared = answer.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let _ = serve(stream, &shared);
            }
        });
        LoopbackServer { port, answer }
    }

    fn set(&self, status: u16, body: &[u8]) {
        let mut answer = self.answer.lock().unwrap_or_else(|e| e.into_inner());
        answer.status = status;
        answer.body = body.to_vec();
    }
}

fn serve(mut stream: TcpStream, answer: &Mutex<Answer>) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(2)))?;
    let mut request = Vec::new();
    let mut buffer = [0u8; 4096];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut buffer)?;
        if n == 0 || request.len() > 65536 {
            return Ok(());
        }
        request.extend_from_slice(&buffer[..n]);
    }
    let line = String::from_utf8_lossy(&request[..request.iter().position(|&b| b == b'\r').unwrap_or(0)]).into_owned();
    let (status, body, extra) = if line.starts_with("PUT /latest/api/token") {
        (200, b"fuzz-imds-token".to_vec(), "x-aws-ec2-metadata-token-ttl-seconds: 21600\r\n")
    } else if line.contains("/iam/security-credentials/ ") {
        (200, b"fuzz-role".to_vec(), "")
    } else {
        let answer = answer.lock().unwrap_or_else(|e| e.into_inner());
        (answer.status, answer.body.clone(), "")
    };
    let head = format!(
        "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\n{extra}Connection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes())?;
    stream.write_all(&body)?;
    stream.flush()
}

/// The status the server answers with: mostly 200, sometimes an error.
fn status_of(data: &[u8]) -> (u16, &[u8]) {
    match data.split_first() {
        Some((b'\x01', rest)) => (404, rest),
        Some((b'\x02', rest)) => (400, rest),
        Some((b'\x03', rest)) => (401, rest),
        _ => (200, data),
    }
}

/// A private runtime for the targets' async calls.
fn fuzz_runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime"))
}

/// Resolves the chain as the cache does, on the environment `isolate` set.
fn resolve_once() {
    static SERVICES: OnceLock<Services> = OnceLock::new();
    let services = SERVICES.get_or_init(Services::default);
    let (_inputs, context) = ChainContext::read(None, &Environment::capture());
    let context = context.expect("the empty scratch HOME reads");
    let outcome = fuzz_runtime().block_on(crate::chain::resolve_in(&context, services, Duration::from_secs(5)));
    if let Ok(credentials) = outcome {
        assert!(!credentials.access_key_id.is_empty(), "empty key accepted");
        if let Some(at) = credentials.expiration {
            assert!(at > SystemTime::now(), "expired credentials accepted");
        }
    }
}

/// The container endpoint (`AWS_CONTAINER_CREDENTIALS_FULL_URI` on
/// 127.0.0.1) answers with `data` (a first byte 1, 2 or 3 makes it a 404,
/// 400 or 401 with the rest as body; no 5xx: aws-config retries those with
/// back-off, about 1.6 s an input); aws-config's ECS provider parses it
/// and the chain checks the result.
pub fn container_response(data: &[u8]) {
    static SERVER: OnceLock<LoopbackServer> = OnceLock::new();
    let server = SERVER.get_or_init(|| {
        let server = LoopbackServer::start();
        let uri = format!("http://127.0.0.1:{}/credentials", server.port);
        isolate(&[
            ("AWS_CONTAINER_CREDENTIALS_FULL_URI", uri.as_str()),
            ("AWS_CONTAINER_AUTHORIZATION_TOKEN", "fuzz-authorization"),
        ]);
        server
    });
    let (status, body) = status_of(data);
    server.set(status, body);
    resolve_once();
}

/// IMDSv2 at `AWS_EC2_METADATA_SERVICE_ENDPOINT` (127.0.0.1): the token and
/// the role name are canned, the credentials document is `data` (status as
/// for [`container_response`]); aws-config's IMDS provider parses it.
pub fn imds_response(data: &[u8]) {
    static SERVER: OnceLock<LoopbackServer> = OnceLock::new();
    let server = SERVER.get_or_init(|| {
        let server = LoopbackServer::start();
        let endpoint = format!("http://127.0.0.1:{}", server.port);
        isolate(&[("AWS_EC2_METADATA_SERVICE_ENDPOINT", endpoint.as_str())]);
        std::env::remove_var("AWS_EC2_METADATA_DISABLED");
        server
    });
    let (status, body) = status_of(data);
    server.set(status, body);
    resolve_once();
}
