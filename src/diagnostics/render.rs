//! The report as JSON (`doctor --json`, `credchain_diagnose`) and as a
//! table for people.

use std::fmt::Write as _;

use super::report::{Report, Severity, Status};
use crate::types::credentials::human_duration;

/// The JSON document described in `docs/doctor-json.md`, pretty-printed
/// (two-space indent, fields in a fixed order, no trailing newline).
pub fn to_json(report: &Report) -> String {
    // Serializing plain structs of strings, numbers and options cannot fail.
    serde_json::to_string_pretty(report).unwrap_or_else(|_| "{\"schema_version\":1,\"ok\":false}".to_owned())
}

/// A readable report: files, one line per source, the winner's
/// credentials, the pitfalls and the verdict.
pub fn to_table(report: &Report) -> String {
    let mut out = String::new();
    let profile = &report.profile;
    let chosen = match profile.origin {
        "caller" => "named by the caller".to_owned(),
        "default" => "no profile named: the default".to_owned(),
        variable => format!("from {variable}"),
    };
    let _ = writeln!(
        out,
        "credchain doctor {}: profile {} ({chosen})",
        report.credchain_version,
        crate::types::text::escape_name(&profile.name)
    );
    for (label, file) in [("config file", &report.files.config), ("credentials file", &report.files.credentials)] {
        let _ = writeln!(out, "  {label:<17} {}{}", file.path, if file.exists { "" } else { " (missing)" });
    }
    let trust = &report.network.trust_store;
    let trust_line = match (&trust.path, &trust.from, &trust.problem) {
        (_, _, Some(problem)) => format!("UNUSABLE: {problem}"),
        (Some(path), Some(from), None) => format!(
            "{path} (from {from}; {} certificate{}, replacing the system's roots)",
            trust.certificates.unwrap_or(0),
            if trust.certificates == Some(1) { "" } else { "s" }
        ),
        _ => "the system's roots".to_owned(),
    };
    let _ = writeln!(out, "  {:<17} {trust_line}", "trust store");
    let proxy_line = match &report.network.proxy {
        None => "none".to_owned(),
        Some(proxy) => match (&proxy.no_proxy, proxy.no_proxy_from) {
            (Some(rules), Some(variable)) => format!("{} (from {}; not for {variable}={rules})", proxy.url, proxy.from),
            _ => format!("{} (from {})", proxy.url, proxy.from),
        },
    };
    let _ = writeln!(out, "  {:<17} {proxy_line}", "https proxy");
    out.push('\n');
    let width = report.sources.iter().map(|s| s.name.len()).max().unwrap_or(6).max(6);
    let _ =
        writeln!(out, "  {:>2}  {:<width$}  {:<10}  {:<7}  refreshes  detail", "#", "source", "configured", "status");
    for source in &report.sources {
        let configured = match source.configured {
            Some(true) => "yes",
            Some(false) => "no",
            None => "?",
        };
        let status = match source.status {
            Status::Used => "USED",
            other => other.as_str(),
        };
        let refreshes = if source.refreshes_automatically { "yes" } else { "no" };
        let detail = source.reason.as_deref().unwrap_or("answered: its credentials are the chain's");
        let _ = writeln!(
            out,
            "  {:>2}  {:<width$}  {configured:<10}  {status:<7}  {refreshes:<9}  {detail}",
            source.position, source.name
        );
    }
    out.push('\n');
    match (&report.credentials, &report.error) {
        (Some(credentials), _) => {
            let _ = writeln!(out, "winner: {}", credentials.source);
            let _ = writeln!(out, "  access key    {}", credentials.access_key_id);
            let kind = if credentials.session_token { "temporary (session token present)" } else { "no session token" };
            let _ = writeln!(out, "  kind          {kind}");
            if let Some(account) = &credentials.account_id {
                let _ = writeln!(out, "  account       {account}");
            }
            let expiry = match (&credentials.expiration, credentials.expires_in_seconds) {
                (Some(at), Some(seconds)) if seconds > 0 => format!("{at} (in {})", human_duration(seconds)),
                (Some(at), _) => format!("{at} (EXPIRED)"),
                _ => "never".to_owned(),
            };
            let _ = writeln!(out, "  expires       {expiry}");
            let refresh = match (credentials.refreshes_automatically, credentials.expiration.is_some()) {
                (true, _) => format!("automatic: credchain asks {} again before they expire", credentials.source),
                (false, true) => "NONE: static values, they stop working at their expiry".to_owned(),
                (false, false) => {
                    "not needed (long-term keys); files and variables are re-read when they change".to_owned()
                }
            };
            let _ = writeln!(out, "  refresh       {refresh}");
        }
        (None, Some(error)) => {
            let _ = writeln!(out, "no credentials: {} ({})", error.message, error.code);
        }
        (None, None) => {
            let _ = writeln!(out, "no credentials");
        }
    }
    out.push('\n');
    if report.pitfalls.is_empty() {
        let _ = writeln!(out, "pitfalls: none");
    } else {
        let _ = writeln!(out, "pitfalls:");
        for pitfall in &report.pitfalls {
            let label = match pitfall.severity {
                Severity::Error => "ERROR",
                Severity::Warning => "warning",
                Severity::Info => "info",
            };
            let _ = writeln!(out, "  [{label}] {}: {}", pitfall.code, pitfall.message);
        }
    }
    let verdict = if report.ok { "OK" } else { "PROBLEM" };
    let _ = writeln!(out, "\nresult: {verdict} (exit {})", report.exit_code());
    out
}
