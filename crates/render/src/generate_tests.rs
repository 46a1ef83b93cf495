//! Tests of the generators; expected objects and names are what `kubectl kustomize`
//! (kustomize v5.5.0) printed for the same inputs.

use super::*;
use crate::hash::content_hash;
use crate::loader::LoadRestrictor;
use serde_json::json;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

static N: AtomicUsize = AtomicUsize::new(0);

/// A temporary directory, removed when dropped.
struct Tmp(PathBuf);

impl Drop for Tmp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A fresh directory with the given files, and a loader for it.
fn dir(files: &[(&str, &[u8])]) -> (Tmp, Loader) {
    let d = std::env::temp_dir().join(format!(
        "flotilla-gen-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    for (name, content) in files {
        let p = d.join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, content).unwrap();
    }
    let ldr = Loader::new(&d, LoadRestrictor::RootOnly).unwrap();
    (Tmp(d), ldr)
}

fn args(v: Value) -> GeneratorArgs {
    serde_json::from_value(v).unwrap()
}

fn hashed_name(r: &Resource) -> String {
    format!("{}-{}", r.name(), content_hash(&r.obj).unwrap())
}

#[test]
fn literals_strip_matching_quotes() {
    let (_d, ldr) = dir(&[]);
    let a = args(json!({"name": "lit", "literals": [
        "a=1", "b=\"quoted\"", "c='single'", "d=\"mismatch'", "e=x=y", "f=", "g=\" spaced \"", "h=\""
    ]}));
    let r = config_map(&ldr, &a, None).unwrap();
    assert_eq!(
        r.obj["data"],
        json!({"a": "1", "b": "quoted", "c": "single", "d": "\"mismatch'", "e": "x=y",
            "f": "", "g": " spaced ", "h": "\""})
    );
    assert!(r.meta.needs_hash);
    assert_eq!(r.meta.behavior, Some(Behavior::Create));
}

#[test]
fn literal_errors() {
    assert!(parse_literal("=x").is_err());
    assert!(parse_literal("nokey").is_err());
    assert_eq!(parse_literal("a b=1").unwrap().0, "a b");
}

#[test]
fn env_file_rules() {
    let env = b"a=1\n# comment\n\n  b = two words\nexport C=3\nD\nE=\"quoted\"\nF=x=y\n=skipped\nK=v # not comment\n";
    let (_d, ldr) = dir(&[("app.env", env)]);
    let r = config_map(
        &ldr,
        &args(json!({"name": "envs", "envs": ["app.env"]})),
        None,
    )
    .unwrap();
    assert_eq!(
        r.obj["data"],
        json!({"D": "", "E": "\"quoted\"", "F": "x=y", "K": "v # not comment", "a": "1",
            "b ": " two words", "export C": "3"})
    );
}

#[test]
fn env_file_bom_crlf_and_trailing_spaces() {
    let (_d, ldr) = dir(&[("a.env", b"\xef\xbb\xbfA=1\r\nB=2  \r\n\t# c\n D=x")]);
    let r = config_map(&ldr, &args(json!({"name": "e", "envs": ["a.env"]})), None).unwrap();
    assert_eq!(r.obj["data"], json!({"A": "1", "B": "2  ", "D": "x"}));
    assert_eq!(hashed_name(&r), "e-662g8hck2h");
}

#[test]
fn env_file_invalid_utf8_is_an_error() {
    let (_d, ldr) = dir(&[("a.env", b"A=\xff\n")]);
    assert!(config_map(&ldr, &args(json!({"name": "e", "envs": ["a.env"]})), None).is_err());
}

#[test]
fn files_text_and_binary() {
    let (_d, ldr) = dir(&[
        ("file.txt", b"hello\nworld\n"),
        ("bin.dat", b"\x00\x01\xff\xfe"),
    ]);
    let a = args(json!({"name": "files", "files": ["file.txt", "k2=file.txt", "bin.dat"]}));
    let r = config_map(&ldr, &a, None).unwrap();
    assert_eq!(
        r.obj["data"],
        json!({"file.txt": "hello\nworld\n", "k2": "hello\nworld\n"})
    );
    assert_eq!(r.obj["binaryData"], json!({"bin.dat": "AAH//g=="}));
    assert_eq!(hashed_name(&r), "files-hf29dh9m49");
}

