//! Version conversion of Flux GitRepository and Kustomization objects (`serde_json::Value`).
//!
//! The CRDs are served with conversion `None`: the API server only rewrites `apiVersion`, so
//! an object written at v1beta1 or v1beta2 is stored with its old shape (the v1 schemas accept
//! the removed fields for that reason). Controllers call [`to_v1`] on every object they read
//! and work on the v1 shape; [`from_v1`] writes a v1 object back in an older shape. The
//! differences handled:
//!
//! | what | v1beta1 / v1beta2 | v1 |
//! | --- | --- | --- |
//! | revisions (`status.artifact.revision`, `lastAppliedRevision`, `lastAttemptedRevision`) | v1beta1 `main/<sha>`, `HEAD/<sha>`, `<sha>` | `main@sha1:<sha>`, `sha1:<sha>` (v1beta2 objects written before Flux 0.36 may hold the old form too) |
//! | `GitRepository.spec.gitImplementation`, `.spec.accessFrom` | accepted, ignored | removed |
//! | `GitRepository.spec.verify.mode` | `head` | `HEAD` (also `Tag`, `TagAndHEAD`) |
//! | `GitRepository.status.artifact.checksum`, `status.url` | SHA-256 hex; artifact URL | `digest: sha256:<hex>`; only `artifact.url` |
//! | `Kustomization.spec.validation` | `none`/`client`/`server` | removed (apply is always server-side dry-run first) |
//! | `Kustomization.spec.patchesStrategicMerge` | objects | `patches[].patch` (YAML of the object, no target), placed before the existing patches |
//! | `Kustomization.spec.patchesJson6902` | `{patch: [ops], target}` | `patches[]` `{patch: YAML list of ops, target}`, placed after the existing patches |
//! | `Kustomization.spec.decryption` | `{provider: sops, secretRef}` | the same shape (v1 adds `serviceAccountName`): carried unchanged |
//! | `Kustomization.status.snapshot` (v1beta1) | kinds per namespace, no names | dropped: the next apply writes `inventory`; nothing is pruned before it exists |
//!
//! Folding the legacy patches into `patches` follows Flux's migration guide. kustomize runs
//! `patchesJson6902` after the namespace/prefix transformers, `patches` before them, so a
//! JSON 6902 target naming the *transformed* name must be rewritten by hand, as upstream notes.
//!
//! Down-conversion drops v1-only fields that change nothing the older controller did, and
//! refuses ([`Error::Convert`]) fields whose loss would change what is fetched or applied.
use serde_json::{json, Map, Value};

use crate::flux::{KUSTOMIZE_GROUP, SOURCE_GROUP};
use crate::meta::{group_of, version_of};
use crate::Error;

/// The hash algorithm of a hex commit id by length, as Flux's `determineSHAType`.
fn sha_type(s: &str) -> Option<&'static str> {
    if !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    match s.len() {
        40 => Some("sha1"),
        64 => Some("sha256"),
        _ => None,
    }
}

/// A revision in the v1 form (Flux's `TransformLegacyRevision`): `main/<sha>` →
/// `main@sha1:<sha>`, `HEAD/<sha>` and bare `<sha>` → `sha1:<sha>`. Revisions already in the
/// new form (anything with `:`), and anything unrecognised, are returned unchanged.
pub fn revision_to_v1(rev: &str) -> String {
    if rev.is_empty() || rev.contains(':') {
        return rev.to_string();
    }
    if let Some((name, sha)) = rev.rsplit_once('/') {
        if let Some(algo) = sha_type(sha) {
            return if name == "HEAD" {
                format!("{algo}:{sha}")
            } else {
                format!("{name}@{algo}:{sha}")
            };
        }
    }
    match sha_type(rev) {
        Some(algo) => format!("{algo}:{rev}"),
        None => rev.to_string(),
    }
}

/// A v1 revision in the v1beta1 form: `main@sha1:<sha>` → `main/<sha>`, `sha1:<sha>` →
/// `HEAD/<sha>`. Anything else is returned unchanged.
pub fn revision_to_v1beta1(rev: &str) -> String {
    let (name, digest) = match rev.rsplit_once('@') {
        Some((name, digest)) => (name, digest),
        None => ("HEAD", rev),
    };
    match digest.split_once(':') {
        Some((algo, sha)) if sha_type(sha) == Some(algo) => format!("{name}/{sha}"),
        _ => rev.to_string(),
    }
}

fn err(obj: &Value, to: &str, reason: impl Into<String>) -> Error {
    Error::Convert {
        kind: obj["kind"].as_str().unwrap_or_default().to_string(),
        from: obj["apiVersion"].as_str().unwrap_or_default().to_string(),
        to: to.to_string(),
        reason: reason.into(),
    }
}

fn object_mut<'a>(v: &'a mut Value, key: &str) -> Option<&'a mut Map<String, Value>> {
    v.get_mut(key).and_then(Value::as_object_mut)
}

fn map_revision(map: &mut Map<String, Value>, key: &str, f: fn(&str) -> String) {
    if let Some(Value::String(r)) = map.get_mut(key) {
        *r = f(r);
    }
}

