//! Runs the rule catalog in a loop, for a profiler to watch (`perf record -g
//! target/release/examples/profile_rules`), and prints the time of each part:
//! `profile_rules [ITERATIONS] [OBJECT]`, the object `namespace` or a VirtualService of that many
//! bytes (2 MiB when not given).

#[path = "../benches/corpus.rs"]
mod corpus;

use meshgate::rules::{self, Finding, ObjectKind, Operation, Shared, Subject, evaluate};

/// One part of the catalog.
type RuleSet = fn(&Subject<'_>, &Shared<'_>) -> Vec<Finding>;

fn main() {
    let iterations: usize = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(20);
    meshgate::schema::load().expect("the shipped schemas load");
    let (kind, object) = match std::env::args().nth(2).as_deref() {
        Some("namespace") => (ObjectKind::Namespace, corpus::namespace()),
        size => {
            let bytes = size.and_then(|s| s.parse().ok()).unwrap_or(2 * 1024 * 1024);
            (ObjectKind::VirtualService, corpus::virtual_service(bytes))
        }
    };
    let subject = Subject {
        kind,
        operation: Operation::Create,
        object: &object,
        old_object: None,
        requested_version: Some("v1"),
        namespace: Some("shop"),
        origin: meshgate::rules::Origin::Request,
        min_istio_version: meshgate::rules::DEFAULT_MIN_ISTIO_VERSION,
    };
    // The whole catalog, then each rule module the VirtualService runs, named by its rules.
    let mut parts: Vec<(String, RuleSet)> =
        vec![("all rules".to_string(), |subject, _| evaluate(subject))];
    for check in rules::checks().iter().filter(|c| c.kinds.contains(&kind)) {
        let ids: Vec<&str> = check.rules.iter().map(|r| r.id()).collect();
        parts.push((ids.join(", "), check.run));
    }
    for (name, run) in parts {
        let started = std::time::Instant::now();
        for _ in 0..iterations {
            // Each part reads the object afresh, as it does when it is the first to need it.
            std::hint::black_box(run(&subject, &Shared::new(&subject)));
        }
        println!(
            "{name}: {:?} per evaluation",
            started.elapsed() / iterations as u32
        );
    }
}
