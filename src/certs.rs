//! Certificates for the webhook: a CA and a serving certificate whose SANs are the names the
//! API server dials (`<service>.<namespace>.svc` and friends), for `meshgate certs` and for the
//! development certificate `serve` makes when it is given none.

use std::fs;
use std::io;
use std::net::IpAddr;
use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose, SanType,
};
use time::{Duration, OffsetDateTime};

/// What a serving certificate is for.
#[derive(Debug, Clone)]
pub struct CertRequest {
    /// The subject common name (informational: the API server checks SANs only).
    pub common_name: String,
    /// DNS SANs.
    pub dns_names: Vec<String>,
    /// IP SANs.
    pub ips: Vec<IpAddr>,
    /// Days until both certificates expire.
    pub days: u32,
}

/// A CA and a serving certificate with its key, PEM encoded.
#[derive(Debug, Clone)]
pub struct CertBundle {
    /// The CA certificate: the webhook configurations' `caBundle`.
    pub ca_pem: String,
    /// The serving certificate.
    pub cert_pem: String,
    /// The serving certificate's private key (PKCS#8).
    pub key_pem: String,
}

impl CertBundle {
    /// The CA certificate as the base64 `caBundle` of a webhook configuration.
    pub fn ca_bundle_base64(&self) -> String {
        BASE64.encode(&self.ca_pem)
    }

    /// Writes `ca.crt`, `tls.crt` and `tls.key` (owner-only) into `dir`, creating it.
    pub fn write_to(&self, dir: &Path) -> io::Result<()> {
        fs::create_dir_all(dir)?;
        fs::write(dir.join("ca.crt"), &self.ca_pem)?;
        fs::write(dir.join("tls.crt"), &self.cert_pem)?;
        let key_path = dir.join("tls.key");
        fs::write(&key_path, &self.key_pem)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&key_path, fs::Permissions::from_mode(0o600))?;
        }
        Ok(())
    }
}

/// The names the API server may dial for a Service: `NAME`, `NAME.NS`, `NAME.NS.svc` (the one it
/// checks) and `NAME.NS.svc.cluster.local`.
pub fn service_names(service: &str, namespace: &str) -> Vec<String> {
    vec![
        service.to_string(),
        format!("{service}.{namespace}"),
        format!("{service}.{namespace}.svc"),
        format!("{service}.{namespace}.svc.cluster.local"),
    ]
}

/// Makes a fresh CA and a serving certificate signed by it.
pub fn generate(request: &CertRequest) -> Result<CertBundle, rcgen::Error> {
    let now = OffsetDateTime::now_utc();
    // Backdated a little so a node whose clock lags still accepts a fresh certificate.
    let not_before = now - Duration::minutes(5);
    let not_after = now + Duration::days(i64::from(request.days));

    let mut ca_params = CertificateParams::default();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca_params.distinguished_name = name(&format!("{} CA", request.common_name));
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    ca_params.not_before = not_before;
    ca_params.not_after = not_after;
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate()?)?;

    let mut params = CertificateParams::default();
    params.distinguished_name = name(&request.common_name);
    params.subject_alt_names = request
        .dns_names
        .iter()
        .map(|dns| Ok(SanType::DnsName(dns.as_str().try_into()?)))
        .chain(request.ips.iter().map(|ip| Ok(SanType::IpAddress(*ip))))
        .collect::<Result<_, rcgen::Error>>()?;
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.use_authority_key_identifier_extension = true;
    params.not_before = not_before;
    params.not_after = not_after;
    let key = KeyPair::generate()?;
    let cert = params.signed_by(&key, &ca)?;
    Ok(CertBundle {
        ca_pem: ca.pem(),
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
    })
}

fn name(common_name: &str) -> DistinguishedName {
    let mut name = DistinguishedName::new();
    name.push(DnType::CommonName, common_name);
    name
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tls;

    #[test]
    fn service_names_cover_what_the_api_server_dials() {
        assert_eq!(
            service_names("meshgate", "meshgate-system"),
            [
                "meshgate",
                "meshgate.meshgate-system",
                "meshgate.meshgate-system.svc",
                "meshgate.meshgate-system.svc.cluster.local"
            ]
        );
    }

    #[test]
    fn generated_pair_loads_and_expires_when_asked() {
        let bundle = generate(&CertRequest {
            common_name: "meshgate".into(),
            dns_names: service_names("meshgate", "meshgate-system"),
            ips: vec!["127.0.0.1".parse().unwrap()],
            days: 30,
        })
        .unwrap();
        let credentials = tls::load_credentials(
            bundle.cert_pem.as_bytes(),
            bundle.key_pem.as_bytes(),
            &Default::default(),
        )
        .unwrap();
        let expires = credentials.not_after.unwrap();
        let expected = (OffsetDateTime::now_utc() + Duration::days(30)).unix_timestamp();
        assert!((expires - expected).abs() < 120, "{expires} vs {expected}");
        // The key of one bundle does not fit the certificate of another.
        let other = generate(&CertRequest {
            common_name: "other".into(),
            dns_names: vec!["other".into()],
            ips: vec![],
            days: 1,
        })
        .unwrap();
        assert!(matches!(
            tls::load_credentials(
                bundle.cert_pem.as_bytes(),
                other.key_pem.as_bytes(),
                &Default::default()
            ),
            Err(tls::TlsError::Pair(_))
        ));
    }
}
