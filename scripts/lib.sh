# Shared helpers for Trustline's scripts. Source it; don't run it.
# Everything installed lives outside the repository (TRUSTLINE_TOOLS), so a fresh clone stays
# clean and a second run on the same machine skips what is already there.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export TRUSTLINE_ROOT="$ROOT"
export TRUSTLINE_TOOLS="${TRUSTLINE_TOOLS:-$HOME/.cache/trustline}"
export TRUSTLINE_VENV="$TRUSTLINE_TOOLS/venv"
export TRUSTLINE_NODE="$TRUSTLINE_TOOLS/node"
export PATH="$HOME/.cargo/bin:$TRUSTLINE_NODE/node_modules/.bin:$PATH"
# Trunk must never try to download anything: this machine reaches only package registries.
export TRUNK_SKIP_VERSION_CHECK=true
mkdir -p "$TRUSTLINE_TOOLS"

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }
have() { command -v "$1" >/dev/null 2>&1; }
# prune PATH...: in CI (TRUSTLINE_CI_PRUNE=1, set by .ci/run) removes build outputs no later
# stage needs, so the whole run fits a small disk; elsewhere keeps them for the next build.
prune() {
  [[ ${TRUSTLINE_CI_PRUNE:-0} == 1 ]] || return 0
  log "pruning $# build outputs ($(du -sch "$@" 2>/dev/null | tail -n 1 | cut -f1)): ${1#"$ROOT"/}${2:+ …}"
  rm -rf "$@"
}

# disk_report: free space on the build's file system and the size of everything built so far.
disk_report() {
  local free built
  free=$(df -Pk "$ROOT" | awk 'NR == 2 { printf "%.1f GB", $4 / 1048576 }')
  built=$(du -sck "$ROOT/target" "$ROOT"/*/fuzz/target 2>/dev/null | awk 'END { printf "%.1f GB", $1 / 1048576 }')
  echo "disk free $free, built $built"
}

# apt_install PKG...: installs Debian packages that are missing (root, or sudo when available).
apt_install() {
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  ((${#missing[@]})) || return 0
  local sudo=""
  [[ $(id -u) -eq 0 ]] || sudo="sudo"
  log "apt-get install ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
}

# cargo_install_version CRATE VERSION BIN [extra cargo install args...]: idempotent.
cargo_install_version() {
  local crate=$1 version=$2 bin=$3
  shift 3
  if have "$bin" && "$bin" --version 2>/dev/null | grep -q -- "$version"; then return 0; fi
  log "cargo install $crate@$version"
  cargo install "$crate" --version "$version" "$@"
}

# wait_listening LOG WHAT [PID]: the URL in the `listening on URL` line a process (the worker,
# the AWS stand-in, the dashboard backend) writes to LOG once it is up; dies naming WHAT after
# 20 s, or as soon as process PID (when given) has exited.
wait_listening() {
  for _ in $(seq 200); do
    grep -q "^listening on" "$1" 2>/dev/null && break
    [[ -z ${3:-} ]] || kill -0 "$3" 2>/dev/null || break
    sleep 0.1
  done
  local found
  found=$(sed -n 's/^listening on //p' "$1" | head -n 1)
  [[ -n $found ]] || die "$2 did not start: $(tail -5 "$1")"
  echo "$found"
}

# restart_standin BIN SEED URL LOG WHAT: restarts the AWS stand-in (pid in $standin_pid) with SEED
# on URL's port, so that a worker already pointed at URL sees the new seed (a customer role whose
# trust policy needs an ExternalId the worker has only just issued); appends its pid to pids.
restart_standin() {
  local bin=$1 seed=$2 url=$3 log=$4 what=$5
  kill "$standin_pid" && wait "$standin_pid" 2>/dev/null || true
  "$bin" --seed "$seed" --port "${url##*:}" 2>"$log" &
  standin_pid=$!
  pids+=("$standin_pid")
  [[ $(wait_listening "$log" "$what") == "$url" ]] ||
    die "the AWS stand-in came back on another port than the worker uses ($url)"
}

# pg_start: starts a throwaway PostgreSQL cluster (Debian's `postgresql`, installed if missing)
# on a free loopback port, owned by the `postgres` user, with trust authentication for the
# `trustline` role on loopback only. Sets PG_URL (postgres://trustline@127.0.0.1:PORT, no
# database), PG_DIR and PG_BIN, and registers pg_stop to run when the calling script exits.
# Durability settings are the server's defaults unless PG_FAST=1 (tests: fsync off); PG_OPTS
# adds server settings (`-c name=value …`).
pg_start() {
  apt_install postgresql
  PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [[ -x $PG_BIN/initdb ]] || die "PostgreSQL's initdb was not found under /usr/lib/postgresql"
  PG_DIR=$(mktemp -d /tmp/trustline-pg.XXXXXX)
  local port
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  local run=()
  if [[ $(id -u) -eq 0 ]]; then
    chown postgres: "$PG_DIR"
    run=(runuser -u postgres --)
  fi
  "${run[@]}" "$PG_BIN/initdb" -D "$PG_DIR/data" -U trustline --auth=trust --locale=C.UTF-8 -E UTF8 >"$PG_DIR/initdb.log" 2>&1 ||
    die "initdb failed: $(tail -5 "$PG_DIR/initdb.log")"
  local opts="-c listen_addresses=127.0.0.1 -p $port -k $PG_DIR -c max_connections=300"
  [[ ${PG_FAST:-0} != 1 ]] || opts+=" -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
  opts+=" ${PG_OPTS:-}"
  "${run[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -o "$opts" -w -t 60 start >/dev/null ||
    die "PostgreSQL did not start: $(tail -5 "$PG_DIR/server.log")"
  PG_URL="postgres://trustline@127.0.0.1:$port"
  PG_RUN=("${run[@]}")
  trap pg_stop EXIT
  log "PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$port ($PG_DIR)"
}

# pg_stop: stops the cluster pg_start started and removes it.
pg_stop() {
  [[ -n ${PG_DIR:-} && -d $PG_DIR ]] || return 0
  "${PG_RUN[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$PG_DIR"
  PG_DIR=""
}
