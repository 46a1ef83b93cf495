#!/usr/bin/env python3
"""Generator for the kustomize differential-conformance corpus.

Running this script (re)creates every directory under ``cases/`` from the
definitions below.  Case numbers are assigned in registration order, so new
cases must be appended at the END of the file to keep existing numbers stable.
After running it, run ``./regen.sh`` to produce ``expected/`` from kubectl.

Each case is ``case(slug, files, root=None, lrn=False)``:
  * files: dict relative-path -> str (dedented automatically) or bytes
  * root:  relative build root inside the case (written to a ``ROOT`` file)
  * lrn:   build with ``--load-restrictor LoadRestrictionsNone``
            (an empty ``LOAD_RESTRICTOR_NONE`` file is written)
"""
import os
import shutil
import sys
import textwrap

HERE = os.path.dirname(os.path.abspath(__file__))
CASES = []


def D(s):
    return textwrap.dedent(s).lstrip("\n")


def case(slug, files, root=None, lrn=False):
    CASES.append((slug, files, root, lrn))


def write_all():
    out = os.path.join(HERE, "cases")
    if os.path.isdir(out):
        shutil.rmtree(out)
    os.makedirs(out)
    seen = set()
    for i, (slug, files, root, lrn) in enumerate(CASES, start=1):
        assert slug not in seen, slug
        seen.add(slug)
        name = f"{i:03d}-{slug}"
        cdir = os.path.join(out, name)
        os.makedirs(cdir)
        for rel, content in sorted(files.items()):
            p = os.path.join(cdir, rel)
            os.makedirs(os.path.dirname(p), exist_ok=True)
            if isinstance(content, bytes):
                with open(p, "wb") as f:
                    f.write(content)
            else:
                with open(p, "w", encoding="utf-8", newline="") as f:
                    f.write(D(content) if content.startswith("\n") else content)
        if root:
            with open(os.path.join(cdir, "ROOT"), "w") as f:
                f.write(root + "\n")
        if lrn:
            open(os.path.join(cdir, "LOAD_RESTRICTOR_NONE"), "w").close()
    print(f"wrote {len(CASES)} cases to {out}")


def docs(*parts):
    """Join documents into one multi-doc YAML stream."""
    return "---\n".join(D(p) for p in parts)


# ---------------------------------------------------------------------------
# Realistic manifest fragments
# ---------------------------------------------------------------------------

def deploy(name="web", image="nginx:1.25.3", replicas=2, ns=None, port=8080,
           cm=None, secret=None, sa=None, pvc=None, pull_secret=None,
           init=None, labels=None, env=None, command=None, args=None,
           projected=None, extra_containers=None):
    lab = labels or {"app": name}
    L = ["apiVersion: apps/v1", "kind: Deployment", "metadata:", f"  name: {name}"]
    if ns:
        L.append(f"  namespace: {ns}")
    L.append("  labels:")
    L += [f"    {k}: {v}" for k, v in lab.items()]
    L += ["spec:", f"  replicas: {replicas}", "  selector:", "    matchLabels:"]
    L += [f"      {k}: {v}" for k, v in lab.items()]
    L += ["  strategy:", "    type: RollingUpdate", "    rollingUpdate:",
          "      maxSurge: 25%", "      maxUnavailable: 0",
          "  template:", "    metadata:", "      labels:"]
    L += [f"        {k}: {v}" for k, v in lab.items()]
    L += ["    spec:"]
    if sa:
        L.append(f"      serviceAccountName: {sa}")
    L += ["      securityContext:", "        runAsNonRoot: true",
          "        runAsUser: 10001", "        fsGroup: 10001"]
    if pull_secret:
        L += ["      imagePullSecrets:", f"      - name: {pull_secret}"]
    if init:
        L += ["      initContainers:", "      - name: init-wait", f"        image: {init}",
              "        command: [\"sh\", \"-c\", \"until nslookup db; do sleep 2; done\"]"]
    L += ["      containers:", f"      - name: {name}", f"        image: {image}",
          "        imagePullPolicy: IfNotPresent"]
    if command:
        L.append("        command:")
        L += [f"        - {c}" for c in command]
    if args:
        L.append("        args:")
        L += [f"        - {c}" for c in args]
    L += ["        ports:", "        - name: http", f"          containerPort: {port}",
          "          protocol: TCP"]
    envs = list(env or [])
    if secret:
        envs.append(("DB_PASSWORD", None, secret))
    if envs:
        L.append("        env:")
        for e in envs:
            if e[1] is not None:
                L += [f"        - name: {e[0]}", f"          value: {e[1]}"]
            else:
                L += [f"        - name: {e[0]}", "          valueFrom:", "            secretKeyRef:",
                      f"              name: {e[2]}", "              key: password"]
    if cm:
        L += ["        envFrom:", "        - configMapRef:", f"            name: {cm}"]
    L += ["        resources:", "          requests:", "            cpu: 100m",
          "            memory: 128Mi", "          limits:", "            memory: 256Mi",
          "        readinessProbe:", "          httpGet:", "            path: /healthz",
          "            port: http", "          periodSeconds: 10"]
    vols = []
    mounts = []
    if cm:
        mounts.append(("config", "/etc/app"))
        vols += ["      - name: config", "        configMap:", f"          name: {cm}"]
    if pvc:
        mounts.append(("data", "/var/lib/app"))
        vols += ["      - name: data", "        persistentVolumeClaim:", f"          claimName: {pvc}"]
    if projected:
        mounts.append(("bundle", "/etc/bundle"))
        vols += ["      - name: bundle", "        projected:", "          sources:",
                 "          - configMap:", f"              name: {projected[0]}",
                 "          - secret:", f"              name: {projected[1]}"]
    if mounts:
        L.append("        volumeMounts:")
        for n, p in mounts:
            L += [f"        - name: {n}", f"          mountPath: {p}"]
    if extra_containers:
        for c in extra_containers:
            L += [f"      - name: {c[0]}", f"        image: {c[1]}"]
    if vols:
        L.append("      volumes:")
        L += vols
    return "\n".join(L) + "\n"


def svc(name="web", port=80, target="http", ns=None, app=None, type_=None):
    L = ["apiVersion: v1", "kind: Service", "metadata:", f"  name: {name}"]
    if ns:
        L.append(f"  namespace: {ns}")
    L += ["  labels:", f"    app: {app or name}", "spec:"]
    if type_:
        L.append(f"  type: {type_}")
    L += ["  selector:", f"    app: {app or name}", "  ports:", "  - name: http",
          f"    port: {port}", f"    targetPort: {target}", "    protocol: TCP"]
    return "\n".join(L) + "\n"


def cm(name="web-config", data=None, ns=None):
    data = data or {"LOG_LEVEL": "info", "LISTEN_ADDR": '":8080"'}
    L = ["apiVersion: v1", "kind: ConfigMap", "metadata:", f"  name: {name}"]
    if ns:
        L.append(f"  namespace: {ns}")
    L.append("data:")
    L += [f"  {k}: {v}" for k, v in data.items()]
    return "\n".join(L) + "\n"


def secret(name="web-secret", ns=None):
    L = ["apiVersion: v1", "kind: Secret", "metadata:", f"  name: {name}"]
    if ns:
        L.append(f"  namespace: {ns}")
    L += ["type: Opaque", "data:", "  password: czNjcjN0", "  username: YWRtaW4="]
    return "\n".join(L) + "\n"


def sa(name="web", ns=None):
    L = ["apiVersion: v1", "kind: ServiceAccount", "metadata:", f"  name: {name}"]
    if ns:
        L.append(f"  namespace: {ns}")
    return "\n".join(L) + "\n"


def ns_obj(name):
    return D(f"""
    apiVersion: v1
    kind: Namespace
    metadata:
      name: {name}
      labels:
        kubernetes.io/metadata.name: {name}
    """)


def ingress(name="web", svc_name="web", host="web.example.com", ns=None):
    L = ["apiVersion: networking.k8s.io/v1", "kind: Ingress", "metadata:", f"  name: {name}"]
    if ns:
        L.append(f"  namespace: {ns}")
    L += ["  annotations:", "    nginx.ingress.kubernetes.io/ssl-redirect: \"true\"", "spec:",
          "  ingressClassName: nginx", "  tls:", "  - hosts:", f"    - {host}",
          f"    secretName: {name}-tls", "  defaultBackend:", "    service:",
          f"      name: {svc_name}", "      port:", "        number: 80",
          "  rules:", f"  - host: {host}", "    http:", "      paths:", "      - path: /",
          "        pathType: Prefix", "        backend:", "          service:",
          f"            name: {svc_name}", "            port:", "              name: http"]
    return "\n".join(L) + "\n"


def role(name="web-reader", ns=None, kind="Role"):
    L = ["apiVersion: rbac.authorization.k8s.io/v1", f"kind: {kind}", "metadata:", f"  name: {name}"]
    if ns:
        L.append(f"  namespace: {ns}")
    L += ["rules:", "- apiGroups: [\"\"]", "  resources: [\"configmaps\", \"secrets\"]",
          "  verbs: [\"get\", \"list\", \"watch\"]"]
    return "\n".join(L) + "\n"


def binding(name="web-reader", role_name="web-reader", role_kind="Role", sa_name="web",
            sa_ns=None, ns=None, kind="RoleBinding"):
    L = ["apiVersion: rbac.authorization.k8s.io/v1", f"kind: {kind}", "metadata:", f"  name: {name}"]
    if ns:
        L.append(f"  namespace: {ns}")
    L += ["roleRef:", "  apiGroup: rbac.authorization.k8s.io", f"  kind: {role_kind}",
          f"  name: {role_name}", "subjects:", "- kind: ServiceAccount", f"  name: {sa_name}"]
    if sa_ns:
        L.append(f"  namespace: {sa_ns}")
    return "\n".join(L) + "\n"


def hpa(name="web", target="web", kind="Deployment"):
    return D(f"""
    apiVersion: autoscaling/v2
    kind: HorizontalPodAutoscaler
    metadata:
      name: {name}
    spec:
      scaleTargetRef:
        apiVersion: apps/v1
        kind: {kind}
        name: {target}
      minReplicas: 2
      maxReplicas: 10
      metrics:
      - type: Resource
        resource:
          name: cpu
          target:
            type: Utilization
            averageUtilization: 75
    """)


def pdb(name="web", app="web"):
    return D(f"""
    apiVersion: policy/v1
    kind: PodDisruptionBudget
    metadata:
      name: {name}
    spec:
      minAvailable: 1
      selector:
        matchLabels:
          app: {app}
    """)


def netpol(name="web-allow-ingress", app="web"):
    return D(f"""
    apiVersion: networking.k8s.io/v1
    kind: NetworkPolicy
    metadata:
      name: {name}
    spec:
      podSelector:
        matchLabels:
          app: {app}
      policyTypes:
      - Ingress
      - Egress
      ingress:
      - from:
        - namespaceSelector:
            matchLabels:
              kubernetes.io/metadata.name: ingress-nginx
        - podSelector:
            matchLabels:
              role: frontend
        ports:
        - protocol: TCP
          port: 8080
      egress:
      - to:
        - ipBlock:
            cidr: 10.0.0.0/8
            except:
            - 10.0.5.0/24
    """)


def sts(name="db", svc_name="db", cm_name=None, secret_name=None):
    # clean builder for StatefulSets
    L = ["apiVersion: apps/v1", "kind: StatefulSet", "metadata:", f"  name: {name}",
         "  labels:", f"    app: {name}", "spec:", f"  serviceName: {svc_name}",
         "  replicas: 3", "  podManagementPolicy: Parallel", "  selector:",
         "    matchLabels:", f"      app: {name}", "  template:", "    metadata:",
         "      labels:", f"        app: {name}", "    spec:",
         "      terminationGracePeriodSeconds: 30", "      containers:",
         "      - name: postgres", "        image: postgres:16.2", "        ports:",
         "        - name: pg", "          containerPort: 5432", "        env:",
         "        - name: PGDATA", "          value: /var/lib/postgresql/data/pgdata"]
    if secret_name:
        L += ["        - name: POSTGRES_PASSWORD", "          valueFrom:", "            secretKeyRef:",
              f"              name: {secret_name}", "              key: password"]
    L += ["        volumeMounts:", "        - name: data", "          mountPath: /var/lib/postgresql/data"]
    if cm_name:
        L += ["        - name: conf", "          mountPath: /etc/postgresql",
              "      volumes:", "      - name: conf", "        configMap:", f"          name: {cm_name}"]
    L += ["  volumeClaimTemplates:", "  - metadata:", "      name: data", "    spec:",
          "      accessModes: [\"ReadWriteOnce\"]", "      storageClassName: fast-ssd",
          "      resources:", "        requests:", "          storage: 20Gi"]
    return "\n".join(L) + "\n"


def cronjob(name="backup", image="busybox:1.36", cm_name=None, secret_name=None, sa_name=None):
    L = ["apiVersion: batch/v1", "kind: CronJob", "metadata:", f"  name: {name}", "spec:",
         "  schedule: \"0 3 * * *\"", "  concurrencyPolicy: Forbid",
         "  successfulJobsHistoryLimit: 3", "  jobTemplate:", "    spec:", "      backoffLimit: 2",
         "      template:", "        spec:", "          restartPolicy: OnFailure"]
    if sa_name:
        L.append(f"          serviceAccountName: {sa_name}")
    L += ["          containers:", "          - name: backup", f"            image: {image}",
          "            command: [\"/bin/sh\", \"-c\", \"tar czf /backup/$(date +%F).tgz /data\"]"]
    if cm_name:
        L += ["            envFrom:", "            - configMapRef:", f"                name: {cm_name}"]
    if secret_name:
        L += ["            - secretRef:" if cm_name else "            envFrom:\n            - secretRef:",
              f"                name: {secret_name}"]
    return "\n".join(L) + "\n"


def pvc(name="data", size="10Gi", sc="fast-ssd"):
    return D(f"""
    apiVersion: v1
    kind: PersistentVolumeClaim
    metadata:
      name: {name}
    spec:
      accessModes:
      - ReadWriteOnce
      storageClassName: {sc}
      resources:
        requests:
          storage: {size}
    """)


CRD_WIDGET = D("""
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  names:
    kind: Widget
    listKind: WidgetList
    plural: widgets
    singular: widget
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        x-kubernetes-preserve-unknown-fields: true
""")

WIDGET = D("""
apiVersion: example.com/v1
kind: Widget
metadata:
  name: gizmo
spec:
  size: large
  colors:
  - red
  - green
  configRef: web-config
""")

WEBHOOK_MUT = D("""
apiVersion: admissionregistration.k8s.io/v1
kind: MutatingWebhookConfiguration
metadata:
  name: pod-injector
webhooks:
- name: inject.example.com
  admissionReviewVersions: ["v1"]
  sideEffects: None
  failurePolicy: Fail
  clientConfig:
    service:
      name: injector
      namespace: system
      path: /mutate
      port: 443
  rules:
  - apiGroups: [""]
    apiVersions: ["v1"]
    operations: ["CREATE"]
    resources: ["pods"]
""")

WEBHOOK_VAL = D("""
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata:
  name: policy-validator
webhooks:
- name: validate.example.com
  admissionReviewVersions: ["v1"]
  sideEffects: None
  clientConfig:
    service:
      name: injector
      namespace: system
      path: /validate
  rules:
  - apiGroups: ["apps"]
    apiVersions: ["v1"]
    operations: ["CREATE", "UPDATE"]
    resources: ["deployments"]
""")

APISERVICE = D("""
apiVersion: apiregistration.k8s.io/v1
kind: APIService
metadata:
  name: v1beta1.metrics.k8s.io
spec:
  group: metrics.k8s.io
  version: v1beta1
  groupPriorityMinimum: 100
  versionPriority: 100
  insecureSkipTLSVerify: true
  service:
    name: metrics-server
    namespace: kube-system
    port: 443
""")

PRIORITY = D("""
apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata:
  name: high-priority
value: 1000000
globalDefault: false
description: "Business-critical workloads."
""")

STORAGECLASS = D("""
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: fast-ssd
provisioner: ebs.csi.aws.com
parameters:
  type: gp3
  iops: "3000"
reclaimPolicy: Retain
volumeBindingMode: WaitForFirstConsumer
allowVolumeExpansion: true
""")

QUOTA = D("""
apiVersion: v1
kind: ResourceQuota
metadata:
  name: compute
spec:
  hard:
    requests.cpu: "8"
    requests.memory: 16Gi
    limits.memory: 32Gi
    pods: "50"
""")

LIMITRANGE = D("""
apiVersion: v1
kind: LimitRange
metadata:
  name: defaults
spec:
  limits:
  - type: Container
    default:
      cpu: 500m
      memory: 512Mi
    defaultRequest:
      cpu: 100m
      memory: 128Mi
""")

KUST = "kustomization.yaml"


# ===========================================================================
# 1. resources
# ===========================================================================

case("plain-configmap", {
    KUST: """
        apiVersion: kustomize.config.k8s.io/v1beta1
        kind: Kustomization
        resources:
        - configmap.yaml
        """,
    "configmap.yaml": cm("app-settings", {"LOG_LEVEL": "debug", "FEATURE_X": '"enabled"', "TIMEOUT": '"30s"'}),
})

case("deployment-service-stack", {
    KUST: """
        resources:
        - deployment.yaml
        - service.yaml
        - configmap.yaml
        - secret.yaml
        - serviceaccount.yaml
        """,
    "deployment.yaml": deploy(cm="web-config", secret="web-secret", sa="web"),
    "service.yaml": svc(),
    "configmap.yaml": cm(),
    "secret.yaml": secret(),
    "serviceaccount.yaml": sa(),
})

case("multi-doc-file", {
    KUST: """
        resources:
        - all.yaml
        """,
    "all.yaml": "---\n" + docs(deploy(), svc(), ingress(), hpa(), pdb()),
})

case("multi-doc-empty-documents", {
    KUST: """
        resources:
        - stack.yaml
        """,
    "stack.yaml": "---\n---\n# just a comment\n---\n" + cm("first") + "---\n\n---\n" + cm("second", {"k": "v"}) + "---\n",
})

case("comments-everywhere", {
    KUST: """
        # top-level comment
        apiVersion: kustomize.config.k8s.io/v1beta1  # trailing
        kind: Kustomization
        # the resources
        resources:
          # deployment first
          - deployment.yaml   # inline
          - service.yaml
        """,
    "deployment.yaml": "# Deployment for web\n" + deploy().replace("replicas: 2", "replicas: 2 # two replicas"),
    "service.yaml": "# leading comment\n\n" + svc() + "# trailing comment\n",
})

case("kind-list-file", {
    KUST: """
        resources:
        - list.yaml
        """,
    "list.yaml": """
        apiVersion: v1
        kind: List
        metadata: {}
        items:
        - apiVersion: v1
          kind: ServiceAccount
          metadata:
            name: builder
        - apiVersion: v1
          kind: ConfigMap
          metadata:
            name: build-settings
          data:
            parallelism: "4"
            cache: enabled
        - apiVersion: v1
          kind: Service
          metadata:
            name: builder
          spec:
            selector:
              app: builder
            ports:
            - port: 9000
        """,
})

case("kind-configmaplist-file", {
    KUST: """
        resources:
        - list.yaml
        - extra.yaml
        """,
    "list.yaml": """
        apiVersion: v1
        kind: ConfigMapList
        items:
        - apiVersion: v1
          kind: ConfigMap
          metadata:
            name: zeta
          data:
            a: "1"
        - apiVersion: v1
          kind: ConfigMap
          metadata:
            name: alpha
          data:
            b: "2"
        """,
    "extra.yaml": cm("middle", {"c": '"3"'}),
})

case("resource-directory", {
    KUST: """
        resources:
        - app
        """,
    "app/kustomization.yaml": """
        resources:
        - deployment.yaml
        - service.yaml
        """,
    "app/deployment.yaml": deploy("api", image="ghcr.io/acme/api:v1.4.2", port=9090),
    "app/service.yaml": svc("api", port=9090),
})

case("nested-overlays-three-deep", {
    "base/kustomization.yaml": """
        resources:
        - deployment.yaml
        - service.yaml
        """,
    "base/deployment.yaml": deploy(),
    "base/service.yaml": svc(),
    "mid/kustomization.yaml": """
        resources:
        - ../base
        namePrefix: mid-
        commonLabels:
          tier: frontend
        """,
    "overlays/staging/kustomization.yaml": """
        resources:
        - ../../mid
        namespace: staging
        nameSuffix: -stg
        """,
    "overlays/staging-eu/kustomization.yaml": """
        resources:
        - ../staging
        commonAnnotations:
          region: eu-west-1
        replicas:
        - name: mid-web-stg
          count: 5
        """,
}, root="overlays/staging-eu")

case("kustomization-yml-extension", {
    "kustomization.yml": """
        resources:
        - cm.yml
        """,
    "cm.yml": cm("yml-config", {"extension": "yml"}),
})

case("kustomization-capitalized-filename", {
    "Kustomization": """
        apiVersion: kustomize.config.k8s.io/v1beta1
        kind: Kustomization
        resources:
        - sa.yaml
        """,
    "sa.yaml": sa("capital"),
})

case("resources-mixed-files-and-dirs", {
    KUST: """
        resources:
        - namespace.yaml
        - rbac
        - workloads/api
        - workloads/worker
        """,
    "namespace.yaml": ns_obj("platform"),
    "rbac/kustomization.yaml": "resources:\n- role.yaml\n- binding.yaml\n",
    "rbac/role.yaml": role("reader", ns="platform"),
    "rbac/binding.yaml": binding("reader", "reader", sa_name="api", sa_ns="platform", ns="platform"),
    "workloads/api/kustomization.yaml": "resources:\n- deploy.yaml\n",
    "workloads/api/deploy.yaml": deploy("api", ns="platform", sa="api"),
    "workloads/worker/kustomization.yaml": "resources:\n- deploy.yaml\n",
    "workloads/worker/deploy.yaml": deploy("worker", ns="platform", image="ghcr.io/acme/worker:2.0.0", replicas=4),
})

