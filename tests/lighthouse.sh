#!/usr/bin/env bash
# Lighthouse accessibility scores for the requester's pages of Logbuch
# (the portal: topics, form, form with errors, status lookup, status page)
# and a helper's pages (start page with an overdue process step, a queue's
# list with its filters and bulk form, a ticket
# with a running process, the absence page), these with a session cookie
# from a one-time login link, and a tenant admin's data-protection pages
# (what is stored about an address, who read a ticket).
#
# Installs (once) Debian's chromium and npm lighthouse in
# ${PEERS_DIR:-/tmp/peers}/lighthouse (needs root for apt), builds and starts
# logbuch on a free port with a temporary SQLite data dir, files one request
# (the status link comes from the mail left in the outbox), adds a reply, and
# runs lighthouse offline against each page. Prints a table (page, score,
# failing audits) and writes the JSON reports to
# ${PEERS_DIR:-/tmp/peers}/lighthouse-reports. Exits 1 if any page scores
# below LIGHTHOUSE_MIN (default 95).
#
#   bash tests/lighthouse.sh
#   LIGHTHOUSE_MIN=100 LOGBUCH_BIN=target/debug/logbuch bash tests/lighthouse.sh
set -euo pipefail
cd "$(dirname "$0")/.."

MIN=${LIGHTHOUSE_MIN:-95}
PEERS=${PEERS_DIR:-/tmp/peers}
LH_DIR=$PEERS/lighthouse
REPORTS=$PEERS/lighthouse-reports
CHROME=${CHROME_PATH:-/usr/bin/chromium}
START=$(date +%s)

log() { echo "lighthouse: $*" >&2; }

# --- install -----------------------------------------------------------------
apt_install() {
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" >/dev/null 2>&1 \
    || { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" >/dev/null; }
}
if [ ! -x "$CHROME" ]; then
  log "installing chromium"
  apt_install chromium
fi
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  log "installing nodejs and npm"
  apt_install nodejs npm
fi
# lighthouse 13 wants Node >= 22.19; 12 runs on Node >= 18.16 (Debian 12 and 13).
LH_VERSION=${LIGHTHOUSE_VERSION:-12}
LH=$LH_DIR/node_modules/.bin/lighthouse
if [ ! -x "$LH" ]; then
  log "installing lighthouse@$LH_VERSION in $LH_DIR"
  mkdir -p "$LH_DIR"
  (cd "$LH_DIR" && { [ -f package.json ] || echo '{"private":true}' > package.json; } \
     && npm install --no-audit --no-fund --silent "lighthouse@$LH_VERSION")
fi
log "$("$CHROME" --version 2>/dev/null | head -1), lighthouse $("$LH" --version), node $(node --version)"

# --- server --------------------------------------------------------------------
if [ -z "${LOGBUCH_BIN:-}" ]; then
  cargo build -q
  LOGBUCH_BIN=target/debug/logbuch
fi
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

WORK=$(mktemp -d /tmp/logbuch-lighthouse.XXXXXX)
SERVER_PID= STATIC_PID= SCORED=
cleanup() {
  local rc=$?
  set +e
  for pid in $SERVER_PID $STATIC_PID; do kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; done
  if [ "$rc" -ne 0 ] && [ -z "$SCORED" ] && [ -f "$WORK/server.log" ]; then
    log "exit $rc; last lines of the server log:"; tail -n 20 "$WORK/server.log" >&2
  fi
  rm -rf "$WORK"
  return "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

PORT=$(free_port)
BASE=http://127.0.0.1:$PORT
mkdir -p "$WORK/data"
LOGBUCH__SERVER__LISTEN=127.0.0.1:$PORT LOGBUCH__DATA_DIR=$WORK/data LOGBUCH__PORTAL__MIN_FILL_SECS=1 \
  "$LOGBUCH_BIN" serve >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 120); do
  curl -fs -o /dev/null --max-time 2 "$BASE/readyz" && break
  kill -0 "$SERVER_PID" 2>/dev/null || { log "server exited early"; exit 1; }
  sleep 0.5
