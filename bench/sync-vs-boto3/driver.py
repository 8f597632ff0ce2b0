"""The sync benchmark: Trustline's `trustline sync` against a plain sequential boto3
paginator inventory, both reading the same seeded moto server with the same credentials.

Usage: driver.py TRUSTLINE_BIN WORK_DIR   (run.sh passes them)
Environment: SCALE (default 1 = the full account, see common.FULL), RUNS (default 3 per side), REGIONS (default
us-east-1,eu-west-1), RATE (Trustline's raised per-service rate, default 100000/s), FLOOR=0 to
skip measuring moto's own floor (floor.py) after the runs, PROFILE=1 to add one more Trustline
sync under strace and print its requests' timeline (timeline.py).

Each side runs as its own child process; its wall time is the child's from spawn to exit, its
peak RSS and CPU time the child's own (wait4), its calls what it counted itself. moto's CPU time
during each run is read from /proc. Exit status 1 only when the two sides' inventories differ.
"""

import hashlib
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from common import EC2_KINDS, IAM_KINDS, sizes

HERE = Path(__file__).resolve().parent
PYTHON = sys.executable
TICKS = os.sysconf("SC_CLK_TCK")
TARGET_RATIO = 2.0
TARGET_RSS_MB = 100.0


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Moto:
    """moto_server on a free loopback port, with the AWS-managed policies loaded."""

    def __init__(self):
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k != "MOTO_ACCOUNT_ID"}
        env.update(MOTO_IAM_LOAD_MANAGED_POLICIES="true", AWS_ACCESS_KEY_ID="testing",
                   AWS_SECRET_ACCESS_KEY="testing")
        server = str(Path(PYTHON).parent / "moto_server")
        for _ in range(5):
            self.port = free_port()
            self.proc = subprocess.Popen([server, "-H", "127.0.0.1", "-p", str(self.port)], env=env,
                                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                         stderr=subprocess.DEVNULL)
            if self._ready(60):
                return
            self.stop()
        sys.exit("moto_server did not start on a free loopback port after 5 attempts")

    @property
    def endpoint(self):
        return f"http://127.0.0.1:{self.port}"

    def _ready(self, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                urllib.request.urlopen(self.endpoint + "/moto-api/", timeout=2).read()
                return True
            except OSError:
                time.sleep(0.1)
        return False

    def cpu_seconds(self):
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


def run_child(cmd, env, out_dir, name, moto):
    """Runs cmd to completion; returns its wall time, peak RSS (MB), own CPU time and moto's CPU
    time during it (s), and its stdout."""
    out, err = out_dir / f"{name}.out", out_dir / f"{name}.err"
    with open(out, "wb") as stdout, open(err, "wb") as stderr:
        cpu0 = moto.cpu_seconds()
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        moto_cpu = moto.cpu_seconds() - cpu0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        sys.exit(f"{name} failed ({proc.returncode}):\n{err.read_text()[-4000:]}")
    return {"wall": wall, "rss": usage.ru_maxrss / 1024, "cpu": usage.ru_utime + usage.ru_stime,
            "moto_cpu": moto_cpu, "load": os.getloadavg()[0]}, out.read_text()


def digest_counts(pairs):
    """The same summary boto3_inventory.py prints: per "kind region", the count and a digest."""
    ids = {}
    for key, id_ in pairs:
        ids.setdefault(key, []).append(id_)
    return {k: {"count": len(v), "digest": hashlib.sha256("\n".join(sorted(v)).encode()).hexdigest()[:16]}
            for k, v in sorted(ids.items())}


class Trustline:
    def __init__(self, binary, work, moto, regions, rate):
        self.binary, self.work, self.moto, self.regions, self.rate = binary, work, moto, regions, rate
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "TRUSTLINE_"))}
        # The vendor's own credentials as the SDK chain would find them (unused by an access-key
        # connection), and the customer's secret the connection names; nothing from this machine.
        self.env.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
                        AWS_CONFIG_FILE="/dev/null", AWS_SHARED_CREDENTIALS_FILE="/dev/null",
                        AWS_EC2_METADATA_DISABLED="true", BENCH_CUSTOMER_SECRET="testing")

    def _prepare(self, run_dir):
        """A fresh store with one access-key connection: every run does a first, full sync."""
        shutil.rmtree(run_dir, ignore_errors=True)
        run_dir.mkdir(parents=True)
        limits = "".join(f"\n[limits.{s}]\nper_second = {self.rate}\nburst = {self.rate}\n"
                         for s in ("sts", "iam", "ec2"))
        config = run_dir / "trustline.toml"
        config.write_text(f'[store]\npath = "{run_dir / "trustline.db"}"\n\n[aws]\nregion = "us-east-1"\n'
                          f'endpoint_url = "{self.moto.endpoint}"\n{limits}')
        self._cli(config, ["accounts", "add", "--id", "bench", "--kind", "access-key",
                           "--access-key-id", "testing", "--secret", "env:BENCH_CUSTOMER_SECRET",
                           "--data-set", "iam,ec2-network", "--region", ",".join(self.regions)])
        return config

    def _cli(self, config, args):
        out = subprocess.run([self.binary, "--config", str(config), *args], env=self.env,
                             capture_output=True, text=True)
        if out.returncode != 0:
            sys.exit(f"trustline {' '.join(args)} failed:\n{out.stderr}")
        return out.stdout

    def run(self, k):
        run_dir = self.work / f"trustline-{k}"
        config = self._prepare(run_dir)
        measured, out = run_child(
            [self.binary, "--config", str(config), "--log-format", "json", "sync", "--json"],
            self.env, run_dir, "sync", self.moto)
        summary = json.loads(out)
        if summary["ok"] != ["bench"]:
            sys.exit(f"trustline sync did not complete the account: {summary}")
        pairs = []
        for line in self._cli(config, ["export"]).splitlines():
            r = json.loads(line)
            pairs.append((f"{r['kind']} {r['region']}", r["id"]))
        return {**measured, "inner": summary["duration_ms"] / 1000, "calls": summary["calls"],
                "kinds": digest_counts(pairs)}


    def profile(self):
        """One more sync under strace (not counted above): the requests' timeline."""
        run_dir = self.work / "trustline-profile"
        config = self._prepare(run_dir)
        log = run_dir / "strace.txt"
        measured, _ = run_child(
            ["strace", "-f", "-ttt", "-e", "trace=writev,recvfrom", "-s", "2000", "-o", str(log),
             self.binary, "--config", str(config), "sync", "--json"], self.env, run_dir, "sync", self.moto)
        out = subprocess.run([PYTHON, str(HERE / "timeline.py"), str(log)], capture_output=True, text=True)
        return measured, out.stdout or out.stderr


