#!/usr/bin/env bash
# Capturing SMTP sink (aiosmtpd) on 127.0.0.1:${SINK_PORT:-2526}: every mail lands in a
# Maildir with its envelope in X-MailFrom / X-RcptTo headers. Fresh state on every start.
set -euo pipefail
H=$(cd "$(dirname "$0")" && pwd)
P=${PEERS_DIR:-/tmp/peers}
PORT=${SINK_PORT:-2526}
mkdir -p "$P"
[ -x "$P/venv/bin/python" ] || python3 -m venv "$P/venv"
"$P/venv/bin/python" -c 'import aiosmtpd' 2>/dev/null || "$P/venv/bin/pip" install -q aiosmtpd
[ -f "$P/smtp-sink.pid" ] && kill "$(cat "$P/smtp-sink.pid")" 2>/dev/null || true
rm -rf "$P/smtp-sink"
nohup "$P/venv/bin/python" "$H/smtp_sink.py" --port "$PORT" --maildir "$P/smtp-sink" > "$P/smtp-sink.log" 2>&1 &
echo $! > "$P/smtp-sink.pid"
for i in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/$PORT) 2>/dev/null && break; sleep 0.1; done
echo "smtp sink up: 127.0.0.1:$PORT -> $P/smtp-sink"
