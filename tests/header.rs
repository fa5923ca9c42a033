//! The committed header against a fresh cbindgen run, and its version
//! macros against Cargo.toml.

mod version;

const COMMITTED: &str = include_str!("../include/credchain.h");
const FRESH: &str = include_str!(concat!(env!("OUT_DIR"), "/credchain.h"));

#[test]
fn header_is_fresh() {
    assert!(
        COMMITTED == FRESH,
        "include/credchain.h differs from what cbindgen generates from src/: run scripts/generate-header and commit it"
    );
}

fn macro_value(name: &str) -> String {
    let prefix = format!("#define {name} ");
    COMMITTED.lines().find_map(|line| line.strip_prefix(&prefix)).unwrap_or_else(|| panic!("{name} missing")).to_owned()
}

#[test]
fn version_macros_match_cargo_toml() {
    let version = version::cargo_version();
    let parts: Vec<&str> = version.split('.').collect();
    assert_eq!(macro_value("CREDCHAIN_VERSION"), format!("\"{version}\""));
    assert_eq!(macro_value("CREDCHAIN_VERSION_MAJOR"), parts[0]);
    assert_eq!(macro_value("CREDCHAIN_VERSION_MINOR"), parts[1]);
    assert_eq!(macro_value("CREDCHAIN_VERSION_PATCH"), parts[2]);
}

#[test]
fn every_name_in_the_header_carries_the_prefix() {
    let mut functions = 0;
    for line in COMMITTED.lines() {
        if let Some(rest) = line.strip_prefix("#define ") {
            let name = rest.split_whitespace().next().unwrap();
            assert!(name.starts_with("CREDCHAIN_"), "unprefixed macro {name}");
        }
        if let Some(at) = line.find('(') {
            let before = &line[..at];
            let is_function = line.ends_with(';') || line.ends_with(',') || !line.starts_with(' ');
            if is_function && !before.starts_with(' ') && !before.starts_with('#') && !before.contains("typedef") {
                if let Some(name) = before.split_whitespace().last().map(|n| n.trim_start_matches('*')) {
                    assert!(name.starts_with("credchain_"), "unprefixed function {name} in: {line}");
                    functions += 1;
                }
            }
        }
    }
    // Every exported function was looked at (15 today).
    assert!(functions >= 15, "only {functions} function declarations recognised");
}

#[test]
fn the_shared_credentials_view_is_handed_out_const() {
    // Callers share one view per snapshot: a caller that wrote to it (or
    // wiped it) would change what every other caller reads.
    assert!(COMMITTED.contains("const struct credchain_credentials **out,"), "credchain_get_credentials");
    assert!(COMMITTED.contains("void credchain_free_credentials(const struct credchain_credentials *credentials);"));
}
