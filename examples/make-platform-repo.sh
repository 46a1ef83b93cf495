#!/usr/bin/env bash
# make-platform-repo.sh DEST
#
# Builds a git repository at DEST from examples/platform, with the history a
# platform team would have produced: small pull requests squash-merged onto
# `main` under conventional titles (`type(scope): subject (#N)`), annotated
# release tags v0.1.0, v0.1.1 and v0.1.2, and the `release` GitRepository
# promoted from tag to tag by ordinary commits. The last commit on `main` is
# exactly examples/platform, except for the GitRepository urls (below).
#
# Resulting state:
#   - v0.1.0  first release (features, dummy tenant, non-prod cluster,
#             prod configuration); the release source does not exist yet.
#   - v0.1.1  release source pinned to v0.1.0, prod cluster provisioned,
#             ingress-nginx bump, bigger prod quota, two workers per cluster.
#   - main    promotes the release source to v0.1.1 (so prod runs v0.1.1).
#   - v0.1.2  auditor role, operator memory limit, README; tagged but NOT yet
#             promoted: the next promotion is a one-line change of
#             spec.ref.tag in providers/aws/v1/mgmt/namespaced/flux-system/
#             gitrepository-release.yaml.
#   - main    one more commit after v0.1.2 (unreleased, non-prod only).
#
# GitRepository urls: the files in examples/platform carry the placeholder
# file:///srv/git/platform.git. Every commit made here has it replaced by
# file://<absolute DEST>, so the repository points at itself and a management
# cluster (or `flotilla`) on the same machine can fetch it. Set
# PLATFORM_REPO_URL to use another url (e.g. ssh://git@git.example.com/platform/fleet.git).
#
# Deterministic: authors, committers, taggers and all dates are fixed and git
# is run without the user's or the system's configuration, so the same DEST
# (and url) gives the same commit and tag ids on every run. Commit ids
# depend on the url, hence on DEST.
#
# Idempotent: if DEST already holds a repository made by this script it is
# deleted and built again; an empty or missing DEST is used as is; anything
# else is refused.
#
# DEST should be a plain path (no spaces or '%'): the url is not percent-encoded.
#
# Needs bash, git (plain, any recent version), coreutils, sed, diff.
# shellcheck disable=SC2016 # commit bodies quote names in backticks on purpose
set -euo pipefail

