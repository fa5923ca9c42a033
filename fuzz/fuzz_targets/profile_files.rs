//! The profile files (config, credentials, EC2 CLI, Boto2) read and detected as a resolution does; see credchain_core::fuzzing::profile_files.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    credchain_core::fuzzing::profile_files(data);
});
