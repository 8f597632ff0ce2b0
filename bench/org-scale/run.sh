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
#   PEER=1 ACCOUNTS=10,100                     # also a boto3 script (boto3_peer.py) against the same
#                                              # simulator, per size; prints both wall times and the
#                                              # ratio, exits non-zero if their counts differ
#                                              # (INGEST defaults to 0 then)
source "$(dirname "$0")/../../scripts/lib.sh"
cd "$ROOT"
target="${CARGO_TARGET_DIR:-$ROOT/target}"
if [[ -z ${TRUSTLINE_BIN:-} || -z ${AWS_SIM_BIN:-} ]]; then
  log "cargo build --release (trustline, aws-sim)"
  cargo build --release -p trustline-worker --bin trustline -p trustline-testkit --bin aws-sim
  TRUSTLINE_BIN="$target/release/trustline"
  AWS_SIM_BIN="$target/release/aws-sim"
fi
if [[ ${PEER:-0} != 0 ]]; then
  "$TRUSTLINE_VENV/bin/python" -c 'import boto3' 2>/dev/null || die "no boto3 in $TRUSTLINE_VENV: run bash scripts/setup.sh"
  export PEER="$TRUSTLINE_VENV/bin/python"
  INGEST=${INGEST:-0}
else
  unset PEER
fi
IFS=, read -r -a sizes <<<"${ACCOUNTS:-1000}"
summary=()
for accounts in "${sizes[@]}"; do
  work="$target/org-scale"
  ((${#sizes[@]} == 1)) || work="$target/org-scale-$accounts"
  mkdir -p "$work"
  log "benchmark: $accounts accounts x ${REGIONS:-4} regions; work files in $work"
  ACCOUNTS=$accounts python3 "$ROOT/bench/org-scale/driver.py" "$TRUSTLINE_BIN" "$AWS_SIM_BIN" "$work"
  [[ -z ${PEER:-} ]] || summary+=("$(cat "$work/peer.txt")")
done
if ((${#summary[@]})); then
  log "trustline sync vs boto3 (same simulator, ${LATENCY:-0.05} s per call, AWS's buckets)"
  printf '%s\n' "${summary[@]}"
fi
if [[ ${INGEST:-1} != 0 ]]; then
  log "parse + store on one core (cargo bench -p trustline-worker --bench ingest)"
  cargo bench -p trustline-worker --bench ingest
fi
