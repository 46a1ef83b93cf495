//! Resource selection as kustomize does it for patch targets and replacements: anchored
//! regular expressions on name and namespace (original or current), gvk equality where the
//! selector names it, and Kubernetes label/annotation selector expressions.

use crate::error::RenderError;
use crate::kustomization::Selector;
use crate::resource::{ResId, Resource};
use regex::Regex;
use serde_json::{Map, Value};

/// A compiled [`Selector`].
pub struct Matcher {
    group: Option<Regex>,
    version: Option<Regex>,
    kind: Option<Regex>,
    name: Option<Regex>,
    namespace: Option<Regex>,
    labels: Option<LabelSelector>,
    annotations: Option<LabelSelector>,
}

fn anchored(pattern: &str, what: &str) -> Result<Option<Regex>, RenderError> {
    if pattern.is_empty() {
        return Ok(None);
    }
    Regex::new(&format!("^(?:{pattern})$"))
        .map(Some)
        .map_err(|e| RenderError::Other {
            message: format!("invalid {what} regex '{pattern}' in target selector: {e}"),
        })
}

impl Matcher {
    pub fn new(sel: &Selector) -> Result<Matcher, RenderError> {
        Ok(Matcher {
            group: anchored(&sel.group, "group")?,
            version: anchored(&sel.version, "version")?,
            kind: anchored(&sel.kind, "kind")?,
            name: anchored(&sel.name, "name")?,
            namespace: anchored(&sel.namespace, "namespace")?,
            labels: LabelSelector::parse_opt(&sel.label_selector)?,
            annotations: LabelSelector::parse_opt(&sel.annotation_selector)?,
        })
    }

    fn effective_namespace(id: &ResId) -> &str {
        match id.namespace.as_deref() {
            None | Some("") => "default",
            Some(n) => n,
        }
    }

