//! `iam-role`: IMDSv2 on EC2. `AWS_EC2_METADATA_DISABLED=true` skips it;
//! `AWS_EC2_METADATA_SERVICE_ENDPOINT` or the profile's
//! `ec2_metadata_service_endpoint` moves it.

use std::sync::Arc;
use std::time::Duration;

use aws_config::imds::client::Client as ImdsClient;
use aws_config::imds::credentials::ImdsCredentialsProvider;
use once_cell::sync::Lazy;
use parking_lot::Mutex;

use super::{delegate, provider_config, Detection, Plan};
use crate::chain::context::ChainContext;
use crate::chain::SourceName;
use crate::credentials::Credentials;
use crate::error::{Error, ErrorCode, Result};
use crate::runtime;

/// botocore waits 1 s for IMDS; two attempts keep a hung endpoint well
/// inside the caller's timeout while riding out one dropped packet.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
const READ_TIMEOUT: Duration = Duration::from_secs(1);
const MAX_ATTEMPTS: u32 = 2;

/// Applies unless disabled.
pub(super) fn detect(ctx: &ChainContext) -> Result<Detection> {
    let disabled = ctx.env.get("AWS_EC2_METADATA_DISABLED").is_some_and(|v| v.eq_ignore_ascii_case("true"));
    if disabled {
        return Ok(Detection::NotConfigured("AWS_EC2_METADATA_DISABLED is true".into()));
    }
    let endpoint = ctx
        .env
        .non_empty("AWS_EC2_METADATA_SERVICE_ENDPOINT")
        .or_else(|| ctx.profile_value("ec2_metadata_service_endpoint"))
        .map(str::to_owned);
    Ok(Detection::Configured(Plan::Imds { endpoint }))
}

/// The provider is kept across fetches (per runtime and endpoint) because
/// aws-config's IMDS provider implements static stability: when IMDS fails
/// after credentials expired, it serves the last ones with a short extension,
/// as every SDK does. A fresh provider would forget them.
struct KeptProvider {
    runtime_epoch: u64,
    endpoint: Option<String>,
    provider: Arc<ImdsCredentialsProvider>,
}

static KEPT: Lazy<Mutex<Option<KeptProvider>>> = Lazy::new(|| Mutex::new(None));

fn provider_for(ctx: &ChainContext, endpoint: Option<String>) -> Result<Arc<ImdsCredentialsProvider>> {
    let epoch = runtime::epoch();
    let mut kept = KEPT.lock();
    if let Some(k) = kept.as_ref().filter(|k| k.runtime_epoch == epoch && k.endpoint == endpoint) {
        return Ok(k.provider.clone());
    }
    let config = provider_config(ctx);
    let mut client = ImdsClient::builder()
        .configure(&config)
        .connect_timeout(CONNECT_TIMEOUT)
        .read_timeout(READ_TIMEOUT)
        .max_attempts(MAX_ATTEMPTS);
    if let Some(url) = &endpoint {
        client = client.endpoint(url).map_err(|e| {
            Error::from_source(ErrorCode::InvalidConfig, SourceName::IamRole.as_str(), format!("bad endpoint {url}: {e}"))
        })?;
    }
    let provider = Arc::new(ImdsCredentialsProvider::builder().configure(&config).imds_client(client.build()).build());
    *kept = Some(KeptProvider { runtime_epoch: epoch, endpoint, provider: provider.clone() });
    Ok(provider)
}

/// Asks IMDS; any failure means "no credentials", as botocore's last source.
pub(super) async fn fetch(ctx: &ChainContext, endpoint: Option<String>) -> Result<Credentials> {
    let provider = provider_for(ctx, endpoint)?;
    delegate(SourceName::IamRole, provider.as_ref()).await.map_err(|error| {
        Error::from_source(
            ErrorCode::NoCredentials,
            SourceName::IamRole.as_str(),
            format!("unable to locate credentials; instance metadata said: {}", strip_source(&error)),
        )
    })
}

/// The delegated error already starts with the source name; say it once.
fn strip_source(error: &Error) -> &str {
    let prefix = SourceName::IamRole.as_str();
    error.message().strip_prefix(prefix).and_then(|m| m.strip_prefix(": ")).unwrap_or(error.message())
}
