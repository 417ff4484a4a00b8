//! `virtualservice-legacy-fields` (removed in Istio 1.5: current CRDs drop them) and
//! `virtualservice-deprecated-fields` (still declared, deprecated): each field found, in camelCase
//! or snake_case, with the conversion docs/rules.md describes as its fix. The fields these rules
//! own are one table, [`FIELDS`]: the quick key checks, the conversions' field lists and the
//! schema walk's skip list (`converts`) are all read from it.

mod deprecated;
mod removed;

use std::sync::LazyLock;

#[cfg(test)]
use serde_json::json;
use serde_json::{Map, Value};

use super::view::HttpRoute;
use crate::object::fields::snake_case;
use crate::rules::converted::{self, Converted};
use crate::rules::{FieldPath, Finding, IstioVersion, Rule, Shared, Subject};

const V1_0: IstioVersion = IstioVersion::new(1, 0);
const V1_1: IstioVersion = IstioVersion::new(1, 1);
const V1_5: IstioVersion = IstioVersion::new(1, 5);

/// Where a legacy header field's content goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderTarget {
    /// `headers.request.add`.
    RequestAdd,
    /// `headers.response.add`.
    ResponseAdd,
    /// `headers.request.remove`.
    RequestRemove,
    /// `headers.response.remove`.
    ResponseRemove,
}

impl HeaderTarget {
    fn rel(self) -> FieldPath {
        FieldPath::fields(match self {
            HeaderTarget::RequestAdd => "headers.request.add",
            HeaderTarget::ResponseAdd => "headers.response.add",
            HeaderTarget::RequestRemove => "headers.request.remove",
            HeaderTarget::ResponseRemove => "headers.response.remove",
        })
    }

    fn is_map(self) -> bool {
        matches!(self, HeaderTarget::RequestAdd | HeaderTarget::ResponseAdd)
    }
}

/// What converts a field of [`FIELDS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conversion {
    /// `http[].websocketUpgrade`: deleted.
    Websocket,
    /// A header field of `http[]` or `http[].route[]`: merged into `headers`.
    Header(HeaderTarget),
    /// `fault.abort.percent`: to `percentage.value`.
    AbortPercent,
    /// `tls[].match[].sourceSubnet`: deleted.
    SourceSubnet,
    /// A destination's `port.name`: reported, never converted.
    PortName,
    /// `fault.delay.percent`: to `percentage.value`.
    DelayPercent,
    /// `http[].mirrorPercent`: to `mirrorPercentage.value`.
    MirrorPercent,
    /// `corsPolicy.allowOrigin`: to `allowOrigins` exact matches.
    AllowOrigin,
}

impl Conversion {
    /// The rule that reports the field.
    pub fn rule(self) -> Rule {
        match self {
            Conversion::DelayPercent | Conversion::MirrorPercent | Conversion::AllowOrigin => {
                Rule::VirtualServiceDeprecatedFields
            }
            _ => Rule::VirtualServiceLegacyFields,
        }
    }
}

const fn field(
    parents: &'static [&'static str],
    key: &'static str,
    conversion: Conversion,
) -> Converted<Conversion> {
    Converted {
        parents,
        key,
        conversion,
    }
}

