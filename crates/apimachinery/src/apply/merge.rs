//! Merging an applied configuration into the live object (structured-merge-diff's
//! `TypedValue.Merge`): maps field by field, atomic values replaced, sets and associative lists
//! merged item by item keeping the live order of items the configuration does not name.
use serde_json::{Map, Value};

use super::fieldset::key_element;
use crate::schema::{ListKind, Node};

/// `live` merged with `config` (config wins).
pub fn merge(live: &Value, config: &Value, node: Node<'_>) -> Value {
    match (live, config) {
        (Value::Object(l), Value::Object(c)) if !node.atomic_map() => {
            Value::Object(merge_map(l, c, node))
        }
        (Value::Array(l), Value::Array(c)) => match node.list_kind() {
            ListKind::Atomic => config.clone(),
            ListKind::Set => {
                let ids = |v: &Value| Some(v.to_string());
                Value::Array(merge_list(l, c, ids, |_, r| r.clone()))
            }
            ListKind::Map(keys) => {
                let elem = node.items().unwrap_or_else(Node::unknown);
                let all_keyed = l.iter().chain(c).all(|it| key_element(it, &keys).is_some());
                if !all_keyed {
                    return config.clone();
                }
                Value::Array(merge_list(
                    l,
                    c,
                    |v| key_element(v, &keys),
                    |lv, rv| merge(lv, rv, elem),
                ))
            }
        },
        _ => config.clone(),
    }
}

fn merge_map(l: &Map<String, Value>, c: &Map<String, Value>, node: Node<'_>) -> Map<String, Value> {
    let mut out = l.clone();
    for (k, cv) in c {
        if cv.is_null() {
            out.remove(k);
            continue;
        }
        let child = node.field(k).unwrap_or_else(Node::unknown);
        let merged = match l.get(k) {
            Some(lv) => merge(lv, cv, child),
            None => cv.clone(),
        };
        out.insert(k.clone(), merged);
    }
    out
}

/// SMD's list interleaving: items only in `l` keep their place, items of `r` come in `r`'s
/// order, shared items are merged.
fn merge_list(
    l: &[Value],
    r: &[Value],
    id: impl Fn(&Value) -> Option<String>,
    merge_item: impl Fn(&Value, &Value) -> Value,
) -> Vec<Value> {
    let lids: Vec<Option<String>> = l.iter().map(&id).collect();
    let rids: Vec<Option<String>> = r.iter().map(&id).collect();
    let in_r = |x: &Option<String>| rids.contains(x);
    let find_l = |x: &Option<String>| lids.iter().position(|y| y == x);
    let shared: Vec<&Option<String>> = rids.iter().filter(|x| lids.contains(x)).collect();
    let mut next_shared = 0usize;
    let mut merged_r: Vec<&Option<String>> = Vec::new();
    let mut out = Vec::with_capacity(l.len() + r.len());
    let (mut li, mut ri) = (0, 0);
    while li < l.len() || ri < r.len() {
        if li < l.len() && ri < r.len() {
            if lids[li] == rids[ri] {
                merged_r.push(&rids[ri]);
                out.push(merge_item(&l[li], &r[ri]));
                li += 1;
                ri += 1;
                if shared.get(next_shared) == Some(&&rids[ri - 1]) {
                    next_shared += 1;
                }
                continue;
            }
            if in_r(&lids[li]) && shared.get(next_shared).is_some_and(|s| **s != lids[li]) {
                li += 1;
                continue;
            }
        }
        if li < l.len() {
            if !in_r(&lids[li]) {
                out.push(l[li].clone());
                li += 1;
                continue;
            } else if merged_r.contains(&&lids[li]) {
                li += 1;
                continue;
            }
        }
        if ri < r.len() {
            merged_r.push(&rids[ri]);
            let item = match find_l(&rids[ri]) {
                Some(i) => merge_item(&l[i], &r[ri]),
                None => r[ri].clone(),
            };
            out.push(item);
            if shared.get(next_shared) == Some(&&rids[ri]) {
                next_shared += 1;
            }
            ri += 1;
        } else {
            // Only shared LHS items remain that were merged already.
            li += 1;
        }
    }
    out
}
