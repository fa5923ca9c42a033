//! aws-config (the AWS SDK for Rust's default chain) against `credchain serve`, for
//! tests/serve/test_clients.py:
//!
//! ```sh
//! cargo build --release --example serve_client
//! target/release/examples/serve_client SECONDS [INTERVAL]
//! ```
//!
//! Configured only by the environment (`AWS_CONTAINER_CREDENTIALS_FULL_URI` and
//! `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE`). The configuration is loaded once, as an application
//! loads it, and each iteration asks its credentials provider (the default chain, which reaches
//! the container endpoint through `EcsCredentialsProvider`). That provider holds no cache of its
//! own: the SDK caches in the identity cache of a service client, which this program has none
//! of, so every iteration is one request to the server. Each iteration prints one JSON line:
//! `{"t", "access_key_id", "expiration", "account_id"}` or `{"t", "error"}`.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_config::BehaviorVersion;
use aws_credential_types::provider::ProvideCredentials;
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};
use aws_smithy_http_client::Builder;

fn unix(time: SystemTime) -> f64 {
    time.duration_since(UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64())
}

fn usage() -> ! {
    eprintln!("usage: serve_client SECONDS [INTERVAL]");
    std::process::exit(2)
}

fn arg(n: usize, default: Option<f64>) -> f64 {
    match (std::env::args().nth(n), default) {
        (Some(text), _) => text.parse().unwrap_or_else(|_| usage()),
        (None, Some(value)) => value,
        (None, None) => usage(),
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let seconds = arg(1, None);
    let interval = Duration::from_secs_f64(arg(2, Some(0.5)));
    let end = Instant::now() + Duration::from_secs_f64(seconds);
    // credchain builds aws-config without its default HTTPS client (aws-lc-rs), so this example
    // names one; an application with aws-config's default features gets the same from `load()`.
    let https = Builder::new().tls_provider(tls::Provider::Rustls(CryptoMode::Ring)).build_https();
    let config = aws_config::defaults(BehaviorVersion::latest()).http_client(https).load().await;
    let provider = config.credentials_provider();
    loop {
        let line = match &provider {
            None => serde_json::json!({"t": unix(SystemTime::now()), "error": "no credentials provider"}),
            Some(provider) => match provider.provide_credentials().await {
                Ok(creds) => serde_json::json!({
                    "t": unix(SystemTime::now()),
                    "access_key_id": creds.access_key_id(),
                    "expiration": creds.expiry().map(unix),
                    "account_id": creds.account_id().map(|a| a.as_str()),
                }),
                Err(err) => serde_json::json!({
                    "t": unix(SystemTime::now()),
                    "error": aws_smithy_types::error::display::DisplayErrorContext(&err).to_string(),
                }),
            },
        };
        println!("{line}");
        if Instant::now() + interval >= end {
            return;
        }
        tokio::time::sleep(interval).await;
    }
}
