//! Strategic-merge metadata of the built-in Kubernetes kinds.
//!
//! kustomize v5.5.0 (kyaml) reads `x-kubernetes-patch-strategy`,
//! `x-kubernetes-patch-merge-key` and `x-kubernetes-list-map-keys` from the
//! Kubernetes **1.21.2** OpenAPI document it embeds, looked up by the exact
//! `apiVersion`/`kind` of the resource.  Only list fields whose strategy
//! contains `merge` are merged element-wise; every other list (including every
//! list of a kind without schema, e.g. a custom resource) is replaced by the
//! patch's list.  kyaml does not infer merge keys for schema-less lists.
//!
//! The table below therefore only records the paths that lead to a mergeable
//! list; a field absent from the table behaves exactly like a schema field
//! without patch metadata.  When multiple list-map-keys exist they are used as
//! the merge keys (e.g. container ports: `containerPort` + `protocol`).
//!
//! A [`Schema::Custom`] node comes from a kustomization's `openapi:` schema
//! (see [`super::custom`]), which replaces this table for the build.

use serde_json::{Map, Value};

use super::custom::{self, CustomSchema};

/// A struct type: its fields that lead to mergeable lists.
pub(crate) struct TypeDef {
    pub fields: &'static [(&'static str, Schema<'static>)],
}

/// Schema of one node: from the built-in table, or from a custom schema.
#[derive(Clone, Copy)]
pub(crate) enum Schema<'a> {
    /// A struct (map) with the listed interesting fields.
    Struct(&'static TypeDef),
    /// A list with a patch strategy, its merge keys and its element type.
    List {
        strategy: &'static str,
        keys: &'static [&'static str],
        elem: &'static TypeDef,
    },
    /// A node of a custom OpenAPI schema.
    Custom(&'a CustomSchema, &'a Map<String, Value>),
}

impl<'a> Schema<'a> {
    /// Schema of field `name` of a struct (`ResourceSchema.Field`).
    pub(crate) fn field(self, name: &str) -> Option<Schema<'a>> {
        match self {
            Schema::Struct(t) => t.fields.iter().find(|(n, _)| *n == name).map(|(_, s)| *s),
            Schema::List { .. } => None,
            Schema::Custom(root, node) => root.field(node, name).map(|n| Schema::Custom(root, n)),
        }
    }

    /// Schema of the elements of a list (`ResourceSchema.Elements`).
    pub(crate) fn elements(self) -> Option<Schema<'a>> {
        match self {
            Schema::List { elem, .. } => Some(Schema::Struct(elem)),
            Schema::Struct(_) => None,
            Schema::Custom(root, node) => root.elements(node).map(|n| Schema::Custom(root, n)),
        }
    }

    /// `PatchStrategyAndKeyList`: strategy and merge keys.
    pub(crate) fn strategy_and_keys(self) -> (String, Vec<String>) {
        match self {
            Schema::List { strategy, keys, .. } => (
                strategy.to_string(),
                keys.iter().map(|k| k.to_string()).collect(),
            ),
            Schema::Struct(_) => (String::new(), Vec::new()),
            Schema::Custom(_, node) => custom::strategy_and_keys(node),
        }
    }

    /// Whether a list with this schema is merged element-wise.
    pub(crate) fn is_associative(self) -> bool {
        self.strategy_and_keys().0.split(',').any(|s| s == "merge")
    }
}

const fn merge(keys: &'static [&'static str], elem: &'static TypeDef) -> Schema<'static> {
    Schema::List {
        strategy: "merge",
        keys,
        elem,
    }
}

static EMPTY: TypeDef = TypeDef { fields: &[] };

static OBJECT_META: TypeDef = TypeDef {
    fields: &[
        ("finalizers", merge(&[], &EMPTY)),
        ("ownerReferences", merge(&["uid"], &EMPTY)),
    ],
};

static CONTAINER: TypeDef = TypeDef {
    fields: &[
        ("ports", merge(&["containerPort", "protocol"], &EMPTY)),
        ("env", merge(&["name"], &EMPTY)),
        ("volumeMounts", merge(&["mountPath"], &EMPTY)),
        ("volumeDevices", merge(&["devicePath"], &EMPTY)),
    ],
};

