//! `configMapGenerator` and `secretGenerator` as kustomize v5 runs them
//! (`api/internal/generators`, `api/kv`), and the merge/replace of a generated resource into
//! an existing one (`resWrangler.appendReplaceOrMerge`).
//!
//! Key/value sources load in the order env files, literals, files; a repeated key is an
//! error. kustomize's field validator is a no-op, so keys are not checked for legal
//! characters (`a b`, `a/b` and `export C` are all accepted keys). Env files: lines are
//! left-trimmed, blank lines and `#` lines skipped, a UTF-8 BOM dropped from the first line,
//! `KEY=value` split at the first `=` with the value kept verbatim (quotes, trailing spaces
//! and `#` included), `KEY` alone gives an empty value (never the process environment), and
//! a line with an empty key is skipped. Literals lose one pair of matching surrounding
//! quotes. ConfigMap values that are not UTF-8 go to `binaryData`; Secret values are all
//! base64. Base64 text is wrapped at 70 columns (each line ending in `\n`) once it reaches
//! 70 characters, as kyaml's `encodeBase64` does.

use crate::error::RenderError;
use crate::kustomization::{GeneratorArgs, GeneratorOptions};
use crate::loader::Loader;
use crate::resource::{Behavior, Resource};
use base64::Engine;
use indexmap::IndexMap;
use serde_json::{Map, Value};

fn gen_err(message: impl Into<String>) -> RenderError {
    RenderError::Generator {
        message: message.into(),
    }
}

/// kustomize's `MergeGlobalOptionsIntoLocal`: per-generator labels and annotations win
/// over the global ones key by key; `disableNameSuffixHash` and `immutable` are on when
/// either side turns them on.
pub fn merge_options(
    local: Option<&GeneratorOptions>,
    global: Option<&GeneratorOptions>,
) -> GeneratorOptions {
    let mut out = local.cloned().unwrap_or_default();
    if let Some(g) = global {
        for (k, v) in &g.labels {
            out.labels.entry(k.clone()).or_insert_with(|| v.clone());
        }
        for (k, v) in &g.annotations {
            out.annotations
                .entry(k.clone())
                .or_insert_with(|| v.clone());
        }
        if g.disable_name_suffix_hash == Some(true) {
            out.disable_name_suffix_hash = Some(true);
        }
        out.immutable |= g.immutable;
    }
    out
}

/// Generate a ConfigMap.
pub fn config_map(
    ldr: &Loader,
    args: &GeneratorArgs,
    global: Option<&GeneratorOptions>,
) -> Result<Resource, RenderError> {
    let pairs = load_pairs(ldr, args, "configMapGenerator")?;
    let mut data = Map::new();
    let mut binary = Map::new();
    for (k, v) in pairs {
        match String::from_utf8(v) {
            Ok(s) => data.insert(k, Value::String(s)),
            Err(e) => binary.insert(k, Value::String(encode_base64(e.as_bytes()))),
        };
    }
    let mut obj = base_object("ConfigMap", args)?;
    if !data.is_empty() {
        obj.insert("data".into(), Value::Object(data));
    }
    if !binary.is_empty() {
        obj.insert("binaryData".into(), Value::Object(binary));
    }
    finish(obj, args, global)
}

/// Generate a Secret (`type` defaults to `Opaque`).
pub fn secret(
    ldr: &Loader,
    args: &GeneratorArgs,
    global: Option<&GeneratorOptions>,
) -> Result<Resource, RenderError> {
    let pairs = load_pairs(ldr, args, "secretGenerator")?;
    let mut obj = base_object("Secret", args)?;
    let t = if args.kind_type.is_empty() {
        "Opaque"
    } else {
        &args.kind_type
    };
    obj.insert("type".into(), Value::String(t.to_string()));
    if !pairs.is_empty() {
        let data = pairs
            .into_iter()
            .map(|(k, v)| (k, Value::String(encode_base64(&v))))
            .collect();
        obj.insert("data".into(), Value::Object(data));
    }
    finish(obj, args, global)
}

fn base_object(kind: &str, args: &GeneratorArgs) -> Result<Map<String, Value>, RenderError> {
    if args.name.is_empty() {
        // kustomize says "configmap" for Secrets too.
        return Err(gen_err("a configmap must have a name"));
    }
    let mut meta = Map::new();
    meta.insert("name".into(), Value::String(args.name.clone()));
    if !args.namespace.is_empty() {
        meta.insert("namespace".into(), Value::String(args.namespace.clone()));
    }
    let mut obj = Map::new();
    obj.insert("apiVersion".into(), Value::String("v1".into()));
    obj.insert("kind".into(), Value::String(kind.into()));
    obj.insert("metadata".into(), Value::Object(meta));
    Ok(obj)
}

