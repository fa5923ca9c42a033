//! The container credentials endpoint's answer, served on 127.0.0.1, through aws-config's ECS provider and the chain.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    credchain_core::fuzzing::container_response(data);
});
