//! How `credential_process` commands are split into words.
//!
//! botocore splits the command itself with Python's `shlex.split` (POSIX
//! mode, no comments) and runs it without a shell; aws-config hands the
//! whole string to `sh -c`. Quoting means the same to both, so a quoted
//! command runs the same program everywhere; but the shell also expands
//! `$VAR`, `~`, globs, `;`, pipes, redirections and `#` comments, which
//! botocore passes through literally. This module splits the way `shlex`
//! does and notes every character the shell would have treated specially.

/// A command split into words, with what `sh` would have seen differently.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct SplitCommand {
    /// The words as botocore's `shlex.split` produces them.
    pub words: Vec<String>,
    /// Characters outside single quotes that `sh` interprets and botocore
    /// passes literally, in order of first appearance, each once.
    pub shell_specials: Vec<char>,
}

/// Characters that make `sh` do something when unquoted.
const UNQUOTED_SPECIALS: &[char] = &['$', '`', '|', '&', ';', '<', '>', '(', ')', '*', '?', '['];
/// Characters that `sh` still expands inside double quotes.
const DOUBLE_QUOTED_SPECIALS: &[char] = &['$', '`'];

/// Splits `command` as `shlex.split(command)` does; `None` when the quoting
/// is unbalanced (botocore raises `ValueError`, sh a syntax error).
pub fn split(command: &str) -> Option<SplitCommand> {
    let mut out = SplitCommand::default();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = command.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => {
                if in_word {
                    out.words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next()? {
                        '\'' => break,
                        other => word.push(other),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next()? {
                        '"' => break,
                        '\\' => match chars.next()? {
                            // shlex escapes only these two inside double quotes.
                            escaped @ ('"' | '\\') => word.push(escaped),
                            other => {
                                word.push('\\');
                                word.push(other);
                            }
                        },
                        other => {
                            if DOUBLE_QUOTED_SPECIALS.contains(&other) {
                                note(other, &mut out.shell_specials);
                            }
                            word.push(other);
                        }
                    }
                }
            }
            '\\' => {
                in_word = true;
                // A trailing backslash is shlex's "No escaped character".
                word.push(chars.next()?);
            }
            other => {
                let starts_word = !in_word;
                if UNQUOTED_SPECIALS.contains(&other) || (starts_word && (other == '~' || other == '#')) {
                    note(other, &mut out.shell_specials);
                }
                in_word = true;
                word.push(other);
            }
        }
    }
    if in_word {
        out.words.push(word);
    }
    Some(out)
}

/// Records `c` once.
fn note(c: char, specials: &mut Vec<char>) {
    if !specials.contains(&c) {
        specials.push(c);
    }
}

/// Quotes `word` so that both `sh` and `shlex` read it back unchanged.
pub fn quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '.' | '_' | '-' | '+' | ':' | '=' | ','));
    if plain {
        return word.to_owned();
    }
    format!("'{}'", word.replace('\'', "'\\''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(command: &str) -> Vec<String> {
        split(command).unwrap().words
    }

    #[test]
    fn splits_like_shlex() {
        assert_eq!(words("/bin/helper --x 1"), ["/bin/helper", "--x", "1"]);
        assert_eq!(words("'/opt/my tools/helper' --x"), ["/opt/my tools/helper", "--x"]);
        assert_eq!(words("\"/opt/my tools/helper\" a\\ b"), ["/opt/my tools/helper", "a b"]);
        assert_eq!(words("\"a\\\"b\\n\""), ["a\"b\\n"]);
        assert_eq!(words("x''y ''"), ["xy", ""]);
        assert_eq!(words("  "), Vec::<String>::new());
    }

    #[test]
    fn unbalanced_quotes_are_none() {
        assert_eq!(split("'abc"), None);
        assert_eq!(split("\"abc"), None);
        assert_eq!(split("abc\\"), None);
    }

    #[test]
    fn notes_what_only_the_shell_interprets() {
        assert_eq!(split("helper $HOME ~/x a#b #c").unwrap().shell_specials, ['$', '~', '#']);
        assert_eq!(split("helper '$HOME' \"$X\" a|b").unwrap().shell_specials, ['$', '|']);
        assert_eq!(split("'/opt/my tools/helper' --lifetime 10").unwrap().shell_specials, Vec::<char>::new());
        assert_eq!(split("a~b").unwrap().shell_specials, Vec::<char>::new());
    }

    #[test]
    fn quoting_round_trips() {
        for word in ["/usr/bin/x", "/tmp/my dir/it's", "", "$HOME", "a\"b"] {
            let quoted = quote(word);
            let parsed = split(&quoted).unwrap();
            assert_eq!(parsed.words, [word]);
            assert!(parsed.shell_specials.is_empty(), "{quoted}");
        }
    }
}
