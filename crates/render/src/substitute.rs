//! Flux post-build variable substitution (`spec.postBuild.substitute` / `substituteFrom`),
//! as kustomize-controller runs it on every rendered object (`fluxcd/pkg/kustomize`,
//! `kustomize_varsub.go`):
//!
//! 1. An object labelled or annotated `kustomize.toolkit.fluxcd.io/substitute: disabled`
//!    (exact value) is left alone.
//! 2. With no variables at all nothing is substituted (not even `$$`, and strict mode does
//!    not complain).
//! 3. Every variable name must match `^[_[:alpha:]][_[:alpha:][:digit:]]*$` (ASCII), or the
//!    object fails — even a name no object uses.
//! 4. The object is written as YAML (`sigs.k8s.io/yaml`, i.e. [`flotilla_yaml::to_yaml`]),
//!    the text is expanded by Flux's envsubst ([`envsubst`]), and the result is read back
//!    with go-yaml v2 (YAML 1.1, [`flotilla_yaml::parse_one_yaml11`]). So `replicas:
//!    ${N}` with `N=3` becomes the number 3, `${FLAG}` with `on` becomes `true`, and a
//!    value that breaks the YAML is an error.
//! 5. Unset variables expand to `""`; in strict mode (Flux's `StrictPostBuildSubstitutions`
//!    feature gate) a bare `${var}` (or a non-default operator) on an unset variable is an
//!    error, while `${var:=default}` and the other default operators still work.
//!
//! Variables come from [`collect_vars`]: `substituteFrom` entries in order (a later source
//! overrides an earlier one), then the inline `substitute` map over all of them. Newlines
//! are removed from every value, as Flux does. (Flux loads the sources once per object
//! it substitutes into, so a missing required source only fails a build that has at least
//! one object without the `disabled` opt-out.)

pub mod envsubst;

#[cfg(test)]
mod tests;

use serde_json::Value;
use std::collections::BTreeMap;

/// The label/annotation that turns substitution off for one object.
pub const SUBSTITUTE_KEY: &str = "kustomize.toolkit.fluxcd.io/substitute";
/// Flux's variable-name pattern, quoted in errors.
pub const VAR_NAME_PATTERN: &str = "^[_[:alpha:]][_[:alpha:][:digit:]]*$";

/// Substitution errors, worded as kustomize-controller words them; `object` is the
/// object's `metadata.name`, as in Flux's `post build failed for '<name>'`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubstituteError {
    #[error("post build failed for '{object}': envsubst error: '{name}' var name is invalid, must match '{VAR_NAME_PATTERN}'")]
    InvalidName { object: String, name: String },
    #[error(
        "post build failed for '{object}': envsubst error: variable substitution failed: {error}"
    )]
    Eval {
        object: String,
        error: envsubst::EvalError,
    },
    #[error("post build failed for '{object}': envsubst error: YAMLToJSON: {message}")]
    Reparse { object: String, message: String },
    /// A required `substituteFrom` object does not exist (`resource` is the API's plural,
    /// `configmaps` or `secrets`, as in the Kubernetes NotFound message).
    #[error("substitute from '{kind}/{name}' error: {resource} \"{name}\" not found")]
    NotFound {
        kind: String,
        resource: String,
        name: String,
    },
}

/// The data of one `substituteFrom` entry as fetched from the cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceData {
    /// A ConfigMap's `data` (its `binaryData` is not used, as in Flux).
    ConfigMap(BTreeMap<String, String>),
    /// A Secret's `data`, decoded from base64.
    Secret(BTreeMap<String, Vec<u8>>),
}

/// One `postBuild.substituteFrom` entry with what the lookup found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VarSource {
    /// `ConfigMap` or `Secret`; any other kind is skipped, as in Flux.
    pub kind: String,
    pub name: String,
    /// `optional: true`: a missing object is skipped instead of failing.
    pub optional: bool,
    /// `None` when the object does not exist.
    pub data: Option<SourceData>,
}

