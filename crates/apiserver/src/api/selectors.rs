//! Label selectors (equality- and set-based) and field selectors, as list and watch take them.
use serde_json::Value;

use crate::status::ApiError;

#[derive(Debug, Clone, PartialEq)]
enum Req {
    Eq(String, String),
    NotEq(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    NotExists(String),
    Gt(String, i64),
    Lt(String, i64),
}

/// A parsed label selector.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LabelSelector(Vec<Req>);

/// Splits on commas outside parentheses.
fn split_top(s: &str) -> Vec<&str> {
    let (mut depth, mut start, mut out) = (0i32, 0usize, Vec::new());
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&s[start..]);
    out
}

fn set(s: &str) -> Result<Vec<String>, ApiError> {
    let inner = s
        .trim()
        .strip_prefix('(')
        .and_then(|x| x.strip_suffix(')'))
        .ok_or_else(|| {
            ApiError::bad_request(format!(
                "unable to parse requirement: found '{s}', expected: '('"
            ))
        })?;
    Ok(inner.split(',').map(|v| v.trim().to_string()).collect())
}

impl LabelSelector {
    /// Parses `a=b,c!=d,e in (x,y),f notin (z),g,!h`.
    pub fn parse(s: &str) -> Result<LabelSelector, ApiError> {
        let mut reqs = Vec::new();
        for part in split_top(s) {
            let p = part.trim();
            if p.is_empty() {
                continue;
            }
            let r = if let Some(k) = p.strip_prefix('!') {
                Req::NotExists(k.trim().to_string())
            } else if let Some((k, v)) = p.split_once("!=") {
                Req::NotEq(k.trim().into(), v.trim().into())
            } else if let Some((k, v)) = p.split_once("==") {
                Req::Eq(k.trim().into(), v.trim().into())
            } else if let Some((k, v)) = p.split_once('=') {
                Req::Eq(k.trim().into(), v.trim().into())
            } else if let Some((k, v)) = p.split_once(" notin ") {
                Req::NotIn(k.trim().into(), set(v)?)
            } else if let Some((k, v)) = p.split_once(" in ") {
                Req::In(k.trim().into(), set(v)?)
            } else if let Some((k, v)) = p.split_once('>') {
                Req::Gt(
                    k.trim().into(),
                    v.trim()
                        .parse()
                        .map_err(|_| ApiError::bad_request(format!("invalid selector {p:?}")))?,
                )
            } else if let Some((k, v)) = p.split_once('<') {
                Req::Lt(
                    k.trim().into(),
                    v.trim()
                        .parse()
                        .map_err(|_| ApiError::bad_request(format!("invalid selector {p:?}")))?,
                )
            } else if p.contains(|c: char| c.is_whitespace() || c == '(' || c == ')') {
                return Err(ApiError::bad_request(format!(
                    "unable to parse requirement: {p:?}"
                )));
            } else {
                Req::Exists(p.to_string())
            };
            reqs.push(r);
        }
        Ok(LabelSelector(reqs))
    }

    /// Whether the selector selects everything.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether an object's labels match.
    pub fn matches(&self, obj: &Value) -> bool {
        let labels = obj.pointer("/metadata/labels");
        let get = |k: &str| labels.and_then(|l| l.get(k)).and_then(Value::as_str);
        self.0.iter().all(|r| match r {
            Req::Eq(k, v) => get(k) == Some(v.as_str()),
            Req::NotEq(k, v) => get(k) != Some(v.as_str()),
            Req::In(k, vs) => get(k).is_some_and(|x| vs.iter().any(|v| v == x)),
            Req::NotIn(k, vs) => get(k).is_none_or(|x| !vs.iter().any(|v| v == x)),
            Req::Exists(k) => get(k).is_some(),
            Req::NotExists(k) => get(k).is_none(),
            Req::Gt(k, n) => get(k)
                .and_then(|x| x.parse::<i64>().ok())
                .is_some_and(|x| x > *n),
            Req::Lt(k, n) => get(k)
                .and_then(|x| x.parse::<i64>().ok())
                .is_some_and(|x| x < *n),
        })
    }
}

