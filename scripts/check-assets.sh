#!/usr/bin/env bash
# Fail if the committed front-end assets are not exactly what scripts/build-assets.sh produces.
#
# Rebuilds into a temporary directory and compares it with casework/frontend/static/. Without
# npm (a Python-only setup) the check is skipped rather than failed.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

if ! command -v npm >/dev/null 2>&1; then
  echo "npm not found: skipping the asset freshness check"
  exit 0
fi

built="$(mktemp -d)"
trap 'rm -rf "$built"' EXIT

bash scripts/build-assets.sh "$built"

committed=casework/frontend/static
stale=0
diff -rq "$built/govuk" "$committed/govuk" >&2 || stale=1
diff -rq "$built/htmx" "$committed/htmx" >&2 || stale=1
if ! cmp -s "$built/casework/casework.css" "$committed/casework/casework.css"; then
  echo "$committed/casework/casework.css differs from a fresh build" >&2
  stale=1
fi

if [ "$stale" -ne 0 ]; then
  echo "The front-end assets are out of date: run scripts/build-assets.sh and commit the result" >&2
  exit 1
fi
echo "Front-end assets are up to date."