/// Ephemeral containers had no patch metadata on `ports` in 1.21.
static EPHEMERAL_CONTAINER: TypeDef = TypeDef {
    fields: &[
        ("env", merge(&["name"], &EMPTY)),
        ("volumeMounts", merge(&["mountPath"], &EMPTY)),
        ("volumeDevices", merge(&["devicePath"], &EMPTY)),
    ],
};

static POD_SPEC: TypeDef = TypeDef {
    fields: &[
        (
            "volumes",
            Schema::List {
                strategy: "merge,retainKeys",
                keys: &["name"],
                elem: &EMPTY,
            },
        ),
        ("initContainers", merge(&["name"], &CONTAINER)),
        ("containers", merge(&["name"], &CONTAINER)),
        (
            "ephemeralContainers",
            merge(&["name"], &EPHEMERAL_CONTAINER),
        ),
        ("imagePullSecrets", merge(&["name"], &EMPTY)),
        ("hostAliases", merge(&["ip"], &EMPTY)),
        (
            "topologySpreadConstraints",
            merge(&["topologyKey", "whenUnsatisfiable"], &EMPTY),
        ),
    ],
};

static CONDITIONS: Schema<'static> = merge(&["type"], &EMPTY);

static STATUS_CONDITIONS: TypeDef = TypeDef {
    fields: &[("conditions", CONDITIONS)],
};

static POD_STATUS: TypeDef = TypeDef {
    fields: &[
        ("conditions", CONDITIONS),
        ("podIPs", merge(&["ip"], &EMPTY)),
    ],
};

static POD_TEMPLATE_SPEC: TypeDef = TypeDef {
    fields: &[
        ("metadata", Schema::Struct(&OBJECT_META)),
        ("spec", Schema::Struct(&POD_SPEC)),
    ],
};

static TEMPLATE_HOLDER: TypeDef = TypeDef {
    fields: &[("template", Schema::Struct(&POD_TEMPLATE_SPEC))],
};

static JOB_TEMPLATE_SPEC: TypeDef = TypeDef {
    fields: &[
        ("metadata", Schema::Struct(&OBJECT_META)),
        ("spec", Schema::Struct(&TEMPLATE_HOLDER)),
    ],
};

static CRONJOB_SPEC: TypeDef = TypeDef {
    fields: &[("jobTemplate", Schema::Struct(&JOB_TEMPLATE_SPEC))],
};

static SERVICE_SPEC: TypeDef = TypeDef {
    fields: &[("ports", merge(&["port", "protocol"], &EMPTY))],
};

static NODE_SPEC: TypeDef = TypeDef {
    fields: &[("podCIDRs", merge(&[], &EMPTY))],
};

static NODE_STATUS: TypeDef = TypeDef {
    fields: &[
        ("conditions", CONDITIONS),
        ("addresses", merge(&["type"], &EMPTY)),
    ],
};

macro_rules! root {
    ($name:ident, $($field:literal => $schema:expr),* $(,)?) => {
        static $name: TypeDef = TypeDef {
            fields: &[("metadata", Schema::Struct(&OBJECT_META)) $(, ($field, $schema))*],
        };
    };
}

root!(META_ONLY,);
root!(POD, "spec" => Schema::Struct(&POD_SPEC), "status" => Schema::Struct(&POD_STATUS));
root!(POD_TEMPLATE, "template" => Schema::Struct(&POD_TEMPLATE_SPEC));
root!(WORKLOAD, "spec" => Schema::Struct(&TEMPLATE_HOLDER), "status" => Schema::Struct(&STATUS_CONDITIONS));
root!(CRONJOB, "spec" => Schema::Struct(&CRONJOB_SPEC));
root!(SERVICE, "spec" => Schema::Struct(&SERVICE_SPEC));
root!(SERVICE_ACCOUNT, "secrets" => merge(&["name"], &EMPTY));
root!(NODE, "spec" => Schema::Struct(&NODE_SPEC), "status" => Schema::Struct(&NODE_STATUS));
root!(WITH_STATUS_CONDITIONS, "status" => Schema::Struct(&STATUS_CONDITIONS));
root!(COMPONENT_STATUS, "conditions" => CONDITIONS);
root!(WEBHOOKS, "webhooks" => merge(&["name"], &EMPTY));

