# Python tools in a private virtualenv: moto (the AWS stand-in), cfn-lint, parliament,
# policy_sentry (linters for generated documents), botocore (signing cross-check) and
# schemathesis (the API contract).
req="$ROOT/scripts/requirements.txt"
stamp="$TRUSTLINE_VENV/.requirements.sha256"
want=$(sha256sum "$req" | cut -d' ' -f1)
if [[ ! -x $TRUSTLINE_VENV/bin/python || ! -f $stamp || $(cat "$stamp") != "$want" ]]; then
  log "python venv: pip install -r scripts/requirements.txt"
  python3 -m venv "$TRUSTLINE_VENV"
  "$TRUSTLINE_VENV/bin/pip" install -q --disable-pip-version-check -r "$req"
  echo "$want" >"$stamp"
fi
