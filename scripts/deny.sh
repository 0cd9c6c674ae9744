#!/usr/bin/env bash
# Supply-chain checks with cargo-deny (advisories, bans, licences, sources), offline.
#
#   bash scripts/deny.sh
#
# Installs the pinned cargo-deny if it is missing (about 4 minutes from source on 2 cores), then
# checks the workspace's dependency graph against deny.toml. Advisories come from the RustSec
# snapshot named by RUSTSEC_ADVISORY_DB (else the sibling ../shared/rustsec-advisory-db): nothing is
# fetched. Fails on any error (an unexplained advisory, a banned crate or feature, a licence not
# allowed, a source other than crates.io, a snapshot older than deny.toml's maximum-db-staleness).
#
# cargo-deny opens a database only as `<db-path>/advisory-db-<hash of its URL>/` with a `.git/`
# telling when it was fetched, and takes a lock file in <db-path>; the snapshot is a read-only
# plain directory. So this script lays out that shape in target/cargo-deny/advisory-dbs/ (git-ignored)
# without copying anything: `crates/` is a symlink to the snapshot's `crates/`, and
# `.git/FETCH_HEAD` is dated with the snapshot's date (its SNAPSHOT file), so that the staleness check
# sees the snapshot's real age. After one run, `cargo deny --offline check` works by hand from the
# repository root too.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

CARGO_DENY_VERSION="0.20.2"
# The directory name cargo-deny derives from deny.toml's `db-urls` (the official RustSec URL).
DB_DIR_NAME="advisory-db-3157b0e258782691"
# The snapshot: RUSTSEC_ADVISORY_DB when set, else the sibling folder ../shared/rustsec-advisory-db.
SNAPSHOT="${RUSTSEC_ADVISORY_DB:-$ROOT/../shared/rustsec-advisory-db}"
if [[ ! -d "$SNAPSHOT/crates" ]]; then
  echo "no RustSec snapshot at $SNAPSHOT (a directory with crates/): set RUSTSEC_ADVISORY_DB" >&2
  exit 1
fi

if ! command -v cargo-deny >/dev/null; then
  echo "cargo-deny not found: installing cargo-deny $CARGO_DENY_VERSION from crates.io"
  cargo install --locked cargo-deny --version "$CARGO_DENY_VERSION"
fi
installed="$(cargo deny --version | awk '{print $2}')"
if [[ "$installed" != "$CARGO_DENY_VERSION" ]]; then
  echo "note: cargo-deny $installed is installed; deny.toml was written for $CARGO_DENY_VERSION" >&2
fi

if [[ ! -d "$SNAPSHOT/crates" ]]; then
  echo "error: no RustSec advisory database at $SNAPSHOT (expected a crates/ directory)" >&2
  exit 1
fi
SNAPSHOT="$(cd "$SNAPSHOT" && pwd)"
snapshot_date="$(awk '{print $2}' "$SNAPSHOT/SNAPSHOT" 2>/dev/null || true)"
if [[ -z "$snapshot_date" ]]; then
  # No SNAPSHOT file: the directory's own modification time stands for the fetch time.
  snapshot_date="$(date -u -r "$SNAPSHOT" +%Y-%m-%d)"
fi

export DENY_ADVISORY_DB_ROOT="$ROOT/target/cargo-deny/advisory-dbs"
db="$DENY_ADVISORY_DB_ROOT/$DB_DIR_NAME"
mkdir -p "$db/.git"
ln -sfn "$SNAPSHOT/crates" "$db/crates"
touch -d "$snapshot_date" "$db/.git/FETCH_HEAD"
echo "advisory database: $SNAPSHOT (snapshot of $snapshot_date: $(head -c 12 "$SNAPSHOT/SNAPSHOT" 2>/dev/null || echo '?'))"

cargo deny --offline --locked --all-features check advisories bans licenses sources
