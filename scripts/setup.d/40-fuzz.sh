# Fuzzing: cargo-fuzz (from crates.io) for the nightly toolchain that libFuzzer's sanitizers need.
# Toolchains cannot be downloaded on this machine kind, so nightly is used only when present;
# scripts/test.d/40-fuzz.sh says loudly when it is not.
if rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
  have cargo-fuzz || { log "cargo install cargo-fuzz"; cargo install cargo-fuzz --locked; }
else
  log "no nightly toolchain: fuzz targets (core/fuzz) will not run here"
fi
