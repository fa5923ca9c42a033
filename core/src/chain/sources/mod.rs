//! One file per source of the chain. Each exposes `detect`, which decides
//! from the context alone whether the source applies (no network), and the
//! remote ones a `fetch` that delegates the protocol to aws-config.

mod assume_role;
mod boto_config;
mod config_file;
mod container;
mod ec2_credentials_file;
mod env;
mod http;
pub use http::client as https_client;
mod imds;
mod login;
mod process;
mod shared_credentials_file;
mod sso;
mod web_identity;

pub use assume_role::{role_chain, RoleHop};
pub use imds::KeptImds;
pub use process::ChildSlots;
pub use sso::{token_cache, token_state, TokenState};

use std::sync::Arc;

use super::profile_file::Profile;
use aws_config::provider_config::ProviderConfig;
use aws_credential_types::provider::error::CredentialsError;
use aws_credential_types::provider::ProvideCredentials;
use aws_types::region::Region;

use super::context::ChainContext;
use super::network::TrustStore;
use super::SourceName;
use crate::support::runtime::RuntimeSlot;
use crate::types::credentials::Credentials;
use crate::types::error::{Error, ErrorCode, Result};
use crate::types::text::error_chain;

/// What `detect` found.
#[derive(Debug)]
pub enum Detection {
    /// The source does not apply; the text says why (for `doctor`).
    NotConfigured(String),
    /// The source applies; the plan says how to get its credentials.
    Configured(Plan),
}

/// How to obtain credentials from a source that applies.
#[derive(Debug)]
pub enum Plan {
    /// The credentials were read from the environment or a file already.
    Ready(Credentials),
    /// `role_arn` in the profile: credchain walks the role chain (source
    /// profiles, `credential_source`) and each hop calls STS AssumeRole.
    AssumeRole {
        /// The profile whose role is assumed.
        profile: String,
    },
    /// A web identity token file and a role.
    WebIdentity(web_identity::WebIdentityConfig),
    /// IAM Identity Center.
    Sso {
        /// The profile with the SSO settings.
        profile: String,
        /// Its settings, its `[sso-session]`'s merged in.
        settings: sso::SsoSettings,
    },
    /// `login_session`.
    Login {
        /// The session ARN `aws login` cached a token for.
        session: String,
    },
    /// `credential_process`.
    Process {
        /// The profile that names the process (the selected one, or a role
        /// chain's source profile).
        profile: String,
        /// The command line, run through `/bin/sh -c`.
        command: String,
        /// The profile's `aws_account_id`, for output that lacks `AccountId`.
        account_id: Option<String>,
    },
    /// The container credentials endpoint.
    Container,
    /// Instance metadata, at an optional custom endpoint.
    Imds {
        /// `AWS_EC2_METADATA_SERVICE_ENDPOINT` or the profile's
        /// `ec2_metadata_service_endpoint`.
        endpoint: Option<String>,
    },
}

/// Decides whether `source` applies to `ctx`. An error (half a key pair, a
/// broken configuration) stops the chain, as it does in botocore.
pub fn detect(source: SourceName, ctx: &ChainContext) -> Result<Detection> {
    match source {
        SourceName::Env => env::detect(ctx),
        SourceName::AssumeRole => assume_role::detect(ctx),
        SourceName::AssumeRoleWithWebIdentity => web_identity::detect(ctx),
        SourceName::Sso => sso::detect(ctx, &ctx.profile.name),
        SourceName::SharedCredentialsFile => shared_credentials_file::detect(ctx, &ctx.profile.name),
        SourceName::Login => login::detect(ctx, &ctx.profile.name),
        SourceName::CustomProcess => process::detect(ctx, &ctx.profile.name),
        SourceName::ConfigFile => config_file::detect(ctx, &ctx.profile.name),
        SourceName::Ec2CredentialsFile => ec2_credentials_file::detect(ctx),
        SourceName::BotoConfig => boto_config::detect(ctx),
        SourceName::ContainerRole => container::detect(ctx),
        SourceName::IamRole => imds::detect(ctx),
    }
}

/// How a source decides for a named profile (not the selected one).
type DetectIn = fn(&ChainContext, &str) -> Result<Detection>;