    pub fn matches(&self, r: &Resource) -> bool {
        let cur = r.id();
        let org = r.original_id();
        if let Some(ns) = &self.namespace {
            if !ns.is_match(Self::effective_namespace(&org))
                && !ns.is_match(Self::effective_namespace(&cur))
            {
                return false;
            }
        }
        if let Some(n) = &self.name {
            if !n.is_match(&org.name) && !n.is_match(&cur.name) {
                return false;
            }
        }
        // Group, version and kind are anchored regular expressions too.
        let gvk_ok = |re: &Option<Regex>, v: &str| re.as_ref().is_none_or(|re| re.is_match(v));
        if !gvk_ok(&self.group, &cur.group)
            || !gvk_ok(&self.version, &cur.version)
            || !gvk_ok(&self.kind, &cur.kind)
        {
            return false;
        }
        if let Some(l) = &self.labels {
            if !l.matches(r.labels()) {
                return false;
            }
        }
        if let Some(a) = &self.annotations {
            if !a.matches(r.annotations()) {
                return false;
            }
        }
        true
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Requirement {
    Eq(String, String),
    NotEq(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    NotExists(String),
}

/// A Kubernetes label selector expression (`a=b,c!=d,e in (f,g),!h,i`).
#[derive(Debug, Clone, PartialEq)]
pub struct LabelSelector {
    reqs: Vec<Requirement>,
}

impl LabelSelector {
    fn parse_opt(s: &str) -> Result<Option<LabelSelector>, RenderError> {
        if s.trim().is_empty() {
            Ok(None)
        } else {
            LabelSelector::parse(s).map(Some)
        }
    }

    /// Parse a selector expression.
    pub fn parse(s: &str) -> Result<LabelSelector, RenderError> {
        let err = |m: &str| RenderError::Other {
            message: format!("invalid label selector '{s}': {m}"),
        };
        let mut reqs = Vec::new();
        // split on commas outside parentheses
        let mut parts = Vec::new();
        let mut depth = 0usize;
        let mut start = 0;
        for (i, c) in s.char_indices() {
            match c {
                '(' => depth += 1,
                ')' => depth = depth.saturating_sub(1),
                ',' if depth == 0 => {
                    parts.push(&s[start..i]);
                    start = i + 1;
                }
                _ => {}
            }
        }
        parts.push(&s[start..]);
        for part in parts {
            let p = part.trim();
            if p.is_empty() {
                return Err(err("empty requirement"));
            }
            if let Some(k) = p.strip_prefix('!') {
                reqs.push(Requirement::NotExists(k.trim().to_string()));
            } else if let Some((k, v)) = p.split_once("!=") {
                reqs.push(Requirement::NotEq(k.trim().into(), v.trim().into()));
            } else if let Some((k, v)) = p.split_once("==") {
                reqs.push(Requirement::Eq(k.trim().into(), v.trim().into()));
            } else if let Some((k, v)) = p.split_once('=') {
                reqs.push(Requirement::Eq(k.trim().into(), v.trim().into()));
            } else if let Some((k, rest)) = split_set_op(p, " notin ") {
                reqs.push(Requirement::NotIn(
                    k,
                    parse_set(rest).ok_or_else(|| err(p))?,
                ));
            } else if let Some((k, rest)) = split_set_op(p, " in ") {
                reqs.push(Requirement::In(k, parse_set(rest).ok_or_else(|| err(p))?));
            } else if p.contains(' ') || p.contains('(') {
                return Err(err(p));
            } else {
                reqs.push(Requirement::Exists(p.to_string()));
            }
        }
        Ok(LabelSelector { reqs })
    }

    /// Does a label (or annotation) map satisfy every requirement?
    pub fn matches(&self, labels: Option<&Map<String, Value>>) -> bool {
        let get = |k: &str| labels.and_then(|m| m.get(k)).and_then(Value::as_str);
        self.reqs.iter().all(|r| match r {
            Requirement::Eq(k, v) => get(k) == Some(v.as_str()),
            Requirement::NotEq(k, v) => get(k) != Some(v.as_str()),
            Requirement::In(k, vs) => get(k).is_some_and(|x| vs.iter().any(|v| v == x)),
            Requirement::NotIn(k, vs) => !get(k).is_some_and(|x| vs.iter().any(|v| v == x)),
            Requirement::Exists(k) => get(k).is_some(),
            Requirement::NotExists(k) => get(k).is_none(),
        })
    }
}

fn split_set_op(p: &str, op: &str) -> Option<(String, String)> {
    let (k, rest) = p.split_once(op)?;
    Some((k.trim().to_string(), rest.trim().to_string()))
}

fn parse_set(s: String) -> Option<Vec<String>> {
    let inner = s.strip_prefix('(')?.strip_suffix(')')?;
    Some(
        inner
            .split(',')
            .map(|x| x.trim().to_string())
            .filter(|x| !x.is_empty())
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn labels(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn label_selector_forms() {
        let l = labels(json!({"app": "web", "tier": "fe"}));
        assert!(LabelSelector::parse("app=web").unwrap().matches(Some(&l)));
        assert!(LabelSelector::parse("app==web,tier")
            .unwrap()
            .matches(Some(&l)));
        assert!(!LabelSelector::parse("app!=web").unwrap().matches(Some(&l)));
        assert!(LabelSelector::parse("tier in (fe, be)")
            .unwrap()
            .matches(Some(&l)));
        assert!(!LabelSelector::parse("tier notin (fe)")
            .unwrap()
            .matches(Some(&l)));
        assert!(LabelSelector::parse("!missing").unwrap().matches(Some(&l)));
        assert!(!LabelSelector::parse("missing").unwrap().matches(None));
    }

    #[test]
    fn matcher_anchors_name_regex() {
        let sel = Selector {
            name: "web".into(),
            ..Default::default()
        };
        let m = Matcher::new(&sel).unwrap();
        let r = |n: &str| {
            Resource::new(labels(
                json!({"apiVersion":"v1","kind":"Service","metadata":{"name":n}}),
            ))
        };
        assert!(m.matches(&r("web")));
        assert!(!m.matches(&r("web-2")));
    }
}
