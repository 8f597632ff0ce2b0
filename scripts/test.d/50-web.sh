# The onboarding wizard in a real browser: clippy for both wasm32 modules (the wizard, and the
# documents module it loads after the first step), a release build with Trunk, the
# Playwright tests (Node's test runner, Debian's Chromium, moto for the key check) and the size
# and time-to-interactive budgets. The reducer's native tests ran with nextest in 10-rust.sh.
source "$(dirname "$0")/../lib.sh"
cd "$ROOT"
cargo clippy -p trustline-web --target wasm32-unknown-unknown --locked -- -D warnings
cargo clippy -p trustline-web --target wasm32-unknown-unknown --no-default-features --features documents \
  --locked -- -D warnings
bash "$ROOT/scripts/web-build.sh"
# worker.test.mjs drives the real worker and Trustline's AWS stand-in (debug builds).
cargo build -q --locked -p trustline-worker -p trustline-testkit --bin trustline --bin aws-standin
log "browser tests (Playwright + Chromium); screenshots in target/web-artifacts/"
node --test --test-concurrency=1 "$ROOT/web/tests/browser/"*.test.mjs
log "web budgets"
# The size budget is known to be exceeded (web/README.md, "Known limits": the first step needs
# 217 KiB gzip of 150): report it loudly, and fail the stage only when asked to
# (TRUSTLINE_WEB_BUDGET_STRICT=1) until it fits.
if ! bash "$ROOT/scripts/web-budget.sh"; then
  [[ ${TRUSTLINE_WEB_BUDGET_STRICT:-0} == 1 ]] && die "web budget exceeded"
  log "WARNING: web budget exceeded (see above); set TRUSTLINE_WEB_BUDGET_STRICT=1 to fail on it"
fi
