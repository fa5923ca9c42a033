//! What each path answers, and the container-credentials response body.

use std::time::{Duration, SystemTime};

use serde::Serialize;
use zeroize::Zeroizing;

use credchain_core::rfc3339;
use credchain_core::Snapshot;
use credchain_core::SourceName;
use credchain_core::{Error, ErrorCode};

/// The path prefix of every profile's credentials.
pub const CREDENTIALS_PATH: &str = "/credentials";
/// The health path: no token needed, nothing secret in it.
pub const HEALTH_PATH: &str = "/health";

/// How far ahead credentials that never expire are said to expire: clients
/// come back within this and so pick up a rotated credentials file.
/// botocore refreshes 15 minutes before an expiry, the other SDKs 5 or
/// fewer, so clients ask again every 5 to 20 minutes.
pub const STATIC_EXPIRY: Duration = Duration::from_secs(20 * 60);

/// Where a request goes.
#[derive(Debug, PartialEq, Eq)]
pub enum Route {
    /// The health path.
    Health,
    /// The credentials of one of the served profiles (`None`: the ambient
    /// default).
    Credentials(Option<String>),
    /// Anything else.
    NotFound,
}

/// The route for a request target, given the profiles being served.
pub fn route(target: &str, served: &[Option<String>]) -> Route {
    let path = target.split_once('?').map_or(target, |(path, _)| path);
    if path == HEALTH_PATH {
        return Route::Health;
    }
    let profile = if path == CREDENTIALS_PATH {
        None
    } else {
        match path.strip_prefix(CREDENTIALS_PATH).and_then(|rest| rest.strip_prefix('/')).and_then(percent_decode) {
            Some(name) if !name.is_empty() => Some(name),
            _ => return Route::NotFound,
        }
    };
    if served.contains(&profile) {
        Route::Credentials(profile)
    } else {
        Route::NotFound
    }
}

/// The path that serves `profile`.
pub fn path_of(profile: Option<&str>) -> String {
    match profile {
        None => CREDENTIALS_PATH.to_owned(),
        Some(name) => format!("{CREDENTIALS_PATH}/{}", percent_encode(name)),
    }
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
fn percent_encode(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for byte in name.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Decodes `%XX` escapes; `None` for a broken escape or text that is not
/// UTF-8.
fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Body<'a> {
    access_key_id: &'a str,
    secret_access_key: &'a str,
    token: &'a str,
    expiration: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    account_id: Option<&'a str>,
}

/// The container-credentials body for `snapshot` at `now` (zeroed on
/// drop), or why these credentials cannot be served.
pub fn credentials_body(snapshot: &Snapshot, now: SystemTime) -> Result<Zeroizing<Vec<u8>>, Error> {
    let credentials = snapshot.credentials();
    let Some(token) = credentials.session_token.as_ref() else {
        return Err(long_term_keys(credentials.source));
    };
    let body = Body {
        access_key_id: &credentials.access_key_id,
        secret_access_key: &credentials.secret_access_key,
        token: token.as_str(),
        expiration: rfc3339(credentials.expiration.unwrap_or(now + STATIC_EXPIRY)),
        account_id: credentials.account_id.as_deref(),
    };
    Ok(Zeroizing::new(serde_json::to_vec(&body).unwrap_or_default()))
}

/// Long-term keys have no session token, and the protocol has no way to
/// carry them that every SDK accepts: botocore, the JavaScript SDK and
/// aws-config refuse a response without `Token`, and an empty `Token`
/// makes the Java SDK and aws-sigv4 sign an empty security-token header.
fn long_term_keys(source: SourceName) -> Error {
    Error::new(
        ErrorCode::InvalidConfig,
        format!(
            "the profile resolves to long-term access keys ({}), and the container-credentials protocol \
             carries temporary credentials only (SDKs need a session token): serve a profile that assumes \
             a role (role_arn with source_profile), uses SSO or another temporary source",
            source.as_str()
        ),
    )
}

/// The body of a failure: its code (`SOURCE_FAILED`) and message, which by
/// the library's rule hold no secret.
pub fn error_body(error: &Error) -> Vec<u8> {
    let code = error.code().name().to_ascii_uppercase().replace('-', "_");
    serde_json::to_vec(&serde_json::json!({ "Code": code, "Message": error.to_string() })).unwrap_or_default()
}

/// A body naming a refusal, for the statuses that carry no error value.
pub fn refusal_body(code: &str, message: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({ "Code": code, "Message": message })).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use credchain_core::Credentials;
    use credchain_core::SourceName;

    fn served() -> Vec<Option<String>> {
        vec![None, Some("prod db".into()), Some("ünï".into())]
    }

    #[test]
    fn each_served_profile_has_its_path_and_the_default_has_the_bare_one() {
        assert_eq!(route("/credentials", &served()), Route::Credentials(None));
        assert_eq!(route(&path_of(Some("prod db")), &served()), Route::Credentials(Some("prod db".into())));
        assert_eq!(path_of(Some("prod db")), "/credentials/prod%20db");
        assert_eq!(route(&path_of(Some("ünï")), &served()), Route::Credentials(Some("ünï".into())));
        assert_eq!(route("/credentials?x=1", &served()), Route::Credentials(None));
        assert_eq!(route("/health", &served()), Route::Health);
    }

    #[test]
    fn profiles_not_served_and_broken_escapes_are_not_found() {
        for target in
            ["/credentials/other", "/credentials/", "/credentials/%zz", "/credentials/%ff", "/", "/credentialsx"]
        {
            assert_eq!(route(target, &served()), Route::NotFound, "{target}");
        }
        assert_eq!(route("/credentials", &[Some("a".into())]), Route::NotFound);
    }

    #[test]
    fn the_body_has_the_protocols_fields_and_static_keys_expire_soon() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let temporary = Credentials::new_static(SourceName::AssumeRole, "ASIAX", "s3cret")
            .with_session_token(Some("tok"))
            .with_expiration(Some(now + Duration::from_secs(60)));
        let body = credentials_body(&Snapshot::new(temporary, now), now).unwrap();
        let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"AccessKeyId": "ASIAX", "SecretAccessKey": "s3cret", "Token": "tok",
                               "Expiration": "2027-01-15T08:01:00Z"})
        );
        let session = Credentials::new_static(SourceName::Env, "ASIAY", "s3cret").with_session_token(Some("tok"));
        let json: serde_json::Value =
            serde_json::from_slice(&credentials_body(&Snapshot::new(session, now), now).unwrap()).unwrap();
        assert_eq!(json["Expiration"], "2027-01-15T08:20:00Z", "never-expiring credentials expire in 20 minutes");
    }

    #[test]
    fn long_term_keys_are_refused_with_the_reason_and_what_to_serve_instead() {
        let now = SystemTime::UNIX_EPOCH;
        let long_term = Credentials::new_static(SourceName::SharedCredentialsFile, "AKIAX", "s3cret");
        let error = credentials_body(&Snapshot::new(long_term, now), now).unwrap_err();
        assert_eq!(error.code(), ErrorCode::InvalidConfig);
        assert_eq!(
            error.message(),
            "the profile resolves to long-term access keys (shared-credentials-file), and the \
             container-credentials protocol carries temporary credentials only (SDKs need a session token): \
             serve a profile that assumes a role (role_arn with source_profile), uses SSO or another \
             temporary source"
        );
    }
}