/// A parsed field selector (`metadata.name`, `metadata.namespace`, and a few kind-specific
/// fields kube-apiserver supports such as `status.phase` and `spec.nodeName`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FieldSelector(Vec<(String, bool, String)>);

impl FieldSelector {
    /// Parses `metadata.name=x,metadata.namespace!=y`.
    pub fn parse(s: &str, kind: &str) -> Result<FieldSelector, ApiError> {
        let mut out = Vec::new();
        for p in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (field, neg, value) = if let Some((f, v)) = p.split_once("!=") {
                (f, true, v)
            } else if let Some((f, v)) = p.split_once("==") {
                (f, false, v)
            } else if let Some((f, v)) = p.split_once('=') {
                (f, false, v)
            } else {
                return Err(ApiError::bad_request(format!(
                    "invalid selector: '{s}'; can't understand '{p}'"
                )));
            };
            let field = field.trim();
            let supported = matches!(field, "metadata.name" | "metadata.namespace")
                || match kind {
                    "Pod" => matches!(
                        field,
                        "spec.nodeName"
                            | "spec.serviceAccountName"
                            | "spec.schedulerName"
                            | "status.phase"
                            | "status.podIP"
                            | "status.nominatedNodeName"
                            | "spec.restartPolicy"
                            | "spec.hostNetwork"
                    ),
                    "Namespace" => field == "status.phase",
                    "Secret" => field == "type",
                    "Node" => field == "spec.unschedulable",
                    "ReplicaSet" | "ReplicationController" => field == "status.replicas",
                    "Job" => field == "status.successful",
                    "Event" => {
                        field.starts_with("involvedObject.")
                            || field.starts_with("regarding.")
                            || matches!(
                                field,
                                "reason"
                                    | "source"
                                    | "type"
                                    | "reportingComponent"
                                    | "reportingController"
                                    | "deprecatedSource"
                            )
                    }
                    _ => false,
                };
            if !supported {
                return Err(ApiError::bad_request(format!(
                    "field label not supported: {field}"
                )));
            }
            out.push((field.to_string(), neg, value.trim().to_string()));
        }
        Ok(FieldSelector(out))
    }

    /// Whether the selector selects everything.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether an object matches.
    pub fn matches(&self, obj: &Value) -> bool {
        self.0.iter().all(|(f, neg, v)| {
            let mut cur = obj;
            for part in f.split('.') {
                cur = cur.get(part).unwrap_or(&Value::Null);
            }
            let got = cur.as_str().unwrap_or("");
            (got == v) != *neg
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(labels: Value) -> Value {
        json!({"metadata": {"name": "a", "namespace": "ns", "labels": labels}})
    }

    #[test]
    fn label_selectors() {
        let o = obj(json!({"app": "web", "tier": "front", "n": "5"}));
        let t = |s: &str| LabelSelector::parse(s).unwrap().matches(&o);
        assert!(t("app=web"));
        assert!(t("app==web,tier"));
        assert!(!t("app!=web"));
        assert!(t("app in (web, api),tier notin (back)"));
        assert!(!t("app notin (web)"));
        assert!(t("!missing"));
        assert!(!t("!app"));
        assert!(t("n>3"));
        assert!(!t("n<3"));
        assert!(t(""));
        assert!(LabelSelector::parse("app in web").is_err());
    }

    #[test]
    fn field_selectors() {
        let o = obj(json!({}));
        assert!(FieldSelector::parse("metadata.name=a", "ConfigMap")
            .unwrap()
            .matches(&o));
        assert!(!FieldSelector::parse("metadata.name!=a", "ConfigMap")
            .unwrap()
            .matches(&o));
        assert!(FieldSelector::parse("metadata.namespace==ns", "ConfigMap")
            .unwrap()
            .matches(&o));
        assert!(FieldSelector::parse("spec.foo=x", "ConfigMap").is_err());
    }
}
