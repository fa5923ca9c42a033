//! `container-role`: the ECS / EKS Pod Identity endpoint named by
//! `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` or `..._FULL_URI`. The URI is
//! checked first as botocore checks it ([`check_uri`]); aws-config's
//! provider then fetches, re-reading `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE`
//! on every fetch.

use aws_config::ecs::EcsCredentialsProvider;

use super::{delegate, metadata_provider_config, url, Detection, Plan};
use crate::chain::context::ChainContext;
use crate::chain::SourceName;
use crate::types::credentials::Credentials;
use crate::types::error::{Error, ErrorCode, Result};
use crate::types::text::escape_name;

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

/// The hosts botocore lets a plain-http URI name besides loopback
/// addresses (`ContainerMetadataFetcher`), compared as written.
const ALLOWED_HOSTS: [&str; 4] = ["169.254.170.2", "169.254.170.23", "fd00:ec2::23", "localhost"];

/// Fetches from the endpoint with a provider built for this fetch.
pub(super) async fn fetch(ctx: &ChainContext) -> Result<Credentials> {
    check_uri(ctx)?;
    let provider = EcsCredentialsProvider::builder().configure(&metadata_provider_config(ctx)).build();
    delegate(SourceName::ContainerRole, &provider).await
}

/// Refuses the URI botocore refuses: it builds `http://169.254.170.2` +
/// the relative URI when that variable is set (even empty), else takes the
/// full URI, and then accepts `https` to any host, or a host that is a
/// loopback address or one of [`ALLOWED_HOSTS`]. A relative path or a
/// value without a scheme names no host at all.
fn check_uri(ctx: &ChainContext) -> Result<()> {
    let relative = ctx.env.get("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
    let (variable, value, uri) = match relative {
        Some(path) => ("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", path, format!("http://169.254.170.2{path}")),
        None => {
            let full = ctx.env.get("AWS_CONTAINER_CREDENTIALS_FULL_URI").unwrap_or("");
            ("AWS_CONTAINER_CREDENTIALS_FULL_URI", full, full.to_owned())
        }
    };
    let host = match url::scheme_and_host(&uri) {
        Some((scheme, _)) if scheme == "https" => return Ok(()),
        Some((_, host)) if is_loopback(&host) || ALLOWED_HOSTS.contains(&host.as_str()) => return Ok(()),
        Some((_, host)) => format!("host {host}"),
        None => "no host".to_owned(),
    };
    Err(Error::from_source(
        ErrorCode::InvalidConfig,
        SourceName::ContainerRole.as_str(),
        format!(
            "{variable} is \"{}\", which names {host}: over plain http credentials come only from a loopback \
             address or {} (as botocore requires)",
            escape_name(value),
            ALLOWED_HOSTS.join(", ")
        ),
    ))
}

fn is_loopback(host: &str) -> bool {
    host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
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

    #[test]
    fn the_uri_is_refused_as_botocore_refuses_it() {
        let scratch = Scratch::new();
        let check = |vars: &[(&'static str, &str)]| super::check_uri(&scratch.context(None, vars));
        let full = "AWS_CONTAINER_CREDENTIALS_FULL_URI";
        for ok in [
            "http://127.0.0.1:8080/creds",
            "http://[::1]/x",
            "http://169.254.170.23/v1",
            "http://LOCALHOST/c",
            "https://anywhere.example/creds",
        ] {
            assert!(check(&[(full, ok)]).is_ok(), "{ok}");
        }
        let error = check(&[(full, "/v2/credentials")]).unwrap_err();
        assert_eq!(error.code(), crate::types::error::ErrorCode::InvalidConfig);
        assert_eq!(
            error.to_string(),
            "container-role: AWS_CONTAINER_CREDENTIALS_FULL_URI is \"/v2/credentials\", which names no host: over plain \
             http credentials come only from a loopback address or 169.254.170.2, 169.254.170.23, fd00:ec2::23, \
             localhost (as botocore requires)"
        );
        assert!(check(&[(full, "http://10.0.0.1/creds")])
            .unwrap_err()
            .to_string()
            .contains("which names host 10.0.0.1"));
        // The relative URI wins, even empty; without a leading slash it runs into the host.
        assert!(check(&[("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", ""), (full, "/v2")]).is_ok());
        let error = check(&[("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "v2/creds")]).unwrap_err();
        assert!(error.to_string().contains("which names host 169.254.170.2v2"), "{error}");
    }
}
