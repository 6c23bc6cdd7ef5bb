#!/usr/bin/env bash
# Outgoing-mail benchmark: 5,000 notifications queued at once, sent by a
# release worker to a discarding SMTP server; PostgreSQL on :5432 (durable)
# unless LOGBUCH_BENCH_DATABASE_URL is set, Redis from tests/peers.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -n "${LOGBUCH_TEST_REDIS_URL:-}" ] || bash tests/peers/redis-up.sh
cargo build --release -q -p logbuch -p logbuch-tests --bin logbuch --bin bench-outbox
exec target/release/bench-outbox
