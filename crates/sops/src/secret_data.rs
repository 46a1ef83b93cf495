//! sops-encrypted files inside a Secret's `data` (Flux's `DecryptResource` for Secrets):
//! detect the format by its marker, decrypt, re-emit in the format the key names.

use crate::tree::{decrypt_tree, plain_to_value, Metadata, Walk};
use crate::{Identity, SopsError};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::{Map, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Binary,
    Dotenv,
    Ini,
    Json,
    Yaml,
}

/// Markers in the order they are tried (binary and JSON share theirs and load alike).
const MARKERS: [(Format, &str); 4] = [
    (Format::Json, "\"mac\": \"ENC["),
    (Format::Dotenv, "sops_mac=ENC["),
    (Format::Yaml, "mac: ENC["),
    (Format::Ini, "[sops]"),
];

/// sops' `FormatForPath`, with Flux's `.dockerconfigjson` case.
fn format_for_key(key: &str) -> Format {
    if key.ends_with(".dockerconfigjson") || key.ends_with(".json") {
        Format::Json
    } else if key.ends_with(".yaml") || key.ends_with(".yml") {
        Format::Yaml
    } else if key.ends_with(".env") {
        Format::Dotenv
    } else if key.ends_with(".ini") {
        Format::Ini
    } else {
        Format::Binary
    }
}

fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

/// One top-level item of a decrypted file; `None` key = a comment line.
type Items = Vec<(Option<String>, Value)>;

pub fn decrypt_entries(
    secret: &Map<String, Value>,
    identities: &[Identity],
    verify_mac: bool,
) -> Result<Option<Value>, SopsError> {
    let Some(Value::Object(data)) = secret.get("data") else {
        return Ok(None);
    };
    let mut changed = Map::new();
    for (key, v) in data {
        let Some(text) = v.as_str() else { continue };
        let Ok(bytes) = STANDARD.decode(text) else {
            // Left for the apply to report, as in Flux.
            continue;
        };
        let Some(&(input, _)) = MARKERS.iter().find(|(_, m)| contains(&bytes, m)) else {
            continue;
        };
        let out = decrypt_file(&bytes, input, format_for_key(key), identities, verify_mac)
            .map_err(|e| SopsError::SecretField {
                key: key.clone(),
                source: Box::new(e),
            })?;
        changed.insert(key.clone(), Value::String(STANDARD.encode(out)));
    }
    if changed.is_empty() {
        return Ok(None);
    }
    let mut out = secret.clone();
    if let Some(Value::Object(d)) = out.get_mut("data") {
        for (k, v) in changed {
            d.insert(k, v);
        }
    }
    Ok(Some(Value::Object(out)))
}

fn decrypt_file(
    bytes: &[u8],
    input: Format,
    output: Format,
    identities: &[Identity],
    verify_mac: bool,
) -> Result<Vec<u8>, SopsError> {
    let text =
        std::str::from_utf8(bytes).map_err(|_| SopsError::format("the file is not UTF-8 text"))?;
    let items: Items = match input {
        Format::Json | Format::Binary => {
            let v: Value = serde_json::from_str(text)
                .map_err(|_| SopsError::format("failed to load encrypted JSON data"))?;
            map_items(decrypt_map(v, identities, verify_mac)?)
        }
        Format::Yaml => {
            let v = flotilla_yaml::parse_one(text)
                .map_err(|_| SopsError::format("failed to load encrypted YAML data"))?;
            map_items(decrypt_map(v, identities, verify_mac)?)
        }
        Format::Dotenv => decrypt_dotenv(text, identities, verify_mac)?,
        Format::Ini => return Err(SopsError::format("INI files are not supported")),
    };
    emit(&items, output)
}

fn decrypt_map(
    v: Value,
    identities: &[Identity],
    verify_mac: bool,
) -> Result<Map<String, Value>, SopsError> {
    match v {
        Value::Object(m) if m.contains_key("sops") => decrypt_tree(&m, identities, verify_mac),
        _ => Err(SopsError::metadata("sops metadata not found")),
    }
}

fn map_items(m: Map<String, Value>) -> Items {
    m.into_iter().map(|(k, v)| (Some(k), v)).collect()
}

/// sops' dotenv store: `KEY=value` lines (`\n` escapes newlines), `#comment` lines,
/// metadata flattened into `sops_*` keys.
fn decrypt_dotenv(
    text: &str,
    identities: &[Identity],
    verify_mac: bool,
) -> Result<Items, SopsError> {
    let mut items: Vec<(Option<String>, String)> = Vec::new();
    let mut meta = Map::new();
    for line in text.split('\n') {
        if line.is_empty() {
            continue;
        }
        if let Some(c) = line.strip_prefix('#') {
            items.push((None, c.to_string()));
            continue;
        }
        let Some((k, v)) = line.split_once('=') else {
            return Err(SopsError::format("invalid dotenv input line"));
        };
        let v = v.replace("\\n", "\n");
        match k.strip_prefix("sops_") {
            Some(mk) => unflatten(&mut meta, mk, v),
            None => items.push((Some(k.to_string()), v)),
        }
    }
    let meta = Metadata::parse(&Value::Object(meta))?;
    let key = meta.data_key(identities)?;
    let mut walk = Walk::new(&meta, &key);
    let mut out = Items::new();
    for (k, v) in items {
        match k {
            None => out.push((None, Value::String(walk.comment(&v, &[])))),
            Some(k) => {
                let plain = walk.string(&v, std::slice::from_ref(&k))?;
                out.push((Some(k), plain_to_value(&plain)?));
            }
        }
    }
    if verify_mac {
        walk.verify()?;
    }
    Ok(out)
}