case("diamond-base-different-prefixes", {
    "base/kustomization.yaml": "resources:\n- cm.yaml\n",
    "base/cm.yaml": cm("shared"),
    "a/kustomization.yaml": "resources:\n- ../base\nnamePrefix: a-\n",
    "b/kustomization.yaml": "resources:\n- ../base\nnamePrefix: b-\n",
    "top/kustomization.yaml": "resources:\n- ../a\n- ../b\n",
}, root="top")

case("same-name-different-namespaces", {
    KUST: "resources:\n- dev\n- prod\n",
    "dev/kustomization.yaml": "namespace: dev\nresources:\n- ../base\n",
    "prod/kustomization.yaml": "namespace: prod\nresources:\n- ../base\n",
    "base/kustomization.yaml": "resources:\n- cm.yaml\n",
    "base/cm.yaml": cm("settings"),
}, lrn=True)

case("custom-resources-and-crd", {
    KUST: "resources:\n- crd.yaml\n- widget.yaml\n",
    "crd.yaml": CRD_WIDGET,
    "widget.yaml": WIDGET,
})

case("statefulset-volumeclaimtemplates", {
    KUST: "resources:\n- sts.yaml\n- svc.yaml\n",
    "sts.yaml": sts(secret_name="db-credentials"),
    "svc.yaml": D("""
        apiVersion: v1
        kind: Service
        metadata:
          name: db
        spec:
          clusterIP: None
          selector:
            app: db
          ports:
          - name: pg
            port: 5432
        """),
})

case("cluster-scoped-infra", {
    KUST: "resources:\n- infra.yaml\n",
    "infra.yaml": docs(PRIORITY, STORAGECLASS, APISERVICE, WEBHOOK_MUT, WEBHOOK_VAL, ns_obj("system")),
})

case("cronjob-and-job", {
    KUST: "resources:\n- cronjob.yaml\n- job.yaml\n",
    "cronjob.yaml": cronjob(cm_name="backup-env", secret_name="backup-s3"),
    "job.yaml": D("""
        apiVersion: batch/v1
        kind: Job
        metadata:
          name: migrate
          annotations:
            argocd.argoproj.io/hook: PreSync
        spec:
          ttlSecondsAfterFinished: 600
          template:
            spec:
              restartPolicy: Never
              containers:
              - name: migrate
                image: ghcr.io/acme/migrate:1.0.0
                args: ["--to", "latest"]
        """),
})

case("empty-resources", {
    KUST: """
        apiVersion: kustomize.config.k8s.io/v1beta1
        kind: Kustomization
        resources: []
        """,
})

case("flow-style-yaml-resource", {
    KUST: "resources: [flow.yaml]\n",
    "flow.yaml": """
        {apiVersion: v1, kind: ConfigMap, metadata: {name: flow, labels: {a: b}}, data: {x: "1", y: two, z: "three four"}}
        """,
})

case("json-resource-file", {
    KUST: "resources:\n- svc.json\n",
    "svc.json": """
        {
          "apiVersion": "v1",
          "kind": "Service",
          "metadata": {"name": "json-svc", "labels": {"app": "json"}},
          "spec": {"selector": {"app": "json"}, "ports": [{"port": 443, "targetPort": 8443, "name": "https"}]}
        }
        """,
})

# ===========================================================================
# 2. bases (legacy)
# ===========================================================================

case("legacy-bases-field", {
    "base/kustomization.yaml": "resources:\n- deployment.yaml\n",
    "base/deployment.yaml": deploy(),
    "overlay/kustomization.yaml": "bases:\n- ../base\nnamePrefix: prod-\n",
}, root="overlay")

case("legacy-bases-and-resources", {
    "base/kustomization.yaml": "resources:\n- svc.yaml\n",
    "base/svc.yaml": svc(),
    "overlay/kustomization.yaml": "resources:\n- cm.yaml\nbases:\n- ../base\n",
    "overlay/cm.yaml": cm("overlay-config"),
}, root="overlay")

case("legacy-bases-multiple", {
    "one/kustomization.yaml": "resources:\n- sa.yaml\n",
    "one/sa.yaml": sa("one"),
    "two/kustomization.yaml": "resources:\n- sa.yaml\n",
    "two/sa.yaml": sa("two"),
    "env/kustomization.yaml": "bases:\n- ../two\n- ../one\nnamespace: env\n",
}, root="env")

# ===========================================================================
# 3. components
# ===========================================================================

case("component-basic", {
    "base/kustomization.yaml": "resources:\n- deployment.yaml\n",
    "base/deployment.yaml": deploy(),
    "components/monitoring/kustomization.yaml": """
        apiVersion: kustomize.config.k8s.io/v1alpha1
        kind: Component
        resources:
        - servicemonitor.yaml
        patches:
        - patch: |-
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: web
            spec:
              template:
                metadata:
                  annotations:
                    prometheus.io/scrape: "true"
                    prometheus.io/port: "9102"
        """,
    "components/monitoring/servicemonitor.yaml": """
        apiVersion: monitoring.coreos.com/v1
        kind: ServiceMonitor
        metadata:
          name: web
        spec:
          selector:
            matchLabels:
              app: web
          endpoints:
          - port: metrics
            interval: 30s
        """,
    "overlay/kustomization.yaml": """
        resources:
        - ../base
        components:
        - ../components/monitoring
        """,
}, root="overlay")

case("components-several-ordered", {
    "base/kustomization.yaml": "resources:\n- deployment.yaml\n",
    "base/deployment.yaml": deploy(),
    "components/ha/kustomization.yaml": """
        apiVersion: kustomize.config.k8s.io/v1alpha1
        kind: Component
        replicas:
        - name: web
          count: 4
        resources:
        - pdb.yaml
        """,
    "components/ha/pdb.yaml": pdb(),
    "components/tls/kustomization.yaml": """
        apiVersion: kustomize.config.k8s.io/v1alpha1
        kind: Component
        patches:
        - target:
            kind: Deployment
          patch: |-
            - op: add
              path: /spec/template/spec/containers/0/env
              value:
              - name: TLS_ENABLED
                value: "true"
        """,
    "components/labels/kustomization.yaml": """
        apiVersion: kustomize.config.k8s.io/v1alpha1
        kind: Component
        commonLabels:
          team: checkout
        """,
    "overlay/kustomization.yaml": """
        resources:
        - ../base
        components:
        - ../components/ha
        - ../components/tls
        - ../components/labels
        """,
}, root="overlay")

case("component-generator-merges-parent", {
    "base/kustomization.yaml": """
        resources:
        - deployment.yaml
        configMapGenerator:
        - name: web-config
          literals:
          - LOG_LEVEL=info
          - REGION=us-east-1
        """,
    "base/deployment.yaml": deploy(cm="web-config"),
    "components/debug/kustomization.yaml": """
        apiVersion: kustomize.config.k8s.io/v1alpha1
        kind: Component
        configMapGenerator:
        - name: web-config
          behavior: merge
          literals:
          - LOG_LEVEL=debug
          - PPROF=enabled
        """,
    "overlay/kustomization.yaml": """
        resources:
        - ../base
        components:
        - ../components/debug
        """,
}, root="overlay")

case("component-secret-generator-replace", {
    "base/kustomization.yaml": """
        resources:
        - deployment.yaml
        secretGenerator:
        - name: web-secret
          literals:
          - password=base
        """,
    "base/deployment.yaml": deploy(secret="web-secret"),
    "comp/kustomization.yaml": """
        apiVersion: kustomize.config.k8s.io/v1alpha1
        kind: Component
        secretGenerator:
        - name: web-secret
          behavior: replace
          literals:
          - password=from-component
          - token=abc123
        """,
    "overlay/kustomization.yaml": """
        resources:
        - ../base
        components:
        - ../comp
        namePrefix: prod-
        """,
}, root="overlay")

case("component-images-and-namespace-in-parent", {
    "base/kustomization.yaml": "resources:\n- deployment.yaml\n",
    "base/deployment.yaml": deploy(init="busybox:1.36"),
    "comp/kustomization.yaml": """
        apiVersion: kustomize.config.k8s.io/v1alpha1
        kind: Component
        images:
        - name: nginx
          newTag: 1.27.0-alpine
        - name: busybox
          newName: registry.internal:5000/mirror/busybox
        """,
    "overlay/kustomization.yaml": """
        namespace: frontend
        resources:
        - ../base
        components:
        - ../comp
        """,
}, root="overlay")

case("component-in-base-and-overlay", {
    "comp-a/kustomization.yaml": """
        apiVersion: kustomize.config.k8s.io/v1alpha1
        kind: Component
        commonAnnotations:
          component-a: applied
        """,
    "comp-b/kustomization.yaml": """
        apiVersion: kustomize.config.k8s.io/v1alpha1
        kind: Component
        patches:
        - target:
            kind: ConfigMap
          patch: |-
            - op: add
              path: /data/FROM_B
              value: "yes"
        """,
    "base/kustomization.yaml": "resources:\n- cm.yaml\ncomponents:\n- ../comp-a\n",
    "base/cm.yaml": cm("settings"),
    "overlay/kustomization.yaml": "resources:\n- ../base\ncomponents:\n- ../comp-b\nnameSuffix: -v2\n",
}, root="overlay")

case("component-nested-component", {
    "inner/kustomization.yaml": """
        apiVersion: kustomize.config.k8s.io/v1alpha1
        kind: Component
        resources:
        - netpol.yaml
        """,
    "inner/netpol.yaml": netpol(),
    "outer/kustomization.yaml": """
        apiVersion: kustomize.config.k8s.io/v1alpha1
        kind: Component
        components:
        - ../inner
        commonLabels:
          secured: "true"
        """,
    "app/kustomization.yaml": "resources:\n- deploy.yaml\ncomponents:\n- ../outer\n",
    "app/deploy.yaml": deploy(),
}, root="app")

case("component-only-no-resources", {
    "comp/kustomization.yaml": """
        apiVersion: kustomize.config.k8s.io/v1alpha1
        kind: Component
        configMapGenerator:
        - name: feature-flags
          literals:
          - NEW_CHECKOUT=true
        """,
    KUST: "components:\n- comp\n",
})

case("component-replacements", {
    "comp/kustomization.yaml": """
        apiVersion: kustomize.config.k8s.io/v1alpha1
        kind: Component
        replacements:
        - source:
            kind: Service
            name: web
            fieldPath: metadata.name
          targets:
          - select:
              kind: Ingress
            fieldPaths:
            - spec.rules.0.host
            options:
              delimiter: "."
              index: 0
        """,
    KUST: "resources:\n- svc.yaml\n- ing.yaml\ncomponents:\n- comp\nnamePrefix: shop-\n",
    "svc.yaml": svc(),
    "ing.yaml": ingress(host="placeholder.example.com"),
})

# ===========================================================================
# 4. namespace
# ===========================================================================

case("namespace-basic", {
    KUST: "namespace: payments\nresources:\n- deploy.yaml\n- svc.yaml\n- cm.yaml\n",
    "deploy.yaml": deploy(cm="web-config"),
    "svc.yaml": svc(),
    "cm.yaml": cm(),
})

case("namespace-overrides-existing", {
    KUST: "namespace: target\nresources:\n- res.yaml\n",
    "res.yaml": docs(cm("a", ns="source"), cm("b", ns="other"), cm("c")),
})

case("namespace-rbac-subjects", {
    KUST: "namespace: apps\nresources:\n- rbac.yaml\n",
    "rbac.yaml": docs(
        sa("deployer"),
        role("deployer"),
        binding("deployer", "deployer", sa_name="deployer"),
        role("cluster-viewer", kind="ClusterRole"),
        binding("deployer-view", "cluster-viewer", role_kind="ClusterRole", sa_name="deployer",
                sa_ns="somewhere-else", kind="ClusterRoleBinding"),
        D("""
        apiVersion: rbac.authorization.k8s.io/v1
        kind: RoleBinding
        metadata:
          name: mixed-subjects
        roleRef:
          apiGroup: rbac.authorization.k8s.io
          kind: Role
          name: deployer
        subjects:
        - kind: ServiceAccount
          name: deployer
          namespace: default
        - kind: ServiceAccount
          name: external
          namespace: other-ns
        - kind: User
          name: jane@example.com
          apiGroup: rbac.authorization.k8s.io
        - kind: Group
          name: sre
          apiGroup: rbac.authorization.k8s.io
        """)),
})

case("namespace-webhooks-and-apiservice", {
    KUST: "namespace: system-v2\nresources:\n- hooks.yaml\n- svc.yaml\n",
    "hooks.yaml": docs(WEBHOOK_MUT, WEBHOOK_VAL, APISERVICE),
    "svc.yaml": svc("injector", port=443, target="9443"),
})

case("namespace-cluster-scoped-untouched", {
    KUST: "namespace: tenant-a\nresources:\n- all.yaml\n",
    "all.yaml": docs(ns_obj("tenant-a"), role("aggregate-view", kind="ClusterRole"), PRIORITY,
                     STORAGECLASS, CRD_WIDGET, WIDGET,
                     D("""
                     apiVersion: v1
                     kind: PersistentVolume
                     metadata:
                       name: nfs-share
                     spec:
                       capacity:
                         storage: 100Gi
                       accessModes: ["ReadWriteMany"]
                       nfs:
                         server: 10.0.0.5
                         path: /exports
                     """), cm("local")),
})

case("namespace-in-base-and-overlay", {
    "base/kustomization.yaml": "namespace: base-ns\nresources:\n- cm.yaml\n- sa.yaml\n- rb.yaml\n",
    "base/cm.yaml": cm("cfg"),
    "base/sa.yaml": sa("runner"),
    "base/rb.yaml": binding("runner", "edit", role_kind="ClusterRole", sa_name="runner", sa_ns="base-ns"),
    "overlay/kustomization.yaml": "namespace: overlay-ns\nresources:\n- ../base\n",
}, root="overlay")

case("namespace-generators", {
    KUST: """
        namespace: ops
        configMapGenerator:
        - name: ops-config
          literals:
          - a=b
        - name: pinned
          namespace: pinned-ns
          literals:
          - c=d
        secretGenerator:
        - name: ops-secret
          literals:
          - token=t0k3n
        """,
})

case("namespace-crb-default-subject", {
    KUST: "namespace: monitoring\nresources:\n- crb.yaml\n- sa.yaml\n",
    "sa.yaml": sa("prometheus"),
    "crb.yaml": binding("prometheus", "prometheus", role_kind="ClusterRole", sa_name="prometheus",
                        sa_ns="default", kind="ClusterRoleBinding"),
})

case("namespace-custom-resource", {
    KUST: "namespace: widgets\nresources:\n- crd.yaml\n- w.yaml\n",
    "crd.yaml": CRD_WIDGET,
    "w.yaml": WIDGET,
})

case("namespace-with-namespace-object-rename", {
    KUST: "namespace: renamed\nresources:\n- ns.yaml\n- cm.yaml\n",
    "ns.yaml": ns_obj("original"),
    "cm.yaml": cm("x", ns="original"),
})

# ===========================================================================
# 5. namePrefix / nameSuffix and name references
# ===========================================================================

case("prefix-suffix-basic", {
    KUST: "namePrefix: team-\nnameSuffix: -v1\nresources:\n- res.yaml\n",
    "res.yaml": docs(cm("settings"), svc("api"), sa("api")),
})

case("prefix-configmap-secret-refs-in-pod", {
    KUST: "namePrefix: prod-\nresources:\n- deploy.yaml\n- cm.yaml\n- secret.yaml\n- other.yaml\n",
    "deploy.yaml": deploy(cm="web-config", secret="web-secret", pull_secret="regcred",
                          projected=("web-config", "web-secret")),
    "cm.yaml": cm(),
    "secret.yaml": secret() + "---\n" + D("""
        apiVersion: v1
        kind: Secret
        metadata:
          name: regcred
        type: kubernetes.io/dockerconfigjson
        data:
          .dockerconfigjson: eyJhdXRocyI6e319
        """),
    "other.yaml": D("""
        apiVersion: v1
        kind: Pod
        metadata:
          name: debug
        spec:
          containers:
          - name: shell
            image: busybox:1.36
            env:
            - name: LEVEL
              valueFrom:
                configMapKeyRef:
                  name: web-config
                  key: LOG_LEVEL
            - name: EXTERNAL
              valueFrom:
                configMapKeyRef:
                  name: not-managed-here
                  key: x
            envFrom:
            - secretRef:
                name: web-secret
          volumes:
          - name: s
            secret:
              secretName: web-secret
          - name: c
            configMap:
              name: web-config
              items:
              - key: LOG_LEVEL
                path: level
        """),
})

case("suffix-serviceaccount-and-bindings", {
    KUST: "nameSuffix: -blue\nresources:\n- rbac.yaml\n- deploy.yaml\n",
    "rbac.yaml": docs(sa("web"), role("web-reader"), binding(),
                      role("web-cluster", kind="ClusterRole"),
                      binding("web-cluster", "web-cluster", "ClusterRole", "web", sa_ns="default",
                              kind="ClusterRoleBinding")),
    "deploy.yaml": deploy(sa="web"),
})

case("prefix-role-refs-with-namespace", {
    KUST: "namePrefix: ci-\nnamespace: ci\nresources:\n- rbac.yaml\n",
    "rbac.yaml": docs(sa("runner"), role("runner"),
                      binding("runner", "runner", sa_name="runner"),
                      binding("runner-admin", "admin", "ClusterRole", "runner", kind="RoleBinding")),
})

case("prefix-pvc-claimname", {
    KUST: "namePrefix: app-\nresources:\n- pvc.yaml\n- deploy.yaml\n",
    "pvc.yaml": pvc("data"),
    "deploy.yaml": deploy(pvc="data"),
})

case("prefix-ingress-backends", {
    KUST: "namePrefix: shop-\nresources:\n- svc.yaml\n- ingress.yaml\n",
    "svc.yaml": svc("web"),
    "ingress.yaml": ingress() + "---\n" + D("""
        apiVersion: networking.k8s.io/v1
        kind: Ingress
        metadata:
          name: external
        spec:
          rules:
          - http:
              paths:
              - path: /ext
                pathType: Exact
                backend:
                  service:
                    name: not-ours
                    port:
                      number: 8080
        """),
})

case("suffix-statefulset-servicename", {
    KUST: "nameSuffix: -east\nresources:\n- sts.yaml\n- svc.yaml\n- cm.yaml\n- secret.yaml\n",
    "sts.yaml": sts(cm_name="db-conf", secret_name="db-credentials"),
    "svc.yaml": svc("db", port=5432, target="pg"),
    "cm.yaml": cm("db-conf", {"postgresql.conf": "|\n    max_connections = 200\n    shared_buffers = 256MB"}),
    "secret.yaml": secret("db-credentials"),
})

case("prefix-apiservice-and-webhook-services", {
    KUST: "namePrefix: acme-\nnamespace: acme-system\nresources:\n- svc.yaml\n- hooks.yaml\n",
    "svc.yaml": docs(svc("injector", port=443, target="9443"), svc("metrics-server", port=443, target="4443")),
    "hooks.yaml": docs(WEBHOOK_MUT, WEBHOOK_VAL, APISERVICE),
})

case("prefix-hpa-scaletargetref", {
    KUST: "namePrefix: checkout-\nresources:\n- deploy.yaml\n- hpa.yaml\n- pdb.yaml\n",
    "deploy.yaml": deploy(),
    "hpa.yaml": hpa() + "---\n" + hpa("external", "someone-else"),
    "pdb.yaml": pdb(),
})

case("prefix-priorityclass-storageclass", {
    KUST: "namePrefix: gold-\nresources:\n- pc.yaml\n- sc.yaml\n- deploy.yaml\n- pvc.yaml\n- sts.yaml\n",
    "pc.yaml": PRIORITY,
    "sc.yaml": STORAGECLASS,
    "deploy.yaml": deploy().replace("      securityContext:", "      priorityClassName: high-priority\n      securityContext:"),
    "pvc.yaml": pvc("scratch"),
    "sts.yaml": sts(),
})

case("prefix-cronjob-references", {
    KUST: "namePrefix: nightly-\nresources:\n- cj.yaml\n- cm.yaml\n- secret.yaml\n- sa.yaml\n",
    "cj.yaml": cronjob(cm_name="backup-env", secret_name="backup-s3", sa_name="backup"),
    "cm.yaml": cm("backup-env", {"TARGET": "s3://backups/prod"}),
    "secret.yaml": secret("backup-s3"),
    "sa.yaml": sa("backup"),
})

case("prefix-base-and-overlay-stacked", {
    "base/kustomization.yaml": "namePrefix: base-\nresources:\n- res.yaml\n",
    "base/res.yaml": docs(deploy(cm="web-config", sa="web"), cm(), sa(), svc()),
    "overlay/kustomization.yaml": "namePrefix: ovl-\nnameSuffix: -x\nresources:\n- ../base\n- ing.yaml\n",
    "overlay/ing.yaml": ingress(svc_name="base-web"),
}, root="overlay")

case("prefix-cluster-scoped-renamed", {
    KUST: "namePrefix: t1-\nresources:\n- res.yaml\n",
    "res.yaml": docs(ns_obj("tenant"), role("viewer", kind="ClusterRole"),
                     binding("viewer", "viewer", "ClusterRole", "bot", sa_ns="tenant", kind="ClusterRoleBinding"),
                     CRD_WIDGET),
})

case("suffix-daemonset-references", {
    KUST: "nameSuffix: -node\nresources:\n- ds.yaml\n- cm.yaml\n- sa.yaml\n",
    "ds.yaml": """
        apiVersion: apps/v1
        kind: DaemonSet
        metadata:
          name: log-agent
        spec:
          selector:
            matchLabels:
              app: log-agent
          template:
            metadata:
              labels:
                app: log-agent
            spec:
              serviceAccountName: agent
              tolerations:
              - operator: Exists
              containers:
              - name: fluent-bit
                image: fluent/fluent-bit:3.0.4
                volumeMounts:
                - name: config
                  mountPath: /fluent-bit/etc
                - name: varlog
                  mountPath: /var/log
                  readOnly: true
              volumes:
              - name: config
                configMap:
                  name: agent-config
              - name: varlog
                hostPath:
                  path: /var/log
        """,
    "cm.yaml": cm("agent-config", {"fluent-bit.conf": '"[SERVICE]\\n    Flush 5\\n"'}),
    "sa.yaml": sa("agent"),
})

