//! Runs the rule catalog on a 2 MiB VirtualService in a loop, for a profiler to watch
//! (`perf record -g target/release/examples/profile_rules`), and prints the time of each part.

#[path = "../benches/corpus.rs"]
mod corpus;

use meshgate::rules::{self, Finding, ObjectKind, Operation, Subject, evaluate};

/// One part of the catalog.
type RuleSet = fn(&Subject<'_>) -> Vec<Finding>;

fn main() {
    let iterations: usize = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(20);
    meshgate::schema::load().expect("the shipped schemas load");
    let object = corpus::virtual_service(2 * 1024 * 1024);
    let subject = Subject {
        kind: ObjectKind::VirtualService,
        operation: Operation::Create,
        object: &object,
        old_object: None,
        requested_version: Some("v1"),
        namespace: Some("shop"),
        origin: meshgate::rules::Origin::Request,
        min_istio_version: meshgate::rules::DEFAULT_MIN_ISTIO_VERSION,
    };
    // The whole catalog, then each rule module the VirtualService runs, named by its rules.
    let mut parts: Vec<(String, RuleSet)> = vec![("all rules".to_string(), evaluate)];
    for check in rules::checks()
        .iter()
        .filter(|c| c.kinds.contains(&ObjectKind::VirtualService))
    {
        let ids: Vec<&str> = check.rules.iter().map(|r| r.id()).collect();
        parts.push((ids.join(", "), check.run));
    }
    for (name, run) in parts {
        let started = std::time::Instant::now();
        for _ in 0..iterations {
            std::hint::black_box(run(&subject));
        }
        println!(
            "{name}: {:?} per evaluation",
            started.elapsed() / iterations as u32
        );
    }
}
