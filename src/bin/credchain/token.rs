//! `credchain token rds|dsql`: prints an IAM database auth token, as
//! `aws rds generate-db-auth-token` and `aws dsql
//! generate-db-connect[-admin]-auth-token` do (the token and a newline).

use credchain::{Target, TokenRequest};

use crate::args::Args;
use crate::output::print_error;

/// Runs the sub-command; returns the exit code.
pub fn run(mut args: Args) -> Result<i32, String> {
    let kind = args.positional().ok_or("token needs a kind: rds or dsql")?;
    let profile = args.option("profile")?;
    let hostname = args.option("hostname")?.ok_or("--hostname is required")?;
    let region = args.option("region")?;
    let signing_time = match args.option("signing-time")? {
        Some(text) => text.parse::<i64>().map_err(|_| format!("--signing-time takes Unix seconds, not {text}"))?,
        None => 0,
    };
    let (port, username, admin) = match kind.as_str() {
        "rds" => {
            let port = args.option("port")?.ok_or("--port is required")?;
            let port = port.parse::<u16>().map_err(|_| format!("--port takes a port number, not {port}"))?;
            (port, Some(args.option("username")?.ok_or("--username is required")?), false)
        }
        "dsql" => (0, None, args.flag("admin")),
        other => return Err(format!("unknown token kind {other}: use rds or dsql")),
    };
    args.finish()?;
    let target = match &username {
        Some(user) => Target::Rds { port, user },
        None => Target::Dsql { admin },
    };
    match credchain::auth_token(TokenRequest {
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
