#!/bin/bash
# Regenerates the oracle expectations of every case (or of the cases named as
# arguments) with the real `kubectl kustomize` (kustomize v5.5.0).
#
# A case is a directory with base.yaml and patch.yaml.  With a target.yaml
# (a kustomize patch target selector) the patch is a JSON 6902 op list.
# Outputs: base.json, patch.json, and expected.json (kubectl's output; `null`
# when the resource was deleted) or expected_error.txt (kubectl failed).
# Needs python3 with PyYAML.
set -u
cd "$(dirname "$0")"
cases=("$@")
[ ${#cases[@]} -eq 0 ] && cases=($(ls -d */ | tr -d /))
y2j='import sys,yaml,json; d=yaml.safe_load(sys.stdin.read()); print(json.dumps(d, sort_keys=True))'
for c in "${cases[@]}"; do
  t=$(mktemp -d)
  cp "$c/base.yaml" "$c/patch.yaml" "$t/"
  {
    echo 'resources: [base.yaml]'
    echo 'patches:'
    echo '- path: patch.yaml'
    if [ -f "$c/target.yaml" ]; then echo '  target:'; sed 's/^/    /' "$c/target.yaml"; fi
  } > "$t/kustomization.yaml"
  python3 -c "$y2j" < "$c/base.yaml" > "$c/base.json"
  python3 -c "$y2j" < "$c/patch.yaml" > "$c/patch.json"
  rm -f "$c/expected.json" "$c/expected_error.txt"
  if out=$(kubectl kustomize "$t" 2>&1); then
    printf '%s' "$out" | python3 -c "$y2j" > "$c/expected.json"
  else
    printf '%s\n' "$out" > "$c/expected_error.txt"
  fi
  rm -rf "$t"
done
