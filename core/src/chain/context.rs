//! Everything one resolution of the chain reads, gathered once: the
//! environment, the selected profile, and both shared files read as
//! botocore reads them (`profile_file.rs`).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use super::environment::{ChildEnv, EnvVars, Environment};
use super::files::{read_bounded, Unreadable};
use super::inputs::Fingerprint;
use super::network::Network;
use super::paths::ChainFiles;
use super::profile_file::{Profile, ProfileFile};
use crate::types::error::{Error, ErrorCode, Result};

/// How the profile name was chosen; it decides whether `env` is skipped and
/// whether a missing profile is an error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProfileOrigin {
    /// The caller passed a name: `env` is skipped, the profile must exist.
    Caller,
    /// `AWS_DEFAULT_PROFILE` or `AWS_PROFILE` named it: it must exist.
    Variable(&'static str),
    /// Nothing named one: `default`, which may be absent.
    Default,
}

/// The profile the chain reads, and why that one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SelectedProfile {
    /// The profile's name.
    pub name: String,
    /// Where the name came from.
    pub origin: ProfileOrigin,
}

impl SelectedProfile {
    /// The caller's name, else `AWS_DEFAULT_PROFILE`, else `AWS_PROFILE`,
    /// else `default` (botocore's order; an empty variable counts as unset).
    pub fn select(explicit: Option<&str>, env: &EnvVars) -> Self {
        if let Some(name) = explicit {
            return SelectedProfile { name: name.to_owned(), origin: ProfileOrigin::Caller };
        }
        for variable in ["AWS_DEFAULT_PROFILE", "AWS_PROFILE"] {
            if let Some(name) = env.non_empty(variable) {
                return SelectedProfile { name: name.to_owned(), origin: ProfileOrigin::Variable(variable) };
            }
        }
        SelectedProfile { name: "default".to_owned(), origin: ProfileOrigin::Default }
    }

    /// Whether someone asked for this profile by name.
    pub fn was_named(&self) -> bool {
        !matches!(self.origin, ProfileOrigin::Default)
    }
}

/// One of the two shared files, located and parsed.
#[derive(Debug)]
pub struct SharedFile {
    /// Where the file is (or would be).
    pub path: PathBuf,
    /// Its profiles; empty when the file does not exist.
    pub profiles: ProfileFile,
    /// Whether the file exists.
    pub exists: bool,
}

/// Everything a resolution reads.
#[derive(Debug)]
pub struct ChainContext {
    /// The environment as read at the start of this resolution.
    pub env: EnvVars,
    /// The whole environment, for the processes a source runs.
    pub child_env: ChildEnv,
    /// The profile in use.
    pub profile: SelectedProfile,
    /// `AWS_CONFIG_FILE` or `~/.aws/config`.
    pub config: SharedFile,
    /// `AWS_SHARED_CREDENTIALS_FILE` or `~/.aws/credentials`.
    pub credentials: SharedFile,
    /// The EC2 CLI and Boto2 files.
    pub legacy: LegacyFiles,
    /// The trust store (with the CA bundle read) and proxy of HTTPS calls.
    pub network: Network,
}

impl ChainContext {
    /// Reads the shared files for `explicit_profile` under the environment
    /// `env` (captured on a caller's thread: the library never reads the
    /// environment from its own threads). Every file goes through the
    /// bounded reader, so this returns promptly whatever the paths name.
    /// The fingerprint comes back even when a file is broken, so that the
    /// cache can tell when it has been mended.
    pub fn read(explicit_profile: Option<&str>, environment: &Environment) -> (Fingerprint, Result<Self>) {
        let env = environment.vars.clone();
        let profile = SelectedProfile::select(explicit_profile, &env);
        let paths = ChainFiles::of(environment);
        let inputs = Fingerprint::of_files(&env, &paths);
        let files = read_shared_file(paths.config.clone(), ProfileFile::parse_config).and_then(|config| {
            Ok((config, read_shared_file(paths.credentials.clone(), ProfileFile::parse_credentials)?))
        });
        let context = files.map(|(config, credentials)| {
            // `ca_bundle` is read like `region`: the selected profile's,
            // the credentials file winning (botocore merges the files so).
            let profile_bundle = [&credentials, &config]
                .into_iter()
                .find_map(|file| file.profiles.get_profile(&profile.name).and_then(|p| p.get("ca_bundle")));
            ChainContext {
                legacy: LegacyFiles::read(paths),
                network: Network::read(&env, &profile.name, profile_bundle),
                child_env: environment.child.clone(),
                env,
                profile,
                config,
                credentials,
            }
        });
        (inputs, context)
    }

    /// [`ChainContext::read`] off the runtime's worker (on its blocking
    /// pool), given up after `limit` so that a file system that hangs
    /// (a dead network mount) stalls no other profile.
    pub async fn load(
        explicit_profile: Option<&str>,
        environment: Arc<Environment>,
        limit: Duration,
    ) -> (Fingerprint, Result<Self>) {
        let fallback = Fingerprint::over(&environment.vars, &[]);
        let profile = explicit_profile.map(str::to_owned);
        let reading = tokio::task::spawn_blocking(move || ChainContext::read(profile.as_deref(), &environment));
        match tokio::time::timeout(limit, reading).await {
            Ok(Ok(read)) => read,
            Ok(Err(_)) => (fallback, Err(Error::internal("reading the AWS files failed (a bug)"))),
            Err(_) => (
                fallback,
                Err(Error::new(
                    ErrorCode::Timeout,
                    format!("reading the AWS config files took longer than {} ms", limit.as_millis()),
                )),
            ),
        }
    }

