#!/usr/bin/env bash
# Import benchmark (issue 19): fills a queue of the test RT with
# ${BENCH_TICKETS:-5000} tickets through REST2 and imports it twice (the
# second run finds nothing new); prints tickets/s. Logbuch on SQLite in a
# temporary directory unless LOGBUCH_BENCH_DATABASE_URL names a PostgreSQL
# server (a database is created there per run). RT from tests/peers/rt-up.sh
# (kept running with RT_REUSE=1) unless LOGBUCH_TEST_RT_DIR names one;
# BENCH_RT_QUEUE=<name> imports a queue filled by an earlier run.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${LOGBUCH_TEST_RT_DIR:-}" ]; then
  RT_REUSE=1 bash tests/peers/rt-up.sh
  export LOGBUCH_TEST_RT_DIR=${PEERS_DIR:-/tmp/peers}/rt
fi
cargo build --release -q -p logbuch-tests --bin bench-import
exec target/release/bench-import
