#!/usr/bin/env bash
# Build Casework's front-end assets from package-lock.json and frontend-src/.
#
# The output is committed on purpose, so that someone with only Python and git can run the app.
# After changing frontend-src/ or package*.json, run this script and commit the changes under
# casework/frontend/static/. It is deterministic: running it twice gives byte-identical files.
#
# Usage: scripts/build-assets.sh [STATIC_DIR]
#   STATIC_DIR defaults to casework/frontend/static; scripts/check-assets.sh builds into a
#   temporary directory instead.
#
# Writes STATIC_DIR/casework/casework.css and replaces STATIC_DIR/govuk/ and STATIC_DIR/htmx/.
# STATIC_DIR/casework/init.js is hand-written and left alone.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
out="${1:-casework/frontend/static}"
govuk=node_modules/govuk-frontend/dist/govuk

npm ci --no-audit --no-fund --loglevel=error >/dev/null

mkdir -p "$out/casework"
node_modules/.bin/sass --load-path=node_modules --style=compressed --no-source-map --quiet-deps \
  frontend-src/casework.scss "$out/casework/casework.css"

# GOV.UK Frontend's images (the stylesheet refers to one of them) and manifest, and its
# JavaScript, imported by casework/init.js. The GDS Transport fonts are deliberately left out:
# they are licensed for exclusive use on gov.uk, and casework.scss uses Arial instead.
rm -rf "$out/govuk"
mkdir -p "$out/govuk/assets"
cp -R "$govuk/assets/images" "$out/govuk/assets/images"
cp "$govuk/assets/manifest.json" "$out/govuk/assets/manifest.json"
cp "$govuk/govuk-frontend.min.js" "$out/govuk/govuk-frontend.min.js"

# htmx, for progressive enhancement only: every page works without it.
rm -rf "$out/htmx"
mkdir -p "$out/htmx"
cp node_modules/htmx.org/dist/htmx.min.js "$out/htmx/htmx.min.js"
