//! kustomize `replacements` (`api/filters/replacement`): copy one field of one source
//! resource into fields of target resources.
//!
//! Field paths are split on `.` by kyaml's `SmarterPathSplitter` (`\.` escapes a dot, a
//! leading `.` is dropped, `[...]` spanning dots stays one element; without `=` its
//! brackets are removed, so `metadata.annotations.[a.b/c]` names the key `a.b/c`).
//! Sources are read with kyaml's `PathGetter` (`[k=v]` matches exactly, `N` is an index,
//! `-` the last element, `*` is an error); targets are found with kyaml's `PathMatcher`
//! (`[k=v]` is an unanchored regular expression on the element's field, `[=v]` on scalar
//! elements, `*` every element of a sequence, `N` an index, where `create` may append at
//! index `len` and add missing fields and `[k=v]` elements).
//!
//! Selection uses exact name and namespace (not regexes), matched against the current and
//! every previous id; `reject` entries drop targets by id or by label/annotation selector.
//! When the target is a scalar only the text is copied and the target keeps its YAML type
//! (`"7"` into `replicas: 1` gives `7`; `hello` there is an error); a field that had to be
//! created takes the plain-scalar type of the text; a map or list target is replaced by the
//! source value.

use crate::error::RenderError;
use crate::kustomization::{ReplacementField, Selector};
use crate::loader::Loader;
use crate::resmap::ResMap;
use crate::resource::{ResId, Resource};
use crate::selector::LabelSelector;
use serde::Deserialize;
use serde_json::{Map, Value};

const DEFAULT_FIELD_PATH: &str = "metadata.name";

