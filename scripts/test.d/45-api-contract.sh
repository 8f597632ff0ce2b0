# The worker's API against its description (docs/openapi.yaml): schemathesis sends generated
# requests, valid and invalid, to `trustline serve` on loopback (debug build, temporary store,
# Trustline's AWS stand-in for AWS) and checks that no answer is a server error and that every
# status, content type and body is one the description allows. It runs twice: as the operator
# (every route), and as a tenant's browser session (the tenant's routes; operator-only ones must
# answer 403). Path parameters name the real tenant and a real connection part of the time, so
# requests get past "not found". Any finding fails the stage.
#
# TRUSTLINE_CONTRACT_EXAMPLES (default 25) bounds the generated cases per operation and phase,
# TRUSTLINE_CONTRACT_SECONDS (default 300) each run's wall clock; TRUSTLINE_CONTRACT_SEED
# replays a run (the stage prints the seed it drew).
source "$(dirname "$0")/../lib.sh"
cd "$ROOT"
examples="${TRUSTLINE_CONTRACT_EXAMPLES:-25}"
seconds="${TRUSTLINE_CONTRACT_SECONDS:-300}"
python="$TRUSTLINE_VENV/bin/python"
schemathesis="$TRUSTLINE_VENV/bin/schemathesis"
[[ -x $schemathesis ]] || die "schemathesis is missing from $TRUSTLINE_VENV (scripts/setup.sh installs it)"

cargo build -q --locked -p trustline-worker -p trustline-testkit --bin trustline --bin aws-standin
bin="${CARGO_TARGET_DIR:-$ROOT/target}/debug"

work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# standin_seed [ROLE_ARN TRUST_POLICY]: the vendor's user; the customer's role once the worker
# has issued the ExternalId its trust policy requires.
standin_seed() {
  "$python" -c '
import json, sys
role = sys.argv[1:]
print(json.dumps({
    "users": [{"account": "111122223333", "name": "trustline-vendor", "access_key_id": "AKIATRUSTLINECI00001"}],
    "roles": [{"arn": role[0], "trust_policy": role[1], "denied_actions": [], "max_session_seconds": 3600}] if role else [],
}))' "$@"
}

