//! Decrypt SOPS-encrypted Kubernetes manifests with age keys, as Flux's
//! kustomize-controller does (`internal/decryptor`).
//!
//! * [`decrypt_document`] takes one rendered object. When it carries sops metadata (a
//!   top-level `sops` mapping with a non-empty `mac`), the data key is recovered from an
//!   `age` stanza with one of the [`Identity`]s, every encrypted value —
//!   `ENC[AES256_GCM,data:…,iv:…,tag:…,type:str|int|float|bool|bytes]` — is decrypted
//!   with AES-256-GCM and the value's path (`key:key:…:`) as additional data, typed back
//!   to a string, number or boolean, and the `sops` key is removed. Which values are
//!   encrypted follows the file's `unencrypted_suffix` (default `_unencrypted`),
//!   `encrypted_suffix`, `unencrypted_regex` or `encrypted_regex`.
//! * A `Secret` without sops metadata may hold sops-encrypted *files* in its `data` (from
//!   a `secretGenerator` over an encrypted `.env`, `.json`, `.yaml` or binary file): each
//!   entry whose decoded bytes carry a sops marker is decrypted and re-emitted in the
//!   format its key's extension names (`.env` dotenv, `.json` and `.dockerconfigjson`
//!   JSON, `.yaml`/`.yml` YAML, anything else binary), as Flux does.
//! * Anything else passes through: `Ok(None)`. So does an object annotated
//!   `kustomize.toolkit.fluxcd.io/decrypt: disabled`.
//!
//! MAC: sops stores a SHA-512 over the cleartext values in document order, encrypted with
//! the data key. Flux does **not** check it (`checkSopsMac` is off: kustomize rewrites
//! resources — labels, namespaces, key order — before decryption, which changes the MAC
//! input), and [`decrypt_document`] follows Flux. [`decrypt_document_with`] and
//! [`Options::verify_mac`] check it, for documents read straight from their file.
//!
//! Re-emitted files match `sops decrypt` byte for byte for dotenv, binary and JSON; YAML
//! is printed in kustomize's style (2-space indent) where sops indents by 4 — the same
//! document, other bytes.
//!
//! Errors never contain decrypted data or key material, and nothing is logged. Not
//! supported: key types other than age (PGP, KMS, Vault), Shamir key groups, INI files,
//! age SSH and plugin identities.

mod cipher;
mod secret_data;
mod tree;

use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt;

/// The annotation that turns decryption off for one object.
pub const DECRYPT_ANNOTATION: &str = "kustomize.toolkit.fluxcd.io/decrypt";

/// An age X25519 identity (`AGE-SECRET-KEY-1…`). Its `Debug` output shows no key.
pub struct Identity(age::x25519::Identity);

impl Identity {
    /// Parse one `AGE-SECRET-KEY-1…` line.
    pub fn parse(s: &str) -> Result<Identity, SopsError> {
        s.trim()
            .parse::<age::x25519::Identity>()
            .map(Identity)
            .map_err(|_| SopsError::Identity {
                source_name: String::new(),
                message: "not an age secret key".into(),
            })
    }

    /// The matching recipient (`age1…`).
    pub fn recipient(&self) -> String {
        self.0.to_public().to_string()
    }
}

impl fmt::Debug for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Identity({})", self.recipient())
    }
}

/// Decryption errors. None of them carries a value, a data key or an identity.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SopsError {
    #[error("failed to import '{source_name}' data from sops decryption Secret: {message}")]
    Identity {
        source_name: String,
        message: String,
    },
    #[error("failed to load sops metadata: {message}")]
    Metadata { message: String },
    #[error("cannot get sops data key: {message}")]
    DataKey { message: String },
    #[error("error decrypting sops tree: {message}")]
    Decrypt { message: String },
    #[error("failed to verify sops data integrity: {message}")]
    Mac { message: String },
    #[error("failed to decrypt and format Secret field '{key}': {source}")]
    SecretField { key: String, source: Box<SopsError> },
}

