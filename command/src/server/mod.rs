//! `credchain serve`: the process's credentials cache on the container
//! credentials protocol (`AWS_CONTAINER_CREDENTIALS_FULL_URI` with
//! `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE`), so that processes which do
//! not load the library share its chain and its one refresh through their
//! SDK's own container provider.
//!
//! The server runs on the library's internal runtime and answers from the
//! cache: a request waits for the network only when no valid credentials
//! are cached. Every request but the health check must carry the token;
//! every request must name a loopback `Host`; head size and header count
//! are bounded and idle connections are closed. Connections are bounded
//! too, and at the bound the oldest connection that has not shown the
//! token makes room for a new one ([`connections`]), so that clients
//! without the token cannot keep out one that has it.

pub mod connections;
pub mod guard;
pub mod http;
pub mod routes;

use std::net::{IpAddr, SocketAddr, TcpListener as StdListener};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use self::connections::{Admission, Connections, Eviction};
use self::guard::{host_allowed, Token};
use self::http::{head_end, parse_head, response, Head, Refusal, MAX_HEAD_BYTES};
use self::routes::{credentials_body, error_body, refusal_body, route, Route};
use credchain_core as api;
use credchain_core::log;
use credchain_core::text::{escape_controls, escape_name};
use credchain_core::{Error, Result};

pub use self::routes::path_of;

/// What to serve and how.
#[derive(Debug)]
pub struct ServeConfig {
    /// The address to listen on; loopback unless `allow_beyond_loopback`.
    pub listen: SocketAddr,
    /// The profiles to serve (`None`: the ambient default), each at
    /// [`path_of`] its name.
    pub profiles: Vec<Option<String>>,
    /// The token every request but the health check must carry.
    pub token: Token,
    /// At most this many connections are open: a new one closes the oldest
    /// that has not shown the token, or is closed at once when every open
    /// one has.
    pub max_connections: usize,
    /// A connection without a complete request head for this long (waiting
    /// for it or reading it, however slowly it comes) is closed.
    pub idle_timeout: Duration,
    /// Listen on an address beyond loopback (the operator said so, loudly).
    pub allow_beyond_loopback: bool,
}

impl ServeConfig {
    /// The defaults for `profiles` and `token`: a free loopback port, 256
    /// connections, 5 s idle limit.
    pub fn new(profiles: Vec<Option<String>>, token: Token) -> ServeConfig {
        ServeConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            profiles,
            token,
            max_connections: 256,
            idle_timeout: Duration::from_secs(5),
            allow_beyond_loopback: false,
        }
    }
}

/// A running server; stops when dropped.
pub struct Server {
    address: SocketAddr,
    stop: watch::Sender<bool>,
    stopped: mpsc::Receiver<()>,
}

/// What every connection task shares.
struct Shared {
    profiles: Vec<Option<String>>,
    token: Token,
    idle_timeout: Duration,
    /// A listen address beyond loopback whose literal is an allowed `Host`.
    also_allowed_host: Option<IpAddr>,
}

/// Binds `config.listen` and starts serving on the library's runtime.
pub fn start(config: ServeConfig) -> Result<Server> {
    if !config.listen.ip().is_loopback() && !config.allow_beyond_loopback {
        return Err(Error::invalid_argument(format!(
            "refusing to listen on {}: the server listens on loopback only (127.0.0.1 or [::1])",
            config.listen
        )));
    }
    if config.profiles.is_empty() || config.max_connections == 0 {
        return Err(Error::invalid_argument("serve needs at least one profile and one connection"));
    }
    let listener = StdListener::bind(config.listen)
        .and_then(|l| l.set_nonblocking(true).map(|_| l))
        .map_err(|e| Error::invalid_argument(format!("cannot listen on {}: {e}", config.listen)))?;
    let address = listener.local_addr().map_err(|e| Error::internal(format!("listening address: {e}")))?;
    let handle = api::runtime_handle()?;
    let listener = {
        let _entered = handle.enter();
        TcpListener::from_std(listener).map_err(|e| Error::internal(format!("listener: {e}")))?
    };
    let shared = Arc::new(Shared {
        profiles: config.profiles,
        token: config.token,
        idle_timeout: config.idle_timeout,
        // A server on every address is reached through loopback; one on a
        // given address beyond it may be named by that address too.
        also_allowed_host: (config.allow_beyond_loopback && !address.ip().is_unspecified()).then_some(address.ip()),
    });
    let connections = Connections::new(config.max_connections);
    let (stop, stop_seen) = watch::channel(false);
    let (stopped_tx, stopped) = mpsc::sync_channel(1);
    let profiles = shared.profiles.clone();
    handle.spawn(async move {
        accept_loop(listener, shared, connections, stop_seen).await;
        let _ = stopped_tx.send(());
    });
    handle.spawn(async move { warm_up(&profiles).await });
    Ok(Server { address, stop, stopped })
}

