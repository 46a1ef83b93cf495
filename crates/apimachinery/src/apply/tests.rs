//! Server-side apply cases: field sets in FieldsV1, shared ownership, conflicts and force,
//! removal of fields a manager stopped applying, list-map merging.
use serde_json::{json, Value};

use super::*;

fn gvk() -> Gvk {
    Gvk::new("apps", "v1", "Deployment")
}

fn cfg(replicas: i64, containers: Value) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "labels": {"app": "web"}},
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}},
                              "spec": {"containers": containers}}}
    })
}

fn run(live: Option<&Value>, c: &Value, m: &str, force: bool) -> Result<Value, Error> {
    apply(live, c, m, force, &Registry::builtin(), &gvk())
}

fn fields_of<'a>(obj: &'a Value, manager: &str) -> &'a Value {
    obj["metadata"]["managedFields"]
        .as_array()
        .and_then(|a| a.iter().find(|e| e["manager"] == manager))
        .map(|e| &e["fieldsV1"])
        .unwrap_or(&Value::Null)
}

#[test]
fn create_records_fields_v1_like_kube_apiserver() {
    let obj = run(
        None,
        &cfg(2, json!([{"name": "nginx", "image": "nginx:1"}])),
        "kubectl",
        false,
    )
    .expect("apply");
    let mf = &obj["metadata"]["managedFields"][0];
    assert_eq!(mf["manager"], "kubectl");
    assert_eq!(mf["operation"], "Apply");
    assert_eq!(mf["apiVersion"], "apps/v1");
    assert_eq!(mf["fieldsType"], "FieldsV1");
    assert!(mf["time"].as_str().is_some_and(|t| t.ends_with('Z')));
    // The selector is an atomic struct; list items get `.`; struct fields do not.
    assert_eq!(
        mf["fieldsV1"],
        json!({
            "f:metadata": {"f:labels": {"f:app": {}}},
            "f:spec": {
                "f:replicas": {},
                "f:selector": {},
                "f:template": {
                    "f:metadata": {"f:labels": {"f:app": {}}},
                    "f:spec": {"f:containers": {"k:{\"name\":\"nginx\"}": {
                        ".": {}, "f:image": {}, "f:name": {}
                    }}}
                }
            }
        })
    );
}

#[test]
fn conflict_with_other_manager_and_force() {
    let live = run(
        None,
        &cfg(2, json!([{"name": "nginx", "image": "nginx:1"}])),
        "alice",
        false,
    )
    .expect("alice");
    // Same value: shared ownership, no conflict.
    let shared = run(Some(&live), &cfg(2, json!([])), "bob", false).expect("bob same value");
    assert!(fields_of(&shared, "bob")["f:spec"]["f:replicas"].is_object());
    assert!(fields_of(&shared, "alice")["f:spec"]["f:replicas"].is_object());
    // Different value: conflict naming alice and the path.
    let err = run(
        Some(&live),
        &cfg(3, json!([{"name": "nginx", "image": "nginx:2"}])),
        "bob",
        false,
    )
    .expect_err("conflict");
    let Error::Conflict { fields } = &err else {
        panic!("{err:?}")
    };
    assert!(fields.contains(&("\"alice\"".to_string(), ".spec.replicas".to_string())));
    assert!(fields.contains(&(
        "\"alice\"".to_string(),
        ".spec.template.spec.containers[name=\"nginx\"].image".to_string()
    )));
    assert!(err
        .to_string()
        .starts_with("Apply failed with 2 conflicts: conflicts with \"alice\":\n- "));
    // Forced: bob takes ownership, alice loses the fields.
    let forced = run(
        Some(&live),
        &cfg(3, json!([{"name": "nginx", "image": "nginx:2"}])),
        "bob",
        true,
    )
    .expect("force");
    assert_eq!(forced["spec"]["replicas"], 3);
    assert!(fields_of(&forced, "alice")["f:spec"]
        .get("f:replicas")
        .is_none());
    assert!(fields_of(&forced, "bob")["f:spec"]["f:replicas"].is_object());
}

#[test]
fn single_conflict_message_names_update_manager() {
    let mut live = cfg(2, json!([]));
    live["metadata"]["managedFields"] = json!([{
        "manager": "kubectl-edit", "operation": "Update", "apiVersion": "apps/v1",
        "time": "2024-01-02T03:04:05Z", "fieldsType": "FieldsV1",
        "fieldsV1": {"f:spec": {"f:replicas": {}}}
    }]);
    let err = run(Some(&live), &cfg(5, json!([])), "ci", false).expect_err("conflict");
    assert_eq!(
        err.to_string(),
        "Apply failed with 1 conflict: conflict with \"kubectl-edit\" using apps/v1 at 2024-01-02T03:04:05Z: .spec.replicas"
    );
}

#[test]
fn fields_no_longer_applied_are_removed_unless_owned_elsewhere() {
    let two = json!([{"name": "a", "image": "a"}, {"name": "b", "image": "b"}]);
    let mut c1 = cfg(1, two);
    c1["metadata"]["labels"]["extra"] = json!("x");
    let live = run(None, &c1, "me", false).expect("first");
    // Drop container b and label extra.
    let live2 = run(
        Some(&live),
        &cfg(1, json!([{"name": "a", "image": "a"}])),
        "me",
        false,
    )
    .expect("second");
    assert_eq!(
        live2["spec"]["template"]["spec"]["containers"],
        json!([{"name": "a", "image": "a"}])
    );
    assert!(live2["metadata"]["labels"].get("extra").is_none());
    // When another manager also owns the label, it stays.
    let mut other = json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "labels": {"extra": "x"}}});
    other["metadata"]["name"] = json!("web");
    let shared = run(Some(&live), &other, "them", false).expect("them");
    let live3 = run(
        Some(&shared),
        &cfg(1, json!([{"name": "a", "image": "a"}])),
        "me",
        false,
    )
    .expect("third");
    assert_eq!(live3["metadata"]["labels"]["extra"], "x");
}