case("prefix-ephemeral-and-init-container-refs", {
    KUST: "namePrefix: p-\nresources:\n- pod.yaml\n- cm.yaml\n",
    "pod.yaml": """
        apiVersion: v1
        kind: Pod
        metadata:
          name: toolbox
        spec:
          initContainers:
          - name: setup
            image: alpine:3.19
            envFrom:
            - configMapRef:
                name: tools
          containers:
          - name: main
            image: alpine:3.19
            env:
            - name: MODE
              valueFrom:
                configMapKeyRef:
                  name: tools
                  key: mode
          ephemeralContainers:
          - name: debugger
            image: nicolaka/netshoot:v0.12
            envFrom:
            - configMapRef:
                name: tools
        """,
    "cm.yaml": cm("tools", {"mode": "interactive"}),
})

case("prefix-skips-unmatched-kind-references", {
    KUST: "namePrefix: x-\nresources:\n- res.yaml\n",
    "res.yaml": docs(
        cm("web"),
        D("""
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: web
        spec:
          selector:
            matchLabels:
              app: web
          template:
            metadata:
              labels:
                app: web
            spec:
              serviceAccountName: web
              containers:
              - name: web
                image: nginx
                envFrom:
                - secretRef:
                    name: web
        """)),
})

# ===========================================================================
# 6. labels / commonLabels / commonAnnotations
# ===========================================================================

case("labels-pairs-only", {
    KUST: """
        labels:
        - pairs:
            app.kubernetes.io/part-of: shop
            owner: team-a
        resources:
        - res.yaml
        """,
    "res.yaml": docs(deploy(), svc(), netpol(), pdb()),
})

case("labels-include-selectors", {
    KUST: """
        labels:
        - pairs:
            env: prod
          includeSelectors: true
        resources:
        - res.yaml
        """,
    "res.yaml": docs(deploy(), svc(), sts(), pdb(), netpol(), cronjob()),
})

case("labels-include-templates", {
    KUST: """
        labels:
        - pairs:
            version: v2
          includeTemplates: true
        resources:
        - res.yaml
        """,
    "res.yaml": docs(deploy(), svc(), sts(), cronjob(),
                     D("""
                     apiVersion: apps/v1
                     kind: DaemonSet
                     metadata:
                       name: agent
                     spec:
                       selector:
                         matchLabels:
                           app: agent
                       template:
                         metadata:
                           labels:
                             app: agent
                         spec:
                           containers:
                           - name: agent
                             image: agent:1
                     """)),
})

case("labels-custom-fields", {
    KUST: """
        labels:
        - pairs:
            cost-center: "1234"
          fields:
          - path: spec/template/metadata/labels
            kind: Widget
            create: true
          - path: spec/labels
            group: example.com
            kind: Widget
            create: true
        resources:
        - w.yaml
        - cm.yaml
        """,
    "w.yaml": WIDGET,
    "cm.yaml": cm("c"),
})

case("labels-multiple-entries", {
    KUST: """
        labels:
        - pairs:
            a: "1"
        - pairs:
            b: "2"
          includeSelectors: true
        - pairs:
            c: "3"
          includeTemplates: true
        resources:
        - res.yaml
        """,
    "res.yaml": docs(deploy(), svc()),
})

case("commonlabels-selectors", {
    KUST: """
        commonLabels:
          app.kubernetes.io/name: web
          environment: production
        resources:
        - res.yaml
        """,
    "res.yaml": docs(deploy(), svc(), sts(), cronjob(), pdb(), netpol(), hpa(),
                     D("""
                     apiVersion: batch/v1
                     kind: Job
                     metadata:
                       name: once
                     spec:
                       template:
                         spec:
                           restartPolicy: Never
                           containers:
                           - name: once
                             image: busybox
                     """)),
})

case("commonlabels-overrides-existing", {
    KUST: "commonLabels:\n  app: renamed\nresources:\n- res.yaml\n",
    "res.yaml": docs(deploy(), svc()),
})

case("commonlabels-base-overlay", {
    "base/kustomization.yaml": "commonLabels:\n  tier: backend\nresources:\n- deploy.yaml\n",
    "base/deploy.yaml": deploy("api"),
    "overlay/kustomization.yaml": "commonLabels:\n  env: dev\nresources:\n- ../base\n- svc.yaml\n",
    "overlay/svc.yaml": svc("api"),
}, root="overlay")

case("commonlabels-rbac-and-crd", {
    KUST: "commonLabels:\n  managed: flotilla\nresources:\n- res.yaml\n",
    "res.yaml": docs(CRD_WIDGET, WIDGET, role("r"), binding("r", "r", sa_name="x"), WEBHOOK_MUT, APISERVICE, sa("x")),
})

case("commonlabels-numeric-and-bool-values", {
    KUST: 'commonLabels:\n  version: "2"\n  canary: "false"\nresources:\n- cm.yaml\n',
    "cm.yaml": cm("c"),
})

case("commonannotations-basic", {
    KUST: """
        commonAnnotations:
          team: payments
          oncall: "#payments-oncall"
          docs: https://wiki.example.com/payments
        resources:
        - res.yaml
        """,
    "res.yaml": docs(deploy(), svc(), cronjob()),
})

case("commonannotations-multiline-and-override", {
    KUST: """
        commonAnnotations:
          description: |
            line one
            line two
          nginx.ingress.kubernetes.io/ssl-redirect: "false"
          empty: ""
        resources:
        - ing.yaml
        """,
    "ing.yaml": ingress(),
})

case("commonannotations-with-labels-and-prefix", {
    KUST: """
        namePrefix: svc-
        commonAnnotations:
          config.kubernetes.io/owner: platform
        commonLabels:
          app.kubernetes.io/managed-by: flotilla
        labels:
        - pairs:
            extra: "yes"
        resources:
        - res.yaml
        """,
    "res.yaml": docs(deploy(cm="web-config"), cm(), sts()),
})

case("commonannotations-numeric-value", {
    KUST: "commonAnnotations:\n  revision: \"42\"\n  ratio: \"0.5\"\nresources:\n- sa.yaml\n",
    "sa.yaml": sa("annotated"),
})

# ===========================================================================
# 7. images / replicas
# ===========================================================================

case("images-newtag", {
    KUST: "images:\n- name: nginx\n  newTag: 1.27.1\nresources:\n- deploy.yaml\n",
    "deploy.yaml": deploy(image="nginx:1.25.3"),
})

case("images-newname-newtag", {
    KUST: """
        images:
        - name: nginx
          newName: registry.example.com/mirror/nginx
          newTag: 1.27.1-alpine
        resources:
        - deploy.yaml
        """,
    "deploy.yaml": deploy(image="nginx"),
})

case("images-digest", {
    KUST: """
        images:
        - name: ghcr.io/acme/api
          digest: sha256:24a0c4b4a4c0eb97a1aabb8e29f18e917d05abfe1b7a7c07857230879ce7d3d3
        resources:
        - deploy.yaml
        """,
    "deploy.yaml": deploy("api", image="ghcr.io/acme/api:v1.0.0"),
})

case("images-registry-with-port", {
    KUST: """
        images:
        - name: registry.internal:5000/team/app
          newName: registry.internal:5000/team/app-hardened
          newTag: "2024.06"
        - name: localhost:5000/tool
          newTag: latest
        resources:
        - deploy.yaml
        """,
    "deploy.yaml": deploy("app", image="registry.internal:5000/team/app:2024.01",
                          extra_containers=[("tool", "localhost:5000/tool:v1"), ("other", "localhost:5000/toolbox:v1")]),
})

case("images-init-and-ephemeral-containers", {
    KUST: """
        images:
        - name: busybox
          newTag: "1.36.1"
        - name: nicolaka/netshoot
          newName: ghcr.io/nicolaka/netshoot
        resources:
        - pod.yaml
        - deploy.yaml
        """,
    "pod.yaml": """
        apiVersion: v1
        kind: Pod
        metadata:
          name: debug
        spec:
          initContainers:
          - name: init
            image: busybox:1.35
          containers:
          - name: main
            image: busybox
          ephemeralContainers:
          - name: dbg
            image: nicolaka/netshoot:latest
        """,
    "deploy.yaml": deploy(init="busybox:1.30"),
})

case("images-cronjob-and-statefulset", {
    KUST: """
        images:
        - name: busybox
          newName: docker.io/library/busybox
          newTag: "1.36"
        - name: postgres
          newTag: 16.3-alpine
        resources:
        - cj.yaml
        - sts.yaml
        """,
    "cj.yaml": cronjob(),
    "sts.yaml": sts(),
})

case("images-tag-and-digest-existing", {
    KUST: """
        images:
        - name: nginx
          newTag: "1.27"
        - name: redis
          newName: bitnami/redis
        resources:
        - deploy.yaml
        """,
    "deploy.yaml": deploy(image="nginx@sha256:0000000000000000000000000000000000000000000000000000000000000000",
                          extra_containers=[("cache", "redis:7.2@sha256:1111111111111111111111111111111111111111111111111111111111111111")]),
})

case("images-custom-kind-field", {
    KUST: """
        images:
        - name: quay.io/prometheus/prometheus
          newTag: v2.53.0
        configurations:
        - image-config.yaml
        resources:
        - prom.yaml
        """,
    "image-config.yaml": """
        images:
        - path: spec/image
          kind: Prometheus
        """,
    "prom.yaml": """
        apiVersion: monitoring.coreos.com/v1
        kind: Prometheus
        metadata:
          name: k8s
        spec:
          image: quay.io/prometheus/prometheus:v2.45.0
          replicas: 2
          containers:
          - name: config-reloader
            image: quay.io/prometheus/prometheus:v2.45.0
        """,
})

case("images-overlay-chain", {
    "base/kustomization.yaml": "images:\n- name: nginx\n  newTag: base-tag\nresources:\n- deploy.yaml\n",
    "base/deploy.yaml": deploy(),
    "overlay/kustomization.yaml": "images:\n- name: nginx\n  newName: mirror/nginx\n  newTag: overlay-tag\nresources:\n- ../base\n",
}, root="overlay")

case("images-name-only-newname-keeps-tag", {
    KUST: "images:\n- name: ghcr.io/acme/api\n  newName: ecr.aws/acme/api\nresources:\n- deploy.yaml\n",
    "deploy.yaml": deploy("api", image="ghcr.io/acme/api:v9.9.9"),
})

case("images-newtag-with-digest-tag", {
    KUST: "images:\n- name: nginx\n  newTag: 1.27.0@sha256:abababababababababababababababababababababababababababababababab\nresources:\n- deploy.yaml\n",
    "deploy.yaml": deploy(),
})

case("images-untouched-when-no-match", {
    KUST: "images:\n- name: ngin\n  newTag: nope\n- name: nginx-exporter\n  newTag: \"1.1\"\nresources:\n- deploy.yaml\n",
    "deploy.yaml": deploy(extra_containers=[("exporter", "nginx/nginx-prometheus-exporter:1.0")]),
})

case("replicas-basic", {
    KUST: "replicas:\n- name: web\n  count: 5\nresources:\n- deploy.yaml\n",
    "deploy.yaml": deploy(),
})

case("replicas-multiple-kinds", {
    KUST: """
        replicas:
        - name: web
          count: 3
        - name: db
          count: 5
        resources:
        - deploy.yaml
        - sts.yaml
        """,
    "deploy.yaml": deploy(),
    "sts.yaml": sts(),
})

case("replicas-with-prefix", {
    "base/kustomization.yaml": "namePrefix: base-\nresources:\n- deploy.yaml\n",
    "base/deploy.yaml": deploy(),
    "overlay/kustomization.yaml": "replicas:\n- name: base-web\n  count: 7\nresources:\n- ../base\n",
}, root="overlay")

case("replicas-zero-and-missing-field", {
    KUST: "replicas:\n- name: idle\n  count: 0\nresources:\n- deploy.yaml\n",
    "deploy.yaml": deploy("idle").replace("  replicas: 2\n", ""),
})

case("replicas-replicaset-and-rc", {
    KUST: "replicas:\n- name: legacy\n  count: 2\n- name: rs\n  count: 4\nresources:\n- res.yaml\n",
    "res.yaml": """
        apiVersion: v1
        kind: ReplicationController
        metadata:
          name: legacy
        spec:
          replicas: 1
          selector:
            app: legacy
          template:
            metadata:
              labels:
                app: legacy
            spec:
              containers:
              - name: c
                image: nginx
        ---
        apiVersion: apps/v1
        kind: ReplicaSet
        metadata:
          name: rs
        spec:
          replicas: 1
          selector:
            matchLabels:
              app: rs
          template:
            metadata:
              labels:
                app: rs
            spec:
              containers:
              - name: c
                image: nginx
        """,
})

case("prefix-webhook-service-same-namespace", {
    KUST: "namePrefix: acme-\nresources:\n- svc.yaml\n- hooks.yaml\n",
    "svc.yaml": svc("injector", port=443, target="9443", ns="system"),
    "hooks.yaml": docs(WEBHOOK_MUT, WEBHOOK_VAL),
})

# ===========================================================================
# 8. patches (unified field)
# ===========================================================================

case("patches-smp-inline", {
    KUST: """
        resources:
        - deploy.yaml
        patches:
        - patch: |-
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: web
            spec:
              replicas: 6
              template:
                spec:
                  containers:
                  - name: web
                    resources:
                      limits:
                        cpu: "2"
                        memory: 1Gi
        """,
    "deploy.yaml": deploy(),
})

case("patches-smp-from-file", {
    KUST: "resources:\n- deploy.yaml\npatches:\n- path: patch.yaml\n",
    "deploy.yaml": deploy(),
    "patch.yaml": """
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: web
          annotations:
            patched: "true"
        spec:
          template:
            spec:
              nodeSelector:
                kubernetes.io/arch: arm64
              tolerations:
              - key: dedicated
                operator: Equal
                value: web
                effect: NoSchedule
        """,
})

case("patches-json6902-inline-yaml", {
    KUST: """
        resources:
        - deploy.yaml
        patches:
        - target:
            group: apps
            version: v1
            kind: Deployment
            name: web
          patch: |-
            - op: replace
              path: /spec/replicas
              value: 4
            - op: add
              path: /spec/template/spec/containers/0/args
              value: ["--verbose", "--port=8080"]
            - op: remove
              path: /spec/strategy
            - op: add
              path: /metadata/labels/patched-by
              value: json6902
        """,
    "deploy.yaml": deploy(),
})

case("patches-json6902-from-file-yaml", {
    KUST: """
        resources:
        - deploy.yaml
        patches:
        - path: ops.yaml
          target:
            kind: Deployment
            name: web
        """,
    "deploy.yaml": deploy(),
    "ops.yaml": """
        - op: add
          path: /metadata/annotations
          value: {}
        - op: copy
          from: /spec/template/spec/containers/0/image
          path: /metadata/annotations/original-image
        - op: move
          from: /spec/template/spec/securityContext
          path: /spec/template/spec/containers/0/securityContext
        - op: test
          path: /spec/replicas
          value: 2
        """,
})

case("patches-json6902-from-file-json", {
    KUST: """
        resources:
        - svc.yaml
        patches:
        - path: ops.json
          target:
            version: v1
            kind: Service
            name: web
        """,
    "svc.yaml": svc(),
    "ops.json": """
        [
          {"op": "replace", "path": "/spec/type", "value": "LoadBalancer"},
          {"op": "add", "path": "/spec/ports/-", "value": {"name": "https", "port": 443, "targetPort": 8443}},
          {"op": "add", "path": "/metadata/annotations", "value": {"service.beta.kubernetes.io/aws-load-balancer-type": "nlb"}}
        ]
        """.replace('"replace", "path": "/spec/type"', '"add", "path": "/spec/type"'),
})

case("patches-json6902-inline-json", {
    KUST: """
        resources:
        - cm.yaml
        patches:
        - target:
            kind: ConfigMap
            name: web-config
          patch: '[{"op": "add", "path": "/data/NEW_KEY", "value": "new"}, {"op": "remove", "path": "/data/LOG_LEVEL"}]'
        """,
    "cm.yaml": cm(),
})

case("patches-target-name-regex", {
    KUST: """
        resources:
        - res.yaml
        patches:
        - target:
            kind: Deployment
            name: "api-.*"
          patch: |-
            - op: add
              path: /spec/template/spec/containers/0/env
              value:
              - name: OTEL_EXPORTER_OTLP_ENDPOINT
                value: http://otel-collector:4317
        """,
    "res.yaml": docs(deploy("api-orders"), deploy("api-users"), deploy("frontend")),
})

case("patches-target-label-selector", {
    KUST: """
        resources:
        - res.yaml
        patches:
        - target:
            kind: Deployment
            labelSelector: "tier=backend,env!=test"
          patch: |-
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: ignored
            spec:
              template:
                spec:
                  priorityClassName: backend-critical
        """,
    "res.yaml": docs(deploy("orders", labels={"app": "orders", "tier": "backend", "env": "prod"}),
                     deploy("cart", labels={"app": "cart", "tier": "backend", "env": "test"}),
                     deploy("ui", labels={"app": "ui", "tier": "frontend", "env": "prod"})),
})

case("patches-target-annotation-selector", {
    KUST: """
        resources:
        - res.yaml
        patches:
        - target:
            annotationSelector: "flotilla.io/inject-sidecar=true"
          patch: |-
            - op: add
              path: /metadata/labels/sidecar
              value: injected
        """,
    "res.yaml": docs(
        cm("a").replace("metadata:\n", "metadata:\n  labels:\n    x: y\n  annotations:\n    flotilla.io/inject-sidecar: \"true\"\n"),
        cm("b").replace("metadata:\n", "metadata:\n  labels:\n    x: y\n  annotations:\n    flotilla.io/inject-sidecar: \"false\"\n"),
        cm("c").replace("metadata:\n", "metadata:\n  labels:\n    x: y\n")),
})

case("patches-target-namespace", {
    KUST: """
        resources:
        - res.yaml
        patches:
        - target:
            kind: ConfigMap
            namespace: prod
          patch: |-
            - op: replace
              path: /data/LOG_LEVEL
              value: warn
        """,
    "res.yaml": docs(cm("settings", ns="prod"), cm("settings", ns="dev"), cm("other", ns="prod")),
})

case("patches-target-group-version-only", {
    KUST: """
        resources:
        - res.yaml
        patches:
        - target:
            group: apps
            version: v1
          patch: |-
            - op: add
              path: /metadata/annotations
              value:
                reloader.stakater.com/auto: "true"
        """,
    "res.yaml": docs(deploy(), sts(), svc(), cm()),
})

case("patches-multiple-targets-same-patch-file", {
    KUST: """
        resources:
        - res.yaml
        patches:
        - path: spread.yaml
          target:
            kind: Deployment
        - path: spread.yaml
          target:
            kind: StatefulSet
        """,
    "spread.yaml": """
        apiVersion: apps/v1
        kind: Any
        metadata:
          name: any
        spec:
          template:
            spec:
              topologySpreadConstraints:
              - maxSkew: 1
                topologyKey: topology.kubernetes.io/zone
                whenUnsatisfiable: ScheduleAnyway
        """,
    "res.yaml": docs(deploy(), sts()),
})

case("patches-smp-delete-directive", {
    KUST: """
        resources:
        - deploy.yaml
        patches:
        - patch: |-
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: web
            spec:
              template:
                spec:
                  containers:
                  - name: sidecar
                    $patch: delete
                  volumes:
                  - name: config
                    $patch: delete
        """,
    "deploy.yaml": deploy(cm="web-config", extra_containers=[("sidecar", "envoyproxy/envoy:v1.30.1")]),
})

case("patches-smp-delete-whole-object", {
    KUST: """
        resources:
        - res.yaml
        patches:
        - patch: |-
            $patch: delete
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: remove-me
        """,
    "res.yaml": docs(cm("keep-me"), cm("remove-me")),
})

case("patches-smp-replace-directive", {
    KUST: """
        resources:
        - deploy.yaml
        patches:
        - patch: |-
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: web
            spec:
              template:
                spec:
                  securityContext:
                    $patch: replace
                    runAsUser: 0
                  containers:
                  - name: web
                    resources:
                      $patch: replace
                      requests:
                        cpu: 1m
        """,
    "deploy.yaml": deploy(),
})

case("patches-smp-replace-list", {
    KUST: """
        resources:
        - deploy.yaml
        patches:
        - patch: |-
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: web
            spec:
              template:
                spec:
                  containers:
                  - $patch: replace
                  - name: only
                    image: alpine:3.20
        """,
    "deploy.yaml": deploy(extra_containers=[("sidecar", "envoy:1")]),
})

case("patches-smp-retainkeys", {
    KUST: """
        resources:
        - deploy.yaml
        patches:
        - patch: |-
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: web
            spec:
              strategy:
                $retainKeys:
                - type
                type: Recreate
        """,
    "deploy.yaml": deploy(),
})

case("patches-smp-null-deletes", {
    KUST: """
        resources:
        - deploy.yaml
        patches:
        - patch: |-
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: web
              labels:
                app: null
            spec:
              replicas: null
              template:
                spec:
                  securityContext: null
                  containers:
                  - name: web
                    readinessProbe: ~
        """,
    "deploy.yaml": deploy(),
})

case("patches-smp-merge-containers-env-ports", {
    KUST: """
        resources:
        - deploy.yaml
        patches:
        - patch: |-
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: web
            spec:
              template:
                spec:
                  containers:
                  - name: web
                    env:
                    - name: EXISTING
                      value: overridden
                    - name: ADDED
                      value: "1"
                    ports:
                    - containerPort: 9090
                      name: metrics
                    - containerPort: 8080
                      name: http-renamed
                  - name: new-sidecar
                    image: otel/opentelemetry-collector:0.102.0
        """,
    "deploy.yaml": deploy(env=[("EXISTING", "original"), ("KEEP", "kept")]),
})

case("patches-smp-merge-volumes-volumemounts", {
    KUST: """
        resources:
        - deploy.yaml
        patches:
        - patch: |-
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: web
            spec:
              template:
                spec:
                  containers:
                  - name: web
                    volumeMounts:
                    - name: cache
                      mountPath: /cache
                    - name: config
                      mountPath: /etc/app
                      readOnly: true
                  volumes:
                  - name: cache
                    emptyDir:
                      sizeLimit: 1Gi
                  - name: config
                    configMap:
                      name: web-config
                      defaultMode: 0444
        """,
    "deploy.yaml": deploy(cm="web-config"),
})

