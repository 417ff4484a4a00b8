//! AdmissionReview in, AdmissionReview out: decodes the API server's request, runs the engine
//! and encodes its answer exactly as the README states. `serve` and `review` both call
//! [`review`], so the offline answer is byte for byte the server's.

pub mod response;
pub mod wire;

use serde_json::Value;
use serde_json::value::RawValue;

use crate::engine::{Engine, Outcome, Request, Requester, Webhook};
use crate::rules::{ObjectKind, Operation, Subject};
use wire::{GroupVersionKind, RequestIn, ReviewIn};

/// Why a body is not a review meshgate can answer. The server answers these with HTTP 400 and
/// the message as plain text, so the webhook's `failurePolicy` decides, never a denial.
#[derive(Debug, thiserror::Error)]
pub enum BadReview {
    /// The body is not JSON at all.
    #[error("request body is not JSON")]
    NotJson(#[source] serde_json::Error),
    /// JSON, but fields have the wrong shape.
    #[error("request body is not an AdmissionReview")]
    Malformed(#[source] serde_json::Error),
    /// `kind` is not `AdmissionReview`.
    #[error("request body is not an AdmissionReview: kind is {0:?}")]
    NotAReview(Option<String>),
    /// An `apiVersion` other than admission.k8s.io/v1 or v1beta1.
    #[error(
        "unsupported AdmissionReview apiVersion {0:?}: expected admission.k8s.io/v1 or admission.k8s.io/v1beta1"
    )]
    UnsupportedVersion(Option<String>),
    /// No `request`.
    #[error("AdmissionReview has no request")]
    MissingRequest,
    /// No or empty `request.uid`.
    #[error("request.uid is missing")]
    MissingUid,
    /// A `request.uid` far longer than the UUIDs the API server sends; echoing it would let a
    /// client make the answer as large as its request.
    #[error(
        "request.uid is {0} bytes long; the API server sends a UUID (at most {MAX_UID_BYTES} bytes are accepted)"
    )]
    UidTooLong(usize),
    /// No `request.kind`.
    #[error("request.kind is missing")]
    MissingKind,
    /// An operation the API server does not send.
    #[error("request.operation {0:?} is not CREATE, UPDATE, DELETE or CONNECT")]
    BadOperation(Option<String>),
    /// CREATE or UPDATE of a checked kind without an object.
    #[error("request.object is missing for a {0} request")]
    MissingObject(&'static str),
    /// The object or old object does not match `request.kind`.
    #[error("request.{field} is not a {claimed}: {found}")]
    WrongObject {
        /// `object` or `oldObject`.
        field: &'static str,
        /// What `request.kind` claims.
        claimed: String,
        /// What the object is.
        found: String,
    },
}

/// The longest `request.uid` accepted.
pub const MAX_UID_BYTES: usize = 128;

/// The outcome of one review, for the server's metrics and log line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Allowed without a patch.
    Allowed,
    /// Denied.
    Denied,
    /// Allowed with a patch.
    Patched,
}

impl Decision {
    /// The metric label.
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Allowed => "allowed",
            Decision::Denied => "denied",
            Decision::Patched => "patched",
        }
    }
}

/// One answered review.
#[derive(Debug)]
pub struct Answer {
    /// The AdmissionReview JSON to send back.
    pub body: Vec<u8>,
    /// Request identity for the log line.
    pub uid: String,
    /// The object's kind if meshgate checks it.
    pub kind: Option<ObjectKind>,
    /// The operation.
    pub operation: Operation,
    /// `namespace/name` of the object.
    pub object_ref: String,
    /// Allowed, denied or patched.
    pub decision: Decision,
    /// What the engine concluded.
    pub outcome: Outcome,
}

fn parse_operation(text: Option<&str>) -> Option<Operation> {
    Some(match text? {
        "CREATE" => Operation::Create,
        "UPDATE" => Operation::Update,
        "DELETE" => Operation::Delete,
        "CONNECT" => Operation::Connect,
        _ => return None,
    })
}

/// Checks that an object is a JSON object of the kind the request claims.
fn check_object(
    field: &'static str,
    object: &Value,
    claimed: &GroupVersionKind,
) -> Result<(), BadReview> {
    let wrong = |found: String| BadReview::WrongObject {
        field,
        claimed: format!("{} {}", claimed.api_version(), claimed.kind),
        found,
    };
    let Some(map) = object.as_object() else {
        return Err(wrong(format!("a JSON {}", json_type(object))));
    };
    if let Some(kind) = map.get("kind")
        && kind.as_str() != Some(claimed.kind.as_str())
    {
        return Err(wrong(format!("kind {kind}")));
    }
    if let Some(api_version) = map.get("apiVersion")
        && api_version.as_str() != Some(claimed.api_version().as_str())
    {
        return Err(wrong(format!("apiVersion {api_version}")));
    }
    Ok(())
}