done
curl -fs -o /dev/null --max-time 2 "$BASE/readyz" || { log "server not ready after 60 s"; exit 1; }

# --- test data -----------------------------------------------------------------
FORM_URL="$BASE/anfrage/nw?thema=presse"
form_token() {
  curl -fsS --max-time 10 "$FORM_URL" \
    | sed -n 's/.*<input type="hidden" name="token" value="\([^"]*\)".*/\1/p' | head -1
}
# post_form EMAIL OUTFILE -> prints the HTTP status
post_form() {
  local token; token=$(form_token)
  [ -n "$token" ] || { log "no token in $FORM_URL"; exit 1; }
  sleep 1.2   # the form refuses posts faster than min_fill_secs
  curl -sS --max-time 20 -o "$2" -w '%{http_code}' "$BASE/anfrage/nw" \
    --form-string "token=$token" --form-string topic=presse \
    --form-string "name=Erika Mustermann" --form-string "email=$1" \
    --form-string "subject=Frage zur Barrierefreiheit" \
    --form-string "body=Guten Tag, wie barrierefrei ist Ihr Anfrageformular?" \
    --form-string "feld_redaktion=Tagesblatt" --form-string feld_frist=2030-01-31 \
    -F "dateien=@$WORK/notiz.txt;type=text/plain"
}
printf 'Eine kleine Anlage.\n' > "$WORK/notiz.txt"

code=$(post_form erika@example.org "$WORK/done.html")
case "$code" in 200|303) ;; *) log "valid request: HTTP $code"; head -c 2000 "$WORK/done.html" >&2; exit 1;; esac

# The form with error messages: lighthouse cannot POST, so save the 422 answer
# and serve it as a static page (its CSS is inline, so it looks the same).
mkdir -p "$WORK/static"
code=$(post_form keine-adresse "$WORK/static/formular-fehler.html")
[ "$code" = 422 ] || { log "invalid request: expected HTTP 422, got $code"; exit 1; }
grep -q 'aria-invalid="true"' "$WORK/static/formular-fehler.html" || { log "422 page shows no field error"; exit 1; }
SPORT=$(free_port)
python3 -m http.server "$SPORT" --bind 127.0.0.1 --directory "$WORK/static" >"$WORK/static.log" 2>&1 &
STATIC_PID=$!

# The status link from the acknowledgement mail in the outbox.
STATUS_TOKEN=
for _ in $(seq 1 40); do
  STATUS_TOKEN=$(python3 - "$WORK/data/logbuch.sqlite" <<'PY' || true
import email, email.policy, re, sqlite3, sys
db = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
link = re.compile(r"http\S+/status/([0-9a-f]{64})")
for (raw,) in db.execute("SELECT raw FROM outbox ORDER BY rowid"):
    if isinstance(raw, str):
        raw = raw.encode("utf-8", "surrogateescape")
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    texts = [p.get_content() for p in msg.walk() if p.get_content_type() == "text/plain"]
    for t in texts + [raw.decode("utf-8", "replace")]:
        m = link.search(t)
        if m:
            print(m.group(1)); sys.exit(0)
sys.exit(1)
PY
)
  [ -n "$STATUS_TOKEN" ] && break
  sleep 0.5
done
[ -n "$STATUS_TOKEN" ] || { log "no status link in the outbox"; exit 1; }
STATUS_URL=$BASE/status/$STATUS_TOKEN

code=$(curl -sS --max-time 20 -o /dev/null -w '%{http_code}' "$STATUS_URL/antwort" \
  --form-string "body=Noch eine Ergänzung: Die Frist ist nicht so eng.")
case "$code" in 200|303) ;; *) log "reply: HTTP $code"; exit 1;; esac
curl -fsS --max-time 10 "$STATUS_URL" | grep -c 'Noch eine Ergänzung' >/dev/null \
  || { log "reply not on the status page"; exit 1; }

