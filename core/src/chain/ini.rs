//! The INI grammar botocore reads every AWS file with (the shared config and
//! credentials files and Boto2's config: `botocore.configloader.
//! raw_config_parse`, which is Python's `configparser.RawConfigParser` with
//! its defaults), and the EC2 CLI's `key=value` file.
//!
//! `RawConfigParser`'s grammar, as this module follows it:
//! - a line is a comment when, stripped, it starts with `#` or `;`, whatever
//!   its indentation; a comment never ends or joins a value, and there are no
//!   inline comments (`key = v ; x` has the value `v ; x`);
//! - `[header]` opens a section: everything between the first `[` and the
//!   last `]` of the stripped line, kept as written (spaces included);
//!   `[DEFAULT]` is not a section: its keys are every section's defaults;
//! - `key = value` or `key: value`, split at the first `=` or `:`; keys are
//!   lower-cased, values stripped;
//! - a line indented deeper than the line that opened the current key
//!   continues its value (joined with newlines); an empty line inside a value
//!   is kept, trailing ones dropped; keys indented alike are simply keys;
//! - a key before any section, a line that is neither, a section or a key
//!   seen twice: the whole file is refused (botocore raises
//!   `ConfigParseError`), at the first such line;
//! - a value that begins with a newline (`s3 =` followed by an indented
//!   block) is a nested block of `key = value` lines; a block line without
//!   `=` refuses the file too (botocore's `_parse_nested`).

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

/// Keys as written in one section (lower-cased) and their values.
type Keys = HashMap<String, String>;

/// One section as botocore sees it: its own keys, then `[DEFAULT]`'s. The
/// defaults are shared, not copied into every section, so that a small file
/// with many sections and many defaults stays small in memory.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct IniSection {
    own: Arc<Keys>,
    defaults: Arc<Keys>,
}

impl IniSection {
    /// The value of `key` (lower case): the section's own, else
    /// `[DEFAULT]`'s; `None` for a nested block, which no setting credchain
    /// reads can be.
    pub fn get(&self, key: &str) -> Option<&str> {
        let value = self.own.get(key).or_else(|| self.defaults.get(key))?;
        (!is_nested_block(value)).then_some(value.as_str())
    }
}

impl IniSection {
    /// Every key with its value (the section's own over `[DEFAULT]`'s), as
    /// botocore's `items()`; nested blocks are left out.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        let defaults = self.defaults.iter().filter(|(key, _)| !self.own.contains_key(*key));
        self.own
            .iter()
            .chain(defaults)
            .filter(|(_, value)| !is_nested_block(value))
            .map(|(key, value)| (key.as_str(), value.as_str()))
    }
}

impl fmt::Debug for IniSection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Names only: values include secret keys and tokens.
        let mut names: Vec<&String> = self.own.keys().chain(self.defaults.keys()).collect();
        names.sort();
        names.dedup();
        f.debug_list().entries(names).finish()
    }
}

/// The sections of an INI file in the order they first appear.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct IniSections {
    sections: Vec<(String, IniSection)>,
    index: HashMap<String, usize>,
}

impl IniSections {
    /// The section with exactly this header.
    pub fn get(&self, header: &str) -> Option<&IniSection> {
        self.index.get(header).map(|&at| &self.sections[at].1)
    }

    /// Every section, in file order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &IniSection)> {
        self.sections.iter().map(|(name, section)| (name.as_str(), section))
    }
}

impl fmt::Debug for IniSections {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.sections.iter().map(|(name, section)| (name, section))).finish()
    }
}

/// Why a file was refused, at which line (1-based).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IniError {
    /// The first line that broke the grammar.
    pub line: usize,
    /// What was wrong with it.
    pub problem: String,
}

impl fmt::Display for IniError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.problem)
    }
}

/// Whitespace as Python's `str.strip` and `re`'s `\s` see it: Unicode's
/// White_Space plus the four ASCII separators U+001C..U+001F.
fn is_py_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

fn py_strip(text: &str) -> &str {
    text.trim_matches(is_py_space)
}

