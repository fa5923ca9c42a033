//! The doctor's report: what it found, as plain data. `render.rs` turns it
//! into JSON (the stable schema of `docs/doctor-json.md`) or a table.
//!
//! Field order here is the order in the JSON output. Nothing in the report
//! is secret: the access key id is masked, secret keys and tokens are only
//! ever reported as present or absent, and `credential_process` commands
//! (which may carry secrets as arguments) are never copied.

use serde::Serialize;

/// The JSON schema version. Bumped only for changes that could break a
/// reader (a field removed, renamed or changing type); adding a field or a
/// pitfall code does not bump it.
pub const SCHEMA_VERSION: u32 = 1;

/// Everything `credchain doctor` reports.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// Always [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The library's version.
    pub credchain_version: &'static str,
    /// Credentials resolved and no pitfall has severity `error`.
    pub ok: bool,
    /// The profile the chain reads.
    pub profile: ProfileReport,
    /// The two shared files.
    pub files: FilesReport,
    /// The trust store and proxy of the chain's HTTPS calls.
    pub network: NetworkReport,
    /// Every source of the chain, in the chain's order.
    pub sources: Vec<SourceReport>,
    /// The source that answered, if any.
    pub winner: Option<&'static str>,
    /// The winner's credentials, masked.
    pub credentials: Option<CredentialsReport>,
    /// Why the chain has no credentials, if it has none.
    pub error: Option<ErrorReport>,
    /// Every pitfall found, errors first.
    pub pitfalls: Vec<Pitfall>,
    /// What STS `GetCallerIdentity` said about the credentials, when the
    /// caller asked (`credchain doctor --verify`); absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verification: Option<VerificationReport>,
    /// Every copy of the library loaded in the process, in load order, when
    /// the report comes through the C ABI (the command has no such list).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub library_copies: Option<Vec<LibraryCopyReport>>,
}

/// The answer of STS `GetCallerIdentity` to the resolved credentials.
#[derive(Clone, Debug, Serialize)]
pub struct VerificationReport {
    /// STS accepted the credentials.
    pub ok: bool,
    /// The endpoint asked.
    pub endpoint: String,
    /// The account the credentials belong to.
    pub account: Option<String>,
    /// The identity's ARN (a user, or an assumed role's session).
    pub arn: Option<String>,
    /// The identity's unique id.
    pub user_id: Option<String>,
    /// Why the call failed, in STS's words (`InvalidClientTokenId: The
    /// security token included in the request is invalid.`); `null` on
    /// success.
    pub error: Option<String>,
}

/// One copy of the library in the process.
#[derive(Clone, Debug, Serialize)]
pub struct LibraryCopyReport {
    /// The file it was loaded from.
    pub path: String,
    /// Its package version.
    pub version: String,
    /// Its ABI version, `MAJOR.MINOR`.
    pub abi: String,
    /// Whether it serves the process (every copy of its ABI major forwards
    /// its calls to it; the report comes from the serving copy).
    pub serving: bool,
}

impl Report {
    /// The doctor's exit status: 0 when [`Report::ok`], 1 otherwise.
    pub fn exit_code(&self) -> i32 {
        if self.ok {
            0
        } else {
            1
        }
    }

    /// Whether a pitfall with `code` was found.
    pub fn has_pitfall(&self, code: &str) -> bool {
        self.pitfalls.iter().any(|p| p.code == code)
    }
}

/// The selected profile.
#[derive(Clone, Debug, Serialize)]
pub struct ProfileReport {
    /// Its name.
    pub name: String,
    /// What chose it: `caller`, `AWS_DEFAULT_PROFILE`, `AWS_PROFILE` or
    /// `default`.
    pub origin: &'static str,
    /// Whether the config file has a section for it (`null` when the files
    /// could not be read).
    pub in_config_file: Option<bool>,
    /// Whether the credentials file has a section for it (`null` as above).
    pub in_credentials_file: Option<bool>,
    /// The region STS and SSO calls use; `null` when none is set (STS is
    /// then called in `us-east-1`).
    pub region: Option<String>,
    /// Where the region came from: `profile NAME`, `AWS_REGION` or
    /// `AWS_DEFAULT_REGION`; `null` with the region.
    pub region_from: Option<String>,
    /// The role chain when the profile has `role_arn`, from the profile
    /// down to its base; `null` otherwise.
    pub role_chain: Option<Vec<RoleHopReport>>,
    /// The profile's SSO login when it has one; `null` otherwise.
    pub sso: Option<SsoReport>,
}

/// One link of a role chain: a role (`profile` and `role_arn`), or the
/// base (`profile` with the `source` its credentials come from, or
/// `credential_source`).
#[derive(Clone, Debug, Serialize)]
pub struct RoleHopReport {
    /// The profile, `null` for a `credential_source` base.
    pub profile: Option<String>,
    /// Its role; `null` for the base.
    pub role_arn: Option<String>,
    /// For a source profile at the base, the source of its credentials
    /// (`shared-credentials-file`, `assume-role-with-web-identity`, `sso`...);
    /// `null` otherwise.
    pub source: Option<&'static str>,
    /// `Environment`, `Ec2InstanceMetadata` or `EcsContainer` for such a
    /// base; `null` otherwise.
    pub credential_source: Option<String>,
}

/// An SSO login and its cached token.
#[derive(Clone, Debug, Serialize)]
pub struct SsoReport {
    /// `sso-session NAME` or `start URL URL`: what `aws sso login` logs in to.
    pub login: String,
    /// The token's cache file.
    pub cache_file: String,
    /// `valid`, `expired`, `missing` or `unreadable`.
    pub token: &'static str,
    /// When the cached token expires (or expired), RFC 3339 UTC; `null`
    /// when there is none.
    pub token_expiration: Option<String>,
    /// The command that makes a new token.
    pub login_command: String,
}

