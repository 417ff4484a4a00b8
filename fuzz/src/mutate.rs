//! Structure-aware mutations of the captured AdmissionReview requests: the fuzzer's bytes pick
//! a captured request and a few edits (replace, remove or insert a value somewhere in it), with
//! values drawn from what trips webhooks up: extreme numbers, odd strings, deep nesting, the
//! legacy Istio fields the fixes rewrite and the injection labels the namespace rules read.

use libfuzzer_sys::arbitrary::{self, Arbitrary};
use serde_json::{Map, Number, Value, json};

/// The captured requests (tests/fixtures/admission), embedded so that the target runs anywhere.
const CAPTURED: [&str; 7] = [
    include_str!("../../tests/fixtures/admission/namespace-create-both-labels.json"),
    include_str!(
        "../../tests/fixtures/admission/namespace-update-add-istio-injection-while-rev.json"
    ),
    include_str!(
        "../../tests/fixtures/admission/namespace-update-change-rev-while-istio-injection.json"
    ),
    include_str!("../../tests/fixtures/admission/namespace-update-remove-istio-injection.json"),
    include_str!("../../tests/fixtures/admission/serviceentry-create-v1-global-dryrun.json"),
    include_str!(
        "../../tests/fixtures/admission/virtualservice-create-v1alpha3-legacy-fields.json"
    ),
    include_str!("../../tests/fixtures/admission/virtualservice-delete-v1.json"),
];

/// The AdmissionReview bodies of the captured requests.
pub fn captured_bodies() -> &'static [Value] {
    static BODIES: std::sync::OnceLock<Vec<Value>> = std::sync::OnceLock::new();
    BODIES.get_or_init(|| {
        CAPTURED
            .iter()
            .map(|text| {
                let capture: Value = serde_json::from_str(text).expect("fixture JSON");
                capture["body"].clone()
            })
            .collect()
    })
}

/// What the fuzzer's bytes decode to: a captured request and the edits to make to it.
#[derive(Debug, Arbitrary)]
pub struct Plan {
    fixture: u8,
    /// Policy and webhook, as [`crate::checks::pick`] reads them.
    pub choice: u8,
    edits: Vec<Edit>,
}

/// The most edits one input makes: more rarely finds more, and costs time.
const MAX_EDITS: usize = 8;

#[derive(Debug, Arbitrary)]
struct Edit {
    start: Start,
    /// Child indices (modulo each node's size) from `start` down.
    steps: Vec<u8>,
    change: Change,
}

/// Where an edit's walk starts: the places rules read, so that most edits land there.
#[derive(Debug, Arbitrary)]
enum Start {
    Review,
    Request,
    Object,
    OldObject,
    Labels,
    OldLabels,
    Spec,
}

impl Start {
    fn pointer(&self) -> &'static str {
        match self {
            Start::Review => "",
            Start::Request => "/request",
            Start::Object => "/request/object",
            Start::OldObject => "/request/oldObject",
            Start::Labels => "/request/object/metadata/labels",
            Start::OldLabels => "/request/oldObject/metadata/labels",
            Start::Spec => "/request/object/spec",
        }
    }
}

#[derive(Debug, Arbitrary)]
enum Change {
    /// Replace the node.
    Replace(Interesting),
    /// Remove the node from its parent.
    Remove,
    /// Add a member to a mapping (or an item to a list); anything else becomes a mapping.
    Insert(Key, Interesting),
    /// Make the request about another kind, consistently in `request` and the objects.
    Retarget(Target),
    /// The stored object becomes a copy of the new one (an UPDATE that changes nothing yet).
    CopyToOld,
}

#[derive(Debug, Arbitrary)]
enum Target {
    Namespace,
    VirtualService(Version),
    ServiceEntry(Version),
    DestinationRule(Version),
}

#[derive(Debug, Arbitrary)]
enum Version {
    V1,
    V1beta1,
    V1alpha3,
}

impl Version {
    fn as_str(&self) -> &'static str {
        match self {
            Version::V1 => "v1",
            Version::V1beta1 => "v1beta1",
            Version::V1alpha3 => "v1alpha3",
        }
    }
}

