//! The table of rule modules (`rules::checks`) against every object of the fixtures: each
//! finding comes from a module that declares its rule, and `/mutate`'s run of only the modules
//! holding a fixable rule patches exactly what a run of every rule would.

use std::path::Path;

use meshgate::engine::{self, Engine, Request, Requester, Webhook};
use meshgate::object::ObjectKind;
use meshgate::rules::{self, Operation, Subject};
use serde_json::Value;

use crate::support::{fixtures, policy};

/// Every object of the YAML and JSON fixtures (Istio's tables' cases included) and the
/// captured admission requests with their stored objects.
fn objects() -> Vec<(String, Value, Option<Value>)> {
    let mut found = Vec::new();
    let mut stack = vec![fixtures("")];
    while let Some(dir) = stack.pop() {
        let mut entries: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for path in entries {
            if path.is_dir() {
                // Fuzzing's saved inputs are bytes, not manifests.
                if !path.ends_with("fuzz") {
                    stack.push(path);
                }
                continue;
            }
            collect(&path, &mut found);
        }
    }
    found
}

fn collect(path: &Path, found: &mut Vec<(String, Value, Option<Value>)>) {
    let name = path.display().to_string();
    let Ok(text) = std::fs::read_to_string(path) else {
        return;
    };
    let documents: Vec<Value> = match path.extension().and_then(|e| e.to_str()) {
        Some("json") => serde_json::from_str(&text).into_iter().collect(),
        Some("yaml" | "yml") => serde_saphyr::from_multiple(&text).unwrap_or_default(),
        _ => return,
    };
    for document in documents {
        if let Some(review) = document.pointer("/body/request") {
            found.push((
                name.clone(),
                review["object"].clone(),
                review.get("oldObject").filter(|o| o.is_object()).cloned(),
            ));
        } else if let Some(cases) = document.get("cases").and_then(Value::as_array) {
            for case in cases {
                if let Some(object) = case.get("object") {
                    found.push((format!("{name}: {}", case["name"]), object.clone(), None));
                }
            }
        } else if let Some(items) = document.get("items").and_then(Value::as_array) {
            found.extend(items.iter().map(|i| (name.clone(), i.clone(), None)));
        } else {
            found.push((name.clone(), document, None));
        }
    }
}

#[test]
fn every_finding_comes_from_a_module_that_declares_its_rule() {
    let mut checked = 0;
    for (name, object, _) in objects() {
        let Some(kind) = ObjectKind::of(&object) else {
            continue;
        };
        checked += 1;
        for finding in rules::evaluate(&Subject::created(kind, &object)) {
            assert!(
                rules::checks()
                    .iter()
                    .any(|c| c.kinds.contains(&kind) && c.rules.contains(&finding.rule)),
                "{name}: {} is reported by a module that does not declare it",
                finding.rule
            );
        }
    }
    assert!(checked > 400, "{checked} objects");
}

#[test]
fn mutate_patches_what_a_run_of_every_rule_would() {
    let every_fix = policy(
        "minIstioVersion: \"1.22\"\nrules:\n  namespace-injection-conflict: fix\n  namespace-injection-shadowed-revision: fix\n",
    );
    let mut patched = 0;
    for engine in [Engine::default(), Engine::new(every_fix)] {
        for (name, object, old) in objects() {
            let Some(kind) = ObjectKind::of(&object) else {
                continue;
            };
            let request = Request {
                subject: Subject {
                    operation: if old.is_some() {
                        Operation::Update
                    } else {
                        Operation::Create
                    },
                    old_object: old.as_ref(),
                    ..Subject::created(kind, &object)
                },
                requester: Requester::default(),
                stored: None,
            };
            let scoped = engine.review(&request, Webhook::Mutate).patch;
            let full = engine::outcome(&engine.assess(&request), Webhook::Mutate).patch;
            assert_eq!(scoped, full, "{name}");
            patched += usize::from(!full.is_empty());
        }
    }
    assert!(
        patched > 20,
        "{patched} objects patched: the fixtures exercise the fixes"
    );
}
