//! Which namespaces see an object: Istio's `exportTo` on ServiceEntries, VirtualServices and
//! DestinationRules, and the `networking.istio.io/exportTo` annotation on Services.

use serde_json::Value;

/// The annotation that sets a Service's `exportTo`.
pub const SERVICE_EXPORT_TO: &str = "networking.istio.io/exportTo";

/// The namespaces an object is visible from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Visibility {
    /// Every namespace: `*`, or no `exportTo` (the mesh's default, `*` unless meshConfig says
    /// otherwise).
    All,
    /// These namespaces (`.` already replaced by the object's own).
    Namespaces(Vec<String>),
}

impl Visibility {
    /// From an `exportTo` list of an object in `own`: `.` its namespace, `*` every one, `~` none.
    pub fn from_export_to(list: Option<&Value>, own: &str) -> Self {
        let entries: Vec<&str> = match list {
            Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        Self::from_entries(entries, own)
    }

    /// From a Service's `networking.istio.io/exportTo` annotation (comma-separated).
    pub fn from_annotation(value: Option<&str>, own: &str) -> Self {
        let entries: Vec<&str> = value
            .map(|v| {
                v.split(',')
                    .map(str::trim)
                    .filter(|e| !e.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        Self::from_entries(entries, own)
    }

    fn from_entries(entries: Vec<&str>, own: &str) -> Self {
        if entries.is_empty() || entries.contains(&"*") {
            return Visibility::All;
        }
        let mut namespaces: Vec<String> = entries
            .into_iter()
            .filter(|entry| *entry != "~")
            .map(|entry| if entry == "." { own } else { entry }.to_string())
            .collect();
        namespaces.sort_unstable();
        namespaces.dedup();
        Visibility::Namespaces(namespaces)
    }

    /// Whether an object of `namespace` sees it.
    pub fn visible_from(&self, namespace: &str) -> bool {
        match self {
            Visibility::All => true,
            Visibility::Namespaces(namespaces) => namespaces.iter().any(|ns| ns == namespace),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn export_to_lists() {
        let of = |list: Value| Visibility::from_export_to(Some(&list), "shop");
        assert_eq!(Visibility::from_export_to(None, "shop"), Visibility::All);
        assert_eq!(of(json!([])), Visibility::All);
        assert_eq!(of(json!(["*"])), Visibility::All);
        assert_eq!(
            of(json!(["."])),
            Visibility::Namespaces(vec!["shop".into()])
        );
        assert_eq!(
            of(json!([".", "billing", "shop"])),
            Visibility::Namespaces(vec!["billing".into(), "shop".into()])
        );
        assert_eq!(of(json!(["~"])), Visibility::Namespaces(vec![]));
        assert!(!of(json!(["~"])).visible_from("shop"));
        assert!(of(json!(["."])).visible_from("shop"));
        assert!(!of(json!(["."])).visible_from("billing"));
    }

    #[test]
    fn service_annotations() {
        assert_eq!(Visibility::from_annotation(None, "shop"), Visibility::All);
        assert_eq!(
            Visibility::from_annotation(Some(" ., billing "), "shop"),
            Visibility::Namespaces(vec!["billing".into(), "shop".into()])
        );
    }
}
