#!/usr/bin/env python3
"""Summarize lockbench JSON lines (scripts/bench-locks.sh).

  lockbench_summary.py RESULTS.jsonl   table of medians, raftlock vs etcd, and the targets
  lockbench_summary.py --one < LINE    one short line for one run
"""
import json
import statistics
import sys

# (scenario, clients): (measure, direction, factor): raftlock must be >= factor x etcd ("ge")
# or <= factor x etcd ("le").
TARGETS = {
    ("uncontended", 64): ("cycles_per_s", "ge", 5.0),
    ("contended", 16): ("handoffs_per_s", "ge", 10.0),
    ("single", 1): ("cycle_p50_ms", "le", 0.4),
}


def flat(d):
    """The figures of one run, flattened."""
    out = {}
    for k in ("cycles_per_s", "handoffs_per_s", "errors"):
        if k in d:
            out[k] = d[k]
    for part in ("acquire_ms", "cycle_ms"):
        for q in ("p50", "p99"):
            v = d.get(part, {}).get(q)
            if v is not None:
                out[f"{part[:-3]}_{q}_ms"] = v
    me = d.get("mutual_exclusion")
    if me:
        out["violations"] = me.get("violations", 0) + me.get("fencing_token_regressions", 0)
    cpu = d.get("cpu", {})
    if "client_cpu_pct_of_one_core" in cpu:
        out["client_cpu_pct"] = cpu["client_cpu_pct_of_one_core"]
    if "server_cpu_pct_total" in cpu:
        out["server_cpu_pct"] = cpu["server_cpu_pct_total"]
    return out


def one(line):
    d = json.loads(line)
    if d.get("scenario") == "memory":
        rss = {p: v.get("after_kib") for p, v in d.get("rss", {}).items()}
        return (f"{d['target']:8} memory: {d['sessions']} sessions, {d['locks_held']} locks in "
                f"{d['create_s']} s ({d['requests_per_s']} req/s), errors {d['errors']}, "
                f"RSS KiB by pid {rss}")
    f = flat(d)
    rate = f.get("cycles_per_s", f.get("handoffs_per_s"))
    unit = "cycles/s" if "cycles_per_s" in f else "hand-offs/s"
    extra = f", violations {f['violations']}" if "violations" in f else ""
    sc = d["scenario"] + ("@" + d["via"] if d.get("via") else "")
    return (f"{d['target']:8} {sc:15} c={d['clients']:<3} {rate:>9} {unit}, acquire "
            f"p50/p99 {f.get('acquire_p50_ms')}/{f.get('acquire_p99_ms')} ms, cycle p50 "
            f"{f.get('cycle_p50_ms')} ms, errors {f.get('errors')}{extra}, client CPU "
            f"{f.get('client_cpu_pct')}% [{d.get('label', '')}]")


def med(vals):
    vals = [v for v in vals if v is not None]
    return round(statistics.median(vals), 3) if vals else None


def table(path):
    runs = {}
    extras = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            d = json.loads(line)
            if d.get("scenario") in ("memory", "memory_restart"):
                extras.append(d)
                continue
            sc = d["scenario"] + ("@" + d["via"] if d.get("via") else "")
            runs.setdefault((sc, d["clients"]), {}).setdefault(d["target"], []).append(flat(d))

    cols = ["cycles_per_s", "handoffs_per_s", "acquire_p50_ms", "acquire_p99_ms", "cycle_p50_ms",
            "cycle_p99_ms", "violations", "errors", "client_cpu_pct", "server_cpu_pct"]
    print("medians over runs (violations and errors: totals)")
    hdr = f"{'scenario':20} {'target':9} {'runs':>4} " + " ".join(f"{c:>15}" for c in cols)
    print(hdr)
    verdicts = []
    for (sc, clients), by_target in sorted(runs.items()):
        meds = {}
        for target in ("raftlock", "etcd"):
            rs = by_target.get(target)
            if not rs:
                continue
            m = {}
            for c in cols:
                vals = [r.get(c) for r in rs]
                m[c] = sum(v for v in vals if v is not None) if c in ("violations", "errors") \
                    and any(v is not None for v in vals) else med(vals)
            meds[target] = m
            cells = " ".join(f"{'-' if m[c] is None else m[c]:>15}" for c in cols)
            print(f"{sc + ' c=' + str(clients):20} {target:9} {len(rs):>4} {cells}")
        goal = TARGETS.get((sc.split("@")[0], clients))
        if goal and "raftlock" in meds and "etcd" in meds:
            measure, way, factor = goal
            a, b = meds["raftlock"][measure], meds["etcd"][measure]
            if a is None or not b:
                continue
            ratio = a / b
            ok = ratio >= factor if way == "ge" else ratio <= factor
            sign = ">=" if way == "ge" else "<="
            verdicts.append(f"{sc} c={clients}: raftlock/etcd {measure} = {a}/{b} = {ratio:.2f} "
                            f"(target {sign} {factor}) {'MET' if ok else 'NOT MET'}")
    if verdicts:
        print("\ntargets")
        for v in verdicts:
            print("  " + v)
    for d in extras:
        if d["scenario"] == "memory":
            rss = {p: v.get("after_kib") for p, v in d.get("rss", {}).items()}
            print(f"\nmemory: {d['sessions']} sessions holding {d['locks_held']} locks created in "
                  f"{d['create_s']} s ({d['requests_per_s']} req/s, {d['errors']} errors); "
                  f"RSS KiB by pid {rss}, total {d.get('rss_total_kib')}")
        else:
            print(f"restart of node {d['node']} (SIG{d['signal']}) with that state: /readyz 200 after "
                  f"{d['ready_ms']} ms from start ({d.get('ready_since_kill_ms')} ms from kill); "
                  f"RSS KiB before kill {d['rss_before_kill_kib']}, after: {d['rss_after_ready_kib']}")


def main():
    if len(sys.argv) == 2 and sys.argv[1] == "--one":
        for line in sys.stdin:
            if line.strip():
                print(one(line))
        return
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    table(sys.argv[1])


if __name__ == "__main__":
    main()
