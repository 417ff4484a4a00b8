//! `meshgate check` and `meshgate fix` on arbitrary text: the YAML reader and the patch writer.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| meshgate_fuzz::checks::yaml_fix(data));
