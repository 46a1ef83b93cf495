use super::*;
use crate::resource::Resource;
use serde_json::Value;

fn res_map(json: &str) -> ResMap {
    let vals: Vec<Value> = serde_json::from_str(json).unwrap();
    vals.into_iter()
        .map(|v| match v {
            Value::Object(m) => Resource::new(m),
            _ => panic!("not an object"),
        })
        .collect()
}

/// Every expected object must equal the resource of the same kind, name and namespace.
fn assert_all(rm: &ResMap, expected: &str) {
    let exp: Vec<Value> = serde_json::from_str(expected).unwrap();
    assert_eq!(rm.len(), exp.len(), "resource count");
    for e in exp {
        let kind = e["kind"].as_str().unwrap();
        let name = e["metadata"]["name"].as_str().unwrap();
        let ns = e["metadata"]["namespace"].as_str();
        let got = rm
            .iter()
            .find(|r| r.kind() == kind && r.name() == name && r.namespace() == ns)
            .unwrap_or_else(|| panic!("no {kind} {name}"));
        assert_eq!(Value::Object(got.obj.clone()), e, "{kind} {name}");
    }
}

fn cfg() -> TransformerConfig {
    TransformerConfig::builtin()
}

#[test]
fn namespace_prefix_suffix_references_from_many_kinds() {
    // Oracle: /tmp/ko/nr — kustomization {namespace: ns1, namePrefix: p-, nameSuffix: -s} over
    // ConfigMap, Secret, ServiceAccount, PVC, PV, StorageClass, PriorityClass, Service, Role,
    // ClusterRole, Deployment, StatefulSet, CronJob, HPA, Ingress, RoleBinding,
    // ClusterRoleBinding, MutatingWebhookConfiguration and Pod referring to each other; the
    // expected objects are `kubectl kustomize` output converted to JSON.
    let mut rm = res_map(
        r#"[{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cm"}},{"apiVersion":"v1","kind":"Secret","metadata":{"name":"sec"}},{"apiVersion":"v1","kind":"ServiceAccount","metadata":{"name":"sa"}},{"apiVersion":"v1","kind":"PersistentVolumeClaim","metadata":{"name":"pvc"},"spec":{"storageClassName":"sc","volumeName":"pv"}},{"apiVersion":"v1","kind":"PersistentVolume","metadata":{"name":"pv"},"spec":{"storageClassName":"sc"}},{"apiVersion":"storage.k8s.io/v1","kind":"StorageClass","metadata":{"name":"sc"}},{"apiVersion":"scheduling.k8s.io/v1","kind":"PriorityClass","metadata":{"name":"pc"}},{"apiVersion":"v1","kind":"Service","metadata":{"name":"svc"}},{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"Role","metadata":{"name":"role"}},{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRole","metadata":{"name":"crole"},"rules":[{"resources":["configmaps"],"resourceNames":["cm","other"]}]},{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d"},"spec":{"template":{"spec":{"serviceAccountName":"sa","priorityClassName":"pc","imagePullSecrets":[{"name":"sec"}],"initContainers":[{"name":"i","envFrom":[{"configMapRef":{"name":"cm"}}]}],"containers":[{"name":"c","env":[{"name":"A","valueFrom":{"configMapKeyRef":{"name":"cm","key":"k"}}},{"name":"B","valueFrom":{"secretKeyRef":{"name":"sec","key":"k"}}},{"name":"C","valueFrom":{"configMapKeyRef":{"name":"missing","key":"k"}}}],"envFrom":[{"secretRef":{"name":"sec"}}]}],"volumes":[{"name":"v1","configMap":{"name":"cm"}},{"name":"v2","secret":{"secretName":"sec"}},{"name":"v3","persistentVolumeClaim":{"claimName":"pvc"}},{"name":"v4","projected":{"sources":[{"configMap":{"name":"cm"}},{"secret":{"name":"sec"}}]}}]}}}},{"apiVersion":"apps/v1","kind":"StatefulSet","metadata":{"name":"ss"},"spec":{"serviceName":"svc","volumeClaimTemplates":[{"metadata":{"name":"data"},"spec":{"storageClassName":"sc"}}]}},{"apiVersion":"batch/v1","kind":"CronJob","metadata":{"name":"cj"},"spec":{"jobTemplate":{"spec":{"template":{"spec":{"serviceAccountName":"sa","containers":[{"name":"c","envFrom":[{"configMapRef":{"name":"cm"}}]}]}}}}}},{"apiVersion":"autoscaling/v2","kind":"HorizontalPodAutoscaler","metadata":{"name":"hpa"},"spec":{"scaleTargetRef":{"apiVersion":"apps/v1","kind":"Deployment","name":"d"}}},{"apiVersion":"networking.k8s.io/v1","kind":"Ingress","metadata":{"name":"ing","annotations":{"nginx.ingress.kubernetes.io/auth-secret":"sec"}},"spec":{"tls":[{"secretName":"sec"}],"defaultBackend":{"service":{"name":"svc"}},"rules":[{"http":{"paths":[{"backend":{"service":{"name":"svc"}}},{"backend":{"serviceName":"svc"}}]}}]}},{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"RoleBinding","metadata":{"name":"rb"},"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"Role","name":"role"},"subjects":[{"kind":"ServiceAccount","name":"sa"}]},{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRoleBinding","metadata":{"name":"crb"},"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"crole"},"subjects":[{"kind":"ServiceAccount","name":"sa","namespace":"elsewhere"},{"kind":"ServiceAccount","name":"sa"}]},{"apiVersion":"admissionregistration.k8s.io/v1","kind":"MutatingWebhookConfiguration","metadata":{"name":"mwc"},"webhooks":[{"name":"w","clientConfig":{"service":{"name":"svc","namespace":"default"}}}]},{"apiVersion":"v1","kind":"Pod","metadata":{"name":"pod"},"spec":{"serviceAccountName":"sa","volumes":[{"name":"v","configMap":{"name":"cm"}}]}}]"#,
    );
    crate::transform::namespace::apply(&mut rm, "ns1", &cfg()).unwrap();
    crate::transform::prefix_suffix::apply(&mut rm, "p-", "-s", &cfg()).unwrap();
    fix_back_references(&mut rm, &cfg()).unwrap();
    assert_all(
        &rm,
        r#"[{"apiVersion":"storage.k8s.io/v1","kind":"StorageClass","metadata":{"name":"p-sc-s"}},{"apiVersion":"v1","kind":"ServiceAccount","metadata":{"name":"p-sa-s","namespace":"ns1"}},{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"Role","metadata":{"name":"p-role-s","namespace":"ns1"}},{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRole","metadata":{"name":"p-crole-s"},"rules":[{"resourceNames":["p-cm-s","other"],"resources":["configmaps"]}]},{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"RoleBinding","metadata":{"name":"p-rb-s","namespace":"ns1"},"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"Role","name":"p-role-s"},"subjects":[{"kind":"ServiceAccount","name":"p-sa-s","namespace":"ns1"}]},{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRoleBinding","metadata":{"name":"p-crb-s"},"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"p-crole-s"},"subjects":[{"kind":"ServiceAccount","name":"sa","namespace":"elsewhere"},{"kind":"ServiceAccount","name":"p-sa-s","namespace":"ns1"}]},{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"p-cm-s","namespace":"ns1"}},{"apiVersion":"v1","kind":"Secret","metadata":{"name":"p-sec-s","namespace":"ns1"}},{"apiVersion":"v1","kind":"Service","metadata":{"name":"p-svc-s","namespace":"ns1"}},{"apiVersion":"scheduling.k8s.io/v1","kind":"PriorityClass","metadata":{"name":"p-pc-s"}},{"apiVersion":"v1","kind":"PersistentVolume","metadata":{"name":"p-pv-s"},"spec":{"storageClassName":"p-sc-s"}},{"apiVersion":"v1","kind":"PersistentVolumeClaim","metadata":{"name":"p-pvc-s","namespace":"ns1"},"spec":{"storageClassName":"p-sc-s","volumeName":"p-pv-s"}},{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"p-d-s","namespace":"ns1"},"spec":{"template":{"spec":{"containers":[{"env":[{"name":"A","valueFrom":{"configMapKeyRef":{"key":"k","name":"p-cm-s"}}},{"name":"B","valueFrom":{"secretKeyRef":{"key":"k","name":"p-sec-s"}}},{"name":"C","valueFrom":{"configMapKeyRef":{"key":"k","name":"missing"}}}],"envFrom":[{"secretRef":{"name":"p-sec-s"}}],"name":"c"}],"imagePullSecrets":[{"name":"p-sec-s"}],"initContainers":[{"envFrom":[{"configMapRef":{"name":"p-cm-s"}}],"name":"i"}],"priorityClassName":"p-pc-s","serviceAccountName":"p-sa-s","volumes":[{"configMap":{"name":"p-cm-s"},"name":"v1"},{"name":"v2","secret":{"secretName":"p-sec-s"}},{"name":"v3","persistentVolumeClaim":{"claimName":"p-pvc-s"}},{"name":"v4","projected":{"sources":[{"configMap":{"name":"p-cm-s"}},{"secret":{"name":"p-sec-s"}}]}}]}}}},{"apiVersion":"apps/v1","kind":"StatefulSet","metadata":{"name":"p-ss-s","namespace":"ns1"},"spec":{"serviceName":"p-svc-s","volumeClaimTemplates":[{"metadata":{"name":"data"},"spec":{"storageClassName":"p-sc-s"}}]}},{"apiVersion":"batch/v1","kind":"CronJob","metadata":{"name":"p-cj-s","namespace":"ns1"},"spec":{"jobTemplate":{"spec":{"template":{"spec":{"containers":[{"envFrom":[{"configMapRef":{"name":"p-cm-s"}}],"name":"c"}],"serviceAccountName":"p-sa-s"}}}}}},{"apiVersion":"autoscaling/v2","kind":"HorizontalPodAutoscaler","metadata":{"name":"p-hpa-s","namespace":"ns1"},"spec":{"scaleTargetRef":{"apiVersion":"apps/v1","kind":"Deployment","name":"p-d-s"}}},{"apiVersion":"networking.k8s.io/v1","kind":"Ingress","metadata":{"annotations":{"nginx.ingress.kubernetes.io/auth-secret":"p-sec-s"},"name":"p-ing-s","namespace":"ns1"},"spec":{"defaultBackend":{"service":{"name":"p-svc-s"}},"rules":[{"http":{"paths":[{"backend":{"service":{"name":"p-svc-s"}}},{"backend":{"serviceName":"p-svc-s"}}]}}],"tls":[{"secretName":"p-sec-s"}]}},{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p-pod-s","namespace":"ns1"},"spec":{"serviceAccountName":"p-sa-s","volumes":[{"configMap":{"name":"p-cm-s"},"name":"v"}]}},{"apiVersion":"admissionregistration.k8s.io/v1","kind":"MutatingWebhookConfiguration","metadata":{"name":"p-mwc-s"},"webhooks":[{"clientConfig":{"service":{"name":"p-svc-s","namespace":"ns1"}},"name":"w"}]}]"#,
    );
}