fn string_map(m: &IndexMap<String, String>) -> Value {
    let mut keys: Vec<&String> = m.keys().collect();
    keys.sort();
    Value::Object(
        keys.into_iter()
            .map(|k| (k.clone(), Value::String(m[k].clone())))
            .collect(),
    )
}

fn finish(
    obj: Map<String, Value>,
    args: &GeneratorArgs,
    global: Option<&GeneratorOptions>,
) -> Result<Resource, RenderError> {
    let opts = merge_options(args.options.as_ref(), global);
    let mut r = Resource::new(obj);
    if !opts.labels.is_empty() {
        r.metadata_mut()
            .insert("labels".into(), string_map(&opts.labels));
    }
    if !opts.annotations.is_empty() {
        r.metadata_mut()
            .insert("annotations".into(), string_map(&opts.annotations));
    }
    if opts.immutable {
        r.obj.insert("immutable".into(), Value::Bool(true));
    }
    r.meta.needs_hash = opts.disable_name_suffix_hash != Some(true);
    // An unknown behavior string is treated as unspecified (create), as kustomize does.
    r.meta.behavior = Some(Behavior::parse(&args.behavior).unwrap_or_default());
    Ok(r)
}

/// kyaml's `encodeBase64`: standard base64, cut into 70-character lines each ending in a
/// newline once the text is at least 70 characters long.
pub fn encode_base64(bytes: &[u8]) -> String {
    const LINE: usize = 70;
    let enc = base64::engine::general_purpose::STANDARD.encode(bytes);
    if enc.len() < LINE {
        return enc;
    }
    let mut out = String::with_capacity(enc.len() + enc.len() / LINE + 1);
    for chunk in enc.as_bytes().chunks(LINE) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out
}

/// All key/value pairs of a generator, sorted by key, refusing repeated keys.
fn load_pairs(
    ldr: &Loader,
    args: &GeneratorArgs,
    field: &str,
) -> Result<Vec<(String, Vec<u8>)>, RenderError> {
    let mut pairs: Vec<(String, Vec<u8>)> = Vec::new();
    for env in &args.envs {
        let (_, bytes) = read_file(ldr, env, &format!("{field}.envs"))?;
        for (k, v) in parse_env(&bytes).map_err(|m| gen_err(format!("env file '{env}': {m}")))? {
            pairs.push((k, v.into_bytes()));
        }
    }
    for lit in &args.literals {
        let (k, v) = parse_literal(lit)?;
        pairs.push((k, v.into_bytes()));
    }
    for src in &args.files {
        let (key, path) = parse_file_source(src)?;
        let (_, bytes) = read_file(ldr, &path, &format!("{field}.files"))?;
        pairs.push((key, bytes));
    }
    let mut seen = std::collections::HashSet::new();
    for (k, _) in &pairs {
        if !seen.insert(k.as_str()) {
            // kustomize says "configmap" for Secrets too.
            return Err(gen_err(format!(
                "configmap {} illegally repeats the key `{k}`",
                args.name
            )));
        }
    }
    pairs.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(pairs)
}

fn read_file(
    ldr: &Loader,
    rel: &str,
    field: &str,
) -> Result<(std::path::PathBuf, Vec<u8>), RenderError> {
    let path = ldr.resolve(rel);
    if path.is_dir() {
        return Err(RenderError::Field {
            path: ldr.kustomization_file().to_path_buf(),
            field: field.to_string(),
            message: format!("'{}' must resolve to a file", path.display()),
        });
    }
    ldr.read(rel, field)
}

/// `key=value`; the value loses one pair of matching surrounding quotes.
pub fn parse_literal(source: &str) -> Result<(String, String), RenderError> {
    match source.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_string(), remove_quotes(v).to_string())),
        _ => Err(gen_err(format!(
            "invalid literal source {source}, expected key=value"
        ))),
    }
}

fn remove_quotes(s: &str) -> &str {
    let b = s.as_bytes();
    if b.len() >= 2 && b[0] == b[b.len() - 1] && (b[0] == b'"' || b[0] == b'\'') {
        &s[1..s.len() - 1]
    } else {
        s
    }
}