/// sops' `Unflatten` for the metadata keys: `a__list_0__map_b` → `{a: [{b: …}]}`.
fn unflatten(meta: &mut Map<String, Value>, key: &str, value: String) {
    let parts: Vec<&str> = key.split("__").collect();
    let mut cur = meta;
    let mut i = 0;
    while i < parts.len() {
        let name = parts[i].strip_prefix("map_").unwrap_or(parts[i]);
        let last = i + 1 == parts.len();
        if last {
            cur.insert(name.to_string(), Value::String(value));
            return;
        }
        if let Some(idx) = parts[i + 1]
            .strip_prefix("list_")
            .and_then(|n| n.parse::<usize>().ok())
        {
            let list = cur
                .entry(name.to_string())
                .or_insert_with(|| Value::Array(Vec::new()));
            let Value::Array(a) = list else { return };
            while a.len() <= idx {
                a.push(Value::Object(Map::new()));
            }
            if i + 2 == parts.len() {
                a[idx] = Value::String(value);
                return;
            }
            let Value::Object(m) = &mut a[idx] else {
                return;
            };
            cur = m;
            i += 2;
        } else {
            let child = cur
                .entry(name.to_string())
                .or_insert_with(|| Value::Object(Map::new()));
            let Value::Object(m) = child else { return };
            cur = m;
            i += 1;
        }
    }
}

fn emit(items: &Items, format: Format) -> Result<Vec<u8>, SopsError> {
    let as_map = || -> Map<String, Value> {
        items
            .iter()
            .filter_map(|(k, v)| k.as_ref().map(|k| (k.clone(), v.clone())))
            .collect()
    };
    match format {
        Format::Binary => match items.iter().find(|(k, _)| k.as_deref() == Some("data")) {
            Some((_, Value::String(s))) => Ok(s.clone().into_bytes()),
            Some(_) => Err(SopsError::format(
                "error emitting binary store: 'data' key in tree does not have a string value",
            )),
            None => Err(SopsError::format(
                "error emitting binary store: no binary data found in tree",
            )),
        },
        Format::Json => {
            let mut buf = Vec::new();
            let fmt = serde_json::ser::PrettyFormatter::with_indent(b"\t");
            let mut ser = serde_json::Serializer::with_formatter(&mut buf, fmt);
            serde::Serialize::serialize(&Value::Object(as_map()), &mut ser)
                .map_err(|_| SopsError::format("error marshaling to json"))?;
            buf.push(b'\n');
            Ok(go_json_escapes(&buf))
        }
        Format::Yaml => Ok(flotilla_yaml::to_yaml(&Value::Object(as_map())).into_bytes()),
        Format::Dotenv => {
            let mut out = String::new();
            for (k, v) in items {
                let text = match v {
                    Value::String(s) => s.clone(),
                    Value::Object(_) | Value::Array(_) => {
                        return Err(SopsError::format("cannot use complex value in dotenv file"))
                    }
                    Value::Null => String::new(),
                    other => other.to_string(),
                };
                match k {
                    None => out.push_str(&format!("#{text}\n")),
                    Some(k) => out.push_str(&format!("{k}={}\n", text.replace('\n', "\\n"))),
                }
            }
            Ok(out.into_bytes())
        }
        Format::Ini => Err(SopsError::format("INI files are not supported")),
    }
}

/// Go's `encoding/json` escapes `<`, `>`, `&`, U+2028 and U+2029 in strings; outside
/// strings JSON text has none of them, so a plain replacement is exact.
fn go_json_escapes(buf: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(buf);
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn unflatten_metadata_keys() {
        let mut m = Map::new();
        unflatten(&mut m, "age__list_0__map_enc", "E0".into());
        unflatten(&mut m, "age__list_0__map_recipient", "R0".into());
        unflatten(&mut m, "age__list_1__map_enc", "E1".into());
        unflatten(&mut m, "lastmodified", "T".into());
        assert_eq!(
            Value::Object(m),
            json!({"age": [{"enc": "E0", "recipient": "R0"}, {"enc": "E1"}], "lastmodified": "T"})
        );
    }

    #[test]
    fn formats_by_key() {
        assert_eq!(format_for_key("a.env"), Format::Dotenv);
        assert_eq!(format_for_key(".dockerconfigjson"), Format::Json);
        assert_eq!(format_for_key("x.yml"), Format::Yaml);
        assert_eq!(format_for_key("cert.pem"), Format::Binary);
    }

    #[test]
    fn go_json_escaping() {
        let out = emit(
            &vec![(Some("a".into()), json!("<&>\u{2028}"))],
            Format::Json,
        );
        assert_eq!(
            out.map(String::from_utf8),
            Ok(Ok(
                "{\n\t\"a\": \"\\u003c\\u0026\\u003e\\u2028\"\n}\n".to_string()
            ))
        );
    }
}
