//! Client TLS settings (Istio's `ValidateTLS`): which fields each mode admits. With a
//! `credentialName` the certificates come from a Secret, so no file field may stand beside it;
//! `MUTUAL` without one needs a client certificate and key; `insecureSkipVerify` leaves nothing
//! to verify with, so it takes no CA and no subject alternative names.

use serde_json::{Map, Value};

use super::{Walk, field, is_true, non_empty_list, text};
use crate::rules::vocabulary::TlsMode;
use crate::rules::{FieldPath, IstioVersion, Rule};

const RULE: Rule = Rule::DestinationRuleTls;

/// The prefix of a `credentialName` that names a ConfigMap (`configmap://<namespace>/<name>`).
const CONFIGMAP: &str = "configmap://";

/// Since when Istio refuses CA and subject alternative names beside `insecureSkipVerify`.
const SKIP_VERIFY_SINCE: IstioVersion = IstioVersion::new(1, 19);

/// Since when Istio refuses `caCrl` beside a `credentialName` (the other files since 1.7, when
/// client TLS first read a credential).
const CA_CRL_SINCE: IstioVersion = IstioVersion::new(1, 22);

/// Checks one `tls`.
pub(super) fn check(walk: &mut Walk<'_>, tls: &Map<String, Value>, path: &FieldPath) {
    let mode = TlsMode::parse(text(tls, "mode"));
    let credential = text(tls, "credentialName");
    let at = |name: &str| path.field(field(tls, name).map_or(name, |(k, _)| k));
    if let Some(configmap) = credential.strip_prefix(CONFIGMAP) {
        configmap_credential(walk, configmap, credential, at("credentialName"));
    }
    let set = |name: &str| !text(tls, name).is_empty();
    let sans = non_empty_list(tls, "subjectAltNames").is_some();
    if is_true(tls, "insecureSkipVerify") {
        // In MUTUAL mode the credential also holds the client certificate, so only SIMPLE
        // refuses a credentialName here.
        let conflicting: &[&str] = match mode {
            TlsMode::Simple => &["caCertificates", "credentialName", "subjectAltNames"],
            TlsMode::Mutual => &["caCertificates", "subjectAltNames"],
            _ => &[],
        };
        for name in conflicting {
            let present = if *name == "subjectAltNames" {
                sans
            } else {
                set(name)
            };
            if present {
                walk.error_since(
                    SKIP_VERIFY_SINCE,
                    RULE,
                    at(name),
                    format!(
                        "insecureSkipVerify turns off verifying the server, so {name} has \
                         nothing to do: remove {name}, or insecureSkipVerify"
                    ),
                );
            }
        }
    }
    let file_mode = matches!(mode, TlsMode::Simple | TlsMode::Mutual);
    if file_mode && !credential.is_empty() {
        for name in ["clientCertificate", "privateKey", "caCertificates", "caCrl"] {
            if set(name) {
                let since = if name == "caCrl" {
                    CA_CRL_SINCE
                } else {
                    IstioVersion::new(1, 0)
                };
                walk.error_since(
                    since,
                    RULE,
                    at(name),
                    format!(
                        "credentialName reads the certificates from a Secret, so {name} \
                         cannot be set beside it: remove {name}, or credentialName"
                    ),
                );
            }
        }
        return;
    }
    if mode == TlsMode::Mutual {
        for name in ["clientCertificate", "privateKey"] {
            if !set(name) {
                walk.error(
                    RULE,
                    at(name),
                    format!(
                        "MUTUAL TLS needs the client's {name}: write its file path, or a \
                         credentialName"
                    ),
                );
            }
        }
    }
}

/// `configmap://<namespace>/<name>`, in the object's own namespace.
fn configmap_credential(walk: &mut Walk<'_>, rest: &str, written: &str, path: FieldPath) {
    let mut parts = rest.split('/');
    let namespace = parts.next().unwrap_or("");
    let name = parts.next();
    let problem = match name {
        None => Some("it names no namespace".to_string()),
        Some(_) if namespace.is_empty() => Some("its namespace is empty".to_string()),
        Some("") => Some("its name is empty".to_string()),
        // The namespace is checked when the object's is known (a manifest may leave it to
        // `kubectl apply -n`).
        Some(_) => walk
            .namespace
            .filter(|own| *own != namespace)
            .map(|own| format!("{namespace} is not the object's namespace {own}")),
    };
    if let Some(problem) = problem {
        walk.error(
            RULE,
            path,
            format!(
                "credentialName {written:?} is not configmap://<this namespace>/<name> \
                 ({problem})"
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::destinationrule::spec::tests::run;
    use serde_json::{Value, json};

    fn tls(tls: Value) -> Vec<(String, String)> {
        run(json!({"host": "r", "trafficPolicy": {"tls": tls}}))
            .into_iter()
            .inspect(|f| assert_eq!(f.rule.to_string(), "destinationrule-tls"))
            .map(|f| (f.path.to_string(), f.message))
            .collect()
    }

    #[test]
    fn fields_each_mode_admits() {
        let p = "spec.trafficPolicy.tls";
        assert_eq!(
            tls(json!({"mode": "SIMPLE", "credentialName": "c", "privateKey": "k"})),
            [(format!("{p}.privateKey"), "credentialName reads the certificates from a Secret, so privateKey cannot be set beside it: remove privateKey, or credentialName".to_string())]
        );
        assert_eq!(
            tls(json!({"mode": "MUTUAL", "clientCertificate": "c"})),
            [(format!("{p}.privateKey"), "MUTUAL TLS needs the client's privateKey: write its file path, or a credentialName".to_string())]
        );
        assert_eq!(
            tls(json!({"mode": "SIMPLE", "subjectAltNames": ["a"], "insecureSkipVerify": true})),
            [(format!("{p}.subjectAltNames"), "insecureSkipVerify turns off verifying the server, so subjectAltNames has nothing to do: remove subjectAltNames, or insecureSkipVerify".to_string())]
        );
        assert!(
            tls(json!({"mode": "MUTUAL", "credentialName": "c", "insecureSkipVerify": true}))
                .is_empty()
        );
        assert!(
            tls(json!({"mode": "ISTIO_MUTUAL", "credentialName": "c", "privateKey": "k"}))
                .is_empty()
        );
        assert_eq!(
            tls(json!({"mode": "SIMPLE", "credentialName": "configmap://other/ca"})),
            [(format!("{p}.credentialName"), "credentialName \"configmap://other/ca\" is not configmap://<this namespace>/<name> (other is not the object's namespace shop)".to_string())]
        );
        assert!(tls(json!({"mode": "SIMPLE", "credentialName": "configmap://shop/ca"})).is_empty());
        assert_eq!(
            tls(json!({"mode": "SIMPLE", "credentialName": "configmap://ca"})).len(),
            1
        );
    }
}
