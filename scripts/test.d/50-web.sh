# The onboarding wizard in a real browser: clippy for the wasm32 module, a release build with
# Trunk (and the static first step), the Playwright tests (Node's test runner, Debian's Chromium,
# moto for the key check) and the size and time budgets. The reducer's native tests ran with
# nextest in 10-rust.sh.
source "$(dirname "$0")/../lib.sh"
cd "$ROOT"
cargo clippy -p trustline-web --target wasm32-unknown-unknown --all-targets --locked -- -D warnings
bash "$ROOT/scripts/web-build.sh"
# worker.test.mjs drives the real worker and Trustline's AWS stand-in (debug builds).
cargo build -q --locked -p trustline-worker -p trustline-testkit --bin trustline --bin aws-standin
log "browser tests (Playwright + Chromium); screenshots in target/web-artifacts/"
node --test --test-concurrency=1 "$ROOT/web/tests/browser/"*.test.mjs
log "web budgets"
# The wizard's budgets: first paint (20 KB gzip), the whole flow (320 KiB gzip), the first step
# clickable (150 ms median) and the scope step ready (600 ms median). A size over its budget
# fails the stage. A timing over its budget fails it too, unless TRUSTLINE_WEB_TIMING_STRICT=0
# (CI sets it: page-load medians on a shared 2-core machine swing by more than the budget's
# margin, e.g. 108–364 ms for one build's first step), which prints the miss and goes on.
set +e
bash "$ROOT/scripts/web-budget.sh"
status=$?
set -e
case $status in
  0) ;;
  3) [[ ${TRUSTLINE_WEB_TIMING_STRICT:-1} == 0 ]] || die "web timing budget exceeded (above)"
     log "WARNING: a web timing budget was exceeded (above); TRUSTLINE_WEB_TIMING_STRICT=0 reports it only" ;;
  *) die "web size budget exceeded (above)" ;;
esac
