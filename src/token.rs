//! IAM database authentication tokens for RDS, Aurora and Aurora DSQL.

use credchain_export::export;
use std::ffi::c_char;

use super::guard::{optional_str, out_pointer, required_str};
use super::strings::write_string;
use super::types::{credchain_error, credchain_result};
use credchain_core as api;
use credchain_core::{Target, TokenRequest};

/// Signs an RDS / Aurora / RDS Proxy IAM authentication token: a SigV4
/// presigned `GET https://hostname:port/?Action=connect&DBUser=username`
/// (service `rds-db`, valid 900 s) with the scheme cut off, byte for byte
/// as the AWS SDKs make it, signed with the credentials of `profile` (NULL:
/// the default profile), session token included.
///
/// `region` NULL: taken from the hostname (instance, cluster, reader,
/// custom, proxy endpoints, `.amazonaws.com.cn` too), then `AWS_REGION`,
/// `AWS_DEFAULT_REGION`, the profile's `region`; none of them is
/// `CREDCHAIN_INVALID_ARGUMENT` with a message saying so. `signing_time` is
/// Unix seconds, 0 for now. Tokens signed "now" are cached and reused while
/// more than 5 of their 15 minutes remain and the credentials that signed
/// them are still current (never across a rotation or
/// `credchain_invalidate`). On success `*token` receives a string to release
/// with `credchain_string_free`.
#[export]
#[no_mangle]
pub extern "C" fn credchain_rds_auth_token(
    profile: *const c_char,
    hostname: *const c_char,
    port: u16,
    username: *const c_char,
    region: *const c_char,
    signing_time: i64,
    token: *mut *mut c_char,
    error: *mut *mut credchain_error,
) -> credchain_result {
    let out = out_pointer(token, "token")?;
    let profile = optional_str(profile, "profile")?;
    let hostname = required_str(hostname, "hostname")?;
    let user = required_str(username, "username")?;
    let region = optional_str(region, "region")?;
    let signed = api::auth_token(TokenRequest {
        profile,
        host: hostname,
        region,
        target: Target::Rds { port, user },
        signing_time,
    })?;
    write_string(out, signed.as_str())
}

/// Signs an Aurora DSQL authentication token for the cluster endpoint
/// `hostname` (`<id>.dsql.<region>.on.aws`): `Action=DbConnectAdmin` when
/// `admin` (to connect as the `admin` role), else `Action=DbConnect`;
/// service `dsql`, no port, valid 900 s. Region, signing time, caching and
/// ownership of `*token` as for `credchain_rds_auth_token`.
#[export]
#[no_mangle]
pub extern "C" fn credchain_dsql_auth_token(
    profile: *const c_char,
    hostname: *const c_char,
    region: *const c_char,
    admin: bool,
    signing_time: i64,
    token: *mut *mut c_char,
    error: *mut *mut credchain_error,
) -> credchain_result {
    let out = out_pointer(token, "token")?;
    let profile = optional_str(profile, "profile")?;
    let hostname = required_str(hostname, "hostname")?;
    let region = optional_str(region, "region")?;
    let signed = api::auth_token(TokenRequest {
        profile,
        host: hostname,
        region,
        target: Target::Dsql { admin },
        signing_time,
    })?;
    write_string(out, signed.as_str())
}

/// A short name for `token` (an RDS or DSQL token, or any secret string)
/// that a driver can log instead of the token: `"tok-"` and 16 hexadecimal
/// digits of the token's SHA-256, the same in every process and language
/// for the same token, and useless for recovering it. On success
/// `*fingerprint` receives a string to release with
/// `credchain_string_free`. (ABI 1.1.)
#[export]
#[no_mangle]
pub extern "C" fn credchain_token_fingerprint(
    token: *const c_char,
    fingerprint: *mut *mut c_char,
    error: *mut *mut credchain_error,
) -> credchain_result {
    let out = out_pointer(fingerprint, "fingerprint")?;
    let token = required_str(token, "token")?;
    write_string(out, &api::token_fingerprint(token))
}