#[test]
fn rolebinding_reaches_service_accounts_in_subject_namespaces() {
    // Oracle: /tmp/ko/nrD — namePrefix p- over SAs `sa` in ns2 and ns3, a RoleBinding in ns1
    // naming both (with namespaces), ClusterRole view, ConfigMap cm in ns2 and a Deployment in
    // ns1 using `sa` and `cm`: the subjects become p-sa, roleRef p-view, but the Deployment's
    // references stay (other namespaces are out of its reach).
    let mut rm = res_map(
        r#"[{"apiVersion":"v1","kind":"ServiceAccount","metadata":{"name":"sa","namespace":"ns2"}},{"apiVersion":"v1","kind":"ServiceAccount","metadata":{"name":"sa","namespace":"ns3"}},{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"RoleBinding","metadata":{"name":"rb","namespace":"ns1"},"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"view"},"subjects":[{"kind":"ServiceAccount","name":"sa","namespace":"ns2"},{"kind":"ServiceAccount","name":"sa","namespace":"ns3"}]},{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRole","metadata":{"name":"view"}},{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cm","namespace":"ns2"}},{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d","namespace":"ns1"},"spec":{"template":{"spec":{"serviceAccountName":"sa","volumes":[{"name":"v","configMap":{"name":"cm"}}]}}}}]"#,
    );
    crate::transform::prefix_suffix::apply(&mut rm, "p-", "", &cfg()).unwrap();
    fix_back_references(&mut rm, &cfg()).unwrap();
    assert_all(
        &rm,
        r#"[{"apiVersion":"v1","kind":"ServiceAccount","metadata":{"name":"p-sa","namespace":"ns2"}},{"apiVersion":"v1","kind":"ServiceAccount","metadata":{"name":"p-sa","namespace":"ns3"}},{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRole","metadata":{"name":"p-view"}},{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"RoleBinding","metadata":{"name":"p-rb","namespace":"ns1"},"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"p-view"},"subjects":[{"kind":"ServiceAccount","name":"p-sa","namespace":"ns2"},{"kind":"ServiceAccount","name":"p-sa","namespace":"ns3"}]},{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"p-cm","namespace":"ns2"}},{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"p-d","namespace":"ns1"},"spec":{"template":{"spec":{"serviceAccountName":"sa","volumes":[{"configMap":{"name":"cm"},"name":"v"}]}}}}]"#,
    );
}