fn err(message: impl Into<String>) -> RenderError {
    RenderError::transform("replacements", message)
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Replacement {
    source: Option<Source>,
    targets: Option<Vec<Target>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Source {
    #[serde(default)]
    group: String,
    #[serde(default)]
    version: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    namespace: String,
    #[serde(default)]
    field_path: String,
    #[serde(default)]
    options: Option<FieldOptions>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Target {
    #[serde(default)]
    select: Option<Selector>,
    #[serde(default)]
    reject: Vec<Selector>,
    #[serde(default)]
    field_paths: Vec<String>,
    #[serde(default)]
    options: Option<FieldOptions>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct FieldOptions {
    #[serde(default)]
    delimiter: String,
    #[serde(default)]
    index: i64,
    #[serde(default)]
    create: bool,
}

/// The replacements of one `replacements:` entry: the inline one, or those in the file it
/// names (a file holds one replacement or a list of them).
pub fn load(ldr: &Loader, field: &ReplacementField) -> Result<Vec<Value>, RenderError> {
    if field.path.is_empty() {
        return Ok(vec![Value::Object(
            field.inline.clone().into_iter().collect(),
        )]);
    }
    let has_source = field.inline.get("source").is_some_and(|v| !v.is_null());
    let has_targets = field
        .inline
        .get("targets")
        .and_then(Value::as_array)
        .is_some_and(|a| !a.is_empty());
    if has_source || has_targets {
        return Err(err("cannot specify both path and inline replacement"));
    }
    let (path, text) = ldr.read_string(&field.path, "replacements")?;
    let docs = flotilla_yaml::parse_documents(&text).map_err(|e| RenderError::Yaml {
        path: path.clone(),
        line: e.line,
        column: e.column,
        message: e.message,
    })?;
    // kustomize unmarshals the file with sigs.k8s.io/yaml: the first document only.
    let mut out = Vec::new();
    match docs.into_iter().next().map(|d| d.value) {
        Some(Value::Array(items)) => out.extend(items),
        Some(v @ Value::Object(_)) => out.push(v),
        other => {
            // Go's reflect kind of what sigs.k8s.io/yaml decoded
            let kind = match other {
                Some(Value::String(_)) => "string",
                Some(Value::Bool(_)) => "bool",
                Some(Value::Number(_)) => "float64",
                _ => "invalid",
            };
            return Err(RenderError::Resource {
                path,
                message: format!(
                    "unsupported replacement type encountered within replacement path: {kind}"
                ),
            });
        }
    }
    Ok(out)
}

fn kind_name(v: &Value) -> &'static str {
    match v {
        Value::Object(_) => "MappingNode",
        Value::Array(_) => "SequenceNode",
        _ => "ScalarNode",
    }
}

/// Apply replacements in order.
pub fn apply(rm: &mut ResMap, replacements: &[Value]) -> Result<(), RenderError> {
    for raw in replacements {
        let r: Replacement = serde_json::from_value(raw.clone())
            .map_err(|e| err(format!("invalid replacement: {e}")))?;
        let (Some(source), Some(targets)) = (r.source, r.targets) else {
            return Err(err(
                "replacements must specify a source and at least one target",
            ));
        };
        let value = source_value(rm, &source)?;
        for t in &targets {
            apply_target(rm, &value, t)?;
        }
    }
    Ok(())
}

/// kustomize's `ResId.String()` for messages: `Kind.version.group/name.namespace`.
fn id_string(group: &str, version: &str, kind: &str, name: &str, ns: &str) -> String {
    let or = |s: &str, d: &str| {
        if s.is_empty() {
            d.to_string()
        } else {
            s.to_string()
        }
    };
    format!(
        "{}.{}.{}/{}.{}",
        or(kind, "[noKind]"),
        or(version, "[noVer]"),
        or(group, "[noGrp]"),
        or(name, "[noName]"),
        or(ns, "[noNs]")
    )
}

/// kustomize's `ResId.IsSelectedBy`.
fn id_selected(id: &ResId, group: &str, version: &str, kind: &str, name: &str, ns: &str) -> bool {
    (name.is_empty() || name == id.name)
        && (ns.is_empty() || ResId::same_namespace(Some(ns), id.namespace.as_deref()))
        && (group.is_empty() || group == id.group)
        && (version.is_empty() || version == id.version)
        && (kind.is_empty() || kind == id.kind)
}

fn all_ids(r: &Resource) -> Vec<ResId> {
    let mut ids = vec![r.id()];
    ids.extend(r.meta.previous_ids.iter().cloned());
    ids
}

fn sel_matches_id(r: &Resource, s: &Selector) -> bool {
    all_ids(r)
        .iter()
        .any(|id| id_selected(id, &s.group, &s.version, &s.kind, &s.name, &s.namespace))
}

fn sel_id_empty(s: &Selector) -> bool {
    s.group.is_empty()
        && s.version.is_empty()
        && s.kind.is_empty()
        && s.name.is_empty()
        && s.namespace.is_empty()
}

fn label_anno_match(r: &Resource, s: &Selector) -> Result<bool, RenderError> {
    for (expr, map) in [
        (&s.label_selector, r.labels()),
        (&s.annotation_selector, r.annotations()),
    ] {
        if !expr.trim().is_empty() && !LabelSelector::parse(expr)?.matches(map) {
            return Ok(false);
        }
    }
    Ok(true)
}

fn source_value(rm: &ResMap, s: &Source) -> Result<Value, RenderError> {
    let sel = id_string(&s.group, &s.version, &s.kind, &s.name, &s.namespace);
    let mut found: Option<&Resource> = None;
    for r in rm.iter() {
        let hit = all_ids(r)
            .iter()
            .any(|id| id_selected(id, &s.group, &s.version, &s.kind, &s.name, &s.namespace));
        if hit {
            if found.is_some() {
                return Err(err(format!("multiple matches for selector {sel}")));
            }
            found = Some(r);
        }
    }
    let Some(src) = found else {
        return Err(err(format!("nothing selected by {sel}")));
    };
    let fp = if s.field_path.is_empty() {
        DEFAULT_FIELD_PATH
    } else {
        &s.field_path
    };
    let path = split_path(fp);
    let root = Value::Object(src.obj.clone());
    let v = get_path(&root, &path)
        .map_err(|e| err(format!("error looking up replacement source: {e}")))?;
    let v = match v {
        None | Some(Value::Null) => None,
        Some(Value::Object(m)) if m.is_empty() => None,
        Some(Value::Array(a)) if a.is_empty() => None,
        Some(v) => Some(v.clone()),
    };
    let Some(v) = v else {
        return Err(err(format!(
            "fieldPath `{fp}` is missing for replacement source {sel}"
        )));
    };
    match &s.options {
        Some(o) if !o.delimiter.is_empty() => {
            let text = scalar_text(&v)
                .ok_or_else(|| err("delimiter option can only be used with scalar nodes"))?;
            let parts: Vec<&str> = text.split(o.delimiter.as_str()).collect();
            if o.index < 0 || o.index as usize >= parts.len() {
                return Err(err(format!(
                    "options.index {} is out of bounds for value {text}",
                    o.index
                )));
            }
            Ok(replace_text(&v, parts[o.index as usize]))
        }
        _ => Ok(v),
    }
}

/// The same kind of scalar with new text (the source node keeps its tag in kyaml).
fn replace_text(v: &Value, text: &str) -> Value {
    match v {
        Value::String(_) => Value::String(text.to_string()),
        _ => resolve_plain(text),
    }
}

fn apply_target(rm: &mut ResMap, value: &Value, t: &Target) -> Result<(), RenderError> {
    let Some(select) = &t.select else {
        return Err(err("target must specify resources to select"));
    };
    let default_paths = [DEFAULT_FIELD_PATH.to_string()];
    let paths: &[String] = if t.field_paths.is_empty() {
        &default_paths
    } else {
        &t.field_paths
    };
    let create = t.options.as_ref().is_some_and(|o| o.create);
    for r in rm.iter_mut() {
        if !label_anno_match(r, select)? {
            continue;
        }
        let mut rejected = false;
        for rej in &t.reject {
            let by_labels = !(rej.label_selector.is_empty() && rej.annotation_selector.is_empty())
                && label_anno_match(r, rej)?;
            if by_labels || (!sel_id_empty(rej) && sel_matches_id(r, rej)) {
                rejected = true;
                break;
            }
        }
        if rejected || !sel_matches_id(r, select) {
            continue;
        }
        for fp in paths {
            let path = split_path(fp);
            let what = if create {
                "unable to find or create field"
            } else {
                "unable to find field"
            };
            let in_annotations =
                path.len() == 3 && path[0] == "metadata" && path[1] == "annotations";
            let mut root = Value::Object(std::mem::take(&mut r.obj));
            let mut setter = |target: &mut Value, created: bool| {
                set_field(target, created, value, t.options.as_ref(), in_annotations)
            };
            let ctx = Walk {
                create: create.then(|| create_kind(value)),
            };
            let res = ctx.walk(&mut root, &path, &mut setter);
            if let Value::Object(m) = root {
                r.obj = m;
            }
            match res {
                Ok(0) => return Err(err(format!("{what} \"{fp}\" in replacement target"))),
                Ok(_) => {}
                Err(WalkError::Set(e)) => return Err(e),
                Err(WalkError::Path(m)) => {
                    return Err(err(format!("{what} \"{fp}\" in replacement target: {m}")))
                }
            }
        }
    }
    Ok(())
}

/// What a missing leaf is created as: kyaml creates a node of the source value's kind.
#[derive(Clone, Copy, PartialEq)]
enum NodeKind {
    Scalar,
    Map,
    Seq,
}

fn create_kind(v: &Value) -> NodeKind {
    match v {
        Value::Object(_) => NodeKind::Map,
        Value::Array(_) => NodeKind::Seq,
        _ => NodeKind::Scalar,
    }
}

fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Null => Some(String::new()),
        _ => None,
    }
}

fn tag_of(v: &Value) -> &'static str {
    match v {
        Value::String(_) => "!!str",
        Value::Number(n) if n.is_f64() => "!!float",
        Value::Number(_) => "!!int",
        Value::Bool(_) => "!!bool",
        Value::Null => "!!null",
        Value::Object(_) => "!!map",
        Value::Array(_) => "!!seq",
    }
}

