#!/usr/bin/env python3
"""Cluster-level benchmarks for raftlockd (Python 3 standard library only).

Run through scripts/bench-cluster.sh, which builds the binaries and passes
their paths. Phases (each on a fresh 3-node loopback cluster, default flags
unless given after --):

  failover     kill -9 the leader R times; per round, the time from the kill
               to the first write (POST /v1/sessions) acknowledged through a
               surviving node, probing every survivor every --probe-interval-ms
               on fresh connections with short timeouts. The killed node is
               restarted and the next round waits until it has caught up and
               the cluster has been stable for --settle-ms.
  stability    --stability-seconds at full write load (http_load with
               --stability-clients keep-alive writers spread over all nodes),
               counting terms and leader changes (status polled every 100 ms,
               raftlock_raft_term before/after, role changes in the logs).
  replication  the disk's fsync rate (fsync_probe.py in the data dir), then
               for each --repl-runs item CLIENTS:TARGET (TARGET leader or all),
               with --repl-body (sessions of ttl 1 s: the state stays small):
               entries/s, commit latency, and raftlockd CPU per committed entry
               (utime+stime of the 3 pids from /proc over the run / entries the
               leader committed meanwhile).

Every process this script starts is stopped by its pid on exit.
"""
# The phases and the command line; the cluster under test and the readings
# (/proc, HTTP) are in bench_cluster_nodes.py.
import argparse
import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import threading
import time

from bench_cluster_nodes import (Cluster, cpu_pressure_us, http_post, log, machine_cpu, pct,
                                 proc_cpu_s)


