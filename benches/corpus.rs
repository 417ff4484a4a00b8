//! Objects of realistic shape and chosen size for the benchmarks: VirtualServices built from
//! routes like the ones platform teams write (matches, weighted splits, retries, headers, one
//! legacy field in a few), and Namespaces.

// Each benchmark program uses part of this corpus.
#![allow(dead_code)]

use serde_json::{Value, json};

/// One HTTP route; every tenth carries a legacy field so that conversions are exercised too.
fn http_route(i: usize) -> Value {
    let mut route = json!({
        "name": format!("route-{i}"),
        "match": [{"uri": {"prefix": format!("/api/v{}/items-{i}", i % 3)}, "headers": {"x-tenant": {"exact": format!("tenant-{}", i % 7)}}}],
        "route": [
            {"destination": {"host": format!("items-{}.shop.svc.cluster.local", i % 5), "subset": "v1", "port": {"number": 8080}}, "weight": 90},
            {"destination": {"host": format!("items-{}.shop.svc.cluster.local", i % 5), "subset": "v2", "port": {"number": 8080}}, "weight": 10},
        ],
        "timeout": "5s",
        "retries": {"attempts": 3, "perTryTimeout": "2s", "retryOn": "5xx,reset"},
        "headers": {"request": {"set": {"x-route": format!("route-{i}")}}},
    });
    if i % 10 == 3 {
        route["appendHeaders"] = json!({"x-legacy": "true"});
    }
    route
}

/// A VirtualService whose JSON is at least `bytes` long.
pub fn virtual_service(bytes: usize) -> Value {
    let mut routes = Vec::new();
    let mut object = json!({});
    while serde_json::to_vec(&object).map_or(0, |v| v.len()) < bytes {
        // Grow in steps, re-measuring now and then rather than after every route.
        let step = 1 + routes.len() / 4;
        for _ in 0..step {
            routes.push(http_route(routes.len()));
        }
        object = json!({
            "apiVersion": "networking.istio.io/v1",
            "kind": "VirtualService",
            "metadata": {"name": "items", "namespace": "shop", "labels": {"app": "items"},
                         "annotations": {"owner": "team-items"}},
            "spec": {"hosts": ["items.shop.svc.cluster.local", "items.example.com"],
                     "gateways": ["mesh", "istio-system/public"], "http": routes},
        });
    }
    object
}

/// A Namespace with the two injection labels of a migration in progress.
pub fn namespace() -> Value {
    json!({"apiVersion": "v1", "kind": "Namespace",
           "metadata": {"name": "shop", "labels": {"istio-injection": "enabled", "istio.io/rev": "asm-managed",
                        "kubernetes.io/metadata.name": "shop"}}})
}
