#!/usr/bin/env bash
# Sync benchmark: seeds a moto server with 2,000 users (1 key each), 500 roles, 20
# groups, 300 local policies and 1,000 instances in 2 regions, then times `trustline sync`
# (release build) against a plain sequential boto3 paginator inventory of the same account on the
# same server, alternating, and prints wall times, the ratio, calls and peak RSS.
# Targets: >= 2x faster than boto3, peak RSS <= 100 MB. Exits non-zero only when the two
# inventories differ; a missed target is printed as MISS.
#
#   SCALE=0.1 bash bench/sync-vs-boto3/run.sh     # smoke run at a tenth of the size
#   RUNS=5                                         # runs per side (default 3)
#   FLOOR=0                                        # skip moto's own floor (floor.py) after the runs
#   PROFILE=1                                      # add one sync under strace: its requests' timeline
#   TRUSTLINE_BIN=/path/to/trustline               # skip the build, use this binary
source "$(dirname "$0")/../../scripts/lib.sh"
cd "$ROOT"
[[ -x $TRUSTLINE_VENV/bin/moto_server && -x $TRUSTLINE_VENV/bin/python ]] ||
  die "moto_server not found in $TRUSTLINE_VENV: run bash scripts/setup.sh"
if [[ -z ${TRUSTLINE_BIN:-} ]]; then
  log "cargo build --release -p trustline-worker --bin trustline"
  cargo build --release -p trustline-worker --bin trustline
  TRUSTLINE_BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/trustline"
fi
log "benchmark (SCALE=${SCALE:-1}, RUNS=${RUNS:-3}); work files in target/sync-bench"
exec "$TRUSTLINE_VENV/bin/python" "$ROOT/bench/sync-vs-boto3/driver.py" "$TRUSTLINE_BIN" "$ROOT/target/sync-bench"
