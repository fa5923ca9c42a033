//! `credchain get`: prints the credentials the library resolves, in a form
//! another tool can consume.
//!
//! - `process`: `credential_process` JSON (Version 1, `Expiration` when the
//!   credentials expire), so any SDK can use credchain as its process;
//! - `env`: `export` lines for a shell;
//! - `json`: every field, with the source name.

use credchain::{rfc3339, unix_seconds, Credentials};
use serde_json::{json, Value};

use crate::args::Args;
use crate::output::print_error;

/// The output formats.
enum Format {
    Process,
    Env,
    Json,
}

/// Runs the sub-command; returns the exit code.
pub fn run(mut args: Args) -> Result<i32, String> {
    let profile = args.option("profile")?;
    let format = match args.option("format")?.as_deref() {
        None | Some("json") => Format::Json,
        Some("process") => Format::Process,
        Some("env") => Format::Env,
        Some(other) => return Err(format!("unknown format {other}: use process, env or json")),
    };
    args.finish()?;
    match credchain::get_credentials(profile.as_deref()) {
        Ok(snapshot) => {
            let credentials = snapshot.credentials();
            match format {
                Format::Process => println!("{}", process_json(credentials)),
                Format::Json => println!("{}", full_json(credentials)),
                Format::Env => print!("{}", env_lines(credentials)),
            }
            Ok(0)
        }
        Err(error) => {
            print_error(&error, matches!(format, Format::Json));
            Ok(1)
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
        "expiration": credentials.expiration.map_or(0, unix_seconds),
    })
}

fn env_lines(credentials: &Credentials) -> String {
    let mut lines = format!(
        "export AWS_ACCESS_KEY_ID={}\nexport AWS_SECRET_ACCESS_KEY={}\n",
        shell_quote(&credentials.access_key_id),
        shell_quote(&credentials.secret_access_key)
    );
    if let Some(token) = &credentials.session_token {
        lines.push_str(&format!("export AWS_SESSION_TOKEN={}\n", shell_quote(token)));
    }
    if let Some(expiration) = credentials.expiration {
        lines.push_str(&format!("export AWS_CREDENTIAL_EXPIRATION={}\n", rfc3339(expiration)));
    }
    lines
}

/// Single-quotes a value for POSIX shells.
fn shell_quote(value: &str) -> String {
    format!("'{}'", value.replace('\'', "'\\''"))
}
