//! The committed header against a fresh cbindgen run, and its version
//! macros against Cargo.toml.

mod common;

const COMMITTED: &str = include_str!("../include/credchain.h");
const FRESH: &str = include_str!(concat!(env!("OUT_DIR"), "/credchain.h"));

#[test]
fn header_is_fresh() {
    assert!(
        COMMITTED == FRESH,
        "include/credchain.h differs from a fresh cbindgen run: build outside CI (which rewrites it) and commit it"
    );
}

fn macro_value(name: &str) -> String {
    let prefix = format!("#define {name} ");
    COMMITTED.lines().find_map(|line| line.strip_prefix(&prefix)).unwrap_or_else(|| panic!("{name} missing")).to_owned()
}

#[test]
fn version_macros_match_cargo_toml() {
    let version = common::cargo_version();
    let parts: Vec<&str> = version.split('.').collect();
    assert_eq!(macro_value("CREDCHAIN_VERSION"), format!("\"{version}\""));
    assert_eq!(macro_value("CREDCHAIN_VERSION_MAJOR"), parts[0]);
    assert_eq!(macro_value("CREDCHAIN_VERSION_MINOR"), parts[1]);
    assert_eq!(macro_value("CREDCHAIN_VERSION_PATCH"), parts[2]);
}
