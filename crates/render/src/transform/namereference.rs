//! kustomize's name reference fixer (`filters/nameref`), run once after all renames
//! (prefix/suffix, namespace, generator hashes). For every resource and every
//! `nameReference` referrer field spec selecting its *original* gvk, the value at the path
//! is looked up among the resources it could refer to and replaced by the referent's current
//! name:
//!
//! - a string field (or each string in a list, e.g. `rules/resourceNames`) is matched by
//!   name; a map field (RBAC `subjects`, webhook `clientConfig/service`) is matched by its
//!   `name` and, when it has one, its `namespace` (the referent's original namespace, else
//!   its current one), and gets the referent's namespace written too when the referent has
//!   one;
//! - candidates are the resources the referrer can see: all for a cluster-scoped referrer,
//!   else cluster-scoped ones, those in its namespace, and for a RoleBinding those in the
//!   namespaces of its ServiceAccount subjects;
//! - a candidate must have had the old name in a *previous* id (never-renamed resources are
//!   never candidates), a previous gvk the back-reference selects, for `roleRef/name` the
//!   `roleRef` apiGroup/kind, and be cluster-scoped, a ServiceAccount, or in the referrer's
//!   current namespace;
//! - one candidate wins; several are narrowed to those whose prefixes and suffixes end like
//!   the referrer's; if still several they must all have the same name (and namespace, for
//!   map fields) or the reference is ambiguous — an error.

use serde_json::{Map, Value};

use crate::error::RenderError;
use crate::fieldspec::{apply_at_path, FieldSpec, Gvk, TransformerConfig};
use crate::resmap::ResMap;
use crate::resource::{ResId, Resource};

use super::fields::{node_kind, scalar_text, with_object};

const NAME: &str = "namereference";

/// What the fixer needs to know about a resource as a possible referent.
struct Candidate {
    cur: ResId,
    cluster_scoped: bool,
    prev: Vec<ResId>,
    org_effective_ns: String,
    /// `metadata.namespace` as written ("" when missing).
    namespace: String,
    prefixes: Vec<String>,
    suffixes: Vec<String>,
}

fn effective_ns(id: &ResId, cluster_scoped: bool) -> String {
    if cluster_scoped {
        return "_non_namespaceable_".to_string();
    }
    match id.namespace.as_deref() {
        None | Some("") => "default".to_string(),
        Some(n) => n.to_string(),
    }
}

impl Candidate {
    fn of(r: &Resource) -> Candidate {
        let cur = r.id();
        let org = r.original_id();
        let org_cs = Gvk::of_id(&org).is_cluster_scoped();
        Candidate {
            cluster_scoped: Gvk::of_id(&cur).is_cluster_scoped(),
            org_effective_ns: effective_ns(&org, org_cs),
            prev: r.meta.previous_ids.clone(),
            namespace: r.namespace().unwrap_or("").to_string(),
            prefixes: r.meta.prefixes.clone(),
            suffixes: r.meta.suffixes.clone(),
            cur,
        }
    }

    fn cur_effective_ns(&self) -> String {
        effective_ns(&self.cur, self.cluster_scoped)
    }
}

/// kustomize v5's `ResId.String()`: `Kind.version.group/name.namespace`.
fn id_string(id: &ResId) -> String {
    let ns = match id.namespace.as_deref() {
        None | Some("") => "[noNs]",
        Some(n) => n,
    };
    format!("{}/{}.{ns}", Gvk::of_id(id), id.name)
}

/// kustomize's `SameEndingSubSlice`.
fn same_ending(a: &[String], b: &[String]) -> bool {
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    if short.is_empty() {
        return long.is_empty();
    }
    long.ends_with(short)
}

/// The referrer's side of one fix: who refers, to what, through which field.
struct Ctx<'a> {
    referrer: &'a Candidate,
    /// `roleRef` group/kind when the field is a `roleRef/name`.
    role_ref: Option<Gvk>,
    target: &'a Gvk,
    cands: &'a [&'a Candidate],
}

