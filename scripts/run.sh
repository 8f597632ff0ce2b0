#!/usr/bin/env bash
# Trustline's main job on this machine: the worker's API on loopback
# (http://127.0.0.1:${TRUSTLINE_PORT:-8787}), and beside it the example vendor dashboard with its
# own small backend (http://127.0.0.1:${TRUSTLINE_DASHBOARD_PORT:-8788}/dashboard/), where a
# customer onboards. On the embedded SQLite store in ./.run/. With no AWS credentials configured,
# the worker talks to Trustline's local AWS stand-in, seeded with a demo customer role whose trust
# policy requires the ExternalId the worker issued to the demo tenant; with credentials it talks
# to AWS (set TRUSTLINE_VENDOR_PRINCIPAL to your vendor account's root or role ARN).
#
# The operator token (TRUSTLINE_API_TOKEN) stays in this script's environment and the dashboard
# backend's: no page, file in dist/, URL or browser storage ever holds it. Pages hold a
# short-lived session for one tenant, which the dashboard backend asks the worker for.
# Stop with Ctrl-C. Scheduled syncs of registered accounts: `trustline run` (see README).
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
"$ROOT/scripts/setup.sh"

log "building the worker and the stand-in (release)"
cargo build -q --release --locked -p trustline-worker -p trustline-testkit --bin trustline --bin aws-standin
bin="${CARGO_TARGET_DIR:-$ROOT/target}/release"
state="$ROOT/.run"
mkdir -p "$state"
port="${TRUSTLINE_PORT:-8787}"
dashboard_port="${TRUSTLINE_DASHBOARD_PORT:-8788}"
url="http://127.0.0.1:$port"
dashboard="http://127.0.0.1:$dashboard_port"
tenant="${TRUSTLINE_DEMO_TENANT:-demo}"
token=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT INT TERM

has_aws_credentials() {
  [[ -n ${AWS_ACCESS_KEY_ID:-} || -n ${AWS_PROFILE:-} || -n ${AWS_WEB_IDENTITY_TOKEN_FILE:-} ||
     -n ${AWS_CONTAINER_CREDENTIALS_RELATIVE_URI:-} || -f ${AWS_SHARED_CREDENTIALS_FILE:-$HOME/.aws/credentials} ]]
}

# standin_seed [ROLE_ARN TRUST_POLICY]: the stand-in's accounts; the demo role once its
# ExternalId is known.
standin_seed() {
  node -e '
    const [role, trust] = process.argv.slice(1);
    process.stdout.write(JSON.stringify({
      users: [
        { account: "111122223333", name: "trustline-demo-vendor", access_key_id: "AKIATRUSTLINEDEMO001" },
        // The demo customer account has a little to inventory besides the role.
        { account: "123456789012", name: "ci-deployer", access_key_id: "AKIADEMOCUSTOMER0001" },
        { account: "123456789012", name: "alice", access_key_id: "AKIADEMOCUSTOMER0002" },
      ],
      roles: role ? [{ arn: role, trust_policy: trust, denied_actions: [], max_session_seconds: 3600 }] : [],
    }));' "$@"
}