def run_boto3(work, moto, regions, k):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_CONFIG_FILE="/dev/null", AWS_SHARED_CREDENTIALS_FILE="/dev/null",
               AWS_EC2_METADATA_DISABLED="true")
    run_dir = work / f"boto3-{k}"
    run_dir.mkdir(parents=True, exist_ok=True)
    measured, out = run_child(
        [PYTHON, str(HERE / "boto3_inventory.py"), moto.endpoint, ",".join(regions)], env, run_dir, "boto3", moto)
    result = json.loads(out)
    return {**measured, "inner": result["seconds"], "calls": result["calls"], "kinds": result["kinds"],
            "by_operation": result["calls_by_operation"], "seconds_by_operation": result["seconds_by_operation"]}


def fmt_runs(values, unit=""):
    return " / ".join(f"{v:.2f}{unit}" for v in values)


def main():
    binary, work = sys.argv[1], Path(sys.argv[2])
    scale = float(os.environ.get("SCALE", "1"))
    runs = int(os.environ.get("RUNS", "3"))
    regions = os.environ.get("REGIONS", "us-east-1,eu-west-1").split(",")
    rate = int(os.environ.get("RATE", "100000"))
    floor_wanted = os.environ.get("FLOOR", "1") != "0"
    profile_wanted = os.environ.get("PROFILE", "0") == "1" and shutil.which("strace")
    n = sizes(scale, len(regions))
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)

    moto = Moto()
    floor = profile = None
    try:
        progress(f"moto_server on {moto.endpoint} (MOTO_IAM_LOAD_MANAGED_POLICIES=true)")
        seeded = subprocess.run([PYTHON, str(HERE / "seed.py"), moto.endpoint, str(scale), ",".join(regions)],
                                capture_output=True, text=True)
        if seeded.returncode != 0:
            sys.exit(f"seeding failed:\n{seeded.stderr[-4000:]}")
        seed = json.loads(seeded.stdout)
        progress(f"seeded in {seed['seconds']:.1f} s ({seed['calls']} calls, 8 threads; not measured)")

        trustline = Trustline(binary, work, moto, regions, rate)
        results = {"trustline": [], "boto3": []}
        for k in range(runs):
            order = ["boto3", "trustline"] if k % 2 == 0 else ["trustline", "boto3"]
            for side in order:
                r = trustline.run(k) if side == "trustline" else run_boto3(work, moto, regions, k)
                results[side].append(r)
                progress(f"run {k + 1}/{runs} {side:9}: {r['wall']:6.2f} s wall, {r['calls']} calls, "
                         f"{r['rss']:.1f} MB peak RSS, own CPU {r['cpu']:.2f} s, moto CPU {r['moto_cpu']:.2f} s")
        if profile_wanted:
            progress("one more trustline sync under strace, for its timeline")
            profile = trustline.profile()
        if floor_wanted:
            progress("server floor: the same requests over raw HTTP")
            out = subprocess.run([PYTHON, str(HERE / "floor.py"), moto.endpoint, ",".join(regions)],
                                 capture_output=True, text=True)
            if out.returncode != 0:
                sys.exit(f"floor.py failed:\n{out.stderr[-4000:]}")
            floor = json.loads(out.stdout)
    finally:
        moto.stop()

    report(n, seed, regions, rate, runs, results, floor)
    if profile:
        measured, timeline = profile
        print(f"\n  trustline sync under strace (not counted above): {measured['wall']:.2f} s wall, "
              f"moto CPU {measured['moto_cpu']:.2f} s")
        print(timeline.rstrip())
    sys.exit(verify(n, regions, results))


