//! sops' value cipher (`aes/cipher.go`): `ENC[AES256_GCM,data:…,iv:…,tag:…,type:…]`,
//! AES-256-GCM with a 32-byte nonce, the value's path as additional data.

use crate::SopsError;
use aes_gcm::aead::consts::U32;
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::aes::Aes256;
use aes_gcm::{AesGcm, Nonce};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use regex::Regex;
use std::sync::OnceLock;

/// A decrypted leaf, typed as sops types it.
#[derive(Debug, Clone, PartialEq)]
pub enum Plain {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    /// `type:bytes`; emitted as text.
    Bytes(Vec<u8>),
    Comment(String),
}

fn enc_re() -> Option<&'static Regex> {
    static RE: OnceLock<Option<Regex>> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"^ENC\[AES256_GCM,data:(.+),iv:(.+),tag:(.+),type:(.+)\]").ok())
        .as_ref()
}

/// Decrypt one sops value. The empty string stands for an empty string, as in sops. Errors
/// never quote the value.
pub fn decrypt(value: &str, key: &[u8], aad: &str) -> Result<Plain, SopsError> {
    if value.is_empty() {
        return Ok(Plain::Str(String::new()));
    }
    let caps = enc_re().and_then(|re| re.captures(value)).ok_or_else(|| {
        SopsError::format("Input string <redacted> does not match sops' data format")
    })?;
    let part = |i: usize, what: &str| {
        STANDARD
            .decode(caps.get(i).map_or("", |m| m.as_str()))
            .map_err(|_| SopsError::format(format!("Error base64-decoding {what}")))
    };
    let mut data = part(1, "data")?;
    let iv = part(2, "iv")?;
    let tag = part(3, "tag")?;
    let typ = caps.get(4).map_or("", |m| m.as_str());
    if iv.len() != 32 {
        return Err(SopsError::format(format!(
            "unsupported AES-GCM nonce size {} (sops uses 32)",
            iv.len()
        )));
    }
    let cipher = AesGcm::<Aes256, U32>::new_from_slice(key)
        .map_err(|_| SopsError::format("the data key is not a 256-bit AES key"))?;
    data.extend_from_slice(&tag);
    let plain = cipher
        .decrypt(
            Nonce::<U32>::from_slice(&iv),
            Payload {
                msg: &data,
                aad: aad.as_bytes(),
            },
        )
        .map_err(|_| SopsError::Decrypt {
            message: "Could not decrypt with AES_GCM: cipher: message authentication failed".into(),
        })?;
    let text = || String::from_utf8_lossy(&plain).into_owned();
    let bad = |t: &str| SopsError::format(format!("decrypted value is not a valid {t}"));
    Ok(match typ {
        "str" => Plain::Str(text()),
        "int" | "int64" => Plain::Int(text().parse().map_err(|_| bad(typ))?),
        "float" => {
            let f: f64 = text().parse().map_err(|_| bad(typ))?;
            if !f.is_finite() {
                return Err(bad(typ));
            }
            Plain::Float(f)
        }
        "bytes" => Plain::Bytes(plain.clone()),
        "bool" => Plain::Bool(parse_bool(&text()).ok_or_else(|| bad(typ))?),
        "comment" => Plain::Comment(text()),
        other => {
            return Err(SopsError::format(format!("Unknown datatype: {other}")));
        }
    })
}

/// Go's `strconv.ParseBool`.
fn parse_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}