/// The sources botocore asks, in this order, for a role chain's source
/// profile (`ProfileProviderBuilder.providers`, the variables off): its web
/// identity, SSO, keys in the credentials file, `aws login`, a process, then
/// keys in the config file. So keys in the credentials file win over a
/// `credential_process` beside them, and a process over keys in the config
/// file.
pub const SOURCE_PROFILE_ORDER: [(SourceName, DetectIn); 6] = [
    (SourceName::AssumeRoleWithWebIdentity, web_identity::detect_profile),
    (SourceName::Sso, sso::detect),
    (SourceName::SharedCredentialsFile, shared_credentials_file::detect),
    (SourceName::Login, login::detect),
    (SourceName::CustomProcess, process::detect),
    (SourceName::ConfigFile, config_file::detect),
];

/// The first source of [`SOURCE_PROFILE_ORDER`] that applies to `profile`,
/// with its plan; a broken one (half a key pair) stops the search.
pub fn detect_source_profile(ctx: &ChainContext, profile: &str) -> Result<Option<(SourceName, Plan)>> {
    for (source, detect_in) in SOURCE_PROFILE_ORDER {
        if let Detection::Configured(plan) = detect_in(ctx, profile)? {
            return Ok(Some((source, plan)));
        }
    }
    Ok(None)
}

/// What the sources keep across resolutions: the IMDS provider (for its
/// static stability) and the bound on child processes. One per process,
/// owned by the library's instance, so a forked child starts with its own.
#[derive(Debug, Default)]
pub struct Services {
    /// The IMDS provider kept between fetches.
    pub imds: KeptImds,
    /// The slots for `credential_process` children.
    pub children: ChildSlots,
    /// The runtime the fetches run on: a kept provider belongs to one.
    pub runtime: Arc<RuntimeSlot>,
}

impl Services {
    /// Services for fetches on `runtime`.
    pub fn new(runtime: Arc<RuntimeSlot>) -> Services {
        Services { imds: KeptImds::default(), children: ChildSlots::default(), runtime }
    }
}

/// Carries out a plan. A failure to reach an endpoint says which one, and
/// a certificate the trust store does not vouch for says how to fix it.
pub async fn fetch(plan: Plan, ctx: &ChainContext, services: &Services) -> Result<Credentials> {
    let endpoint = endpoint_of(&plan, ctx);
    let names_profile = names_its_profile(&plan, ctx);
    fetch_plan(plan, ctx, services).await.map_err(|error| {
        let error = match &endpoint {
            Some(endpoint) => explain_connection_failure(error, endpoint, ctx),
            None => error,
        };
        if names_profile {
            with_profile(error, &ctx.profile.name)
        } else {
            error
        }
    })
}

/// Whether a plan's failure should name the profile it came from: a
/// `credential_process`, an `aws login` session or a web identity set in
/// the profile (SSO and roles name it themselves; the environment's web
/// identity and the metadata endpoints have no profile).
fn names_its_profile(plan: &Plan, ctx: &ChainContext) -> bool {
    match plan {
        Plan::Process { .. } | Plan::Login { .. } => true,
        Plan::WebIdentity(_) => ctx.profile_value("web_identity_token_file").is_some(),
        _ => false,
    }
}

/// `source: words` as `source: profile NAME: words`, unless the words name
/// the profile already.
fn with_profile(error: Error, profile: &str) -> Error {
    if error.message().contains(&format!("profile {profile}")) {
        return error;
    }
    match (error.source_name(), error.message().split_once(": ")) {
        (Some(source), Some((_, words))) => {
            Error::from_source(error.code(), source, format!("profile {profile}: {words}"))
        }
        _ => error,
    }
}

pub(super) async fn fetch_plan(plan: Plan, ctx: &ChainContext, services: &Services) -> Result<Credentials> {
    match plan {
        Plan::Ready(credentials) => Ok(credentials),
        Plan::AssumeRole { profile } => assume_role::fetch(ctx, &profile, services).await,
        Plan::WebIdentity(config) => web_identity::fetch(ctx, config).await,
        Plan::Sso { profile, settings } => sso::fetch(ctx, &profile, &settings).await,
        Plan::Login { session } => login::fetch(ctx, &session).await,
        Plan::Process { profile, command, account_id } => {
            process::fetch(ctx, &profile, &command, account_id, &services.children).await
        }
        Plan::Container => container::fetch(ctx).await,
        Plan::Imds { endpoint } => imds::fetch(ctx, endpoint, &services.imds, services.runtime.live_epoch()).await,
    }
}

