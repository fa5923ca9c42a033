//! `credchain doctor --all-profiles`: every profile of the two shared files,
//! as `aws configure list-profiles` lists them, with the source the chain
//! would use for each when it is named (`--profile NAME`, which skips the
//! environment's keys as botocore does). Decided offline by each source's
//! `detect`: nothing is fetched, no process runs, nothing leaves the
//! machine.

use std::collections::BTreeSet;

use serde::Serialize;

use crate::chain::sources::detect;
use crate::chain::{ChainContext, Detection, Environment, ORDER};

/// Every profile and the source it would use.
#[derive(Clone, Debug, Serialize)]
pub struct ProfilesReport {
    /// The config file, as located.
    pub config_file: String,
    /// The credentials file, as located.
    pub credentials_file: String,
    /// The profiles, sorted by name.
    pub profiles: Vec<ProfileSource>,
    /// Why the files could not be read; the list is then empty.
    pub error: Option<String>,
}

/// One profile.
#[derive(Clone, Debug, Serialize)]
pub struct ProfileSource {
    /// Its name.
    pub name: String,
    /// Whether the config file has a section for it.
    pub in_config_file: bool,
    /// Whether the credentials file has a section for it.
    pub in_credentials_file: bool,
    /// The first source of the chain that applies to it (the one that
    /// would answer or fail); `null` when none does.
    pub source: Option<&'static str>,
    /// The configuration error the chain would stop at, if any.
    pub error: Option<String>,
}

/// Lists the profiles under `environment`.
pub fn list(environment: &Environment) -> ProfilesReport {
    let ambient = match ChainContext::read(None, environment).1 {
        Ok(ctx) => ctx,
        Err(error) => {
            return ProfilesReport {
                config_file: String::new(),
                credentials_file: String::new(),
                profiles: Vec::new(),
                error: Some(error.message().to_owned()),
            }
        }
    };
    let names: BTreeSet<&str> =
        ambient.config.profiles.profiles().chain(ambient.credentials.profiles.profiles()).collect();
    let profiles = names
        .into_iter()
        .map(|name| {
            let (source, error) = match ChainContext::read(Some(name), environment).1 {
                Ok(ctx) => first_source(&ctx),
                Err(error) => (None, Some(error.message().to_owned())),
            };
            ProfileSource {
                name: name.to_owned(),
                in_config_file: ambient.config.profiles.get_profile(name).is_some(),
                in_credentials_file: ambient.credentials.profiles.get_profile(name).is_some(),
                source,
                error,
            }
        })
        .collect();
    ProfilesReport {
        config_file: ambient.config.path.display().to_string(),
        credentials_file: ambient.credentials.path.display().to_string(),
        profiles,
        error: None,
    }
}

/// The first source that applies, and the error when its configuration
/// is broken (the chain stops there, as botocore's does).
fn first_source(ctx: &ChainContext) -> (Option<&'static str>, Option<String>) {
    for source in ORDER {
        match detect(source, ctx) {
            Ok(Detection::NotConfigured(_)) => continue,
            Ok(Detection::Configured(_)) => return (Some(source.as_str()), None),
            Err(error) => return (Some(source.as_str()), Some(error.message().to_owned())),
        }
    }
    (None, None)
}

/// The list as a table: name, source, files, and the error if any.
pub fn to_table(report: &ProfilesReport) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    if let Some(error) = &report.error {
        let _ = writeln!(out, "the shared files cannot be read: {error}");
        return out;
    }
    let _ = writeln!(out, "config file       {}", report.config_file);
    let _ = writeln!(out, "credentials file  {}\n", report.credentials_file);
    let width = report.profiles.iter().map(|p| p.name.len()).max().unwrap_or(7).max(7);
    let _ = writeln!(out, "{:<width$}  {:<29}  {:<11}  problem", "profile", "source (when named)", "in");
    for profile in &report.profiles {
        let files = match (profile.in_config_file, profile.in_credentials_file) {
            (true, true) => "both",
            (true, false) => "config",
            _ => "credentials",
        };
        let line = format!(
            "{:<width$}  {:<29}  {files:<11}  {}",
            crate::types::text::escape_name(&profile.name),
            profile.source.unwrap_or("none"),
            profile.error.as_deref().unwrap_or("")
        );
        let _ = writeln!(out, "{}", line.trim_end());
    }
    out
}
