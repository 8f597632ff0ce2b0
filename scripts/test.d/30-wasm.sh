# wasm32: the signing corpus (checked against botocore's recorded signatures), signing with the
# JS clock and parsing, under wasm-bindgen-test in Node and in headless Chromium. Also checks
# that the executor feature (reqwest over fetch) builds for wasm32.
source "$(dirname "$0")/../lib.sh"
cd "$ROOT"
cargo check -p trustline-core --target wasm32-unknown-unknown --features executor --locked
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner
log "wasm tests in Node"
cargo test -p trustline-core --target wasm32-unknown-unknown --test wire --locked
log "wasm tests in headless Chromium"
# Flags for a closed network and root (the runner adds headless and no-sandbox itself).
export WASM_BINDGEN_TEST_WEBDRIVER_JSON="$ROOT/scripts/webdriver-chromium.json"
WASM_BINDGEN_USE_BROWSER=1 CHROMEDRIVER=/usr/bin/chromedriver \
  cargo test -p trustline-core --target wasm32-unknown-unknown --test wire --locked
