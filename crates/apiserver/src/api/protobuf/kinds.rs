//! The protobuf messages (field numbers of `k8s.io/api` 1.32 `generated.proto`) of the kinds
//! kubectl's `create` generators (and `kubectl autoscale`) send, and of what they embed. Only the fields a client may
//! set on create are listed; `status` is skipped (the create strategies reset it).
use super::{F, T};

pub(super) const OWNER_REF: &[F] = &[
    (1, "kind", T::Str),
    (3, "name", T::Str),
    (4, "uid", T::Str),
    (5, "apiVersion", T::Str),
    (6, "controller", T::Bool),
    (7, "blockOwnerDeletion", T::Bool),
];
pub(super) const META: &[F] = &[
    (1, "name", T::Str),
    (2, "generateName", T::Str),
    (3, "namespace", T::Str),
    (5, "uid", T::Str),
    (6, "resourceVersion", T::Str),
    (7, "generation", T::Int),
    (8, "creationTimestamp", T::Time),
    (11, "labels", T::MapSS),
    (12, "annotations", T::MapSS),
    (13, "ownerReferences", T::RepMsg(OWNER_REF)),
    (14, "finalizers", T::RepStr),
];
pub(super) const TYPE_META: &[F] = &[(1, "apiVersion", T::Str), (2, "kind", T::Str)];

