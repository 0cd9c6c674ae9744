#!/usr/bin/env bash
# The benchmark suite. One command, one run, every figure of docs/BENCHMARKS.md:
#
#   scripts/bench.sh                 # DURATION=10 seconds per HTTP load [10]
#
# 1. criterion: the verifier vs a bare RS256 check, a token seen before, argon2id, RS256 signing;
# 2. release binaries of both services on PostgreSQL (127.0.0.1:5432), seeded;
# 3. the ceiling: the todo-service's first-page query alone, by pgbench -M prepared over 32
#    connections to the same database; wrk: GET /api/todos (20 rows) with production log settings
#    (LOG_FORMAT=json, info) and again at warn (the logging cost), GET /healthz, logins, refreshes, /healthz and the JWKS
#    during a login flood; start-up time and memory; revocations: logout → refusal at two todo
#    replicas, and an event's fan-out to 1,000 feed subscribers (system-tests revocation-bench);
# 3c. instructions per request under callgrind (deterministic), at warn and info.
# 4. the seed's Flask + PyJWT app (FLASK_SEED, else ../shared/peers/flask_seed) with the same GET /api/todos mix.
# Results go to bench-results/<time>/ (raw outputs) and bench-results/latest.md (the table).
# Not part of the test command: figures drift with the machine's load.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$(pwd)

