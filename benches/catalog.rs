//! Cost of the whole rule catalog (`rules::evaluate`) and of a whole review without network
//! (`admission::review`: parse, rules, policy, encode) on a 4 KiB and a 2 MiB VirtualService and
//! on a Namespace.

mod corpus;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use meshgate::engine::{Engine, Webhook};
use meshgate::rules::{self, ObjectKind, Operation, Subject};
use serde_json::{Value, json};

fn review_body(object: &Value, kind: &str, group: &str) -> Vec<u8> {
    let review = json!({
        "apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
        "request": {"uid": "00000000-0000-4000-8000-000000000001",
                    "kind": {"group": group, "version": "v1", "kind": kind},
                    "requestKind": {"group": group, "version": "v1", "kind": kind},
                    "name": "items", "namespace": "shop", "operation": "CREATE",
                    "userInfo": {"username": "admin", "groups": ["system:masters"]},
                    "object": object, "oldObject": null, "dryRun": false}
    });
    serde_json::to_vec(&review).expect("JSON")
}

fn catalog(c: &mut Criterion) {
    meshgate::schema::load().expect("the shipped schemas load");
    let cases = [
        (
            "virtualservice-4KiB",
            corpus::virtual_service(4 * 1024),
            ObjectKind::VirtualService,
        ),
        (
            "virtualservice-2MiB",
            corpus::virtual_service(2 * 1024 * 1024),
            ObjectKind::VirtualService,
        ),
        ("namespace", corpus::namespace(), ObjectKind::Namespace),
    ];
    let mut group = c.benchmark_group("rules::evaluate");
    for (name, object, kind) in &cases {
        let size = serde_json::to_vec(object).expect("JSON").len();
        group.throughput(Throughput::Bytes(size as u64));
        group.bench_with_input(BenchmarkId::from_parameter(name), object, |b, object| {
            b.iter(|| {
                rules::evaluate(&Subject {
                    kind: *kind,
                    operation: Operation::Create,
                    object,
                    old_object: None,
                    requested_version: Some("v1"),
                    namespace: Some("shop"),
                    origin: meshgate::rules::Origin::Request,
                    min_istio_version: meshgate::rules::DEFAULT_MIN_ISTIO_VERSION,
                })
            })
        });
    }
    group.finish();

    let engine = Engine::default();
    let mut group = c.benchmark_group("admission::review");
    for (name, object, kind) in &cases {
        let (kind_name, api_group) = match kind {
            ObjectKind::Namespace => ("Namespace", ""),
            _ => ("VirtualService", "networking.istio.io"),
        };
        let body = review_body(object, kind_name, api_group);
        group.throughput(Throughput::Bytes(body.len() as u64));
        for webhook in [Webhook::Validate, Webhook::Mutate] {
            group.bench_with_input(
                BenchmarkId::new(webhook.as_str(), name),
                &body,
                |b, body| {
                    b.iter(|| {
                        meshgate::admission::review(&engine, webhook, body).expect("a review")
                    })
                },
            );
        }
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30);
    targets = catalog
}
criterion_main!(benches);
