"""Drives one organization-scale run: starts aws-sim, registers the Organization with trustline,
times `trustline sync`, checks the stored inventory against the simulator's, prints the figures.

With STORE=postgres (and PG_URL, a server without a database: run.sh starts one), the store is a
fresh PostgreSQL database; with REPLICAS=N > 1, N `trustline run` replicas share it and the time is
from their start to the last account's lease done for the slot.

With PEER=PYTHON (set by run.sh's PEER=1), also runs boto3_peer.py with that interpreter against the
same simulator after the sync, and compares wall times and per-kind counts.

Usage: driver.py TRUSTLINE_BIN AWS_SIM_BIN WORKDIR (sizes from the environment, see run.sh).
"""

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
import urllib.request

REGIONS = ["us-east-1", "eu-west-1", "us-west-2", "ap-southeast-2", "eu-central-1", "ap-northeast-1"]


def env_num(name, default, kind=int):
    value = os.environ.get(name)
    return kind(value) if value else default


def sim_config():
    accounts = env_num("ACCOUNTS", 1000)
    regions = env_num("REGIONS", 4)
    if not 1 <= regions <= len(REGIONS):
        sys.exit(f"REGIONS must be 1 to {len(REGIONS)}")
    return {
        "seed": 7,
        "accounts": accounts,
        "regions": REGIONS[:regions],
        # ~300 IAM entities per account (the trustline role(s) come on top).
        "users": 150,
        "roles": 100,
        "groups": 20,
        "local_policies": 25,
        "aws_managed_policies": 5,
        # ~120 instances and network objects per account-region.
        "instances": 40,
        "vpcs": 4,
        "subnets": 16,
        "security_groups": 20,
        "interfaces": 40,
        "events": env_num("EVENTS", 2000),
        # Inside the worker's first-run lookback (7 days).
        "event_window": "6d",
        "latency": env_num("LATENCY", 0.05, float),
        "workers": env_num("SIM_WORKERS", 1),
    }


def rusage_run(cmd, env, stdout):
    """Runs cmd; returns (exit code, wall seconds, user+sys CPU seconds, peak RSS in MB)."""
    start = time.monotonic()
    proc = subprocess.Popen(cmd, env=env, stdout=stdout, stderr=subprocess.PIPE, text=True)
    stderr_lines = []
    for line in proc.stderr:
        stderr_lines.append(line)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    return proc.returncode, wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, stderr_lines


def psql(url, sql):
    """One value (or rows, tab-separated) from PostgreSQL at url."""
    out = subprocess.run(["psql", url, "-Atq", "-F", "\t", "-c", sql], check=True, capture_output=True, text=True)
    return out.stdout.strip()


def server_cpu():
    """User + system CPU seconds of every PostgreSQL server process (Linux /proc)."""
    total = 0.0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/comm") as f:
                if f.read().strip() != "postgres":
                    continue
            # The postmaster's reaped children (backends that have exited) count too.
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += sum(int(x) for x in fields[11:15]) / os.sysconf("SC_CLK_TCK")
        except OSError:
            continue
    return total


def pg_written(url):
    """Bytes PostgreSQL has written so far: its WAL, and the data pages it flushed."""
    wal = int(psql(url, "SELECT wal_bytes FROM pg_stat_wal"))
    pages = int(psql(url, "SELECT buffers_checkpoint + buffers_clean + buffers_backend FROM pg_stat_bgwriter"))
    return wal + pages * int(psql(url, "SELECT current_setting('block_size')"))


