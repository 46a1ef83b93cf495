//! Field sets as structured-merge-diff builds them: paths of `f:`/`k:`/`v:`/`i:` elements, the
//! set of fields an object sets (per the schema's list and map types), comparison of two
//! objects, and the `FieldsV1` encoding of `metadata.managedFields`.
use std::collections::BTreeSet;

use serde_json::{Map, Value};

use crate::schema::{ListKind, Node};

/// A path of FieldsV1 element strings (`f:spec`, `k:{"name":"a"}`, `v:"x"`, `i:0`).
pub type Path = Vec<String>;
/// A set of paths.
pub type FieldSet = BTreeSet<Path>;

/// The list-item element of `item` for a list with these map keys (`k:{...}`, keys sorted).
pub fn key_element(item: &Value, keys: &[String]) -> Option<String> {
    let mut m = Map::new();
    let mut sorted: Vec<&String> = keys.iter().collect();
    sorted.sort();
    for k in sorted {
        // A missing key with a default (e.g. protocol) is matched as absent, as in SMD.
        if let Some(v) = item.get(k.as_str()) {
            m.insert(k.clone(), v.clone());
        }
    }
    if m.is_empty() {
        return None;
    }
    Some(format!("k:{}", Value::Object(m)))
}

/// The set of fields `v` sets, under `path`, following `node`.
pub fn to_set(v: &Value, node: Node<'_>, path: &mut Path, out: &mut FieldSet) {
    match v {
        Value::Object(m) => {
            if node.atomic_map() && !path.is_empty() {
                out.insert(path.clone());
                return;
            }
            for (k, child) in m {
                let declared = node.properties().is_some_and(|p| p.contains_key(k));
                let cnode = node.field(k).unwrap_or_else(Node::unknown);
                path.push(format!("f:{k}"));
                to_set(child, cnode, path, out);
                // structured-merge-diff's toFieldSet: map keys that are not struct fields are
                // members themselves; struct fields only through their leaves.
                if !declared {
                    out.insert(path.clone());
                }
                path.pop();
            }
        }
        Value::Array(items) => {
            let elem = node.items().unwrap_or_else(Node::unknown);
            match node.list_kind() {
                ListKind::Atomic => {
                    out.insert(path.clone());
                }
                ListKind::Set => {
                    for it in items {
                        path.push(format!("v:{it}"));
                        out.insert(path.clone());
                        path.pop();
                    }
                }
                ListKind::Map(keys) => {
                    let pes: Option<Vec<String>> =
                        items.iter().map(|it| key_element(it, &keys)).collect();
                    let Some(pes) = pes else {
                        out.insert(path.clone());
                        return;
                    };
                    for (it, pe) in items.iter().zip(pes) {
                        path.push(pe);
                        to_set(it, elem, path, out);
                        out.insert(path.clone());
                        path.pop();
                    }
                }
            }
        }
        // A null map or list sets nothing; a null scalar is a member.
        Value::Null if matches!(node.type_name(), Some("object" | "array")) => {}
        _ => {
            if !path.is_empty() {
                out.insert(path.clone());
            }
        }
    }
}

/// The child of `v` a path element names.
pub fn child<'v>(v: &'v Value, pe: &str) -> Option<&'v Value> {
    if let Some(f) = pe.strip_prefix("f:") {
        return v.get(f);
    }
    let list = v.as_array()?;
    if let Some(k) = pe.strip_prefix("k:") {
        let keys: Map<String, Value> = serde_json::from_str(k).ok()?;
        return list
            .iter()
            .find(|it| keys.iter().all(|(kk, kv)| it.get(kk) == Some(kv)));
    }
    if let Some(x) = pe.strip_prefix("v:") {
        let val: Value = serde_json::from_str(x).ok()?;
        return list.iter().find(|it| **it == val);
    }
    if let Some(i) = pe.strip_prefix("i:") {
        return list.get(i.parse::<usize>().ok()?);
    }
    None
}

/// The value at a path.
pub fn get<'v>(v: &'v Value, path: &[String]) -> Option<&'v Value> {
    path.iter().try_fold(v, |cur, pe| child(cur, pe))
}

/// Where a path element points inside its parent.
enum Slot {
    Key(String),
    Index(usize),
}

fn slot(v: &Value, pe: &str) -> Option<Slot> {
    if let Some(f) = pe.strip_prefix("f:") {
        return v.get(f).map(|_| Slot::Key(f.to_string()));
    }
    let list = v.as_array()?;
    let found = child(v, pe)?;
    list.iter()
        .position(|it| std::ptr::eq(it, found))
        .map(Slot::Index)
}