/// kustomize's `setFieldValue`.
fn set_field(
    target: &mut Value,
    created: bool,
    value: &Value,
    opts: Option<&FieldOptions>,
    in_annotations: bool,
) -> Result<(), RenderError> {
    let target_is_scalar = created || !matches!(target, Value::Object(_) | Value::Array(_));
    let mut text = scalar_text(value).unwrap_or_default();
    if let Some(o) = opts.filter(|o| !o.delimiter.is_empty()) {
        if !target_is_scalar {
            return Err(err("delimiter option can only be used with scalar nodes"));
        }
        let current = if created {
            String::new()
        } else {
            scalar_text(target).unwrap_or_default()
        };
        let mut parts: Vec<String> = current
            .split(o.delimiter.as_str())
            .map(str::to_string)
            .collect();
        if o.index < 0 {
            parts.insert(0, text);
        } else if o.index as usize >= parts.len() {
            parts.push(text);
        } else {
            parts[o.index as usize] = text;
        }
        text = parts.join(&o.delimiter);
        if !target_is_scalar {
            *target = replace_text(value, &text);
            return Ok(());
        }
    }
    if !target_is_scalar {
        *target = value.clone();
        return Ok(());
    }
    if created {
        // kustomize rewrites annotations as strings when it tidies its build annotations.
        *target = if in_annotations {
            Value::String(text)
        } else {
            resolve_plain(&text)
        };
        return Ok(());
    }
    let want = tag_of(target);
    if want == "!!str" {
        *target = Value::String(text);
        return Ok(());
    }
    let got = resolve_plain(&text);
    let got_tag = tag_of(&got);
    let ok = got_tag == want || (want == "!!float" && got_tag == "!!int");
    if !ok {
        return Err(err(format!("cannot decode {got_tag} `{text}` as a {want}")));
    }
    *target = got;
    Ok(())
}

