//! meshgate: an admission webhook and CI linter that keeps Istio configuration valid while a
//! mesh is migrated. `rules` are pure checks, `engine` applies the policy, `admission` speaks
//! the AdmissionReview wire format; `server` and `cli` are thin shells around them.

pub mod admission;
pub mod catalog_docs;
pub mod certs;
pub mod cli;
pub mod engine;
pub mod lint;
pub mod manifest;
pub mod mesh;
pub mod metrics;
pub mod object;
pub mod policy;
pub mod rules;
pub mod schema;
pub mod server;
pub mod telemetry;
pub mod tls;
