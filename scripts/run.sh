#!/usr/bin/env bash
# Trustline's main job, as far as it exists today: the vendor's onboarding kit for one customer.
#
# It generates a fresh ExternalId and every document that customer needs to grant access (role and
# Organization templates, trust and permission policies, the same role as AWS CLI and Terraform,
# and a quick-create link when TRUSTLINE_TEMPLATE_URL names your template in S3) into ./out.
# The onboarding web page and the worker's verify/sync service are not built yet (issues 5 and 6);
# this script says so rather than pretending.
#
# Settings (environment): TRUSTLINE_VENDOR_PRINCIPAL (default: a demo account, 111122223333),
# TRUSTLINE_VENDOR_NAME (default "Demo Vendor"), TRUSTLINE_TEMPLATE_URL, TRUSTLINE_REGION.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
(source "$ROOT/scripts/setup.d/10-rust.sh")
log "building the trustline CLI (release)"
cargo build -q --release --locked -p trustline-worker
bin="$ROOT/target/release/trustline"
out="$ROOT/out"
mkdir -p "$out"

vendor="${TRUSTLINE_VENDOR_PRINCIPAL:-arn:aws:iam::111122223333:root}"
name="${TRUSTLINE_VENDOR_NAME:-Demo Vendor}"
region="${TRUSTLINE_REGION:-us-east-1}"
[[ -n ${TRUSTLINE_VENDOR_PRINCIPAL:-} ]] || log "TRUSTLINE_VENDOR_PRINCIPAL is not set: using the demo vendor $vendor"

external_id=$("$bin" external-id --prefix "customer-$(date +%Y%m%d)-")
role=(--vendor "$vendor" --vendor-name "$name" --external-id "$external_id")
"$bin" kinds >"$out/integration-kinds.json"
"$bin" template role "${role[@]}" >"$out/role.yaml"
"$bin" template role "${role[@]}" --format json >"$out/role.json"
"$bin" template stackset "${role[@]}" --target r-ab12 >"$out/organization-stackset.yaml"
"$bin" template user --kind access-key --vendor-name "$name" >"$out/access-key-user.yaml"
"$bin" template terraform "${role[@]}" >"$out/role.tf"
"$bin" policy trust --vendor "$vendor" --external-id "$external_id" >"$out/trust-policy.json"
"$bin" policy permissions --account 123456789012 >"$out/permissions-policy.example.json"
"$bin" policy check-trust "$out/trust-policy.json"

echo
echo "ExternalId for this customer: $external_id"
if [[ -n ${TRUSTLINE_TEMPLATE_URL:-} ]]; then
  echo "Launch-stack link:"
  "$bin" quick-create-link --template-url "$TRUSTLINE_TEMPLATE_URL" --region "$region" \
    --external-id "$external_id" --param "VendorPrincipal=$vendor"
else
  echo "Set TRUSTLINE_TEMPLATE_URL to your role.yaml's S3 URL to get a one-click launch-stack link."
fi
echo "Documents written to $out:"
ls -1 "$out" | sed 's/^/  /'
echo
echo "Not built yet: the onboarding page (issue 5) and the worker's verify/sync service (issue 6)."
echo "Every generator is also a subcommand: $bin --help"
