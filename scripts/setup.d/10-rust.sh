# Rust: the toolchain and wasm target named in rust-toolchain.toml.
(cd "$ROOT" && rustup show active-toolchain >/dev/null 2>&1 || rustup toolchain install)
if ! rustup target list --installed 2>/dev/null | grep -q wasm32-unknown-unknown; then
  log "rustup target add wasm32-unknown-unknown"
  (cd "$ROOT" && rustup target add wasm32-unknown-unknown)
fi
