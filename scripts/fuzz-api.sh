#!/usr/bin/env bash
# Schema-driven fuzzing of both services' published OpenAPI documents with schemathesis.
#
#   bash scripts/fuzz-api.sh
#
# Installs schemathesis (pinned) into .tools/venv-schemathesis if missing (a stamp file: a second
# run installs nothing), builds the two debug binaries, starts both on free loopback ports against
# fresh databases (PostgreSQL on TEST_DATABASE_URL's server when set, else SQLite in a temp dir), logs in the bootstrap admin and a plain user, then runs
# schemathesis against each service's /openapi.json with every check it has (no 5xx, status codes,
# content types, headers and bodies as documented, bad input refused, good input accepted, auth
# not ignored, ...). Exits non-zero if it finds anything. Both services stop on exit.
#
# Env (optional): FUZZ_MAX_EXAMPLES [100] cases per operation in the fuzzing phase, FUZZ_SEED [fixed,
# so CI runs are reproducible; `random` for a new one], PYTHON [python3].
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="$ROOT/.tools"
VENV="$TOOLS/venv-schemathesis"
PYTHON="${PYTHON:-python3}"
SCHEMATHESIS_SPEC="schemathesis==4.32.5"
MAX_EXAMPLES="${FUZZ_MAX_EXAMPLES:-100}"
SEED="${FUZZ_SEED:-20261123}"

now() { date +%s.%N; }
elapsed() { awk -v s="$1" -v e="$(now)" 'BEGIN { printf "%.1fs", e - s }'; }
t_start="$(now)"

# --- schemathesis ---------------------------------------------------------------------------
stamp="$VENV/.installed"
if [[ -f "$stamp" && "$(cat "$stamp")" == "$SCHEMATHESIS_SPEC" ]]; then
  printf '==> schemathesis: present (%s)\n' "$SCHEMATHESIS_SPEC"
else
  printf '==> schemathesis: installing %s ...\n' "$SCHEMATHESIS_SPEC"
  mkdir -p "$TOOLS"
  rm -rf "$VENV"
  "$PYTHON" -m venv "$VENV"
  if ! "$VENV/bin/pip" install --quiet "$SCHEMATHESIS_SPEC" >"$TOOLS/venv-schemathesis.install.log" 2>&1; then
    printf 'schemathesis install FAILED, see %s\n' "$TOOLS/venv-schemathesis.install.log" >&2
    tail -n 20 "$TOOLS/venv-schemathesis.install.log" >&2 || true
    exit 1
  fi
  printf '%s' "$SCHEMATHESIS_SPEC" >"$stamp"
fi
ST="$VENV/bin/st"
PY="$VENV/bin/python"

# --- binaries -------------------------------------------------------------------------------
# shellcheck source=scripts/lib/services.sh
source "$ROOT/scripts/lib/services.sh"
build_debug_binaries

# --- services -------------------------------------------------------------------------------
work="$(mktemp -d "${TMPDIR:-/tmp}/fuzz-api.XXXXXX")"
# The store: PostgreSQL when TEST_DATABASE_URL is set (two fresh databases on that server, as the
# cargo tests do; PostgreSQL refuses inputs SQLite takes, e.g. a NUL in a string), else SQLite.
pg_dbs=()
if [[ -n "${TEST_DATABASE_URL:-}" ]]; then
  pg_base="${TEST_DATABASE_URL%/*}"
  for name in auth todo; do
    db="fuzz_${name}_$$"
    psql "$TEST_DATABASE_URL" -qc "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" >/dev/null
    pg_dbs+=("$db")
  done
  auth_db_url="$pg_base/fuzz_auth_$$"
  todo_db_url="$pg_base/fuzz_todo_$$"
  printf '    stores: PostgreSQL (%s, %s)\n' "${pg_dbs[@]}"
else
  auth_db_url="sqlite://$work/auth.db?mode=rwc"
  todo_db_url="sqlite://$work/todo.db?mode=rwc"
  printf '    stores: SQLite in %s\n' "$work"
