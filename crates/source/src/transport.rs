//! Per-connection transport configuration: ssh through the `ssh` binary with the Secret's key
//! and known_hosts (strict host key checking), https through reqwest on rustls with the ring
//! provider (system roots plus `ca.crt`, basic or bearer auth, optional client certificate),
//! and classification of transport failures into [`SourceError`]s.

use std::any::Any;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use gix::protocol::transport::client::blocking_io::{http, ssh};

use crate::credentials::Credentials;
use crate::error::{one_line, redact_url, SourceError};

/// The URL scheme families we configure differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// `file://` or a plain path.
    File,
    /// `ssh://` or scp-like `user@host:path`.
    Ssh,
    /// `http://` / `https://`.
    Http,
}

/// Classifies a URL (after insteadOf rewriting).
pub fn scheme_of(url: &str) -> Scheme {
    let lower = url.to_ascii_lowercase();
    if lower.starts_with("http://") || lower.starts_with("https://") {
        Scheme::Http
    } else if lower.starts_with("ssh://") || lower.starts_with("git+ssh://") {
        Scheme::Ssh
    } else if lower.starts_with("file://") || url.starts_with('/') || url.starts_with('.') {
        Scheme::File
    } else if url.contains(':') && !url.contains("://") {
        Scheme::Ssh
    } else {
        Scheme::File
    }
}

/// Everything a connection needs; owns the temporary ssh files (removed on drop).
pub struct Transport {
    scheme: Scheme,
    creds: Option<Arc<Credentials>>,
    timeout: Duration,
    tls: Option<Arc<rustls::ClientConfig>>,
    ssh_dir: Option<TempDir>,
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transport")
            .field("scheme", &self.scheme)
            .field("creds", &self.creds)
            .finish_non_exhaustive()
    }
}

impl Transport {
    /// Prepares the transport for `url`.
    pub fn new(
        url: &str,
        creds: Option<Arc<Credentials>>,
        timeout: Duration,
    ) -> Result<Self, SourceError> {
        let scheme = scheme_of(url);
        let mut t = Transport {
            scheme,
            creds,
            timeout,
            tls: None,
            ssh_dir: None,
        };
        match scheme {
            Scheme::Http => t.tls = Some(Arc::new(tls_config(t.creds.as_deref())?)),
            Scheme::Ssh => t.ssh_dir = Some(ssh_setup(t.creds.as_deref(), timeout)?),
            Scheme::File => {}
        }
        Ok(t)
    }

    /// How to start the ssh client (our wrapper), for ssh URLs.
    pub fn ssh_options(&self) -> Option<ssh::connect::Options> {
        let dir = self.ssh_dir.as_ref()?;
        Some(ssh::connect::Options {
            command: Some(dir.path.join("ssh").into_os_string()),
            disallow_shell: true,
            kind: Some(ssh::ProgramKind::Ssh),
        })
    }

    /// Options for `Connection::with_transport_options` (https only).
    pub fn options(&self) -> Option<Box<dyn Any>> {
        match self.scheme {
            Scheme::File | Scheme::Ssh => None,
            Scheme::Http => {
                let tls = self.tls.clone()?;
                let timeout = self.timeout;
                let bearer = self
                    .creds
                    .as_ref()
                    .and_then(|c| c.bearer_token.clone())
                    .map(|t| format!("Bearer {}", String::from_utf8_lossy(t.expose())));
                let mut backend = http::reqwest::Options {
                    configure_client: Some(Box::new(move |b| {
                        Ok(b.tls_backend_preconfigured((*tls).clone())
                            .connect_timeout(timeout)
                            .timeout(timeout))
                    })),
                    configure_request: None,
                };
                if let Some(bearer) = bearer {
                    backend.configure_request = Some(Box::new(move |req| {
                        if let Ok(mut v) = reqwest::header::HeaderValue::from_str(&bearer) {
                            v.set_sensitive(true);
                            req.headers_mut().insert(reqwest::header::AUTHORIZATION, v);
                        }
                        Ok(())
                    }));
                }
                let opts = http::Options {
                    backend: Some(Arc::new(Mutex::new(backend))),
                    user_agent: Some("flotilla-source".into()),
                    ..Default::default()
                };
                Some(Box::new(opts))
            }
        }
    }

    /// Forgets diagnostics of earlier connections (call before connecting).
    pub fn reset_diagnostics(&self) {
        if let Some(d) = &self.ssh_dir {
            let _ = std::fs::write(d.path.join("stderr"), b"");
        }
    }

    /// Maps a gix failure to a typed error, using the ssh client's diagnostics too.
    pub fn classify(&self, url: &str, err: &gix::Error) -> SourceError {
        let mut text = String::new();
        for e in err.iter_errors() {
            text.push_str(&e.to_string());
            text.push_str(" | ");
        }
        if let Some(d) = &self.ssh_dir {
            if let Ok(diag) = std::fs::read_to_string(d.path.join("stderr")) {
                for line in diag.lines().filter(|l| !l.trim().is_empty()) {
                    tracing::debug!(line, "ssh");
                    text.push_str(line);
                    text.push_str(" | ");
                }
            }
        }
        classify_text(url, &text, err.classify().is_unauthenticated())
    }

