//! The one place where text that the library did not write reaches a
//! message: an upstream's words (a process's standard error, an HTTP body,
//! an SDK error) and caller strings (profile names from connection strings).
//!
//! Rules, enforced by routing every such string through this module:
//! - upstream text is bounded ([`UPSTREAM_LIMIT`] bytes) and scrubbed: any
//!   run that looks like a secret (an access key id, a long base64 or hex
//!   run, the value of a `secret=`/`token=`/`password=` assignment) becomes
//!   `[redacted]`, and control characters are escaped, so one bad helper
//!   cannot leak a key or forge a log line;
//! - caller strings are escaped and bounded ([`NAME_LIMIT`] characters), so
//!   a profile name with CR/LF cannot split a log line.

use std::fmt::Write as _;

/// The most bytes of upstream text that reach a message.
pub const UPSTREAM_LIMIT: usize = 512;

/// The most characters of a caller's string shown in a message.
pub const NAME_LIMIT: usize = 128;

/// Shortest run of secret-alphabet characters that is treated as a secret.
/// AWS secret keys are 40 characters, session tokens hundreds, access key
/// ids 20; ordinary words, paths and ARNs are cut by `:` `/`-free spans or
/// are shorter than this.
const SECRET_RUN: usize = 16;

/// What a secret is replaced with.
const REDACTED: &str = "[redacted]";

/// Keys whose value is always redacted, whatever it looks like.
const SECRET_KEYS: [&str; 5] = ["secret", "token", "password", "passwd", "credential"];

/// A caller's string (a profile name, a host) as it may appear in a
/// message: control characters and quotes escaped, at most [`NAME_LIMIT`]
/// characters, then `…`.
pub fn escape_name(name: &str) -> String {
    let mut shown = String::with_capacity(name.len().min(NAME_LIMIT) + 2);
    for (count, c) in name.chars().enumerate() {
        if count == NAME_LIMIT {
            shown.push('…');
            break;
        }
        push_escaped(&mut shown, c);
    }
    shown
}

/// `text` with its control characters escaped (`\n`, `\r`, `\u{1b}`...),
/// so that it stays on one line.
pub fn escape_controls(text: &str) -> String {
    let mut shown = String::with_capacity(text.len());
    text.chars().for_each(|c| push_escaped(&mut shown, c));
    shown
}

/// An error and its causes, each in its own words, joined by ": "; a cause
/// whose text is already included is left out (aws-config's errors often
/// repeat their source's message, and hide the useful part, such as the
/// line a profile file fails on, in a cause).
pub fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut words = error.to_string();
    let mut cause = error.source();
    while let Some(next) = cause {
        let text = next.to_string();
        if !text.is_empty() && !words.contains(&text) {
            words.push_str(": ");
            words.push_str(&text);
        }
        cause = next.source();
    }
    words
}

/// Upstream text as it may appear in a message: secrets redacted, control
/// characters escaped, at most [`UPSTREAM_LIMIT`] bytes (then `…`).
pub fn scrub_upstream(text: &str) -> String {
    let redacted = redact_secrets(text.trim());
    let mut shown = String::with_capacity(redacted.len().min(UPSTREAM_LIMIT) + 4);
    for c in redacted.chars() {
        if shown.len() >= UPSTREAM_LIMIT {
            shown.push('…');
            break;
        }
        push_escaped(&mut shown, c);
    }
    shown
}

/// The last non-empty line of `bytes` (lossy UTF-8), the part of a
/// helper's standard error that usually says what went wrong, scrubbed.
pub fn last_line_scrubbed(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let line = text.lines().rev().map(str::trim).find(|l| !l.is_empty()).unwrap_or("");
    scrub_upstream(line)
}

fn push_escaped(out: &mut String, c: char) {
    match c {
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        c if c.is_control() => {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        }
        c => out.push(c),
    }
}

/// Whether `c` belongs to the alphabet of keys, secrets and tokens (base64,
/// URL-safe base64 and hex).
fn secret_alphabet(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '=' | '-' | '_')
}

/// Replaces every secret-looking run, and the value after a secret-named
/// key, with `[redacted]`.
fn redact_secrets(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(4 * UPSTREAM_LIMIT));
    let mut rest = text;
    let mut redact_next_value = false;
    while let Some(start) = rest.find(secret_alphabet) {
        out.push_str(&rest[..start]);
        let run = &rest[start..];
        let end = run.find(|c: char| !secret_alphabet(c)).unwrap_or(run.len());
        let word = &run[..end];
        let after = &run[end..];
        let (shown, names_a_secret) = classify(word, redact_next_value);
        out.push_str(shown.as_deref().unwrap_or(word));
        redact_next_value = names_a_secret && assigns(word, after);
        if redact_next_value {
            let separator = after.chars().take_while(|c| matches!(c, '=' | ':' | ' ' | '"' | '\'')).count();
            out.push_str(&after[..separator]);
            rest = &after[separator..];
        } else {
            rest = after;
        }
        if out.len() > 4 * UPSTREAM_LIMIT {
            return out;
        }
    }
    out.push_str(rest);
    out
}

