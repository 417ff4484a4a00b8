//! The policy file (README "Policy file"): mode, per-rule actions, `minIstioVersion`,
//! exemptions and what ignore annotations may silence, parsed strictly so that a typo refuses
//! to start instead of silently doing nothing.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::path::Path;
use std::str::FromStr;

use serde::Deserialize;

use crate::rules::{Action, BadIstioVersion, IstioVersion, Rule};

/// The policy file's `apiVersion`.
pub const API_VERSION: &str = "meshgate.io/v1alpha1";
/// The policy file's `kind`.
pub const KIND: &str = "Policy";

/// Enforce (deny and patch) or audit (warn only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// `/validate` denies, `/mutate` patches.
    Enforce,
    /// Never a denial or a patch: warnings and audit annotations only.
    Audit,
}

impl Mode {
    /// The lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Enforce => "enforce",
            Mode::Audit => "audit",
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which findings an `ignore.meshgate.io/<rule-id>` annotation on an object may silence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IgnoreAnnotations {
    /// Only findings that would not deny: an application team can quiet a warning, not lift
    /// the platform team's denial.
    #[default]
    Warnings,
    /// Every finding, denials included.
    All,
    /// None: annotations are not read.
    None,
}

impl IgnoreAnnotations {
    /// The policy file's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            IgnoreAnnotations::Warnings => "warnings",
            IgnoreAnnotations::All => "all",
            IgnoreAnnotations::None => "none",
        }
    }
}

/// Why a policy was refused. Each names the key or value at fault.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    /// Not YAML, or a key or value of the wrong shape, at a line and column when known.
    #[error("{message}")]
    Syntax {
        /// Where, 1-based, when the parser knows.
        location: Option<(u64, u64)>,
        /// What is wrong.
        message: String,
    },
    /// `apiVersion` is not `meshgate.io/v1alpha1`.
    #[error("apiVersion: expected `{API_VERSION}`, found `{0}`")]
    ApiVersion(String),
    /// `kind` is not `Policy`.
    #[error("kind: expected `{KIND}`, found `{0}`")]
    Kind(String),
    /// A key under `rules` that is no rule id of the catalog, with the closest one when any.
    #[error("rules.{id}: unknown rule id{}", suggestion.map(|r| format!("; did you mean `{r}`?")).unwrap_or_default())]
    UnknownRule {
        /// The key as written.
        id: String,
        /// The catalog's id closest to it.
        suggestion: Option<Rule>,
    },
    /// `fix` on a rule that cannot fix.
    #[error(
        "rules.{0}: `fix` is not available for this rule (it has no fix); use deny, warn or off"
    )]
    NotFixable(String),
    /// `minIstioVersion` is not `MAJOR.MINOR`.
    #[error("minIstioVersion: {0}")]
    MinIstioVersion(BadIstioVersion),
}

impl PolicyError {
    /// Line and column of the fault, when known.
    pub fn location(&self) -> Option<(u64, u64)> {
        match self {
            PolicyError::Syntax { location, .. } => *location,
            _ => None,
        }
    }

    fn syntax(error: &serde_saphyr::Error) -> Self {
        let location = error.location().map(|l| (l.line(), l.column()));
        let mut message = error.without_snippet().to_string();
        // The location is reported as `file:line:column`, so it is not repeated in words.
        if let Some((line, column)) = location {
            let suffix = format!(" at line {line}, column {column}");
            if let Some(stripped) = message.strip_suffix(&suffix) {
                message = stripped.to_string();
            }
        }
        PolicyError::Syntax { location, message }
    }
}

/// The file as written; every key optional but `apiVersion` and `kind`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct PolicyFile {
    api_version: String,
    kind: String,
    mode: Option<Mode>,
    min_istio_version: Option<String>,
    exempt_namespaces: Option<Vec<String>>,
    exempt_users: Option<Vec<String>>,
    exempt_groups: Option<Vec<String>>,
    rules: Option<BTreeMap<String, Action>>,
    allow_ignore_annotations: Option<IgnoreAnnotations>,
}

