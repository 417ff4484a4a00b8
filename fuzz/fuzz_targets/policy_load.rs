//! The policy loader on arbitrary text.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| meshgate_fuzz::checks::policy_load(data));