def progress(message):
    print(message, file=sys.stderr, flush=True)


def report(n, seed, regions, rate, runs, results, floor):
    t, b = results["trustline"], results["boto3"]
    med = lambda rs, key: statistics.median(r[key] for r in rs)  # noqa: E731
    peak = lambda rs: max(r["rss"] for r in rs)  # noqa: E731
    print("Sync benchmark: `trustline sync` vs a sequential boto3 paginator inventory")
    print(f"  seed: {n['users']} users (1 key each), {n['roles']} roles, {n['groups']} groups, "
          f"{n['policies']} local policies, {n['instances']} instances in {','.join(regions)} (5 per launch); "
          f"seeded in {seed['seconds']:.1f} s, not measured")
    print("  same moto server, same account (123456789012), same access key; data sets iam + ec2-network "
          "(moto has no CloudTrail LookupEvents)")
    print(f"  both sides unthrottled: Trustline's [limits.sts/iam/ec2] raised to {rate}/s (its defaults pace "
          "IAM at 10/s as AWS does, so 2,000 ListAccessKeys alone would take >= 200 s on any client); "
          "boto3 never waits")
    print(f"  {runs} runs per side, alternating which goes first; wall = child process spawn to exit; "
          "Trustline writes a fresh SQLite store each run")
    loads = [r["load"] for r in t + b]
    print(f"  machine: {os.cpu_count()} CPUs; 1-minute load average at the end of each run "
          f"{min(loads):.1f} to {max(loads):.1f} (moto, the client and anything else share them)")
    print()
    rows = [
        ("wall time, median (s)", f"{med(t, 'wall'):.2f}", f"{med(b, 'wall'):.2f}"),
        ("wall time, each run (s)", fmt_runs([r["wall"] for r in t]), fmt_runs([r["wall"] for r in b])),
        ("in-process time, median (s)", f"{med(t, 'inner'):.2f}", f"{med(b, 'inner'):.2f}"),
        ("calls", " / ".join(str(r["calls"]) for r in t), " / ".join(str(r["calls"]) for r in b)),
        ("peak RSS, max of runs (MB)", f"{peak(t):.1f}", f"{peak(b):.1f}"),
        ("client CPU user+sys, median (s)", f"{med(t, 'cpu'):.2f}", f"{med(b, 'cpu'):.2f}"),
        ("moto CPU during run, median (s)", f"{med(t, 'moto_cpu'):.2f}", f"{med(b, 'moto_cpu'):.2f}"),
        ("moto busy (moto CPU / wall), median", f"{statistics.median(r['moto_cpu'] / r['wall'] for r in t):.0%}",
         f"{statistics.median(r['moto_cpu'] / r['wall'] for r in b):.0%}"),
        ("resources", str(sum(v["count"] for v in t[0]["kinds"].values())),
         str(sum(v["count"] for v in b[0]["kinds"].values()))),
    ]
    w0 = max(len(r[0]) for r in rows)
    w1 = max(len(r[1]) for r in rows + [("", "trustline", "")])
    print(f"  {'':{w0}}  {'trustline':>{w1}}  boto3")
    for label, tv, bv in rows:
        print(f"  {label:{w0}}  {tv:>{w1}}  {bv}")
    print()
    print("  resources per kind (both sides):")
    for key, v in t[0]["kinds"].items():
        print(f"    {key:40} {v['count']:6}")
    print()
    by_op = b[0]["by_operation"]
    boto_s = {op.split(".", 1)[1]: sec for op, sec in b[0]["seconds_by_operation"].items()}
    header = "  where the time goes, per operation: calls; boto3's time in the calls (run 1)"
    print(header + ("; moto's floor (raw HTTP, one call at a time)" if floor else ""))
    for op, count in sorted(by_op.items(), key=lambda kv: -boto_s.get(kv[0].split(".", 1)[1], 0)):
        name = op.split(".", 1)[1]
        line = f"    {op:36} {count:5}  boto3 {boto_s.get(name, 0):7.2f} s"
        if floor:
            line += f"  floor {floor['seconds'].get(name, 0):7.2f} s"
        print(line)
    if floor:
        par = floor["list_access_keys_parallel"]
        print(f"    {'total':36} {sum(by_op.values()):5}  boto3 {sum(boto_s.values()):7.2f} s  "
              f"floor {floor['total']:7.2f} s")
        print(f"    ListAccessKeys over {par['threads']} connections at once: {par['seconds']:.2f} s "
              f"(one at a time: {floor['seconds']['ListAccessKeys']:.2f} s); GetAccountAuthorizationDetails "
              f"answer: {floor['gaad_bytes'] / 1e6:.1f} MB")
    ratio = med(b, "wall") / med(t, "wall")
    ceiling = med(b, "wall") / med(t, "moto_cpu")
    print()
    print(f"  about the most any client can show on this server: boto3's wall / moto's CPU time during "
          f"Trustline's runs = {ceiling:.2f}x (moto runs its Python under one GIL, so the CPU time it needs "
          "for these requests is close to the least wall time any client can reach)")
    print(f"  ratio boto3 / trustline (median wall): {ratio:.2f}x   target >= {TARGET_RATIO:.0f}x: "
          f"{'PASS' if ratio >= TARGET_RATIO else 'MISS'}")
    print(f"  trustline peak RSS: {peak(t):.1f} MB   target <= {TARGET_RSS_MB:.0f} MB: "
          f"{'PASS' if peak(t) <= TARGET_RSS_MB else 'MISS'}")