# api TOKEN METHOD PATH [JSON]: the body of a call that must succeed.
api() {
  local out code
  out=$(curl -sS -X "$2" "$url$3" -H "authorization: Bearer $1" -H 'content-type: application/json' \
    ${4:+--data "$4"} -w '\n%{http_code}') || die "the worker did not answer $2 $3"
  code=${out##*$'\n'}
  [[ $code == 2* ]] || die "$2 $3: HTTP $code ${out%$'\n'*}"
  printf '%s' "${out%$'\n'*}"
}

field() { "$python" -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }

standin_seed >"$work/seed.json"
"$bin/aws-standin" --seed "$work/seed.json" 2>"$work/standin.log" &
pids+=($!)
standin_pid=$!
standin=$(wait_listening "$work/standin.log" "the AWS stand-in")

token=$("$bin/trustline" api-token)
vendor="arn:aws:iam::111122223333:root"
AWS_ACCESS_KEY_ID=AKIATRUSTLINECI00001 AWS_SECRET_ACCESS_KEY=ci-only-not-a-secret \
  AWS_EC2_METADATA_DISABLED=true AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null \
  TRUSTLINE_API_TOKEN="$token" TRUSTLINE_SEAL_KEY="$("$bin/trustline" seal-key)" \
  "$bin/trustline" serve --listen 127.0.0.1:0 --store "$work/trustline.db" --endpoint-url "$standin" \
  --vendor-principal "$vendor" --verify-per-minute 100000 --request-timeout 30s 2>"$work/worker.log" &
pids+=($!)
url=$(wait_listening "$work/worker.log" "trustline serve")

# A tenant, a session for it, and a connection (a role in the stand-in that trusts the vendor
# only with the ExternalId the worker issued to the tenant), so that generated requests can
# reach past "not found".
tenant=contract-acme
api "$token" POST /v1/tenants "{\"id\":\"$tenant\",\"name\":\"Acme (contract test)\"}" >/dev/null
session_json=$(api "$token" POST "/v1/tenants/$tenant/sessions" '{"ttl_seconds":3600}')
session=$(field token <<<"$session_json")
external_id=$(field external_id <<<"$session_json")
role="arn:aws:iam::123456789012:role/ContractReadOnly"
trust=$("$bin/trustline" policy trust --vendor "$vendor" --external-id "$external_id")
standin_seed "$role" "$trust" >"$work/seed.json"
restart_standin "$bin/aws-standin" "$work/seed.json" "$standin" "$work/standin.log" "the AWS stand-in (with the role)"
connection=$(api "$session" POST "/v1/tenants/$tenant/connections" \
  "{\"kind\":\"cross-account-role\",\"role_arn\":\"$role\",\"data_sets\":[\"iam\"]}" | field id)

# Every check but one: positive_data_acceptance expects any schema-valid body to be accepted,
# but registration and verification also refuse what only the store or AWS can judge (an
# ExternalId not issued to this tenant, an sts connection without its key, a region unknown to
# this build). A request that outlives the server's own 30 s timeout is a hang, reported as a
# failure.
seed="${TRUSTLINE_CONTRACT_SEED:-$("$python" -c 'import random; print(random.getrandbits(64))')}"
log "api contract seed $seed (TRUSTLINE_CONTRACT_SEED=$seed replays it)"

# run WHO TOKEN CONFIG [schemathesis args...]: one bounded schemathesis run; its JUnit report
# is counted below.
run() {
  local who=$1 bearer=$2 config=$3
  shift 3
  log "api contract as the $who (at most $examples cases per operation and phase, ${seconds}s)"
  (cd "$work" && timeout --kill-after=10 "$seconds" "$schemathesis" --config-file "$config" run \
    "$ROOT/docs/openapi.yaml" --url "$url" -H "Authorization: Bearer $bearer" \
    --phases examples,coverage,fuzzing --max-examples "$examples" --workers 1 \
    --checks all --exclude-checks positive_data_acceptance --request-timeout 45 \
    --generation-database none --seed "$seed" \
    --report junit --report-junit-path "$work/$who.xml" --no-color "$@")
}

# The session first: the operator's run may delete the tenant (and with it the session).
cat >"$work/session.toml" <<TOML
[parameters]
"path.tenant" = "$tenant"
"path.id" = { dictionary = "connections", probability = 0.5 }

[dictionaries.connections]
values = ["$connection"]
TOML
cat >"$work/operator.toml" <<TOML
[parameters]
"path.tenant" = { dictionary = "tenants", probability = 0.5 }
"path.id" = { dictionary = "connections", probability = 0.5 }

[dictionaries.tenants]
values = ["$tenant"]

[dictionaries.connections]
values = ["$connection"]
TOML
status=0
run session "$session" "$work/session.toml" --include-path-regex '^/v1/tenants/\{tenant\}/' || status=1
run operator "$token" "$work/operator.toml" || status=1

# Counts the JUnit reports' test cases: an operation and phase is one case.
counts=$("$python" - "$work/session.xml" "$work/operator.xml" <<'PY'
import sys
import xml.etree.ElementTree as ET
passed = failed = 0
for path in sys.argv[1:]:
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError):
        failed += 1
        continue
    for case in root.iter("testcase"):
        if case.find("failure") is not None or case.find("error") is not None:
            failed += 1
        elif case.find("skipped") is None:
            passed += 1
print(passed, failed)
PY
)
read -r passed failed <<<"$counts"
echo "api contract: $passed passed, $failed failed"
if ((status != 0 || failed != 0)); then
  log "worker log (last 40 lines):"
  tail -40 "$work/worker.log" >&2
  die "the API does not match docs/openapi.yaml (above)"
fi