// core/v1
const NS_SPEC: &[F] = &[(1, "finalizers", T::RepStr)];
const NAMESPACE: &[F] = &[
    (1, "metadata", T::Msg(META)),
    (2, "spec", T::Msg(NS_SPEC)),
    (3, "status", T::Skip),
];
const CONFIGMAP: &[F] = &[
    (1, "metadata", T::Msg(META)),
    (2, "data", T::MapSS),
    (3, "binaryData", T::MapSB),
    (4, "immutable", T::Bool),
];
const SECRET: &[F] = &[
    (1, "metadata", T::Msg(META)),
    (2, "data", T::MapSB),
    (3, "type", T::Str),
    (4, "stringData", T::MapSS),
    (5, "immutable", T::Bool),
];
const OBJ_REF: &[F] = &[
    (1, "kind", T::Str),
    (2, "namespace", T::Str),
    (3, "name", T::Str),
    (4, "uid", T::Str),
    (5, "apiVersion", T::Str),
    (6, "resourceVersion", T::Str),
    (7, "fieldPath", T::Str),
];
const LOCAL_REF: &[F] = &[(1, "name", T::Str)];
const SERVICE_ACCOUNT: &[F] = &[
    (1, "metadata", T::Msg(META)),
    (2, "secrets", T::RepMsg(OBJ_REF)),
    (3, "imagePullSecrets", T::RepMsg(LOCAL_REF)),
    (4, "automountServiceAccountToken", T::Bool),
];
const REQUIREMENT: &[F] = &[
    (1, "key", T::Str),
    (2, "operator", T::Str),
    (3, "values", T::RepStr),
];
const LABEL_SELECTOR: &[F] = &[
    (1, "matchLabels", T::MapSS),
    (2, "matchExpressions", T::RepMsg(REQUIREMENT)),
];
const CONTAINER_PORT: &[F] = &[
    (1, "name", T::Str),
    (2, "hostPort", T::Int),
    (3, "containerPort", T::Int),
    (4, "protocol", T::Str),
    (5, "hostIP", T::Str),
];
const ENV_VAR: &[F] = &[(1, "name", T::Str), (2, "value", T::Str)];
const RESOURCES: &[F] = &[(1, "limits", T::MapSQ), (2, "requests", T::MapSQ)];
const CONTAINER: &[F] = &[
    (1, "name", T::Str),
    (2, "image", T::Str),
    (3, "command", T::RepStr),
    (4, "args", T::RepStr),
    (5, "workingDir", T::Str),
    (6, "ports", T::RepMsg(CONTAINER_PORT)),
    (7, "env", T::RepMsg(ENV_VAR)),
    (8, "resources", T::MsgKeep(RESOURCES)),
    (13, "terminationMessagePath", T::Str),
    (14, "imagePullPolicy", T::Str),
    (16, "stdin", T::Flag),
    (17, "stdinOnce", T::Flag),
    (18, "tty", T::Flag),
    (20, "terminationMessagePolicy", T::Str),
];
const POD_SPEC: &[F] = &[
    (2, "containers", T::RepMsg(CONTAINER)),
    (3, "restartPolicy", T::Str),
    (4, "terminationGracePeriodSeconds", T::IntKeep),
    (5, "activeDeadlineSeconds", T::IntKeep),
    (6, "dnsPolicy", T::Str),
    (7, "nodeSelector", T::MapSS),
    (8, "serviceAccountName", T::Str),
    (9, "serviceAccount", T::Str),
    (10, "nodeName", T::Str),
    (11, "hostNetwork", T::Flag),
    (12, "hostPID", T::Flag),
    (13, "hostIPC", T::Flag),
    (15, "imagePullSecrets", T::RepMsg(LOCAL_REF)),
    (16, "hostname", T::Str),
    (17, "subdomain", T::Str),
    (19, "schedulerName", T::Str),
    (20, "initContainers", T::RepMsg(CONTAINER)),
    (21, "automountServiceAccountToken", T::Bool),
    (24, "priorityClassName", T::Str),
    (25, "priority", T::IntKeep),
];
const POD_TEMPLATE: &[F] = &[
    (1, "metadata", T::MsgKeep(META)),
    (2, "spec", T::Msg(POD_SPEC)),
];
const SERVICE_PORT: &[F] = &[
    (1, "name", T::Str),
    (2, "protocol", T::Str),
    (3, "port", T::IntKeep),
    (4, "targetPort", T::IntStr),
    (5, "nodePort", T::Int),
    (6, "appProtocol", T::Str),
];
const SERVICE_SPEC: &[F] = &[
    (1, "ports", T::RepMsg(SERVICE_PORT)),
    (2, "selector", T::MapSS),
    (3, "clusterIP", T::Str),
    (4, "type", T::Str),
    (5, "externalIPs", T::RepStr),
    (7, "sessionAffinity", T::Str),
    (8, "loadBalancerIP", T::Str),
    (9, "loadBalancerSourceRanges", T::RepStr),
    (10, "externalName", T::Str),
    (11, "externalTrafficPolicy", T::Str),
    (12, "healthCheckNodePort", T::Int),
    (13, "publishNotReadyAddresses", T::Flag),
    (17, "ipFamilyPolicy", T::Str),
    (18, "clusterIPs", T::RepStr),
    (19, "ipFamilies", T::RepStr),
    (20, "allocateLoadBalancerNodePorts", T::Bool),
    (21, "loadBalancerClass", T::Str),
    (22, "internalTrafficPolicy", T::Str),
];
const SERVICE: &[F] = &[
    (1, "metadata", T::Msg(META)),
    (2, "spec", T::Msg(SERVICE_SPEC)),
    (3, "status", T::Skip),
];
const SCOPE_REQUIREMENT: &[F] = &[
    (1, "scopeName", T::Str),
    (2, "operator", T::Str),
    (3, "values", T::RepStr),
];
const SCOPE_SELECTOR: &[F] = &[(1, "matchExpressions", T::RepMsg(SCOPE_REQUIREMENT))];
const QUOTA_SPEC: &[F] = &[
    (1, "hard", T::MapSQ),
    (2, "scopes", T::RepStr),
    (3, "scopeSelector", T::Msg(SCOPE_SELECTOR)),
];
const RESOURCE_QUOTA: &[F] = &[
    (1, "metadata", T::Msg(META)),
    (2, "spec", T::Msg(QUOTA_SPEC)),
    (3, "status", T::Skip),
];