/// Every field the two rules own, where it stands (the field names above it, innermost last;
/// list indices do not count), in camelCase; its snake_case spelling is owned too.
pub const FIELDS: &[Converted<Conversion>] = &[
    field(&["http"], "websocketUpgrade", Conversion::Websocket),
    field(
        &["http"],
        "appendHeaders",
        Conversion::Header(HeaderTarget::RequestAdd),
    ),
    field(
        &["http"],
        "appendRequestHeaders",
        Conversion::Header(HeaderTarget::RequestAdd),
    ),
    field(
        &["http"],
        "appendResponseHeaders",
        Conversion::Header(HeaderTarget::ResponseAdd),
    ),
    field(
        &["http"],
        "removeRequestHeaders",
        Conversion::Header(HeaderTarget::RequestRemove),
    ),
    field(
        &["http"],
        "removeResponseHeaders",
        Conversion::Header(HeaderTarget::ResponseRemove),
    ),
    field(
        &["http", "route"],
        "appendRequestHeaders",
        Conversion::Header(HeaderTarget::RequestAdd),
    ),
    field(
        &["http", "route"],
        "appendResponseHeaders",
        Conversion::Header(HeaderTarget::ResponseAdd),
    ),
    field(
        &["http", "route"],
        "removeRequestHeaders",
        Conversion::Header(HeaderTarget::RequestRemove),
    ),
    field(
        &["http", "route"],
        "removeResponseHeaders",
        Conversion::Header(HeaderTarget::ResponseRemove),
    ),
    field(&["fault", "abort"], "percent", Conversion::AbortPercent),
    field(&["tls", "match"], "sourceSubnet", Conversion::SourceSubnet),
    field(&["port"], "name", Conversion::PortName),
    field(&["fault", "delay"], "percent", Conversion::DelayPercent),
    field(&["http"], "mirrorPercent", Conversion::MirrorPercent),
    field(&["corsPolicy"], "allowOrigin", Conversion::AllowOrigin),
];

/// The header fields at `parents`, with where each one's content goes.
#[cfg(test)]
fn header_fields(
    parents: &'static [&'static str],
) -> impl Iterator<Item = (&'static str, HeaderTarget)> {
    FIELDS.iter().filter_map(move |f| match f.conversion {
        Conversion::Header(target) if f.parents == parents => Some((f.key, target)),
        _ => None,
    })
}

/// A spelling of a removed field, and the field.
type Spelled = (String, &'static Converted<Conversion>);

/// Both spellings of the removed fields that stand directly in `parents`: in the table's order,
/// camelCase before snake_case.
fn removed_keys(parents: &[&str]) -> Vec<Spelled> {
    FIELDS
        .iter()
        .filter(|f| f.parents == parents && f.conversion.rule() == Rule::VirtualServiceLegacyFields)
        .flat_map(|f| [(f.key.to_string(), f), (snake_case(f.key), f)])
        .collect()
}

static HTTP_KEYS: LazyLock<Vec<Spelled>> = LazyLock::new(|| removed_keys(&["http"]));
static DESTINATION_KEYS: LazyLock<Vec<Spelled>> =
    LazyLock::new(|| removed_keys(&["http", "route"]));

/// A key of an HTTP route that is a removed field, in either spelling (comparing keys is much
/// cheaper than looking each field up in every route).
fn is_http_legacy_key(key: &str) -> bool {
    HTTP_KEYS.iter().any(|(k, _)| k == key)
}

/// A key of `http[].route[]` that is a removed field, in either spelling.
fn is_destination_legacy_key(key: &str) -> bool {
    DESTINATION_KEYS.iter().any(|(k, _)| k == key)
}

/// The members of `map` that spell a removed field of `keys`, in the order of `keys` (the
/// table's, camelCase first): one pass over the map's keys instead of two lookups per field.
fn removed_members<'a>(
    map: &'a Map<String, Value>,
    keys: &'static [Spelled],
) -> Vec<(&'static Converted<Conversion>, &'a str, &'a Value)> {
    let mut found: Vec<(usize, &str, &Value)> = map
        .iter()
        .filter_map(|(key, value)| {
            let at = keys.iter().position(|(spelled, _)| spelled == key)?;
            Some((at, key.as_str(), value))
        })
        .collect();
    found.sort_unstable_by_key(|(at, ..)| *at);
    found
        .into_iter()
        .map(|(at, key, value)| (keys[at].1, key, value))
        .collect()
}

