//! Integration tests, all in one binary: the AdmissionReview path through the router, the real
//! server over TLS, and the CLI as users run it.

// Test helpers panic with the reason on purpose: a failed setup is a failed test.
#![allow(clippy::unwrap_used)]

mod support;

mod catalog;
mod cli;
mod deploy;
mod e2e;
mod hostile;
mod legacy;
mod lint;
mod router;
mod rules_bounds;
mod serve;
mod untrusted_files;