impl SopsError {
    fn metadata(m: impl Into<String>) -> SopsError {
        SopsError::Metadata { message: m.into() }
    }

    fn format(m: impl Into<String>) -> SopsError {
        SopsError::Decrypt { message: m.into() }
    }

    /// Name the value's path (keys only, never the value).
    fn at(self, path: &[String]) -> SopsError {
        match self {
            SopsError::Decrypt { message } => SopsError::Decrypt {
                message: format!("Could not decrypt value at '{}': {message}", path.join(":")),
            },
            other => other,
        }
    }
}

/// Decryption options.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Check the sops MAC (off in Flux; see the crate doc).
    pub verify_mac: bool,
}

/// Read the age identities of a decryption Secret: every entry whose name ends in
/// `.agekey`, each holding one or more `AGE-SECRET-KEY-1…` lines (blank lines and `#`
/// comments allowed, as `age.ParseIdentities` reads them). Other entries are ignored.
pub fn identities_from_secret(
    data: &BTreeMap<String, Vec<u8>>,
) -> Result<Vec<Identity>, SopsError> {
    let mut out = Vec::new();
    for (name, value) in data {
        if !has_agekey_ext(name) {
            continue;
        }
        let err = |message: String| SopsError::Identity {
            source_name: name.clone(),
            message,
        };
        let text = std::str::from_utf8(value).map_err(|_| err("not UTF-8 text".into()))?;
        let before = out.len();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim_end_matches('\r');
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let id = Identity::parse(line)
                .map_err(|_| err(format!("line {} is not an age secret key", i + 1)))?;
            out.push(id);
        }
        if out.len() == before {
            return Err(err("no secret keys found".into()));
        }
    }
    Ok(out)
}

/// `filepath.Ext(name) == ".agekey"`.
fn has_agekey_ext(name: &str) -> bool {
    let base = name.rsplit('/').next().unwrap_or(name);
    base.rfind('.').is_some_and(|i| &base[i..] == ".agekey")
}

/// Decrypt one object as Flux does (MAC not checked). `Ok(None)`: nothing to decrypt.
pub fn decrypt_document(doc: &Value, identities: &[Identity]) -> Result<Option<Value>, SopsError> {
    decrypt_document_with(doc, identities, Options::default())
}

/// [`decrypt_document`] with options.
pub fn decrypt_document_with(
    doc: &Value,
    identities: &[Identity],
    opts: Options,
) -> Result<Option<Value>, SopsError> {
    let Value::Object(map) = doc else {
        return Ok(None);
    };
    let disabled = doc
        .pointer("/metadata/annotations")
        .and_then(|a| a.get(DECRYPT_ANNOTATION))
        .and_then(Value::as_str)
        .is_some_and(|v| v.eq_ignore_ascii_case("disabled"));
    if disabled {
        return Ok(None);
    }
    if is_encrypted(doc) {
        return tree::decrypt_tree(map, identities, opts.verify_mac)
            .map(|m| Some(Value::Object(m)));
    }
    if doc.get("kind").and_then(Value::as_str) == Some("Secret") {
        return secret_data::decrypt_entries(map, identities, opts.verify_mac);
    }
    Ok(None)
}

/// Whether the object carries sops metadata: a `sops` mapping with a non-empty `mac`.
pub fn is_encrypted(doc: &Value) -> bool {
    match doc.get("sops").and_then(|s| s.get("mac")) {
        Some(Value::String(s)) => !s.is_empty(),
        Some(Value::Null) | None => false,
        Some(_) => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agekey_extension_as_filepath_ext() {
        assert!(has_agekey_ext("identity.agekey"));
        assert!(has_agekey_ext(".agekey"));
        assert!(!has_agekey_ext("identity.agekey.bak"));
        assert!(!has_agekey_ext("agekey"));
        assert!(!has_agekey_ext("sops.asc"));
    }
}