/// Whether an HTTP route holds any removed field, without looking each one up.
fn has_legacy_field(route: &HttpRoute<'_>) -> bool {
    let blocks = &route.blocks;
    (blocks.other_keys && route.owner.route.keys().any(|k| is_http_legacy_key(k)))
        || matches!(blocks.route, Some(Value::Array(list)) if list.iter().any(|d| d.as_object().is_some_and(|d| d.keys().any(|k| is_destination_legacy_key(k)))))
        || blocks
            .fault
            .and_then(|f| f.get("abort"))
            .is_some_and(|abort| abort.get("percent").is_some())
}

/// Whether `camel_key` under the fields `parents` is one these rules convert, so the schema walk
/// neither renames it nor calls it unknown.
pub fn converts(parents: &[String], camel_key: &str) -> bool {
    converted::owns(FIELDS, parents, camel_key)
}

/// Runs both rules over `spec.http`, `spec.tls` and every destination.
pub fn evaluate(_subject: &Subject<'_>, shared: &Shared<'_>) -> Vec<Finding> {
    let mut findings = Vec::new();
    let routes = shared.routes();
    for route in &routes.http {
        removed::http_route(route, &mut findings);
    }
    for owner in &routes.tls {
        removed::source_subnets(*owner, &mut findings);
    }
    removed::port_names(&routes.destinations, &mut findings);
    for route in &routes.http {
        let (owner, blocks) = (route.owner, &route.blocks);
        deprecated::delay_percent(owner, blocks.fault, &mut findings);
        // A snake_case spelling is among the keys the view does not name.
        if blocks.mirror_percent.is_some() || blocks.other_keys {
            deprecated::mirror_percent(owner, &mut findings);
        }
        if blocks.cors.is_some() || blocks.other_keys {
            deprecated::allow_origin(owner, &mut findings);
        }
    }
    findings
}

/// What a legacy integer percent becomes: `Some(n)` to write `n.0`, `None` to write nothing
/// (0 %, or the new field is already set and wins); `Err` when it is not an integer 0–100.
fn percent_conversion(value: &Value, new_field_set: bool) -> Result<Option<f64>, String> {
    let Some(number) = value
        .as_f64()
        .filter(|n| n.fract() == 0.0 && (0.0..=100.0).contains(n))
    else {
        return Err(format!(
            "its value {value} is not an integer from 0 to 100: write percentage.value by hand"
        ));
    };
    if new_field_set || number == 0.0 {
        return Ok(None);
    }
    Ok(Some(number))
}

fn percent_change(write: Option<f64>, new_field_set: bool, target: &FieldPath) -> String {
    match write {
        Some(n) => format!(
            "removed in Istio 1.5; moved to {target} ({})",
            float_text(n)
        ),
        None if new_field_set => {
            "removed in Istio 1.5; deleted (percentage is set and wins)".into()
        }
        None => "removed in Istio 1.5; deleted (0 %: nothing to write)".into(),
    }
}