def verify(n, regions, results):
    """1 when any run's inventory differs from the other side's or from the seed."""
    reference = results["boto3"][0]["kinds"]
    expected = {"iam-user global": n["users"], "iam-access-key global": n["users"],
                "iam-role global": n["roles"], "iam-group global": n["groups"],
                "iam-policy global": n["policies"]}
    for region in regions:
        expected[f"ec2-instance {region}"] = n["instances"] // len(regions)
    problems = []
    for side, rs in results.items():
        for k, r in enumerate(rs):
            if r["kinds"] != reference:
                keys = sorted(set(r["kinds"]) | set(reference))
                diff = [f"{key}: {r['kinds'].get(key)} vs boto3 {reference.get(key)}" for key in keys
                        if r["kinds"].get(key) != reference.get(key)]
                problems.append(f"{side} run {k + 1} differs from boto3 run 1: " + "; ".join(diff))
    for key, count in expected.items():
        got = reference.get(key, {}).get("count", 0)
        if got != count:
            problems.append(f"{key}: seeded {count}, listed {got}")
    for key in reference:
        if key.split()[0] not in IAM_KINDS + EC2_KINDS:
            problems.append(f"unknown kind {key}")
    if problems:
        print("\nMISMATCH: the two inventories are not the same:\n  " + "\n  ".join(problems))
        return 1
    print("  inventories identical on both sides in every run (count and ID digest per kind and region)")
    return 0


if __name__ == "__main__":
    main()