/// Converts a Flux object of any served version to v1; other objects are returned unchanged.
pub fn to_v1(obj: &Value) -> Result<Value, Error> {
    let api = obj["apiVersion"].as_str().unwrap_or_default();
    match (group_of(api), obj["kind"].as_str()) {
        (SOURCE_GROUP, Some("GitRepository")) => Ok(git_repository_to_v1(obj)),
        (KUSTOMIZE_GROUP, Some("Kustomization")) => Ok(kustomization_to_v1(obj)),
        _ => Ok(obj.clone()),
    }
}

/// Converts a v1 Flux object to `version` (`v1beta1`, `v1beta2` or `v1`).
pub fn from_v1(obj: &Value, version: &str) -> Result<Value, Error> {
    let api = obj["apiVersion"].as_str().unwrap_or_default();
    let group = group_of(api);
    if !matches!(version, "v1" | "v1beta1" | "v1beta2") {
        return Err(err(obj, version, "unknown version"));
    }
    match (group, obj["kind"].as_str()) {
        (SOURCE_GROUP, Some("GitRepository")) => git_repository_from_v1(obj, version),
        (KUSTOMIZE_GROUP, Some("Kustomization")) => kustomization_from_v1(obj, version),
        _ => Err(err(
            obj,
            version,
            "not a Flux GitRepository or Kustomization",
        )),
    }
}

/// GitRepository v1beta1/v1beta2 → v1.
pub fn git_repository_to_v1(obj: &Value) -> Value {
    let mut out = obj.clone();
    out["apiVersion"] = json!(format!("{SOURCE_GROUP}/v1"));
    if let Some(spec) = object_mut(&mut out, "spec") {
        spec.remove("gitImplementation");
        spec.remove("accessFrom");
        if let Some(verify) = spec.get_mut("verify").and_then(Value::as_object_mut) {
            if verify.get("mode").and_then(Value::as_str) == Some("head") {
                verify.insert("mode".into(), json!("HEAD"));
            }
        }
    }
    if let Some(status) = object_mut(&mut out, "status") {
        status.remove("url");
        status.remove("contentConfigChecksum");
        if let Some(a) = status.get_mut("artifact") {
            artifact_to_v1(a);
        }
        if let Some(Value::Array(included)) = status.get_mut("includedArtifacts") {
            included.iter_mut().for_each(artifact_to_v1);
        }
    }
    out
}

fn artifact_to_v1(artifact: &mut Value) {
    let Some(a) = artifact.as_object_mut() else {
        return;
    };
    map_revision(a, "revision", revision_to_v1);
    if let Some(Value::String(sum)) = a.remove("checksum") {
        if !a.contains_key("digest") && sum.len() == 64 && sha_type(&sum).is_some() {
            a.insert("digest".into(), json!(format!("sha256:{sum}")));
        }
    }
}

/// GitRepository v1 → `version`.
pub fn git_repository_from_v1(obj: &Value, version: &str) -> Result<Value, Error> {
    let mut out = obj.clone();
    out["apiVersion"] = json!(format!("{SOURCE_GROUP}/{version}"));
    if version == "v1" {
        return Ok(out);
    }
    if let Some(spec) = object_mut(&mut out, "spec") {
        let set = |k: &str| spec.get(k).is_some_and(|v| !v.is_null());
        if spec
            .get("sparseCheckout")
            .and_then(Value::as_array)
            .is_some_and(|a| !a.is_empty())
        {
            return Err(err(obj, version, "spec.sparseCheckout has no equivalent"));
        }
        if set("proxySecretRef") || set("serviceAccountName") {
            return Err(err(
                obj,
                version,
                "proxySecretRef/serviceAccountName have no equivalent",
            ));
        }
        match spec.get("provider").and_then(Value::as_str) {
            None | Some("generic") => {
                spec.remove("provider");
            }
            Some(p) => return Err(err(obj, version, format!("provider {p} has no equivalent"))),
        }
        if let Some(verify) = spec.get_mut("verify").and_then(Value::as_object_mut) {
            match verify.get("mode").and_then(Value::as_str) {
                None | Some("HEAD") | Some("head") => {
                    verify.insert("mode".into(), json!("head"));
                }
                Some(m) => {
                    return Err(err(
                        obj,
                        version,
                        format!("verify.mode {m} has no equivalent"),
                    ))
                }
            }
        }
        if version == "v1beta1" {
            let name_ref = spec.get("ref").and_then(|r| r.get("name")).is_some();
            if name_ref {
                return Err(err(obj, version, "spec.ref.name has no equivalent"));
            }
        }
    }
    if let Some(status) = object_mut(&mut out, "status") {
        for key in ["observedSparseCheckout", "sourceVerificationMode"] {
            status.remove(key);
        }
        if let Some(url) = status.get("artifact").and_then(|a| a.get("url")).cloned() {
            status.insert("url".into(), url);
        }
        let down = |a: &mut Value| artifact_from_v1(a, version);
        if let Some(a) = status.get_mut("artifact") {
            down(a);
        }
        if let Some(Value::Array(included)) = status.get_mut("includedArtifacts") {
            included.iter_mut().for_each(down);
        }
    }
    Ok(out)
}

