#!/usr/bin/env bash
# Regenerate expected/ from the oracle (kubectl kustomize, kustomize v5.5.0).
#
#   ./regen.sh            regenerate every case
#   ./regen.sh 042-foo    regenerate only the named case(s)
#
# For each case directory under cases/:
#   * build root = the case dir, or <case>/<contents of ROOT> if a ROOT file exists
#   * LOAD_RESTRICTOR_NONE present => --load-restrictor LoadRestrictionsNone
#   * root without kustomization.yaml / kustomization.yml / Kustomization
#     => "Flux build": the case is copied to a temp dir and a kustomization.yaml
#        is generated in the root the way Flux's kustomize-controller does it
#   * success => expected/<name>.yaml (exact stdout)
#     failure => expected/<name>.error (first line of stderr, paths normalised)
set -uo pipefail
export LC_ALL=C

KUBECTL=${KUBECTL:-kubectl}
if ! command -v "$KUBECTL" >/dev/null 2>&1; then
  echo "regen.sh: kubectl not found (set KUBECTL=...)" >&2
  exit 2
fi

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CASES="$HERE/cases"
EXPECTED="$HERE/expected"
mkdir -p "$EXPECTED"

KFILES=(kustomization.yaml kustomization.yml Kustomization)

has_kustomization() {
  local f
  for f in "${KFILES[@]}"; do
    [ -f "$1/$f" ] && return 0
  done
  return 1
}

# Flux generator walk: lexical (byte) order per directory, depth first.
# $1 = absolute dir being walked, $2 = path prefix relative to the build root.
flux_walk() {
  local dir=$1 rel=$2 entry name
  # collect names (including dotfiles) and sort bytewise
  local names
  names=$(cd "$dir" && ls -A1 | sort)
  local IFS=$'\n'
  for name in $names; do
    entry="$dir/$name"
    if [ -d "$entry" ]; then
      if has_kustomization "$entry"; then
        printf -- '- ./%s%s\n' "$rel" "$name"
      else
        flux_walk "$entry" "$rel$name/"
      fi
    elif [ -f "$entry" ]; then
      case "$name" in
        *.yaml|*.yml) printf -- '- ./%s%s\n' "$rel" "$name" ;;
      esac
    fi
  done
}

run_case() {
  local dir=$1 name root rootrel flags=() tmp="" out err rc target
  name=$(basename "$dir")
  rootrel=""
  if [ -f "$dir/ROOT" ]; then
    rootrel=$(head -n1 "$dir/ROOT" | tr -d '\r')
  fi
  root="$dir${rootrel:+/$rootrel}"
  if [ -f "$dir/LOAD_RESTRICTOR_NONE" ]; then
    flags+=(--load-restrictor LoadRestrictionsNone)
  fi
  target=$root
  if ! has_kustomization "$root"; then
    tmp=$(mktemp -d)
    cp -a "$dir/." "$tmp/"
    target="$tmp${rootrel:+/$rootrel}"
    local res
    res=$(flux_walk "$target" "")
    {
      echo "apiVersion: kustomize.config.k8s.io/v1beta1"
      echo "kind: Kustomization"
      # Flux omits an empty resource list (omitempty), and kustomize then refuses the
      # kustomization as empty.
      if [ -n "$res" ]; then
        echo "resources:"
        echo "$res"
      fi
    } > "$target/kustomization.yaml"
  fi
  out=$(mktemp); err=$(mktemp)
  "$KUBECTL" kustomize "${flags[@]}" "$target" >"$out" 2>"$err"
  rc=$?
  rm -f "$EXPECTED/$name.yaml" "$EXPECTED/$name.error"
  if [ $rc -eq 0 ]; then
    cp "$out" "$EXPECTED/$name.yaml"
  else
    ERRORS=$((ERRORS + 1))
    local line
    # strip the klog header ("E1124 07:09:41.335303   10849 run.go:72] ") which
    # carries a timestamp and pid, so that the file is deterministic
    # First meaningful stderr line: skip kustomize deprecation warnings
    # ("# Warning: ..."); a klog multi-line value (err=< ... >) is joined into
    # one line. Then make it deterministic: strip the klog header
    # (timestamp, pid), Go pointer addresses and absolute paths.
    line=$(grep -v '^# Warning:' "$err" \
      | awk 'NR == 1 { l = $0; if (l !~ /<$/) exit; next }
             /^ >$/ { exit }
             { sub(/^[ \t]+/, ""); l = l " " $0 }
             END { print l }' \
      | sed -E -e 's/^[EWIF][0-9]{4} [0-9:.]+ +[0-9]+ [^]]+\] //' -e 's/0xc[0-9a-f]{6,}/0xADDR/g')
    if [ -n "$tmp" ]; then line=${line//$tmp/<case>}; fi
    line=${line//$CASES\//cases/}
    line=${line//$HERE\//}
    printf '%s\n' "$line" > "$EXPECTED/$name.error"
  fi
  rm -f "$out" "$err"
  [ -n "$tmp" ] && rm -rf "$tmp"
  N=$((N + 1))
}

N=0
ERRORS=0
if [ $# -gt 0 ]; then
  for c in "$@"; do run_case "$CASES/${c%/}"; done
else
  # drop stale expectations of deleted cases
  for f in "$EXPECTED"/*; do
    [ -e "$f" ] || continue
    b=$(basename "$f"); b=${b%.yaml}; b=${b%.error}
    [ -d "$CASES/$b" ] || rm -f "$f"
  done
  for d in "$CASES"/*/; do
    run_case "${d%/}"
  done
fi
echo "$N cases, $ERRORS errors"