    /// Basic-auth credentials for the gix credential callback, if configured.
    pub fn basic(&self) -> Option<(String, String)> {
        let c = self.creds.as_ref()?;
        if self.scheme != Scheme::Http || !c.has_basic() {
            return None;
        }
        let user = c.username.clone()?;
        let pass = String::from_utf8_lossy(c.password.as_ref()?.expose()).into_owned();
        Some((user, pass))
    }
}

fn tls_config(creds: Option<&Credentials>) -> Result<rustls::ClientConfig, SourceError> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut extra = Vec::new();
    if let Some(ca) = creds.and_then(|c| c.ca_crt.as_deref()) {
        for cert in CertificateDer::pem_slice_iter(ca) {
            extra.push(cert.map_err(|_| {
                SourceError::InvalidCredentials("'ca.crt' is not a PEM certificate".into())
            })?);
        }
        if extra.is_empty() {
            return Err(SourceError::InvalidCredentials(
                "'ca.crt' holds no certificate".into(),
            ));
        }
    }
    let verifier =
        rustls_platform_verifier::Verifier::new_with_extra_roots(extra, provider.clone())
            .map_err(|e| SourceError::InvalidCredentials(format!("TLS roots: {e}")))?;
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| SourceError::InvalidCredentials(format!("TLS setup: {e}")))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier));
    let client = creds.and_then(|c| Some((c.tls_crt.as_deref()?, c.tls_key.as_ref()?)));
    match client {
        Some((crt, key)) => {
            let certs = CertificateDer::pem_slice_iter(crt)
                .collect::<Result<Vec<_>, _>>()
                .map_err(|_| SourceError::InvalidCredentials("'tls.crt' is not PEM".into()))?;
            let key = PrivateKeyDer::from_pem_slice(key.expose()).map_err(|_| {
                SourceError::InvalidCredentials("'tls.key' is not a PEM key".into())
            })?;
            builder
                .with_client_auth_cert(certs, key)
                .map_err(|_| SourceError::InvalidCredentials("'tls.crt'/'tls.key' rejected".into()))
        }
        None => Ok(builder.with_no_client_auth()),
    }
}

/// A private temporary directory, removed on drop.
pub(crate) struct TempDir {
    pub(crate) path: PathBuf,
}