/// Removes the value at `path` (a map key, or a list item by key or value).
pub fn remove(v: &mut Value, path: &[String]) {
    let Some((last, parent)) = path.split_last() else {
        return;
    };
    let mut cur = v;
    for pe in parent {
        let next = match slot(cur, pe) {
            Some(Slot::Key(k)) => cur.get_mut(k.as_str()),
            Some(Slot::Index(i)) => cur.get_mut(i),
            None => None,
        };
        match next {
            Some(n) => cur = n,
            None => return,
        }
    }
    match slot(cur, last) {
        Some(Slot::Key(k)) => {
            if let Some(m) = cur.as_object_mut() {
                m.remove(&k);
            }
        }
        Some(Slot::Index(i)) => {
            if let Some(a) = cur.as_array_mut() {
                a.remove(i);
            }
        }
        None => {}
    }
}

/// What changed from `old` to `new`: (added, modified, removed) paths.
pub fn compare(old: &Value, new: &Value, node: Node<'_>) -> (FieldSet, FieldSet, FieldSet) {
    let (mut so, mut sn) = (FieldSet::new(), FieldSet::new());
    to_set(old, node, &mut Vec::new(), &mut so);
    to_set(new, node, &mut Vec::new(), &mut sn);
    let added: FieldSet = sn.difference(&so).cloned().collect();
    let removed: FieldSet = so.difference(&sn).cloned().collect();
    let modified: FieldSet = sn
        .intersection(&so)
        .filter(|p| !has_descendant(&sn, p) && !has_descendant(&so, p))
        .filter(|p| get(old, p) != get(new, p))
        .cloned()
        .collect();
    (added, modified, removed)
}

/// Whether the set has a path strictly under `p` (whether or not `p` itself is in the set).
pub fn has_descendant(set: &FieldSet, p: &Path) -> bool {
    // Descendants sort right after `p` and before its next sibling.
    set.range(p.clone()..)
        .find(|q| *q != p)
        .is_some_and(|q| q.len() > p.len() && q[..p.len()] == p[..])
}

/// Encodes a set as FieldsV1 (`{"f:spec":{"f:replicas":{}}}`, `.` for a member with children).
pub fn to_fields_v1(set: &FieldSet) -> Value {
    let mut root = Map::new();
    for p in set {
        let mut cur = &mut root;
        for (i, pe) in p.iter().enumerate() {
            let entry = cur
                .entry(pe.clone())
                .or_insert_with(|| Value::Object(Map::new()));
            let Value::Object(m) = entry else {
                break;
            };
            if i == p.len() - 1 && !m.is_empty() {
                m.insert(".".into(), Value::Object(Map::new()));
            }
            cur = m;
        }
    }
    // A member that later got children needs its `.` marker too.
    mark(&mut root, set, &mut Vec::new());
    Value::Object(root)
}

fn mark(m: &mut Map<String, Value>, set: &FieldSet, path: &mut Path) {
    for (k, v) in m.iter_mut() {
        if k == "." {
            continue;
        }
        path.push(k.clone());
        if let Value::Object(c) = v {
            if !c.is_empty() && set.contains(path) && !c.contains_key(".") {
                c.insert(".".into(), Value::Object(Map::new()));
            }
            mark(c, set, path);
        }
        path.pop();
    }
}

/// Decodes FieldsV1.
pub fn from_fields_v1(v: &Value) -> FieldSet {
    fn walk(m: &Map<String, Value>, path: &mut Path, out: &mut FieldSet) {
        for (k, c) in m {
            if k == "." {
                out.insert(path.clone());
                continue;
            }
            path.push(k.clone());
            match c.as_object() {
                Some(cm) if !cm.is_empty() => walk(cm, path, out),
                _ => {
                    out.insert(path.clone());
                }
            }
            path.pop();
        }
    }
    let mut out = FieldSet::new();
    if let Some(m) = v.as_object() {
        walk(m, &mut Vec::new(), &mut out);
    }
    out
}

/// A path as structured-merge-diff prints it: `.spec.containers[name="a"].image`.
pub fn display(path: &[String]) -> String {
    let mut s = String::new();
    for pe in path {
        if let Some(f) = pe.strip_prefix("f:") {
            s.push('.');
            s.push_str(f);
        } else if let Some(k) = pe.strip_prefix("k:") {
            let keys: Map<String, Value> = serde_json::from_str(k).unwrap_or_default();
            let parts: Vec<String> = keys.iter().map(|(k, v)| format!("{k}={v}")).collect();
            s.push_str(&format!("[{}]", parts.join(",")));
        } else if let Some(v) = pe.strip_prefix("v:") {
            s.push_str(&format!("[={v}]"));
        } else if let Some(i) = pe.strip_prefix("i:") {
            s.push_str(&format!("[{i}]"));
        }
    }
    s
}