/// `(apiVersion, kinds, root type)` of every group-version in the 1.21.2 schema.
static KINDS: &[(&str, &[&str], &TypeDef)] = &[
    ("v1", &["Pod"], &POD),
    ("v1", &["PodTemplate"], &POD_TEMPLATE),
    ("v1", &["ReplicationController"], &WORKLOAD),
    ("v1", &["Service"], &SERVICE),
    ("v1", &["ServiceAccount"], &SERVICE_ACCOUNT),
    ("v1", &["Node"], &NODE),
    (
        "v1",
        &["Namespace", "PersistentVolumeClaim"],
        &WITH_STATUS_CONDITIONS,
    ),
    ("v1", &["ComponentStatus"], &COMPONENT_STATUS),
    (
        "v1",
        &[
            "Binding",
            "ConfigMap",
            "Endpoints",
            "Event",
            "LimitRange",
            "PersistentVolume",
            "ResourceQuota",
            "Secret",
        ],
        &META_ONLY,
    ),
    (
        "apps/v1",
        &["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"],
        &WORKLOAD,
    ),
    ("apps/v1", &["ControllerRevision"], &META_ONLY),
    ("batch/v1", &["Job"], &WORKLOAD),
    ("batch/v1", &["CronJob"], &CRONJOB),
    ("batch/v1beta1", &["CronJob"], &CRONJOB),
    (
        "admissionregistration.k8s.io/v1",
        &[
            "MutatingWebhookConfiguration",
            "ValidatingWebhookConfiguration",
        ],
        &WEBHOOKS,
    ),
    (
        "admissionregistration.k8s.io/v1beta1",
        &[
            "MutatingWebhookConfiguration",
            "ValidatingWebhookConfiguration",
        ],
        &WEBHOOKS,
    ),
    (
        "policy/v1",
        &["PodDisruptionBudget"],
        &WITH_STATUS_CONDITIONS,
    ),
    (
        "policy/v1beta1",
        &["PodDisruptionBudget"],
        &WITH_STATUS_CONDITIONS,
    ),
    ("policy/v1beta1", &["PodSecurityPolicy"], &META_ONLY),
    (
        "rbac.authorization.k8s.io/v1",
        &["ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"],
        &META_ONLY,
    ),
    (
        "rbac.authorization.k8s.io/v1beta1",
        &["ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"],
        &META_ONLY,
    ),
    (
        "rbac.authorization.k8s.io/v1alpha1",
        &["ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"],
        &META_ONLY,
    ),
    (
        "apiextensions.k8s.io/v1",
        &["CustomResourceDefinition"],
        &META_ONLY,
    ),
    (
        "apiextensions.k8s.io/v1beta1",
        &["CustomResourceDefinition"],
        &META_ONLY,
    ),
    ("apiregistration.k8s.io/v1", &["APIService"], &META_ONLY),
    (
        "apiregistration.k8s.io/v1beta1",
        &["APIService"],
        &META_ONLY,
    ),
    ("autoscaling/v1", &["HorizontalPodAutoscaler"], &META_ONLY),
    (
        "autoscaling/v2beta1",
        &["HorizontalPodAutoscaler"],
        &META_ONLY,
    ),
    (
        "autoscaling/v2beta2",
        &["HorizontalPodAutoscaler"],
        &META_ONLY,
    ),
    (
        "certificates.k8s.io/v1",
        &["CertificateSigningRequest"],
        &META_ONLY,
    ),
    (
        "certificates.k8s.io/v1beta1",
        &["CertificateSigningRequest"],
        &META_ONLY,
    ),
    ("coordination.k8s.io/v1", &["Lease"], &META_ONLY),
    ("coordination.k8s.io/v1beta1", &["Lease"], &META_ONLY),
    ("discovery.k8s.io/v1", &["EndpointSlice"], &META_ONLY),
    ("discovery.k8s.io/v1beta1", &["EndpointSlice"], &META_ONLY),
    ("events.k8s.io/v1", &["Event"], &META_ONLY),
    ("events.k8s.io/v1beta1", &["Event"], &META_ONLY),
    ("extensions/v1beta1", &["Ingress"], &META_ONLY),
    (
        "networking.k8s.io/v1",
        &["Ingress", "IngressClass", "NetworkPolicy"],
        &META_ONLY,
    ),
    (
        "networking.k8s.io/v1beta1",
        &["Ingress", "IngressClass"],
        &META_ONLY,
    ),
    ("node.k8s.io/v1", &["RuntimeClass"], &META_ONLY),
    ("node.k8s.io/v1beta1", &["RuntimeClass"], &META_ONLY),
    ("scheduling.k8s.io/v1", &["PriorityClass"], &META_ONLY),
    ("scheduling.k8s.io/v1beta1", &["PriorityClass"], &META_ONLY),
    ("scheduling.k8s.io/v1alpha1", &["PriorityClass"], &META_ONLY),
    (
        "storage.k8s.io/v1",
        &["CSIDriver", "CSINode", "StorageClass", "VolumeAttachment"],
        &META_ONLY,
    ),
    (
        "storage.k8s.io/v1beta1",
        &[
            "CSIDriver",
            "CSINode",
            "CSIStorageCapacity",
            "StorageClass",
            "VolumeAttachment",
        ],
        &META_ONLY,
    ),
    (
        "storage.k8s.io/v1alpha1",
        &["CSIStorageCapacity", "VolumeAttachment"],
        &META_ONLY,
    ),
    (
        "flowcontrol.apiserver.k8s.io/v1beta1",
        &["FlowSchema", "PriorityLevelConfiguration"],
        &META_ONLY,
    ),
];

