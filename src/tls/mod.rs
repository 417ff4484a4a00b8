//! TLS for the webhook: loading PEM credentials (refusing a key that does not match), a
//! certificate resolver whose pair can be swapped while connections are open, and the rustls
//! server configuration (TLS 1.2/1.3, ALPN h2 and http/1.1, optional client certificates).

pub mod expiry;

use std::sync::Arc;

use arc_swap::ArcSwap;
use rustls::crypto::CryptoProvider;
use rustls::server::{ClientHello, ResolvesServerCert, WebPkiClientVerifier};
use rustls::sign::CertifiedKey;
use rustls::{RootCertStore, ServerConfig};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

/// Why credentials did not load.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// No `CERTIFICATE` block in the certificate file.
    #[error("no PEM certificate found")]
    NoCertificate,
    /// The certificate PEM did not decode.
    #[error("certificate is not valid PEM: {0}")]
    CertificatePem(String),
    /// No private key block, or it did not decode.
    #[error("no usable PEM private key found: {0}")]
    Key(String),
    /// rustls refused the pair (unsupported key type, or the key does not match the certificate).
    #[error("certificate and key do not form a usable pair")]
    Pair(#[source] rustls::Error),
    /// The client CA bundle is unusable.
    #[error("client CA: {0}")]
    ClientCa(String),
    /// The leaf certificate's validity period could not be read.
    #[error("the certificate's validity period could not be read")]
    NoValidity,
    /// The leaf certificate's `notAfter` has passed.
    #[error("the certificate expired at {0} (notAfter); every handshake would fail")]
    Expired(String),
    /// The leaf certificate's `notBefore` is still to come.
    #[error(
        "the certificate is not valid before {0} (notBefore); every handshake would fail until then"
    )]
    NotYetValid(String),
    /// The leaf certificate does not cover the name the API server dials.
    #[error(
        "the certificate is not valid for {expected} (--tls-server-name), the name the API server dials; its DNS names are: {found}"
    )]
    WrongName {
        /// The name it must cover.
        expected: String,
        /// The DNS SANs it has.
        found: String,
    },
}

/// What a serving pair must satisfy besides matching its key.
#[derive(Debug, Clone, Default)]
pub struct Requirements {
    /// A DNS name the leaf certificate must be valid for (`--tls-server-name`).
    pub server_name: Option<String>,
}

fn timestamp(unix: i64) -> String {
    match time::OffsetDateTime::from_unix_timestamp(unix) {
        Ok(t) => format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        ),
        Err(_) => unix.to_string(),
    }
}

/// Refuses a leaf certificate that is expired, not yet valid at `now` (Unix seconds), or not
/// valid for the required server name: serving it would fail every handshake.
pub fn check_leaf(
    leaf: &CertificateDer<'_>,
    requirements: &Requirements,
    now: i64,
) -> Result<(), TlsError> {
    let (not_before, not_after) = expiry::validity_unix(leaf).ok_or(TlsError::NoValidity)?;
    if now > not_after {
        return Err(TlsError::Expired(timestamp(not_after)));
    }
    if now < not_before {
        return Err(TlsError::NotYetValid(timestamp(not_before)));
    }
    if let Some(expected) = &requirements.server_name {
        let wrong = |found: String| TlsError::WrongName {
            expected: expected.clone(),
            found,
        };
        let name = rustls_pki_types::ServerName::try_from(expected.as_str())
            .map_err(|_| wrong("(not a valid DNS name to check)".into()))?;
        let cert = webpki::EndEntityCert::try_from(leaf)
            .map_err(|e| wrong(format!("(certificate not readable: {e})")))?;
        if cert.verify_is_valid_for_subject_name(&name).is_err() {
            let names: Vec<&str> = cert.valid_dns_names().collect();
            return Err(wrong(if names.is_empty() {
                "none".into()
            } else {
                names.join(", ")
            }));
        }
    }
    Ok(())
}

/// The current time in Unix seconds.
pub fn now_unix() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// The crypto provider meshgate uses everywhere (ring: one crypto library, no C toolchain).
pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A loaded serving certificate and key.
#[derive(Debug, Clone)]
pub struct Credentials {
    /// What rustls serves.
    pub certified: Arc<CertifiedKey>,
    /// The leaf certificate's `notAfter` (Unix seconds), when it could be read.
    pub not_after: Option<i64>,
}

/// Parses a PEM certificate chain.
pub fn parse_certificates(pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let chain = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsError::CertificatePem(e.to_string()))?;
    if chain.is_empty() {
        return Err(TlsError::NoCertificate);
    }
    Ok(chain)
}

/// Parses a PEM chain and key and checks that the key belongs to the leaf certificate and
/// that the leaf meets `requirements` now.
pub fn load_credentials(
    cert_pem: &[u8],
    key_pem: &[u8],
    requirements: &Requirements,
) -> Result<Credentials, TlsError> {
    let chain = parse_certificates(cert_pem)?;
    check_leaf(&chain[0], requirements, now_unix())?;
    let key = PrivateKeyDer::from_pem_slice(key_pem).map_err(|e| TlsError::Key(e.to_string()))?;
    let not_after = expiry::not_after_unix(&chain[0]);
    let certified = CertifiedKey::from_der(chain, key, &provider()).map_err(TlsError::Pair)?;
    Ok(Credentials {
        certified: Arc::new(certified),
        not_after,
    })
}

/// Serves whichever pair was stored last; swapping takes effect at the next handshake, while
/// established connections keep theirs.
#[derive(Debug)]
pub struct SwappableCert {
    current: ArcSwap<CertifiedKey>,
}

impl SwappableCert {
    /// Starts with `credentials`.
    pub fn new(credentials: &Credentials) -> Self {
        Self {
            current: ArcSwap::new(credentials.certified.clone()),
        }
    }

    /// Serves `credentials` from the next handshake on.
    pub fn store(&self, credentials: &Credentials) {
        self.current.store(credentials.certified.clone());
    }
}

impl ResolvesServerCert for SwappableCert {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.current.load_full())
    }
}

/// The server configuration: TLS 1.2 and 1.3, ALPN `h2` and `http/1.1`, and client
/// certificates required when a client CA bundle is given.
pub fn server_config(
    certs: Arc<SwappableCert>,
    client_ca_pem: Option<&[u8]>,
) -> Result<ServerConfig, TlsError> {
    let provider = provider();
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(TlsError::Pair)?;
    let builder = match client_ca_pem {
        None => builder.with_no_client_auth(),
        Some(pem) => {
            let mut roots = RootCertStore::empty();
            for cert in parse_certificates(pem).map_err(|e| TlsError::ClientCa(e.to_string()))? {
                roots
                    .add(cert)
                    .map_err(|e| TlsError::ClientCa(e.to_string()))?;
            }
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .map_err(|e| TlsError::ClientCa(e.to_string()))?;
            builder.with_client_cert_verifier(verifier)
        }
    };
    let mut config = builder.with_cert_resolver(certs);
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}