/// The `kind` and `apiVersion` of a raw object, read without building the rest of it.
fn head_of(raw: &RawValue) -> Result<Value, BadReview> {
    #[derive(serde::Deserialize)]
    struct Head {
        kind: Option<Value>,
        #[serde(rename = "apiVersion")]
        api_version: Option<Value>,
    }
    match serde_json::from_str::<Head>(raw.get()) {
        Ok(head) => {
            let mut map = serde_json::Map::new();
            if let Some(kind) = head.kind {
                map.insert("kind".into(), kind);
            }
            if let Some(api_version) = head.api_version {
                map.insert("apiVersion".into(), api_version);
            }
            Ok(Value::Object(map))
        }
        // Not an object: the caller names what it is.
        Err(_) => serde_json::from_str(raw.get()).map_err(BadReview::Malformed),
    }
}

fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Answers one AdmissionReview body as `webhook`.
pub fn review(engine: &Engine, webhook: Webhook, body: &[u8]) -> Result<Answer, BadReview> {
    let review: ReviewIn = serde_json::from_slice(body).map_err(|e| {
        if e.is_data() {
            BadReview::Malformed(e)
        } else {
            BadReview::NotJson(e)
        }
    })?;
    if review.kind.as_deref() != Some("AdmissionReview") {
        return Err(BadReview::NotAReview(review.kind));
    }
    let api_version = match review.api_version.as_deref() {
        Some(wire::V1) => wire::V1,
        Some(wire::V1BETA1) => wire::V1BETA1,
        _ => return Err(BadReview::UnsupportedVersion(review.api_version)),
    };
    let request = review.request.ok_or(BadReview::MissingRequest)?;
    let RequestIn {
        uid,
        kind,
        request_kind,
        name,
        namespace,
        operation,
        user_info,
        object,
        old_object,
        dry_run: _,
    } = request;
    let uid = uid
        .filter(|uid| !uid.is_empty())
        .ok_or(BadReview::MissingUid)?;
    if uid.len() > MAX_UID_BYTES {
        return Err(BadReview::UidTooLong(uid.len()));
    }
    let gvk = kind.ok_or(BadReview::MissingKind)?;
    let operation_enum =
        parse_operation(operation.as_deref()).ok_or(BadReview::BadOperation(operation))?;
    let object = object.filter(|o| !o.is_null());
    let old_raw = old_object.filter(|o| o.get() != "null");
    if let Some(object) = &object {
        check_object("object", object, &gvk)?;
    }
    if let Some(old) = &old_raw {
        check_object("oldObject", &head_of(old)?, &gvk)?;
    }
    let object_kind = ObjectKind::from_group_kind(&gvk.group, &gvk.kind);
    let object_ref = match (&namespace, &name) {
        (Some(ns), Some(name)) if !ns.is_empty() && ns != name => format!("{ns}/{name}"),
        (_, Some(name)) => name.clone(),
        (Some(ns), None) => format!("{ns}/"),
        (None, None) => String::new(),
    };

    let outcome = match (object_kind, &object) {
        (Some(kind), Some(object)) => {
            let requested_version = request_kind.as_ref().unwrap_or(&gvk).version.as_str();
            // Namespace fixes read the stored object (which label the request changed); for the
            // other kinds only ratcheting does, and the engine parses it only when something
            // would be denied: a large UPDATE is then parsed once, not twice.
            let parsed_old = match (kind, &old_raw) {
                (ObjectKind::Namespace, Some(raw)) => {
                    Some(serde_json::from_str::<Value>(raw.get()).map_err(BadReview::Malformed)?)
                }
                _ => None,
            };
            let request = Request {
                subject: Subject {
                    kind,
                    operation: operation_enum,
                    object,
                    old_object: parsed_old.as_ref(),
                    requested_version: Some(requested_version),
                    namespace: namespace.as_deref(),
                    origin: crate::rules::Origin::Request,
                    min_istio_version: crate::rules::DEFAULT_MIN_ISTIO_VERSION,
                },
                requester: Requester {
                    username: &user_info.username,
                    groups: &user_info.groups,
                },
                stored: old_raw.as_deref(),
            };
            engine.review(&request, webhook)
        }
        (Some(kind), None) if matches!(operation_enum, Operation::Create | Operation::Update) => {
            return Err(BadReview::MissingObject(kind.as_str()));
        }
        _ => Outcome::default(),
    };
    let decision = if !outcome.allowed() {
        Decision::Denied
    } else if !outcome.patch.is_empty() {
        Decision::Patched
    } else {
        Decision::Allowed
    };
    let body = response::encode(api_version, uid.clone(), webhook, &outcome);
    Ok(Answer {
        body,
        uid,
        kind: object_kind,
        operation: operation_enum,
        object_ref,
        decision,
        outcome,
    })
}
