#!/usr/bin/env bash
# Installs (once) what the browser tests need: Debian's chromium and npm
# playwright-core in ${PEERS_DIR:-/tmp/peers}/e2e (the tests copy their
# scripts there, so Node finds playwright-core). Needs root for apt.
set -euo pipefail
DIR=${PEERS_DIR:-/tmp/peers}/e2e
mkdir -p "$DIR"
if ! command -v chromium >/dev/null; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium >/dev/null
fi
if [ ! -d "$DIR/node_modules/playwright-core" ]; then
  (cd "$DIR" && { [ -f package.json ] || echo '{"private":true}' > package.json; } \
     && npm install --no-audit --no-fund --silent playwright-core@1)
fi
echo "browser ready: $(chromium --version 2>/dev/null | head -1), playwright-core in $DIR"
