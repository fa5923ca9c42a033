//! The HTTP clients the remote sources use: rustls with the ring crypto
//! provider. aws-config's default client would bring aws-lc-rs, more than a
//! megabyte larger, for the same TLS.
//!
//! - [`client`], for STS, SSO, SSO-OIDC, `aws login` and web identity: the
//!   trust store and HTTPS proxy of the context's [`Network`]
//!   (`AWS_CA_BUNDLE`, the profile's `ca_bundle`, `HTTPS_PROXY`,
//!   `NO_PROXY`), as botocore's clients made by `Session.create_client`.
//! - [`metadata_client`], for the container endpoint and IMDS: the system's
//!   roots and no proxy, as botocore's `ContainerMetadataFetcher` and
//!   `InstanceMetadataFetcher`, which make their own HTTP sessions without
//!   the session's `ca_bundle` (the IMDS one does follow proxy variables;
//!   a proxy in front of a link-local address is almost always a mistake,
//!   so credchain does not).
//!
//! Every response body is bounded ([`BODY_LIMIT`]): an upstream that sends
//! a gigabyte fails the fetch after a megabyte, instead of taking the
//! host's memory (once per retry).
//!
//! Each fetch builds its own client (the system roots are loaded once per
//! process by the client crate), so no connection pool outlives a fetch or
//! crosses a `fork()`.

use aws_smithy_http_client::proxy::ProxyConfig;
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode, TlsContext, TrustStore as ClientTrustStore};
use aws_smithy_http_client::{Builder, Connector};
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;

use crate::chain::network::{Network, TrustStore};
use crate::chain::SourceName;
use crate::types::error::{Error, ErrorCode, Result};

/// A new HTTPS client for one fetch by `source`, with the trust store and
/// proxy of `network`. A CA bundle that cannot be used, or a proxy URL
/// that does not parse, is a configuration error of `source`.
pub fn client(network: &Network, source: SourceName) -> Result<SharedHttpClient> {
    let certificates = network.certificates.as_ref().map_err(|why| config_error(source, why.clone()))?;
    let trust_store = match network.trust {
        TrustStore::System => ClientTrustStore::default(),
        // The bundle replaces the system's roots, as urllib3's `ca_certs`
        // does for botocore.
        TrustStore::Bundle { .. } => {
            certificates.iter().fold(ClientTrustStore::empty(), |store, pem| store.with_pem_certificate(pem.as_slice()))
        }
    };
    let tls_context = TlsContext::builder()
        .with_trust_store(trust_store)
        .build()
        .map_err(|e| config_error(source, format!("the TLS settings are not usable: {e}")))?;
    let proxy = match &network.proxy {
        None => ProxyConfig::disabled(),
        Some(proxy) => {
            let config = ProxyConfig::https(proxy.url()).map_err(|e| {
                // The parser's words name what is wrong, never the URL
                // (which may carry a password).
                config_error(source, format!("{} {} is not a usable proxy: {e}", proxy.variable, proxy.display_url()))
            })?;
            match &proxy.no_proxy {
                Some((_, rules)) => config.no_proxy(rules),
                None => config,
            }
        }
    };
    Ok(build(tls_context, proxy))
}

/// A new HTTP(S) client for the container endpoint or IMDS: the system's
/// roots, no proxy (see the module docs).
pub fn metadata_client() -> SharedHttpClient {
    build(TlsContext::default(), ProxyConfig::disabled())
}

/// The most bytes a response body may have. Every answer the chain reads
/// (credentials as JSON or XML, an IMDS token, a role name) is a few
/// kilobytes.
pub const BODY_LIMIT: usize = 1024 * 1024;

fn build(tls_context: TlsContext, proxy: ProxyConfig) -> SharedHttpClient {
    // `Builder::build_https` has no proxy setting; `Connector::builder`
    // has, and `build_with_connector_fn` keeps the crate's per-settings
    // connector cache (so one fetch reuses its connections), which a
    // plain `http_client_fn` would not.
    let client = Builder::new().build_with_connector_fn(move |settings, components| {
        let mut builder = Connector::builder();
        builder.set_connector_settings(settings.cloned());
        if let Some(components) = components {
            builder.set_sleep_impl(components.sleep_impl());
        }
        builder
            .proxy_config(proxy.clone())
            .tls_provider(tls::Provider::Rustls(CryptoMode::Ring))
            .tls_context(tls_context.clone())
            .build()
    });
    SharedHttpClient::new(BoundedBodies(client))
}

/// An HTTP client whose responses' bodies fail past [`BODY_LIMIT`] bytes.
#[derive(Debug)]
struct BoundedBodies(SharedHttpClient);

impl HttpClient for BoundedBodies {
    fn http_connector(&self, settings: &HttpConnectorSettings, components: &RuntimeComponents) -> SharedHttpConnector {
        SharedHttpConnector::new(BoundedConnector(self.0.http_connector(settings, components)))
    }
}

/// `body`, failing past [`BODY_LIMIT`] bytes with an error that says so.
fn bounded(
    body: SdkBody,
) -> impl http_body::Body<Data = bytes::Bytes, Error = Box<dyn std::error::Error + Send + Sync>> + Send + Sync {
    use http_body_util::BodyExt;
    http_body_util::Limited::new(body, BODY_LIMIT).map_err(|e| {
        if e.is::<http_body_util::LengthLimitError>() {
            format!("the response body is larger than {} KiB, credchain's limit", BODY_LIMIT / 1024).into()
        } else {
            e
        }
    })
}

#[derive(Debug)]
struct BoundedConnector(SharedHttpConnector);

impl HttpConnector for BoundedConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let answer = self.0.call(request);
        HttpConnectorFuture::new(async move {
            let response = answer.await?;
            Ok(response.map(|body| SdkBody::from_body_1_x(bounded(body))))
        })
    }
}

fn config_error(source: SourceName, message: String) -> Error {
    Error::from_source(ErrorCode::InvalidConfig, source.as_str(), message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::network::{BundleOrigin, Proxy};

    fn network(certificates: std::result::Result<Vec<Vec<u8>>, String>, proxy: Option<Proxy>) -> Network {
        let trust = TrustStore::Bundle { path: "/ca.pem".into(), origin: BundleOrigin::Variable("AWS_CA_BUNDLE") };
        Network { trust, certificates, proxy }
    }

    #[test]
    fn an_unusable_bundle_is_the_sources_configuration_error() {
        let error = client(
            &network(Err("the CA bundle /ca.pem (from AWS_CA_BUNDLE) does not exist".into()), None),
            SourceName::Sso,
        )
        .unwrap_err();
        assert_eq!(error.code(), ErrorCode::InvalidConfig);
        assert_eq!(error.message(), "sso: the CA bundle /ca.pem (from AWS_CA_BUNDLE) does not exist");
    }

    #[test]
    fn a_proxy_url_that_does_not_parse_is_named_without_its_password() {
        let env = crate::chain::environment::Environment::of(&[("HTTPS_PROXY", "http://u:s3cret@bad host:1")]);
        let proxy = crate::chain::network::choose_proxy(&env.vars);
        let error = client(&network(Ok(Vec::new()), proxy), SourceName::AssumeRole).unwrap_err();
        assert_eq!(error.code(), ErrorCode::InvalidConfig);
        assert!(
            error
                .message()
                .starts_with("assume-role: HTTPS_PROXY http://***@bad host:1 is not a usable proxy: invalid proxy URL"),
            "{}",
            error.message()
        );
        assert!(!error.message().contains("s3cret"));
    }
}
