#!/usr/bin/env bash
# SigV4 signing benchmark: the same request set signed by Trustline (native, criterion),
# botocore's SigV4Auth and @smithy/signature-v4 in one run; prints the cost per request and the
# ratios. Targets: ≤ 2 µs per request, ≥ 20× botocore, ≥ 3× @smithy/signature-v4.
# With --wasm it also measures signing inside wasm in headless Chromium (a release wasm build of
# the wire test's `signing_cost_in_wasm`, 22 calls signed for a second per path).
source "$(dirname "$0")/../../scripts/lib.sh"
cd "$ROOT"
bench="$ROOT/bench/sign"
log "Trustline (criterion)"
cargo bench -p trustline-core --bench sign -- --noplot >"$ROOT/target/sign-bench.log" 2>&1 ||
  { cat "$ROOT/target/sign-bench.log"; die "cargo bench failed"; }
grep -A3 "sign_request_set" "$ROOT/target/sign-bench.log" >&2 || true
requests="$ROOT/target/sign-bench/requests.json"
log "botocore"
boto=$("$TRUSTLINE_VENV/bin/python" "$bench/botocore_bench.py" "$requests")
log "@smithy/signature-v4"
if [[ ! -d $bench/node_modules/@smithy/signature-v4 ]]; then
  (cd "$bench" && npm ci --no-audit --no-fund --silent)
fi
smithy=$(node "$bench/smithy_bench.mjs" "$requests")
python3 - "$requests" "$ROOT/target/criterion/sigv4/sign_request_set/new/estimates.json" "$boto" "$smithy" <<'PY'
import json, sys
n = len(json.load(open(sys.argv[1]))["requests"])
trustline = json.load(open(sys.argv[2]))["mean"]["point_estimate"] / n
boto = json.loads(sys.argv[3])["ns_per_request"]
smithy = json.loads(sys.argv[4])["ns_per_request"]
print(f"SigV4 signing, {n} requests (STS, IAM, EC2 form posts; CloudTrail, Organizations JSON), per request:")
print(f"  trustline (Rust, native)     {trustline / 1000:8.2f} µs")
print(f"  @smithy/signature-v4 (Node)  {smithy / 1000:8.2f} µs   trustline is {smithy / trustline:5.1f}x faster (target >= 3x)")
print(f"  botocore SigV4Auth (Python)  {boto / 1000:8.2f} µs   trustline is {boto / trustline:5.1f}x faster (target >= 20x)")
print(f"  target <= 2 µs per request: {'met' if trustline <= 2000 else 'NOT met'}")
PY

if [[ ${1:-} == --wasm ]]; then
  log "wasm in headless Chromium (release build)"
  CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
    WASM_BINDGEN_TEST_WEBDRIVER_JSON="$ROOT/scripts/webdriver-chromium.json" \
    WASM_BINDGEN_USE_BROWSER=1 CHROMEDRIVER=/usr/bin/chromedriver \
    cargo test --release -p trustline-core --target wasm32-unknown-unknown --test wire -- --nocapture signing_cost 2>&1 |
    grep -E "µs per request" | sed 's/^/  /'
fi
