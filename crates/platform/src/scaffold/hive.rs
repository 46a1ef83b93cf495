//! `add cluster --hive`: the objects `hiveutil create-cluster --cloud=aws NAME -o yaml`
//! prints (ClusterImageSet, the credentials and install-config Secrets, ClusterDeployment,
//! MachinePool), laid out in the repository.
//!
//! The two Secrets are written as `*.yaml.template` files with placeholders, never values:
//! fill them in, encrypt them with `sops --encrypt` and save them as `.yaml` (Flux only reads
//! `.yaml`/`.yml`, and `flotilla lint` refuses an unencrypted Secret with data).

use std::path::Path;

use super::cluster::ClusterOptions;
use crate::names::scalar as s;
use crate::write::PlannedFile;

/// The OpenShift release new Hive clusters install.
pub const RELEASE_IMAGE: &str = "quay.io/openshift-release-dev/ocp-release:4.16.20-x86_64";

pub(super) fn files(mgmt: &Path, o: &ClusterOptions) -> Vec<PlannedFile> {
    let n = o.name.as_str();
    let ns = mgmt.join("namespaced").join(n);
    let labels = format!(
        "  labels:\n    flotilla.dev/environment: {}\n    flotilla.dev/cluster: {}\n",
        s(&o.env),
        s(n)
    );
    let meta = |api: &str, kind: &str, name: &str| {
        format!(
            "apiVersion: {api}\nkind: {kind}\nmetadata:\n  name: {}\n  namespace: {}\n{labels}",
            s(name),
            s(n)
        )
    };
    let imageset = format!("{n}-imageset");
    let creds = format!("{n}-aws-creds");
    let install = format!("{n}-install-config");
    let pull = format!("{n}-pull-secret");
    vec![
        PlannedFile::new(
            mgmt.join("non-namespaced").join(n).join("clusterimageset.yaml"),
            format!(
                "# The OpenShift release {n} installs (cluster-scoped).\napiVersion: hive.openshift.io/v1\nkind: ClusterImageSet\nmetadata:\n  name: {}\n{labels}spec:\n  releaseImage: {RELEASE_IMAGE}\n",
                s(&imageset)
            ),
        ),
        PlannedFile::new(
            ns.join("clusterdeployment.yaml"),
            format!(
                "# Hive writes the admin kubeconfig into a Secret it names itself\n# (status: spec.clusterMetadata.adminKubeconfigSecretRef, key `kubeconfig`); the\n# Flux Kustomizations of {n} read it as {n}-kubeconfig.\n{}spec:\n  baseDomain: {}\n  clusterName: {}\n  installed: false\n  platform:\n    aws:\n      credentialsSecretRef:\n        name: {}\n      region: {}\n  provisioning:\n    imageSetRef:\n      name: {}\n    installConfigSecretRef:\n      name: {}\n  pullSecretRef:\n    name: {}\n",
                meta("hive.openshift.io/v1", "ClusterDeployment", n),
                s(&o.base_domain),
                s(n),
                s(&creds),
                s(&o.region),
                s(&imageset),
                s(&install),
                s(&pull)
            ),
        ),
        PlannedFile::new(
            ns.join("machinepool-worker.yaml"),
            format!(
                "{}spec:\n  clusterDeploymentRef:\n    name: {}\n  name: worker\n  platform:\n    aws:\n      rootVolume:\n        iops: 3000\n        size: 120\n        type: gp3\n      type: m6i.xlarge\n  replicas: 3\n",
                meta("hive.openshift.io/v1", "MachinePool", &format!("{n}-worker")),
                s(n)
            ),
        ),
        secret_template(
            &ns.join("secret-aws-creds.yaml.template"),
            &creds,
            n,
            "AWS credentials Hive provisions with.",
            "stringData:\n  aws_access_key_id: <-YOUR-AWS-ACCESS-KEY->\n  aws_secret_access_key: <-YOUR-AWS-SECRET-KEY->\n",
        ),
        secret_template(
            &ns.join("secret-install-config.yaml.template"),
            &install,
            n,
            "The openshift-install install-config.yaml of the cluster.",
            &format!(
                "stringData:\n  install-config.yaml: |\n    apiVersion: v1\n    metadata:\n      name: {n}\n    baseDomain: {}\n    platform:\n      aws:\n        region: {}\n    pullSecret: <-YOUR-PULL-SECRET->\n    sshKey: <-YOUR-SSH-PUBLIC-KEY->\n",
                o.base_domain, o.region
            ),
        ),
        secret_template(
            &ns.join("secret-pull-secret.yaml.template"),
            &pull,
            n,
            "Registry pull secret for the OpenShift release images.",
            "type: kubernetes.io/dockerconfigjson\nstringData:\n  .dockerconfigjson: <-YOUR-PULL-SECRET->\n",
        ),
    ]
}

fn secret_template(path: &Path, name: &str, ns: &str, what: &str, body: &str) -> PlannedFile {
    PlannedFile::new(
        path,
        format!(
            "# {what}\n# A template with placeholders, not read by Flux: fill it in, encrypt it\n# (sops --encrypt --in-place) and save it without the .template suffix.\napiVersion: v1\nkind: Secret\nmetadata:\n  name: {}\n  namespace: {}\n{body}",
            s(name),
            s(ns)
        ),
    )
}
