//! One consistent read of the environment variables the chain consults.
//!
//! The environment is read once per resolution so that every source sees the
//! same values, and so that a change can be noticed by comparing two reads.
//!
//! glibc's environment is not safe to read while another thread writes it
//! (`getenv` against a host's `setenv` can crash, and a host may write its
//! environment at any time). So the library reads it once, when it is
//! loaded (or at the first call, if it was loaded without running its
//! constructor), and again only when the host asks for it
//! (`credchain_reload_environment`, at a moment when none of its threads
//! writes the environment). Everything else, on any thread, works from that
//! capture ([`LatestEnvironment`]).

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use arc_swap::ArcSwap;

use crate::platform;

/// Every variable any source, the profile selection or the endpoints read
/// (and the platform's `HOME_VARIABLES`). Kept in one list so the
/// re-resolution fingerprint cannot miss one.
pub const WATCHED_VARIABLES: &[&str] = &[
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SECURITY_TOKEN",
    "AWS_SESSION_TOKEN",
    "AWS_ACCOUNT_ID",
    "AWS_CREDENTIAL_EXPIRATION",
    "AWS_DEFAULT_PROFILE",
    "AWS_PROFILE",
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
    "AWS_ROLE_SESSION_NAME",
    "AWS_CREDENTIAL_FILE",
    "BOTO_CONFIG",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
    "AWS_EC2_METADATA_DISABLED",
    "AWS_EC2_METADATA_SERVICE_ENDPOINT",
    "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_STS",
    "AWS_ENDPOINT_URL_SSO",
    // The trust store and proxy of HTTPS calls (`network.rs`); the
    // lower-case proxy variables are distinct names on Linux.
    "AWS_CA_BUNDLE",
    "REQUESTS_CA_BUNDLE",
    "HTTPS_PROXY",
    "https_proxy",
    "NO_PROXY",
    "no_proxy",
    GUARD_VARIABLE,
];

/// Set by credchain in the environment of every `credential_process` it
/// runs: the profiles whose processes are running above this one, so that
/// a process that runs credchain again for one of them is refused.
pub const GUARD_VARIABLE: &str = "CREDCHAIN_CREDENTIAL_PROCESS_FOR";

/// A snapshot of [`WATCHED_VARIABLES`]. Values that are not valid UTF-8 are
/// treated as unset, as botocore cannot see them either.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct EnvVars {
    values: BTreeMap<&'static str, String>,
}

impl EnvVars {
    /// Reads the process environment now.
    pub fn capture() -> Self {
        let values = WATCHED_VARIABLES
            .iter()
            .chain(platform::HOME_VARIABLES)
            .filter_map(|&name| std::env::var(name).ok().map(|value| (name, value)))
            .collect();
        EnvVars { values }
    }

    /// The variable's value, set or not (an empty value counts as set).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    /// The variable's value when it is set and not empty.
    pub fn non_empty(&self, name: &str) -> Option<&str> {
        self.get(name).filter(|v| !v.is_empty())
    }

    /// Whether the variable is present at all (botocore's `name in environ`).
    pub fn is_set(&self, name: &str) -> bool {
        self.values.contains_key(name)
    }

    /// The home directory, for `~` expansion, as botocore finds it on this
    /// operating system (the platform layer says from which variables).
    pub fn home(&self) -> Option<std::borrow::Cow<'_, str>> {
        platform::home_directory(|name| self.get(name))
    }

    /// A hash of every value, to notice a change without keeping a second
    /// copy of secrets around.
    pub fn digest(&self) -> u64 {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        self.values.hash(&mut hasher);
        hasher.finish()
    }
}

impl std::fmt::Debug for EnvVars {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Names only: values include secret keys and tokens.
        f.debug_list().entries(self.values.keys()).finish()
    }
}

/// One capture of the environment: the watched variables, and the whole
/// environment for the child processes credchain starts (which must not
/// read `environ` on the runtime either).
#[derive(Clone, Default)]
pub struct Environment {
    /// The variables the chain reads.
    pub vars: EnvVars,
    /// Every variable, for `credential_process`.
    pub child: ChildEnv,
}

/// The whole environment handed to a child process. Its `Debug` shows how
/// many variables it holds, never their values.
#[derive(Clone, Default)]
pub struct ChildEnv(pub Arc<[(OsString, OsString)]>);

impl std::fmt::Debug for ChildEnv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ChildEnv({} variables)", self.0.len())
    }
}

impl ChildEnv {
    /// A variable's value, when it is set and valid UTF-8.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(n, _)| n.to_str() == Some(name)).and_then(|(_, v)| v.to_str())
    }
}

impl Environment {
    /// Reads the process environment. Call only on a caller's thread.
    pub fn capture() -> Self {
        Environment { vars: EnvVars::capture(), child: ChildEnv(std::env::vars_os().collect()) }
    }

    /// An environment of the chain's `vars` and, for child processes and
    /// paths only, `others` (variables the chain does not watch).
    #[cfg(test)]
    pub fn with_others(vars: &[(&'static str, &str)], others: &[(&str, &str)]) -> Self {
        let mut environment = Environment::of(vars);
        let child = vars.iter().chain(others).map(|&(n, v)| (OsString::from(n), OsString::from(v))).collect();
        environment.child = ChildEnv(child);
        environment
    }

    /// An environment made of `vars` alone.
    #[cfg(test)]
    pub fn of(vars: &[(&'static str, &str)]) -> Self {
        let values = vars.iter().map(|&(name, value)| (name, value.to_owned())).collect();
        let child = ChildEnv(vars.iter().map(|&(n, v)| (OsString::from(n), OsString::from(v))).collect());
        Environment { vars: EnvVars { values }, child }
    }
}

/// The latest capture, shared with the runtime.
pub struct LatestEnvironment {
    current: ArcSwap<Environment>,
}

impl LatestEnvironment {
    /// Starts with a capture made now, on the calling thread.
    pub fn capture_now() -> Self {
        LatestEnvironment { current: ArcSwap::from_pointee(Environment::capture()) }
    }

    /// Starts from an earlier capture (a forked child inherits its
    /// parent's).
    pub fn starting_from(environment: Arc<Environment>) -> Self {
        LatestEnvironment { current: ArcSwap::new(environment) }
    }

    /// The latest capture; reads nothing from the process. Any thread.
    pub fn current(&self) -> Arc<Environment> {
        self.current.load_full()
    }

    /// Captures anew and keeps it. Only for the host's explicit request (see
    /// the module docs).
    pub fn refresh(&self) -> Arc<Environment> {
        let fresh = Arc::new(Environment::capture());
        self.current.store(fresh.clone());
        fresh
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_latest_capture_changes_only_when_refreshed() {
        let latest = LatestEnvironment::starting_from(Arc::new(Environment::of(&[("AWS_PROFILE", "a")])));
        assert_eq!(latest.current().vars.get("AWS_PROFILE"), Some("a"));
        latest.refresh();
        assert_eq!(latest.current().vars.get("AWS_PROFILE"), std::env::var("AWS_PROFILE").ok().as_deref());
    }

    #[test]
    fn debug_output_shows_names_only() {
        let env = Environment::of(&[("AWS_SECRET_ACCESS_KEY", "hidden")]);
        assert_eq!(format!("{:?}", env.vars), "[\"AWS_SECRET_ACCESS_KEY\"]");
    }
}
