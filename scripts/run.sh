#!/usr/bin/env bash
# Trustline's main job on this machine: the onboarding page and the worker's verify/registration
# API on loopback (one origin, http://127.0.0.1:${TRUSTLINE_PORT:-8787}/), on the embedded SQLite
# store in ./.run/. With no AWS credentials configured, the worker talks to Trustline's local AWS
# stand-in, seeded with a demo customer role to paste into the wizard; with credentials it talks
# to AWS (set TRUSTLINE_VENDOR_PRINCIPAL to your vendor account's root or role ARN).
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
url="http://127.0.0.1:$port"
token=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
external_id=$("$bin/trustline" external-id --prefix demo-customer-)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT INT TERM

has_aws_credentials() {
  [[ -n ${AWS_ACCESS_KEY_ID:-} || -n ${AWS_PROFILE:-} || -n ${AWS_WEB_IDENTITY_TOKEN_FILE:-} ||
     -n ${AWS_CONTAINER_CREDENTIALS_RELATIVE_URI:-} || -f ${AWS_SHARED_CREDENTIALS_FILE:-$HOME/.aws/credentials} ]]
}

serve_args=(serve --listen "127.0.0.1:$port" --static-dir "$ROOT/dist" --store "$state/trustline.db")
demo_role=""
if has_aws_credentials; then
  vendor="${TRUSTLINE_VENDOR_PRINCIPAL:?with real AWS credentials, set TRUSTLINE_VENDOR_PRINCIPAL to your vendor account root or role ARN}"
  log "AWS credentials found: the worker calls AWS as the vendor ($vendor)"
else
  vendor="arn:aws:iam::111122223333:root"
  demo_role="arn:aws:iam::123456789012:role/DemoVendorReadOnly"
  log "no AWS credentials configured: starting Trustline's local AWS stand-in"
  trust=$("$bin/trustline" policy trust --vendor "$vendor" --external-id "$external_id")
  node -e '
    const [trust, role] = process.argv.slice(1);
    process.stdout.write(JSON.stringify({
      users: [
        { account: "111122223333", name: "trustline-demo-vendor", access_key_id: "AKIATRUSTLINEDEMO001" },
        // The demo customer account has a little to inventory besides the role.
        { account: "123456789012", name: "ci-deployer", access_key_id: "AKIADEMOCUSTOMER0001" },
        { account: "123456789012", name: "alice", access_key_id: "AKIADEMOCUSTOMER0002" },
      ],
      roles: [{ arn: role, trust_policy: trust, denied_actions: [], max_session_seconds: 3600 }],
    }));' "$trust" "$demo_role" >"$state/standin-seed.json"
  "$bin/aws-standin" --seed "$state/standin-seed.json" 2>"$state/standin.log" &
  pids+=($!)
  for _ in $(seq 100); do grep -q "^listening on" "$state/standin.log" 2>/dev/null && break; sleep 0.1; done
  standin=$(sed -n 's/^listening on //p' "$state/standin.log")
  [[ -n $standin ]] || die "the AWS stand-in did not start: $(cat "$state/standin.log")"
  serve_args+=(--endpoint-url "$standin")
  # The demo vendor's key, known to the stand-in; never a real credential.
  export AWS_ACCESS_KEY_ID=AKIATRUSTLINEDEMO001 AWS_SECRET_ACCESS_KEY=demo-only-not-a-secret
  export AWS_EC2_METADATA_DISABLED=true AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
fi

# The page: same origin as the API. The bearer token goes into this local page's options only
# because page and API run on loopback for one person; a vendor's dashboard proxies the API instead.
TRUSTLINE_WEB_CONFIG=$(node -e '
  const [vendor, ext, url, token] = process.argv.slice(1);
  process.stdout.write(JSON.stringify({ vendorPrincipal: vendor, vendorName: "Demo Vendor", externalId: ext,
    verify: { url, headers: { Authorization: "Bearer " + token } } }));' "$vendor" "$external_id" "$url" "$token") \
  bash "$ROOT/scripts/web-build.sh"

# The example vendor dashboard beside it (/dashboard/): it mounts the same wizard, and registers
# each finished connection with the worker's API and runs its first sync.
rm -rf "$ROOT/dist/dashboard"
cp -r "$ROOT/web/examples/dashboard" "$ROOT/dist/dashboard"
node -e '
  const fs = require("node:fs");
  const [file, vendor, ext, url, token] = process.argv.slice(1);
  const auth = { Authorization: "Bearer " + token };
  const config = { vendorPrincipal: vendor, vendorName: "Demo Vendor", externalId: ext,
    verify: { url, headers: auth }, backend: { url, headers: auth } };
  const page = fs.readFileSync(file, "utf8").replace(
    /(<script type="application\/json" id="dashboard-config">)[\s\S]*?(<\/script>)/,
    (_, open, close) => open + JSON.stringify(config).replaceAll("<", "\\u003c") + close);
  fs.writeFileSync(file, page);' "$ROOT/dist/dashboard/index.html" "$vendor" "$external_id" "$url" "$token"

TRUSTLINE_API_TOKEN="$token" "$bin/trustline" "${serve_args[@]}" 2>"$state/worker.log" &
pids+=($!)
for _ in $(seq 100); do curl -fsS "$url/v1/health" >/dev/null 2>&1 && break; sleep 0.1; done
curl -fsS "$url/v1/health" >/dev/null || die "the worker did not start: $(tail -5 "$state/worker.log")"

cat <<MSG

  Trustline is running.
    Onboarding page:  $url/            (the wizard alone: verifies, hands the result over)
    Vendor dashboard: $url/dashboard/  (the wizard embedded; registers the account and syncs it)
    Worker API:       $url/v1/health  (token in this shell only; logs in .run/worker.log)
    Store:            .run/trustline.db  (trustline accounts list --store .run/trustline.db)
MSG
if [[ -n $demo_role ]]; then
  cat <<MSG
    Local AWS:        Trustline's stand-in ($standin), no real AWS involved.
    Demo customer:    choose the recommended role; when asked, paste
                      $demo_role
                      (its trust policy requires this page's ExternalId, $external_id)
MSG
fi
echo
echo "  Ctrl-C stops everything."
wait
