//! `credchain doctor [--profile P] [--json]`: explains which source of the
//! chain wins, why the others do not, when the credentials expire, whether
//! they refresh, and every pitfall found (see `credchain::diagnostics`).
//!
//! Exit status: 0 when credentials resolve and no pitfall has severity
//! `error`; 1 otherwise; 2 for a usage error (as every sub-command).

use credchain::render;

use crate::args::Args;
use crate::output::print_error;

/// Runs the sub-command; returns the exit code.
pub fn run(mut args: Args) -> Result<i32, String> {
    let profile = args.option("profile")?;
    let as_json = args.flag("json");
    args.finish()?;
    match credchain::diagnose(profile.as_deref()) {
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
