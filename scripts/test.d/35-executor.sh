# trustline-core's reqwest executor (feature `executor`), natively, against moto.
source "$(dirname "$0")/../lib.sh"
cd "$ROOT"
cargo clippy -p trustline-core --features executor --lib --test wire --locked -- -D warnings
cargo test -p trustline-core --features executor --test wire --locked executor