DURATION=${DURATION:-10}
PG=${PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}
PG_BASE=${PG%/*}
# Loopback needs no TLS; both our services and the seed connect without it (sslmode=disable),
# so neither pays for encryption the other skips.
NO_TLS="sslmode=disable"
# The seed: FLASK_SEED when set, else the sibling folder ../shared/peers/flask_seed.
FLASK=${FLASK_SEED:-$root/../shared/peers/flask_seed}
if [ ! -f "$FLASK/run.sh" ]; then
  echo "no seed app at $FLASK (a directory with run.sh): set FLASK_SEED" >&2
  exit 1
fi
out="$root/bench-results/$(date +%Y%m%d-%H%M%S)"
mkdir -p "$out"
cores=$(nproc)
say() { printf '\n==> %s\n' "$*"; }
run() { # print the command (tokens shown as $token), then run it
  printf '    $ %s\n' "$*" | sed -E 's/Bearer [A-Za-z0-9._-]+/Bearer $token/g' >>"$out/commands.txt"
  "$@"
}

command -v wrk >/dev/null || { say "installing wrk"; apt-get install -y wrk >/dev/null; }
pg_isready -q -h 127.0.0.1 -p 5432 || { echo "PostgreSQL is not running on 127.0.0.1:5432" >&2; exit 1; }

# --- 1. criterion ----------------------------------------------------------------------------
say "criterion benches"
run cargo bench -q -p shared-claims --bench verify 2>&1 | tee "$out/criterion-verify.txt" | grep -E "time:|^[a-z]" || true
run cargo bench -q -p auth-service --bench crypto 2>&1 | tee "$out/criterion-crypto.txt" | grep -E "time:|^[a-z]" || true
target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
estimate() { # criterion id → mean, nanoseconds
  python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["mean"]["point_estimate"])' \
    "$target_dir/criterion/$1/new/estimates.json"
}
bare_ns=$(estimate rs256_signature_check_bare)
verifier_ns=$(estimate verifier_access_token_full)
cached_ns=$(estimate authenticate_token_seen_before)
hash_ns=$(estimate argon2id/hash_default_params_reference)
sign_ns=$(estimate rs256_sign_preparsed_key)
cached_revoked_ns=$(estimate authenticate_token_seen_before_100k_revocations)
revocation_entry_bytes=$(sed -nE 's/.*= ([0-9.]+) bytes per entry/\1/p' "$out/criterion-verify.txt" | tail -1)

# --- 2. the services ---------------------------------------------------------------------------
say "building release binaries"
run cargo build -q --release --locked -p auth-service -p todo-service
bin="$target_dir/release"
for db in bench_auth bench_todo; do
  psql "$PG" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null
  psql "$PG" -qc "CREATE DATABASE $db" >/dev/null
done
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
auth_port=$(free_port); todo_port=$(free_port); flask_port=$(free_port)
auth="http://127.0.0.1:$auth_port"; todo="http://127.0.0.1:$todo_port"
kek=$(head -c 32 /dev/urandom | base64)
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup EXIT

# Logs at warn (no per-request line) except where a row says otherwise: the Flask peer runs
# without an access log too.
export RUST_LOG=warn
start_auth() {
  AUTH_LISTEN_ADDR="127.0.0.1:$auth_port" AUTH_ISSUER="$auth" AUTH_DATABASE_URL="$PG_BASE/bench_auth?$NO_TLS" \
  AUTH_KEY_ENCRYPTION_KEY="$kek" AUTH_LOGIN_MAX_FAILURES=1000000000 AUTH_LOGIN_MAX_FAILURES_PER_ADDR=1000000000 \
  AUTH_REGISTER_PER_ADDR_PER_MIN=0 AUTH_REFRESH_PER_ADDR_PER_MIN=0 AUTH_REFRESH_PER_ACCOUNT_PER_MIN=0 \
    "$bin/auth-service" >>"$out/auth.log" 2>&1 &
  auth_pid=$!; pids+=("$auth_pid")
}
start_todo() { # optional: NAME=value settings for this start (e.g. LOG_FORMAT=json RUST_LOG=info)
  env "$@" TODO_LISTEN_ADDR="127.0.0.1:$todo_port" TODO_ISSUER="$auth" TODO_DATABASE_URL="$PG_BASE/bench_todo?$NO_TLS" \
    "$bin/todo-service" >>"$out/todo.log" 2>&1 &
  todo_pid=$!; pids+=("$todo_pid")
}
ms_until_ready() { # url [spawn time in ns] → milliseconds from the spawn until /readyz answers 200
  python3 - "$1" "${2:-}" <<'PY'
import sys, time, urllib.request
start = int(sys.argv[2]) / 1e9 if sys.argv[2] else time.time()
while True:
    try:
        if urllib.request.urlopen(sys.argv[1] + "/readyz", timeout=1).status == 200:
            break
    except Exception:
        pass
    time.sleep(0.002)
print(round((time.time() - start) * 1000))
PY
}
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
hwm_kib() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status"; }

say "first start (creates the signing key and the schema)"
start_auth; ms_until_ready "$auth" >/dev/null
start_todo; ms_until_ready "$todo" >/dev/null
kill "$auth_pid" "$todo_pid"; wait "$auth_pid" "$todo_pid" 2>/dev/null || true
say "second start (existing key): time to /readyz and idle RSS"
spawned=$(date +%s%N); start_auth; auth_ready_ms=$(ms_until_ready "$auth" "$spawned")
spawned=$(date +%s%N); start_todo; todo_ready_ms=$(ms_until_ready "$todo" "$spawned")
sleep 1
auth_idle_kib=$(rss_kib "$auth_pid"); todo_idle_kib=$(rss_kib "$todo_pid")

say "seeding: one user with 20 todos"
password="correct horse battery staple"
curl -fsS -XPOST "$auth/api/auth/register" -H 'Content-Type: application/json' \
  -d "{\"email\":\"bench@example.com\",\"password\":\"$password\"}" >/dev/null
token=$(curl -fsS -XPOST "$auth/api/auth/login" -H 'Content-Type: application/json' \
  -d "{\"email\":\"bench@example.com\",\"password\":\"$password\"}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
for i in $(seq 1 20); do
  curl -fsS -XPOST "$todo/api/todos" -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
    -d "{\"title\":\"todo $i\",\"description\":\"bench row $i\"}" >/dev/null
done

# wrk output → requests/s, p50 ms, p99 ms
parse_wrk() {
  python3 - "$1" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
def ms(v):
    n, unit = re.match(r"([\d.]+)(us|ms|s)", v).groups()
    return float(n) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
p50 = ms(re.search(r"^\s+50%\s+(\S+)", text, re.M).group(1))
p99 = ms(re.search(r"^\s+99%\s+(\S+)", text, re.M).group(1))
non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
print(f"{rps:.0f} {p50:.3f} {p99:.3f} {non2xx.group(1) if non2xx else 0}")
PY
}
wrk_run() { # name, then wrk arguments
  local name=$1; shift
  run wrk --latency "$@" >"$out/$name.txt" 2>&1
  parse_wrk "$out/$name.txt"
}
warm_up() { # wrk arguments: 3 s of the same load first, so pools and caches are filled
  wrk "$@" -d3s >/dev/null 2>&1 || true
}

say "the ceiling: the first-page query alone, pgbench -M prepared, 32 connections, ${DURATION}s"
owner=$(python3 -c 'import base64,json,sys; p=sys.argv[1].split(".")[1]; print(json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)))["sub"])' "$token")
# The statement GET /api/todos runs for a first page (todo-service/src/store/mod.rs, `page`).
cat >"$out/first-page.sql" <<'SQL'
SELECT id, user_id, title, description, completed, created_at, updated_at, (SELECT total FROM todo_counts WHERE user_id = :owner) AS owner_total, (SELECT completed FROM todo_counts WHERE user_id = :owner) AS owner_completed FROM todos WHERE user_id = :owner ORDER BY created_at DESC, id DESC LIMIT 20 OFFSET 0;
SQL
pgbench_dsn="$PG_BASE/bench_todo?$NO_TLS"
pgbench -n -M prepared -c 32 -j 1 -T 3 -D owner="$owner" -f "$out/first-page.sql" "$pgbench_dsn" >/dev/null 2>&1 || true
run pgbench -n -M prepared -c 32 -j 1 -T "$DURATION" -D owner="$owner" -f "$out/first-page.sql" "$pgbench_dsn" >"$out/ceiling.txt" 2>&1
ceiling_qps=$(sed -nE 's/^tps = ([0-9.]+).*/\1/p' "$out/ceiling.txt" | head -1)
ceiling_ms=$(sed -nE 's/^latency average = ([0-9.]+) ms/\1/p' "$out/ceiling.txt" | head -1)
ceiling_rows=$(psql "$pgbench_dsn" -qAtc "PREPARE p(text) AS $(tr -d ';' <"$out/first-page.sql" | sed 's/:owner/$1/g'); EXECUTE p('$owner')" | wc -l)
[ "$ceiling_rows" = 20 ] || { echo "the ceiling query returned $ceiling_rows rows, not 20" >&2; exit 1; }

say "GET /api/todos (20 rows), production log settings (LOG_FORMAT=json, RUST_LOG=info): wrk -t1 -c32 -d${DURATION}s"
kill "$todo_pid"; wait "$todo_pid" 2>/dev/null || true
start_todo LOG_FORMAT=json RUST_LOG=info; ms_until_ready "$todo" >/dev/null
warm_up -t1 -c32 -H "Authorization: Bearer $token" "$todo/api/todos"
read -r todos_rps todos_p50 todos_p99 todos_bad < <(wrk_run todos -t1 -c32 -d"${DURATION}s" -H "Authorization: Bearer $token" "$todo/api/todos")
say "the same at RUST_LOG=warn (no line per request): what logging costs"
kill "$todo_pid"; wait "$todo_pid" 2>/dev/null || true
start_todo LOG_FORMAT=json RUST_LOG=warn; ms_until_ready "$todo" >/dev/null
warm_up -t1 -c32 -H "Authorization: Bearer $token" "$todo/api/todos"
read -r quiet_rps quiet_p50 quiet_p99 quiet_bad < <(wrk_run todos-warn -t1 -c32 -d"${DURATION}s" -H "Authorization: Bearer $token" "$todo/api/todos")
warm_up -t1 -c32 "$todo/healthz"
read -r health_rps health_p50 health_p99 _ < <(wrk_run healthz -t1 -c32 -d"${DURATION}s" "$todo/healthz")

say "instructions per GET /api/todos under callgrind, at RUST_LOG=warn and info (counts, not seconds)"
# Throughput on a shared 2-core VM moves by a fifth from one minute to the next; the
# instructions the service executes for a request do not. Each level runs the service twice
# under callgrind, for 500 and for 2,500 requests on one connection; the difference ÷ 2,000 is
# one request's user-space instructions, all threads, start-up cancelled out.
command -v valgrind >/dev/null || { say "installing valgrind"; apt-get install -y valgrind >/dev/null; }
instructions_per_request() { # RUST_LOG level → instructions per request
  local level=$1 n totals=()
  for n in 500 2500; do
    kill "$todo_pid"; wait "$todo_pid" 2>/dev/null || true
    LOG_FORMAT=json RUST_LOG="$level" TODO_LISTEN_ADDR="127.0.0.1:$todo_port" TODO_ISSUER="$auth" \
    TODO_DATABASE_URL="$PG_BASE/bench_todo?$NO_TLS" valgrind --tool=callgrind \
      --callgrind-out-file="$out/callgrind-$level-$n.out" "$bin/todo-service" >>"$out/todo-callgrind.log" 2>&1 &
    todo_pid=$!; pids+=("$todo_pid")
    ms_until_ready "$todo" >/dev/null
    python3 - "$todo_port" "$token" "$n" <<'PY'
import http.client, sys
port, token, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
conn = http.client.HTTPConnection("127.0.0.1", port)
for _ in range(n):
    conn.request("GET", "/api/todos", headers={"Authorization": "Bearer " + token})
    response = conn.getresponse(); response.read()
    assert response.status == 200, response.status
PY
    kill "$todo_pid"; wait "$todo_pid" 2>/dev/null || true
    totals+=("$(awk '/^(summary|totals):/ {print $2; exit}' "$out/callgrind-$level-$n.out")")
  done
  echo $(( (totals[1] - totals[0]) / 2000 ))
}
warn_instructions=$(instructions_per_request warn)
info_instructions=$(instructions_per_request info)

say "logins with 200 connections"
read -r login_rps login_p50 login_p99 login_bad < <(BENCH_EMAIL=bench@example.com BENCH_PASSWORD="$password" \
  wrk_run logins -t2 -c200 -d"${DURATION}s" --timeout 30s -s bench/login.lua "$auth")

say "/healthz and JWKS latency during a second login flood (a light probe: 50 requests a second)"
BENCH_EMAIL=bench@example.com BENCH_PASSWORD="$password" \
  wrk -t2 -c200 -d"${DURATION}s" --timeout 30s -s bench/login.lua "$auth" >"$out/logins-under-probe.txt" 2>&1 &
flood=$!
sleep 1
read -r flood_health_p50 flood_health_p99 flood_jwks_p50 flood_jwks_p99 < <(python3 - "$auth" "$(( DURATION - 2 ))" <<'PY' | tee "$out/flood-probe.txt"
import http.client, sys, time
host = sys.argv[1].removeprefix("http://")
end = time.monotonic() + float(sys.argv[2])
samples = {"/healthz": [], "/.well-known/jwks.json": []}
conn = http.client.HTTPConnection(host, timeout=5)
while time.monotonic() < end:
    for path, times in samples.items():
        sent = time.perf_counter()
        conn.request("GET", path)
        response = conn.getresponse(); response.read()
        assert response.status == 200, response.status
        times.append((time.perf_counter() - sent) * 1000)
    time.sleep(0.04)
def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))]
h, j = samples["/healthz"], samples["/.well-known/jwks.json"]
print(f"{pct(h, .5):.3f} {pct(h, .99):.3f} {pct(j, .5):.3f} {pct(j, .99):.3f}")
PY
)
wait "$flood"
auth_peak_kib=$(hwm_kib "$auth_pid")

