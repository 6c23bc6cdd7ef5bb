#!/usr/bin/env bash
# Installs (once) the OpenID Connect provider the SSO tests start, one per
# test with its own clients and accounts: npm oidc-provider@9 (a certified
# OP) and oidc-op.mjs next to it, in ${PEERS_DIR:-/tmp/peers}/oidc. The tests
# find it through LOGBUCH_TEST_OIDC_DIR (this directory). Needs Node.js and npm.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
DIR=${PEERS_DIR:-/tmp/peers}/oidc
mkdir -p "$DIR"
command -v node >/dev/null || { echo "oidc: node missing (apt-get install nodejs npm)" >&2; exit 1; }
if [ ! -d "$DIR/node_modules/oidc-provider" ]; then
  (cd "$DIR" && { [ -f package.json ] || echo '{"private":true}' > package.json; } \
     && npm install --no-audit --no-fund --silent oidc-provider@9)
fi
cp "$HERE/oidc-op.mjs" "$DIR/oidc-op.mjs"   # ESM resolves 'oidc-provider' next to the script
echo "oidc OP ready to start: node $DIR/oidc-op.mjs (per test)"
