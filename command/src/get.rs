//! `credchain get`: prints the credentials the library resolves, in a form
//! another tool can consume (docs/formats.md describes each one).
//!
//! - `json`: every field, with the source name; times in RFC 3339, `null`
//!   for "never";
//! - `process`: `credential_process` JSON (Version 1, `Expiration` when the
//!   credentials expire), so any SDK can use credchain as its process;
//! - `env`, `env-no-export`, `fish`, `powershell`: lines for a shell or an
//!   environment file.

use credchain_core::{rfc3339, Credentials};
use serde_json::{json, Value};

use crate::args::Args;
use crate::output::print_error;

/// The output formats, by the name `--format` takes.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Format {
    Json,
    Process,
    Env,
    EnvNoExport,
    Fish,
    PowerShell,
}

const FORMATS: [(&str, Format); 6] = [
    ("json", Format::Json),
    ("process", Format::Process),
    ("env", Format::Env),
    ("env-no-export", Format::EnvNoExport),
    ("fish", Format::Fish),
    ("powershell", Format::PowerShell),
];

impl Format {
    fn parse(name: Option<&str>) -> Result<Format, String> {
        let name = name.unwrap_or("json");
        FORMATS
            .iter()
            .find(|(known, _)| *known == name)
            .map(|(_, format)| *format)
            .ok_or_else(|| format!("unknown format {name}: use json, process, env, env-no-export, fish or powershell"))
    }
}

/// Runs the sub-command; returns the exit code.
pub fn run(mut args: Args) -> Result<i32, String> {
    let profile = args.option("profile")?;
    let format = Format::parse(args.option("format")?.as_deref())?;
    args.finish()?;
    match credchain_core::get_credentials(profile.as_deref()) {
        Ok(snapshot) => {
            print!("{}", render(snapshot.credentials(), format));
            Ok(0)
        }
        Err(error) => {
            print_error(&error, format == Format::Json);
            Ok(1)
        }
    }
}

/// The whole output for one format, ending in a newline.
fn render(credentials: &Credentials, format: Format) -> String {
    match format {
        Format::Json => format!("{}\n", full_json(credentials)),
        Format::Process => format!("{}\n", process_json(credentials)),
        Format::Env | Format::EnvNoExport | Format::Fish | Format::PowerShell => {
            shell_lines(&variables(credentials), format)
        }
    }
}

/// The `credential_process` output format.
pub fn process_json(credentials: &Credentials) -> Value {
    let mut output = json!({
        "Version": 1,
        "AccessKeyId": credentials.access_key_id,
        "SecretAccessKey": credentials.secret_access_key.as_str(),
    });
    if let Some(token) = &credentials.session_token {
        output["SessionToken"] = json!(token.as_str());
    }
    if let Some(expiration) = credentials.expiration {
        output["Expiration"] = json!(rfc3339(expiration));
    }
    if let Some(account_id) = &credentials.account_id {
        output["AccountId"] = json!(account_id);
    }
    output
}

fn full_json(credentials: &Credentials) -> Value {
    json!({
        "source": credentials.source.as_str(),
        "access_key_id": credentials.access_key_id,
        "secret_access_key": credentials.secret_access_key.as_str(),
        "session_token": credentials.session_token.as_ref().map(|t| t.as_str()),
        "account_id": credentials.account_id,
        "expiration": credentials.expiration.map(rfc3339),
    })
}

/// The variables the credentials set, and (as `None`) those they leave
/// out: a shell must drop those, or an older session token would pair
/// with new long-term keys.
fn variables(credentials: &Credentials) -> Vec<(&'static str, Option<String>)> {
    let token = credentials.session_token.as_ref().map(|t| t.to_string());
    vec![
        ("AWS_ACCESS_KEY_ID", Some(credentials.access_key_id.clone())),
        ("AWS_SECRET_ACCESS_KEY", Some(credentials.secret_access_key.to_string())),
        ("AWS_SESSION_TOKEN", token.clone()),
        // The legacy name botocore still reads when AWS_SESSION_TOKEN is unset.
        ("AWS_SECURITY_TOKEN", None),
        ("AWS_CREDENTIAL_EXPIRATION", credentials.expiration.map(rfc3339)),
    ]
}

/// One line per variable in the shell's syntax. An environment file
/// (`env-no-export`) has no way to unset, so it only lists what is set.
fn shell_lines(variables: &[(&str, Option<String>)], format: Format) -> String {
    let mut out = String::new();
    for (name, value) in variables {
        let line = match (format, value) {
            (Format::Env, Some(v)) => format!("export {name}={}", posix_quote(v)),
            (Format::Env, None) => format!("unset {name}"),
            (Format::EnvNoExport, Some(v)) => format!("{name}={}", posix_quote_if_needed(v)),
            (Format::EnvNoExport, None) => continue,
            (Format::Fish, Some(v)) => format!("set -gx {name} {};", fish_quote(v)),
            (Format::Fish, None) => format!("set -e {name};"),
            (Format::PowerShell, Some(v)) => format!("$Env:{name} = {}", powershell_quote(v)),
            (Format::PowerShell, None) => format!("Remove-Item Env:{name} -ErrorAction SilentlyContinue"),
            (Format::Json | Format::Process, _) => unreachable!("not a shell format"),
        };
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// Single-quotes a value for POSIX shells.
pub fn posix_quote(value: &str) -> String {
    format!("'{}'", value.replace('\'', "'\\''"))
}

/// A value as it is when a POSIX shell, systemd's EnvironmentFile= and
/// docker's --env-file all read it the same (AWS keys and tokens always
/// are); quoted for a POSIX shell otherwise.
fn posix_quote_if_needed(value: &str) -> String {
    let plain = !value.is_empty()
        && value.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '+' | '=' | '.' | '_' | ':' | '-'));
    if plain {
        value.to_owned()
    } else {
        posix_quote(value)
    }
}

/// Single-quotes a value for fish, where `\` and `'` are escaped inside.
fn fish_quote(value: &str) -> String {
    format!("'{}'", value.replace('\\', "\\\\").replace('\'', "\\'"))
}

/// Single-quotes a value for PowerShell, where `'` is doubled inside.
fn powershell_quote(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ODD: &str = "a'b\\c d$e";

    #[test]
    fn every_format_name_parses_and_json_is_the_default() {
        assert_eq!(Format::parse(None), Ok(Format::Json));
        for (name, format) in FORMATS {
            assert_eq!(Format::parse(Some(name)), Ok(format));
        }
        assert_eq!(
            Format::parse(Some("xml")),
            Err("unknown format xml: use json, process, env, env-no-export, fish or powershell".to_owned())
        );
    }

    #[test]
    fn quoting_keeps_every_character() {
        assert_eq!(posix_quote(ODD), "'a'\\''b\\c d$e'");
        assert_eq!(posix_quote_if_needed(ODD), posix_quote(ODD));
        assert_eq!(posix_quote_if_needed("IQoJb3/+=x"), "IQoJb3/+=x");
        assert_eq!(posix_quote_if_needed(""), "''");
        assert_eq!(fish_quote(ODD), "'a\\'b\\\\c d$e'");
        assert_eq!(powershell_quote(ODD), "'a''b\\c d$e'");
    }
}