say "refreshes: 16 sessions, one connection each, each following its own token chain"
tokens_file="$out/refresh-tokens.txt"; : >"$tokens_file"
for i in $(seq 1 16); do
  curl -fsS -XPOST "$auth/api/auth/login" -H 'Content-Type: application/json' \
    -d "{\"email\":\"bench@example.com\",\"password\":\"$password\"}" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["refresh_token"])' >>"$tokens_file"
done
read -r refresh_rps refresh_p50 refresh_p99 refresh_bad < <(BENCH_TOKENS="$tokens_file" wrk_run refresh -t16 -c16 -d"${DURATION}s" -s bench/refresh.lua "$auth")
cleanup; pids=()

# --- 3b. revocations ---------------------------------------------------------------------------
say "revocations: logout → refusal at two todo replicas, then 1,000 feed subscribers on one auth replica"
todo2_port=$(free_port); todo2="http://127.0.0.1:$todo2_port"
start_auth; ms_until_ready "$auth" >/dev/null
start_todo; ms_until_ready "$todo" >/dev/null
TODO_LISTEN_ADDR="127.0.0.1:$todo2_port" TODO_ISSUER="$auth" TODO_DATABASE_URL="$PG_BASE/bench_todo?$NO_TLS" \
  "$bin/todo-service" >>"$out/todo2.log" 2>&1 &
