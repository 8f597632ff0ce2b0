source "$(dirname "$0")/../lib.sh"
cd "$ROOT"
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo check -p trustline-core --target wasm32-unknown-unknown --locked
cargo nextest run --workspace --locked --no-fail-fast
cargo test --workspace --doc --locked
