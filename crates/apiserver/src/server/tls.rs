//! The CA and serving certificate kept in the data directory, generated on first start.
use std::path::Path;
use std::sync::Arc;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, KeyUsagePurpose};
use rustls::ServerConfig;

use crate::Error;

/// The PEM files of the server's identity.
pub(crate) struct Identity {
    /// The CA certificate (what kubeconfigs carry as `certificate-authority-data`).
    pub ca_pem: String,
    pub cert_pem: String,
    pub key_pem: String,
}

fn tls_err(e: impl std::fmt::Display) -> Error {
    Error::Tls(e.to_string())
}

/// Loads `ca.crt`, `tls.crt` and `tls.key` from `dir`, generating all three if any is missing.
pub(crate) fn load_or_generate(dir: &Path) -> Result<Identity, Error> {
    let (ca, crt, key) = (dir.join("ca.crt"), dir.join("tls.crt"), dir.join("tls.key"));
    if ca.exists() && crt.exists() && key.exists() {
        return Ok(Identity {
            ca_pem: std::fs::read_to_string(&ca)?,
            cert_pem: std::fs::read_to_string(&crt)?,
            key_pem: std::fs::read_to_string(&key)?,
        });
    }
    let ca_key = KeyPair::generate().map_err(tls_err)?;
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).map_err(tls_err)?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "flotilla-apiserver-ca");
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    ca_params.not_after = rcgen::date_time_ymd(2100, 1, 1);
    let issuer = rcgen::CertifiedIssuer::self_signed(ca_params, ca_key).map_err(tls_err)?;
    let mut params = CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()])
        .map_err(tls_err)?;
    params
        .distinguished_name
        .push(DnType::CommonName, "flotilla-apiserver");
    params.not_after = rcgen::date_time_ymd(2100, 1, 1);
    let server_key = KeyPair::generate().map_err(tls_err)?;
    let cert = params.signed_by(&server_key, &issuer).map_err(tls_err)?;
    let id = Identity {
        ca_pem: issuer.pem(),
        cert_pem: cert.pem(),
        key_pem: server_key.serialize_pem(),
    };
    write_private(&key, &id.key_pem)?;
    std::fs::write(&crt, &id.cert_pem)?;
    std::fs::write(&ca, &id.ca_pem)?;
    Ok(id)
}

/// Writes a file readable by its owner only.
pub(crate) fn write_private(path: &Path, text: &str) -> Result<(), Error> {
    use std::io::Write;
    #[cfg(unix)]
    use std::os::unix::fs::OpenOptionsExt;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    opts.mode(0o600);
    let mut f = opts.open(path)?;
    f.write_all(text.as_bytes())?;
    f.sync_all()?;
    Ok(())
}

/// The rustls configuration (ring provider, h2 and http/1.1).
pub(crate) fn server_config(id: &Identity) -> Result<Arc<ServerConfig>, Error> {
    let certs = rustls_pemfile::certs(&mut id.cert_pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(tls_err)?;
    let key = rustls_pemfile::private_key(&mut id.key_pem.as_bytes())
        .map_err(tls_err)?
        .ok_or_else(|| Error::Tls("no private key in tls.key".into()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut cfg = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(tls_err)?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(tls_err)?;
    cfg.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(cfg))
}

/// A random token (32 bytes, hex).
pub(crate) fn random_token() -> Result<String, Error> {
    let mut buf = [0u8; 32];
    getrandom::fill(&mut buf).map_err(|e| Error::Tls(e.to_string()))?;
    Ok(buf.iter().map(|b| format!("{b:02x}")).collect())
}
