//! The operations of a resource in OpenAPI form (v2 or v3): the collection, the object, the
//! all-namespaces list and the status/scale subresources, each operation carrying
//! `x-kubernetes-action` and `x-kubernetes-group-version-kind`, and the query parameters
//! kubectl checks for (`fieldValidation`, `dryRun`, `fieldManager`, `force`).
use serde_json::{json, Map, Value};

use crate::ResourceInfo;

/// Which OpenAPI version to write.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Flavor {
    V2,
    V3,
}

fn param(flavor: Flavor, name: &str, in_: &str, ty: &str, desc: &str) -> Value {
    match flavor {
        Flavor::V2 => {
            json!({"name": name, "in": in_, "type": ty, "uniqueItems": true, "description": desc})
        }
        Flavor::V3 => {
            json!({"name": name, "in": in_, "schema": {"type": ty, "uniqueItems": true}, "description": desc})
        }
    }
}

fn write_params(flavor: Flavor, patch: bool) -> Vec<Value> {
    let mut p = vec![
        param(flavor, "dryRun", "query", "string", "When present, indicates that modifications should not be persisted. Valid values are: - All: all dry run stages will be processed"),
        param(flavor, "fieldManager", "query", "string", "fieldManager is a name associated with the actor or entity that is making these changes."),
        param(flavor, "fieldValidation", "query", "string", "fieldValidation instructs the server on how to handle objects in the request (POST/PUT/PATCH) containing unknown or duplicate fields. Valid values are: - Ignore - Warn - Strict"),
    ];
    if patch {
        p.push(param(flavor, "force", "query", "boolean", "Force is going to \"force\" Apply requests. It means user will re-acquire conflicting fields owned by other people."));
    }
    p
}

fn list_params(flavor: Flavor) -> Vec<Value> {
    [
        ("allowWatchBookmarks", "boolean"),
        ("continue", "string"),
        ("fieldSelector", "string"),
        ("labelSelector", "string"),
        ("limit", "integer"),
        ("resourceVersion", "string"),
        ("resourceVersionMatch", "string"),
        ("sendInitialEvents", "boolean"),
        ("timeoutSeconds", "integer"),
        ("watch", "boolean"),
    ]
    .iter()
    .map(|(n, t)| param(flavor, n, "query", t, ""))
    .collect()
}

fn reference(flavor: Flavor, def: &str) -> Value {
    match flavor {
        Flavor::V2 => json!({"$ref": format!("#/definitions/{def}")}),
        Flavor::V3 => json!({"$ref": format!("#/components/schemas/{def}")}),
    }
}

fn response(flavor: Flavor, def: &str) -> Value {
    match flavor {
        Flavor::V2 => json!({"200": {"description": "OK", "schema": reference(flavor, def)}}),
        Flavor::V3 => json!({"200": {"description": "OK", "content": {
            "application/json": {"schema": reference(flavor, def)},
            "application/yaml": {"schema": reference(flavor, def)}}}}),
    }
}

fn body(flavor: Flavor, def: &str, patch_types: &[&str], params: &mut Vec<Value>) -> Option<Value> {
    match flavor {
        Flavor::V2 => {
            let schema = if patch_types.is_empty() {
                reference(flavor, def)
            } else {
                json!({"$ref": "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.Patch"})
            };
            params.insert(
                0,
                json!({"name": "body", "in": "body", "required": true, "schema": schema}),
            );
            None
        }
        Flavor::V3 => {
            let mut content = Map::new();
            if patch_types.is_empty() {
                content.insert("*/*".into(), json!({"schema": reference(flavor, def)}));
            } else {
                for t in patch_types {
                    content.insert((*t).into(), json!({"schema": {"type": "object"}}));
                }
            }
            Some(json!({"required": true, "content": content}))
        }
    }
}

fn op(
    info: &ResourceInfo,
    flavor: Flavor,
    action: &str,
    id: &str,
    def: &str,
    mut params: Vec<Value>,
    req: Option<(&str, &[&str])>,
) -> Value {
    let mut o = Map::new();
    o.insert(
        "description".into(),
        json!(format!("{action} {}", info.kind)),
    );
    o.insert("operationId".into(), json!(id));
    let mut rb = None;
    if let Some((rdef, patch_types)) = req {
        rb = body(flavor, rdef, patch_types, &mut params);
    }
    o.insert("parameters".into(), Value::Array(params));
    if let Some(b) = rb {
        o.insert("requestBody".into(), b);
    }
    o.insert("responses".into(), response(flavor, def));
    o.insert("x-kubernetes-action".into(), json!(action));
    o.insert(
        "x-kubernetes-group-version-kind".into(),
        json!({"group": info.group, "version": info.version, "kind": info.kind}),
    );
    Value::Object(o)
}