/// Lines as Python's universal newlines split a file: at `\n`, `\r\n` and
/// a lone `\r`.
fn py_lines(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = Some(text);
    std::iter::from_fn(move || {
        let current = rest?;
        if current.is_empty() {
            rest = None;
            return None;
        }
        match current.find(['\n', '\r']) {
            Some(at) => {
                let skip = if current[at..].starts_with("\r\n") { 2 } else { 1 };
                rest = Some(&current[at + skip..]);
                Some(&current[..at])
            }
            None => {
                rest = None;
                Some(current)
            }
        }
    })
}

/// `[header]`: the text between the first `[` and the last `]`, at least
/// one character (configparser's `\[(?P<header>.+)\]`, matched at the start).
fn section_header(stripped: &str) -> Option<&str> {
    let inner = stripped.strip_prefix('[')?;
    let end = inner.rfind(']')?;
    (end > 0).then(|| &inner[..end])
}

/// `key = value` / `key: value`, split at the first delimiter.
fn option_line(stripped: &str) -> Option<(&str, &str)> {
    let at = stripped.find(['=', ':'])?;
    Some((stripped[..at].trim_end_matches(is_py_space), py_strip(&stripped[at + 1..])))
}

/// Where keys go while parsing: `[DEFAULT]` or a section (by index).
#[derive(Clone, Copy, PartialEq)]
enum Target {
    Defaults,
    Section(usize),
}

/// A key as read so far: its value's lines and the line it began on.
struct KeyLines {
    parts: Vec<String>,
    line: usize,
}

/// A section as read so far, its keys indexed by name (a file may hold
/// many: every lookup stays constant-time).
#[derive(Default)]
struct SectionLines {
    keys: Vec<(String, KeyLines)>,
    index: HashMap<String, usize>,
}

/// The parser's state between lines.
#[derive(Default)]
struct Reader {
    sections: Vec<(String, SectionLines)>,
    section_index: HashMap<String, usize>,
    defaults: SectionLines,
    target: Option<Target>,
    key: Option<usize>,
    indent: usize,
    bad_line: Option<IniError>,
}

impl Reader {
    fn section_mut(&mut self, target: Target) -> &mut SectionLines {
        match target {
            Target::Defaults => &mut self.defaults,
            Target::Section(index) => &mut self.sections[index].1,
        }
    }

    fn current_value(&mut self) -> Option<&mut Vec<String>> {
        let (target, key) = (self.target?, self.key?);
        Some(&mut self.section_mut(target).keys[key].1.parts)
    }

    fn line(&mut self, number: usize, line: &str) -> Result<(), IniError> {
        let stripped = py_strip(line);
        if stripped.starts_with('#') || stripped.starts_with(';') {
            return Ok(());
        }
        if stripped.is_empty() {
            if let Some(value) = self.current_value() {
                value.push(String::new());
            }
            return Ok(());
        }
        let indent = line.chars().take_while(|&c| is_py_space(c)).count();
        if self.target.is_some() && self.key.is_some() && indent > self.indent {
            if let Some(value) = self.current_value() {
                value.push(stripped.to_owned());
            }
            return Ok(());
        }
        self.indent = indent;
        if let Some(header) = section_header(stripped) {
            self.open_section(number, header)?;
            return Ok(());
        }
        let Some(target) = self.target else {
            let problem = if number == 1 && line.starts_with('\u{feff}') {
                "the file starts with a byte-order mark, which botocore does not read: save it without one"
            } else {
                "a key before the first [section]"
            };
            return Err(IniError { line: number, problem: problem.into() });
        };
        match option_line(stripped) {
            Some((key, value)) => {
                if key.is_empty() {
                    self.note_bad_line(number, "a value without a key");
                }
                self.add_key(number, target, key.to_lowercase(), value)
            }
            None if stripped.starts_with('[') => {
                self.note_bad_line(number, "a [section] header without its closing ]");
                Ok(())
            }
            None => {
                self.note_bad_line(number, "neither a [section] nor a `key = value` line");
                Ok(())
            }
        }
    }