/// A validated policy, ready for the engine.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    /// Enforce or audit.
    pub mode: Mode,
    /// The oldest control plane that still reads these objects; gates fixes and version-dependent verdicts.
    pub min_istio_version: IstioVersion,
    /// Objects in these namespaces, and the Namespaces of these names, are not checked.
    pub exempt_namespaces: HashSet<String>,
    /// Requests by these users are not checked.
    pub exempt_users: HashSet<String>,
    /// Requests by members of these groups are not checked.
    pub exempt_groups: HashSet<String>,
    /// Actions the file sets; other rules keep their default.
    pub actions: HashMap<Rule, Action>,
    /// Which findings `ignore.meshgate.io/<rule-id>` annotations may silence.
    pub allow_ignore_annotations: IgnoreAnnotations,
}

/// The namespaces exempt when the policy does not say otherwise.
pub const DEFAULT_EXEMPT_NAMESPACES: [&str; 3] = ["kube-system", "kube-public", "kube-node-lease"];

pub use crate::rules::DEFAULT_MIN_ISTIO_VERSION;

impl Default for Policy {
    fn default() -> Self {
        Self {
            mode: Mode::Enforce,
            min_istio_version: DEFAULT_MIN_ISTIO_VERSION,
            exempt_namespaces: DEFAULT_EXEMPT_NAMESPACES
                .iter()
                .map(|s| s.to_string())
                .collect(),
            exempt_users: HashSet::new(),
            exempt_groups: HashSet::new(),
            actions: HashMap::new(),
            allow_ignore_annotations: IgnoreAnnotations::default(),
        }
    }
}

impl Policy {
    /// The action for a rule: the policy's, else the catalog default.
    pub fn action(&self, rule: Rule) -> Action {
        self.actions
            .get(&rule)
            .copied()
            .unwrap_or_else(|| rule.default_action())
    }

    /// This policy with the mode replaced (the `--mode` flag wins over the file).
    pub fn with_mode(mut self, mode: Option<Mode>) -> Self {
        if let Some(mode) = mode {
            self.mode = mode;
        }
        self
    }
}

impl FromStr for Policy {
    type Err = PolicyError;

    /// Parses and validates a policy file. Keys the file omits keep the built-in defaults.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let file: PolicyFile = serde_saphyr::from_str(text).map_err(|e| PolicyError::syntax(&e))?;
        if file.api_version != API_VERSION {
            return Err(PolicyError::ApiVersion(file.api_version));
        }
        if file.kind != KIND {
            return Err(PolicyError::Kind(file.kind));
        }
        let defaults = Policy::default();
        let mut actions = HashMap::new();
        for (id, action) in file.rules.unwrap_or_default() {
            let rule: Rule = id.parse().map_err(|_| PolicyError::UnknownRule {
                suggestion: Rule::closest(&id),
                id: id.clone(),
            })?;
            if action == Action::Fix && !rule.fixable() {
                return Err(PolicyError::NotFixable(id));
            }
            actions.insert(rule, action);
        }
        let set = |list: Option<Vec<String>>, default: HashSet<String>| {
            list.map_or(default, |items| items.into_iter().collect())
        };
        Ok(Policy {
            mode: file.mode.unwrap_or(defaults.mode),
            min_istio_version: match file.min_istio_version {
                Some(text) => text.parse().map_err(PolicyError::MinIstioVersion)?,
                None => defaults.min_istio_version,
            },
            exempt_namespaces: set(file.exempt_namespaces, defaults.exempt_namespaces),
            exempt_users: set(file.exempt_users, defaults.exempt_users),
            exempt_groups: set(file.exempt_groups, defaults.exempt_groups),
            actions,
            allow_ignore_annotations: file.allow_ignore_annotations.unwrap_or_default(),
        })
    }
}

