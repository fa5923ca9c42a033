//! The report as JSON (`doctor --json`, `credchain_diagnose`) and as a
//! table for people.

use std::fmt::Write as _;

use std::time::SystemTime;

use super::report::{ProfileReport, Report, Severity, Status};
use crate::types::credentials::{describe_time, human_duration, parse_rfc3339};

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
    for line in profile_lines(profile) {
        let _ = writeln!(out, "  {line}");
    }
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
    if let Some(verification) = &report.verification {
        out.push('\n');
        let _ = writeln!(out, "verify: STS GetCallerIdentity at {}", verification.endpoint);
        match (&verification.error, &verification.account, &verification.arn) {
            (Some(error), _, _) => {
                let _ = writeln!(out, "  REFUSED: {error}");
            }
            (None, account, arn) => {
                let _ = writeln!(out, "  accepted: account {}", account.as_deref().unwrap_or("?"));
                let _ = writeln!(out, "  arn       {}", arn.as_deref().unwrap_or("?"));
            }
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

/// The region, the role chain and the SSO login, each on its own line
/// (what a person needs to know before reading the sources).
fn profile_lines(profile: &ProfileReport) -> Vec<String> {
    let mut lines = Vec::new();
    let region = match (&profile.region, &profile.region_from) {
        (Some(region), Some(from)) => format!("{region} (from {from})"),
        _ => "none set: STS is called in us-east-1, and tokens need --region".to_owned(),
    };
    lines.push(format!("{:<17} {region}", "region"));
    if let Some(chain) = &profile.role_chain {
        let hops: Vec<String> = chain
            .iter()
            .map(|hop| match (&hop.profile, &hop.role_arn, &hop.credential_source) {
                (Some(profile), Some(role), _) => format!("profile {profile} (role {role})"),
                (Some(profile), None, _) => format!("profile {profile} ({})", hop.source.unwrap_or("?")),
                (None, _, Some(named)) => format!("credential_source {named}"),
                _ => "?".to_owned(),
            })
            .collect();
        lines.push(format!("{:<17} {}", "role chain", hops.join(" <- ")));
    }
    if let Some(sso) = &profile.sso {
        let at = sso.token_expiration.as_deref().and_then(parse_rfc3339);
        let token = match (sso.token, at) {
            ("valid", Some(at)) => format!("token expires {}", describe_time(at, SystemTime::now())),
            ("expired", Some(at)) => {
                format!("token EXPIRED {}: run `{}`", describe_time(at, SystemTime::now()), sso.login_command)
            }
            ("missing", _) => format!("NO token cached: run `{}`", sso.login_command),
            _ => format!("token unreadable: run `{}`", sso.login_command),
        };
        lines.push(format!("{:<17} {}; {token} ({})", "sso login", sso.login, sso.cache_file));
    }
    lines
}