pids+=($!); ms_until_ready "$todo2" >/dev/null
run cargo build -q --release --locked -p system-tests --bin revocation-bench
ulimit -n 65536 2>/dev/null || true
run "$target_dir/release/revocation-bench" --auth "$auth" --auth-pid "$auth_pid" --todo "$todo" --todo "$todo2" \
  --logouts "${REVOCATION_LOGOUTS:-200}" --subscribers "${FEED_SUBSCRIBERS:-1000}" --events 20 \
  | tee "$out/revocations.json"
cleanup; pids=()

# --- 4. the seed ------------------------------------------------------------------------------
say "the seed: Flask + PyJWT on gunicorn, same GET /api/todos mix"
psql "$PG" -qc "DROP DATABASE IF EXISTS flask_seed_bench WITH (FORCE)" -qc "CREATE DATABASE flask_seed_bench" >/dev/null
DATABASE_URL="postgresql://postgres@127.0.0.1:5432/flask_seed_bench?$NO_TLS" "$FLASK/run.sh" "$flask_port" >"$out/flask.log" 2>&1 &
pids+=($!)
flask="http://127.0.0.1:$flask_port"
for _ in $(seq 1 600); do curl -fsS -o /dev/null "$flask/api/todos" 2>/dev/null && break; curl -s -o /dev/null -w '%{http_code}' "$flask/api/todos" 2>/dev/null | grep -q 401 && break; sleep 0.2; done
seed_email="bench$(date +%s)@example.com"
curl -fsS -XPOST "$flask/api/auth/register" -H 'Content-Type: application/json' \
  -d "{\"email\":\"$seed_email\",\"password\":\"SecurePass123\"}" >/dev/null