/// Root schema of a resource type, if the embedded 1.21.2 schema knows it.
pub(crate) fn for_resource(api_version: &str, kind: &str) -> Option<Schema<'static>> {
    KINDS
        .iter()
        .find(|(av, kinds, _)| *av == api_version && kinds.contains(&kind))
        .map(|(_, _, t)| Schema::Struct(t))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup(av: &str, kind: &str, path: &[&str]) -> Option<Schema<'static>> {
        let mut s = for_resource(av, kind)?;
        for p in path {
            s = if *p == "[]" {
                s.elements()?
            } else {
                s.field(p)?
            };
        }
        Some(s)
    }

    #[test]
    fn workload_containers_merge_by_name() {
        for (av, kind, prefix) in [
            ("apps/v1", "Deployment", &["spec", "template", "spec"][..]),
            ("apps/v1", "StatefulSet", &["spec", "template", "spec"][..]),
            ("batch/v1", "Job", &["spec", "template", "spec"][..]),
            (
                "batch/v1",
                "CronJob",
                &["spec", "jobTemplate", "spec", "template", "spec"][..],
            ),
            ("v1", "Pod", &["spec"][..]),
            ("v1", "PodTemplate", &["template", "spec"][..]),
        ] {
            let mut path = prefix.to_vec();
            path.push("containers");
            let s = lookup(av, kind, &path).unwrap_or_else(|| panic!("{kind}"));
            assert!(s.is_associative());
            assert_eq!(s.strategy_and_keys().1, ["name"]);
            path.extend(["[]", "ports"]);
            let ports = lookup(av, kind, &path).unwrap();
            assert_eq!(ports.strategy_and_keys().1, ["containerPort", "protocol"]);
        }
    }

    #[test]
    fn other_families() {
        let s = lookup("v1", "Service", &["spec", "ports"]).unwrap();
        assert_eq!(s.strategy_and_keys().0, "merge");
        assert_eq!(s.strategy_and_keys().1, ["port", "protocol"]);
        let v = lookup(
            "apps/v1",
            "Deployment",
            &["spec", "template", "spec", "volumes"],
        )
        .unwrap();
        assert!(v.is_associative());
        assert_eq!(v.strategy_and_keys().0, "merge,retainKeys");
        assert!(lookup("v1", "ConfigMap", &["metadata", "finalizers"])
            .unwrap()
            .is_associative());
        assert!(lookup(
            "apps/v1",
            "Deployment",
            &["spec", "template", "spec", "tolerations"]
        )
        .is_none());
        assert!(for_resource("example.com/v1", "Deployment").is_none());
        assert!(for_resource("autoscaling/v2", "HorizontalPodAutoscaler").is_none());
    }
}
