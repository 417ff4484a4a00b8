//! What every layer shares about the objects meshgate reads, and nothing else: which kind an
//! object is, where a field is (`FieldPath`), and reading a field written in either spelling.
//! It depends on no other module, so the rules, the schema and the manifest reader can all use
//! it without depending on one another.

pub mod fields;
pub mod path;

use serde_json::Value;

pub use path::FieldPath;

/// The kinds meshgate checks; everything else is allowed without a word.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ObjectKind {
    /// `v1/Namespace`.
    Namespace,
    /// `networking.istio.io/*/VirtualService`.
    VirtualService,
    /// `networking.istio.io/*/ServiceEntry`.
    ServiceEntry,
    /// `networking.istio.io/*/DestinationRule`.
    DestinationRule,
}

impl ObjectKind {
    /// The kind a group and kind name denote, if meshgate checks it.
    pub fn from_group_kind(group: &str, kind: &str) -> Option<Self> {
        match (group, kind) {
            ("", "Namespace") => Some(ObjectKind::Namespace),
            ("networking.istio.io", "VirtualService") => Some(ObjectKind::VirtualService),
            ("networking.istio.io", "ServiceEntry") => Some(ObjectKind::ServiceEntry),
            ("networking.istio.io", "DestinationRule") => Some(ObjectKind::DestinationRule),
            _ => None,
        }
    }

    /// The kind of a manifest, from its `apiVersion` and `kind`.
    pub fn of(object: &Value) -> Option<Self> {
        let api_version = object.get("apiVersion")?.as_str()?;
        let (group, _) = api_version.rsplit_once('/').unwrap_or(("", api_version));
        Self::from_group_kind(group, object.get("kind")?.as_str()?)
    }

    /// The Kubernetes kind name.
    pub fn as_str(self) -> &'static str {
        match self {
            ObjectKind::Namespace => "Namespace",
            ObjectKind::VirtualService => "VirtualService",
            ObjectKind::ServiceEntry => "ServiceEntry",
            ObjectKind::DestinationRule => "DestinationRule",
        }
    }
}