/// The HTTPS endpoint a plan's first call goes to, as a person would look
/// it up: STS for roles and web identity, the SSO portal for SSO. The
/// variables aws-config honours come first (`AWS_ENDPOINT_URL_STS`,
/// `AWS_ENDPOINT_URL_SSO`, then `AWS_ENDPOINT_URL`), then the regional
/// default; other sources name their endpoint in their own errors.
fn endpoint_of(plan: &Plan, ctx: &ChainContext) -> Option<String> {
    let (variable, default) = match plan {
        Plan::AssumeRole { .. } | Plan::WebIdentity(_) => return Some(sts_endpoint(ctx)),
        Plan::Sso { settings, .. } => {
            ("AWS_ENDPOINT_URL_SSO", format!("https://portal.sso.{}", regional_domain(&settings.region)))
        }
        _ => return None,
    };
    Some(configured_endpoint(ctx, variable).unwrap_or(default))
}

/// The STS endpoint the chain's STS calls (and the doctor's
/// `GetCallerIdentity`) go to: `AWS_ENDPOINT_URL_STS`, then
/// `AWS_ENDPOINT_URL`, then the regional endpoint of [`sts_region`].
pub fn sts_endpoint(ctx: &ChainContext) -> String {
    configured_endpoint(ctx, "AWS_ENDPOINT_URL_STS")
        .unwrap_or_else(|| format!("https://sts.{}", regional_domain(sts_region(ctx).as_ref())))
}

/// A service's endpoint variable, then `AWS_ENDPOINT_URL`.
fn configured_endpoint(ctx: &ChainContext, variable: &str) -> Option<String> {
    ctx.env.non_empty(variable).or_else(|| ctx.env.non_empty("AWS_ENDPOINT_URL")).map(str::to_owned)
}

/// `REGION.amazonaws.com`, or `.amazonaws.com.cn` in the China regions.
fn regional_domain(region: &str) -> String {
    let suffix = if region.starts_with("cn-") { "amazonaws.com.cn" } else { "amazonaws.com" };
    format!("{region}.{suffix}")
}

/// aws-smithy's words for a request that never got an HTTP response, and
/// what follows them for a connection that failed (rather than a nested
/// provider's refusal, which it reports as a dispatch failure too).
const DISPATCH_FAILURE: &str = "dispatch failure";
const CONNECTION_WORDS: [&str; 5] = ["io error", "(Connect)", "timeout", "timed out", "invalid peer certificate"];
/// rustls's words for a certificate it refused (an unknown issuer, a
/// self-signed one, an expired one, another name).
const REFUSED_CERTIFICATE: &str = "invalid peer certificate";

/// Adds the endpoint to an error from a request that never got a response,
/// and the remedy when the peer's certificate was not trusted.
fn explain_connection_failure(error: Error, endpoint: &str, ctx: &ChainContext) -> Error {
    let words = error.message();
    if !words.contains(DISPATCH_FAILURE) || !CONNECTION_WORDS.iter().any(|w| words.contains(w)) {
        return error;
    }
    let mut message = format!("{} (endpoint URL {endpoint})", error.message());
    if error.message().contains(REFUSED_CERTIFICATE) {
        let trust = match &ctx.network.trust {
            TrustStore::System => "the system's roots".to_owned(),
            TrustStore::Bundle { path, origin } => format!("{} (from {origin})", path.display()),
        };
        message.push_str(&format!(
            ": the trust store, {trust}, does not vouch for the endpoint's certificate; behind a proxy that \
             inspects TLS, point AWS_CA_BUNDLE (or ca_bundle in the profile) at a PEM file holding that proxy's CA"
        ));
    }
    let detail = message.split_once(": ").map_or(message.as_str(), |(_, rest)| rest);
    match error.source_name() {
        Some(source) => Error::from_source(error.code(), source, detail),
        None => Error::new(error.code(), message.clone()),
    }
}

