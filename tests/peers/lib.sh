# Shared by the peers' start scripts that run a server of their own
# (rt-up.sh, redmine-up.sh); sourced, after they set PORT and say().

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; }

# Stops the server an earlier run started (its own process group, setsid):
# TERM, up to 5 s, then KILL; then waits up to 5 s for $PORT to be free and
# fails when something else holds it.
stop_old_instance() {
  local pidfile=$1 pid
  if [ -s "$pidfile" ]; then
    pid=$(cat "$pidfile")
    kill -TERM -- "-$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$pid" 2>/dev/null || true
  fi
  for _ in $(seq 50); do port_open || break; sleep 0.1; done
  port_open && { say "port $PORT is in use by something else"; exit 1; }
  return 0
}
