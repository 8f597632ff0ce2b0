#!/usr/bin/env bash
# Organization-scale benchmark: `trustline sync` of a simulated AWS Organization
# (testkit's aws-sim, loopback) of 1,000 member accounts x 4 regions, ~300 IAM entities per
# account, ~120 EC2 and network objects and 2,000 CloudTrail events per account-region, 50 ms per
# call, with AWS's documented rate limits enforced per (account, region, API). Prints wall time
# against the simulator's throttle-bound minimum, requests per second, throttled share, CPU,
# peak RSS and ingest rates, each against its target; then the parse + store rate on one core
# measured alone (worker's `ingest` benchmark). Exits non-zero only when the stored inventory is
# not the simulator's (every account complete, every event once).
#
#   ACCOUNTS=100 bash bench/org-scale/run.sh   # a smaller organization (default 1000)
#   REGIONS=4 EVENTS=2000 LATENCY=0.05         # per account-region sizes and per-call latency
#   INGEST=0                                   # skip the one-core parse + store measurement
#   TRUSTLINE_BIN=… AWS_SIM_BIN=…              # skip the builds, use these binaries
source "$(dirname "$0")/../../scripts/lib.sh"
cd "$ROOT"
target="${CARGO_TARGET_DIR:-$ROOT/target}"
if [[ -z ${TRUSTLINE_BIN:-} || -z ${AWS_SIM_BIN:-} ]]; then
  log "cargo build --release (trustline, aws-sim)"
  cargo build --release -p trustline-worker --bin trustline -p trustline-testkit --bin aws-sim
  TRUSTLINE_BIN="$target/release/trustline"
  AWS_SIM_BIN="$target/release/aws-sim"
fi
work="$target/org-scale"
mkdir -p "$work"
log "benchmark: ${ACCOUNTS:-1000} accounts x ${REGIONS:-4} regions; work files in $work"
python3 "$ROOT/bench/org-scale/driver.py" "$TRUSTLINE_BIN" "$AWS_SIM_BIN" "$work"
if [[ ${INGEST:-1} != 0 ]]; then
  log "parse + store on one core (cargo bench -p trustline-worker --bench ingest)"
  cargo bench -p trustline-worker --bench ingest
fi
