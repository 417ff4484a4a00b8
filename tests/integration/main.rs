//! Integration tests, all in one binary: the AdmissionReview path through the router, the real
//! server over TLS, the CLI as users run it, and the inputs fuzzing saved.

// Test helpers panic with the reason on purpose: a failed setup is a failed test.
#![allow(clippy::unwrap_used)]

mod support;

mod catalog;
mod cli;
mod deploy;
mod e2e;
mod fuzz_regressions;
mod hostile;
mod istio_parity;
mod legacy;
mod lint;
mod openapi;
mod policy_cli;
mod repos;
mod router;
mod rule_docs;
mod rules_bounds;
mod scopes;
mod serve;
mod untrusted_files;