/// The shared config and credentials files.
#[derive(Clone, Debug, Serialize)]
pub struct FilesReport {
    /// `AWS_CONFIG_FILE` or `~/.aws/config`.
    pub config: FileReport,
    /// `AWS_SHARED_CREDENTIALS_FILE` or `~/.aws/credentials`.
    pub credentials: FileReport,
}

/// One file.
#[derive(Clone, Debug, Serialize)]
pub struct FileReport {
    /// Where it is, or would be.
    pub path: String,
    /// Whether it exists.
    pub exists: bool,
}

/// The trust store and proxy that STS, SSO, SSO-OIDC, `aws login` and web
/// identity calls use (the container endpoint and IMDS always use the
/// system's roots and no proxy).
#[derive(Clone, Debug, Serialize)]
pub struct NetworkReport {
    /// The certificates HTTPS peers are checked against.
    pub trust_store: TrustStoreReport,
    /// The proxy HTTPS calls go through; `null` for none.
    pub proxy: Option<ProxyReport>,
}

/// The trust store in effect.
#[derive(Clone, Debug, Serialize)]
pub struct TrustStoreReport {
    /// `system` (the system's roots) or `bundle` (a PEM file that replaces
    /// them).
    pub kind: &'static str,
    /// The bundle's path, as configured; `null` for `system`.
    pub path: Option<String>,
    /// What named the bundle: `AWS_CA_BUNDLE`, `ca_bundle in profile NAME`
    /// or `REQUESTS_CA_BUNDLE`; `null` for `system`.
    pub from: Option<String>,
    /// How many certificates the bundle holds; `null` for `system` or an
    /// unusable bundle.
    pub certificates: Option<usize>,
    /// Why the bundle cannot be used (every HTTPS source then fails with
    /// this message); `null` when it can.
    pub problem: Option<String>,
}

/// The HTTPS proxy in effect.
#[derive(Clone, Debug, Serialize)]
pub struct ProxyReport {
    /// The proxy's URL, any user and password shown as `***`.
    pub url: String,
    /// The variable that named it (`https_proxy` or `HTTPS_PROXY`).
    pub from: &'static str,
    /// The hosts that bypass it, as configured; `null` for none.
    pub no_proxy: Option<String>,
    /// The variable they came from (`no_proxy` or `NO_PROXY`).
    pub no_proxy_from: Option<&'static str>,
}

/// What happened to one source.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// It answered: its credentials are the chain's.
    Used,
    /// It was not asked: not configured, or an earlier source settled the
    /// chain first.
    Skipped,
    /// It was configured and failed; the chain stops there (as in botocore).
    Failed,
}

impl Status {
    /// The lower-case name used in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Used => "used",
            Status::Skipped => "skipped",
            Status::Failed => "failed",
        }
    }
}

/// One source's line.
#[derive(Clone, Debug, Serialize)]
pub struct SourceReport {
    /// 1-based place in the chain.
    pub position: usize,
    /// botocore's method name.
    pub name: &'static str,
    /// Whether its configuration is present (`null` when the shared files
    /// could not be read, so nothing could be decided).
    pub configured: Option<bool>,
    /// Used, skipped or failed.
    pub status: Status,
    /// Why skipped, or the failure's message; `null` for the winner.
    pub reason: Option<String>,
    /// Whether credentials from this source renew themselves.
    pub refreshes_automatically: bool,
}

/// The winner's credentials, without anything secret.
#[derive(Clone, Debug, Serialize)]
pub struct CredentialsReport {
    /// The source that produced them.
    pub source: &'static str,
    /// The access key id, all but the last four characters masked.
    pub access_key_id: String,
    /// Whether a session token is present (temporary credentials).
    pub session_token: bool,
    /// The account id, when the source knows it (not a secret).
    pub account_id: Option<String>,
    /// Expiry as RFC 3339 UTC, `null` for credentials that never expire.
    pub expiration: Option<String>,
    /// Seconds from the report to the expiry (negative once expired).
    pub expires_in_seconds: Option<i64>,
    /// Whether they renew themselves (the source asked again) rather than
    /// stopping to work at their expiry.
    pub refreshes_automatically: bool,
}

/// Why the chain has no credentials.
#[derive(Clone, Debug, Serialize)]
pub struct ErrorReport {
    /// The stable error code name (`no-credentials`, `profile-not-found`...).
    pub code: &'static str,
    /// The same code's number in the C ABI.
    pub number: u32,
    /// The message, with the upstream's own words where one failed.
    pub message: String,
    /// The source that failed, if the failure belongs to one.
    pub source: Option<&'static str>,
}

impl From<&crate::types::error::Error> for ErrorReport {
    fn from(error: &crate::types::error::Error) -> Self {
        ErrorReport {
            code: error.code().name(),
            number: error.code() as u32,
            message: error.message().to_owned(),
            source: error.source_name(),
        }
    }
}

/// How much a pitfall matters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Connections fail (or will): the doctor exits 1.
    Error,
    /// Works now, will break or surprise later.
    Warning,
    /// Worth knowing; nothing to fix.
    Info,
}

impl Severity {
    /// The lower-case name used in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

/// One problem found, with what to do instead.
#[derive(Clone, Debug, Serialize)]
pub struct Pitfall {
    /// A stable code (see `docs/doctor-json.md`).
    pub code: &'static str,
    /// How much it matters.
    pub severity: Severity,
    /// The source it concerns, if one.
    pub source: Option<&'static str>,
    /// What is wrong and what to do instead.
    pub message: String,
}
