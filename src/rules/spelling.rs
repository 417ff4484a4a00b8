//! Keys checked against the shipped CRD schema: `*-field-spelling` (a snake_case key whose
//! camelCase form is declared there is renamed) and `*-unknown-fields` (any other undeclared key).

use serde_json::{Map, Value};

use super::{
    Change, FieldPath, Finding, Fix, IstioVersion, ObjectKind, PatchOp, Rule, Severity, Subject,
};
use crate::object::fields::camel_case;
use crate::schema::{self, Compiled};

/// Every Istio release accepts camelCase field names.
const CAMEL_SINCE: IstioVersion = IstioVersion::new(1, 0);

/// The rules that walk a kind's `spec`.
struct KindRules {
    spelling: Rule,
    unknown: Rule,
    /// Keys another rule converts (legacy and deprecated fields): neither renamed nor unknown.
    converted: fn(parents: &[String], camel_key: &str) -> bool,
}

fn rules_for(kind: ObjectKind) -> Option<KindRules> {
    Some(match kind {
        ObjectKind::VirtualService => KindRules {
            spelling: Rule::VirtualServiceFieldSpelling,
            unknown: Rule::VirtualServiceUnknownFields,
            converted: super::virtualservice::legacy::converts,
        },
        ObjectKind::ServiceEntry => KindRules {
            spelling: Rule::ServiceEntryFieldSpelling,
            unknown: Rule::ServiceEntryUnknownFields,
            converted: |_, _| false,
        },
        ObjectKind::DestinationRule => KindRules {
            spelling: Rule::DestinationRuleFieldSpelling,
            unknown: Rule::DestinationRuleUnknownFields,
            converted: super::destinationrule::converts,
        },
        ObjectKind::Namespace => return None,
    })
}

/// Walks `spec` against the schema of the subject's kind. Renames come children first, so that
/// each `move` still finds its source when the patch is applied in order.
pub fn evaluate(subject: &Subject<'_>) -> Vec<Finding> {
    let mut walker = Walker {
        rules: match rules_for(subject.kind) {
            Some(rules) => rules,
            None => return Vec::new(),
        },
        findings: Vec::new(),
    };
    if let (Some(schema), Some(spec)) = (schema::compiled(subject.kind), subject.object.get("spec"))
    {
        walker.walk(schema, spec, &mut Vec::new());
    }
    walker.findings
}

/// One step below `spec`, borrowed from the object: paths are built only for findings.
enum Step<'a> {
    /// A field as written, and its camelCase name (what the schema and `converted` speak).
    Field {
        written: &'a str,
        canonical: &'a str,
    },
    /// A map key.
    Key(&'a str),
    /// A list index.
    Index(usize),
}

struct Walker {
    rules: KindRules,
    findings: Vec<Finding>,
}

fn path_of(stack: &[Step<'_>]) -> FieldPath {
    stack
        .iter()
        .fold(FieldPath::fields("spec"), |path, step| match step {
            Step::Field { written, .. } => path.field(written),
            Step::Key(key) => path.key(key),
            Step::Index(i) => path.index(*i),
        })
}

fn parents_of(stack: &[Step<'_>]) -> Vec<String> {
    stack
        .iter()
        .filter_map(|step| match step {
            Step::Field { canonical, .. } => Some(canonical.to_string()),
            _ => None,
        })
        .collect()
}

impl Walker {
    fn walk<'a>(&mut self, schema: &'static Compiled, value: &'a Value, stack: &mut Vec<Step<'a>>) {
        if schema.leaf {
            return;
        }
        match value {
            Value::Array(items) => {
                if let Some(item_schema) = &schema.items {
                    for (i, item) in items.iter().enumerate() {
                        stack.push(Step::Index(i));
                        self.walk(item_schema, item, stack);
                        stack.pop();
                    }
                }
            }
            Value::Object(map) => {
                if schema.free_form {
                } else if !schema.fields.is_empty() {
                    for (key, child) in map {
                        self.field(schema, map, key, child, stack);
                    }
                } else if let Some(value_schema) = &schema.values {
                    for (key, child) in map {
                        stack.push(Step::Key(key));
                        self.walk(value_schema, child, stack);
                        stack.pop();
                    }
                }
            }
            _ => {}
        }
    }

    fn field<'a>(
        &mut self,
        schema: &'static Compiled,
        map: &'a Map<String, Value>,
        key: &'a str,
        child: &'a Value,
        stack: &mut Vec<Step<'a>>,
    ) {
        if let Some((_, child_schema)) = schema.field(key) {
            stack.push(Step::Field {
                written: key,
                canonical: key,
            });
            self.walk(child_schema, child, stack);
            stack.pop();
            return;
        }
        // An undeclared key: rare, so the allocations below do not matter.
        let camel = camel_case(key);
        if (self.rules.converted)(&parents_of(stack), camel.as_deref().unwrap_or(key)) {
            return;
        }
        let path = path_of(stack);
        let key_path = path.field(key);
        if let Some(camel) = camel.as_deref()
            && let Some((declared_name, child_schema)) = schema.field(camel)
        {
            stack.push(Step::Field {
                written: key,
                canonical: declared_name,
            });
            self.walk(child_schema, child, stack);
            stack.pop();
            let both = map.contains_key(camel);
            let camel_path = path.field(camel);
            self.findings.push(Finding {
                rule: self.rules.spelling,
                severity: Severity::Error,
                path: key_path.clone(),
                message: if both {
                    format!("proto spelling next to `{camel}`, which the API server keeps: delete this one")
                } else {
                    format!("proto spelling, dropped by current CRDs: rename to `{camel}`")
                },
                fix: (!both).then(|| Fix {
                    ops: vec![PatchOp::Move {
                        from: key_path.clone(),
                        path: camel_path.clone(),
                    }],
                    changes: vec![Change {
                        path: key_path.clone(),
                        description: format!("renamed to {camel_path}"),
                    }],
                    target_since: CAMEL_SINCE,
                }),
            });
            return;
        }
        let suggestion = closest(key, schema.fields.keys().map(String::as_str))
            .map(|k| format!(" (did you mean `{k}`?)"))
            .unwrap_or_default();
        self.findings.push(Finding {
            rule: self.rules.unknown,
            severity: Severity::Error,
            path: key_path,
            message: format!("not in the Istio schema meshgate ships{suggestion}; the API server drops or rejects it"),
            fix: None,
        });
    }
}

