//! The version the workspace's manifest declares, for the C ABI crate's
//! tests to compare with what the library and its header say.

use std::path::Path;

/// The package version declared in Cargo.toml.
pub fn cargo_version() -> String {
    // The workspace's manifest (the repository's root) declares the version
    // every crate inherits.
    let manifest = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml")).unwrap();
    manifest
        .lines()
        .find_map(|line| line.strip_prefix("version = \""))
        .and_then(|rest| rest.strip_suffix('"'))
        .expect("Cargo.toml declares a version")
        .to_owned()
}