/// go-yaml v3's resolution of an untagged plain scalar (timestamps stay strings).
pub(crate) fn resolve_plain(s: &str) -> Value {
    match s {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" | "-.inf" | "-.Inf" | "-.INF"
        | ".nan" | ".NaN" | ".NAN" => return Value::String(s.to_string()),
        _ => {}
    }
    let first = s.as_bytes()[0];
    if !(first.is_ascii_digit() || matches!(first, b'+' | b'-' | b'.')) {
        return Value::String(s.to_string());
    }
    let plain = s.replace('_', "");
    if first != b'.' {
        if let Some(i) = go_parse_int(&plain) {
            return i;
        }
    }
    let float_re = regex::Regex::new(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$");
    let candidate = if first == b'.' { s } else { plain.as_str() };
    if float_re.is_ok_and(|re| re.is_match(candidate)) {
        if let Some(n) = candidate
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
        {
            return Value::Number(n);
        }
    }
    Value::String(s.to_string())
}

/// Go's `strconv.ParseInt(s, 0, 64)`, then `ParseUint`: sign, `0x`/`0o`/`0b` and
/// leading-`0` octal prefixes.
fn go_parse_int(s: &str) -> Option<Value> {
    let (neg, body) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let lower = body.to_ascii_lowercase();
    let (radix, digits) = if let Some(d) = lower.strip_prefix("0x") {
        (16, d)
    } else if let Some(d) = lower.strip_prefix("0o") {
        (8, d)
    } else if let Some(d) = lower.strip_prefix("0b") {
        (2, d)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, &lower[1..])
    } else {
        (10, lower.as_str())
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let v = u64::from_str_radix(digits, radix).ok()?;
    if !neg {
        return Some(Value::from(v));
    }
    let n = -(v as i128);
    i64::try_from(n).ok().map(Value::from)
}

/// kyaml's `SmarterPathSplitter(path, ".")`.
pub(crate) fn split_path(path: &str) -> Vec<String> {
    let mut ps: Vec<&str> = path.split('.').collect();
    if ps.len() > 1 && ps[0].is_empty() {
        ps.remove(0);
    }
    let mut res: Vec<String> = vec![ps[0].to_string()];
    for p in &ps[1..] {
        let last = res.len() - 1;
        if let Some(stripped) = res[last].strip_suffix('\\') {
            res[last] = format!("{stripped}.{p}");
        } else {
            res.push(p.to_string());
        }
    }
    let mut out = Vec::new();
    let mut i = 0;
    while i < res.len() {
        let elem = &res[i];
        if elem.starts_with('[') && !elem.ends_with(']') {
            let mut bracketed = vec![elem.clone()];
            while i < res.len() - 1 {
                i += 1;
                bracketed.push(res[i].clone());
                if res[i].ends_with(']') {
                    break;
                }
            }
            let joined = bracketed.join(".");
            if joined.contains('=') {
                out.push(joined);
            } else {
                out.push(joined.trim_matches(|c| c == '[' || c == ']').to_string());
            }
        } else {
            out.push(elem.clone());
        }
        i += 1;
    }
    out
}

fn is_list_index(p: &str) -> bool {
    p.starts_with('[') && p.ends_with(']')
}

fn split_index(p: &str) -> Result<(&str, &str), String> {
    let inner = &p[1..p.len() - 1];
    inner.split_once('=').ok_or_else(|| {
        "list path element must contain fieldName=fieldValue for element to match".to_string()
    })
}

/// kyaml's `PathGetter` lookup (used for sources).
pub(crate) fn get_path<'a>(root: &'a Value, path: &[String]) -> Result<Option<&'a Value>, String> {
    let mut cur = root;
    for part in path {
        let next = if let Ok(idx) = part.parse::<i64>() {
            if idx < 0 {
                return Err(format!("array index {idx} cannot be negative"));
            }
            cur.as_array().and_then(|a| a.get(idx as usize))
        } else if part == "-" {
            cur.as_array().and_then(|a| a.last())
        } else if part == "*" {
            return Err("wildcard is not supported in PathGetter".into());
        } else if is_list_index(part) {
            let (k, v) = split_index(part)?;
            cur.as_array().and_then(|a| {
                a.iter().find(|e| {
                    if k.is_empty() {
                        scalar_text(e).as_deref() == Some(v)
                    } else {
                        e.get(k).and_then(scalar_text).as_deref() == Some(v)
                    }
                })
            })
        } else {
            cur.as_object().and_then(|m| m.get(part.as_str()))
        };
        match next {
            Some(n) => cur = n,
            None => return Ok(None),
        }
    }
    Ok(Some(cur))
}

