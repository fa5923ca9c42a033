//! A small argument reader: `--flag`, `--option value`, `--option=value`,
//! and the `--help` / `--version` every command takes.

/// The arguments after the sub-command.
pub struct Args {
    items: Vec<String>,
}

impl Args {
    /// Wraps the remaining arguments.
    pub fn new(items: Vec<String>) -> Self {
        Args { items }
    }

    /// Takes `--name value` or `--name=value`; an option without its value
    /// is an error.
    pub fn option(&mut self, name: &str) -> Result<Option<String>, String> {
        let flag = format!("--{name}");
        let prefix = format!("--{name}=");
        for i in 0..self.items.len() {
            if self.items[i] == flag {
                if i + 1 >= self.items.len() {
                    return Err(format!("{flag} needs a value"));
                }
                let value = self.items.remove(i + 1);
                self.items.remove(i);
                return Ok(Some(value));
            }
            if let Some(value) = self.items[i].strip_prefix(&prefix) {
                let value = value.to_owned();
                self.items.remove(i);
                return Ok(Some(value));
            }
        }
        Ok(None)
    }

    /// Takes `--name`.
    pub fn flag(&mut self, name: &str) -> bool {
        let flag = format!("--{name}");
        match self.items.iter().position(|item| *item == flag) {
            Some(i) => {
                self.items.remove(i);
                true
            }
            None => false,
        }
    }

    /// Takes the first argument when it is a word, not an option (the kind
    /// of `credchain token KIND`).
    pub fn leading_word(&mut self) -> Option<String> {
        if self.items.first().is_some_and(|item| !item.starts_with('-')) {
            Some(self.items.remove(0))
        } else {
            None
        }
    }

    /// Takes `--name` and everything after it (a `--` right after it is
    /// dropped): a command line to run. `None` without `--name`.
    pub fn take_rest(&mut self, name: &str) -> Option<Vec<String>> {
        let flag = format!("--{name}");
        let at = self.items.iter().position(|item| *item == flag)?;
        let mut rest: Vec<String> = self.items.split_off(at).into_iter().skip(1).collect();
        if rest.first().is_some_and(|first| first == "--") {
            rest.remove(0);
        }
        Some(rest)
    }

    /// Fails when anything was not understood.
    pub fn finish(self) -> Result<(), String> {
        match self.items.first() {
            Some(extra) if extra.starts_with('-') => Err(format!("unknown option: {extra}")),
            Some(extra) => Err(format!("unexpected argument: {extra}")),
            None => Ok(()),
        }
    }
}

/// What `--help` / `-h` or `--version` / `-V` among a command's arguments
/// asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Request {
    Help,
    Version,
}

/// The first `--help`, `-h`, `--version` or `-V` in `items`, before a `--`
/// or `--exec` (what follows those belongs to another command).
pub fn request(items: &[String]) -> Option<Request> {
    for item in items {
        match item.as_str() {
            "--" | "--exec" => return None,
            "--help" | "-h" => return Some(Request::Help),
            "--version" | "-V" => return Some(Request::Version),
            _ => {}
        }
    }
    None
}
