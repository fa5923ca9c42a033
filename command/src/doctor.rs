//! `credchain doctor [--profile P] [--json] [--verify]`: explains which
//! source of the chain wins, why the others do not, when the credentials
//! expire, whether they refresh, and every pitfall found (see
//! `credchain_core::diagnostics`); with `--verify`, whether STS accepts them.
//!
//! Exit status: 0 when credentials resolve, no pitfall has severity
//! `error` and (with `--verify`) STS accepted them; 1 otherwise; 2 for a
//! usage error (as every sub-command).

use credchain_core::render;

use crate::args::Args;
use crate::output::print_error;

/// Runs the sub-command; returns the exit code.
pub fn run(mut args: Args) -> Result<i32, String> {
    let profile = args.option("profile")?;
    let as_json = args.flag("json");
    let verify = args.flag("verify");
    let all_profiles = args.flag("all-profiles");
    args.finish()?;
    if all_profiles {
        if profile.is_some() || verify {
            return Err("--all-profiles lists every profile: it takes neither --profile nor --verify".into());
        }
        return Ok(list_profiles(as_json));
    }
    let diagnosis = if verify {
        credchain_core::diagnose_and_verify(profile.as_deref())
    } else {
        credchain_core::diagnose(profile.as_deref())
    };
    match diagnosis {
        Ok(report) => {
            if as_json {
                println!("{}", render::to_json(&report));
            } else {
                print!("{}", render::to_table(&report));
            }
            Ok(report.exit_code())
        }
        Err(error) => {
            // The diagnosis itself could not run (a stalled runtime, a bug).
            print_error(&error, as_json);
            Ok(1)
        }
    }
}

/// `--all-profiles`: exit 0 when the files could be read, 1 otherwise.
fn list_profiles(as_json: bool) -> i32 {
    let report = credchain_core::list_profiles();
    if as_json {
        println!("{}", serde_json::to_string_pretty(&report).unwrap_or_default());
    } else {
        print!("{}", credchain_core::profiles::to_table(&report));
    }
    if report.error.is_some() {
        1
    } else {
        0
    }
}