fn base(docs: &str, namespace: &str, prefix: &str, suffix: &str) -> ResMap {
    let mut rm = res_map(docs);
    crate::transform::namespace::apply(&mut rm, namespace, &cfg()).unwrap();
    crate::transform::prefix_suffix::apply(&mut rm, prefix, suffix, &cfg()).unwrap();
    rm
}

#[test]
fn prefixes_pick_the_referral_from_the_same_base() {
    // Oracle: /tmp/ko/nrC — bases base1 (namePrefix a-) and base2 (namePrefix b-) each with
    // ConfigMap cm and Deployment d mounting cm, combined under namespace top: a-d mounts
    // a-cm and b-d mounts b-cm.
    let docs = r#"[{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm"}, "data": {"k": "v"}},{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"}, "spec": {"template": {"spec": {"volumes": [{"name": "v", "configMap": {"name": "cm"}}]}}}}]"#;
    let mut rm = base(docs, "", "a-", "");
    rm.append_all(base(docs, "", "b-", "")).unwrap();
    crate::transform::namespace::apply(&mut rm, "top", &cfg()).unwrap();
    fix_back_references(&mut rm, &cfg()).unwrap();
    let vol = |name: &str| {
        let r = rm.iter().find(|r| r.name() == name).unwrap();
        Value::Object(r.obj.clone())["spec"]["template"]["spec"]["volumes"][0]["configMap"]["name"]
            .clone()
    };
    assert_eq!(vol("a-d"), Value::from("a-cm"));
    assert_eq!(vol("b-d"), Value::from("b-cm"));
}

