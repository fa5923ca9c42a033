//! The leaf layer: values every other layer speaks in, depending on nothing
//! of the crate.
//!
//! - `credentials.rs`: credentials as a source yields them, and the time
//!   formats they are shown in;
//! - `source.rs`: botocore's names of the chain's sources;
//! - `error.rs`: the error every layer returns, with its code;
//! - `text.rs`: how upstream text and caller strings reach messages.

pub mod credentials;
pub mod error;
pub mod source;
pub mod text;
