//! Generates the C header from the C ABI in `src/ffi/` (and nothing else of
//! the crate) with the pinned cbindgen, adding version macros from
//! Cargo.toml, into `$OUT_DIR/credchain.h`.
//!
//! It never writes into the source tree: `scripts/generate-header` copies
//! the generated header to `include/credchain.h`, and the test
//! `tests/header.rs` fails on any machine when the committed copy differs.

use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-changed=src/ffi");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    let crate_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    let mut config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml")).expect("cbindgen.toml is readable");
    config.after_includes = Some(version_macros());
    let bindings = cbindgen::Builder::new()
        .with_config(config)
        .with_src(crate_dir.join("src").join("ffi").join("mod.rs"))
        .generate()
        .expect("cbindgen could not read src/ffi");
    bindings.write_to_file(out_dir.join("credchain.h"));
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