#[test]
fn long_base64_is_wrapped_at_70() {
    let bytes: Vec<u8> = (0..=255u8).rev().take(120).collect();
    let (_d, ldr) = dir(&[("big.bin", &bytes)]);
    let want = "//79/Pv6+fj39vX08/Lx8O/u7ezr6uno5+bl5OPi4eDf3t3c29rZ2NfW1dTT0tHQz87NzM\n\
                vKycjHxsXEw8LBwL++vby7urm4t7a1tLOysbCvrq2sq6qpqKempaSjoqGgn56dnJuamZiX\n\
                lpWUk5KRkI+OjYyLiomI\n";
    let cm = config_map(
        &ldr,
        &args(json!({"name": "b", "files": ["big.bin"]})),
        None,
    )
    .unwrap();
    assert_eq!(cm.obj["binaryData"]["big.bin"], want);
    assert_eq!(hashed_name(&cm), "b-bghk67k2f9");
    let s = secret(
        &ldr,
        &args(json!({"name": "s", "files": ["big.bin"]})),
        None,
    )
    .unwrap();
    assert_eq!(s.obj["data"]["big.bin"], want);
    assert_eq!(hashed_name(&s), "s-bct9ct7m79");
}

#[test]
fn file_source_forms_and_errors() {
    assert_eq!(
        parse_file_source("dir/a.txt").unwrap(),
        ("a.txt".into(), "dir/a.txt".into())
    );
    assert_eq!(
        parse_file_source("k=f&x.txt").unwrap(),
        ("k".into(), "f&x.txt".into())
    );
    assert!(parse_file_source("=f.txt").is_err());
    assert!(parse_file_source("k=").is_err());
    assert!(parse_file_source("a=b=f.txt").is_err());
}

#[test]
fn missing_file_directory_and_outside_root_fail() {
    let (_d, ldr) = dir(&[("sub/g.txt", b"w\n")]);
    for files in [
        json!(["missing.txt"]),
        json!(["sub"]),
        json!(["../etc/passwd"]),
    ] {
        let a = args(json!({"name": "x", "files": files}));
        assert!(config_map(&ldr, &a, None).is_err(), "{files}");
    }
    let a = args(json!({"name": "x", "envs": ["missing.env"]}));
    assert!(config_map(&ldr, &a, None).is_err());
}

#[test]
fn repeated_keys_fail_across_sources() {
    let (_d, ldr) = dir(&[("a.env", b"a=1\n")]);
    let a = args(json!({"name": "x", "literals": ["a=1", "a=2"]}));
    let e = config_map(&ldr, &a, None).unwrap_err().to_string();
    assert!(
        e.contains("configmap x illegally repeats the key `a`"),
        "{e}"
    );
    let a = args(json!({"name": "x", "literals": ["a=1"], "envs": ["a.env"]}));
    assert!(secret(&ldr, &a, None).is_err());
}

#[test]
fn name_is_required() {
    let (_d, ldr) = dir(&[]);
    let a = args(json!({"literals": ["a=1"]}));
    assert!(config_map(&ldr, &a, None).is_err());
    assert!(secret(&ldr, &a, None).is_err());
}

#[test]
fn empty_generator_has_no_data() {
    let (_d, ldr) = dir(&[]);
    let r = config_map(&ldr, &args(json!({"name": "x", "behavior": "bogus"})), None).unwrap();
    assert_eq!(
        Value::Object(r.obj.clone()),
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}})
    );
    assert_eq!(hashed_name(&r), "x-6ct58987ht");
    assert_eq!(r.meta.behavior, Some(Behavior::Create));
}