case("patches-smp-custom-kind", {
    KUST: """
        resources:
        - w.yaml
        patches:
        - patch: |-
            apiVersion: example.com/v1
            kind: Widget
            metadata:
              name: gizmo
            spec:
              size: small
              colors:
              - blue
              extra:
                nested: true
        """,
    "w.yaml": WIDGET,
})

case("patches-smp-multiple-docs-in-file", {
    KUST: "resources:\n- res.yaml\npatches:\n- path: patches.yaml\n",
    "res.yaml": docs(deploy(), svc(), cm()),
    "patches.yaml": """
        apiVersion: v1
        kind: Service
        metadata:
          name: web
        spec:
          type: NodePort
        ---
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: web-config
        data:
          LOG_LEVEL: trace
        """,
})

case("patches-target-overrides-patch-name", {
    KUST: """
        resources:
        - res.yaml
        patches:
        - target:
            kind: ConfigMap
            name: "^cfg-(a|b)$"
          patch: |-
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: whatever
            data:
              injected: "yes"
        """,
    "res.yaml": docs(cm("cfg-a"), cm("cfg-b"), cm("cfg-c")),
})

case("patches-applied-in-order", {
    KUST: """
        resources:
        - cm.yaml
        patches:
        - target:
            kind: ConfigMap
          patch: |-
            - op: add
              path: /data/step
              value: one
        - target:
            kind: ConfigMap
          patch: |-
            - op: replace
              path: /data/step
              value: two
        - patch: |-
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: web-config
            data:
              final: three
        """,
    "cm.yaml": cm(),
})

case("patches-json-add-array-index-and-escape", {
    KUST: """
        resources:
        - deploy.yaml
        patches:
        - target:
            kind: Deployment
          patch: |-
            - op: add
              path: /spec/template/metadata/annotations
              value: {}
            - op: add
              path: /spec/template/metadata/annotations/example.com~1tilde~0key
              value: escaped
            - op: add
              path: /spec/template/spec/containers/0/ports/0
              value:
                name: first
                containerPort: 1111
            - op: add
              path: /spec/template/spec/containers/-
              value:
                name: tail
                image: busybox
        """,
    "deploy.yaml": deploy(),
})

case("patches-in-overlay-against-base-with-prefix", {
    "base/kustomization.yaml": "namePrefix: base-\nresources:\n- deploy.yaml\n",
    "base/deploy.yaml": deploy(),
    "overlay/kustomization.yaml": """
        resources:
        - ../base
        patches:
        - patch: |-
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: base-web
            spec:
              replicas: 9
        - target:
            name: base-web
          patch: |-
            - op: add
              path: /metadata/labels/overlay
              value: "true"
        """,
}, root="overlay")

case("patches-smp-hpa-and-ingress", {
    KUST: """
        resources:
        - res.yaml
        patches:
        - patch: |-
            apiVersion: autoscaling/v2
            kind: HorizontalPodAutoscaler
            metadata:
              name: web
            spec:
              maxReplicas: 50
              metrics:
              - type: Resource
                resource:
                  name: memory
                  target:
                    type: Utilization
                    averageUtilization: 80
        - patch: |-
            apiVersion: networking.k8s.io/v1
            kind: Ingress
            metadata:
              name: web
            spec:
              tls:
              - hosts:
                - web.example.org
                secretName: web-org-tls
        """,
    "res.yaml": docs(hpa(), ingress()),
})

case("patches-options-allow-name-kind-change", {
    KUST: """
        resources:
        - cm.yaml
        patches:
        - target:
            kind: ConfigMap
            name: web-config
          options:
            allowNameChange: true
          patch: |-
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: web-config-renamed
        """,
    "cm.yaml": cm(),
})

case("patches-smp-networkpolicy-and-pdb", {
    KUST: """
        resources:
        - res.yaml
        patches:
        - path: np.yaml
        - patch: |-
            apiVersion: policy/v1
            kind: PodDisruptionBudget
            metadata:
              name: web
            spec:
              minAvailable: null
              maxUnavailable: 1
        """,
    "res.yaml": docs(netpol(), pdb()),
    "np.yaml": """
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata:
          name: web-allow-ingress
        spec:
          policyTypes:
          - Ingress
        """,
})

case("patches-smp-statefulset-vct", {
    KUST: """
        resources:
        - sts.yaml
        patches:
        - patch: |-
            apiVersion: apps/v1
            kind: StatefulSet
            metadata:
              name: db
            spec:
              volumeClaimTemplates:
              - metadata:
                  name: data
                spec:
                  resources:
                    requests:
                      storage: 100Gi
        """,
    "sts.yaml": sts(),
})

case("patches-smp-cronjob-deep", {
    KUST: """
        resources:
        - cj.yaml
        patches:
        - patch: |-
            apiVersion: batch/v1
            kind: CronJob
            metadata:
              name: backup
            spec:
              schedule: "*/15 * * * *"
              suspend: true
              jobTemplate:
                spec:
                  template:
                    spec:
                      containers:
                      - name: backup
                        resources:
                          requests:
                            cpu: 50m
        """,
    "cj.yaml": cronjob(),
})

# ===========================================================================
# 9. patchesStrategicMerge / patchesJson6902 (legacy fields)
# ===========================================================================

case("psm-file", {
    KUST: "resources:\n- deploy.yaml\npatchesStrategicMerge:\n- increase-replicas.yaml\n- set-memory.yaml\n",
    "deploy.yaml": deploy(),
    "increase-replicas.yaml": """
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: web
        spec:
          replicas: 10
        """,
    "set-memory.yaml": """
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: web
        spec:
          template:
            spec:
              containers:
              - name: web
                resources:
                  limits:
                    memory: 2Gi
        """,
})

case("psm-inline", {
    KUST: """
        resources:
        - cm.yaml
        patchesStrategicMerge:
        - |-
          apiVersion: v1
          kind: ConfigMap
          metadata:
            name: web-config
          data:
            LOG_LEVEL: error
        """,
    "cm.yaml": cm(),
})

case("psm-delete-object", {
    KUST: "resources:\n- res.yaml\npatchesStrategicMerge:\n- delete.yaml\n",
    "res.yaml": docs(deploy(), svc(), pdb()),
    "delete.yaml": """
        $patch: delete
        apiVersion: policy/v1
        kind: PodDisruptionBudget
        metadata:
          name: web
        """,
})

case("psm-multi-doc-patch-file", {
    KUST: "resources:\n- res.yaml\npatchesStrategicMerge:\n- patches.yaml\n",
    "res.yaml": docs(deploy(), deploy("api")),
    "patches.yaml": """
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: web
        spec:
          replicas: 1
        ---
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: api
        spec:
          replicas: 3
        """,
})

case("psm-with-namespace-in-patch", {
    KUST: "namespace: shop\nresources:\n- cm.yaml\npatchesStrategicMerge:\n- patch.yaml\n",
    "cm.yaml": cm(),
    "patch.yaml": """
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: web-config
        data:
          PATCHED: "1"
        """,
})

case("psm-and-patches-together", {
    KUST: """
        resources:
        - deploy.yaml
        patchesStrategicMerge:
        - psm.yaml
        patches:
        - target:
            kind: Deployment
          patch: |-
            - op: replace
              path: /spec/replicas
              value: 11
        """,
    "deploy.yaml": deploy(),
    "psm.yaml": """
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: web
        spec:
          replicas: 3
          template:
            metadata:
              annotations:
                psm: applied
        """,
})

case("pj6902-path-yaml", {
    KUST: """
        resources:
        - ing.yaml
        patchesJson6902:
        - target:
            group: networking.k8s.io
            version: v1
            kind: Ingress
            name: web
          path: ingress-patch.yaml
        """,
    "ing.yaml": ingress(),
    "ingress-patch.yaml": """
        - op: replace
          path: /spec/rules/0/host
          value: shop.example.com
        - op: replace
          path: /spec/tls/0/hosts/0
          value: shop.example.com
        """,
})

case("pj6902-path-json", {
    KUST: """
        resources:
        - deploy.yaml
        patchesJson6902:
        - target:
            group: apps
            version: v1
            kind: Deployment
            name: web
          path: patch.json
        """,
    "deploy.yaml": deploy(),
    "patch.json": '[{"op":"add","path":"/spec/template/spec/hostNetwork","value":true},{"op":"add","path":"/spec/template/spec/dnsPolicy","value":"ClusterFirstWithHostNet"}]\n',
})

case("pj6902-inline-patch", {
    KUST: """
        resources:
        - sts.yaml
        patchesJson6902:
        - target:
            group: apps
            version: v1
            kind: StatefulSet
            name: db
          patch: |-
            - op: replace
              path: /spec/replicas
              value: 1
            - op: add
              path: /spec/updateStrategy
              value:
                type: OnDelete
        """,
    "sts.yaml": sts(),
})

case("pj6902-custom-kind-and-namespace", {
    KUST: """
        resources:
        - res.yaml
        patchesJson6902:
        - target:
            group: example.com
            version: v1
            kind: Widget
            name: gizmo
            namespace: blue
          patch: |-
            - op: add
              path: /spec/colors/1
              value: blue
        """,
    "res.yaml": docs(WIDGET.replace("name: gizmo", "name: gizmo\n  namespace: blue"),
                     WIDGET.replace("name: gizmo", "name: gizmo\n  namespace: green")),
})

case("pj6902-multiple-targets", {
    KUST: """
        resources:
        - res.yaml
        patchesJson6902:
        - target:
            version: v1
            kind: Service
            name: web
          patch: |-
            - op: add
              path: /spec/sessionAffinity
              value: ClientIP
        - target:
            version: v1
            kind: ServiceAccount
            name: web
          patch: |-
            - op: add
              path: /automountServiceAccountToken
              value: false
        """,
    "res.yaml": docs(svc(), sa()),
})

# ===========================================================================
# 10. configMapGenerator / secretGenerator / generatorOptions
# ===========================================================================

case("cmgen-literals", {
    KUST: """
        configMapGenerator:
        - name: app-env
          literals:
          - LOG_LEVEL=info
          - FEATURE_FLAGS=a,b,c
          - EMPTY=
          - WITH_EQUALS=key=value
          - QUOTED="double quoted"
          - SINGLE='single quoted'
          - SPACES=  padded  
        """,
})

case("cmgen-files", {
    KUST: """
        configMapGenerator:
        - name: nginx-conf
          files:
          - nginx.conf
          - conf.d/default.conf
          - mime=mime.types
        """,
    "nginx.conf": """
        worker_processes auto;
        events {
          worker_connections 1024;
        }
        http {
          include /etc/nginx/conf.d/*.conf;
        }
        """,
    "conf.d/default.conf": """
        server {
          listen 8080;
          location / {
            root /usr/share/nginx/html;
          }
        }
        """,
    "mime.types": "types {\n    text/html html;\n    application/json json;\n}\n",
})

case("cmgen-envs-file", {
    KUST: """
        configMapGenerator:
        - name: from-env
          envs:
          - app.env
          - extra.env
        """,
    "app.env": "# comment line\nDB_HOST=postgres.default.svc\nDB_PORT=5432\n\n  # indented comment\nQUOTED=\"has spaces\"\nSINGLE='x y'\nEMPTY=\nURL=https://example.com/?a=1&b=2\nTRAILING_SPACE=value   \nHASH_INSIDE=abc#def\n",
    "extra.env": "EXTRA=1\nDB_PORT_OVERRIDE=6543\n",
})

case("cmgen-binary-file", {
    KUST: """
        configMapGenerator:
        - name: blobs
          files:
          - logo.bin
          - readme.txt
        """,
    "logo.bin": bytes([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0xFF, 0xFE, 0x10, 0x80, 0x81]),
    "readme.txt": "plain text\n",
})

case("secretgen-binary-and-text", {
    KUST: """
        secretGenerator:
        - name: tls-bundle
          files:
          - key.der
          - ca.crt
        """,
    "key.der": bytes(range(0, 48)),
    "ca.crt": "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUQ0FGRUJBQkUAAAAAAAAAAAAAAAAwCgYIKoZIzj0EAwIw\n-----END CERTIFICATE-----\n",
})

case("cmgen-hash-propagation-deployment", {
    KUST: """
        resources:
        - deploy.yaml
        configMapGenerator:
        - name: web-config
          literals:
          - LOG_LEVEL=warn
        secretGenerator:
        - name: web-secret
          literals:
          - password=hunter2
        """,
    "deploy.yaml": deploy(cm="web-config", secret="web-secret", projected=("web-config", "web-secret")),
})

case("cmgen-hash-propagation-cronjob-pod-sts", {
    KUST: """
        resources:
        - cj.yaml
        - pod.yaml
        - sts.yaml
        configMapGenerator:
        - name: backup-env
          literals:
          - BUCKET=s3://b
        - name: db-conf
          files:
          - postgresql.conf
        secretGenerator:
        - name: backup-s3
          literals:
          - AWS_SECRET_ACCESS_KEY=abc
        - name: db-credentials
          literals:
          - password=pg
        """,
    "cj.yaml": cronjob(cm_name="backup-env", secret_name="backup-s3"),
    "pod.yaml": """
        apiVersion: v1
        kind: Pod
        metadata:
          name: one-off
        spec:
          containers:
          - name: c
            image: busybox
            envFrom:
            - configMapRef:
                name: backup-env
          volumes:
          - name: creds
            secret:
              secretName: backup-s3
              optional: true
        """,
    "sts.yaml": sts(cm_name="db-conf", secret_name="db-credentials"),
    "postgresql.conf": "max_connections = 100\nshared_buffers = 128MB\n",
})

case("cmgen-options-labels-annotations", {
    KUST: """
        configMapGenerator:
        - name: labeled
          literals:
          - a=b
          options:
            labels:
              app.kubernetes.io/component: config
            annotations:
              note: generated
        """,
})

case("cmgen-disable-name-suffix-hash", {
    KUST: """
        resources:
        - deploy.yaml
        configMapGenerator:
        - name: web-config
          literals:
          - STABLE=true
          options:
            disableNameSuffixHash: true
        - name: hashed
          literals:
          - x=y
        """,
    "deploy.yaml": deploy(cm="web-config"),
})

case("cmgen-immutable", {
    KUST: """
        configMapGenerator:
        - name: frozen
          literals:
          - VERSION=1.2.3
          options:
            immutable: true
        secretGenerator:
        - name: frozen-secret
          literals:
          - k=v
          options:
            immutable: true
        """,
})

case("generator-options-global", {
    KUST: """
        generatorOptions:
          disableNameSuffixHash: true
          labels:
            generated: "true"
          annotations:
            generated-by: kustomize
        configMapGenerator:
        - name: one
          literals:
          - a=1
        - name: two
          literals:
          - b=2
          options:
            labels:
              which: two
            disableNameSuffixHash: false
        secretGenerator:
        - name: three
          literals:
          - c=3
        """,
})

case("secretgen-types", {
    KUST: """
        secretGenerator:
        - name: tls
          type: kubernetes.io/tls
          files:
          - tls.crt
          - tls.key
        - name: basic
          type: kubernetes.io/basic-auth
          literals:
          - username=admin
          - password=p@ss:w0rd
        - name: docker
          type: kubernetes.io/dockerconfigjson
          files:
          - .dockerconfigjson=docker.json
        - name: opaque-default
          literals:
          - x=y
        """,
    "tls.crt": "-----BEGIN CERTIFICATE-----\nMIIBdummy\n-----END CERTIFICATE-----\n",
    "tls.key": "-----BEGIN PRIVATE KEY-----\nMIIEdummy\n-----END PRIVATE KEY-----\n",
    "docker.json": '{"auths":{"ghcr.io":{"auth":"dXNlcjp0b2tlbg=="}}}\n',
})

case("secretgen-envs", {
    KUST: """
        secretGenerator:
        - name: db
          envs:
          - db.env
          literals:
          - EXTRA=literal
        """,
    "db.env": "# credentials\nPGUSER=app\nPGPASSWORD=s3cr3t!\nPGDATABASE=orders\n",
})

case("generator-behavior-merge", {
    "base/kustomization.yaml": """
        configMapGenerator:
        - name: app
          literals:
          - A=base
          - B=base
        resources:
        - deploy.yaml
        """,
    "base/deploy.yaml": deploy(cm="app"),
    "overlay/kustomization.yaml": """
        resources:
        - ../base
        configMapGenerator:
        - name: app
          behavior: merge
          literals:
          - B=overlay
          - C=overlay
        """,
}, root="overlay")

case("generator-behavior-replace", {
    "base/kustomization.yaml": """
        configMapGenerator:
        - name: app
          literals:
          - A=base
          - B=base
          options:
            labels:
              from: base
        resources:
        - deploy.yaml
        """,
    "base/deploy.yaml": deploy(cm="app"),
    "overlay/kustomization.yaml": """
        resources:
        - ../base
        configMapGenerator:
        - name: app
          behavior: replace
          literals:
          - ONLY=overlay
        """,
}, root="overlay")

case("generator-behavior-create-in-overlay", {
    "base/kustomization.yaml": "configMapGenerator:\n- name: base-cm\n  literals:\n  - a=1\n",
    "overlay/kustomization.yaml": """
        resources:
        - ../base
        configMapGenerator:
        - name: overlay-cm
          behavior: create
          literals:
          - b=2
        """,
}, root="overlay")

case("secretgen-behavior-merge-base-prefix", {
    "base/kustomization.yaml": """
        namePrefix: base-
        secretGenerator:
        - name: creds
          literals:
          - user=alice
        resources:
        - deploy.yaml
        """,
    "base/deploy.yaml": deploy(secret="creds"),
    "overlay/kustomization.yaml": """
        resources:
        - ../base
        secretGenerator:
        - name: base-creds
          behavior: merge
          literals:
          - password=overlay-pass
        """,
}, root="overlay")

case("generator-merge-with-namespace", {
    "base/kustomization.yaml": """
        namespace: apps
        configMapGenerator:
        - name: cfg
          literals:
          - a=1
        """,
    "overlay/kustomization.yaml": """
        resources:
        - ../base
        configMapGenerator:
        - name: cfg
          namespace: apps
          behavior: merge
          literals:
          - b=2
        """,
}, root="overlay")

case("generator-hash-with-prefix-suffix-refs", {
    KUST: """
        namePrefix: pre-
        nameSuffix: -suf
        resources:
        - deploy.yaml
        configMapGenerator:
        - name: web-config
          literals:
          - K=V
        """,
    "deploy.yaml": deploy(cm="web-config"),
})

case("generator-files-and-literals-mixed", {
    KUST: """
        configMapGenerator:
        - name: mixed
          files:
          - app.properties
          literals:
          - inline=yes
          envs:
          - more.env
        """,
    "app.properties": "server.port=8080\nspring.profiles.active=prod\n",
    "more.env": "FROM_ENV=1\n",
})

case("generator-file-key-rename-and-subdir", {
    KUST: """
        configMapGenerator:
        - name: scripts
          files:
          - entrypoint.sh=scripts/start.sh
          - healthcheck=scripts/health.sh
          - scripts/README.md
        """,
    "scripts/start.sh": "#!/bin/sh\nset -eu\nexec /app/server --config /etc/app/config.yaml \"$@\"\n",
    "scripts/health.sh": "#!/bin/sh\nwget -qO- http://127.0.0.1:8080/healthz\n",
    "scripts/README.md": "# Scripts\n\nTrailing whitespace here:   \n\tand a tab.\n",
})

case("generator-file-no-trailing-newline-and-crlf", {
    KUST: """
        configMapGenerator:
        - name: edge
          files:
          - nonl.txt
          - crlf.txt
          - empty.txt
          - leading-spaces.txt
        """,
    "nonl.txt": "no trailing newline",
    "crlf.txt": "line1\r\nline2\r\n",
    "empty.txt": "",
    "leading-spaces.txt": "   indented first line\nsecond\n",
})

case("generator-in-overlay-updates-base-refs", {
    "base/kustomization.yaml": "resources:\n- deploy.yaml\n- cm.yaml\n",
    "base/deploy.yaml": deploy(cm="web-config"),
    "base/cm.yaml": cm(),
    "overlay/kustomization.yaml": """
        resources:
        - ../base
        configMapGenerator:
        - name: web-config
          behavior: replace
          literals:
          - LOG_LEVEL=debug
        """,
}, root="overlay")

case("generator-large-and-yaml-file-content", {
    KUST: """
        configMapGenerator:
        - name: app-config
          files:
          - config.yaml
          - settings.json
        """,
    "config.yaml": """
        server:
          port: 8080
          tls: false
        database:
          url: "postgres://app@db:5432/app?sslmode=disable"
          pool: 20
        features:
          - checkout
          - "search: v2"
        """,
    "settings.json": '{\n  "theme": "dark",\n  "retries": 3,\n  "endpoints": ["a", "b"]\n}\n',
})

case("generator-unicode-and-special-values", {
    KUST: """
        configMapGenerator:
        - name: i18n
          literals:
          - greeting=héllo wörld
          - japanese=こんにちは
          - emoji=🚀
          - yesval=yes
          - nullval=null
          - numval=0755
          - boolval=true
          - floatval=1.50
        """,
})

case("generator-with-commonlabels-and-annotations", {
    KUST: """
        commonLabels:
          app: web
        commonAnnotations:
          owner: platform
        configMapGenerator:
        - name: gen
          literals:
          - a=b
        secretGenerator:
        - name: gen-secret
          literals:
          - c=d
        """,
})

case("generator-merge-options-and-envs", {
    "base/kustomization.yaml": """
        configMapGenerator:
        - name: svc-env
          envs:
          - base.env
          options:
            annotations:
              layer: base
        """,
    "base/base.env": "A=1\nB=2\n",
    "overlay/kustomization.yaml": """
        resources:
        - ../base
        configMapGenerator:
        - name: svc-env
          behavior: merge
          envs:
          - overlay.env
          options:
            labels:
              layer: overlay
            annotations:
              extra: "true"
        """,
    "overlay/overlay.env": "B=20\nC=3\n",
}, root="overlay")