/// Reads a static key pair from a section: nothing when the access key is
/// absent, "partial credentials" naming the secret's key when only the
/// access key is there (botocore's `_extract_creds_from_mapping`).
fn static_key_pair<'a>(
    source: SourceName,
    get: impl Fn(&str) -> Option<&'a str>,
    access_key_name: &str,
    secret_key_name: &str,
) -> Result<Option<(&'a str, &'a str)>> {
    let Some(access_key) = get(access_key_name) else {
        return Ok(None);
    };
    match get(secret_key_name) {
        Some(secret) => Ok(Some((access_key, secret))),
        None => Err(Error::from_source(
            ErrorCode::PartialCredentials,
            source.as_str(),
            format!("partial credentials found, missing: {secret_key_name}"),
        )),
    }
}

/// The static keys of one file's section for the profile (the credentials
/// file's for `shared-credentials-file`, the config file's for
/// `config-file`), with botocore's token keys and `aws_account_id`.
fn static_keys_in(source: SourceName, section: Option<&Profile>, file: &std::path::Path) -> Result<Detection> {
    let Some(section) = section else {
        return Ok(Detection::NotConfigured(format!("{} has no section for the profile", file.display())));
    };
    let get = |key: &str| section.get(key);
    let Some((access, secret)) = static_key_pair(source, get, "aws_access_key_id", "aws_secret_access_key")? else {
        return Ok(Detection::NotConfigured(format!("the profile has no aws_access_key_id in {}", file.display())));
    };
    let credentials = Credentials::new_static(source, access, secret)
        .with_session_token(profile_token(get))
        .with_account_id(section.get("aws_account_id"));
    Ok(Detection::Configured(Plan::Ready(credentials)))
}

/// The first of botocore's token keys present in a profile section.
fn profile_token<'a>(get: impl Fn(&str) -> Option<&'a str>) -> Option<&'a str> {
    ["aws_security_token", "aws_session_token"].into_iter().find_map(get)
}

/// The region STS and SSO calls use: the context's, else `us-east-1`, which
/// is where botocore's global STS endpoint signs.
pub fn sts_region(ctx: &ChainContext) -> Region {
    Region::new(ctx.region().unwrap_or_else(|| "us-east-1".to_owned()))
}

/// aws-config's provider configuration on the real environment, with the
/// region fixed so that no provider spends an IMDS round trip finding one,
/// and the HTTPS client of the context's trust store and proxy; a CA bundle
/// or proxy that cannot be used is `source`'s configuration error.
fn provider_config(ctx: &ChainContext, source: SourceName) -> Result<ProviderConfig> {
    Ok(ProviderConfig::without_region()
        .with_region(Some(sts_region(ctx)))
        .with_http_client(http::client(&ctx.network, source)?))
}

/// [`provider_config`] for the container endpoint and IMDS, whose client
/// ignores `ca_bundle` and proxies (see `http.rs`).
fn metadata_provider_config(ctx: &ChainContext) -> ProviderConfig {
    ProviderConfig::without_region().with_region(Some(sts_region(ctx))).with_http_client(http::metadata_client())
}

/// Asks an aws-config provider and converts its answer, tagging it with
/// `source`. The upstream's own words go into the error message.
async fn delegate(source: SourceName, provider: &impl ProvideCredentials) -> Result<Credentials> {
    match provider.provide_credentials().await {
        Ok(credentials) => Ok(convert(source, &credentials)),
        Err(error) => Err(map_error(source, &error)),
    }
}

/// Converts aws-config's credentials into ours.
fn convert(source: SourceName, credentials: &aws_credential_types::Credentials) -> Credentials {
    Credentials::new_static(source, credentials.access_key_id(), credentials.secret_access_key())
        .with_session_token(credentials.session_token())
        .with_account_id(credentials.account_id().map(|a| a.as_str()))
        .with_expiration(credentials.expiry())
}

/// Maps aws-config's error kinds to our codes.
fn map_error(source: SourceName, error: &CredentialsError) -> Error {
    let code = match error {
        CredentialsError::ProviderTimedOut(_) => ErrorCode::Timeout,
        CredentialsError::InvalidConfiguration(_) => ErrorCode::InvalidConfig,
        _ => ErrorCode::SourceFailed,
    };
    let mut words = describe_sdk_error(error);
    if let Some(status) = http_status(&format!("{error:?}")) {
        words.push_str(&format!(" (HTTP {status})"));
    }
    Error::from_source(code, source.as_str(), words)
}