#[test]
fn different_names_with_matching_affixes_are_ambiguous() {
    // Oracle: /tmp/ko/nrB — base1 {namespace: a, nameSuffix: -1} and base2 {namespace: b,
    // nameSuffix: -2} each with ConfigMap cm, plus a ClusterRole with resourceNames [cm],
    // all under nameSuffix -x: kubectl kustomize fails with "found multiple possible
    // referrals: ConfigMap.v1.[noGrp]/cm-1-x.a, ConfigMap.v1.[noGrp]/cm-2-x.b".
    let docs = r#"[{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm"}, "data": {"k": "v"}}]"#;
    let mut rm = base(docs, "a", "", "-1");
    rm.append_all(base(docs, "b", "", "-2")).unwrap();
    rm.append_all(res_map(
        r#"[{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRole","metadata":{"name":"cr"},"rules":[{"resourceNames":["cm"]}]}]"#,
    ))
    .unwrap();
    crate::transform::prefix_suffix::apply(&mut rm, "", "-x", &cfg()).unwrap();
    let e = fix_back_references(&mut rm, &cfg())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("found multiple possible referrals: ConfigMap.v1.[noGrp]/cm-1-x.a, ConfigMap.v1.[noGrp]/cm-2-x.b"),
        "{e}"
    );
    assert!(
        e.contains("ClusterRole.v1.rbac.authorization.k8s.io/cr-x.[noNs]"),
        "{e}"
    );
}
