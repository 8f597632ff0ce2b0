#!/usr/bin/env bash
# Prints the wizard's budgets for the release build in ./dist (web/tests/browser/budget.mjs):
# first paint (the HTML with the static first step + CSS, gzip -9) against 20 KB, the whole flow
# (every wasm, JS and CSS file the page can fetch, gzip -9) against 320 KiB, and the medians over
# cold loads in headless Chromium of the time to a painted, clickable first step (150 ms) and to
# the scope step ready after choosing at once (600 ms).
# Build first: bash scripts/web-build.sh. Exits 1 when a budget is exceeded.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
[[ -f dist/trustline-web_bg.wasm ]] || bash "$ROOT/scripts/web-build.sh"
node "$ROOT/web/tests/browser/budget.mjs"
