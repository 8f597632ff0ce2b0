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
#   STORES=sqlite,postgres:1,postgres:3        # each size on each store: SQLite, and PostgreSQL with
#                                              # 1 (`sync`) or N (`run` replicas sharing it by leases);
#                                              # prints them side by side. PostgreSQL is Debian's,
#                                              # installed if missing, a throwaway cluster on loopback
#                                              # with default durability (PG_OPTS adds settings).
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
IFS=, read -r -a stores <<<"${STORES:-sqlite}"
if [[ ${STORES:-sqlite} == *postgres* ]]; then
  # WAL segments up to 8 GB between checkpoints: the full size writes several GB per run.
  PG_OPTS="${PG_OPTS:--c shared_buffers=512MB -c max_wal_size=8GB}" pg_start
  export PG_URL
fi
summary=()
results=()
for accounts in "${sizes[@]}"; do
  for store in "${stores[@]}"; do
    engine=${store%%:*}
    replicas=1
    [[ $store != *:* ]] || replicas=${store#*:}
    work="$target/org-scale"
    ((${#sizes[@]} == 1 && ${#stores[@]} == 1)) || work="$target/org-scale-$accounts-${store/:/-}"
    mkdir -p "$work"
    log "benchmark: $accounts accounts x ${REGIONS:-4} regions on $store; work files in $work"
    STORE=$engine REPLICAS=$replicas ACCOUNTS=$accounts \
      python3 "$ROOT/bench/org-scale/driver.py" "$TRUSTLINE_BIN" "$AWS_SIM_BIN" "$work"
    [[ -z ${PEER:-} ]] || summary+=("$(cat "$work/peer.txt")")
    results+=("$work/result.json")
    # The next run gets the disk back: a full-size store is several GB.
    [[ $engine != sqlite ]] || rm -f "$work"/trustline.db*
  done
done
if ((${#results[@]} > 1)); then
  log "side by side"
  python3 - "${results[@]}" <<'PY'
import json, sys
print(f"{'store':<14}{'accounts':>9}{'wall':>9}{'x bound':>9}{'worker CPU':>12}{'PG CPU':>9}{'us/item':>9}{'B/item':>8}{'RSS MB':>8}{'throttled':>11}{'events query':>14}")
for path in sys.argv[1:]:
    r = json.load(open(path))
    name = r["store"] if r["store"] == "sqlite" else f"postgres x{r['replicas']}"
    per_item = 1e6 * (r["cpu"] + r["server_cpu"]) / r["items"]
    print(f"{name:<14}{r['accounts']:>9}{r['wall']:>8.1f}s{r['wall'] / r['bound']:>8.2f}x{r['cpu']:>11.1f}s{r['server_cpu']:>8.1f}s"
          f"{per_item:>9.1f}{r['written'] / r['items']:>8.0f}{r['rss']:>8.0f}{100 * r['throttled'] / max(r['requests'], 1):>10.2f}%"
          f"{r['query_ms']:>11.0f} ms")
PY
fi
if ((${#summary[@]})); then
  log "trustline sync vs boto3 (same simulator, ${LATENCY:-0.05} s per call, AWS's buckets)"
  printf '%s\n' "${summary[@]}"
fi
if [[ ${INGEST:-1} != 0 ]]; then
  log "parse + store on one core (cargo bench -p trustline-worker --bench ingest)"
  cargo bench -p trustline-worker --bench ingest
fi
