//! Strategic merge patch with kustomize v5.5.0 semantics (kyaml `merge2`
//! driven by the `walk` package, list increase direction *prepend*).
//!
//! Rules, as kustomize applies them:
//! - maps merge key by key; a `null` patch value deletes the field; a map with
//!   `$patch: delete` is removed, `$patch: replace` replaces the destination,
//!   `$patch: merge` is the default; any other `$patch` value is an error;
//! - scalars and lists without schema merge strategy are replaced by the patch;
//! - lists whose schema strategy contains `merge` (see [`super::schema`]) are
//!   merged element-wise by their merge key(s): patch elements come first, then
//!   the destination elements not named by the patch; primitive lists with a
//!   merge strategy (finalizers) become a union;
//! - other SMP directives (`$setElementOrder/...`, `$retainKeys`,
//!   `$deleteFromPrimitiveList/...`) are *not* interpreted by kustomize v5 and
//!   are kept as ordinary fields.
//!
//! The walker runs on the [`Arena`] so that kyaml's in-place mutation and
//! node aliasing (which decide several corner cases, e.g. `$patch: replace` on
//! a list element that also exists in the destination has no effect) are
//! reproduced faithfully.

use serde_json::Value;

use super::custom::CustomSchema;
use super::node::{resolve_plain, Arena, Id, Kind, Node};
use super::schema::{self, Schema};
use super::{PatchError, SmpOutcome};

/// Applies `patch` to `base` as a strategic merge patch, with the built-in schema.
pub fn strategic_merge(base: &Value, patch: &Value) -> Result<SmpOutcome, PatchError> {
    strategic_merge_with(base, patch, None)
}