case("secretgen-hash-in-ingress-tls-and-sa", {
    KUST: """
        resources:
        - ing.yaml
        - sa.yaml
        secretGenerator:
        - name: web-tls
          type: kubernetes.io/tls
          literals:
          - tls.crt=CERT
          - tls.key=KEY
        - name: regcred
          literals:
          - token=abc
        """,
    "ing.yaml": ingress(),
    "sa.yaml": sa("web").rstrip("\n") + "\nimagePullSecrets:\n- name: regcred\nsecrets:\n- name: regcred\n",
})

case("generator-behavior-merge-secret-types", {
    "base/kustomization.yaml": """
        secretGenerator:
        - name: tls
          type: kubernetes.io/tls
          literals:
          - tls.crt=old
          - tls.key=old
        """,
    "overlay/kustomization.yaml": """
        resources:
        - ../base
        secretGenerator:
        - name: tls
          type: kubernetes.io/tls
          behavior: merge
          literals:
          - tls.crt=new
        """,
}, root="overlay")

case("generator-same-name-two-namespaces", {
    KUST: """
        configMapGenerator:
        - name: shared
          namespace: team-a
          literals:
          - team=a
        - name: shared
          namespace: team-b
          literals:
          - team=b
        """,
})

# ===========================================================================
# 11. replacements
# ===========================================================================

case("replacements-basic-fieldpath", {
    KUST: """
        resources:
        - res.yaml
        replacements:
        - source:
            kind: ConfigMap
            name: env-info
            fieldPath: data.IMAGE_TAG
          targets:
          - select:
              kind: Deployment
            fieldPaths:
            - spec.template.metadata.annotations.release
        """,
    "res.yaml": docs(cm("env-info", {"IMAGE_TAG": "v3.2.1"}),
                     deploy().replace("    metadata:\n      labels:\n        app: web\n    spec:",
                                      "    metadata:\n      annotations:\n        release: placeholder\n      labels:\n        app: web\n    spec:")),
})

case("replacements-list-selector-brackets", {
    KUST: """
        resources:
        - res.yaml
        replacements:
        - source:
            kind: Service
            name: db
            fieldPath: metadata.name
          targets:
          - select:
              kind: Deployment
              name: web
            fieldPaths:
            - spec.template.spec.containers.[name=web].env.[name=DB_HOST].value
            - spec.template.spec.initContainers.[name=init-wait].args.0
        """,
    "res.yaml": docs(svc("db", port=5432),
                     deploy(env=[("DB_HOST", "PLACEHOLDER")], init="busybox").replace(
                         "        command: [\"sh\", \"-c\", \"until nslookup db; do sleep 2; done\"]",
                         "        args: [\"PLACEHOLDER\"]")),
})

case("replacements-delimiter-index", {
    KUST: """
        resources:
        - res.yaml
        replacements:
        - source:
            kind: ConfigMap
            name: versions
            fieldPath: data.api
          targets:
          - select:
              kind: Deployment
            fieldPaths:
            - spec.template.spec.containers.0.image
            options:
              delimiter: ":"
              index: 1
        - source:
            kind: ConfigMap
            name: versions
            fieldPath: data.registry
          targets:
          - select:
              kind: Deployment
            fieldPaths:
            - spec.template.spec.containers.0.image
            options:
              delimiter: "/"
              index: 0
        """,
    "res.yaml": docs(cm("versions", {"api": "v2.7.0", "registry": "ecr.example.com"}),
                     deploy("api", image="ghcr.io/acme/api:latest")),
})

case("replacements-source-delimiter", {
    KUST: """
        resources:
        - res.yaml
        replacements:
        - source:
            kind: Deployment
            name: web
            fieldPath: spec.template.spec.containers.0.image
            options:
              delimiter: ":"
              index: 1
          targets:
          - select:
              kind: ConfigMap
            fieldPaths:
            - data.VERSION
        """,
    "res.yaml": docs(deploy(image="nginx:1.25.3"), cm("meta", {"VERSION": "unknown"})),
})

case("replacements-create-option", {
    KUST: """
        resources:
        - res.yaml
        replacements:
        - source:
            kind: Secret
            name: web-secret
            fieldPath: metadata.name
          targets:
          - select:
              kind: Deployment
            fieldPaths:
            - spec.template.metadata.annotations.secret-name
            - spec.template.spec.containers.[name=web].env.[name=NEW].value
            options:
              create: true
        """,
    "res.yaml": docs(secret(), deploy()),
})

case("replacements-select-reject", {
    KUST: """
        resources:
        - res.yaml
        replacements:
        - source:
            kind: ConfigMap
            name: cluster-info
            fieldPath: data.domain
          targets:
          - select:
              kind: Ingress
            reject:
            - name: internal
            - labelSelector: skip=true
            fieldPaths:
            - spec.rules.0.host
        """,
    "res.yaml": docs(cm("cluster-info", {"domain": "prod.example.com"}),
                     ingress("public", host="CHANGE_ME"), ingress("internal", host="CHANGE_ME"),
                     ingress("labelled", host="CHANGE_ME").replace("metadata:\n", "metadata:\n  labels:\n    skip: \"true\"\n", 1)),
})

case("replacements-from-file-path", {
    KUST: "resources:\n- res.yaml\nreplacements:\n- path: replacement.yaml\n",
    "replacement.yaml": """
        source:
          kind: Service
          name: web
          fieldPath: spec.ports.0.port
        targets:
        - select:
            kind: Ingress
          fieldPaths:
          - spec.defaultBackend.service.port.number
          - spec.rules.0.http.paths.0.backend.service.port.number
          options:
            create: true
        """,
    "res.yaml": docs(svc(port=8443), ingress()),
})

case("replacements-whole-map-value", {
    KUST: """
        resources:
        - res.yaml
        replacements:
        - source:
            kind: Deployment
            name: template
            fieldPath: spec.template.spec.containers.0.resources
          targets:
          - select:
              kind: Deployment
              name: worker
            fieldPaths:
            - spec.template.spec.containers.0.resources
        """,
    "res.yaml": docs(deploy("template"), deploy("worker").replace(
        "          limits:\n            memory: 256Mi\n", "")),
})

case("replacements-select-by-group-version-and-multiple-targets", {
    KUST: """
        resources:
        - res.yaml
        replacements:
        - source:
            version: v1
            kind: ConfigMap
            name: cfg
            fieldPath: data.owner
          targets:
          - select:
              group: apps
            fieldPaths:
            - metadata.labels.owner
            options:
              create: true
          - select:
              version: v1
              kind: Service
            fieldPaths:
            - metadata.annotations.owner
            options:
              create: true
        """,
    "res.yaml": docs(cm("cfg", {"owner": "team-blue"}), deploy(), sts(), svc()),
})

case("replacements-after-prefix-uses-new-name", {
    KUST: """
        namePrefix: prd-
        resources:
        - res.yaml
        replacements:
        - source:
            kind: Service
            name: web
          targets:
          - select:
              kind: ConfigMap
            fieldPaths:
            - data.SERVICE_NAME
        """,
    "res.yaml": docs(svc(), cm("links", {"SERVICE_NAME": "x"})),
})

case("replacements-in-base-and-overlay", {
    "base/kustomization.yaml": """
        resources:
        - res.yaml
        replacements:
        - source:
            kind: ConfigMap
            name: settings
            fieldPath: data.replicas
          targets:
          - select:
              kind: ConfigMap
              name: mirror
            fieldPaths:
            - data.copy
        """,
    "base/res.yaml": docs(cm("settings", {"replicas": '"3"'}), cm("mirror", {"copy": "none"})),
    "overlay/kustomization.yaml": """
        resources:
        - ../base
        patches:
        - target:
            kind: ConfigMap
            name: settings
          patch: |-
            - op: replace
              path: /data/replicas
              value: "9"
        replacements:
        - source:
            kind: ConfigMap
            name: settings
            fieldPath: data.replicas
          targets:
          - select:
              kind: ConfigMap
              name: mirror
            fieldPaths:
            - data.overlay-copy
            options:
              create: true
        """,
}, root="overlay")

case("replacements-wildcard-fieldpath", {
    KUST: """
        resources:
        - res.yaml
        replacements:
        - source:
            kind: ConfigMap
            name: img
            fieldPath: data.image
          targets:
          - select:
              kind: Deployment
            fieldPaths:
            - spec.template.spec.containers.*.image
        """,
    "res.yaml": docs(cm("img", {"image": "registry.example.com/unified:1.0"}),
                     deploy(extra_containers=[("a", "x"), ("b", "y")])),
})

case("replacements-source-namespace-and-target-namespace", {
    KUST: """
        resources:
        - res.yaml
        replacements:
        - source:
            kind: ConfigMap
            name: cfg
            namespace: prod
            fieldPath: data.LOG_LEVEL
          targets:
          - select:
              kind: ConfigMap
              namespace: prod
              name: consumer
            fieldPaths:
            - data.level
        """,
    "res.yaml": docs(cm("cfg", {"LOG_LEVEL": "error"}, ns="prod"), cm("cfg", {"LOG_LEVEL": "debug"}, ns="dev"),
                     cm("consumer", {"level": "unset"}, ns="prod"), cm("consumer", {"level": "unset"}, ns="dev")),
})

case("replacements-integer-to-string-field", {
    KUST: """
        resources:
        - res.yaml
        replacements:
        - source:
            kind: Deployment
            name: web
            fieldPath: spec.replicas
          targets:
          - select:
              kind: ConfigMap
            fieldPaths:
            - data.REPLICAS
          - select:
              kind: HorizontalPodAutoscaler
            fieldPaths:
            - spec.minReplicas
        """,
    "res.yaml": docs(deploy(replicas=4), cm("c", {"REPLICAS": '"0"'}), hpa()),
})

# ===========================================================================
# 12. vars
# ===========================================================================

case("vars-objref-service-name", {
    KUST: """
        namePrefix: dev-
        resources:
        - res.yaml
        vars:
        - name: DB_SERVICE
          objref:
            kind: Service
            name: db
            apiVersion: v1
        """,
    "res.yaml": docs(svc("db", port=5432),
                     deploy(command=["/app/server"], args=['"--db-host=$(DB_SERVICE)"', '"--db-port=5432"'],
                            env=[("DB_URL", '"postgres://$(DB_SERVICE):5432/app"')])),
})

case("vars-fieldref", {
    KUST: """
        resources:
        - res.yaml
        vars:
        - name: DB_PORT
          objref:
            kind: Service
            name: db
            apiVersion: v1
          fieldref:
            fieldpath: spec.ports[0].port
        - name: APP_NAMESPACE
          objref:
            kind: ConfigMap
            name: env
            apiVersion: v1
          fieldref:
            fieldpath: data.namespace
        """,
    "res.yaml": docs(svc("db", port=5432), cm("env", {"namespace": "orders"}),
                     deploy(command=["sh", "-c"], args=['"exec app --port $(DB_PORT) --ns $(APP_NAMESPACE)"'])),
})

case("vars-in-env-and-unresolved-left-alone", {
    KUST: """
        resources:
        - res.yaml
        vars:
        - name: SVC
          objref:
            kind: Service
            name: web
            apiVersion: v1
        """,
    "res.yaml": docs(svc(), deploy(env=[("SELF", '"$(SVC).default.svc.cluster.local"'), ("OTHER", '"$(NOT_A_VAR)"'),
                                        ("ESCAPED", '"$$(SVC)"')])),
})

case("vars-in-base-used-in-overlay", {
    "base/kustomization.yaml": """
        resources:
        - res.yaml
        vars:
        - name: CONFIG_NAME
          objref:
            kind: ConfigMap
            name: app-config
            apiVersion: v1
        """,
    "base/res.yaml": docs(cm("app-config"), deploy(args=['"--config=$(CONFIG_NAME)"'])),
    "overlay/kustomization.yaml": "namePrefix: prod-\nresources:\n- ../base\n",
}, root="overlay")

case("vars-custom-varreference-config", {
    KUST: """
        resources:
        - res.yaml
        configurations:
        - varref.yaml
        vars:
        - name: BUCKET
          objref:
            kind: ConfigMap
            name: storage
            apiVersion: v1
          fieldref:
            fieldpath: data.bucket
        """,
    "varref.yaml": """
        varReference:
        - path: spec/target
          kind: Widget
        """,
    "res.yaml": docs(cm("storage", {"bucket": "s3-prod-artifacts"}),
                     WIDGET.replace("  size: large\n", "  size: large\n  target: s3://$(BUCKET)/widgets\n")),
})

case("vars-in-cronjob-and-annotations", {
    KUST: """
        resources:
        - res.yaml
        vars:
        - name: BACKUP_BUCKET
          objref:
            kind: ConfigMap
            name: backup-settings
            apiVersion: v1
          fieldref:
            fieldpath: data.bucket
        """,
    "res.yaml": docs(cm("backup-settings", {"bucket": "nightly-bucket"}),
                     cronjob().replace("tar czf /backup/$(date +%F).tgz /data", "aws s3 cp /data s3://$(BACKUP_BUCKET)/")),
})

case("vars-fieldref-metadata-with-generator", {
    KUST: """
        resources:
        - deploy.yaml
        configMapGenerator:
        - name: web-config
          literals:
          - a=b
        vars:
        - name: CM_NAME
          objref:
            kind: ConfigMap
            name: web-config
            apiVersion: v1
          fieldref:
            fieldpath: metadata.name
        """,
    "deploy.yaml": deploy(cm="web-config", args=['"--watch-configmap=$(CM_NAME)"']),
})

# ===========================================================================
# 13. crds / configurations / sortOptions / buildMetadata / openapi
# ===========================================================================

CRDS_OPENAPI = """
{
  "example.com.v1.Backup": {
    "Schema": {
      "description": "Backup is a custom resource",
      "properties": {
        "apiVersion": {"type": "string"},
        "kind": {"type": "string"},
        "metadata": {"type": "object"},
        "spec": {"$ref": "example.com.v1.BackupSpec"}
      }
    }
  },
  "example.com.v1.BackupSpec": {
    "Schema": {
      "properties": {
        "configRef": {
          "type": "object",
          "x-kubernetes-object-ref-api-version": "v1",
          "x-kubernetes-object-ref-kind": "ConfigMap"
        },
        "credentials": {
          "type": "object",
          "x-kubernetes-object-ref-api-version": "v1",
          "x-kubernetes-object-ref-kind": "Secret",
          "x-kubernetes-object-ref-name-key": "secretName"
        },
        "schedule": {"type": "string"}
      }
    }
  }
}
"""

BACKUP_CR = D("""
apiVersion: example.com/v1
kind: Backup
metadata:
  name: nightly
spec:
  schedule: "0 1 * * *"
  configRef:
    name: backup-settings
  credentials:
    secretName: s3-creds
""")

case("crds-field-name-references", {
    KUST: """
        crds:
        - crds.json
        namePrefix: team-
        resources:
        - res.yaml
        """,
    "crds.json": CRDS_OPENAPI,
    "res.yaml": docs(BACKUP_CR, cm("backup-settings", {"bucket": "b"}), secret("s3-creds")),
})

case("crds-field-with-generators-hash", {
    KUST: """
        crds:
        - crds.json
        resources:
        - backup.yaml
        configMapGenerator:
        - name: backup-settings
          literals:
          - bucket=archive
        secretGenerator:
        - name: s3-creds
          literals:
          - key=AKIA
        """,
    "crds.json": CRDS_OPENAPI,
    "backup.yaml": BACKUP_CR,
})

case("crds-field-without-crds-no-update", {
    KUST: """
        namePrefix: team-
        resources:
        - res.yaml
        """,
    "res.yaml": docs(BACKUP_CR, cm("backup-settings", {"bucket": "b"}), secret("s3-creds")),
})

case("configurations-namereference-crd", {
    KUST: """
        namePrefix: blue-
        configurations:
        - kustomizeconfig.yaml
        resources:
        - res.yaml
        """,
    "kustomizeconfig.yaml": """
        nameReference:
        - kind: ConfigMap
          fieldSpecs:
          - kind: Widget
            path: spec/configRef
        - kind: Service
          fieldSpecs:
          - kind: Widget
            path: spec/endpoints/service
        """,
    "res.yaml": docs(WIDGET.rstrip("\n") + "\n  endpoints:\n  - service: web\n    port: 80\n  - service: external\n    port: 81\n",
                     cm(), svc()),
})

case("configurations-commonlabels-crd", {
    KUST: """
        commonLabels:
          app: shop
        configurations:
        - labels.yaml
        resources:
        - res.yaml
        """,
    "labels.yaml": """
        commonLabels:
        - path: spec/selector/matchLabels
          create: true
          kind: Widget
        - path: spec/podTemplate/metadata/labels
          create: false
          kind: Widget
        """,
    "res.yaml": WIDGET.rstrip("\n") + "\n  podTemplate:\n    metadata:\n      labels:\n        existing: \"1\"\n",
})

case("configurations-namespace-and-annotations", {
    KUST: """
        namespace: widgets
        commonAnnotations:
          owner: team-w
        configurations:
        - cfg.yaml
        resources:
        - res.yaml
        """,
    "cfg.yaml": """
        namespace:
        - kind: Widget
          path: spec/targetNamespace
          create: true
        commonAnnotations:
        - kind: Widget
          path: spec/template/annotations
          create: true
        """,
    "res.yaml": WIDGET,
})

case("configurations-nameprefix-custom-field", {
    KUST: """
        namePrefix: dev-
        configurations:
        - prefix.yaml
        resources:
        - res.yaml
        """,
    "prefix.yaml": """
        namePrefix:
        - kind: Widget
          path: spec/displayName
        """,
    "res.yaml": WIDGET.rstrip("\n") + "\n  displayName: gizmo-display\n",
})

case("configurations-images-and-replicas-crd", {
    KUST: """
        configurations:
        - cfg.yaml
        images:
        - name: ghcr.io/acme/runner
          newTag: v9
        replicas:
        - name: pool
          count: 12
        resources:
        - res.yaml
        """,
    "cfg.yaml": """
        images:
        - kind: RunnerPool
          path: spec/runnerImage
        replicas:
        - kind: RunnerPool
          path: spec/size
          create: true
        """,
    "res.yaml": """
        apiVersion: ci.example.com/v1alpha1
        kind: RunnerPool
        metadata:
          name: pool
        spec:
          runnerImage: ghcr.io/acme/runner:v1
          size: 1
        """,
})

SORT_RES = docs(
    deploy(), svc(), cm(), secret(), sa(), role(), binding(), role("cr", kind="ClusterRole"),
    binding("crb", "cr", "ClusterRole", "web", sa_ns="default", kind="ClusterRoleBinding"),
    ns_obj("apps"), CRD_WIDGET, WIDGET, WEBHOOK_MUT, WEBHOOK_VAL, APISERVICE, PRIORITY, STORAGECLASS,
    pvc(), QUOTA, LIMITRANGE, ingress(), hpa(), pdb(), netpol(), cronjob(), sts(),
    D("""
    apiVersion: apps/v1
    kind: DaemonSet
    metadata:
      name: agent
    spec:
      selector:
        matchLabels:
          app: agent
      template:
        metadata:
          labels:
            app: agent
        spec:
          containers:
          - name: agent
            image: agent:1
    """),
    D("""
    apiVersion: batch/v1
    kind: Job
    metadata:
      name: migrate
    spec:
      template:
        spec:
          restartPolicy: Never
          containers:
          - name: m
            image: m:1
    """),
    D("""
    apiVersion: v1
    kind: Endpoints
    metadata:
      name: external-db
    subsets:
    - addresses:
      - ip: 10.1.2.3
      ports:
      - port: 5432
    """),
    D("""
    apiVersion: v1
    kind: PersistentVolume
    metadata:
      name: pv-1
    spec:
      capacity:
        storage: 1Gi
      accessModes: ["ReadWriteOnce"]
      hostPath:
        path: /mnt/data
    """),
    D("""
    apiVersion: v1
    kind: ReplicationController
    metadata:
      name: rc
    spec:
      replicas: 1
      selector:
        app: rc
      template:
        metadata:
          labels:
            app: rc
        spec:
          containers:
          - name: c
            image: c
    """),
    D("""
    apiVersion: v1
    kind: Pod
    metadata:
      name: lonely
    spec:
      containers:
      - name: c
        image: c
    """),
    D("""
    apiVersion: zz.example.com/v1
    kind: Aardvark
    metadata:
      name: unknown-kind
    """),
)

case("sort-legacy-many-kinds-default", {
    KUST: "resources:\n- res.yaml\n",
    "res.yaml": SORT_RES,
})

case("sort-fifo", {
    KUST: "sortOptions:\n  order: fifo\nresources:\n- res.yaml\n",
    "res.yaml": SORT_RES,
})

case("sort-legacy-explicit", {
    KUST: "sortOptions:\n  order: legacy\nresources:\n- res.yaml\n",
    "res.yaml": SORT_RES,
})

case("sort-legacy-custom-order", {
    KUST: """
        sortOptions:
          order: legacy
          legacySortOptions:
            orderFirst:
            - Widget
            - Service
            - ConfigMap
            orderLast:
            - Namespace
            - Deployment
        resources:
        - res.yaml
        """,
    "res.yaml": SORT_RES,
})

case("sort-same-kind-by-namespace-then-name", {
    KUST: "resources:\n- res.yaml\n",
    "res.yaml": docs(cm("b", ns="beta"), cm("a", ns="beta"), cm("z"), cm("a"), cm("m", ns="alpha"),
                     cm("B", ns="alpha"), cm("a-1"), cm("a.1"), cm("A")),
})

case("sort-fifo-with-bases-and-generators", {
    KUST: """
        sortOptions:
          order: fifo
        resources:
        - svc.yaml
        - base
        configMapGenerator:
        - name: gen
          literals:
          - a=b
        """,
    "svc.yaml": svc(),
    "base/kustomization.yaml": "resources:\n- ns.yaml\n- deploy.yaml\n",
    "base/ns.yaml": ns_obj("zzz"),
    "base/deploy.yaml": deploy(),
})

case("sort-legacy-group-version-tiebreak", {
    KUST: "resources:\n- res.yaml\n",
    "res.yaml": docs(
        "apiVersion: b.example.com/v1\nkind: Thing\nmetadata:\n  name: x\n",
        "apiVersion: a.example.com/v2\nkind: Thing\nmetadata:\n  name: x\n",
        "apiVersion: a.example.com/v1\nkind: Thing\nmetadata:\n  name: x\n",
        "apiVersion: a.example.com/v1\nkind: Other\nmetadata:\n  name: x\n",
        "apiVersion: v1\nkind: Thing\nmetadata:\n  name: x\n"),
})

