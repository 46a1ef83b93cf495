//! kustomize's content-hash name suffix for generated ConfigMaps and Secrets
//! (`api/hasher/hasher.go`).
//!
//! The hash input is the Go `encoding/json` encoding (sorted keys, HTML-safe escapes) of a
//! small map: `kind`, `name`, `data` and `binaryData` for a ConfigMap; `kind`, `name`,
//! `type`, `data` and `stringData` for a Secret. kustomize looks the name up with the single
//! path element `metadata/name`, which never matches, so `name` is always the empty string:
//! the hash depends on the content only (a prefix, suffix or namespace does not change it).
//! A field that is missing encodes as `""`. The SHA-256 of that text, in hex, is cut to 10
//! characters and `0 1 3 a e` become `g h k m t`.

use crate::error::RenderError;
use crate::resmap::ResMap;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// The 10-character hash suffix kustomize gives `obj`.
pub fn content_hash(obj: &Map<String, Value>) -> Result<String, RenderError> {
    let kind = obj.get("kind").and_then(Value::as_str).unwrap_or("");
    let field = |k: &str| match obj.get(k) {
        None | Some(Value::Null) => Value::String(String::new()),
        Some(v) => v.clone(),
    };
    let mut m = Map::new();
    match kind {
        "ConfigMap" => {
            m.insert("kind".into(), Value::String("ConfigMap".into()));
            m.insert("name".into(), Value::String(String::new()));
            m.insert("data".into(), field("data"));
            if let Some(b @ Value::Object(_)) = obj.get("binaryData") {
                m.insert("binaryData".into(), b.clone());
            }
        }
        "Secret" => {
            m.insert("kind".into(), Value::String("Secret".into()));
            m.insert("type".into(), field("type"));
            m.insert("name".into(), Value::String(String::new()));
            m.insert("data".into(), field("data"));
            if let Some(s @ Value::Object(_)) = obj.get("stringData") {
                m.insert("stringData".into(), s.clone());
            }
        }
        // kustomize hashes the raw YAML node of other kinds (including line numbers), which
        // cannot be reproduced; only generators set `needs_hash`, and they make ConfigMaps and
        // Secrets, so hash the whole object canonically.
        _ => m = obj.clone(),
    }
    let mut text = String::new();
    go_json(&Value::Object(m), &mut text);
    let digest = Sha256::digest(text.as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    Ok(encode(&hex))
}

/// kustomize's `encode`: first 10 hex digits with `0 1 3 a e` replaced by `g h k m t`
/// (so the suffix never looks like a number and avoids vowels).
fn encode(hex: &str) -> String {
    hex.chars()
        .take(10)
        .map(|c| match c {
            '0' => 'g',
            '1' => 'h',
            '3' => 'k',
            'a' => 'm',
            'e' => 't',
            c => c,
        })
        .collect()
}

/// Rename every resource marked `needs_hash` to `<name>-<hash>`, recording its old id.
pub fn add_hashes(rm: &mut ResMap) -> Result<(), RenderError> {
    for r in rm.iter_mut() {
        if !r.meta.needs_hash {
            continue;
        }
        let h = content_hash(&r.obj)?;
        r.remember_id();
        let name = format!("{}-{h}", r.name());
        r.set_name(&name);
        r.meta.needs_hash = false;
    }
    Ok(())
}

/// Go `encoding/json` `Marshal` of a value decoded into `interface{}`: map keys sorted
/// byte-wise, numbers as float64, `<`, `>`, `&`, U+2028 and U+2029 escaped.
pub(crate) fn go_json(v: &Value, out: &mut String) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => go_number(n, out),
        Value::String(s) => go_string(s, out),
        Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                go_json(x, out);
            }
            out.push(']');
        }
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                go_string(k, out);
                out.push(':');
                go_json(&m[k.as_str()], out);
            }
            out.push('}');
        }
    }
}

/// A JSON number as Go prints the float64 it decodes to.
fn go_number(n: &serde_json::Number, out: &mut String) {
    let f = match n.as_f64() {
        Some(f) => f,
        None => {
            out.push_str(&n.to_string());
            return;
        }
    };
    let abs = f.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        // Go switches to exponent form here and always signs the exponent.
        let s = format!("{f:e}");
        match s.split_once('e') {
            Some((mant, exp)) if !exp.starts_with('-') => {
                out.push_str(mant);
                out.push_str("e+");
                out.push_str(exp);
            }
            _ => out.push_str(&s),
        }
    } else {
        out.push_str(&format!("{f}"));
    }
}

