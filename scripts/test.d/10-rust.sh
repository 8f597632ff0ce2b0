source "$(dirname "$0")/../lib.sh"
cd "$ROOT"
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo check -p trustline-core --target wasm32-unknown-unknown --locked
cargo nextest run --workspace --locked --no-fail-fast
cargo test --workspace --doc --locked
# The test executables are not run again by later stages (they build what they need).
mapfile -t test_bins < <(find "${CARGO_TARGET_DIR:-$ROOT/target}/debug/deps" -maxdepth 1 -type f -perm -u+x ! -name '*.so' ! -name '*.rlib' 2>/dev/null)
((${#test_bins[@]} == 0)) || prune "${test_bins[@]}"