    fn open_section(&mut self, number: usize, header: &str) -> Result<(), IniError> {
        self.key = None;
        if header == "DEFAULT" {
            self.target = Some(Target::Defaults);
            return Ok(());
        }
        if self.section_index.contains_key(header) {
            return Err(IniError { line: number, problem: format!("the section [{header}] appears twice") });
        }
        self.section_index.insert(header.to_owned(), self.sections.len());
        self.sections.push((header.to_owned(), SectionLines::default()));
        self.target = Some(Target::Section(self.sections.len() - 1));
        Ok(())
    }

    fn add_key(&mut self, number: usize, target: Target, key: String, value: &str) -> Result<(), IniError> {
        let section = self.section_mut(target);
        if section.index.contains_key(&key) {
            return Err(IniError { line: number, problem: format!("the key {key} appears twice in its section") });
        }
        let at = section.keys.len();
        section.index.insert(key.clone(), at);
        section.keys.push((key, KeyLines { parts: vec![value.to_owned()], line: number }));
        self.key = Some(at);
        Ok(())
    }

    /// configparser reads on after a malformed line and refuses the file at
    /// the end, naming the first.
    fn note_bad_line(&mut self, number: usize, problem: &str) {
        self.bad_line.get_or_insert(IniError { line: number, problem: problem.to_owned() });
    }

    /// Joins every value and checks the nested blocks botocore would parse:
    /// each section's own, and `[DEFAULT]`'s wherever a section does not
    /// override them (botocore reads a default only through a section).
    fn finish(self) -> Result<IniSections, IniError> {
        if let Some(error) = self.bad_line {
            return Err(error);
        }
        let (defaults, bad_defaults) = join_values(self.defaults);
        let defaults = Arc::new(defaults);
        let mut sections = Vec::with_capacity(self.sections.len());
        for (name, lines) in self.sections {
            let (own, bad) = join_values(lines);
            if let Some((_, error)) = bad.into_iter().next() {
                return Err(error);
            }
            if let Some((_, error)) = bad_defaults.iter().find(|(key, _)| !own.contains_key(key)) {
                return Err(error.clone());
            }
            sections.push((name, IniSection { own: Arc::new(own), defaults: Arc::clone(&defaults) }));
        }
        Ok(IniSections { index: sections.iter().enumerate().map(|(at, (n, _))| (n.clone(), at)).collect(), sections })
    }
}

/// Each key's lines joined with newlines, trailing blank lines dropped, and
/// the keys whose value is a nested block that botocore would refuse (a
/// line without `=`), with the error to give.
fn join_values(section: SectionLines) -> (Keys, Vec<(String, IniError)>) {
    let mut keys = Keys::with_capacity(section.keys.len());
    let mut bad = Vec::new();
    for (name, lines) in section.keys {
        let value = lines.parts.join("\n").trim_end_matches(is_py_space).to_owned();
        if is_nested_block(&value) && py_split_lines(&value).any(|l| !py_strip(l).is_empty() && !l.contains('=')) {
            let problem = format!("the indented block under {name} is not `key = value` lines");
            bad.push((name.clone(), IniError { line: lines.line, problem }));
        }
        keys.insert(name, value);
    }
    (keys, bad)
}

/// Lines as Python's `str.splitlines` splits them (botocore's nested
/// blocks): at `\n`, `\r`, and the other line and paragraph separators.
fn py_split_lines(text: &str) -> impl Iterator<Item = &str> {
    text.split(['\n', '\r', '\u{b}', '\u{c}', '\u{1c}', '\u{1d}', '\u{1e}', '\u{85}', '\u{2028}', '\u{2029}'])
}

/// Parses INI text as botocore's `raw_config_parse` does (see the module's
/// documentation for the grammar).
pub fn parse_ini(text: &str) -> Result<IniSections, IniError> {
    let mut reader = Reader::default();
    for (index, line) in py_lines(text).enumerate() {
        // configparser raises a duplicate at once, even after a malformed
        // line it meant to report at the end; the earlier line is the one a
        // person needs to see.
        if let Err(error) = reader.line(index + 1, line) {
            return Err(reader.bad_line.take().unwrap_or(error));
        }
    }
    reader.finish()
}

