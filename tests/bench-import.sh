#!/usr/bin/env bash
# Import benchmark (issue 19): fills a queue of the test RT (BENCH_SOURCE=rt,
# the default) or a project of the test Redmine (BENCH_SOURCE=redmine) with
# ${BENCH_TICKETS:-5000} tickets through its API and imports it twice (the
# second run finds nothing new); prints tickets/s. Logbuch on SQLite in a
# temporary directory unless LOGBUCH_BENCH_DATABASE_URL names a PostgreSQL
# server (a database is created there per run). RT and Redmine from
# tests/peers/{rt,redmine}-up.sh (kept running with *_REUSE=1; they need the
# PostgreSQL of pg-up.sh) unless LOGBUCH_TEST_RT_DIR / LOGBUCH_TEST_REDMINE_DIR
# name running ones. BENCH_QUEUE=<name> imports a queue or project filled by
# an earlier run.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${BENCH_SOURCE:-rt}" = redmine ]; then
  if [ -z "${LOGBUCH_TEST_REDMINE_DIR:-}" ]; then
    REDMINE_REUSE=1 bash tests/peers/redmine-up.sh
    export LOGBUCH_TEST_REDMINE_DIR=${PEERS_DIR:-/tmp/peers}/redmine
  fi
elif [ -z "${LOGBUCH_TEST_RT_DIR:-}" ]; then
  RT_REUSE=1 bash tests/peers/rt-up.sh
  export LOGBUCH_TEST_RT_DIR=${PEERS_DIR:-/tmp/peers}/rt
fi
cargo build --release -q -p logbuch-tests --bin bench-import
exec target/release/bench-import
