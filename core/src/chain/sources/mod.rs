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
mod url;
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
use aws_sdk_sso::operation::get_role_credentials::GetRoleCredentialsError;
use aws_sdk_sts::operation::assume_role::AssumeRoleError;
use aws_sdk_sts::operation::assume_role_with_web_identity::AssumeRoleWithWebIdentityError;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::{ConnectorError, SdkError};
use aws_smithy_types::error::ErrorMetadata;
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
    /// Instance metadata.
    Imds {
        /// `AWS_EC2_METADATA_SERVICE_ENDPOINT` or the profile's
        /// `ec2_metadata_service_endpoint`, else the address of the
        /// endpoint mode (IPv4 by default).
        endpoint: String,
    },
}

/// Settings botocore checks before it asks any source, whichever answers:
/// the instance metadata endpoint and its mode.
pub fn check_settings(ctx: &ChainContext) -> Result<()> {
    imds::check_settings(ctx)
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

/// The failure attributed to `profile`; the message names it once (see
/// [`Error::with_profile`]).
fn with_profile(error: Error, profile: &str) -> Error {
    error.with_profile(profile)
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

/// Adds the endpoint to an error from a request whose connection failed,
/// and the remedy when the peer's certificate was not trusted; what failed
/// is read from the types of the error's cause, never from its words.
fn explain_connection_failure(error: Error, endpoint: &str, ctx: &ChainContext) -> Error {
    let Some(failure) = std::error::Error::source(&error).and_then(network_failure) else {
        return error;
    };
    let error = error.with_endpoint(endpoint);
    match failure {
        NetworkFailure::Connection => error,
        NetworkFailure::RefusedCertificate => {
            let trust = match &ctx.network.trust {
                TrustStore::System => "the system's roots".to_owned(),
                TrustStore::Bundle { path, origin } => format!("{} (from {origin})", path.display()),
            };
            error.with_remedy(format!(
                "the trust store, {trust}, does not vouch for the endpoint's certificate; behind a proxy that \
                 inspects TLS, point AWS_CA_BUNDLE (or ca_bundle in the profile) at a PEM file holding that proxy's CA"
            ))
        }
    }
}

/// Why a request never got an HTTP response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum NetworkFailure {
    /// The connection could not be made or was lost: refused, reset, timed
    /// out, a name that did not resolve, a TLS handshake that failed.
    Connection,
    /// The TLS handshake failed on the peer's certificate (an unknown
    /// issuer, a self-signed one, an expired one, another name): a trust
    /// store matter.
    RefusedCertificate,
}

/// The network failure behind `error`, read from the types along its
/// `source()` chain ([`causes`]):
/// - aws-smithy's `ConnectorError` says whether a request's dispatch failed
///   on its connection (`is_io`, `is_timeout`: refused, reset, DNS, TLS)
///   or for another reason; the first one met decides, since a nested
///   provider's failure (another request, to another endpoint) is reported
///   as a dispatch failure of kind "other" above that request's own error;
/// - rustls's `Error` is a handshake that failed, and `InvalidCertificate`
///   one that failed on the peer's certificate;
/// - an `io::Error` of a connection kind is a connection that failed, when
///   no `ConnectorError` says otherwise.
fn network_failure(error: &(dyn std::error::Error + 'static)) -> Option<NetworkFailure> {
    let mut found = None;
    for link in causes(error) {
        if let Some(connector) = link.downcast_ref::<ConnectorError>() {
            if !(connector.is_io() || connector.is_timeout()) {
                return found;
            }
            found = Some(NetworkFailure::Connection);
        } else if let Some(tls) = link.downcast_ref::<rustls::Error>() {
            return Some(match tls {
                rustls::Error::InvalidCertificate(_) => NetworkFailure::RefusedCertificate,
                _ => NetworkFailure::Connection,
            });
        } else if link.downcast_ref::<std::io::Error>().is_some_and(|io| connection_kind(io.kind())) {
            found = Some(NetworkFailure::Connection);
        }
    }
    found
}

/// The `io::Error` kinds of a connection that could not be made or broke.
fn connection_kind(kind: std::io::ErrorKind) -> bool {
    use std::io::ErrorKind::*;
    matches!(
        kind,
        ConnectionRefused
            | ConnectionReset
            | ConnectionAborted
            | NotConnected
            | AddrNotAvailable
            | BrokenPipe
            | TimedOut
            | HostUnreachable
            | NetworkUnreachable
            | NetworkDown
    )
}

/// The most links of an error chain walked: chains are a handful long, and
/// a bound keeps a pathological one from holding up a message.
const CHAIN_LIMIT: usize = 64;

/// `error` and each error behind it. After an `io::Error` comes its payload
/// (`get_ref`), not `source()`: `io::Error::source` returns the payload's
/// own source, skipping the payload, and hyper-rustls nests rustls's error
/// two `io::Error`s deep.
fn causes<'a>(
    error: &'a (dyn std::error::Error + 'static),
) -> impl Iterator<Item = &'a (dyn std::error::Error + 'static)> {
    std::iter::successors(Some(error), |&link| match link.downcast_ref::<std::io::Error>() {
        Some(io) => io.get_ref().map(|payload| payload as &(dyn std::error::Error + 'static)),
        None => link.source(),
    })
    .take(CHAIN_LIMIT)
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
        Err(error) => Err(map_error(source, error)),
    }
}

/// Converts aws-config's credentials into ours.
fn convert(source: SourceName, credentials: &aws_credential_types::Credentials) -> Credentials {
    Credentials::new_static(source, credentials.access_key_id(), credentials.secret_access_key())
        .with_session_token(credentials.session_token())
        .with_account_id(credentials.account_id().map(|a| a.as_str()))
        .with_expiration(credentials.expiry())
}

/// Maps aws-config's error kinds to our codes; the words are every cause's
/// and the response's HTTP status, and the error itself is kept as the
/// cause, for [`network_failure`] and for callers that walk `source()`.
fn map_error(source: SourceName, error: CredentialsError) -> Error {
    let code = match &error {
        CredentialsError::ProviderTimedOut(_) => ErrorCode::Timeout,
        CredentialsError::InvalidConfiguration(_) => ErrorCode::InvalidConfig,
        _ => ErrorCode::SourceFailed,
    };
    let mut words = describe_sdk_error(&error);
    // No typed route to the status when aws-config dropped the response
    // (the container provider keeps only its own words, "Non-success status
    // from HTTP credential provider: StatusCode(500)") or keeps it in a
    // `SdkError` of a client this crate cannot name (SSO-OIDC, sign-in):
    // then only the `Debug` form carries it.
    let status = response_status(&error)
        .map(|status| status.to_string())
        .or_else(|| http_status(&format!("{error:?}")).map(str::to_owned));
    if let Some(status) = status {
        words.push_str(&format!(" (HTTP {status})"));
    }
    Error::from_source(code, source.as_str(), words).with_cause(error)
}

/// The HTTP status of the first response along `error`'s causes, from the
/// `SdkError`s of the operations whose types are known here (STS's
/// `AssumeRole` and `AssumeRoleWithWebIdentity`, SSO's
/// `GetRoleCredentials`): `raw_response` is on the concrete type only.
fn response_status(error: &(dyn std::error::Error + 'static)) -> Option<u16> {
    fn status_of<E: std::error::Error + 'static>(link: &(dyn std::error::Error + 'static)) -> Option<u16> {
        let response = link.downcast_ref::<SdkError<E, HttpResponse>>()?.raw_response()?;
        Some(response.status().as_u16())
    }
    causes(error).find_map(|link| {
        status_of::<AssumeRoleError>(link)
            .or_else(|| status_of::<AssumeRoleWithWebIdentityError>(link))
            .or_else(|| status_of::<GetRoleCredentialsError>(link))
    })
}

