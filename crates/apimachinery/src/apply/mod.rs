//! Server-side apply and the `metadata.managedFields` bookkeeping of other writes, as
//! kube-apiserver does it with `sigs.k8s.io/structured-merge-diff`: each manager owns a field
//! set (FieldsV1); an apply merges the configuration into the live object by the schema's list
//! types and map keys, fails with the conflicting fields other managers own unless forced, and
//! removes fields the manager applied before, no longer applies, and nobody else owns.
use serde_json::{json, Map, Value};

use crate::schema::{self, Node};
use crate::{Error, Gvk, Registry};

pub mod fieldset;
mod merge;

use fieldset::{FieldSet, Path};

/// One `metadata.managedFields` entry, decoded.
#[derive(Debug, Clone, PartialEq)]
pub struct Manager {
    /// The field manager name.
    pub manager: String,
    /// `Apply` or `Update`.
    pub operation: String,
    /// The apiVersion the fields were written in.
    pub api_version: String,
    /// RFC 3339 time of the last change.
    pub time: Option<String>,
    /// Subresource (`status`) or empty.
    pub subresource: String,
    /// The fields owned.
    pub fields: FieldSet,
}

impl Manager {
    fn same(&self, manager: &str, operation: &str, subresource: &str) -> bool {
        self.manager == manager && self.operation == operation && self.subresource == subresource
    }

    /// The manager as kube-apiserver names it in conflict messages (`printManager`).
    pub fn display(&self) -> String {
        let mut s = format!("{:?}", self.manager);
        if !self.subresource.is_empty() {
            s = format!("{s} with subresource {:?}", self.subresource);
        }
        if self.operation == "Update" {
            return match &self.time {
                Some(t) => format!("{s} using {} at {t}", self.api_version),
                None => format!("{s} using {}", self.api_version),
            };
        }
        s
    }
}

/// Reads `metadata.managedFields`.
pub fn managers(obj: &Value) -> Vec<Manager> {
    let Some(list) = obj
        .pointer("/metadata/managedFields")
        .and_then(Value::as_array)
    else {
        return Vec::new();
    };
    list.iter()
        .map(|e| {
            let s = |k: &str| {
                e.get(k)
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string()
            };
            Manager {
                manager: s("manager"),
                operation: s("operation"),
                api_version: s("apiVersion"),
                time: e.get("time").and_then(Value::as_str).map(String::from),
                subresource: s("subresource"),
                fields: e
                    .get("fieldsV1")
                    .map(fieldset::from_fields_v1)
                    .unwrap_or_default(),
            }
        })
        .collect()
}

/// Writes `metadata.managedFields` in kube-apiserver's order (operation, time, manager).
pub fn set_managers(obj: &mut Value, mut ms: Vec<Manager>) {
    ms.retain(|m| !m.fields.is_empty());
    ms.sort_by(|a, b| {
        (
            &a.operation,
            &a.time,
            &a.manager,
            &a.api_version,
            &a.subresource,
        )
            .cmp(&(
                &b.operation,
                &b.time,
                &b.manager,
                &b.api_version,
                &b.subresource,
            ))
    });
    let entries: Vec<Value> = ms
        .into_iter()
        .map(|m| {
            let mut e = Map::new();
            e.insert("manager".into(), json!(m.manager));
            e.insert("operation".into(), json!(m.operation));
            e.insert("apiVersion".into(), json!(m.api_version));
            if let Some(t) = m.time {
                e.insert("time".into(), json!(t));
            }
            e.insert("fieldsType".into(), json!("FieldsV1"));
            e.insert("fieldsV1".into(), fieldset::to_fields_v1(&m.fields));
            if !m.subresource.is_empty() {
                e.insert("subresource".into(), json!(m.subresource));
            }
            Value::Object(e)
        })
        .collect();
    if let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
        if entries.is_empty() {
            meta.remove("managedFields");
        } else {
            meta.insert("managedFields".into(), Value::Array(entries));
        }
    }
}

/// Fields the server owns, never tracked for managers.
const IGNORED: &[&[&str]] = &[
    &["f:apiVersion"],
    &["f:kind"],
    &["f:metadata", "f:name"],
    &["f:metadata", "f:namespace"],
    &["f:metadata", "f:uid"],
    &["f:metadata", "f:resourceVersion"],
    &["f:metadata", "f:generation"],
    &["f:metadata", "f:creationTimestamp"],
    &["f:metadata", "f:deletionTimestamp"],
    &["f:metadata", "f:deletionGracePeriodSeconds"],
    &["f:metadata", "f:managedFields"],
    &["f:metadata", "f:selfLink"],
];

fn ignored(p: &Path, status_reset: bool) -> bool {
    if status_reset && p.first().is_some_and(|f| f == "f:status") {
        return true;
    }
    ignored_always(p)
}

/// Outside what an apply to the `status` subresource may own.
fn outside_status(p: &Path) -> bool {
    p.first().is_none_or(|f| f != "f:status") || ignored_always(p)
}

