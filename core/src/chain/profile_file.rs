//! The shared config and credentials files as botocore maps them to
//! profiles (`botocore.configloader.build_profile_map` and
//! `Session.full_config`), over the INI grammar of [`super::ini`].
//!
//! - In the config file, `[default]` is the profile `default`; any other
//!   section whose header starts with `profile` and splits (as a shell
//!   would, quotes allowed) into exactly two words names the profile by its
//!   second word: `[profile dev]`, `[profile "my dev"]`, `[profile
//!   développeur]`. `[profile my dev]` (three words) names none. Sections
//!   starting with `sso-session` name SSO sessions the same way; the rest are
//!   not profiles. A later section for the same name replaces an earlier one.
//! - In the credentials file every section is a profile of that exact name
//!   (`[profile x]` there is the profile `profile x`).

use std::collections::HashMap;

use super::ini::{parse_ini, shell_words, IniError, IniSection, IniSections};

/// One profile's (or SSO session's) keys: a section of the file, with
/// `[DEFAULT]`'s keys behind its own. Its `Debug` shows key names only.
pub type Profile = IniSection;

/// The profiles and SSO sessions of one shared file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProfileFile {
    profiles: Named,
    sso_sessions: Named,
}

/// Sections by name, in the order their names first appear.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Named {
    order: Vec<String>,
    by_name: HashMap<String, Profile>,
}

impl Named {
    /// A later section for the same name replaces the earlier one.
    fn insert(&mut self, name: &str, section: &IniSection) {
        if self.by_name.insert(name.to_owned(), section.clone()).is_none() {
            self.order.push(name.to_owned());
        }
    }
}

impl ProfileFile {
    /// Reads a config file's text.
    pub fn parse_config(text: &str) -> Result<Self, IniError> {
        Ok(Self::from_config_sections(&parse_ini(text)?))
    }

    /// Reads a credentials file's text.
    pub fn parse_credentials(text: &str) -> Result<Self, IniError> {
        let mut file = ProfileFile::default();
        for (name, section) in parse_ini(text)?.iter() {
            file.profiles.insert(name, section);
        }
        Ok(file)
    }

    fn from_config_sections(sections: &IniSections) -> Self {
        let mut file = ProfileFile::default();
        for (header, section) in sections.iter() {
            if header.starts_with("profile") {
                if let Some(name) = second_word(header) {
                    file.profiles.insert(&name, section);
                }
            } else if header.starts_with("sso-session") {
                if let Some(name) = second_word(header) {
                    file.sso_sessions.insert(&name, section);
                }
            } else if header == "default" {
                file.profiles.insert(header, section);
            }
        }
        file
    }

    /// The profile of that name.
    pub fn get_profile(&self, name: &str) -> Option<&Profile> {
        self.profiles.by_name.get(name)
    }

    /// The `[sso-session NAME]` section of that name.
    pub fn sso_session(&self, name: &str) -> Option<&Profile> {
        self.sso_sessions.by_name.get(name)
    }

    /// Every profile's name, in file order.
    pub fn profiles(&self) -> impl Iterator<Item = &str> {
        self.profiles.order.iter().map(String::as_str)
    }
}

/// `[profile NAME]`'s NAME: the second of exactly two shell words.
fn second_word(header: &str) -> Option<String> {
    match shell_words(header)?.as_slice() {
        [_, name] => Some(name.clone()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(text: &str) -> ProfileFile {
        ProfileFile::parse_config(text).unwrap()
    }

    #[test]
    fn config_profiles_are_named_as_botocore_names_them() {
        let file = config(
            "[default]\nk = 0\n[profile dev]\nk = 1\n[profile  'my dev']\nk = 2\n[profile développeur]\nk = 3\n\
             [profile three words]\nk = 4\n[preview]\nk = 5\n[profiles odd]\nk = 6\n[ profile lead]\nk = 7\n",
        );
        let names: Vec<&str> = file.profiles().collect();
        assert_eq!(names, ["default", "dev", "my dev", "développeur", "odd"]);
        assert_eq!(file.get_profile("my dev").unwrap().get("k"), Some("2"));
    }

    #[test]
    fn a_later_section_for_the_same_profile_replaces_the_earlier() {
        let file = config("[profile default]\na = 1\nb = 2\n[default]\na = 3\n");
        let profile = file.get_profile("default").unwrap();
        assert_eq!((profile.get("a"), profile.get("b")), (Some("3"), None));
    }

    #[test]
    fn sso_sessions_are_their_own_sections() {
        let file = config("[sso-session corp]\nsso_region = eu-west-1\n[profile corp]\nsso_session = corp\n");
        assert_eq!(file.sso_session("corp").unwrap().get("sso_region"), Some("eu-west-1"));
        assert!(file.get_profile("corp").is_some());
        assert!(file.sso_session("nope").is_none());
    }

    #[test]
    fn credentials_file_sections_are_profiles_by_their_exact_name() {
        let file = ProfileFile::parse_credentials("[profile x]\nk = 1\n[default]\nk = 2\n").unwrap();
        assert_eq!(file.get_profile("profile x").unwrap().get("k"), Some("1"));
        assert!(file.get_profile("x").is_none());
    }

    #[test]
    fn a_nested_block_is_no_value() {
        let file = config("[default]\ns3 =\n  max = 1\nregion = r\n");
        let profile = file.get_profile("default").unwrap();
        assert_eq!((profile.get("s3"), profile.get("region")), (None, Some("r")));
    }

    #[test]
    fn debug_output_shows_key_names_only() {
        let file = config("[default]\naws_secret_access_key = hidden-secret\n");
        let shown = format!("{file:?}");
        assert!(shown.contains("aws_secret_access_key") && !shown.contains("hidden-secret"), "{shown}");
    }
}
