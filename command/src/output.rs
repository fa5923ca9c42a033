//! Output helpers shared by the sub-commands.

use credchain_core::Error;
use serde_json::json;

/// Prints an error: JSON on standard output for `--json` callers, a line on
/// standard error otherwise.
pub fn print_error(error: &Error, as_json: bool) {
    if as_json {
        let body = json!({"error": {"code": error.code().name(), "number": error.code() as u32, "message": error.message(), "source": error.source_name()}});
        println!("{body}");
    } else {
        eprintln!("credchain: {} ({})", error.message(), error.code().name());
    }
}
