//! `serviceentry-hosts`: at least one host, none `*`, each a DNS name or a wildcard whose first
//! label starts with `*`; partial wildcards (`*api.example.com`) warned about as Istio does.

use super::{DYNAMIC_DNS_SINCE, Entry, error, warning};
use crate::rules::names::{check_wildcard_domain, is_partial_wildcard};
use crate::rules::vocabulary::Resolution;
use crate::rules::{FieldPath, Finding, IstioVersion, Rule};

/// The first release whose validation warns about a partial wildcard ServiceEntry host
/// (istio/istio#44204); earlier ones accept it silently.
const PARTIAL_WILDCARD_WARNED_SINCE: IstioVersion = IstioVersion::new(1, 18);

pub(super) fn check(entry: &Entry<'_>, oldest: IstioVersion, findings: &mut Vec<Finding>) {
    let rule = Rule::ServiceEntryHosts;
    if entry.hosts.is_empty() {
        findings.push(error(
            rule,
            FieldPath::fields("spec.hosts"),
            "a ServiceEntry needs at least one host",
        ));
    }
    for (path, host) in &entry.hosts {
        if *host == "*" {
            findings.push(error(
                rule,
                path.clone(),
                "`*` is not allowed in a ServiceEntry: name the hosts",
            ));
        } else if let Err(reason) = check_wildcard_domain(host) {
            findings.push(error(
                rule,
                path.clone(),
                format!("{reason}: write a DNS name or *.domain"),
            ));
        } else if is_partial_wildcard(host) && entry.resolution != Resolution::DynamicDns {
            // Past the domain check, the `*` can only open the first label (`*api.example.com`).
            // Under DYNAMIC_DNS (Istio 1.28 and later, which never warned there) the host is
            // matched by the dynamic forward proxy, which takes such prefixes; an older control
            // plane refuses the resolution itself, which serviceentry-resolution reports.
            findings.push(warning(
                rule,
                path.clone(),
                partial_wildcard_message(host, oldest),
            ));
        }
    }
}

fn partial_wildcard_message(host: &str, oldest: IstioVersion) -> String {
    let rewrite = match host.split_once('.') {
        Some((_, domain)) => format!("write *.{domain} or list the names"),
        None => "list the names".to_string(),
    };
    let istio = if oldest < PARTIAL_WILDCARD_WARNED_SINCE {
        format!(
            "Istio {PARTIAL_WILDCARD_WARNED_SINCE} and later warn about it, earlier releases \
             accept it silently (minIstioVersion is {oldest})"
        )
    } else {
        format!("Istio {PARTIAL_WILDCARD_WARNED_SINCE} and later warn about it too")
    };
    format!(
        "partial wildcard `{host}`: Envoy takes only a whole leading `*.` label as a wildcard in \
         TLS server names, so with an HTTPS or TLS port the proxies reject that port's listener; \
         {istio}, and only resolution DYNAMIC_DNS (Istio {DYNAMIC_DNS_SINCE} and later) takes it \
         without a warning: {rewrite}"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::{ObjectKind, Severity, Subject};
    use serde_json::json;

    fn host_findings(
        host: &str,
        resolution: &str,
        oldest: IstioVersion,
    ) -> Vec<(Severity, String)> {
        let object = json!({"apiVersion": "networking.istio.io/v1", "kind": "ServiceEntry",
            "metadata": {"name": "ext", "namespace": "shop"},
            "spec": {"hosts": [host], "resolution": resolution,
                     "ports": [{"number": 80, "name": "http", "protocol": "HTTP"}]}});
        crate::rules::evaluate(&Subject {
            min_istio_version: oldest,
            ..Subject::created(ObjectKind::ServiceEntry, &object)
        })
        .into_iter()
        .filter(|f| f.rule == Rule::ServiceEntryHosts)
        .map(|f| {
            assert_eq!(f.path.to_string(), "spec.hosts[0]");
            (f.severity, f.message)
        })
        .collect()
    }

    fn severities(host: &str, resolution: &str) -> Vec<Severity> {
        host_findings(host, resolution, IstioVersion::new(1, 28))
            .into_iter()
            .map(|(severity, _)| severity)
            .collect()
    }

    #[test]
    fn a_star_inside_or_after_the_first_label_is_an_error() {
        for host in ["foo*.bar.com", "foo.*.com", "*.foo*.com", "a*b.example"] {
            assert_eq!(severities(host, "NONE"), [Severity::Error], "{host}");
        }
        assert_eq!(
            host_findings("foo*.bar.com", "NONE", IstioVersion::new(1, 28))[0].1,
            "\"foo*.bar.com\" is not a host name (label \"foo*\" is not 1-63 letters, digits or '-' \
             (or `*` first)): write a DNS name \
             or *.domain"
        );
    }

    #[test]
    fn a_star_prefixed_first_label_is_a_warning_except_under_dynamic_dns() {
        for host in ["*foo.bar.com", "*-foo.bar.com", "*foo"] {
            assert_eq!(severities(host, "NONE"), [Severity::Warning], "{host}");
            assert_eq!(severities(host, "STATIC"), [Severity::Warning], "{host}");
            assert_eq!(severities(host, "DYNAMIC_DNS"), [], "{host}");
        }
        for host in ["*.bar.com", "api.bar.com"] {
            assert_eq!(severities(host, "NONE"), [], "{host}");
        }
    }

    #[test]
    fn the_partial_wildcard_message_names_the_releases() {
        assert_eq!(
            host_findings("*foo.bar.com", "NONE", IstioVersion::new(1, 18)),
            [(
                Severity::Warning,
                "partial wildcard `*foo.bar.com`: Envoy takes only a whole leading `*.` label as \
                 a wildcard in TLS server names, so with an HTTPS or TLS port the proxies reject \
                 that port's listener; Istio 1.18 and later warn about it too, and only resolution \
                 DYNAMIC_DNS (Istio 1.28 and later) takes it without a warning: write *.bar.com \
                 or list the names"
                    .to_string()
            )]
        );
        assert_eq!(
            host_findings("*foo", "NONE", IstioVersion::new(1, 17)),
            [(
                Severity::Warning,
                "partial wildcard `*foo`: Envoy takes only a whole leading `*.` label as a \
                 wildcard in TLS server names, so with an HTTPS or TLS port the proxies reject \
                 that port's listener; Istio 1.18 and later warn about it, earlier releases accept \
                 it silently (minIstioVersion is 1.17), and only resolution DYNAMIC_DNS (Istio \
                 1.28 and later) takes it without a warning: list the names"
                    .to_string()
            )]
        );
    }
}