case("sort-options-in-overlay-only", {
    "base/kustomization.yaml": "resources:\n- res.yaml\n",
    "base/res.yaml": docs(deploy(), ns_obj("web"), svc()),
    "overlay/kustomization.yaml": "sortOptions:\n  order: fifo\nresources:\n- ../base\n- cm.yaml\n",
    "overlay/cm.yaml": cm(),
}, root="overlay")

case("buildmetadata-managedbylabel", {
    KUST: "buildMetadata:\n- managedByLabel\nresources:\n- res.yaml\n",
    "res.yaml": docs(cm(), svc()),
})

case("buildmetadata-origin-annotations", {
    "base/kustomization.yaml": "resources:\n- deploy.yaml\n",
    "base/deploy.yaml": deploy(),
    "overlay/kustomization.yaml": """
        buildMetadata:
        - originAnnotations
        resources:
        - ../base
        - svc.yaml
        configMapGenerator:
        - name: gen
          literals:
          - a=b
        """,
    "overlay/svc.yaml": svc(),
}, root="overlay")

case("error-commonlabels-unquoted-y-is-bool", {
    KUST: """
        buildMetadata:
        - transformerAnnotations
        namePrefix: p-
        commonLabels:
          x: y
        resources:
        - cm.yaml
        """,
    "cm.yaml": cm(),
})

case("buildmetadata-all", {
    KUST: """
        buildMetadata: [originAnnotations, transformerAnnotations, managedByLabel]
        namespace: meta
        resources:
        - cm.yaml
        patches:
        - patch: |-
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: web-config
            data:
              patched: "true"
        """,
    "cm.yaml": cm(),
})

OPENAPI_SCHEMA = """
{
  "definitions": {
    "com.example.v1.Widget": {
      "type": "object",
      "properties": {
        "apiVersion": {"type": "string"},
        "kind": {"type": "string"},
        "metadata": {"type": "object"},
        "spec": {
          "type": "object",
          "properties": {
            "parts": {
              "type": "array",
              "items": {"$ref": "#/definitions/com.example.v1.Part"},
              "x-kubernetes-patch-merge-key": "name",
              "x-kubernetes-patch-strategy": "merge"
            }
          }
        }
      },
      "x-kubernetes-group-version-kind": [
        {"group": "example.com", "kind": "Widget", "version": "v1"}
      ]
    },
    "com.example.v1.Part": {
      "type": "object",
      "properties": {
        "name": {"type": "string"},
        "count": {"type": "integer"}
      }
    }
  }
}
"""

WIDGET_PARTS = D("""
apiVersion: example.com/v1
kind: Widget
metadata:
  name: gizmo
spec:
  parts:
  - name: bolt
    count: 10
  - name: nut
    count: 10
""")

WIDGET_PARTS_PATCH = """
    - patch: |-
        apiVersion: example.com/v1
        kind: Widget
        metadata:
          name: gizmo
        spec:
          parts:
          - name: nut
            count: 99
          - name: washer
            count: 5
"""

case("openapi-custom-schema-merge-key", {
    KUST: "openapi:\n  path: schema.json\nresources:\n- widget.yaml\npatches:\n" + D(WIDGET_PARTS_PATCH),
    "schema.json": OPENAPI_SCHEMA,
    "widget.yaml": WIDGET_PARTS,
})

case("openapi-absent-list-replaced", {
    KUST: "resources:\n- widget.yaml\npatches:\n" + D(WIDGET_PARTS_PATCH),
    "widget.yaml": WIDGET_PARTS,
})

case("openapi-version-field", {
    KUST: """
        openapi:
          version: v1.21.2
        resources:
        - deploy.yaml
        patches:
        - patch: |-
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: web
            spec:
              template:
                spec:
                  containers:
                  - name: web
                    env:
                    - name: X
                      value: "1"
        """,
    "deploy.yaml": deploy(env=[("Y", '"2"')]),
})

# ===========================================================================
# 14. YAML scalar fidelity
# ===========================================================================

def yaml_case(slug, body, kind="cm", extra_kust=""):
    """body is a raw YAML document (no dedent applied)."""
    case(slug, {KUST: "resources:\n- doc.yaml\n" + extra_kust, "doc.yaml": body})


yaml_case("yaml-bool-like-strings-quoted", """apiVersion: v1
kind: ConfigMap
metadata:
  name: bool-like
data:
  a: "yes"
  b: "no"
  c: "on"
  d: "off"
  e: "y"
  f: "n"
  g: "true"
  h: "false"
  i: "True"
  j: "NO"
  k: "Yes"
  l: "OFF"
  m: "Y"
""")

yaml_case("yaml-null-like-strings-quoted", """apiVersion: v1
kind: ConfigMap
metadata:
  name: null-like
data:
  a: "null"
  b: "~"
  c: "Null"
  d: "NULL"
  e: ""
  f: ''
  g: " "
""")

yaml_case("yaml-number-like-strings", """apiVersion: v1
kind: ConfigMap
metadata:
  name: number-like
data:
  octal: "0755"
  octal-o: "0o755"
  exp: "1e3"
  hex: "0x1F"
  int: "42"
  neg: "-7"
  float: "3.14"
  dot: ".5"
  inf: ".inf"
  nan: ".NaN"
  sexagesimal: "1:20"
  version: "1.10"
  leading-plus: "+1"
  underscore: "1_000"
  date: "2024-01-15"
  time: "2001-12-14t21:59:43.10-05:00"
""")

yaml_case("yaml-leading-trailing-spaces", """apiVersion: v1
kind: ConfigMap
metadata:
  name: spaces
data:
  leading: "  leading"
  trailing: "trailing  "
  both: "  both  "
  tab: "\\tTab"
  newline-escape: "line1\\nline2"
  only-newline: "\\n"
  crlf: "a\\r\\nb"
""")

yaml_case("yaml-long-strings", """apiVersion: v1
kind: ConfigMap
metadata:
  name: long
data:
  with-spaces: "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud exercitation"
  without-spaces: "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
  url: https://example.com/a/very/long/path/that/keeps/going/and/going/and/going/beyond/eighty/columns/index.html?query=string&more=params
  plain-long: this is a plain scalar that is definitely longer than eighty columns so a folding emitter might want to wrap it somewhere
  quoted-long-with-colon: "key: value pairs inside a long string that is more than eighty characters wide, for sure"
""")

yaml_case("yaml-block-scalars", """apiVersion: v1
kind: ConfigMap
metadata:
  name: blocks
data:
  literal: |
    line one
    line two
  literal-strip: |-
    stripped
    trailing newline
  literal-keep: |+
    kept

  folded: >
    folded text
    joins lines

    with paragraph
  folded-strip: >-
    folded
    strip
  indented: |
    root
      nested two
        nested four
    back
  explicit-indent: |2
      starts with spaces
    then less
""")

yaml_case("yaml-block-scalar-edge-cases", """apiVersion: v1
kind: ConfigMap
metadata:
  name: block-edges
data:
  trailing-spaces: "line with trailing space \\nnext\\n"
  leading-newline: "\\nstarts with newline\\n"
  only-spaces-line: "a\\n   \\nb\\n"
  tabs: "col1\\tcol2\\nx\\ty\\n"
  no-final-newline: "first\\nsecond"
  many-final: "x\\n\\n\\n"
  leading-space-multiline: "  indented first\\nsecond\\n"
""")

yaml_case("yaml-unicode", """apiVersion: v1
kind: ConfigMap
metadata:
  name: unicode
data:
  german: "Grüße aus Köln"
  japanese: 日本語のテキスト
  emoji: "🚢 flotilla ⚓"
  rtl: مرحبا
  escaped-unicode: "\\u00e9\\u00e8"
  zero-width: "a\\u200bb"
  nbsp: "a\\u00a0b"
  bom-ish: "\\ufeffstart"
""")

yaml_case("yaml-special-characters", """apiVersion: v1
kind: ConfigMap
metadata:
  name: specials
data:
  colon-space: "a: b"
  space-hash: "a #b"
  hash-start: "#not-a-comment"
  dash: "- item"
  dash-only: "-"
  star: "*alias"
  amp: "&anchor"
  bang: "!tag"
  percent: "%directive"
  at: "@handle"
  backtick: "`cmd`"
  pipe: "|"
  gt: ">"
  brackets: "[a, b]"
  braces: "{a: b}"
  question: "? x"
  comma: "a,b"
  single-quote: "it's"
  double-quote: 'say "hi"'
  backslash: 'C:\\path\\to'
  colon-end: "trailing:"
  equals: "a=b"
""")

yaml_case("yaml-numbers-in-custom-kind", """apiVersion: example.com/v1
kind: Widget
metadata:
  name: numbers
spec:
  int: 42
  negative: -17
  big: 9223372036854775807
  bigger: 123456789012345678901234567890
  float-one: 1.0
  float-half: 1.5
  huge: 1e21
  tiny: 0.000001
  neg-zero: -0
  neg-zero-float: -0.0
  exp-upper: 6.02E+23
  octal-int: 0755
  octal-o: 0o17
  hex-int: 0x1F
  plus: +12
  underscore: 1_000
  leading-zero-float: 00.5
""")

yaml_case("yaml-bools-and-nulls-custom-kind", """apiVersion: example.com/v1
kind: Widget
metadata:
  name: bools
spec:
  t: true
  f: false
  cap: True
  upper: FALSE
  yes-plain: yes
  no-plain: no
  on-plain: on
  off-plain: off
  y-plain: y
  n-plain: n
  null-plain: null
  tilde: ~
  empty:
  Null-cap: Null
""")

yaml_case("yaml-nulls-in-lists-and-maps", """apiVersion: example.com/v1
kind: Widget
metadata:
  name: nulls
spec:
  list-with-nulls:
  - a
  - null
  - ~
  -
  - b
  map-with-nulls:
    k1: null
    k2: ~
    k3:
    k4: value
  nested:
    inner:
      deep: null
""")

yaml_case("yaml-empty-collections", """apiVersion: example.com/v1
kind: Widget
metadata:
  name: empties
  labels: {}
  annotations: {}
spec:
  emptyMap: {}
  emptyList: []
  nested:
    a: {}
    b: []
    c:
      d: {}
  listOfEmpty:
  - {}
  - []
  - ""
""")

yaml_case("yaml-keys-needing-quotes", """apiVersion: example.com/v1
kind: Widget
metadata:
  name: keys
spec:
  "yes": 1
  "no": 2
  "on": 3
  "null": 4
  "1": numeric-key
  "1.5": float-key
  "true": bool-key
  "key with spaces": 5
  "key: colon": 6
  "#hash": 7
  "-dash": 8
  "": empty-key
  "~": tilde-key
  example.com/annotation: 9
  UPPER: 10
  "y": 11
  n: 12
""")

yaml_case("yaml-anchors-aliases", """apiVersion: example.com/v1
kind: Widget
metadata:
  name: anchors
  labels: &labels
    app: anchored
    tier: web
spec:
  selector:
    matchLabels: *labels
  defaults: &defaults
    timeout: 30
    retries: 3
  scalarAnchor: &s hello
  scalarAlias: *s
  listAnchor: &lst
  - one
  - two
  listAlias: *lst
""")

yaml_case("yaml-merge-keys", """apiVersion: example.com/v1
kind: Widget
metadata:
  name: merges
spec:
  base: &base
    cpu: 100m
    memory: 128Mi
    tier: small
  override:
    <<: *base
    memory: 512Mi
  multi:
    <<: [*base, {extra: true}]
    tier: custom
""")

yaml_case("yaml-flow-style-nested", """apiVersion: example.com/v1
kind: Widget
metadata: {name: flow, labels: {a: "1", b: two}}
spec: {ports: [80, 443, "8080"], matrix: [[1, 2], [3, 4]], objs: [{name: a, v: 1}, {name: b, v: null}], s: 'single ''quoted'''}
""")

yaml_case("yaml-multiline-plain-and-quoted", """apiVersion: v1
kind: ConfigMap
metadata:
  name: multiline
data:
  plain-folded: this plain scalar
    continues on the next line
    and another
  double-folded: "double quoted
    continues here"
  single-folded: 'single quoted
    continues here'
  double-escaped-newline: "first\\
    second"
  with-blank-line: "para one

    para two"
""")

yaml_case("error-yaml-directive-header", """%YAML 1.1
---
# leading comment
apiVersion: v1 # trailing comment
kind: ConfigMap
metadata:
  name: commented # name comment
  # comment inside map
data:
  key: value # comment after value
  hash-in-value: "value # not a comment"
  url: http://example.com/#anchor
...
""")

yaml_case("yaml-integer-like-label-and-annotation-values", """apiVersion: v1
kind: Service
metadata:
  name: quoted-meta
  labels:
    version: "1"
    enabled: "true"
    float: "1.0"
  annotations:
    prometheus.io/port: "9090"
    prometheus.io/scrape: "true"
    count: "007"
spec:
  selector:
    app: quoted
  ports:
  - port: 9090
    targetPort: "9090"
""")

yaml_case("yaml-string-with-only-digits-in-data-of-secret", """apiVersion: v1
kind: Secret
metadata:
  name: digits
type: Opaque
stringData:
  pin: "0000"
  port: "5432"
  yes: "y"
data:
  raw: MTIzNA==
""")

yaml_case("yaml-indentation-styles", """apiVersion: apps/v1
kind: Deployment
metadata:
    name: four-space
    labels:
        app: fs
spec:
    selector:
        matchLabels:
            app: fs
    template:
        metadata:
            labels:
                app: fs
        spec:
            containers:
                -   name: c
                    image: nginx
                    args:
                        - --flag
                        -   --other
""")

yaml_case("yaml-windows-line-endings", "apiVersion: v1\r\nkind: ConfigMap\r\nmetadata:\r\n  name: crlf-doc\r\ndata:\r\n  a: one\r\n  b: \"two\"\r\n  block: |\r\n    x\r\n    y\r\n")

yaml_case("yaml-key-ordering-preserved-vs-sorted", """kind: ConfigMap
metadata:
  name: key-order
  namespace: ns
  labels:
    zeta: "1"
    alpha: "2"
    Mixed: "3"
    _under: "4"
data:
  z: "1"
  a: "2"
  B: "3"
  "10": ten
  "9": nine
apiVersion: v1
""")

yaml_case("yaml-special-strings-in-lists", """apiVersion: example.com/v1
kind: Widget
metadata:
  name: list-strings
spec:
  args:
  - --flag=value
  - "-"
  - "yes"
  - "123"
  - "1.0"
  - "null"
  - ""
  - " padded "
  - "a: b"
  - "#hash"
  - '*star'
  - "@at"
  - "%pct"
  - "`tick`"
  - "!bang"
  - "&amp"
  - "{brace"
  - "[bracket"
  - "|pipe"
  - ">gt"
  - "'sq"
  - '"dq'
  - "? q"
  - ",comma"
""")

yaml_case("yaml-block-scalar-in-custom-kind-and-annotation", """apiVersion: example.com/v1
kind: Widget
metadata:
  name: scripts
  annotations:
    description: |
      Multi-line
      annotation
spec:
  script: |
    #!/bin/bash
    set -euo pipefail
    for i in $(seq 1 3); do
      echo "iteration $i: value=${VALUE:-default}"
    done
  query: >-
    SELECT *
    FROM table
    WHERE id = 1
  json: |-
    {"a": 1, "b": [1, 2, 3]}
""")

yaml_case("yaml-large-integers-and-precision", """apiVersion: v1
kind: ConfigMap
metadata:
  name: precision
data:
  max-int64: "9223372036854775807"
  over-int64: "9223372036854775808"
  float-precise: "0.1"
binaryData: {}
---
apiVersion: example.com/v1
kind: Widget
metadata:
  name: precision
spec:
  maxInt64: 9223372036854775807
  overInt64: 9223372036854775808
  minInt64: -9223372036854775808
  floatPrecise: 0.1
  floatLong: 3.141592653589793238462643383279
  floatSmallExp: 1.0e-10
  intAsFloat: 100.0
  million: 1000000
  millionFloat: 1000000.0
""")

yaml_case("yaml-timestamps-and-dates", """apiVersion: example.com/v1
kind: Widget
metadata:
  name: dates
  creationTimestamp: null
spec:
  date: 2024-01-15
  datetime: 2001-12-14T21:59:43.10-05:00
  spaced: 2001-12-14 21:59:43.10 -5
  quoted: "2024-01-15"
""")

yaml_case("yaml-duplicate-free-deep-nesting", """apiVersion: example.com/v1
kind: Widget
metadata:
  name: deep
spec:
  l1:
    l2:
      l3:
        l4:
          l5:
            l6:
              - name: x
                values:
                  - - a
                    - b
                  - - c
                  -
                    - d
              - name: y
""")

yaml_case("yaml-list-of-lists-and-compact-maps", """apiVersion: example.com/v1
kind: Widget
metadata:
  name: compact
spec:
  rows:
  - - 1
    - 2
  - - 3
  maps:
  - a: 1
    b: 2
  - c: 3
  mixed:
  - scalar
  - key: value
  - [x, y]
""")

yaml_case("yaml-transformed-resource-keeps-fidelity", """apiVersion: v1
kind: ConfigMap
metadata:
  name: transformed
data:
  yes-val: "yes"
  octal: "0755"
  block: |
    keep
      me
  spaced: "  x  "
""", extra_kust="namePrefix: t-\ncommonLabels:\n  app: fidelity\ncommonAnnotations:\n  note: \"on\"\nnamespace: fid\n")

# ===========================================================================
# 15. ordering
# ===========================================================================

case("ordering-rbac-before-workloads", {
    KUST: "resources:\n- z.yaml\n- a.yaml\n",
    "z.yaml": docs(deploy(sa="web"), svc()),
    "a.yaml": docs(binding(), role(), sa(), ns_obj("web")),
})

case("ordering-webhooks-last-across-bases", {
    KUST: "resources:\n- hooks\n- app\n",
    "hooks/kustomization.yaml": "resources:\n- hooks.yaml\n",
    "hooks/hooks.yaml": docs(WEBHOOK_VAL, WEBHOOK_MUT),
    "app/kustomization.yaml": "resources:\n- app.yaml\n",
    "app/app.yaml": docs(svc("injector"), deploy("injector"), CRD_WIDGET, ns_obj("system")),
})

case("ordering-unknown-kinds-mixed", {
    KUST: "resources:\n- res.yaml\n",
    "res.yaml": docs(
        "apiVersion: cert-manager.io/v1\nkind: Certificate\nmetadata:\n  name: web\nspec:\n  secretName: web-tls\n  issuerRef:\n    name: letsencrypt\n    kind: ClusterIssuer\n  dnsNames:\n  - web.example.com\n",
        "apiVersion: cert-manager.io/v1\nkind: ClusterIssuer\nmetadata:\n  name: letsencrypt\nspec:\n  acme:\n    server: https://acme-v02.api.letsencrypt.org/directory\n    privateKeySecretRef:\n      name: le-account\n",
        "apiVersion: monitoring.coreos.com/v1\nkind: ServiceMonitor\nmetadata:\n  name: web\nspec:\n  selector:\n    matchLabels:\n      app: web\n",
        svc(), deploy(), ns_obj("web")),
})

case("ordering-namespaces-sorted-by-name", {
    KUST: "resources:\n- res.yaml\n",
    "res.yaml": docs(ns_obj("zeta"), ns_obj("alpha"), ns_obj("kube-system"), ns_obj("Beta"), ns_obj("alpha-2")),
})

case("ordering-same-kind-different-apiversions", {
    KUST: "resources:\n- res.yaml\n",
    "res.yaml": docs(
        "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata:\n  name: b\nspec:\n  scaleTargetRef:\n    apiVersion: apps/v1\n    kind: Deployment\n    name: b\n  maxReplicas: 3\n",
        "apiVersion: autoscaling/v1\nkind: HorizontalPodAutoscaler\nmetadata:\n  name: a\nspec:\n  scaleTargetRef:\n    apiVersion: apps/v1\n    kind: Deployment\n    name: a\n  maxReplicas: 3\n",
        "apiVersion: policy/v1beta1\nkind: PodDisruptionBudget\nmetadata:\n  name: old\nspec:\n  minAvailable: 1\n",
        "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata:\n  name: new\nspec:\n  minAvailable: 1\n"),
})

yaml_case("yaml-comments-and-document-end-marker", """---
# leading comment
apiVersion: v1 # trailing comment
kind: ConfigMap
metadata:
  name: commented # name comment
  # comment inside map
data:
  key: value # comment after value
  hash-in-value: "value # not a comment"
  url: http://example.com/#anchor
...
""")

yaml_case("error-yaml-infinity-float", """apiVersion: example.com/v1
kind: Widget
metadata:
  name: infinite
spec:
  inf: .inf
  nan: .nan
""")

# ===========================================================================
# 16. Flux build cases (no kustomization at the build root): fleet layout
# ===========================================================================

F = {}  # the fleet repository, path -> content

F["features/ingress-nginx/non-namespaced/namespace.yaml"] = ns_obj("ingress-nginx")
F["features/ingress-nginx/non-namespaced/clusterrole.yaml"] = D("""
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: ingress-nginx
  labels:
    app.kubernetes.io/name: ingress-nginx
rules:
- apiGroups: [""]
  resources: ["configmaps", "endpoints", "nodes", "pods", "secrets", "namespaces"]
  verbs: ["list", "watch"]
- apiGroups: ["networking.k8s.io"]
  resources: ["ingresses", "ingressclasses"]
  verbs: ["get", "list", "watch"]
""")
F["features/ingress-nginx/non-namespaced/clusterrolebinding.yaml"] = binding(
    "ingress-nginx", "ingress-nginx", "ClusterRole", "ingress-nginx", sa_ns="ingress-nginx", kind="ClusterRoleBinding")