/// The largest edit distance that still counts as a typo.
const TYPO_DISTANCE: usize = 2;

/// The declared name nearest to a typo, if it is close (edit distance at most 2). Names whose
/// lengths differ by more than that cannot be close, so a long key costs no distance
/// computation at all.
fn closest<'a>(key: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let key = key.to_lowercase();
    let key_len = key.chars().count();
    candidates
        .filter(|c| c.chars().count().abs_diff(key_len) <= TYPO_DISTANCE)
        .map(|c| (edit_distance(&key, &c.to_lowercase()), c))
        .filter(|(d, _)| *d <= TYPO_DISTANCE)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous + usize::from(ca != *cb);
            previous = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(previous + 1);
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::Operation;
    use serde_json::json;

    #[test]
    fn edit_distances() {
        assert_eq!(edit_distance("subest", "subset"), 2);
        assert_eq!(edit_distance("", "abc"), 3);
    }

    fn findings(kind: ObjectKind, spec: Value) -> Vec<(String, String, bool)> {
        let object = json!({"spec": spec});
        evaluate(&Subject {
            kind,
            operation: Operation::Create,
            object: &object,
            old_object: None,
            requested_version: None,
            namespace: None,
            origin: crate::rules::Origin::Request,
            min_istio_version: crate::rules::DEFAULT_MIN_ISTIO_VERSION,
        })
        .into_iter()
        .map(|f| (f.rule.id().to_string(), f.path.to_string(), f.fix.is_some()))
        .collect()
    }

    fn row(rule: &str, path: &str, fixable: bool) -> (String, String, bool) {
        (rule.into(), path.into(), fixable)
    }

    #[test]
    fn snake_case_keys_are_renamed_children_first() {
        let got = findings(
            ObjectKind::VirtualService,
            json!({"hosts": ["a"], "http": [{"cors_policy": {"allow_credentials": true},
                   "retries": {"per_try_timeout": "1s", "attempts": 2}, "route": [{"destination": {"host": "a"}}]}]}),
        );
        assert_eq!(
            got,
            [
                row(
                    "virtualservice-field-spelling",
                    "spec.http[0].cors_policy.allow_credentials",
                    true
                ),
                row(
                    "virtualservice-field-spelling",
                    "spec.http[0].cors_policy",
                    true
                ),
                row(
                    "virtualservice-field-spelling",
                    "spec.http[0].retries.per_try_timeout",
                    true
                ),
            ]
        );
    }

    #[test]
    fn both_spellings_and_unknown_keys_are_not_fixed() {
        let got = findings(
            ObjectKind::DestinationRule,
            json!({"host": "a", "subsets": [{"name": "v1", "lables": {"v": "1"}}],
                   "trafficPolicy": {"load_balancer": {}, "loadBalancer": {"simple": "RANDOM"}}}),
        );
        assert_eq!(
            got,
            [
                row(
                    "destinationrule-unknown-fields",
                    "spec.subsets[0].lables",
                    false
                ),
                row(
                    "destinationrule-field-spelling",
                    "spec.trafficPolicy.load_balancer",
                    false
                ),
            ]
        );
        let object = json!({"spec": {"subsets": [{"name": "v1", "lables": {}}]}});
        let finding = &evaluate(&Subject::created(ObjectKind::DestinationRule, &object))[0];
        assert!(
            finding.message.contains("did you mean `labels`?"),
            "{}",
            finding.message
        );
    }

    #[test]
    fn maps_and_declared_snake_keys_are_data_not_fields() {
        // Header names and labels are map keys; `mirror_percent` is declared by the CRD itself.
        let got = findings(
            ObjectKind::VirtualService,
            json!({"hosts": ["a"], "http": [{"headers": {"request": {"add": {"x_team": "a"}}},
                   "match": [{"sourceLabels": {"app_name": "x"}}], "route": [{"destination": {"host": "a"}}]}]}),
        );
        assert_eq!(got, []);
        let got = findings(
            ObjectKind::ServiceEntry,
            json!({"hosts": ["a.example"], "endpoints": [{"address": "1.1.1.1", "ports": {"http_alt": 8080}}],
                   "work_load_selector": {}}),
        );
        assert_eq!(
            got,
            [row(
                "serviceentry-unknown-fields",
                "spec.work_load_selector",
                false
            )]
        );
    }
}
