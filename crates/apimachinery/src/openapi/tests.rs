//! OpenAPI documents: what kubectl explain / apply / the field-validation check read.
use serde_json::json;

use super::*;

fn reg() -> Registry {
    let mut reg = Registry::builtin();
    reg.add_crd(
        &json!({"metadata": {"name": "widgets.example.com"}, "spec": {"group": "example.com",
        "scope": "Namespaced", "names": {"plural": "widgets", "kind": "Widget"},
        "versions": [{"name": "v1", "served": true, "storage": true, "subresources": {"status": {}},
            "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                "spec": {"type": "object", "properties": {"size": {"type": "integer"}}}}}}}]}}),
    )
    .expect("crd");
    reg
}

#[test]
fn v2_has_gvk_definitions_and_patch_metadata() {
    let doc = v2(&reg());
    assert_eq!(doc["swagger"], "2.0");
    let defs = &doc["definitions"];
    assert_eq!(
        defs["io.k8s.api.apps.v1.Deployment"]["x-kubernetes-group-version-kind"],
        json!([{"group": "apps", "kind": "Deployment", "version": "v1"}])
    );
    assert_eq!(
        defs["io.k8s.api.core.v1.PodSpec"]["properties"]["containers"]
            ["x-kubernetes-patch-merge-key"],
        "name"
    );
    assert_eq!(
        defs["com.example.v1.Widget"]["properties"]["spec"]["properties"]["size"]["type"],
        "integer"
    );
    assert!(defs["io.k8s.api.apps.v1.DeploymentList"].is_object());
    assert!(
        doc["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"]
            .is_object()
    );
}

#[test]
fn v3_index_and_group_version_documents() {
    let reg = reg();
    let idx = v3_paths(&reg);
    let url = idx["paths"]["apis/apps/v1"]["serverRelativeURL"]
        .as_str()
        .expect("url");
    assert!(url.starts_with("/openapi/v3/apis/apps/v1?hash="));
    assert!(idx["paths"]["api/v1"].is_object());
    assert!(idx["paths"]["apis/example.com/v1"].is_object());
    let doc = v3_group_version(&reg, "apps", "v1").expect("apps");
    assert_eq!(doc["openapi"], "3.0.0");
    let schemas = &doc["components"]["schemas"];
    assert!(
        schemas["io.k8s.api.core.v1.Container"].is_object(),
        "referenced definitions are included"
    );
    assert!(
        schemas.get("io.k8s.api.batch.v1.Job").is_none(),
        "other groups are not"
    );
    let meta = &schemas["io.k8s.api.apps.v1.Deployment"]["properties"]["metadata"];
    assert_eq!(
        meta["allOf"][0]["$ref"],
        "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
    );
    // kubectl's fieldValidation check: a PATCH operation with the GVK and the query parameter.
    let patch = &doc["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"];
    assert_eq!(
        patch["x-kubernetes-group-version-kind"],
        json!({"group": "apps", "version": "v1", "kind": "Deployment"})
    );
    assert!(patch["parameters"]
        .as_array()
        .expect("params")
        .iter()
        .any(|p| p["name"] == "fieldValidation" && p["in"] == "query"));
    assert!(patch["requestBody"]["content"]
        .get("application/strategic-merge-patch+json")
        .is_some());
    let w = v3_group_version(&reg, "example.com", "v1").expect("crd gv");
    let wpatch = &w["paths"]["/apis/example.com/v1/namespaces/{namespace}/widgets/{name}"]["patch"];
    assert!(wpatch["requestBody"]["content"]
        .get("application/strategic-merge-patch+json")
        .is_none());
    assert!(
        w["paths"]["/apis/example.com/v1/namespaces/{namespace}/widgets/{name}/status"].is_object()
    );
    assert_eq!(
        w["components"]["schemas"]["com.example.v1.Widget"]["x-kubernetes-group-version-kind"][0]
            ["kind"],
        "Widget"
    );
    assert!(v3_group_version(&reg, "nope.io", "v1").is_none());
}