/// `path` (key is the base name) or `key=path`.
pub fn parse_file_source(source: &str) -> Result<(String, String), RenderError> {
    match source.find('=') {
        None => Ok((go_path_base(source), source.to_string())),
        Some(0) => Err(gen_err(format!(
            "missing key name for file path \"{}\" in source \"{source}\"",
            &source[1..]
        ))),
        Some(i) => {
            let (key, path) = (&source[..i], &source[i + 1..]);
            if path.contains('=') && !path.starts_with("http://") && !path.starts_with("https://") {
                return Err(gen_err(format!(
                    "source \"{source}\" key name or file path contains '='"
                )));
            }
            if path.is_empty() {
                return Err(gen_err(format!(
                    "missing file path for key name \"{key}\" in source \"{source}\""
                )));
            }
            Ok((key.to_string(), path.to_string()))
        }
    }
}

/// Go's `path.Base`.
fn go_path_base(p: &str) -> String {
    if p.is_empty() {
        return ".".into();
    }
    let trimmed = p.trim_end_matches('/');
    if trimmed.is_empty() {
        return "/".into();
    }
    match trimmed.rfind('/') {
        Some(i) => trimmed[i + 1..].to_string(),
        None => trimmed.to_string(),
    }
}

/// Parse an env file as kustomize's `kv` loader does.
pub fn parse_env(content: &[u8]) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    let mut rest = content;
    let mut line_no = 0usize;
    while !rest.is_empty() {
        // bufio.ScanLines: split at \n, drop one trailing \r.
        let (mut line, next) = match rest.iter().position(|&b| b == b'\n') {
            Some(i) => (&rest[..i], &rest[i + 1..]),
            None => (rest, &rest[rest.len()..]),
        };
        rest = next;
        if let Some(l) = line.strip_suffix(b"\r") {
            line = l;
        }
        let text = std::str::from_utf8(line)
            .map_err(|_| format!("line {} has invalid utf8 bytes", line_no + 1))?;
        let text = if line_no == 0 {
            text.strip_prefix('\u{feff}').unwrap_or(text)
        } else {
            text
        };
        line_no += 1;
        let text = text.trim_start();
        if text.is_empty() || text.starts_with('#') {
            continue;
        }
        let (k, v) = text.split_once('=').unwrap_or((text, ""));
        if k.is_empty() {
            continue;
        }
        out.push((k.to_string(), v.to_string()));
    }
    Ok(out)
}

/// Combine a generated resource with an existing one of the same id.
///
/// `merge`: data and binaryData maps merged (new keys win), labels and annotations merged
/// (new win), everything else from the new resource. `replace`: the new resource, with the
/// labels and annotations still merged. In both, name and namespace and the build history
/// stay those of the existing resource, and the result gets a hash suffix only when both
/// the existing and the new resource want one (what kustomize v5.5.0 does).
pub fn merge_generated(
    existing: &mut Resource,
    new: Resource,
    behavior: Behavior,
) -> Result<(), RenderError> {
    if behavior == Behavior::Create {
        return Err(gen_err(format!(
            "id {} exists; behavior must be merge or replace",
            existing.id()
        )));
    }
    let mut res = new;
    for key in ["labels", "annotations"] {
        let merged = merge_maps(existing.string_map(key), res.string_map(key));
        set_or_remove(res.metadata_mut(), key, merged);
    }
    if behavior == Behavior::Merge {
        for key in ["data", "binaryData"] {
            let old = existing.obj.get(key).and_then(Value::as_object);
            let new = res.obj.get(key).and_then(Value::as_object);
            let merged = merge_maps(old, new);
            set_or_remove(&mut res.obj, key, merged);
        }
    }
    let name = existing.name().to_string();
    res.set_name(&name);
    match existing.namespace() {
        Some(ns) => {
            let ns = ns.to_string();
            res.set_namespace(&ns)
        }
        None => {
            res.metadata_mut().remove("namespace");
        }
    }
    let mut meta = existing.meta.clone();
    meta.needs_hash = existing.meta.needs_hash && res.meta.needs_hash;
    // kustomize keeps the old origin on merge and takes the new one on replace.
    if behavior == Behavior::Replace && res.meta.origin.is_some() {
        meta.origin = res.meta.origin.take();
    }
    res.meta = meta;
    *existing = res;
    Ok(())
}

fn merge_maps(
    old: Option<&Map<String, Value>>,
    new: Option<&Map<String, Value>>,
) -> Map<String, Value> {
    let mut out = old.cloned().unwrap_or_default();
    if let Some(n) = new {
        for (k, v) in n {
            out.insert(k.clone(), v.clone());
        }
    }
    out
}

fn set_or_remove(m: &mut Map<String, Value>, key: &str, v: Map<String, Value>) {
    if v.is_empty() {
        m.remove(key);
    } else {
        m.insert(key.to_string(), Value::Object(v));
    }
}

#[cfg(test)]
#[path = "generate_tests.rs"]
mod tests;
