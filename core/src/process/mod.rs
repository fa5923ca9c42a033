//! The process layer: the one value that owns all of the library's state
//! (`instance.rs`), its creation at load and its replacement after `fork()`.

pub mod instance;
