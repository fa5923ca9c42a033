//! `iam-role`: IMDSv2 on EC2. `AWS_EC2_METADATA_DISABLED=true` skips it;
//! `AWS_EC2_METADATA_SERVICE_ENDPOINT` or the profile's
//! `ec2_metadata_service_endpoint` moves it, and
//! `AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE` or the profile's
//! `ec2_metadata_service_endpoint_mode` (`ipv4`, `ipv6`, in any case)
//! picks the default address.
//!
//! As botocore (`create_credential_resolver` builds its instance metadata
//! fetcher first), an invalid mode or an endpoint that is not a URL fails
//! the whole chain, before any source is asked, even when environment keys
//! would answer and even when instance metadata is disabled
//! ([`check_settings`]). The endpoint is always handed to aws-config's
//! client explicitly, so that it never reads those variables itself on the
//! runtime's thread.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use crate::support::sync::Mutex;
use aws_config::imds::client::Client as ImdsClient;
use aws_config::imds::credentials::ImdsCredentialsProvider;

use super::{delegate, metadata_provider_config, url, Detection, Plan};
use crate::chain::context::ChainContext;
use crate::chain::SourceName;
use crate::types::credentials::Credentials;
use crate::types::error::{Error, ErrorCode, Result};
use crate::types::text::{escape_name, scrub_upstream};

/// botocore waits 1 s for IMDS; two attempts keep a hung endpoint well
/// inside the caller's timeout while riding out one dropped packet.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
const READ_TIMEOUT: Duration = Duration::from_secs(1);
const MAX_ATTEMPTS: u32 = 2;

/// The default address (`ipv4` mode), and the one in `ipv6` mode.
const IPV4_ENDPOINT: &str = "http://169.254.169.254";
const IPV6_ENDPOINT: &str = "http://[fd00:ec2::254]";

/// Applies unless disabled.
pub(super) fn detect(ctx: &ChainContext) -> Result<Detection> {
    let disabled = ctx.env.get("AWS_EC2_METADATA_DISABLED").is_some_and(|v| v.eq_ignore_ascii_case("true"));
    if disabled {
        return Ok(Detection::NotConfigured("AWS_EC2_METADATA_DISABLED is true".into()));
    }
    Ok(Detection::Configured(Plan::Imds { endpoint: endpoint(ctx)? }))
}

/// Checks the instance metadata settings, as botocore does before it asks
/// any source (see the module docs).
pub(crate) fn check_settings(ctx: &ChainContext) -> Result<()> {
    endpoint(ctx).map(|_| ())
}

/// The endpoint to ask: the configured one, else the mode's address.
fn endpoint(ctx: &ChainContext) -> Result<String> {
    let configured = [
        ("AWS_EC2_METADATA_SERVICE_ENDPOINT", ctx.env.non_empty("AWS_EC2_METADATA_SERVICE_ENDPOINT")),
        ("the profile's ec2_metadata_service_endpoint", ctx.profile_value("ec2_metadata_service_endpoint")),
    ];
    let mode = [
        ("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", ctx.env.get("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE")),
        ("the profile's ec2_metadata_service_endpoint_mode", ctx.profile_value("ec2_metadata_service_endpoint_mode")),
    ];
    let ipv6 = match mode.into_iter().find_map(|(origin, value)| Some((origin, value?))) {
        None => false,
        Some((_, value)) if value.eq_ignore_ascii_case("ipv4") => false,
        Some((_, value)) if value.eq_ignore_ascii_case("ipv6") => true,
        Some((origin, value)) => {
            return Err(invalid_setting(format!(
                "{origin} is \"{}\", not an instance metadata endpoint mode (ipv4 or ipv6, in any case)",
                escape_name(value)
            )))
        }
    };
    match configured.into_iter().find_map(|(origin, value)| Some((origin, value?))) {
        Some((origin, url)) if url::scheme_and_host(url).is_none() => {
            Err(invalid_setting(format!("{origin} is \"{}\", which is not a URL (scheme://host)", escape_name(url))))
        }
        Some((_, url)) => Ok(url.to_owned()),
        None => Ok(if ipv6 { IPV6_ENDPOINT } else { IPV4_ENDPOINT }.to_owned()),
    }
}

