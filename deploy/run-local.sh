#!/usr/bin/env bash
# The whole system on this machine: auth-service and todo-service on the embedded default
# (SQLite under data/, generated keys), no other server. Ctrl-C stops both.
#
#   ./deploy/run-local.sh
#
# Env (optional): ADMIN_EMAIL [admin@example.com], ADMIN_PASSWORD [generated and printed once],
# AUTH_PORT [8080], TODO_PORT [8081], PROFILE [release] (or debug: a faster first build),
# AUTH_CORS_ORIGINS [the web client's origin, http://127.0.0.1:TODO_PORT and http://localhost:TODO_PORT].
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

profile=${PROFILE:-release}
auth_port=${AUTH_PORT:-8080}
todo_port=${TODO_PORT:-8081}
admin_email=${ADMIN_EMAIL:-admin@example.com}
auth_url="http://127.0.0.1:$auth_port"
todo_url="http://127.0.0.1:$todo_port"

command -v cargo >/dev/null || { echo "cargo not found: install the Rust toolchain (https://rustup.rs)" >&2; exit 1; }

echo "building both services ($profile; the first build takes a few minutes)…"
if [ "$profile" = release ]; then
  cargo build --release --locked -p auth-service -p todo-service
else
  cargo build --locked -p auth-service -p todo-service
fi
target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])' 2>/dev/null || echo target)
bin="$target_dir/$profile"

mkdir -p data
first_run=false
if [ ! -f data/auth.db ]; then
  first_run=true
  admin_password=${ADMIN_PASSWORD:-$(head -c 18 /dev/urandom | base64 | tr '+/' '-_')}
else
  admin_password=${ADMIN_PASSWORD:-}
fi

pids=()
stopped=false
stop() {
  $stopped && return
  stopped=true
  if [ ${#pids[@]} -gt 0 ]; then
    echo
    echo "stopping…"
    kill -TERM "${pids[@]}" 2>/dev/null || true
    wait "${pids[@]}" 2>/dev/null || true
  fi
}
trap 'stop; exit 0' INT TERM
trap stop EXIT

wait_ready() { # name url
  for _ in $(seq 1 150); do
    if curl -fsS "$2/readyz" >/dev/null 2>&1; then return 0; fi
    sleep 0.2
  done
  echo "$1 did not become ready; see data/$1.log" >&2
  exit 1
}

# The web client is served by the todo-service at $todo_url/app/ and calls the auth-service
# cross-origin: allow its origin, by either name of the loopback host.
auth_env=(AUTH_LISTEN_ADDR="127.0.0.1:$auth_port" AUTH_ISSUER="$auth_url"
  AUTH_CORS_ORIGINS="${AUTH_CORS_ORIGINS:-http://127.0.0.1:$todo_port,http://localhost:$todo_port}")
if [ -n "$admin_password" ]; then
  auth_env+=(AUTH_BOOTSTRAP_ADMIN_EMAIL="$admin_email" AUTH_BOOTSTRAP_ADMIN_PASSWORD="$admin_password")
fi
env "${auth_env[@]}" "$bin/auth-service" >>data/auth-service.log 2>&1 &
pids+=($!)
wait_ready auth-service "$auth_url"

TODO_LISTEN_ADDR="127.0.0.1:$todo_port" TODO_ISSUER="$auth_url" \
  "$bin/todo-service" >>data/todo-service.log 2>&1 &
pids+=($!)
wait_ready todo-service "$todo_url"

cat <<TXT

  auth-service  $auth_url   (docs: $auth_url/docs, JWKS: $auth_url/.well-known/jwks.json)
  todo-service  $todo_url   (docs: $todo_url/docs)
  web client    $todo_url/app/   (open it in a browser; log in as the admin below)
  logs          data/auth-service.log, data/todo-service.log

TXT
if $first_run; then
  echo "  admin         $admin_email / $admin_password   (printed once; keep it)"
else
  echo "  admin         $admin_email (password as printed on the first run, or ADMIN_PASSWORD)"
fi
cat <<TXT

  Try it (log in, create a todo, list):
    TOKEN=\$(curl -s -XPOST $auth_url/api/auth/login -H 'Content-Type: application/json' -d '{"email":"$admin_email","password":"${admin_password:-<password>}"}' | sed -E 's/.*"access_token":"([^"]+)".*/\1/')
    curl -s -XPOST $todo_url/api/todos -H "Authorization: Bearer \$TOKEN" -H 'Content-Type: application/json' -d '{"title":"Buy milk"}'
    curl -s $todo_url/api/todos -H "Authorization: Bearer \$TOKEN"

  Ctrl-C stops both.
TXT
wait "${pids[@]}"