def run_replicas(trustline, n, common, env, regions, store_url, work):
    """Starts n `run` replicas; returns when every account's lease is done for the slot:
    (wall seconds, CPU seconds of all, peak RSS of the largest, blocks written, stderr lines)."""
    procs = []
    start = time.monotonic()
    for i in range(n):
        procs.append(subprocess.Popen(
            [trustline, "run", "--schedule", "1h", "--lease-ttl", "10s", "--set", f"sync.regions={regions}"] + common,
            env=env, stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, f"replica-{i}.log"), "w")))
    while True:
        time.sleep(0.25)
        done, total = psql(store_url, "SELECT COUNT(done_slot), COUNT(*) FROM leases").split("\t")
        members = int(psql(store_url, "SELECT COUNT(*) FROM connections"))
        if int(total) == members > 1 and int(done) == int(total):
            break
        if any(p.poll() is not None for p in procs):
            sys.exit("a replica exited before the slot was done: see " + work)
    wall = time.monotonic() - start
    cpu = rss = blocks = 0.0
    for p in procs:
        p.terminate()
    for p in procs:
        _, status, usage = os.wait4(p.pid, 0)
        cpu += usage.ru_utime + usage.ru_stime
        rss = max(rss, usage.ru_maxrss / 1024)
        blocks += usage.ru_oublock
    return wall, cpu, rss, blocks