# operator METHOD PATH [JSON]: the worker's API as the operator (this script only); prints the
# body, fails on an HTTP error other than 409 (the demo tenant exists from an earlier run).
operator() {
  local out code
  out=$(curl -sS -X "$1" "$url$2" -H "authorization: Bearer $token" -H 'content-type: application/json' \
    ${3:+--data "$3"} -w '\n%{http_code}') || die "the worker did not answer $1 $2"
  code=${out##*$'\n'}
  [[ $code == 2* || $code == 409 ]] || die "$1 $2: HTTP $code ${out%$'\n'*}"
  printf '%s' "${out%$'\n'*}"
}

json_field() { node -e 'let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => process.stdout.write(String(JSON.parse(s)[process.argv[1]] ?? "")))' "$1"; }

serve_args=(serve --listen "127.0.0.1:$port" --static-dir "$ROOT/dist" --store "$state/trustline.db")
demo_role=""
if has_aws_credentials; then
  vendor="${TRUSTLINE_VENDOR_PRINCIPAL:?with real AWS credentials, set TRUSTLINE_VENDOR_PRINCIPAL to your vendor account root or role ARN}"
  log "AWS credentials found: the worker calls AWS as the vendor ($vendor)"
else
  vendor="arn:aws:iam::111122223333:root"
  demo_role="arn:aws:iam::123456789012:role/DemoVendorReadOnly"
  # The worker needs the stand-in's endpoint to start, and the demo role's trust policy needs the
  # ExternalId the worker issues: so the stand-in starts without the role, and starts again on
  # the same port with it once the worker has issued the demo tenant's ExternalId (the stand-in
  # has no runtime API to add a role; its state is only its seed).
  log "no AWS credentials configured: starting Trustline's local AWS stand-in"
  standin_seed >"$state/standin-seed.json"
  "$bin/aws-standin" --seed "$state/standin-seed.json" 2>"$state/standin.log" &
  pids+=($!)
  standin_pid=$!
  standin=$(wait_listening "$state/standin.log" "the AWS stand-in")
  serve_args+=(--endpoint-url "$standin")
  # The demo vendor's key, known to the stand-in; never a real credential.
  export AWS_ACCESS_KEY_ID=AKIATRUSTLINEDEMO001 AWS_SECRET_ACCESS_KEY=demo-only-not-a-secret
  export AWS_EC2_METADATA_DISABLED=true AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
fi
serve_args+=(--vendor-principal "$vendor")

# The standalone page at the worker's / carries no token and no session: web/boot.js asks the
# dashboard backend for a session for the demo tenant (sessionFrom; the backend allows this
# origin), then verifies against the worker, this page's own origin.
TRUSTLINE_WEB_CONFIG=$(node -e '
  const [vendor, dashboard] = process.argv.slice(1);
  process.stdout.write(JSON.stringify({ vendorPrincipal: vendor, vendorName: "Demo Vendor",
    sessionFrom: { endpoint: dashboard + "/api/session" } }));' "$vendor" "$dashboard") \
  bash "$ROOT/scripts/web-build.sh"

TRUSTLINE_API_TOKEN="$token" "$bin/trustline" "${serve_args[@]}" 2>"$state/worker.log" &
pids+=($!)
# This worker's own line, not whatever answers on the port: another process already listening
# there (an earlier run still going) would otherwise take the calls below and refuse the token.
listening=$(wait_listening "$state/worker.log" "the worker" "${pids[-1]}")
[[ $listening == "$url" ]] || die "the worker listens on $listening, not $url"

# The demo customer: a tenant, and the ExternalId the worker issued to it.
operator POST /v1/tenants "{\"id\":\"$tenant\",\"name\":\"Demo Customer\"}" >/dev/null
external_id=$(operator GET "/v1/tenants/$tenant/external-id" | json_field external_id)
[[ -n $external_id ]] || die "the worker issued no ExternalId for tenant $tenant"

if [[ -n $demo_role ]]; then
  trust=$("$bin/trustline" policy trust --vendor "$vendor" --external-id "$external_id")
  standin_seed "$demo_role" "$trust" >"$state/standin-seed.json"
  restart_standin "$bin/aws-standin" "$state/standin-seed.json" "$standin" "$state/standin.log" \
    "the AWS stand-in (with the demo role)"
fi

# The example vendor dashboard and its backend: the backend holds the operator token, gives the
# page sessions for the demo tenant, and proxies the page's /v1/* calls to the worker as they
# are (with the session's token, never the operator's).
TRUSTLINE_API_TOKEN="$token" TRUSTLINE_WORKER_URL="$url" TRUSTLINE_DEMO_TENANT="$tenant" \
  node "$ROOT/web/examples/dashboard/server.mjs" --port "$dashboard_port" --allow-origin "$url" \
  2>"$state/dashboard.log" &
pids+=($!)
wait_listening "$state/dashboard.log" "the dashboard backend" >/dev/null

cat <<MSG

  Trustline is running.
    Onboard here:     $dashboard/dashboard/  (the vendor's dashboard: connect, verify, register, first sync)
    Standalone page:  $url/             (the wizard alone, with a session from the dashboard backend)
    Worker API:       $url/v1/health  (operator token in this shell only; logs in .run/)
    Store:            .run/trustline.db  (trustline accounts list --store .run/trustline.db)
    Demo tenant:      $tenant, ExternalId issued by the worker: $external_id
MSG
if [[ -n $demo_role ]]; then
  cat <<MSG
    Local AWS:        Trustline's stand-in ($standin), no real AWS involved.
    Demo customer:    choose the recommended role; when asked, paste
                      $demo_role
                      (its trust policy requires the demo tenant's ExternalId above)
MSG
fi
echo
echo "  Ctrl-C stops everything."
wait
