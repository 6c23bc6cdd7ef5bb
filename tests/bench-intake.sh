#!/usr/bin/env bash
# The dunning-peak benchmark of the mail intake: starts Redis and Dovecot
# (as tests/run.sh does, with four bench mailboxes), builds release, runs it.
# PostgreSQL: the machine's own (127.0.0.1:5432, durable, as ../limits
# measured it) unless LOGBUCH_BENCH_DATABASE_URL says otherwise.
# BENCH_MAILS (default 20000) sets the size of the peak.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -n "${LOGBUCH_TEST_REDIS_URL:-}" ] || bash tests/peers/redis-up.sh
DOVECOT_USERS="$(echo imap{a,b,c,d,e,f}{s,p}) benchbund benchby benchnw benchhe" bash tests/peers/dovecot-up.sh
cargo build --release -q -p logbuch -p logbuch-tests --bin logbuch --bin bench-intake
exec target/release/bench-intake
