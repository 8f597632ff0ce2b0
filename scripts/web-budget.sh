#!/usr/bin/env bash
# Prints the wizard's budgets for the release build in ./dist: raw and gzip size of every file
# the page transfers (wasm, JS, CSS), what it fetches before the first step is interactive
# against 150 KiB gzip and the whole flow's total, and the median time from navigation to an
# interactive first step in headless Chromium on localhost against 500 ms.
# Build first: bash scripts/web-build.sh. Exits 1 when a budget is exceeded.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
[[ -f dist/trustline-web_bg.wasm && -f dist/trustline-web-documents_bg.wasm ]] || bash "$ROOT/scripts/web-build.sh"
node "$ROOT/web/tests/browser/budget.mjs"