/// Keys rules look for, legacy and current, plus anything.
const KEYS: [&str; 48] = [
    "appendHeaders",
    "removeResponseHeaders",
    "appendResponseHeaders",
    "appendRequestHeaders",
    "removeRequestHeaders",
    "websocketUpgrade",
    "abort",
    "delay",
    "percent",
    "percentage",
    "httpStatus",
    "fixedDelay",
    "mirror",
    "mirror_percent",
    "mirrorPercent",
    "mirrorPercentage",
    "corsPolicy",
    "allowOrigin",
    "allowOrigins",
    "headers",
    "request",
    "response",
    "trafficPolicy",
    "outlierDetection",
    "consecutiveErrors",
    "consecutive_errors",
    "loadBalancer",
    "simple",
    "consistentHash",
    "minimumRingSize",
    "ringHash",
    "exportTo",
    "hosts",
    "gateways",
    "http",
    "tcp",
    "tls",
    "route",
    "destination",
    "host",
    "subset",
    "port",
    "number",
    "weight",
    "istio-injection",
    "istio.io/rev",
    "istio.io/dataplane-mode",
    "labels",
];

#[derive(Debug, Arbitrary)]
enum Key {
    Known(u8),
    Any(String),
}

impl Key {
    fn text(&self) -> String {
        match self {
            Key::Known(i) => KEYS[usize::from(*i) % KEYS.len()].to_string(),
            Key::Any(text) => text.clone(),
        }
    }
}

/// Numbers at the edges: limits of the integer types, of f64, and of the rules' ranges.
const NUMBERS: [f64; 16] = [
    0.0, -0.0, 1.0, -1.0, 0.5, 99.999, 100.0, 100.5, 101.0, 199.0, 599.0, 65535.0, 65536.0, 1e308,
    -1e308, 5e-324,
];

/// Strings rules compare with, plus ones that break naive text handling.
const STRINGS: [&str; 30] = [
    "",
    "enabled",
    "disabled",
    "ambient",
    "none",
    "asm-managed",
    "default",
    "CREATE",
    "UPDATE",
    "DELETE",
    "CONNECT",
    "LEAST_CONN",
    "LEAST_REQUEST",
    "ROUND_ROBIN",
    "mesh",
    "*",
    ".",
    "~",
    "*.example.com",
    "reviews.default.svc.cluster.local",
    "10.0.0.0/8",
    "240.0.0.1",
    "svc.global",
    "5s",
    "line\nbreak",
    "tab\tand\u{7}bell\u{0}nul",
    "\u{202e}right-to-left\u{feff}",
    "é\u{301}🦀",
    "a: b\n- c\n#d",
    "\"quoted\" 'and' \\escaped",
];

#[derive(Debug, Arbitrary)]
enum Interesting {
    Null,
    Bool(bool),
    Int(i64),
    Unsigned(u64),
    EdgeNumber(u8),
    Float(f64),
    Text(u8),
    AnyText(String),
    /// A string of `repeat` copies of one vocabulary string: up to 8 KiB, past every warning limit.
    Long(u8, u8),
    List(Vec<Interesting>),
    Map(Vec<(Key, Interesting)>),
    /// `depth` nested lists around a value.
    Nested(u8, Box<Interesting>),
    Legacy(Legacy),
    Labels(Vec<(LabelKey, Interesting)>),
}

/// The fields the legacy and deprecated-field fixes rewrite, in the shapes users wrote them.
#[derive(Debug, Arbitrary)]
enum Legacy {
    AppendHeaders(Box<Interesting>),
    WebsocketUpgrade(Box<Interesting>),
    AbortPercent(Box<Interesting>),
    DelayPercent(Box<Interesting>),
    MirrorPercent(Box<Interesting>),
    MirrorSnake(Box<Interesting>),
    AllowOrigin(Box<Interesting>),
    ConsecutiveErrors(Box<Interesting>),
    LeastConn,
    MinimumRingSize(Box<Interesting>),
}

#[derive(Debug, Arbitrary)]
enum LabelKey {
    Injection,
    Revision,
    DataplaneMode,
    Other(String),
}