/// Whether `word`, followed by `after`, assigns a value: `KEY=value`
/// always; `key: value` only for an identifier-like key (`aws_session_token:`,
/// `X-Amz-Security-Token:`, `TOKEN:`), or a value that looks like a secret
/// itself, so that prose such as "loading credentials: failed" keeps its
/// words.
fn assigns(word: &str, after: &str) -> bool {
    if after.starts_with('=') {
        return true;
    }
    let Some(value) = after.strip_prefix(':') else {
        return false;
    };
    let identifier = word.contains('_') || word.contains('-') || word.chars().all(|c| !c.is_ascii_lowercase());
    let next: String = value.trim_start_matches([' ', '"', '\'']).chars().take_while(|&c| secret_alphabet(c)).collect();
    identifier || (next.len() >= 8 && next.chars().any(|c| c.is_ascii_digit() || matches!(c, '+' | '/')))
}

/// What to show for one word, and whether it names a secret whose value
/// may follow (`AWS_SECRET_ACCESS_KEY=`, `token:`).
fn classify(word: &str, is_secret_value: bool) -> (Option<String>, bool) {
    if is_secret_value {
        return (Some(REDACTED.to_owned()), false);
    }
    // `key=value` inside one run: the alphabet includes `=`.
    if let Some((key, value)) = word.split_once('=') {
        if names_secret(key) && !value.is_empty() {
            return (Some(format!("{key}={REDACTED}")), false);
        }
    }
    if looks_like_secret(word) {
        return (Some(REDACTED.to_owned()), false);
    }
    (None, names_secret(word.trim_end_matches('=')))
}

fn names_secret(key: &str) -> bool {
    let lower = key.to_ascii_lowercase();
    SECRET_KEYS.iter().any(|k| lower.contains(k))
}

/// A long run of the secret alphabet that mixes letters and digits (a
/// plain long word such as `configuration_file_not_found` is left alone),
/// or anything shaped like an access key id.
fn looks_like_secret(word: &str) -> bool {
    let core = word.trim_matches('=');
    if core.len() >= 16 && (core.starts_with("AKIA") || core.starts_with("ASIA")) {
        return true;
    }
    if core.len() < SECRET_RUN {
        return false;
    }
    let digits = core.chars().filter(char::is_ascii_digit).count();
    let upper = core.chars().filter(char::is_ascii_uppercase).count();
    let lower = core.chars().filter(char::is_ascii_lowercase).count();
    let symbols = core.chars().filter(|c| matches!(c, '+' | '/')).count();
    let classes = [digits, upper, lower, symbols].iter().filter(|&&n| n > 0).count();
    classes >= 3 || (classes == 2 && digits > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzSECRETKEY";
    const TOKEN: &str = "IQoJb3JpZ2luX2VjEXAMPLESECRETTOKENVALUE1234567890";

    #[test]
    fn a_shell_trace_of_an_exported_secret_is_redacted() {
        let shown = scrub_upstream(&format!("+ export AWS_SECRET_ACCESS_KEY={SECRET}"));
        assert_eq!(shown, "+ export AWS_SECRET_ACCESS_KEY=[redacted]");
    }

    #[test]
    fn a_token_assignment_is_redacted_even_when_short() {
        assert_eq!(scrub_upstream("token=abc"), "token=[redacted]");
        assert_eq!(scrub_upstream("password: hunter22"), "password: [redacted]");
        assert_eq!(scrub_upstream("aws_session_token: abc"), "aws_session_token: [redacted]");
        assert_eq!(scrub_upstream(&format!("token={TOKEN}")), "token=[redacted]");
    }

    #[test]
    fn bare_secrets_and_key_ids_are_redacted() {
        let shown = scrub_upstream(&format!("failed with {SECRET} and AKIAIOSFODNN7EXAMPLE"));
        assert_eq!(shown, "failed with [redacted] and [redacted]");
    }

    #[test]
    fn ordinary_words_paths_and_arns_survive() {
        let text = "role arn:aws:iam::123456789012:role/db-reader not authorized: AccessDenied";
        assert_eq!(scrub_upstream(text), text);
        assert_eq!(scrub_upstream("/home/user/.aws/config not found"), "/home/user/.aws/config not found");
    }

    #[test]
    fn prose_that_mentions_credentials_and_tokens_keeps_its_words() {
        let text = "an error occurred while loading credentials: failed to load IMDS session token: dispatch failure";
        assert_eq!(scrub_upstream(text), text);
    }

    #[test]
    fn upstream_text_is_bounded() {
        let shown = scrub_upstream(&"no such thing ".repeat(100_000));
        assert!(shown.len() <= UPSTREAM_LIMIT + '…'.len_utf8(), "{}", shown.len());
        assert!(shown.ends_with('…'));
    }

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(escape_name("prod\r\nINFO forged"), "prod\\r\\nINFO forged");
        assert_eq!(escape_name("a\u{1b}[31m"), "a\\u{1b}[31m");
        assert_eq!(scrub_upstream("bad\u{7}bell"), "bad\\u{7}bell");
    }

    #[test]
    fn long_names_are_cut() {
        let shown = escape_name(&"p".repeat(10_000));
        assert_eq!(shown.chars().count(), NAME_LIMIT + 1);
    }

    #[test]
    fn the_last_line_of_stderr_is_what_is_shown() {
        let stderr = format!("+ export AWS_SECRET_ACCESS_KEY={SECRET}\nerror: profile locked\n\n");
        assert_eq!(last_line_scrubbed(stderr.as_bytes()), "error: profile locked");
    }
}
