//! What a `credential_process` prints: botocore's JSON contract, parsed
//! here rather than by aws-config so that the same rules apply whoever ran
//! the process, and so that a message about bad output never quotes it
//! (the output is full of secrets).
//!
//! ```json
//! {"Version": 1, "AccessKeyId": "...", "SecretAccessKey": "...",
//!  "SessionToken": "...", "Expiration": "2026-11-25T21:30:00Z", "AccountId": "..."}
//! ```
//! `Version` must be 1; `AccessKeyId` and `SecretAccessKey` are required;
//! `Expiration` (RFC 3339) makes the credentials expiring; `AccountId`, when
//! absent, comes from the profile's `aws_account_id`.

use std::time::SystemTime;

use serde::Deserialize;
use zeroize::Zeroize;

use super::SourceName;
use crate::types::credentials::Credentials;
use crate::types::error::{Error, ErrorCode, Result};

/// The most bytes of output accepted; real output is a few hundred bytes
/// (a session token is at most a few kilobytes).
pub(crate) const OUTPUT_LIMIT: usize = 64 * 1024;

/// The fields botocore reads.
#[derive(Deserialize, Default)]
#[serde(default)]
struct Output {
    #[serde(rename = "Version")]
    version: Option<serde_json::Value>,
    #[serde(rename = "AccessKeyId")]
    access_key_id: Option<String>,
    #[serde(rename = "SecretAccessKey")]
    secret_access_key: Option<Secret>,
    #[serde(rename = "SessionToken")]
    session_token: Option<Secret>,
    #[serde(rename = "Expiration")]
    expiration: Option<String>,
    #[serde(rename = "AccountId")]
    account_id: Option<String>,
}

/// A secret string from the output, wiped when dropped.
#[derive(Deserialize)]
#[serde(transparent)]
struct Secret(String);

impl Drop for Secret {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

/// Parses a process's standard output into credentials tagged
/// `custom-process`. `profile_account_id` fills in a missing `AccountId`.
/// Errors name the problem (a missing key, a bad version or expiry) and
/// never quote the output.
pub fn parse(stdout: &[u8], profile_account_id: Option<&str>) -> Result<Credentials> {
    if stdout.len() > OUTPUT_LIMIT {
        return Err(refuse(format!("the output is larger than {} KiB", OUTPUT_LIMIT / 1024)));
    }
    let output: Output = serde_json::from_slice(stdout).map_err(|e| {
        // serde_json's message names a line and column and the kind of
        // mistake; it never quotes the input.
        refuse(format!("the output is not a JSON object with the expected keys ({})", e.classify_name()))
    })?;
    check_version(output.version.as_ref())?;
    let access_key = required(output.access_key_id.as_deref(), "AccessKeyId")?;
    let secret = required(output.secret_access_key.as_ref().map(|s| s.0.as_str()), "SecretAccessKey")?;
    let expiration = match output.expiration.as_deref() {
        Some(text) => Some(parse_expiration(text)?),
        None => None,
    };
    let account_id = output.account_id.as_deref().filter(|a| !a.is_empty()).or(profile_account_id);
    Ok(Credentials::new_static(SourceName::CustomProcess, access_key, secret)
        .with_session_token(output.session_token.as_ref().map(|s| s.0.as_str()))
        .with_account_id(account_id)
        .with_expiration(expiration))
}

fn check_version(version: Option<&serde_json::Value>) -> Result<()> {
    match version {
        Some(v) if v.as_u64() == Some(1) => Ok(()),
        None => Err(refuse("the output has no Version (it must be 1)".to_owned())),
        Some(other) => {
            let shown = crate::types::text::escape_name(&other.to_string());
            Err(refuse(format!("unsupported Version {shown} in the output; supported versions: 1")))
        }
    }
}

fn required<'a>(value: Option<&'a str>, key: &str) -> Result<&'a str> {
    value.filter(|v| !v.is_empty()).ok_or_else(|| refuse(format!("missing required key in the output: {key}")))
}

fn parse_expiration(text: &str) -> Result<SystemTime> {
    crate::types::credentials::parse_rfc3339(text).ok_or_else(|| {
        refuse(format!("the output's Expiration ({}) is not an RFC 3339 time", crate::types::text::escape_name(text)))
    })
}

fn refuse(problem: String) -> Error {
    Error::from_source(ErrorCode::SourceFailed, SourceName::CustomProcess.as_str(), problem)
}

trait ClassifyName {
    fn classify_name(&self) -> &'static str;
}

impl ClassifyName for serde_json::Error {
    fn classify_name(&self) -> &'static str {
        match self.classify() {
            serde_json::error::Category::Io => "unreadable",
            serde_json::error::Category::Syntax => "syntax error",
            serde_json::error::Category::Data => "a value of the wrong type",
            serde_json::error::Category::Eof => "truncated",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(stdout: &str) -> String {
        parse(stdout.as_bytes(), None).unwrap_err().message().to_owned()
    }

    #[test]
    fn a_full_answer_is_read() {
        let out = r#"{"Version":1,"AccessKeyId":"ASIAX","SecretAccessKey":"s3cr3t","SessionToken":"tok",
                      "Expiration":"2030-01-02T03:04:05Z","AccountId":"123456789012"}"#;
        let creds = parse(out.as_bytes(), Some("999")).unwrap();
        assert_eq!(creds.access_key_id, "ASIAX");
        assert_eq!(creds.secret_access_key.as_str(), "s3cr3t");
        assert_eq!(creds.session_token.as_deref().map(String::as_str), Some("tok"));
        assert_eq!(creds.account_id.as_deref(), Some("123456789012"));
        assert_eq!(crate::types::credentials::unix_seconds(creds.expiration.unwrap()), 1_893_553_445);
        assert_eq!(creds.source, SourceName::CustomProcess);
    }

    #[test]
    fn the_profile_account_id_fills_a_missing_one() {
        let creds = parse(br#"{"Version":1,"AccessKeyId":"A","SecretAccessKey":"B"}"#, Some("999")).unwrap();
        assert_eq!(creds.account_id.as_deref(), Some("999"));
        assert!(creds.expiration.is_none());
    }

    #[test]
    fn bad_answers_say_what_is_wrong_without_quoting_secrets() {
        assert_eq!(
            message(r#"{"Version":1,"SecretAccessKey":"hidden-secret"}"#),
            "custom-process: missing required key in the output: AccessKeyId"
        );
        assert_eq!(
            message(r#"{"Version":2,"AccessKeyId":"A","SecretAccessKey":"hidden-secret"}"#),
            "custom-process: unsupported Version 2 in the output; supported versions: 1"
        );
        assert_eq!(
            message(r#"{"AccessKeyId":"A","SecretAccessKey":"hidden-secret"}"#),
            "custom-process: the output has no Version (it must be 1)"
        );
        assert_eq!(
            message(r#"{"Version":1,"AccessKeyId":"A","SecretAccessKey":"hidden-secret","Expiration":"soon"}"#),
            "custom-process: the output's Expiration (soon) is not an RFC 3339 time"
        );
        assert_eq!(
            message("hidden-secret"),
            "custom-process: the output is not a JSON object with the expected keys (syntax error)"
        );
    }

    #[test]
    fn oversized_output_is_refused_before_parsing() {
        let huge = vec![b' '; OUTPUT_LIMIT + 1];
        assert_eq!(parse(&huge, None).unwrap_err().message(), "custom-process: the output is larger than 64 KiB");
    }
}
