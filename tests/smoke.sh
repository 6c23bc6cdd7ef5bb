#!/usr/bin/env bash
# Follows the README like a new user: `logbuch serve` on the embedded default
# in an empty directory must answer on 127.0.0.1:8080 within a minute, print a
# bootstrap token, and the admin commands plus the API must yield a person, a
# token and a ticket.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin="$root/target/debug/logbuch"
[ -x "$bin" ] || (cd "$root" && cargo build -q)
work=$(mktemp -d)
trap 'kill $pid 2>/dev/null || true; rm -rf "$work"' EXIT
cd "$work"
env -u LOGBUCH_CONFIG "$bin" serve > out.txt 2> log.txt &
pid=$!
for i in $(seq 60); do curl -sf http://127.0.0.1:8080/healthz >/dev/null && break; sleep 1; done
curl -sf http://127.0.0.1:8080/readyz >/dev/null || { cat log.txt; echo "smoke: not ready after 60 s"; exit 1; }
token=$(grep -o 'lb_[0-9a-f]\{64\}' out.txt | head -1)
[ -n "$token" ] || { cat out.txt; echo "smoke: no bootstrap token printed"; exit 1; }
curl -sf -H "Authorization: Bearer $token" http://127.0.0.1:8080/api/v1/me | grep -q '"admin"'
curl -sf http://127.0.0.1:8080/api/openapi.json | grep -q '"/api/v1/tickets"'
link=$(grep -o 'http://127.0.0.1:8080/auth/link/lb_[0-9a-f]\{64\}' out.txt | head -1)
[ -n "$link" ] || { cat out.txt; echo "smoke: no login link printed"; exit 1; }
curl -s -c jar.txt -o /dev/null "$link"
curl -sf -b jar.txt http://127.0.0.1:8080/api/v1/me | grep -q '"admin"' || { echo "smoke: the login link gave no session"; exit 1; }
"$bin" admin user create --email erika@example.org --name "Erika Muster" >/dev/null 2>&1
"$bin" admin role grant --user erika@example.org --role helper --tenant by >/dev/null 2>&1
etoken=$("$bin" admin token create --user erika@example.org 2>/dev/null)
code=$(curl -s -o ticket.json -w '%{http_code}' -H "Authorization: Bearer $etoken" -H 'content-type: application/json' \
  -d '{"tenant":"by","subject":"Erstes Ticket","body":"Hallo","requester":"mitglied@example.org"}' http://127.0.0.1:8080/api/v1/tickets)
[ "$code" = 201 ] || { cat ticket.json; echo "smoke: ticket creation answered $code"; exit 1; }
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $etoken" http://127.0.0.1:8080/api/v1/tickets?tenant=nw)
[ "$code" = 200 ] || { echo "smoke: list answered $code"; exit 1; }
echo "smoke: embedded default serves, bootstrap token and login link work, CLI + API created a person, a token and a ticket"