F["features/ingress-nginx/non-namespaced/ingressclass.yaml"] = D("""
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata:
  name: nginx
  annotations:
    ingressclass.kubernetes.io/is-default-class: "true"
spec:
  controller: k8s.io/ingress-nginx
""")
F["features/ingress-nginx/non-namespaced/validatingwebhook.yaml"] = D("""
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata:
  name: ingress-nginx-admission
webhooks:
- name: validate.nginx.ingress.kubernetes.io
  admissionReviewVersions: ["v1"]
  sideEffects: None
  failurePolicy: Fail
  matchPolicy: Equivalent
  clientConfig:
    service:
      name: ingress-nginx-controller-admission
      namespace: ingress-nginx
      path: /networking/v1/ingresses
  rules:
  - apiGroups: ["networking.k8s.io"]
    apiVersions: ["v1"]
    operations: ["CREATE", "UPDATE"]
    resources: ["ingresses"]
""")
F["features/ingress-nginx/namespaced/ingress-nginx/serviceaccount.yaml"] = sa("ingress-nginx", ns="ingress-nginx")
F["features/ingress-nginx/namespaced/ingress-nginx/configmap.yaml"] = cm(
    "ingress-nginx-controller", {"allow-snippet-annotations": '"false"', "use-forwarded-headers": '"true"',
                                 "proxy-body-size": "8m"}, ns="ingress-nginx")
F["features/ingress-nginx/namespaced/ingress-nginx/deployment.yaml"] = deploy(
    "ingress-nginx-controller", image="registry.k8s.io/ingress-nginx/controller:v1.10.1", ns="ingress-nginx",
    sa="ingress-nginx", port=80, args=["/nginx-ingress-controller", "--election-id=ingress-nginx-leader",
                                        "--controller-class=k8s.io/ingress-nginx",
                                        "--configmap=$(POD_NAMESPACE)/ingress-nginx-controller"])
F["features/ingress-nginx/namespaced/ingress-nginx/service.yaml"] = svc(
    "ingress-nginx-controller", port=80, ns="ingress-nginx", type_="LoadBalancer") + "---\n" + svc(
    "ingress-nginx-controller-admission", port=443, target="webhook", ns="ingress-nginx", app="ingress-nginx-controller")

F["features/cert-manager/non-namespaced/namespace.yaml"] = ns_obj("cert-manager")
F["features/cert-manager/non-namespaced/crds/certificates.yaml"] = D("""
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: certificates.cert-manager.io
spec:
  group: cert-manager.io
  names:
    kind: Certificate
    listKind: CertificateList
    plural: certificates
    shortNames: [cert, certs]
    singular: certificate
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        x-kubernetes-preserve-unknown-fields: true
""")
F["features/cert-manager/non-namespaced/crds/clusterissuers.yaml"] = D("""
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: clusterissuers.cert-manager.io
spec:
  group: cert-manager.io
  names:
    kind: ClusterIssuer
    listKind: ClusterIssuerList
    plural: clusterissuers
    singular: clusterissuer
  scope: Cluster
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        x-kubernetes-preserve-unknown-fields: true
""")
F["features/cert-manager/non-namespaced/clusterissuer.yaml"] = D("""
apiVersion: cert-manager.io/v1
kind: ClusterIssuer
metadata:
  name: letsencrypt-prod
spec:
  acme:
    email: platform@example.com
    server: https://acme-v02.api.letsencrypt.org/directory
    privateKeySecretRef:
      name: letsencrypt-prod-account
    solvers:
    - dns01:
        route53:
          region: eu-west-1
""")
F["features/cert-manager/namespaced/cert-manager/deployment.yaml"] = deploy(
    "cert-manager", image="quay.io/jetstack/cert-manager-controller:v1.14.5", ns="cert-manager",
    sa="cert-manager", port=9402, replicas=1)
F["features/cert-manager/namespaced/cert-manager/serviceaccount.yaml"] = sa("cert-manager", ns="cert-manager")
F["features/cert-manager/namespaced/cert-manager/service.yaml"] = svc("cert-manager", port=9402, ns="cert-manager")

CLUSTER = "providers/aws/v1/clusters/prod"
F[f"{CLUSTER}/common/non-namespaced/storageclass.yaml"] = STORAGECLASS
F[f"{CLUSTER}/common/non-namespaced/priorityclass.yaml"] = PRIORITY
F[f"{CLUSTER}/common/namespaced/kube-system/aws-auth.yaml"] = D("""
apiVersion: v1
kind: ConfigMap
metadata:
  name: aws-auth
  namespace: kube-system
data:
  mapRoles: |
    - rolearn: arn:aws:iam::123456789012:role/prod-node
      username: system:node:{{EC2PrivateDNSName}}
      groups:
      - system:bootstrappers
      - system:nodes
""")
F[f"{CLUSTER}/common/namespaced/kube-system/cluster-autoscaler.yaml"] = deploy(
    "cluster-autoscaler", image="registry.k8s.io/autoscaling/cluster-autoscaler:v1.29.2", ns="kube-system",
    sa="cluster-autoscaler", port=8085, replicas=1)
F[f"{CLUSTER}/common/namespaced/monitoring/servicemonitor.yaml"] = D("""
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata:
  name: kube-state-metrics
  namespace: monitoring
spec:
  selector:
    matchLabels:
      app.kubernetes.io/name: kube-state-metrics
  endpoints:
  - port: http
    interval: 30s
""")
F[f"{CLUSTER}/eu-west-1-a/non-namespaced/namespaces.yaml"] = docs(ns_obj("flux-system"), ns_obj("monitoring"))
F[f"{CLUSTER}/eu-west-1-a/namespaced/flux-system/gitrepository.yaml"] = D("""
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: fleet
  namespace: flux-system
spec:
  interval: 1m0s
  ref:
    branch: main
  secretRef:
    name: flux-system
  url: ssh://git@github.com/example/fleet
""")
F[f"{CLUSTER}/eu-west-1-a/namespaced/flux-system/features.yaml"] = D("""
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: ingress-nginx
  namespace: flux-system
spec:
  interval: 10m
  path: ./features/ingress-nginx
  prune: true
  sourceRef:
    kind: GitRepository
    name: fleet
  healthChecks:
  - apiVersion: apps/v1
    kind: Deployment
    name: ingress-nginx-controller
    namespace: ingress-nginx
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: cert-manager
  namespace: flux-system
spec:
  interval: 10m
  path: ./features/cert-manager
  prune: true
  dependsOn:
  - name: ingress-nginx
  sourceRef:
    kind: GitRepository
    name: fleet
  postBuild:
    substitute:
      cluster_name: eu-west-1-a
      region: eu-west-1
""")
F[f"{CLUSTER}/eu-west-1-a/namespaced/monitoring/prometheus-values.yaml"] = cm(
    "prometheus-cluster-values", {"values.yaml": "|\n    clusterName: eu-west-1-a\n    retention: 15d"}, ns="monitoring")

MGMT = "providers/aws/v1/mgmt"
F[f"{MGMT}/clusters/prod-eu-west-1-a/cluster.yaml"] = D("""
apiVersion: cluster.x-k8s.io/v1beta1
kind: Cluster
metadata:
  name: prod-eu-west-1-a
  namespace: capi-clusters
  labels:
    env: prod
    region: eu-west-1
spec:
  clusterNetwork:
    pods:
      cidrBlocks: ["192.168.0.0/16"]
  infrastructureRef:
    apiVersion: infrastructure.cluster.x-k8s.io/v1beta2
    kind: AWSManagedCluster
    name: prod-eu-west-1-a
  controlPlaneRef:
    apiVersion: controlplane.cluster.x-k8s.io/v1beta2
    kind: AWSManagedControlPlane
    name: prod-eu-west-1-a-control-plane
""")
F[f"{MGMT}/clusters/prod-eu-west-1-a/controlplane.yaml"] = D("""
apiVersion: controlplane.cluster.x-k8s.io/v1beta2
kind: AWSManagedControlPlane
metadata:
  name: prod-eu-west-1-a-control-plane
  namespace: capi-clusters
spec:
  region: eu-west-1
  version: v1.29.3
  eksClusterName: prod-eu-west-1-a
  sshKeyName: platform
  addons:
  - name: vpc-cni
    version: v1.18.1-eksbuild.1
    conflictResolution: overwrite
---
apiVersion: infrastructure.cluster.x-k8s.io/v1beta2
kind: AWSManagedCluster
metadata:
  name: prod-eu-west-1-a
  namespace: capi-clusters
spec: {}
""")
F[f"{MGMT}/clusters/prod-eu-west-1-a/machinepool.yaml"] = D("""
apiVersion: cluster.x-k8s.io/v1beta1
kind: MachinePool
metadata:
  name: prod-eu-west-1-a-pool-0
  namespace: capi-clusters
spec:
  clusterName: prod-eu-west-1-a
  replicas: 3
  template:
    spec:
      clusterName: prod-eu-west-1-a
      bootstrap:
        dataSecretName: ""
      infrastructureRef:
        apiVersion: infrastructure.cluster.x-k8s.io/v1beta2
        kind: AWSManagedMachinePool
        name: prod-eu-west-1-a-pool-0
---
apiVersion: infrastructure.cluster.x-k8s.io/v1beta2
kind: AWSManagedMachinePool
metadata:
  name: prod-eu-west-1-a-pool-0
  namespace: capi-clusters
spec:
  instanceType: m6i.xlarge
  scaling:
    minSize: 3
    maxSize: 12
""")
F[f"{MGMT}/flux/cluster-sync.yaml"] = D("""
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: prod-eu-west-1-a
  namespace: flux-system
spec:
  interval: 5m
  path: ./providers/aws/v1/clusters/prod/eu-west-1-a
  prune: true
  sourceRef:
    kind: GitRepository
    name: fleet
  kubeConfig:
    secretRef:
      name: prod-eu-west-1-a-kubeconfig
      key: value
""")
F[f"{MGMT}/flux/gitrepository.yaml"] = F[f"{CLUSTER}/eu-west-1-a/namespaced/flux-system/gitrepository.yaml"].replace("name: fleet\n", "name: fleet-mgmt\n", 1)
F[f"{MGMT}/namespace.yaml"] = ns_obj("capi-clusters")


def tenant(env, name, cpu="8"):
    base = f"tenants/aws/{env}/{name}"
    return {
        f"{base}/namespace.yaml": ns_obj(name),
        f"{base}/resourcequota.yaml": QUOTA.replace("name: compute", f"name: compute\n  namespace: {name}")
                                           .replace('requests.cpu: "8"', f'requests.cpu: "{cpu}"'),
        f"{base}/limitrange.yaml": LIMITRANGE.replace("name: defaults", f"name: defaults\n  namespace: {name}"),
        f"{base}/networkpolicies/default-deny.yaml": D(f"""
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata:
              name: default-deny
              namespace: {name}
            spec:
              podSelector: {{}}
              policyTypes:
              - Ingress
              - Egress
            """),
        f"{base}/networkpolicies/allow-dns.yaml": D(f"""
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata:
              name: allow-dns
              namespace: {name}
            spec:
              podSelector: {{}}
              policyTypes:
              - Egress
              egress:
              - to:
                - namespaceSelector:
                    matchLabels:
                      kubernetes.io/metadata.name: kube-system
                ports:
                - protocol: UDP
                  port: 53
            """),
        f"{base}/rolebinding.yaml": D(f"""
            apiVersion: rbac.authorization.k8s.io/v1
            kind: RoleBinding
            metadata:
              name: {name}-admins
              namespace: {name}
            roleRef:
              apiGroup: rbac.authorization.k8s.io
              kind: ClusterRole
              name: admin
            subjects:
            - kind: Group
              name: oidc:{name}-admins
              apiGroup: rbac.authorization.k8s.io
            """),
    }


TENANTS = {}
TENANTS.update(tenant("common", "shared-observability", cpu="4"))
TENANTS.update(tenant("prod", "payments", cpu="32"))
TENANTS.update(tenant("prod", "checkout", cpu="16"))
TENANTS.update(tenant("staging", "payments", cpu="4"))
F.update(TENANTS)


def sub(prefix):
    return {k: v for k, v in F.items() if k.startswith(prefix)}


case("flux-feature-ingress-nginx", sub("features/ingress-nginx/"), root="features/ingress-nginx")
case("flux-feature-cert-manager-crds", sub("features/cert-manager/"), root="features/cert-manager")
case("flux-feature-namespaced-only", sub("features/ingress-nginx/"), root="features/ingress-nginx/namespaced")
case("flux-feature-non-namespaced-only", sub("features/cert-manager/"), root="features/cert-manager/non-namespaced")
case("flux-features-all", sub("features/"), root="features")
case("flux-cluster-common", sub(CLUSTER + "/"), root=CLUSTER + "/common")
case("flux-cluster-specific", sub(CLUSTER + "/"), root=CLUSTER + "/eu-west-1-a")
case("flux-cluster-env-all", sub(CLUSTER + "/"), root=CLUSTER)
case("flux-mgmt-capi-and-flux-objects", sub(MGMT + "/"), root=MGMT)
case("flux-tenants-common", sub("tenants/aws/common/"), root="tenants/aws/common")
case("flux-tenants-prod", sub("tenants/aws/"), root="tenants/aws/prod")
case("flux-tenant-single", sub("tenants/aws/prod/payments/"), root="tenants/aws/prod/payments")
case("flux-whole-fleet-repo", {k: v for k, v in F.items() if "/staging/" not in k})

case("flux-mixed-subdir-kustomization", dict(sub("tenants/aws/prod/payments/"), **{
    "tenants/aws/prod/payments/apps/kustomization.yaml": """
        namespace: payments
        namePrefix: pay-
        resources:
        - deploy.yaml
        - svc.yaml
        configMapGenerator:
        - name: api-config
          literals:
          - CURRENCY=EUR
        """,
    "tenants/aws/prod/payments/apps/deploy.yaml": deploy("api", cm="api-config"),
    "tenants/aws/prod/payments/apps/svc.yaml": svc("api"),
    "tenants/aws/prod/payments/apps/ignored-not-listed.yaml": cm("not-in-kustomization"),
}), root="tenants/aws/prod/payments")

case("flux-mixed-kustomization-yml-and-capital", {
    "cluster/a-first.yaml": cm("first", ns="default"),
    "cluster/b/kustomization.yml": "resources:\n- cm.yaml\ncommonLabels:\n  from: yml\n",
    "cluster/b/cm.yaml": cm("from-yml", ns="default"),
    "cluster/b/extra.yaml": cm("not-listed-by-b", ns="default"),
    "cluster/c/Kustomization": "resources:\n- cm.yaml\ncommonLabels:\n  from: capital\n",
    "cluster/c/cm.yaml": cm("from-capital", ns="default"),
    "cluster/d/cm.yaml": cm("walked-into", ns="default"),
}, root="cluster")

case("flux-ignores-non-yaml-files", {
    "apps/README.md": "# Apps\n\nDocumentation, not a manifest.\n",
    "apps/values.json": '{"not": "a manifest"}\n',
    "apps/notes.txt": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-txt\n",
    "apps/Makefile": "all:\n\techo hi\n",
    "apps/backup.yaml.bak": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-bak\n",
    "apps/deploy.yaml": deploy("web", ns="apps"),
    "apps/svc.yml": svc("web", ns="apps"),
    "apps/UPPER.YAML": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: upper-ext\n  namespace: apps\n",
}, root="apps")

case("flux-lexical-walk-membership", {
    "root/a-b.yaml": cm("a-dash-b", ns="x"),
    "root/a/x.yaml": cm("a-slash-x", ns="x"),
    "root/A.yaml": cm("upper-a", ns="x"),
    "root/_u.yaml": cm("underscore", ns="x"),
    "root/10.yaml": cm("ten", ns="x"),
    "root/9.yaml": cm("nine", ns="x"),
    "root/a.b/c.yaml": cm("a-dot-b", ns="x"),
    "root/z/y/x/deep.yaml": cm("deep", ns="x"),
}, root="root")

case("flux-multidoc-list-and-empty-docs", {
    "deploy/all.yaml": "---\n" + docs(deploy("api", ns="svc"), svc("api", ns="svc")) + "---\n",
    "deploy/list.yaml": D("""
        apiVersion: v1
        kind: List
        items:
        - apiVersion: v1
          kind: ServiceAccount
          metadata:
            name: api
            namespace: svc
        """),
    "deploy/empty.yaml": "# nothing here yet\n",
}, root="deploy")

case("flux-hidden-files-and-dirs", {
    "r/.hidden.yaml": cm("hidden-file", ns="h"),
    "r/.config/inner.yaml": cm("hidden-dir", ns="h"),
    "r/visible.yaml": cm("visible", ns="h"),
}, root="r")

case("flux-empty-root", {
    "empty/README.md": "nothing to deploy\n",
}, root="empty")

case("flux-subdir-generator-hash-propagated", {
    "app/config/kustomization.yaml": """
        configMapGenerator:
        - name: app-settings
          namespace: app
          literals:
          - MODE=prod
        """,
    "app/workload/deploy.yaml": deploy("app", ns="app", cm="app-settings"),
}, root="app")

case("flux-subdir-kustomization-with-parent-base", {
    "repo/base/kustomization.yaml": "resources:\n- deploy.yaml\n",
    "repo/base/deploy.yaml": deploy("svc-a"),
    "repo/envs/prod/overlay/kustomization.yaml": "namespace: prod\nresources:\n- ../../../base\nimages:\n- name: nginx\n  newTag: prod\n",
    "repo/envs/prod/ns.yaml": ns_obj("prod"),
}, root="repo/envs/prod")

case("flux-yml-only-tree", {
    "t/ns.yml": ns_obj("yml-only"),
    "t/apps/cm.yml": cm("yml-cm", ns="yml-only"),
    "t/apps/deploy.yml": deploy("yml-app", ns="yml-only"),
}, root="t")

case("flux-root-is-case-dir-flat", {
    "namespace.yaml": ns_obj("flat"),
    "quota.yaml": QUOTA.replace("name: compute", "name: compute\n  namespace: flat"),
    "limits.yaml": LIMITRANGE.replace("name: defaults", "name: defaults\n  namespace: flat"),
    "netpol.yaml": netpol().replace("name: web-allow-ingress", "name: web-allow-ingress\n  namespace: flat"),
})

# ===========================================================================
# 17. error cases (kustomize must fail)
# ===========================================================================

case("error-missing-resource-file", {
    KUST: "resources:\n- deploy.yaml\n- does-not-exist.yaml\n",
    "deploy.yaml": deploy(),
})

case("error-missing-base-dir", {
    KUST: "resources:\n- ../../base/missing\n",
})

case("error-malformed-yaml-resource", {
    KUST: "resources:\n- broken.yaml\n",
    "broken.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: broken\ndata:\n  key: [unclosed\n  other: value\n",
})

case("error-malformed-kustomization", {
    KUST: "resources:\n  - a.yaml\n - b.yaml\nnamePrefix: [\n",
    "a.yaml": cm("a"),
})

case("error-duplicate-resource-ids", {
    KUST: "resources:\n- one.yaml\n- two.yaml\n",
    "one.yaml": cm("settings"),
    "two.yaml": cm("settings", {"OTHER": "value"}),
})

case("error-duplicate-via-two-bases", {
    KUST: "resources:\n- a\n- b\n",
    "a/kustomization.yaml": "resources:\n- ../common\n",
    "b/kustomization.yaml": "resources:\n- ../common\n",
    "common/kustomization.yaml": "resources:\n- sa.yaml\n",
    "common/sa.yaml": sa("shared"),
}, lrn=True)

case("error-psm-target-missing", {
    KUST: "resources:\n- deploy.yaml\npatchesStrategicMerge:\n- patch.yaml\n",
    "deploy.yaml": deploy(),
    "patch.yaml": """
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: not-there
        spec:
          replicas: 3
        """,
})

case("error-patches-smp-target-missing", {
    KUST: """
        resources:
        - cm.yaml
        patches:
        - patch: |-
            apiVersion: v1
            kind: Secret
            metadata:
              name: web-config
            data:
              x: eA==
        """,
    "cm.yaml": cm(),
})

case("error-json-patch-missing-path", {
    KUST: """
        resources:
        - deploy.yaml
        patches:
        - target:
            kind: Deployment
          patch: |-
            - op: replace
              path: /spec/template/spec/nonexistent/field
              value: 1
        """,
    "deploy.yaml": deploy(),
})

case("error-json-patch-remove-missing", {
    KUST: """
        resources:
        - cm.yaml
        patchesJson6902:
        - target:
            version: v1
            kind: ConfigMap
            name: web-config
          patch: |-
            - op: remove
              path: /data/NOT_A_KEY
        """,
    "cm.yaml": cm(),
})

case("error-json-patch-test-fails", {
    KUST: """
        resources:
        - deploy.yaml
        patches:
        - target:
            kind: Deployment
          patch: |-
            - op: test
              path: /spec/replicas
              value: 99
        """,
    "deploy.yaml": deploy(),
})

case("error-cycle-between-bases", {
    "a/kustomization.yaml": "resources:\n- ../b\n",
    "b/kustomization.yaml": "resources:\n- ../a\n",
}, root="a")

case("error-file-outside-root", {
    "app/kustomization.yaml": "resources:\n- ../shared/cm.yaml\n",
    "shared/cm.yaml": cm("shared"),
}, root="app")

case("load-restrictor-none-file-outside-root", {
    "app/kustomization.yaml": "resources:\n- ../shared/cm.yaml\n- local.yaml\n",
    "app/local.yaml": cm("local"),
    "shared/cm.yaml": cm("shared"),
}, root="app", lrn=True)

case("error-generator-file-outside-root", {
    "app/kustomization.yaml": "configMapGenerator:\n- name: c\n  files:\n  - ../secrets/key.txt\n",
    "secrets/key.txt": "top-secret\n",
}, root="app")

case("load-restrictor-none-generator-and-patch-outside-root", {
    "app/kustomization.yaml": """
        resources:
        - deploy.yaml
        configMapGenerator:
        - name: shared-config
          files:
          - ../shared/app.properties
        patches:
        - path: ../shared/patch.yaml
        """,
    "app/deploy.yaml": deploy(cm="shared-config"),
    "shared/app.properties": "a=1\n",
    "shared/patch.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 1\n",
}, root="app", lrn=True)

case("error-remote-base-url", {
    KUST: "resources:\n- https://github.com/example-org-that-does-not-exist/fleet//base?ref=v1.0.0\n",
})

case("error-helmcharts-without-enable-helm", {
    KUST: """
        helmCharts:
        - name: ingress-nginx
          repo: https://kubernetes.github.io/ingress-nginx
          version: 4.10.1
          releaseName: ingress-nginx
          namespace: ingress-nginx
          valuesInline:
            controller:
              replicaCount: 2
        """,
})

