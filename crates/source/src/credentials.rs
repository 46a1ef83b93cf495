//! Credentials from a Secret's data map, as Flux reads them.
//!
//! ssh: `identity` (private key, PEM/OpenSSH), `known_hosts` (required with `identity`; host
//! keys are always verified), optional `password` (the key's passphrase). https: `username` +
//! `password` (basic), or `bearerToken`; optional `ca.crt` (added to the system roots) and
//! `tls.crt` + `tls.key` (client certificate).
//!
//! No value is ever printed: `Debug` shows which keys are present, errors name keys only.

use std::collections::BTreeMap;
use std::fmt;

use crate::error::SourceError;

/// Bytes that must not be shown anywhere.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Vec<u8>);

impl Secret {
    /// Wraps a value.
    pub fn new(v: impl Into<Vec<u8>>) -> Self {
        Secret(v.into())
    }
    /// The value; callers must not log it.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }
    /// The value as UTF-8 (credentials are text), or an error naming `key`.
    pub fn expose_str(&self, key: &str) -> Result<&str, SourceError> {
        std::str::from_utf8(&self.0)
            .map_err(|_| SourceError::InvalidCredentials(format!("'{key}' is not valid UTF-8")))
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// What a GitRepository's `secretRef` provides.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Credentials {
    /// Basic auth user name.
    pub username: Option<String>,
    /// Basic auth password, or the ssh key's passphrase.
    pub password: Option<Secret>,
    /// `Authorization: Bearer` token.
    pub bearer_token: Option<Secret>,
    /// Extra CA certificates (PEM).
    pub ca_crt: Option<Vec<u8>>,
    /// Client certificate (PEM).
    pub tls_crt: Option<Vec<u8>>,
    /// Client key (PEM).
    pub tls_key: Option<Secret>,
    /// ssh private key.
    pub identity: Option<Secret>,
    /// ssh known_hosts lines.
    pub known_hosts: Option<Vec<u8>>,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut keys = Vec::new();
        let present = [
            ("username", self.username.is_some()),
            ("password", self.password.is_some()),
            ("bearerToken", self.bearer_token.is_some()),
            ("ca.crt", self.ca_crt.is_some()),
            ("tls.crt", self.tls_crt.is_some()),
            ("tls.key", self.tls_key.is_some()),
            ("identity", self.identity.is_some()),
            ("known_hosts", self.known_hosts.is_some()),
        ];
        for (k, p) in present {
            if p {
                keys.push(k);
            }
        }
        write!(f, "Credentials {{ keys: {keys:?} }}")
    }
}

impl Credentials {
    /// Reads the keys Flux knows from a Secret's `data` (already base64-decoded). Unknown keys
    /// are ignored.
    pub fn from_secret_data(data: &BTreeMap<String, Vec<u8>>) -> Result<Self, SourceError> {
        let text = |k: &str| -> Result<Option<String>, SourceError> {
            data.get(k)
                .map(|v| {
                    String::from_utf8(v.clone()).map_err(|_| {
                        SourceError::InvalidCredentials(format!("'{k}' is not valid UTF-8"))
                    })
                })
                .transpose()
        };
        let c = Credentials {
            username: text("username")?.map(|s| s.trim_end_matches(['\n', '\r']).to_string()),
            password: data.get("password").map(|v| Secret::new(trim_nl(v))),
            bearer_token: data.get("bearerToken").map(|v| Secret::new(trim_nl(v))),
            ca_crt: data.get("ca.crt").cloned(),
            tls_crt: data.get("tls.crt").cloned(),
            tls_key: data.get("tls.key").map(|v| Secret::new(v.clone())),
            identity: data.get("identity").map(|v| Secret::new(v.clone())),
            known_hosts: data.get("known_hosts").cloned(),
        };
        if c.tls_crt.is_some() != c.tls_key.is_some() {
            return Err(SourceError::InvalidCredentials(
                "'tls.crt' and 'tls.key' must be given together".into(),
            ));
        }
        if c.identity.is_some() && c.known_hosts.is_none() {
            return Err(SourceError::InvalidCredentials(
                "'identity' given without 'known_hosts'".into(),
            ));
        }
        Ok(c)
    }

