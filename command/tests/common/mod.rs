//! Shared pieces of the Rust integration tests: a throw-away HOME per
//! scenario, the `credchain` command run in a child process with a clean
//! environment (the environment is process-wide, so every scenario gets its
//! own process), and a tiny loopback HTTP server with canned answers.

#![allow(dead_code, reason = "each test binary uses a different part of the shared helpers")]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::Value;

static NEXT_DIR: AtomicUsize = AtomicUsize::new(0);

/// One scenario: a HOME of its own, files in it, and environment variables.
pub struct Scenario {
    pub home: PathBuf,
    env: Vec<(String, String)>,
}

impl Scenario {
    /// A scenario with an empty HOME and IMDS disabled.
    pub fn new() -> Self {
        let n = NEXT_DIR.fetch_add(1, Ordering::SeqCst);
        let home = std::env::temp_dir().join(format!("credchain-it-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&home);
        std::fs::create_dir_all(home.join(".aws")).unwrap();
        Scenario { home, env: vec![("AWS_EC2_METADATA_DISABLED".into(), "true".into())] }
    }

    /// Writes `contents` at `relative` under HOME; returns the full path.
    pub fn file(&self, relative: &str, contents: &str) -> PathBuf {
        let path = self.home.join(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, contents).unwrap();
        path
    }

    /// `~/.aws/config`.
    pub fn config(&self, contents: &str) -> &Self {
        self.file(".aws/config", contents);
        self
    }

    /// `~/.aws/credentials`.
    pub fn credentials(&self, contents: &str) -> &Self {
        self.file(".aws/credentials", contents);
        self
    }

    /// Sets a variable for the child (later calls win).
    pub fn env(&mut self, name: &str, value: &str) -> &mut Self {
        self.env.retain(|(n, _)| n != name);
        self.env.push((name.into(), value.into()));
        self
    }

    /// Removes a variable the scenario set (IMDS's switch, say).
    pub fn unset(&mut self, name: &str) -> &mut Self {
        self.env.retain(|(n, _)| n != name);
        self
    }

    /// Runs `credchain get --format json [--profile P]` in a child process
    /// with only this scenario's environment; returns its JSON.
    pub fn get(&self, profile: Option<&str>) -> Value {
        let mut command = Command::new(env!("CARGO_BIN_EXE_credchain"));
        command.args(["get", "--format", "json"]).env_clear();
        command.env("PATH", std::env::var("PATH").unwrap_or_default()).env("HOME", &self.home);
        command.env("CREDCHAIN_TIMEOUT_MS", "5000");
        for (name, value) in &self.env {
            command.env(name, value);
        }
        if let Some(profile) = profile {
            command.args(["--profile", profile]);
        }
        let output = command.output().expect("credchain runs");
        let text = String::from_utf8_lossy(&output.stdout);
        serde_json::from_str(text.trim()).unwrap_or_else(|_| panic!("not JSON: {text:?} / {:?}", output.stderr))
    }
}

impl Drop for Scenario {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.home);
    }
}

/// Asserts a successful answer from `source` with these keys and token.
pub fn assert_credentials(answer: &Value, source: &str, access_key: &str, secret: &str, token: Option<&str>) {
    assert!(answer.get("error").is_none(), "expected credentials from {source}, got {answer}");
    assert_eq!(answer["source"], source, "{answer}");
    assert_eq!(answer["access_key_id"], access_key, "{answer}");
    assert_eq!(answer["secret_access_key"], secret, "{answer}");
    match token {
        Some(token) => assert_eq!(answer["session_token"], token, "{answer}"),
        None => assert!(answer["session_token"].is_null(), "{answer}"),
    }
}

/// Asserts a failure with this error code name and an exact message.
pub fn assert_error(answer: &Value, code: &str, message: &str) {
    assert_eq!(answer["error"]["code"], code, "{answer}");
    assert_eq!(answer["error"]["message"], message, "{answer}");
}

/// An RFC 3339 time `seconds` from now.
pub fn iso_in(seconds: i64) -> String {
    let at = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64 + seconds;
    let t = time::OffsetDateTime::from_unix_timestamp(at).unwrap();
    t.format(&time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z")).unwrap()
}

/// Unix seconds `seconds` from now.
pub fn unix_in(seconds: i64) -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64 + seconds
}