case("error-generators-exec-plugin", {
    KUST: "generators:\n- generator.yaml\n",
    "generator.yaml": """
        apiVersion: example.com/v1
        kind: SopsGenerator
        metadata:
          name: secrets
          annotations:
            config.kubernetes.io/function: |
              exec:
                path: ./plugins/sops-generator
        files:
        - secrets.enc.yaml
        """,
})

case("error-transformers-krm-function", {
    KUST: "resources:\n- cm.yaml\ntransformers:\n- transformer.yaml\n",
    "cm.yaml": cm(),
    "transformer.yaml": """
        apiVersion: fn.example.com/v1
        kind: SetLabels
        metadata:
          name: set-labels
          annotations:
            config.kubernetes.io/function: |
              container:
                image: ghcr.io/example/set-labels:v1
        labels:
          team: x
        """,
})

case("error-unknown-kustomization-field", {
    KUST: "resources:\n- cm.yaml\nnamePrefx: typo-\n",
    "cm.yaml": cm(),
})

case("error-component-used-as-resource", {
    "comp/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\ncommonLabels:\n  c: \"1\"\n",
    KUST: "resources:\n- comp\n- cm.yaml\n",
    "cm.yaml": cm(),
})

case("error-resource-used-as-component", {
    "base/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- cm.yaml\n",
    "base/cm.yaml": cm(),
    KUST: "components:\n- base\n",
})

case("error-behavior-merge-without-base", {
    KUST: """
        configMapGenerator:
        - name: orphan
          behavior: merge
          literals:
          - a=b
        """,
})

case("error-behavior-replace-without-base", {
    KUST: """
        secretGenerator:
        - name: orphan
          behavior: replace
          literals:
          - a=b
        """,
})

case("error-invalid-label-selector", {
    KUST: """
        resources:
        - cm.yaml
        patches:
        - target:
            labelSelector: "app in (web"
          patch: |-
            - op: add
              path: /data/x
              value: y
        """,
    "cm.yaml": cm(),
})

case("error-replacement-source-not-found", {
    KUST: """
        resources:
        - cm.yaml
        replacements:
        - source:
            kind: Secret
            name: missing
            fieldPath: data.token
          targets:
          - select:
              kind: ConfigMap
            fieldPaths:
            - data.token
        """,
    "cm.yaml": cm(),
})

case("error-replacement-target-field-missing", {
    KUST: """
        resources:
        - res.yaml
        replacements:
        - source:
            kind: ConfigMap
            name: src
            fieldPath: data.v
          targets:
          - select:
              kind: Deployment
            fieldPaths:
            - metadata.annotations.not-there
        """,
    "res.yaml": docs(cm("src", {"v": "x"}), deploy()),
})

case("error-var-objref-not-found", {
    KUST: """
        resources:
        - deploy.yaml
        vars:
        - name: MISSING
          objref:
            kind: Service
            name: no-such-service
            apiVersion: v1
        """,
    "deploy.yaml": deploy(args=['"--svc=$(MISSING)"']),
})

case("error-var-fieldref-not-found", {
    KUST: """
        resources:
        - res.yaml
        vars:
        - name: PORT
          objref:
            kind: Service
            name: web
            apiVersion: v1
          fieldref:
            fieldpath: spec.nonexistent
        """,
    "res.yaml": docs(svc(), deploy(args=['"--port=$(PORT)"'])),
})

case("error-missing-kind", {
    KUST: "resources:\n- nokind.yaml\n",
    "nokind.yaml": "apiVersion: v1\nmetadata:\n  name: no-kind\ndata:\n  a: b\n",
})

case("error-missing-metadata-name", {
    KUST: "resources:\n- noname.yaml\n",
    "noname.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  labels:\n    a: b\ndata:\n  a: b\n",
})

case("error-resource-dir-without-kustomization", {
    KUST: "resources:\n- plain-dir\n",
    "plain-dir/cm.yaml": cm(),
})

case("error-patch-file-not-found", {
    KUST: "resources:\n- cm.yaml\npatches:\n- path: missing-patch.yaml\n",
    "cm.yaml": cm(),
})

case("error-generator-file-not-found", {
    KUST: "secretGenerator:\n- name: s\n  files:\n  - missing.key\n",
})

case("error-generator-duplicate-key-across-envs", {
    KUST: "configMapGenerator:\n- name: dup\n  envs:\n  - a.env\n  - b.env\n",
    "a.env": "KEY=one\n",
    "b.env": "KEY=two\n",
})

case("error-replicas-name-not-found", {
    KUST: "resources:\n- deploy.yaml\nreplicas:\n- name: absent\n  count: 3\n",
    "deploy.yaml": deploy(),
})

case("cmgen-env-line-without-equals", {
    KUST: "configMapGenerator:\n- name: bad\n  envs:\n  - bad.env\n",
    "bad.env": "GOOD=1\nthis line has no equals sign\n",
})

case("error-crds-file-missing", {
    KUST: "crds:\n- missing-crds.json\nresources:\n- cm.yaml\n",
    "cm.yaml": cm(),
})

case("error-json-patch-invalid-op", {
    KUST: """
        resources:
        - cm.yaml
        patches:
        - target:
            kind: ConfigMap
          patch: |-
            - op: frobnicate
              path: /data/x
              value: y
        """,
    "cm.yaml": cm(),
})

case("error-flux-tenants-all-envs-duplicate", sub("tenants/aws/"), root="tenants/aws")

case("error-flux-malformed-yaml-file", {
    "apps/good.yaml": cm("good", ns="apps"),
    "apps/bad.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bad\n\tdata: tabs-are-invalid\n",
}, root="apps")

case("error-images-invalid-field-type", {
    KUST: "resources:\n- deploy.yaml\nimages:\n- name: nginx\n  newTag:\n    nested: map\n",
    "deploy.yaml": deploy(),
})

case("error-namespace-not-string", {
    KUST: "namespace:\n- a\n- b\nresources:\n- cm.yaml\n",
    "cm.yaml": cm(),
})

# ===========================================================================
# 18. combinations and realistic base/overlay chains
# ===========================================================================

case("combo-full-app-overlay-prod", {
    "base/kustomization.yaml": """
        apiVersion: kustomize.config.k8s.io/v1beta1
        kind: Kustomization
        resources:
        - deployment.yaml
        - service.yaml
        - ingress.yaml
        - hpa.yaml
        - pdb.yaml
        - rbac.yaml
        configMapGenerator:
        - name: web-config
          literals:
          - LOG_LEVEL=info
        secretGenerator:
        - name: web-secret
          literals:
          - password=changeme
        """,
    "base/deployment.yaml": deploy(cm="web-config", secret="web-secret", sa="web"),
    "base/service.yaml": svc(),
    "base/ingress.yaml": ingress(),
    "base/hpa.yaml": hpa(),
    "base/pdb.yaml": pdb(),
    "base/rbac.yaml": docs(sa(), role(), binding()),
    "overlays/prod/kustomization.yaml": """
        apiVersion: kustomize.config.k8s.io/v1beta1
        kind: Kustomization
        namespace: shop-prod
        namePrefix: prod-
        labels:
        - pairs:
            env: prod
          includeSelectors: false
          includeTemplates: true
        commonAnnotations:
          owner: team-shop
        resources:
        - ../../base
        images:
        - name: nginx
          newName: registry.example.com/shop/web
          newTag: "2024.06.1"
        replicas:
        - name: prod-web
          count: 6
        configMapGenerator:
        - name: web-config
          behavior: merge
          literals:
          - LOG_LEVEL=warn
        patches:
        - path: ingress-host.yaml
          target:
            kind: Ingress
        - patch: |-
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: web
            spec:
              template:
                spec:
                  containers:
                  - name: web
                    resources:
                      limits:
                        cpu: "2"
                        memory: 1Gi
        """,
    "overlays/prod/ingress-host.yaml": """
        - op: replace
          path: /spec/rules/0/host
          value: shop.example.com
        - op: replace
          path: /spec/tls/0/hosts/0
          value: shop.example.com
        """,
}, root="overlays/prod")

case("combo-staging-overlay-with-components", {
    "base/kustomization.yaml": "resources:\n- app.yaml\n",
    "base/app.yaml": docs(deploy("api", cm="api-config"), svc("api"), cm("api-config")),
    "components/debug/kustomization.yaml": """
        apiVersion: kustomize.config.k8s.io/v1alpha1
        kind: Component
        patches:
        - target:
            kind: ConfigMap
            name: api-config
          patch: |-
            - op: replace
              path: /data/LOG_LEVEL
              value: debug
        """,
    "components/netpol/kustomization.yaml": """
        apiVersion: kustomize.config.k8s.io/v1alpha1
        kind: Component
        resources:
        - np.yaml
        """,
    "components/netpol/np.yaml": netpol("api-allow", app="api"),
    "overlays/staging/kustomization.yaml": """
        namespace: staging
        nameSuffix: -stg
        resources:
        - ../../base
        components:
        - ../../components/debug
        - ../../components/netpol
        commonLabels:
          env: staging
        """,
}, root="overlays/staging")

case("combo-statefulset-db-overlay", {
    "base/kustomization.yaml": """
        resources:
        - sts.yaml
        - svc.yaml
        configMapGenerator:
        - name: db-conf
          files:
          - postgresql.conf
        secretGenerator:
        - name: db-credentials
          literals:
          - password=base
        """,
    "base/sts.yaml": sts(cm_name="db-conf", secret_name="db-credentials"),
    "base/svc.yaml": svc("db", port=5432, target="pg"),
    "base/postgresql.conf": "max_connections = 100\n",
    "overlay/kustomization.yaml": """
        namePrefix: orders-
        namespace: orders
        resources:
        - ../base
        images:
        - name: postgres
          newTag: "16.3"
        secretGenerator:
        - name: db-credentials
          behavior: replace
          literals:
          - password=prod-secret
        patches:
        - target:
            kind: StatefulSet
          patch: |-
            - op: replace
              path: /spec/volumeClaimTemplates/0/spec/resources/requests/storage
              value: 200Gi
        """,
}, root="overlay")

case("combo-operator-bundle", {
    KUST: """
        namespace: widget-system
        namePrefix: widget-
        commonLabels:
          app.kubernetes.io/name: widget-operator
        resources:
        - crd.yaml
        - rbac.yaml
        - manager.yaml
        - webhook.yaml
        - sample.yaml
        images:
        - name: controller
          newName: ghcr.io/acme/widget-operator
          newTag: v0.9.0
        """,
    "crd.yaml": CRD_WIDGET,
    "rbac.yaml": docs(sa("controller-manager"), role("manager-role", kind="ClusterRole"),
                      binding("manager-rolebinding", "manager-role", "ClusterRole", "controller-manager",
                              sa_ns="system", kind="ClusterRoleBinding"),
                      role("leader-election-role"),
                      binding("leader-election-rolebinding", "leader-election-role", "Role", "controller-manager",
                              sa_ns="system")),
    "manager.yaml": deploy("controller-manager", image="controller:latest", sa="controller-manager",
                           command=["/manager"], args=["--leader-elect"]),
    "webhook.yaml": docs(svc("webhook-service", port=443, target="9443", app="controller-manager"),
                         WEBHOOK_VAL.replace("name: injector", "name: webhook-service")),
    "sample.yaml": WIDGET,
})

case("combo-multi-env-fanout", {
    KUST: "resources:\n- envs/dev\n- envs/prod\n",
    "base/kustomization.yaml": "resources:\n- app.yaml\nconfigMapGenerator:\n- name: app\n  literals:\n  - ENV=base\n",
    "base/app.yaml": docs(deploy("app", cm="app"), svc("app")),
    "envs/dev/kustomization.yaml": """
        namespace: dev
        resources:
        - ../../base
        configMapGenerator:
        - name: app
          behavior: merge
          literals:
          - ENV=dev
        """,
    "envs/prod/kustomization.yaml": """
        namespace: prod
        resources:
        - ../../base
        replicas:
        - name: app
          count: 5
        configMapGenerator:
        - name: app
          behavior: merge
          literals:
          - ENV=prod
        """,
})

case("combo-vars-and-replacements-together", {
    KUST: """
        namePrefix: x-
        resources:
        - res.yaml
        vars:
        - name: SVC_NAME
          objref:
            kind: Service
            name: web
            apiVersion: v1
        replacements:
        - source:
            kind: Service
            name: web
            fieldPath: spec.ports.0.port
          targets:
          - select:
              kind: Deployment
            fieldPaths:
            - spec.template.spec.containers.0.env.[name=PORT].value
        """,
    "res.yaml": docs(svc(port=8081), deploy(env=[("PORT", '"0"'), ("HOST", '"$(SVC_NAME)"')])),
})

case("combo-cronjob-overlay-everything", {
    "base/kustomization.yaml": "resources:\n- cj.yaml\nconfigMapGenerator:\n- name: backup-env\n  literals:\n  - TARGET=s3://b\n",
    "base/cj.yaml": cronjob(cm_name="backup-env", sa_name="backup"),
    "overlay/kustomization.yaml": """
        namespace: ops
        nameSuffix: -daily
        resources:
        - ../base
        - sa.yaml
        images:
        - name: busybox
          newName: amazon/aws-cli
          newTag: "2.15.0"
        commonLabels:
          job: backup
        patches:
        - patch: |-
            apiVersion: batch/v1
            kind: CronJob
            metadata:
              name: backup
            spec:
              schedule: "30 2 * * *"
        """,
    "overlay/sa.yaml": sa("backup"),
}, root="overlay")

case("combo-namespace-prefix-rbac-crb-subjects", {
    "base/kustomization.yaml": "resources:\n- rbac.yaml\n",
    "base/rbac.yaml": docs(sa("agent", ns="default"), role("agent", kind="ClusterRole"),
                           binding("agent", "agent", "ClusterRole", "agent", sa_ns="default", kind="ClusterRoleBinding")),
    "overlay/kustomization.yaml": "namespace: agents\nnamePrefix: blue-\nresources:\n- ../base\n",
}, root="overlay")

case("combo-component-overrides-base-image-and-labels", {
    "base/kustomization.yaml": "resources:\n- deploy.yaml\nimages:\n- name: nginx\n  newTag: base\n",
    "base/deploy.yaml": deploy(),
    "canary/kustomization.yaml": """
        apiVersion: kustomize.config.k8s.io/v1alpha1
        kind: Component
        nameSuffix: -canary
        labels:
        - pairs:
            track: canary
          includeSelectors: true
        images:
        - name: nginx
          newTag: canary
        replicas:
        - name: web
          count: 1
        """,
    "overlay/kustomization.yaml": "resources:\n- ../base\ncomponents:\n- ../canary\n",
}, root="overlay")

case("combo-helm-like-rendered-chart-with-patches", {
    KUST: """
        namespace: monitoring
        resources:
        - rendered.yaml
        patches:
        - target:
            kind: Deployment
            labelSelector: app.kubernetes.io/name=grafana
          patch: |-
            - op: add
              path: /spec/template/spec/containers/0/env/-
              value:
                name: GF_SERVER_ROOT_URL
                value: https://grafana.example.com
        - target:
            kind: ConfigMap
            annotationSelector: helm.sh/hook notin (test)
          patch: |-
            - op: add
              path: /metadata/labels
              value:
                grafana_dashboard: "1"
        """,
    "rendered.yaml": docs(
        deploy("grafana", image="grafana/grafana:10.4.2", labels={"app.kubernetes.io/name": "grafana"},
               env=[("GF_SECURITY_ADMIN_USER", "admin")]),
        cm("grafana-dashboards", {"k8s.json": "'{}'"}).replace("metadata:\n", "metadata:\n  annotations:\n    helm.sh/hook: pre-install\n"),
        cm("grafana-test", {"run.sh": "echo"}).replace("metadata:\n", "metadata:\n  annotations:\n    helm.sh/hook: test\n"),
        svc("grafana", port=80, target="3000")),
})

# ===========================================================================
# 19. additions (append new cases below to keep numbering stable)
# ===========================================================================

case("buildmetadata-transformer-annotations", {
    KUST: """
        buildMetadata:
        - transformerAnnotations
        namePrefix: p-
        commonLabels:
          tier: "web"
        resources:
        - cm.yaml
        """,
    "cm.yaml": cm(),
})

case("patches-target-kind-regex", {
    KUST: """
        resources:
        - res.yaml
        patches:
        - target:
            kind: "Deployment|StatefulSet"
          patch: |-
            - op: add
              path: /spec/revisionHistoryLimit
              value: 3
        """,
    "res.yaml": docs(deploy(), sts(), svc()),
})

case("kind-list-with-prefix-and-namespace", {
    KUST: "namePrefix: lst-\nnamespace: lists\nresources:\n- list.yaml\n",
    "list.yaml": """
        apiVersion: v1
        kind: List
        items:
        - apiVersion: v1
          kind: ConfigMap
          metadata:
            name: web-config
          data:
            a: "1"
        - apiVersion: apps/v1
          kind: Deployment
          metadata:
            name: web
          spec:
            selector:
              matchLabels:
                app: web
            template:
              metadata:
                labels:
                  app: web
              spec:
                containers:
                - name: web
                  image: nginx
                  envFrom:
                  - configMapRef:
                      name: web-config
        """,
})

case("namespace-webhook-service-namespace-kept", {
    KUST: "namespace: hooks\nnameSuffix: -v2\nresources:\n- res.yaml\n",
    "res.yaml": docs(svc("injector", port=443, target="9443", ns="system"), WEBHOOK_MUT),
})

case("labels-include-selectors-false-explicit-on-cronjob-job", {
    KUST: """
        labels:
        - pairs:
            team: data
          includeSelectors: false
          includeTemplates: true
        resources:
        - res.yaml
        """,
    "res.yaml": docs(cronjob(), D("""
        apiVersion: batch/v1
        kind: Job
        metadata:
          name: etl
        spec:
          template:
            metadata:
              labels:
                job: etl
            spec:
              restartPolicy: Never
              containers:
              - name: etl
                image: python:3.12
        """)),
})


case("generator-options-labels-only-hash-kept", {
    KUST: """
        generatorOptions:
          labels:
            app.kubernetes.io/managed-by: flotilla
        resources:
        - deploy.yaml
        configMapGenerator:
        - name: web-config
          literals:
          - MODE=fast
        secretGenerator:
        - name: web-secret
          literals:
          - password=pw
        """,
    "deploy.yaml": deploy(cm="web-config", secret="web-secret"),
})

case("generator-options-immutable-in-overlay-generators", {
    "base/kustomization.yaml": "configMapGenerator:\n- name: base-cfg\n  literals:\n  - a=1\n",
    "overlay/kustomization.yaml": """
        generatorOptions:
          immutable: true
          annotations:
            layer: overlay
        resources:
        - ../base
        configMapGenerator:
        - name: overlay-cfg
          literals:
          - b=2
        - name: base-cfg
          behavior: merge
          literals:
          - c=3
        """,
}, root="overlay")

case("transformers-builtin-prefix-suffix", {
    KUST: "resources:\n- res.yaml\ntransformers:\n- prefix.yaml\n",
    "res.yaml": docs(deploy(cm="web-config"), cm()),
    "prefix.yaml": """
        apiVersion: builtin
        kind: PrefixSuffixTransformer
        metadata:
          name: customPrefixer
        prefix: custom-
        suffix: -t
        fieldSpecs:
        - path: metadata/name
        """,
})

case("transformers-builtin-labels-and-images", {
    KUST: "resources:\n- deploy.yaml\ntransformers:\n- labels.yaml\n- images.yaml\n",
    "deploy.yaml": deploy(),
    "labels.yaml": """
        apiVersion: builtin
        kind: LabelTransformer
        metadata:
          name: add-team
        labels:
          team: infra
        fieldSpecs:
        - path: metadata/labels
          create: true
        - path: spec/template/metadata/labels
          create: true
          kind: Deployment
        """,
    "images.yaml": """
        apiVersion: builtin
        kind: ImageTagTransformer
        metadata:
          name: pin-nginx
        imageTag:
          name: nginx
          newTag: 1.27.2
        """,
})

case("transformers-inline-builtin", {
    KUST: """
        resources:
        - cm.yaml
        transformers:
        - |-
          apiVersion: builtin
          kind: AnnotationsTransformer
          metadata:
            name: inline-annotations
          annotations:
            inline: "true"
          fieldSpecs:
          - path: metadata/annotations
            create: true
        """,
    "cm.yaml": cm(),
})

case("generators-builtin-configmap-and-secret", {
    KUST: "resources:\n- deploy.yaml\ngenerators:\n- cm-gen.yaml\n- secret-gen.yaml\n",
    "deploy.yaml": deploy(cm="web-config", secret="web-secret"),
    "cm-gen.yaml": """
        apiVersion: builtin
        kind: ConfigMapGenerator
        metadata:
          name: web-config
        literals:
        - LOG_LEVEL=info
        - FROM=plugin-config
        """,
    "secret-gen.yaml": """
        apiVersion: builtin
        kind: SecretGenerator
        metadata:
          name: web-secret
        type: Opaque
        literals:
        - password=from-generator
        """,
})

case("crds-field-in-base-applies-to-overlay", {
    "base/kustomization.yaml": "crds:\n- crds.json\nresources:\n- res.yaml\n",
    "base/crds.json": CRDS_OPENAPI,
    "base/res.yaml": docs(BACKUP_CR, cm("backup-settings", {"bucket": "b"}), secret("s3-creds")),
    "overlay/kustomization.yaml": "nameSuffix: -prod\nresources:\n- ../base\n",
}, root="overlay")

case("openapi-yaml-schema-in-overlay", {
    "base/kustomization.yaml": "resources:\n- widget.yaml\n",
    "base/widget.yaml": WIDGET_PARTS,
    "overlay/kustomization.yaml": "openapi:\n  path: schema.yaml\nresources:\n- ../base\npatches:\n" + D(WIDGET_PARTS_PATCH),
    "overlay/schema.yaml": "# OpenAPI schema in YAML form\n" + __import__("json").dumps(__import__("json").loads(OPENAPI_SCHEMA), indent=1).replace('"', "'") + "\n",
}, root="overlay")


if __name__ == "__main__":
    write_all()