#[test]
fn list_map_merge_keeps_other_managers_items() {
    let live = run(
        None,
        &cfg(1, json!([{"name": "a", "image": "a"}])),
        "one",
        false,
    )
    .expect("one");
    let mut c = cfg(1, json!([{"name": "b", "image": "b"}]));
    c["spec"].as_object_mut().map(|s| s.remove("replicas"));
    let both = run(Some(&live), &c, "two", false).expect("two");
    let names: Vec<&str> = both["spec"]["template"]["spec"]["containers"]
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|x| x["name"].as_str())
        .collect();
    assert_eq!(names, ["a", "b"]);
}

#[test]
fn update_tracking_takes_changed_fields() {
    let live = run(None, &cfg(1, json!([])), "applier", false).expect("apply");
    let mut edited = live.clone();
    edited["spec"]["replicas"] = json!(4);
    edited["metadata"]["labels"]["new"] = json!("y");
    track_update_typed(
        Some(&live),
        &mut edited,
        "kubectl-edit",
        "",
        &Registry::builtin(),
        &gvk(),
    );
    let edit = fields_of(&edited, "kubectl-edit");
    assert!(edit["f:spec"]["f:replicas"].is_object());
    assert!(edit["f:metadata"]["f:labels"]["f:new"].is_object());
    assert!(fields_of(&edited, "applier")["f:spec"]
        .get("f:replicas")
        .is_none());
    // Apply entries sort before Update entries.
    assert_eq!(edited["metadata"]["managedFields"][0]["operation"], "Apply");
    assert_eq!(
        edited["metadata"]["managedFields"][1]["operation"],
        "Update"
    );
}

#[test]
fn fields_v1_round_trip_with_dot() {
    let v = json!({"f:metadata": {"f:labels": {".": {}, "f:a": {}}}, "f:spec": {"f:x": {}}});
    let set = fieldset::from_fields_v1(&v);
    assert!(set.contains(&vec!["f:metadata".to_string(), "f:labels".to_string()]));
    assert_eq!(fieldset::to_fields_v1(&set), v);
}

#[test]
fn apply_refuses_managed_fields_and_missing_manager() {
    let mut c = cfg(1, json!([]));
    assert!(matches!(
        run(None, &c, "", false),
        Err(Error::BadRequest(_))
    ));
    c["metadata"]["managedFields"] = json!([]);
    assert!(matches!(
        run(None, &c, "m", false),
        Err(Error::BadRequest(_))
    ));
}

#[test]
fn untyped_track_update_uses_builtin_schema_and_creates_entries() {
    let mut created = cfg(1, json!([{"name": "a", "image": "a"}]));
    track_update(None, &mut created, "kubectl-create", "Update");
    let f = fields_of(&created, "kubectl-create");
    assert!(
        f["f:spec"]["f:template"]["f:spec"]["f:containers"]["k:{\"name\":\"a\"}"]["f:image"]
            .is_object()
    );
    assert!(
        f["f:metadata"].get("f:name").is_none(),
        "server-owned fields are not tracked"
    );
    assert_eq!(
        created["metadata"]["managedFields"][0]["operation"],
        "Update"
    );
    // `[]` from the client keeps the stored entries; `[{}]` strips them.
    let mut kept = created.clone();
    kept["metadata"]["managedFields"] = json!([]);
    kept["spec"]["replicas"] = json!(2);
    track_update(Some(&created), &mut kept, "kubectl-create", "Update");
    assert!(fields_of(&kept, "kubectl-create")["f:spec"]["f:template"].is_object());
    let mut reset = created.clone();
    reset["metadata"]["managedFields"] = json!([{}]);
    track_update(Some(&created), &mut reset, "kubectl-create", "Update");
    assert!(reset["metadata"].get("managedFields").is_none());
}

#[test]
fn descendants_are_found_whether_or_not_the_parent_is_a_member() {
    let p = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Path>();
    let set: FieldSet = [p(&["f:spec", "f:a", "f:b"]), p(&["f:spec", "f:c"])]
        .into_iter()
        .collect();
    assert!(fieldset::has_descendant(&set, &p(&["f:spec"])));
    assert!(fieldset::has_descendant(&set, &p(&["f:spec", "f:a"])));
    assert!(!fieldset::has_descendant(&set, &p(&["f:spec", "f:c"])));
    assert!(!fieldset::has_descendant(&set, &p(&["f:spec", "f:b"])));
}

#[test]
fn reapplying_the_same_configuration_changes_nothing() {
    let c = cfg(
        2,
        json!([{"name": "nginx", "image": "nginx:1", "ports": [{"containerPort": 80}]}]),
    );
    let first = run(None, &c, "kubectl", false).expect("first");
    let second = run(Some(&first), &c, "kubectl", false).expect("second");
    assert_eq!(
        first, second,
        "a no-op apply must not change the object (no new resourceVersion)"
    );
}
