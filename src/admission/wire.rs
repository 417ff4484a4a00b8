//! The AdmissionReview wire format (admission.k8s.io v1 and v1beta1), only the fields meshgate
//! reads and writes. Own types rather than kube's: the response must carry `patch` as a base64
//! string (kube serializes it as an array of numbers), and requests are decoded in one pass.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;

/// The two AdmissionReview versions the API server may send; the answer uses the same one.
pub const V1: &str = "admission.k8s.io/v1";
/// The older version, still accepted.
pub const V1BETA1: &str = "admission.k8s.io/v1beta1";

/// An incoming AdmissionReview.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReviewIn {
    /// `admission.k8s.io/v1` or `v1beta1`.
    pub api_version: Option<String>,
    /// `AdmissionReview`.
    pub kind: Option<String>,
    /// The request; absent means this is not a request.
    pub request: Option<RequestIn>,
}

/// `request` of an AdmissionReview.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestIn {
    /// Identifies this call; echoed in the response.
    #[serde(default)]
    pub uid: Option<String>,
    /// The kind of `object` (possibly converted from what the user sent).
    pub kind: Option<GroupVersionKind>,
    /// What the user sent, before any conversion.
    pub request_kind: Option<GroupVersionKind>,
    /// The object's name.
    #[serde(default)]
    pub name: Option<String>,
    /// The object's namespace (a Namespace's own name for Namespace requests).
    #[serde(default)]
    pub namespace: Option<String>,
    /// CREATE, UPDATE, DELETE or CONNECT.
    pub operation: Option<String>,
    /// The requester.
    #[serde(default)]
    pub user_info: UserInfo,
    /// The new object; `null` on DELETE.
    #[serde(default)]
    pub object: Option<Value>,
    /// The stored object on UPDATE and DELETE, kept as text: most reviews never need it, and on
    /// a large UPDATE building it as a value would double the parse.
    #[serde(default)]
    pub old_object: Option<Box<RawValue>>,
    /// Whether this is a dry run (meshgate has no side effects, so it answers the same).
    #[serde(default)]
    pub dry_run: Option<bool>,
}

/// Group, version and kind.
#[derive(Debug, Clone, Deserialize)]
pub struct GroupVersionKind {
    /// API group; empty for the core group.
    #[serde(default)]
    pub group: String,
    /// API version.
    #[serde(default)]
    pub version: String,
    /// Kind.
    #[serde(default)]
    pub kind: String,
}

impl GroupVersionKind {
    /// The `apiVersion` string objects of this kind carry.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }
}

/// `request.userInfo`.
#[derive(Debug, Default, Deserialize)]
pub struct UserInfo {
    /// The user name.
    #[serde(default)]
    pub username: String,
    /// The user's groups.
    #[serde(default)]
    pub groups: Vec<String>,
}

/// An outgoing AdmissionReview.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReviewOut<'a> {
    /// The request's version.
    pub api_version: &'a str,
    /// `AdmissionReview`.
    pub kind: &'static str,
    /// The answer.
    pub response: ResponseOut,
}

/// `response` of an AdmissionReview.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResponseOut {
    /// The request's uid.
    pub uid: String,
    /// Whether the request may proceed.
    pub allowed: bool,
    /// Why it may not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<StatusOut>,
    /// Base64 of the JSON Patch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub patch: Option<String>,
    /// `JSONPatch` exactly when `patch` is set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub patch_type: Option<&'static str>,
    /// Shown to the user by kubectl.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// Stored in the audit log as `<webhook-name>/<key>`.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub audit_annotations: BTreeMap<&'static str, String>,
}

/// A `metav1.Status` for a denial.
#[derive(Debug, Serialize)]
pub struct StatusOut {
    /// Always `Failure`.
    pub status: &'static str,
    /// Always 403.
    pub code: u16,
    /// Always `Forbidden`.
    pub reason: &'static str,
    /// `meshgate: ` and the denying findings.
    pub message: String,
    /// One cause per denying finding.
    pub details: DetailsOut,
}

/// `status.details`.
#[derive(Debug, Serialize)]
pub struct DetailsOut {
    /// The causes.
    pub causes: Vec<CauseOut>,
}

/// One `status.details.causes[]` entry.
#[derive(Debug, Serialize)]
pub struct CauseOut {
    /// Always `FieldValueInvalid`.
    pub reason: &'static str,
    /// The finding's path.
    pub field: String,
    /// `<rule-id>: <message>`.
    pub message: String,
}
