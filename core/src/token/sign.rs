//! Presigning with aws-sigv4, laid out the way botocore lays it out.
//!
//! aws-sigv4 computes the signature (canonical request, string to sign,
//! HMAC chain); nothing here hashes or signs by hand. What this file adds is
//! the two places where botocore's token differs from what aws-sigv4's
//! `apply_to_request` would produce, so that a credchain token is the same
//! string, byte for byte, as `generate_db_auth_token` returns:
//!
//! 1. Parameter order. aws-sigv4 hands back `X-Amz-Signature` before
//!    `X-Amz-Security-Token`; botocore puts the token first and appends the
//!    signature last. The order does not change the signature (the canonical
//!    query string is sorted), but drivers and tests compare strings, and a
//!    token that is "the same but different" is a support ticket.
//! 2. The `host` header. botocore signs the lower-cased host name (Python's
//!    `urlsplit().hostname`) while keeping the caller's spelling in the URL;
//!    aws-sigv4 would sign the URL's authority as written. We pass the header
//!    explicitly, lower-cased, without the port when it is 443 (the default
//!    for https, which both libraries drop).
//!
//! The query values are percent-encoded with botocore's `percent_encode`
//! rules (RFC 3986 unreserved characters `A-Z a-z 0-9 - . _ ~` kept, every
//! other byte of the UTF-8 encoding as upper-case `%XX`). aws-sigv4 decodes
//! the query and re-encodes it with its own set for the canonical request;
//! that set encodes exactly the same characters, and no `+` ever reaches it
//! unencoded (form decoding would read it as a space), so the signatures
//! agree. The vector tests in `tests.rs` pin all of this against botocore.

use std::borrow::Cow;
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SignatureLocation, SigningSettings};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use zeroize::{Zeroize, Zeroizing};

use super::{SigningCredentials, TokenError, TokenErrorKind};

/// One presigned `GET https://host[:port]/?Action=...[&DBUser=...]`.
pub(super) struct Presign<'a> {
    /// Validated host name, as the caller spelled it.
    pub host: &'a str,
    /// `Some` for RDS (always in the URL), `None` for DSQL.
    pub port: Option<u16>,
    /// Signing name: `rds-db` or `dsql`.
    pub service: &'static str,
    /// The `Action` parameter.
    pub action: &'static str,
    /// The `DBUser` parameter (RDS only).
    pub db_user: Option<&'a str>,
    /// Validated region name.
    pub region: &'a str,
    /// Signing time; sub-second parts are dropped by the date format.
    pub time: SystemTime,
    /// `X-Amz-Expires`.
    pub expires_in: Duration,
}

/// The auth parameters in the order botocore's `SigV4QueryAuth` writes them:
/// its `auth_params` dict (algorithm, credential, date, expires, signed
/// headers, then the security token when there is one), then
/// `&X-Amz-Signature=` appended last.
const BOTOCORE_ORDER: [(&str, bool); 7] = [
    ("X-Amz-Algorithm", true),
    ("X-Amz-Credential", true),
    ("X-Amz-Date", true),
    ("X-Amz-Expires", true),
    ("X-Amz-SignedHeaders", true),
    ("X-Amz-Security-Token", false),
    ("X-Amz-Signature", true),
];