/// Applies `patch` to `base` as a strategic merge patch; a custom schema replaces the
/// built-in one (or extends it, see [`CustomSchema::with_builtin`]).
pub fn strategic_merge_with(
    base: &Value,
    patch: &Value,
    custom: Option<&CustomSchema>,
) -> Result<SmpOutcome, PatchError> {
    let mut arena = Arena::default();
    let dest = arena.insert_value(base);
    let origin = arena.insert_value(patch);
    let mut w = Walker { a: arena, custom };
    match w.walk([Some(dest), Some(origin)], None, &mut Vec::new())? {
        Some(id) => Ok(SmpOutcome::Merged(w.a.to_value(id))),
        None => Ok(SmpOutcome::Deleted),
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Directive {
    Unknown,
    Replace,
    Delete,
    Merge,
}

/// `[dest, origin]`.
type Sources = [Option<Id>; 2];

struct Walker<'s> {
    a: Arena,
    custom: Option<&'s CustomSchema>,
}

impl<'s> Walker<'s> {
    fn err(path: &[String], msg: impl Into<String>) -> PatchError {
        let path = if path.is_empty() {
            "<root>".to_string()
        } else {
            path.join(".")
        };
        PatchError::Smp {
            path,
            msg: msg.into(),
        }
    }

    fn walk(
        &mut self,
        mut src: Sources,
        schema: Option<Schema<'s>>,
        path: &mut Vec<String>,
    ) -> Result<Option<Id>, PatchError> {
        let schema = schema.or_else(|| self.schema_from_meta(&src));
        let kind = src
            .iter()
            .flatten()
            .find(|id| !self.a.is_tagged_null(**id))
            .map(|id| self.a.kind(*id));
        let Some(kind) = kind else {
            return self.walk_map(&mut src, schema, path);
        };
        for id in src.iter().flatten() {
            if !self.a.is_tagged_null(*id) && self.a.kind(*id) != kind {
                let msg = format!(
                    "wrong node kind: expected {} but got {}: node contents: {}",
                    kind.name(),
                    self.a.kind(*id).name(),
                    self.a.to_value(*id)
                );
                return Err(Self::err(path, msg));
            }
        }
        match kind {
            Kind::Map => self.walk_map(&mut src, schema, path),
            Kind::Seq => match schema.filter(|s| s.is_associative()) {
                Some(s) => self.walk_assoc(&mut src, s, path),
                // non-associative: the patch list replaces the destination
                None => Ok(src[1].or(src[0])),
            },
            Kind::Scalar => Ok(src[1].or(src[0])),
        }
    }

    /// `Walker.GetSchema` fallback: a node carrying `apiVersion` and `kind`.
    /// With a custom schema, its definitions win; the built-in table only answers when
    /// the custom schema extends it.
    fn schema_from_meta(&self, src: &Sources) -> Option<Schema<'s>> {
        let custom = self.custom;
        src.iter().flatten().find_map(|id| {
            let av = self.a.field(*id, "apiVersion").map(|v| self.a.text(v))?;
            let kind = self.a.field(*id, "kind").map(|v| self.a.text(v))?;
            if av.is_empty() || kind.is_empty() {
                return None;
            }
            match custom {
                Some(c) => match c.for_resource(&av, &kind) {
                    Some(node) => Some(Schema::Custom(c, node)),
                    None if c.keeps_builtin() => schema::for_resource(&av, &kind),
                    None => None,
                },
                None => schema::for_resource(&av, &kind),
            }
        })
    }

    /// Reads (and strips) a `$patch` directive (kyaml `determineSmpDirective`).
    fn directive(&mut self, patch: Option<Id>) -> Result<Directive, String> {
        let Some(p) = patch else {
            return Ok(Directive::Merge);
        };
        match self.a.kind(p) {
            Kind::Seq => Ok(Directive::Merge),
            Kind::Scalar => Err(format!(
                "no implemented strategic merge patch strategy for '{}'",
                self.a.text(p)
            )),
            Kind::Map => {
                let Some(v) = self.a.field(p, "$patch") else {
                    return Ok(Directive::Merge);
                };
                let d = match self.a.text(v).as_str() {
                    "delete" => Directive::Delete,
                    "replace" => Directive::Replace,
                    "merge" => Directive::Merge,
                    other => return Err(format!("unknown patch strategy '{other}'")),
                };
                self.a.clear_field(p, "$patch");
                Ok(d)
            }
        }
    }

    /// kyaml `Merger.VisitMap`.
    fn visit_map(&mut self, src: &Sources, path: &[String]) -> Result<Option<Id>, PatchError> {
        let [dest, origin] = *src;
        if self.a.missing_or_null(dest) {
            let d = self.directive(origin).unwrap_or(Directive::Unknown);
            if d == Directive::Delete {
                return Ok(None);
            }
            if origin.is_none() && dest.is_some() {
                // keep an explicit `null` of the destination
                let keep = self.a.push(Node {
                    kind: Kind::Scalar,
                    content: Vec::new(),
                    value: Value::Null,
                    keep_null: true,
                });
                return Ok(Some(keep));
            }
            return Ok(origin);
        }
        if origin.is_some_and(|o| self.a.is_tagged_null(o)) {
            return Ok(None);
        }
        match self.directive(origin).map_err(|m| Self::err(path, m))? {
            Directive::Delete => Ok(None),
            Directive::Replace => Ok(origin),
            Directive::Merge | Directive::Unknown => Ok(dest),
        }
    }

    fn walk_map(
        &mut self,
        src: &mut Sources,
        schema: Option<Schema<'s>>,
        path: &mut Vec<String>,
    ) -> Result<Option<Id>, PatchError> {
        let Some(dest) = self.visit_map(src, path)? else {
            return Ok(None);
        };
        src[0] = Some(dest);
        let mut names: Vec<String> = src.iter().flat_map(|s| self.a.field_names(*s)).collect();
        names.sort();
        names.dedup();
        for name in names {
            let child_schema = schema.and_then(|s| s.field(&name));
            let fv = src.map(|s| s.and_then(|id| self.a.field(id, &name)));
            path.push(name.clone());
            let val = self.walk(fv, child_schema, path);
            path.pop();
            let val = val?;
            self.a.set_field(dest, &name, val)?;
        }
        Ok(Some(dest))
    }

    /// kyaml `walkAssociativeSequence` (schema-driven only: kustomize does not
    /// infer merge keys).
    fn walk_assoc(
        &mut self,
        src: &mut Sources,
        schema: Schema<'s>,
        path: &mut Vec<String>,
    ) -> Result<Option<Id>, PatchError> {
        // Merger.VisitList for associative lists
        let [dest, origin] = *src;
        let dest = if self.a.missing_or_null(dest) {
            origin
        } else if origin.is_some_and(|o| self.a.is_tagged_null(o)) {
            None
        } else {
            dest
        };
        let Some(dest) = dest else { return Ok(None) };
        src[0] = Some(dest);

        let keys: Vec<String> = schema.strategy_and_keys().1;
        let values = self.element_values(src, &keys);
        if !values.is_empty() || !keys.is_empty() {
            return self.set_elements(src, values, &keys, dest, schema, path);
        }
        let prim = self.primitive_values(src);
        self.set_elements(src, prim, &[String::new()], dest, schema, path)
    }

    /// Sources in prepend order: the patch first, then the destination.
    fn prepend_order(src: &Sources) -> [Option<Id>; 2] {
        [src[1], src[0]]
    }

    /// `elementValues`: the key values of every element, de-duplicated.
    fn element_values(&self, src: &Sources, keys: &[String]) -> Vec<Vec<String>> {
        let mut out: Vec<Vec<String>> = Vec::new();
        for list in Self::prepend_order(src).into_iter().flatten() {
            if self.a.kind(list) != Kind::Seq {
                continue;
            }
            for elem in self.a.content(list) {
                let vals: Vec<String> = keys
                    .iter()
                    .map(|k| match self.a.field(elem, k) {
                        Some(v) if !self.a.nil_or_empty(v) => self.a.text(v),
                        _ => String::new(),
                    })
                    .collect();
                if !vals.is_empty() && !out.contains(&vals) {
                    out.push(vals);
                }
            }
        }
        out
    }

    /// `elementPrimitiveValues`: scalar texts of every element, de-duplicated.
    fn primitive_values(&self, src: &Sources) -> Vec<Vec<String>> {
        let mut out: Vec<Vec<String>> = Vec::new();
        for list in Self::prepend_order(src).into_iter().flatten() {
            for elem in self.a.content(list) {
                let v = vec![self.a.text(elem)];
                if !out.contains(&v) {
                    out.push(v);
                }
            }
        }
        out
    }

    /// `setAssociativeSequenceElements`.
    fn set_elements(
        &mut self,
        src: &Sources,
        mut values_list: Vec<Vec<String>>,
        keys: &[String],
        dest: Id,
        schema: Schema<'s>,
        path: &mut Vec<String>,
    ) -> Result<Option<Id>, PatchError> {
        let items = self.a.new_seq();
        let elem_schema = schema.elements();
        if keys.len() > 1 {
            merge_values(&mut values_list);
        }
        let mut valid_keys: Vec<String> = Vec::new();
        for values in &values_list {
            if values.is_empty() {
                continue;
            }
            let (vk, vv) = validate_keys(&values_list, values, keys);
            valid_keys = vk;
            let (lk, lv) = validate_keys(std::slice::from_ref(&vv), &vv, &valid_keys);
            let elems = src.map(|s| s.and_then(|list| self.element_list(list, &lk, &lv)));
            let val = self.walk(elems, elem_schema, path)?;
            let mut exit = false;
            for (i, key) in valid_keys.iter().enumerate() {
                match val {
                    Some(v) if !self.a.is_tagged_null(v) && !self.a.is_empty_map(v) => {
                        let value = vv.get(i).map(String::as_str).unwrap_or_default();
                        // an empty key (primitive list) re-sets the scalar to itself: no-op
                        if !key.is_empty() && self.a.field(v, key).is_none() && !value.is_empty() {
                            let k = self.a.scalar(resolve_plain(value));
                            self.a.set_field(v, key, Some(k))?;
                        }
                    }
                    _ => {
                        self.element_setter(dest, None, &valid_keys, &vv, path)?;
                        exit = true;
                    }
                }
            }
            if exit {
                continue;
            }
            if let Some(v) = val {
                self.element_setter(items, Some(v), &valid_keys, &vv, path)?;
            }
        }
        let result = if values_list.is_empty() {
            dest
        } else {
            self.append_list(items, dest, &valid_keys, path)?
        };
        Ok(Some(result).filter(|r| !self.a.is_tagged_null(*r)))
    }

    /// `RNode.ElementList`: first element whose key fields equal the values.
    fn element_list(&self, list: Id, keys: &[String], values: &[String]) -> Option<Id> {
        if self.a.kind(list) != Kind::Seq {
            return None;
        }
        let empty = [String::new()];
        let keys = if keys.is_empty() { &empty[..] } else { keys };
        let values = if values.is_empty() {
            &empty[..]
        } else {
            values
        };
        let content = self.a.content(list);
        if keys[0].is_empty() {
            return content.into_iter().find(|e| self.a.text(*e) == values[0]);
        }
        if keys.len() != values.len() {
            return None;
        }
        content.into_iter().find(|e| {
            self.a.kind(*e) == Kind::Map
                && keys
                    .iter()
                    .zip(values)
                    .all(|(k, v)| self.a.field(*e, k).is_some_and(|f| self.a.text(f) == *v))
        })
    }

    /// kyaml `FieldMatcher{Name, StringValue}` applied to a list element.
    fn field_matcher(
        &self,
        elem: Id,
        name: &str,
        value: &str,
        path: &[String],
    ) -> Result<Option<Id>, PatchError> {
        if self.a.is_tagged_null(elem) {
            return Ok(None);
        }
        if name.is_empty() {
            if self.a.kind(elem) != Kind::Scalar {
                return Err(Self::err(
                    path,
                    format!(
                        "wrong node kind: expected ScalarNode but got {}",
                        self.a.kind(elem).name()
                    ),
                ));
            }
            return Ok((self.a.text(elem) == value).then_some(elem));
        }
        if self.a.kind(elem) != Kind::Map {
            return Err(Self::err(
                path,
                format!(
                    "wrong node kind: expected MappingNode but got {}",
                    self.a.kind(elem).name()
                ),
            ));
        }
        let content = self.a.content(elem);
        Ok(content.chunks(2).find_map(|pair| match pair {
            [k, v] if self.a.text(*k) == name && (value.is_empty() || self.a.text(*v) == value) => {
                Some(*v)
            }
            _ => None,
        }))
    }

    /// kyaml `ElementSetter`: replaces (or deletes, when `element` is `None`)
    /// the elements matching all keys; appends when nothing matched.  Null and
    /// empty-map elements are dropped on the way.
    fn element_setter(
        &mut self,
        list: Id,
        element: Option<Id>,
        keys: &[String],
        values: &[String],
        path: &[String],
    ) -> Result<(), PatchError> {
        let empty = [String::new()];
        let keys = if keys.is_empty() { &empty[..] } else { keys };
        if self.a.kind(list) != Kind::Seq {
            if self.a.is_tagged_null(list) {
                return Ok(());
            }
            return Err(Self::err(
                path,
                format!(
                    "wrong node kind: expected SequenceNode but got {}",
                    self.a.kind(list).name()
                ),
            ));
        }
        let mapping_setter = !keys[0].is_empty() && values.first().is_some_and(|v| !v.is_empty());
        let mut new_content = Vec::new();
        let mut matched = false;
        for elem in self.a.content(list) {
            if self.a.is_tagged_null(elem) || self.a.is_empty_map(elem) {
                continue;
            }
            if self.a.kind(elem) != Kind::Map && mapping_setter {
                new_content.push(elem);
                continue;
            }
            let mut val = None;
            let mut found = true;
            for (j, key) in keys.iter().enumerate() {
                if let Some(v) = values.get(j) {
                    val = self.field_matcher(elem, key, v, path)?;
                }
                if val.is_none() {
                    found = false;
                    break;
                }
            }
            if !found {
                if !values.is_empty() {
                    new_content.push(elem);
                }
                continue;
            }
            matched = true;
            if let Some(e) = element {
                new_content.push(e);
            }
        }
        self.a.set_content(list, new_content);
        match element {
            Some(e) if !self.a.is_tagged_null(e) && !matched => {
                let mut c = self.a.content(list);
                c.push(e);
                self.a.set_content(list, c);
            }
            _ => {}
        }
        Ok(())
    }

    /// `appendListNode(dst, src, keys)`.
    fn append_list(
        &mut self,
        dst: Id,
        src: Id,
        keys: &[String],
        path: &[String],
    ) -> Result<Id, PatchError> {
        let Some(first) = keys.first() else {
            return Err(Self::err(path, "no merge key for associative list"));
        };
        for elem in self.a.content(src) {
            if first.is_empty() {
                let v = self.a.text(elem);
                self.element_setter(dst, Some(elem), &[String::new()], &[v], path)?;
                continue;
            }
            let mut v = Vec::new();
            for key in keys {
                match self.field_matcher(elem, key, "", path)? {
                    Some(node) => v.push(self.a.text(node)),
                    None => {
                        let mut c = self.a.content(dst);
                        c.push(elem);
                        self.a.set_content(dst, c);
                    }
                }
            }
            if keys.len() > 1 {
                self.element_setter(dst, None, keys, &v, path)?;
            }
            self.element_setter(dst, Some(elem), keys, &v, path)?;
        }
        Ok(dst)
    }
}

