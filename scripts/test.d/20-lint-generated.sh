# Every generated template and policy through cfn-lint, parliament, policy_sentry and
# Trustline's own trust check: zero findings allowed.
source "$(dirname "$0")/../lib.sh"
bash "$ROOT/scripts/lint-generated.sh"
