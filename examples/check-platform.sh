#!/usr/bin/env bash
# check-platform.sh [PLATFORM_DIR]
#
# Renders every path that a Flux Kustomization (kustomize.toolkit.fluxcd.io)
# in PLATFORM_DIR points at, the way kustomize-controller does when the path
# has no kustomization file: a throwaway kustomization.yaml listing every
# .yaml/.yml file below the path is written into a temporary copy, and
# `kubectl kustomize` builds it. PLATFORM_DIR defaults to examples/platform
# next to this script and may also be a clone made by make-platform-repo.sh.
#
# Also checked, on the rendered objects:
#   - no kustomization.yaml is checked in (Flux generates them);
#   - every file sits below a namespaced/ or non-namespaced/ folder, objects
#     under namespaced/ carry metadata.namespace and objects under
#     non-namespaced/ do not (and are of a cluster-scoped kind);
#   - every namespace used by an object is created (a Namespace object) by
#     some Kustomization that targets the same cluster, or is built in;
#   - if PLATFORM_DIR is the top of a git work tree, Kustomizations whose
#     GitRepository is pinned to a tag are rendered from that tag (git
#     archive, read-only) instead of the work tree.
#
# Needs bash, kubectl (with built-in kustomize), awk, find, sort; git only for
# the tag check. Exits non-zero on the first class of failure found.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "${1:-$here/platform}" && pwd)

# Kinds that are cluster-scoped. Everything else is expected to be namespaced.
cluster_kinds=" Namespace ClusterRole ClusterRoleBinding CustomResourceDefinition StorageClass PriorityClass IngressClass CSIDriver RuntimeClass APIService ValidatingWebhookConfiguration MutatingWebhookConfiguration ValidatingAdmissionPolicy ValidatingAdmissionPolicyBinding PersistentVolume "
# Namespaces every cluster has without us creating them.
builtin_namespaces=" default kube-system kube-public kube-node-lease "

work=$(mktemp -d "${TMPDIR:-/tmp}/check-platform.XXXXXX")
trap 'rm -rf "$work"' EXIT

fail=0
err() { echo "FAIL: $*" >&2; fail=1; }

# --- 1. no checked-in kustomization files -----------------------------------
while IFS= read -r f; do
  err "checked-in kustomization file ${f#"$root"/} (Flux generates it; remove it)"
done < <(find "$root" -path "$root/.git" -prune -o -type f \( -name kustomization.yaml -o -name kustomization.yml -o -name Kustomization \) -print)

# generate DIR: write DIR/kustomization.yaml listing every .yaml/.yml below DIR,
# with origin annotations so rendered objects can be traced to their file.
generate() {
  local dir=$1
  {
    echo "apiVersion: kustomize.config.k8s.io/v1beta1"
    echo "kind: Kustomization"
    echo "buildMetadata: [originAnnotations]"
    echo "resources:"
    (cd "$dir" && find . -type f \( -name '*.yaml' -o -name '*.yml' \) ! -name kustomization.yaml | LC_ALL=C sort | sed 's|^\./|  - |')
  } >"$dir/kustomization.yaml"
}

# render SRCDIR OUT: kubectl kustomize of a temp copy of SRCDIR, Flux style.
render() {
  local src=$1 out=$2 tmp
  tmp=$(mktemp -d "$work/render.XXXXXX")
  cp -R "$src/." "$tmp/"
  generate "$tmp"
  kubectl kustomize "$tmp" >"$out"
}

# summarize < rendered.yaml: one line per object:
#   kind<TAB>name<TAB>namespace-or-"-"<TAB>origin-path<TAB>field=value...
# field values are the few spec fields the checker needs from Flux objects.
summarize() {
  awk '
    function flush() {
      if (kind != "") {
        printf "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", kind, name, (ns == "" ? "-" : ns), (origin == "" ? "-" : origin), api, (path == "" ? "-" : path), (kc == "" ? "-" : kc), (srcname == "" ? "-" : srcname), (tag == "" ? "-" : tag), (srcns == "" ? "-" : srcns)
      }
      kind = name = ns = origin = api = path = kc = srcname = tag = srcns = key1 = key2 = ""; top = ""; inorigin = 0
    }
    /^---$/ { flush(); next }
    /^[A-Za-z]/ { top = $1; sub(/:.*/, "", top); key1 = ""; key2 = "" }
    /^apiVersion: / { api = $2 }
    /^kind: / { kind = $2 }
    top == "metadata" && /^  name: / { name = $2 }
    top == "metadata" && /^  namespace: / { ns = $2 }
    top == "metadata" && /^    config.kubernetes.io\/origin: / { inorigin = 1; next }
    inorigin && /^      path: / { origin = $2; inorigin = 0 }
    top == "spec" && /^  [A-Za-z]/ { key1 = $1; sub(/:.*/, "", key1); key2 = "" }
    top == "spec" && /^    [A-Za-z]/ { key2 = $1; sub(/:.*/, "", key2) }
    top == "spec" && /^  path: / { path = $2 }
    top == "spec" && key1 == "kubeConfig" && key2 == "secretRef" && /^      name: / { kc = $2 }
    top == "spec" && key1 == "sourceRef" && /^    name: / { srcname = $2 }
    top == "spec" && key1 == "sourceRef" && /^    namespace: / { srcns = $2 }
    top == "spec" && key1 == "ref" && /^    tag: / { tag = $2 }
    END { flush() }
  '
}

# --- 2. find every Flux object in the repository ------------------------------
# Render the repository file by file (canonical formatting), then summarize.
: >"$work/objects.tsv"
while IFS= read -r f; do
  d=$(mktemp -d "$work/file.XXXXXX")
  cp "$f" "$d/object.yaml"
  generate "$d"
  if ! kubectl kustomize "$d" 2>"$d/err" | summarize | awk -v f="${f#"$root"/}" 'BEGIN{OFS="\t"} {$4=f; print}' >>"$work/objects.tsv"; then
    err "${f#"$root"/} does not parse: $(cat "$d/err")"
  fi