# A helper's pages: a session from a login link, a ticket with the exit process
# started and its first step ticked off (through the API with a token).
lb() { LOGBUCH__DATA_DIR=$WORK/data "$LOGBUCH_BIN" admin "$@"; }
lb user create --email helferin@nrw.example --name "Hanna Helferin" >/dev/null
lb role grant --user helferin@nrw.example --role helper --tenant nw >/dev/null
TOKEN=$(lb token create --user helferin@nrw.example --name lighthouse | grep -o 'lb_[A-Za-z0-9_-]*' | head -1)
[ -n "$TOKEN" ] || { log "no API token"; exit 1; }
LINK=$(lb token link --user helferin@nrw.example | grep -o '/auth/link/[^[:space:]]*' | head -1)
SESSION=$(curl -sS --max-time 10 -o /dev/null -D - "$BASE$LINK" \
  | sed -n 's/^[Ss]et-[Cc]ookie: logbuch_sitzung=\([^;]*\).*/\1/p' | head -1)
[ -n "$SESSION" ] || { log "no session from the login link"; exit 1; }
api() { curl -fsS --max-time 10 -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' "$@"; }
TICKET=$(api -X POST "$BASE/api/v1/tickets" -d '{"tenant":"nw","queue":"mitgliederverwaltung","subject":"Austritt zum Monatsende","body":"Hiermit erkläre ich meinen Austritt.","requester":"max@example.org","requester_name":"Max Muster"}' \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["number"])')
STEP=$(api -X POST "$BASE/api/v1/tickets/$TICKET/processes" -d '{"process":"austritt"}' \
  | python3 -c 'import json,sys; d=json.load(sys.stdin); print([s for s in d["processes"][0]["steps"] if s["state"]=="current"][0]["id"])')
api -X POST "$BASE/api/v1/tickets/$TICKET/steps/$STEP/done" -d '{}' >/dev/null
# A second ticket whose process step is overdue, for the start page (the deadline set in the database).
OTHER=$(api -X POST "$BASE/api/v1/tickets" -d '{"tenant":"nw","queue":"mitgliederverwaltung","subject":"Mitgliedsantrag","body":"Ich möchte Mitglied werden.","requester":"erika@example.org"}' \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["number"])')
api -X POST "$BASE/api/v1/tickets/$OTHER/processes" -d '{"process":"aufnahme"}' >/dev/null
python3 - "$WORK/data/logbuch.sqlite" "$OTHER" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], timeout=30)
db.execute("UPDATE process_steps SET due_at = '2026-01-05 09:00:00+00:00' WHERE ticket_id = ? AND done_at IS NULL AND due_at IS NOT NULL", (int(sys.argv[2]),))
db.commit()
PY
curl -fsS --max-time 10 -H "Cookie: logbuch_sitzung=$SESSION" "$BASE/" | grep -c 'Überfällige Schritte' >/dev/null \
  || { log "the start page shows no overdue step"; exit 1; }
curl -fsS --max-time 10 -H "Cookie: logbuch_sitzung=$SESSION" "$BASE/ui/tickets/$TICKET" | grep -c 'id="ablaeufe"' >/dev/null \
  || { log "the ticket page shows no process"; exit 1; }

# A tenant admin's session for the data-protection pages.
lb user create --email datenschutz@nrw.example --name "Dana Datenschutz" >/dev/null
lb role grant --user datenschutz@nrw.example --role tenant_admin --tenant nw >/dev/null
LINK2=$(lb token link --user datenschutz@nrw.example | grep -o '/auth/link/[^[:space:]]*' | head -1)
ADMIN_SESSION=$(curl -sS --max-time 10 -o /dev/null -D - "$BASE$LINK2" \
  | sed -n 's/^[Ss]et-[Cc]ookie: logbuch_sitzung=\([^;]*\).*/\1/p' | head -1)
[ -n "$ADMIN_SESSION" ] || { log "no session for the tenant admin"; exit 1; }
curl -fsS --max-time 10 -H "Cookie: logbuch_sitzung=$ADMIN_SESSION" "$BASE/ui/datenschutz?adresse=max@example.org" \
  | grep -c 'id="auskunft"' >/dev/null || { log "the data-protection page finds nothing for max@example.org"; exit 1; }

