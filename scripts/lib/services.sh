# Shell functions the scripts that start the real binaries share (sourced, not run):
# scripts/fuzz-api.sh, scripts/browser-tests.sh.
#
# Needs: ROOT (the repository), PY (a python3), and for stop_services a `pids` array.

# build_debug_binaries: builds both services (debug) and sets `target_dir` and `bin`.
build_debug_binaries() {
  printf '==> build (debug)\n'
  (cd "$ROOT" && cargo build --locked -p auth-service -p todo-service)
  target_dir="$(cd "$ROOT" && cargo metadata --format-version 1 --no-deps |
    "$PY" -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')"
  bin="$target_dir/debug"
}

# free_port: a loopback port free right now.
free_port() {
  "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# wait_ready NAME URL PID: until GET URL/readyz answers 200 (60 s at most), or the process exits.
wait_ready() {
  local name="$1" url="$2" pid="$3"
  for _ in $(seq 1 300); do
    if curl -fsS -o /dev/null "$url/readyz" 2>/dev/null; then return 0; fi
    if ! kill -0 "$pid" 2>/dev/null; then
      printf '%s exited before it was ready\n' "$name" >&2
      return 1
    fi
    sleep 0.2
  done
  printf '%s did not become ready within 60 s\n' "$name" >&2
  return 1
}

# stop_services: SIGTERM to every pid in `pids`, then wait for them.
stop_services() {
  if ((${#pids[@]})); then
    kill -TERM "${pids[@]}" 2>/dev/null || true
    wait "${pids[@]}" 2>/dev/null || true
  fi
}

# show_failed_logs DIR LEVELS: for each log in DIR, the lines at LEVELS (a regex such as
# 'ERROR|WARN') and panics, else its last lines.
show_failed_logs() {
  local dir="$1" levels="$2" log
  for log in "$dir"/*.log; do
    [[ -f "$log" ]] || continue
    printf '\n--- %s: problems logged, else its last lines ---\n' "$(basename "$log")" >&2
    if grep -qE "\"level\":\"($levels)\"|panicked at" "$log"; then
      grep -E "\"level\":\"($levels)\"|panicked at" "$log" | tail -n 30 >&2 || true
    else
      tail -n 15 "$log" >&2 || true
    fi
  done
}