fn artifact_from_v1(artifact: &mut Value, version: &str) {
    let Some(a) = artifact.as_object_mut() else {
        return;
    };
    if let Some(sum) = a
        .get("digest")
        .and_then(Value::as_str)
        .and_then(|d| d.strip_prefix("sha256:"))
    {
        a.insert("checksum".into(), json!(sum));
    }
    if version == "v1beta1" {
        map_revision(a, "revision", revision_to_v1beta1);
        for key in ["digest", "size", "metadata"] {
            a.remove(key);
        }
    }
}

/// Kustomization v1beta1/v1beta2 → v1.
pub fn kustomization_to_v1(obj: &Value) -> Value {
    let mut out = obj.clone();
    out["apiVersion"] = json!(format!("{KUSTOMIZE_GROUP}/v1"));
    if let Some(spec) = object_mut(&mut out, "spec") {
        spec.remove("validation");
        let smp = match spec.remove("patchesStrategicMerge") {
            Some(Value::Array(a)) => a,
            _ => Vec::new(),
        };
        let json6902 = match spec.remove("patchesJson6902") {
            Some(Value::Array(a)) => a,
            _ => Vec::new(),
        };
        if !smp.is_empty() || !json6902.is_empty() {
            let existing = match spec.remove("patches") {
                Some(Value::Array(a)) => a,
                _ => Vec::new(),
            };
            let mut patches: Vec<Value> = smp
                .iter()
                .map(|p| json!({"patch": flotilla_yaml::to_yaml(p)}))
                .collect();
            patches.extend(existing);
            patches.extend(json6902.iter().map(|p| {
                let mut patch = json!({"patch": flotilla_yaml::to_yaml(&p["patch"])});
                if let Some(target) = p.get("target") {
                    patch["target"] = target.clone();
                }
                patch
            }));
            spec.insert("patches".into(), Value::Array(patches));
        }
    }
    if let Some(status) = object_mut(&mut out, "status") {
        status.remove("snapshot");
        map_revision(status, "lastAppliedRevision", revision_to_v1);
        map_revision(status, "lastAttemptedRevision", revision_to_v1);
    }
    out
}

/// Kustomization v1 → `version`. `patches` stay `patches` (v1beta1 and v1beta2 have the
/// field); fields an older controller never had are dropped when they change nothing that
/// is applied, and refused otherwise.
pub fn kustomization_from_v1(obj: &Value, version: &str) -> Result<Value, Error> {
    let mut out = obj.clone();
    out["apiVersion"] = json!(format!("{KUSTOMIZE_GROUP}/{version}"));
    if version == "v1" {
        return Ok(out);
    }
    if let Some(spec) = object_mut(&mut out, "spec") {
        for key in ["namePrefix", "nameSuffix", "healthCheckExprs"] {
            if spec.get(key).is_some_and(|v| !v.is_null()) {
                return Err(err(obj, version, format!("spec.{key} has no equivalent")));
            }
        }
        spec.remove("deletionPolicy");
        if let Some(d) = spec.get_mut("decryption").and_then(Value::as_object_mut) {
            d.remove("serviceAccountName");
        }
        if version == "v1beta1" {
            let at = |a: &str, b: &str| spec.get(a).and_then(|v| v.get(b)).cloned();
            if at("sourceRef", "kind").is_some_and(|k| k == "OCIRepository") {
                return Err(err(
                    obj,
                    version,
                    "sourceRef kind OCIRepository has no equivalent",
                ));
            }
            for key in ["components", "commonMetadata"] {
                if spec.get(key).is_some_and(|v| !v.is_null()) {
                    return Err(err(obj, version, format!("spec.{key} has no equivalent")));
                }
            }
            if at("kubeConfig", "secretRef").is_some_and(|r| r.get("key").is_some()) {
                return Err(err(
                    obj,
                    version,
                    "spec.kubeConfig.secretRef.key has no equivalent",
                ));
            }
            spec.remove("wait");
            if let Some(Value::Array(from)) = spec
                .get_mut("postBuild")
                .and_then(|p| p.get_mut("substituteFrom"))
            {
                for f in from.iter_mut().filter_map(Value::as_object_mut) {
                    f.remove("optional");
                }
            }
        }
    }
    if let Some(status) = object_mut(&mut out, "status") {
        status.remove("lastAppliedOriginRevision");
        if version == "v1beta1" {
            status.remove("inventory");
            map_revision(status, "lastAppliedRevision", revision_to_v1beta1);
            map_revision(status, "lastAttemptedRevision", revision_to_v1beta1);
        }
    }
    Ok(out)
}

/// The version part of an object's apiVersion.
pub fn version(obj: &Value) -> &str {
    version_of(obj["apiVersion"].as_str().unwrap_or_default())
}

#[cfg(test)]
#[path = "convert_tests.rs"]
mod tests;
