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

use crate::rules::names::is_dns1123_label;

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

    /// Writes `ca.crt`, `tls.crt` and `tls.key` (owner-only) into `dir`, creating it. With
    /// [`Existing::Keep`], any of them already there (a dangling symbolic link included) is an
    /// `AlreadyExists` error before anything is written; one that appears while writing is too.
    pub fn write_to(&self, dir: &Path, existing: Existing) -> io::Result<()> {
        fs::create_dir_all(dir)?;
        if existing == Existing::Keep && !existing_files(dir).is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                format!("already there: {}", existing_files(dir).join(", ")),
            ));
        }
        write_file(&dir.join(CA_FILE), &self.ca_pem, existing, 0o644)?;
        write_file(&dir.join(CERT_FILE), &self.cert_pem, existing, 0o644)?;
        let key_path = dir.join(KEY_FILE);
        write_file(&key_path, &self.key_pem, existing, 0o600)?;
        #[cfg(unix)]
        {
            // A replaced key keeps the mode of the file it replaced until now.
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&key_path, fs::Permissions::from_mode(0o600))?;
        }
        Ok(())
    }
}

/// The CA certificate `meshgate certs` writes.
pub const CA_FILE: &str = "ca.crt";
/// The serving certificate.
pub const CERT_FILE: &str = "tls.crt";
/// The serving certificate's key.
pub const KEY_FILE: &str = "tls.key";

/// What [`CertBundle::write_to`] does with files already in the folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Existing {
    /// Refuse to write over them.
    Keep,
    /// Write over them (`--force`).
    Replace,
}

/// The files of a bundle that `dir` already holds, in the order they are written. A symbolic
/// link counts even when it points nowhere: writing would follow it.
pub fn existing_files(dir: &Path) -> Vec<&'static str> {
    [CA_FILE, CERT_FILE, KEY_FILE]
        .into_iter()
        .filter(|name| fs::symlink_metadata(dir.join(name)).is_ok())
        .collect()
}

/// Writes `contents` to `path`, created with `mode` (on Unix) so a new key is never readable by
/// others, not even for a moment.
fn write_file(path: &Path, contents: &str, existing: Existing, mode: u32) -> io::Result<()> {
    use std::io::Write;
    let mut options = fs::OpenOptions::new();
    options.write(true);
    match existing {
        Existing::Keep => options.create_new(true),
        Existing::Replace => options.create(true).truncate(true),
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(mode);
    }
    #[cfg(not(unix))]
    let _ = mode;
    let mut file = options.open(path)?;
    file.write_all(contents.as_bytes())?;
    file.sync_all()
}

/// Why `name` is not a DNS-1123 label (a Service or namespace name), if it is not.
pub fn check_dns_label(name: &str) -> Result<(), String> {
    if is_dns1123_label(name) {
        Ok(())
    } else {
        Err(
            "not a DNS-1123 label: 1-63 lowercase letters, digits or '-', starting and ending \
             with a letter or digit"
                .to_string(),
        )
    }
}

/// Why `name` is not a DNS name for a certificate (a DNS-1123 subdomain, whose first label may
/// be the wildcard `*`), if it is not.
pub fn check_dns_name(name: &str) -> Result<(), String> {
    if name.parse::<IpAddr>().is_ok() {
        return Err("an IP address, not a DNS name: pass it with --ip".to_string());
    }
    let domain = name.strip_prefix("*.").unwrap_or(name);
    if domain.len() <= 253 && domain.split('.').all(is_dns1123_label) {
        Ok(())
    } else {
        Err(
            "not a DNS-1123 subdomain: labels of 1-63 lowercase letters, digits or '-' \
             (starting and ending with a letter or digit) joined by '.', at most 253 characters \
             in all; the first label may be the wildcard `*`"
                .to_string(),
        )
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
    fn names_are_checked_as_kubernetes_and_certificates_need() {
        for good in ["meshgate", "meshgate-system", "a", "x1"] {
            assert_eq!(check_dns_label(good), Ok(()), "{good}");
        }
        for bad in ["Meshgate_X", "", "-a", "a-", "a.b", &"a".repeat(64)] {
            assert!(check_dns_label(bad).is_err(), "{bad}");
        }
        for good in [
            "webhook.example.test",
            "*.example.test",
            "meshgate",
            "a-1.b-2.c",
        ] {
            assert_eq!(check_dns_name(good), Ok(()), "{good}");
        }
        let long = format!("{}.example", "a".repeat(250));
        for bad in [
            "",
            "*",
            "a.*.example",
            "**.example",
            "Upper.example",
            "under_score.example",
            "trailing.",
            "a..b",
            long.as_str(),
        ] {
            assert!(check_dns_name(bad).is_err(), "{bad}");
        }
        assert!(check_dns_name("10.0.0.1").unwrap_err().contains("--ip"));
        assert!(check_dns_name("::1").unwrap_err().contains("--ip"));
    }

    #[test]
    fn existing_files_are_kept_unless_replacing() {
        let dir = tempfile::tempdir().unwrap();
        let bundle = CertBundle {
            ca_pem: "ca".into(),
            cert_pem: "cert".into(),
            key_pem: "key".into(),
        };
        assert!(existing_files(dir.path()).is_empty());
        std::fs::write(dir.path().join(CERT_FILE), "old").unwrap();
        assert_eq!(existing_files(dir.path()), [CERT_FILE]);
        let err = bundle.write_to(dir.path(), Existing::Keep).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(existing_files(dir.path()), [CERT_FILE], "nothing written");
        bundle.write_to(dir.path(), Existing::Replace).unwrap();
        assert_eq!(
            std::fs::read_to_string(dir.path().join(CERT_FILE)).unwrap(),
            "cert"
        );
        assert_eq!(existing_files(dir.path()), [CA_FILE, CERT_FILE, KEY_FILE]);
        #[cfg(unix)]
        {
            // A dangling link counts: writing would create the file it points to.
            let other = tempfile::tempdir().unwrap();
            std::os::unix::fs::symlink(other.path().join("elsewhere"), other.path().join(KEY_FILE))
                .unwrap();
            assert_eq!(existing_files(other.path()), [KEY_FILE]);
        }
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
