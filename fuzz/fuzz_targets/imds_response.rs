//! IMDSv2's credentials document, served on 127.0.0.1, through aws-config's IMDS provider and the chain.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    credchain_core::fuzzing::imds_response(data);
});