def main():
    trustline, aws_sim, work = sys.argv[1:4]
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    config = sim_config()
    with open(os.path.join(work, "sim.json"), "w") as f:
        json.dump(config, f, indent=1)

    sim = subprocess.Popen(
        [aws_sim, "--config", os.path.join(work, "sim.json")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=open(os.path.join(work, "sim.log"), "w"),
        text=True,
    )
    started = json.loads(sim.stdout.readline())
    endpoint = started["endpoint"]
    engine = os.environ.get("STORE", "sqlite")
    replicas = env_num("REPLICAS", 1)
    if engine == "postgres":
        base = os.environ["PG_URL"]
        name = f"orgscale_{config['accounts']}_{replicas}"
        psql(f"{base}/postgres", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        psql(f"{base}/postgres", f"CREATE DATABASE {name}")
        store = f"{base}/{name}"
    else:
        store = os.path.join(work, "trustline.db")
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        # The vendor's own key, as the SDK chain finds it; nothing from this machine.
        "AWS_ACCESS_KEY_ID": started["vendor_access_key_id"],
        "AWS_SECRET_ACCESS_KEY": started["vendor_secret_access_key"],
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        "AWS_EC2_METADATA_DISABLED": "true",
        "RUST_LOG": "warn",
    }
    # Allocator settings pass through, for experiments (MALLOC_ARENA_MAX=2 …, or jemalloc's
    # _RJEM_MALLOC_CONF).
    env.update({k: v for k, v in os.environ.items() if k.startswith(("MALLOC_", "_RJEM_"))})
    common = ["--store", store, "--endpoint-url", endpoint]
    add = [
        trustline, "accounts", "add", "--id", "org", "--role-arn", started["org_role_arn"],
        "--external-id", started["external_id"], "--organization",
    ] + common
    subprocess.run(add, env=env, check=True, stdout=subprocess.DEVNULL)
    regions = json.dumps(started["regions"])

    sim_cpu_before = cpu_seconds(sim.pid)
    server_before = server_cpu() if engine == "postgres" else 0.0
    written_before = pg_written(store) if engine == "postgres" else 0
    if replicas > 1:
        wall, cpu, rss, blocks = run_replicas(trustline, replicas, common, env, regions, store, work)
        code, stderr_lines = 0, []
        rows = psql(store, "SELECT a.connection_id, a.status FROM account_runs a").splitlines()
        summary = {"ok": [r.split("\t")[0] for r in rows if r.endswith("\tok")],
                   "failed": [r for r in rows if r.endswith("\tfailed")],
                   "partial": [r for r in rows if r.endswith("\tpartial")]}
        json.dump(summary, open(os.path.join(work, "summary.json"), "w"))
    else:
        with open(os.path.join(work, "summary.json"), "w") as out:
            start = time.monotonic()
            proc = subprocess.Popen([trustline, "sync", "--json", "--set", f"sync.regions={regions}"] + common,
                                    env=env, stdout=out, stderr=subprocess.PIPE, text=True)
            stderr_lines = list(proc.stderr)
            _, status, usage = os.wait4(proc.pid, 0)
            wall = time.monotonic() - start
            code = os.waitstatus_to_exitcode(status)
            cpu, rss, blocks = usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, usage.ru_oublock
    sim_cpu = cpu_seconds(sim.pid) - sim_cpu_before
    server = server_cpu() - server_before if engine == "postgres" else 0.0
    # Bytes written to disk for the store: the worker's own writes (SQLite's file and log), or
    # PostgreSQL's (its WAL and the data pages it flushed; its checkpoints may write more later).
    written = pg_written(store) - written_before if engine == "postgres" else blocks * 512
    peer_python = os.environ.get("PEER")
    if peer_python:
        # The sync's own counters; the peer's are the difference after it.
        stats = sim_stats(endpoint)
        peer = run_peer(peer_python, started, env, work, sim.pid, endpoint, stats)
    sim.stdin.close()
    final_stats = json.loads(sim.stdout.readline())["stats"]
    if not peer_python:
        stats = final_stats
    sim.wait(timeout=30)
    with open(os.path.join(work, "sync.log"), "w") as f:
        f.writelines(stderr_lines)
    if code != 0:
        sys.stderr.writelines(stderr_lines[-20:])
        sys.exit(f"trustline sync exited with {code}")
    summary = json.load(open(os.path.join(work, "summary.json")))

    if engine == "postgres":
        resources = int(psql(store, "SELECT COUNT(*) FROM resources"))
        events = int(psql(store, "SELECT COUNT(*) FROM events"))
        per_kind = {k: int(n) for k, n in (r.split("\t") for r in psql(store, "SELECT kind, COUNT(*) FROM resources GROUP BY kind").splitlines())}
        duplicates = int(psql(store, "SELECT COUNT(*) FROM (SELECT event_id FROM events GROUP BY connection_id, region, event_id HAVING COUNT(*) > 1) d"))
    else:
        db = sqlite3.connect(store)
        resources = db.execute("SELECT COUNT(*) FROM resources").fetchone()[0]
        events = db.execute("SELECT COUNT(*) FROM events").fetchone()[0]
        per_kind = dict(db.execute("SELECT kind, COUNT(*) FROM resources GROUP BY kind"))
        duplicates = 0
        db.close()

    # A typical query on the stored events: one account's last 7 days (all of its events here).
    member_sql = "SELECT id FROM connections WHERE parent_id IS NOT NULL ORDER BY id LIMIT 1"
    if engine == "postgres":
        member = psql(store, member_sql)
    else:
        db = sqlite3.connect(store)
        member = db.execute(member_sql).fetchone()[0]
        db.close()
    query_start = time.monotonic()
    listed = subprocess.run([trustline, "events", "--connection", member, "--since", "7d"] + common,
                            env=env, check=True, capture_output=True, text=True).stdout.count("\n")
    query_seconds = time.monotonic() - query_start

    accounts = config["accounts"]
    expected_events = (accounts + 1) * len(started["regions"]) * config["events"]
    problems = []
    if summary["failed"] or summary["partial"]:
        problems.append(f"failed {summary['failed'][:3]} partial {summary['partial'][:3]}")
    if len(summary["ok"]) != accounts + 2:  # members, the management account as a member, the org
        problems.append(f"{len(summary['ok'])} accounts ok, expected {accounts + 2}")
    if duplicates:
        problems.append(f"{duplicates} events stored more than once")
    if events != expected_events:
        problems.append(f"{events} events stored, expected {expected_events}")
    if expected := started.get("expected_resources"):
        if resources != expected:
            problems.append(f"{resources} resources stored, expected {expected}")
    ingested = resources + events
    bound = started["throttle_bound_seconds"]
    requests = stats["requests"]
    throttled = sum(stats["throttled_by_bucket"].values())

    def row(name, value, target=None):
        verdict = "" if target is None else ("  ok" if target[0] else f"  MISS (target {target[1]})")
        print(f"  {name:<38} {value}{verdict}")

    print()
    print(f"Organization: {accounts} member accounts + management, {len(started['regions'])} regions, "
          f"{config['events']} events and {config['instances'] + config['vpcs'] + config['subnets'] + config['security_groups'] + config['interfaces']} "
          f"EC2/network objects per account-region, {config['latency'] * 1000:.0f} ms per call")
    row("store", f"{engine}, {replicas} replica(s)" if engine == "postgres" else "sqlite")
    row("wall time", f"{wall:.1f} s")
    row("throttle-bound minimum (simulator)", f"{bound:.1f} s")
    row("ratio", f"{wall / bound:.2f}x", (wall / bound <= 1.3, "<= 1.3x"))
    row("requests", f"{requests:,} ({requests / wall:,.0f}/s)")
    row("throttled by AWS's buckets", f"{throttled:,} ({100 * throttled / max(requests, 1):.2f} %)",
        (throttled <= 0.01 * requests, "<= 1 %"))
    for api, n in sorted(stats["throttled_by_bucket"].items(), key=lambda kv: -kv[1]):
        row(f"  throttled {api}", f"{n:,}")
    row("worker CPU", f"{cpu:.1f} s ({cpu / wall:.2f} cores)")
    row("simulator CPU", f"{sim_cpu:.1f} s ({sim_cpu / wall:.2f} cores)")
    row("CPU-bound minimum on this machine", f"{(cpu + sim_cpu) / os.cpu_count():.1f} s "
        f"(both processes' CPU / {os.cpu_count()} cores)")
    if engine == "postgres":
        row("PostgreSQL server CPU", f"{server:.1f} s ({server / wall:.2f} cores)")
    row("worker peak RSS" + (" (largest replica)" if replicas > 1 else ""), f"{rss:.0f} MB", (rss <= 200, "<= 200 MB"))
    row("stored", f"{resources:,} resources + {events:,} events")
    row("ingested per second of wall time", f"{ingested / wall:,.0f}")
    row("ingested per worker CPU second", f"{ingested / cpu:,.0f} (network, signing, parse, store)",
        (ingested / cpu >= 50_000, ">= 50,000 on one core"))
    row("CPU per stored item", f"{1e6 * cpu / ingested:.1f} us worker"
        + (f" + {1e6 * server / ingested:.1f} us PostgreSQL" if engine == "postgres" else ""))
    row("`trustline events` for one account", f"{query_seconds * 1000:.0f} ms for {listed:,} events (the process included)")
    row("bytes written per stored item", f"{written / ingested:,.0f} ({written / 1e9:.2f} GB)")
    with open(os.path.join(work, "result.json"), "w") as f:
        json.dump({"store": engine, "replicas": replicas, "accounts": accounts, "wall": wall, "bound": bound,
                   "cpu": cpu, "server_cpu": server, "sim_cpu": sim_cpu, "rss": rss, "items": ingested,
                   "written": written, "requests": requests, "throttled": throttled,
                   "query_ms": query_seconds * 1000, "query_events": listed}, f)
    if peer_python:
        problems += report_peer(peer, accounts, wall, cpu, throttled, requests, dict(per_kind, events=events), work)
    print()
    if problems:
        for p in problems:
            print(f"INCOMPLETE: {p}")
        sys.exit(1)
    print(f"Inventory complete: {len(summary['ok'])} accounts ok, every event stored once.")


def sim_stats(endpoint):
    """The simulator's counters so far (its /_sim/stats route: neither counted nor throttled)."""
    with urllib.request.urlopen(f"{endpoint}/_sim/stats", timeout=10) as answer:
        return json.load(answer)


def run_peer(python, started, env, work, sim_pid, endpoint, before):
    """Runs boto3_peer.py against the running simulator; its figures, and the simulator's for it."""
    # Every bucket the sync emptied is full again after 5 s (EC2's 100 at 20/s is the slowest).
    time.sleep(6)
    with open(os.path.join(work, "started.json"), "w") as f:
        json.dump(started, f)
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "boto3_peer.py")
    sim_cpu_before = cpu_seconds(sim_pid)
    with open(os.path.join(work, "peer.json"), "w") as out:
        code, wall, cpu, rss, stderr_lines = rusage_run(
            [python, script, os.path.join(work, "started.json"), os.path.join(work, "boto3")], env, out)
    sim_cpu = cpu_seconds(sim_pid) - sim_cpu_before
    after = sim_stats(endpoint)
    with open(os.path.join(work, "peer.log"), "w") as f:
        f.writelines(stderr_lines)
    if code != 0:
        sys.stderr.writelines(stderr_lines[-20:])
        sys.exit(f"boto3_peer.py exited with {code}")
    result = json.load(open(os.path.join(work, "peer.json")))
    throttled = {api: n - before["throttled_by_bucket"].get(api, 0) for api, n in after["throttled_by_bucket"].items()}
    result.update(wall=wall, cpu=cpu, rss=rss, sim_cpu=sim_cpu, requests=after["requests"] - before["requests"],
                  throttled={api: n for api, n in throttled.items() if n})
    return result


