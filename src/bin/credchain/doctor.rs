//! `credchain doctor [--profile P] [--json] [--verify]`: explains which
//! source of the chain wins, why the others do not, when the credentials
//! expire, whether they refresh, and every pitfall found (see
//! `credchain::diagnostics`); with `--verify`, whether STS accepts them.
//!
//! Exit status: 0 when credentials resolve, no pitfall has severity
//! `error` and (with `--verify`) STS accepted them; 1 otherwise; 2 for a
//! usage error (as every sub-command).

use credchain::render;

use crate::args::Args;
use crate::output::print_error;

/// Runs the sub-command; returns the exit code.
pub fn run(mut args: Args) -> Result<i32, String> {
    let profile = args.option("profile")?;
    let as_json = args.flag("json");
    let verify = args.flag("verify");
    args.finish()?;
    let diagnosis = if verify {
        credchain::diagnose_and_verify(profile.as_deref())
    } else {
        credchain::diagnose(profile.as_deref())
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
