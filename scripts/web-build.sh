#!/usr/bin/env bash
# Release build of the wizard with Trunk into ./dist (index.html, boot.js, trustline-web.js,
# trustline-web_bg.wasm, trustline-web.d.ts, style.css), then the first step written into
# dist/index.html as static HTML for the page's options (web/examples/first_step_page.rs). Offline: Trunk uses the wasm-bindgen
# and wasm-opt on PATH (scripts/setup.d/30-wasm-test.sh and 50-web.sh install them).
#
# TRUSTLINE_WEB_CONFIG='{"vendorPrincipal": "...", "vendorName": "...", "sessionFrom": {"endpoint": "..."}}'
# replaces the standalone page's options (dist/index.html, #trustline-config) after the build;
# see web/README.md for every option. `sessionFrom` (web/boot.js) is where the page gets its
# tenant's session at load time; a session itself (or any token) is refused here: it is per
# customer and short-lived, and dist/ is a static build. The origins the page calls are added
# to its CSP connect-src.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
have trunk || die "trunk is missing: run bash scripts/setup.sh"
log "trunk build --release"
trunk build --release --locked 2>&1 | grep -Ev '^\s*$' | tail -n 20
[[ -f dist/trustline-web_bg.wasm ]] || die "trunk did not produce dist/trustline-web_bg.wasm"
if [[ -n ${TRUSTLINE_WEB_CONFIG:-} ]]; then
  node -e '
    const fs = require("node:fs");
    const config = JSON.parse(process.env.TRUSTLINE_WEB_CONFIG);
    if (config.session || config.verify || /token/i.test(JSON.stringify(config))) {
      console.error("TRUSTLINE_WEB_CONFIG: no session, verify or token in a static page; use sessionFrom: { endpoint } (see web/README.md)");
      process.exit(3);
    }
    let page = fs.readFileSync("dist/index.html", "utf8").replace(
      /(<script type="application\/json" id="trustline-config">)[\s\S]*?(<\/script>)/,
      (_, open, close) => open + JSON.stringify(config).replaceAll("<", "\\u003c") + close);
    // The CSP lets the page reach the session endpoint, the worker and the STS override it was
    // configured with.
    for (const url of [config.sessionFrom?.endpoint, config.sessionFrom?.url, config.stsEndpoint]) {
      if (!/^https?:\/\//.test(url ?? "")) continue;
      const origin = new URL(url).origin;
      page = page.replace(/connect-src ([^;"]*)/, (all, list) =>
        list.split(" ").includes(origin) ? all : `connect-src ${list} ${origin}`);
    }
    fs.writeFileSync("dist/index.html", page);
  ' || die "TRUSTLINE_WEB_CONFIG was refused (above) or is not valid JSON"
  log "dist/index.html: options from TRUSTLINE_WEB_CONFIG"
fi
# The first step as static HTML, for the options the page now has (so its title and kinds match).
cargo run -q --locked -p trustline-web --example first-step-page -- dist/index.html
log "dist/index.html: static first step"