# ----------------------------------------------------------------------------------------
# failover
# ----------------------------------------------------------------------------------------
async def post_once(port, path, body, timeout):
    async def go():
        r, w = await asyncio.open_connection("127.0.0.1", port)
        try:
            w.write((f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                     f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
                     "Connection: close\r\n\r\n").encode() + body)
            head = (await r.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
            status = int(head[0].split()[1])
            hdrs = {}
            for line in head[1:]:
                if ":" in line:
                    k, v = line.split(":", 1)
                    hdrs[k.strip().lower()] = v.strip()
            n = int(hdrs.get("content-length", "0"))
            if n:
                await r.readexactly(n)
            return status, hdrs
        finally:
            w.close()
    return await asyncio.wait_for(go(), timeout)


async def probe_until_ack(cluster, survivors, t_kill, args):
    """Probe every survivor every interval until one acknowledges a write."""
    body = args.body.encode()
    state = {"ok": None, "leader_seen": None, "attempts": 0, "outcomes": {}}
    done = asyncio.Event()
    old = str(args._old_leader)

    async def attempt(i):
        try:
            status, hdrs = await post_once(cluster.http[i], args.path, body, args.probe_timeout_ms / 1000)
            now = time.monotonic()
            kind = str(status)
            lead = hdrs.get("x-raft-leader", "")
            if lead and lead != old and state["leader_seen"] is None:
                state["leader_seen"] = (now, i, lead)
            if 200 <= status < 300 and state["ok"] is None:
                state["ok"] = (now, i, lead, hdrs.get("x-raft-term"))
                done.set()
        except asyncio.TimeoutError:
            kind = "timeout"
        except (OSError, asyncio.IncompleteReadError, ValueError, IndexError) as e:
            kind = type(e).__name__
        state["outcomes"][kind] = state["outcomes"].get(kind, 0) + 1

    tasks = set()
    deadline = t_kill + args.failover_max_s
    while not done.is_set() and time.monotonic() < deadline:
        for i in survivors:
            t = asyncio.ensure_future(attempt(i))
            tasks.add(t)
            t.add_done_callback(tasks.discard)
            state["attempts"] += 1
        try:
            await asyncio.wait_for(done.wait(), args.probe_interval_ms / 1000)
        except asyncio.TimeoutError:
            pass
    if tasks:  # still waiting for an answer when the first write was acknowledged
        state["outcomes"]["in_flight"] = len(tasks)
    for t in list(tasks):
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return state


def phase_failover(args, out):
    c = Cluster(args.raftlockd, args.dir, 3, args.daemon_args, "failover")
    rounds = []
    log(f"== failover: {args.rounds} rounds of kill -9 leader (http ports {list(c.http.values())})")
    try:
        c.start()
        for rnd in range(1, args.rounds + 1):
            leader, term, _ = c.wait_stable(args.settle_ms / 1000)
            survivors = [i for i in range(1, 4) if i != leader]
            for i in survivors:  # both survivors take writes before the kill
                r = http_post(c.http[i], args.path, args.body.encode())
                if r is None or not 200 <= r[0] < 300:
                    raise SystemExit(f"pre-check write through node {i} failed: {r}")
            offsets = c.log_offsets()
            args._old_leader = leader
            wall_kill = time.time()
            t_kill = time.monotonic()
            c.kill9(leader)
            st = asyncio.run(probe_until_ack(c, survivors, t_kill, args))
            if st["ok"] is None:
                raise SystemExit(f"round {rnd}: no write acknowledged within {args.failover_max_s} s")
            ms = (st["ok"][0] - t_kill) * 1000
            # timeline from the survivors' logs (wall clock, ms resolution)
            ev = {}
            for ts, node, t, msg in c.log_lines_since(offsets):
                if node == leader:
                    continue
                for key in ("pre-candidate", "candidate", "leader"):
                    if msg.startswith(f"role {key},") and key not in ev:
                        ev[key] = round((ts - wall_kill) * 1000)
            t_restart = time.monotonic()
            c.start_node(leader)
            new_leader, term_after, last = c.wait_stable(args.settle_ms / 1000)
            catchup_s = time.monotonic() - t_restart
            r = {"round": rnd, "killed": leader, "ack_ms": round(ms, 1), "ack_via": st["ok"][1],
                 "new_leader": st["ok"][2], "term_before": term, "term_ack": int(st["ok"][3] or 0),
                 "term_after_restart": term_after,
                 "leader_known_ms": round((st["leader_seen"][0] - t_kill) * 1000, 1) if st["leader_seen"] else None,
                 "log_ms": ev, "probe_attempts": st["attempts"], "probe_outcomes": st["outcomes"],
                 "restart_to_stable_s": round(catchup_s, 2), "log_index": last}
            rounds.append(r)
            log(f"  round {rnd:2d}: killed node {leader} (term {term}) -> write acked after {ms:7.1f} ms "
                f"via node {r['ack_via']}, new leader {r['new_leader']} term {r['term_ack']}; "
                f"survivor log: pre-candidate {ev.get('pre-candidate')} ms, candidate {ev.get('candidate')} ms, "
                f"leader {ev.get('leader')} ms; probes {st['outcomes']}; "
                f"restarted, stable again after {catchup_s:.2f} s (term {term_after})")
    finally:
        c.stop()
    acks = [r["ack_ms"] for r in rounds]
    summary = {"rounds": len(acks), "median_ms": round(statistics.median(acks), 1),
               "mean_ms": round(statistics.mean(acks), 1), "min_ms": min(acks), "max_ms": max(acks),
               "p90_ms": pct(acks, 90),
               "extra_term_bumps_on_restart": sum(1 for r in rounds if r["term_after_restart"] != r["term_ack"])}
    for key in ("pre-candidate", "candidate", "leader"):
        v = [r["log_ms"][key] for r in rounds if key in r["log_ms"]]
        if v:
            summary[f"median_log_{key}_ms"] = statistics.median(v)
    out["failover"] = {"summary": summary, "rounds": rounds}
    log(f"  failover: median {summary['median_ms']} ms, max {summary['max_ms']} ms, "
        f"mean {summary['mean_ms']} ms, min {summary['min_ms']} ms over {len(acks)} rounds "
        f"(target median <= 500, max <= 1000)")


# ----------------------------------------------------------------------------------------
# load runs
# ----------------------------------------------------------------------------------------
def run_load(args, endpoints, clients, duration, warmup, cluster, leader, body=None):
    """Runs http_load; returns its JSON plus CPU and commit-index deltas over the run."""
    pids = cluster.pids()
    cpu0 = {p: proc_cpu_s(p) for p in pids}
    m0 = machine_cpu()
    psi0 = cpu_pressure_us()
    commit0 = cluster.status(leader, 5.0)["commit_index"]
    t0 = time.monotonic()
    cmd = [args.http_load, "--endpoints", ",".join(endpoints), "--clients", str(clients),
           "--duration", str(duration), "--warmup", str(warmup), "--path", args.path, "--body", args.body if body is None else body]
    res = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.monotonic() - t0
    m1 = machine_cpu()
    psi1 = cpu_pressure_us()
    cpu1 = {p: proc_cpu_s(p) for p in pids}
    st = cluster.status(leader, 5.0)
    if res.returncode != 0:
        raise SystemExit(f"http_load failed ({res.returncode}): {res.stderr}")
    load = json.loads(res.stdout.strip().splitlines()[-1])
    entries = (st["commit_index"] - commit0) if st else None
    node_cpu = {p: round(cpu1[p] - cpu0[p], 3) for p in pids if cpu0[p] is not None and cpu1[p] is not None}
    total_cpu = sum(node_cpu.values())
    busy = (m1[0] - m0[0]) / max(1, m1[1] - m0[1])
    load["cmd"] = " ".join(cmd)
    load["server"] = {
        "wall_s": round(wall, 3), "entries_committed": entries,
        "entries_per_s": round(entries / wall, 1) if entries else None,
        "cpu_s_by_pid": node_cpu, "cpu_s": round(total_cpu, 3),
        "cpu_us_per_entry": round(total_cpu * 1e6 / entries, 1) if entries else None,
        "machine_busy": round(busy, 3), "ncpu": os.cpu_count(),
        "raftlockd_cores": round(total_cpu / wall, 2),
        "client_cores": round(load["client_cpu_s"] / wall, 2),
        "cpu_pressure_some": round((psi1 - psi0) / 1e6 / wall, 3) if psi0 is not None and psi1 is not None else None,
    }
    return load


def fmt_load(r):
    s = r["server"]
    lat = r["lat_ms"]
    return (f"{r['count']} acks, {r['rate']:.0f}/s, commit latency p50 {lat['p50']:.2f} p90 {lat['p90']:.2f} "
            f"p99 {lat['p99']:.2f} max {lat['max']:.2f} ms; errors {r['errors'] or 'none'}; "
            f"{s['entries_per_s']} entries/s committed; raftlockd CPU {s['cpu_us_per_entry']} us/entry "
            f"({s['raftlockd_cores']} cores), client {r['client_cpu_us_per_req']:.1f} us/req "
            f"({s['client_cores']} cores), machine busy {100 * s['machine_busy']:.0f}% of {s['ncpu']} CPUs, "
            f"CPU pressure {s['cpu_pressure_some']}")


class StatusSampler(threading.Thread):
    """Polls every node's /v1/cluster/status; records (term, leader) changes."""

    def __init__(self, cluster, interval=0.1):
        super().__init__(daemon=True)
        self.c = cluster
        self.interval = interval
        self.stop_ev = threading.Event()
        self.changes = []  # (t, node, term, leader)
        self.last = {}
        self.failed = 0
        self.samples = 0

    def run(self):
        t0 = time.monotonic()
        while not self.stop_ev.is_set():
            for i in range(1, self.c.n + 1):
                s = self.c.status(i, timeout=2.0)
                self.samples += 1
                if s is None:
                    self.failed += 1
                    continue
                v = (s["term"], s["leader"])
                if self.last.get(i) != v:
                    if i in self.last:
                        self.changes.append((round(time.monotonic() - t0, 3), i, v[0], v[1]))
                    self.last[i] = v
            self.stop_ev.wait(self.interval)


def phase_stability(args, out):
    c = Cluster(args.raftlockd, args.dir, 3, args.daemon_args, "stability")
    log(f"== stability: {args.stability_seconds} s at full load, {args.stability_clients} writers "
        f"over all 3 nodes")
    try:
        c.start()
        leader, term, _ = c.wait_stable(args.settle_ms / 1000)
        terms_before = {i: c.metric(i, "raftlock_raft_term") for i in range(1, 4)}
        offsets = c.log_offsets()
        sampler = StatusSampler(c)
        sampler.start()
        eps = [f"127.0.0.1:{c.http[i]}" for i in range(1, 4)]
        r = run_load(args, eps, args.stability_clients, args.stability_seconds, 0, c, leader)
        sampler.stop_ev.set()
        sampler.join()
        terms_after = {i: c.metric(i, "raftlock_raft_term") for i in range(1, 4)}
        after = c.wait_stable(args.settle_ms / 1000, 120)
        role_lines = [(round(ts, 3), node, t, msg) for ts, node, t, msg in c.log_lines_since(offsets)
                      if msg.startswith("role ")]
        other_lines = [msg for ts, node, t, msg in c.log_lines_since(offsets)
                       if not msg.startswith("role ")]
        # leader changes as one node saw them (the most any node saw); a change
        # the 100 ms poller missed still shows as a different leader at the end
        per_node = {}
        for _, node, _, lead in sampler.changes:
            seq = per_node.setdefault(node, [leader])
            if lead and lead != seq[-1]:
                seq.append(lead)
        leader_changes = max([len(v) - 1 for v in per_node.values()] + [0])
        if leader_changes == 0 and after[0] != leader:
            leader_changes = 1
        res = {"load": r, "leader_before": leader, "term_before": term, "leader_after": after[0],
               "term_after": after[1], "metric_term_before": terms_before, "metric_term_after": terms_after,
               "term_increase": after[1] - term, "leader_changes": leader_changes,
               "status_changes_seen": sampler.changes, "status_samples": sampler.samples,
               "status_failed": sampler.failed, "role_log_lines": role_lines[:50],
               "other_log_lines": other_lines[:20], "log_index_after": after[2]}
        out["stability"] = res
        log(f"  load: {fmt_load(r)}")
        log(f"  term {term} -> {after[1]} (raftlock_raft_term {terms_before} -> {terms_after}); "
            f"leader {leader} -> {after[0]}; status changes seen by the 100 ms poller: "
            f"{sampler.changes or 'none'} ({sampler.failed}/{sampler.samples} polls failed); "
            f"role lines logged: {len(role_lines)}")
        log(f"  stability: {res['term_increase']} elections (term increase), "
            f"{leader_changes} leader changes (target 0)")
    finally:
        c.stop()


def repl_body(args):
    if args.repl_body is not None:
        return args.repl_body
    if args.path == "/v1/sessions" and args.body == "{}":
        return '{"ttl_ms": 1000}'
    return args.body


def phase_replication(args, out):
    log("== replication")
    probe_dir = os.path.join(args.dir, "fsync-probe")
    os.makedirs(probe_dir, exist_ok=True)
    res = subprocess.run([sys.executable, args.fsync_probe, "--dir", probe_dir, "--seconds",
                          str(args.fsync_seconds)], capture_output=True, text=True)
    probes = [json.loads(l) for l in res.stdout.splitlines() if l.startswith("{")]
    fsync = {p["mode"]: p for p in probes}
    af = fsync.get("append-fsync")
    if af is None:
        raise SystemExit(f"fsync_probe failed: {res.stderr}")
    for p in probes:
        log(f"  fsync_probe {p['mode']}: {p['syncs_per_s']} syncs/s, p50 {p['lat_ms']['p50']} ms, "
            f"p99 {p['lat_ms']['p99']} ms (dir {probe_dir})")
    runs = []
    for item in args.repl_runs.split(","):
        clients, _, target = item.partition(":")
        clients, target = int(clients), (target or "leader")
        c = Cluster(args.raftlockd, args.dir, 3, args.daemon_args, f"repl-{clients}-{target}")
        try:
            c.start()
            leader, _, _ = c.wait_stable(args.settle_ms / 1000)
            eps = ([f"127.0.0.1:{c.http[leader]}"] if target == "leader"
                   else [f"127.0.0.1:{c.http[i]}" for i in range(1, 4)])
            r = run_load(args, eps, clients, args.repl_seconds, args.repl_warmup, c, leader,
                         repl_body(args))
            after = c.stable_view()
            r["proposers"] = clients
            r["target"] = target
            r["term_changed"] = after is None or after[0] != leader
            runs.append(r)
            ratio = r["rate"] / af["syncs_per_s"]
            log(f"  {clients:3d} proposer(s) -> {target}: {fmt_load(r)}; "
                f"= {ratio:.2f}x the single-thread fsync rate")
        finally:
            c.stop()
    out["replication"] = {"fsync": fsync, "runs": runs}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--raftlockd", required=True)
    ap.add_argument("--http-load", required=True)
    ap.add_argument("--fsync-probe", default="/work/shared/bench/fsync_probe.py")
    ap.add_argument("--dir", required=True, help="data dirs of the clusters (and of the fsync probe)")
    ap.add_argument("--phases", default="failover,stability,replication")
    ap.add_argument("--path", default="/v1/sessions")
    ap.add_argument("--body", default="{}")
    # Sessions that end a second after they begin: the state stays small
    # however fast the cluster is. With the default ttl (10 s) a run of 64
    # proposers reached the 100,000-session limit within its 10 s, and the
    # requests after that were answered 429 (committed, but not counted).
    # Default: that body when the path is /v1/sessions and --body was not
    # given, else --body.
    ap.add_argument("--repl-body", default=None)
    ap.add_argument("--settle-ms", type=int, default=500)
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--probe-interval-ms", type=float, default=5)
    ap.add_argument("--probe-timeout-ms", type=float, default=1000)
    ap.add_argument("--failover-max-s", type=float, default=15)
    ap.add_argument("--stability-seconds", type=float, default=60)
    ap.add_argument("--stability-clients", type=int, default=128)
    ap.add_argument("--repl-seconds", type=float, default=10)
    ap.add_argument("--repl-warmup", type=float, default=1)
    ap.add_argument("--repl-runs", default="1:leader,64:leader,64:all",
                    help="CLIENTS:TARGET,... with TARGET leader or all")
    ap.add_argument("--fsync-seconds", type=float, default=5)
    ap.add_argument("--json-out", help="also write every figure as one JSON document here")
    ap.add_argument("daemon_args", nargs="*", help="extra raftlockd flags (after --)")
    args = ap.parse_args()

    def on_term(signum, frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, on_term)

    out = {"started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "argv": sys.argv,
           "loadavg_before": open("/proc/loadavg").read().split()[:3], "nice": os.nice(0),
           "sched": {os.SCHED_OTHER: "other", os.SCHED_RR: "rr", os.SCHED_FIFO: "fifo"}.get(
               os.sched_getscheduler(0), "?") + f"/{os.sched_getparam(0).sched_priority}"}
    psi0, t0 = cpu_pressure_us(), time.monotonic()
    log(f"raftlockd {args.raftlockd}; http_load {args.http_load}; data {args.dir}; "
        f"{os.cpu_count()} CPUs; loadavg {' '.join(out['loadavg_before'])}; nice {out['nice']}; "
        f"scheduler {out['sched']}")
    phases = args.phases.split(",")
    try:
        if "failover" in phases:
            phase_failover(args, out)
        if "stability" in phases:
            phase_stability(args, out)
        if "replication" in phases:
            phase_replication(args, out)
    finally:
        out["loadavg_after"] = open("/proc/loadavg").read().split()[:3]
        psi1 = cpu_pressure_us()
        if psi0 is not None and psi1 is not None:
            out["cpu_pressure_some"] = round((psi1 - psi0) / 1e6 / (time.monotonic() - t0), 3)
        if args.json_out:
            with open(args.json_out, "w") as f:
                json.dump(out, f, indent=1)

    log(f"== summary (loadavg {' '.join(out['loadavg_after'])}; share of the run some task waited "
        f"for a CPU: {out.get('cpu_pressure_some')})")
    if "failover" in out:
        s = out["failover"]["summary"]
        log(f"  fail-over: median {s['median_ms']} ms (target <= 500: {'met' if s['median_ms'] <= 500 else 'MISSED'}), "
            f"max {s['max_ms']} ms (target <= 1000: {'met' if s['max_ms'] <= 1000 else 'MISSED'}), "
            f"rounds {[r['ack_ms'] for r in out['failover']['rounds']]}")
    if "stability" in out:
        s = out["stability"]
        log(f"  stability: {s['term_increase']} elections, {s['leader_changes']} leader changes in "
            f"{args.stability_seconds} s at {s['load']['rate']:.0f} writes/s, machine busy "
            f"{100 * s['load']['server']['machine_busy']:.0f}% (target 0: "
            f"{'met' if s['term_increase'] == 0 and s['leader_changes'] == 0 else 'MISSED'})")
    if "replication" in out:
        f1 = out["replication"]["fsync"]["append-fsync"]["syncs_per_s"]
        for r in out["replication"]["runs"]:
            line = (f"  replication {r['proposers']:3d} -> {r['target']}: {r['rate']:.0f} acks/s, "
                    f"{r['server']['entries_per_s']} entries/s, p50 {r['lat_ms']['p50']:.2f} ms, "
                    f"p99 {r['lat_ms']['p99']:.2f} ms, {r['server']['cpu_us_per_entry']} us CPU/entry, "
                    f"{r['rate'] / f1:.2f}x fsync rate {f1}/s")
            if r["proposers"] == 64:
                line += f" (target >= 4x: {'met' if r['rate'] >= 4 * f1 else 'MISSED'})"
            log(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
