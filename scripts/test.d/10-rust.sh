source "$(dirname "$0")/../lib.sh"
cd "$ROOT"
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo check -p trustline-core --target wasm32-unknown-unknown --locked
cargo nextest run --workspace --locked --no-fail-fast
# The worker's suite again with its store on PostgreSQL: a throwaway cluster on loopback, and a
# database of its own for every store a test opens (worker/tests/cli/main.rs, `store_arg`).
PG_FAST=1 pg_start
# With it, the tests that need several workers on one store (replicas.rs, ignored without it).
TRUSTLINE_TEST_POSTGRES="$PG_URL" cargo nextest run -p trustline-worker --test cli --locked --no-fail-fast --run-ignored all
pg_stop
cargo test --workspace --doc --locked
# The test executables are not run again by later stages (they build what they need).
mapfile -t test_bins < <(find "${CARGO_TARGET_DIR:-$ROOT/target}/debug/deps" -maxdepth 1 -type f -perm -u+x ! -name '*.so' ! -name '*.rlib' 2>/dev/null)
((${#test_bins[@]} == 0)) || prune "${test_bins[@]}"
