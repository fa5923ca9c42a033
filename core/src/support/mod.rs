//! What every layer above the types leans on: locks, waiting with a
//! deadline, the internal runtime's slot, and logging. Nothing here knows
//! of credentials or of the process's state.
//!
//! - `sync.rs`: the library's locks (loom's under `--cfg credchain_loom`);
//! - `block.rs`: the one bounded way to wait on a future from a thread;
//! - `runtime.rs`: the internal tokio runtime an instance owns;
//! - `log.rs`: the log sink.

pub mod block;
pub mod log;
pub mod runtime;
pub mod sync;
