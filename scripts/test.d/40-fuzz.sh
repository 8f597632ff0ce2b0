# Fuzzing, bounded: each cargo-fuzz target of trustline-core (XML parsers, JSON parsers, ARN and
# friends) runs for FUZZ_SECONDS (default 20), seeded with the parser fixtures.
source "$(dirname "$0")/../lib.sh"
if ! rustup toolchain list 2>/dev/null | grep -q '^nightly' || ! have cargo-fuzz; then
  # A toolchain cannot be fetched on this machine kind; the parsers' malformed-input tests in
  # core/tests/wire still run in 10-rust.
  log "SKIPPED fuzzing: needs the nightly toolchain and cargo-fuzz (scripts/setup.d/40-fuzz.sh)"
  exit 0
fi
cd "$ROOT/core/fuzz"
seconds="${FUZZ_SECONDS:-20}"
fixtures="$ROOT/core/tests/fixtures"
# Seeds: every fixture behind each selector byte the targets understand.
seed() {
  local dir=corpus/$1 ext=$2 n=$3
  mkdir -p "$dir"
  local i=0
  for f in "$fixtures"/*/*."$ext"; do
    printf "\\x$(printf %02x $((i % n)))" | cat - "$f" >"$dir/seed-$i"
    i=$((i + 1))
  done
}
seed xml xml 256
seed json json 256
mkdir -p corpus/arn
printf 'arn:aws:iam::123456789012:role/path/Trustline' >corpus/arn/role
printf 'arn:aws-cn:s3:::bucket/key' >corpus/arn/s3
printf '123456789012' >corpus/arn/account
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for target in xml json arn; do
  log "cargo fuzz run $target (${seconds}s)"
  # A build failure or a crash must fail this stage, never pass it quietly.
  if ! cargo +nightly fuzz run "$target" "corpus/$target" -- -max_total_time="$seconds" -rss_limit_mb=2048 >"$out" 2>&1; then
    if [[ -d artifacts/$target && -n $(ls -A "artifacts/$target" 2>/dev/null) ]]; then
      die "fuzz target $target found a crash: see core/fuzz/artifacts/$target"
    fi
    tail -n 30 "$out" >&2
    die "fuzz target $target did not run (above)"
  fi
  grep -E "^Done [0-9]+ runs" "$out" || { tail -n 30 "$out" >&2; die "fuzz target $target reported no runs"; }
done
