//! `container-role`: the ECS / EKS Pod Identity endpoint named by
//! `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` or `..._FULL_URI`. aws-config's
//! provider checks that a plain-http full URI is a loopback or container
//! address and re-reads `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE` on every
//! fetch.

use aws_config::ecs::EcsCredentialsProvider;

use super::{delegate, metadata_provider_config, Detection, Plan};
use crate::chain::context::ChainContext;
use crate::chain::SourceName;
use crate::types::credentials::Credentials;
use crate::types::error::Result;

/// Applies when either variable is present (botocore tests presence).
pub(super) fn detect(ctx: &ChainContext) -> Result<Detection> {
    let configured = ["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI"]
        .iter()
        .any(|name| ctx.env.is_set(name));
    if !configured {
        return Ok(Detection::NotConfigured("no AWS_CONTAINER_CREDENTIALS_*_URI is set".into()));
    }
    Ok(Detection::Configured(Plan::Container))
}

/// Fetches from the endpoint with a provider built for this fetch.
pub(super) async fn fetch(ctx: &ChainContext) -> Result<Credentials> {
    let provider = EcsCredentialsProvider::builder().configure(&metadata_provider_config(ctx)).build();
    delegate(SourceName::ContainerRole, &provider).await
}

#[cfg(test)]
mod tests {
    use crate::chain::sources::Plan;
    use crate::chain::testing::{not_configured, plan, Scratch};
    use crate::chain::SourceName;

    fn applies(vars: &[(&'static str, &str)]) -> bool {
        let scratch = Scratch::new();
        match scratch.detect(SourceName::ContainerRole, None, vars) {
            Ok(crate::chain::Detection::NotConfigured(_)) => false,
            detection => matches!(plan(detection), Plan::Container),
        }
    }

    #[test]
    fn the_relative_or_the_full_uri_applies() {
        assert!(applies(&[("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/credentials/x")]));
        assert!(applies(&[("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://169.254.170.23/v1/credentials")]));
    }

    #[test]
    fn an_empty_uri_variable_still_applies() {
        // botocore's ContainerProvider tests `name in environ`.
        assert!(applies(&[("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "")]));
    }

    #[test]
    fn without_either_uri_it_does_not_apply_whatever_the_token() {
        assert!(!applies(&[("AWS_CONTAINER_AUTHORIZATION_TOKEN", "t")]));
        let scratch = Scratch::new();
        let why = not_configured(scratch.detect(SourceName::ContainerRole, None, &[]));
        assert_eq!(why, "no AWS_CONTAINER_CREDENTIALS_*_URI is set");
    }
}
