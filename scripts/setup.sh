#!/usr/bin/env bash
# Installs everything Trustline's build, run and tests need that a fresh machine lacks.
# Idempotent: each step checks for the right version first. Steps live in scripts/setup.d/.
source "$(dirname "$0")/lib.sh"
for step in "$ROOT"/scripts/setup.d/*.sh; do
  # shellcheck source=/dev/null
  source "$step"
done
log "tools ready in $TRUSTLINE_TOOLS"
