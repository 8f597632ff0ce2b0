#!/usr/bin/env bash
# Runs every test Trustline has: formatting, lints, native and wasm tests, the linters over
# generated documents, and the tests that start moto and Chromium. Stages live in scripts/test.d/.
source "$(dirname "$0")/lib.sh"
"$ROOT/scripts/setup.sh"
cd "$ROOT"
for stage in "$ROOT"/scripts/test.d/*.sh; do
  log "stage $(basename "$stage") ($(disk_report))"
  bash "$stage"
done
log "all test stages passed ($(disk_report))"