#[test]
fn secret_type_and_namespace() {
    let (_d, ldr) = dir(&[("file.txt", b"hello\nworld\n")]);
    let a = args(
        json!({"name": "sec2", "type": "kubernetes.io/tls", "namespace": "foo",
        "literals": ["tls.crt=abc", "tls.key=def"]}),
    );
    let r = secret(&ldr, &a, None).unwrap();
    assert_eq!(
        Value::Object(r.obj.clone()),
        json!({"apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "sec2", "namespace": "foo"}, "type": "kubernetes.io/tls",
            "data": {"tls.crt": "YWJj", "tls.key": "ZGVm"}})
    );
    assert_eq!(hashed_name(&r), "sec2-td2b65gdb7");
    let a = args(json!({"name": "sec", "literals": ["user=admin"], "files": ["file.txt"]}));
    let r = secret(&ldr, &a, None).unwrap();
    assert_eq!(r.obj["type"], "Opaque");
    assert_eq!(hashed_name(&r), "sec-bd2dkb5f89");
}

#[test]
fn global_and_local_options_merge() {
    let (_d, ldr) = dir(&[]);
    let global: GeneratorOptions = serde_json::from_value(json!({
        "labels": {"a": "g", "b": "g"}, "annotations": {"x": "g"}, "immutable": true}))
    .unwrap();
    let a = args(json!({"name": "x", "literals": ["k=v"],
        "options": {"labels": {"b": "l"}, "disableNameSuffixHash": true}}));
    let r = config_map(&ldr, &a, Some(&global)).unwrap();
    assert_eq!(
        Value::Object(r.obj.clone()),
        json!({"apiVersion": "v1", "kind": "ConfigMap", "immutable": true,
            "metadata": {"name": "x", "labels": {"a": "g", "b": "l"}, "annotations": {"x": "g"}},
            "data": {"k": "v"}})
    );
    assert!(!r.meta.needs_hash);
    let a = args(json!({"name": "s", "literals": ["k=v"], "options": {"annotations": {"x": "l"}}}));
    let s = secret(&ldr, &a, Some(&global)).unwrap();
    assert_eq!(s.obj["metadata"]["annotations"], json!({"x": "l"}));
    assert_eq!(s.obj["immutable"], json!(true));
    assert_eq!(hashed_name(&s), "s-ftgtgc4t9f");
    // a global disable cannot be turned back on locally
    let global: GeneratorOptions =
        serde_json::from_value(json!({"disableNameSuffixHash": true})).unwrap();
    let a = args(json!({"name": "x", "options": {"disableNameSuffixHash": false}}));
    assert!(!config_map(&ldr, &a, Some(&global)).unwrap().meta.needs_hash);
}

fn gen(ldr: &Loader, v: Value) -> Resource {
    config_map(ldr, &args(v), None).unwrap()
}

#[test]
fn merge_keeps_old_name_and_merges_maps() {
    let (_d, ldr) = dir(&[]);
    let mut old = gen(
        &ldr,
        json!({"name": "cm", "literals": ["a=1", "b=2"], "options": {
        "labels": {"l1": "base", "l2": "base"}, "annotations": {"an": "base"}, "immutable": true}}),
    );
    old.remember_id();
    old.set_name("b-cm");
    old.set_namespace("bns");
    let new = gen(
        &ldr,
        json!({"name": "cm", "namespace": "bns", "behavior": "merge",
        "literals": ["b=3", "c=4"], "options": {"labels": {"l2": "ov"}}}),
    );
    merge_generated(&mut old, new, Behavior::Merge).unwrap();
    // immutable is lost: everything but metadata and data comes from the new resource
    assert_eq!(
        Value::Object(old.obj.clone()),
        json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "b-cm", "namespace": "bns",
                "labels": {"l1": "base", "l2": "ov"}, "annotations": {"an": "base"}},
            "data": {"a": "1", "b": "3", "c": "4"}})
    );
    assert!(old.meta.needs_hash);
    assert_eq!(old.original_id().name, "cm");
    assert_eq!(hashed_name(&old), "b-cm-fbcmkbc66h");
}