fi
pids=()
cleanup() {
  local rc=$?
  stop_services
  for db in "${pg_dbs[@]}"; do
    psql "$TEST_DATABASE_URL" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
  done
  # The errors (a 5xx is logged with its cause), else the end of the log.
  if ((rc != 0)); then show_failed_logs "$work" 'ERROR'; fi
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# start NAME URL_VAR ENV...: start a binary on a free port (a port taken between the pick and the
# bind makes it exit; then try another), wait until it is ready, record its pid.
start() {
  local name="$1" port_var="$2"; shift 2
  local attempt port
  for attempt in 1 2 3; do
    port="$(free_port)"
    env "${@//@PORT@/$port}" "$bin/$name" >"$work/$name.log" 2>&1 &
    local pid=$!
    if wait_ready "$name" "http://127.0.0.1:$port" "$pid"; then
      pids+=("$pid")
      printf -v "$port_var" '%s' "$port"
      return 0
    fi
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    if grep -q 'cannot listen\|Address already in use' "$work/$name.log"; then
      printf '%s: port %s was taken, trying another (attempt %s)\n' "$name" "$port" "$attempt" >&2
      continue
    fi
    return 1
  done
  return 1
}

admin_email="fuzz-admin@example.com"
admin_password="$(head -c 18 /dev/urandom | base64 | tr '+/' '-_')"
user_email="fuzz-user@example.com"
user_password="$(head -c 18 /dev/urandom | base64 | tr '+/' '-_')"

printf '==> start auth-service and todo-service (%s)\n' "$work"
# Limits raised for the run (a setting, not an exclusion): the fuzzer sends thousands of requests
# from one address, many of them failed logins (some for the admin's own address, once a response
# shows it), registrations and reset requests, and the hooks log in once per operation; with the
# default limits, those logins would get 429 half-way through and every later operation would be
# fuzzed without a token. 429 stays documented where it can happen; the limits themselves are
# tested by the cargo tests (auth-service/tests/api/limits.rs, system-tests).
start auth-service auth_port \
  AUTH_LISTEN_ADDR="127.0.0.1:@PORT@" \
  AUTH_ISSUER="http://127.0.0.1:@PORT@" \
  AUTH_DATABASE_URL="$auth_db_url" \
  AUTH_INSECURE_DEV=true AUTH_DEV_KEY_FILE="$work/auth.kek" \
  AUTH_BOOTSTRAP_ADMIN_EMAIL="$admin_email" \
  AUTH_BOOTSTRAP_ADMIN_PASSWORD="$admin_password" \
  AUTH_LOGIN_MAX_FAILURES=1000000 \
  AUTH_LOGIN_MAX_FAILURES_PER_ADDR=1000000 \
  AUTH_REGISTER_PER_ADDR_PER_MIN=1000000 \
  AUTH_REFRESH_PER_ADDR_PER_MIN=1000000 \
  AUTH_REFRESH_PER_ACCOUNT_PER_MIN=1000000 \
  AUTH_FORGOT_PER_ADDR_PER_MIN=1000000 \
  AUTH_FORGOT_PER_ACCOUNT_PER_HOUR=1000000 \
  LOG_FORMAT=json RUST_LOG=warn
auth_url="http://127.0.0.1:$auth_port"
start todo-service todo_port \
  TODO_LISTEN_ADDR="127.0.0.1:@PORT@" \
  TODO_DATABASE_URL="$todo_db_url" \
  TODO_ISSUER="$auth_url" \
  TODO_JWKS_URL="$auth_url/.well-known/jwks.json" \
  LOG_FORMAT=json RUST_LOG=warn
todo_url="http://127.0.0.1:$todo_port"
printf '    auth-service %s, todo-service %s\n' "$auth_url" "$todo_url"

# json_post URL JSON [TOKEN]: POST, fail unless 2xx, print the body.
json_post() {
  local args=(-fsS -X POST "$1" -H 'Content-Type: application/json' -d "$2")
  if [[ -n "${3:-}" ]]; then args+=(-H "Authorization: Bearer $3"); fi
  curl "${args[@]}"
}
field() { "$PY" -c 'import json, sys; v = json.load(sys.stdin); [v := v[k] for k in sys.argv[1:]]; print(v)' "$@"; }

# A plain user with some todos, so lists, reports and the admin's views have someone else's data.
json_post "$auth_url/api/auth/register" \
  "{\"email\":\"$user_email\",\"password\":\"$user_password\",\"first_name\":\"Fuzz\"}" >/dev/null
user_token="$(json_post "$auth_url/api/auth/login" \
  "{\"email\":\"$user_email\",\"password\":\"$user_password\"}" | field access_token)"
json_post "$todo_url/api/todos" '{"title":"seeded open todo"}' "$user_token" >/dev/null
json_post "$todo_url/api/todos" '{"title":"seeded done todo","description":"d","completed":true}' "$user_token" >/dev/null
admin_login="$(json_post "$auth_url/api/auth/login" \
  "{\"email\":\"$admin_email\",\"password\":\"$admin_password\"}")"
admin_id="$(field user id <<<"$admin_login")"
json_post "$todo_url/api/todos" '{"title":"the admin own todo"}' "$(field access_token <<<"$admin_login")" >/dev/null

export FUZZ_AUTH_URL="$auth_url" FUZZ_ADMIN_EMAIL="$admin_email" FUZZ_ADMIN_PASSWORD="$admin_password"
export FUZZ_ADMIN_ID="$admin_id" FUZZ_USER_EMAIL="$user_email" FUZZ_USER_PASSWORD="$user_password"
export SCHEMATHESIS_HOOKS="$ROOT/scripts/fuzz-api-hooks.py"

if [[ "$SEED" == random ]]; then SEED="$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')"; fi
printf '==> %s, seed %s, %s examples per operation\n' "$("$ST" --version)" "$SEED" "$MAX_EXAMPLES"

# fuzz NAME URL AS ARGS...: schemathesis against URL/openapi.json with a fresh token of AS (admin
# or user) per operation (see the hooks file); returns schemathesis' exit code.
#   --checks all: every check it has, among them not_a_server_error, status_code_conformance,
#     content_type_conformance, response_schema_conformance and response_headers_conformance.
#   --workers 1: the hooks repair what a PATCH of a user's role did before the next request (one
#     active admin at all times), which needs requests in sequence; two cores are busy anyway.
#   --generation-with-security-parameters false: the Authorization header is the hooks' valid
#     token, not generated junk, so the examples reach the handlers; requests without a token or
#     with a bad one are still sent, by the ignored_auth check, to every operation.
#   --suppress-health-check too_slow: the one health check that depends on how busy the machine
#     is (others compile on it), not on the schema: it would make the run flaky.
#   --generation-database none, run in the temp dir: nothing is remembered between runs (so a run
#     depends on the seed alone) and nothing is written into the repository.
#   --exclude-path /.well-known/revocations: the revocation feed is an endless event stream, which
#     no request timeout can judge; its parameters and answers are tested by the cargo tests
#     (auth-service › api › feed::*).
fuzz() {
  local name="$1" url="$2" as="$3"; shift 3
  local cmd=(
    "$ST" --config-file "$ROOT/scripts/fuzz-api.toml" run "$url/openapi.json"
    --checks all
    --max-examples "$MAX_EXAMPLES"
    --seed "$SEED"
    --workers 1
    --generation-with-security-parameters false
    --suppress-health-check too_slow
    --generation-database none
    --request-timeout 30
    --exclude-path /.well-known/revocations
    --no-color
    "$@"
  )
  printf '\n==> schemathesis against %s as %s\n    %s\n' "$name" "$as" "${cmd[*]}"
  (cd "$work" && FUZZ_AS="$as" "${cmd[@]}")
}

failed=()
# The plain user first, on the admin operations only: their 403 answers must be documented too.
# Every answer is that 403 (or a 4xx for bad input), so a few examples do, and the warning that
# authentication "failed" is the point here. (First, because the admin run may deactivate that
# user, as it may any user but the admin.)
as_user=(--include-tag admin --phases fuzzing --max-examples 10 --warnings off)
fuzz auth-service "$auth_url" user "${as_user[@]}" || failed+=("auth-service as user")
fuzz todo-service "$todo_url" user "${as_user[@]}" || failed+=("todo-service as user")
fuzz auth-service "$auth_url" admin || failed+=("auth-service as admin")
fuzz todo-service "$todo_url" admin || failed+=("todo-service as admin")

if ((${#failed[@]})); then
  printf '\nfuzz-api: schemathesis found problems in: %s (%s)\n' "$(IFS=,; echo "${failed[*]}")" "$(elapsed "$t_start")" >&2
  exit 1
fi
printf '\nfuzz-api: no findings (%s)\n' "$(elapsed "$t_start")"
