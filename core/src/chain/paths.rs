//! Where the chain's files are: the variables that name them, expanded as
//! botocore expands them (`$VAR`, `${VAR}`, then `~`).

use std::path::PathBuf;

use super::environment::{ChildEnv, EnvVars, Environment};

/// Where the config and credentials files are: `AWS_CONFIG_FILE` and
/// `AWS_SHARED_CREDENTIALS_FILE` when set (an empty value names no file, as
/// in botocore, rather than the default), else under `~/.aws`; expanded.
pub fn shared_file_paths(env: &EnvVars, all: &ChildEnv) -> (PathBuf, PathBuf) {
    let path = |variable, default| expand_path(env.get(variable).unwrap_or(default), env, all);
    (path("AWS_CONFIG_FILE", "~/.aws/config"), path("AWS_SHARED_CREDENTIALS_FILE", "~/.aws/credentials"))
}

/// Expands `$NAME` and `${NAME}` from the environment, then a leading `~`,
/// as botocore does for the shared files and Boto2's config
/// (`os.path.expandvars`, then `os.path.expanduser`).
/// Variables come from the whole environment `all` (any name may appear
/// in a path), `HOME` from the chain's own capture.
fn expand_path(path: &str, env: &EnvVars, all: &ChildEnv) -> PathBuf {
    expand_home(&expand_vars(path, |name| env.get(name).or_else(|| all.get(name))), env)
}

/// `os.path.expandvars`: `$NAME` or `${NAME}` (NAME of ASCII letters,
/// digits and `_`; braces take anything but `}`) replaced by the variable's
/// value when it is set, left as written when not.
fn expand_vars<'a>(path: &str, lookup: impl Fn(&str) -> Option<&'a str>) -> String {
    let mut out = String::with_capacity(path.len());
    let mut rest = path;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let (name, consumed) = match after.strip_prefix('{') {
            Some(braced) => match braced.find('}') {
                Some(end) => (&braced[..end], end + 2),
                None => ("", 0),
            },
            None => {
                let end = after.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(after.len());
                (&after[..end], end)
            }
        };
        match lookup(name).filter(|_| consumed > 0 && !name.is_empty()) {
            Some(value) => out.push_str(value),
            None => out.push_str(&rest[at..at + 1 + consumed]),
        }
        rest = &rest[at + 1 + consumed..];
    }
    out.push_str(rest);
    out
}

/// Expands a leading `~` with `HOME`, as botocore's `os.path.expanduser`.
pub fn expand_home(path: &str, env: &EnvVars) -> PathBuf {
    match (path.strip_prefix('~'), env.home()) {
        (Some(rest), Some(home)) if rest.is_empty() || rest.starts_with('/') => PathBuf::from(format!("{home}{rest}")),
        _ => PathBuf::from(path),
    }
}

/// The Boto2 files botocore consults: only `BOTO_CONFIG` when it is set,
/// else `/etc/boto.cfg` then `~/.boto`.
fn boto_config_paths(env: &EnvVars, all: &ChildEnv) -> Vec<PathBuf> {
    match env.get("BOTO_CONFIG") {
        Some(path) => vec![expand_path(path, env, all)],
        None => vec![PathBuf::from("/etc/boto.cfg"), expand_home("~/.boto", env)],
    }
}

/// Every file the chain reads, as the environment names them now (a path
/// may name any variable): worked out once per resolution, for reading
/// them and for the fingerprint that tells when to read them again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainFiles {
    /// `AWS_CONFIG_FILE` or `~/.aws/config`.
    pub config: PathBuf,
    /// `AWS_SHARED_CREDENTIALS_FILE` or `~/.aws/credentials`.
    pub credentials: PathBuf,
    /// `AWS_CREDENTIAL_FILE`, when set (botocore expands only `~` there).
    pub ec2_credentials: Option<PathBuf>,
    /// The Boto2 files, in botocore's order.
    pub boto: Vec<PathBuf>,
}

impl ChainFiles {
    /// The files `environment` names.
    pub fn of(environment: &Environment) -> Self {
        let (env, all) = (&environment.vars, &environment.child);
        let (config, credentials) = shared_file_paths(env, all);
        let ec2_credentials = env.get("AWS_CREDENTIAL_FILE").map(|path| expand_home(path, env));
        ChainFiles { config, credentials, ec2_credentials, boto: boto_config_paths(env, all) }
    }

    /// Every one of them, for the fingerprint.
    pub fn all(&self) -> Vec<PathBuf> {
        let mut files = vec![self.config.clone(), self.credentials.clone()];
        files.extend(self.ec2_credentials.iter().cloned());
        files.extend(self.boto.iter().cloned());
        files
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_expand_variables_then_home_as_botocore_does() {
        let environment = Environment::of(&[("HOME", "/home/me"), ("CONF", "/etc/aws"), ("EMPTY", "")]);
        let expand_path = |path: &str, _: &()| super::expand_path(path, &environment.vars, &environment.child);
        let env = ();
        assert_eq!(expand_path("$HOME/.aws/config", &env), PathBuf::from("/home/me/.aws/config"));
        assert_eq!(expand_path("${CONF}/config", &env), PathBuf::from("/etc/aws/config"));
        assert_eq!(expand_path("~/x", &env), PathBuf::from("/home/me/x"));
        assert_eq!(expand_path("$UNSET/x$", &env), PathBuf::from("$UNSET/x$"));
        assert_eq!(expand_path("${UNCLOSED/x", &env), PathBuf::from("${UNCLOSED/x"));
        assert_eq!(expand_path("a$EMPTY/b", &env), PathBuf::from("a/b"));
        assert_eq!(expand_path("${}/b", &env), PathBuf::from("${}/b"));
    }
}
