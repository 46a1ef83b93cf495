//! A sops document: its metadata, the data key, and the walk that decrypts every value
//! and computes the MAC (`sops.go`: `Tree.Decrypt`, `shouldBeEncrypted`, `ToBytes`).

use crate::cipher::{self, Plain};
use crate::{Identity, SopsError};
use regex::Regex;
use serde_json::{Map, Number, Value};
use sha2::{Digest, Sha512};
use std::io::Read;

/// sops' `MACOnlyEncryptedInitialization`: sha256("sops"), hashed first when the MAC covers
/// only encrypted values.
const MAC_ONLY_ENCRYPTED_INIT: [u8; 32] = [
    0x8a, 0x3f, 0xd2, 0xad, 0x54, 0xce, 0x66, 0x52, 0x7b, 0x10, 0x34, 0xf3, 0xd1, 0x47, 0xbe, 0x0b,
    0x0b, 0x97, 0x5b, 0x3b, 0xf4, 0x4f, 0x72, 0xc6, 0xfd, 0xad, 0xec, 0x81, 0x76, 0xf2, 0x7d, 0x69,
];

/// Which values are encrypted.
#[derive(Debug, Clone)]
enum Rule {
    UnencryptedSuffix(String),
    EncryptedSuffix(String),
    UnencryptedRegex(Regex),
    EncryptedRegex(Regex),
    /// `*_comment_regex`: decided by comments, which a parsed manifest no longer has; the
    /// values written as `ENC[...]` are the encrypted ones.
    ByComment,
}

/// The parts of the `sops` metadata that decryption needs.
#[derive(Debug, Clone)]
pub struct Metadata {
    last_modified: String,
    mac: String,
    rule: Rule,
    mac_only_encrypted: bool,
    /// Key groups, each a list of age stanzas' armored `enc`.
    groups: Vec<Vec<String>>,
}

fn str_field<'a>(m: &'a Map<String, Value>, k: &str) -> &'a str {
    m.get(k).and_then(Value::as_str).unwrap_or("")
}

impl Metadata {
    pub fn parse(sops: &Value) -> Result<Metadata, SopsError> {
        let m = sops
            .as_object()
            .ok_or_else(|| SopsError::metadata("the sops metadata is not a mapping"))?;
        let last_modified = normalize_rfc3339(str_field(m, "lastmodified"))
            .ok_or_else(|| SopsError::metadata("sops.lastmodified is not an RFC 3339 time"))?;
        let rules = [
            "unencrypted_suffix",
            "encrypted_suffix",
            "unencrypted_regex",
            "encrypted_regex",
            "unencrypted_comment_regex",
            "encrypted_comment_regex",
        ];
        let set: Vec<&str> = rules
            .iter()
            .copied()
            .filter(|k| !str_field(m, k).is_empty())
            .collect();
        if set.len() > 1 {
            return Err(SopsError::metadata(
                "Cannot use more than one of encrypted_suffix, unencrypted_suffix, encrypted_regex, \
                 unencrypted_regex, encrypted_comment_regex, or unencrypted_comment_regex in the same file",
            ));
        }
        let regex = |k: &str| {
            Regex::new(str_field(m, k)).map_err(|_| {
                SopsError::metadata(format!("sops.{k} is not a valid regular expression"))
            })
        };
        let rule = match set.first().copied() {
            None => Rule::UnencryptedSuffix("_unencrypted".into()),
            Some("unencrypted_suffix") => {
                Rule::UnencryptedSuffix(str_field(m, "unencrypted_suffix").into())
            }
            Some("encrypted_suffix") => {
                Rule::EncryptedSuffix(str_field(m, "encrypted_suffix").into())
            }
            Some("unencrypted_regex") => Rule::UnencryptedRegex(regex("unencrypted_regex")?),
            Some("encrypted_regex") => Rule::EncryptedRegex(regex("encrypted_regex")?),
            Some(_) => Rule::ByComment,
        };
        let mac_only_encrypted = match m.get("mac_only_encrypted") {
            Some(Value::Bool(b)) => *b,
            Some(Value::String(s)) => s == "true",
            _ => false,
        };
        let ages = |g: &Map<String, Value>| -> Vec<String> {
            g.get("age")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|s| s.get("enc").and_then(Value::as_str))
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default()
        };
        let groups = match m.get("key_groups").and_then(Value::as_array) {
            Some(gs) if !gs.is_empty() => {
                gs.iter().filter_map(Value::as_object).map(ages).collect()
            }
            _ => vec![ages(m)],
        };
        Ok(Metadata {
            last_modified,
            mac: str_field(m, "mac").to_string(),
            rule,
            mac_only_encrypted,
            groups,
        })
    }

    /// Recover the data key with one of the identities.
    pub fn data_key(&self, identities: &[Identity]) -> Result<Vec<u8>, SopsError> {
        if self.groups.len() > 1 {
            return Err(SopsError::DataKey {
                message:
                    "the data key is split over several key groups (Shamir), which is not supported"
                        .into(),
            });
        }
        let stanzas = self.groups.first().map(Vec::as_slice).unwrap_or(&[]);
        if stanzas.is_empty() {
            return Err(SopsError::DataKey {
                message: "the file has no age recipient (other key types are not supported)".into(),
            });
        }
        if identities.is_empty() {
            return Err(SopsError::DataKey {
                message: "no age identity was given".into(),
            });
        }
        for enc in stanzas {
            if let Some(key) = age_decrypt(enc, identities) {
                if key.len() != 32 {
                    return Err(SopsError::DataKey {
                        message: "the decrypted data key is not 32 bytes".into(),
                    });
                }
                return Ok(key);
            }
        }
        Err(SopsError::DataKey {
            message: "none of the age identities matches a recipient of the file".into(),
        })
    }

    fn encrypted(&self, path: &[String]) -> Option<bool> {
        Some(match &self.rule {
            Rule::UnencryptedSuffix(s) => !path.iter().any(|p| p.ends_with(s.as_str())),
            Rule::EncryptedSuffix(s) => path.iter().any(|p| p.ends_with(s.as_str())),
            Rule::UnencryptedRegex(r) => !path.iter().any(|p| r.is_match(p)),
            Rule::EncryptedRegex(r) => path.iter().any(|p| r.is_match(p)),
            Rule::ByComment => return None,
        })
    }
}