impl LabelKey {
    fn text(&self) -> String {
        match self {
            LabelKey::Injection => "istio-injection".into(),
            LabelKey::Revision => "istio.io/rev".into(),
            LabelKey::DataplaneMode => "istio.io/dataplane-mode".into(),
            LabelKey::Other(text) => text.clone(),
        }
    }
}

/// The deepest value an edit builds: past serde_json's limit of 128, so that refusals are
/// exercised, yet shallow enough that building, serializing and dropping it stays on the stack.
const MAX_DEPTH: usize = 256;

fn number(value: f64) -> Value {
    Number::from_f64(value).map_or(Value::Null, Value::Number)
}

impl Interesting {
    /// The value, `depth` levels down; nothing nests past [`MAX_DEPTH`].
    fn value(&self, depth: usize) -> Value {
        if depth >= MAX_DEPTH {
            return Value::Null;
        }
        let inner = depth + 1;
        match self {
            Interesting::Null => Value::Null,
            Interesting::Bool(b) => Value::Bool(*b),
            Interesting::Int(i) => json!(i),
            Interesting::Unsigned(u) => json!(u),
            Interesting::EdgeNumber(i) => match i % 20 {
                16 => json!(u64::MAX),
                17 => json!(i64::MIN),
                18 => json!(i64::MAX),
                19 => json!(9_007_199_254_740_993_u64),
                n => number(NUMBERS[usize::from(n)]),
            },
            Interesting::Float(f) => number(*f),
            Interesting::Text(i) => json!(STRINGS[usize::from(*i) % STRINGS.len()]),
            Interesting::AnyText(text) => json!(text),
            Interesting::Long(i, repeat) => {
                let unit = match STRINGS[usize::from(*i) % STRINGS.len()] {
                    "" => "x",
                    unit => unit,
                };
                json!(unit.repeat(usize::from(*repeat)))
            }
            Interesting::List(items) => {
                Value::Array(items.iter().map(|item| item.value(inner)).collect())
            }
            Interesting::Map(entries) => Value::Object(
                entries
                    .iter()
                    .map(|(key, value)| (key.text(), value.value(inner)))
                    .collect(),
            ),
            Interesting::Labels(labels) => Value::Object(
                labels
                    .iter()
                    .map(|(key, value)| (key.text(), value.value(inner)))
                    .collect(),
            ),
            Interesting::Nested(levels, value) => {
                let levels = usize::from(*levels).min(MAX_DEPTH - depth);
                let mut value = value.value(depth + levels);
                for _ in 0..levels {
                    value = Value::Array(vec![value]);
                }
                value
            }
            Interesting::Legacy(legacy) => legacy.value(inner),
        }
    }
}

impl Legacy {
    /// The fields, `depth` levels down (they add up to four more).
    fn value(&self, depth: usize) -> Value {
        let depth = depth + 4;
        match self {
            Legacy::AppendHeaders(v) => json!({"appendHeaders": {"x-legacy": v.value(depth)}}),
            Legacy::WebsocketUpgrade(v) => json!({"websocketUpgrade": v.value(depth)}),
            Legacy::AbortPercent(v) => {
                json!({"fault": {"abort": {"percent": v.value(depth), "httpStatus": 503}}})
            }
            Legacy::DelayPercent(v) => {
                json!({"fault": {"delay": {"percent": v.value(depth), "fixedDelay": "5s"}}})
            }
            Legacy::MirrorPercent(v) => {
                json!({"mirror": {"host": "mirror"}, "mirrorPercent": v.value(depth)})
            }
            Legacy::MirrorSnake(v) => {
                json!({"mirror": {"host": "mirror"}, "mirror_percent": v.value(depth)})
            }
            Legacy::AllowOrigin(v) => json!({"corsPolicy": {"allowOrigin": [v.value(depth)]}}),
            Legacy::ConsecutiveErrors(v) => json!({"trafficPolicy": {"outlierDetection": {
                "consecutiveErrors": v.value(depth)
            }}}),
            Legacy::LeastConn => {
                json!({"trafficPolicy": {"loadBalancer": {"simple": "LEAST_CONN"}}})
            }
            Legacy::MinimumRingSize(v) => json!({"trafficPolicy": {"loadBalancer": {
                "consistentHash": {"httpHeaderName": "x-user", "minimumRingSize": v.value(depth)}
            }}}),
        }
    }
}

