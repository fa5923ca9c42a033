//! Generates `include/credchain.h` from the C ABI in `src/ffi/` with the
//! pinned cbindgen, adding version macros from Cargo.toml.
//!
//! The header is always written to `$OUT_DIR/credchain.h`. Outside CI it is
//! also copied to `include/credchain.h` (the committed copy) when it differs;
//! in CI (`CI` set) the committed copy is left alone so that the test
//! `header_is_fresh` can fail when someone forgot to commit it.

use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-changed=src");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    println!("cargo:rerun-if-env-changed=CI");
    let crate_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    let config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml")).expect("cbindgen.toml is readable");
    let mut config = config;
    config.after_includes = Some(version_macros());
    let bindings = cbindgen::Builder::new()
        .with_crate(&crate_dir)
        .with_config(config)
        .generate()
        .expect("cbindgen could not read src/ffi");
    let generated = out_dir.join("credchain.h");
    bindings.write_to_file(&generated);
    if std::env::var_os("CI").is_none() {
        let committed = crate_dir.join("include").join("credchain.h");
        let fresh = std::fs::read(&generated).expect("the generated header is readable");
        if std::fs::read(&committed).ok().as_deref() != Some(fresh.as_slice()) {
            std::fs::create_dir_all(crate_dir.join("include")).expect("include/ can be created");
            std::fs::write(&committed, fresh).expect("include/credchain.h is writable");
        }
    }
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
