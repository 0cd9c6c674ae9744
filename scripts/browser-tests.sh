#!/usr/bin/env bash
# The web client (web/) tested in a real browser: headless Chromium (Debian's package) driven by
# Playwright for Python, against the real debug binaries of both services.
#
#   bash scripts/browser-tests.sh [PYTEST ARGS...]
#
# Installs what it needs on first use, idempotently: Debian's `chromium` when /usr/bin/chromium is
# missing (apt-get, as root), and Playwright + pytest (pinned) into .tools/venv-browser (a stamp
# file: a second run installs nothing; Playwright's own browser download is never used). Builds
# the two debug binaries, then starts two pairs of services on free loopback ports, on SQLite in a
# temp dir, each auth-service with a bootstrap admin, a key-encryption key and AUTH_CORS_ORIGINS =
# its todo-service's origin (which serves the client under /app):
#   - the main pair, default token lifetimes;
#   - the short pair: 3-second access tokens and no leeway on the todo-service, so the client's
#     refresh on an expired token can be watched.
# Runs web/tests with pytest; screenshots and the services' logs go to target/browser-artifacts/.
# Stops everything it started on exit.
#
# Env (optional): PYTHON [python3], CHROMIUM [/usr/bin/chromium].
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="$ROOT/.tools"
VENV="$TOOLS/venv-browser"
PYTHON="${PYTHON:-python3}"
CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
PY_SPECS="playwright==1.65.2 pytest==9.2.0"

now() { date +%s.%N; }
elapsed() { awk -v s="$1" -v e="$(now)" 'BEGIN { printf "%.1fs", e - s }'; }
t_start="$(now)"

# --- Chromium (Debian's package) ---------------------------------------------------------------
if [[ -x "$CHROMIUM" ]]; then
  printf '==> chromium: present (%s)\n' "$("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM")"
else
  if [[ "$(id -u)" != 0 ]]; then
    printf '%s is missing: install Debian'"'"'s chromium package (apt-get install chromium) as root\n' "$CHROMIUM" >&2
    exit 1
  fi
  printf '==> chromium: installing Debian'"'"'s package ...\n'
  mkdir -p "$TOOLS"
  if ! { DEBIAN_FRONTEND=noninteractive apt-get update -q &&
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium fonts-dejavu-core fonts-liberation; } \
    >"$TOOLS/chromium.install.log" 2>&1; then
    printf 'chromium install FAILED, see %s\n' "$TOOLS/chromium.install.log" >&2
    tail -n 20 "$TOOLS/chromium.install.log" >&2 || true
    exit 1
  fi
  printf '    %s\n' "$("$CHROMIUM" --version 2>/dev/null)"
fi

# --- Playwright for Python and pytest ------------------------------------------------------------
stamp="$VENV/.installed"
if [[ -f "$stamp" && "$(cat "$stamp")" == "$PY_SPECS" ]]; then
  printf '==> playwright, pytest: present (%s)\n' "$PY_SPECS"
else
  printf '==> playwright, pytest: installing %s ...\n' "$PY_SPECS"
  mkdir -p "$TOOLS"
  rm -rf "$VENV"
  "$PYTHON" -m venv "$VENV"
  # shellcheck disable=SC2086 # the specs are words
  if ! "$VENV/bin/pip" install --quiet $PY_SPECS >"$TOOLS/venv-browser.install.log" 2>&1; then
    printf 'playwright install FAILED, see %s\n' "$TOOLS/venv-browser.install.log" >&2
    tail -n 20 "$TOOLS/venv-browser.install.log" >&2 || true
    exit 1
  fi
  printf '%s' "$PY_SPECS" >"$stamp"
fi
PY="$VENV/bin/python"

# --- binaries -------------------------------------------------------------------------------
# shellcheck source=scripts/lib/services.sh
source "$ROOT/scripts/lib/services.sh"
build_debug_binaries
artifacts="$target_dir/browser-artifacts"
rm -rf "$artifacts"
mkdir -p "$artifacts"

