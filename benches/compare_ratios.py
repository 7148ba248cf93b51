#!/usr/bin/env python3
"""Ratios of beamlet to its peers from one results file of ../shared/peers/run.sh
(as written by benches/compare.sh): per benchmark the median over the reps at the
largest N that worked for each implementation, then beamlet's cost relative to Go
and to tokio (a ratio above 1 means beamlet costs more: slower, or more memory).

    python3 benches/compare_ratios.py RESULTS_FILE
"""
import statistics
import sys
from collections import defaultdict

# (case, key, label, scale, lower_is_better)
ROWS = [
    ("spawn_idle", "spawn_us_per_proc", "spawn + park, µs/process", 1, True),
    ("spawn_idle", "bytes_per_proc", "idle process, RSS bytes", 1, True),
    ("ring", "ns_per_hop", "ring, ns/hop", 1, True),
    ("skynet", "secs", "skynet, ms", 1e3, True),
    ("skynet", "hwm_kib", "skynet, peak RSS MiB", 1 / 1024, True),
    ("pingpong", "ns_per_rt", "pingpong, ns/round trip", 1, True),
    ("fanin", "msgs_per_sec", "fan-in, M msgs/s", 1e-6, False),
    ("genserver_call", "calls_per_sec", "genserver_call, k calls/s", 1e-3, False),
    ("fairness", "p99_us", "ticker among hogs, p99 late µs", 1, True),
    ("timers", "secs", "timers, total ms", 1e3, True),
    ("tcp_echo", "rt_per_sec", "tcp_echo, k round trips/s", 1e-3, False),
    ("tcp_idle", "idle_conn_rss_bytes", "tcp_idle, RSS bytes/connection", 1, True),
]


def parse(path):
    for raw in open(path):
        if raw.startswith("bench="):
            yield dict(kv.split("=", 1) for kv in raw.split() if "=" in kv)


def medians(path):
    """{(case, impl): {key: median}} over the successful runs at the largest N."""
    runs = defaultdict(list)
    for r in parse(path):
        if r.get("status") == "fail" or "case" not in r:
            continue
        runs[(r["case"], r["impl"])].append(r)
    out = {}
    for k, rs in runs.items():
        n = max(float(r["n"]) for r in rs)
        at_n = [r for r in rs if float(r["n"]) == n]
        vals = defaultdict(list)
        for r in at_n:
            for key, v in r.items():
                try:
                    f = float(v)
                except ValueError:
                    continue
                vals[key].append(f)
        med = {key: statistics.median(v) for key, v in vals.items()}
        # The peers report spawn time as a whole; per process as beamlet does.
        if k[0] == "spawn_idle" and "spawn_us_per_proc" not in med and "spawn_secs" in med:
            med["spawn_us_per_proc"] = med["spawn_secs"] / med["n"] * 1e6
        out[k] = med
    return out


def fmt(x):
    if x is None:
        return "-"
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:.3g}"


def ratio(b, p, lower):
    if b is None or p is None or b == 0 or p == 0:
        return "-"
    r = b / p if lower else p / b
    return f"{r:.2f}×"


def main():
    m = medians(sys.argv[1])
    peers = ["beamlet", "go", "tokio", "erlang", "may"]
    present = [p for p in peers if any(impl == p for (_, impl) in m)]
    head = ["benchmark"] + present + ["beamlet vs go", "beamlet vs tokio"]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for case, key, label, scale, lower in ROWS:
        vals = {p: m.get((case, p), {}).get(key) for p in present}
        if all(v is None for v in vals.values()):
            continue
        cells = [fmt(None if v is None else v * scale) for v in vals.values()]
        b = vals.get("beamlet")
        cells += [ratio(b, vals.get("go"), lower), ratio(b, vals.get("tokio"), lower)]
        print("| " + " | ".join([label] + cells) + " |")
    print()
    print("vs: beamlet's cost over the peer's in the same run (time or memory, or the")
    print("inverse of a rate); below 1 beamlet is ahead.")


if __name__ == "__main__":
    main()
