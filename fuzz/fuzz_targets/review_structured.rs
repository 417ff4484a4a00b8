//! The captured AdmissionReview requests, edited by the fuzzer and answered; patches must
//! apply and be idempotent. With `MESHGATE_FUZZ_PRINT` set, each edited request is printed to
//! stderr, which turns a crashing input into a regression file.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use meshgate_fuzz::checks;
use meshgate_fuzz::mutate::Plan;

fuzz_target!(|plan: Plan| {
    static PRINT: OnceLock<bool> = OnceLock::new();
    let body = plan.body();
    if *PRINT.get_or_init(|| std::env::var_os("MESHGATE_FUZZ_PRINT").is_some()) {
        eprintln!("{}", String::from_utf8_lossy(&body));
    }
    let (engine, webhook) = checks::pick(plan.choice);
    checks::check_review(engine, webhook, &body);
});