fn ignored_always(p: &Path) -> bool {
    IGNORED
        .iter()
        .any(|ig| p.len() >= ig.len() && p.iter().zip(ig.iter()).all(|(a, b)| a == b))
        || (p.len() == 1 && p[0] == "f:metadata")
}

/// The field set of an object, without the server-owned fields.
fn owned_set(obj: &Value, root: Node<'_>, status_reset: bool) -> FieldSet {
    let mut set = FieldSet::new();
    fieldset::to_set(obj, root, &mut Vec::new(), &mut set);
    set.retain(|p| !ignored(p, status_reset));
    set
}

/// The `status` fields of an object, for an apply to the status subresource.
fn status_set(obj: &Value, root: Node<'_>) -> FieldSet {
    let mut set = FieldSet::new();
    fieldset::to_set(obj, root, &mut Vec::new(), &mut set);
    set.retain(|p| !outside_status(p));
    set
}

fn strip_managed(v: &Value) -> Value {
    let mut v = v.clone();
    if let Some(meta) = v.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.remove("managedFields");
    }
    v
}

/// Server-side apply of `applied` by `manager` onto `live` (`None`: the object is created).
/// Returns the new object with its `metadata.managedFields`.
pub fn apply(
    live: Option<&Value>,
    applied: &Value,
    manager: &str,
    force: bool,
    reg: &Registry,
    gvk: &Gvk,
) -> Result<Value, Error> {
    apply_with(live, applied, manager, force, reg, gvk, "")
}

/// Server-side apply to the `status` subresource: only `status` of `applied` counts, the
/// rest of `live` is kept, and the manager's entry carries `subresource: status`.
pub fn apply_status(
    live: &Value,
    applied: &Value,
    manager: &str,
    force: bool,
    reg: &Registry,
    gvk: &Gvk,
) -> Result<Value, Error> {
    apply_with(Some(live), applied, manager, force, reg, gvk, "status")
}

fn apply_with(
    live: Option<&Value>,
    applied: &Value,
    manager: &str,
    force: bool,
    reg: &Registry,
    gvk: &Gvk,
    subresource: &str,
) -> Result<Value, Error> {
    let on_status = subresource == "status";
    if manager.is_empty() {
        return Err(Error::BadRequest(
            "PATCH, application/apply-patch+yaml requires fieldManager parameter".into(),
        ));
    }
    if !applied.is_object() {
        return Err(Error::BadRequest(
            "error decoding YAML: the applied configuration is not an object".into(),
        ));
    }
    if Gvk::of(applied).as_ref() != Some(gvk) {
        return Err(Error::BadRequest(format!(
            "apiVersion and kind of the applied configuration must be {} {}",
            gvk.api_version(),
            gvk.kind
        )));
    }
    if applied
        .pointer("/metadata/managedFields")
        .is_some_and(|m| !m.is_null())
    {
        return Err(Error::BadRequest(
            "metadata.managedFields must be nil".into(),
        ));
    }
    let info = reg.by_gvk(gvk);
    let status_reset = !on_status && info.is_some_and(|i| i.subresources.status);
    let root = schema::root_for(reg, gvk);
    let now = crate::time::now_rfc3339();
    let api_version = gvk.api_version();

    let live_plain = live.map(strip_managed).unwrap_or_else(|| json!({}));
    let mut ms = live.map(managers).unwrap_or_default();
    if live.is_some() && ms.is_empty() {
        // Objects written before any field tracking belong to "before-first-apply".
        ms.push(Manager {
            manager: "before-first-apply".into(),
            operation: "Update".into(),
            api_version: api_version.clone(),
            time: Some(now.clone()),
            subresource: String::new(),
            fields: owned_set(&live_plain, root, status_reset),
        });
    }
    let mut config = applied.clone();
    if status_reset {
        if let Some(m) = config.as_object_mut() {
            m.remove("status");
        }
    }
    if on_status {
        config = json!({
            "apiVersion": applied.get("apiVersion").cloned().unwrap_or(Value::Null),
            "kind": applied.get("kind").cloned().unwrap_or(Value::Null),
            "status": applied.get("status").cloned().unwrap_or_else(|| json!({})),
        });
    }
    let config_set = if on_status {
        status_set(&config, root)
    } else {
        owned_set(&config, root, status_reset)
    };
    let mut new_obj = merge::merge(&live_plain, &config, root);

    // Prune what this manager applied last time, no longer applies, and nobody else owns.
    let last: FieldSet = ms
        .iter()
        .find(|m| m.same(manager, "Apply", subresource))
        .map(|m| m.fields.clone())
        .unwrap_or_default();
    let mut kept = config_set.clone();
    for m in ms.iter().filter(|m| !m.same(manager, "Apply", subresource)) {
        kept.extend(m.fields.iter().cloned());
    }
    let mut to_remove: Vec<&Path> = last
        .iter()
        .filter(|p| !kept.contains(*p) && !fieldset::has_descendant(&kept, p))
        .collect();
    // Shallowest first: an item goes as a whole, its children's paths then find nothing.
    to_remove.sort_by_key(|p| p.len());
    for p in to_remove {
        fieldset::remove(&mut new_obj, p);
    }

    // Conflicts: fields other managers own that this apply changes.
    let (added, modified, _removed) = fieldset::compare(&live_plain, &new_obj, root);
    let changed: FieldSet = added.union(&modified).cloned().collect();
    let mut conflicts: Vec<(usize, Path)> = Vec::new();
    for (i, m) in ms.iter().enumerate() {
        if m.same(manager, "Apply", subresource) {
            continue;
        }
        for p in m.fields.intersection(&changed) {
            if config_set.contains(p) || fieldset::has_descendant(&config_set, p) {
                conflicts.push((i, p.clone()));
            }
        }
    }
    if !conflicts.is_empty() && !force {
        return Err(Error::Conflict {
            fields: conflicts
                .iter()
                .map(|(i, p)| (ms[*i].display(), fieldset::display(p)))
                .collect(),
        });
    }
    for (i, p) in &conflicts {
        ms[*i].fields.remove(p);
    }
    match ms
        .iter_mut()
        .find(|m| m.same(manager, "Apply", subresource))
    {
        Some(m) => {
            if m.fields != config_set {
                m.time = Some(now.clone());
            }
            m.fields = config_set;
            m.api_version = api_version;
        }
        None => ms.push(Manager {
            manager: manager.into(),
            operation: "Apply".into(),
            api_version,
            time: Some(now),
            subresource: subresource.into(),
            fields: config_set,
        }),
    }
    set_managers(&mut new_obj, ms);
    Ok(new_obj)
}

