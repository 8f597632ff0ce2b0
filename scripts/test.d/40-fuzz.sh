# Fuzzing, bounded: each cargo-fuzz target runs for FUZZ_SECONDS (default 20): trustline-core's
# parsers (XML, JSON, ARN and friends) with AddressSanitizer, seeded with the parser fixtures,
# and the worker's inputs (TOML config, API request bodies, secret references and sealed
# secrets). The worker's targets are built without a sanitizer and unoptimised (libFuzzer's
# coverage only): their build includes every dependency of the worker, which takes over 20
# CPU-minutes with AddressSanitizer, 8 optimised and about 3 unoptimised on this machine, and
# their inputs are parsed by safe Rust whose failures are panics, which libFuzzer catches as well.
#
# A stage that cannot run fails, unless skipping is asked for explicitly (TRUSTLINE_SKIP_FUZZ=1).
source "$(dirname "$0")/../lib.sh"
if [[ ${TRUSTLINE_SKIP_FUZZ:-0} == 1 ]]; then
  log "fuzzing SKIPPED: TRUSTLINE_SKIP_FUZZ=1"
  exit 0
fi
if ! rustup toolchain list 2>/dev/null | grep -q '^nightly' || ! have cargo-fuzz; then
  die "fuzzing needs the nightly toolchain and cargo-fuzz (scripts/setup.d/40-fuzz.sh); set TRUSTLINE_SKIP_FUZZ=1 to skip it knowingly"
fi
seconds="${FUZZ_SECONDS:-20}"
fixtures="$ROOT/core/tests/fixtures"
out=$(mktemp)
trap 'rm -f "$out"' EXIT

# fuzz_run DIR TARGET [cargo-fuzz flags]: runs one target, failing the stage on a crash, a build
# failure or a run that reports nothing.
fuzz_run() {
  local dir=$1 target=$2
  shift 2
  log "cargo fuzz run $target in ${dir#"$ROOT"/} (${seconds}s)"
  if ! (cd "$dir" && cargo +nightly fuzz run "$@" "$target" "corpus/$target" -- \
    -max_total_time="$seconds" -rss_limit_mb=2048) >"$out" 2>&1; then
    if [[ -d $dir/artifacts/$target && -n $(ls -A "$dir/artifacts/$target" 2>/dev/null) ]]; then
      die "fuzz target $target found a crash: see ${dir#"$ROOT"/}/artifacts/$target"
    fi
    tail -n 30 "$out" >&2
    die "fuzz target $target did not run (above)"
  fi
  grep -E "^Done [0-9]+ runs" "$out" || { tail -n 30 "$out" >&2; die "fuzz target $target reported no runs"; }
}

# Seeds: every fixture behind each selector byte the targets understand.
seed() {
  local dir=$1/corpus/$2 ext=$3 n=$4
  mkdir -p "$dir"
  local i=0
  for f in "$fixtures"/*/*."$ext"; do
    printf "\\x$(printf %02x $((i % n)))" | cat - "$f" >"$dir/seed-$i"
    i=$((i + 1))
  done
}
core_fuzz="$ROOT/core/fuzz"
seed "$core_fuzz" xml xml 256
seed "$core_fuzz" json json 256
mkdir -p "$core_fuzz/corpus/arn"
printf 'arn:aws:iam::123456789012:role/path/Trustline' >"$core_fuzz/corpus/arn/role"
printf 'arn:aws-cn:s3:::bucket/key' >"$core_fuzz/corpus/arn/s3"
printf '123456789012' >"$core_fuzz/corpus/arn/account"
for target in xml json arn; do
  fuzz_run "$core_fuzz" "$target"
done
prune "$core_fuzz/target"

worker_fuzz="$ROOT/worker/fuzz"
mkdir -p "$worker_fuzz/corpus/config" "$worker_fuzz/corpus/api_bodies" "$worker_fuzz/corpus/secrets"
cp "$ROOT/trustline.example.toml" "$worker_fuzz/corpus/config/example.toml"
printf '\x00{"role_arn":"arn:aws:iam::123456789012:role/R","data_sets":["iam"],"regions":["eu-west-1"]}' \
  >"$worker_fuzz/corpus/api_bodies/role"
printf '\x02{"id":"acme-corp","name":"Acme","max_connections":10}' >"$worker_fuzz/corpus/api_bodies/tenant"
printf '\x04{"kind":"sts","role_arn":"arn:aws:iam::123456789012:role/R","access_key_id":"AKIAEXAMPLE","secret_access_key":"s","data_sets":["iam"]}' \
  >"$worker_fuzz/corpus/api_bodies/register"
printf 'env:CUSTOMER_SECRET' >"$worker_fuzz/corpus/secrets/env"
printf 'sealed:v2:0123abcd:AAAA' >"$worker_fuzz/corpus/secrets/sealed"
for target in config api_bodies secrets; do
  fuzz_run "$worker_fuzz" "$target" --sanitizer none --dev
done
prune "$worker_fuzz/target"