/// `validateKeys`: drops keys that no element gives a value for.
fn validate_keys(
    values_list: &[Vec<String>],
    values: &[String],
    keys: &[String],
) -> (Vec<String>, Vec<String>) {
    let mut valid: Vec<&String> = Vec::new();
    for vals in values_list {
        for (i, v) in vals.iter().enumerate() {
            if !v.is_empty() {
                if let Some(k) = keys.get(i) {
                    if !valid.contains(&k) {
                        valid.push(k);
                    }
                }
            }
        }
    }
    if valid.is_empty() {
        return (keys.to_vec(), values.to_vec());
    }
    let vk = keys.iter().filter(|k| valid.contains(k)).cloned().collect();
    let vv = values
        .iter()
        .enumerate()
        .filter(|(i, v)| !v.is_empty() || keys.get(*i).is_some_and(|k| valid.contains(&k)))
        .map(|(_, v)| v.clone())
        .collect();
    (vk, vv)
}

/// `mergeValues`: unifies key tuples that only differ by empty entries.
fn merge_values(list: &mut [Vec<String>]) {
    for i in 0..list.len() {
        let v1 = list[i].clone();
        for j in 0..list.len() {
            if let Some(res) = match_values(&v1, &list[j]) {
                list[i] = res.clone();
                list[j] = res;
            }
        }
    }
}

fn match_values(a: &[String], b: &[String]) -> Option<Vec<String>> {
    if a.len() != b.len() {
        return None;
    }
    let mut common = false;
    let mut res = Vec::with_capacity(a.len());
    for (x, y) in a.iter().zip(b) {
        if x == y {
            common = true;
            res.push(x.clone());
        } else if !x.is_empty() && !y.is_empty() {
            return None;
        } else if !x.is_empty() {
            res.push(x.clone());
        } else {
            res.push(y.clone());
        }
    }
    common.then_some(res)
}
