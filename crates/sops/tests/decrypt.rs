//! Decryption of fixtures made by the real sops 3.11.0 and age (see
//! `fixtures/generate.sh`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use flotilla_sops::{
    decrypt_document, decrypt_document_with, identities_from_secret, is_encrypted, Identity,
    Options, SopsError,
};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::PathBuf;

fn fixture(name: &str) -> Vec<u8> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn text(name: &str) -> String {
    String::from_utf8(fixture(name)).expect("utf-8 fixture")
}

fn yaml(name: &str) -> Value {
    flotilla_yaml::parse_one(&text(name)).expect("fixture parses")
}

fn ids(names: &[&str]) -> Vec<Identity> {
    let data: BTreeMap<String, Vec<u8>> =
        names.iter().map(|n| (n.to_string(), fixture(n))).collect();
    identities_from_secret(&data).expect("identities")
}

fn verified() -> Options {
    Options { verify_mac: true }
}

#[test]
fn secret_with_encrypted_regex_and_two_recipients() {
    let enc = yaml("secret.enc.yaml");
    assert!(is_encrypted(&enc));
    let plain = yaml("secret.plain.yaml");
    for key in ["age1.agekey", "age2.agekey"] {
        let out = decrypt_document_with(&enc, &ids(&[key]), verified()).expect("decrypts");
        assert_eq!(out, Some(plain.clone()), "{key}");
    }
}

#[test]
fn all_value_types_round_trip() {
    let out = decrypt_document_with(&yaml("values.enc.yaml"), &ids(&["age1.agekey"]), verified())
        .expect("decrypts")
        .expect("encrypted");
    assert_eq!(out, yaml("values.plain.yaml"));
    let spec = &out["spec"];
    assert_eq!(spec["count"], json!(42));
    assert_eq!(spec["ratio"], json!(0.25));
    assert_eq!(spec["enabled"], json!(true));
    assert_eq!(spec["empty"], json!(""));
    assert_eq!(spec["nothing"], Value::Null);
    assert_eq!(spec["multiline"], json!("first line\nsecond line\n"));
    assert_eq!(spec["list"][1], json!(2));
}

#[test]
fn other_encryption_rules() {
    for (enc, plain) in [
        ("unencrypted-regex.enc.yaml", "values.plain.yaml"),
        ("encrypted-suffix.enc.yaml", "suffix.plain.yaml"),
        ("mac-only-encrypted.enc.yaml", "secret.plain.yaml"),
    ] {
        let out = decrypt_document_with(&yaml(enc), &ids(&["age1.agekey"]), verified());
        assert_eq!(out, Ok(Some(yaml(plain))), "{enc}");
    }
}

#[test]
fn json_encrypted_file() {
    let enc: Value = serde_json::from_slice(&fixture("secret.enc.json")).expect("json");
    let out = decrypt_document_with(&enc, &ids(&["age1.agekey"]), verified());
    assert_eq!(out, Ok(Some(yaml("secret.plain.yaml"))));
}

#[test]
fn mac_is_checked_only_when_asked() {
    let mut enc = yaml("secret.enc.yaml");
    // What kustomize does to a resource before Flux decrypts it.
    enc["metadata"]["labels"]["kustomize.toolkit.fluxcd.io/name"] = json!("apps");
    enc["metadata"]["namespace"] = json!("other");
    let id = ids(&["age1.agekey"]);
    let out = decrypt_document(&enc, &id).expect("Flux does not check the MAC");
    assert_eq!(
        out.expect("encrypted")["stringData"]["username"],
        json!("admin")
    );
    let err = decrypt_document_with(&enc, &id, verified());
    assert_eq!(
        err,
        Err(SopsError::Mac {
            message: "MAC mismatch".into()
        })
    );
    // With mac_only_encrypted, unencrypted fields may change.
    let mut enc = yaml("mac-only-encrypted.enc.yaml");
    enc["metadata"]["labels"]["extra"] = json!("x");
    assert!(decrypt_document_with(&enc, &id, verified()).is_ok());
}

#[test]
fn tampered_values_fail_without_leaking() {
    let mut enc = yaml("secret.enc.yaml");
    // Move an encrypted value to another key: the path is the additional data.
    let moved = enc["stringData"]["url"].clone();
    enc["stringData"]["username"] = moved;
    let err = decrypt_document(&enc, &ids(&["age1.agekey"])).expect_err("must fail");
    let msg = err.to_string();
    assert!(msg.contains("stringData:username"), "{msg}");
    assert!(!msg.contains("postgres") && !msg.contains("ENC["), "{msg}");
    let mut enc = yaml("secret.enc.yaml");
    enc["stringData"]["username"] = json!("ENC[not-sops]");
    let msg = decrypt_document(&enc, &ids(&["age1.agekey"]))
        .expect_err("must fail")
        .to_string();
    assert!(
        msg.contains("<redacted>") && !msg.contains("not-sops"),
        "{msg}"
    );
}

