# Shared by tests/bench-scale.sh and tests/bench-report.sh (sourced, not run).

# The machine's own speed in a run, to read the figures against: the same
# shared VM is up to a fifth slower at some hours. Defines `reference`, which
# prints PostgreSQL's select-only pgbench rate, 32 clients (about 56,000/s on
# this machine kind, ../shared/limits), on the database ${DBNAME}_ref (made
# once). Needs DB, base, ADMIN_URL and DBNAME.
setup_reference() {
  REF_URL="${base%/*}/${DBNAME}_ref${DB#"$base"}"
  if command -v pgbench >/dev/null; then
    if [ -z "$(psql "$ADMIN_URL" -Atc "SELECT 1 FROM pg_database WHERE datname = '${DBNAME}_ref'")" ]; then
      psql "$ADMIN_URL" -qc "CREATE DATABASE \"${DBNAME}_ref\""
      pgbench -q -i -s 10 "$REF_URL" >/dev/null 2>&1
    fi
    reference() {
      local tps
      tps=$(pgbench -n -S -c 32 -j 2 -T 10 "$REF_URL" 2>/dev/null | awk '/^tps/ {printf "%d", $3}' || true)
      echo "${tps:-– (pgbench lief nicht)}"
    }
  else
    reference() { echo "– (pgbench fehlt: Debian-Paket postgresql)"; }
  fi
}

# Waits (up to 20 s) for a Logbuch on 127.0.0.1:$1 to answer /readyz.
wait_ready() {
  for _ in $(seq 1 100); do
    curl -sf "http://127.0.0.1:$1/readyz" >/dev/null && return 0
    sleep 0.2
  done
}