/// The paths of one resource.
pub(super) fn resource_paths(
    info: &ResourceInfo,
    def: &str,
    flavor: Flavor,
    out: &mut Map<String, Value>,
) {
    let prefix = if info.group.is_empty() {
        format!("/api/{}", info.version)
    } else {
        format!("/apis/{}/{}", info.group, info.version)
    };
    let base = if info.namespaced {
        format!("{prefix}/namespaces/{{namespace}}/{}", info.plural)
    } else {
        format!("{prefix}/{}", info.plural)
    };
    let id = format!("{}{}", info.kind, info.version);
    let verbs = |v: &str| info.verbs.iter().any(|x| x == v);
    let mut patch_types: Vec<&str> = vec![
        "application/apply-patch+yaml",
        "application/json-patch+json",
        "application/merge-patch+json",
    ];
    if !info.custom {
        patch_types.push("application/strategic-merge-patch+json");
    }
    let common = |named: bool| {
        let mut p = Vec::new();
        if named {
            p.push(param(
                flavor,
                "name",
                "path",
                "string",
                &format!("name of the {}", info.kind),
            ));
        }
        if info.namespaced {
            p.push(param(
                flavor,
                "namespace",
                "path",
                "string",
                "object name and auth scope, such as for teams and projects",
            ));
        }
        p.push(param(
            flavor,
            "pretty",
            "query",
            "string",
            "If 'true', then the output is pretty printed.",
        ));
        Value::Array(p)
    };
    let list_def = format!("{def}List");
    let mut coll = Map::new();
    coll.insert("parameters".into(), common(false));
    if verbs("list") {
        coll.insert(
            "get".into(),
            op(
                info,
                flavor,
                "list",
                &format!("list{id}"),
                &list_def,
                list_params(flavor),
                None,
            ),
        );
    }
    if verbs("create") {
        coll.insert(
            "post".into(),
            op(
                info,
                flavor,
                "post",
                &format!("create{id}"),
                def,
                write_params(flavor, false),
                Some((def, &[])),
            ),
        );
    }
    if verbs("deletecollection") {
        coll.insert(
            "delete".into(),
            op(
                info,
                flavor,
                "deletecollection",
                &format!("deletecollection{id}"),
                "io.k8s.apimachinery.pkg.apis.meta.v1.Status",
                list_params(flavor),
                None,
            ),
        );
    }
    out.insert(base.clone(), Value::Object(coll));
    let mut item = Map::new();
    item.insert("parameters".into(), common(true));
    if verbs("get") {
        item.insert(
            "get".into(),
            op(
                info,
                flavor,
                "get",
                &format!("read{id}"),
                def,
                Vec::new(),
                None,
            ),
        );
    }
    if verbs("update") {
        item.insert(
            "put".into(),
            op(
                info,
                flavor,
                "put",
                &format!("replace{id}"),
                def,
                write_params(flavor, false),
                Some((def, &[])),
            ),
        );
    }
    if verbs("patch") {
        item.insert(
            "patch".into(),
            op(
                info,
                flavor,
                "patch",
                &format!("patch{id}"),
                def,
                write_params(flavor, true),
                Some((def, &patch_types)),
            ),
        );
    }
    if verbs("delete") {
        item.insert(
            "delete".into(),
            op(
                info,
                flavor,
                "delete",
                &format!("delete{id}"),
                "io.k8s.apimachinery.pkg.apis.meta.v1.Status",
                vec![
                    param(flavor, "dryRun", "query", "string", ""),
                    param(flavor, "propagationPolicy", "query", "string", ""),
                ],
                None,
            ),
        );
    }
    out.insert(format!("{base}/{{name}}"), Value::Object(item));
    if info.subresources.status {
        let mut st = Map::new();
        st.insert("parameters".into(), common(true));
        st.insert(
            "get".into(),
            op(
                info,
                flavor,
                "get",
                &format!("read{id}Status"),
                def,
                Vec::new(),
                None,
            ),
        );
        st.insert(
            "put".into(),
            op(
                info,
                flavor,
                "put",
                &format!("replace{id}Status"),
                def,
                write_params(flavor, false),
                Some((def, &[])),
            ),
        );
        st.insert(
            "patch".into(),
            op(
                info,
                flavor,
                "patch",
                &format!("patch{id}Status"),
                def,
                write_params(flavor, true),
                Some((def, &patch_types)),
            ),
        );
        out.insert(format!("{base}/{{name}}/status"), Value::Object(st));
    }
    if info.subresources.scale.is_some() {
        let scale = "io.k8s.api.autoscaling.v1.Scale";
        let mut sc = Map::new();
        sc.insert("parameters".into(), common(true));
        sc.insert(
            "get".into(),
            op(
                info,
                flavor,
                "get",
                &format!("read{id}Scale"),
                scale,
                Vec::new(),
                None,
            ),
        );
        sc.insert(
            "put".into(),
            op(
                info,
                flavor,
                "put",
                &format!("replace{id}Scale"),
                scale,
                write_params(flavor, false),
                Some((scale, &[])),
            ),
        );
        out.insert(format!("{base}/{{name}}/scale"), Value::Object(sc));
    }
    if info.namespaced && verbs("list") {
        let mut all = Map::new();
        all.insert(
            "parameters".into(),
            Value::Array(vec![param(flavor, "pretty", "query", "string", "")]),
        );
        all.insert(
            "get".into(),
            op(
                info,
                flavor,
                "list",
                &format!("list{id}ForAllNamespaces"),
                &list_def,
                list_params(flavor),
                None,
            ),
        );
        out.insert(format!("{prefix}/{}", info.plural), Value::Object(all));
    }
}
