//! The C ABI, all of it: every `extern "C"` function, the panic boundary,
//! and the pointer and string checks. cbindgen reads this module (through
//! `build.rs`) to write `include/credchain.h`.
//!
//! Conventions: the prefix `credchain_`; a `credchain_result` from every
//! fallible call; outputs written only on success; details in an optional
//! `credchain_error **` (never thread-local: JNA and virtual threads hop
//! between OS threads); every `*_free` accepts NULL.

pub mod credentials;
pub mod diagnose;
pub mod error;
pub mod guard;
pub mod lifecycle;
pub mod token;
pub mod types;
