//! Fallback Table: NAME, the CRD's printer columns (simple `.a.b` paths), AGE.
use flotilla_apimachinery::ResourceInfo;
use serde_json::{json, Value};

fn lookup<'a>(obj: &'a Value, path: &str) -> Option<&'a Value> {
    let mut cur = obj;
    for part in path
        .trim_start_matches('.')
        .split('.')
        .filter(|p| !p.is_empty())
    {
        cur = cur.get(part)?;
    }
    Some(cur)
}

fn cell(v: Option<&Value>) -> Value {
    match v {
        None => Value::Null,
        Some(Value::String(s)) => Value::String(s.clone()),
        Some(Value::Number(n)) => Value::Number(n.clone()),
        Some(Value::Bool(b)) => Value::Bool(*b),
        Some(other) => Value::String(other.to_string()),
    }
}

/// The fallback Table.
pub(crate) fn fallback(info: &ResourceInfo, objs: &[Value], wide: bool) -> Value {
    let cols: Vec<_> = info
        .printer_columns
        .iter()
        .filter(|c| wide || c.priority == 0)
        .collect();
    let mut defs = vec![
        json!({"name": "Name", "type": "string", "format": "name", "description": "Name must be unique within a namespace.", "priority": 0}),
    ];
    let mut has_age = false;
    for c in &cols {
        has_age |= c.json_path == ".metadata.creationTimestamp";
        defs.push(json!({"name": c.name, "type": c.type_, "format": c.format, "description": c.description, "priority": c.priority}));
    }
    if !has_age {
        defs.push(json!({"name": "Age", "type": "string", "format": "", "description": "CreationTimestamp", "priority": 0}));
    }
    let rows: Vec<Value> = objs
        .iter()
        .map(|o| {
            let mut cells = vec![o["metadata"]["name"].clone()];
            for c in &cols {
                let v = lookup(o, &c.json_path);
                if c.type_ == "date" {
                    cells.push(Value::String(crate::time::age(v.and_then(Value::as_str).unwrap_or_default())));
                } else {
                    cells.push(cell(v));
                }
            }
            if !has_age {
                let ts = o["metadata"]["creationTimestamp"].as_str().unwrap_or_default();
                cells.push(Value::String(crate::time::age(ts)));
            }
            json!({"cells": cells, "object": {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": o["metadata"]}})
        })
        .collect();
    json!({"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": {}, "columnDefinitions": defs, "rows": rows})
}