/// Records the fields `manager` changed with a non-apply write (`operation` is `Update`):
/// the manager gains what was added or modified, every manager loses what was removed, and
/// other managers lose what was modified (an update always takes ownership).
///
/// List types and map keys come from the built-in schema of the object's `apiVersion`/`kind`;
/// for custom resources use [`track_update_typed`], which reads the registry.
pub fn track_update(old: Option<&Value>, new: &mut Value, manager: &str, operation: &str) {
    let root = Gvk::of(new)
        .and_then(|g| schema::builtin_definition(&g))
        .and_then(|d| schema::definitions().get(d))
        .map(Node::new)
        .unwrap_or_else(Node::unknown);
    track_update_with(old, new, manager, operation, "", root);
}

/// [`track_update`] with the kind's schema (list types and map keys) and a subresource.
pub fn track_update_typed(
    old: Option<&Value>,
    new: &mut Value,
    manager: &str,
    subresource: &str,
    reg: &Registry,
    gvk: &Gvk,
) {
    let root = schema::root_for(reg, gvk);
    track_update_with(old, new, manager, "Update", subresource, root);
}

fn track_update_with(
    old: Option<&Value>,
    new: &mut Value,
    manager: &str,
    operation: &str,
    subresource: &str,
    root: Node<'_>,
) {
    let old_plain = old.map(strip_managed).unwrap_or_else(|| json!({}));
    let new_plain = strip_managed(new);
    let api_version = new_plain
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    // As kube-apiserver: managedFields omitted or `[]` in the request keep the stored ones,
    // `[{}]` strips them all, any other list given by the client replaces them.
    let requested = new
        .pointer("/metadata/managedFields")
        .and_then(Value::as_array);
    let mut ms = match requested.map(Vec::as_slice) {
        None | Some([]) => old.map(managers).unwrap_or_default(),
        Some([Value::Object(e)]) if e.is_empty() => {
            set_managers(new, Vec::new());
            return;
        }
        Some(_) => managers(new),
    };
    let (added, modified, removed) = fieldset::compare(&old_plain, &new_plain, root);
    let keep = |p: &Path| !ignored(p, false);
    for m in ms.iter_mut() {
        if m.same(manager, operation, subresource) {
            continue;
        }
        m.fields
            .retain(|p| !modified.contains(p) && !removed.contains(p));
    }
    let gained: FieldSet = added
        .union(&modified)
        .filter(|p| keep(p))
        .cloned()
        .collect();
    let now = crate::time::now_rfc3339();
    match ms
        .iter_mut()
        .find(|m| m.same(manager, operation, subresource))
    {
        Some(m) => {
            m.fields.retain(|p| !removed.contains(p));
            if !gained.is_subset(&m.fields) {
                m.time = Some(now);
            }
            m.fields.extend(gained);
            m.api_version = api_version;
        }
        None => ms.push(Manager {
            manager: manager.into(),
            operation: operation.into(),
            api_version,
            time: Some(now),
            subresource: subresource.into(),
            fields: gained,
        }),
    }
    set_managers(new, ms);
}

#[cfg(test)]
mod tests;
