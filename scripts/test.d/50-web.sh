# The onboarding wizard in a real browser: clippy for wasm32, a release build with Trunk, the
# Playwright tests (Node's test runner, Debian's Chromium, moto for the key check) and the size
# and time-to-interactive budgets. The reducer's native tests ran with nextest in 10-rust.sh.
source "$(dirname "$0")/../lib.sh"
cd "$ROOT"
cargo clippy -p trustline-web --target wasm32-unknown-unknown --locked -- -D warnings
bash "$ROOT/scripts/web-build.sh"
log "browser tests (Playwright + Chromium)"
node --test --test-concurrency=1 "$ROOT/web/tests/browser/"*.test.mjs
bash "$ROOT/scripts/web-budget.sh"