impl Ctx<'_> {
    fn select<'c>(
        &self,
        old: &str,
        cands: &[&'c Candidate],
        with_ns: bool,
    ) -> Result<Option<&'c Candidate>, String> {
        let referrer = self.referrer;
        let mut c: Vec<&Candidate> = cands
            .iter()
            .copied()
            .filter(|c| c.prev.iter().any(|id| id.name == old))
            .filter(|c| {
                c.prev
                    .iter()
                    .any(|id| Gvk::of_id(id).is_selected(self.target))
            })
            .filter(|c| match &self.role_ref {
                Some(g) => c.prev.iter().any(|id| Gvk::of_id(id).is_selected(g)),
                None => true,
            })
            .filter(|c| {
                referrer.cluster_scoped
                    || c.cluster_scoped
                    || c.cur.kind == "ServiceAccount"
                    || referrer.cur_effective_ns() == c.cur_effective_ns()
            })
            .collect();
        if c.len() == 1 {
            return Ok(Some(c[0]));
        }
        c.retain(|c| {
            same_ending(&c.prefixes, &referrer.prefixes)
                && same_ending(&c.suffixes, &referrer.suffixes)
        });
        match c.len() {
            0 => Ok(None),
            1 => Ok(Some(c[0])),
            _ => {
                let first = c[0];
                if c.iter().all(|x| {
                    x.cur.name == first.cur.name && (!with_ns || x.namespace == first.namespace)
                }) {
                    return Ok(Some(first));
                }
                let ids: Vec<String> = c.iter().map(|x| id_string(&x.cur)).collect();
                Err(format!(
                    " found multiple possible referrals: {}",
                    ids.join(", ")
                ))
            }
        }
    }

    fn set_scalar(&self, node: &mut Value) -> Result<(), String> {
        let Some(old) = scalar_text(node) else {
            return Ok(());
        };
        if let Some(r) = self.select(&old, self.cands, false)? {
            if r.cur.name != old {
                *node = Value::String(r.cur.name.clone());
            }
        }
        Ok(())
    }

    fn set_mapping(&self, m: &mut Map<String, Value>) -> Result<(), String> {
        let Some(old) = m.get("name") else {
            return Err("path config error; no 'name' field in node".to_string());
        };
        let old = scalar_text(old).unwrap_or_default();
        let by_ns: Vec<&Candidate>;
        let cands: &[&Candidate] = match m.get("namespace") {
            None => self.cands,
            Some(ns) => {
                let ns = scalar_text(ns).unwrap_or_default();
                let org: Vec<&Candidate> = self
                    .cands
                    .iter()
                    .copied()
                    .filter(|c| !c.cluster_scoped && c.org_effective_ns == ns)
                    .collect();
                // kustomize looks the namespace up among original namespaces of all
                // candidates first, then among current ones.
                by_ns = if self
                    .cands
                    .iter()
                    .any(|c| !c.cluster_scoped && c.org_effective_ns == ns)
                {
                    org
                } else {
                    self.cands
                        .iter()
                        .copied()
                        .filter(|c| !c.cluster_scoped && c.cur_effective_ns() == ns)
                        .collect()
                };
                &by_ns
            }
        };
        let Some(r) = self.select(&old, cands, true)? else {
            return Ok(());
        };
        if r.cur.name == old && r.namespace.is_empty() {
            return Ok(());
        }
        m.insert("name".into(), Value::String(r.cur.name.clone()));
        if !r.namespace.is_empty() {
            m.insert("namespace".into(), Value::String(r.namespace.clone()));
        }
        Ok(())
    }

    fn set(&self, node: &mut Value) -> Result<(), String> {
        match node {
            Value::Null => Ok(()),
            Value::Object(m) => self.set_mapping(m),
            Value::Array(items) => {
                for item in items.iter_mut() {
                    match item {
                        Value::Object(m) => self.set_mapping(m)?,
                        Value::Array(_) => {
                            return Err(format!(
                                "{} is expected to be either a string or a map of string",
                                node_kind(item)
                            ))
                        }
                        _ => self.set_scalar(item)?,
                    }
                }
                Ok(())
            }
            _ => self.set_scalar(node),
        }
    }
}

