# Web wizard: Trunk builds it; wasm-opt comes from npm's binaryen because Debian's
# (v108) cannot read current rustc output; playwright-core drives Debian's Chromium in the
# browser tests. The npm packages are pinned by web/tests/browser/package-lock.json and installed
# into $TRUSTLINE_NODE, never into the repository. Trunk 0.22 needs a newer rustc: stay on 0.21.
cargo_install_version trunk 0.21.14 trunk --locked
apt_install chromium
have node || apt_install nodejs npm
web_lock="$ROOT/web/tests/browser/package-lock.json"
web_stamp="$TRUSTLINE_NODE/.web-package-lock.sha256"
web_want=$(sha256sum "$web_lock" | cut -d' ' -f1)
if [[ ! -x $TRUSTLINE_NODE/node_modules/.bin/wasm-opt || ! -d $TRUSTLINE_NODE/node_modules/playwright-core ||
  ! -f $web_stamp || $(cat "$web_stamp") != "$web_want" ]]; then
  log "npm ci (binaryen, playwright-core) into $TRUSTLINE_NODE"
  mkdir -p "$TRUSTLINE_NODE"
  cp "$ROOT/web/tests/browser/package.json" "$web_lock" "$TRUSTLINE_NODE/"
  (cd "$TRUSTLINE_NODE" && npm ci --no-audit --no-fund --loglevel=error)
  echo "$web_want" >"$web_stamp"
fi