/// Reads and validates the policy file (`--policy`), or the built-in default; `mode` (`--mode`)
/// wins over the file's.
pub fn load(path: Option<&Path>, mode: Option<Mode>) -> anyhow::Result<Policy> {
    let policy = match path {
        None => Policy::default(),
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| anyhow::anyhow!("--policy {}: {e}", path.display()))?;
            text.parse::<Policy>()
                .map_err(|e| anyhow::anyhow!("--policy {}", located(path, &e)))?
        }
    };
    Ok(policy.with_mode(mode))
}

/// `file:line:column: message`, or `file: message` when the fault has no position: each
/// fault said once, with the file it is in.
pub fn located(path: &Path, error: &PolicyError) -> String {
    match error.location() {
        Some((line, column)) => format!("{}:{line}:{column}: {error}", path.display()),
        None => format!("{}: {error}", path.display()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = r#"
apiVersion: meshgate.io/v1alpha1
kind: Policy
mode: enforce                 # enforce | audit
minIstioVersion: "1.4"
exemptNamespaces: [kube-system, kube-public, kube-node-lease]
exemptUsers: []
exemptGroups: []
rules:
  namespace-injection-conflict: deny
  virtualservice-weights: warn
"#;

    #[test]
    fn the_documented_example_parses() {
        let policy: Policy = EXAMPLE.parse().unwrap();
        assert_eq!(policy.mode, Mode::Enforce);
        assert_eq!(policy.min_istio_version, IstioVersion::new(1, 4));
        assert_eq!(policy.action(Rule::VirtualServiceWeights), Action::Warn);
        assert_eq!(policy.action(Rule::VirtualServiceLegacyFields), Action::Fix);
        assert!(policy.exempt_namespaces.contains("kube-node-lease"));
    }

    #[test]
    fn the_default_policy_is_the_example_with_no_rules() {
        let text = EXAMPLE.replace(
            "rules:\n  namespace-injection-conflict: deny\n  virtualservice-weights: warn\n",
            "rules: {}\n",
        );
        assert_eq!(text.parse::<Policy>().unwrap(), Policy::default());
    }

    #[test]
    fn omitted_keys_keep_defaults_and_empty_lists_clear_them() {
        let policy: Policy = "apiVersion: meshgate.io/v1alpha1\nkind: Policy\n"
            .parse()
            .unwrap();
        assert_eq!(policy, Policy::default());
        let policy: Policy =
            "apiVersion: meshgate.io/v1alpha1\nkind: Policy\nexemptNamespaces: []\n"
                .parse()
                .unwrap();
        assert!(policy.exempt_namespaces.is_empty());
    }

    #[test]
    fn mistakes_are_refused_naming_the_key() {
        let head = "apiVersion: meshgate.io/v1alpha1\nkind: Policy\n";
        let cases = [
            (format!("{head}exemptNamespace: [a]\n"), "exemptNamespace"),
            (
                format!("{head}rules:\n  virtualservice-wieghts: warn\n"),
                "virtualservice-wieghts",
            ),
            (
                format!("{head}rules:\n  virtualservice-weights: fix\n"),
                "virtualservice-weights",
            ),
            (
                format!("{head}rules:\n  virtualservice-weights: block\n"),
                "block",
            ),
            (format!("{head}mode: strict\n"), "strict"),
            (
                format!("{head}minIstioVersion: latest\n"),
                "minIstioVersion",
            ),
            ("apiVersion: v1\nkind: Policy\n".to_string(), "apiVersion"),
            (
                "apiVersion: meshgate.io/v1alpha1\nkind: ConfigMap\n".to_string(),
                "kind",
            ),
            ("- not\n- a map\n".to_string(), ""),
        ];
        for (text, named) in cases {
            let err = text.parse::<Policy>().expect_err(&text).to_string();
            assert!(
                err.contains(named),
                "error for {text:?} should name {named:?}: {err}"
            );
        }
    }

    #[test]
    fn mode_override_wins() {
        let policy = Policy::default().with_mode(Some(Mode::Audit));
        assert_eq!(policy.mode, Mode::Audit);
        assert_eq!(Policy::default().with_mode(None).mode, Mode::Enforce);
    }
}
