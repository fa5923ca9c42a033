//! `credchain token rds|dsql`: prints an IAM database auth token, as
//! `aws rds generate-db-auth-token` and `aws dsql
//! generate-db-connect[-admin]-auth-token` do (the token and a newline).
//!
//! Exit status: 0 with the token; 1 when it cannot be signed (no
//! credentials, no region); 2 for a usage error.

use credchain_core::{Target, TokenRequest};

use crate::args::Args;
use crate::output::print_error;

/// Runs the sub-command; returns the exit code.
pub fn run(mut args: Args) -> Result<i32, String> {
    let kind = args.leading_word().ok_or("the kind comes first: credchain token rds|dsql ...")?;
    let rds = match kind.as_str() {
        "rds" => true,
        "dsql" => false,
        other => return Err(format!("unknown token kind {other}: use rds or dsql")),
    };
    let profile = args.option("profile")?;
    let hostname = args.option("hostname")?;
    let region = args.option("region")?;
    let signing_time = args.option("signing-time")?;
    let (port, username, admin) =
        if rds { (args.option("port")?, args.option("username")?, false) } else { (None, None, args.flag("admin")) };
    // An unknown option is the likelier mistake: name it before a missing one.
    args.finish()?;
    let hostname = hostname.ok_or("--hostname is required")?;
    let signing_time = match signing_time {
        Some(text) => text.parse::<i64>().map_err(|_| format!("--signing-time takes Unix seconds, not {text}"))?,
        None => 0,
    };
    let (port, username) = if rds {
        let port = port.ok_or("--port is required")?;
        let port = port.parse::<u16>().map_err(|_| format!("--port takes a port number, not {port}"))?;
        (port, Some(username.ok_or("--username is required")?))
    } else {
        (0, None)
    };
    let target = match &username {
        Some(user) => Target::Rds { port, user },
        None => Target::Dsql { admin },
    };
    match credchain_core::auth_token(TokenRequest {
        profile: profile.as_deref(),
        host: &hostname,
        region: region.as_deref(),
        target,
        signing_time,
    }) {
        Ok(signed) => {
            println!("{}", signed.as_str());
            Ok(0)
        }
        Err(error) => {
            print_error(&error, false);
            Ok(1)
        }
    }
}
