#!/usr/bin/env bash
# Every test of the repository, as CI runs it (`.ci/run` calls exactly this).
#
#   scripts/test.sh
#
# With TEST_DATABASE_URL=postgres://… set, tests that touch persistence run on PostgreSQL (each
# in a database of its own, created on that server); unset, on SQLite files in temp dirs.
# Installs what it needs (Python validators and fuzzers into .tools/, cargo-deny) on first use.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

step() { printf '\n==> %s\n' "$*"; }
started=$(date +%s)

step "format"
cargo fmt --all --check

step "lint (clippy, warnings are errors)"
cargo clippy --workspace --all-targets --all-features --locked -- -D warnings

step "tests (unit, integration, benches compiled and run once in test mode)"
cargo test --workspace --all-targets --all-features --locked
cargo test --workspace --doc --all-features --locked

step "API fuzzing (schemathesis against both services' /openapi.json)"
bash scripts/fuzz-api.sh

step "browser tests (the web client in headless Chromium)"
bash scripts/browser-tests.sh

step "deployment files (kustomize, kubernetes-validate, hadolint, docker-compose, checkov)"
bash scripts/validate-deploy.sh

step "supply chain (cargo-deny offline: advisories, bans, licences, sources)"
bash scripts/deny.sh

printf '\nall checks passed in %ss\n' "$(( $(date +%s) - started ))"