enum WalkError {
    Path(String),
    Set(RenderError),
}

/// kyaml's `PathMatcher`, calling `set` on each matched node (with whether it was created).
struct Walk {
    create: Option<NodeKind>,
}

type Setter<'s> = dyn FnMut(&mut Value, bool) -> Result<(), RenderError> + 's;

impl Walk {
    fn new_node(&self, next: Option<&String>) -> (Value, bool) {
        match next {
            Some(n) if is_list_index(n) || n.parse::<usize>().is_ok() => {
                (Value::Array(vec![]), false)
            }
            Some(_) => (Value::Object(Map::new()), false),
            None => match self.create {
                Some(NodeKind::Map) => (Value::Object(Map::new()), false),
                Some(NodeKind::Seq) => (Value::Array(vec![]), false),
                _ => (Value::Null, true),
            },
        }
    }

    fn walk(
        &self,
        node: &mut Value,
        path: &[String],
        set: &mut Setter,
    ) -> Result<usize, WalkError> {
        self.walk_created(node, path, false, set)
    }

    fn walk_created(
        &self,
        node: &mut Value,
        path: &[String],
        created: bool,
        set: &mut Setter,
    ) -> Result<usize, WalkError> {
        let Some(part) = path.first() else {
            set(node, created).map_err(WalkError::Set)?;
            return Ok(1);
        };
        let rest = &path[1..];
        if let Ok(idx) = part.parse::<usize>() {
            let arr = seq_mut(node)?;
            if arr.len() == idx && self.create.is_some() {
                let (n, leaf) = self.new_node(rest.first());
                arr.push(n);
                return self.walk_created(&mut arr[idx], rest, leaf, set);
            }
            let len = arr.len();
            let Some(elem) = arr.get_mut(idx) else {
                return Err(WalkError::Path(format!(
                    "index {idx} specified but only {len} elements found"
                )));
            };
            return self.walk(elem, rest, set);
        }
        if is_list_index(part) {
            let (k, pattern) = split_index(part).map_err(WalkError::Path)?;
            let re = regex::Regex::new(pattern).map_err(|e| WalkError::Path(e.to_string()))?;
            let arr = seq_mut(node)?;
            let matches = |e: &Value| {
                let text = if k.is_empty() {
                    scalar_text(e)
                } else {
                    e.as_object()
                        .and_then(|m| m.get(k))
                        .and_then(|v| scalar_text(v).or_else(|| Some(v.to_string())))
                };
                text.is_some_and(|t| re.is_match(t.trim()))
            };
            let mut created = None;
            if self.create.is_some() && !arr.iter().any(matches) {
                created = Some(arr.len());
                let value = resolve_plain(pattern);
                arr.push(if k.is_empty() {
                    value
                } else {
                    let mut m = Map::new();
                    m.insert(k.to_string(), value);
                    Value::Object(m)
                });
            }
            let mut count = 0;
            for (i, e) in arr.iter_mut().enumerate() {
                if matches(e) {
                    count += if k.is_empty() {
                        // kyaml appends an untagged scalar, which resolves like a new field
                        let new = created == Some(i);
                        set(e, new).map_err(WalkError::Set).map(|_| 1)?
                    } else {
                        self.walk(e, rest, set)?
                    };
                }
            }
            return Ok(count);
        }
        if part == "*" {
            let mut count = 0;
            for e in seq_mut(node)?.iter_mut() {
                count += self.walk(e, rest, set)?;
            }
            return Ok(count);
        }
        match node {
            Value::Object(m) => {
                if !m.contains_key(part.as_str()) {
                    if self.create.is_none() {
                        return Ok(0);
                    }
                    let (n, leaf) = self.new_node(rest.first());
                    m.insert(part.clone(), n);
                    let child = m.get_mut(part.as_str()).ok_or_else(|| {
                        WalkError::Path("field vanished while being created".into())
                    })?;
                    return self.walk_created(child, rest, leaf, set);
                }
                match m.get_mut(part.as_str()) {
                    Some(child) => self.walk(child, rest, set),
                    None => Ok(0),
                }
            }
            // kyaml treats a null node as having no fields; what it creates there is lost.
            Value::Null => match self.create {
                None => Ok(0),
                Some(_) => {
                    let mut scratch = Value::Object(Map::new());
                    self.walk(&mut scratch, path, set)
                }
            },
            other => Err(WalkError::Path(format!(
                "wrong node kind: expected MappingNode but got {}",
                kind_name(other)
            ))),
        }
    }
}

fn seq_mut(node: &mut Value) -> Result<&mut Vec<Value>, WalkError> {
    match node {
        Value::Array(a) => Ok(a),
        other => Err(WalkError::Path(format!(
            "wrong node kind: expected SequenceNode but got {}",
            kind_name(other)
        ))),
    }
}

#[cfg(test)]
#[path = "replacement_tests.rs"]
mod tests;