    /// The selected profile's section in the config file.
    pub fn config_profile(&self) -> Option<&Profile> {
        self.config.profiles.get_profile(&self.profile.name)
    }

    /// The selected profile's section in the credentials file.
    pub fn credentials_profile(&self) -> Option<&Profile> {
        self.credentials.profiles.get_profile(&self.profile.name)
    }

    /// Whether the selected profile exists in either file.
    pub fn profile_exists(&self) -> bool {
        self.has_profile(&self.profile.name)
    }

    /// A key of the selected profile, the credentials file winning over the
    /// config file (botocore merges the two that way).
    pub fn profile_value(&self, key: &str) -> Option<&str> {
        self.value_in(&self.profile.name, key)
    }

    /// A key of any profile (a role chain's source profiles), merged the
    /// same way.
    pub fn value_in(&self, profile: &str, key: &str) -> Option<&str> {
        fn in_file<'f>(file: &'f SharedFile, profile: &str, key: &str) -> Option<&'f str> {
            file.profiles.get_profile(profile).and_then(|p| p.get(key))
        }
        in_file(&self.credentials, profile, key).or_else(|| in_file(&self.config, profile, key))
    }

    /// Whether a profile of that name exists in either file.
    pub fn has_profile(&self, profile: &str) -> bool {
        self.credentials.profiles.get_profile(profile).is_some() || self.config.profiles.get_profile(profile).is_some()
    }

    /// The region for STS and SSO calls: the profile's `region`, then
    /// `AWS_REGION`, then `AWS_DEFAULT_REGION`. Never asks IMDS.
    pub fn region(&self) -> Option<String> {
        self.region_and_origin().map(|(region, _)| region)
    }

    /// [`ChainContext::region`] and where it came from: `profile NAME`,
    /// `AWS_REGION` or `AWS_DEFAULT_REGION` (for the doctor).
    pub fn region_and_origin(&self) -> Option<(String, String)> {
        if let Some(region) = self.profile_value("region") {
            return Some((region.to_owned(), format!("profile {}", self.profile.name)));
        }
        ["AWS_REGION", "AWS_DEFAULT_REGION"]
            .into_iter()
            .find_map(|name| self.env.non_empty(name).map(|region| (region.to_owned(), name.to_owned())))
    }
}

/// Reads and parses one shared file; a missing file is an empty one, as in
/// botocore, but a file that is no regular file, is too large, is not UTF-8
/// or does not parse is a configuration error naming the file and line.
fn read_shared_file(
    path: PathBuf,
    parse: fn(&str) -> std::result::Result<ProfileFile, super::ini::IniError>,
) -> Result<SharedFile> {
    let bytes = match read_bounded(&path) {
        Ok(bytes) => bytes,
        Err(Unreadable::Missing) => return Ok(SharedFile { path, profiles: ProfileFile::default(), exists: false }),
        Err(Unreadable::Refused(why)) => return Err(Error::invalid_config(format!("{} {why}", path.display()))),
        Err(Unreadable::Exhausted(why)) => {
            return Err(Error::new(ErrorCode::Exhausted, format!("{} {why}", path.display())))
        }
    };
    let text = String::from_utf8(bytes)
        .map_err(|_| Error::invalid_config(format!("{} is not valid UTF-8", path.display())))?;
    let profiles = parse(&text).map_err(|problem| Error::invalid_config(format!("{}: {problem}", path.display())))?;
    Ok(SharedFile { path, profiles, exists: true })
}

/// The legacy files two sources read (the EC2 CLI's `AWS_CREDENTIAL_FILE`
/// and Boto2's config), read with the shared files so that detection reads
/// nothing itself.
#[derive(Debug, Default)]
pub struct LegacyFiles {
    /// `AWS_CREDENTIAL_FILE`'s path and contents, when the variable is set.
    pub ec2_credentials: Option<LegacyFile>,
    /// The Boto2 files in botocore's order, with their contents.
    pub boto: Vec<LegacyFile>,
}

/// One legacy file and what reading it gave.
#[derive(Debug)]
pub struct LegacyFile {
    /// Where it is.
    pub path: PathBuf,
    /// Its text, or why there is none.
    pub text: std::result::Result<String, Unreadable>,
}

impl LegacyFiles {
    fn read(paths: ChainFiles) -> Self {
        let ec2_credentials = paths.ec2_credentials.map(LegacyFile::read);
        let boto = paths.boto.into_iter().map(LegacyFile::read).collect();
        LegacyFiles { ec2_credentials, boto }
    }
}

impl LegacyFile {
    fn read(path: PathBuf) -> Self {
        let text = read_bounded(&path).and_then(|bytes| {
            String::from_utf8(bytes).map_err(|_| Unreadable::Refused("is not valid UTF-8".to_owned()))
        });
        LegacyFile { path, text }
    }
}