/// Indices of the resources `referrer` could refer to (kustomize's
/// `SubsetThatCouldBeReferencedByResource`).
fn reachable(all: &[Candidate], referrer: &Candidate, r: &Resource) -> Result<Vec<usize>, String> {
    if referrer.cluster_scoped {
        return Ok((0..all.len()).collect());
    }
    let mut rb_namespaces: Vec<String> = Vec::new();
    if r.kind() == "RoleBinding" {
        if let Some(Value::Array(subjects)) = r.obj.get("subjects") {
            for s in subjects {
                let Some(s) = s.as_object() else { continue };
                if let (Some(ns), Some(kind)) = (s.get("namespace"), s.get("kind")) {
                    if kind.as_str() == Some("ServiceAccount") {
                        match ns.as_str() {
                            Some(n) => rb_namespaces.push(n.to_string()),
                            None => {
                                return Err(format!(
                                    "Invalid Input: namespace is blank for resource \"{}\"",
                                    referrer.cur
                                ))
                            }
                        }
                    }
                }
            }
        }
    }
    let ref_ns = referrer.cur_effective_ns();
    Ok(all
        .iter()
        .enumerate()
        .filter(|(_, c)| {
            c.cluster_scoped
                || c.cur_effective_ns() == ref_ns
                || rb_namespaces.contains(&c.namespace)
        })
        .map(|(i, _)| i)
        .collect())
}

/// `roleRef` apiGroup and kind of a binding, if both are there.
fn role_ref_gvk(r: &Resource) -> Option<Gvk> {
    let rr = r.obj.get("roleRef")?.as_object()?;
    let group = scalar_text(rr.get("apiGroup")?)?;
    let kind = scalar_text(rr.get("kind")?)?;
    Some(Gvk::new(&group, "", &kind))
}

/// Fix every name reference in `rm` after renames.
pub fn fix_back_references(rm: &mut ResMap, cfg: &TransformerConfig) -> Result<(), RenderError> {
    let all: Vec<Candidate> = rm.iter().map(Candidate::of).collect();
    for i in 0..rm.len() {
        let org_gvk = Gvk::of_id(&rm.resources()[i].original_id());
        let filters: Vec<(&FieldSpec, &Gvk)> = cfg
            .name_reference
            .iter()
            .flat_map(|br| br.field_specs.iter().map(move |fs| (fs, &br.gvk)))
            .filter(|(fs, _)| fs.selects(&org_gvk))
            .collect();
        if filters.is_empty() {
            continue;
        }
        let referrer = &all[i];
        let r = &mut rm.resources_mut()[i];
        let idx = reachable(&all, referrer, r).map_err(|e| RenderError::transform(NAME, e))?;
        let cands: Vec<&Candidate> = idx.iter().map(|&j| &all[j]).collect();
        let role_ref = role_ref_gvk(r);
        for (fs, target) in filters {
            let ctx = Ctx {
                referrer,
                role_ref: if fs.path.ends_with("roleRef/name") {
                    role_ref.clone()
                } else {
                    None
                },
                target,
                cands: &cands,
            };
            let segments = fs.path_segments();
            with_object(r, |obj| {
                apply_at_path(obj, &segments, None, &mut |n| ctx.set(n))
            })
            .map_err(|e| {
                RenderError::transform(
                    NAME,
                    format!(
                        "updating name reference in '{}' field of '{}': {e}",
                        fs.path,
                        id_string(&referrer.cur)
                    ),
                )
            })?;
        }
    }
    Ok(())
}

#[cfg(test)]
#[path = "namereference_tests.rs"]
mod tests;
