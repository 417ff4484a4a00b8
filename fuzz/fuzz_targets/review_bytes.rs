//! `admission::review` on arbitrary bytes; the first byte picks `/validate` or `/mutate`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| meshgate_fuzz::checks::review_bytes(data));