fn invalid_setting(detail: String) -> Error {
    Error::from_source(ErrorCode::InvalidConfig, SourceName::IamRole.as_str(), detail)
}

/// The provider is kept across fetches (per runtime and endpoint) because
/// aws-config's IMDS provider implements static stability: when IMDS fails
/// after credentials expired, it serves the last ones with a short extension,
/// as every SDK does. A fresh provider would forget them.
struct KeptProvider {
    runtime_epoch: u64,
    endpoint: String,
    provider: Arc<ImdsCredentialsProvider>,
}

/// The slot holding the kept provider; one per library instance, so that a
/// forked child never touches its parent's lock.
#[derive(Default)]
pub struct KeptImds(Mutex<Option<KeptProvider>>);

impl std::fmt::Debug for KeptImds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeptImds")
    }
}

fn build_provider(ctx: &ChainContext, endpoint: &str) -> Result<ImdsCredentialsProvider> {
    let config = metadata_provider_config(ctx);
    let client = ImdsClient::builder()
        .configure(&config)
        .connect_timeout(CONNECT_TIMEOUT)
        .read_timeout(READ_TIMEOUT)
        .max_attempts(MAX_ATTEMPTS)
        .endpoint(endpoint)
        .map_err(|e| {
            invalid_setting(format!("bad endpoint {}: {}", escape_name(endpoint), scrub_upstream(&e.to_string())))
        })?;
    Ok(ImdsCredentialsProvider::builder().configure(&config).imds_client(client.build()).build())
}

fn provider_for(
    ctx: &ChainContext,
    endpoint: String,
    kept: &KeptImds,
    epoch: u64,
) -> Result<Arc<ImdsCredentialsProvider>> {
    let mut kept = kept.0.lock();
    if let Some(k) = kept.as_ref().filter(|k| k.runtime_epoch == epoch && k.endpoint == endpoint) {
        return Ok(k.provider.clone());
    }
    let provider = Arc::new(build_provider(ctx, &endpoint)?);
    *kept = Some(KeptProvider { runtime_epoch: epoch, endpoint, provider: provider.clone() });
    Ok(provider)
}

/// Asks IMDS; any failure means "no credentials", as botocore's last source.
/// When the kept provider falls back to credentials that are already past
/// their expiry (IMDS failed and its static stability has nothing valid to
/// offer), a fresh provider asks once more so that the error carries IMDS's
/// own words, not "expired".
/// `runtime_epoch` is the runtime the fetch runs on, which the kept provider
/// is tied to.
pub(super) async fn fetch(
    ctx: &ChainContext,
    endpoint: String,
    kept: &KeptImds,
    runtime_epoch: u64,
) -> Result<Credentials> {
    let provider = provider_for(ctx, endpoint.clone(), kept, runtime_epoch)?;
    match delegate(SourceName::IamRole, provider.as_ref()).await {
        Ok(credentials) if !expired(&credentials) => Ok(credentials),
        Ok(_stale) => {
            let fresh = build_provider(ctx, &endpoint)?;
            match delegate(SourceName::IamRole, &fresh).await {
                Ok(credentials) if !expired(&credentials) => Ok(credentials),
                Ok(_) => Err(not_found("it answered with credentials that had already expired")),
                Err(error) => Err(not_found_because(error)),
            }
        }
        Err(error) => Err(not_found_because(error)),
    }
}

fn expired(credentials: &Credentials) -> bool {
    credentials.expiration.is_some_and(|at| at <= SystemTime::now())
}

fn not_found(words: &str) -> Error {
    Error::from_source(
        ErrorCode::NoCredentials,
        SourceName::IamRole.as_str(),
        format!("unable to locate credentials; instance metadata said: {words}"),
    )
}

/// IMDS's own failure as [`not_found`]'s, its words after the chain's and
/// its cause kept.
fn not_found_because(error: Error) -> Error {
    let detail = format!("unable to locate credentials; instance metadata said: {}", error.detail());
    error.with_detail(detail).with_code(ErrorCode::NoCredentials)
}

