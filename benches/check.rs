//! `meshgate check` over 10,000 generated objects (100 files of 100 documents: VirtualServices
//! with legacy fields, Namespaces, ServiceEntries), reports discarded: reading, parsing with
//! positions, rules, policy.

mod corpus;

use criterion::{Criterion, criterion_group, criterion_main};
use meshgate::engine::Engine;
use meshgate::lint::exclude::Exclude;
use meshgate::lint::inputs::{Selection, Symlinks};
use meshgate::lint::run::{FailOn, Format, check};
use serde_json::{Value, json};

/// Block-style YAML for a JSON value, as people write manifests.
fn yaml(value: &Value, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                match child {
                    Value::Object(m) if !m.is_empty() => {
                        out.push_str(&format!("{pad}{key}:\n"));
                        yaml(child, indent + 2, out);
                    }
                    Value::Array(a) if !a.is_empty() => {
                        out.push_str(&format!("{pad}{key}:\n"));
                        yaml(child, indent, out);
                    }
                    scalar => out.push_str(&format!("{pad}{key}: {scalar}\n")),
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                let mut nested = String::new();
                yaml(item, indent + 2, &mut nested);
                if item.is_object() || item.is_array() {
                    out.push_str(&format!("{pad}- {}", &nested[indent + 2..]));
                } else {
                    out.push_str(&format!("{pad}- {item}\n"));
                }
            }
        }
        scalar => out.push_str(&format!("{pad}{scalar}\n")),
    }
}

fn object(i: usize) -> Value {
    match i % 4 {
        0 | 1 => {
            let mut vs = corpus::virtual_service(2 * 1024);
            vs["metadata"]["name"] = json!(format!("items-{i}"));
            vs
        }
        2 => {
            let mut ns = corpus::namespace();
            ns["metadata"]["name"] = json!(format!("team-{i}"));
            ns
        }
        _ => json!({"apiVersion": "networking.istio.io/v1", "kind": "ServiceEntry",
                    "metadata": {"name": format!("ext-{i}"), "namespace": "shop"},
                    "spec": {"hosts": [format!("api-{i}.example.com")], "location": "MESH_EXTERNAL",
                             "ports": [{"number": 443, "name": "https", "protocol": "HTTPS"}], "resolution": "DNS"}}),
    }
}

fn check_10k(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    for file in 0..100 {
        let mut text = String::new();
        for doc in 0..100 {
            text.push_str("---\n");
            yaml(&object(file * 100 + doc), 0, &mut text);
        }
        std::fs::write(dir.path().join(format!("manifests-{file:03}.yaml")), text).expect("write");
    }
    let engine = Engine::default();
    let paths = vec![dir.path().to_path_buf()];
    let exclude = Exclude::default();
    let selection = Selection {
        paths: &paths,
        symlinks: Symlinks::Skip,
        exclude: &exclude,
    };
    // The corpus is what it claims: 10,000 objects read and checked.
    let mut report = Vec::new();
    check(
        &engine,
        &selection,
        Format::Json,
        FailOn::None,
        &mut report,
        &mut std::io::sink(),
    )
    .expect("check");
    let report: Value = serde_json::from_slice(&report).expect("JSON report");
    assert_eq!(
        report["summary"]["objects"], 10_000,
        "{}",
        report["summary"]
    );
    assert_eq!(report["errors"], json!([]));
    let mut group = c.benchmark_group("check");
    group.sample_size(10);
    group.bench_function("10000-objects", |b| {
        b.iter(|| {
            check(
                &engine,
                &selection,
                Format::Json,
                FailOn::None,
                &mut std::io::sink(),
                &mut std::io::sink(),
            )
            .expect("check")
        })
    });
    group.finish();
}

criterion_group!(benches, check_10k);
criterion_main!(benches);
