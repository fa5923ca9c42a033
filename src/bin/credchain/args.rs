//! A small argument reader: `--flag`, `--option value`, `--option=value`.

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

    /// Takes the next positional argument.
    pub fn positional(&mut self) -> Option<String> {
        let i = self.items.iter().position(|item| !item.starts_with("--"))?;
        Some(self.items.remove(i))
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
            Some(extra) => Err(format!("unexpected argument: {extra}")),
            None => Ok(()),
        }
    }
}