# --- lighthouse ----------------------------------------------------------------
PAGES=(
  "themen|$BASE/anfrage/nw"
  "formular|$FORM_URL"
  "formular-fehler|http://127.0.0.1:$SPORT/formular-fehler.html"
  "status-suche|$BASE/status"
  "statusseite|$STATUS_URL"
  "mitarbeit-start|$BASE/"
  "mitarbeit-liste|$BASE/ui/tickets?tenant=nw&queue=mitgliederverwaltung"
  "mitarbeit-ticket|$BASE/ui/tickets/$TICKET"
  "mitarbeit-abwesenheit|$BASE/ui/abwesenheit"
  "datenschutz-adresse|$BASE/ui/datenschutz?adresse=max@example.org"
  "datenschutz-zugriffe|$BASE/ui/tickets/$TICKET/zugriffe"
)
rm -rf "$REPORTS"; mkdir -p "$REPORTS"
export CHROME_PATH=$CHROME
for p in "${PAGES[@]}"; do
  name=${p%%|*} url=${p#*|}
  extra=()
  case $name in
    mitarbeit-*) extra=(--extra-headers="{\"Cookie\":\"logbuch_sitzung=$SESSION\"}") ;;
    datenschutz-*) extra=(--extra-headers="{\"Cookie\":\"logbuch_sitzung=$ADMIN_SESSION\"}") ;;
  esac
  if ! timeout 300 "$LH" "$url" "${extra[@]}" --only-categories=accessibility --output=json \
        --output-path="$REPORTS/$name.json" --quiet \
        --chrome-flags="--headless=new --no-sandbox --disable-gpu" 2>"$WORK/lh-$name.log"; then
    log "lighthouse failed on $name ($url):"; tail -n 20 "$WORK/lh-$name.log" >&2
    exit 1
  fi
done

# --- table ---------------------------------------------------------------------
SCORED=1
set +e
python3 - "$REPORTS" "$MIN" "${PAGES[@]}" <<'PY'
import json, sys
reports, minimum, pages = sys.argv[1], float(sys.argv[2]), sys.argv[3:]
rows, bad = [], []
for p in pages:
    name = p.split("|", 1)[0]
    r = json.load(open(f"{reports}/{name}.json"))
    if r.get("runtimeError"):
        rows.append((name, "ERR", r["runtimeError"].get("message", "?"), []))
        bad.append(name)
        continue
    cat = r["categories"]["accessibility"]
    score = cat["score"]
    failing = []
    for ref in cat["auditRefs"]:
        a = r["audits"][ref["id"]]
        if a.get("score") is not None and a["score"] < 1:
            items = (a.get("details") or {}).get("items") or []
            snips = [i["node"]["snippet"] for i in items if isinstance(i.get("node"), dict) and i["node"].get("snippet")]
            failing.append((a["id"], a["title"], snips))
    s = "ERR" if score is None else round(score * 100)
    if score is None or score * 100 < minimum:
        bad.append(name)
    rows.append((name, s, ", ".join(f[1] for f in failing) or "-", failing))
w = max(len(r[0]) for r in rows)
print(f"{'page':<{w}}  score  failing audits")
for name, s, titles, failing in rows:
    print(f"{name:<{w}}  {str(s):>5}  {titles}")
for name, s, titles, failing in rows:
    for fid, title, snips in failing:
        print(f"\n{name}: {fid} – {title}")
        for sn in snips[:5]:
            print(f"    {sn}")
        if len(snips) > 5:
            print(f"    … and {len(snips) - 5} more")
if bad:
    print(f"\nbelow {minimum:g}: {', '.join(bad)}")
    sys.exit(1)
PY
rc=$?
set -e
echo "reports in $REPORTS; took $(( $(date +%s) - START )) s (threshold $MIN)"
exit $rc