/// An AWS SDK error in a person's words, scrubbed of secrets and bounded:
/// every cause, and a service's refusal as `CODE: message`.
pub fn describe_sdk_error(error: &(dyn std::error::Error + 'static)) -> String {
    crate::types::text::scrub_upstream(&plain_service_error(&error_chain(error)))
}

/// aws-smithy's words for a service's refusal, as a person would say them:
/// `service error: unhandled error (AccessDenied): Error { code:
/// "AccessDenied", message: "User: … is not authorized …", aws_request_id:
/// "…" }` becomes `AccessDenied: User: … is not authorized …`. A hop of a
/// role chain refused under another hop also loses the outer
/// `dispatch failure: other: `, which would read as a network failure.
fn plain_service_error(words: &str) -> String {
    const MARK: &str = "service error: unhandled error (";
    let Some(at) = words.find(MARK) else { return words.to_owned() };
    let after_mark = &words[at + MARK.len()..];
    let Some((code, rest)) = after_mark.split_once("): Error { ") else { return words.to_owned() };
    let Some((message, tail)) = quoted_field(rest, "message: \"") else { return words.to_owned() };
    let Some(end) = tail.find('}') else { return words.to_owned() };
    let before = words[..at].strip_suffix("dispatch failure: other: ").unwrap_or(&words[..at]);
    format!("{before}{code}: {message}{}", &tail[end + 1..])
}

/// The text of `"…"` after `field` in a `Debug` form (`\"` and `\\`
/// unescaped), and what follows its closing quote.
fn quoted_field<'a>(text: &'a str, field: &str) -> Option<(String, &'a str)> {
    let start = text.find(field)? + field.len();
    let mut value = String::new();
    let mut chars = text[start..].char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => value.push(chars.next()?.1),
            '"' => return Some((value, &text[start + i + 1..])),
            _ => value.push(c),
        }
    }
    None
}

/// The HTTP status of the response behind an error, which aws-config keeps
/// only in the error's `Debug` form. Only the three digits are taken from
/// it: the rest may quote a response body.
fn http_status(debug: &str) -> Option<&str> {
    let start = debug.find("StatusCode(")? + "StatusCode(".len();
    let digits = debug.get(start..start + 3)?;
    digits.bytes().all(|b| b.is_ascii_digit()).then_some(digits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_names_its_profile_once() {
        let failed = Error::from_source(ErrorCode::SourceFailed, "login", "the session expired");
        assert_eq!(with_profile(failed, "dev").message(), "login: profile dev: the session expired");
        let named = Error::from_source(ErrorCode::SourceFailed, "custom-process", "profile dev exited with 1");
        assert_eq!(with_profile(named, "dev").message(), "custom-process: profile dev exited with 1");
    }

    #[test]
    fn a_service_refusal_reads_as_its_code_and_message() {
        let nested = "an error occurred while loading credentials: dispatch failure: other: service error: \
                      unhandled error (AccessDenied): Error { code: \"AccessDenied\", message: \"User: x is \
                      not \\\"authorized\\\" }\", aws_request_id: \"42\" } (HTTP 403)";
        assert_eq!(
            plain_service_error(nested),
            "an error occurred while loading credentials: AccessDenied: User: x is not \"authorized\" } (HTTP 403)"
        );
        let plain = "dispatch failure: io error: client error (Connect): tcp connect error";
        assert_eq!(plain_service_error(plain), plain);
        assert_eq!(
            plain_service_error("service error: unhandled error (X): Error { code"),
            "service error: unhandled error (X): Error { code"
        );
    }

    #[test]
    fn the_http_status_is_taken_from_the_debug_form_alone() {
        let debug = r#"ServiceError { raw: Response { status: StatusCode(503), body: b"secret" } }"#;
        assert_eq!(http_status(debug), Some("503"));
        assert_eq!(http_status("ProviderError { source: \"no response\" }"), None);
        assert_eq!(http_status("StatusCode(5"), None);
    }
}