fn age_decrypt(armored: &str, identities: &[Identity]) -> Option<Vec<u8>> {
    let reader = age::armor::ArmoredReader::new(armored.as_bytes());
    let dec = age::Decryptor::new(reader).ok()?;
    let mut r = dec
        .decrypt(identities.iter().map(|i| &i.0 as &dyn age::Identity))
        .ok()?;
    let mut out = Vec::with_capacity(32);
    r.read_to_end(&mut out).ok()?;
    Some(out)
}

/// Go's `time.Parse(time.RFC3339, s)` followed by `Format(time.RFC3339)`: fractional
/// seconds dropped, a zero offset written `Z`.
fn normalize_rfc3339(s: &str) -> Option<String> {
    let b = s.as_bytes();
    if b.len() < 20 || b[10] != b'T' && b[10] != b't' {
        return None;
    }
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    if !(digits(0..4) && b[4] == b'-' && digits(5..7) && b[7] == b'-' && digits(8..10))
        || !(digits(11..13) && b[13] == b':' && digits(14..16) && b[16] == b':' && digits(17..19))
    {
        return None;
    }
    let mut rest = &s[19..];
    if let Some(frac) = rest.strip_prefix('.') {
        let n = frac.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return None;
        }
        rest = &frac[n..];
    }
    let zone = match rest {
        "Z" | "z" | "+00:00" | "-00:00" => "Z".to_string(),
        z if z.len() == 6
            && (z.starts_with('+') || z.starts_with('-'))
            && z.as_bytes()[3] == b':'
            && z[1..3]
                .bytes()
                .chain(z[4..].bytes())
                .all(|c| c.is_ascii_digit()) =>
        {
            z.to_string()
        }
        _ => return None,
    };
    Some(format!("{}T{}{zone}", &s[..10], &s[11..19]))
}

/// Decrypts values in place and hashes them for the MAC.
pub struct Walk<'a> {
    meta: &'a Metadata,
    key: &'a [u8],
    hash: Sha512,
}

