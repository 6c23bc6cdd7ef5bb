#!/usr/bin/env bash
# Report benchmark (issue 16): the quarterly report page over a million
# demo tickets on PostgreSQL, for the Bund, for LVs and for the whole
# federation (`alle`).
#
#   tests/bench-report.sh           # 1,000,000 tickets, 7 timed requests per case
#
# The database (LOGBUCH_BENCH_DATABASE_URL, default: the machine's durable
# PostgreSQL over loopback without TLS, database logbuch_bench, the same as
# tests/bench-scale.sh) is filled once by `logbuch admin seed-demo` and
# reused by later runs. The demo data spreads its tickets over the three
# years before the load, denser towards its end, so the script reports on
# the last complete quarter before the load and on the running one.
# A release `logbuch serve --no-workers` answers the page
# `/ui/berichte/{tenant}?quartal=…` to the demo federal officer (who may
# read every tenant's report), one request at a time: one untimed request to
# warm up, then RUNS timed ones; the script prints median and maximum of
# the whole request (curl's time_total) per case, and the report's
# statements with their plans (EXPLAIN ANALYZE) from the server's log of slow
# statements. TICKETS, RUNS and PORT override the defaults; LOGBUCH_BIN runs
# a given binary instead of building one (to measure an older build on the
# same data); REPORT_OUT names a folder to keep each case's wiki text in (to
# compare the figures of two builds).
set -euo pipefail
cd "$(dirname "$0")/.."
. tests/bench-lib.sh
DB=${LOGBUCH_BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/logbuch_bench?sslmode=disable}
TICKETS=${TICKETS:-1000000}
RUNS=${RUNS:-7}
PORT=${PORT:-8092}
base=${DB%%\?*}
ADMIN_URL="${base%/*}/postgres${DB#"$base"}"
DBNAME="${base##*/}"

if [ -n "${LOGBUCH_BIN:-}" ]; then
  BIN=$LOGBUCH_BIN
else
  cargo build --release -q -p logbuch
  BIN=${CARGO_TARGET_DIR:-$PWD/target}/release/logbuch
fi
work=$(mktemp -d)
trap 'kill "${server:-}" 2>/dev/null || true; rm -rf "$work"' EXIT
export LOGBUCH__DATABASE__URL=$DB LOGBUCH__DATA_DIR=$work/data RUST_LOG=warn

if [ -z "$(psql "$ADMIN_URL" -Atc "SELECT 1 FROM pg_database WHERE datname = '$DBNAME'")" ]; then
  psql "$ADMIN_URL" -qc "CREATE DATABASE \"$DBNAME\""
fi
"$BIN" migrate >/dev/null
have=$(psql "$DB" -Atc "SELECT count(*) FROM tickets")
if [ "$have" -lt "$TICKETS" ]; then
  echo "== Demodaten laden: $((TICKETS - have)) Tickets (einmalig; spätere Läufe benutzen sie wieder)"
  "$BIN" admin seed-demo --tickets $((TICKETS - have))
  psql "$DB" -qc "VACUUM ANALYZE tickets"
fi
q() { psql "$DB" -Atc "$1"; }
echo "== Daten: $(q "SELECT count(*) FROM tickets") Tickets, $(q "SELECT count(*) FROM tickets WHERE status IN ('new','open','waiting')") offen," \
  "ältestes $(q "SELECT min(created_at)::date FROM tickets"), neuestes $(q "SELECT max(created_at)::date FROM tickets")," \
  "Datenbank $(q "SELECT pg_size_pretty(pg_database_size(current_database()))")"

