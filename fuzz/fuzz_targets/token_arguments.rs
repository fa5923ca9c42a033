//! The RDS / DSQL token functions' arguments and the region parsing of host names.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    credchain_core::fuzzing::token_arguments(data);
});