/// Presigns `req` and returns the token: the URL without its `https://`.
pub(super) fn presign(creds: &SigningCredentials<'_>, req: &Presign<'_>) -> Result<Zeroizing<String>, TokenError> {
    // The operation's own parameters, in botocore's order (its `body` dict:
    // Action, then DBUser), encoded once and used both in the URL we sign and
    // in the token we return, so the two cannot disagree.
    let mut operation = String::with_capacity(64);
    operation.push_str("Action=");
    percent_encode_into(&mut operation, req.action);
    if let Some(user) = req.db_user {
        operation.push_str("&DBUser=");
        percent_encode_into(&mut operation, user);
    }

    let authority = match req.port {
        Some(port) => format!("{}:{port}", req.host),
        None => req.host.to_owned(),
    };
    let mut host_header = req.host.to_ascii_lowercase();
    if let Some(port) = req.port.filter(|p| *p != 443) {
        host_header.push(':');
        host_header.push_str(&port.to_string());
    }

    let uri = format!("https://{authority}/?{operation}");
    let request = SignableRequest::new(
        "GET",
        uri.as_str(),
        std::iter::once(("host", host_header.as_str())),
        // botocore hashes the empty body (no UNSIGNED-PAYLOAD for these).
        SignableBody::Bytes(&[]),
    )
    .map_err(|e| signing_error("the request to sign", &e))?;

    let mut settings = SigningSettings::default();
    settings.signature_location = SignatureLocation::QueryParams;
    settings.expires_in = Some(req.expires_in);

    // aws-credential-types keeps these in Zeroizing buffers and wipes them
    // when `identity` drops at the end of this function.
    let identity: Identity = Credentials::new(
        creds.access_key_id,
        creds.secret_access_key,
        creds.session_token.map(str::to_owned),
        None,
        "credchain",
    )
    .into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(req.region)
        .name(req.service)
        .time(req.time)
        .settings(settings)
        .build()
        .map_err(|e| signing_error("the signing parameters", &e))?
        .into();

    let (instructions, _signature) = sign(request, &params).map_err(|e| signing_error("the request", &e))?.into_parts();
    let (_headers, mut auth) = instructions.into_parts();

    let mut token = Zeroizing::new(String::with_capacity(authority.len() + operation.len() + 512));
    token.push_str(&authority);
    token.push_str("/?");
    token.push_str(&operation);
    let result = append_in_botocore_order(&mut token, &auth);
    // The list holds a copy of the session token; wipe what we own of it.
    for (_, value) in auth.iter_mut() {
        if let Cow::Owned(s) = value {
            s.zeroize();
        }
    }
    result.map(|()| token)
}

fn append_in_botocore_order(token: &mut String, auth: &[(&'static str, Cow<'static, str>)]) -> Result<(), TokenError> {
    // Anything aws-sigv4 returns that botocore would not write means a
    // dependency upgrade changed the protocol: fail loudly, never drop it.
    if let Some((name, _)) = auth.iter().find(|(n, _)| !BOTOCORE_ORDER.iter().any(|(o, _)| o == n)) {
        return Err(TokenError::new(
            TokenErrorKind::Signing,
            format!("aws-sigv4 returned an unexpected presign parameter '{name}'"),
        ));
    }
    for (name, required) in BOTOCORE_ORDER {
        match auth.iter().find(|(n, _)| *n == name) {
            Some((_, value)) => {
                token.push('&');
                token.push_str(name);
                token.push('=');
                percent_encode_into(token, value);
            }
            None if required => {
                return Err(TokenError::new(
                    TokenErrorKind::Signing,
                    format!("aws-sigv4 returned no '{name}' presign parameter"),
                ));
            }
            None => {}
        }
    }
    Ok(())
}

fn signing_error(what: &str, e: &dyn std::fmt::Display) -> TokenError {
    // aws-sigv4's error texts name the failing step, never a key.
    TokenError::new(TokenErrorKind::Signing, format!("could not sign {what}: {e}"))
}

/// botocore's `percent_encode` (`urllib.parse.quote(s.encode('utf-8'),
/// safe='-._~')`): unreserved ASCII kept, every other byte `%XX` upper-case.
pub(super) fn percent_encode_into(out: &mut String, value: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in value.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(HEX[usize::from(b >> 4)] as char);
            out.push(HEX[usize::from(b & 0x0f)] as char);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(s: &str) -> String {
        let mut out = String::new();
        percent_encode_into(&mut out, s);
        out
    }

    #[test]
    fn encoding_matches_python_quote_with_botocore_safe_set() {
        // Expected strings from: python3 -c "from botocore.utils import percent_encode as p; print(p(S))"
        assert_eq!(enc("peccy"), "peccy");
        assert_eq!(enc("user@x"), "user%40x");
        assert_eq!(enc("a b"), "a%20b");
        assert_eq!(enc("\u{fc}"), "%C3%BC");
        assert_eq!(enc("a+b/c=d"), "a%2Bb%2Fc%3Dd");
        assert_eq!(enc("-._~"), "-._~");
        assert_eq!(enc("\u{65e5}"), "%E6%97%A5");
    }

    #[test]
    fn unknown_or_missing_sigv4_parameters_fail_loudly() {
        let mut t = String::new();
        let bad = vec![("X-Amz-Region-Set", Cow::Borrowed("*"))];
        let err = append_in_botocore_order(&mut t, &bad).unwrap_err();
        assert!(err.message().contains("X-Amz-Region-Set"));
        let err = append_in_botocore_order(&mut t, &[]).unwrap_err();
        assert!(err.message().contains("X-Amz-Algorithm"));
    }
}
