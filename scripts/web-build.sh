#!/usr/bin/env bash
# Release build of the wizard with Trunk into ./dist (index.html, boot.js, trustline-web.js,
# trustline_web_bg.wasm, trustline-web.d.ts, style CSS). Offline: Trunk uses the wasm-bindgen
# and wasm-opt on PATH (scripts/setup.d/30-wasm-test.sh and 50-web.sh install them).
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
have trunk || die "trunk is missing: run bash scripts/setup.sh"
log "trunk build --release"
trunk build --release --locked 2>&1 | grep -Ev '^\s*$' | tail -n 20
[[ -f dist/trustline-web_bg.wasm ]] || die "trunk did not produce dist/trustline-web_bg.wasm"
