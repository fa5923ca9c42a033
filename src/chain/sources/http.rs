//! The HTTP client every remote source uses: rustls with the ring crypto
//! provider and the system's trust store. aws-config's default client would
//! bring aws-lc-rs, more than a megabyte larger, for the same TLS.
//!
//! Each fetch builds its own client (the trust store is loaded once per
//! process by the client crate), so no connection pool outlives a fetch or
//! crosses a `fork()`.

use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};
use aws_smithy_http_client::Builder;
use aws_smithy_runtime_api::client::http::SharedHttpClient;

/// A new HTTPS client for one fetch.
pub fn client() -> SharedHttpClient {
    Builder::new().tls_provider(tls::Provider::Rustls(CryptoMode::Ring)).build_https()
}