seed_token=$(curl -fsS -XPOST "$flask/api/auth/login" -H 'Content-Type: application/json' \
  -d "{\"email\":\"$seed_email\",\"password\":\"SecurePass123\"}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
for i in $(seq 1 20); do
  curl -fsS -XPOST "$flask/api/todos" -H "Authorization: Bearer $seed_token" -H 'Content-Type: application/json' \
    -d "{\"title\":\"todo $i\",\"description\":\"bench row $i\"}" >/dev/null
done
warm_up -t1 -c32 -H "Authorization: Bearer $seed_token" "$flask/api/todos"
read -r seed_rps seed_p50 seed_p99 seed_bad < <(wrk_run seed-todos -t1 -c32 -d"${DURATION}s" -H "Authorization: Bearer $seed_token" "$flask/api/todos")
cleanup; pids=()

# --- the table ----------------------------------------------------------------------------------
python3 - "$out" <<PY | tee "$out/summary.md" >"$root/bench-results/latest.md"
import sys
cores = $cores
bare, verifier, cached = $bare_ns, $verifier_ns, $cached_ns
hash_ms, sign_ms = $hash_ns / 1e6, $sign_ns / 1e6
login_limit = cores / (hash_ms / 1000)
refresh_limit = cores / (2 * sign_ms / 1000)
import json
rev = json.load(open(sys.argv[1] + "/revocations.json"))
refusal, fanout = rev["refusal"], rev["fanout"]
cached_revoked = $cached_revoked_ns
rows = [
  ("verifier vs bare RS256 check (criterion)", f"{verifier/1000:.2f} µs vs {bare/1000:.2f} µs = {verifier/bare:.3f}×", "≤ 1.15×"),
  ("token seen before (criterion)", f"{cached/1000:.3f} µs", "≤ 2 µs"),
  ("the ceiling: the first-page query by pgbench -M prepared, 32 conns", f"{$ceiling_qps:.0f} queries/s, {$ceiling_ms} ms average", "report"),
  ("GET /api/todos, 20 rows, PostgreSQL, 32 conns, json logs at info", f"{$todos_rps} rps, p50 {$todos_p50} ms, p99 {$todos_p99} ms, non-2xx {$todos_bad}", "p99 ≤ 10 ms"),
  ("GET /api/todos ÷ the ceiling", f"{$todos_rps / $ceiling_qps:.2f}", "≥ 0.6"),
  ("the same at RUST_LOG=warn; logging's cost", f"{$quiet_rps} rps, p99 {$quiet_p99} ms, non-2xx {$quiet_bad}; logging costs {100 * (1 - $todos_rps / max($quiet_rps, 1)):.0f} %", "≤ 10 %"),
  ("user-space instructions per GET /api/todos (callgrind), warn / info; logging's share", f"{$warn_instructions:,} / {$info_instructions:,}; logging {100 * (1 - $warn_instructions / $info_instructions):.0f} %", "report"),
  ("the seed's GET /api/todos, same mix", f"{$seed_rps} rps, p50 {$seed_p50} ms, p99 {$seed_p99} ms, non-2xx {$seed_bad}", ""),
  ("ours vs the seed", f"{$todos_rps / max($seed_rps, 1):.1f}×", "≥ 25×"),
  ("GET /healthz, same process, 32 conns", f"{$health_rps} rps, p50 {$health_p50} ms; /api/todos is {$todos_rps / max($health_rps, 1):.2f}× of it", "report"),
  ("logins/s, 200 conns vs cores ÷ one argon2id hash", f"{$login_rps}/s vs {login_limit:.1f}/s ({hash_ms:.1f} ms per hash × {cores} cores) = {$login_rps / login_limit:.2f}×, non-2xx {$login_bad}", "≥ 0.85×"),
  ("/healthz and JWKS p50 (p99) during the login flood", f"{$flood_health_p50} ms ({$flood_health_p99}) and {$flood_jwks_p50} ms ({$flood_jwks_p99}); auth peak RSS {$auth_peak_kib / 1024:.0f} MiB", "≤ 2 ms; ≤ 256 MiB"),
  ("refreshes/s vs RS256 signing limit (2 per refresh)", f"{$refresh_rps}/s vs {refresh_limit:.0f}/s ({sign_ms:.3f} ms per signature, key parsed once) = {100 * $refresh_rps / refresh_limit:.0f} %, non-2xx {$refresh_bad}", "≥ 50 %"),
  ("idle RSS auth / todo", f"{$auth_idle_kib / 1024:.1f} MiB / {$todo_idle_kib / 1024:.1f} MiB", "≤ 30 MiB"),
  ("start to /readyz 200 with an existing key, auth / todo", f"{$auth_ready_ms} ms / {$todo_ready_ms} ms", "≤ 1 s"),
  ("logout → 401 at each of 2 todo replicas (PostgreSQL)", f"p50 {refusal['p50_ms']:.1f} ms, p99 {refusal['p99_ms']:.1f} ms, max {refusal['max_ms']:.1f} ms over {refusal['samples']} refusals", "p99 ≤ 1 s (aim ≤ 100 ms)"),
  ("an event to each of {0} feed subscribers on one auth replica".format(fanout["subscribers"]), f"p50 {fanout['p50_ms']:.1f} ms, p99 {fanout['p99_ms']:.1f} ms over {fanout['deliveries']} deliveries; {fanout['kib_per_subscriber']:.1f} KiB and {fanout['idle_cpu_ms_per_subscriber_per_s']:.4f} ms CPU/s idle per subscriber; {fanout['cpu_us_per_delivery']:.1f} µs CPU per delivery", "p99 ≤ 1 s"),
  ("token seen before, 100,000 revocations held (criterion)", f"{cached_revoked/1000:.3f} µs", "≤ 2 µs"),
  ("revocation set memory", f"{float('${revocation_entry_bytes:-nan}'):.1f} bytes per entry", "≤ 64 bytes"),
]
print(f"Results of scripts/bench.sh in {sys.argv[1]} ({cores} cores, wrk on the same machine)\n")
print("| figure | measured | target |")
print("|---|---|---|")
for row in rows:
    print("| " + " | ".join(row) + " |")
PY
say "raw outputs and commands: $out"