done < <(grep -rlE --include='*.yaml' --include='*.yml' '^apiVersion: (kustomize|source)\.toolkit\.fluxcd\.io/' "$root" --exclude-dir=.git | LC_ALL=C sort)

# GitRepositories: "namespace/name" -> tag (or "-")
declare -A repo_tag=()
while IFS=$'\t' read -r kind name ns _ api _ _ _ tag _; do
  [[ $kind == GitRepository && $api == source.toolkit.fluxcd.io/* ]] || continue
  repo_tag["$ns/$name"]=$tag
done <"$work/objects.tsv"

is_git_top=0
if command -v git >/dev/null && [[ -e $root/.git ]] && [[ $(git -C "$root" rev-parse --show-toplevel 2>/dev/null) == "$root" ]]; then
  is_git_top=1
fi

# --- 3. render every Kustomization path ---------------------------------------
declare -A rendered=()   # "<tree>:<path>" -> summary file
: >"$work/targets.tsv"   # target<TAB>summary file<TAB>kustomization id
count=0
while IFS=$'\t' read -r kind name ns file api path kc srcname _ srcns; do
  [[ $kind == Kustomization && $api == kustomize.toolkit.fluxcd.io/* ]] || continue
  count=$((count + 1))
  id="$ns/$name"
  [[ $srcns == - ]] && srcns=$ns
  tag=${repo_tag["$srcns/$srcname"]:--}
  tree=$root treename=worktree
  if [[ $tag != - && $is_git_top == 1 ]]; then
    treename="tag $tag"
    tree="$work/tag-$tag"
    if [[ ! -d $tree ]]; then
      mkdir -p "$tree"
      if ! git -C "$root" archive --format=tar "refs/tags/$tag" 2>/dev/null | tar -x -C "$tree"; then
        : >"$tree.missing"
      fi
    fi
    if [[ -e $tree.missing ]]; then
      err "$id ($file): GitRepository $srcns/$srcname is pinned to tag $tag, which $root does not have"
      continue
    fi
  fi
  [[ $path == - ]] && path=.
  rel=${path#./}
  key="$treename:$rel"
  if [[ -z ${rendered[$key]+x} ]]; then
    dir="$tree/$rel"
    out="$work/out.$(printf '%s' "$key" | tr -c 'A-Za-z0-9.-' '_')"
    if [[ ! -d $dir ]]; then
      err "$id ($file): path $path does not exist in the $treename (source $srcns/$srcname)"
      rendered[$key]=""
      continue
    fi
    if render "$dir" "$out.yaml" 2>"$out.err"; then
      summarize <"$out.yaml" >"$out.tsv"
      n=$(wc -l <"$out.tsv")
      if [[ $n -eq 0 ]]; then
        err "$id: path $path renders no objects"
      else
        printf 'ok   %-48s %-40s %3d objects (%s)\n' "$id" "$path" "$n" "$treename"
      fi
    else
      err "$id: kubectl kustomize failed for $path ($treename): $(cat "$out.err")"
      rendered[$key]=""
      continue
    fi
    rendered[$key]="$out.tsv"
  else
    printf 'ok   %-48s %-40s (already rendered, %s)\n' "$id" "$path" "$treename"
  fi
  [[ -n ${rendered[$key]} ]] || continue
  if [[ $kc == - ]]; then target="local (management cluster)"; else target="$ns/$kc"; fi
  printf '%s\t%s\t%s\t%s\n' "$target" "${rendered[$key]}" "$id" "$path" >>"$work/targets.tsv"
done <"$work/objects.tsv"

[[ $count -gt 0 ]] || err "no Flux Kustomization found below $root"

# --- 4. placement: namespaced/ vs non-namespaced/ ------------------------------
while IFS=$'\t' read -r _ summary id path; do
  while IFS=$'\t' read -r kind name ns origin _; do
    where="$id: $path/$origin: $kind $name"
    case "/$origin" in
      */non-namespaced/*)
        [[ $ns == - ]] || err "$where has namespace $ns but sits under non-namespaced/"
        [[ $cluster_kinds == *" $kind "* ]] || err "$where is not a known cluster-scoped kind but sits under non-namespaced/"
        ;;
      */namespaced/*)
        [[ $ns != - ]] || err "$where has no namespace but sits under namespaced/"
        [[ $cluster_kinds != *" $kind "* ]] || err "$where is cluster-scoped but sits under namespaced/"
        ;;
      *) err "$where is neither below namespaced/ nor non-namespaced/" ;;
    esac
  done <"$summary"
done < <(sort -u "$work/targets.tsv")

# --- 5. every namespace used is created on the same cluster --------------------
while IFS= read -r target; do
  created=$builtin_namespaces
  summaries=$(awk -F'\t' -v t="$target" '$1 == t {print $2}' "$work/targets.tsv" | sort -u)
  for s in $summaries; do
    created+=" $(awk -F'\t' '$1 == "Namespace" {printf "%s ", $2}' "$s")"
  done
  created+=" "
  for s in $summaries; do
    while IFS=$'\t' read -r kind name ns _; do
      [[ $ns == - || $created == *" $ns "* ]] || err "$target: $kind $ns/$name uses namespace $ns, which no Kustomization creates on that cluster"
    done <"$s"
  done
done < <(cut -f1 "$work/targets.tsv" | sort -u)

echo "checked $count Kustomizations below $root"
if [[ $fail -ne 0 ]]; then
  echo "check-platform: FAILED" >&2
  exit 1
fi
echo "check-platform: all good"