impl<'a> Walk<'a> {
    pub fn new(meta: &'a Metadata, key: &'a [u8]) -> Walk<'a> {
        let mut hash = Sha512::new();
        if meta.mac_only_encrypted {
            hash.update(MAC_ONLY_ENCRYPTED_INIT);
        }
        Walk { meta, key, hash }
    }

    /// Decrypt every value below `v` (a document without its `sops` key).
    pub fn value(&mut self, v: &mut Value, path: &mut Vec<String>) -> Result<(), SopsError> {
        match v {
            Value::Object(m) => {
                for (k, child) in m.iter_mut() {
                    path.push(k.clone());
                    let r = self.value(child, path);
                    path.pop();
                    r?;
                }
            }
            Value::Array(a) => {
                for child in a.iter_mut() {
                    self.value(child, path)?;
                }
            }
            Value::Null => {}
            leaf => {
                let encrypted = match self.meta.encrypted(path) {
                    Some(e) => e,
                    None => matches!(leaf, Value::String(s) if s.starts_with("ENC[AES256_GCM,")),
                };
                if encrypted {
                    let Value::String(s) = &*leaf else {
                        return Err(SopsError::Decrypt {
                            message: format!(
                                "value at '{}' should be encrypted but is not a string",
                                path.join(":")
                            ),
                        });
                    };
                    let plain = cipher::decrypt(s, self.key, &aad(path)).map_err(|e| e.at(path))?;
                    *leaf = plain_to_value(&plain).map_err(|e| e.at(path))?;
                    self.hash_plain(&plain);
                } else if !self.meta.mac_only_encrypted {
                    self.hash_value(leaf);
                }
            }
        }
        Ok(())
    }

    /// Decrypt one string value (dotenv stores), hashing it.
    pub fn string(&mut self, s: &str, path: &[String]) -> Result<Plain, SopsError> {
        let encrypted = self
            .meta
            .encrypted(path)
            .unwrap_or(s.starts_with("ENC[AES256_GCM,"));
        if !encrypted {
            if !self.meta.mac_only_encrypted {
                self.hash.update(s.as_bytes());
            }
            return Ok(Plain::Str(s.to_string()));
        }
        let plain = cipher::decrypt(s, self.key, &aad(path)).map_err(|e| e.at(path))?;
        self.hash_plain(&plain);
        Ok(plain)
    }

    /// Decrypt a comment (dotenv), not hashed; an undecryptable comment stays as it is.
    pub fn comment(&mut self, c: &str, path: &[String]) -> String {
        match self.meta.encrypted(path) {
            Some(false) => c.to_string(),
            _ => match cipher::decrypt(c, self.key, &aad(path)) {
                Ok(Plain::Comment(s)) | Ok(Plain::Str(s)) => s,
                _ => c.to_string(),
            },
        }
    }

    fn hash_plain(&mut self, p: &Plain) {
        match p {
            Plain::Str(s) => self.hash.update(s.as_bytes()),
            Plain::Int(i) => self.hash.update(i.to_string().as_bytes()),
            Plain::Float(f) => self.hash.update(go_float(*f).as_bytes()),
            Plain::Bool(b) => self
                .hash
                .update(if *b { b"True" as &[u8] } else { b"False" }),
            Plain::Bytes(b) => self.hash.update(b),
            Plain::Comment(_) => {}
        }
    }

    fn hash_value(&mut self, v: &Value) {
        match v {
            Value::String(s) => self.hash.update(s.as_bytes()),
            Value::Bool(b) => self
                .hash
                .update(if *b { b"True" as &[u8] } else { b"False" }),
            Value::Number(n) => {
                let text = match (n.as_i64(), n.as_u64(), n.as_f64()) {
                    (Some(i), _, _) => i.to_string(),
                    (_, Some(u), _) => u.to_string(),
                    (_, _, Some(f)) => go_float(f),
                    _ => n.to_string(),
                };
                self.hash.update(text.as_bytes());
            }
            _ => {}
        }
    }

    /// Compare the computed MAC with the one stored (encrypted with the data key, the
    /// `lastmodified` time as additional data).
    pub fn verify(self) -> Result<(), SopsError> {
        let computed: String = self
            .hash
            .finalize()
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect();
        let stored = match cipher::decrypt(&self.meta.mac, self.key, &self.meta.last_modified) {
            Ok(Plain::Str(s)) => s,
            _ => {
                return Err(SopsError::Mac {
                    message: "the stored MAC cannot be decrypted".into(),
                })
            }
        };
        if stored != computed {
            return Err(SopsError::Mac {
                message: "MAC mismatch".into(),
            });
        }
        Ok(())
    }
}