#[cfg(test)]
mod tests {
    use crate::chain::sources::Plan;
    use crate::chain::testing::{not_configured, plan, Scratch};
    use crate::chain::SourceName;

    fn endpoint(scratch: &Scratch, vars: &[(&'static str, &str)]) -> String {
        match plan(scratch.detect(SourceName::IamRole, None, vars)) {
            Plan::Imds { endpoint } => endpoint,
            other => panic!("expected an Imds plan, got {other:?}"),
        }
    }

    #[test]
    fn instance_metadata_applies_unless_disabled_at_the_default_endpoint() {
        let scratch = Scratch::new();
        assert_eq!(endpoint(&scratch, &[("AWS_EC2_METADATA_DISABLED", "false")]), "http://169.254.169.254");
    }

    #[test]
    fn only_true_in_any_case_disables_it() {
        // botocore: AWS_EC2_METADATA_DISABLED.lower() == 'true'.
        let scratch = Scratch::new();
        let why = not_configured(scratch.detect(SourceName::IamRole, None, &[("AWS_EC2_METADATA_DISABLED", "TRUE")]));
        assert_eq!(why, "AWS_EC2_METADATA_DISABLED is true");
        assert_eq!(endpoint(&scratch, &[("AWS_EC2_METADATA_DISABLED", "1")]), "http://169.254.169.254");
    }

    #[test]
    fn the_endpoint_variable_wins_over_the_profiles() {
        let scratch = Scratch::new();
        scratch.config("[default]\nec2_metadata_service_endpoint = http://10.0.0.1\n");
        let on = ("AWS_EC2_METADATA_DISABLED", "false");
        assert_eq!(endpoint(&scratch, &[on]), "http://10.0.0.1");
        let vars = [on, ("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:1338")];
        assert_eq!(endpoint(&scratch, &vars), "http://127.0.0.1:1338");
    }

    #[test]
    fn the_mode_picks_the_default_address_in_any_case() {
        let scratch = Scratch::new();
        let on = ("AWS_EC2_METADATA_DISABLED", "false");
        assert_eq!(
            endpoint(&scratch, &[on, ("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", "IPv6")]),
            "http://[fd00:ec2::254]"
        );
        assert_eq!(
            endpoint(&scratch, &[on, ("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", "IPV4")]),
            "http://169.254.169.254"
        );
        scratch.config("[default]\nec2_metadata_service_endpoint_mode = ipv6\n");
        assert_eq!(endpoint(&scratch, &[on]), "http://[fd00:ec2::254]");
        // The variable wins over the profile; an endpoint wins over a mode.
        assert_eq!(
            endpoint(&scratch, &[on, ("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", "ipv4")]),
            "http://169.254.169.254"
        );
        let vars = [on, ("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:1338")];
        assert_eq!(endpoint(&scratch, &vars), "http://127.0.0.1:1338");
    }

    #[test]
    fn an_invalid_mode_or_endpoint_fails_the_chain_even_when_disabled() {
        let scratch = Scratch::new();
        let check = |vars: &[(&'static str, &str)]| super::check_settings(&scratch.context(None, vars));
        let error = check(&[("AWS_EC2_METADATA_DISABLED", "true"), ("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", "IPv5")])
            .unwrap_err();
        assert_eq!(error.code(), crate::types::error::ErrorCode::InvalidConfig);
        assert_eq!(
            error.to_string(),
            "iam-role: AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE is \"IPv5\", not an instance metadata endpoint mode \
             (ipv4 or ipv6, in any case)"
        );
        // botocore (urlparse) finds no host in these.
        for url in ["localhost:1234", "http://", "not a url", "169.254.169.254"] {
            let error = check(&[("AWS_EC2_METADATA_SERVICE_ENDPOINT", url)]).unwrap_err();
            assert!(error.to_string().ends_with("which is not a URL (scheme://host)"), "{url}: {error}");
        }
        for url in ["http://localhost:1234", "https://[fd00:ec2::254]/", "//host"] {
            assert!(check(&[("AWS_EC2_METADATA_SERVICE_ENDPOINT", url)]).is_ok(), "{url}");
        }
        // An empty mode variable is a value, as in botocore.
        assert!(check(&[("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", "")]).is_err());
    }
}