#[test]
fn replace_takes_new_content_but_merges_labels() {
    let (_d, ldr) = dir(&[]);
    let mut old = gen(
        &ldr,
        json!({"name": "cm", "literals": ["a=1"], "options": {"labels": {"x": "1"}}}),
    );
    let new = gen(
        &ldr,
        json!({"name": "cm", "behavior": "replace", "literals": ["b=1"],
        "options": {"labels": {"w": "1"}}}),
    );
    merge_generated(&mut old, new, Behavior::Replace).unwrap();
    assert_eq!(old.obj["data"], json!({"b": "1"}));
    assert_eq!(old.obj["metadata"]["labels"], json!({"w": "1", "x": "1"}));
    assert_eq!(hashed_name(&old), "cm-k2572242mg");
}

#[test]
fn hash_only_when_both_sides_want_it() {
    let (_d, ldr) = dir(&[]);
    let hashed = || gen(&ldr, json!({"name": "cm", "literals": ["a=1"]}));
    let plain = || {
        gen(
            &ldr,
            json!({"name": "cm", "options": {"disableNameSuffixHash": true}}),
        )
    };
    for (old_hash, new_hash, b) in [
        (true, false, Behavior::Merge),
        (false, true, Behavior::Merge),
        (true, false, Behavior::Replace),
        (false, true, Behavior::Replace),
        (true, true, Behavior::Merge),
    ] {
        let mut old = if old_hash { hashed() } else { plain() };
        let new = if new_hash { hashed() } else { plain() };
        merge_generated(&mut old, new, b).unwrap();
        assert_eq!(old.meta.needs_hash, old_hash && new_hash);
    }
}

#[test]
fn merge_into_plain_resource_and_empty_maps() {
    let (_d, ldr) = dir(&[]);
    let mut old = Resource::new(
        json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "plain", "labels": {"p": "1"}}, "data": {"x": "y"}})
        .as_object()
        .cloned()
        .unwrap(),
    );
    let new = gen(
        &ldr,
        json!({"name": "plain", "behavior": "merge", "literals": ["q=1"]}),
    );
    merge_generated(&mut old, new, Behavior::Merge).unwrap();
    assert_eq!(old.obj["data"], json!({"q": "1", "x": "y"}));
    assert_eq!(old.obj["metadata"]["labels"], json!({"p": "1"}));
    assert!(!old.meta.needs_hash);

    let mut e1 = gen(&ldr, json!({"name": "cm"}));
    merge_generated(&mut e1, gen(&ldr, json!({"name": "cm"})), Behavior::Merge).unwrap();
    assert!(e1.obj.get("data").is_none());
    assert!(e1.obj["metadata"].get("labels").is_none());
    assert_eq!(hashed_name(&e1), "cm-6ct58987ht");
}

#[test]
fn secret_replace_takes_new_type() {
    let (_d, ldr) = dir(&[]);
    let mut old = secret(
        &ldr,
        &args(json!({"name": "sec", "type": "kubernetes.io/tls", "literals": ["a=1"]})),
        None,
    )
    .unwrap();
    let new = secret(
        &ldr,
        &args(json!({"name": "sec", "literals": ["r=1"]})),
        None,
    )
    .unwrap();
    merge_generated(&mut old, new, Behavior::Replace).unwrap();
    assert_eq!(old.obj["type"], "Opaque");
    assert_eq!(old.obj["data"], json!({"r": "MQ=="}));
    assert_eq!(hashed_name(&old), "sec-t5d8582t48");
}

#[test]
fn create_on_existing_is_an_error() {
    let (_d, ldr) = dir(&[]);
    let mut old = gen(&ldr, json!({"name": "cm"}));
    assert!(merge_generated(&mut old, gen(&ldr, json!({"name": "cm"})), Behavior::Create).is_err());
}