// apps/v1
const ROLLING_UPDATE: &[F] = &[(1, "maxUnavailable", T::IntStr), (2, "maxSurge", T::IntStr)];
const STRATEGY: &[F] = &[
    (1, "type", T::Str),
    (2, "rollingUpdate", T::Msg(ROLLING_UPDATE)),
];
const DEPLOYMENT_SPEC: &[F] = &[
    (1, "replicas", T::IntKeep),
    (2, "selector", T::Msg(LABEL_SELECTOR)),
    (3, "template", T::Msg(POD_TEMPLATE)),
    (4, "strategy", T::MsgKeep(STRATEGY)),
    (5, "minReadySeconds", T::Int),
    (6, "revisionHistoryLimit", T::IntKeep),
    (7, "paused", T::Flag),
    (9, "progressDeadlineSeconds", T::IntKeep),
];
const DEPLOYMENT: &[F] = &[
    (1, "metadata", T::Msg(META)),
    (2, "spec", T::Msg(DEPLOYMENT_SPEC)),
    (3, "status", T::Skip),
];

// batch/v1
const JOB_SPEC: &[F] = &[
    (1, "parallelism", T::IntKeep),
    (2, "completions", T::IntKeep),
    (3, "activeDeadlineSeconds", T::IntKeep),
    (4, "selector", T::Msg(LABEL_SELECTOR)),
    (5, "manualSelector", T::Bool),
    (6, "template", T::MsgKeep(POD_TEMPLATE)),
    (7, "backoffLimit", T::IntKeep),
    (8, "ttlSecondsAfterFinished", T::IntKeep),
    (9, "completionMode", T::Str),
    (10, "suspend", T::Bool),
];
const JOB: &[F] = &[
    (1, "metadata", T::Msg(META)),
    (2, "spec", T::Msg(JOB_SPEC)),
    (3, "status", T::Skip),
];
const JOB_TEMPLATE: &[F] = &[
    (1, "metadata", T::MsgKeep(META)),
    (2, "spec", T::MsgKeep(JOB_SPEC)),
];
const CRONJOB_SPEC: &[F] = &[
    (1, "schedule", T::Str),
    (2, "startingDeadlineSeconds", T::IntKeep),
    (3, "concurrencyPolicy", T::Str),
    (4, "suspend", T::Bool),
    (5, "jobTemplate", T::MsgKeep(JOB_TEMPLATE)),
    (6, "successfulJobsHistoryLimit", T::IntKeep),
    (7, "failedJobsHistoryLimit", T::IntKeep),
    (8, "timeZone", T::Str),
];
const CRONJOB: &[F] = &[
    (1, "metadata", T::Msg(META)),
    (2, "spec", T::Msg(CRONJOB_SPEC)),
    (3, "status", T::Skip),
];

// networking.k8s.io/v1
const BACKEND_PORT: &[F] = &[(1, "name", T::Str), (2, "number", T::Int)];
const SERVICE_BACKEND: &[F] = &[(1, "name", T::Str), (2, "port", T::Msg(BACKEND_PORT))];
const TYPED_REF: &[F] = &[
    (1, "apiGroup", T::Str),
    (2, "kind", T::Str),
    (3, "name", T::Str),
];
const BACKEND: &[F] = &[
    (3, "resource", T::Msg(TYPED_REF)),
    (4, "service", T::Msg(SERVICE_BACKEND)),
];
const HTTP_PATH: &[F] = &[
    (1, "path", T::Str),
    (2, "backend", T::Msg(BACKEND)),
    (3, "pathType", T::Str),
];
const HTTP_RULE: &[F] = &[(1, "paths", T::RepMsg(HTTP_PATH))];
const RULE_VALUE: &[F] = &[(1, "http", T::Msg(HTTP_RULE))];
const RULE: &[F] = &[(1, "host", T::Str), (2, "", T::Inline(RULE_VALUE))];
const TLS: &[F] = &[(1, "hosts", T::RepStr), (2, "secretName", T::Str)];
const INGRESS_SPEC: &[F] = &[
    (1, "defaultBackend", T::Msg(BACKEND)),
    (2, "tls", T::RepMsg(TLS)),
    (3, "rules", T::RepMsg(RULE)),
    (4, "ingressClassName", T::Str),
];
const INGRESS: &[F] = &[
    (1, "metadata", T::Msg(META)),
    (2, "spec", T::Msg(INGRESS_SPEC)),
    (3, "status", T::Skip),
];