# --- services -------------------------------------------------------------------------------
work="$(mktemp -d "${TMPDIR:-/tmp}/browser-tests.XXXXXX")"
pids=()
cleanup() {
  local rc=$?
  stop_services
  cp "$work"/*.log "$artifacts"/ 2>/dev/null || true
  if ((rc != 0)); then show_failed_logs "$work" 'ERROR|WARN'; fi
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

admin_email="browser-admin@example.com"
admin_password="$(head -c 18 /dev/urandom | base64 | tr '+/' '-_')"

# start_pair NAME AUTH_ENV... -- TODO_ENV...: an auth-service and a todo-service on fresh SQLite
# databases and free ports, the auth-service allowing the todo-service's origin; sets
# NAME_auth_url and NAME_todo_url. Both ports are picked before either starts (the auth-service
# must know the todo origin); a port taken meanwhile makes a service exit, and the pair is tried
# again on other ports.
start_pair() {
  local name="$1"; shift
  local auth_extra=() todo_extra=()
  while (($#)) && [[ "$1" != -- ]]; do auth_extra+=("$1"); shift; done
  (($#)) && shift
  todo_extra=("$@")
  local attempt auth_port todo_port auth_pid todo_pid
  for attempt in 1 2 3; do
    auth_port="$(free_port)"
    todo_port="$(free_port)"
    [[ "$auth_port" == "$todo_port" ]] && continue
    local auth_url="http://127.0.0.1:$auth_port" todo_url="http://127.0.0.1:$todo_port"
    rm -f "$work/$name-"*.db*
    env AUTH_LISTEN_ADDR="127.0.0.1:$auth_port" \
      AUTH_ISSUER="$auth_url" \
      AUTH_DATABASE_URL="sqlite://$work/$name-auth.db?mode=rwc" \
      AUTH_KEY_ENCRYPTION_KEY="$(head -c 32 /dev/urandom | base64)" \
      AUTH_BOOTSTRAP_ADMIN_EMAIL="$admin_email" \
      AUTH_BOOTSTRAP_ADMIN_PASSWORD="$admin_password" \
      AUTH_CORS_ORIGINS="$todo_url" \
      LOG_FORMAT=json RUST_LOG=info \
      ${auth_extra[@]+"${auth_extra[@]}"} \
      "$bin/auth-service" >"$work/$name-auth-service.log" 2>&1 &
    auth_pid=$!
    pids+=("$auth_pid")
    if wait_ready "$name auth-service" "$auth_url" "$auth_pid"; then
      env TODO_LISTEN_ADDR="127.0.0.1:$todo_port" \
        TODO_DATABASE_URL="sqlite://$work/$name-todo.db?mode=rwc" \
        TODO_ISSUER="$auth_url" \
        LOG_FORMAT=json RUST_LOG=info \
        ${todo_extra[@]+"${todo_extra[@]}"} \
        "$bin/todo-service" >"$work/$name-todo-service.log" 2>&1 &
      todo_pid=$!
      pids+=("$todo_pid")
      if wait_ready "$name todo-service" "$todo_url" "$todo_pid"; then
        printf -v "${name}_auth_url" '%s' "$auth_url"
        printf -v "${name}_todo_url" '%s' "$todo_url"
        printf '    %s: auth-service %s, todo-service %s (client: %s/app/)\n' \
          "$name" "$auth_url" "$todo_url" "$todo_url"
        return 0
      fi
      kill -TERM "$todo_pid" 2>/dev/null || true
      wait "$todo_pid" 2>/dev/null || true
    fi
    kill -TERM "$auth_pid" 2>/dev/null || true
    wait "$auth_pid" 2>/dev/null || true
    if grep -qs 'cannot listen\|Address already in use' "$work/$name-auth-service.log" "$work/$name-todo-service.log"; then
      printf '%s: a port was taken, trying others (attempt %s)\n' "$name" "$attempt" >&2
      continue
    fi
    return 1
  done
  return 1
}

printf '==> start two pairs of services (%s)\n' "$work"
main_auth_url="" main_todo_url="" short_auth_url="" short_todo_url=""
start_pair main
start_pair short AUTH_ACCESS_TOKEN_TTL_SECS=3 -- TODO_LEEWAY_SECS=0

# --- the tests ------------------------------------------------------------------------------
export BROWSER_CHROMIUM="$CHROMIUM"
export BROWSER_ARTIFACTS="$artifacts"
export BROWSER_ADMIN_EMAIL="$admin_email" BROWSER_ADMIN_PASSWORD="$admin_password"
export BROWSER_AUTH_URL="$main_auth_url" BROWSER_TODO_URL="$main_todo_url"
export BROWSER_SHORT_AUTH_URL="$short_auth_url" BROWSER_SHORT_TODO_URL="$short_todo_url"
export BROWSER_WEB_DIR="$ROOT/web"
printf '==> pytest web/tests (chromium %s, artifacts in %s)\n' "$CHROMIUM" "$artifacts"
status=0
(cd "$ROOT" && PYTHONDONTWRITEBYTECODE=1 "$PY" -m pytest -p no:cacheprovider -q -ra web/tests "$@") || status=$?
if ((status != 0)); then
  printf '\nbrowser-tests: FAILED (%s)\n' "$(elapsed "$t_start")" >&2
  exit "$status"
fi
printf '\nbrowser-tests: passed (%s); screenshots in %s\n' "$(elapsed "$t_start")" "$artifacts"