def report_peer(peer, accounts, wall, cpu, throttled, requests, trustline_counts, work):
    """Prints trustline against the boto3 peer; returns the problems (counts that differ, failures)."""
    boto3_counts = peer["counts"]
    kinds = sorted(set(trustline_counts) | set(boto3_counts), key=lambda k: (k == "events", k))
    peer_throttled = sum(peer["throttled"].values())
    print()
    print(f"Peer: boto3 paginators, {peer['workers']} threads (one per account, at most 32) over {peer['accounts']} "
          f"accounts, standard retries; the same simulator")
    print(f"  {'':<38} {'trustline':>12} {'boto3':>12}")
    print(f"  {'wall time':<38} {wall:>10.1f} s {peer['wall']:>10.1f} s")
    print(f"  {'client CPU':<38} {cpu:>10.1f} s {peer['cpu']:>10.1f} s")
    print(f"  {'simulator CPU':<38} {'':>12} {peer['sim_cpu']:>10.1f} s")
    print(f"  {'requests':<38} {requests:>12,} {peer['requests']:>12,}")
    print(f"  {'throttled by the buckets':<38} {throttled:>12,} {peer_throttled:>12,}")
    for api, n in sorted(peer["throttled"].items(), key=lambda kv: -kv[1]):
        print(f"  {'  throttled ' + api:<38} {'':>12} {n:>12,}")
    problems = []
    for kind in kinds:
        t, b = trustline_counts.get(kind, 0), boto3_counts.get(kind, 0)
        print(f"  {kind:<38} {t:>12,} {b:>12,}{'' if t == b else '  DIFFER'}")
        if t != b:
            problems.append(f"{kind}: trustline read {t:,}, boto3 {b:,}")
    for account, error in peer["failed"][:5]:
        problems.append(f"boto3 failed account {account}: {error}")
    resources = sum(n for k, n in trustline_counts.items() if k != "events")
    line = (f"accounts={accounts}  trustline {wall:.1f} s  boto3 {peer['wall']:.1f} s  "
            f"ratio {peer['wall'] / wall:.2f}×  items {resources:,} + {trustline_counts.get('events', 0):,} events "
            f"({'agree' if not problems else 'DIFFER'})  throttled {throttled:,} / {peer_throttled:,}")
    print(line)
    with open(os.path.join(work, "peer.txt"), "w") as f:
        f.write(line + "\n")
    return problems


def cpu_seconds(pid):
    """User + system CPU seconds of a running process (Linux /proc)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


if __name__ == "__main__":
    main()