// autoscaling/v1 (`kubectl autoscale`)
const SCALE_TARGET: &[F] = &[
    (1, "kind", T::Str),
    (2, "name", T::Str),
    (3, "apiVersion", T::Str),
];
const HPA_SPEC: &[F] = &[
    (1, "scaleTargetRef", T::Msg(SCALE_TARGET)),
    (2, "minReplicas", T::IntKeep),
    (3, "maxReplicas", T::IntKeep),
    (4, "targetCPUUtilizationPercentage", T::IntKeep),
];
const HPA: &[F] = &[
    (1, "metadata", T::Msg(META)),
    (2, "spec", T::Msg(HPA_SPEC)),
    (3, "status", T::Skip),
];

// policy/v1
const PDB_SPEC: &[F] = &[
    (1, "minAvailable", T::IntStr),
    (2, "selector", T::Msg(LABEL_SELECTOR)),
    (3, "maxUnavailable", T::IntStr),
    (4, "unhealthyPodEvictionPolicy", T::Str),
];
const PDB: &[F] = &[
    (1, "metadata", T::Msg(META)),
    (2, "spec", T::Msg(PDB_SPEC)),
    (3, "status", T::Skip),
];

// scheduling.k8s.io/v1
const PRIORITY_CLASS: &[F] = &[
    (1, "metadata", T::Msg(META)),
    (2, "value", T::IntKeep),
    (3, "globalDefault", T::Flag),
    (4, "description", T::Str),
    (5, "preemptionPolicy", T::Str),
];

// rbac.authorization.k8s.io/v1
const POLICY_RULE: &[F] = &[
    (1, "verbs", T::RepStr),
    (2, "apiGroups", T::RepStr),
    (3, "resources", T::RepStr),
    (4, "resourceNames", T::RepStr),
    (5, "nonResourceURLs", T::RepStr),
];
const AGGREGATION: &[F] = &[(1, "clusterRoleSelectors", T::RepMsg(LABEL_SELECTOR))];
const ROLE: &[F] = &[
    (1, "metadata", T::Msg(META)),
    (2, "rules", T::RepMsg(POLICY_RULE)),
];
const CLUSTER_ROLE: &[F] = &[
    (1, "metadata", T::Msg(META)),
    (2, "rules", T::RepMsg(POLICY_RULE)),
    (3, "aggregationRule", T::Msg(AGGREGATION)),
];
const SUBJECT: &[F] = &[
    (1, "kind", T::Str),
    (2, "apiGroup", T::Str),
    (3, "name", T::Str),
    (4, "namespace", T::Str),
];
const ROLE_REF: &[F] = &[
    (1, "apiGroup", T::Str),
    (2, "kind", T::Str),
    (3, "name", T::Str),
];
const BINDING: &[F] = &[
    (1, "metadata", T::Msg(META)),
    (2, "subjects", T::RepMsg(SUBJECT)),
    (3, "roleRef", T::Msg(ROLE_REF)),
];

/// The message of a kind, by apiVersion and kind.
pub(super) fn schema(api_version: &str, kind: &str) -> Option<&'static [F]> {
    Some(match (api_version, kind) {
        ("v1", "Namespace") => NAMESPACE,
        ("v1", "ConfigMap") => CONFIGMAP,
        ("v1", "Secret") => SECRET,
        ("v1", "ServiceAccount") => SERVICE_ACCOUNT,
        ("v1", "Service") => SERVICE,
        ("v1", "ResourceQuota") => RESOURCE_QUOTA,
        ("apps/v1", "Deployment") => DEPLOYMENT,
        ("batch/v1", "Job") => JOB,
        ("batch/v1", "CronJob") => CRONJOB,
        ("networking.k8s.io/v1", "Ingress") => INGRESS,
        ("policy/v1", "PodDisruptionBudget") => PDB,
        ("autoscaling/v1", "HorizontalPodAutoscaler") => HPA,
        ("scheduling.k8s.io/v1", "PriorityClass") => PRIORITY_CLASS,
        ("rbac.authorization.k8s.io/v1", "Role") => ROLE,
        ("rbac.authorization.k8s.io/v1", "ClusterRole") => CLUSTER_ROLE,
        ("rbac.authorization.k8s.io/v1", "RoleBinding" | "ClusterRoleBinding") => BINDING,
        _ => return None,
    })
}
