# wasm32: the signing corpus (checked against botocore's recorded signatures), signing with the
# JS clock and parsing, under wasm-bindgen-test in Node and in headless Chromium. Also checks
# that the executor feature (reqwest over fetch) builds for wasm32.
source "$(dirname "$0")/../lib.sh"
cd "$ROOT"
cargo check -p trustline-core --target wasm32-unknown-unknown --features executor --locked
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner
log "wasm tests in Node"
cargo test -p trustline-core --target wasm32-unknown-unknown --test wire --locked
log "wasm tests in headless Chromium, with the executor sending to moto over fetch"
# moto on a free loopback port for the executor test; its URL is baked in at compile time.
port=$("$TRUSTLINE_VENV/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$TRUSTLINE_VENV/bin/moto_server" -H 127.0.0.1 -p "$port" >/dev/null 2>&1 &
moto_pid=$!
trap 'kill $moto_pid 2>/dev/null || true' EXIT
for _ in $(seq 100); do curl -fsS "http://127.0.0.1:$port/moto-api/" >/dev/null 2>&1 && break; sleep 0.1; done
# Flags for a closed network and root (the runner adds headless and no-sandbox itself).
export WASM_BINDGEN_TEST_WEBDRIVER_JSON="$ROOT/scripts/webdriver-chromium.json"
TRUSTLINE_WASM_MOTO="http://127.0.0.1:$port" WASM_BINDGEN_USE_BROWSER=1 CHROMEDRIVER=/usr/bin/chromedriver \
  cargo test -p trustline-core --target wasm32-unknown-unknown --test wire --features executor --locked
