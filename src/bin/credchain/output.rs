//! Output helpers shared by the sub-commands.

use std::time::SystemTime;

use credchain::Error;
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

/// RFC 3339 in UTC with a `Z`, to the second.
pub fn rfc3339(time: SystemTime) -> String {
    let seconds = credchain::credentials::unix_seconds(time);
    let at = time::OffsetDateTime::from_unix_timestamp(seconds).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    at.format(&time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z"))
        .unwrap_or_default()
}