/// An AWS SDK error in a person's words, scrubbed of secrets and bounded:
/// every cause, and a service's refusal as `CODE: message`.
pub fn describe_sdk_error(error: &(dyn std::error::Error + 'static)) -> String {
    let words = error_chain(error);
    let plain = service_refusal(error, &words).unwrap_or_else(|| plain_service_error(&words));
    crate::types::text::scrub_upstream(&plain)
}

/// aws-smithy's words for a service's refusal, as a person would say them,
/// with the code and message from the refusal's `ErrorMetadata` (the
/// source of an operation error it could not model): `service error:
/// unhandled error (AccessDenied): Error { code: "AccessDenied", message:
/// "User: … is not authorized …", aws_request_id: "…" }` becomes
/// `AccessDenied: User: … is not authorized …`. The metadata's own words
/// mark where the restatement is in `words`; a hop of a role chain refused
/// under another hop also loses the outer `dispatch failure: other: `,
/// which would read as a network failure. `None` when no metadata with a
/// code and a message is reachable, or its words are not where aws-smithy
/// puts them.
fn service_refusal(error: &(dyn std::error::Error + 'static), words: &str) -> Option<String> {
    let metadata = causes(error).find_map(|link| link.downcast_ref::<ErrorMetadata>())?;
    let (code, message) = (metadata.code()?, metadata.message()?);
    let restated = format!("service error: unhandled error ({code}): {metadata}");
    let at = words.find(&restated)?;
    let before = words[..at].strip_suffix("dispatch failure: other: ").unwrap_or(&words[..at]);
    Some(format!("{before}{code}: {message}{}", &words[at + restated.len()..]))
}

/// [`service_refusal`] for a refusal whose metadata is not reachable by
/// type: an upstream that passed the SDK's words on as text. Code and
/// message are then read from the metadata's `Debug`-like rendering
/// (`Error { code: "…", message: "…" }`), the only place they are.
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

/// The HTTP status in an error's `Debug` form, for the responses no typed
/// route reaches (see [`map_error`]). Only the three digits are taken from
/// it: the rest may quote a response body.
fn http_status(debug: &str) -> Option<&str> {
    let start = debug.find("StatusCode(")? + "StatusCode(".len();
    let digits = debug.get(start..start + 3)?;
    digits.bytes().all(|b| b.is_ascii_digit()).then_some(digits)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::testing::Scratch;

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

    /// An error with words of its own and a cause, as aws-smithy's and
    /// hyper's wrappers are.
    #[derive(Debug)]
    struct Wrapped(&'static str, Box<dyn std::error::Error + Send + Sync>);

    impl std::fmt::Display for Wrapped {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(self.0)
        }
    }

    impl std::error::Error for Wrapped {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(self.1.as_ref())
        }
    }

    fn caused_by(cause: impl std::error::Error + Send + Sync + 'static) -> Error {
        Error::from_source(ErrorCode::SourceFailed, "assume-role", "it failed").with_cause(cause)
    }

    fn refused() -> std::io::Error {
        std::io::Error::from(std::io::ErrorKind::ConnectionRefused)
    }

    #[test]
    fn a_refused_connection_two_causes_down_is_a_connection_failure() {
        let error = caused_by(Wrapped("dispatch failure", Box::new(Wrapped("tcp connect error", Box::new(refused())))));
        assert_eq!(std::error::Error::source(&error).and_then(network_failure), Some(NetworkFailure::Connection));
        let scratch = Scratch::new();
        assert_eq!(
            explain_connection_failure(error, "https://sts.example", &scratch.context(None, &[])).message(),
            "assume-role: it failed (endpoint URL https://sts.example)"
        );
    }

    #[test]
    fn a_refused_certificate_two_io_errors_down_names_the_endpoint_and_the_trust_store() {
        // hyper-rustls nests rustls's error two `io::Error`s deep, where
        // `io::Error::source` does not reach.
        let certificate = rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer);
        let io = std::io::Error::other(std::io::Error::new(std::io::ErrorKind::InvalidData, certificate));
        let handshake = ConnectorError::io(Box::new(Wrapped("TLS handshake failed", Box::new(io))));
        let error = caused_by(Wrapped("dispatch failure", Box::new(handshake)));
        assert_eq!(
            std::error::Error::source(&error).and_then(network_failure),
            Some(NetworkFailure::RefusedCertificate)
        );
        let scratch = Scratch::new();
        assert_eq!(
            explain_connection_failure(error, "https://sts.example", &scratch.context(None, &[])).message(),
            "assume-role: it failed (endpoint URL https://sts.example): the trust store, the system's roots, does not \
             vouch for the endpoint's certificate; behind a proxy that inspects TLS, point AWS_CA_BUNDLE (or \
             ca_bundle in the profile) at a PEM file holding that proxy's CA"
        );
        let alert = rustls::Error::AlertReceived(rustls::AlertDescription::HandshakeFailure);
        assert_eq!(network_failure(&Wrapped("tls", Box::new(alert))), Some(NetworkFailure::Connection));
    }

    #[test]
    fn a_nested_providers_failure_is_not_this_endpoints_connection() {
        let nested = ConnectorError::io(Box::new(refused()));
        let other = ConnectorError::other(Box::new(Wrapped("loading credentials", Box::new(nested))), None);
        assert_eq!(network_failure(&other), None);
        let timeout = ConnectorError::timeout(Box::new(Wrapped("connect timeout", Box::new(std::fmt::Error))));
        assert_eq!(network_failure(&timeout), Some(NetworkFailure::Connection));
        assert_eq!(network_failure(&std::io::Error::from(std::io::ErrorKind::NotFound)), None);
    }

    #[test]
    fn words_alone_are_no_connection_failure() {
        let words = "dispatch failure: io error: client error (Connect): tcp connect error: Connection refused";
        let error = Error::from_source(ErrorCode::SourceFailed, "assume-role", words);
        let scratch = Scratch::new();
        let explained = explain_connection_failure(error.clone(), "https://sts.example", &scratch.context(None, &[]));
        assert_eq!(explained.message(), error.message());
    }

    fn refused_by_sts() -> SdkError<AssumeRoleError, HttpResponse> {
        let metadata = ErrorMetadata::builder()
            .code("AccessDenied")
            .message("User: x is not \"authorized\" }")
            .custom("aws_request_id", "42")
            .build();
        let status = 403.try_into().unwrap();
        let response = HttpResponse::new(status, aws_smithy_types::body::SdkBody::from("<Secret>s3cret</Secret>"));
        SdkError::service_error(AssumeRoleError::generic(metadata), response)
    }

    #[test]
    fn a_refusal_is_read_from_its_metadata_and_its_status_from_the_response() {
        let refused = CredentialsError::provider_error(refused_by_sts());
        // The typed routes, not the text fallbacks, read them.
        assert_eq!(response_status(&refused), Some(403));
        assert_eq!(
            service_refusal(&refused, &error_chain(&refused)).as_deref(),
            Some("an error occurred while loading credentials: AccessDenied: User: x is not \"authorized\" }")
        );
        let error = map_error(SourceName::AssumeRole, refused);
        assert_eq!(
            error.message(),
            "assume-role: an error occurred while loading credentials: AccessDenied: User: x is not \"authorized\" } \
             (HTTP 403)"
        );
        assert_eq!(std::error::Error::source(&error).and_then(network_failure), None);
        assert!(std::error::Error::source(&error).unwrap().downcast_ref::<CredentialsError>().is_some());
        assert!(!format!("{error:?}").contains("s3cret"));
    }

    #[test]
    fn a_hop_refused_under_another_reads_as_the_refusal_not_a_network_failure() {
        let inner = CredentialsError::provider_error(refused_by_sts());
        let dispatch =
            SdkError::<AssumeRoleError, HttpResponse>::dispatch_failure(ConnectorError::other(Box::new(inner), None));
        let error = map_error(SourceName::AssumeRole, CredentialsError::provider_error(dispatch));
        assert_eq!(
            error.message(),
            "assume-role: an error occurred while loading credentials: AccessDenied: User: x is not \"authorized\" } \
             (HTTP 403)"
        );
        assert_eq!(std::error::Error::source(&error).and_then(network_failure), None);
    }

    #[test]
    fn a_status_only_in_the_providers_words_is_still_shown() {
        let words = "Non-success status from HTTP credential provider: StatusCode(500)";
        let error = map_error(SourceName::ContainerRole, CredentialsError::provider_error(words));
        assert_eq!(
            error.message(),
            format!("container-role: an error occurred while loading credentials: {words} (HTTP 500)")
        );
    }
}
