#!/usr/bin/env bash
# Builds the wizard's second wasm module, trustline-web-documents.js + _bg.wasm (the steps after
# the first and the document builders: web/src/app.rs, web/src/documents.rs), next to
# trustline-web.js. Trunk runs it after every build (Trunk.toml [[hooks]]) with TRUNK_PROFILE and
# TRUNK_STAGING_DIR; by hand it writes a release build into ./dist. The first module imports it
# once the first step has painted, and hands over to it when the customer has chosen a kind.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
out=${TRUNK_STAGING_DIR:-$ROOT/dist}
if [[ ${TRUNK_PROFILE:-release} == release ]]; then
  profile=wasm-release dir=wasm-release
else
  profile=dev dir=debug
fi
have wasm-bindgen || die "wasm-bindgen is missing: run bash scripts/setup.sh"
mkdir -p "$out"
# The same crate as the first module, with the documents feature instead of ui.
cargo build -p trustline-web --lib --target wasm32-unknown-unknown --no-default-features \
  --features documents --profile "$profile" --locked --quiet
wasm="${CARGO_TARGET_DIR:-$ROOT/target}/wasm32-unknown-unknown/$dir/trustline_web.wasm"
# Its exports are internal (trustline-web.d.ts declares what hosts call): no .d.ts of its own.
wasm-bindgen --target web --no-typescript --out-name trustline-web-documents --out-dir "$out" "$wasm"
if [[ $profile == wasm-release ]]; then
  # As Trunk does for the wizard's module (index.html: data-wasm-opt, data-wasm-opt-params).
  wasm-opt -Oz --converge --strip-debug --strip-producers "$out/trustline-web-documents_bg.wasm" -o "$out/trustline-web-documents_bg.wasm"
fi
