#!/usr/bin/env bash
# Runs every test of Logbuch: unit tests and the integration tests on SQLite
# and PostgreSQL. Starts a throwaway PostgreSQL on 127.0.0.1:5433 first
# (needs root and Debian's postgresql package, which it installs if missing)
# unless LOGBUCH_TEST_DATABASE_URL points at a server of your own, and a
# throwaway Redis on 127.0.0.1:6380 unless LOGBUCH_TEST_REDIS_URL is set,
# and a throwaway Dovecot (needs root; installs dovecot if missing), and
# Request Tracker 5 and Redmine 5 for the import tests (installed from Debian
# if missing).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${LOGBUCH_TEST_DATABASE_URL:-}" ]; then
  bash tests/peers/pg-up.sh
fi
# Request Tracker 5 on :8091 (Debian request-tracker5, its database on the
# PostgreSQL above) for the import tests; skipped when LOGBUCH_TEST_RT_DIR
# names a running one of your own.
if [ -z "${LOGBUCH_TEST_RT_DIR:-}" ]; then
  bash tests/peers/rt-up.sh
fi
export LOGBUCH_TEST_RT_DIR=${LOGBUCH_TEST_RT_DIR:-${PEERS_DIR:-/tmp/peers}/rt}
# Redmine 5 on :8092 (Debian redmine, likewise), unless LOGBUCH_TEST_REDMINE_DIR is set.
if [ -z "${LOGBUCH_TEST_REDMINE_DIR:-}" ]; then
  bash tests/peers/redmine-up.sh
fi
export LOGBUCH_TEST_REDMINE_DIR=${LOGBUCH_TEST_REDMINE_DIR:-${PEERS_DIR:-/tmp/peers}/redmine}
if [ -z "${LOGBUCH_TEST_REDIS_URL:-}" ]; then
  bash tests/peers/redis-up.sh
fi
# Dovecot (IMAP :1143, LMTP :2424) with one mailbox user per IMAP test.
DOVECOT_USERS="$(echo imap{a,b,c,d,e,f}{s,p}) sink" bash tests/peers/dovecot-up.sh
# Postfix (SMTP :2525) relaying @example.test into Dovecot, for the round trip.
bash tests/peers/postfix-up.sh
# The SMTP capture sink (aiosmtpd, from PyPI) for outgoing mail.
bash tests/peers/smtp-sink-up.sh
# The OpenID Connect provider (npm oidc-provider) the SSO tests start.
bash tests/peers/oidc-up.sh
export LOGBUCH_TEST_OIDC_DIR=${LOGBUCH_TEST_OIDC_DIR:-${PEERS_DIR:-/tmp/peers}/oidc}
# Headless Chromium and playwright-core for the browser tests.
bash tests/peers/browser-up.sh
export LOGBUCH_TEST_E2E_DIR=${LOGBUCH_TEST_E2E_DIR:-${PEERS_DIR:-/tmp/peers}/e2e}
# The crash test runs the real binary as worker processes.
cargo build -q
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --no-fail-fast "$@"
else
  cargo test --workspace --no-fail-fast "$@"
fi
