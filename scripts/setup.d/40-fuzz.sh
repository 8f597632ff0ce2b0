# Fuzzing: cargo-fuzz on the nightly toolchain (libFuzzer needs nightly's sanitizer support).
if ! rustup toolchain list | grep -q '^nightly'; then
  log "rustup toolchain install nightly"
  rustup toolchain install nightly --profile minimal
fi
have cargo-fuzz || { log "cargo install cargo-fuzz"; cargo install cargo-fuzz --locked; }