/// The `expiration` of `credchain get`'s JSON (RFC 3339 UTC) as Unix
/// seconds; panics when it is null or not RFC 3339.
pub fn expiration_unix(answer: &Value) -> i64 {
    let text = answer["expiration"].as_str().unwrap_or_else(|| panic!("no expiration in {answer}"));
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|e| panic!("expiration {text} is not RFC 3339: {e}"))
        .unix_timestamp()
}

/// A request as the loopback server saw it.
#[derive(Clone, Debug)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub headers: HashMap<String, String>,
    pub body: String,
}

impl Request {
    /// A form field of a `application/x-www-form-urlencoded` body.
    pub fn form(&self, name: &str) -> Option<String> {
        self.body.split('&').find_map(|pair| {
            let (key, value) = pair.split_once('=')?;
            (key == name).then(|| percent_decode(value))
        })
    }
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("3F");
            out.push(u8::from_str_radix(hex, 16).unwrap_or(b'?'));
            i += 3;
        } else if bytes[i] == b'+' {
            out.push(b' ');
            i += 1;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A canned answer.
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Response {
    /// 200 with a body.
    pub fn ok(body: impl Into<String>) -> Self {
        Response { status: 200, headers: Vec::new(), body: body.into() }
    }

    /// Any status with a body.
    pub fn status(status: u16, body: impl Into<String>) -> Self {
        Response { status, headers: Vec::new(), body: body.into() }
    }

    /// Adds a header.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }
}

type Handler = dyn Fn(&Request) -> Response + Send + Sync;

/// A loopback HTTP/1.1 server on a free port, answering every request with
/// `handler` and remembering what it was asked.
pub struct LoopbackServer {
    pub port: u16,
    pub requests: Arc<Mutex<Vec<Request>>>,
}

impl LoopbackServer {
    /// Starts serving on 127.0.0.1.
    pub fn start(handler: impl Fn(&Request) -> Response + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = requests.clone();
        let handler: Arc<Handler> = Arc::new(handler);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let handler = handler.clone();
                let seen = seen.clone();
                std::thread::spawn(move || serve(stream, handler.as_ref(), &seen));
            }
        });
        LoopbackServer { port, requests }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The requests so far.
    pub fn seen(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }
}

fn serve(stream: TcpStream, handler: &Handler, seen: &Mutex<Vec<Request>>) {
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let mut parts = line.split_whitespace();
        let (Some(method), Some(path)) = (parts.next(), parts.next()) else { return };
        let (method, path) = (method.to_owned(), path.to_owned());
        let mut headers = HashMap::new();
        loop {
            let mut header = String::new();
            if reader.read_line(&mut header).unwrap_or(0) == 0 {
                return;
            }
            let header = header.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':') {
                headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_owned());
            }
        }
        let length: usize = headers.get("content-length").and_then(|v| v.parse().ok()).unwrap_or(0);
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let request = Request { method, path, headers, body: String::from_utf8_lossy(&body).into_owned() };
        let response = handler(&request);
        seen.lock().unwrap().push(request);
        let mut out = format!("HTTP/1.1 {} X\r\nContent-Length: {}\r\n", response.status, response.body.len());
        for (name, value) in &response.headers {
            out.push_str(&format!("{name}: {value}\r\n"));
        }
        out.push_str("\r\n");
        out.push_str(&response.body);
        let mut writer = reader.get_ref();
        if writer.write_all(out.as_bytes()).is_err() {
            return;
        }
    }
}

/// STS's XML answer to AssumeRole or AssumeRoleWithWebIdentity.
pub fn sts_credentials_xml(action: &str, access_key: &str, secret: &str, token: &str, expires: &str) -> String {
    format!(
        "<{action}Response><{action}Result>\
         <Credentials><AccessKeyId>{access_key}</AccessKeyId><SecretAccessKey>{secret}</SecretAccessKey>\
         <SessionToken>{token}</SessionToken><Expiration>{expires}</Expiration></Credentials>\
         <AssumedRoleUser><AssumedRoleId>AROATEST:session</AssumedRoleId>\
         <Arn>arn:aws:sts::123456789012:assumed-role/test/session</Arn></AssumedRoleUser>\
         </{action}Result><ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata></{action}Response>"
    )
}

/// The path of a file under a directory, as a string.
pub fn path_str(path: &Path) -> String {
    path.to_str().unwrap().to_owned()
}