/// sops' additional data: the path's keys joined with `:`, plus a trailing `:`.
fn aad(path: &[String]) -> String {
    let mut s = path.join(":");
    s.push(':');
    s
}

/// Go's `strconv.FormatFloat(f, 'f', -1, 64)`; Rust's `Display` for `f64` is the same
/// shortest round-trip digits without an exponent.
fn go_float(f: f64) -> String {
    format!("{f}")
}

pub(crate) fn plain_to_value(p: &Plain) -> Result<Value, SopsError> {
    Ok(match p {
        Plain::Str(s) | Plain::Comment(s) => Value::String(s.clone()),
        Plain::Bytes(b) => Value::String(String::from_utf8_lossy(b).into_owned()),
        Plain::Int(i) => Value::Number((*i).into()),
        Plain::Bool(b) => Value::Bool(*b),
        Plain::Float(f) => float_value(*f)?,
    })
}

/// A decrypted float as Flux ends up with it: sops prints it through Go's `encoding/json`
/// (an integral value has no fraction, `1` not `1.0`) and the result is read back, so an
/// integral float within the integer range becomes an integer.
fn float_value(f: f64) -> Result<Value, SopsError> {
    if f.fract() == 0.0 && f.abs() < 9.2e18 {
        return Ok(Value::Number((f as i64).into()));
    }
    Number::from_f64(f)
        .map(Value::Number)
        .ok_or_else(|| SopsError::format("decrypted float is not finite"))
}

/// Decrypt a whole document (`sops` key included) and return it without the metadata.
pub fn decrypt_tree(
    doc: &Map<String, Value>,
    identities: &[Identity],
    verify_mac: bool,
) -> Result<Map<String, Value>, SopsError> {
    let meta = Metadata::parse(doc.get("sops").unwrap_or(&Value::Null))?;
    let key = meta.data_key(identities)?;
    let mut body = doc.clone();
    body.shift_remove("sops");
    let mut v = Value::Object(body);
    let mut walk = Walk::new(&meta, &key);
    walk.value(&mut v, &mut Vec::new())?;
    if verify_mac {
        walk.verify()?;
    }
    match v {
        Value::Object(m) => Ok(m),
        _ => Err(SopsError::format("document is not a mapping")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_as_go_formats_it() {
        let n = |s: &str| normalize_rfc3339(s);
        assert_eq!(
            n("2024-01-02T03:04:05Z").as_deref(),
            Some("2024-01-02T03:04:05Z")
        );
        assert_eq!(
            n("2024-01-02T03:04:05.123Z").as_deref(),
            Some("2024-01-02T03:04:05Z")
        );
        assert_eq!(
            n("2024-01-02T03:04:05+00:00").as_deref(),
            Some("2024-01-02T03:04:05Z")
        );
        assert_eq!(
            n("2024-01-02T03:04:05+02:00").as_deref(),
            Some("2024-01-02T03:04:05+02:00")
        );
        assert_eq!(n("2024-01-02 03:04:05Z"), None);
        assert_eq!(n(""), None);
    }

    #[test]
    fn floats_print_as_go_does() {
        assert_eq!(go_float(1.0), "1");
        assert_eq!(go_float(0.25), "0.25");
        assert_eq!(go_float(1e21), "1000000000000000000000");
        assert_eq!(float_value(3.0).ok(), Some(Value::from(3)));
        assert_eq!(float_value(0.5).ok(), Some(serde_json::json!(0.5)));
    }

    #[test]
    fn additional_data_is_the_key_path() {
        assert_eq!(aad(&[]), ":");
        assert_eq!(aad(&["data".into(), "password".into()]), "data:password:");
    }

    #[test]
    fn only_one_rule_allowed() {
        let meta = serde_json::json!({"lastmodified": "2024-01-02T03:04:05Z", "mac": "",
            "encrypted_regex": "^data$", "unencrypted_suffix": "_u"});
        assert!(matches!(
            Metadata::parse(&meta),
            Err(SopsError::Metadata { .. })
        ));
    }
}
