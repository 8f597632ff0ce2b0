"""Where a `trustline sync` spends its time, from the requests themselves: reads an
`strace -f -ttt -e trace=writev,recvfrom -s 2000` log of the worker and prints, per operation,
when it started and ended, how long its calls took, and how much of the run had at least one
request outstanding (if that is ~100%, the server never waited for Trustline).

moto closes every connection after one answer, so each request has a socket of its own: a
request runs from its writev to the last recvfrom on that socket before the socket's next writev.

Usage: timeline.py STRACE_LOG
"""

import collections
import re
import sys

LINE = re.compile(r"\d+\s+(\d+\.\d+) (writev|recvfrom)\((\d+),(.*)")


def requests(path):
    """[(action, start, end)] in order of sending."""
    pending, done = {}, []
    for line in open(path, errors="replace"):
        m = LINE.match(line)
        if not m:
            continue
        t, call, fd, rest = float(m.group(1)), m.group(2), m.group(3), m.group(4)
        if call == "writev":
            if fd in pending:
                done.append(pending.pop(fd))
            action = re.search(r"Action=(\w+)", rest)
            pending[fd] = [action.group(1) if action else "?", t, t]
        elif fd in pending:
            pending[fd][2] = t
    return sorted(done + list(pending.values()), key=lambda r: r[1])


def main():
    reqs = requests(sys.argv[1])
    if not reqs:
        sys.exit("no requests found: trace with -e trace=writev,recvfrom -s 2000")
    start, end = reqs[0][1], max(r[2] for r in reqs)
    by_action = collections.defaultdict(list)
    for action, s, e in reqs:
        by_action[action].append((s, e))
    print(f"  {'operation':32} {'calls':>5} {'from':>7} {'to':>7} {'mean call':>10} {'max call':>9}")
    for action, spans in by_action.items():
        lat = [e - s for s, e in spans]
        print(f"  {action:32} {len(spans):5} {min(s for s, _ in spans) - start:6.2f}s "
              f"{max(e for _, e in spans) - start:6.2f}s {sum(lat) / len(lat) * 1000:8.1f}ms "
              f"{max(lat) * 1000:7.1f}ms")
    # Time spent with 0, 1, 2… requests outstanding.
    edges = sorted([(s, 1) for _, s, _ in reqs] + [(e, -1) for _, _, e in reqs])
    in_flight, level, prev = collections.Counter(), 0, start
    for t, step in edges:
        in_flight[level] += t - prev
        level, prev = level + step, t
    total = end - start
    print(f"  first request to last answer {total:.2f} s; at least one request outstanding "
          f"{(total - in_flight[0]) / total:.1%} of it")
    print("  share of that time with N requests outstanding: "
          + ", ".join(f"{n}: {v / total:.0%}" for n, v in sorted(in_flight.items()) if v / total >= 0.005))


if __name__ == "__main__":
    main()
