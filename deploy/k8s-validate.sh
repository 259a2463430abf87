#!/usr/bin/env bash
# The Kubernetes manifests against the API's schemas with kubernetes-validate --strict (an unknown
# field fails): each file of deploy/k8s as written, then what `kubectl apply -k` would apply, i.e.
# deploy/k8s and every overlay under deploy/k8s-overlays rendered by Kustomize.
#
# Renders with $KUBECTL (default: kubectl on PATH; `kubectl kustomize` is built in since 1.14), else a
# standalone `kustomize`; as root on Debian, installs kubernetes-client (kubectl 1.20, Kustomize v2.0)
# when neither is there, which is why the kustomizations avoid fields newer than v2.0.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
VALIDATE=${VALIDATE:-.venv/bin/kubernetes-validate}
say() { echo "k8s-validate: $*" >&2; }

render() {
    if [ -n "${KUBECTL:-}" ] || command -v kubectl >/dev/null; then
        "${KUBECTL:-kubectl}" kustomize "$1"
    else
        kustomize build "$1"
    fi
}

if [ -z "${KUBECTL:-}" ] && ! command -v kubectl >/dev/null && ! command -v kustomize >/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        say "installing kubernetes-client (for kubectl kustomize)"
        export DEBIAN_FRONTEND=noninteractive
        apt-get install -y -q kubernetes-client >/dev/null ||
            { apt-get update -q && apt-get install -y -q kubernetes-client >/dev/null; }
    else
        say "rendering needs kubectl (1.14 or later) or kustomize; install one (Debian: apt-get install kubernetes-client)"
        exit 1
    fi
fi

raw=()
for f in deploy/k8s/*.yaml; do
    [ "$(basename "$f")" = kustomization.yaml ] || raw+=("$f")
done
"$VALIDATE" --strict --quiet "${raw[@]}"

out=$(mktemp -d "${TMPDIR:-/tmp}/blogsvc-k8s.XXXXXX")
trap 'rm -rf "$out"' EXIT
rendered=()
for dir in deploy/k8s deploy/k8s-overlays/*/; do
    dir=${dir%/}
    file=$out/$(echo "$dir" | tr / _).yaml
    # Its stderr only on failure: kubectl 1.21+ warns about the v2.0 fields the overlays use.
    render "$dir" >"$file" 2>"$out/stderr" || { cat "$out/stderr" >&2; say "$dir: Kustomize failed"; exit 1; }
    # secret.example.yaml stays out of the kustomization: applying it would replace the real Secret.
    if grep -qx 'kind: Secret' "$file"; then
        say "$dir renders a Secret: keep secret.example.yaml out of its resources"
        exit 1
    fi
    rendered+=("$file")
done
"$VALIDATE" --strict --quiet "${rendered[@]}"
