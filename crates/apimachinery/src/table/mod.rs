//! `meta.k8s.io/v1` Table output for `kubectl get`: the printer columns kube-apiserver 1.32 has
//! for the built-in kinds (`pkg/printers/internalversion`), the additionalPrinterColumns of
//! custom resources (JSONPath subset), and the default `Name`/`Created At` table otherwise.
use serde_json::{json, Map, Value};

use crate::registry::PrinterColumn;
use crate::ResourceInfo;

mod builtin;
pub mod jsonpath;

/// What each row carries in `object` (`includeObject` parameter).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IncludeObject {
    /// No object.
    None,
    /// A `PartialObjectMetadata` (kubectl's default).
    #[default]
    Metadata,
    /// The whole object.
    Object,
}

impl IncludeObject {
    /// Parses the `includeObject` query parameter (empty means `Metadata`).
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "None" => Some(Self::None),
            "Metadata" | "" => Some(Self::Metadata),
            "Object" => Some(Self::Object),
            _ => None,
        }
    }
}

/// A column definition.
#[derive(Clone, Copy)]
pub(crate) struct Col {
    pub name: &'static str,
    pub type_: &'static str,
    pub format: &'static str,
    pub priority: i64,
    pub description: &'static str,
}

pub(crate) const fn col(name: &'static str, type_: &'static str, priority: i64) -> Col {
    Col {
        name,
        type_,
        format: "",
        priority,
        description: "",
    }
}

pub(crate) const NAME: Col = Col {
    name: "Name",
    type_: "string",
    format: "name",
    priority: 0,
    description: "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names",
};

const CREATION_DESC: &str = "CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata";

/// Builds the Table of `objs`, rows carrying `PartialObjectMetadata`. With `wide` false only the
/// priority-0 columns are returned; kube-apiserver always returns all (pass `true` to match it).
pub fn to_table(info: &ResourceInfo, objs: &[Value], wide: bool) -> Value {
    to_table_with(
        info,
        objs,
        wide,
        IncludeObject::Metadata,
        crate::time::now_secs(),
    )
}

/// [`to_table`] with the `includeObject` choice and the current time (Unix seconds) for ages.
pub fn to_table_with(
    info: &ResourceInfo,
    objs: &[Value],
    wide: bool,
    include: IncludeObject,
    now: i64,
) -> Value {
    let (defs, rows): (Vec<Value>, Vec<Vec<Value>>) = if info.custom {
        custom_table(&info.printer_columns, objs, now)
    } else if let Some((cols, cells)) = builtin::printer(&info.kind, &info.group) {
        let defs = cols.iter().map(col_def).collect();
        (defs, objs.iter().map(|o| cells(o, now)).collect())
    } else {
        let defs = vec![
            col_def(&NAME),
            json!({"name": "Created At", "type": "date", "format": "", "description": CREATION_DESC, "priority": 0}),
        ];
        let rows = objs
            .iter()
            .map(|o| {
                vec![
                    json!(name_of(o)),
                    o.pointer("/metadata/creationTimestamp")
                        .cloned()
                        .unwrap_or(Value::Null),
                ]
            })
            .collect();
        (defs, rows)
    };
    let keep: Vec<bool> = defs
        .iter()
        .map(|d| wide || d["priority"].as_i64().unwrap_or(0) == 0)
        .collect();
    let defs: Vec<Value> = defs
        .into_iter()
        .zip(&keep)
        .filter(|(_, k)| **k)
        .map(|(d, _)| d)
        .collect();
    let rows: Vec<Value> = rows
        .into_iter()
        .zip(objs)
        .map(|(cells, obj)| {
            let cells: Vec<Value> = cells
                .into_iter()
                .zip(&keep)
                .filter(|(_, k)| **k)
                .map(|(c, _)| c)
                .collect();
            let mut row = Map::new();
            row.insert("cells".into(), Value::Array(cells));
            match include {
                IncludeObject::None => {}
                IncludeObject::Metadata => {
                    row.insert("object".into(), partial_metadata(obj));
                }
                IncludeObject::Object => {
                    row.insert("object".into(), obj.clone());
                }
            }
            Value::Object(row)
        })
        .collect();
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {},
        "columnDefinitions": defs,
        "rows": rows,
    })
}

/// A `PartialObjectMetadata` of an object (what kubectl reads names and namespaces from).
pub fn partial_metadata(obj: &Value) -> Value {
    json!({
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": obj.get("metadata").cloned().unwrap_or_else(|| json!({})),
    })
}

fn col_def(c: &Col) -> Value {
    json!({"name": c.name, "type": c.type_, "format": c.format, "description": c.description, "priority": c.priority})
}

pub(crate) fn name_of(o: &Value) -> &str {
    o.pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default()
}

/// `translateTimestampSince`: the age of a timestamp field, `<unknown>` when absent.
pub(crate) fn age(ts: Option<&Value>, now: i64) -> String {
    match ts
        .and_then(Value::as_str)
        .and_then(crate::time::parse_rfc3339)
    {
        Some(t) => crate::time::human_duration(now - t),
        None => "<unknown>".into(),
    }
}

/// The columns of a custom resource: Name, the additionalPrinterColumns (or `Age` when none).
fn custom_table(cols: &[PrinterColumn], objs: &[Value], now: i64) -> (Vec<Value>, Vec<Vec<Value>>) {
    let default_age = [PrinterColumn {
        name: "Age".into(),
        type_: "date".into(),
        format: String::new(),
        description: String::new(),
        priority: 0,
        json_path: ".metadata.creationTimestamp".into(),
    }];
    let cols = if cols.is_empty() {
        &default_age[..]
    } else {
        cols
    };
    let mut defs = vec![col_def(&NAME)];
    defs.extend(cols.iter().map(|c| {
        json!({"name": c.name, "type": c.type_, "format": c.format, "description": c.description, "priority": c.priority})
    }));
    let rows = objs
        .iter()
        .map(|o| {
            let mut cells = vec![json!(name_of(o))];
            for c in cols {
                let v = jsonpath::find(o, &c.json_path).into_iter().next();
                cells.push(cell_for(&c.type_, v, now));
            }
            cells
        })
        .collect();
    (defs, rows)
}

/// `cellForJSONValue` of the CRD table convertor.
fn cell_for(type_: &str, v: Option<&Value>, now: i64) -> Value {
    let Some(v) = v else { return Value::Null };
    match type_ {
        "date" => match v.as_str() {
            Some(s) if crate::time::parse_rfc3339(s).is_some() => json!(age(Some(v), now)),
            Some(_) => json!("<invalid>"),
            None => Value::Null,
        },
        "integer" => match v.as_i64() {
            Some(i) => json!(i),
            None => v.as_f64().map(|f| json!(f as i64)).unwrap_or(Value::Null),
        },
        "number" => v.as_f64().map(|f| json!(f)).unwrap_or(Value::Null),
        "boolean" => v.as_bool().map(|b| json!(b)).unwrap_or(Value::Null),
        _ => match v {
            Value::String(s) => json!(s),
            other => json!(other.to_string()),
        },
    }
}

#[cfg(test)]
mod tests;