#[test]
fn wrong_or_missing_identity() {
    let enc = yaml("secret.enc.yaml");
    let err = decrypt_document(&enc, &ids(&["other.agekey"])).expect_err("no match");
    assert!(matches!(err, SopsError::DataKey { .. }), "{err}");
    assert!(!err.to_string().contains("AGE-SECRET-KEY"));
    assert!(matches!(
        decrypt_document(&enc, &[]),
        Err(SopsError::DataKey { .. })
    ));
}

#[test]
fn plain_documents_pass_through() {
    let plain = yaml("secret.plain.yaml");
    assert_eq!(decrypt_document(&plain, &[]), Ok(None));
    let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"},
                    "data": {"sops": "not metadata"}});
    assert_eq!(decrypt_document(&cm, &[]), Ok(None));
    // `sops` without a mac is not sops metadata (Flux's test).
    let fake = json!({"kind": "ConfigMap", "sops": {"mac": ""}});
    assert_eq!(decrypt_document(&fake, &[]), Ok(None));
}

#[test]
fn decrypt_disabled_annotation() {
    let mut enc = yaml("secret.enc.yaml");
    enc["metadata"]["annotations"] = json!({"kustomize.toolkit.fluxcd.io/decrypt": "Disabled"});
    assert_eq!(decrypt_document(&enc, &ids(&["age1.agekey"])), Ok(None));
}

fn secret_with(entries: &[(&str, Vec<u8>)]) -> Value {
    let data: serde_json::Map<String, Value> = entries
        .iter()
        .map(|(k, v)| (k.to_string(), json!(STANDARD.encode(v))))
        .collect();
    json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "gen"}, "data": data})
}

fn entry(v: &Value, key: &str) -> Vec<u8> {
    STANDARD
        .decode(v["data"][key].as_str().expect("entry"))
        .expect("base64")
}

#[test]
fn secret_data_entries_dotenv_binary_json_yaml() {
    let s = secret_with(&[
        ("app.env", fixture("app.enc.env")),
        ("blob", fixture("blob.enc.json")),
        ("config.json", fixture("config.enc.json")),
        (".dockerconfigjson", fixture("config.enc.json")),
        ("settings.yaml", fixture("settings.enc.yaml")),
        ("plain", b"not encrypted".to_vec()),
    ]);
    let out = decrypt_document_with(&s, &ids(&["age1.agekey"]), verified())
        .expect("decrypts")
        .expect("changed");
    // Byte for byte what `sops decrypt` prints for dotenv, binary and JSON.
    assert_eq!(entry(&out, "app.env"), fixture("app.dec.env"));
    assert_eq!(entry(&out, "blob"), fixture("blob.plain.bin"));
    assert_eq!(entry(&out, "config.json"), fixture("config.dec.json"));
    assert_eq!(entry(&out, ".dockerconfigjson"), fixture("config.dec.json"));
    // YAML: the same document; sops indents by 4, we print kustomize's style (known
    // divergence, see the crate doc).
    let y =
        flotilla_yaml::parse_one(&String::from_utf8(entry(&out, "settings.yaml")).expect("utf8"));
    assert_eq!(y.ok(), Some(yaml("settings.dec.yaml")));
    assert_eq!(entry(&out, "plain"), b"not encrypted");
}

#[test]
fn secret_data_without_sops_passes_through() {
    let s = secret_with(&[("a", b"x".to_vec())]);
    assert_eq!(decrypt_document(&s, &[]), Ok(None));
}

#[test]
fn identities_from_secret_entries() {
    let mut data = BTreeMap::new();
    let k1 = fixture("age1.agekey");
    let k2 = fixture("age2.agekey");
    let mut both = k1.clone();
    both.extend_from_slice(b"\n# another\n\n");
    both.extend_from_slice(&k2);
    data.insert("keys.agekey".to_string(), both);
    data.insert("ignored.txt".to_string(), b"garbage".to_vec());
    let ids = identities_from_secret(&data).expect("parses");
    assert_eq!(ids.len(), 2);
    let dbg = format!("{:?}", ids[0]);
    assert!(
        dbg.starts_with("Identity(age1") && !dbg.contains("SECRET"),
        "{dbg}"
    );

    let mut bad = BTreeMap::new();
    bad.insert(
        "bad.agekey".to_string(),
        b"AGE-SECRET-KEY-1NOTAKEY".to_vec(),
    );
    let err = identities_from_secret(&bad).expect_err("bad key");
    assert!(!err.to_string().contains("NOTAKEY"), "{err}");
    let mut empty = BTreeMap::new();
    empty.insert("empty.agekey".to_string(), b"# nothing\n".to_vec());
    assert!(identities_from_secret(&empty).is_err());
}