/// Build the variable map Flux builds: `substituteFrom` in order (later entries override
/// earlier ones), then `substitute` over everything; newlines removed from every value.
pub fn collect_vars(
    sources: &[VarSource],
    substitute: Option<&BTreeMap<String, String>>,
) -> Result<BTreeMap<String, String>, SubstituteError> {
    let mut vars = BTreeMap::new();
    for s in sources {
        if s.kind != "ConfigMap" && s.kind != "Secret" {
            continue;
        }
        match &s.data {
            None if s.optional => continue,
            None => {
                return Err(SubstituteError::NotFound {
                    kind: s.kind.clone(),
                    resource: if s.kind == "Secret" {
                        "secrets"
                    } else {
                        "configmaps"
                    }
                    .into(),
                    name: s.name.clone(),
                })
            }
            Some(SourceData::ConfigMap(d)) => {
                for (k, v) in d {
                    vars.insert(k.clone(), v.replace('\n', ""));
                }
            }
            Some(SourceData::Secret(d)) => {
                for (k, v) in d {
                    vars.insert(k.clone(), String::from_utf8_lossy(v).replace('\n', ""));
                }
            }
        }
    }
    if let Some(inline) = substitute {
        for (k, v) in inline {
            vars.insert(k.clone(), v.replace('\n', ""));
        }
    }
    Ok(vars)
}

/// Whether `name` matches [`VAR_NAME_PATTERN`].
pub fn valid_var_name(name: &str) -> bool {
    let mut it = name.chars();
    match it.next() {
        Some(c) if c == '_' || c.is_ascii_alphabetic() => {
            it.all(|c| c == '_' || c.is_ascii_alphanumeric())
        }
        _ => false,
    }
}

/// Whether the object opts out with `kustomize.toolkit.fluxcd.io/substitute: disabled`.
pub fn is_disabled(obj: &Value) -> bool {
    let md = obj.get("metadata");
    ["labels", "annotations"].iter().any(|f| {
        md.and_then(|m| m.get(*f))
            .and_then(|m| m.get(SUBSTITUTE_KEY))
            .and_then(Value::as_str)
            == Some("disabled")
    })
}

/// Substitute `vars` into every object, in place. On error the objects before the failing
/// one are already substituted; the caller discards the set. Flux decrypts an object
/// (`flotilla-sops`) before it substitutes into it.
pub fn substitute(
    objects: &mut [Value],
    vars: &BTreeMap<String, String>,
    strict: bool,
) -> Result<(), SubstituteError> {
    if vars.is_empty() {
        return Ok(());
    }
    let mut checked = false;
    let lookup = |name: &str| match vars.get(name) {
        Some(v) => (v.clone(), true),
        None => (String::new(), !strict),
    };
    for obj in objects.iter_mut() {
        if is_disabled(obj) {
            continue;
        }
        if !checked {
            if let Some(bad) = vars.keys().find(|k| !valid_var_name(k)) {
                return Err(SubstituteError::InvalidName {
                    object: object_name(obj),
                    name: bad.clone(),
                });
            }
            checked = true;
        }
        let text = flotilla_yaml::to_yaml(obj);
        if !text.contains('$') {
            // Nothing to expand: envsubst would return the text unchanged.
            continue;
        }
        let out = envsubst::eval(&text, &lookup).map_err(|error| SubstituteError::Eval {
            object: object_name(obj),
            error,
        })?;
        if out == text {
            continue;
        }
        let value =
            flotilla_yaml::parse_one_yaml11(&out).map_err(|e| SubstituteError::Reparse {
                object: object_name(obj),
                message: e.to_string(),
            })?;
        if !value.is_object() {
            return Err(SubstituteError::Reparse {
                object: object_name(obj),
                message: "the substituted document is not an object".into(),
            });
        }
        *obj = value;
    }
    Ok(())
}

fn object_name(obj: &Value) -> String {
    obj.pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string()
}
