//! Generates the C header from the C ABI crate (`src/`; the core crate is
//! not read) with the pinned cbindgen, adding version macros from
//! Cargo.toml, into `$OUT_DIR/credchain.h`.
//!
//! It never writes into the source tree: `scripts/generate-header` copies
//! the generated header to `include/credchain.h`, and the test
//! `tests/header.rs` fails on any machine when the committed copy differs.

use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-changed=src");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    println!("cargo:rerun-if-env-changed=CREDCHAIN_TEST_ABI_MAJOR");
    println!("cargo:rerun-if-env-changed=CREDCHAIN_TEST_ABI_MINOR");
    let crate_dir_for_soname =
        PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    // The SONAME carries the ABI major: programs linked against one major
    // never load a library of another.
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libcredchain.so.{}", abi_major(&crate_dir_for_soname));
    // A copy's references to its own exported functions and data bind to
    // its own definitions, never to another copy's loaded earlier into the
    // global scope: each copy must know itself to decide which one serves
    // (src/copies.rs).
    println!("cargo:rustc-cdylib-link-arg=-Wl,-Bsymbolic");
    let crate_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    let mut config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml")).expect("cbindgen.toml is readable");
    config.after_includes = Some(version_macros());
    let bindings = cbindgen::Builder::new()
        .with_config(config)
        .with_src(crate_dir.join("src").join("lib.rs"))
        .generate()
        .expect("cbindgen could not read src/");
    bindings.write_to_file(out_dir.join("credchain.h"));
}

/// `CREDCHAIN_ABI_MAJOR` as `src/types.rs` defines it (or as a test
/// build overrides it with `CREDCHAIN_TEST_ABI_MAJOR`).
fn abi_major(crate_dir: &std::path::Path) -> u32 {
    if let Ok(value) = std::env::var("CREDCHAIN_TEST_ABI_MAJOR") {
        return value.parse().expect("CREDCHAIN_TEST_ABI_MAJOR is a number");
    }
    let types = std::fs::read_to_string(crate_dir.join("src/types.rs")).expect("src/types.rs is readable");
    let line = types
        .lines()
        .find(|line| line.starts_with("pub const CREDCHAIN_ABI_MAJOR: u32 = "))
        .expect("src/types.rs defines CREDCHAIN_ABI_MAJOR");
    line.trim_start_matches("pub const CREDCHAIN_ABI_MAJOR: u32 = ").trim_end_matches(';').parse().expect("a number")
}

fn version_macros() -> String {
    let part = |name: &str| std::env::var(name).expect("cargo sets the version parts");
    format!(
        "\n#define CREDCHAIN_VERSION \"{}\"\n#define CREDCHAIN_VERSION_MAJOR {}\n#define CREDCHAIN_VERSION_MINOR {}\n#define CREDCHAIN_VERSION_PATCH {}\n",
        part("CARGO_PKG_VERSION"),
        part("CARGO_PKG_VERSION_MAJOR"),
        part("CARGO_PKG_VERSION_MINOR"),
        part("CARGO_PKG_VERSION_PATCH"),
    )
}