/// A value that is a nested block (`s3 =` followed by indented `key =
/// value` lines) rather than text; botocore turns it into a dictionary.
pub fn is_nested_block(value: &str) -> bool {
    value.starts_with('\n')
}

/// Splits a section header into words as Python's `shlex.split` does (POSIX
/// mode: whitespace separates, `'…'` and `"…"` quote, `\` escapes), which
/// botocore uses to find the name in `[profile NAME]`. `None` when the
/// quotes do not close (botocore then ignores the section).
pub fn shell_words(text: &str) -> Option<Vec<String>> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' | '\r' | '\n' => words.extend(word.take()),
            '\'' => {
                let w = word.get_or_insert_with(String::new);
                loop {
                    match chars.next()? {
                        '\'' => break,
                        other => w.push(other),
                    }
                }
            }
            '"' => {
                let w = word.get_or_insert_with(String::new);
                loop {
                    match chars.next()? {
                        '"' => break,
                        '\\' => match chars.next()? {
                            escaped @ ('"' | '\\') => w.push(escaped),
                            other => {
                                w.push('\\');
                                w.push(other);
                            }
                        },
                        other => w.push(other),
                    }
                }
            }
            '\\' => word.get_or_insert_with(String::new).push(chars.next()?),
            other => word.get_or_insert_with(String::new).push(other),
        }
    }
    words.extend(word);
    Some(words)
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

    fn section(text: &str, name: &str) -> HashMap<String, String> {
        let section = parse_ini(text).unwrap().get(name).cloned().unwrap();
        let mut all: HashMap<String, String> = (*section.defaults).clone();
        all.extend(section.own.iter().map(|(k, v)| (k.clone(), v.clone())));
        all
    }

    fn refused(text: &str) -> String {
        parse_ini(text).unwrap_err().to_string()
    }

    #[test]
    fn keys_are_lower_cased_and_both_separators_work() {
        let creds = section("[Credentials]\nAWS_Access_Key_ID = a\naws_secret_access_key: b\nc=d=e\n", "Credentials");
        assert_eq!(creds["aws_access_key_id"], "a");
        assert_eq!(creds["aws_secret_access_key"], "b");
        assert_eq!(creds["c"], "d=e");
    }

    #[test]
    fn comments_are_whole_lines_at_any_indentation_and_never_inline() {
        let s = section("# top\n[s]\n; c\nk = v ; not a comment\n  # indented comment\nj = w\n", "s");
        assert_eq!(s["k"], "v ; not a comment");
        assert_eq!(s["j"], "w");
    }

    #[test]
    fn deeper_lines_continue_a_value_and_keys_indented_alike_are_keys() {
        assert_eq!(section("[s]\nk = v\n  more\n\n  after blank\n\n", "s")["k"], "v\nmore\n\nafter blank");
        let indented = section("[s]\n  k = v\n  j = w\n", "s");
        assert_eq!((indented["k"].as_str(), indented["j"].as_str()), ("v", "w"));
        assert_eq!(section("[s]\nk = v\n\t# c\n\tcont\n", "s")["k"], "v\ncont");
    }

    #[test]
    fn headers_are_kept_as_written_and_default_feeds_every_section() {
        let parsed = parse_ini("[DEFAULT]\nregion = x\n[ a ]\nk = 1\n[b] ; note\nregion = y\n").unwrap();
        let names: Vec<&str> = parsed.iter().map(|(n, _)| n).collect();
        assert_eq!(names, [" a ", "b"]);
        assert_eq!(parsed.get(" a ").unwrap().get("region"), Some("x"));
        assert_eq!(parsed.get("b").unwrap().get("region"), Some("y"));
    }

    #[test]
    fn line_endings_are_python_universal_newlines() {
        let s = section("[s]\r\nk = v\r\nj = w\rl = x", "s");
        assert_eq!((s["k"].as_str(), s["j"].as_str(), s["l"].as_str()), ("v", "w", "x"));
    }

    #[test]
    fn what_configparser_refuses_is_refused_at_its_line() {
        assert_eq!(refused("k = v\n"), "line 1: a key before the first [section]");
        assert_eq!(
            refused("\u{feff}[s]\nk = v\n"),
            "line 1: the file starts with a byte-order mark, which botocore does not read: save it without one"
        );
        assert_eq!(
            refused("[s]\nk = v\nnot a key\n[t]\nbroken\n"),
            "line 3: neither a [section] nor a `key = value` line"
        );
        assert_eq!(refused("[s]\n= v\n"), "line 2: a value without a key");
        assert_eq!(refused("[s]\nk = 1\n[t\nk = 2\n"), "line 3: a [section] header without its closing ]");
        assert_eq!(refused("[s]\n[t]\n[s]\n"), "line 3: the section [s] appears twice");
        assert_eq!(refused("[s]\nK = 1\nk = 2\n"), "line 3: the key k appears twice in its section");
        assert_eq!(
            refused("[s]\nk =\n  not nested\n"),
            "line 2: the indented block under k is not `key = value` lines"
        );
    }

    #[test]
    fn a_bad_nested_default_counts_only_where_a_section_reads_it() {
        // botocore parses nested blocks of the values it reads through sections.
        assert!(parse_ini("[DEFAULT]\nk =\n  bad\n").is_ok());
        assert!(parse_ini("[DEFAULT]\nk =\n  bad\n[s]\nk = v\n").is_ok());
        assert_eq!(
            refused("[DEFAULT]\nk =\n  bad\n[s]\nj = v\n"),
            "line 2: the indented block under k is not `key = value` lines"
        );
    }

    #[test]
    fn defaults_are_shared_by_the_sections_not_copied_into_each() {
        // 2,000 defaults and 5,000 sections: copied, ten million entries.
        let mut text = String::from("[DEFAULT]\n");
        (0..2_000).for_each(|k| text.push_str(&format!("k{k} = v\n")));
        (0..5_000).for_each(|s| text.push_str(&format!("[s{s}]\n")));
        let parsed = parse_ini(&text).unwrap();
        let (first, last) = (parsed.get("s0").unwrap(), parsed.get("s4999").unwrap());
        assert!(Arc::ptr_eq(&first.defaults, &last.defaults));
        assert_eq!(last.get("k1999"), Some("v"));
        assert_eq!(parsed.iter().count(), 5_000);
    }

    #[test]
    fn debug_output_shows_names_only() {
        let parsed = parse_ini("[s]\naws_secret_access_key = hidden\n").unwrap();
        assert_eq!(format!("{parsed:?}"), r#"{"s": ["aws_secret_access_key"]}"#);
    }

    #[test]
    fn a_nested_block_is_kept_and_recognised() {
        let s = section("[s]\ns3 =\n  max = 10\n", "s");
        assert!(is_nested_block(&s["s3"]));
        assert!(!is_nested_block("v"));
    }

    #[test]
    fn shell_words_follow_shlex() {
        let words = |t: &str| shell_words(t).unwrap();
        assert_eq!(words("profile dev"), ["profile", "dev"]);
        assert_eq!(words("profile  'my dev'"), ["profile", "my dev"]);
        assert_eq!(words(r#"profile "a \"b\" c""#), ["profile", r#"a "b" c"#]);
        assert_eq!(words(r"profile a\ b"), ["profile", "a b"]);
        assert_eq!(words("profile développeur"), ["profile", "développeur"]);
        assert_eq!(shell_words("profile 'open"), None);
    }

    #[test]
    fn key_values_split_at_first_equals() {
        let parsed = parse_key_values("AWSAccessKeyId=foo\nAWSSecretKey = b=ar \nnoise\n");
        assert_eq!(parsed["AWSAccessKeyId"], "foo");
        assert_eq!(parsed["AWSSecretKey"], "b=ar");
        assert_eq!(parsed.len(), 2);
    }
}
