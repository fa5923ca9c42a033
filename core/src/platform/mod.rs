//! Every call the library and the command make into the operating system,
//! behind one small interface, so that the chain, the cache, the C ABI and
//! the command hold no `cfg` for an operating system and no `libc` call.
//! Each port fills one side of it (today: Linux, in `unix.rs`, `child.rs`
//! and `elf.rs`); `scripts/check-layers` refuses OS-specific code anywhere
//! else.
//!
//! | need | here |
//! |---|---|
//! | run code when the library is loaded | [`run_at_load!`](crate::run_at_load) |
//! | a cheap wall clock for the hot path | [`coarse_unix_nanos`] |
//! | the home directory, from the captured environment | [`home_directory`], [`HOME_VARIABLES`] |
//! | be told in a forked child | [`on_fork_in_child`] |
//! | the other loaded copies of the library | [`loaded_objects_exporting`], [`pin_loaded_object`] |
//! | a child process and its whole tree | [`spawn_shell`], [`ShellChild`], [`exit_code`] |
//! | files: bounded opening, identity, type, permissions, ownership | [`open_for_reading`], [`FileIdentity`], [`describe_file_type`], [`permission_bits`], [`owned_by_this_user`], [`create_private_file`], [`make_private_directory`], [`lock_exclusively`] |
//! | random bytes for secrets | [`fill_random`] |
//! | log lines to standard error, only while it is the file it was | [`StandardError`] |
//! | a marker an ancestor process set, through `env -i` | [`variable_of_ancestors`] |
//! | whether an error means the process ran out of descriptors, processes or memory | [`is_exhaustion`] |
//! | `credchain serve`'s stop signals | [`StopSignals`] |

#[cfg(not(target_os = "linux"))]
compile_error!(
    "credchain's platform layer has a Linux side only, for now: a port fills core/src/platform/ \
     (see README, \"Platforms\")"
);

#[cfg(target_os = "linux")]
mod child;
#[cfg(target_os = "linux")]
mod elf;
#[cfg(target_os = "linux")]
mod unix;

#[cfg(target_os = "linux")]
pub use child::*;
#[cfg(target_os = "linux")]
pub use unix::*;

/// Runs `$function` (an `extern "C" fn()`) when the object holding it is
/// loaded, before any of its functions is called: for capturing the
/// environment before a host thread can write it. The function must be
/// trivial (start no thread, load nothing) and must not unwind.
#[macro_export]
macro_rules! run_at_load {
    ($function:path) => {
        // An ELF constructor: the loader calls every entry of `.init_array`.
        #[cfg(target_os = "linux")]
        #[used]
        #[link_section = ".init_array"]
        static RUN_AT_LOAD: extern "C" fn() = $function;
    };
}