fn go_string(s: &str, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c if (c as u32) < 0x20 => {
                let b = c as u32 as usize;
                out.push_str("\\u00");
                out.push(HEX[b >> 4] as char);
                out.push(HEX[b & 0xf] as char);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resource::Resource;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    fn cm(data: Value) -> Map<String, Value> {
        obj(
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}, "data": data}),
        )
    }

    // Every expected value below is a name `kubectl kustomize` (v5.5.0) printed.

    #[test]
    fn literal_configmap() {
        // literals: [k=v] -> x-bdg947hgcc
        assert_eq!(content_hash(&cm(json!({"k": "v"}))).unwrap(), "bdg947hgcc");
    }

    #[test]
    fn name_and_namespace_do_not_matter() {
        // `namePrefix: p-` gave p-x-bdg947hgcc; namespaces ns1 and ns2 both x-bdg947hgcc.
        let mut o = cm(json!({"k": "v"}));
        o["metadata"] = json!({"name": "p-x", "namespace": "ns1"});
        assert_eq!(content_hash(&o).unwrap(), "bdg947hgcc");
    }

    #[test]
    fn empty_configmap_has_no_data() {
        // a generator with only a name -> x-6ct58987ht
        let o = obj(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}}));
        assert_eq!(content_hash(&o).unwrap(), "6ct58987ht");
    }

    #[test]
    fn quoted_literals() {
        // a=1 b="quoted" c='single' d="mismatch' e=x=y f= g=" spaced " -> lit-9cgm9gd2h6
        let data = json!({"a": "1", "b": "quoted", "c": "single", "d": "\"mismatch'",
            "e": "x=y", "f": "", "g": " spaced "});
        assert_eq!(content_hash(&cm(data)).unwrap(), "9cgm9gd2h6");
    }

    #[test]
    fn env_file() {
        // .env with comment, blank line, `  b = two words`, `export C=3`, D, E="quoted", F=x=y
        let data = json!({"D": "", "E": "\"quoted\"", "F": "x=y", "a": "1",
            "b ": " two words", "export C": "3"});
        assert_eq!(content_hash(&cm(data)).unwrap(), "t9t2thd727");
    }

    #[test]
    fn files_and_binary_data() {
        let mut o = cm(json!({"file.txt": "hello\nworld\n", "k2": "hello\nworld\n"}));
        o.insert("binaryData".into(), json!({"bin.dat": "AAH//g=="}));
        assert_eq!(content_hash(&o).unwrap(), "hf29dh9m49");
    }

    #[test]
    fn go_json_escapes() {
        // file with `<a&b>\b\f\x01\x7f\u2028\t\r"\/é` -> x-4tt674c9c2
        let v = "<a&b>\u{8}\u{c}\u{1}\u{7f}\u{2028}\t\r\"\\/é";
        assert_eq!(
            content_hash(&cm(json!({"f.txt": v}))).unwrap(),
            "4tt674c9c2"
        );
        assert_eq!(
            content_hash(&cm(json!({"f.txt": "a\r\nb"}))).unwrap(),
            "h29fmtbf76"
        );
    }

    #[test]
    fn secrets_include_type() {
        let s = |t: &str, data: Value| {
            obj(
                json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"},
                "type": t, "data": data}),
            )
        };
        assert_eq!(
            content_hash(&s("Opaque", json!({"k": "dg=="}))).unwrap(),
            "ftgtgc4t9f"
        );
        assert_eq!(
            content_hash(&s(
                "Opaque",
                json!({"file.txt": "aGVsbG8Kd29ybGQK", "user": "YWRtaW4="})
            ))
            .unwrap(),
            "bd2dkb5f89"
        );
        let tls = json!({"tls.crt": "YWJj", "tls.key": "ZGVm"});
        assert_eq!(
            content_hash(&s("kubernetes.io/tls", tls)).unwrap(),
            "td2b65gdb7"
        );
    }

    #[test]
    fn merged_generator_hash() {
        // base a=1; overlay merge b=1 -> cm-8gchk5bfmb
        assert_eq!(
            content_hash(&cm(json!({"a": "1", "b": "1"}))).unwrap(),
            "8gchk5bfmb"
        );
    }

    #[test]
    fn add_hashes_renames_and_remembers() {
        let mut a = Resource::new(cm(json!({"k": "v"})));
        a.meta.needs_hash = true;
        let b = Resource::new(cm(json!({"k": "v"})));
        let mut b = b;
        b.set_name("plain");
        let mut rm: ResMap = vec![a, b].into_iter().collect();
        add_hashes(&mut rm).unwrap();
        let names: Vec<&str> = rm.iter().map(|r| r.name()).collect();
        assert_eq!(names, ["x-bdg947hgcc", "plain"]);
        assert_eq!(rm.resources()[0].original_id().name, "x");
        assert!(!rm.resources()[0].meta.needs_hash);
    }

    #[test]
    fn go_number_forms() {
        let f = |v: Value| {
            let mut s = String::new();
            go_json(&v, &mut s);
            s
        };
        assert_eq!(f(json!(1)), "1");
        assert_eq!(f(json!(1.5)), "1.5");
        assert_eq!(f(json!(1e21)), "1e+21");
        assert_eq!(f(json!(1e-7)), "1e-7");
        assert_eq!(
            f(json!({"b": [true, null], "a": "x"})),
            r#"{"a":"x","b":[true,null]}"#
        );
    }
}