impl TempDir {
    pub(crate) fn new(prefix: &str) -> std::io::Result<TempDir> {
        static N: AtomicU64 = AtomicU64::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let path = std::env::temp_dir().join(format!(
            "{prefix}-{}-{}-{nanos}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&path)?;
        set_mode(&path, 0o700)?;
        Ok(TempDir { path })
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

fn set_mode(path: &Path, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
}

fn write_private(path: &Path, bytes: &[u8], mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

fn sh_quote(p: &Path) -> String {
    format!("'{}'", p.display().to_string().replace('\'', "'\\''"))
}

/// Writes the identity, known_hosts, an askpass helper for a passphrase, and an `ssh` wrapper
/// script passing them with strict host key checking. Without credentials the wrapper still
/// refuses unknown hosts, using the user's own known_hosts and keys.
fn ssh_setup(creds: Option<&Credentials>, timeout: Duration) -> Result<TempDir, SourceError> {
    let io = |e: std::io::Error| SourceError::storage("ssh setup", e);
    let dir = TempDir::new("flotilla-ssh").map_err(io)?;
    let secs = timeout.as_secs().max(1);
    let mut args = vec![
        "-o StrictHostKeyChecking=yes".to_string(),
        "-o PasswordAuthentication=no".into(),
        "-o KbdInteractiveAuthentication=no".into(),
        format!("-o ConnectTimeout={secs}"),
    ];
    let mut env = String::new();
    if let Some(c) = creds.filter(|c| c.identity.is_some() || c.known_hosts.is_some()) {
        args.insert(0, "-F /dev/null".into());
        if let Some(kh) = &c.known_hosts {
            let p = dir.path.join("known_hosts");
            write_private(&p, kh, 0o600).map_err(io)?;
            args.push(format!("-o UserKnownHostsFile={}", sh_quote(&p)));
            args.push("-o GlobalKnownHostsFile=/dev/null".into());
        }
        if let Some(id) = &c.identity {
            let mut key = id.expose().to_vec();
            if !key.ends_with(b"\n") {
                key.push(b'\n');
            }
            let p = dir.path.join("identity");
            write_private(&p, &key, 0o600).map_err(io)?;
            args.push(format!("-i {}", sh_quote(&p)));
            args.push("-o IdentitiesOnly=yes".into());
            args.push("-o IdentityAgent=none".into());
            if let Some(pass) = &c.password {
                let pf = dir.path.join("passphrase");
                write_private(&pf, pass.expose(), 0o600).map_err(io)?;
                let ask = dir.path.join("askpass");
                let script = format!("#!/bin/sh\nexec cat {}\n", sh_quote(&pf));
                write_private(&ask, script.as_bytes(), 0o700).map_err(io)?;
                env = format!(
                    "SSH_ASKPASS={} SSH_ASKPASS_REQUIRE=force DISPLAY=none ",
                    sh_quote(&ask)
                );
            } else {
                args.push("-o BatchMode=yes".into());
            }
        }
    } else {
        args.push("-o BatchMode=yes".into());
    }
    // ssh's diagnostics ("Host key verification failed.", "Permission denied") go to a file
    // that errors are classified from; gix would otherwise only see the stream end.
    let script = format!(
        "#!/bin/sh\n{}exec ssh {} \"$@\" 2>>{}\n",
        if env.is_empty() {
            String::new()
        } else {
            format!("export {env}\n")
        },
        args.join(" "),
        sh_quote(&dir.path.join("stderr"))
    );
    write_private(&dir.path.join("ssh"), script.as_bytes(), 0o700).map_err(io)?;
    Ok(dir)
}

pub(crate) fn classify_text(url: &str, text: &str, unauthenticated: bool) -> SourceError {
    let url = redact_url(url);
    let lower = text.to_ascii_lowercase();
    let reason = one_line(&crate::error::scrub_urls(&first_reason(text)));
    let has = |needles: &[&str]| needles.iter().any(|n| lower.contains(n));
    if has(&[
        "host key verification failed",
        "remote host identification has changed",
        "no matching host key",
    ]) {
        SourceError::HostKeyMismatch { url }
    } else if has(&[
        "unknownissuer",
        "unknown issuer",
        "invalid peer certificate",
        "certificate",
        "notvalidforname",
    ]) && !has(&["401", "403"])
    {
        SourceError::UntrustedCertificate { url, reason }
    } else if unauthenticated
        || has(&[
            "permission denied",
            "401",
            "403",
            "unauthorized",
            "forbidden",
            "authentication",
            "credentials",
        ])
    {
        SourceError::AuthRefused { url, reason }
    } else if has(&["timed out", "timeout", "interrupted"]) {
        SourceError::Timeout { url, seconds: 0 }
    } else if has(&[
        "corrupt",
        "checksum",
        "bad object",
        "decompress",
        "invalid pack",
        "object could not be found",
        "an object with id",
        "could not peel",
    ]) {
        SourceError::Corrupt { url, reason }
    } else {
        SourceError::Unreachable { url, reason }
    }
}

/// The most specific part of a chain: its last non-empty element, bounded in length.
fn first_reason(text: &str) -> String {
    let last = text
        .split(" | ")
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .last()
        .unwrap_or("unknown error");
    let mut s: String = last.chars().take(300).collect();
    if s.len() < last.len() {
        s.push('…');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemes() {
        assert_eq!(scheme_of("https://h/r.git"), Scheme::Http);
        assert_eq!(scheme_of("ssh://git@h:22/r.git"), Scheme::Ssh);
        assert_eq!(scheme_of("git@github.com:org/r.git"), Scheme::Ssh);
        assert_eq!(scheme_of("file:///tmp/r"), Scheme::File);
        assert_eq!(scheme_of("/tmp/r"), Scheme::File);
    }

    #[test]
    fn classification() {
        let c = |t: &str| classify_text("https://u:p@h/r", t, false);
        assert!(matches!(
            c("Host key verification failed."),
            SourceError::HostKeyMismatch { .. }
        ));
        assert!(matches!(
            c("x | invalid peer certificate: UnknownIssuer"),
            SourceError::UntrustedCertificate { .. }
        ));
        assert!(matches!(
            c("HTTP status 401 | Unauthorized"),
            SourceError::AuthRefused { .. }
        ));
        assert!(matches!(
            c("git@h: Permission denied (publickey)."),
            SourceError::AuthRefused { .. }
        ));
        assert!(matches!(
            c("connection refused"),
            SourceError::Unreachable { .. }
        ));
        let e = c("a\nmulti line | connection refused");
        assert!(!e.to_string().contains('\n'));
        assert!(!e.to_string().contains("u:p"));
    }

    #[test]
    fn ssh_files_are_private_and_wrapper_is_strict() {
        use std::collections::BTreeMap;
        use std::os::unix::fs::PermissionsExt;
        let mut data = BTreeMap::new();
        data.insert("identity".to_string(), b"KEY".to_vec());
        data.insert(
            "known_hosts".to_string(),
            b"[127.0.0.1]:22 ssh-ed25519 AAAA".to_vec(),
        );
        let creds = Credentials::from_secret_data(&data).unwrap();
        let dir = ssh_setup(Some(&creds), Duration::from_secs(5)).unwrap();
        let mode = std::fs::metadata(dir.path.join("identity"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let script = std::fs::read_to_string(dir.path.join("ssh")).unwrap();
        assert!(script.contains("StrictHostKeyChecking=yes"));
        assert!(script.contains("IdentitiesOnly=yes"));
        assert!(!script.contains("KEY\n"));
        let path = dir.path.clone();
        drop(dir);
        assert!(!path.exists());
    }
}
