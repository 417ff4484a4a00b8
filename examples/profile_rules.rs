//! Runs the rule catalog on a 2 MiB VirtualService in a loop, for a profiler to watch
//! (`perf record -g target/release/examples/profile_rules`).

#[path = "../benches/corpus.rs"]
mod corpus;

use meshgate::rules::{ObjectKind, Operation, Subject, evaluate};

fn main() {
    let iterations: usize = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(20);
    meshgate::schema::load();
    let object = corpus::virtual_service(2 * 1024 * 1024);
    let subject = Subject {
        kind: ObjectKind::VirtualService,
        operation: Operation::Create,
        object: &object,
        old_object: None,
        requested_version: Some("v1"),
        namespace: Some("shop"),
    };
    let started = std::time::Instant::now();
    let mut findings = 0;
    for _ in 0..iterations {
        findings += std::hint::black_box(evaluate(&subject)).len();
    }
    println!(
        "{:?} per evaluation, {} findings",
        started.elapsed() / iterations as u32,
        findings / iterations
    );
}