# The quarters: the last complete one before the newest ticket, and the one it lies in.
newest=$(q "SELECT (max(created_at) AT TIME ZONE 'Europe/Berlin')::date FROM tickets")
running=$(date -d "$newest" +%Y)Q$(( ($(date -d "$newest" +%-m) - 1) / 3 + 1 ))
y=${running%Q*} n=${running#*Q}
if [ "$n" -eq 1 ]; then full=$((y - 1))Q4; else full=${y}Q$((n - 1)); fi

# The machine's own speed in this run (tests/bench-lib.sh).
setup_reference

link=$("$BIN" admin token link --user bundesbeauftragte@demo.logbuch.local | grep -o '/auth/link/lb_[0-9a-f]*' | head -1)
LOGBUCH__SERVER__LISTEN=127.0.0.1:$PORT "$BIN" serve --no-workers --skip-migrations >"$work/server.log" 2>&1 &
server=$!
wait_ready "$PORT"
curl -s -c "$work/jar" -o /dev/null "http://127.0.0.1:$PORT$link"

ref_before=$(reference)
echo "== Maschine: pgbench -S, 32 Clients, 10 s: $ref_before Abfragen/s (Vergleichswert dieser Maschinenart: ~56.000)"
echo "== $RUNS Anfragen je Fall nacheinander (nach einer zum Aufwärmen), Server: logbuch serve --no-workers (release)"

results=()
run() { # tenant quarter bar-ms
  local tenant=$1 quarter=$2 bar=$3 url="http://127.0.0.1:$PORT/ui/berichte/$1?quartal=$2"
  local code
  code=$(curl -s -b "$work/jar" -o "$work/page" -w '%{http_code}' "$url")
  if [ "$code" != 200 ]; then
    echo "$tenant $quarter: HTTP $code" >&2
    head -c 400 "$work/page" >&2
    exit 1
  fi
  local times=()
  for _ in $(seq 1 "$RUNS"); do
    times+=("$(curl -s -b "$work/jar" -o /dev/null -w '%{time_total}' "$url")")
  done
  local sorted median max opened
  sorted=$(printf '%s\n' "${times[@]}" | sort -g)
  median=$(awk -v n="$RUNS" '{v[NR] = $1} END {printf "%.0f", 1000 * (n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2)}' <<<"$sorted")
  max=$(tail -1 <<<"$sorted" | awk '{printf "%.0f", 1000 * $1}')
  # The tenant's total line: tickets opened in the period, as the page shows them.
  opened=$(grep -o 'gesamt</th><td class="num"><strong>[^<]*' "$work/page" | head -1 | sed 's/.*>//' || true)
  if [ -n "${REPORT_OUT:-}" ]; then
    mkdir -p "$REPORT_OUT"
    curl -s -b "$work/jar" -o "$REPORT_OUT/$tenant-$quarter.md" "http://127.0.0.1:$PORT/ui/berichte/$tenant/wiki?quartal=$quarter"
  fi
  local verdict="erreicht"
  [ "$median" -lt "$bar" ] || verdict="VERFEHLT"
  results+=("$tenant|$quarter|${opened:-?}|$median|$max|< $bar|$verdict")
  printf '%-5s %-7s Eingang %7s   Median %6s ms   Max %6s ms   (Ziel < %s ms: %s)\n' \
    "$tenant" "$quarter" "${opened:-?}" "$median" "$max" "$bar" "$verdict"
}

# The Bund's report covers the Bund's own tickets (as every tenant's does its
# own); "alle" is the whole federation's report (one line per tenant), and
# for comparison all 17 tenants' reports one after another.
all_tenants() { # quarter bar-ms
  local quarter=$1 bar=$2 codes times=() t0 sorted median max
  codes=$(q "SELECT code FROM tenants ORDER BY code")
  for code in $codes; do curl -s -b "$work/jar" -o /dev/null "http://127.0.0.1:$PORT/ui/berichte/$code?quartal=$quarter"; done
  for _ in $(seq 1 "$RUNS"); do
    t0=$(date +%s%N)
    for code in $codes; do
      [ "$(curl -s -b "$work/jar" -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/ui/berichte/$code?quartal=$quarter")" = 200 ] ||
        { echo "$code $quarter: kein 200" >&2; exit 1; }
    done
    times+=("$(( ($(date +%s%N) - t0) / 1000000 ))")
  done
  sorted=$(printf '%s\n' "${times[@]}" | sort -n)
  median=$(awk -v n="$RUNS" '{v[NR] = $1} END {printf "%.0f", n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2}' <<<"$sorted")
  max=$(tail -1 <<<"$sorted")
  local verdict="erreicht"
  [ "$median" -lt "$bar" ] || verdict="VERFEHLT"
  results+=("alle $(wc -w <<<"$codes") nacheinander|$quarter|–|$median|$max|< $bar|$verdict")
  printf '%-5s %-7s                   Median %6s ms   Max %6s ms   (Ziel < %s ms: %s)\n' \
    "alle" "$quarter" "$median" "$max" "$bar" "$verdict"
}

run bund "$full" 2000
run nw "$full" 500
run by "$full" 500
run hb "$full" 500
run bund "$running" 2000
run nw "$running" 500
run alle "$full" 2000
run alle "$running" 2000
all_tenants "$full" 2000
all_tenants "$running" 2000
echo "== Maschine danach: pgbench -S: $(reference) Abfragen/s (vorher $ref_before)"
hwm=$(awk '/VmHWM/ {print int($2 / 1024)}' "/proc/$server/status")

echo
echo "| Verband | Quartal | Eingang | Median ms | Max ms | Ziel | |"
echo "|---|---|---|---|---|---|---|"
for r in "${results[@]}"; do echo "| ${r//|/ | } |"; done
echo
echo "Höchster Speicher des Servers (VmHWM): $hwm MB"
echo
echo "== Abfragepläne (EXPLAIN ANALYZE) der Berichtsabfragen, NW, $running, wie Logbuch sie stellt"
explain() { echo "-- $1"; psql "$DB" -Atc "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) $2" | sed 's/^/    /'; }
nw=$(q "SELECT id FROM tenants WHERE code = 'nw'")
y=${running%Q*} n=${running#*Q}
S="'$y-$(printf %02d $((3 * n - 2)))-01 00:00 Europe/Berlin'"
if [ "$n" -eq 4 ]; then E="'$((y + 1))-01-01 00:00 Europe/Berlin'"; else E="'$y-$(printf %02d $((3 * n + 1)))-01 00:00 Europe/Berlin'"; fi
explain "Zahlen je Bereich (Eingang, Erledigt, Fristen)" \
  "SELECT queue_id, CAST(SUM(opened) AS BIGINT), CAST(SUM(resolved) AS BIGINT), CAST(SUM(with_due) AS BIGINT), CAST(SUM(kept) AS BIGINT) FROM (
     SELECT queue_id, COUNT(*) AS opened, 0 AS resolved, 0 AS with_due, 0 AS kept FROM tickets
     WHERE tenant_id = $nw AND created_at >= $S AND created_at < $E GROUP BY queue_id
     UNION ALL
     SELECT queue_id, 0, COUNT(*), SUM(CASE WHEN resolution_due IS NOT NULL OR first_response_due IS NOT NULL THEN 1 ELSE 0 END),
       SUM(CASE WHEN (resolution_due IS NOT NULL OR first_response_due IS NOT NULL) AND (resolution_due IS NULL OR resolved_at <= resolution_due)
                 AND (first_response_due IS NULL OR first_responded_at <= first_response_due) THEN 1 ELSE 0 END)
     FROM tickets WHERE tenant_id = $nw AND resolved_at >= $S AND resolved_at < $E GROUP BY queue_id
   ) AS per_queue GROUP BY queue_id ORDER BY queue_id"
explain "Offene Anfragen im Verlauf (ein Punkt: das Quartalsende)" \
  "SELECT COALESCE(SUM(CASE WHEN created_at < $E AND (resolved_at IS NULL OR resolved_at >= $E) THEN 1 ELSE 0 END), 0) FROM (
     SELECT created_at, resolved_at FROM tickets WHERE tenant_id = $nw AND resolved_at IS NULL AND created_at < $E
     UNION ALL
     SELECT created_at, resolved_at FROM tickets WHERE tenant_id = $nw AND resolved_at >= $S AND created_at < $E
   ) AS open_then"
explain "Erste Antworten (je Ticket: Bereich, Eingang, Antwort)" \
  "SELECT queue_id, created_at, first_responded_at FROM tickets
   WHERE tenant_id = $nw AND created_at >= $S AND created_at < $E AND first_responded_at IS NOT NULL"
explain "Erledigungen (je Ticket: Bereich, Eingang, Erledigt)" \
  "SELECT queue_id, created_at, resolved_at FROM tickets WHERE tenant_id = $nw AND resolved_at >= $S AND resolved_at < $E"
