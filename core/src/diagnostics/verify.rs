//! `credchain doctor --verify`: asks STS `GetCallerIdentity` with the
//! credentials the chain resolved, so that revoked or deleted keys show as
//! such (the chain itself never calls a service with them). The call goes
//! where the chain's STS calls go (`AWS_ENDPOINT_URL_STS`, else the
//! regional endpoint), through the same trust store and proxy.

use aws_credential_types::Credentials as SdkCredentials;
use aws_sdk_sts::config::{BehaviorVersion, Region};

use super::report::VerificationReport;
use crate::chain::sources::{describe_sdk_error, https_client, sts_endpoint, sts_region};
use crate::chain::{ChainContext, SourceName};
use crate::types::credentials::Credentials;

/// Calls `GetCallerIdentity` with `credentials` (resolved by `source`)
/// and reports what STS said.
pub async fn verify(ctx: &ChainContext, source: SourceName, credentials: &Credentials) -> VerificationReport {
    let endpoint = sts_endpoint(ctx);
    let failed = |error: String| VerificationReport {
        ok: false,
        endpoint: endpoint.clone(),
        account: None,
        arn: None,
        user_id: None,
        error: Some(error),
    };
    let http = match https_client(&ctx.network, source) {
        Ok(http) => http,
        Err(error) => return failed(error.message().to_owned()),
    };
    let config = aws_sdk_sts::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(sts_region(ctx).to_string()))
        .endpoint_url(&endpoint)
        .credentials_provider(SdkCredentials::new(
            credentials.access_key_id.clone(),
            credentials.secret_access_key.to_string(),
            credentials.session_token.as_ref().map(|t| t.to_string()),
            credentials.expiration,
            "credchain",
        ))
        .http_client(http)
        .build();
    match aws_sdk_sts::Client::from_conf(config).get_caller_identity().send().await {
        Ok(identity) => VerificationReport {
            ok: true,
            endpoint,
            account: identity.account().map(str::to_owned),
            arn: identity.arn().map(str::to_owned),
            user_id: identity.user_id().map(str::to_owned),
            error: None,
        },
        Err(error) => failed(describe_sdk_error(&error)),
    }
}
