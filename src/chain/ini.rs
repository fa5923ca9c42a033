//! The two legacy file formats botocore reads with its own parsers: the
//! Boto2 INI file (Python's `RawConfigParser`) and the EC2 CLI `key=value`
//! file. The shared config and credentials files go through aws-config's
//! profile parser instead (see `context.rs`).

use std::collections::HashMap;

/// Sections of an INI file, each a map of lower-cased keys to values, as
/// `RawConfigParser` builds them: `key = value` or `key: value`, `#` and `;`
/// full-line comments, indented lines continuing the previous value.
pub type IniSections = HashMap<String, HashMap<String, String>>;

/// Parses INI text; lines before the first section header are an error in
/// `RawConfigParser` and are reported the same way.
pub fn parse_ini(text: &str) -> Result<IniSections, String> {
    let mut sections = IniSections::new();
    let mut current: Option<String> = None;
    let mut last_key: Option<String> = None;
    for (number, raw) in text.lines().enumerate() {
        let line = raw.trim_end();
        let trimmed = line.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with(';') {
            continue;
        }
        let indented = line.len() != trimmed.len();
        if indented {
            if let (Some(section), Some(key)) = (&current, &last_key) {
                let value = sections.get_mut(section).and_then(|s| s.get_mut(key));
                if let Some(value) = value {
                    value.push('\n');
                    value.push_str(trimmed);
                    continue;
                }
            }
        }
        if let Some(name) = trimmed.strip_prefix('[').and_then(|rest| rest.strip_suffix(']')) {
            sections.entry(name.to_owned()).or_default();
            current = Some(name.to_owned());
            last_key = None;
            continue;
        }
        let Some(section) = &current else {
            return Err(format!("line {}: a value before the first [section]", number + 1));
        };
        let split = trimmed.find(['=', ':']);
        let (key, value) = match split {
            Some(at) => (trimmed[..at].trim(), trimmed[at + 1..].trim()),
            None => return Err(format!("line {}: not a `key = value` line", number + 1)),
        };
        let key = key.to_lowercase();
        sections.entry(section.clone()).or_default().insert(key.clone(), value.to_owned());
        last_key = Some(key);
    }
    Ok(sections)
}

/// Parses the EC2 CLI credential file: `key=value` lines, split at the first
/// `=`, both sides trimmed, other lines ignored (botocore's
/// `parse_key_val_file_contents`).
pub fn parse_key_values(text: &str) -> HashMap<String, String> {
    text.lines()
        .filter_map(|line| line.split_once('='))
        .map(|(key, value)| (key.trim().to_owned(), value.trim().to_owned()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ini_keys_are_lower_cased_and_both_separators_work() {
        let parsed = parse_ini("[Credentials]\nAWS_Access_Key_ID = a\naws_secret_access_key: b\n").unwrap();
        let creds = &parsed["Credentials"];
        assert_eq!(creds["aws_access_key_id"], "a");
        assert_eq!(creds["aws_secret_access_key"], "b");
    }

    #[test]
    fn ini_comments_and_continuations() {
        let parsed = parse_ini("# top\n[s]\n; c\nk = v\n  more\n").unwrap();
        assert_eq!(parsed["s"]["k"], "v\nmore");
    }

    #[test]
    fn ini_value_before_any_section_is_an_error() {
        assert_eq!(parse_ini("k = v\n").unwrap_err(), "line 1: a value before the first [section]");
    }

    #[test]
    fn key_values_split_at_first_equals() {
        let parsed = parse_key_values("AWSAccessKeyId=foo\nAWSSecretKey = b=ar \nnoise\n");
        assert_eq!(parsed["AWSAccessKeyId"], "foo");
        assert_eq!(parsed["AWSSecretKey"], "b=ar");
        assert_eq!(parsed.len(), 2);
    }
}
