#!/usr/bin/env bash
# Makes the serving certificate for deploy/overlays/static-certs: `meshgate certs` writes
# tls.crt, tls.key and ca.crt into the overlay's folder (kustomize reads files only below the
# kustomization), and the caBundle patch for both webhook configurations is written beside them.
#
#   certs/static-certs.sh [OVERLAY_DIR] [meshgate certs flags...]
#
# Once the overlay has certificates, `meshgate certs` refuses to replace them: run it again with
# --force (`certs/static-certs.sh --force`) to make a new CA and pair, and the patch with the new
# caBundle. MESHGATE names the meshgate binary (default: `meshgate` on PATH, else
# `cargo run --release --`).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
overlay=$root/deploy/overlays/static-certs
# A first argument that is not a flag is the overlay folder.
if [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; then
  overlay=$1
  shift
fi
if [ -n "${MESHGATE:-}" ]; then
  meshgate=("$MESHGATE")
elif command -v meshgate >/dev/null 2>&1; then
  meshgate=(meshgate)
else
  meshgate=(cargo run --quiet --release --manifest-path "$root/Cargo.toml" --)
fi
bundle=$("${meshgate[@]}" certs --service meshgate --namespace meshgate-system --out-dir "$overlay" "$@")
cat > "$overlay/ca-bundle-patch.yaml" <<PATCH
# Written by certs/static-certs.sh: the CA of tls.crt for the API server to verify meshgate with.
- op: add
  path: /webhooks/0/clientConfig/caBundle
  value: $bundle
PATCH
echo "wrote $overlay/{tls.crt,tls.key,ca.crt,ca-bundle-patch.yaml}" >&2