impl Plan {
    /// The AdmissionReview body this plan makes, as bytes to review.
    pub fn body(&self) -> Vec<u8> {
        let bodies = captured_bodies();
        let mut review = bodies[usize::from(self.fixture) % bodies.len()].clone();
        for edit in self.edits.iter().take(MAX_EDITS) {
            edit.apply(&mut review);
        }
        serde_json::to_vec(&review).expect("JSON serializes")
    }
}

impl Edit {
    fn apply(&self, review: &mut Value) {
        match &self.change {
            Change::Retarget(target) => return retarget(review, target),
            Change::CopyToOld => {
                let object = review["request"]["object"].clone();
                if let Some(request) = review.get_mut("request").and_then(Value::as_object_mut) {
                    request.insert("oldObject".into(), object);
                }
                return;
            }
            _ => {}
        }
        let Some(start) = review.pointer_mut(self.start.pointer()) else {
            return;
        };
        let path = walk(start, &self.steps);
        match &self.change {
            Change::Replace(value) => {
                if let Some(node) = node_at(start, &path) {
                    *node = value.value(0);
                }
            }
            Change::Remove => {
                let Some((last, parent)) = path.split_last() else {
                    return;
                };
                match node_at(start, parent) {
                    Some(Value::Object(map)) => {
                        if let Some(key) = map.keys().nth(*last).cloned() {
                            map.remove(&key);
                        }
                    }
                    Some(Value::Array(items)) if *last < items.len() => {
                        items.remove(*last);
                    }
                    _ => {}
                }
            }
            Change::Insert(key, value) => {
                if let Some(node) = node_at(start, &path) {
                    match node {
                        Value::Object(map) => {
                            map.insert(key.text(), value.value(0));
                        }
                        Value::Array(items) => items.push(value.value(0)),
                        other => {
                            let mut map = Map::new();
                            map.insert(key.text(), value.value(0));
                            *other = Value::Object(map);
                        }
                    }
                }
            }
            Change::Retarget(_) | Change::CopyToOld => {}
        }
    }
}

/// Child positions from `node` down, one per step, until a leaf.
fn walk(node: &Value, steps: &[u8]) -> Vec<usize> {
    let mut path = Vec::new();
    let mut node = node;
    for step in steps {
        let step = usize::from(*step);
        node = match node {
            Value::Object(map) if !map.is_empty() => {
                path.push(step % map.len());
                map.values().nth(step % map.len()).expect("in range")
            }
            Value::Array(items) if !items.is_empty() => {
                path.push(step % items.len());
                &items[step % items.len()]
            }
            _ => break,
        };
    }
    path
}

fn node_at<'a>(mut node: &'a mut Value, path: &[usize]) -> Option<&'a mut Value> {
    for &index in path {
        node = match node {
            Value::Object(map) => map.values_mut().nth(index)?,
            Value::Array(items) => items.get_mut(index)?,
            _ => return None,
        };
    }
    Some(node)
}

fn retarget(review: &mut Value, target: &Target) {
    let (group, version, kind) = match target {
        Target::Namespace => ("", "v1", "Namespace"),
        Target::VirtualService(v) => ("networking.istio.io", v.as_str(), "VirtualService"),
        Target::ServiceEntry(v) => ("networking.istio.io", v.as_str(), "ServiceEntry"),
        Target::DestinationRule(v) => ("networking.istio.io", v.as_str(), "DestinationRule"),
    };
    let api_version = if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    };
    let gvk = json!({"group": group, "version": version, "kind": kind});
    let Some(request) = review.get_mut("request").and_then(Value::as_object_mut) else {
        return;
    };
    request.insert("kind".into(), gvk.clone());
    request.insert("requestKind".into(), gvk);
    for field in ["object", "oldObject"] {
        if let Some(object) = request.get_mut(field).and_then(Value::as_object_mut) {
            object.insert("kind".into(), json!(kind));
            object.insert("apiVersion".into(), json!(api_version));
        }
    }
}
