//! How `istio-networking-v1.json` is made from Istio's CRD file, and the test that the shipped
//! file is still exactly what Istio's CRDs (copied to `tests/fixtures/crds/`) give. Regenerate with
//! `MESHGATE_BLESS=1 cargo test --lib schema::derive`.

use std::path::PathBuf;

use serde_json::{Map, Value};

/// The kinds whose `spec` schema is shipped.
const KINDS: [&str; 3] = ["VirtualService", "ServiceEntry", "DestinationRule"];

fn crd_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/crds/istio-networking.yaml")
}

fn crd_documents() -> Vec<Value> {
    let path = crd_path();
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_saphyr::from_multiple(&text).expect("the CRD fixture is YAML")
}

fn spec_schemas(docs: &[Value], kind: &str) -> Vec<(String, Value)> {
    docs.iter()
        .filter(|doc| {
            doc["spec"]["group"] == "networking.istio.io" && doc["spec"]["names"]["kind"] == kind
        })
        .flat_map(|doc| {
            doc["spec"]["versions"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .map(|version| {
            (
                version["name"].as_str().unwrap_or_default().to_string(),
                version["schema"]["openAPIV3Schema"]["properties"]["spec"].clone(),
            )
        })
        .collect()
}

/// Drops what validation and the field walk do not use: prose and CEL rules.
fn strip(schema: &Value) -> Value {
    match schema {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(key, _)| {
                    !matches!(key.as_str(), "description" | "x-kubernetes-validations")
                })
                .map(|(key, value)| {
                    // Under `properties` the keys are field names, not schema keywords.
                    let value = if key == "properties" {
                        Value::Object(
                            value
                                .as_object()
                                .into_iter()
                                .flatten()
                                .map(|(k, v)| (k.clone(), strip(v)))
                                .collect(),
                        )
                    } else {
                        strip(value)
                    };
                    (key.clone(), value)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(strip).collect()),
        other => other.clone(),
    }
}

fn derive(docs: &[Value]) -> String {
    let mut out = Map::new();
    for kind in KINDS {
        let v1 = spec_schemas(docs, kind)
            .into_iter()
            .find(|(version, _)| version == "v1")
            .unwrap_or_else(|| panic!("{kind} has no v1 schema"));
        out.insert(kind.to_string(), strip(&v1.1));
    }
    serde_json::to_string_pretty(&Value::Object(out)).expect("JSON") + "\n"
}

#[test]
fn shipped_schema_matches_the_crd_fixture() {
    let derived = derive(&crd_documents());
    let shipped =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src/schema/istio-networking-v1.json");
    if std::env::var_os("MESHGATE_BLESS").is_some() {
        std::fs::write(&shipped, &derived).expect("write the derived schema");
    }
    assert!(
        derived == super::DERIVED_JSON,
        "src/schema/istio-networking-v1.json is out of date with the CRD fixture; \
         regenerate with MESHGATE_BLESS=1 cargo test --lib schema::derive"
    );
}

#[test]
fn every_served_version_has_the_v1_schema() {
    let docs = crd_documents();
    for kind in KINDS {
        let versions = spec_schemas(&docs, kind);
        let names: Vec<&str> = versions.iter().map(|(v, _)| v.as_str()).collect();
        assert_eq!(names, ["v1", "v1alpha3", "v1beta1"], "{kind}");
        for (version, schema) in &versions {
            assert_eq!(schema, &versions[0].1, "{kind} {version} differs from v1");
        }
    }
}
