//! kustomize's ImageTagTransformer for `images:`, one entry at a time. Each entry first
//! runs the legacy pass (every `image` of every element of any list field named
//! `containers` or `initContainers`, anywhere in the object, except in
//! CustomResourceDefinitions), then the `images` field specs (pod `spec/containers[]/image`
//! and friends; never created). Both passes apply, so `tagSuffix` is appended twice to
//! images both reach (`alpine:3.1` → `alpine:3.1-debug-debug`), and `spec/containers` of a
//! custom kind being a map still has its `image` rewritten. `ephemeralContainers` are not
//! touched.
//!
//! An image matches when it is the entry's `name` (used as an unanchored-inside regular
//! expression, as kustomize does) followed by an optional `:tag` and `@sha256:digest`.
//! `newName` replaces the name; `newTag` and `digest` replace both the old tag and digest
//! (`newTag` + `digest` gives `name:tag@digest`); otherwise `tagSuffix` extends the old tag
//! and drops the digest.

use regex::Regex;
use serde_json::Value;

use crate::error::RenderError;
use crate::fieldspec::TransformerConfig;
use crate::kustomization::Image;
use crate::resmap::ResMap;

use super::fields::{apply_specs, node_kind, with_object};

const NAME: &str = "images";

/// kustomize's `image.Split`: name, tag and digest of an image reference. The registry
/// part (up to the first `/`) may hold a `:port`.
pub fn split_image(image: &str) -> (String, String, String) {
    let slash = match image.find('/') {
        Some(i) if i > 0 => i,
        _ => 0,
    };
    let search = &image[slash..];
    let at = search.find('@');
    let colon = search.find(':');
    match (colon, at) {
        (None, None) => (image.to_string(), String::new(), String::new()),
        (c, Some(d)) if c.is_none_or(|c| d < c) => {
            let d = d + slash;
            (
                image[..d].to_string(),
                String::new(),
                image[d + 1..].to_string(),
            )
        }
        (Some(c), Some(d)) => {
            let (c, d) = (c + slash, d + slash);
            (
                image[..c].to_string(),
                image[c + 1..d].to_string(),
                image[d + 1..].to_string(),
            )
        }
        (Some(c), None) => {
            let c = c + slash;
            (
                image[..c].to_string(),
                image[c + 1..].to_string(),
                String::new(),
            )
        }
        // (None, Some) is covered by the digest-only arm above.
        (None, Some(_)) => (image.to_string(), String::new(), String::new()),
    }
}

struct Updater<'a> {
    img: &'a Image,
    pattern: Regex,
}

impl Updater<'_> {
    fn update(&self, node: &mut Value) -> Result<(), String> {
        let value = match node {
            Value::String(s) => s.clone(),
            Value::Null => return Ok(()),
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            other => {
                return Err(format!(
                    "wrong node kind: expected ScalarNode but got {}",
                    node_kind(other)
                ))
            }
        };
        if !self.pattern.is_match(&value) {
            return Ok(());
        }
        let (mut name, mut tag, mut digest) = split_image(&value);
        let i = self.img;
        if !i.new_name.is_empty() {
            name = i.new_name.clone();
        }
        if !i.new_tag.is_empty() && !i.digest.is_empty() {
            tag = i.new_tag.clone();
            digest = i.digest.clone();
        } else if !i.new_tag.is_empty() {
            tag = i.new_tag.clone();
            digest.clear();
        } else if !i.digest.is_empty() {
            tag.clear();
            digest = i.digest.clone();
        } else if !i.tag_suffix.is_empty() {
            tag.push_str(&i.tag_suffix);
            digest.clear();
        }
        if !tag.is_empty() {
            name = format!("{name}:{tag}");
        }
        if !digest.is_empty() {
            name = format!("{name}@{digest}");
        }
        *node = Value::String(name);
        Ok(())
    }

    /// The legacy pass: walk everything, children first, then `containers` /
    /// `initContainers` lists.
    fn legacy(&self, node: &mut Value) -> Result<(), String> {
        match node {
            Value::Object(m) => {
                for (k, v) in m.iter_mut() {
                    self.legacy(v)?;
                    if k == "containers" || k == "initContainers" {
                        if let Value::Array(items) = v {
                            for item in items.iter_mut() {
                                if let Some(image) =
                                    item.as_object_mut().and_then(|c| c.get_mut("image"))
                                {
                                    self.update(image)?;
                                }
                            }
                        }
                    }
                }
                Ok(())
            }
            Value::Array(items) => items.iter_mut().try_for_each(|x| self.legacy(x)),
            _ => Ok(()),
        }
    }
}

pub fn apply(
    rm: &mut ResMap,
    images: &[Image],
    cfg: &TransformerConfig,
) -> Result<(), RenderError> {
    for img in images {
        let pattern = Regex::new(&format!(
            "^{}(:[a-zA-Z0-9_.{{}}-]*)?(@sha256:[a-zA-Z0-9_.{{}}-]*)?$",
            img.name
        ))
        .map_err(|e| {
            RenderError::transform(NAME, format!("invalid image name '{}': {e}", img.name))
        })?;
        let u = Updater { img, pattern };
        for r in rm.iter_mut() {
            if r.kind() != "CustomResourceDefinition" {
                let id = r.id();
                with_object(r, |obj| u.legacy(obj))
                    .map_err(|e| RenderError::transform(NAME, format!("{id}: {e}")))?;
            }
            let mut set = |node: &mut Value| u.update(node);
            apply_specs(NAME, r, &cfg.images, None, &mut set)?;
        }
    }
    Ok(())
}

#[cfg(test)]
#[path = "images_tests.rs"]
mod tests;