usage() { echo "usage: $0 DEST" >&2; exit 2; }
[[ $# -eq 1 && -n $1 && $1 != -* ]] || usage

src=$(cd "$(dirname "${BASH_SOURCE[0]}")/platform" && pwd -P)
placeholder='file:///srv/git/platform.git'
marker_key='flotilla.generatedby'
marker_val='examples/make-platform-repo.sh'

# --- DEST ---------------------------------------------------------------------
dest=$1
if [[ -e $dest ]]; then
  [[ -d $dest ]] || { echo "error: $dest exists and is not a directory" >&2; exit 1; }
  dest=$(cd "$dest" && pwd -P)
  if [[ -n $(ls -A "$dest") ]]; then
    if [[ -d $dest/.git ]] && [[ $(GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null git -C "$dest" config --local --get "$marker_key" 2>/dev/null || true) == "$marker_val" ]]; then
      echo "recreating $dest (made by an earlier run)"
      find "$dest" -mindepth 1 -maxdepth 1 -exec rm -rf {} +
    else
      echo "error: $dest is not empty and was not made by this script; refusing to touch it" >&2
      exit 1
    fi
  fi
else
  mkdir -p "$dest"
  dest=$(cd "$dest" && pwd -P)
fi
case "$src/" in "$dest"/*) echo "error: DEST must not contain examples/platform" >&2; exit 1 ;; esac
case "$dest/" in "$src"/*) echo "error: DEST must not be inside examples/platform" >&2; exit 1 ;; esac

url=${PLATFORM_REPO_URL:-file://$dest}

# --- git, without anyone's configuration ----------------------------------------
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
export LC_ALL=C TZ=UTC
unset GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE
export GIT_COMMITTER_NAME='Platform Git' GIT_COMMITTER_EMAIL='git@git.example.com'
g() { git -C "$dest" "$@"; }

g init -q
g symbolic-ref HEAD refs/heads/main
g config "$marker_key" "$marker_val"
g config core.autocrlf false
g config commit.gpgsign false
g config tag.gpgsign false

# --- helpers --------------------------------------------------------------------
sed_escape() { printf '%s' "$1" | sed -e 's/[\\|&]/\\&/g'; }
url_repl=$(sed_escape "$url")

# add PATH...: copy files or folders from examples/platform into DEST as they
# are today (restoring a file an earlier step changed).
add() {
  local p
  for p in "$@"; do
    if [[ -d $src/$p ]]; then
      mkdir -p "$dest/$p"
      cp -R "$src/$p/." "$dest/$p/"
    else
      mkdir -p "$(dirname "$dest/$p")"
      cp "$src/$p" "$dest/$p"
    fi
  done
  fixup
}

# edit FILE SED-EXPR...: produce an older version of a file already copied.
edit() {
  local f=$dest/$1; shift
  local args=() e
  for e in "$@"; do args+=(-e "$e"); done
  sed "${args[@]}" "$f" >"$f.tmp"
  if cmp -s "$f" "$f.tmp"; then echo "error: edit of ${f#"$dest"/} changed nothing" >&2; exit 1; fi
  mv "$f.tmp" "$f"
}

# fixup: url placeholder -> url, stable permissions.
fixup() {
  local f
  while IFS= read -r f; do
    sed -e "s|$(sed_escape "$placeholder")|$url_repl|g" "$f" >"$f.tmp" && mv "$f.tmp" "$f"
  done < <(grep -rlF --exclude-dir=.git "$placeholder" "$dest" || true)
  find "$dest" -path "$dest/.git" -prune -o -type f -exec chmod 0644 {} + -o -type d -exec chmod 0755 {} +
}

alex='Alex Rivera <alex.rivera@example.com>'
sam='Sam Okafor <sam.okafor@example.com>'
priya='Priya Natarajan <priya.natarajan@example.com>'

# commit "AUTHOR" DATE TITLE BODY: one squash-merged pull request.
commit() {
  local author=$1 date=$2 title=$3 body=$4
  g add -A
  if g diff --cached --quiet; then echo "error: nothing to commit for: $title" >&2; exit 1; fi
  local email=${author##*<}
  GIT_AUTHOR_NAME=${author% <*} GIT_AUTHOR_EMAIL=${email%>} GIT_AUTHOR_DATE=$date GIT_COMMITTER_DATE=$date \
    g commit -q --no-verify -m "$title" -m "$body"
}

# release TAG DATE SUMMARY: annotated tag on HEAD whose message carries the
# release notes, generated from the squashed titles since the previous tag.
release() {
  local tag=$1 date=$2 summary=$3 prev range notes
  prev=$(g describe --tags --abbrev=0 2>/dev/null || true)
  range=${prev:+$prev..}HEAD
  notes=$(
    section() {
      local heading=$1 pattern=$2 lines
      lines=$(g log --reverse --format='%s' "$range" | grep -E "$pattern" | sed 's/^/- /' || true)
      [[ -z $lines ]] || printf '\n%s\n%s\n' "$heading" "$lines"
    }
    section '## Features' '^feat(\(|:)'
    section '## Fixes' '^fix(\(|:)'
    section '## Other changes' '^(chore|docs|refactor|ci|test)(\(|:)'
  )
  local msg=(-m "$tag: $summary" -m "${notes#$'\n'}")
  [[ -z $prev ]] || msg+=(-m "Full changelog: $prev...$tag")
  GIT_COMMITTER_NAME=${priya% <*} GIT_COMMITTER_EMAIL=priya.natarajan@example.com GIT_COMMITTER_DATE=$date \
    g tag -a --cleanup=whitespace "$tag" "${msg[@]}"
}

F=features
M=providers/aws/v1/mgmt
C=providers/aws/v1/clusters
T=tenants/aws
ks=$M/namespaced/flux-system

# --- history --------------------------------------------------------------------
add "$M/non-namespaced/flux-system" "$ks/gitrepository-main.yaml" "$ks/kustomization-mgmt.yaml"
commit "$alex" 2025-03-03T09:14:00Z 'feat(providers): bootstrap aws v1 management cluster (#1)' \
'Adds the flux-system namespace, the `main` GitRepository and the `mgmt`
Kustomization that applies providers/aws/v1/mgmt to the management cluster.'

add "$F/access-control" "$ks/kustomization-feature-access-control.yaml"
rm "$dest/$F/access-control/non-namespaced/clusterrole-platform-auditor.yaml" \
   "$dest/$F/access-control/non-namespaced/clusterrolebinding-platform-auditors.yaml"
edit "$ks/kustomization-feature-access-control.yaml" 's/^    name: release$/    name: main/' 's/, promoted like prod\./, following main for now./'
commit "$sam" 2025-03-03T14:02:00Z 'feat(features): add access-control (#2)' \
'ClusterRoles and ClusterRoleBindings for the platform:admins, platform:operators
and platform:viewers groups, also applied to the management cluster.'

add "$F/ingress-nginx"
edit "$F/ingress-nginx/namespaced/deployment.yaml" 's|controller:v1.11.3|controller:v1.11.2|'
edit "$F/ingress-nginx/namespaced/configmap.yaml" 's|allow-snippet-annotations: "false"|allow-snippet-annotations: "true"|'
commit "$sam" 2025-03-04T10:37:00Z 'feat(features): add ingress-nginx (#3)' \
'ingress-nginx controller behind an AWS NLB, default IngressClass `nginx`.'

add "$F/helloworld-operator"
edit "$F/helloworld-operator/namespaced/deployment.yaml" 's/memory: 128Mi/memory: 64Mi/'
commit "$priya" 2025-03-05T08:51:00Z 'feat(features): add helloworld-operator (#4)' \
'CRD helloworlds.demo.flotilla.dev (HelloWorld, v1alpha1) with the operator
deployment, its RBAC and aggregated admin/edit/view roles.'

add "$T"
edit "$T/prod/dummy/namespaced/resourcequota.yaml" \
  's/requests.cpu: "8"/requests.cpu: "4"/' 's/requests.memory: 16Gi/requests.memory: 8Gi/' \
  's/limits.cpu: "16"/limits.cpu: "8"/' 's/limits.memory: 32Gi/limits.memory: 16Gi/' 's/pods: "80"/pods: "40"/'
commit "$alex" 2025-03-05T15:20:00Z 'feat(tenants): onboard dummy (#5)' \
'Namespace, LimitRange, network policies and deployer ServiceAccount common to
all environments; quota and role bindings per environment (admin in non-prod,
view in prod).'

add "$C/non-prod"
commit "$alex" 2025-03-06T09:45:00Z 'feat(providers): add non-prod environment configuration (#6)' \
'Common non-prod layer (monitoring and platform-system namespaces, gp3
StorageClass, platform-critical PriorityClass) and the non-prod-eu-west-1
cluster layer with its HelloWorld.'

add "$M/non-namespaced/non-prod-eu-west-1" "$M/namespaced/non-prod-eu-west-1"
edit "$M/namespaced/non-prod-eu-west-1/machinedeployment-md-0.yaml" 's/^  replicas: 2$/  replicas: 1/'
edit "$M/namespaced/non-prod-eu-west-1/machinehealthcheck-md-0.yaml" 's/nodeStartupTimeout: 10m/nodeStartupTimeout: 20m/'
commit "$priya" 2025-03-06T16:08:00Z 'feat(providers): provision non-prod-eu-west-1 with Cluster API (#7)' \
'AWS cluster, control plane, worker pool, health checks and the flannel
ClusterResourceSet, plus the Flux Kustomizations that configure the cluster
through its non-prod-eu-west-1-kubeconfig Secret, following main.'

add "$F/ingress-nginx/namespaced/configmap.yaml"
commit "$sam" 2025-03-07T11:26:00Z 'fix(features): disallow snippet annotations in ingress-nginx (#8)' \
'Tenants must not be able to inject nginx configuration through annotations.'

add "$C/prod"
commit "$alex" 2025-03-10T10:03:00Z 'feat(providers): add prod environment configuration (#9)' \
'Common prod layer and the prod-eu-west-1 cluster layer, ready to be released.'

release v0.1.0 2025-03-10T13:00:00Z 'first release of the aws v1 platform'

add "$ks/gitrepository-release.yaml" "$ks/kustomization-feature-access-control.yaml"
edit "$ks/gitrepository-release.yaml" 's/^    tag: v0.1.1$/    tag: v0.1.0/'
commit "$priya" 2025-03-10T14:30:00Z 'feat(providers): add release source pinned to v0.1.0 (#10)' \
'Prod and the management cluster access-control feature follow the `release`
GitRepository, which tracks a tag. Promotion is a change of spec.ref.tag.'

add "$M/non-namespaced/prod-eu-west-1" "$M/namespaced/prod-eu-west-1"
edit "$M/namespaced/prod-eu-west-1/machinedeployment-md-0.yaml" 's/^  replicas: 2$/  replicas: 1/'
commit "$priya" 2025-03-11T09:12:00Z 'feat(providers): provision prod-eu-west-1 with Cluster API (#11)' \
'Same shape as non-prod-eu-west-1 on bigger instances; its Kustomizations follow
the release source.'

add "$F/ingress-nginx/namespaced/deployment.yaml"
commit "$sam" 2025-03-12T08:40:00Z 'fix(features): bump ingress-nginx controller to v1.11.3 (#12)' \
'Picks up the upstream security fixes of the v1.11.3 controller.'

add "$T/prod/dummy/namespaced/resourcequota.yaml"
commit "$alex" 2025-03-12T15:55:00Z 'feat(tenants): raise dummy quota in prod (#13)' \
'Prod gets twice the non-prod quota for the dummy tenant.'

add "$M/namespaced/non-prod-eu-west-1/machinedeployment-md-0.yaml" "$M/namespaced/prod-eu-west-1/machinedeployment-md-0.yaml"
commit "$priya" 2025-03-13T10:18:00Z 'fix(providers): run two worker machines per cluster (#14)' \
'A single worker could not drain for upgrades without downtime.'

release v0.1.1 2025-03-13T14:00:00Z 'prod-eu-west-1 and the release source'

add "$ks/gitrepository-release.yaml"
commit "$priya" 2025-03-14T09:30:00Z 'chore(providers): promote release to v0.1.1 (#15)' \
'Rolls v0.1.1 out to prod-eu-west-1 and the management cluster access-control.'

add "$F/access-control"
commit "$sam" 2025-03-17T11:04:00Z 'feat(features): add platform-auditor role (#16)' \
'Read-only access to RBAC, admission and network policy objects for the
platform:auditors group.'

add "$F/helloworld-operator/namespaced/deployment.yaml"
commit "$priya" 2025-03-18T09:49:00Z 'fix(features): raise helloworld-operator memory limit (#17)' \
'The manager was OOM-killed at 64Mi while caching Deployments on busy clusters.'

add README.md
commit "$alex" 2025-03-18T16:22:00Z 'docs: describe the platform repository layout (#18)' \
'Tree, Kustomizations and the main/release promotion flow.'

release v0.1.2 2025-03-19T10:00:00Z 'auditor role and operator memory limit'

add "$M/namespaced/non-prod-eu-west-1/machinehealthcheck-md-0.yaml"
commit "$sam" 2025-03-19T15:41:00Z 'fix(providers): shorten node startup timeout of non-prod workers (#19)' \
'Ten minutes is enough for a worker to join; stuck machines are replaced sooner.'

# --- the tip of main must be examples/platform, url aside -------------------------
expect=$(mktemp -d "${TMPDIR:-/tmp}/make-platform-repo.XXXXXX")
trap 'rm -rf "$expect"' EXIT
cp -R "$src/." "$expect/"
while IFS= read -r f; do
  sed -e "s|$(sed_escape "$placeholder")|$url_repl|g" "$f" >"$f.tmp" && mv "$f.tmp" "$f"
done < <(grep -rlF "$placeholder" "$expect" || true)
if ! diff -r -x .git "$expect" "$dest" >&2; then
  echo "error: the tip of main differs from examples/platform (see diff above)" >&2
  exit 1
fi
if [[ -n $(g status --porcelain) ]]; then echo "error: work tree not clean" >&2; exit 1; fi

echo "created $dest (GitRepository url $url)"
g log --oneline --decorate -n 3