/// Resolves every served profile once, at start, so that the first client
/// is answered from the cache and a profile that cannot be served is
/// reported now, in the server's log, rather than to a client later.
async fn warm_up(profiles: &[Option<String>]) {
    for profile in profiles {
        let name = profile.as_deref().map_or_else(|| "(default)".to_owned(), escape_name);
        let outcome = api::get_credentials_async(profile.as_deref()).await;
        let outcome =
            outcome.and_then(|snapshot| credentials_body(&snapshot, SystemTime::now()).map(|_| snapshot.source()));
        match outcome {
            Ok(source) => {
                log::info(format_args!("profile {name} is ready to serve (credentials from {})", source.as_str()))
            }
            Err(error) => log::warn(format_args!("profile {name} cannot be served yet: {error}")),
        }
    }
}

impl Server {
    /// The address it listens on (with the port chosen when 0 was asked).
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Stops accepting, closes every connection, and waits up to `grace`
    /// for the listener to close.
    pub fn stop(self, grace: Duration) {
        let _ = self.stop.send(true);
        let _ = self.stopped.recv_timeout(grace);
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

/// Accepts connections until `stop`, each admitted by `connections` or
/// closed at once.
async fn accept_loop(
    listener: TcpListener,
    shared: Arc<Shared>,
    connections: Arc<Connections>,
    mut stop: watch::Receiver<bool>,
) {
    log::info(format_args!(
        "serving credentials on http://{}",
        listener.local_addr().map_or_else(|_| "?".into(), |a| a.to_string())
    ));
    loop {
        let accepted = tokio::select! {
            _ = stop.changed() => break,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((stream, peer)) => match connections.admit() {
                Some((admission, eviction)) => {
                    tokio::spawn(serve_connection(stream, shared.clone(), admission, eviction, stop.clone()));
                }
                None => log::debug(format_args!(
                    "closed a connection from {peer}: every open connection has shown the token"
                )),
            },
            Err(error) => {
                // Out of descriptors or a connection reset before accept:
                // pause instead of spinning on the same error.
                log::warn(format_args!("accepting a connection failed: {error}"));
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
    log::info(format_args!("stopped serving credentials"));
}

/// What reading a request head gave.
enum Read {
    /// A complete head of this many bytes is at the start of the buffer.
    Head(usize),
    /// The peer closed the connection, or the idle limit passed.
    Closed,
    /// The head outgrew [`MAX_HEAD_BYTES`].
    TooLarge,
}

/// Serves one connection until it ends, or until it is closed to make room
/// for a newer one (never once it has shown the token).
async fn serve_connection(
    stream: TcpStream,
    shared: Arc<Shared>,
    admission: Admission,
    mut eviction: Eviction,
    stop: watch::Receiver<bool>,
) {
    tokio::select! {
        _ = eviction.evicted() => {
            log::debug(format_args!("closed a connection that had not shown the token, to make room for a newer one"))
        }
        _ = serve_requests(stream, &shared, &admission, stop) => {}
    }
}

/// Answers the connection's requests one after another until it closes,
/// stays idle past the limit, or sends what ends it (a refusal, no
/// keep-alive).
async fn serve_requests(
    mut stream: TcpStream,
    shared: &Shared,
    admission: &Admission,
    mut stop: watch::Receiver<bool>,
) {
    let mut buffer = Vec::with_capacity(1024);
    loop {
        let read = tokio::select! {
            _ = stop.changed() => return,
            read = tokio::time::timeout(shared.idle_timeout, read_head(&mut stream, &mut buffer)) => read,
        };
        let length = match read {
            Ok(Read::Head(length)) => length,
            Ok(Read::TooLarge) => return refuse_and_close(stream, 431, "the request head is too large").await,
            Ok(Read::Closed) | Err(_) => return,
        };
        let head = parse_head(&buffer[..length]);
        buffer.drain(..length);
        let head = match head {
            Ok(head) => head,
            Err(Refusal::TooLarge) => return refuse_and_close(stream, 431, "too many header lines").await,
            Err(Refusal::Malformed) => return refuse_and_close(stream, 400, "malformed request").await,
        };
        if head.has_body() {
            return refuse_and_close(stream, 413, "requests carry no body").await;
        }
        let authenticated = head.header("authorization").is_some_and(|presented| shared.token.matches(presented));
        if authenticated {
            // A token holder's connection: never closed for a newcomer.
            admission.authenticate();
        }
        let started = Instant::now();
        let (status, body) = answer(shared, &head, authenticated).await;
        log::debug(format_args!(
            "{} {} -> {status} in {} us",
            head.method,
            escape_controls(head.target.split('?').next().unwrap_or_default()),
            started.elapsed().as_micros()
        ));
        let keep_alive = head.keep_alive;
        let bytes = zeroize::Zeroizing::new(response(status, &body, keep_alive, head.method == "HEAD"));
        if stream.write_all(&bytes).await.is_err() || !keep_alive {
            return;
        }
    }
}

/// Reads until `buffer` holds a complete head (or refuses past the bound).
async fn read_head(stream: &mut TcpStream, buffer: &mut Vec<u8>) -> Read {
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = head_end(buffer) {
            return Read::Head(end);
        }
        if buffer.len() > MAX_HEAD_BYTES {
            return Read::TooLarge;
        }
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return Read::Closed,
            Ok(n) => buffer.extend_from_slice(&chunk[..n]),
        }
    }
}

/// Sends a refusal, then discards what the client still sends for a moment
/// (at most a second and 2 MiB) so that it reads the refusal instead of a
/// reset.
async fn refuse_and_close(mut stream: TcpStream, status: u16, message: &str) {
    log::debug(format_args!("refused a request: {status} {message}"));
    let code = if status == 431 || status == 413 { "REQUEST_TOO_LARGE" } else { "BAD_REQUEST" };
    if stream.write_all(&response(status, &refusal_body(code, message), false, false)).await.is_err() {
        return;
    }
    let _ = stream.shutdown().await;
    let drain = async {
        let mut chunk = [0u8; 16 * 1024];
        let mut left = 2 * 1024 * 1024usize;
        while left > 0 {
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => break,
                Ok(n) => left = left.saturating_sub(n),
            }
        }
    };
    let _ = tokio::time::timeout(Duration::from_secs(1), drain).await;
}

/// The status and body for a parsed request: loopback `Host` first, then
/// the method, then the token (`authenticated`: the request carried it;
/// the health check needs none), then the path.
async fn answer(shared: &Shared, head: &Head, authenticated: bool) -> (u16, zeroize::Zeroizing<Vec<u8>>) {
    let refuse =
        |status: u16, code: &str, message: &str| (status, zeroize::Zeroizing::new(refusal_body(code, message)));
    if !head.header("host").is_some_and(|host| host_allowed(host, shared.also_allowed_host)) {
        return refuse(403, "FORBIDDEN_HOST", "the Host header must name a loopback address");
    }
    if head.method != "GET" && head.method != "HEAD" {
        return refuse(405, "METHOD_NOT_ALLOWED", "only GET is served");
    }
    let target = route(&head.target, &shared.profiles);
    if target == Route::Health {
        return (200, zeroize::Zeroizing::new(br#"{"status":"ok"}"#.to_vec()));
    }
    if !authenticated {
        return refuse(401, "UNAUTHORIZED", "the Authorization header must carry the token");
    }
    match target {
        Route::Credentials(profile) => credentials(profile).await,
        _ => refuse(404, "NOT_FOUND", "no such path; profiles are served under /credentials"),
    }
}

/// The profile's credentials from the cache, waited for as a task: the
/// fetch needs the runtime's blocking threads to read the files, so a
/// waiting request must not hold one.
async fn credentials(profile: Option<String>) -> (u16, zeroize::Zeroizing<Vec<u8>>) {
    let lookup = api::get_credentials_async(profile.as_deref()).await;
    match lookup.and_then(|snapshot| credentials_body(&snapshot, SystemTime::now())) {
        Ok(body) => (200, body),
        Err(error) => (503, zeroize::Zeroizing::new(error_body(&error))),
    }
}