/// A percentage as users read it in YAML: `10.0`, `12.5`.
fn float_text(n: f64) -> String {
    if n.fract() == 0.0 {
        format!("{n:.1}")
    } else {
        n.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::{ObjectKind, Operation, Severity};

    fn run(http: Value) -> Vec<Finding> {
        let object = json!({"apiVersion": "networking.istio.io/v1alpha3", "kind": "VirtualService",
                            "spec": {"hosts": ["ratings"], "http": http}});
        judged(&Subject {
            kind: ObjectKind::VirtualService,
            operation: Operation::Create,
            object: &object,
            old_object: None,
            requested_version: Some("v1alpha3"),
            namespace: None,
            origin: crate::rules::Origin::Request,
            min_istio_version: crate::rules::DEFAULT_MIN_ISTIO_VERSION,
        })
    }

    /// The findings of both rules for `subject`.
    fn judged(subject: &Subject<'_>) -> Vec<Finding> {
        evaluate(subject, &Shared::new(subject))
    }

    fn summary(findings: &[Finding]) -> Vec<(&'static str, String, Severity, bool)> {
        findings
            .iter()
            .map(|f| (f.rule.id(), f.path.to_string(), f.severity, f.fix.is_some()))
            .collect()
    }

    use crate::rules::testing::patch_of as ops;

    const LEGACY: &str = "virtualservice-legacy-fields";
    const DEPRECATED: &str = "virtualservice-deprecated-fields";

    #[test]
    fn each_field_is_found_at_its_path_in_both_spellings() {
        let findings = run(json!([{
            "websocket_upgrade": true,
            "appendHeaders": {"x-a": "1"},
            "append_request_headers": {"x-b": "2"},
            "appendResponseHeaders": {"x-c": "3"},
            "remove_request_headers": ["x-d"],
            "removeResponseHeaders": ["x-e"],
            "route": [{"destination": {"host": "r", "port": {"name": "http"}}, "append_response_headers": {"x-f": "6"}}],
            "fault": {"abort": {"percent": 10, "httpStatus": 503}, "delay": {"percent": 5, "fixedDelay": "1s"}},
            "mirror": {"host": "shadow"},
            "mirror_percent": 25,
            "corsPolicy": {"allowOrigin": ["*"]},
        }]));
        assert_eq!(
            summary(&findings),
            [
                (
                    LEGACY,
                    "spec.http[0].websocket_upgrade".to_string(),
                    Severity::Error,
                    true
                ),
                (
                    LEGACY,
                    "spec.http[0].appendHeaders".into(),
                    Severity::Error,
                    true
                ),
                (
                    LEGACY,
                    "spec.http[0].append_request_headers".into(),
                    Severity::Error,
                    true
                ),
                (
                    LEGACY,
                    "spec.http[0].appendResponseHeaders".into(),
                    Severity::Error,
                    true
                ),
                (
                    LEGACY,
                    "spec.http[0].remove_request_headers".into(),
                    Severity::Error,
                    true
                ),
                (
                    LEGACY,
                    "spec.http[0].removeResponseHeaders".into(),
                    Severity::Error,
                    true
                ),
                (
                    LEGACY,
                    "spec.http[0].route[0].append_response_headers".into(),
                    Severity::Error,
                    true
                ),
                (
                    LEGACY,
                    "spec.http[0].fault.abort.percent".into(),
                    Severity::Error,
                    true
                ),
                (
                    LEGACY,
                    "spec.http[0].route[0].destination.port.name".into(),
                    Severity::Error,
                    false
                ),
                (
                    DEPRECATED,
                    "spec.http[0].fault.delay.percent".into(),
                    Severity::Warning,
                    true
                ),
                (
                    DEPRECATED,
                    "spec.http[0].mirror_percent".into(),
                    Severity::Warning,
                    true
                ),
                (
                    DEPRECATED,
                    "spec.http[0].corsPolicy.allowOrigin".into(),
                    Severity::Warning,
                    true
                ),
            ]
        );
        assert!(
            findings[8].message.contains("\"http\""),
            "the message names the port"
        );
    }

    #[test]
    fn header_fields_merge_into_one_headers_block() {
        let findings = run(json!([{
            "appendHeaders": {"x-a": "1"},
            "appendRequestHeaders": {"x-b": "2", "x-a": "1"},
            "headers": {"response": {"remove": ["x-old"]}},
            "removeResponseHeaders": ["x-old", "x-new"],
            "route": [{"destination": {"host": "r"}}],
        }]));
        assert_eq!(
            ops(&findings),
            json!([
                {"op": "remove", "path": "/spec/http/0/appendHeaders"},
                {"op": "add", "path": "/spec/http/0/headers/request", "value": {"add": {"x-a": "1"}}},
                {"op": "remove", "path": "/spec/http/0/appendRequestHeaders"},
                {"op": "add", "path": "/spec/http/0/headers/request/add/x-b", "value": "2"},
                {"op": "remove", "path": "/spec/http/0/removeResponseHeaders"},
                {"op": "add", "path": "/spec/http/0/headers/response/remove/1", "value": "x-new"},
            ])
        );
        let change = &findings[0].fix.as_ref().unwrap().changes[0];
        assert_eq!(change.path.to_string(), "spec.http[0].appendHeaders");
        assert_eq!(
            change.description,
            "removed in Istio 1.5; moved to spec.http[0].headers.request.add"
        );
    }

    #[test]
    fn a_header_conflict_leaves_the_route_unfixed_and_names_the_key() {
        let findings = run(json!([{
            "websocketUpgrade": true,
            "appendHeaders": {"x-env": "prod"},
            "headers": {"request": {"add": {"x-env": "dev"}}},
            "route": [{"destination": {"host": "r"}}],
        }]));
        assert_eq!(
            summary(&findings).iter().filter(|s| s.3).count(),
            0,
            "no fix at all for that route"
        );
        let conflict = findings
            .iter()
            .find(|f| f.path.to_string() == "spec.http[0].appendHeaders")
            .unwrap();
        assert!(conflict.message.contains("`x-env`"), "{}", conflict.message);
        // The same key with the same value merges.
        let findings = run(
            json!([{"appendHeaders": {"x-env": "prod"}, "headers": {"request": {"add": {"x-env": "prod"}}}}]),
        );
        assert_eq!(
            ops(&findings),
            json!([{"op": "remove", "path": "/spec/http/0/appendHeaders"}])
        );
    }

    #[test]
    fn percents_follow_the_table() {
        let abort = |abort: Value| {
            ops(&run(
                json!([{"fault": {"abort": abort}, "route": [{"destination": {"host": "r"}}]}]),
            ))
        };
        assert_eq!(
            abort(json!({"percent": 10, "httpStatus": 503})),
            json!([
                {"op": "remove", "path": "/spec/http/0/fault/abort/percent"},
                {"op": "add", "path": "/spec/http/0/fault/abort/percentage", "value": {"value": 10.0}},
            ])
        );
        // percentage wins; 0 writes nothing.
        assert_eq!(
            abort(json!({"percent": 10, "percentage": {"value": 1.5}, "httpStatus": 503})),
            json!([{"op": "remove", "path": "/spec/http/0/fault/abort/percent"}])
        );
        assert_eq!(
            abort(json!({"percent": 0, "httpStatus": 503})),
            json!([{"op": "remove", "path": "/spec/http/0/fault/abort/percent"}])
        );
        // Out of range: reported, not fixed.
        let findings = run(json!([{"fault": {"abort": {"percent": 150, "httpStatus": 503}}}]));
        assert!(findings[0].fix.is_none() && findings[0].message.contains("150"));
        // mirrorPercent 0 must be written: without mirrorPercentage Istio mirrors 100 %.
        assert_eq!(
            ops(&run(json!([{"mirror": {"host": "m"}, "mirrorPercent": 0}]))),
            json!([
                {"op": "remove", "path": "/spec/http/0/mirrorPercent"},
                {"op": "add", "path": "/spec/http/0/mirrorPercentage", "value": {"value": 0.0}},
            ])
        );
        assert_eq!(
            ops(&run(
                json!([{"mirror": {"host": "m"}, "mirrorPercent": 30, "mirrorPercentage": {"value": 5.0}}])
            )),
            json!([{"op": "remove", "path": "/spec/http/0/mirrorPercent"}])
        );
    }

    #[test]
    fn percents_outside_their_types_are_reported_not_converted() {
        for value in [
            json!(u64::MAX),
            json!(i64::MIN),
            json!(1e300),
            json!(4_294_967_296_u64),
        ] {
            let findings = run(
                json!([{"fault": {"abort": {"percent": value, "httpStatus": 503},
                                                 "delay": {"percent": value, "fixedDelay": "1s"}},
                                       "mirror": {"host": "m"}, "mirrorPercent": value,
                                       "route": [{"destination": {"host": "r"}}]}]),
            );
            assert_eq!(
                summary(&findings),
                [
                    (
                        LEGACY,
                        "spec.http[0].fault.abort.percent".to_string(),
                        Severity::Error,
                        false
                    ),
                    (
                        DEPRECATED,
                        "spec.http[0].fault.delay.percent".to_string(),
                        Severity::Warning,
                        false
                    ),
                    (
                        DEPRECATED,
                        "spec.http[0].mirrorPercent".to_string(),
                        Severity::Warning,
                        false
                    ),
                ],
                "{value}"
            );
            for finding in &findings {
                assert!(
                    finding.message.contains(&format!(
                        "its value {value} is not an integer from 0 to 100"
                    )),
                    "{}",
                    finding.message
                );
            }
        }
    }

    #[test]
    fn allow_origin_becomes_exact_matches_unless_allow_origins_exists() {
        assert_eq!(
            ops(&run(
                json!([{"corsPolicy": {"allowOrigin": ["*", "https://a.example"], "maxAge": "1s"}}])
            )),
            json!([
                {"op": "remove", "path": "/spec/http/0/corsPolicy/allowOrigin"},
                {"op": "add", "path": "/spec/http/0/corsPolicy/allowOrigins", "value": [{"exact": "*"}, {"exact": "https://a.example"}]},
            ])
        );
        assert_eq!(
            ops(&run(
                json!([{"corsPolicy": {"allowOrigin": ["*"], "allowOrigins": [{"prefix": "https://"}]}}])
            )),
            json!([{"op": "remove", "path": "/spec/http/0/corsPolicy/allowOrigin"}])
        );
    }

    #[test]
    fn source_subnet_is_removed_from_tls_matches() {
        let object = json!({"spec": {"hosts": ["a"], "tls": [{"match": [{"sniHosts": ["a"], "sourceSubnet": "10.0.0.0/8"}],
                            "route": [{"destination": {"host": "a"}}]}]}});
        let findings = judged(&Subject::created(ObjectKind::VirtualService, &object));
        assert_eq!(
            summary(&findings),
            [(
                LEGACY,
                "spec.tls[0].match[0].sourceSubnet".to_string(),
                Severity::Error,
                true
            )]
        );
        assert_eq!(
            ops(&findings),
            json!([{"op": "remove", "path": "/spec/tls/0/match/0/sourceSubnet"}])
        );
    }

    #[test]
    fn the_quick_key_checks_agree_with_the_field_tables() {
        use crate::object::fields::snake_case;
        for (camel, _) in header_fields(&["http"]) {
            assert!(
                is_http_legacy_key(camel) && is_http_legacy_key(&snake_case(camel)),
                "{camel}"
            );
        }
        assert!(is_http_legacy_key("websocketUpgrade") && is_http_legacy_key("websocket_upgrade"));
        for (camel, _) in header_fields(&["http", "route"]) {
            assert!(
                is_destination_legacy_key(camel) && is_destination_legacy_key(&snake_case(camel)),
                "{camel}"
            );
        }
        assert!(!is_destination_legacy_key("appendHeaders"));
    }

    #[test]
    fn the_schema_walk_leaves_converted_fields_to_these_rules() {
        let parents = |p: &[&str]| p.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(converts(&parents(&["http"]), "appendHeaders"));
        assert!(converts(
            &parents(&["http", "route"]),
            "removeRequestHeaders"
        ));
        assert!(converts(&parents(&["http", "fault", "abort"]), "percent"));
        assert!(converts(
            &parents(&["http", "route", "destination", "port"]),
            "name"
        ));
        assert!(!converts(&parents(&["http", "retries"]), "percent"));
        assert!(!converts(&parents(&[]), "appendHeaders"));
    }
}
