//! The C ABI, all of it: every `extern "C"` function, the panic boundary,
//! and the pointer and string checks. cbindgen reads this module, and only
//! this module (`scripts/generate-header`), to write `include/credchain.h`.
//!
//! Conventions: the prefix `credchain_`; a `credchain_result` from every
//! fallible call; outputs written only on success; details in an optional
//! `credchain_error **` (never thread-local: JNA and virtual threads hop
//! between OS threads); every `*_free` accepts NULL.

// The exported functions take raw pointers from C by design and check them
// (NULL, length, UTF-8) before use; marking them `unsafe fn` would change
// nothing for C callers and only hide that the checks happen inside.
#![allow(clippy::not_unsafe_ptr_arg_deref)]

pub mod credentials;
pub mod diagnose;
pub mod error;
pub mod guard;
pub mod lifecycle;
pub mod strings;
pub mod token;
pub mod types;
mod view;
