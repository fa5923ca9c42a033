//! A credential_process's standard output through the process source's parser.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    credchain_core::fuzzing::process_output(data);
});