    /// Reads a directory of files named like Secret keys (as a mounted Secret volume).
    pub fn from_dir(dir: &std::path::Path) -> Result<Self, SourceError> {
        let mut data = BTreeMap::new();
        let rd = std::fs::read_dir(dir)
            .map_err(|e| SourceError::InvalidCredentials(format!("{}: {e}", dir.display())))?;
        for entry in rd {
            let entry = entry.map_err(|e| SourceError::InvalidCredentials(e.to_string()))?;
            let path = entry.path();
            if !path.is_file() {
                continue;
            }
            let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
                continue;
            };
            let bytes = std::fs::read(&path)
                .map_err(|e| SourceError::InvalidCredentials(format!("{name}: {e}")))?;
            data.insert(name.to_string(), bytes);
        }
        Self::from_secret_data(&data)
    }

    /// True when basic auth is configured.
    pub fn has_basic(&self) -> bool {
        self.username.is_some() && self.password.is_some() && self.identity.is_none()
    }

    /// A stable fingerprint of the credentials (sha256, hex), for cache keys: two objects
    /// with different Secrets never share a fetch.
    pub fn fingerprint(&self) -> String {
        use sha2::Digest;
        let mut h = sha2::Sha256::new();
        let parts: [(&str, Option<&[u8]>); 8] = [
            ("u", self.username.as_deref().map(str::as_bytes)),
            ("p", self.password.as_ref().map(Secret::expose)),
            ("b", self.bearer_token.as_ref().map(Secret::expose)),
            ("c", self.ca_crt.as_deref()),
            ("tc", self.tls_crt.as_deref()),
            ("tk", self.tls_key.as_ref().map(Secret::expose)),
            ("i", self.identity.as_ref().map(Secret::expose)),
            ("k", self.known_hosts.as_deref()),
        ];
        for (k, v) in parts {
            h.update(k.as_bytes());
            match v {
                Some(v) => {
                    h.update((v.len() as u64).to_le_bytes());
                    h.update(v);
                }
                None => h.update([0xff]),
            }
        }
        crate::hex(&h.finalize())
    }
}

fn trim_nl(v: &[u8]) -> Vec<u8> {
    let mut v = v.to_vec();
    while matches!(v.last(), Some(b'\n' | b'\r')) {
        v.pop();
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(pairs: &[(&str, &str)]) -> BTreeMap<String, Vec<u8>> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.as_bytes().to_vec()))
            .collect()
    }

    #[test]
    fn debug_never_shows_values() {
        let c = Credentials::from_secret_data(&data(&[
            ("username", "bob"),
            ("password", "hunter2\n"),
            ("bearerToken", "tok-123"),
        ]))
        .unwrap();
        let d = format!("{c:?}");
        assert!(
            !d.contains("hunter2") && !d.contains("tok-123") && !d.contains("bob"),
            "{d}"
        );
        assert!(d.contains("password") && d.contains("bearerToken"));
        assert_eq!(c.password.as_ref().unwrap().expose(), b"hunter2");
        assert!(c.has_basic());
    }

    #[test]
    fn identity_requires_known_hosts() {
        let e = Credentials::from_secret_data(&data(&[("identity", "KEY-MATERIAL")])).unwrap_err();
        assert!(!e.to_string().contains("KEY-MATERIAL"));
        assert!(e.to_string().contains("known_hosts"));
    }

    #[test]
    fn secret_dir_like_a_mounted_volume() {
        let dir = std::env::temp_dir().join(format!("flotilla-creds-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("..data")).unwrap();
        std::fs::write(dir.join("username"), "bob\n").unwrap();
        std::fs::write(dir.join("password"), "pw").unwrap();
        std::fs::write(dir.join("ignored-key"), "x").unwrap();
        let c = Credentials::from_dir(&dir).unwrap();
        assert_eq!(c.username.as_deref(), Some("bob"));
        assert!(c.has_basic());
        let spec = crate::SourceSpec {
            credentials: Some(std::sync::Arc::new(c)),
            ..crate::SourceSpec::new("https://h/r", crate::GitRef::default())
        };
        assert!(!format!("{spec:?}").contains("pw"));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn fingerprints_differ() {
        let a = Credentials::from_secret_data(&data(&[("bearerToken", "a")])).unwrap();
        let b = Credentials::from_secret_data(&data(&[("bearerToken", "b")])).unwrap();
        assert_ne!(a.fingerprint(), b.fingerprint());
        assert_eq!(a.fingerprint(), a.clone().fingerprint());
    }
}
