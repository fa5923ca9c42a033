//! One consistent read of the environment variables the chain consults.
//!
//! The environment is read once per resolution so that every source sees the
//! same values, and so that a change can be noticed by comparing two reads.

use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};

/// Every variable any source, the profile selection or the endpoints read.
/// Kept in one list so the re-resolution fingerprint cannot miss one.
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
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_STS",
    "AWS_ENDPOINT_URL_SSO",
    "HOME",
];

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

    /// The home directory, for `~` expansion.
    pub fn home(&self) -> Option<&str> {
        self.non_empty("HOME")
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
